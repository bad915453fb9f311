//! MP3 and FLAC: the ID3v2 tag at the start (C2PA is a `GEOB` frame with MIME
//! `application/c2pa`; text frames such as `TSSE`, `TXXX`, `COMM` are kept), then for FLAC the
//! metadata blocks (Vorbis comments). Audio frames are never read.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, bytes, malformed};

const MAX_TAG: u64 = 64 << 20;
const MAX_FLAC_BLOCKS: usize = 1024;

/// Reader for MP3 and FLAC files.
pub struct Id3Reader;

impl FormatReader for Id3Reader {
    fn name(&self) -> &'static str {
        "id3"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Mp3, Format::Flac]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        if head.starts_with(b"fLaC") {
            return Some(Format::Flac);
        }
        if head.starts_with(b"ID3") {
            return Some(Format::Mp3); // refined to FLAC when `fLaC` follows the tag
        }
        match head {
            [0xFF, b, ..] if b & 0xE0 == 0xE0 && b & 0x06 != 0 => Some(Format::Mp3),
            _ => None,
        }
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        let mut pos = 0u64;
        // several ID3 tags may be stacked
        for _ in 0..4 {
            src.seek_to(pos)?;
            if src.remaining() < 10 {
                break;
            }
            let head = src.array::<10>()?;
            if head.get(0..3) != Some(b"ID3") {
                break;
            }
            let size = syncsafe(head.get(6..10).unwrap_or_default());
            if size > MAX_TAG {
                return Err(malformed("id3", format!("tag of {size} bytes")));
            }
            let left = src.remaining();
            if size > left {
                out.malformed(
                    "ID3v2",
                    "ID3v2 tag",
                    format!("it claims {size} bytes, {left} are left in the file"),
                );
            }
            let body = src.vec(size.min(left))?;
            read_tag(head[3], head[5], &body, out);
            let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
            pos = pos
                .saturating_add(10)
                .saturating_add(size)
                .saturating_add(footer);
        }
        if pos < src.len() {
            src.seek_to(pos)?;
            if src.remaining() >= 4 && &src.array::<4>()? == b"fLaC" {
                out.refined = Some(Format::Flac);
                read_flac(src, out)?;
            }
        }
        Ok(())
    }
}

fn syncsafe(b: &[u8]) -> u64 {
    b.iter()
        .fold(0u64, |acc, &x| (acc << 7) | u64::from(x & 0x7F))
}

fn unsync(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len());
    let mut prev = 0u8;
    for &c in b {
        if !(prev == 0xFF && c == 0) {
            v.push(c);
        }
        prev = c;
    }
    v
}

fn read_tag(version: u8, flags: u8, body: &[u8], out: &mut Metadata) {
    let owned;
    let mut body = body;
    if flags & 0x80 != 0 && version < 4 {
        owned = unsync(body);
        body = &owned;
    }
    let mut i = 0usize;
    if flags & 0x40 != 0 && version >= 3 {
        // extended header
        let n = if version == 4 {
            usize::try_from(syncsafe(bytes::slice(body, 0, 4).unwrap_or_default()))
                .unwrap_or(usize::MAX)
        } else {
            usize::try_from(bytes::be32(body, 0).unwrap_or(0))
                .unwrap_or(usize::MAX)
                .saturating_add(4)
        };
        if n > body.len() {
            out.malformed(
                "ID3v2",
                "ID3v2 tag",
                format!(
                    "its extended header claims {n} bytes, the tag has {}",
                    body.len()
                ),
            );
        }
        i = n;
    }
    let (id_len, hdr_len) = if version <= 2 {
        (3usize, 6usize)
    } else {
        (4, 10)
    };
    for _ in 0..10_000 {
        let Some(hdr) = bytes::slice(body, i, hdr_len) else {
            break;
        };
        let id = hdr.get(..id_len).unwrap_or_default();
        if id.first().is_none_or(|&c| c == 0) {
            break;
        }
        let size = if version <= 2 {
            hdr.get(3..6)
                .unwrap_or_default()
                .iter()
                .fold(0usize, |a, &x| (a << 8) | usize::from(x))
        } else if version == 4 {
            usize::try_from(syncsafe(hdr.get(4..8).unwrap_or_default())).unwrap_or(usize::MAX)
        } else {
            usize::try_from(bytes::be32(hdr, 4).unwrap_or(0)).unwrap_or(usize::MAX)
        };
        let fflags = if version >= 3 {
            bytes::be16(hdr, 8).unwrap_or(0)
        } else {
            0
        };
        let Some(data) = bytes::slice(body, i.saturating_add(hdr_len), size) else {
            let left = body.len().saturating_sub(i.saturating_add(hdr_len));
            out.malformed(
                "ID3v2",
                "ID3v2 frame",
                format!(
                    "`{}` claims {size} bytes, {left} are left in the tag",
                    String::from_utf8_lossy(id)
                ),
            );
            break;
        };
        i = i.saturating_add(hdr_len).saturating_add(size);
        // compressed or encrypted frames are not decoded
        let packed = if version == 4 {
            fflags & 0x000C != 0
        } else {
            fflags & 0x00C0 != 0
        };
        if packed {
            continue;
        }
        match id {
            b"GEOB" | b"GEO" => geob(data, out),
            b"TXXX" | b"TXX" => {
                let (enc, rest) = (
                    data.first().copied().unwrap_or(0),
                    data.get(1..).unwrap_or_default(),
                );
                let (desc, value) = split_encoded(enc, rest);
                out.add_text(format!("TXXX:{}", decode(enc, desc)), decode(enc, value));
            }
            b"COMM" | b"COM" => {
                let enc = data.first().copied().unwrap_or(0);
                let (_desc, value) = split_encoded(enc, data.get(4..).unwrap_or_default());
                out.add_text("Comment", decode(enc, value));
            }
            b"PRIV" => {
                let (owner, value) = bytes::cstr(data);
                if owner == b"XMP" {
                    out.add_xmp_in("XMP (ID3 PRIV)", value);
                }
            }
            t if t.first() == Some(&b'T') => {
                let enc = data.first().copied().unwrap_or(0);
                let key = match t {
                    b"TSSE" | b"TSS" => "Software".to_string(),
                    b"TENC" | b"TEN" => "EncodedBy".to_string(),
                    other => String::from_utf8_lossy(other).to_string(),
                };
                out.add_text(key, decode(enc, data.get(1..).unwrap_or_default()));
            }
            _ => {}
        }
    }
}

