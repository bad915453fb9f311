//! RIFF: WebP, WAV/BWF and AVI. Walks the top-level chunk list (seeking past media data):
//! `C2PA` holds the manifest store, `XMP ` / `_PMX` XMP, `EXIF` EXIF, `LIST INFO` text tags,
//! `bext` the broadcast-wave description and originator, `iXML` production metadata.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, bytes, malformed};

const MAX_CHUNKS: usize = 100_000;
const MAX_TEXT: u64 = 16 << 20;

/// Reader for RIFF files.
pub struct RiffReader;

impl FormatReader for RiffReader {
    fn name(&self) -> &'static str {
        "riff"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Webp, Format::Wav, Format::Avi]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        if head.get(0..4) != Some(b"RIFF") {
            return None;
        }
        match head.get(8..12)? {
            b"WEBP" => Some(Format::Webp),
            b"WAVE" => Some(Format::Wav),
            b"AVI " => Some(Format::Avi),
            _ => None,
        }
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        let head = src.array::<12>()?;
        if head.get(0..4) != Some(b"RIFF") {
            return Err(malformed("riff", "no RIFF header"));
        }
        let riff_len = u64::from(bytes::le32(&head, 4).unwrap_or(0));
        let end = 8u64.saturating_add(riff_len).min(src.len());
        for _ in 0..MAX_CHUNKS {
            if src.pos().saturating_add(8) > end {
                break;
            }
            let id = src.array::<4>()?;
            let len = u64::from(src.u32_le()?);
            let start = src.pos();
            // A chunk may claim more than is left: read what exists, then stop.
            let avail = len.min(src.remaining());
            let source = match &id {
                b"XMP " => Some(("XMP (RIFF `XMP `)", "XMP chunk")),
                b"_PMX" => Some(("XMP (RIFF `_PMX`)", "XMP chunk")),
                b"EXIF" => Some(("EXIF (RIFF `EXIF`)", "EXIF chunk")),
                _ => None,
            };
            if let Some((source, what)) = source
                && len > avail
            {
                out.malformed(
                    source,
                    what,
                    format!("it claims {len} bytes, {avail} are left in the file"),
                );
            }
            match &id {
                b"C2PA" => {
                    let data = src.vec(avail)?;
                    out.c2pa.push(StoreLocation::Bytes(data));
                }
                b"XMP " | b"_PMX" if avail <= MAX_TEXT => {
                    let data = src.vec(avail)?;
                    let name = if &id == b"XMP " {
                        "XMP (RIFF `XMP `)"
                    } else {
                        "XMP (RIFF `_PMX`)"
                    };
                    out.add_xmp_in(name, &data);
                }
                b"EXIF" if avail <= MAX_TEXT => {
                    let data = src.vec(avail)?;
                    let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(&data);
                    out.add_exif("EXIF (RIFF `EXIF`)", tiff.to_vec());
                }
                b"LIST" if avail >= 4 => {
                    // only INFO lists are read; `movi`, `hdrl` and others are skipped
                    let kind = src.array::<4>()?;
                    if &kind == b"INFO" && avail <= MAX_TEXT {
                        let data = src.vec(avail.saturating_sub(4))?;
                        info_list(&data, out);
                    }
                }
                b"bext" if avail <= MAX_TEXT => {
                    let data = src.vec(avail)?;
                    out.add_text(
                        "bext:Description",
                        bytes::text(bytes::slice(&data, 0, 256).unwrap_or(&data)),
                    );
                    out.add_text(
                        "bext:Originator",
                        bytes::text(bytes::slice(&data, 256, 32).unwrap_or_default()),
                    );
                }
                b"iXML" if avail <= MAX_TEXT => {
                    let data = src.vec(avail)?;
                    out.add_text("iXML", bytes::text(&data));
                }
                _ => {}
            }
            if len > avail {
                break;
            }
            // chunks are padded to even length
            let padded = len.saturating_add(len & 1);
            let next = start.saturating_add(padded).min(src.len());
            src.seek_to(next)?;
        }
        Ok(())
    }
}

fn info_list(mut data: &[u8], out: &mut Metadata) {
    while let (Some(id), Some(len)) = (data.get(0..4), bytes::le32(data, 4)) {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let Some(value) = bytes::slice(data, 8, len) else {
            break;
        };
        let key = match id {
            b"ISFT" => "Software",
            b"ICMT" => "Comment",
            b"INAM" => "Title",
            b"IART" => "Artist",
            b"ISBJ" => "Subject",
            b"IKEY" => "Keywords",
            _ => "",
        };
        if !key.is_empty() {
            out.add_text(key, bytes::text(value));
        }
        let step = len.saturating_add(len & 1).saturating_add(8);
        data = data.get(step..).unwrap_or_default();
    }
}
