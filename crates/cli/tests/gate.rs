//! The delivery gate as a post house runs it: `greenlight scan DELIVERABLES --production X
//! --gate` with the real binary, on a real ledger (a SQLite file always, PostgreSQL when
//! `GREENLIGHT_TEST_POSTGRES_URL` is set), over files made here. Approvals are given with
//! `greenlight approve`, scoped by path glob and by content hash; one lapses during the test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use greenlight_store_tests::{Backend, Fixture};
use serde_json::Value;

mod support;
use support::ledger::Cli;
use support::media::{A1111, jpeg, png, xmp_digital_source_type};
use support::special::fifo;

const COORDINATOR: &str = "cam@prod.example";
const REVIEWER: &str = "rae@studio.example";
const QC: &str = "qc@post.example";
const TITLE: &str = "Deepwater Gate (animated series)";
const COMFY: &str = r#"{"3":{"class_type":"KSampler","inputs":{"seed":7,"steps":20}}}"#;

/// The deliverables:
/// ```text
/// posters/key_art.png        A1111 parameters            -> ai_generated
/// posters/alt_art.png        ComfyUI prompt              -> ai_generated
/// VFX/ep103/sh0420_v3.jpg    XMP compositeWithTrained…   -> ai_edited
/// VFX/ep103/sh0430_v1.jpg    XMP composite               -> ai_possible
/// VFX/ep103/plate.jpg        XMP digitalCapture          -> no_ai_evidence
/// docs/notes.txt             text                        -> unsupported
/// ```
fn deliverables(dir: &Path) {
    let write = |rel: &str, bytes: Vec<u8>| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    write("posters/key_art.png", png(&[("parameters", A1111)]));
    write("posters/alt_art.png", png(&[("prompt", COMFY)]));
    write(
        "VFX/ep103/sh0420_v3.jpg",
        jpeg(&[xmp_digital_source_type(
            "compositeWithTrainedAlgorithmicMedia",
        )]),
    );
    write(
        "VFX/ep103/sh0430_v1.jpg",
        jpeg(&[xmp_digital_source_type("composite")]),
    );
    write(
        "VFX/ep103/plate.jpg",
        jpeg(&[xmp_digital_source_type("digitalCapture")]),
    );
    write("docs/notes.txt", b"delivery notes\n".to_vec());
}

/// The scan's NDJSON, by path relative to `dir`.
fn by_path(stdout: &str, dir: &Path) -> BTreeMap<String, Value> {
    let prefix = format!("{}/", dir.display());
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let path = v["path"].as_str().unwrap();
            let rel = path.strip_prefix(&prefix).unwrap_or(path).to_owned();
            (rel, v)
        })
        .collect()
}

fn status(files: &BTreeMap<String, Value>, rel: &str) -> (String, bool) {
    let approval = &files[rel]["approval"];
    assert!(
        approval.is_object(),
        "{rel} has no approval: {}",
        files[rel]
    );
    (
        approval["status"].as_str().unwrap().to_owned(),
        approval["fails_gate"].as_bool().unwrap(),
    )
}

