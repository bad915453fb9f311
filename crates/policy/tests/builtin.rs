//! The built-in pack loads, and cites only ids it defines.
use greenlight_policy::Policy;

#[test]
fn builtin_pack_compiles() {
    let policy = Policy::builtin();
    assert!(policy.rules().len() > 40, "{}", policy.rules().len());
}
