//! Starting a server for a test, and a small HTTP client over hyper.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use greenlight_policy::Policy;
use greenlight_server::{AppState, LedgerSlot, Opener, ServerConfig};
use greenlight_store::{AuditKey, Ledger, Store, SystemClock};
use greenlight_store_sqlite::SqliteStore;
pub use greenlight_store_tests::{Backend, Fixture};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A request body as the client sends it.
pub type ClientBody = BoxBody<Bytes, Infallible>;

/// A running server.
pub struct App {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
    client: Client<HttpConnector, ClientBody>,
    _dir: tempfile::TempDir,
}

/// An answer, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// Asserts this is a problem document with `status`, and returns it.
    pub fn problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.content_type(), "application/problem+json");
        let problem = self.json();
        assert_eq!(problem["status"], status);
        assert!(problem["type"].as_str().unwrap().starts_with("/problems/"));
        assert!(!problem["title"].as_str().unwrap().is_empty());
        assert!(!problem["detail"].as_str().unwrap().is_empty());
        problem
    }
}

/// Opens a SQLite ledger at `path`, as `greenlight serve` does by default.
pub fn sqlite_opener(path: PathBuf) -> Opener {
    Arc::new(move || {
        let path = path.clone();
        Box::pin(async move {
            let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path.to_string_lossy()).await?);
            Ok(Ledger::new(
                store,
                Arc::new(SystemClock),
                AuditKey::generate()?,
            ))
        })
    })
}

/// A server on a fresh SQLite ledger with `config`.
pub async fn spawn(config: ServerConfig) -> App {
    let dir = tempfile::tempdir().unwrap();
    let opener = sqlite_opener(dir.path().join("ledger.sqlite3"));
    spawn_with(config, opener, dir).await
}

/// A server with the default configuration.
pub async fn spawn_default() -> App {
    spawn(ServerConfig::default()).await
}

/// A server on a fresh database of `backend` (`None` when that backend is not configured),
/// and the fixture it runs on: its ledger (with the fixture's manual clock) for the test to
/// set up and check.
pub async fn spawn_fixture(config: ServerConfig, backend: Backend) -> Option<(App, Arc<Fixture>)> {
    let fixture = Arc::new(Fixture::new(backend).await?);
    let served = fixture.ledger();
    let opener: Opener = Arc::new(move || {
        let ledger = served.clone();
        Box::pin(async move { Ok(ledger) })
    });
    let app = spawn_with(config, opener, tempfile::tempdir().unwrap()).await;
    Some((app, fixture))
}

/// Every backend a test runs on: SQLite always, PostgreSQL when configured.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// A server whose ledger `opener` opens.
pub async fn spawn_with(config: ServerConfig, opener: Opener, dir: tempfile::TempDir) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let state = AppState::new(config, Policy::builtin(), LedgerSlot::new(opener));
    spawn_state(listener, state, dir)
}

/// A server on `listener` serving `ledger`, with OIDC sign-in as `config` says.
pub fn spawn_oidc(
    listener: tokio::net::TcpListener,
    config: ServerConfig,
    ledger: Ledger<dyn Store>,
) -> App {
    let oidc = greenlight_server::Oidc::from_config(&config).unwrap();
    let opener: Opener = Arc::new(move || {
        let ledger = ledger.clone();
        Box::pin(async move { Ok(ledger) })
    });
    let state = AppState::new(config, Policy::builtin(), LedgerSlot::new(opener)).with_oidc(oidc);
    spawn_state(listener, state, tempfile::tempdir().unwrap())
}

/// A server on `listener` with `state`.
pub fn spawn_state(
    listener: tokio::net::TcpListener,
    state: AppState,
    dir: tempfile::TempDir,
) -> App {
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(greenlight_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    App {
        base,
        shutdown: Some(tx),
        handle: Some(handle),
        client: Client::builder(TokioExecutor::new()).build_http(),
        _dir: dir,
    }
}

impl App {
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, Bytes::new()).await
    }

    pub async fn post(&self, path: &str, content_type: &str, body: impl Into<Bytes>) -> Reply {
        self.send(Method::POST, path, Some(content_type), body.into())
            .await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(Full::new(body).boxed()).unwrap();
        self.send_request(request).await
    }

    /// A request with `headers` and a JSON body (none when `body` is `None`).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(serde_json::to_vec(&body).unwrap())
            }
            None => Bytes::new(),
        };
        self.send_request(request.body(Full::new(body).boxed()).unwrap())
            .await
    }

    pub async fn send_request(&self, request: Request<ClientBody>) -> Reply {
        let response = self.client.request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }

    /// Signals shutdown; [`App::stopped`] waits for the server to end.
    pub fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Whether `serve` has returned.
    pub fn finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the server to end after [`App::shut_down`].
    pub async fn stopped(&mut self) {
        let handle = self.handle.take().unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(20), handle)
            .await
            .expect("the server stops after shutdown")
            .unwrap()
            .unwrap();
    }
}
