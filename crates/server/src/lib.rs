//! greenlight's HTTP API, behind `greenlight serve`.
//!
//! This crate's single job is HTTP: it turns requests into calls of
//! `greenlight-policy` and `greenlight-store` and their results into JSON.
//! Handlers extract, make one call and render; every rule stays in the library
//! crates. Every error is an [`ApiError`] rendered as an RFC 9457 problem
//! document (`application/problem+json`).
//!
//! Routes that need no account:
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz` | the process is up |
//! | `GET /readyz` | the ledger answers a trivial read (503 when it does not) |
//! | `POST /api/v1/assess` | triage a declaration (JSON or TOML) against the server's policy |
//! | `GET /api/v1/policy` | the policy: packs, citable ids, rules |
//! | `POST /api/v1/policy/check` | every problem of a pack sent as TOML |
//! | `GET /api/v1/openapi.json` | the OpenAPI 3.1 document of every route |
//! | `POST /api/v1/session` | sign in (a session cookie and its CSRF token) |
//!
//! Routes for a caller with an account ([`Caller`]), each asking `greenlight_store::authz`
//! before acting; lists page by key (`?after=&limit=`) and keep what the caller may see:
//!
//! | route | what |
//! |---|---|
//! | `DELETE /api/v1/session`, `GET /api/v1/me` | sign out; who is calling |
//! | `GET`, `POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}` | one's API tokens (signed in) |
//! | `GET`, `POST /api/v1/users`, `PUT /api/v1/users/{login}/roles` | accounts (admin, signed in) |
//! | `GET`, `POST /api/v1/productions`, `GET /api/v1/productions/{id}` | productions |
//! | `PUT /api/v1/productions/{id}/members` | replace a production's members |
//! | `GET /api/v1/productions/{id}/declarations` | a production's declarations |
//! | `POST /api/v1/productions/{id}/reassess` | preview a pack (TOML) on them; nothing written |
//! | `GET`, `POST /api/v1/tools`, `GET /api/v1/tools/{id}`, `PUT /api/v1/tools/{id}/terms` | tools |
//! | `GET`, `POST /api/v1/performers`, `GET /api/v1/performers/{id}` | performers |
//! | `GET /api/v1/performers/{id}/consents`, `POST /api/v1/consents`, `GET /api/v1/consents/{id}` | consents |
//! | `POST /api/v1/consents/{id}/document`, `…/revocation`, `POST /api/v1/consents/sweep` | document, revoke, sweep expired |
//! | `POST /api/v1/declarations` | submit (JSON or TOML, `?production=`); the decision comes back |
//! | `GET /api/v1/declarations/{id}` | latest version, decision in force, reviews |
//! | `GET`, `POST /api/v1/declarations/{id}/versions` | versions; a new version |
//! | `POST /api/v1/declarations/{id}/retriage` | triage again against the registry as it stands |
//! | `GET`, `POST /api/v1/declarations/{id}/approvals` | reviews; approve or reject |
//! | `GET /api/v1/declarations/{id}/notifications` | notify-level uses shared with the studio |
//! | `GET /api/v1/audit`, `…/verify`, `…/key` | the audit log (redacted); its verification; its key |
//! | `GET /api/v1/outbox` | the notification outbox: pending, sent and failed (admin) |
//! | `POST /api/v1/outbox/{id}/retry` | a failed notification due again (admin) |
//! | `GET`, `POST /api/v1/gate` | a production's gate and batch limits; judge a batch, nothing written |
//! | `GET`, `POST /api/v1/productions/{id}/scans` | a production's recorded scans; begin one |
//! | `GET /api/v1/scans/{id}`, `GET`, `POST …/files`, `POST …/finish` | a scan; its files (page, post a batch); finish |
//!
//! **OpenAPI: utoipa, with utoipa-axum.** Each handler carries
//! `#[utoipa::path]`, and each resource registers its handlers with
//! `OpenApiRouter::routes(routes!(..))`, which adds the route to the axum router
//! and its operation to the document in one step: a route cannot be served
//! without being documented (kanidm's hand-kept list drifted). aide offers the
//! same from the router, but wraps every handler in its own API types; utoipa
//! keeps plain axum handlers and is the more used of the two. utoipa 6 writes
//! OpenAPI 3.1 by default and builds on Rust 1.88 and later. The declaration's
//! and decision's schemas are `greenlight-core`'s own (schemars), added as
//! components, so the document cannot disagree with `greenlight schema`.
//!
//! ```no_run
//! # async fn run(state: greenlight_server::AppState) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! greenlight_server::serve(listener, state, greenlight_server::shutdown_signal()).await
//! # }
//! ```

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod extract;
pub mod notify;
pub mod oidc;
pub mod state;
pub mod tls;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Router, middleware};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use utoipa::openapi::{InfoBuilder, OpenApiBuilder};
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Caller, Credential, MaybeCaller};
pub use config::ServerConfig;
pub use error::ApiError;
pub use oidc::Oidc;
pub use state::{AppState, LedgerSlot, Opener};
pub use tls::{Tls, TlsError};

