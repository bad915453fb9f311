//! Integration tests of greenlight-provenance: the real-media corpus suite, self-made fixtures
//! (generator metadata, XMP, C2PA-signed files), tree walking and the documented format table.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

mod corpus;
mod differential;
mod docs;
mod fixtures;
mod malformed;
mod signed;
mod stamp;
// the FIFO helper the command-line tests use too
#[path = "../../../cli/tests/support/special.rs"]
mod special;
mod walk;
