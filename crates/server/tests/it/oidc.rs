//! OIDC sign-in end to end over real HTTP, on SQLite and (when configured) PostgreSQL: a
//! browser (reqwest, following redirects, keeping cookies) goes from greenlight to the
//! provider the test runs (`provider.rs`) and back; the session it gets is the one password
//! sign-in gives. Every refusal (wrong nonce, audience, expired token, bad signature,
//! replayed state, another browser, unknown or disabled account) is a clear problem that
//! makes no session, and the audit log records each.

use std::sync::{Arc, Mutex};

use greenlight_server::ServerConfig;
use greenlight_server::config::Secret;
use greenlight_store::{GlobalRole, Ledger, NewUser, Store};
use reqwest::cookie::CookieStore as _;
use serde_json::json;

use crate::provider::{CLIENT_ID, CLIENT_SECRET, Person, Provider};
use crate::support::{App, BACKENDS, Backend, Fixture, spawn_oidc};

const CALLBACK: &str = "/api/v1/session/oidc/callback";

fn config(provider: &Provider, redirect_base: &str) -> ServerConfig {
    ServerConfig {
        oidc_issuer: Some(provider.issuer.clone()),
        oidc_client_id: Some(CLIENT_ID.to_owned()),
        oidc_client_secret: Some(Secret(CLIENT_SECRET.to_owned())),
        oidc_redirect_url: Some(format!("{redirect_base}{CALLBACK}")),
        oidc_provider_name: Some("Test IdP".to_owned()),
        ..ServerConfig::default()
    }
}

/// A browser: a cookie jar, and every URL it was redirected to.
struct Browser {
    client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
    hops: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    fn new() -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let hops = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&hops);
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                seen.lock().unwrap().push(attempt.url().to_string());
                if attempt.previous().len() > 5 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .unwrap();
        Browser { client, jar, hops }
    }

    /// Signs in through the provider, from `app`: the last answer of the redirects.
    async fn sign_in(&self, app: &App) -> reqwest::Response {
        self.client
            .get(format!("{}/api/v1/session/oidc", app.base))
            .send()
            .await
            .unwrap()
    }

    fn cookie(&self, base: &str, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&format!("{base}/api/v1/session/oidc")).unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    }

    fn callback(&self) -> String {
        self.hops
            .lock()
            .unwrap()
            .iter()
            .find(|u| u.contains(CALLBACK))
            .cloned()
            .expect("the provider sent the browser back")
    }

    async fn me(&self, base: &str) -> reqwest::StatusCode {
        self.client
            .get(format!("{base}/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// Asserts a refusal: a 403 problem whose detail says `words`, and no session.
async fn refused(browser: &Browser, app: &App, response: reqwest::Response, words: &str) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 403, "{problem}");
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(problem["type"], "/problems/sign-in-refused");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(words), "`{words}` not in: {detail}");
    assert!(browser.cookie(&app.base, "greenlight_session").is_none());
    assert_eq!(browser.me(&app.base).await, 401);
}

async fn user(ledger: &Ledger<dyn Store>, login: &str) {
    ledger
        .create_user(
            "admin",
            NewUser {
                login: login.to_owned(),
                name: String::new(),
                roles: vec![GlobalRole::Auditor],
                password: "correct horse battery staple".to_owned(),
            },
        )
        .await
        .unwrap();
}