fn rfc3339_in(seconds: u64) -> String {
    let at = SystemTime::now() + Duration::from_secs(seconds);
    let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn story(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let cli = Cli { fixture: &fixture };
    let dir = fixture.key_path.with_file_name("deliverables");
    deliverables(&dir);
    let deliv = dir.to_str().unwrap();
    let reviewer = format!("{REVIEWER}=reviewer=Rae Tan");
    let production = cli.id_of(
        COORDINATOR,
        &[
            "production",
            "create",
            TITLE,
            "--contact",
            "dana@studio.example",
            "--member",
            &reviewer,
        ],
    );

    // Nothing approved yet: every AI file fails the gate, the weak signal is listed only.
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", deliv, "--production", TITLE, "--format", "json"];
        args.extend_from_slice(extra);
        cli.run(QC, &args)
    };
    let run = scan(&["--gate"]).expect(4, "gate before any approval");
    let files = by_path(&run.stdout, &dir);
    assert_eq!(files.len(), 6, "{}", run.stdout);
    for rel in [
        "posters/key_art.png",
        "posters/alt_art.png",
        "VFX/ep103/sh0420_v3.jpg",
    ] {
        assert_eq!(
            status(&files, rel),
            ("unapproved".to_owned(), true),
            "{rel}"
        );
        // No approval names a file by its content: nothing is hashed.
        assert!(files[rel].get("sha256").is_none(), "{}", files[rel]);
    }
    assert_eq!(
        status(&files, "VFX/ep103/sh0430_v1.jpg"),
        ("unapproved".to_owned(), false)
    );
    for rel in ["VFX/ep103/plate.jpg", "docs/notes.txt"] {
        assert!(files[rel].get("approval").is_none(), "{}", files[rel]);
        assert!(files[rel].get("sha256").is_none(), "{}", files[rel]);
    }
    // The same scan without --gate reports the same and exits 0.
    let listed = scan(&[]).expect(0, "no gate");
    assert_eq!(
        status(&by_path(&listed.stdout, &dir), "posters/key_art.png").0,
        "unapproved"
    );

    // Two escalated declarations; the reviewer approves one by glob and content hash, the
    // other by glob with an expiry a few seconds away.
    let declare = |_: u8| {
        let run = cli
            .run(
                COORDINATOR,
                &[
                    "declare",
                    "examples/m3-final-character-design.toml",
                    "--production",
                    &production,
                    "--format",
                    "json",
                ],
            )
            .expect(3, "declare (escalate)");
        run.json()["declaration_id"].as_str().unwrap().to_owned()
    };
    let (first, second) = (declare(1), declare(2));
    let shot = greenlight_store::sha256_hex(&std::fs::read(dir.join("VFX/ep103/sh0420_v3.jpg"))?);
    let hash_scope = format!("sha256:{shot}");
    let approve = |declaration: &str, scopes: &[&str], expires: Option<&str>| {
        let mut args = vec!["approve", declaration, "--format", "json"];
        for scope in scopes {
            args.extend(["--scope", scope]);
        }
        if let Some(end) = expires {
            args.extend(["--expires", end]);
        }
        cli.run(REVIEWER, &args)
    };
    let refused = approve(&first, &["posters/[key"], None).expect(1, "a glob that cannot match");
    assert!(
        refused.stderr.contains("`posters/[key` is not a path glob"),
        "{}",
        refused.stderr
    );
    let key_art = approve(&first, &["posters/key_*.png", &hash_scope], None)
        .expect(0, "approve by glob and hash")
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lapse = rfc3339_in(6);
    let alt_art = approve(&second, &["posters/alt_art.png"], Some(&lapse))
        .expect(0, "approve with expiry")
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let run = scan(&["--gate"]).expect(0, "gate with every AI file approved");
    let files = by_path(&run.stdout, &dir);
    for (rel, approval, declaration) in [
        ("posters/key_art.png", &key_art, &first),
        ("posters/alt_art.png", &alt_art, &second),
        ("VFX/ep103/sh0420_v3.jpg", &key_art, &first),
    ] {
        assert_eq!(status(&files, rel), ("approved".to_owned(), false), "{rel}");
        // An approval now names a file by its content: every flagged file is hashed.
        let bytes = std::fs::read(dir.join(rel))?;
        assert_eq!(
            files[rel]["sha256"].as_str(),
            Some(greenlight_store::sha256_hex(&bytes).as_str()),
            "{rel}"
        );
        assert_eq!(files[rel]["approval"]["approval_id"], approval.as_str());
        assert_eq!(
            files[rel]["approval"]["declaration_id"],
            declaration.as_str()
        );
    }
    assert!(
        files["VFX/ep103/sh0420_v3.jpg"]["approval"]["reason"]
            .as_str()
            .unwrap()
            .contains(&hash_scope)
    );
    // --strict also gates the weak signal, which no approval covers.
    let strict = scan(&["--gate", "--strict"]).expect(4, "strict gate");
    assert_eq!(
        status(&by_path(&strict.stdout, &dir), "VFX/ep103/sh0430_v1.jpg"),
        ("unapproved".to_owned(), true)
    );

    // A hash-scoped file stays approved wherever it is moved; a renamed poster does not.
    std::fs::rename(
        dir.join("VFX/ep103/sh0420_v3.jpg"),
        dir.join("docs/final_shot.jpg"),
    )?;
    std::fs::rename(
        dir.join("posters/key_art.png"),
        dir.join("posters/keyart_final.png"),
    )?;
    let moved = scan(&["--gate"]).expect(4, "a renamed poster");
    let files = by_path(&moved.stdout, &dir);
    assert_eq!(status(&files, "docs/final_shot.jpg").0, "approved");
    assert_eq!(
        status(&files, "posters/keyart_final.png"),
        ("unapproved".to_owned(), true)
    );
    std::fs::rename(
        dir.join("posters/keyart_final.png"),
        dir.join("posters/key_art.png"),
    )?;

    // The expiry passes: the poster's approval has lapsed; the recorded scan says so.
    while rfc3339_in(0) <= lapse {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let text = cli
        .run(
            QC,
            &["scan", deliv, "--production", TITLE, "--gate", "--record"],
        )
        .expect(4, "gate after the expiry, recorded");
    assert!(text.stdout.contains("approval_expired"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("FAILED: 1 AI-flagged file not covered by an approval in force"),
        "{}",
        text.stdout
    );
    let recorded = text
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("recorded as scan "))
        .unwrap_or_else(|| panic!("no record line:\n{}", text.stderr));
    let scan_id = recorded.split(' ').next().unwrap();
    let shown = cli
        .run(REVIEWER, &["scans", "show", scan_id, "--format", "json"])
        .expect(0, "scans show")
        .json();
    assert_eq!(shown["passed"], false);
    assert_eq!(shown["recorded_by"], QC);
    assert_eq!(shown["production_id"], production.as_str());
    assert!(
        shown["scanner"]
            .as_str()
            .unwrap()
            .starts_with("greenlight "),
        "{shown}"
    );
    assert_eq!(shown["counts"]["files"], 6);
    assert_eq!(shown["counts"]["approved"], 2);
    assert_eq!(shown["counts"]["approval_expired"], 1);
    let kept: BTreeMap<String, &Value> = shown["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let rel = path.strip_prefix(&format!("{deliv}/")).unwrap_or(path);
            (rel.to_owned(), f)
        })
        .collect();
    assert_eq!(
        kept.keys().collect::<Vec<_>>(),
        [
            "VFX/ep103/sh0430_v1.jpg",
            "docs/final_shot.jpg",
            "posters/alt_art.png",
            "posters/key_art.png"
        ]
    );
    assert_eq!(kept["posters/alt_art.png"]["status"], "approval_expired");
    assert_eq!(kept["posters/alt_art.png"]["approval_id"], alt_art.as_str());
    assert_eq!(kept["docs/final_shot.jpg"]["sha256"], shot.as_str());
    let listed = cli
        .run(REVIEWER, &["scans", "list", "--production", TITLE])
        .expect(0, "scans list");
    assert!(
        listed.stdout.contains(scan_id) && listed.stdout.contains("failed"),
        "{}",
        listed.stdout
    );
    // The record is an audited entry, and the chain verifies.
    let entries = cli.audit_entries(REVIEWER);
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "scan" && e["record_id"] == scan_id && e["actor"] == QC),
        "no audit entry for the scan"
    );
    cli.run(REVIEWER, &["audit", "verify"])
        .expect(0, "audit verify");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gate_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, story).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gate_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, story).await;
}

