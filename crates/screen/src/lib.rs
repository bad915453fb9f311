//! Screening: what goes into a prompt or a script, and what comes out of a model, checked
//! against what a production must not reference or copy without permission.
//!
//! - [`text`]: the names on a clearance team's watchlists (copyrighted works, characters,
//!   living artists, public figures, deceased personalities, brands) and the ledger's
//!   performers in prompts, prompt logs and scripts, each hit mapped back to file, line and
//!   column and to the rule it raises.
//! - [`image`]: near-copies of protected reference images. PDQ hashes (with their quality and
//!   all eight flips and rotations), reference variants that survive crops and small
//!   rotations, and a multi-index hash table that answers exactly what a linear scan answers.
//!
//! The crate does no I/O of its own: callers hand it bytes and names and get results.

pub mod image;
pub mod text;
