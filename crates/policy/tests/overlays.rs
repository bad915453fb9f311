//! The overlay packs of `policies/`: each loads on the default pack with no
//! diagnostic, names every layer, and says when it is applied outside its
//! dates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::path::{Path, PathBuf};

use greenlight_core::{Declaration, Level, SourceFormat};
use greenlight_policy::{OUT_OF_DATES_RULE, PackDate, Policy};

const OVERLAYS: &[&str] = &[
    "sag-aftra-2023",
    "wga-2023",
    "dga-2023",
    "us-ca",
    "us-ny",
    "us-tn",
    "eu-ai-act-art50",
    "usco-registration",
];

fn pack(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies")
        .join(format!("{name}.toml"))
}

const DECLARATION: &str = r#"
title = "t"
production = "p"
production_kind = "scripted"
stage = "production"
purpose = "vfx"
"#;

#[test]
fn every_overlay_loads_without_diagnostics_on_the_default_pack() {
    for name in OVERLAYS {
        let path = pack(name);
        let policy = match Policy::load(&[&path]) {
            Ok(policy) => policy,
            Err(errors) => panic!("{name}: {errors:?}"),
        };
        let layers = policy.layers();
        assert_eq!(layers.len(), 2, "{name}");
        assert_eq!(layers[0].reference.id, "netflix-2025");
        assert_eq!(layers[1].reference.id, *name);
        assert!(!layers[1].source_ref.is_empty(), "{name} names no source");
        assert!(
            layers[1].effective.is_some(),
            "{name} has no effective date"
        );
        // Every rule of the overlay cites one of the overlay's own ids.
        let base = Policy::builtin();
        let ids: Vec<&str> = policy
            .entries()
            .keys()
            .filter(|id| !base.entries().contains_key(*id))
            .map(String::as_str)
            .collect();
        assert!(!ids.is_empty(), "{name} defines no ids");
        for rule in policy.rules().iter().filter(|r| r.pack == *name) {
            assert!(
                rule.cites.iter().any(|c| ids.contains(&c.as_str())),
                "{name}: rule {} cites none of the overlay's ids",
                rule.id
            );
        }
    }
}

#[test]
fn all_overlays_stack_together_and_every_layer_is_named() {
    let paths: Vec<PathBuf> = OVERLAYS.iter().map(|n| pack(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let policy = Policy::load(&refs).unwrap();
    let declaration = Declaration::parse(DECLARATION, SourceFormat::Toml).unwrap();
    let decision = policy.assess(&declaration).unwrap();
    let names: Vec<&str> = decision
        .policy
        .layers
        .iter()
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(names[0], "netflix-2025");
    for name in OVERLAYS {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    for layer in &decision.policy.layers {
        assert_eq!(layer.sha256.len(), 64);
        assert!(!layer.version.is_empty());
    }
}

#[test]
fn a_pack_applied_outside_its_dates_says_so() {
    let policy = Policy::load(&[&pack("sag-aftra-2023")]).unwrap();
    let declaration = Declaration::parse(DECLARATION, SourceFormat::Toml).unwrap();
    let notice = |day: &str| {
        let day: PackDate = day.parse().unwrap();
        let decision = policy.assess_on(&declaration, day).unwrap();
        decision
            .findings
            .into_iter()
            .find(|f| f.rule == OUT_OF_DATES_RULE)
    };
    let inside = notice("2025-03-01");
    assert!(inside.is_none(), "{inside:?}");
    let after = notice("2026-12-02").expect("an expired pack says so");
    assert_eq!(after.level, Level::Notify);
    assert_eq!(after.cites, ["sag-aftra-2023"]);
    assert!(
        after.reason.contains("expired on 2026-06-30"),
        "{}",
        after.reason
    );
    assert!(after.reason.contains("2026-12-02"));
    assert_eq!(after.facts["expires"], "2026-06-30");
    let before = notice("2023-01-01").expect("a pack not yet in force says so");
    assert!(
        before.reason.contains("takes effect on 2023-11-09"),
        "{}",
        before.reason
    );
    // The last day in force is inside.
    assert!(notice("2026-06-30").is_none());
    assert!(notice("2023-11-09").is_none());
    // Without a day, no notice: the same decision as before.
    let plain = policy.assess(&declaration).unwrap();
    assert!(plain.findings.iter().all(|f| f.rule != OUT_OF_DATES_RULE));
}

#[test]
fn the_built_in_overlays_are_the_files_and_stack_by_id() {
    for (id, text) in greenlight_policy::BUILTIN_OVERLAYS {
        assert_eq!(*text, std::fs::read_to_string(pack(id)).unwrap(), "{id}");
    }
    let policy = Policy::builtin_stack(&["sag-aftra-2023", "us-ny"]).unwrap();
    let from_files = Policy::load(&[&pack("sag-aftra-2023"), &pack("us-ny")]).unwrap();
    assert_eq!(policy.reference(), from_files.reference());
    assert_eq!(
        Policy::builtin_stack(&[]).unwrap().reference(),
        Policy::builtin().reference()
    );
    let errors = Policy::builtin_stack(&["us-nyc"]).unwrap_err();
    assert!(errors.diagnostics[0].message.contains("`us-nyc`"));
    assert_eq!(
        errors.diagnostics[0].help.as_deref(),
        Some("did you mean `us-ny`?")
    );
}
