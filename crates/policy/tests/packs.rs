//! Packs that must load, and packs whose every mistake must be reported with
//! its position. Expected diagnostics live beside each bad pack in a
//! `.expected` file; `UPDATE_EXPECT=1 cargo test` rewrites them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test, benchmark or tool: a failure panics with its message"
)]

use std::path::{Path, PathBuf};

use greenlight_core::{Declaration, Level, SourceFormat};
use greenlight_policy::Policy;

fn data(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/packs")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no packs in {}", root.display());
    files
}

/// Diagnostics as `line:column: message (help: …)`, one a line, in order.
fn render(path: &Path) -> String {
    let errors = Policy::load(&[path]).expect_err("the pack should not load");
    errors
        .diagnostics
        .iter()
        .map(|d| {
            let mut line = format!("{}:{}: {}", d.line(), d.column(), d.message);
            if let Some(help) = &d.help {
                line.push_str(&format!(" (help: {help})"));
            }
            line.push('\n');
            line
        })
        .collect()
}

#[test]
fn bad_packs_report_every_mistake_with_its_position() {
    for pack in data("err") {
        let actual = render(&pack);
        let expected_path = pack.with_extension("expected");
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "missing {}; run with UPDATE_EXPECT=1",
                expected_path.display()
            )
        });
        assert_eq!(
            actual,
            expected,
            "diagnostics of {} changed",
            pack.display()
        );
    }
}

#[test]
fn three_mistakes_in_three_places_are_all_reported() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/packs/err/three-mistakes.toml");
    let errors = Policy::load(&[path.as_path()]).unwrap_err();
    let found: Vec<(usize, &str)> = errors
        .diagnostics
        .iter()
        .map(|d| (d.line(), d.message.as_str()))
        .collect();
    assert_eq!(errors.diagnostics.len(), 3, "{found:#?}");
    assert!(
        found
            .iter()
            .any(|(line, m)| *line == 15 && m.contains("`P7`")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(line, m)| *line == 22 && m.contains("does not parse")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(line, m)| *line == 31 && m.contains("`final_deliverabel`")),
        "{found:#?}"
    );
    // The unknown field is pointed at exactly, with the likely fix.
    let unknown = errors
        .diagnostics
        .iter()
        .find(|d| d.message.contains("final_deliverabel"))
        .unwrap();
    assert_eq!(unknown.column(), 9);
    assert_eq!(
        unknown.help.as_deref(),
        Some("did you mean `final_deliverable`?")
    );
}

#[test]
fn good_packs_load() {
    for pack in data("ok") {
        Policy::load(&[pack.as_path()]).unwrap_or_else(|e| panic!("{}: {e:?}", pack.display()));
    }
}

const ESCALATED_RESTORATION: &str = r#"
title = "Grain removal on archive reels"
production = "p"
production_kind = "scripted"
stage = "post_production"
purpose = "restoration"
"#;

#[test]
fn overlay_replaces_removes_and_adds_rules_and_names_its_layers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/packs/ok/overlay.toml");
    let policy = Policy::load(&[path.as_path()]).unwrap();
    let ids: Vec<&str> = policy.rules().iter().map(|r| r.id.as_str()).collect();
    assert!(!ids.contains(&"no-tool-named"));
    assert!(ids.contains(&"marketing"));
    let base = Policy::builtin();
    assert_eq!(policy.rules().len(), base.rules().len());

    let declaration = Declaration::parse(ESCALATED_RESTORATION, SourceFormat::Toml).unwrap();
    let decision = policy.assess(&declaration).unwrap();
    let restoration = decision
        .findings
        .iter()
        .find(|f| f.rule == "restoration")
        .unwrap();
    assert_eq!(restoration.level, Level::Escalate);
    assert!(!decision.findings.iter().any(|f| f.rule == "no-tool-named"));

    let reference = decision.policy;
    assert_eq!(reference.id, "studio-overlay");
    let layers: Vec<&str> = reference.layers.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(layers, ["netflix-2025", "studio-overlay"]);
    assert_eq!(reference.layers[0].sha256, base.reference().sha256);
}

#[test]
fn pack_hash_is_the_sha256_of_its_text() {
    let policy = Policy::builtin();
    // sha256 of the file as shipped, computed independently of the crate.
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/netflix-2025.toml"),
    )
    .unwrap();
    let output = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&text)?;
            child.wait_with_output()
        })
        .unwrap();
    let expected = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        policy.reference().sha256,
        expected.split_whitespace().next().unwrap()
    );
}
