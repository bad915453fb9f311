//! Any bytes, read as a TOML or JSON declaration: an error or a declaration,
//! never a panic; a declaration read back from its own JSON is the same one,
//! and assessing it never fails.
#![no_main]

use greenlight_core::{Declaration, SourceFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [SourceFormat::Toml, SourceFormat::Json] {
        if let Ok(declaration) = Declaration::parse(text, format) {
            let json = serde_json_string(&declaration);
            let again = Declaration::parse(&json, SourceFormat::Json).expect("own JSON reads back");
            assert_eq!(declaration, again);
            let policy = policy();
            policy.assess(&declaration).expect("the default pack decides every declaration");
        }
    }
});

fn serde_json_string(declaration: &Declaration) -> String {
    serde_json::to_string(declaration).expect("a declaration serialises")
}

fn policy() -> &'static greenlight_policy::Policy {
    static POLICY: std::sync::OnceLock<greenlight_policy::Policy> = std::sync::OnceLock::new();
    POLICY.get_or_init(greenlight_policy::Policy::builtin)
}
