//! The web app: server-rendered pages at `/` for the people who declare, review, approve
//! and audit in a browser.
//!
//! Every page is an askama template (`crates/server/templates/`), checked when the crate
//! compiles and HTML-escaped throughout; nothing needs JavaScript. A page answers through
//! the same [`Caller::authorize`] as the API: a visitor who is not signed in is sent to the
//! sign-in page, a caller without the role gets the 403 page, never the data.
//!
//! Forms post with the session cookie (`SameSite=Strict`, `HttpOnly`) and a per-session
//! form token in a hidden `csrf` field: the SHA-256 of a fixed label and the session's
//! cookie, so it is known to the server and the page it rendered but to no other site, and
//! it ends with the session. [`WebForm`] checks it (and the `Origin` header, when sent)
//! before any handler runs; a bearer token is never taken by the pages.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | dashboard: what waits for me (reviews, blocked uses, expiring consents), counts and waits per production, failed gates, charts |
//! | `GET`, `POST /sign-in`, `POST /sign-out` | password sign-in (and the OIDC button), sign-out |
//! | `GET`, `POST /tokens`, `POST /tokens/{id}/revoke` | one's API tokens |
//! | `GET`, `POST /accounts`, `POST /accounts/{login}/state` | accounts (admins): create one, disable or enable one |
//! | `GET`, `POST /declare` | the guided declaration form; the decision |
//! | `GET /declarations/{id}`, `POST …/review` | a declaration; approve or reject it |
//! | `GET /queue` | escalations waiting for review, oldest first |
//! | `GET /audit`, `POST /audit/verify` | the audit log, filtered; its verification |
//! | `GET`, `POST /productions` | productions with counts by outcome; create one (admins) |
//! | `GET /productions/{id}`, `POST …/members`, `POST …/members/remove` | members, counts, declarations, report; add, change or remove a member (admins) |
//! | `GET`, `POST /tools` | tools with their data terms, who reviewed them and when; register one (admins) |
//! | `GET /tools/{id}`, `POST …/terms` | a tool and every review of its terms; record a new review (admins) |
//! | `GET`, `POST /performers` | performers; register one (admins) |
//! | `GET /performers/{id}`, `POST …/consents` | a performer's consents; record one |
//! | `POST /consents/{id}/document` | record the signed document of a pending consent |
//! | `POST /consents/{id}/revoke` | revoke a consent; the decisions it turned to blocked |
//! | `GET /scans`, `GET /scans/{id}` | recorded scans; a scan's gate result and flagged files |
//! | `GET /policy` | the pack's rules with their cites and basis; `?production=…&overlay=…` previews a built-in overlay on a production |
//! | `GET /outbox`, `POST /outbox/{id}/retry` | notifications with their status (admins); retry a failed one |
//!
//! Every table of those pages exports as CSV with `?format=csv&table=NAME`.
//! | `GET /static/greenlight.css` | the one stylesheet |

mod accounts;
mod approval;
mod charts;
mod dashboard;
mod declare;
mod drafts;
mod export;
mod outbox;
mod pages;
mod productions;
mod registration;
mod registry;
mod review;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use greenlight_store::{Action, Production, StoreError};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::{Caller, Credential, session_cookie};
use crate::error::{ApiError, Cause};

/// The pages' Content-Security-Policy: the one stylesheet, no script, forms posting here only.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet, served from the binary.
const STYLESHEET: &str = include_str!("../../static/greenlight.css");

