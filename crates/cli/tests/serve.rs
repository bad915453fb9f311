//! `greenlight serve` as a user runs it: the real binary on port 0, asked with
//! curl, answering what `greenlight assess` and `greenlight policy show` print,
//! and stopping on SIGTERM.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn greenlight() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_greenlight"));
    command.current_dir(root()).env("NO_COLOR", "1");
    command
}

/// A running `greenlight serve`, killed when dropped (so a failing test leaves no server behind).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Server {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Starts `greenlight serve` on a free port and returns it with its base URL.
fn serve(dir: &Path, extra: &[&str]) -> (Server, String) {
    let mut child = greenlight()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .arg("--db")
        .arg(dir.join("ledger.sqlite3"))
        .arg("--audit-key")
        .arg(dir.join("audit.key"))
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
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (Server(child), base)
}

fn curl(args: &[&str]) -> Vec<u8> {
    let output = Command::new("curl")
        .args(["-sS", "--fail-with-body"])
        .args(args)
        .current_dir(root())
        .output()
        .expect("curl runs (Debian: apt-get install curl)");
    assert!(
        output.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    output.stdout
}

#[test]
fn serve_answers_as_the_cli_does_and_stops_on_sigterm() {
    let dir = tempfile_dir("sigterm");
    let (mut child, base) = serve(&dir, &[]);
    for example in [
        "examples/m1-mood-board.toml",
        "examples/m4-de-aging-no-consent.toml",
        "examples/map-previs.json",
        "examples/s7-vendor-pipeline-weakest-tool.toml",
    ] {
        let content_type = if example.ends_with(".json") {
            "content-type: application/json"
        } else {
            "content-type: application/toml"
        };
        let served = curl(&[
            "-H",
            content_type,
            "--data-binary",
            &format!("@{example}"),
            &format!("{base}/api/v1/assess"),
        ]);
        let cli = greenlight()
            .args(["assess", "--format", "json", example])
            .output()
            .unwrap();
        let mut expected = cli.stdout.clone();
        assert_eq!(expected.pop(), Some(b'\n'));
        assert_eq!(
            String::from_utf8(served).unwrap(),
            String::from_utf8(expected).unwrap(),
            "{example}: the server's decision is not the CLI's"
        );
    }
    let served: serde_json::Value =
        serde_json::from_slice(&curl(&[&format!("{base}/api/v1/policy")])).unwrap();
    let cli = greenlight()
        .args(["policy", "show", "--format", "json"])
        .output()
        .unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(
        served, shown,
        "GET /api/v1/policy is not `policy show --format json`"
    );
    let ready: serde_json::Value =
        serde_json::from_slice(&curl(&[&format!("{base}/readyz")])).unwrap();
    assert_eq!(ready["status"], "ok");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "serve exits 0 after SIGTERM: {exit:?}");
    // The server writes (sign-ins, recorded scans), so a new ledger gets its audit key, in
    // the file named, never a throwaway one.
    assert!(dir.join("audit.key").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_triages_with_the_packs_given() {
    let dir = tempfile_dir("policy");
    let overlay = "crates/policy/tests/data/packs/ok/overlay.toml";
    let (child, base) = serve(&dir, &["--policy", overlay]);
    let served: serde_json::Value =
        serde_json::from_slice(&curl(&[&format!("{base}/api/v1/policy")])).unwrap();
    let cli = greenlight()
        .args(["policy", "show", "--format", "json", overlay])
        .output()
        .unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(served["policy"]["id"], "studio-overlay");
    assert_eq!(served, shown);
    let decision: serde_json::Value = serde_json::from_slice(&curl(&[
        "-H",
        "content-type: application/toml",
        "--data-binary",
        "@examples/m1-mood-board.toml",
        &format!("{base}/api/v1/assess"),
    ]))
    .unwrap();
    assert_eq!(decision["policy"]["id"], "studio-overlay");
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("greenlight-serve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
