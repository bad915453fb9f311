//! SVG: the C2PA store is base64 inside `<c2pa:manifest>` in `<metadata>`; XMP may sit there too.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, bytes};
use base64::Engine as _;

/// Reader for SVG files.
pub struct SvgReader;

impl FormatReader for SvgReader {
    fn name(&self) -> &'static str {
        "svg"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Svg]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        let h = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
        let t = h
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .and_then(|i| h.get(i..))?;
        (t.starts_with(b"<?xml")
            || t.starts_with(b"<svg")
            || t.starts_with(b"<!--")
            || t.starts_with(b"<!DOCTYPE svg"))
        .then_some(Format::Svg)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        let data = src.vec(src.len())?;
        if bytes::find(&data, b"<svg", 0).is_none() {
            out.notes
                .push("XML document without an <svg> element".to_string());
            return Ok(());
        }
        if let Some(i) = bytes::find(&data, b"<c2pa:manifest", 0) {
            let start = bytes::find(&data, b">", i).map_or(data.len(), |j| j.saturating_add(1));
            let end = bytes::find(&data, b"</c2pa:manifest>", start).unwrap_or(data.len());
            let b64: Vec<u8> = data
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .copied()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let store = base64::engine::general_purpose::STANDARD
                .decode(&b64)
                .unwrap_or_else(|_| b64.clone());
            out.c2pa.push(StoreLocation::Bytes(store));
        }
        if let Some(i) = bytes::find(&data, b"<x:xmpmeta", 0) {
            let end =
                bytes::find(&data, b"</x:xmpmeta>", i).map_or(data.len(), |e| e.saturating_add(12));
            out.add_xmp_in("XMP (SVG metadata)", data.get(i..end).unwrap_or_default());
        }
        Ok(())
    }
}
