//! Golden examples of the disclosures, per overlay: every example of
//! `examples/overlays/` is triaged by the real built-in stack its EXPECTED.toml
//! names, and the disclosures it owes are compared with
//! `tests/golden/<overlay>.json` (re-bless with `UPDATE_GOLDEN=1`). Both sides
//! of each line are checked by name too, and every rule id a disclosure cites
//! must be a rule of its overlay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a failing test stops at the error"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use greenlight_core::{Declaration, SourceFormat};
use greenlight_policy::{PackDate, Policy};
use greenlight_report::Disclosure;
use greenlight_report::disclose::{UseFacts, disclosures};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(serde::Deserialize)]
struct Expected {
    packs: Vec<String>,
    on: Option<String>,
}

/// Every example with the disclosures it owes, by overlay.
fn owed() -> BTreeMap<String, BTreeMap<String, Vec<Disclosure>>> {
    let dir = root().join("examples/overlays");
    let expected: BTreeMap<String, Expected> =
        toml::from_str(&std::fs::read_to_string(dir.join("EXPECTED.toml")).unwrap()).unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, Vec<Disclosure>>> = BTreeMap::new();
    for (file, exp) in &expected {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let declaration = Declaration::parse(&text, SourceFormat::Toml).unwrap();
        let packs: Vec<&str> = exp.packs.iter().map(String::as_str).collect();
        let policy = Policy::builtin_stack(&packs).unwrap();
        let day: PackDate = exp.on.as_deref().unwrap_or("2026-03-01").parse().unwrap();
        let decision = policy.assess_on(&declaration, day).unwrap();
        let facts = UseFacts {
            declaration_id: file.trim_end_matches(".toml").to_owned(),
            title: declaration.title.clone(),
            declaration: &declaration,
            level: Some(decision.level),
            rejected: false,
        };
        let owed = disclosures(declaration.production_kind, &exp.packs, &[facts]);
        for pack in &exp.packs {
            out.entry(pack.clone())
                .or_default()
                .insert(file.clone(), owed.clone());
        }
    }
    out
}

