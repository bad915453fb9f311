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
    // The first start signed the first account's creation: the key was made.
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

/// The first start on an empty ledger creates `admin` and prints once how to sign in; the
/// printed curl line works, a token made with the CLI works over HTTP, and a restart creates
/// nobody.
#[test]
fn the_first_start_creates_an_admin_and_says_how_to_sign_in() {
    let dir = tempfile_dir("first-admin");
    let start = || {
        let mut child = greenlight()
            .args(["serve", "--listen", "127.0.0.1:0"])
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
        let mut lines = Vec::new();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            while stderr.read_line(&mut line).unwrap_or(0) > 0 {
                let _ = tx.send(std::mem::take(&mut line));
            }
        });
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                lines.push(line);
            }
        }
        (Server(child), lines.concat())
    };
    let (server, stderr) = start();
    let base = stderr
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("greenlight serve: listening on "))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_owned();
    assert!(
        stderr.contains("created the first account, `admin`"),
        "{stderr}"
    );
    let command = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("curl "))
        .unwrap_or_else(|| panic!("a curl line: {stderr}"))
        .trim()
        .to_owned();
    assert!(
        command.contains(&format!("{base}/api/v1/session")),
        "{command}"
    );
    // The browser's sign-in page is where it says.
    assert!(stderr.contains(&format!("{base}/sign-in")), "{stderr}");
    let page = Command::new("curl")
        .args(["-sS", "--fail-with-body", &format!("{base}/sign-in")])
        .output()
        .unwrap();
    assert!(
        page.status.success() && String::from_utf8_lossy(&page.stdout).contains("<form"),
        "{}",
        String::from_utf8_lossy(&page.stdout)
    );
    // Run the printed line as a person would paste it.
    let cookies = dir.join("cookies.txt");
    let command = command.replace("cookies.txt", &cookies.to_string_lossy());
    let signed = Command::new("sh")
        .args(["-c", &format!("{command} -sS --fail-with-body")])
        .output()
        .unwrap();
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stdout)
    );
    let session: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
    assert_eq!(session["user"]["login"], "admin");
    assert_eq!(session["user"]["roles"], serde_json::json!(["admin"]));
    let me: serde_json::Value = serde_json::from_slice(&curl(&[
        "-b",
        &cookies.to_string_lossy(),
        &format!("{base}/api/v1/me"),
    ]))
    .unwrap();
    assert_eq!(me["via"], "session");
    drop(server);

    // A token made with the CLI, while no server runs, works over HTTP.
    let ledger = |args: &[&str]| {
        let output = greenlight()
            .args(args)
            .arg("--db")
            .arg(dir.join("ledger.sqlite3"))
            .arg("--audit-key")
            .arg(dir.join("audit.key"))
            .args(["--as", "admin"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let created = ledger(&["user", "create", "vic", "--name", "Vic Vendor"]);
    assert!(
        created.contains("password (shown once, kept nowhere): "),
        "{created}"
    );
    let issued: serde_json::Value = serde_json::from_str(&ledger(&[
        "token",
        "create",
        "--user",
        "vic",
        "--name",
        "scanner",
        "--role",
        "vendor",
        "--expires",
        "30",
        "--format",
        "json",
    ]))
    .unwrap();
    let secret = issued["secret"].as_str().unwrap().to_owned();
    let (server, stderr) = start();
    assert!(!stderr.contains("created the first account"), "{stderr}");
    let base = stderr
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("greenlight serve: listening on "))
        .unwrap()
        .to_owned();
    let bearer = format!("Authorization: Bearer {secret}");
    let me: serde_json::Value =
        serde_json::from_slice(&curl(&["-H", &bearer, &format!("{base}/api/v1/me")])).unwrap();
    assert_eq!(me["user"]["login"], "vic");
    assert_eq!(me["token"]["role"], "vendor");
    drop(server);
    let listed = ledger(&["user", "list"]);
    assert!(
        listed.contains("admin") && listed.contains("vic"),
        "{listed}"
    );
    let id = issued["id"].as_str().unwrap();
    assert!(ledger(&["token", "revoke", id]).contains("revoked token"));
    let (server, stderr) = start();
    let base = stderr
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("greenlight serve: listening on "))
        .unwrap()
        .to_owned();
    let refused = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", &bearer])
        .arg(format!("{base}/api/v1/me"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&refused.stdout), "401");
    drop(server);
    // The audit log holds neither the password nor the secret, and verifies.
    let log = ledger(&["audit", "log", "--format", "json"]);
    let password = created.rsplit(": ").next().unwrap().trim();
    assert!(!log.contains(password) && !log.contains(&secret));
    // Nor the password's hash: `audit log` shows the accounts' entries redacted.
    assert!(!log.contains("$argon2id$"), "{log}");
    assert!(log.contains("\"kind\":\"user\""), "{log}");
    assert!(log.contains("\"kind\":\"login_attempt\""), "{log}");
    ledger(&["audit", "verify"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whatever the server logs, at debug level, holds no password, cookie, CSRF token or token
/// secret.
#[test]
fn nothing_logged_holds_a_password_a_cookie_or_a_token() {
    let dir = tempfile_dir("logs");
    let password = "a password nobody logs";
    let mut create = greenlight()
        .args([
            "user",
            "create",
            "ada",
            "--admin",
            "--password-stdin",
            "--as",
            "setup",
        ])
        .arg("--db")
        .arg(dir.join("ledger.sqlite3"))
        .arg("--audit-key")
        .arg(dir.join("audit.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    writeln!(create.stdin.take().unwrap(), "{password}").unwrap();
    assert!(create.wait().unwrap().success());
    let log = dir.join("serve.log");
    let child = greenlight()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--db")
        .arg(dir.join("ledger.sqlite3"))
        .arg("--audit-key")
        .arg(dir.join("audit.key"))
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let base = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(base) = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("greenlight serve: listening on "))
        {
            break base.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no address: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let server = Server(child);
    let cookies = dir.join("cookies.txt");
    let cookies = cookies.to_string_lossy();
    let body = format!(r#"{{"login":"ada","password":"{password}"}}"#);
    let session: serde_json::Value = serde_json::from_slice(&curl(&[
        "-c",
        &cookies,
        "-H",
        "content-type: application/json",
        "-d",
        &body,
        &format!("{base}/api/v1/session"),
    ]))
    .unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    let jar = std::fs::read_to_string(dir.join("cookies.txt")).unwrap();
    let cookie = jar
        .lines()
        .filter(|l| l.contains("greenlight_session"))
        .find_map(|l| l.split('\t').nth(6))
        .map(str::to_owned)
        .expect("the session cookie in the jar");
    let csrf_header = format!("x-csrf-token: {csrf}");
    let issued: serde_json::Value = serde_json::from_slice(&curl(&[
        "-b",
        &cookies,
        "-H",
        &csrf_header,
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"name":"ci","role":"admin","expires_in_days":1}"#,
        &format!("{base}/api/v1/tokens"),
    ]))
    .unwrap();
    let secret = issued["secret"].as_str().unwrap().to_owned();
    curl(&[
        "-H",
        &format!("Authorization: Bearer {secret}"),
        &format!("{base}/api/v1/me"),
    ]);
    // A wrong password and a forged token are logged as refusals, without themselves.
    let _ = Command::new("curl")
        .args(["-s", "-H", "content-type: application/json", "-d"])
        .arg(r#"{"login":"ada","password":"the wrong one, unlogged"}"#)
        .arg(format!("{base}/api/v1/session"))
        .output();
    let _ = Command::new("curl")
        .args(["-s", "-H", "Authorization: Bearer glt_forged_and_unlogged"])
        .arg(format!("{base}/api/v1/me"))
        .output();
    curl(&[
        "-b",
        &cookies,
        "-H",
        &csrf_header,
        "-X",
        "DELETE",
        &format!("{base}/api/v1/session"),
    ]);
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("/api/v1/session"),
        "the requests are logged: {text}"
    );
    assert!(cookie.len() > 40, "{cookie}");
    for secret in [
        password.to_owned(),
        "the wrong one, unlogged".to_owned(),
        "glt_forged_and_unlogged".to_owned(),
        csrf,
        secret,
        cookie,
    ] {
        assert!(!text.contains(&secret), "`{secret}` is in the log:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// With `--tls-cert` and `--tls-key` the server speaks HTTPS (curl trusting the certificate
/// made here gets HTTP/2 by ALPN); a bad file stops it before it listens, naming the file.
#[test]
fn serve_over_https_and_refuse_a_bad_certificate() {
    let dir = tempfile_dir("tls");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());

    let (child, base) = serve(&dir, &["--tls-cert", cert, "--tls-key", key]);
    let port = base
        .strip_prefix("https://127.0.0.1:")
        .unwrap_or_else(|| panic!("an https address: {base}"));
    let resolve = format!("localhost:{port}:127.0.0.1");
    let answer = curl(&[
        "--cacert",
        cert,
        "--resolve",
        &resolve,
        "-w",
        " %{http_version}",
        &format!("https://localhost:{port}/healthz"),
    ]);
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.ends_with(" 2"), "HTTP/2 over TLS: {answer}");
    // Plain HTTP to the HTTPS port gets no answer.
    let plain = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            &format!("http://127.0.0.1:{port}/healthz"),
        ])
        .output()
        .unwrap();
    assert!(!plain.status.success(), "{plain:?}");
    drop(child);

    // The key given as the certificate: refused at start, naming the file and the likely slip.
    let output = greenlight()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            key,
            "--tls-key",
            cert,
        ])
        .arg("--db")
        .arg(dir.join("ledger.sqlite3"))
        .arg("--audit-key")
        .arg(dir.join("audit.key"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
    assert!(
        stderr.contains(&format!("the TLS certificate `{key}` holds no certificate"))
            && stderr.contains("swapped?"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("greenlight-serve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