/// The routes of the pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/static/greenlight.css", get(stylesheet))
        .route("/sign-in", get(pages::sign_in_page).post(pages::sign_in))
        .route("/sign-out", post(pages::sign_out))
        .route("/tokens", get(pages::tokens).post(pages::create_token))
        .route("/tokens/{id}/revoke", post(pages::revoke_token))
        .route(
            "/accounts",
            get(accounts::accounts).post(accounts::create_account),
        )
        .route("/accounts/{login}/state", post(accounts::set_state))
        .route("/declare", get(declare::form).post(declare::submit))
        .route("/declarations/{id}", get(review::declaration))
        .route("/declarations/{id}/review", post(review::review))
        .route(
            "/declarations/{id}/revise",
            get(declare::revise_form).post(declare::revise),
        )
        .route("/declarations/{id}/approval", get(approval::approval))
        .route("/drafts", get(drafts::drafts))
        .route("/drafts/{id}/delete", post(drafts::delete))
        .route("/queue", get(review::queue))
        .route("/audit", get(review::audit))
        .route("/audit/verify", post(review::verify))
        .route(
            "/productions",
            get(productions::productions).post(productions::create_production),
        )
        .route("/productions/{id}", get(productions::production))
        .route("/productions/{id}/members", post(productions::set_member))
        .route(
            "/productions/{id}/members/remove",
            post(productions::remove_member),
        )
        .route(
            "/tools",
            get(registration::tools).post(registration::register_tool),
        )
        .route("/tools/{id}", get(registration::tool))
        .route("/tools/{id}/terms", post(registration::review_terms))
        .route(
            "/performers",
            get(registration::performers).post(registration::register_performer),
        )
        .route("/performers/{id}", get(registry::performer))
        .route("/performers/{id}/consents", post(registry::record_consent))
        .route("/consents/{id}/document", post(registry::document_consent))
        .route("/consents/{id}/revoke", post(registry::revoke_consent))
        .route("/scans", get(registry::scans))
        .route("/scans/{id}", get(registry::scan))
        .route("/policy", get(registry::policy))
        .route("/outbox", get(outbox::outbox))
        .route("/outbox/{id}/retry", post(outbox::retry))
}

async fn stylesheet() -> Response {
    let mut response = STYLESHEET.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}

/// The form token of the session whose cookie is `cookie`.
pub fn form_token(cookie: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"greenlight web form token\n");
    hasher.update(cookie.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Constant-time comparison of two strings' bytes.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A page's error: not signed in (to the sign-in page), or an API error shown as a page with
/// its status (403, 404, 422, …).
#[derive(Debug)]
pub enum WebError {
    /// No session, or one that has ended.
    SignIn,
    /// Anything else, shown with its status and detail.
    Api(ApiError),
}

impl From<ApiError> for WebError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Unauthenticated(_) => WebError::SignIn,
            other => WebError::Api(other),
        }
    }
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        WebError::from(ApiError::from(error))
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        WebError::Api(ApiError::Internal(Cause::new(error)))
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: String,
    detail: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn => see_other("/sign-in"),
            WebError::Api(error) => {
                let (problem, cause) = error.problem();
                let status = StatusCode::from_u16(problem.status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let page = ErrorPage {
                    chrome: Chrome::anonymous(&problem.title),
                    status: problem.status,
                    title: problem.title,
                    detail: problem.detail,
                };
                let mut response = match page.render() {
                    Ok(html) => html_response(status, html),
                    Err(_) => status.into_response(),
                };
                if let Some(cause) = cause {
                    response.extensions_mut().insert(cause);
                }
                response
            }
        }
    }
}

/// A `303 See Other` to `location` (a path of this site).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    // `no-referrer` (the API's) would make a browser send `Origin: null` with the pages' own
    // forms; `same-origin` sends the origin to this site only, which `WebForm` checks.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A rendered page with its status.
pub fn page(status: StatusCode, template: &impl Template) -> Result<Response, WebError> {
    Ok(html_response(status, template.render()?))
}

/// A link of the navigation bar.
pub struct NavLink {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// It is the page shown.
    pub current: bool,
}

/// What every page shows around its content: the title, who is signed in, the navigation
/// and the form token for the sign-out button.
pub struct Chrome {
    /// The page's title.
    pub title: String,
    /// The login signed in, when one is.
    pub login: Option<String>,
    /// The session's form token (empty when signed out).
    pub csrf: String,
    /// The navigation, for what the caller may do.
    pub nav: Vec<NavLink>,
}

