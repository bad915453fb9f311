//! `ApiError`, the one error type of the JSON API, and its RFC 9457 problem
//! documents (`application/problem+json`).
//!
//! Every error a client can get is one of these, rendered by one exhaustive
//! `match`, so a new kind of error forces a choice of status. A 500 or 503
//! says nothing of its cause: the cause rides in a response extension
//! ([`Cause`]) that [`log_causes`] logs, and is never sent.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use greenlight_core::DeclarationError;
use greenlight_policy::{EvalError, PackErrors};
use greenlight_store::{Denied, Rule, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Where the `type` URIs of greenlight's problems live: a relative reference (RFC 9457 §3.1.1
/// allows it), resolved against the server's own address.
const TYPE_BASE: &str = "/problems/";

/// What went wrong with a request.
#[derive(Debug)]
pub enum ApiError {
    /// No route has this path.
    NotFound {
        /// The path asked for.
        path: String,
    },
    /// The declaration could not be read: the same diagnostic `greenlight assess` gives.
    Declaration(Box<DeclarationError>),
    /// A policy pack has problems: every diagnostic, with line and column.
    Pack(PackErrors),
    /// The body is not in a media type the route takes.
    UnsupportedMediaType {
        /// The `Content-Type` sent, if any.
        sent: Option<String>,
        /// The media types the route takes.
        accepted: &'static [&'static str],
    },
    /// The body is larger than the server's limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read as text (not UTF-8, or the connection failed).
    UnreadableBody(String),
    /// A JSON body that does not fit the route's shape (400).
    InvalidBody {
        /// The field at fault, when known.
        field: Option<String>,
        /// The 1-based line.
        line: usize,
        /// The 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// How to fix it (`did you mean `title`?`), when known.
        help: Option<String>,
    },
    /// A query string that does not fit the route's parameters (400).
    InvalidQuery {
        /// The parameter at fault, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
        /// How to fix it (`did you mean `after`?`), when known.
        help: Option<String>,
    },
    /// A field of the body has a value outside what it takes (422).
    InvalidField {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No credential, or one that is unknown, expired or revoked (401).
    Unauthenticated(String),
    /// The caller may not do this (403), in the words of `greenlight_store::authz`.
    Forbidden(Denied),
    /// A signed-in unsafe request without the session's CSRF token (403).
    Csrf(String),
    /// An OIDC sign-in with no OpenID provider configured (404).
    OidcNotConfigured,
    /// An OIDC sign-in refused (403): why, in words (never a code or token).
    SignInRefused(String),
    /// The OpenID provider cannot be reached or does not answer as one (502).
    ProviderUnavailable(String),
    /// Too many failed sign-ins (429), with the seconds to wait.
    TooManyRequests {
        /// Seconds until a sign-in is taken again.
        retry_after: u64,
        /// Why, in words.
        message: String,
    },
    /// A record asked for does not exist (404).
    RecordNotFound(String),
    /// The write clashes with another (409).
    Conflict(String),
    /// The request breaks a rule of the ledger (409 or 422), naming the rule.
    Refused {
        /// The rule broken; its short name (`self-review`, …) is the problem's type.
        rule: Rule,
        /// Why, in words.
        message: String,
    },
    /// The ledger cannot answer now; the cause is logged, never sent.
    Unavailable(Cause),
    /// Anything else; the cause is logged, never sent.
    Internal(Cause),
    /// An error status from a layer below the handlers (405, 408, …) with no body of its own.
    Status(StatusCode),
}

/// The cause of a 500 or 503, kept for the log.
#[derive(Clone, Debug)]
pub struct Cause(pub Arc<str>);

impl Cause {
    /// A cause from anything that can be shown.
    pub fn new(cause: impl std::fmt::Display) -> Cause {
        Cause(cause.to_string().into())
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What is wrong with this request, in words.
    pub detail: String,
    /// Each problem found in the body, when the body was read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
}

/// One problem found in a request body.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ProblemItem {
    /// The dotted path of the field at fault (`inputs.talent_likeness`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The JSON Pointer (RFC 6901) of the field at fault (`/inputs/talent_likeness`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The 1-based line in the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The 1-based column in the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl ApiError {
    /// A 422 naming the field at fault.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The problem document and, for a 500 or 503, the cause to log.
    pub(crate) fn problem(&self) -> (Problem, Option<Cause>) {
        let (status, kind, title, detail, errors, cause) = match self {
            ApiError::NotFound { path } => (
                StatusCode::NOT_FOUND,
                "not-found",
                "not found",
                format!("no resource at `{path}`"),
                Vec::new(),
                None,
            ),
            ApiError::Declaration(error) => {
                // A fault in the document as a whole (its syntax) is a malformed
                // request; a fault in a named field is a declaration that does not validate.
                let status = if known_field(error).is_none() {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                (
                    status,
                    "invalid-declaration",
                    "invalid declaration",
                    format!("the declaration cannot be read: {error}"),
                    vec![declaration_item(error)],
                    None,
                )
            }
            ApiError::Pack(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-policy-pack",
                "invalid policy pack",
                errors.to_string(),
                errors
                    .diagnostics
                    .iter()
                    .map(|d| ProblemItem {
                        line: Some(d.line()),
                        column: Some(d.column()),
                        message: d.message.clone(),
                        help: d.help.clone(),
                        ..ProblemItem::default()
                    })
                    .collect(),
                None,
            ),
            ApiError::UnsupportedMediaType { sent, accepted } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "unsupported media type",
                format!(
                    "{} is not accepted here: send {}",
                    match sent {
                        Some(sent) => format!("content type `{sent}`"),
                        None => "a body without a content type".to_owned(),
                    },
                    accepted
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                Vec::new(),
                None,
            ),
            ApiError::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "body too large",
                format!("the request body is larger than the limit of {limit} bytes"),
                Vec::new(),
                None,
            ),
            ApiError::UnreadableBody(why) => (
                StatusCode::BAD_REQUEST,
                "unreadable-body",
                "unreadable body",
                format!("the request body cannot be read: {why}"),
                Vec::new(),
                None,
            ),
            ApiError::InvalidBody {
                field,
                line,
                column,
                message,
                help,
            } => (
                StatusCode::BAD_REQUEST,
                "invalid-body",
                "invalid body",
                format!("the body cannot be read: {message}"),
                vec![ProblemItem {
                    pointer: field.as_deref().map(pointer),
                    field: field.clone(),
                    line: Some(*line),
                    column: Some(*column),
                    message: message.clone(),
                    help: help.clone(),
                }],
                None,
            ),
            ApiError::InvalidQuery {
                field,
                message,
                help,
            } => (
                StatusCode::BAD_REQUEST,
                "invalid-query",
                "invalid query",
                format!("the query string cannot be read: {message}"),
                vec![ProblemItem {
                    field: field.clone(),
                    message: message.clone(),
                    help: help.clone(),
                    ..ProblemItem::default()
                }],
                None,
            ),
            ApiError::InvalidField { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "invalid field",
                format!("`{field}`: {message}"),
                vec![ProblemItem {
                    pointer: Some(pointer(field)),
                    field: Some(field.clone()),
                    message: message.clone(),
                    ..ProblemItem::default()
                }],
                None,
            ),
            ApiError::Unauthenticated(why) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "unauthenticated",
                why.clone(),
                Vec::new(),
                None,
            ),
            ApiError::Forbidden(denied) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "forbidden",
                denied.message.clone(),
                Vec::new(),
                None,
            ),
            ApiError::Csrf(why) => (
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or wrong CSRF token",
                why.clone(),
                Vec::new(),
                None,
            ),
            ApiError::OidcNotConfigured => (
                StatusCode::NOT_FOUND,
                "oidc-not-configured",
                "OIDC sign-in is not configured",
                "this server has no OpenID provider (`--oidc-issuer`): sign in with a password (`POST /api/v1/session`)".to_owned(),
                Vec::new(),
                None,
            ),
            ApiError::SignInRefused(why) => (
                StatusCode::FORBIDDEN,
                "sign-in-refused",
                "sign-in refused",
                why.clone(),
                Vec::new(),
                None,
            ),
            ApiError::ProviderUnavailable(why) => (
                StatusCode::BAD_GATEWAY,
                "provider-unavailable",
                "OpenID provider unavailable",
                why.clone(),
                Vec::new(),
                None,
            ),
            ApiError::TooManyRequests { message, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "too many requests",
                message.clone(),
                Vec::new(),
                None,
            ),
            ApiError::RecordNotFound(what) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "not found",
                what.clone(),
                Vec::new(),
                None,
            ),
            ApiError::Conflict(why) => (
                StatusCode::CONFLICT,
                "conflict",
                "conflict",
                why.clone(),
                Vec::new(),
                None,
            ),
            ApiError::Refused { rule, message } => (
                rule_status(rule),
                rule.as_str(),
                "refused by a rule of the ledger",
                message.clone(),
                Vec::new(),
                None,
            ),
            ApiError::Unavailable(cause) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "service unavailable",
                "the ledger is not answering; try again later".to_owned(),
                Vec::new(),
                Some(cause.clone()),
            ),
            ApiError::Internal(cause) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal server error",
                "the server failed to answer this request; it has been logged".to_owned(),
                Vec::new(),
                Some(cause.clone()),
            ),
            ApiError::Status(status) => {
                let title = status.canonical_reason().unwrap_or("error").to_lowercase();
                let detail = match *status {
                    StatusCode::METHOD_NOT_ALLOWED => {
                        "this method is not allowed on this resource".to_owned()
                    }
                    StatusCode::REQUEST_TIMEOUT => {
                        "the request took longer than the server allows".to_owned()
                    }
                    _ => title.clone(),
                };
                let kind = title.replace(' ', "-");
                let problem = Problem {
                    kind: format!("{TYPE_BASE}{kind}"),
                    title,
                    status: status.as_u16(),
                    detail,
                    errors: Vec::new(),
                };
                return (problem, None);
            }
        };
        let problem = Problem {
            kind: format!("{TYPE_BASE}{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        };
        (problem, cause)
    }
}

