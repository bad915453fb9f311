//! Screening: what goes into a prompt and what comes out of a model, checked
//! against what a production must not copy.
//!
//! - [`image`]: near-copies of protected reference images. PDQ hashes (with
//!   their quality and all eight flips and rotations), reference variants that
//!   survive crops and small rotations, and a multi-index hash table that
//!   answers exactly what a linear scan answers.
//!
//! The crate does no I/O of its own: callers hand it bytes and get results.
#![deny(missing_docs)]

pub mod image;
