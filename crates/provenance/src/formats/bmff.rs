//! ISO base media files: MP4, MOV, M4A, HEIF/HEIC, AVIF and fragments. Walks top-level boxes,
//! seeking past `mdat`. C2PA is a `uuid` box (D8FEC3D6-…) with purpose `manifest`; XMP is a `uuid`
//! box (BE7ACFCB-…) or `moov/udta/XMP_`; text comes from `moov/udta` (`©swr`, `©too`, `©cmt`) and
//! `moov/meta`; HEIF/AVIF Exif and XMP items come from the top-level `meta` (`iinf` + `iloc`).

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, bytes, malformed};

/// C2PA box extended type.
pub const C2PA_UUID: [u8; 16] = [
    0xD8, 0xFE, 0xC3, 0xD6, 0x1B, 0x0E, 0x48, 0x3C, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7E, 0xC4, 0x81,
];
/// XMP box extended type.
pub const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];
const MAX_BOXES: usize = 100_000;
const MAX_DEPTH: usize = 8;
const MAX_META: u64 = 64 << 20;

/// Reader for ISO base media files.
pub struct BmffReader;

impl FormatReader for BmffReader {
    fn name(&self) -> &'static str {
        "bmff"
    }
    fn formats(&self) -> &'static [Format] {
        &[
            Format::Mp4,
            Format::Mov,
            Format::M4a,
            Format::Heif,
            Format::Heic,
            Format::Avif,
            Format::Bmff,
        ]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        let kind = head.get(4..8)?;
        match kind {
            b"ftyp" => Some(brand_format(head)),
            b"styp" | b"moof" | b"sidx" | b"moov" | b"mdat" | b"free" | b"wide" | b"skip" => {
                Some(if kind == b"styp" || kind == b"moof" || kind == b"sidx" {
                    Format::Bmff
                } else {
                    Format::Mov
                })
            }
            b"uuid" if head.get(8..24) == Some(&C2PA_UUID) => Some(Format::Bmff),
            _ => None,
        }
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        let end = src.len();
        walk(src, 0, end, 0, out)
    }
}

fn brand_format(head: &[u8]) -> Format {
    let major = head.get(8..12).unwrap_or_default();
    let mut brands: Vec<&[u8]> = vec![major];
    let size = bytes::be32(head, 0).map_or(0, |s| usize::try_from(s).unwrap_or(0));
    let mut i: usize = 16;
    while i.saturating_add(4) <= size.min(head.len()) {
        if let Some(b) = bytes::slice(head, i, 4) {
            brands.push(b);
        }
        i = i.saturating_add(4);
    }
    let has = |b: &[u8]| brands.contains(&b);
    if major == b"qt  " {
        Format::Mov
    } else if major == b"avif" || major == b"avis" {
        Format::Avif
    } else if major == b"heic" || major == b"heix" {
        Format::Heic
    } else if major == b"mif1" || major == b"msf1" {
        Format::Heif
    } else if major == b"M4A " || major == b"M4B " {
        Format::M4a
    } else if has(b"avif") || has(b"avis") {
        Format::Avif
    } else if has(b"heic") || has(b"heix") || has(b"hevc") || has(b"heim") || has(b"heis") {
        Format::Heic
    } else if has(b"mif1") || has(b"msf1") {
        Format::Heif
    } else {
        Format::Mp4
    }
}

/// One box header: type, start of payload, end of box.
pub(crate) struct BoxHeader {
    pub start: u64,
    pub kind: [u8; 4],
    pub payload: u64,
    pub end: u64,
}

/// Reads a box header at the current position, bounded by `parent_end`.
pub(crate) fn box_header(
    src: &mut Source<'_>,
    parent_end: u64,
    format: &'static str,
) -> Result<BoxHeader, ReadError> {
    let start = src.pos();
    let size = u64::from(src.u32_be()?);
    let kind = src.array::<4>()?;
    let (payload, end) = match size {
        0 => (src.pos(), parent_end),
        1 => {
            let large = src.u64_be()?;
            (src.pos(), src.end_of(start, large, format)?)
        }
        s => (src.pos(), src.end_of(start, s, format)?),
    };
    if end < payload || end > parent_end {
        return Err(malformed(
            format,
            format!(
                "box `{}` at {start} overruns its parent",
                String::from_utf8_lossy(&kind)
            ),
        ));
    }
    Ok(BoxHeader {
        start,
        kind,
        payload,
        end,
    })
}

