//! DPX: the fixed-offset header text fields (file name, creator, project, copyright, input
//! device) and the user-data block's identifier. DPX has no C2PA embedding.

use super::{Format, FormatReader, Metadata};
use crate::source::{ReadError, Source, bytes};

/// Reader for DPX files.
pub struct DpxReader;

impl FormatReader for DpxReader {
    fn name(&self) -> &'static str {
        "dpx"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Dpx]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        (head.starts_with(b"SDPX") || head.starts_with(b"XPDS")).then_some(Format::Dpx)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        out.notes.push("DPX defines no C2PA embedding: only header text fields and sidecars can carry evidence".to_string());
        let h = src.vec_upto(2048)?;
        let be = h.starts_with(b"SDPX");
        let field =
            |at: usize, len: usize| bytes::text(bytes::slice(&h, at, len).unwrap_or_default());
        out.add_text("FileName", field(36, 100));
        out.add_text("Creator", field(160, 100));
        out.add_text("Project", field(260, 200));
        out.add_text("Copyright", field(460, 200));
        out.add_text("InputDevice", field(1556, 32));
        let user = bytes::slice(&h, 32, 4).map(|b| {
            let a = [
                b.first().copied().unwrap_or(0),
                b.get(1).copied().unwrap_or(0),
                b.get(2).copied().unwrap_or(0),
                b.get(3).copied().unwrap_or(0),
            ];
            if be {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        });
        if user.is_some_and(|n| n >= 32) && src.len() >= 2048 + 32 {
            src.seek_to(2048)?;
            let id = src.vec(32)?;
            out.add_text("UserDataId", bytes::text(&id));
        }
        Ok(())
    }
}