#[test]
fn disclosures_match_the_golden_files_for_every_overlay() {
    let owed = owed();
    assert_eq!(
        owed.len(),
        8,
        "one golden file per overlay: {:?}",
        owed.keys()
    );
    let bless = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut stale = Vec::new();
    for (overlay, examples) in &owed {
        let path = dir.join(format!("{overlay}.json"));
        let text = serde_json::to_string_pretty(examples).unwrap() + "\n";
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let golden = std::fs::read_to_string(&path).unwrap_or_default();
        if golden != text {
            stale.push(format!("{} differs:\n{text}", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "golden files out of date (UPDATE_GOLDEN=1 to re-bless):\n{}",
        stale.join("\n")
    );
}

fn kinds(
    owed: &BTreeMap<String, BTreeMap<String, Vec<Disclosure>>>,
    overlay: &str,
    file: &str,
) -> Vec<String> {
    owed[overlay][file].iter().map(|d| d.kind.clone()).collect()
}

#[test]
fn each_disclosure_is_owed_on_one_side_of_its_line_only() {
    let owed = owed();
    let eu = "eu-ai-act-art50";
    // A fictional deep fake released in the EU: the notice line, no label.
    let fiction = kinds(&owed, eu, "eu50-4-fiction-credits-line.toml");
    assert!(
        fiction.contains(&"eu_art50_notice".to_owned()),
        "{fiction:?}"
    );
    assert!(
        !fiction.contains(&"eu_art50_label".to_owned()),
        "{fiction:?}"
    );
    // One that could mislead, undisclosed, is blocked: it cannot be released and owes nothing;
    // once disclosed, the visible label is owed as well as the notice line.
    let blocked = kinds(&owed, eu, "eu50-4-misleading-undisclosed.toml");
    assert!(blocked.is_empty(), "{blocked:?}");
    let dir = root().join("examples/overlays");
    let text = std::fs::read_to_string(dir.join("eu50-4-misleading-undisclosed.toml")).unwrap();
    let mut disclosed = Declaration::parse(&text, SourceFormat::Toml).unwrap();
    disclosed.output.disclosed = greenlight_core::Answer::Yes;
    let policy = Policy::builtin_stack(&[eu]).unwrap();
    let decision = policy.assess(&disclosed).unwrap();
    assert_ne!(decision.level, greenlight_core::Level::Blocked);
    let labelled = disclosures(
        disclosed.production_kind,
        &[eu.to_owned()],
        &[UseFacts {
            declaration_id: "d".to_owned(),
            title: disclosed.title.clone(),
            declaration: &disclosed,
            level: Some(decision.level),
            rejected: false,
        }],
    );
    let labelled: Vec<&str> = labelled.iter().map(|d| d.kind.as_str()).collect();
    assert!(labelled.contains(&"eu_art50_label"), "{labelled:?}");
    assert!(labelled.contains(&"eu_art50_notice"), "{labelled:?}");
    // Not released in the EU: nothing under Article 50.
    let outside = kinds(&owed, eu, "eu50-4-not-released-in-eu.toml");
    assert!(
        !outside.iter().any(|k| k.starts_with("eu_art50")),
        "{outside:?}"
    );

    let ny = "us-ny";
    let ad = kinds(&owed, ny, "ny-gbl396-b-disclosed-ad.toml");
    assert!(ad.contains(&"ny_ad_notice".to_owned()), "{ad:?}");
    let undisclosed = kinds(&owed, ny, "ny-gbl396-b-undisclosed-ad.toml");
    assert!(
        undisclosed.contains(&"ny_ad_notice".to_owned()),
        "{undisclosed:?}"
    );
    let elsewhere = kinds(&owed, ny, "ny-gbl396-b-not-released-in-ny.toml");
    assert!(
        !elsewhere.contains(&"ny_ad_notice".to_owned()),
        "{elsewhere:?}"
    );

    let usco = "usco-registration";
    let registered = kinds(&owed, usco, "usco-registered-work.toml");
    assert!(
        registered.contains(&"usco_exclusions".to_owned()),
        "{registered:?}"
    );
    let unknown = kinds(&owed, usco, "usco-registration-unknown.toml");
    assert!(
        unknown.contains(&"usco_exclusions".to_owned()),
        "{unknown:?}"
    );
    let not = kinds(&owed, usco, "usco-not-registered.toml");
    assert!(!not.contains(&"usco_exclusions".to_owned()), "{not:?}");
    let table = &owed[usco]["usco-registered-work.toml"]
        .iter()
        .find(|d| d.kind == "usco_exclusions")
        .unwrap()
        .items;
    assert!(table.iter().all(|i| !i.human_contribution.is_empty()));

    // Overlays without a disclosure text owe none of theirs.
    for overlay in ["sag-aftra-2023", "wga-2023", "dga-2023", "us-ca", "us-tn"] {
        for (file, list) in &owed[overlay] {
            assert!(
                list.iter().all(|d| d.overlay.is_none()),
                "{overlay} {file}: {list:?}"
            );
        }
    }
}

#[test]
fn every_cited_rule_is_a_rule_of_its_overlay() {
    for (overlay, examples) in owed() {
        let policy = Policy::builtin_stack(&[overlay.as_str()]).unwrap();
        let rules: Vec<&str> = policy.rules().iter().map(|r| r.id.as_str()).collect();
        for list in examples.values() {
            for d in list
                .iter()
                .filter(|d| d.overlay.as_deref() == Some(overlay.as_str()))
            {
                for cite in d
                    .cites
                    .iter()
                    .filter(|c| c.chars().any(|ch| ch.is_ascii_lowercase()))
                {
                    assert!(
                        rules.contains(&cite.as_str()),
                        "{overlay}: `{cite}` is not one of its rules"
                    );
                }
            }
        }
    }
}
