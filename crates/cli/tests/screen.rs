//! `greenlight screen` and `greenlight scan --screen` as a user runs them: the real binary over
//! the screen crate's test scripts and prompt log, standard input, a declaration, a PNG with
//! AUTOMATIC1111 parameters, and a real SQLite ledger's performers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

mod support;
use support::ledger::{Run, bare, finish, root};
use support::media::png;

fn data(name: &str) -> String {
    root()
        .join("crates/screen/tests/data")
        .join(name)
        .display()
        .to_string()
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "greenlight-cli-screen-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn screen(args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = bare();
    cmd.env_remove("GREENLIGHT_WATCHLISTS")
        .env("HOME", std::env::temp_dir().join("greenlight-no-home"))
        .env_remove("XDG_CONFIG_HOME")
        .arg("screen")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    run(cmd, stdin)
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Run {
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    finish(child.wait_with_output().unwrap())
}

#[test]
fn scripts_and_prompt_logs_in_text() {
    let (toml, csv) = (data("watchlist.toml"), data("watchlist.csv"));
    let (fountain, jsonl, fdx) = (
        data("station.fountain"),
        data("prompts.jsonl"),
        data("station.fdx"),
    );
    let r = screen(
        &[
            "--watchlist",
            &toml,
            "--watchlist",
            &csv,
            &fountain,
            &fdx,
            &jsonl,
        ],
        None,
    )
    .expect(1, "two lines of the prompt log cannot be read");
    assert!(
        r.stdout.contains(&format!(
            "{fountain}:11:17: escalate Greta Rasmussen (living_artist) \"Greta Rasmussen\""
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("common word, matched case-sensitively"));
    assert!(r.stdout.contains("13 hits in 3 files"), "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!("{jsonl}:3: not a JSON object")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("{jsonl}:4: no prompt on this line"))
    );
}

#[test]
fn standard_input_in_json() {
    let toml = data("watchlist.toml");
    let r = screen(
        &["--watchlist", &toml, "--format", "json", "-"],
        Some("a portrait of JONAS MÜLLER-STRAUSS\nby Marlon Okafor’s estate\n"),
    )
    .expect(3, "hits escalate");
    let lines = r.json_lines();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["entry"], "Jonas Müller-Strauß");
    assert_eq!(lines[0]["file"], "-");
    assert_eq!(lines[0]["rule"]["cites"], serde_json::json!(["C2b", "C3a"]));
    assert_eq!(lines[1]["text"], "Marlon Okafor’s");
    assert_eq!(
        (lines[1]["line"].as_u64(), lines[1]["column"].as_u64()),
        (Some(2), Some(4))
    );
    assert_eq!(lines[1]["category"], "deceased_personality");
}

#[test]
fn nothing_found_exits_0_and_no_watchlist_is_an_error() {
    let toml = data("watchlist.toml");
    screen(&["--watchlist", &toml, "-"], Some("an apple on a table\n")).expect(0, "nothing");
    let r = screen(&["-"], Some("x")).expect(1, "no watchlist");
    assert!(r.stderr.contains("no watchlist entries"), "{}", r.stderr);
}

#[test]
fn default_watchlist_directory() {
    let dir = TempDir::new("default");
    std::fs::copy(data("watchlist.csv"), dir.path().join("brands.csv")).unwrap();
    let mut cmd = bare();
    cmd.env("GREENLIGHT_WATCHLISTS", dir.path())
        .args(["screen", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let r = run(cmd, Some("Zorblax's new plant")).expect(3, "hit");
    assert!(
        r.stdout.contains("Zorblax Industries (brand)"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_bad_watchlist_names_file_line_field() {
    let dir = TempDir::new("bad");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[entry]]\nname = \"X Y\"\ncategory = \"villain\"\n").unwrap();
    let r = screen(&["--watchlist", bad.to_str().unwrap(), "-"], Some("x")).expect(1, "bad list");
    assert!(
        r.stderr.contains(&format!(
            "{}:3: `category`: unknown category `villain`",
            bad.display()
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn declaration_references_are_filled_and_triaged_again() {
    let dir = TempDir::new("declaration");
    let example = std::fs::read_to_string(root().join("examples/body-mockup-exploration.toml"))
        .unwrap()
        .replace("permission = \"yes\"", "permission = \"no\"");
    let declaration = dir.path().join("use.toml");
    std::fs::write(&declaration, example).unwrap();
    let toml = data("watchlist.toml");
    let r = screen(
        &[
            "--watchlist",
            &toml,
            "--declaration",
            declaration.to_str().unwrap(),
            "--format",
            "json",
            "-",
        ],
        Some("silhouettes in the style of Greta Rasmussen, Amélie Poulain pose"),
    )
    .expect(3, "the references escalate");
    let lines = r.json_lines();
    let last: &Value = lines.last().unwrap();
    assert_eq!(
        last["references"]["artists"],
        serde_json::json!(["Greta Rasmussen"])
    );
    assert_eq!(
        last["references"]["copyrighted_works"],
        serde_json::json!(["Amélie Poulain"])
    );
    assert_eq!(last["decision"]["level"], "escalate");
    let rules: Vec<&str> = last["decision"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"reference-artist"), "{rules:?}");
}

#[test]
fn performers_without_consent_from_the_ledger() {
    let dir = TempDir::new("ledger");
    let db = dir.path().join("ledger.sqlite3").display().to_string();
    let key = dir.path().join("audit.key").display().to_string();
    let ledger = |args: &[&str]| {
        let mut cmd = bare();
        cmd.args(["--db", &db, "--audit-key", &key, "--as", "ana"])
            .args(args);
        finish(cmd.output().unwrap())
    };
    ledger(&[
        "production",
        "create",
        "The Long Night",
        "--contact",
        "dana@studio.example",
    ])
    .expect(0, "production");
    ledger(&["performer", "register", "Dana Whitcombe"]).expect(0, "performer");
    let csv = data("watchlist.csv");
    let mut cmd = bare();
    cmd.args([
        "--db",
        &db,
        "--audit-key",
        &key,
        "screen",
        "--production",
        "The Long Night",
    ])
    .args(["--watchlist", &csv, "--format", "json", "-"])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let r = run(cmd, Some("a voice clone of dana whitcombe")).expect(4, "blocked");
    let hit = &r.json_lines()[0];
    assert_eq!(hit["category"], "performer");
    assert_eq!(hit["rule"]["id"], "screen-performer-without-consent");
    assert_eq!(hit["rule"]["level"], "blocked");
}

#[test]
fn scan_screen_finds_names_in_generator_prompts() {
    let dir = TempDir::new("scan");
    let parameters = "portrait of a sailor, in the style of Greta Rasmussen\nNegative prompt: Apple\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512";
    std::fs::write(
        dir.path().join("out.png"),
        png(&[("parameters", parameters)]),
    )
    .unwrap();
    std::fs::write(dir.path().join("plain.png"), png(&[])).unwrap();
    let toml = data("watchlist.toml");
    let mut cmd = bare();
    cmd.args(["scan", "--screen", "--watchlist", &toml, "--format", "json"])
        .arg(dir.path());
    let r = finish(cmd.output().unwrap()).expect(0, "the scan ran");
    let lines = r.json_lines();
    let out = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with("out.png"))
        .unwrap();
    let hits = out["screen"].as_array().unwrap();
    assert_eq!(
        hits.len(),
        1,
        "the negative prompt is not screened: {hits:?}"
    );
    assert_eq!(hits[0]["entry"], "Greta Rasmussen");
    assert_eq!(hits[0]["rule"]["cites"], serde_json::json!(["C1b", "P1"]));
    let plain = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with("plain.png"))
        .unwrap();
    assert!(plain.get("screen").is_none());

    let mut cmd = bare();
    cmd.args(["scan", "--screen", "--watchlist", &toml])
        .arg(dir.path());
    let r = finish(cmd.output().unwrap()).expect(0, "text");
    assert!(
        r.stdout
            .contains("screen  Greta Rasmussen (living_artist) \"Greta Rasmussen\""),
        "{}",
        r.stdout
    );
}
