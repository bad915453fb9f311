//! Forwarded headers over real HTTP: believed from a trusted proxy (`--trusted-proxy`) only.
//! The address the sign-in limit counts, and the scheme that makes the cookie `Secure`.

use axum::http::Method;
use greenlight_server::ServerConfig;
use greenlight_store::{Login, MAX_FAILURES_PER_ADDRESS, NewUser};
use serde_json::json;

use crate::support::{App, BACKENDS, spawn_fixture};

const PASSWORD: &str = "correct horse battery staple";

fn trusting_loopback() -> ServerConfig {
    ServerConfig {
        trusted_proxies: vec![greenlight_server::config::parse_cidr("127.0.0.1").unwrap()],
        ..ServerConfig::default()
    }
}

async fn sign_in(app: &App, login: &str, password: &str, headers: &[(&str, &str)]) -> u16 {
    app.call(
        Method::POST,
        "/api/v1/session",
        headers,
        Some(json!({"login": login, "password": password})),
    )
    .await
    .status
    .as_u16()
}

/// Fails as many sign-ins as the per-address limit allows, each for another login (so no
/// account's limit is reached), each with `header` naming another address or `spoofed`.
async fn fail_from(app: &App, header: &str, spoofed: impl Fn(usize) -> String) {
    for i in 0..MAX_FAILURES_PER_ADDRESS {
        let value = spoofed(i);
        let status = sign_in(
            app,
            &format!("nobody{i}"),
            "a wrong guess",
            &[(header, &value)],
        )
        .await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn a_spoofed_x_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    for backend in BACKENDS {
        let Some((app, fixture)) = spawn_fixture(ServerConfig::default(), backend).await else {
            continue;
        };
        let ledger = fixture.ledger();
        user(&ledger, "rae").await;
        // A claimed `https` does not make the cookie `Secure`.
        let reply = app
            .call(
                Method::POST,
                "/api/v1/session",
                &[("x-forwarded-proto", "https")],
                Some(json!({"login": "rae", "password": PASSWORD})),
            )
            .await;
        assert_eq!(reply.status, 201);
        let cookie = reply.headers["set-cookie"].to_str().unwrap();
        assert!(!cookie.contains("Secure"), "{cookie}");
        // Each failure claims another address; all are counted against the peer's own.
        fail_from(&app, "x-forwarded-for", |i| format!("203.0.113.{i}")).await;
        let fresh = [("x-forwarded-for", "198.51.100.1")];
        assert_eq!(sign_in(&app, "rae", PASSWORD, &fresh).await, 429);
        let forwarded = [("forwarded", "for=198.51.100.2")];
        assert_eq!(sign_in(&app, "rae", PASSWORD, &forwarded).await, 429);
        assert!(matches!(
            ledger.login("rae", PASSWORD, "127.0.0.1").await.unwrap(),
            Login::Throttled { .. }
        ));
        // The claimed addresses were never counted.
        assert!(matches!(
            ledger.login("rae", PASSWORD, "203.0.113.1").await.unwrap(),
            Login::SignedIn(_)
        ));
        if let Ok(fixture) = std::sync::Arc::try_unwrap(fixture) {
            fixture.cleanup().await;
        }
    }
}

#[tokio::test]
async fn from_a_trusted_proxy_the_forwarded_address_is_the_one_counted() {
    for backend in BACKENDS {
        let Some((app, fixture)) = spawn_fixture(trusting_loopback(), backend).await else {
            continue;
        };
        let ledger = fixture.ledger();
        user(&ledger, "rae").await;
        // The client put a spoofed hop first; the proxy appended the address it saw.
        fail_from(&app, "x-forwarded-for", |i| {
            format!("192.0.2.{i}, 203.0.113.9")
        })
        .await;
        let same = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(sign_in(&app, "rae", PASSWORD, &same).await, 429);
        let same = [("forwarded", r#"for="203.0.113.9:4711""#)];
        assert_eq!(sign_in(&app, "rae", PASSWORD, &same).await, 429);
        assert!(matches!(
            ledger.login("rae", PASSWORD, "203.0.113.9").await.unwrap(),
            Login::Throttled { .. }
        ));
        // Another client behind the same proxy, and the proxy itself, are not held back.
        let reply = app
            .call(
                Method::POST,
                "/api/v1/session",
                &[
                    ("x-forwarded-for", "198.51.100.1"),
                    ("x-forwarded-proto", "https"),
                ],
                Some(json!({"login": "rae", "password": PASSWORD})),
            )
            .await;
        assert_eq!(reply.status, 201);
        // The proxy says the client used HTTPS: the cookie is `Secure`.
        let cookie = reply.headers["set-cookie"].to_str().unwrap();
        assert!(cookie.contains("; Secure"), "{cookie}");
        let plain = app
            .call(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(json!({"login": "rae", "password": PASSWORD})),
            )
            .await;
        assert_eq!(plain.status, 201);
        let cookie = plain.headers["set-cookie"].to_str().unwrap();
        assert!(!cookie.contains("Secure"), "{cookie}");
        // The ledger recorded the forwarded address of each attempt.
        let audit = ledger.audit_entries(None, 1_000).await.unwrap();
        let addresses: Vec<String> = audit
            .iter()
            .filter(|entry| entry.kind == "login_attempt")
            .filter_map(|entry| {
                let after: serde_json::Value =
                    serde_json::from_str(entry.after.as_deref()?).ok()?;
                Some(after["address"].as_str()?.to_owned())
            })
            .collect();
        assert!(
            addresses.contains(&"198.51.100.1".to_owned()),
            "{addresses:?}"
        );
        assert!(addresses.contains(&"127.0.0.1".to_owned()), "{addresses:?}");
        assert!(
            addresses.iter().filter(|a| *a == "203.0.113.9").count() >= MAX_FAILURES_PER_ADDRESS,
            "{addresses:?}"
        );
        if let Ok(fixture) = std::sync::Arc::try_unwrap(fixture) {
            fixture.cleanup().await;
        }
    }
}

async fn user(ledger: &greenlight_store::Ledger<dyn greenlight_store::Store>, login: &str) {
    ledger
        .create_user(
            "setup",
            NewUser {
                login: login.to_owned(),
                name: String::new(),
                roles: Vec::new(),
                password: PASSWORD.to_owned(),
            },
        )
        .await
        .unwrap();
}