fn walk(
    src: &mut Source<'_>,
    start: u64,
    end: u64,
    depth: usize,
    out: &mut Metadata,
) -> Result<(), ReadError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    src.seek_to(start)?;
    for _ in 0..MAX_BOXES {
        if src.pos().saturating_add(8) > end {
            break;
        }
        let h = box_header(src, end, "bmff")?;
        let len = h.end.saturating_sub(h.payload);
        match &h.kind {
            b"uuid" if len >= 16 => {
                let id = src.array::<16>()?;
                if id == C2PA_UUID && depth == 0 {
                    read_c2pa_uuid(src, h.end, out)?;
                } else if id == XMP_UUID && len <= MAX_META {
                    let data = src.vec(len.saturating_sub(16))?;
                    out.add_xmp_in("XMP (`uuid` box)", &data);
                }
            }
            b"meta" if depth == 0 => {
                // HEIF/AVIF: Exif and XMP are items located by `iinf` + `iloc`
                src.skip(4)?;
                heif_items(src, h.end, out)?;
            }
            b"moov" | b"udta" | b"meta" | b"ilst" if depth < MAX_DEPTH => {
                // `meta` is a FullBox in MP4/HEIF but a plain box in QuickTime.
                let mut child = h.payload;
                if &h.kind == b"meta" {
                    let peek = src.array::<8>()?;
                    if bytes::be32(&peek, 0) == Some(0) {
                        child = child.saturating_add(4);
                    }
                    if peek.get(4..8) == Some(b"hdlr") && bytes::be32(&peek, 0) != Some(0) {
                        child = h.payload;
                    }
                }
                walk(src, child, h.end, depth.saturating_add(1), out)?;
            }
            b"XMP_" if len <= MAX_META => {
                let data = src.vec(len)?;
                out.add_xmp_in("XMP (`moov/udta/XMP_`)", &data);
            }
            k if k.first() == Some(&0xA9) && len <= 1 << 20 => {
                let data = src.vec(len)?;
                let key = format!(
                    "©{}",
                    String::from_utf8_lossy(k.get(1..).unwrap_or_default())
                );
                out.add_text(key, udta_text(&data));
            }
            b"iinf" => out
                .notes
                .push("HEIF item metadata (Exif/XMP items) is not read".to_string()),
            _ => {}
        }
        src.seek_to(h.end)?;
    }
    Ok(())
}

/// QuickTime `©xxx` (u16 size, u16 language, text) or an MP4 `ilst` item holding a `data` box.
fn udta_text(data: &[u8]) -> String {
    if data.get(4..8) == Some(b"data") {
        return bytes::text(data.get(16..).unwrap_or_default());
    }
    match bytes::be16(data, 0) {
        Some(n) => bytes::text(
            bytes::slice(data, 4, usize::from(n)).unwrap_or(data.get(4..).unwrap_or_default()),
        ),
        None => bytes::text(data),
    }
}

fn read_c2pa_uuid(src: &mut Source<'_>, end: u64, out: &mut Metadata) -> Result<(), ReadError> {
    let _version_flags = src.array::<4>()?;
    let mut purpose = Vec::new();
    loop {
        if src.pos() >= end || purpose.len() > 64 {
            return Err(malformed("bmff", "unterminated C2PA box purpose"));
        }
        let c = src.u8()?;
        if c == 0 {
            break;
        }
        purpose.push(c);
    }
    match purpose.as_slice() {
        b"manifest" | b"original" | b"update" => {
            if purpose.as_slice() == b"manifest" {
                src.skip(8)?; // offset of the first merkle box
            }
            let len = end.saturating_sub(src.pos());
            let data = src.vec(len)?;
            // the store may be followed by padding: cut at the JUMBF superbox length
            let cut = bytes::be32(&data, 0)
                .map_or(data.len(), |n| usize::try_from(n).unwrap_or(data.len()));
            let store = data.get(..cut).unwrap_or(&data).to_vec();
            out.c2pa.push(StoreLocation::Bytes(store));
        }
        b"merkle" => out
            .notes
            .push("C2PA merkle box (fragment of a signed fragmented file)".to_string()),
        _ => {}
    }
    Ok(())
}

/// Largest `iinf`/`iloc` box read, and largest item extracted.
const MAX_ITEM_TABLE: u64 = 4 << 20;
const MAX_ITEM: u64 = 16 << 20;

fn be_n(b: &[u8], at: &mut usize, n: u8) -> Option<u64> {
    let mut v = 0u64;
    for _ in 0..n {
        v = (v << 8) | u64::from(*b.get(*at)?);
        *at = at.checked_add(1)?;
    }
    Some(v)
}