impl Chrome {
    /// The chrome of a page seen signed out.
    pub fn anonymous(title: &str) -> Chrome {
        Chrome {
            title: title.to_owned(),
            login: None,
            csrf: String::new(),
            nav: Vec::new(),
        }
    }
}

/// A signed-in browser: the caller (as the API resolves it) and its session's form token.
#[derive(Clone, Debug)]
pub struct Web {
    /// The caller, whose roles every page asks through [`Caller::authorize`].
    pub caller: Caller,
    /// The cookie's value, to end the session on sign-out.
    pub cookie: String,
    /// The session's form token.
    pub csrf: String,
}

impl Web {
    /// The chrome of a page at `here`, with the navigation the caller's roles allow.
    pub fn chrome(&self, title: &str, here: &str) -> Chrome {
        let mut nav = vec![
            ("/", "Dashboard"),
            ("/declare", "Declare a use"),
            ("/queue", "Review queue"),
        ];
        nav.push(("/productions", "Productions"));
        if self.caller.authorize(Action::ReadRegistry, None).is_ok() {
            nav.push(("/tools", "Tools"));
            nav.push(("/performers", "Performers"));
        }
        nav.push(("/scans", "Scans"));
        if self.caller.authorize(Action::ShowPacks, None).is_ok() {
            nav.push(("/policy", "Policy"));
        }
        if self.caller.authorize(Action::ReadAudit, None).is_ok() {
            nav.push(("/audit", "Audit"));
        }
        if self.caller.authorize(Action::ReadOutbox, None).is_ok() {
            nav.push(("/outbox", "Outbox"));
        }
        if self.caller.authorize(Action::ManageUsers, None).is_ok() {
            nav.push(("/accounts", "Accounts"));
        }
        nav.push(("/tokens", "API tokens"));
        Chrome {
            title: title.to_owned(),
            login: Some(self.caller.login().to_owned()),
            csrf: self.csrf.clone(),
            nav: nav
                .into_iter()
                .map(|(href, label)| NavLink {
                    href,
                    label,
                    current: href == here,
                })
                .collect(),
        }
    }

    /// `Ok` when the caller may take `action` (on `production`), else the 403 page.
    pub fn authorize(
        &self,
        action: Action,
        production: Option<&Production>,
    ) -> Result<(), WebError> {
        self.caller
            .authorize(action, production)
            .map_err(WebError::Api)
    }
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Web>, WebError> {
    let Some(cookie) = session_cookie(&parts.headers) else {
        return Ok(None);
    };
    let ledger = state.ledger.get().await?;
    let auth = match ledger.session(cookie).await {
        Ok(auth) => auth,
        Err(StoreError::Invalid { .. } | StoreError::NotFound { .. }) => return Ok(None),
        Err(other) => return Err(WebError::from(other)),
    };
    Ok(Some(Web {
        caller: Caller {
            principal: auth.principal,
            credential: Credential::Session(Box::new(auth.session)),
        },
        cookie: cookie.to_owned(),
        csrf: form_token(cookie),
    }))
}

impl FromRequestParts<AppState> for Web {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        resolve(parts, state).await?.ok_or(WebError::SignIn)
    }
}

/// A browser that may or may not be signed in.
#[derive(Debug)]
pub struct MaybeWeb(pub Option<Web>);

impl FromRequestParts<AppState> for MaybeWeb {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        Ok(MaybeWeb(resolve(parts, state).await?))
    }
}

/// The fields of a posted form (`application/x-www-form-urlencoded`), in order.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Fields from pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Fields {
        Fields(pairs)
    }

    /// The first value of `name`, trimmed; empty when it was not sent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every pair as sent, in order, but those named in `except`.
    pub fn pairs_except(&self, except: &[&str]) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(n, _)| !except.contains(&n.as_str()))
            .cloned()
            .collect()
    }

    /// Every value of `name` that is not empty, trimmed.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }
}

