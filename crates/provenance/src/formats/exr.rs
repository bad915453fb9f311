//! OpenEXR: reads the header attributes (`name\0type\0size value`) up to the empty name, keeping
//! string attributes (`owner`, `comments`, `software`, vendor keys). OpenEXR has no C2PA embedding.

use super::{Format, FormatReader, Metadata};
use crate::source::{ReadError, Source, bytes, malformed};

const MAX_ATTRS: usize = 4096;
const MAX_ATTR: u64 = 16 << 20;

/// Reader for OpenEXR files.
pub struct ExrReader;

impl FormatReader for ExrReader {
    fn name(&self) -> &'static str {
        "openexr"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Openexr]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        head.starts_with(&[0x76, 0x2F, 0x31, 0x01])
            .then_some(Format::Openexr)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        out.notes.push("OpenEXR defines no C2PA embedding: only header attributes and sidecars can carry evidence".to_string());
        src.skip(8)?;
        for _ in 0..MAX_ATTRS {
            let name = cstring(src)?;
            if name.is_empty() {
                break;
            }
            let typ = cstring(src)?;
            let size = u64::from(src.u32_le()?);
            let end = src.end_of(src.pos(), size, "openexr")?;
            if (typ == "string" || typ == "stringvector") && size <= MAX_ATTR {
                let v = src.vec(size)?;
                if typ == "string" {
                    out.add_text(name, String::from_utf8_lossy(&v).trim().to_string());
                } else {
                    let mut d: &[u8] = &v;
                    while let Some(n) = bytes::le32(d, 0) {
                        let n = usize::try_from(n).unwrap_or(usize::MAX);
                        let Some(s) = bytes::slice(d, 4, n) else {
                            break;
                        };
                        out.add_text(name.clone(), String::from_utf8_lossy(s).to_string());
                        d = d.get(n.saturating_add(4)..).unwrap_or_default();
                    }
                }
            }
            src.seek_to(end)?;
        }
        Ok(())
    }
}

fn cstring(src: &mut Source<'_>) -> Result<String, ReadError> {
    let mut v = Vec::new();
    loop {
        let c = src.u8()?;
        if c == 0 {
            return Ok(String::from_utf8_lossy(&v).to_string());
        }
        if v.len() >= 255 {
            return Err(malformed("openexr", "attribute name longer than 255 bytes"));
        }
        v.push(c);
    }
}
