//! JPEG XL: in the ISO BMFF-style container, a top-level `jumb` box is the C2PA store, `xml `
//! holds XMP and `Exif` EXIF (after a 4-byte offset). Any of them may instead sit Brotli-
//! compressed in a `brob` box (its first four bytes name the box type it stands for); those are
//! decompressed, within a per-file limit, and read the same way. A bare codestream carries no
//! metadata.

use super::bmff::box_header;
use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source};

const CONTAINER: &[u8] = &[
    0, 0, 0, 0x0C, b'J', b'X', b'L', b' ', 0x0D, 0x0A, 0x87, 0x0A,
];
const MAX_BOXES: usize = 100_000;
const MAX_META: u64 = 64 << 20;
/// Most bytes that the `brob` boxes of one file may decompress to, all boxes together.
const MAX_BROTLI_OUT: u64 = 64 << 20;

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
        let mut brotli_left = MAX_BROTLI_OUT;
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
                b"xml " | b"Exif" if len <= MAX_META => {
                    let data = src.vec(len)?;
                    metadata_box(h.kind, data, out);
                }
                b"brob" if len <= MAX_META => {
                    let data = src.vec(len)?;
                    // What a box decompresses to counts against the file's byte budget too.
                    let allowed = brotli_left.min(src.budget_left());
                    let mut left = allowed;
                    read_brob(&data, &mut left, out);
                    let produced = allowed.saturating_sub(left);
                    brotli_left = brotli_left.saturating_sub(produced);
                    src.charge(produced)?;
                }
                b"brob" => out.notes.push(format!(
                    "Brotli-compressed box of {len} bytes not read (larger than {MAX_META})"
                )),
                _ => {}
            }
            src.seek_to(h.end)?;
        }
        Ok(())
    }
}

/// Reads the content of an uncompressed `xml `, `Exif` or `jumb` box (for `jumb`, the payload
/// after its header).
fn metadata_box(kind: [u8; 4], data: Vec<u8>, out: &mut Metadata) {
    match &kind {
        b"xml " => out.add_xmp_in("XMP (JPEG XL `xml ` box)", &data),
        b"Exif" => {
            // a 4-byte offset to the TIFF header, then the EXIF block
            let tiff = crate::source::bytes::be32(&data, 0)
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| n.checked_add(4))
                .and_then(|at| data.get(at..));
            match tiff {
                Some(tiff) => out.add_exif("EXIF (JPEG XL `Exif` box)", tiff.to_vec()),
                None => out.malformed(
                    "EXIF (JPEG XL `Exif` box)",
                    "EXIF block",
                    format!(
                        "its TIFF header offset points past the box's {} bytes",
                        data.len()
                    ),
                ),
            }
        }
        b"jumb" => {
            // the store is the whole superbox: give the payload its header back
            let Some(size) = data
                .len()
                .checked_add(8)
                .and_then(|n| u32::try_from(n).ok())
            else {
                return;
            };
            let mut store = Vec::new();
            if store
                .try_reserve_exact(data.len().saturating_add(8))
                .is_err()
            {
                return;
            }
            store.extend_from_slice(&size.to_be_bytes());
            store.extend_from_slice(b"jumb");
            store.extend_from_slice(&data);
            if crate::manifest::is_c2pa_store(&store) {
                out.c2pa.push(StoreLocation::Bytes(store));
            }
        }
        _ => {}
    }
}

/// Decompresses a `brob` box payload (original box type, then Brotli data) whose type is one
/// of the metadata boxes, charging the output to `left`, and reads it like the plain box.
fn read_brob(data: &[u8], left: &mut u64, out: &mut Metadata) {
    let (Some(kind), Some(body)) = (
        data.get(..4).and_then(|k| <[u8; 4]>::try_from(k).ok()),
        data.get(4..),
    ) else {
        out.malformed(
            "JPEG XL `brob` box",
            "Brotli-compressed box",
            "too short to name its type",
        );
        return;
    };
    if !matches!(&kind, b"xml " | b"Exif" | b"jumb") {
        return;
    }
    let name = String::from_utf8_lossy(&kind).trim_end().to_string();
    match unbrotli(body, *left) {
        Ok(plain) => {
            *left = left.saturating_sub(u64::try_from(plain.len()).unwrap_or(u64::MAX));
            metadata_box(kind, plain, out);
        }
        Err(Unbrotli::Corrupt(why)) => out.malformed(
            format!("JPEG XL `brob` box for `{name}`"),
            "Brotli-compressed box",
            why,
        ),
        Err(Unbrotli::TooLarge(why)) => out
            .notes
            .push(format!("Brotli-compressed `{name}` box not read: {why}")),
    }
}

/// Why a `brob` box was not decompressed.
#[derive(Debug)]
enum Unbrotli {
    /// The data is not valid Brotli.
    Corrupt(String),
    /// It decompresses to more than the file's budget allows.
    TooLarge(String),
}

/// Decompresses Brotli data, refusing output beyond `limit` bytes.
fn unbrotli(body: &[u8], limit: u64) -> Result<Vec<u8>, Unbrotli> {
    use std::io::Read;
    let mut plain = Vec::new();
    brotli_decompressor::Decompressor::new(body, 4096)
        .take(limit.saturating_add(1))
        .read_to_end(&mut plain)
        .map_err(|e| Unbrotli::Corrupt(format!("corrupt Brotli data ({e})")))?;
    if u64::try_from(plain.len()).unwrap_or(u64::MAX) > limit {
        return Err(Unbrotli::TooLarge(format!(
            "it decompresses to more than the {limit} bytes left for this file"
        )));
    }
    Ok(plain)
}

#[cfg(test)]
#[allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code"
)]
mod tests {
    use super::*;
    use std::io::Write;

    fn compress(data: &[u8]) -> Vec<u8> {
        let mut w = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
        w.write_all(data).unwrap();
        w.into_inner()
    }

    #[test]
    fn decompression_stops_at_the_limit() {
        let zeros = compress(&vec![0u8; 1 << 20]);
        assert!(zeros.len() < 1024, "a bomb: {} bytes", zeros.len());
        assert_eq!(unbrotli(&zeros, 1 << 20).unwrap().len(), 1 << 20);
        assert!(unbrotli(&zeros, (1 << 20) - 1).is_err());
        assert!(unbrotli(b"\xff\xff\xff", 100).is_err());
        // truncated data: an error or a short result, never a panic
        let _ = unbrotli(&zeros[..zeros.len() / 2], 1 << 20);
    }

    #[test]
    fn the_limit_is_shared_by_all_boxes_of_a_file() {
        let xmp = b"<x:xmpmeta>hello</x:xmpmeta>";
        let mut payload = b"xml ".to_vec();
        payload.extend(compress(xmp));
        let mut left = u64::try_from(xmp.len()).unwrap();
        let mut out = Metadata::default();
        read_brob(&payload, &mut left, &mut out);
        assert_eq!((out.xmp.len(), left), (1, 0));
        read_brob(&payload, &mut left, &mut out);
        assert_eq!(out.xmp.len(), 1);
        assert!(
            out.notes[0].contains("more than the 0 bytes left"),
            "{:?}",
            out.notes
        );
        read_brob(b"xm", &mut left, &mut out);
        assert!(
            out.malformed[0].detail.contains("too short"),
            "{:?}",
            out.malformed
        );
    }
}
