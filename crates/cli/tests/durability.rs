//! What `greenlight serve` acknowledges, it keeps: the real binary on a real ledger (a
//! temporary SQLite file, and a fresh PostgreSQL database when `GREENLIGHT_TEST_POSTGRES_URL` is
//! set; under `CI=true` its absence fails), asked over HTTP with an API token as a client
//! program would.
//!
//! - A burst of concurrent declaration POSTs, the server killed with SIGKILL in the middle of it
//!   and started again: every declaration answered 2xx is in the ledger, nothing is there twice,
//!   and `greenlight audit verify` passes.
//! - Two `serve` processes on one PostgreSQL database, written to at once: every acknowledged
//!   write is there and the audit log verifies as one chain.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use greenlight_store_tests::{Backend, Fixture};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

mod support;
use support::ledger::{Cli, bare};

/// The production every declaration is for, and its coordinator.
const TITLE: &str = "The Long Night";
const COORDINATOR: &str = "cam";

/// Requests in flight at once in a burst.
const IN_FLIGHT: usize = 32;
/// Declarations a burst would post if nothing stopped it.
const BURST: usize = 400;
/// Acknowledged declarations after which the server is killed.
const KILL_AFTER: usize = 120;

type Body = BoxBody<Bytes, Infallible>;

/// A running `greenlight serve`, killed when dropped (so a failing test leaves no server).
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `greenlight serve` on a free port of 127.0.0.1 on the fixture's ledger.
    fn start(fixture: &Fixture) -> Server {
        let mut child = bare()
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
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
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Server { child, base }
    }

    /// SIGKILL: no shutdown, no flush, nothing the process could still do.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "killed, not exited: {status:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client program: one API token, plain HTTP/1.1 with a connection pool.
#[derive(Clone)]
struct Api {
    http: Client<HttpConnector, Body>,
    bearer: String,
}

/// What one POST came to.
enum Posted {
    /// Answered 2xx: the declaration's id.
    Stored(String),
    /// No answer (the server is gone), or no whole answer.
    Lost,
}

impl Api {
    fn new(secret: &str) -> Api {
        Api {
            http: Client::builder(TokioExecutor::new()).build_http(),
            bearer: format!("Bearer {secret}"),
        }
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes), String> {
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header("authorization", &self.bearer);
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/toml");
                Bytes::from(body)
            }
            None => Bytes::new(),
        };
        let request = request.body(Full::new(body).boxed()).unwrap();
        let answer = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| format!("{e:?}"))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{e:?}"))?;
            Ok((status, body.to_bytes()))
        };
        tokio::time::timeout(Duration::from_secs(60), answer)
            .await
            .map_err(|_| "no answer within 60 s".to_owned())?
    }

    /// Submits declaration `n` of `production` to `base`.
    async fn declare(&self, base: &str, production: &str, n: usize) -> Posted {
        let url = format!("{base}/api/v1/declarations?production={production}");
        match self.send(Method::POST, &url, Some(declaration(n))).await {
            Ok((status, body)) if status.is_success() => {
                let answer: Value = serde_json::from_slice(&body)
                    .unwrap_or_else(|e| panic!("a 2xx whose body is not JSON ({e}): {body:?}"));
                Posted::Stored(answer["declaration"]["id"].as_str().unwrap().to_owned())
            }
            Ok((status, body)) => panic!(
                "declaration {n}: {status} {}",
                String::from_utf8_lossy(&body)
            ),
            Err(_) => Posted::Lost,
        }
    }

    /// Every declaration of `production`, through the listing's cursor.
    async fn stored(&self, base: &str, production: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut after = String::new();
        loop {
            let url =
                format!("{base}/api/v1/productions/{production}/declarations?limit=1000{after}");
            let (status, body) = self.send(Method::GET, &url, None).await.unwrap();
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
            let page: Value = serde_json::from_slice(&body).unwrap();
            for declaration in page["declarations"].as_array().unwrap() {
                ids.push(declaration["id"].as_str().unwrap().to_owned());
            }
            match page["next"].as_str() {
                Some(next) => after = format!("&after={next}"),
                None => return ids,
            }
        }
    }
}

/// A small declaration of the production, told apart by its title.
fn declaration(n: usize) -> String {
    format!(
        "title = \"use {n}\"\nproduction = \"{TITLE}\"\nproduction_kind = \"scripted\"\n\
         stage = \"pre_production\"\npurpose = \"mood_board\"\n"
    )
}

/// The account, the production and a coordinator's token, made with the CLI as a studio's
/// administrator would: the production's id and the token's secret.
fn set_up(cli: &Cli<'_>) -> (String, String) {
    cli.run(
        "setup",
        &["user", "create", COORDINATOR, "--name", "Cam Ortiz"],
    )
    .expect(0, "user create");
    let production = cli.id_of(
        "setup",
        &[
            "production",
            "create",
            TITLE,
            "--contact",
            "Dana Price <dana@studio.example>",
            "--member",
            &format!("{COORDINATOR}=coordinator=Cam Ortiz"),
        ],
    );
    let issued = cli
        .run(
            "setup",
            &[
                "token",
                "create",
                "--user",
                COORDINATOR,
                "--name",
                "burst",
                "--role",
                "coordinator",
                "--production",
                &production,
                "--expires",
                "1",
                "--format",
                "json",
            ],
        )
        .expect(0, "token create")
        .json();
    (production, issued["secret"].as_str().unwrap().to_owned())
}

/// `greenlight audit verify` passes; the number of entries it checked.
fn verify(cli: &Cli<'_>) -> u64 {
    let run = cli.run("setup", &["audit", "verify", "--format", "json"]);
    let verified = run.json();
    assert_eq!(run.code, 0, "audit verify: {verified}\n{}", run.stderr);
    assert_eq!(verified["ok"], true, "{verified}");
    verified["entries"].as_u64().unwrap()
}