/// Every route, with its OpenAPI operation: the resources' routers merged.
pub fn api_router() -> OpenApiRouter<AppState> {
    let info = InfoBuilder::new()
        .title("greenlight")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Triage declared uses of generative AI in film and TV production against policy packs.",
        ))
        .build();
    OpenApiRouter::with_openapi(OpenApiBuilder::new().info(info).build())
        .merge(api::health::router())
        .merge(api::assess::router())
        .merge(api::policy::router())
        .merge(api::accounts::router())
        .merge(api::oidc::router())
        .merge(api::productions::router())
        .merge(api::tools::router())
        .merge(api::performers::router())
        .merge(api::consents::router())
        .merge(api::declarations::router())
        .merge(api::reviews::router())
        .merge(api::notifications::router())
        .merge(api::audit::router())
        .merge(api::outbox::router())
        .merge(api::reassess::router())
        .merge(api::reports::router())
        .merge(api::scans::router())
        .merge(api::openapi::router())
}

/// The OpenAPI document of [`api_router`], as served at `/api/v1/openapi.json`.
pub fn openapi_document() -> serde_json::Value {
    let (_, document) = api_router().split_for_parts();
    api::openapi::render(document)
}

/// The whole application: every route, and the layers every request passes.
pub fn app(state: AppState) -> Router {
    let (router, document) = api_router().split_for_parts();
    let document = api::openapi::render(document);
    let document =
        api::openapi::OpenApiJson(Arc::from(serde_json::to_vec(&document).unwrap_or_default()));
    let config = state.config.clone();
    let router = router
        .merge(web::router())
        .fallback(not_found)
        .with_state(state)
        .layer(Extension(document));
    // The layers, outermost first: a request passes them top to bottom, its
    // response bottom to top.
    let layers = ServiceBuilder::new()
        // 1. The request log: method, path, the client's address (as `serve` resolved it,
        //    through trusted proxies), status and latency, never a body, a query string or
        //    a header. Outermost, so it sees the final status.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let client = request.extensions().get::<client::Client>();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        client = %client.map_or_else(|| "unknown".to_owned(), |c| c.address.to_string()),
                    )
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                )
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        // 2. The cause of a 500 or 503, taken from the response and logged; never sent.
        .layer(middleware::from_fn(error::log_causes))
        // 3. Security headers on every response, errors included. The API
        //    serves no HTML, so nothing may load, frame or sniff it; a web page sets its
        //    own policy (`web::PAGE_CSP`: its stylesheet, no script, forms to itself) and
        //    `Referrer-Policy: same-origin`, so that its forms' posts carry their `Origin`.
        .layer(header_layer(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(header_layer(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(header_layer(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        // 4. An error status answered below with an empty body (405 from the
        //    router, 408 from the timeout) becomes a problem document.
        .layer(middleware::from_fn(error::problem_for_bare_errors))
        // 5. A request not answered in time is 408 (the connection's own header
        //    read timeout is set in `serve`).
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        // 6. The body limit, read by the body extractors, which answer 413.
        .layer(DefaultBodyLimit::max(config.body_limit));
    router.layer(layers)
}

fn header_layer(name: HeaderName, value: HeaderValue) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, value)
}

/// Any path no route has: a 404 problem document (there is no directory to list).
async fn not_found(request: Request) -> impl IntoResponse {
    ApiError::NotFound {
        path: request.uri().path().to_owned(),
    }
}

/// Serves [`app`] on `listener` until `shutdown` completes, then stops
/// accepting connections and lets requests in flight finish (for at most the
/// configured grace period). HTTP/1.1 and HTTP/2, with header limits and a
/// header read timeout per connection; HTTPS when the configuration names a
/// certificate and key ([`Tls::from_config`]: a bad file is an `InvalidInput`
/// error naming it, before anything is accepted). Tests bind `127.0.0.1:0` and
/// pass a oneshot receiver as `shutdown`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = Tls::from_config(&state.config)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    serve_with(listener, state, tls, shutdown).await
}

/// [`serve`] with TLS already loaded (`None`: plain HTTP), whatever the configuration says
/// of it: `greenlight serve` loads it before it listens, to report a bad file first.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = state.config.shutdown_grace();
    let notifier = notify::Notifier::from_config(&state.config)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let (stop_notifier, stopped) = tokio::sync::watch::channel(false);
    let notifier = notifier.map(|n| tokio::spawn(n.run(state.ledger.clone(), stopped)));
    let trusted: Arc<[ipnet::IpNet]> = Arc::from(state.config.trusted_proxies.as_slice());
    let app = app(state);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config::HEADER_READ_TIMEOUT)
        .max_headers(config::MAX_HEADERS)
        .max_buf_size(config::MAX_HEADER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(config::MAX_HEADER_BYTES).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Who the client is (the peer, or whom a trusted proxy forwarded), resolved once per
        // request, for the extractors that need it (sign-in rate limits, the cookie's
        // `Secure`) and the request log.
        let trusted = trusted.clone();
        let secure = tls.is_some();
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: Request<hyper::body::Incoming>| {
                let client = client::resolve(peer, secure, request.headers(), &trusted);
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(client);
                request
            },
        ));
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let io: Box<dyn Io> = match tls {
                None => Box::new(stream),
                Some(tls) => {
                    let handshake =
                        tokio::time::timeout(tls::HANDSHAKE_TIMEOUT, tls.acceptor().accept(stream));
                    match handshake.await {
                        Ok(Ok(stream)) => Box::new(stream),
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = grace.as_secs(),
            "requests still in flight after the grace period were cut off"
        );
    }
    // The worker ends after the delivery in progress; a row cut off later is delivered
    // again once its lease runs out.
    let _ = stop_notifier.send(true);
    if let Some(worker) = notifier
        && tokio::time::timeout(grace, worker).await.is_err()
    {
        tracing::warn!("a notification delivery was cut off by the shutdown");
    }
    Ok(())
}

/// A connection's byte stream: TCP, or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