/// Every audit entry, one line each.
async fn audit_text(ledger: &Ledger<dyn Store>) -> String {
    let mut text = String::new();
    let mut after = None;
    loop {
        let page = ledger.audit_entries(after, 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        for entry in &page {
            text.push_str(&format!(
                "{} {} {} {:?}\n",
                entry.actor, entry.action, entry.kind, entry.after
            ));
        }
    }
    text
}

async fn sessions(ledger: &Ledger<dyn Store>) -> usize {
    audit_text(ledger)
        .await
        .lines()
        .filter(|l| l.contains(" create session "))
        .count()
}

#[tokio::test]
async fn oidc_sign_in_makes_the_password_session_and_refuses_what_does_not_verify() {
    for backend in BACKENDS {
        let Some(fixture) = Fixture::new(backend).await else {
            continue;
        };
        eprintln!("on {backend:?}");
        story(&fixture).await;
        fixture.cleanup().await;
    }
}

async fn story(fixture: &Fixture) {
    let ledger = fixture.ledger();
    user(&ledger, "rae@studio.example").await;
    user(&ledger, "off@studio.example").await;
    ledger
        .set_user_disabled("admin", "off@studio.example", true)
        .await
        .unwrap();
    let provider = Provider::start(Person::new("sub-rae", "rae@studio.example")).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = spawn_oidc(listener, config(&provider, &base), fixture.ledger());

    // Success: the browser ends at `/` with the session cookie, which `/api/v1/me` takes.
    let browser = Browser::new();
    let last = browser.sign_in(&app).await;
    assert_eq!(last.url().as_str(), format!("{base}/"));
    assert!(browser.cookie(&base, "greenlight_session").is_some());
    assert!(
        browser.cookie(&base, "greenlight_oidc").is_none(),
        "the flow cookie is cleared"
    );
    let me: serde_json::Value = browser
        .client
        .get(format!("{base}/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["login"], "rae@studio.example", "{me}");
    assert_eq!(me["via"], "session");
    let hops = browser.hops.lock().unwrap().clone();
    let authorize = hops.first().unwrap();
    for part in [
        "code_challenge_method=S256",
        "nonce=",
        "state=",
        "scope=openid",
    ] {
        assert!(authorize.contains(part), "{authorize}");
    }
    // The CSRF token comes in its cookie, and works with the session.
    let csrf = browser
        .cookie(&base, "greenlight_csrf")
        .expect("a CSRF cookie");
    let out = browser
        .client
        .delete(format!("{base}/api/v1/session"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(browser.me(&base).await, 401);
    assert_eq!(
        ledger
            .oidc_links_of("rae@studio.example")
            .await
            .unwrap()
            .len(),
        1
    );
    let signed_in = sessions(&ledger).await;
    assert_eq!(signed_in, 1);

    // A replayed callback (with its state's cookie, as an attacker holding the URL would
    // send it) is refused: the state is used once.
    let replay = Browser::new();
    let callback = browser.callback();
    let state = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let response = replay
        .client
        .get(&callback)
        .header("cookie", format!("greenlight_oidc={state}"))
        .send()
        .await
        .unwrap();
    refused(&replay, &app, response, "already completed").await;

    // A callback in a browser that did not begin the sign-in (login CSRF) is refused.
    let victim = Browser::new();
    let attacker = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let to_provider = attacker
        .get(format!("{base}/api/v1/session/oidc"))
        .send()
        .await
        .unwrap();
    assert_eq!(to_provider.status(), 303);
    let location = to_provider.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.starts_with(&provider.issuer), "{location}");
    let back = attacker.get(&location).send().await.unwrap();
    let link = back.headers()["location"].to_str().unwrap().to_owned();
    let response = victim.client.get(&link).send().await.unwrap();
    refused(&victim, &app, response, "not begun in this browser").await;

    // Each ID token that does not verify is refused.
    let cases: [(&str, Person); 4] = [
        (
            "nonce is not this sign-in's",
            Person {
                nonce: Some("another-nonce".to_owned()),
                ..Person::new("sub-rae", "rae@studio.example")
            },
        ),
        (
            "not for this client",
            Person {
                audience: Some("another-client".to_owned()),
                ..Person::new("sub-rae", "rae@studio.example")
            },
        ),
        (
            "has expired",
            Person {
                expired: true,
                ..Person::new("sub-rae", "rae@studio.example")
            },
        ),
        (
            "signature does not verify",
            Person {
                foreign_key: true,
                ..Person::new("sub-rae", "rae@studio.example")
            },
        ),
    ];
    for (words, person) in cases {
        provider.sign_in_as(person);
        let browser = Browser::new();
        let response = browser.sign_in(&app).await;
        refused(&browser, &app, response, words).await;
    }

    // An email the provider does not say it verified links nothing: `email_verified: false`
    // (whatever else is sent), and, as Entra ID sends by default, neither `email_verified`
    // nor `xms_edov`, or an `xms_edov` that is false.
    let unverified = |email_verified, xms_edov| Person {
        email_verified,
        xms_edov,
        ..Person::new("sub-ann", "ann@studio.example")
    };
    user(&ledger, "ann@studio.example").await;
    for person in [
        unverified(Some(false), Some(json!(true))),
        unverified(None, None),
        unverified(None, Some(json!(false))),
        unverified(None, Some(json!("0"))),
    ] {
        provider.sign_in_as(person);
        let browser = Browser::new();
        let response = browser.sign_in(&app).await;
        refused(
            &browser,
            &app,
            response,
            "did not say the email is verified",
        )
        .await;
    }
    assert!(
        ledger
            .oidc_links_of("ann@studio.example")
            .await
            .unwrap()
            .is_empty()
    );

    // Entra ID's `xms_edov: true` (a boolean, or "1" in some tenants) verifies the email
    // when no `email_verified` is sent: the account is linked.
    for (subject, email, edov) in [
        ("sub-ann", "ann@studio.example", json!(true)),
        ("sub-eve", "eve@studio.example", json!("1")),
    ] {
        if email != "ann@studio.example" {
            user(&ledger, email).await;
        }
        provider.sign_in_as(Person {
            email_verified: None,
            xms_edov: Some(edov),
            ..Person::new(subject, email)
        });
        let browser = Browser::new();
        let last = browser.sign_in(&app).await;
        assert_eq!(last.url().as_str(), format!("{base}/"), "{email}");
        assert_eq!(browser.me(&base).await, 200, "{email}");
        assert_eq!(ledger.oidc_links_of(email).await.unwrap().len(), 1);
    }
    let signed_in = sessions(&ledger).await;

    // Unknown and disabled accounts are refused; so is another subject with a linked
    // account's email.
    for (words, person) in [
        (
            "no greenlight account",
            Person::new("sub-nobody", "nobody@studio.example"),
        ),
        ("is disabled", Person::new("sub-off", "off@studio.example")),
        (
            "linked to another identity",
            Person::new("sub-mallory", "rae@studio.example"),
        ),
    ] {
        provider.sign_in_as(person);
        let browser = Browser::new();
        let response = browser.sign_in(&app).await;
        refused(&browser, &app, response, words).await;
    }
    assert_eq!(
        sessions(&ledger).await,
        signed_in,
        "no refusal made a session"
    );
    assert!(ledger.user("nobody@studio.example").await.is_err());

    // The subject counts, not the email: rae, now with another email at the provider.
    provider.sign_in_as(Person::new("sub-rae", "rae.fox@elsewhere.example"));
    let browser = Browser::new();
    browser.sign_in(&app).await;
    assert_eq!(browser.me(&base).await, 200);

    // Another instance on the same database completes a sign-in begun on this one.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_base = format!("http://{}", listener.local_addr().unwrap());
    let store = greenlight_store_tests::open(&fixture.target).await.unwrap();
    let clock: Arc<dyn greenlight_store::Clock> = fixture.clock.clone();
    let other_ledger = Ledger::new(
        store,
        clock,
        greenlight_store::AuditKey::load(&fixture.key_path).unwrap(),
    );
    let other = spawn_oidc(listener, config(&provider, &other_base), other_ledger);
    let first = spawn_oidc(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        config(&provider, &other_base),
        fixture.ledger(),
    );
    let browser = Browser::new();
    let last = browser.sign_in(&first).await;
    assert_eq!(last.url().as_str(), format!("{other_base}/"));
    assert_eq!(browser.me(&other.base).await, 200);
    assert_eq!(browser.me(&first.base).await, 200);

    // The audit log holds every attempt, with its reason, and no secret.
    let text = audit_text(&ledger).await;
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" login_attempt ") && l.contains(r#"\"outcome\":\"failed\""#))
        .collect();
    assert_eq!(failed.len(), 13, "{text}");
    for words in [
        "already completed",
        "not begun in this browser",
        "nonce is not this sign-in's",
        "not for this client",
        "has expired",
        "signature does not verify",
        "did not say the email is verified",
        "no greenlight account",
        "is disabled",
        "linked to another identity",
    ] {
        assert!(failed.iter().any(|l| l.contains(words)), "{words}: {text}");
    }
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(" login_attempt ") && l.contains(r#"\"outcome\":\"succeeded\""#))
            .count(),
        5,
        "rae's three and the two Entra-style sign-ins"
    );
    assert!(!text.contains(CLIENT_SECRET));
    assert!(!text.contains("code-"), "no authorization code is kept");
    let report = ledger.verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn without_a_provider_the_routes_say_so_and_a_provider_down_is_a_502() {
    let Some(fixture) = Fixture::new(Backend::Sqlite).await else {
        return;
    };
    let app = spawn_oidc(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        ServerConfig::default(),
        fixture.ledger(),
    );
    let reply = app.get("/api/v1/session/oidc").await;
    let problem = reply.problem(404);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("--oidc-issuer"),
        "{problem}"
    );
    app.get(&format!("{CALLBACK}?state=x&code=y"))
        .await
        .problem(404);

    // A provider that is not there: a clear 502 naming it, nothing begun.
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", gone.local_addr().unwrap());
    drop(gone);
    let config = ServerConfig {
        oidc_issuer: Some(issuer.clone()),
        oidc_client_id: Some(CLIENT_ID.to_owned()),
        oidc_redirect_url: Some(format!("http://127.0.0.1:1{CALLBACK}")),
        ..ServerConfig::default()
    };
    let down = spawn_oidc(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        config,
        fixture.ledger(),
    );
    let problem = down.get("/api/v1/session/oidc").await.problem(502);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&issuer) && detail.contains("cannot be reached"),
        "{detail}"
    );
    // A callback without a state is a 400 naming it.
    let problem = down.get(CALLBACK).await.problem(400);
    assert!(
        problem["detail"].as_str().unwrap().contains("state"),
        "{problem}"
    );
    fixture.cleanup().await;
}
