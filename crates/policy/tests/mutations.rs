//! The default pack damaged in many small ways gives diagnostics that point
//! inside the text, or a policy that decides; never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use greenlight_core::{Declaration, SourceFormat};
use greenlight_policy::{BUILTIN_PACK, Policy, Source};

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

#[test]
fn mutated_packs_never_panic_and_point_inside_the_text() {
    let declaration = Declaration::parse(DECLARATION, SourceFormat::Toml).unwrap();
    let text = BUILTIN_PACK;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let replacements = [
        "", "\"", "'", "[", "]]", "=", "\n", "&&", "||", "(", ")", ".", "unsure", "exists",
        "size(", "P9",
    ];
    let mut rejected = 0;
    for _ in 0..100 {
        let at = (next() as usize) % text.len();
        let len = (next() as usize) % 6;
        let end = (at + len).min(text.len());
        if !text.is_char_boundary(at) || !text.is_char_boundary(end) {
            continue;
        }
        let with = replacements[(next() as usize) % replacements.len()];
        let mutated = format!("{}{}{}", &text[..at], with, &text[end..]);
        match Policy::compile(
            &[Source::new("mutated.toml", mutated.as_str())],
            &mut |_, _| Err("no".into()),
        ) {
            Ok(policy) => {
                policy.assess(&declaration).unwrap();
            }
            Err(errors) => {
                rejected += 1;
                assert!(!errors.diagnostics.is_empty());
                for d in &errors.diagnostics {
                    assert!(d.span.start <= d.span.end, "{}", d.one_line());
                    assert!(
                        d.span.end <= d.pack.text.len() || d.pack.text.is_empty(),
                        "{}",
                        d.one_line()
                    );
                }
            }
        }
    }
    assert!(rejected > 10, "only {rejected} mutations were caught");
}
