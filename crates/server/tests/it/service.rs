//! The service around the routes: security headers, health and readiness,
//! the request timeout and graceful shutdown.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::Request;
use greenlight_server::ServerConfig;
use greenlight_store::{AuditKey, Ledger, SystemClock};
use greenlight_store_postgres::PostgresStore;
use http_body_util::BodyExt as _;

use crate::support::{root, spawn_default, spawn_with};

#[tokio::test]
async fn security_headers_are_on_every_answer() {
    let app = spawn_default().await;
    let ok = app.get("/healthz").await;
    let not_found = app.get("/nowhere").await;
    let bad = app.post("/api/v1/assess", "application/json", "{").await;
    for reply in [ok, not_found, bad] {
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert!(
            header("content-security-policy")
                .unwrap()
                .starts_with("default-src 'none'")
        );
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
    }
}

#[tokio::test]
async fn healthz_and_readyz_answer_on_a_sqlite_ledger() {
    let app = spawn_default().await;
    let reply = app.get("/healthz").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["status"], "ok");
    let reply = app.get("/readyz").await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["status"], "ok");
}

#[tokio::test]
async fn readyz_is_a_503_when_the_ledger_does_not_answer() {
    // A PostgreSQL URL nothing answers (port 1 on this machine is closed).
    let url = "postgres://greenlight:secret@127.0.0.1:1/greenlight";
    let opener: greenlight_server::Opener = std::sync::Arc::new(move || {
        Box::pin(async move {
            let store: std::sync::Arc<dyn greenlight_store::Store> =
                std::sync::Arc::new(PostgresStore::connect(url).await?);
            Ok(Ledger::new(
                store,
                std::sync::Arc::new(SystemClock),
                AuditKey::generate()?,
            ))
        })
    });
    let app = spawn_with(
        ServerConfig::default(),
        opener,
        tempfile::tempdir().unwrap(),
    )
    .await;
    assert_eq!(app.get("/healthz").await.status, 200, "the process is up");
    let reply = app.get("/readyz").await;
    let problem = reply.problem(503);
    // The cause is logged, never sent: no address, no password, no driver text.
    let text = String::from_utf8_lossy(&reply.body);
    assert!(
        !text.contains("127.0.0.1") && !text.contains("secret") && !text.contains("PostgreSQL"),
        "{text}"
    );
    assert!(problem["detail"].as_str().unwrap().contains("ledger"));
    // Stateless triage does not need the ledger.
    let declaration = std::fs::read_to_string(root().join("examples/m1-mood-board.toml")).unwrap();
    assert_eq!(
        app.post("/api/v1/assess", "application/toml", declaration)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_is_a_408_problem() {
    let config = ServerConfig {
        request_timeout: 1,
        ..ServerConfig::default()
    };
    let app = crate::support::spawn(config).await;
    // A body that never finishes arriving.
    let (mut sender, body) = http_body_util::Channel::<Bytes>::new(1);
    let request = Request::post(format!("{}/api/v1/assess", app.base))
        .header("content-type", "application/toml")
        .body(body.boxed())
        .unwrap();
    sender
        .send_data(Bytes::from_static(b"title = "))
        .await
        .unwrap();
    let reply = app.send_request(request).await;
    let problem = reply.problem(408);
    assert!(
        problem["detail"].as_str().unwrap().contains("longer"),
        "{problem}"
    );
    drop(sender);
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_completes() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let mut app = spawn_default().await;
    let declaration = std::fs::read_to_string(root().join("examples/m1-mood-board.toml")).unwrap();
    let (first, rest) = declaration.split_at(declaration.len() / 2);
    let address = app.base.trim_start_matches("http://").to_owned();
    // A client of its own over TCP: the request's head and half its body are sent.
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/assess HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/toml\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        declaration.len()
    );
    stream
        .write_all(format!("{head}{first}").as_bytes())
        .await
        .unwrap();
    // The server is told to stop only once it has read them (its socket's receive queue
    // is empty), so the request is under way, not waiting in the kernel.
    let client_port = stream.local_addr().unwrap().port();
    let server_port = stream.peer_addr().unwrap().port();
    let mut read = false;
    for _ in 0..400 {
        if unread_bytes(server_port, client_port) == Some(0) {
            read = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        read,
        "the server did not read the request's head within 10 s"
    );
    // Hyper parses the head in the poll that reads it; a moment more for the handler.
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.shut_down();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !app.finished(),
        "serve returned with a request in flight: the process would exit under it"
    );
    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the request in flight is answered")
        .expect("the request was cut off at shutdown");
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    let decision: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(decision["level"], "notify");
    app.stopped().await;
    // And no new connection is accepted.
    let refused = tokio::net::TcpStream::connect(&address).await;
    assert!(refused.is_err(), "the listener is closed after shutdown");
}

/// The bytes waiting unread in the receive queue of the loopback socket at `local` whose
/// peer is `remote`, from /proc/net/tcp (`None` when no such socket is listed).
fn unread_bytes(local: u16, remote: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port = |address: &str| {
        address
            .rsplit_once(':')
            .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
    };
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (&local_address, &remote_address, &queues) =
            (fields.get(1)?, fields.get(2)?, fields.get(4)?);
        if port(local_address)? != local || port(remote_address)? != remote {
            return None;
        }
        let (_, rx) = queues.split_once(':')?;
        u64::from_str_radix(rx, 16).ok()
    })
}
