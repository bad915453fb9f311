//! The `greenlight` binary as a user runs it: real files, real processes,
//! exit codes and output checked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test, benchmark or tool: a failure panics with its message"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn greenlight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("greenlight runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

fn exit_code(level: &str) -> i32 {
    match level {
        "notify" => 0,
        "escalate" => 3,
        "blocked" => 4,
        other => panic!("unknown level {other}"),
    }
}

/// Every example's outcome, as the policy specification demands it.
#[test]
fn every_example_meets_its_expected_outcome() {
    let expected: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("examples/EXPECTED.toml")).unwrap())
            .unwrap();
    let mut on_disk: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| (n.ends_with(".toml") || n.ends_with(".json")) && n != "EXPECTED.toml")
        .collect();
    on_disk.sort();
    let listed: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(
        on_disk, listed,
        "examples/ and examples/EXPECTED.toml list different files"
    );
    assert!(on_disk.len() >= 30, "{} examples", on_disk.len());

    let mut failures = Vec::new();
    for (file, want) in &expected {
        let path = format!("examples/{file}");
        let output = greenlight(&["assess", &path, "--format", "json"]);
        let level = want["level"].as_str().unwrap();
        if output.status.code() != Some(exit_code(level)) {
            failures.push(format!(
                "{file}: exit {:?}, expected {level}\n{}",
                output.status.code(),
                stderr(&output)
            ));
            continue;
        }
        let decision: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        if decision["level"] != level {
            failures.push(format!(
                "{file}: level {}, expected {level}",
                decision["level"]
            ));
        }
        let findings = decision["findings"].as_array().unwrap();
        let cited: Vec<&str> = findings
            .iter()
            .flat_map(|f| f["cites"].as_array().unwrap())
            .map(|c| c.as_str().unwrap())
            .collect();
        for cite in want["cites"].as_array().unwrap() {
            let cite = cite.as_str().unwrap();
            if !cited.contains(&cite) {
                failures.push(format!(
                    "{file}: no finding cites {cite} (cited: {cited:?})"
                ));
            }
        }
        if let Some(severity) = want.get("severity").and_then(|s| s.as_str()) {
            let high = findings
                .iter()
                .any(|f| f["level"] == decision["level"] && f["severity"] == severity);
            if !high {
                failures.push(format!(
                    "{file}: no {severity}-severity finding at the decision's level"
                ));
            }
        }
        if let Some(text) = want.get("reason_contains").and_then(|s| s.as_str())
            && !findings
                .iter()
                .any(|f| f["reason"].as_str().unwrap().contains(text))
        {
            failures.push(format!("{file}: no reason says {text:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} examples off:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every overlay example (`examples/overlays/`), on both sides of each
/// obligation of overlays-spec.md: the level, the ids that must be cited and
/// the ids that must not.
#[test]
fn every_overlay_example_meets_its_expected_outcome() {
    let dir = root().join("examples/overlays");
    let expected: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("EXPECTED.toml")).unwrap()).unwrap();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml") && n != "EXPECTED.toml")
        .collect();
    on_disk.sort();
    let listed: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(
        on_disk, listed,
        "examples/overlays/ and its EXPECTED.toml list different files"
    );
    let mut failures = Vec::new();
    for (file, want) in &expected {
        let path = format!("examples/overlays/{file}");
        let on = want
            .get("on")
            .and_then(|v| v.as_str())
            .unwrap_or("2026-03-01");
        let mut args = vec!["assess", path.as_str(), "--format", "json", "--on", on];
        let packs: Vec<String> = want["packs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("policies/{}.toml", p.as_str().unwrap()))
            .collect();
        for pack in &packs {
            args.extend(["--policy", pack.as_str()]);
        }
        let output = greenlight(&args);
        let level = want["level"].as_str().unwrap();
        let Ok(decision) = serde_json::from_str::<serde_json::Value>(&stdout(&output)) else {
            failures.push(format!("{file}: no decision\n{}", stderr(&output)));
            continue;
        };
        if output.status.code() != Some(exit_code(level)) || decision["level"] != level {
            failures.push(format!(
                "{file}: level {} (exit {:?}), expected {level}",
                decision["level"],
                output.status.code()
            ));
        }
        let cited: Vec<&str> = decision["findings"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["cites"].as_array().unwrap())
            .map(|c| c.as_str().unwrap())
            .collect();
        for cite in want["cites"].as_array().unwrap() {
            let cite = cite.as_str().unwrap();
            if !cited.contains(&cite) {
                failures.push(format!(
                    "{file}: no finding cites {cite} (cited: {cited:?})"
                ));
            }
        }
        for cite in want["absent"].as_array().unwrap() {
            let cite = cite.as_str().unwrap();
            if cited.contains(&cite) {
                failures.push(format!(
                    "{file}: a finding cites {cite}, which must not fire"
                ));
            }
        }
        let layers: Vec<&str> = decision["policy"]["layers"]
            .as_array()
            .map(|l| l.iter().map(|l| l["id"].as_str().unwrap()).collect())
            .unwrap_or_default();
        for pack in want["packs"].as_array().unwrap() {
            if !layers.contains(&pack.as_str().unwrap()) {
                failures.push(format!("{file}: the decision does not name layer {pack}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} overlay examples off:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `greenlight policy check` passes every overlay with no diagnostic.
#[test]
fn every_overlay_pack_checks_clean() {
    for name in [
        "sag-aftra-2023",
        "wga-2023",
        "dga-2023",
        "us-ca",
        "us-ny",
        "us-tn",
        "eu-ai-act-art50",
        "usco-registration",
    ] {
        let path = format!("policies/{name}.toml");
        let output = greenlight(&["policy", "check", &path]);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        assert!(
            !stderr(&output).contains("warning"),
            "{name}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn the_two_public_cases_come_out_as_the_specification_states() {
    let output = greenlight(&[
        "assess",
        "examples/case-2024-true-crime-documentary.toml",
        "--format",
        "json",
    ]);
    let decision: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["level"], "escalate");
    assert!(
        decision["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "high"
                && f["cites"].as_array().unwrap().iter().any(|c| c == "C4a"))
    );

    let output = greenlight(&[
        "assess",
        "examples/case-2025-sci-fi-building-collapse.toml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(3), "escalate, not blocked");
    let decision: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let cited: Vec<String> = decision["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["cites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
        })
        .collect();
    for id in ["P4", "M3", "C4b"] {
        assert!(cited.iter().any(|c| c == id), "{id} not cited: {cited:?}");
    }
}

#[test]
fn decisions_are_byte_for_byte_repeatable_and_name_the_pack() {
    // The second example's reason names its performer from the declaration.
    for example in [
        "examples/m4-de-aging-no-consent.toml",
        "examples/m4-voice-model-own-recordings.toml",
    ] {
        let args = ["assess", example, "--format", "json"];
        let first = stdout(&greenlight(&args));
        let second = stdout(&greenlight(&args));
        assert_eq!(first, second);
        assert_contract_fields(&first);
    }
}

fn assert_contract_fields(first: &str) {
    let decision: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(decision["policy"]["id"], "netflix-2025");
    assert_eq!(decision["policy"]["sha256"].as_str().unwrap().len(), 64);
    // Every finding has the contract's fields, in the contract's order.
    for finding in decision["findings"].as_array().unwrap() {
        let keys: Vec<&str> = finding
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let keys: Vec<&str> = keys.into_iter().filter(|k| *k != "severity").collect();
        assert_eq!(
            keys,
            [
                "rule", "cites", "level", "basis", "reason", "facts", "remedy"
            ]
        );
    }
}

#[test]
fn several_files_give_one_result_each_and_the_strictest_exit_code() {
    let output = greenlight(&[
        "assess",
        "examples/m1-mood-board.toml",
        "examples/m4-de-aging-no-consent.toml",
        "examples/m3-key-art-poster.toml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(4));
    let levels: Vec<String> = stdout(&output)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["level"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(levels, ["notify", "blocked", "escalate"]);
}

#[test]
fn text_output_shows_level_reasons_facts_and_remedies() {
    let output = greenlight(&["assess", "examples/p1-unsure-answer.toml"]);
    assert_eq!(output.status.code(), Some(3));
    let text = stdout(&output);
    assert!(text.starts_with("ESCALATE"), "{text}");
    assert!(text.contains("p1-unsure"), "{text}");
    assert!(
        text.contains("because: principles.p1_no_ip_replication = unsure"),
        "{text}"
    );
    assert!(text.contains("to change it:"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when not a terminal");
}

#[test]
fn a_typo_in_a_declaration_is_an_error_naming_field_line_and_fix() {
    let dir = tempdir();
    let path = dir.join("typo.toml");
    let text = std::fs::read_to_string(root().join("examples/m1-mood-board.toml"))
        .unwrap()
        .replace("talent_likeness", "talent_likness");
    std::fs::write(&path, &text).unwrap();
    let output = greenlight(&["assess", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let line = text
        .lines()
        .position(|l| l.contains("talent_likness"))
        .unwrap()
        + 1;
    let err = stderr(&output);
    assert!(err.contains(&format!("typo.toml:{line}:")), "{err}");
    assert!(err.contains("talent_likness"), "{err}");
    assert!(err.contains("did you mean `talent_likeness`?"), "{err}");
    assert!(stdout(&output).is_empty());

    std::fs::write(
        &path,
        text.replace("talent_likness = \"no\"", "talent_likeness = \"maybe\""),
    )
    .unwrap();
    let err = stderr(&greenlight(&["assess", path.to_str().unwrap()]));
    assert!(err.contains("inputs.talent_likeness"), "{err}");
    assert!(err.contains("`yes`, `no`"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(greenlight(&["assess"]).status.code(), Some(2));
    assert_eq!(
        greenlight(&["assess", "x.toml", "--format", "yaml"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn policy_check_reports_all_three_mistakes_with_positions() {
    let output = greenlight(&[
        "policy",
        "check",
        "crates/policy/tests/data/packs/err/three-mistakes.toml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    for at in [
        "three-mistakes.toml:15:10",
        "three-mistakes.toml:22:45",
        "three-mistakes.toml:31:9",
    ] {
        assert!(err.contains(at), "{at} missing from:\n{err}");
    }
    assert!(err.contains("3 problems in policy pack"), "{err}");
}

#[test]
fn policy_check_and_show_on_the_default_pack() {
    let output = greenlight(&["policy", "check", "policies/netflix-2025.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("ok  netflix-2025"));
    let output = greenlight(&["policy", "show"]);
    assert_eq!(output.status.code(), Some(0));
    let table = stdout(&output);
    assert!(table.contains("RULE"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("replica-without-consent") && l.contains("blocked"))
    );
    let output = greenlight(&["policy", "show", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(doc["rules"].as_array().unwrap().len() > 40);
}

#[test]
fn an_overlay_pack_changes_the_outcome() {
    let output = greenlight(&[
        "assess",
        "examples/map-restoration-upscaling.toml",
        "--policy",
        "crates/policy/tests/data/packs/ok/overlay.toml",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let decision: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(decision["policy"]["id"], "studio-overlay");
    assert_eq!(decision["policy"]["layers"].as_array().unwrap().len(), 2);
}

#[test]
fn schema_describes_the_declaration() {
    let output = greenlight(&["schema", "declaration"]);
    assert_eq!(output.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(schema["title"], "Declaration");
    assert!(schema["properties"]["principles"].is_object());
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("greenlight-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
