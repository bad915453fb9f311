//! The remote scanner end to end: `greenlight serve` (the real binary, port 0) on a real
//! ledger (a SQLite file always, PostgreSQL when `GREENLIGHT_TEST_POSTGRES_URL` is set), and
//! `greenlight scan DELIVERABLES --server URL --token T --production X --gate [--record]`
//! (the real binary) posting to it through a small TCP relay the test runs, which keeps
//! every byte the scanner sends: none of them is media.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use greenlight_store::{NewToken, NewUser, Role, TokenRole};
use greenlight_store_tests::{Backend, Fixture};
use serde_json::Value;

mod support;
use support::ledger::{Cli, Run, bare, finish};
use support::media::{A1111, jpeg, png, png_chunk, xmp_digital_source_type};

const COORDINATOR: &str = "cam@prod.example";
const REVIEWER: &str = "rae@studio.example";
const VENDOR: &str = "vic@vfx.example";
const TITLE: &str = "Deepwater Gate (animated series)";
const OTHER: &str = "Another Show";
/// Bytes that are only in the media: the scanner must never send them.
const SENTINEL: &[u8] = b"MEDIA-BYTES-NEVER-SENT-";

/// The deliverables:
/// ```text
/// posters/key_art.png     A1111 parameters                -> ai_generated
/// posters/master.png      A1111, 2 MiB of image data      -> ai_generated
/// VFX/sh0420_v3.jpg       XMP compositeWithTrained…       -> ai_edited
/// VFX/plate.jpg           XMP digitalCapture              -> no_ai_evidence
/// ```
fn deliverables(dir: &Path) {
    let write = |rel: &str, bytes: Vec<u8>| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    write("posters/key_art.png", png(&[("parameters", A1111)]));
    let mut master = png(&[("parameters", A1111)]);
    let iend = master.split_off(master.len() - 12);
    let mut payload = Vec::new();
    while payload.len() < 2 << 20 {
        payload.extend_from_slice(SENTINEL);
    }
    png_chunk(&mut master, b"prVt", &payload);
    master.extend_from_slice(&iend);
    write("posters/master.png", master);
    write(
        "VFX/sh0420_v3.jpg",
        jpeg(&[xmp_digital_source_type(
            "compositeWithTrainedAlgorithmicMedia",
        )]),
    );
    write(
        "VFX/plate.jpg",
        jpeg(&[xmp_digital_source_type("digitalCapture")]),
    );
}

/// A running `greenlight serve`, killed when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(fixture: &Fixture, extra: &[&str]) -> (Serve, String) {
    let mut child = bare()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .arg("--db")
        .arg(&fixture.target)
        .arg("--audit-key")
        .arg(&fixture.key_path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("greenlight serve: listening on ")
        .unwrap_or_else(|| panic!("the first line names the address: {line:?}"))
        .to_owned();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (Serve(child), base)
}

/// A TCP relay to `upstream` that keeps every byte clients send through it.
fn relay(upstream: &str) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let kept = sent.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { break };
            let Ok(mut server) = TcpStream::connect(&upstream) else {
                break;
            };
            let (mut client_back, mut server_back) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 16 << 10];
                loop {
                    match client.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            kept.lock().unwrap().extend_from_slice(&buffer[..n]);
                            if server.write_all(&buffer[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = server.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server_back, &mut client_back);
                let _ = client_back.shutdown(Shutdown::Write);
            });
        }
    });
    (address, sent)
}

