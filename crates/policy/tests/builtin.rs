//! The built-in pack loads, and cites only ids it defines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test, benchmark or tool: a failure panics with its message"
)]
use greenlight_policy::Policy;

#[test]
fn builtin_pack_compiles() {
    let policy = Policy::builtin();
    assert!(policy.rules().len() > 40, "{}", policy.rules().len());
}