/// Reads the Exif and XMP items of a HEIF `meta` box (payload after its FullBox header).
fn heif_items(src: &mut Source<'_>, end: u64, out: &mut Metadata) -> Result<(), ReadError> {
    let mut iinf = None;
    let mut iloc = None;
    for _ in 0..MAX_BOXES {
        if src.pos().saturating_add(8) > end {
            break;
        }
        let h = box_header(src, end, "heif")?;
        let len = h.end.saturating_sub(h.payload);
        match &h.kind {
            b"iinf" if len <= MAX_ITEM_TABLE => iinf = Some(src.vec(len)?),
            b"iloc" if len <= MAX_ITEM_TABLE => iloc = Some(src.vec(len)?),
            _ => {}
        }
        src.seek_to(h.end)?;
    }
    let (Some(iinf), Some(iloc)) = (iinf, iloc) else {
        return Ok(());
    };
    let wanted = item_types(&iinf);
    if wanted.is_empty() {
        return Ok(());
    }
    for (id, extents) in item_locations(&iloc) {
        let Some((_, is_xmp)) = wanted.iter().find(|(w, _)| *w == id) else {
            continue;
        };
        let (source, what) = if *is_xmp {
            ("XMP (HEIF item)", "XMP item")
        } else {
            ("EXIF (HEIF item)", "Exif item")
        };
        let mut data = Vec::new();
        for (off, len) in extents {
            if len > MAX_ITEM || (data.len() as u64).saturating_add(len) > MAX_ITEM {
                out.notes.push(format!(
                    "{source}: an extent of {len} bytes not read (items are read up to {MAX_ITEM} bytes)"
                ));
                continue;
            }
            if src.end_of(off, len, "heif").is_err() {
                out.malformed(
                    source,
                    what,
                    format!("its extent at {off} ({len} bytes) runs past the end of the file"),
                );
                continue;
            }
            src.seek_to(off)?;
            data.extend_from_slice(&src.vec(len)?);
        }
        if *is_xmp {
            out.add_xmp_in(source, &data);
        } else {
            // Exif item: a 4-byte offset to the TIFF header, then the EXIF block
            let tiff = bytes::be32(&data, 0)
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| n.checked_add(4))
                .and_then(|at| data.get(at..));
            match tiff {
                Some(tiff) => out.add_exif(source, tiff.to_vec()),
                None if data.is_empty() => {}
                None => out.malformed(
                    source,
                    "EXIF block",
                    format!(
                        "its TIFF header offset points past the item's {} bytes",
                        data.len()
                    ),
                ),
            }
        }
    }
    Ok(())
}

/// Item ids of Exif (`false`) and XMP (`true`) items in an `iinf` payload.
fn item_types(iinf: &[u8]) -> Vec<(u64, bool)> {
    let mut out = Vec::new();
    let version = iinf.first().copied().unwrap_or(0);
    let mut at = if version == 0 { 6 } else { 8 };
    while let Some(size) = bytes::be32(iinf, at) {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let Some(infe) =
            bytes::slice(iinf, at, size).filter(|b| b.get(4..8) == Some(b"infe") && size >= 12)
        else {
            break;
        };
        let v = infe.get(8).copied().unwrap_or(0);
        let mut p = 12usize;
        let id = if v >= 3 {
            be_n(infe, &mut p, 4)
        } else {
            be_n(infe, &mut p, 2)
        };
        p = p.saturating_add(2); // protection index
        let kind = bytes::slice(infe, p, 4);
        p = p.saturating_add(4);
        if let (Some(id), Some(kind), true) = (id, kind, v >= 2) {
            if kind == b"Exif" {
                out.push((id, false));
            } else if kind == b"mime" {
                let (_name, rest) = bytes::cstr(infe.get(p..).unwrap_or_default());
                let (ct, _) = bytes::cstr(rest);
                if ct.windows(7).any(|w| w == b"rdf+xml") || ct.windows(3).any(|w| w == b"xmp") {
                    out.push((id, true));
                }
            }
        }
        at = at.saturating_add(size.max(1));
        if out.len() > 1024 {
            break;
        }
    }
    out
}

/// (item id, [(absolute offset, length)]) from an `iloc` payload (file-offset items only).
fn item_locations(b: &[u8]) -> Vec<(u64, Vec<(u64, u64)>)> {
    let mut out = Vec::new();
    let version = b.first().copied().unwrap_or(0);
    let (Some(&sizes), Some(&sizes2)) = (b.get(4), b.get(5)) else {
        return out;
    };
    let (off_size, len_size, base_size) = (sizes >> 4, sizes & 0x0F, sizes2 >> 4);
    let index_size = if version >= 1 { sizes2 & 0x0F } else { 0 };
    let mut at = 6usize;
    let count = if version < 2 {
        be_n(b, &mut at, 2)
    } else {
        be_n(b, &mut at, 4)
    };
    for _ in 0..count.unwrap_or(0).min(65_536) {
        let Some(id) = (if version < 2 {
            be_n(b, &mut at, 2)
        } else {
            be_n(b, &mut at, 4)
        }) else {
            break;
        };
        let method = if version >= 1 {
            be_n(b, &mut at, 2).map(|m| m & 0x0F)
        } else {
            Some(0)
        };
        let (Some(method), Some(_dref), Some(base), Some(n)) = (
            method,
            be_n(b, &mut at, 2),
            be_n(b, &mut at, base_size),
            be_n(b, &mut at, 2),
        ) else {
            break;
        };
        let mut extents = Vec::new();
        for _ in 0..n {
            if index_size > 0 && be_n(b, &mut at, index_size).is_none() {
                return out;
            }
            let (Some(off), Some(len)) = (be_n(b, &mut at, off_size), be_n(b, &mut at, len_size))
            else {
                return out;
            };
            extents.push((base.saturating_add(off), len));
        }
        if method == 0 {
            out.push((id, extents));
        }
    }
    out
}
