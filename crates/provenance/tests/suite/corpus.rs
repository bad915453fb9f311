//! The corpus suite: every file in `../shared/corpus/c2pa-rs` (relative to the repository
//! root) is scanned with verification on and checked against the first matching rule of its
//! `EXPECTED.toml`. Skipped, with a printed message, when the corpus is not there.

use greenlight_provenance::{FileReport, Kind, ScanOptions, Scanner, Verdict};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/c2pa-rs")
}

#[derive(serde::Deserialize)]
struct Expected {
    rules: Vec<Rule>,
}

#[derive(serde::Deserialize)]
struct Rule {
    path: String,
    class: String,
    verdict: Option<String>,
    integrity: Option<String>,
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

fn check(rule: &Rule, r: &FileReport) -> Vec<String> {
    let mut problems = Vec::new();
    let class_ok = match rule.class.as_str() {
        "ai" => r.verdict.is_ai(),
        "clean" => r.verdict == Verdict::NoAiEvidence,
        "any" => true,
        other => {
            problems.push(format!("unknown class `{other}`"));
            true
        }
    };
    if !class_ok {
        problems.push(format!(
            "class {} but verdict {}",
            rule.class,
            r.verdict.name()
        ));
    }
    if let Some(v) = &rule.verdict
        && r.verdict.name() != v
    {
        problems.push(format!("verdict {v} expected, got {}", r.verdict.name()));
    }
    if let Some(want) = &rule.integrity {
        let got = serde_json::to_value(r.c2pa.integrity)
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string();
        if &got != want {
            problems.push(format!(
                "integrity {want} expected, got {got} ({:?})",
                r.c2pa.error
            ));
        }
    }
    problems
}

#[test]
fn corpus_meets_expected_toml() {
    let dir = corpus_dir();
    let Ok(text) = std::fs::read_to_string(dir.join("EXPECTED.toml")) else {
        println!(
            "SKIPPED corpus suite: no corpus at {} (it is there in CI)",
            dir.display()
        );
        return;
    };
    let expected: Expected = toml::from_str(&text).expect("EXPECTED.toml parses");
    let scanner = Scanner::new(ScanOptions {
        verify: true,
        ..ScanOptions::default()
    })
    .expect("scanner");
    let mut reports = BTreeMap::new();
    scanner.scan_tree(std::slice::from_ref(&dir), |r| {
        let name = PathBuf::from(&r.path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        reports.insert(name, r);
    });
    reports.remove("EXPECTED.toml");
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
        .count();
    assert_eq!(reports.len(), on_disk - 1, "every file gets a report");

    // rule index -> (files matched, problems)
    let mut per_rule: Vec<(usize, Vec<String>)> =
        expected.rules.iter().map(|_| (0, Vec::new())).collect();
    for (name, r) in &reports {
        let Some(i) = expected
            .rules
            .iter()
            .position(|rule| glob(&rule.path, name))
        else {
            per_rule.push((1, vec![format!("{name}: no rule matches")]));
            continue;
        };
        per_rule[i].0 += 1;
        for p in check(&expected.rules[i], r) {
            per_rule[i].1.push(format!("{name}: {p}"));
        }
    }
    let mut failed = Vec::new();
    for (i, (matched, problems)) in per_rule.iter().enumerate() {
        let rule = expected.rules.get(i);
        if let Some(rule) = rule
            && *matched == 0
            && !rule.path.contains('*')
        {
            failed.push(format!("rule `{}` matched no file", rule.path));
        }
        failed.extend(problems.iter().cloned());
    }
    let rules_ok = per_rule
        .iter()
        .zip(&expected.rules)
        .filter(|((m, p), rule)| p.is_empty() && (*m > 0 || rule.path.contains('*')))
        .count();
    println!(
        "corpus: {rules_ok}/{} EXPECTED.toml rules hold over {} files",
        expected.rules.len(),
        reports.len(),
    );
    for (name, r) in &reports {
        println!(
            "  {name}: {} {} c2pa={:?}",
            r.format.unwrap_or("-"),
            r.verdict.name(),
            r.c2pa.integrity
        );
    }
    assert!(
        failed.is_empty(),
        "corpus rules failed:\n{}",
        failed.join("\n")
    );
}

#[test]
fn glob_matches_like_expected_toml_means() {
    assert!(glob("*", "a.jpg"));
    assert!(glob("*.c2pa", "x.c2pa"));
    assert!(!glob("*.c2pa", "x.c2pa.jpg"));
    assert!(glob("ocsp.jpg", "ocsp.jpg"));
    assert!(!glob("ocsp.jpg", "ocsp_with_assertion.jpg"));
}

/// Context items for ambiguous manifests and ingredients of unknown provenance, on real files:
/// one item per manifest, the verdict untouched.
#[test]
fn corpus_ambiguity_and_unknown_provenance() {
    let dir = corpus_dir();
    if !dir.join("EXPECTED.toml").exists() {
        println!(
            "SKIPPED corpus context checks: no corpus at {}",
            dir.display()
        );
        return;
    }
    let scanner = Scanner::new(ScanOptions::default()).expect("scanner");
    let scan = |name: &str| scanner.scan_file(&dir.join(name));
    let of = |r: &FileReport, kind: Kind| -> Vec<(String, String)> {
        r.evidence
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| (e.source.clone(), e.detail.clone()))
            .collect()
    };

    // Photoshop + Firefly: both manifests leave allActionsIncluded unset; still ai_edited
    let r = scan("ocsp.jpg");
    assert_eq!(r.verdict, Verdict::AiEdited);
    let a = of(&r, Kind::C2paAmbiguous);
    assert_eq!(a.len(), 2, "one item per manifest: {a:?}");
    assert!(a.iter().any(|(s, _)| s == "active manifest"), "{a:?}");
    assert!(
        a.iter()
            .all(|(_, d)| d.ends_with(": allActionsIncluded is not true")),
        "{a:?}"
    );

    // a v2 claim whose created actions assertion says allActionsIncluded: not ambiguous
    let r = scan("C_with_CAWG_data.jpg");
    assert!(of(&r, Kind::C2paAmbiguous).is_empty(), "{:?}", r.evidence);

    // a manifest without actions
    let r = scan("dashinit.mp4");
    assert_eq!(
        of(&r, Kind::C2paAmbiguous),
        [(
            "active manifest".to_string(),
            "manifest `contoso:urn:uuid:FA0E000D-FA0E-000D-FA0E-000DFA0E000D`: no actions"
                .to_string()
        )]
    );

    // ingredients without a manifest, and one whose manifest label was tampered with
    let r = scan("CA.jpg");
    assert_eq!(r.verdict, Verdict::NoAiEvidence);
    assert_eq!(
        of(&r, Kind::C2paIngredientUnknownProvenance),
        [(
            "active manifest".to_string(),
            "ingredient `A.jpg` (parentOf) has no manifest: provenance unknown".to_string()
        )]
    );
    let r = scan("adobe-20220124-E-clm-CAICAI.jpg");
    assert!(
        of(&r, Kind::C2paIngredientUnknownProvenance)
            .iter()
            .any(|(s, d)| s == "active manifest"
                && d.starts_with(
                    "ingredient `CAI.jpg` (componentOf) names manifest `contentbeef:"
                )
                && d.ends_with("which is not in the store: provenance unknown")),
        "{:?}",
        r.evidence
    );
    let r = scan("verify.jpeg");
    assert_eq!(of(&r, Kind::C2paIngredientUnknownProvenance).len(), 3);

    // files without C2PA get neither
    let r = scan("IMG_0003.jpg");
    assert!(r.evidence.is_empty(), "{:?}", r.evidence);
}
