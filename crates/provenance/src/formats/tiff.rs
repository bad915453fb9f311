//! TIFF and DNG: walks the IFD chain (and the EXIF sub-IFD) reading only tag entries and the
//! values of the tags that matter: C2PA (0xCD41, in the last IFD), XMP (0x02BC) and the text
//! tags Software, ImageDescription, Make, Model, Artist and UserComment.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, malformed};

const MAX_IFDS: usize = 256;
const MAX_ENTRIES: u16 = 4096;
const MAX_VALUE: u64 = 64 << 20;

const TAG_C2PA: u16 = 0xCD41;
const TAG_XMP: u16 = 0x02BC;
const TAG_EXIF_IFD: u16 = 0x8769;
const TAG_DNG_VERSION: u16 = 0xC612;

/// Reader for TIFF-based files.
pub struct TiffReader;

impl FormatReader for TiffReader {
    fn name(&self) -> &'static str {
        "tiff"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Tiff, Format::Dng]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        (head.starts_with(b"II*\0") || head.starts_with(b"MM\0*")).then_some(Format::Tiff)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        if read_tiff(src, out)? {
            out.refined = Some(Format::Dng);
        }
        Ok(())
    }
}

struct Order(bool); // true = little endian

impl Order {
    fn u16(&self, b: [u8; 2]) -> u16 {
        if self.0 {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    }
    fn u32(&self, b: [u8; 4]) -> u32 {
        if self.0 {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    }
}

fn type_size(t: u16) -> u64 {
    match t {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 0,
    }
}

/// Reads a TIFF stream; returns whether it is a DNG.
pub fn read_tiff(src: &mut Source<'_>, out: &mut Metadata) -> Result<bool, ReadError> {
    let head = src.array::<8>()?;
    let le = match head.get(0..4) {
        Some(b"II*\0") => true,
        Some(b"MM\0*") => false,
        _ => return Err(malformed("tiff", "bad byte-order mark")),
    };
    let o = Order(le);
    let mut next = u64::from(o.u32([head[4], head[5], head[6], head[7]]));
    let mut visited = Vec::new();
    // byte ranges of the IFD tables read so far (with their next-IFD links)
    let mut tables: Vec<(u64, u64)> = Vec::new();
    let mut exif_ifd = None;
    let mut is_dng = false;
    let mut c2pa = None;
    for n in 0..MAX_IFDS {
        if next == 0 {
            break;
        }
        if visited.contains(&next) || tables.iter().any(|&(s, e)| s <= next && next < e) {
            // A link back into the chain: what was read stands, the chain ends here.
            out.malformed(
                "TIFF IFD chain",
                "TIFF IFD chain",
                format!(
                    "IFD{}'s next-IFD link (offset {next}) points back into an IFD already read",
                    n.saturating_sub(1)
                ),
            );
            break;
        }
        visited.push(next);
        let (n_next, found) = match read_ifd(src, &o, next, out) {
            Ok(r) => r,
            // IFD0 is the file; a later IFD that cannot be read ends the chain.
            Err(ReadError::Malformed { what, .. }) if n > 0 => {
                out.malformed(
                    "TIFF IFD chain",
                    "TIFF IFD chain",
                    format!("IFD{n}: {what}"),
                );
                break;
            }
            Err(e) => return Err(e),
        };
        tables.push((next, found.table_end));
        next = n_next;
        is_dng |= found.dng;
        if found.exif.is_some() {
            exif_ifd = found.exif;
        }
        if found.c2pa.is_some() {
            c2pa = found.c2pa; // the last IFD's store wins
        }
    }
    if let Some(off) = exif_ifd
        && !visited.contains(&off)
    {
        match read_ifd(src, &o, off, out) {
            Ok(_) => {}
            Err(ReadError::Malformed { what, .. }) => {
                out.malformed("EXIF IFD (TIFF)", "EXIF IFD", what);
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(store) = c2pa {
        out.c2pa.push(StoreLocation::Bytes(store));
    }
    Ok(is_dng)
}

#[derive(Default)]
struct Found {
    /// Where the IFD's table (with its next-IFD link) ends.
    table_end: u64,
    dng: bool,
    exif: Option<u64>,
    c2pa: Option<Vec<u8>>,
}

fn read_ifd(
    src: &mut Source<'_>,
    o: &Order,
    at: u64,
    out: &mut Metadata,
) -> Result<(u64, Found), ReadError> {
    src.seek_to(at)?;
    let count = o.u16(src.array()?);
    if count > MAX_ENTRIES {
        return Err(malformed(
            "tiff",
            format!("IFD at {at} has {count} entries"),
        ));
    }
    let mut entries = Vec::new();
    for _ in 0..count {
        let e = src.array::<12>()?;
        let tag = o.u16([e[0], e[1]]);
        let typ = o.u16([e[2], e[3]]);
        let n = o.u32([e[4], e[5], e[6], e[7]]);
        entries.push((tag, typ, n, [e[8], e[9], e[10], e[11]]));
    }
    let next = u64::from(o.u32(src.array()?));
    let mut found = Found {
        table_end: src.pos(),
        ..Found::default()
    };
    for (tag, typ, n, raw) in entries {
        let interesting = matches!(
            tag,
            TAG_C2PA | TAG_XMP | 0x010E | 0x010F | 0x0110 | 0x0131 | 0x013B | 0x9286
        );
        if tag == TAG_DNG_VERSION {
            found.dng = true;
        }
        if tag == TAG_EXIF_IFD {
            found.exif = Some(u64::from(o.u32(raw)));
            continue;
        }
        if !interesting {
            continue;
        }
        let size = type_size(typ).saturating_mul(u64::from(n));
        if size > MAX_VALUE {
            continue;
        }
        let value = if size <= 4 {
            raw.get(..usize::try_from(size).unwrap_or(0))
                .unwrap_or_default()
                .to_vec()
        } else {
            let off = u64::from(o.u32(raw));
            if src.end_of(off, size, "tiff").is_err() {
                out.malformed(
                    "TIFF IFD",
                    "TIFF tag",
                    format!("the value of tag 0x{tag:04X} ({size} bytes at {off}) runs past the end of the file"),
                );
                continue;
            }
            src.seek_to(off)?;
            src.vec(size)?
        };
        match tag {
            TAG_C2PA => found.c2pa = Some(value),
            TAG_XMP => out.add_xmp_in("XMP (TIFF tag 700)", &value),
            0x9286 => out.add_text("UserComment", crate::evidence::decode_user_comment(&value)),
            _ => {
                let key = match tag {
                    0x010E => "ImageDescription",
                    0x010F => "Make",
                    0x0110 => "Model",
                    0x0131 => "Software",
                    _ => "Artist",
                };
                out.add_text(key, crate::source::bytes::text(&value));
            }
        }
    }
    Ok((next, found))
}
