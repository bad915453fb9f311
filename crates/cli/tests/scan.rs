//! `greenlight scan` as a user runs it: the real binary over files made here (a PNG with
//! AUTOMATIC1111 parameters, a JPEG with an IPTC digital source type in XMP, a plain PNG, an
//! unreadable file, a nested directory), then over the shared C2PA corpus when it is present.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::SystemTime;

use serde_json::Value;

mod support;
use support::ledger::root;
use support::media::{A1111, jpeg, png, xmp_digital_source_type};
use support::special::fifo;

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "greenlight-cli-scan-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
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

/// Runs the binary in `dir`. Run as root, it drops to `nobody` so that file permissions
/// apply to it as they do to a user (root reads a mode-000 file).
fn greenlight_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenlight"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    if std::fs::metadata(dir).unwrap().uid() == 0 {
        cmd.uid(65534).gid(65534);
    }
    cmd.output().expect("greenlight runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// The tree the tests scan:
/// ```text
/// deliverables/
///   a1111.png                  PNG, tEXt parameters          -> ai_generated
///   plain.png                  PNG, nothing                  -> no_ai_evidence
///   notes.txt                  text                          -> unsupported
///   locked.png                 mode 000                      -> error
///   VFX/ep103/sh0420/firefly.jpg  JPEG, XMP trainedAlgorithmicMedia -> ai_generated
///   VFX/ep103/sh0420/plate.jpg    JPEG, XMP digitalCapture          -> no_ai_evidence
/// ```
struct Tree {
    dir: TempDir,
    files: Vec<(PathBuf, Vec<u8>, SystemTime)>,
}

impl Tree {
    fn new(tag: &str) -> Self {
        let dir = TempDir::new(tag);
        let base = dir.path().join("deliverables");
        let nested = base.join("VFX/ep103/sh0420");
        std::fs::create_dir_all(&nested).unwrap();
        for d in [&base, &base.join("VFX"), &base.join("VFX/ep103"), &nested] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let entries: Vec<(PathBuf, Vec<u8>, u32)> = vec![
            (base.join("a1111.png"), png(&[("parameters", A1111)]), 0o644),
            (base.join("plain.png"), png(&[("Title", "plate")]), 0o644),
            (
                base.join("notes.txt"),
                b"call sheet, day 3\n".to_vec(),
                0o644,
            ),
            (base.join("locked.png"), png(&[]), 0o000),
            (
                nested.join("firefly.jpg"),
                jpeg(&[xmp_digital_source_type("trainedAlgorithmicMedia")]),
                0o644,
            ),
            (
                nested.join("plate.jpg"),
                jpeg(&[xmp_digital_source_type("digitalCapture")]),
                0o644,
            ),
        ];
        let mut files = Vec::new();
        for (path, bytes, mode) in entries {
            std::fs::write(&path, &bytes).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
            files.push((path, bytes, mtime));
        }
        Self { dir, files }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Every file has the bytes and modification time it had before the scan.
    fn assert_untouched(&self) {
        for (path, bytes, mtime) in &self.files {
            let meta = std::fs::metadata(path).unwrap();
            assert_eq!(
                meta.modified().unwrap(),
                *mtime,
                "{} modified",
                path.display()
            );
            if meta.mode() & 0o444 != 0 {
                assert_eq!(
                    &std::fs::read(path).unwrap(),
                    bytes,
                    "{} changed",
                    path.display()
                );
            } else {
                assert_eq!(meta.len(), bytes.len() as u64, "{} changed", path.display());
            }
        }
    }
}

/// Parses NDJSON into objects keyed by path.
fn ndjson(text: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        let path = v["path"].as_str().expect("path is a string").to_string();
        assert!(
            out.insert(path.clone(), v).is_none(),
            "{path} reported twice"
        );
    }
    out
}

fn kinds(v: &Value) -> Vec<&str> {
    v["evidence"]
        .as_array()
        .expect("evidence is a list")
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn json_gives_one_object_per_file_with_verdict_format_and_evidence() {
    let tree = Tree::new("json");
    let out = greenlight_in(tree.path(), &["scan", "deliverables", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let reports = ndjson(&stdout(&out));
    let paths: Vec<&str> = reports.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "deliverables/VFX/ep103/sh0420/firefly.jpg",
            "deliverables/VFX/ep103/sh0420/plate.jpg",
            "deliverables/a1111.png",
            "deliverables/locked.png",
            "deliverables/notes.txt",
            "deliverables/plain.png",
        ]
    );
    let get = |p: &str| &reports[&format!("deliverables/{p}")];

    let a1111 = get("a1111.png");
    assert_eq!(a1111["format"], "png");
    assert_eq!(a1111["verdict"], "ai_generated");
    assert_eq!(kinds(a1111), ["generator_metadata"]);
    let detail = a1111["evidence"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("parameters"), "{detail}");
    assert_eq!(a1111["c2pa"]["present"], false);

    let firefly = get("VFX/ep103/sh0420/firefly.jpg");
    assert_eq!(firefly["format"], "jpeg");
    assert_eq!(firefly["verdict"], "ai_generated");
    assert_eq!(kinds(firefly), ["iptc_digital_source_type"]);
    assert_eq!(firefly["evidence"][0]["strength"], "strong");
    assert!(
        firefly["evidence"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("trainedAlgorithmicMedia")
    );

    let plate = get("VFX/ep103/sh0420/plate.jpg");
    assert_eq!(plate["verdict"], "no_ai_evidence");
    let plain = get("plain.png");
    assert_eq!(plain["format"], "png");
    assert_eq!(plain["verdict"], "no_ai_evidence");
    assert!(kinds(plain).is_empty());

    let notes = get("notes.txt");
    assert_eq!(notes["verdict"], "unsupported");
    assert_eq!(notes["format"], Value::Null);

    let locked = get("locked.png");
    assert_eq!(locked["verdict"], "error");
    let message = locked["error"].as_str().unwrap();
    assert!(message.contains("ermission denied"), "{message}");

    for v in reports.values() {
        for key in [
            "path",
            "format",
            "verdict",
            "evidence",
            "c2pa",
            "bytes_read",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
    }
    tree.assert_untouched();
}

#[test]
fn text_lists_flagged_files_then_a_summary() {
    let tree = Tree::new("text");
    let out = greenlight_in(tree.path(), &["scan", "deliverables"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in\n{text}"))
    };
    let a1111 = line("deliverables/a1111.png");
    assert!(a1111.starts_with("ai_generated"), "{a1111}");
    assert!(a1111.contains("png"), "{a1111}");
    assert!(a1111.contains("Stable Diffusion web UI"), "{a1111}");
    let firefly = line("firefly.jpg");
    assert!(firefly.starts_with("ai_generated"), "{firefly}");
    assert!(firefly.contains("trainedAlgorithmicMedia"), "{firefly}");
    let locked = line("locked.png");
    assert!(locked.starts_with("error"), "{locked}");
    assert!(locked.contains("ermission denied"), "{locked}");
    // files with nothing to say are only counted
    assert!(!text.contains("plain.png"), "{text}");
    assert!(!text.contains("plate.jpg"), "{text}");
    assert!(!text.contains("notes.txt"), "{text}");

    assert!(text.contains("Scanned 6 files in "), "{text}");
    let row = |name: &str| -> Vec<String> {
        line(&format!("  {name} "))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row("ai_generated")[..2], ["ai_generated", "2"]);
    assert_eq!(row("ai_edited")[..2], ["ai_edited", "0"]);
    assert_eq!(row("no_ai_evidence")[..2], ["no_ai_evidence", "2"]);
    assert_eq!(row("unsupported")[..2], ["unsupported", "1"]);
    // the verdict and format columns share rows; unreadable and unknown files have no format
    assert_eq!(row("ai_generated")[2..], ["jpeg", "2"]);
    assert_eq!(row("ai_edited")[2..], ["png", "2"]);
    assert_eq!(row("ai_possible")[2..], ["(unknown)", "2"]);
    assert_eq!(line("  errors").split_whitespace().last(), Some("1"));
    assert!(
        line("  bytes read")
            .split_whitespace()
            .last()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(line("  elapsed").ends_with(" s"));
    // not a terminal: no progress line
    assert_eq!(stderr(&out), "");

    let all = greenlight_in(tree.path(), &["scan", "deliverables", "--all"]);
    let all = stdout(&all);
    for name in ["plain.png", "plate.jpg", "notes.txt"] {
        assert!(all.contains(name), "--all lists {name}:\n{all}");
    }
    tree.assert_untouched();
}

#[test]
fn several_paths_single_files_and_symlinks() {
    let tree = Tree::new("paths");
    std::os::unix::fs::symlink("a1111.png", tree.path().join("deliverables/link.png")).unwrap();
    let out = greenlight_in(
        tree.path(),
        &[
            "scan",
            "deliverables/plain.png",
            "deliverables/VFX",
            "--format",
            "json",
            "--jobs",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let reports = ndjson(&stdout(&out));
    assert_eq!(reports.len(), 3, "{reports:?}");
    assert!(reports.contains_key("deliverables/plain.png"));

    let skipped = greenlight_in(tree.path(), &["scan", "deliverables"]);
    let text = stdout(&skipped);
    let links = text
        .lines()
        .find(|l| l.contains("symbolic links skipped"))
        .unwrap();
    assert!(links.ends_with(" 1"), "{links}");
    let followed = greenlight_in(
        tree.path(),
        &[
            "scan",
            "deliverables",
            "--follow-symlinks",
            "--format",
            "json",
        ],
    );
    let reports = ndjson(&stdout(&followed));
    assert_eq!(reports["deliverables/link.png"]["verdict"], "ai_generated");
    tree.assert_untouched();
}

#[test]
fn a_missing_path_exits_1_after_scanning_the_others() {
    let tree = Tree::new("missing");
    let out = greenlight_in(
        tree.path(),
        &[
            "scan",
            "deliverables/VFX",
            "no-such-dir",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error: cannot read `no-such-dir`"), "{err}");
    assert_eq!(ndjson(&stdout(&out)).len(), 2);

    let text = greenlight_in(tree.path(), &["scan", "deliverables/VFX", "nothing-here"]);
    assert_eq!(text.status.code(), Some(1));
    assert!(
        stdout(&text).contains("Scanned 2 files"),
        "{}",
        stdout(&text)
    );
    let row = stdout(&text)
        .lines()
        .find(|l| l.contains("paths not read"))
        .map(str::to_string);
    assert!(row.is_some_and(|r| r.ends_with(" 1")), "{}", stdout(&text));

    // nothing to scan: the error alone, no empty summary
    let none = greenlight_in(tree.path(), &["scan", "nothing-here"]);
    assert_eq!(none.status.code(), Some(1));
    assert_eq!(stdout(&none), "");
    assert!(stderr(&none).contains("cannot read `nothing-here`"));
}

#[test]
fn usage_errors_exit_2() {
    let tree = Tree::new("usage");
    for args in [
        &["scan"][..],
        &["scan", "deliverables", "--format", "yaml"],
        &["scan", "deliverables", "--jobs", "0"],
        &["scan", "deliverables", "--max-bytes", "12X"],
        &["scan", "deliverables", "--trust-list", "roots.pem"],
    ] {
        let out = greenlight_in(tree.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = greenlight_in(
        tree.path(),
        &[
            "scan",
            "deliverables",
            "--verify",
            "--trust-list",
            "roots.pem",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read trust list `roots.pem`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_closed_pipe_ends_the_scan_quietly() {
    let tree = Tree::new("pipe");
    let base = tree.path().join("deliverables/many");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bytes = png(&[("parameters", A1111)]);
    for i in 0..3000 {
        let p = base.join(format!("f{i:04}.png"));
        std::fs::write(&p, &bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenlight"));
    cmd.args(["scan", "deliverables", "--format", "json"])
        .current_dir(tree.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // read one line, then hang up, as `| head -1` does
    let mut stdout = child.stdout.take().unwrap();
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while std::io::Read::read(&mut stdout, &mut byte).unwrap() == 1 && byte[0] != b'\n' {
        first.push(byte[0]);
    }
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let v: Value = serde_json::from_slice(&first).unwrap();
    assert!(v["path"].as_str().unwrap().starts_with("deliverables/"));
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => name.strip_prefix(head).is_some_and(|tail| {
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob(rest, &tail[i..]))
        }),
    }
}

#[test]
fn the_shared_corpus_scans_as_expected_toml_says() {
    let dir = root().join("../shared/corpus/c2pa-rs");
    let Ok(expected) = std::fs::read_to_string(dir.join("EXPECTED.toml")) else {
        println!(
            "SKIPPED corpus scan: no corpus at {} (it is there in CI)",
            dir.display()
        );
        return;
    };
    let expected: toml::Table = toml::from_str(&expected).unwrap();
    let rules = expected["rules"].as_array().unwrap();
    let before: Vec<(PathBuf, u64, SystemTime)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let m = e.metadata().unwrap();
            (e.path(), m.len(), m.modified().unwrap())
        })
        .collect();

    let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .args(["scan", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let reports = ndjson(&stdout(&out));
    assert_eq!(reports.len(), before.len(), "one line per file");
    let mut problems = Vec::new();
    let mut ai = 0;
    for (path, v) in &reports {
        let name = Path::new(path).file_name().unwrap().to_str().unwrap();
        if name == "EXPECTED.toml" {
            continue;
        }
        let rule = rules
            .iter()
            .find(|r| glob(r["path"].as_str().unwrap(), name))
            .unwrap_or_else(|| panic!("no rule for {name}"));
        let verdict = v["verdict"].as_str().unwrap();
        let ok = match rule["class"].as_str().unwrap() {
            "ai" => matches!(verdict, "ai_generated" | "ai_edited"),
            "clean" => verdict == "no_ai_evidence",
            _ => true,
        };
        ai += usize::from(matches!(verdict, "ai_generated" | "ai_edited"));
        if !ok {
            problems.push(format!("{name}: class {} but {verdict}", rule["class"]));
        }
        if let Some(want) = rule.get("verdict").and_then(|w| w.as_str())
            && want != verdict
        {
            problems.push(format!("{name}: verdict {want} expected, got {verdict}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(ai >= 2, "ocsp.jpg and express-signed.pdf are AI-edited");

    let text = Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .args(["scan"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(0));
    let text = stdout(&text);
    assert!(
        text.contains(&format!("Scanned {} files", before.len())),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("ocsp.jpg") && l.starts_with("ai_edited")),
        "{text}"
    );
    println!(
        "corpus: {} files scanned through the binary, {ai} flagged as AI",
        reports.len()
    );

    for (path, len, mtime) in before {
        let m = std::fs::metadata(&path).unwrap();
        assert_eq!(
            (m.len(), m.modified().unwrap()),
            (len, mtime),
            "{}",
            path.display()
        );
    }
}

#[test]
fn devices_and_fifos_are_reported_as_skipped_and_never_opened() {
    let dir = TempDir::new("special");
    std::fs::create_dir(dir.path().join("tree")).unwrap();
    std::fs::write(
        dir.path().join("tree/a1111.png"),
        png(&[("parameters", A1111)]),
    )
    .unwrap();
    fifo(&dir.path().join("tree/pipe"));
    fifo(&dir.path().join("pipe"));

    let out = greenlight_in(
        dir.path(),
        &["scan", "--format", "json", "/dev/zero", "pipe", "tree"],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let reports = ndjson(&stdout(&out));
    assert_eq!(reports.len(), 4, "{reports:?}");
    for (path, kind) in [
        ("/dev/zero", "character device"),
        ("pipe", "FIFO"),
        ("tree/pipe", "FIFO"),
    ] {
        let r = &reports[path];
        assert_eq!(r["verdict"], "skipped", "{r}");
        assert_eq!(r["format"], Value::Null, "{r}");
        assert_eq!(r["bytes_read"], 0, "{r}");
        assert_eq!(
            r["notes"],
            serde_json::json!([format!("not a regular file: {kind}, not opened")]),
            "{r}"
        );
    }
    assert_eq!(reports["tree/a1111.png"]["verdict"], "ai_generated");

    let out = greenlight_in(dir.path(), &["scan", "/dev/zero", "pipe"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in\n{text}"))
            .to_string()
    };
    let zero = line("/dev/zero");
    assert!(zero.starts_with("skipped"), "{zero}");
    assert!(
        zero.contains("not a regular file: character device, not opened"),
        "{zero}"
    );
    assert!(line(" pipe").contains("not a regular file: FIFO"), "{text}");
    assert!(text.contains("Scanned 2 files in "), "{text}");
    let skipped: Vec<String> = line("  skipped ")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(skipped[..2], ["skipped", "2"], "{text}");
}
