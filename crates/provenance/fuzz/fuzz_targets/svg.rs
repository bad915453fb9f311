//! Fuzzes the `svg` container reader: no input may panic, hang or allocate without bound.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = greenlight_provenance::formats::read_bytes("svg", data);
});
