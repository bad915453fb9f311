//! Fuzzes the fast C2PA path (JUMBF walk, claim and assertion CBOR): no input may panic, hang or
//! allocate without bound. Inputs that start like a store reach the CBOR decoding most often.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = greenlight_provenance::c2pa_fast::read(data);
});
