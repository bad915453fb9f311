//! Notifications end to end: a real SMTP receiver and a real webhook receiver on loopback,
//! an escalated declaration approved through the API, receivers down for a while, and a
//! receiver that always fails (and an admin's retry of it); approvals and consents nearing
//! their expiry told once, with two servers sweeping one database; on both backends.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use chrono::TimeDelta;
use greenlight_server::{Opener, ServerConfig};
use greenlight_store::{
    ConsentKind, ConsentScope, ConsentStatus, Contact, GlobalRole, Member, NewConsent,
    NewPerformer, NewProduction, NewToken, NewUser, Production, Role, TokenRole,
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::support::{App, BACKENDS, Backend, Fixture, spawn_fixture, spawn_with};
use crate::world::{PASSWORD, escalating};

const SECRET: &str = "a-webhook-secret-of-some-length";
const COORDINATOR: &str = "cam@studio.example";
const REVIEWER: &str = "rae@studio.example";
const LEGAL: &str = "lee@studio.example";

/// One mail as the SMTP receiver took it.
#[derive(Clone, Debug)]
struct Mail {
    to: Vec<String>,
    data: String,
}

/// A small SMTP server speaking real SMTP over TCP.
#[derive(Clone, Default)]
struct SmtpReceiver {
    mails: Arc<Mutex<Vec<Mail>>>,
}

/// How the receiver speaks: plain, TLS from the first byte (`smtps://`), or plain until
/// the client asks for STARTTLS, which it must before sending mail.
#[derive(Clone)]
enum Wire {
    Plain,
    Tls(TlsAcceptor),
    StartTls(TlsAcceptor),
}

impl SmtpReceiver {
    fn start(&self, listener: TcpListener) {
        self.start_with(listener, Wire::Plain);
    }

    fn start_with(&self, listener: TcpListener, wire: Wire) {
        let mails = self.mails.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (mails, wire) = (mails.clone(), wire.clone());
                tokio::spawn(async move {
                    match wire {
                        Wire::Plain => session(stream, mails, None, true).await,
                        Wire::Tls(acceptor) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                session(tls, mails, None, true).await;
                            }
                        }
                        Wire::StartTls(acceptor) => {
                            session(stream, mails, Some(acceptor), true).await;
                        }
                    }
                });
            }
        });
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

/// A byte stream a session runs on: TCP, or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One SMTP session on `stream`, greeting first when `greet`; with `starttls`, STARTTLS is
/// offered and mail refused until the session has turned to TLS.
fn session(
    stream: impl Io + 'static,
    mails: Arc<Mutex<Vec<Mail>>>,
    starttls: Option<TlsAcceptor>,
    greet: bool,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    let stream: Box<dyn Io> = Box::new(stream);
    Box::pin(async move {
        let mut lines = BufReader::new(stream);
        if greet {
            lines
                .get_mut()
                .write_all(b"220 receiver ESMTP\r\n")
                .await
                .unwrap();
        }
        let mut to = Vec::new();
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") {
                if starttls.is_some() {
                    b"250-receiver\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
                } else {
                    b"250-receiver\r\n250 8BITMIME\r\n"
                }
            } else if command == "STARTTLS" {
                let Some(acceptor) = starttls.clone() else {
                    lines
                        .get_mut()
                        .write_all(b"502 not here\r\n")
                        .await
                        .unwrap();
                    continue;
                };
                lines
                    .get_mut()
                    .write_all(b"220 go ahead\r\n")
                    .await
                    .unwrap();
                let Ok(tls) = acceptor.accept(lines.into_inner()).await else {
                    return;
                };
                return Box::pin(session(tls, mails, None, false)).await;
            } else if command.starts_with("MAIL") && starttls.is_some() {
                b"530 must issue a STARTTLS command first\r\n"
            } else if command.starts_with("HELO") || command.starts_with("MAIL") {
                b"250 ok\r\n"
            } else if command.starts_with("RCPT TO:") {
                let address = line.trim_end()[8..]
                    .trim()
                    .trim_matches(|c| c == '<' || c == '>')
                    .to_owned();
                to.push(address);
                b"250 ok\r\n"
            } else if command == "DATA" {
                lines.get_mut().write_all(b"354 go on\r\n").await.unwrap();
                let mut data = String::new();
                loop {
                    let mut line = String::new();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                mails.lock().unwrap().push(Mail {
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 queued\r\n"
            } else if command == "QUIT" {
                let _ = lines.get_mut().write_all(b"221 bye\r\n").await;
                return;
            } else if command == "RSET" || command == "NOOP" {
                b"250 ok\r\n"
            } else {
                b"502 not implemented\r\n"
            };
            lines.get_mut().write_all(reply).await.unwrap();
        }
    })
}

/// A studio's own CA (written as `ca.pem` in `dir`) and a TLS acceptor for `localhost` with
/// a certificate it signed, as an internal mail server would have.
fn studio_ca(dir: &std::path::Path) -> (std::path::PathBuf, TlsAcceptor) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "greenlight test studio CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca =
        rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, ca.pem()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone(), ca.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    (path, TlsAcceptor::from(Arc::new(config)))
}