fn curl(token: &str, url: &str) -> Value {
    let output = Command::new("curl")
        .args(["-sS", "--fail-with-body", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(url)
        .output()
        .expect("curl runs (Debian: apt-get install curl)");
    assert!(
        output.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The scan's NDJSON, by path relative to `dir`.
fn by_path(stdout: &str, dir: &Path) -> BTreeMap<String, Value> {
    let prefix = format!("{}/", dir.display());
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let path = v["path"].as_str().unwrap();
            let rel = path.strip_prefix(&prefix).unwrap_or(path).to_owned();
            (rel, v)
        })
        .collect()
}

fn standing(files: &BTreeMap<String, Value>, rel: &str) -> (String, bool) {
    let approval = &files[rel]["approval"];
    assert!(approval.is_object(), "{rel}: {}", files[rel]);
    (
        approval["status"].as_str().unwrap().to_owned(),
        approval["fails_gate"].as_bool().unwrap(),
    )
}

async fn story(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let cli = Cli { fixture: &fixture };
    let dir = fixture.key_path.with_file_name("deliverables");
    deliverables(&dir);
    let deliv = dir.to_str().unwrap();
    let members = [
        format!("{REVIEWER}=reviewer=Rae Tan"),
        format!("{VENDOR}=vendor=Vic"),
    ];
    let create = |title: &str| {
        cli.id_of(
            COORDINATOR,
            &[
                "production",
                "create",
                title,
                "--contact",
                "dana@studio.example",
                "--member",
                &members[0],
                "--member",
                &members[1],
            ],
        )
    };
    let production = create(TITLE);
    let other = create(OTHER);

    // The vendor's account and two tokens: one for this production, one for the other.
    let ledger = fixture.ledger();
    ledger
        .create_user(
            "admin",
            NewUser {
                login: VENDOR.to_owned(),
                name: "Vic".to_owned(),
                roles: Vec::new(),
                password: "correct horse battery staple".to_owned(),
            },
        )
        .await?;
    let token_for = |production: &str| {
        let ledger = ledger.clone();
        let production = production.parse().unwrap();
        async move {
            let expires_at = ledger.now().plus(TimeDelta::days(60));
            ledger
                .create_token(
                    "admin",
                    NewToken {
                        user_login: VENDOR.to_owned(),
                        name: "scanner at the vendor".to_owned(),
                        productions: vec![production],
                        role: TokenRole::Production(Role::Vendor),
                        expires_at,
                    },
                )
                .await
                .map(|issued| issued.secret)
        }
    };
    let token = token_for(&production).await?;
    let wrong_token = token_for(&other).await?;

    let (_server, base) = serve(&fixture, &[]);
    let (relayed, sent) = relay(&base);
    let secrets = [token.clone(), wrong_token.clone()];
    let scan = |token: &str, extra: &[&str]| -> Run {
        let output = bare()
            .args(["scan", deliv, "--server", &relayed, "--production", TITLE])
            .args(["--format", "json"])
            .args(extra)
            .env("GREENLIGHT_TOKEN", token)
            .output()
            .unwrap();
        let run = finish(output);
        for secret in &secrets {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "a token was printed:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        run
    };

    // Nothing approved: both AI files fail the gate, the plate is not judged.
    let run = scan(&token, &["--gate"]).expect(4, "remote gate before any approval");
    let files = by_path(&run.stdout, &dir);
    assert_eq!(files.len(), 4, "{}", run.stdout);
    for rel in [
        "posters/key_art.png",
        "posters/master.png",
        "VFX/sh0420_v3.jpg",
    ] {
        assert_eq!(
            standing(&files, rel),
            ("unapproved".to_owned(), true),
            "{rel}"
        );
    }
    assert!(files["VFX/plate.jpg"].get("approval").is_none());

    // The posters are approved; the shot is not: the gate fails, naming the shot.
    let declare = || {
        cli.run(
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
        .expect(3, "declare (escalate)")
        .json()["declaration_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let approve = |declaration: &str, scope: &str| {
        cli.run(
            REVIEWER,
            &["approve", declaration, "--scope", scope, "--format", "json"],
        )
        .expect(0, "approve")
        .json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let posters = approve(&declare(), "posters/*.png");
    let text = bare()
        .args(["scan", deliv, "--server", &relayed, "--production", TITLE])
        .args(["--gate", "--token", &token])
        .output()?;
    let text = finish(text).expect(4, "remote gate, one file unapproved");
    let shot_line = text
        .stdout
        .lines()
        .position(|l| l.contains("VFX/sh0420_v3.jpg"))
        .unwrap_or_else(|| panic!("the shot is not named:\n{}", text.stdout));
    assert!(
        text.stdout
            .lines()
            .nth(shot_line + 1)
            .unwrap()
            .contains("unapproved"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("FAILED: 1 AI-flagged file not covered by an approval in force"),
        "{}",
        text.stdout
    );
    let run = scan(&token, &["--gate"]).expect(4, "remote gate, JSON");
    let files = by_path(&run.stdout, &dir);
    assert_eq!(
        standing(&files, "posters/key_art.png"),
        ("approved".to_owned(), false)
    );
    assert_eq!(
        files["posters/master.png"]["approval"]["approval_id"],
        posters.as_str()
    );
    assert_eq!(
        standing(&files, "VFX/sh0420_v3.jpg"),
        ("unapproved".to_owned(), true)
    );

    // The shot is approved too: the gate passes, and the recorded scan is the server's.
    let shots = approve(&declare(), "VFX/**");
    let run = scan(&token, &["--gate", "--record"]).expect(0, "remote gate, recorded");
    let files = by_path(&run.stdout, &dir);
    assert_eq!(
        files["VFX/sh0420_v3.jpg"]["approval"]["approval_id"],
        shots.as_str()
    );
    let scan_id = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("recorded as scan "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("no record line:\n{}", run.stderr))
        .to_owned();
    assert!(run.stderr.contains("(passed)"), "{}", run.stderr);

    let shown = curl(&token, &format!("{base}/api/v1/scans/{scan_id}"));
    assert_eq!(shown["state"], "complete");
    assert_eq!(shown["passed"], true);
    assert_eq!(shown["recorded_by"], VENDOR);
    assert_eq!(shown["production_id"], production.as_str());
    assert_eq!(shown["counts"]["files"], 4);
    assert_eq!(shown["counts"]["ai_generated"], 2);
    assert_eq!(shown["counts"]["ai_edited"], 1);
    assert_eq!(shown["counts"]["no_ai_evidence"], 1);
    assert_eq!(shown["counts"]["approved"], 3);
    assert_eq!(shown["counts"]["unapproved"], 0);
    let listed = curl(
        &token,
        &format!("{base}/api/v1/productions/{production}/scans"),
    );
    assert!(
        listed["scans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == scan_id.as_str()),
        "{listed}"
    );
    let first = curl(
        &token,
        &format!("{base}/api/v1/scans/{scan_id}/files?limit=2"),
    );
    assert_eq!(first["files"].as_array().unwrap().len(), 2, "{first}");
    let next = first["next"].as_u64().unwrap();
    let rest = curl(
        &token,
        &format!("{base}/api/v1/scans/{scan_id}/files?after={next}&limit=2"),
    );
    assert_eq!(rest["files"].as_array().unwrap().len(), 1, "{rest}");
    assert!(rest.get("next").is_none(), "{rest}");
    // The record holds each flagged file's hash, computed where the files are.
    let master = std::fs::read(dir.join("posters/master.png"))?;
    let master_hash = greenlight_store::sha256_hex(&master);
    let rows: Vec<&Value> = first["files"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["files"].as_array().unwrap())
        .collect();
    assert!(
        rows.iter()
            .any(|r| r["sha256"] == master_hash.as_str() && r["status"] == "approved"),
        "{rows:?}"
    );

    // The same record through `greenlight scans show`, and the chain verifies.
    let shown = cli
        .run(REVIEWER, &["scans", "show", &scan_id, "--format", "json"])
        .expect(0, "scans show")
        .json();
    assert_eq!(shown["passed"], true);
    assert_eq!(shown["files"].as_array().unwrap().len(), 3);
    let entries = cli.audit_entries(REVIEWER);
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "scan_batch" && e["actor"] == VENDOR),
        "no audited batch by the vendor"
    );
    cli.run(REVIEWER, &["audit", "verify"])
        .expect(0, "audit verify");

    // A token for another production: refused, saying so.
    let refused = scan(&wrong_token, &["--gate"]).expect(1, "another production's token");
    assert!(
        refused.stderr.contains("403") && refused.stderr.contains("lacks the scope"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("this token is not for that production"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stdout.is_empty(),
        "nothing scanned: {}",
        refused.stdout
    );
    // A token that is not one: 401.
    let unknown = scan("glt_not-a-token", &["--gate"]).expect(1, "an unknown token");
    assert!(unknown.stderr.contains("401"), "{}", unknown.stderr);

    // A server whose body limit no batch fits: the problem document's detail is printed,
    // the gate says it is incomplete, and the scan fails.
    let (_small, small) = serve(&fixture, &["--body-limit", "200"]);
    let output = bare()
        .args(["scan", deliv, "--server", &small, "--production", TITLE])
        .args(["--gate", "--token", &token])
        .output()?;
    let cut = finish(output).expect(1, "batches over the body limit");
    assert!(
        cut.stderr.contains("the server answered 413")
            && cut.stderr.contains("larger than the limit of 200 bytes"),
        "{}",
        cut.stderr
    );
    assert!(
        cut.stdout
            .contains("INCOMPLETE: the server could not judge every file"),
        "{}",
        cut.stdout
    );

    // No media crossed the network: not a byte of the master's image data, and far fewer
    // bytes in all than the one file holds.
    let sent = sent.lock().unwrap().clone();
    assert!(!sent.is_empty());
    assert!(
        !sent.windows(SENTINEL.len()).any(|w| w == SENTINEL),
        "media bytes were sent"
    );
    assert!(
        sent.len() < master.len() / 8,
        "{} bytes sent for a {}-byte master",
        sent.len(),
        master.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_remote_scanner_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, story).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_remote_scanner_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, story).await;
}

/// A server that is not there, and flags that need each other.
#[test]
fn the_remote_scanner_says_what_is_wrong() {
    let dir = std::env::temp_dir().join(format!("greenlight-remote-{}", std::process::id()));
    deliverables(&dir);
    let deliv = dir.to_str().unwrap();
    let run = |args: &[&str]| finish(bare().args(args).output().unwrap());
    let unreachable = run(&[
        "scan",
        deliv,
        "--server",
        "http://127.0.0.1:9",
        "--token",
        "glt_x",
        "--production",
        TITLE,
    ])
    .expect(1, "no server");
    assert!(
        unreachable
            .stderr
            .contains("cannot reach the greenlight server at `http://127.0.0.1:9`"),
        "{}",
        unreachable.stderr
    );
    let usage = run(&[
        "scan",
        deliv,
        "--server",
        "http://127.0.0.1:9",
        "--production",
        TITLE,
    ])
    .expect(2, "no token");
    assert!(usage.stderr.contains("--token"), "{}", usage.stderr);
    let scheme = run(&[
        "scan",
        deliv,
        "--server",
        "ftp://x",
        "--token",
        "glt_x",
        "--production",
        TITLE,
    ])
    .expect(1, "not http");
    assert!(
        scheme.stderr.contains("not an http:// or https:// URL"),
        "{}",
        scheme.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A delivery with more flagged files than one batch holds: the scanner posts them in
/// batches as it scans (each at most 1,000 files), each one an audited batch of the record,
/// and every file comes back judged once.
async fn large_story(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let cli = Cli { fixture: &fixture };
    let dir = fixture.key_path.with_file_name("deliverables");
    let flagged = 2_500;
    let poster = png(&[("parameters", A1111)]);
    for n in 0..flagged {
        let path = dir.join(format!("posters/{:02}/{n:05}.png", n % 7));
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(path, &poster)?;
    }
    let deliv = dir.to_str().unwrap();
    let member = format!("{VENDOR}=vendor=Vic");
    let production = cli.id_of(
        COORDINATOR,
        &[
            "production",
            "create",
            TITLE,
            "--contact",
            "dana@studio.example",
            "--member",
            &member,
        ],
    );
    let ledger = fixture.ledger();
    ledger
        .create_user(
            "admin",
            NewUser {
                login: VENDOR.to_owned(),
                name: "Vic".to_owned(),
                roles: Vec::new(),
                password: "correct horse battery staple".to_owned(),
            },
        )
        .await?;
    let token = ledger
        .create_token(
            "admin",
            NewToken {
                user_login: VENDOR.to_owned(),
                name: "scanner".to_owned(),
                productions: vec![production.parse().unwrap()],
                role: TokenRole::Production(Role::Vendor),
                expires_at: ledger.now().plus(TimeDelta::days(60)),
            },
        )
        .await?
        .secret;
    let (_server, base) = serve(&fixture, &[]);
    let (relayed, sent) = relay(&base);
    let output = bare()
        .args(["scan", deliv, "--server", &relayed, "--production", TITLE])
        .args(["--record", "--gate", "--format", "json", "--token", &token])
        .output()?;
    let run = finish(output).expect(4, "a large remote scan, recorded");
    let lines = run.json_lines();
    assert_eq!(lines.len(), flagged);
    let mut paths: Vec<&str> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["approval"]["status"], "unapproved", "{l}");
            l["path"].as_str().unwrap()
        })
        .collect();
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), flagged, "every file judged once");

    let batches: Vec<(u64, u64)> = cli
        .audit_entries(COORDINATOR)
        .iter()
        .filter(|e| e["kind"] == "scan_batch")
        .map(|e| {
            let batch: Value = serde_json::from_str(e["after"].as_str().unwrap()).unwrap();
            (
                batch["first"].as_u64().unwrap(),
                batch["last"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(batches.len() >= 3, "{batches:?}");
    let mut next = 1;
    for (first, last) in &batches {
        assert_eq!(*first, next, "{batches:?}");
        assert!(last - first < 1_000, "{batches:?}");
        next = last + 1;
    }
    assert_eq!(next, flagged as u64 + 1);
    let sent = String::from_utf8_lossy(&sent.lock().unwrap()).into_owned();
    let posts = sent.matches("POST /api/v1/scans/").count();
    // Every batch, and the finish.
    assert_eq!(
        posts,
        batches.len() + 1,
        "{posts} posts for {} batches",
        batches.len()
    );
    let shown = cli
        .run(
            COORDINATOR,
            &["scans", "list", "--production", TITLE, "--format", "json"],
        )
        .expect(0, "scans list")
        .json();
    assert_eq!(shown["counts"]["unapproved"], flagged);
    assert_eq!(shown["passed"], false);
    cli.run(COORDINATOR, &["audit", "verify"])
        .expect(0, "audit verify");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_remote_scan_streams_in_batches_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, large_story).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_remote_scan_streams_in_batches_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, large_story).await;
}