/// Reads a form body: urlencoded, within the body limit.
async fn read_fields(request: Request, state: &AppState) -> Result<Fields, WebError> {
    let sent = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let form = sent.as_deref().is_some_and(|t| {
        t.split(';').next().is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    if !form {
        return Err(WebError::Api(ApiError::UnsupportedMediaType {
            sent,
            accepted: &["application/x-www-form-urlencoded"],
        }));
    }
    let bytes = Bytes::from_request(request, state).await.map_err(|_| {
        WebError::Api(ApiError::TooLarge {
            limit: state.config.body_limit,
        })
    })?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
        WebError::Api(ApiError::UnreadableBody(format!(
            "the form cannot be read: {e}"
        )))
    })?;
    Ok(Fields(pairs))
}

/// A cross-site post: an `Origin` header naming another host than the one asked.
fn cross_site(parts: &Parts) -> bool {
    let Some(origin) = parts.headers.get(header::ORIGIN) else {
        return false;
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or_default();
    let origin = origin.to_str().unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map_or("", |(_, rest)| rest.trim_end_matches('/'));
    origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host)
}

fn refused(message: &str) -> WebError {
    WebError::Api(ApiError::Csrf(message.to_owned()))
}

/// A form posted by a signed-in browser, its form token checked: the only way a page
/// handler gets a body.
#[derive(Debug)]
pub struct WebForm {
    /// Who posted it.
    pub web: Web,
    /// What it says.
    pub fields: Fields,
}

impl FromRequest<AppState> for WebForm {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        if cross_site(&parts) {
            return Err(refused("the form was posted from another site"));
        }
        let web = Web::from_request_parts(&mut parts, state).await?;
        let fields = read_fields(Request::from_parts(parts, body), state).await?;
        let sent = fields.get("csrf");
        if sent.is_empty() {
            return Err(refused(
                "the form has no form token: reload the page and send it again",
            ));
        }
        if !same(sent, &web.csrf) {
            return Err(refused(
                "the form's token is not this session's: reload the page and send it again",
            ));
        }
        Ok(WebForm { web, fields })
    }
}

/// A form posted by anyone (the sign-in form), checked only for a cross-site `Origin`.
#[derive(Debug)]
pub struct AnyForm(pub Fields);

impl FromRequest<AppState> for AnyForm {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebError> {
        let (parts, body) = request.into_parts();
        if cross_site(&parts) {
            return Err(refused("the form was posted from another site"));
        }
        read_fields(Request::from_parts(parts, body), state)
            .await
            .map(AnyForm)
    }
}

/// Every production the caller may take `action` on, by title.
pub async fn productions_for(
    state: &AppState,
    web: &Web,
    action: Action,
) -> Result<Vec<Production>, WebError> {
    let ledger = state.ledger.get().await?;
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ledger.productions(after.as_deref(), 1_000).await?;
        out.extend(page.items.into_iter().filter(|p| web.caller.may(action, p)));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(out)
}

/// A field's error, when a form came back for it: `error` is the field and its message.
fn error_of<'a>(error: &'a Option<(String, String)>, field: &str) -> Option<&'a str> {
    error
        .as_ref()
        .filter(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_token_is_the_sessions_and_compared_whole() {
        let a = form_token("cookie-a");
        assert_eq!(a.len(), 64);
        assert_eq!(a, form_token("cookie-a"));
        assert_ne!(a, form_token("cookie-b"));
        assert!(same(&a, &form_token("cookie-a")));
        assert!(!same(&a, &a[..63]));
        assert!(!same(&a, &form_token("cookie-b")));
    }

    #[test]
    fn fields_are_trimmed_and_empty_ones_left_out_of_lists() {
        let fields = Fields::new(vec![
            ("a".to_owned(), " x ".to_owned()),
            ("b".to_owned(), "1".to_owned()),
            ("b".to_owned(), " ".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ]);
        assert_eq!(fields.get("a"), "x");
        assert_eq!(fields.get("missing"), "");
        assert_eq!(fields.all("b"), vec!["1", "2"]);
    }
}