/// One webhook call as the receiver took it.
#[derive(Clone, Debug)]
struct Call {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A webhook receiver over real HTTP: it answers `status` to every call.
#[derive(Clone)]
struct HookReceiver {
    calls: Arc<Mutex<Vec<Call>>>,
    status: StatusCode,
}

impl HookReceiver {
    fn new(status: StatusCode) -> HookReceiver {
        HookReceiver {
            calls: Arc::default(),
            status,
        }
    }

    fn start(&self, listener: TcpListener) {
        let receiver = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let receiver = receiver.clone();
                async move {
                    receiver.calls.lock().unwrap().push(Call {
                        headers,
                        body: body.to_vec(),
                    });
                    receiver.status
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

/// A free loopback port, not listened on (until the test binds it).
async fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// Checks a call's signature as a receiver would, with its own HMAC; returns the event.
fn verified(call: &Call) -> Value {
    let timestamp = call.headers["x-greenlight-timestamp"].to_str().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((now - timestamp.parse::<i64>().unwrap()).abs() < 300);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&call.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(call.headers["x-greenlight-signature"], expected.as_str());
    assert_eq!(call.headers["content-type"], "application/json");
    serde_json::from_slice(&call.body).unwrap()
}

/// The setting of a notification test: a server with `config`, a production whose
/// coordinator, reviewer and legal sign in by e-mail address, and their tokens.
struct Setting {
    app: App,
    fixture: Arc<Fixture>,
    production: Production,
    tokens: Vec<(String, String)>,
}

impl Setting {
    async fn new(config: ServerConfig, backend: Backend) -> Option<Self> {
        let (app, fixture) = spawn_fixture(config, backend).await?;
        let ledger = fixture.ledger();
        let mut members = Vec::new();
        for (login, role) in [
            (COORDINATOR, Role::Coordinator),
            (REVIEWER, Role::Reviewer),
            (LEGAL, Role::Legal),
        ] {
            members.push(Member {
                person: login.to_owned(),
                name: login.to_owned(),
                roles: vec![role],
            });
        }
        let production = ledger
            .create_production(
                "setup",
                NewProduction {
                    title: "The Long Night".to_owned(),
                    kind: greenlight_core::ProductionKind::Scripted,
                    studio_contact: Contact {
                        name: "Dana".to_owned(),
                        email: "dana@studio.example".to_owned(),
                    },
                    members,
                },
            )
            .await
            .unwrap();
        let mut tokens = Vec::new();
        for (login, role) in [
            (COORDINATOR, TokenRole::Production(Role::Coordinator)),
            (REVIEWER, TokenRole::Production(Role::Reviewer)),
            (LEGAL, TokenRole::Production(Role::Legal)),
            ("ada", TokenRole::Global(GlobalRole::Admin)),
        ] {
            let roles = if login == "ada" {
                vec![GlobalRole::Admin]
            } else {
                Vec::new()
            };
            ledger
                .create_user(
                    "setup",
                    NewUser {
                        login: login.to_owned(),
                        name: login.to_owned(),
                        roles,
                        password: PASSWORD.to_owned(),
                    },
                )
                .await
                .unwrap();
            let issued = ledger
                .create_token(
                    "setup",
                    NewToken {
                        user_login: login.to_owned(),
                        name: "test".to_owned(),
                        productions: Vec::new(),
                        role,
                        expires_at: ledger.now().plus(TimeDelta::days(3_000)),
                    },
                )
                .await
                .unwrap();
            tokens.push((login.to_owned(), issued.secret));
        }
        // The ledger's clock is the fixture's: it moves on by itself here, ten times faster
        // than the wall's, so that retries fall due.
        let clock = fixture.clock.clone();
        let ticking = Arc::downgrade(&fixture);
        tokio::spawn(async move {
            while ticking.strong_count() > 0 {
                clock.advance(TimeDelta::milliseconds(100));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        Some(Setting {
            app,
            fixture,
            production,
            tokens,
        })
    }

    async fn call(&self, who: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let secret = &self.tokens.iter().find(|(l, _)| l == who).unwrap().1;
        let auth = format!("Bearer {secret}");
        let reply = self
            .app
            .call(method, path, &[("authorization", auth.as_str())], body)
            .await;
        assert!(
            reply.status.is_success(),
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }

    /// Submits the escalating declaration as the coordinator; its id.
    async fn submit(&self) -> String {
        let secret = &self.tokens[0].1;
        let reply = self
            .app
            .send_request(
                axum::http::Request::builder()
                    .method(Method::POST)
                    .uri(format!(
                        "{}/api/v1/declarations?production={}",
                        self.app.base, self.production.id
                    ))
                    .header("authorization", format!("Bearer {secret}"))
                    .header("content-type", "application/toml")
                    .body(http_body_util::BodyExt::boxed(http_body_util::Full::new(
                        axum::body::Bytes::from(escalating()),
                    )))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            reply.status,
            201,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let body = reply.json();
        assert_eq!(body["decision"]["level"], "escalate");
        body["declaration"]["id"].as_str().unwrap().to_owned()
    }

    async fn approve(&self, declaration: &str) {
        self.call(
            REVIEWER,
            Method::POST,
            &format!("/api/v1/declarations/{declaration}/approvals"),
            Some(json!({
                "verdict": "approved",
                "scope": ["props/letter_*.exr"],
                "conditions": ["the letter's text is the studio's own"],
            })),
        )
        .await;
    }

    /// A `POST` with no body as `who`.
    async fn post_as(&self, who: &str, path: &str) -> crate::support::Reply {
        let secret = &self.tokens.iter().find(|(l, _)| l == who).unwrap().1;
        let auth = format!("Bearer {secret}");
        self.app
            .call(
                Method::POST,
                path,
                &[("authorization", auth.as_str())],
                None,
            )
            .await
    }

    /// The outbox as the admin sees it.
    async fn outbox(&self, status: &str) -> Vec<Value> {
        let page = self
            .call(
                "ada",
                Method::GET,
                &format!("/api/v1/outbox?status={status}"),
                None,
            )
            .await;
        page["rows"].as_array().unwrap().clone()
    }

    async fn done(self) {
        let Setting {
            fixture, mut app, ..
        } = self;
        app.shut_down();
        app.stopped().await;
        if let Ok(fixture) = Arc::try_unwrap(fixture) {
            fixture.cleanup().await;
        }
    }
}

/// Waits (up to 20 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

fn config(
    smtp: Option<SocketAddr>,
    hook: Option<SocketAddr>,
    secret: &std::path::Path,
) -> ServerConfig {
    ServerConfig {
        smtp_url: smtp.map(|a| greenlight_server::config::Secret(format!("smtp://{a}"))),
        smtp_from: smtp.map(|_| "greenlight <greenlight@studio.example>".to_owned()),
        webhook_url: hook.map(|a| format!("http://{a}/hook")),
        webhook_secret_file: hook.map(|_| secret.to_owned()),
        notify_attempts: 50,
        notify_retry_ms: 20,
        notify_poll_ms: 20,
        ..ServerConfig::default()
    }
}

fn secret_file() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), format!("{SECRET}\n")).unwrap();
    file
}

#[tokio::test]
async fn an_escalation_and_its_approval_reach_mail_and_the_webhook() {
    let secret = secret_file();
    for backend in BACKENDS {
        let smtp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = config(
            Some(smtp.local_addr().unwrap()),
            Some(hook.local_addr().unwrap()),
            secret.path(),
        );
        let mail = SmtpReceiver::default();
        mail.start(smtp);
        let hooks = HookReceiver::new(StatusCode::NO_CONTENT);
        hooks.start(hook);
        let Some(setting) = Setting::new(config, backend).await else {
            continue;
        };
        eprintln!("on {backend:?}");
        let declaration = setting.submit().await;
        setting.approve(&declaration).await;
        eventually("two webhook calls and three mails arrive", || async {
            hooks.calls().len() >= 2 && mail.mails().len() >= 3
        })
        .await;

        let events: Vec<Value> = hooks.calls().iter().map(verified).collect();
        assert_eq!(events.len(), 2);
        let escalated = events.iter().find(|e| e["event"] == "escalated").unwrap();
        assert_eq!(escalated["declaration"]["id"], declaration.as_str());
        assert_eq!(escalated["production"]["title"], "The Long Night");
        assert_eq!(escalated["level"], "escalate");
        assert_eq!(escalated["actor"], COORDINATOR);
        let decided = events.iter().find(|e| e["event"] == "decided").unwrap();
        assert_eq!(decided["verdict"], "approved");
        assert_eq!(decided["actor"], REVIEWER);
        // Facts by id only: the declaration's text never travels.
        let body = String::from_utf8_lossy(&hooks.calls()[0].body).to_string();
        assert!(!body.contains("description"), "{body}");

        let mails = mail.mails();
        let to = |who: &str| -> Vec<Mail> {
            mails
                .iter()
                .filter(|m| m.to == [who.to_owned()])
                .cloned()
                .collect()
        };
        for reviewer in [REVIEWER, LEGAL] {
            let got = to(reviewer);
            assert_eq!(got.len(), 1, "{reviewer}: {mails:?}");
            assert!(got[0].data.contains("escalated"), "{}", got[0].data);
            assert!(got[0].data.contains(&declaration), "{}", got[0].data);
            assert!(
                got[0]
                    .data
                    .contains("From: greenlight <greenlight@studio.example>")
            );
        }
        let got = to(COORDINATOR);
        assert_eq!(got.len(), 1, "{mails:?}");
        assert!(
            got[0].data.contains("approved by rae@studio.example"),
            "{}",
            got[0].data
        );

        eventually("every row is marked sent", || async {
            setting.outbox("sent").await.len() == 5
        })
        .await;
        assert!(setting.outbox("pending").await.is_empty());
        // A sent row is not retried.
        let sent = setting.outbox("sent").await;
        let id = sent[0]["id"].as_str().unwrap();
        setting
            .post_as("ada", &format!("/api/v1/outbox/{id}/retry"))
            .await
            .problem(409);
        // Nothing more arrives: each row was sent once.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(hooks.calls().len(), 2);
        assert_eq!(mail.mails().len(), 3);
        setting.done().await;
    }
}

#[tokio::test]
async fn mail_reaches_a_server_the_studio_ca_signed_over_tls_and_starttls_and_not_without_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, acceptor) = studio_ca(dir.path());
    let unused = secret_file();
    let with = |url: String, ca: Option<&std::path::Path>| ServerConfig {
        smtp_url: Some(greenlight_server::config::Secret(url)),
        smtp_from: Some("greenlight <greenlight@studio.example>".to_owned()),
        smtp_ca: ca.map(std::path::Path::to_owned),
        notify_attempts: 2,
        ..config(None, None, unused.path())
    };
    for (wire, scheme) in [
        (Wire::Tls(acceptor.clone()), "smtps://localhost:{port}"),
        (
            Wire::StartTls(acceptor.clone()),
            "smtp://localhost:{port}?tls=required",
        ),
    ] {
        let smtp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = scheme.replace("{port}", &smtp.local_addr().unwrap().port().to_string());
        let mail = SmtpReceiver::default();
        mail.start_with(smtp, wire);
        let Some(setting) = Setting::new(with(url.clone(), Some(&ca)), Backend::Sqlite).await
        else {
            return;
        };
        let declaration = setting.submit().await;
        eventually("both reviewers' mails arrive", || async {
            mail.mails().len() >= 2
        })
        .await;
        for m in mail.mails() {
            assert!(m.data.contains(&declaration), "{url}: {}", m.data);
        }
        eventually("both rows are marked sent", || async {
            setting.outbox("sent").await.len() == 2
        })
        .await;
        setting.done().await;
    }

    // Without the studio's CA the mail server's certificate is refused: no mail is sent in
    // the clear, and each row fails with the TLS error for an admin to see and retry.
    for (wire, scheme) in [
        (Wire::Tls(acceptor.clone()), "smtps://localhost:{port}"),
        (
            Wire::StartTls(acceptor.clone()),
            "smtp://localhost:{port}?tls=required",
        ),
    ] {
        let smtp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = scheme.replace("{port}", &smtp.local_addr().unwrap().port().to_string());
        let mail = SmtpReceiver::default();
        mail.start_with(smtp, wire);
        let Some(setting) = Setting::new(with(url.clone(), None), Backend::Sqlite).await else {
            return;
        };
        setting.submit().await;
        eventually("both rows are failed", || async {
            setting.outbox("failed").await.len() == 2
        })
        .await;
        let failed = setting.outbox("failed").await;
        let error = failed[0]["last_error"].as_str().unwrap();
        assert!(
            error.to_lowercase().contains("certificate"),
            "{url}: {error}"
        );
        assert!(mail.mails().is_empty(), "{url}: {:?}", mail.mails());
        setting.done().await;
    }

    // A CA with a URL that asks for no TLS, or a file with no certificate, stops the start.
    let plain = with("smtp://localhost:2525".to_owned(), Some(&ca));
    let Err(refused) = greenlight_server::notify::Notifier::from_config(&plain) else {
        panic!("a CA for a plain URL is refused");
    };
    assert!(refused.to_string().contains("asks for no TLS"), "{refused}");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let wrong = with("smtps://localhost:2525".to_owned(), Some(&empty));
    let Err(refused) = greenlight_server::notify::Notifier::from_config(&wrong) else {
        panic!("a CA file with no certificate is refused");
    };
    assert!(
        refused
            .to_string()
            .contains("empty.pem`: holds no PEM certificate"),
        "{refused}"
    );
}

#[tokio::test]
async fn receivers_down_for_a_while_lose_nothing_and_get_each_notification_once() {
    let secret = secret_file();
    for backend in BACKENDS {
        let smtp = free_port().await;
        let hook = free_port().await;
        let Some(setting) =
            Setting::new(config(Some(smtp), Some(hook), secret.path()), backend).await
        else {
            continue;
        };
        eprintln!("on {backend:?}");
        let declaration = setting.submit().await;
        // Nobody listens: the rows stay pending, retried with the connection's error.
        eventually("the rows are retried", || async {
            let pending = setting.outbox("pending").await;
            pending.len() == 3
                && pending
                    .iter()
                    .all(|r| r["attempts"].as_u64().unwrap() >= 2 && r["last_error"].is_string())
        })
        .await;
        let pending = setting.outbox("pending").await;
        let hook_row = pending.iter().find(|r| r["channel"] == "webhook").unwrap();
        assert!(
            hook_row["last_error"]
                .as_str()
                .unwrap()
                .starts_with("cannot reach http://127.0.0.1:"),
            "{hook_row}"
        );
        assert!(!hook_row["last_error"].as_str().unwrap().contains(SECRET));

        // The receivers come up on their ports.
        let mail = SmtpReceiver::default();
        mail.start(TcpListener::bind(smtp).await.unwrap());
        let hooks = HookReceiver::new(StatusCode::OK);
        hooks.start(TcpListener::bind(hook).await.unwrap());
        setting.approve(&declaration).await;
        eventually("everything is sent", || async {
            setting.outbox("sent").await.len() == 5
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let calls = hooks.calls();
        assert_eq!(calls.len(), 2, "each webhook call once");
        let mut deliveries: Vec<_> = calls
            .iter()
            .map(|c| {
                c.headers["x-greenlight-delivery"]
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        deliveries.dedup();
        assert_eq!(deliveries.len(), 2);
        let events: Vec<Value> = calls.iter().map(verified).collect();
        assert!(events.iter().any(|e| e["event"] == "escalated"));
        assert!(events.iter().any(|e| e["event"] == "decided"));
        let mails = mail.mails();
        assert_eq!(mails.len(), 3, "each mail once: {mails:?}");
        setting.done().await;
    }
}

#[tokio::test]
async fn a_receiver_that_always_fails_leaves_the_row_failed_with_its_error() {
    let secret = secret_file();
    for backend in BACKENDS {
        let hook = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = config(None, Some(hook.local_addr().unwrap()), secret.path());
        config.notify_attempts = 3;
        let hooks = HookReceiver::new(StatusCode::INTERNAL_SERVER_ERROR);
        hooks.start(hook);
        let Some(setting) = Setting::new(config, backend).await else {
            continue;
        };
        eprintln!("on {backend:?}");
        setting.submit().await;
        eventually("the row is failed", || async {
            setting.outbox("failed").await.len() == 1
        })
        .await;
        let failed = setting.outbox("failed").await;
        assert_eq!(failed[0]["attempts"], 3);
        assert_eq!(failed[0]["event"], "escalated");
        let error = failed[0]["last_error"].as_str().unwrap();
        assert!(error.contains("answered HTTP 500"), "{error}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(hooks.calls().len(), 3, "three attempts, no more");
        // No e-mail is configured: no mail row was written.
        assert!(setting.outbox("pending").await.is_empty());
        // Only an admin sees the outbox.
        let secret = &setting.tokens[1].1;
        let reply = setting
            .app
            .call(
                Method::GET,
                "/api/v1/outbox",
                &[("authorization", format!("Bearer {secret}").as_str())],
                None,
            )
            .await;
        reply.problem(403);

        // The admin retries it: pending again with its attempts afresh, delivered (and
        // failing) three times more. A reviewer may not; an unknown row is not found.
        let id = failed[0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/outbox/{id}/retry");
        setting.post_as(REVIEWER, &path).await.problem(403);
        setting
            .post_as(
                "ada",
                "/api/v1/outbox/0190c0de-0000-7000-8000-000000000000/retry",
            )
            .await
            .problem(404);
        let reply = setting.post_as("ada", &path).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let row = reply.json();
        assert_eq!(row["id"], id.as_str());
        assert_eq!(row["status"], "pending");
        assert_eq!(row["attempts"], 0);
        assert!(
            row["last_error"]
                .as_str()
                .unwrap()
                .contains("answered HTTP 500")
        );
        eventually("the retried row is failed again", || async {
            hooks.calls().len() == 6 && setting.outbox("failed").await.len() == 1
        })
        .await;
        assert_eq!(setting.outbox("failed").await[0]["attempts"], 3);
        setting.done().await;
    }
}

/// A server on `fixture`'s database (beside another), as a second instance would be.
async fn second_server(config: ServerConfig, fixture: &Fixture) -> App {
    let served = fixture.ledger();
    let opener: Opener = Arc::new(move || {
        let ledger = served.clone();
        Box::pin(async move { Ok(ledger) })
    });
    spawn_with(config, opener, tempfile::tempdir().unwrap()).await
}

#[tokio::test]
async fn an_expiring_approval_and_consent_are_told_once_by_two_servers() {
    let secret = secret_file();
    for backend in BACKENDS {
        let smtp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = config(
            Some(smtp.local_addr().unwrap()),
            Some(hook.local_addr().unwrap()),
            secret.path(),
        );
        config.expiring_days = 14;
        config.expiring_sweep_ms = 20;
        let mail = SmtpReceiver::default();
        mail.start(smtp);
        let hooks = HookReceiver::new(StatusCode::NO_CONTENT);
        hooks.start(hook);
        let Some(setting) = Setting::new(config.clone(), backend).await else {
            continue;
        };
        eprintln!("on {backend:?}");
        let mut second = second_server(config, &setting.fixture).await;
        let ledger = setting.fixture.ledger();
        let ann = ledger
            .register_performer(
                "setup",
                NewPerformer {
                    name: "Ann Actor".to_owned(),
                    union: String::new(),
                    deceased: false,
                    estate: None,
                },
            )
            .await
            .unwrap();
        let consent = ledger
            .record_consent(
                LEGAL,
                NewConsent {
                    performer_id: ann.id,
                    kind: ConsentKind::DigitalAlteration,
                    scope: ConsentScope {
                        production_id: setting.production.id,
                        media: vec![greenlight_core::Medium::Video],
                        description: "de-ageing of the flashback scenes".to_owned(),
                    },
                    given_by: "Ann Actor".to_owned(),
                    status: ConsentStatus::Documented,
                    expires_at: Some(ledger.now().plus(TimeDelta::days(5))),
                    document_sha256: Some("ab".repeat(32)),
                },
            )
            .await
            .unwrap();
        let declaration = setting.submit().await;
        let expires = ledger.now().plus(TimeDelta::days(10)).to_string();
        setting
            .call(
                REVIEWER,
                Method::POST,
                &format!("/api/v1/declarations/{declaration}/approvals"),
                Some(json!({
                    "verdict": "approved",
                    "scope": ["props/letter_*.exr"],
                    "expires_at": expires,
                })),
            )
            .await;
        let expiring = || -> Vec<Value> {
            hooks
                .calls()
                .iter()
                .map(verified)
                .filter(|e| e["event"] == "expiring")
                .collect()
        };
        eventually("both expiring notices reach the webhook", || async {
            expiring().len() >= 2
        })
        .await;
        // Many sweeps later, by both servers, still once each.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let events = expiring();
        assert_eq!(events.len(), 2, "{events:?}");
        let told_consent = events.iter().find(|e| e["consent"].is_object()).unwrap();
        assert_eq!(
            told_consent["consent"]["id"],
            consent.id.to_string().as_str()
        );
        assert!(
            told_consent["summary"]
                .as_str()
                .unwrap()
                .contains("Ann Actor")
        );
        let told_approval = events
            .iter()
            .find(|e| e["declaration"].is_object())
            .unwrap();
        assert_eq!(told_approval["declaration"]["id"], declaration.as_str());
        assert_eq!(told_approval["expires_at"], expires.as_str());
        eventually("the expiring mails arrive", || async {
            mail.mails()
                .iter()
                .filter(|m| m.data.contains("Event: expiring"))
                .count()
                >= 3
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut told: Vec<String> = mail
            .mails()
            .iter()
            .filter(|m| m.data.contains("Event: expiring"))
            .flat_map(|m| m.to.clone())
            .collect();
        told.sort();
        // Legal of the consent's production; the approval's submitter and reviewer.
        assert_eq!(told, [COORDINATOR, LEGAL, REVIEWER], "{told:?}");
        second.shut_down();
        second.stopped().await;
        setting.done().await;
    }
}
