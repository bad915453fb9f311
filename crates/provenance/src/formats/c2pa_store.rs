//! A raw C2PA manifest store (a `.c2pa` sidecar): the whole file is one JUMBF superbox.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source};

/// Reader for raw manifest stores.
pub struct C2paStoreReader;

impl FormatReader for C2paStoreReader {
    fn name(&self) -> &'static str {
        "c2pa"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::C2pa]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        (head.get(4..8) == Some(b"jumb") && head.get(12..16) == Some(b"jumd"))
            .then_some(Format::C2pa)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        let data = src.vec(src.len())?;
        out.c2pa.push(StoreLocation::Bytes(data));
        Ok(())
    }
}
