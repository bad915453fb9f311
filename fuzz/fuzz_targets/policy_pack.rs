//! Any bytes, read as a policy pack: diagnostics or a policy, never a panic;
//! a pack that loads decides a declaration without failing.
#![no_main]

use greenlight_core::{Declaration, SourceFormat};
use greenlight_policy::{Policy, Source};
use libfuzzer_sys::fuzz_target;

const DECLARATION: &str = r#"
title = "t"
production = "p"
production_kind = "documentary"
stage = "production"
purpose = "vfx"
[[tools]]
name = "x"
[[performers]]
use = "replica"
"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let result = Policy::compile(&[Source::new("fuzz.toml", text)], &mut |_, _| Err("no".into()));
    match result {
        Ok(policy) => {
            let declaration = Declaration::parse(DECLARATION, SourceFormat::Toml).expect("fixed declaration");
            policy.assess(&declaration).expect("a pack that loads decides");
        }
        Err(errors) => {
            for d in &errors.diagnostics {
                // Every position is inside the text it points into.
                assert!(d.span.start <= d.span.end);
                assert!(d.span.end <= d.pack.text.len());
                let _ = d.one_line();
            }
        }
    }
});
