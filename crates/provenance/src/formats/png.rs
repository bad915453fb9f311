//! PNG: walks the whole chunk list (text chunks may follow the image data), seeking past IDAT.
//! C2PA is the `caBX` chunk; XMP is iTXt `XML:com.adobe.xmp`; tEXt/zTXt/iTXt carry generator
//! parameters; `eXIf` holds EXIF.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, bytes, malformed};
use std::io::Read;

const SIG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const MAX_CHUNKS: usize = 100_000;
/// Largest text chunk inflated (bytes after decompression).
const MAX_INFLATE: u64 = 16 << 20;
/// Largest text chunk read.
const MAX_TEXT: u64 = 16 << 20;

/// Reader for PNG files.
pub struct PngReader;

impl FormatReader for PngReader {
    fn name(&self) -> &'static str {
        "png"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Png]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        head.starts_with(SIG).then_some(Format::Png)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        if src.array::<8>()?.as_slice() != SIG {
            return Err(malformed("png", "bad signature"));
        }
        for _ in 0..MAX_CHUNKS {
            if src.remaining() == 0 {
                break;
            }
            let len = u64::from(src.u32_be()?);
            let kind = src.array::<4>()?;
            let start = src.pos();
            let end = src.end_of(start, len, "png")?;
            match &kind {
                b"IEND" => break,
                b"caBX" => {
                    let data = src.vec(len)?;
                    out.c2pa.push(StoreLocation::Bytes(data));
                }
                b"tEXt" | b"zTXt" | b"iTXt" if len <= MAX_TEXT => {
                    let data = src.vec(len)?;
                    if let Some((k, v)) = text_chunk(&kind, &data) {
                        if k == "XML:com.adobe.xmp" {
                            out.add_xmp(v.as_bytes());
                        } else {
                            out.add_text(k, v);
                        }
                    }
                }
                b"eXIf" => {
                    let data = src.vec(len)?;
                    out.exif.push(data);
                }
                _ => {}
            }
            // skip the rest of the chunk and its CRC
            src.seek_to(end)?;
            src.skip(4.min(src.remaining()))?;
        }
        Ok(())
    }
}

/// Inflates zlib data up to [`MAX_INFLATE`] bytes.
pub(crate) fn inflate(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(MAX_INFLATE)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

fn text_chunk(kind: &[u8; 4], data: &[u8]) -> Option<(String, String)> {
    let (key, rest) = bytes::cstr(data);
    let key = String::from_utf8_lossy(key).to_string();
    match kind {
        b"tEXt" => Some((key, latin1(rest))),
        b"zTXt" => {
            let body = rest.get(1..)?;
            Some((key, latin1(&inflate(body)?)))
        }
        _ => {
            let compressed = *rest.first()? == 1;
            let rest = rest.get(2..)?;
            let (_lang, rest) = bytes::cstr(rest);
            let (_tkey, text) = bytes::cstr(rest);
            let text = if compressed {
                inflate(text)?
            } else {
                text.to_vec()
            };
            Some((key, String::from_utf8_lossy(&text).to_string()))
        }
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
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
    use std::io::Cursor;

    fn run(b: &[u8]) -> Result<Metadata, ReadError> {
        let mut c = Cursor::new(b.to_vec());
        let mut src = Source::new(&mut c, 1 << 20, None)?;
        let mut m = Metadata::default();
        PngReader.read(Format::Png, &mut src, &mut m)?;
        Ok(m)
    }

    #[test]
    fn chunk_length_near_u32_max_is_an_error() {
        let mut b = SIG.to_vec();
        b.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xF0]);
        b.extend_from_slice(b"tEXt");
        b.extend_from_slice(b"parameters\0x");
        assert!(run(&b).is_err());
    }

    #[test]
    fn truncated_signature_is_an_error() {
        assert!(run(&SIG[..4]).is_err());
    }

    #[test]
    fn text_after_idat_is_read() {
        let mut b = SIG.to_vec();
        for (kind, data) in [
            (&b"IDAT"[..], &b"xxxx"[..]),
            (b"tEXt", b"parameters\0a cat\nSteps: 20"),
        ] {
            b.extend_from_slice(&(data.len() as u32).to_be_bytes());
            b.extend_from_slice(kind);
            b.extend_from_slice(data);
            b.extend_from_slice(&[0; 4]);
        }
        let m = run(&b).expect("parsed");
        assert_eq!(
            m.text,
            vec![("parameters".to_string(), "a cat\nSteps: 20".to_string())]
        );
    }
}
