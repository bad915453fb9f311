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
    let mut app = spawn_default().await;
    let declaration = std::fs::read_to_string(root().join("examples/m1-mood-board.toml")).unwrap();
    let (first, rest) = declaration.split_at(declaration.len() / 2);
    let (mut sender, body) = http_body_util::Channel::<Bytes>::new(2);
    let request = Request::post(format!("{}/api/v1/assess", app.base))
        .header("content-type", "application/toml")
        .header("content-length", declaration.len())
        .body(body.boxed())
        .unwrap();
    let client = app.client();
    let in_flight = tokio::spawn(async move { client.request(request).await });
    sender
        .send_data(Bytes::from(first.to_owned()))
        .await
        .unwrap();
    // The server has the request's head and half its body when it is told to stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.shut_down();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !in_flight.is_finished(),
        "the request was cut off at shutdown"
    );
    assert!(
        !app.finished(),
        "serve returned with a request in flight: the process would exit under it"
    );
    sender
        .send_data(Bytes::from(rest.to_owned()))
        .await
        .unwrap();
    drop(sender);
    let response = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let decision: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(decision["level"], "notify");
    app.stopped().await;
    // And no new connection is accepted.
    let refused = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await;
    assert!(refused.is_err(), "the listener is closed after shutdown");
}
