//! Fuzzes the whole per-file pipeline (sniffing, every reader, XMP, EXIF, C2PA parsing).
#![no_main]

use std::sync::LazyLock;

static SCANNER: LazyLock<Option<greenlight_provenance::Scanner>> =
    LazyLock::new(|| greenlight_provenance::Scanner::new(greenlight_provenance::ScanOptions::default()).ok());

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(s) = SCANNER.as_ref() {
        let _ = s.scan_bytes("fuzz", data);
    }
});
