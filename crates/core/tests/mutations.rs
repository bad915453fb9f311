//! Declarations damaged in many small ways give an error or a declaration,
//! never a panic, and an error always names a position inside the text.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::path::Path;

use greenlight_core::{Declaration, SourceFormat};

fn examples() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut out = Vec::new();
    // The examples of the guidance, and of the overlays in `overlays/`.
    for dir in [root.clone(), root.join("overlays")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name == "EXPECTED.toml" || path.is_dir() {
                continue;
            }
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(out.len() >= 30);
    out
}

fn check(name: &str, text: &str) {
    let format = SourceFormat::from_path(name);
    if let Err(e) = Declaration::parse(text, format) {
        if let Some(line) = e.line {
            assert!(
                line >= 1 && line <= text.lines().count().max(1) + 1,
                "{name}: line {line} out of range"
            );
        }
        if let Some(span) = &e.span {
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{name}: span {span:?}"
            );
        }
        assert!(!e.message.is_empty());
    }
}

#[test]
fn every_example_parses() {
    for (name, text) in examples() {
        Declaration::parse(&text, SourceFormat::from_path(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn truncated_and_mutated_declarations_never_panic() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let replacements = [
        "",
        "\"",
        "'",
        "[",
        "]",
        "=",
        "\n",
        "{",
        "}",
        ",",
        "unsure",
        "\u{0}",
        "é",
        "[[tools]]",
    ];
    for (name, text) in examples() {
        let bytes = text.as_bytes();
        // Every prefix at a char boundary.
        for cut in (0..text.len())
            .step_by(29)
            .filter(|i| text.is_char_boundary(*i))
        {
            check(&name, &text[..cut]);
        }
        // Random splices.
        for _ in 0..80 {
            let at = (next() as usize) % bytes.len();
            let len = (next() as usize) % 8;
            let with = replacements[(next() as usize) % replacements.len()];
            let end = (at + len).min(bytes.len());
            if !text.is_char_boundary(at) || !text.is_char_boundary(end) {
                continue;
            }
            let mutated = format!("{}{}{}", &text[..at], with, &text[end..]);
            check(&name, &mutated);
        }
    }
}
