//! Screening: what goes into a prompt or a script, checked against what a production must not
//! reference without permission.
//!
//! [`text`] finds the names on a clearance team's watchlists (copyrighted works, characters,
//! living artists, public figures, deceased personalities, brands) and the ledger's performers
//! in prompts, prompt logs and scripts, each hit mapped back to file, line and column and to the
//! rule it raises. The crate does no I/O of its own: callers hand it bytes and names.

pub mod text;
