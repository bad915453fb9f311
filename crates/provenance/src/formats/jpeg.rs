//! JPEG: walks the marker segments up to the start of scan. C2PA sits in APP11 `JP` segments
//! (JUMBF split over several segments), XMP and extended XMP in APP1, EXIF in APP1, comments in COM.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, bytes, malformed};

const XMP_SIG: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXT_SIG: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const MAX_SEGMENTS: usize = 10_000;
/// The bytes of an APP11 segment read before its JUMBF piece goes onto its store: the `JP`
/// header (8) and the repeated box header of a continuation (8).
const APP11_HEAD: u64 = 16;

/// Reader for JPEG files.
pub struct JpegReader;

impl FormatReader for JpegReader {
    fn name(&self) -> &'static str {
        "jpeg"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Jpeg]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        head.starts_with(&[0xFF, 0xD8, 0xFF])
            .then_some(Format::Jpeg)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        read_jpeg(src, out)
    }
}

/// Reads the metadata segments of a JPEG stream.
pub fn read_jpeg(src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
    let soi = src.array::<2>()?;
    if soi != [0xFF, 0xD8] {
        return Err(malformed("jpeg", "no start-of-image marker"));
    }
    // (En, bytes) of the JUMBF pieces collected from APP11 segments.
    let mut stores: Vec<(u16, Vec<u8>)> = Vec::new();
    // (offset, slice) of the extended XMP pieces, and the full length they announce
    let mut ext_xmp: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut ext_len: Option<u32> = None;
    for _ in 0..MAX_SEGMENTS {
        let mut marker = src.u8()?;
        if marker != 0xFF {
            return Err(malformed(
                "jpeg",
                format!("expected a marker at {}", src.pos().saturating_sub(1)),
            ));
        }
        while marker == 0xFF {
            marker = src.u8()?;
        }
        match marker {
            0xD9 | 0xDA => break, // end of image, start of scan: no metadata beyond
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let len = u64::from(src.u16_be()?);
        let body_len = len
            .checked_sub(2)
            .ok_or_else(|| malformed("jpeg", "segment length below 2"))?;
        let start = src.pos();
        let end = src.end_of(start, body_len, "jpeg")?;
        match marker {
            0xE1 => {
                let body = src.vec(body_len)?;
                if let Some(x) = body.strip_prefix(XMP_SIG) {
                    out.add_xmp_in("XMP (APP1)", x);
                } else if let Some(x) = body.strip_prefix(XMP_EXT_SIG) {
                    // GUID (32) + full length (4) + offset (4), then the slice.
                    match (bytes::be32(x, 32), bytes::be32(x, 36), x.get(40..)) {
                        (Some(full), Some(offset), Some(slice)) => {
                            ext_len.get_or_insert(full);
                            ext_xmp.push((offset, slice.to_vec()));
                        }
                        _ => out.malformed(
                            "extended XMP (APP1)",
                            "extended XMP segment",
                            format!("{} bytes, too short for its header", x.len()),
                        ),
                    }
                } else if let Some(x) = body.strip_prefix(b"Exif\0\0") {
                    out.add_exif("EXIF (APP1)", x.to_vec());
                }
            }
            0xEB => {
                // `JP`, the box instance En and the sequence number Z (8 bytes), then the
                // JUMBF piece; a piece after the first repeats the box header (8 bytes), which
                // is left out. The rest of the segment is read straight onto its store.
                let head = src.vec(body_len.min(APP11_HEAD))?;
                let rest = body_len.saturating_sub(APP11_HEAD);
                if head.starts_with(b"JP") {
                    let en = bytes::be16(&head, 2).unwrap_or(0);
                    let z = bytes::be32(&head, 4).unwrap_or(0);
                    let at = match stores.iter().position(|(e, _)| *e == en) {
                        Some(i) if z > 1 => i,
                        _ => {
                            let piece = head.get(8..).unwrap_or_default().to_vec();
                            stores.push((en, piece));
                            stores.len().saturating_sub(1)
                        }
                    };
                    if let Some((_, buf)) = stores.get_mut(at) {
                        src.append_to(buf, rest)?;
                    }
                }
            }
            0xFE => {
                let body = src.vec(body_len.min(1 << 20))?;
                out.add_text("Comment", bytes::text(&body));
            }
            _ => {}
        }
        src.seek_to(end)?;
    }
    if !ext_xmp.is_empty() {
        extended_xmp(ext_xmp, ext_len.unwrap_or(0), out);
    }
    for (_, store) in stores {
        if store.get(4..8) == Some(b"jumb") {
            out.c2pa.push(StoreLocation::Bytes(store));
        }
    }
    Ok(())
}

/// Joins the pieces of an extended XMP packet in the order of their offsets; pieces that
/// overlap, leave gaps or do not add up to the announced length make it malformed (what there
/// is is still read).
fn extended_xmp(mut pieces: Vec<(u32, Vec<u8>)>, full: u32, out: &mut Metadata) {
    pieces.sort_by_key(|(offset, _)| *offset);
    let mut joined = Vec::new();
    let mut problem = None;
    for (offset, piece) in pieces {
        let at = u64::try_from(joined.len()).unwrap_or(u64::MAX);
        if u64::from(offset) != at && problem.is_none() {
            problem = Some(format!(
                "a piece starts at offset {offset} where {at} bytes were expected"
            ));
        }
        joined.extend_from_slice(&piece);
    }
    let got = u64::try_from(joined.len()).unwrap_or(u64::MAX);
    if problem.is_none() && got != u64::from(full) {
        problem = Some(format!("{got} bytes of the {full} it announces"));
    }
    if let Some(p) = problem {
        out.malformed("extended XMP (APP1)", "extended XMP", p);
    }
    out.add_xmp_in("extended XMP (APP1)", &joined);
}
