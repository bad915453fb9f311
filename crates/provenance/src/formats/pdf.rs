//! PDF: scans the file (within the byte cap) for the `/C2PA_Manifest` relationship of an
//! embedded manifest store and for XMP metadata streams (plain or Flate-compressed). The store
//! itself is extracted by the c2pa crate's PDF handler, which resolves the embedded-file objects.

use super::{Format, FormatReader, Metadata, StoreLocation};
use crate::source::{ReadError, Source, bytes};

const MAX_XMP_PACKETS: usize = 64;

/// Reader for PDF files.
pub struct PdfReader;

impl FormatReader for PdfReader {
    fn name(&self) -> &'static str {
        "pdf"
    }
    fn formats(&self) -> &'static [Format] {
        &[Format::Pdf]
    }
    fn sniff(&self, head: &[u8]) -> Option<Format> {
        bytes::find(
            head.get(..head.len().min(1024)).unwrap_or(head),
            b"%PDF-",
            0,
        )
        .map(|_| Format::Pdf)
    }
    fn read(&self, _f: Format, src: &mut Source<'_>, out: &mut Metadata) -> Result<(), ReadError> {
        let data = src.vec(src.len())?;
        if bytes::find(&data, b"C2PA_Manifest", 0).is_some() {
            out.c2pa.push(StoreLocation::InAsset);
        }
        let mut n = 0;
        // plain XMP packets
        let mut at = 0usize;
        while let Some(i) = bytes::find(&data, b"<x:xmpmeta", at) {
            let end =
                bytes::find(&data, b"</x:xmpmeta>", i).map_or(data.len(), |e| e.saturating_add(12));
            out.add_xmp_in("XMP (PDF metadata)", data.get(i..end).unwrap_or_default());
            at = end;
            n += 1;
            if n >= MAX_XMP_PACKETS {
                break;
            }
        }
        // compressed metadata streams
        let mut at = 0usize;
        while let Some(i) = bytes::find(&data, b"/Metadata", at) {
            at = i.saturating_add(9);
            if n >= MAX_XMP_PACKETS {
                break;
            }
            let dict_end = bytes::find(&data, b"stream", i).unwrap_or(data.len());
            let dict = data
                .get(i.saturating_sub(512)..dict_end)
                .unwrap_or_default();
            if bytes::find(dict, b"FlateDecode", 0).is_none() || dict_end.saturating_sub(i) > 1024 {
                continue;
            }
            let mut s = dict_end.saturating_add(6);
            while matches!(data.get(s), Some(b'\r' | b'\n')) {
                s = s.saturating_add(1);
            }
            let e = bytes::find(&data, b"endstream", s).unwrap_or(data.len());
            let x = match super::png::inflate_partial(data.get(s..e).unwrap_or_default()) {
                Ok(x) => x,
                Err((why, x)) => {
                    // only a metadata stream whose own object names the filter (the
                    // `FlateDecode` seen may be a neighbour's)
                    let before = data.get(..i).unwrap_or_default();
                    let obj = memchr::memmem::rfind(before, b"obj").unwrap_or(0);
                    let own = before.trim_ascii_end().ends_with(b"/Type")
                        && data
                            .get(obj..dict_end)
                            .is_some_and(|d| bytes::find(d, b"FlateDecode", 0).is_some());
                    if own {
                        out.malformed("PDF metadata stream", "metadata stream", why);
                    }
                    x
                }
            };
            if bytes::find(&x, b"xmpmeta", 0).is_some() {
                out.add_xmp_in("XMP (PDF metadata stream)", &x);
                n += 1;
            }
        }
        Ok(())
    }
}
