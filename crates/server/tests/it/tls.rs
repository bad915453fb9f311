//! HTTPS: a self-signed certificate made here, a server started with it, and a real TLS
//! client (tokio-rustls under hyper) that trusts it; plain HTTP to the same port fails; bad
//! certificate and key files are refused at start, naming the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{Request, StatusCode};
use greenlight_policy::Policy;
use greenlight_server::{AppState, LedgerSlot, Opener, ServerConfig, Tls, TlsError};
use greenlight_store::NewUser;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

use crate::support::{Backend, Fixture};

const PASSWORD: &str = "correct horse battery staple";

/// A self-signed certificate for `localhost` and its key, written as PEM files in `dir`.
struct Pair {
    cert: PathBuf,
    key: PathBuf,
    der: rustls::pki_types::CertificateDer<'static>,
}

fn make_pair(dir: &Path, name: &str) -> Pair {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    Pair {
        cert,
        key,
        der: made.cert.der().clone(),
    }
}

/// A TLS client that trusts `der` alone and offers `alpn`.
fn connector(der: &rustls::pki_types::CertificateDer<'static>, alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

struct Served {
    address: std::net::SocketAddr,
    fixture: Arc<Fixture>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve_tls(pair: &Pair) -> Served {
    let fixture = Arc::new(Fixture::new(Backend::Sqlite).await.unwrap());
    let served = fixture.ledger();
    let opener: Opener = Arc::new(move || {
        let ledger = served.clone();
        Box::pin(async move { Ok(ledger) })
    });
    let config = ServerConfig {
        tls_cert: Some(pair.cert.clone()),
        tls_key: Some(pair.key.clone()),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = AppState::new(config, Policy::builtin(), LedgerSlot::new(opener));
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(greenlight_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    Served {
        address,
        fixture,
        shutdown: Some(tx),
        handle,
    }
}

impl Served {
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.await.unwrap().unwrap();
    }
}

/// Connects over TLS; the stream and the protocol ALPN chose.
async fn connect(
    address: std::net::SocketAddr,
    connector: &TlsConnector,
) -> (tokio_rustls::client::TlsStream<TcpStream>, Option<Vec<u8>>) {
    let tcp = TcpStream::connect(address).await.unwrap();
    let stream = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    (stream, alpn)
}

fn request(method: &str, uri: &str, body: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

#[tokio::test]
async fn https_serves_h2_and_http1_with_a_secure_cookie_and_refuses_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let pair = make_pair(dir.path(), "server");
    let served = serve_tls(&pair).await;
    served
        .fixture
        .ledger()
        .create_user(
            "setup",
            NewUser {
                login: "rae".to_owned(),
                name: String::new(),
                roles: Vec::new(),
                password: PASSWORD.to_owned(),
            },
        )
        .await
        .unwrap();

    // HTTP/2, chosen by ALPN.
    let (stream, alpn) =
        connect(served.address, &connector(&pair.der, &[b"h2", b"http/1.1"])).await;
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let uri = format!("https://localhost:{}/healthz", served.address.port());
    let response = sender.send_request(request("GET", &uri, "")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), axum::http::Version::HTTP_2);

    // HTTP/1.1, chosen by ALPN: signing in sets a `Secure` cookie with no flag asking for it.
    let (stream, alpn) = connect(served.address, &connector(&pair.der, &[b"http/1.1"])).await;
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let body = serde_json::json!({"login": "rae", "password": PASSWORD}).to_string();
    let response = sender
        .send_request(request("POST", "/api/v1/session", &body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let session: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(session["csrf_token"].is_string(), "{session}");

    // A client that does not trust the certificate is refused in the handshake.
    let other = make_pair(dir.path(), "other");
    let tcp = TcpStream::connect(served.address).await.unwrap();
    let refused = connector(&other.der, &[b"http/1.1"])
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    assert!(refused.is_err());

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let answer = plain
        .request(request(
            "GET",
            &format!("http://{}/healthz", served.address),
            "",
        ))
        .await;
    assert!(answer.is_err(), "plain HTTP was answered: {answer:?}");

    // The server still serves TLS after all that, and stops on shutdown.
    let (stream, _) = connect(served.address, &connector(&pair.der, &[b"http/1.1"])).await;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let response = sender
        .send_request(request("GET", "/readyz", ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    drop(sender);
    served.stop().await;
}

fn load_error(cert: &Path, key: &Path) -> String {
    let error: TlsError = Tls::load(cert, key).unwrap_err();
    error.to_string()
}

#[tokio::test]
async fn bad_certificate_and_key_files_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = make_pair(dir.path(), "good");
    let other = make_pair(dir.path(), "other");
    assert!(Tls::load(&good.cert, &good.key).is_ok());

    let missing = dir.path().join("missing.crt");
    let message = load_error(&missing, &good.key);
    assert!(
        message.starts_with(&format!(
            "cannot read the TLS certificate `{}`: ",
            missing.display()
        )),
        "{message}"
    );

    let junk = dir.path().join("junk.crt");
    std::fs::write(&junk, "this is not a certificate\n").unwrap();
    let message = load_error(&junk, &good.key);
    assert_eq!(
        message,
        format!(
            "the TLS certificate `{}` holds no certificate (a PEM `BEGIN CERTIFICATE` block)",
            junk.display()
        )
    );

    let message = load_error(&good.key, &good.cert);
    assert!(
        message.contains(&format!("`{}` holds no certificate", good.key.display()))
            && message.ends_with("are `--tls-cert` and `--tls-key` swapped?"),
        "{message}"
    );

    let message = load_error(&good.cert, &junk);
    assert!(
        message.starts_with(&format!(
            "the TLS private key `{}` holds no private key",
            junk.display()
        )),
        "{message}"
    );

    let cut = dir.path().join("cut.crt");
    let text = std::fs::read_to_string(&good.cert).unwrap();
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let message = load_error(&cut, &good.key);
    assert!(
        message.starts_with(&format!(
            "the TLS certificate `{}` is not well-formed PEM: ",
            cut.display()
        )),
        "{message}"
    );

    let message = load_error(&good.cert, &other.key);
    assert_eq!(
        message,
        format!(
            "the TLS private key `{}` is not the key of the certificate `{}`",
            other.key.display(),
            good.cert.display()
        )
    );

    // `serve` refuses to start on them, before it accepts anything.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServerConfig {
        tls_cert: Some(junk.clone()),
        tls_key: Some(good.key.clone()),
        ..ServerConfig::default()
    };
    let opener = crate::support::sqlite_opener(dir.path().join("ledger.sqlite3"));
    let state = AppState::new(config, Policy::builtin(), LedgerSlot::new(opener));
    let error = greenlight_server::serve(listener, state, std::future::pending())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("holds no certificate"),
        "{error}"
    );
}