/// The gate's mistakes of use: an unknown production, the gate without one.
#[tokio::test(flavor = "multi_thread")]
async fn the_gate_names_what_is_missing() {
    greenlight_store_tests::run(Backend::Sqlite, |fixture| async move {
        let cli = Cli { fixture: &fixture };
        let dir = fixture.key_path.with_file_name("deliverables");
        deliverables(&dir);
        let deliv = dir.to_str().unwrap();
        let unknown = cli
            .run(
                QC,
                &["scan", deliv, "--production", "No Such Show", "--gate"],
            )
            .expect(1, "unknown production");
        assert!(
            unknown
                .stderr
                .contains("no production is titled `No Such Show`"),
            "{}",
            unknown.stderr
        );
        assert!(
            unknown.stdout.is_empty(),
            "nothing scanned: {}",
            unknown.stdout
        );
        let usage = cli
            .run(QC, &["scan", deliv, "--gate"])
            .expect(2, "--gate alone");
        assert!(usage.stderr.contains("--production"), "{}", usage.stderr);
        Ok(())
    })
    .await;
}

/// A FIFO among the deliverables is skipped, never read: a strict gate cannot vouch for it.
#[tokio::test(flavor = "multi_thread")]
async fn a_strict_gate_fails_on_a_path_that_is_not_a_regular_file() {
    greenlight_store_tests::run(Backend::Sqlite, |fixture| async move {
        let cli = Cli { fixture: &fixture };
        let dir = fixture.key_path.with_file_name("deliverables");
        std::fs::create_dir_all(&dir)?;
        let pipe = dir.join("cue.pipe");
        fifo(&pipe);
        let deliv = dir.to_str().unwrap();
        cli.id_of(
            COORDINATOR,
            &[
                "production",
                "create",
                TITLE,
                "--contact",
                "dana@studio.example",
            ],
        );
        let scan = |extra: &[&str]| {
            let mut args = vec!["scan", deliv, "--production", TITLE, "--format", "json"];
            args.extend_from_slice(extra);
            cli.run(QC, &args)
        };
        let lenient = scan(&["--gate"]).expect(0, "gate");
        let files = by_path(&lenient.stdout, &dir);
        assert_eq!(files["cue.pipe"]["verdict"], "skipped", "{files:?}");
        assert!(files["cue.pipe"].get("approval").is_none(), "{files:?}");
        let strict = scan(&["--gate", "--strict"]).expect(4, "strict gate");
        let files = by_path(&strict.stdout, &dir);
        assert_eq!(status(&files, "cue.pipe"), ("unapproved".to_owned(), true));
        let reason = files["cue.pipe"]["approval"]["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("not a regular file, so it was not read"),
            "{reason}"
        );
        // recorded, the skipped path is counted and listed with its kind
        let recorded = scan(&["--gate", "--strict", "--record"]).expect(4, "strict, recorded");
        let scan_id = recorded
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("recorded as scan "))
            .and_then(|l| l.split(' ').next())
            .unwrap_or_else(|| panic!("no record line:\n{}", recorded.stderr))
            .to_owned();
        let shown = cli
            .run(REVIEWER, &["scans", "show", &scan_id, "--format", "json"])
            .expect(0, "scans show")
            .json();
        assert_eq!(shown["counts"]["skipped"], 1, "{shown}");
        let files = shown["files"].as_array().unwrap();
        assert_eq!(files.len(), 1, "{shown}");
        assert_eq!(files[0]["verdict"], "skipped", "{shown}");
        Ok(())
    })
    .await;
}