/// `writers` tasks post declarations `from..from + count` to `base`, each taking the next
/// number, and stop at the first request that gets no answer. Returns the ids answered 2xx;
/// `acked` counts them as they come.
async fn burst(
    client: &Api,
    base: &str,
    production: &str,
    (from, count): (usize, usize),
    writers: usize,
    acked: Arc<AtomicUsize>,
) -> (Vec<String>, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let lost = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (client, base, production) = (client.clone(), base.to_owned(), production.to_owned());
        let (next, acked, lost) = (Arc::clone(&next), Arc::clone(&acked), Arc::clone(&lost));
        tasks.push(tokio::spawn(async move {
            let mut stored = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return stored;
                }
                match client.declare(&base, &production, from + n).await {
                    Posted::Stored(id) => {
                        stored.push(id);
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    Posted::Lost => {
                        lost.fetch_add(1, Ordering::Relaxed);
                        return stored;
                    }
                }
            }
        }));
    }
    let mut stored = Vec::new();
    for task in tasks {
        stored.extend(task.await.unwrap());
    }
    let lost = lost.load(Ordering::Relaxed);
    (stored, lost)
}

async fn kill9_mid_burst(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let backend = fixture.backend;
    let cli = Cli { fixture: &fixture };
    let (production, secret) = set_up(&cli);
    let client = Api::new(&secret);
    let server = Server::start(&fixture);
    let base = server.base.clone();
    let acked = Arc::new(AtomicUsize::new(0));
    let writing = {
        let (client, base, production) = (client.clone(), base.clone(), production.clone());
        let acked = Arc::clone(&acked);
        tokio::spawn(async move {
            burst(&client, &base, &production, (0, BURST), IN_FLIGHT, acked).await
        })
    };
    // Kill once enough writes are acknowledged, with the rest of the burst still in flight.
    let waited = tokio::time::Instant::now();
    while acked.load(Ordering::Relaxed) < KILL_AFTER {
        assert!(
            !writing.is_finished(),
            "{backend:?}: the burst ended before the kill"
        );
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "{backend:?}: {} writes acknowledged in 120 s",
            acked.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill9();
    let (acknowledged, lost) = writing.await.unwrap();
    eprintln!(
        "{backend:?}: {} acknowledged, {lost} unanswered when the server was killed",
        acknowledged.len()
    );
    assert!(
        lost > 0 && acknowledged.len() < BURST,
        "{backend:?}: the kill came after the burst: {} acknowledged, {lost} unanswered",
        acknowledged.len()
    );

    let server = Server::start(&fixture);
    let listed = client.stored(&server.base, &production).await;
    drop(server);
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "{backend:?}: a declaration listed twice"
    );
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !unique.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{backend:?}: {} of {} acknowledged declarations are not in the ledger after the restart: \
         {missing:?}",
        missing.len(),
        acknowledged.len()
    );
    // Only what was sent can be there: those acknowledged, and at most one more per writer
    // whose answer the kill cut off.
    assert!(
        listed.len() <= acknowledged.len() + IN_FLIGHT,
        "{backend:?}: {} stored, {} acknowledged",
        listed.len(),
        acknowledged.len()
    );
    let entries = verify(&cli);
    assert!(
        entries as usize > listed.len(),
        "{backend:?}: {entries} entries"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_acknowledged_before_a_kill_9_is_there_after_the_restart_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, kill9_mid_burst).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_acknowledged_before_a_kill_9_is_there_after_the_restart_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, kill9_mid_burst).await;
}

/// Two servers on one PostgreSQL database, each taking a burst of concurrent writes at the same
/// time: every write is acknowledged and there, and the audit log is one chain that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_database_keep_one_audit_chain() {
    if greenlight_store_tests::postgres_admin_url().is_none() {
        eprintln!(
            "two servers on one database: skipped, it needs PostgreSQL \
             (eval \"$(scripts/postgres.sh)\")"
        );
        return;
    }
    greenlight_store_tests::run(Backend::Postgres, two_servers).await;
}

async fn two_servers(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let cli = Cli { fixture: &fixture };
    let (production, secret) = set_up(&cli);
    let before = verify(&cli);
    let client = Api::new(&secret);
    let (one, two) = (Server::start(&fixture), Server::start(&fixture));
    const EACH: usize = 150;
    let acked = Arc::new(AtomicUsize::new(0));
    let writes = [(&one, 0), (&two, EACH)].map(|(server, from)| {
        let (client, base, production) = (client.clone(), server.base.clone(), production.clone());
        let acked = Arc::clone(&acked);
        tokio::spawn(async move {
            burst(
                &client,
                &base,
                &production,
                (from, EACH),
                IN_FLIGHT / 2,
                acked,
            )
            .await
        })
    });
    let mut acknowledged = Vec::new();
    for write in writes {
        let (stored, lost) = write.await.unwrap();
        assert_eq!(lost, 0, "a server left a write unanswered");
        assert_eq!(stored.len(), EACH);
        acknowledged.extend(stored);
    }
    // Each server lists what both wrote.
    for server in [&one, &two] {
        let listed: BTreeSet<String> = client
            .stored(&server.base, &production)
            .await
            .into_iter()
            .collect();
        let written: BTreeSet<String> = acknowledged.iter().cloned().collect();
        assert_eq!(listed, written, "{} lists another set", server.base);
    }
    drop((one, two));
    let entries = verify(&cli);
    // Each declaration is at least one audited record.
    assert!(
        entries >= before + 2 * EACH as u64,
        "{entries} entries, {before} before the writes"
    );
    Ok(())
}