fn terminator(enc: u8) -> usize {
    if enc == 1 || enc == 2 { 2 } else { 1 }
}

/// Splits an encoded string at its terminator.
fn split_encoded(enc: u8, b: &[u8]) -> (&[u8], &[u8]) {
    let t = terminator(enc);
    let mut i = 0usize;
    while let Some(w) = bytes::slice(b, i, t) {
        if w.iter().all(|&c| c == 0) {
            return (
                b.get(..i).unwrap_or_default(),
                b.get(i.saturating_add(t)..).unwrap_or_default(),
            );
        }
        i = i.saturating_add(t);
    }
    (b, &[])
}

fn decode(enc: u8, b: &[u8]) -> String {
    match enc {
        1 | 2 => {
            let (be, body) = match b {
                [0xFE, 0xFF, rest @ ..] => (true, rest),
                [0xFF, 0xFE, rest @ ..] => (false, rest),
                _ => (enc == 2, b),
            };
            bytes::utf16(body, be)
        }
        3 => bytes::text(b),
        _ => b
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| char::from(c))
            .collect::<String>()
            .trim()
            .to_string(),
    }
}

fn geob(data: &[u8], out: &mut Metadata) {
    let enc = data.first().copied().unwrap_or(0);
    let (mime, rest) = bytes::cstr(data.get(1..).unwrap_or_default());
    let (_file, rest) = split_encoded(enc, rest);
    let (_desc, object) = split_encoded(enc, rest);
    if mime == b"application/c2pa" || mime == b"application/x-c2pa-manifest-store" {
        out.c2pa.push(StoreLocation::Bytes(object.to_vec()));
    }
}

fn read_flac(src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
    for _ in 0..MAX_FLAC_BLOCKS {
        let h = src.array::<4>()?;
        let last = h[0] & 0x80 != 0;
        let kind = h[0] & 0x7F;
        let len = u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]));
        let end = src.end_of(src.pos(), len, "flac")?;
        if kind == 4 {
            let data = src.vec(len)?;
            vorbis_comments(&data, out);
        }
        src.seek_to(end)?;
        if last {
            break;
        }
    }
    Ok(())
}

fn vorbis_comments(d: &[u8], out: &mut Metadata) {
    let vendor_len = usize::try_from(bytes::le32(d, 0).unwrap_or(0)).unwrap_or(usize::MAX);
    if let Some(v) = bytes::slice(d, 4, vendor_len) {
        out.add_text("Vendor", bytes::text(v));
    }
    let mut i = 4usize.saturating_add(vendor_len);
    let n = bytes::le32(d, i).unwrap_or(0);
    i = i.saturating_add(4);
    for _ in 0..n.min(10_000) {
        let Some(len) = bytes::le32(d, i) else { break };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let Some(c) = bytes::slice(d, i.saturating_add(4), len) else {
            break;
        };
        let s = String::from_utf8_lossy(c);
        if let Some((k, v)) = s.split_once('=') {
            out.add_text(k.to_string(), v.to_string());
        }
        i = i.saturating_add(4).saturating_add(len);
    }
}
