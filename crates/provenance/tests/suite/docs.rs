//! The format table in the crate documentation matches the reader registry.

use greenlight_provenance::READERS;
use std::collections::BTreeSet;

#[test]
fn documented_format_table_matches_registry() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    let documented: BTreeSet<(String, String)> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//! |"))
        .map(|row| row.split('|').map(str::trim).collect::<Vec<_>>())
        .filter(|cols| cols.len() >= 2 && cols[0] != "format" && !cols[0].starts_with("---"))
        .map(|cols| (cols[0].to_string(), cols[1].to_string()))
        .collect();
    let registered: BTreeSet<(String, String)> = READERS
        .iter()
        .flat_map(|r| {
            r.formats()
                .iter()
                .map(move |f| (f.name().to_string(), r.name().to_string()))
        })
        .collect();
    assert_eq!(
        documented, registered,
        "the `//!` format table in src/lib.rs and formats::READERS disagree"
    );
}

#[test]
fn every_source_file_starts_with_a_doc_comment() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                assert!(
                    text.starts_with("//!"),
                    "{} does not start with a `//!` doc",
                    p.display()
                );
            }
        }
    }
}
