//! MXF: reads the header partition's metadata sets (KLV, BER lengths) and keeps the
//! Identification sets' company, product, version and platform strings. MXF has no C2PA embedding.

use super::{Format, FormatReader, Metadata};
use crate::source::{ReadError, Source, bytes, malformed};

const PARTITION_PREFIX: &[u8] = &[
    0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01, 0x01, 0x02,
];
const MAX_KLVS: usize = 100_000;
const MAX_SET: u64 = 1 << 20;
/// Header metadata read at most.
const MAX_HEADER: u64 = 64 << 20;

/// Reader for MXF files.
pub struct MxfReader;

impl FormatReader for MxfReader {
    fn name(&self) -> &'static str {
        "mxf"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Mxf]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        head.starts_with(PARTITION_PREFIX).then_some(Format::Mxf)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        out.notes.push(
            "MXF defines no C2PA embedding: only header metadata and sidecars can carry evidence"
                .to_string(),
        );
        let stop = src.len().min(MAX_HEADER);
        for _ in 0..MAX_KLVS {
            if src.pos().saturating_add(17) > stop {
                break;
            }
            let key = src.array::<16>()?;
            let len = ber_length(src)?;
            let end = src.end_of(src.pos(), len, "mxf")?;
            // essence containers end the header metadata
            if key.get(4) == Some(&0x01) && key.get(8..12) == Some(&[0x0D, 0x01, 0x03, 0x01]) {
                break;
            }
            if is_identification(&key) && len <= MAX_SET {
                let set = src.vec(len)?;
                identification(&set, out);
            }
            src.seek_to(end)?;
        }
        Ok(())
    }
}

fn is_identification(key: &[u8; 16]) -> bool {
    key.get(0..4) == Some(&[0x06, 0x0E, 0x2B, 0x34])
        && key.get(8..16) == Some(&[0x0D, 0x01, 0x01, 0x01, 0x01, 0x01, 0x30, 0x00])
}

fn ber_length(src: &mut Source<'_>) -> Result<u64, ReadError> {
    let first = src.u8()?;
    if first < 0x80 {
        return Ok(u64::from(first));
    }
    let n = first & 0x7F;
    if n == 0 || n > 8 {
        return Err(malformed("mxf", format!("BER length of {n} bytes")));
    }
    let mut v = 0u64;
    for _ in 0..n {
        v = (v << 8) | u64::from(src.u8()?);
    }
    Ok(v)
}

fn identification(set: &[u8], out: &mut Metadata) {
    let mut i = 0usize;
    while let (Some(tag), Some(len)) = (bytes::be16(set, i), bytes::be16(set, i.saturating_add(2)))
    {
        let len = usize::from(len);
        let Some(v) = bytes::slice(set, i.saturating_add(4), len) else {
            break;
        };
        let key = match tag {
            0x3C01 => "CompanyName",
            0x3C02 => "ProductName",
            0x3C04 => "VersionString",
            0x3C08 => "Platform",
            _ => "",
        };
        if !key.is_empty() {
            let units: Vec<u16> = v
                .chunks_exact(2)
                .map(|c| {
                    u16::from_be_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            out.add_text(
                key,
                String::from_utf16_lossy(&units)
                    .trim_matches(char::from(0))
                    .trim()
                    .to_string(),
            );
        }
        i = i.saturating_add(4).saturating_add(len);
    }
}
