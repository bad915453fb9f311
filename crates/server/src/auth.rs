//! Who is calling: the [`Caller`] extractor, and the one helper routes ask before acting
//! ([`Caller::authorize`]).
//!
//! A request proves who it is with `Authorization: Bearer glt_…` (an API token, for
//! programs) or the `greenlight_session` cookie (a browser, after `POST /api/v1/session`).
//! The extractor only resolves the credential through the ledger into a
//! [`Principal`]; what the principal may do is `greenlight_store::authz`'s table, asked
//! through [`Caller::authorize`], so the API and the web pages answer alike.
//!
//! A cookie-authenticated unsafe request (`POST`, `PUT`, `PATCH`, `DELETE`) must carry the
//! session's CSRF token in `X-CSRF-Token`, or it is refused (403) before its handler runs; a
//! bearer token is not sent by a browser on its own, so its requests need none.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use greenlight_store::{Action, Principal, Production, Session, StoreError, authorize};

use crate::AppState;
use crate::error::ApiError;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "greenlight_session";
/// The header a cookie-authenticated unsafe request carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a caller proved who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An API token (`Authorization: Bearer`).
    Token,
    /// A signed-in session (the cookie), with its record.
    Session(Box<Session>),
}

/// The account calling, resolved from its session cookie or API token; a request with
/// neither, or with one that is unknown, expired or revoked, is answered 401.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who, with the roles in force.
    pub principal: Principal,
    /// How they proved it.
    pub credential: Credential,
}

impl Caller {
    /// The login every change the caller makes records as its actor.
    pub fn login(&self) -> &str {
        &self.principal.login
    }

    /// Whether the caller may take `action` (on `production`, when it is about one): `Ok`, or
    /// a 403 problem saying why.
    pub fn authorize(
        &self,
        action: Action,
        production: Option<&Production>,
    ) -> Result<(), ApiError> {
        authorize(&self.principal, action, production).map_err(ApiError::Forbidden)
    }

    /// Whether the caller may take `action` on `production`, as a yes or no (to filter a
    /// listing).
    pub fn may(&self, action: Action, production: &Production) -> bool {
        authorize(&self.principal, action, Some(production)).is_ok()
    }
}

/// A caller when a credential was sent, `None` when none was. A credential that was sent
/// and fails is still a 401: a bad token never quietly means "anonymous".
#[derive(Clone, Debug)]
pub struct MaybeCaller(pub Option<Caller>);

/// The bearer token of a request: `None` without an `Authorization` header; a 401 when the
/// header is there but not a bearer token.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| {
        ApiError::Unauthenticated("the `Authorization` header is not text".to_owned())
    })?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthenticated(
            "the `Authorization` header must be `Bearer` and an API token".to_owned(),
        ));
    }
    Ok(Some(token.trim()))
}

/// The session cookie's value, if the request sends one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `wanted`, if the request sends one that is not empty.
pub fn cookie<'h>(headers: &'h HeaderMap, wanted: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

fn unsafe_method(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn refused(error: StoreError) -> ApiError {
    match error {
        StoreError::Invalid { message, .. } => ApiError::Unauthenticated(message),
        StoreError::NotFound { .. } => {
            ApiError::Unauthenticated("the account no longer exists".to_owned())
        }
        other => ApiError::from(other),
    }
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    if let Some(token) = bearer(&parts.headers)? {
        let ledger = state.ledger.get().await?;
        let principal = ledger.authenticate_token(token).await.map_err(refused)?;
        return Ok(Some(Caller {
            principal,
            credential: Credential::Token,
        }));
    }
    let Some(cookie) = session_cookie(&parts.headers) else {
        return Ok(None);
    };
    let ledger = state.ledger.get().await?;
    let auth = ledger.session(cookie).await.map_err(refused)?;
    if unsafe_method(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if sent.is_empty() {
            return Err(ApiError::Csrf(format!(
                "a signed-in {} needs the session's CSRF token in `X-CSRF-Token`",
                parts.method
            )));
        }
        if !auth.session.csrf_matches(sent) {
            return Err(ApiError::Csrf(
                "the `X-CSRF-Token` header is not this session's CSRF token".to_owned(),
            ));
        }
    }
    Ok(Some(Caller {
        principal: auth.principal,
        credential: Credential::Session(Box::new(auth.session)),
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        resolve(parts, state).await?.ok_or_else(|| {
            ApiError::Unauthenticated(
                "sign in (`POST /api/v1/session`) or send `Authorization: Bearer` and an API token"
                    .to_owned(),
            )
        })
    }
}

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(MaybeCaller(resolve(parts, state).await?))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; greenlight_session=abc ; b=2"),
        );
        assert_eq!(session_cookie(&headers), Some("abc"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("greenlight_session="),
        );
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn only_bearer_tokens_are_taken() {
        let mut headers = HeaderMap::new();
        assert!(matches!(bearer(&headers), Ok(None)));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer glt_x"),
        );
        assert!(matches!(bearer(&headers), Ok(Some("glt_x"))));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YTpi"),
        );
        assert!(bearer(&headers).is_err());
    }
}
