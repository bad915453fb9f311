//! GIF: walks every block to the trailer (comments and application extensions may follow
//! frames). C2PA is the `C2PA_GIF` application extension, XMP the `XMP DataXMP` one.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, malformed};

const MAX_BLOCKS: usize = 1_000_000;

/// Reader for GIF files.
pub struct GifReader;

impl FormatReader for GifReader {
    fn name(&self) -> &'static str {
        "gif"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Gif]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        (head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a")).then_some(Format::Gif)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        let head = src.array::<13>()?;
        if !head.starts_with(b"GIF8") {
            return Err(malformed("gif", "bad signature"));
        }
        let packed = head.get(10).copied().unwrap_or(0);
        if packed & 0x80 != 0 {
            src.skip(3u64 << ((packed & 7) + 1))?;
        }
        for _ in 0..MAX_BLOCKS {
            if src.remaining() == 0 {
                break;
            }
            match src.u8()? {
                0x3B => break,
                0x2C => {
                    let desc = src.array::<9>()?;
                    let p = desc.get(8).copied().unwrap_or(0);
                    if p & 0x80 != 0 {
                        src.skip(3u64 << ((p & 7) + 1))?;
                    }
                    src.skip(1)?; // LZW minimum code size
                    skip_sub_blocks(src)?;
                }
                0x21 => {
                    let label = src.u8()?;
                    match label {
                        0xFF => {
                            let n = src.u8()?;
                            let app = src.vec(u64::from(n))?;
                            if app.starts_with(b"C2PA_GIF") {
                                out.c2pa.push(StoreLocation::Bytes(sub_blocks(src, false)?));
                            } else if app.starts_with(b"XMP DataXMP") {
                                let raw = sub_blocks(src, true)?;
                                let end = crate::source::bytes::find(&raw, b"<?xpacket end", 0)
                                    .and_then(|i| {
                                        crate::source::bytes::find(&raw, b">", i)
                                            .map(|j| j.saturating_add(1))
                                    })
                                    .unwrap_or(raw.len());
                                out.add_xmp_in(
                                    "XMP (GIF application extension)",
                                    raw.get(..end).unwrap_or_default(),
                                );
                            } else {
                                skip_sub_blocks(src)?;
                            }
                        }
                        0xFE => {
                            let c = sub_blocks(src, false)?;
                            out.add_text("Comment", crate::source::bytes::text(&c));
                        }
                        _ => skip_sub_blocks(src)?,
                    }
                }
                _ => {
                    return Err(malformed(
                        "gif",
                        format!("unknown block at {}", src.pos().saturating_sub(1)),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn skip_sub_blocks(src: &mut Source<'_>) -> Result<(), ReadError> {
    loop {
        let n = src.u8()?;
        if n == 0 {
            return Ok(());
        }
        src.skip(u64::from(n))?;
    }
}

/// Concatenates sub-blocks; with `keep_lengths` the length bytes are kept (XMP's raw layout).
fn sub_blocks(src: &mut Source<'_>, keep_lengths: bool) -> Result<Vec<u8>, ReadError> {
    let mut v = Vec::new();
    loop {
        let n = src.u8()?;
        if n == 0 {
            return Ok(v);
        }
        if keep_lengths {
            v.push(n);
        }
        v.extend_from_slice(&src.vec(u64::from(n))?);
    }
}