/// `count` AI-generated posters (A1111 parameters) under `dir/posters`.
fn posters(dir: &Path, count: usize) -> std::io::Result<()> {
    let poster = png(&[("parameters", A1111)]);
    for n in 0..count {
        let path = dir.join(format!("posters/{:02}/{n:05}.png", n % 7));
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(path, &poster)?;
    }
    Ok(())
}

/// A delivery with more flagged files than one batch holds: `--record` writes them in
/// batches (one audit entry each), `scans show` pages through them by row number in JSON and
/// text, and a scan that was begun and never finished is listed as such.
async fn large_story(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let cli = Cli { fixture: &fixture };
    let dir = fixture.key_path.with_file_name("deliverables");
    let flagged = 2_100;
    posters(&dir, flagged)?;
    for n in 0..50 {
        std::fs::write(dir.join(format!("notes{n}.txt")), b"delivery notes\n")?;
    }
    let deliv = dir.to_str().unwrap();
    cli.id_of(
        COORDINATOR,
        &[
            "production",
            "create",
            TITLE,
            "--contact",
            "dana@studio.example",
        ],
    );
    let run = cli
        .run(
            QC,
            &[
                "scan",
                deliv,
                "--production",
                TITLE,
                "--record",
                "--format",
                "json",
            ],
        )
        .expect(0, "a recorded scan without --gate");
    assert_eq!(run.stdout.lines().count(), flagged + 50);
    let scan_id = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("recorded as scan "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("no record line:\n{}", run.stderr))
        .to_owned();

    // One entry per batch of 1,000 files, each naming the rows it holds.
    let batches: Vec<(u64, u64)> = cli
        .audit_entries(REVIEWER)
        .iter()
        .filter(|e| e["kind"] == "scan_batch")
        .map(|e| {
            assert!(
                e["record_id"].as_str().unwrap().starts_with(&scan_id),
                "{e}"
            );
            let batch: Value = serde_json::from_str(e["after"].as_str().unwrap()).unwrap();
            (
                batch["first"].as_u64().unwrap(),
                batch["last"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(batches, [(1, 1_000), (1_001, 2_000), (2_001, 2_100)]);

    // JSON pages: one object each, with `next` while files remain.
    let show = |extra: &[&str]| {
        let mut args = vec!["scans", "show", &scan_id, "--format", "json"];
        args.extend_from_slice(extra);
        cli.run(REVIEWER, &args).expect(0, "scans show").json()
    };
    let mut paths = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut extra = vec!["--limit", "800"];
        if let Some(a) = &after {
            extra.extend(["--after", a.as_str()]);
        }
        let page = show(&extra);
        assert_eq!(page["state"], "complete");
        assert_eq!(page["counts"]["files"], flagged + 50);
        assert_eq!(page["counts"]["unapproved"], flagged);
        let files = page["files"].as_array().unwrap();
        for (i, f) in files.iter().enumerate() {
            assert_eq!(f["seq"], paths.len() + 1, "row {i} of page {pages}");
            assert_eq!(f["verdict"], "ai_generated");
            assert_eq!(f["status"], "unapproved");
            assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
            paths.push(f["path"].as_str().unwrap().to_owned());
        }
        pages += 1;
        match page.get("next") {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(paths.len(), flagged);
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), flagged, "every flagged file once");
    // Without a limit, every file in one object.
    assert_eq!(show(&[])["files"].as_array().unwrap().len(), flagged);

    // Text pages: a fixed-width table, and where to go on from.
    let text = cli
        .run(REVIEWER, &["scans", "show", &scan_id, "--limit", "3"])
        .expect(0, "scans show --limit");
    assert!(
        text.stdout.contains("state       complete"),
        "{}",
        text.stdout
    );
    let rows: Vec<&str> = text
        .stdout
        .lines()
        .filter(|l| l.ends_with(".png"))
        .collect();
    assert_eq!(rows.len(), 3, "{}", text.stdout);
    assert!(rows[0].trim_start().starts_with("1  "), "{}", rows[0]);
    assert!(
        text.stdout.contains("(more files: --after 3)"),
        "{}",
        text.stdout
    );
    let tail = cli
        .run(REVIEWER, &["scans", "show", &scan_id, "--after", "2097"])
        .expect(0, "scans show --after");
    let rows = tail.stdout.lines().filter(|l| l.ends_with(".png")).count();
    assert_eq!(rows, 3, "{}", tail.stdout);
    assert!(!tail.stdout.contains("more files"), "{}", tail.stdout);

    // A scan begun and never finished (the process stopped): listed and shown as such.
    let ledger = fixture.ledger();
    let production = ledger.productions(None, 10).await?.items[0].id;
    let left = ledger
        .begin_scan(
            QC,
            greenlight_store::NewScan {
                production_id: production,
                scanner: "greenlight 0.1.0".to_owned(),
                roots: vec![deliv.to_owned()],
                verified: false,
                strict: false,
                started_at: ledger.now(),
            },
        )
        .await?;
    let listed = cli
        .run(REVIEWER, &["scans", "list", "--production", TITLE])
        .expect(0, "scans list");
    let line = |id: &str| {
        listed
            .stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} not listed:\n{}", listed.stdout))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(line(&scan_id)[3..6], ["complete", "failed", "2150"]);
    assert_eq!(
        line(&left.id.to_string())[3..5],
        ["in_progress", "incomplete"]
    );
    let shown = cli
        .run(REVIEWER, &["scans", "show", &left.id.to_string()])
        .expect(0, "scans show in progress");
    assert!(
        shown.stdout.contains("gate incomplete")
            && shown.stdout.contains("in_progress: not finished"),
        "{}",
        shown.stdout
    );
    cli.run(REVIEWER, &["audit", "verify"])
        .expect(0, "audit verify");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_recorded_scan_pages_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, large_story).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_recorded_scan_pages_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, large_story).await;
}

/// A recorded scan killed half way: its first batch is in the ledger, it is listed as
/// `in_progress` with the gate `incomplete` (never passed), and the chain verifies.
///
/// The scan is held where it is by its own output: once the first batch is in the ledger the
/// test stops reading the scan's stdout, so the scan blocks on a full pipe (its buffer and the
/// pipe's hold a few hundred lines, far fewer than the 1,000 files of a second batch), and
/// is then killed.
async fn killed_story(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let cli = Cli { fixture: &fixture };
    let dir = fixture.key_path.with_file_name("deliverables");
    posters(&dir, 2_100)?;
    let deliv = dir.to_str().unwrap();
    cli.id_of(
        COORDINATOR,
        &[
            "production",
            "create",
            TITLE,
            "--contact",
            "dana@studio.example",
        ],
    );
    let mut child = support::ledger::bare()
        .arg("--db")
        .arg(&fixture.target)
        .arg("--audit-key")
        .arg(&fixture.key_path)
        .args(["--as", QC])
        .args([
            "scan",
            deliv,
            "--production",
            TITLE,
            "--record",
            "--format",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().unwrap();
    // Lines are handed over one at a time: when the test stops taking them, reading stops.
    let (lines_tx, lines_rx) = std::sync::mpsc::sync_channel::<String>(0);
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let ledger = fixture.ledger();
    let production = ledger.productions(None, 10).await?.items[0].id;
    let mut read = 0;
    let scan = loop {
        lines_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the scan prints a line per file");
        read += 1;
        let scans = ledger.scans(production, None, 10).await?.items;
        if let Some(scan) = scans.first()
            && !ledger.scan_files(scan.id, None, 1).await?.items.is_empty()
        {
            break scan.id;
        }
    };
    assert!(read < 2_000, "the first batch came after {read} files");
    // Let the scan fill the pipe and block, then kill it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill()?;
    child.wait()?;
    drop(lines_rx);
    reader.join().unwrap();

    let stopped = ledger.scan(scan).await?;
    assert_eq!(stopped.state, greenlight_store::ScanState::InProgress);
    assert!(!stopped.passed);
    let listed = cli
        .run(REVIEWER, &["scans", "list", "--production", TITLE])
        .expect(0, "scans list");
    let row: Vec<&str> = listed
        .stdout
        .lines()
        .find(|l| l.starts_with(&scan.to_string()))
        .unwrap_or_else(|| panic!("{scan} not listed:\n{}", listed.stdout))
        .split_whitespace()
        .collect();
    assert_eq!(
        row[3..5],
        ["in_progress", "incomplete"],
        "{}",
        listed.stdout
    );
    let shown = cli
        .run(
            REVIEWER,
            &["scans", "show", &scan.to_string(), "--format", "json"],
        )
        .expect(0, "scans show")
        .json();
    assert_eq!(shown["state"], "in_progress");
    assert_eq!(shown["files"].as_array().unwrap().len(), 1_000);
    cli.run(REVIEWER, &["audit", "verify"])
        .expect(0, "audit verify after the kill");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_recorded_scan_stays_in_progress_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, killed_story).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_recorded_scan_stays_in_progress_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, killed_story).await;
}
