//! JPEG XL: in the ISO BMFF-style container, a top-level `jumb` box is the C2PA store, `xml `
//! holds XMP and `Exif` EXIF (after a 4-byte offset). A bare codestream carries no metadata.

use super::bmff::box_header;
use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source};

const CONTAINER: &[u8] = &[
    0, 0, 0, 0x0C, b'J', b'X', b'L', b' ', 0x0D, 0x0A, 0x87, 0x0A,
];
const MAX_BOXES: usize = 100_000;
const MAX_META: u64 = 64 << 20;

/// Reader for JPEG XL files.
pub struct JxlReader;

impl FormatReader for JxlReader {
    fn name(&self) -> &'static str {
        "jxl"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Jxl]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        (head.starts_with(CONTAINER) || head.starts_with(&[0xFF, 0x0A])).then_some(Format::Jxl)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        if !src.array::<2>().is_ok_and(|h| h == [0, 0]) {
            out.notes
                .push("bare JPEG XL codestream: no metadata boxes".to_string());
            return Ok(());
        }
        src.seek_to(0)?;
        let end = src.len();
        for _ in 0..MAX_BOXES {
            if src.pos().saturating_add(8) > end {
                break;
            }
            let h = box_header(src, end, "jxl")?;
            let len = h.end.saturating_sub(h.payload);
            match &h.kind {
                b"jumb" if len <= MAX_META => {
                    src.seek_to(h.start)?;
                    let data = src.vec(h.end.saturating_sub(h.start))?;
                    if crate::manifest::is_c2pa_store(&data) {
                        out.c2pa.push(StoreLocation::Bytes(data));
                    }
                }
                b"xml " if len <= MAX_META => {
                    let data = src.vec(len)?;
                    out.add_xmp(&data);
                }
                b"Exif" if len <= MAX_META => {
                    let data = src.vec(len)?;
                    out.exif.push(data.get(4..).unwrap_or_default().to_vec());
                }
                b"brob" => out
                    .notes
                    .push("Brotli-compressed metadata box not read".to_string()),
                _ => {}
            }
            src.seek_to(h.end)?;
        }
        Ok(())
    }
}