/// The seconds a client is told to wait after a rate-limit refusal that says no more.
const RATE_LIMIT_RETRY: u64 = 60;

/// The status of a refusal: 409 when the record's state is what stands in the way (it is
/// already done, not escalated, blocked), 422 when the request itself breaks the rule.
fn rule_status(rule: &Rule) -> StatusCode {
    match rule {
        Rule::AlreadyDone | Rule::NotEscalated | Rule::Blocked => StatusCode::CONFLICT,
        // Who may not do this (the submitter, or not a reviewer of the production) is a
        // refusal of the caller; any other rule, of the request.
        Rule::SelfReview | Rule::NotReviewer => StatusCode::FORBIDDEN,
        Rule::BadInput | Rule::UnknownReference | Rule::WrongProduction => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Rule::Unauthenticated => StatusCode::UNAUTHORIZED,
        Rule::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        // `Rule` may grow (it is `non_exhaustive`): a new rule is a refusal of the request.
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The field at fault, without the `?` serde puts where a path could not be
/// finished (a syntax error has no field).
fn known_field(error: &DeclarationError) -> Option<String> {
    let field = error.field.trim_end_matches('?').trim_end_matches('.');
    (!field.is_empty()).then(|| field.to_owned())
}

fn declaration_item(error: &DeclarationError) -> ProblemItem {
    let field = known_field(error);
    ProblemItem {
        pointer: field.as_deref().map(pointer),
        field,
        line: error.line,
        column: error.column,
        message: error.message.clone(),
        help: error.help.clone(),
    }
}

/// `tools[1].name` as a JSON Pointer: `/tools/1/name`.
fn pointer(field: &str) -> String {
    let mut out = String::new();
    for part in field.split('.') {
        let mut rest = part;
        while let Some(open) = rest.find('[') {
            let (name, tail) = rest.split_at(open);
            if !name.is_empty() {
                push_token(&mut out, name);
            }
            let Some(close) = tail.find(']') else {
                break;
            };
            push_token(&mut out, tail.get(1..close).unwrap_or_default());
            rest = tail.get(close + 1..).unwrap_or_default();
        }
        if !rest.is_empty() {
            push_token(&mut out, rest);
        }
    }
    out
}

fn push_token(out: &mut String, token: &str) {
    out.push('/');
    out.push_str(&token.replace('~', "~0").replace('/', "~1"));
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (problem, cause) = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            ApiError::Unauthenticated(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"greenlight\""),
                );
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        if let Some(cause) = cause {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

impl From<DeclarationError> for ApiError {
    fn from(error: DeclarationError) -> Self {
        ApiError::Declaration(Box::new(error))
    }
}

impl From<PackErrors> for ApiError {
    fn from(errors: PackErrors) -> Self {
        ApiError::Pack(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { .. } => ApiError::RecordNotFound(error.to_string()),
            StoreError::Conflict(why) => ApiError::Conflict(why),
            StoreError::Invalid { rule, message } => match rule {
                Rule::Unauthenticated => ApiError::Unauthenticated(message),
                Rule::RateLimited => ApiError::TooManyRequests {
                    retry_after: RATE_LIMIT_RETRY,
                    message,
                },
                rule => ApiError::Refused { rule, message },
            },
            other => ApiError::Internal(Cause::new(other)),
        }
    }
}

impl From<EvalError> for ApiError {
    fn from(error: EvalError) -> Self {
        // A pack that loads cannot fail on a well-formed declaration: this is a bug.
        ApiError::Internal(Cause::new(error))
    }
}

/// Logs the cause of every 500 and 503, the one place causes are logged.
pub async fn log_causes(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(Cause(cause)) = response.extensions().get::<Cause>() {
        tracing::error!(%method, %path, status = response.status().as_u16(), %cause, "request failed");
    }
    response
}

/// Gives an error status that a layer below the handlers answered with an
/// empty body (405, 408, …) the same problem document as every other error.
pub async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if (status.is_client_error() || status.is_server_error())
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        let mut problem = ApiError::Status(status).into_response();
        for (name, value) in response.headers() {
            // Keep what the layer said about the error, e.g. `Allow` on a 405.
            if name != header::CONTENT_LENGTH {
                problem.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return problem;
    }
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use greenlight_store::{Rule, StoreError};

    use super::{ApiError, pointer};

    fn problem(error: StoreError) -> (u16, String, String, bool) {
        let (problem, cause) = ApiError::from(error).problem();
        (
            problem.status,
            problem.kind,
            problem.detail,
            cause.is_some(),
        )
    }

    #[test]
    fn store_errors_become_problems_with_a_type_per_rule() {
        let (status, kind, detail, _) =
            problem(StoreError::invalid(Rule::SelfReview, "cam submitted it"));
        assert_eq!((status, kind.as_str()), (403, "/problems/self-review"));
        assert_eq!(detail, "cam submitted it");
        for (rule, status) in [
            (Rule::AlreadyDone, 409),
            (Rule::NotEscalated, 409),
            (Rule::Blocked, 409),
            (Rule::BadInput, 422),
            (Rule::NotReviewer, 403),
            (Rule::UnknownReference, 422),
            (Rule::WrongProduction, 422),
            (Rule::Unauthenticated, 401),
            (Rule::RateLimited, 429),
        ] {
            let (got, kind, _, _) = problem(StoreError::invalid(rule, "why"));
            assert_eq!(got, status, "{rule}");
            assert!(kind.starts_with("/problems/"), "{kind}");
        }
        let (status, kind, _, _) = problem(StoreError::NotFound {
            kind: "declaration",
            id: "x".to_owned(),
        });
        assert_eq!((status, kind.as_str()), (404, "/problems/not-found"));
        let (status, _, _, _) = problem(StoreError::Conflict("taken".to_owned()));
        assert_eq!(status, 409);
        // A backend failure: 500, its cause kept for the log and not in the answer.
        let (status, _, detail, logged) =
            problem(StoreError::Other("disk I/O error at /srv".to_owned()));
        assert_eq!(status, 500);
        assert!(logged && !detail.contains("/srv"), "{detail}");
    }

    #[test]
    fn field_paths_become_json_pointers() {
        assert_eq!(pointer("inputs.talent_likeness"), "/inputs/talent_likeness");
        assert_eq!(pointer("tools[1].name"), "/tools/1/name");
        assert_eq!(pointer("performers[0]"), "/performers/0");
        assert_eq!(pointer("a/b~c"), "/a~1b~0c");
    }
}
