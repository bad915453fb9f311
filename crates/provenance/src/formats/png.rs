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
                    text_chunk(&kind, &data, out);
                }
                b"eXIf" => {
                    let data = src.vec(len)?;
                    out.add_exif("EXIF (eXIf)", data);
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

/// Inflates zlib data up to [`MAX_INFLATE`] bytes; on corrupt or truncated data, the error
/// and what was inflated before it.
pub(crate) fn inflate_partial(data: &[u8]) -> Result<Vec<u8>, (String, Vec<u8>)> {
    let mut out = Vec::new();
    match flate2::read::ZlibDecoder::new(data)
        .take(MAX_INFLATE)
        .read_to_end(&mut out)
    {
        Ok(_) => Ok(out),
        Err(e) => Err((format!("cannot inflate: {e}"), out)),
    }
}

/// Where a text chunk sits, for evidence sources: "PNG zTXt `parameters`".
fn chunk_source(kind: &[u8; 4], key: &str) -> String {
    format!(
        "PNG {} `{}`",
        String::from_utf8_lossy(kind),
        crate::evidence::clip(key)
    )
}

/// Reads a tEXt, zTXt or iTXt chunk into a text field (or an XMP packet). A chunk that cannot
/// be decoded in full gives the text that could be, and a malformation.
fn text_chunk(kind: &[u8; 4], data: &[u8], out: &mut Metadata) {
    let (key, rest) = bytes::cstr(data);
    let key = String::from_utf8_lossy(key).to_string();
    let xmp = key == "XML:com.adobe.xmp";
    let text = match kind {
        b"tEXt" => latin1(rest),
        b"zTXt" => {
            let Some(body) = rest.get(1..) else {
                out.malformed(
                    chunk_source(kind, &key),
                    "text chunk",
                    "no compression method",
                );
                return;
            };
            match inflate_partial(body) {
                Ok(plain) => latin1(&plain),
                Err((why, plain)) => {
                    out.malformed(chunk_source(kind, &key), "text chunk", why);
                    latin1(&plain)
                }
            }
        }
        _ => {
            let (Some(&flag), Some(rest)) = (rest.first(), rest.get(2..)) else {
                out.malformed(
                    chunk_source(kind, &key),
                    "text chunk",
                    "too short for its compression fields",
                );
                return;
            };
            let (_lang, rest) = bytes::cstr(rest);
            let (_tkey, text) = bytes::cstr(rest);
            let plain = if flag == 1 {
                match inflate_partial(text) {
                    Ok(plain) => plain,
                    Err((why, plain)) => {
                        out.malformed(chunk_source(kind, &key), "text chunk", why);
                        plain
                    }
                }
            } else {
                text.to_vec()
            };
            if xmp {
                out.add_xmp_in("XMP (iTXt)", &plain);
                return;
            }
            match String::from_utf8(plain) {
                Ok(s) => s,
                Err(e) => {
                    out.malformed(
                        chunk_source(kind, &key),
                        "text chunk",
                        format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()),
                    );
                    String::from_utf8_lossy(e.as_bytes()).to_string()
                }
            }
        }
    };
    if xmp {
        out.add_xmp_in("XMP (PNG text chunk)", text.as_bytes());
    } else {
        out.add_text(key, text);
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
