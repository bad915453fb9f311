//! What the binary's tests share: running it on a real ledger, and media files made byte by
//! byte. Each test crate uses a part of it.
#![allow(
    dead_code,
    reason = "each test crate uses a part of the support module"
)]

pub mod ledger;
pub mod media;
pub mod special;
