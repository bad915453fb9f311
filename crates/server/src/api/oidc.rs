//! OIDC sign-in over HTTP: `GET /api/v1/session/oidc` sends the browser to the provider,
//! and the provider sends it back to `GET /api/v1/session/oidc/callback`, which redeems the
//! code and begins the same cookie session a password sign-in gives, then sends the browser
//! to `/`.
//!
//! On success the session's CSRF token is handed in the `greenlight_csrf` cookie (readable
//! by the page's script, which sends it back in `X-CSRF-Token`), as a redirect has no body.
//!
//! The `state` is also set in a short-lived cookie (`greenlight_oidc`, `SameSite=Lax`, on
//! these two paths only) that the callback must send back: a callback link made by someone
//! else (login CSRF) is refused in any browser that did not begin the sign-in. Everything
//! else about the sign-in is in the ledger; see `crate::oidc` and `greenlight_store`'s
//! `oidc` module for the checks and the linking rule.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use greenlight_store::{Login, NewOidcRequest, OidcIdentity, OidcStart, StoreError, sha256_hex};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::accounts::{secure, session_cookie_header};
use crate::client::Scheme;
use crate::error::{ApiError, Cause, Problem};
use crate::extract::{ApiQuery, ClientAddress};
use crate::oidc::{Oidc, OidcError};

/// The cookie holding a sign-in's `state` between the redirect and the callback.
pub const FLOW_COOKIE: &str = "greenlight_oidc";
/// The cookie an OIDC sign-in hands the session's CSRF token in.
pub const CSRF_COOKIE: &str = "greenlight_csrf";
/// The path the flow cookie is sent on.
const FLOW_PATH: &str = "/api/v1/session/oidc";

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(begin))
        .routes(routes!(callback))
}

/// What the provider sends back (any other parameter, such as Entra ID's `session_state`,
/// is ignored).
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    /// The `state` of the sign-in.
    #[serde(default)]
    pub state: Option<String>,
    /// The authorization code.
    #[serde(default)]
    pub code: Option<String>,
    /// The provider's error code, when it did not sign the person in.
    #[serde(default)]
    pub error: Option<String>,
    /// The provider's words for it.
    #[serde(default)]
    pub error_description: Option<String>,
}

fn provider(state: &AppState) -> Result<&Oidc, ApiError> {
    state.oidc.as_deref().ok_or(ApiError::OidcNotConfigured)
}

fn flow_cookie(value: &str, max_age: i64, secure: bool) -> Result<HeaderValue, ApiError> {
    let secure = if secure { "; Secure" } else { "" };
    // Lax, not Strict: the callback is a top-level navigation from the provider's site.
    HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={value}; HttpOnly; SameSite=Lax; Path={FLOW_PATH}; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(Cause::new(e)))
}

/// The session's CSRF token, for the page's script to send back in `X-CSRF-Token` (a
/// redirect has no body to carry it, as a password sign-in's answer does). Readable by
/// scripts of this origin only, and useless without the session cookie, which is not.
fn csrf_cookie(token: &str, max_age: i64, secure: bool) -> Result<HeaderValue, ApiError> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={token}; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(Cause::new(e)))
}

fn sent_flow_cookie(headers: &HeaderMap) -> Option<&str> {
    crate::auth::cookie(headers, FLOW_COOKIE)
}

fn see_other(location: &str) -> Result<Response, ApiError> {
    let location =
        HeaderValue::from_str(location).map_err(|e| ApiError::Internal(Cause::new(e)))?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// Begin an OIDC sign-in: a redirect to the provider.
#[utoipa::path(
    get,
    path = "/api/v1/session/oidc",
    tag = "accounts",
    responses(
        (status = 303, description = "to the provider's sign-in page (`Location`); the `greenlight_oidc` cookie holds the sign-in's `state`"),
        (status = 404, description = "this server has no OpenID provider configured", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed sign-ins from this address; `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "the OpenID provider is not answering", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "the ledger is not answering", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn begin(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    scheme: Scheme,
) -> Result<Response, ApiError> {
    let oidc = provider(&state)?;
    let ledger = state.ledger.get().await?;
    let begun = oidc.begin().await.map_err(provider_error)?;
    let started = ledger
        .begin_oidc(NewOidcRequest {
            state: begun.state.clone(),
            issuer: oidc.issuer().to_owned(),
            nonce: begun.nonce,
            pkce_verifier: begun.pkce_verifier,
            address,
        })
        .await?;
    match started {
        OidcStart::Begun(request) => {
            let max_age =
                (request.expires_at.as_datetime() - request.created_at.as_datetime()).num_seconds();
            let mut response = see_other(&begun.url)?;
            response.headers_mut().append(
                header::SET_COOKIE,
                flow_cookie(&begun.state, max_age, secure(&state, scheme))?,
            );
            Ok(response)
        }
        OidcStart::Throttled {
            retry_after,
            message,
        } => Err(ApiError::TooManyRequests {
            retry_after,
            message,
        }),
    }
}

fn provider_error(error: OidcError) -> ApiError {
    match error {
        OidcError::Provider(why) => ApiError::ProviderUnavailable(why),
        OidcError::Refused(why) => ApiError::SignInRefused(why),
    }
}

/// The provider's callback: the code is redeemed, the ID token checked (signature, issuer,
/// audience, expiry, nonce), and the identity's account signed in with a session cookie;
/// then a redirect to `/`.
#[utoipa::path(
    get,
    path = "/api/v1/session/oidc/callback",
    tag = "accounts",
    params(
        ("state" = Option<String>, Query, description = "the sign-in's `state`, as the provider sends it back"),
        ("code" = Option<String>, Query, description = "the authorization code"),
        ("error" = Option<String>, Query, description = "the provider's error code, when it did not sign the person in"),
        ("error_description" = Option<String>, Query, description = "the provider's words for its error"),
    ),
    responses(
        (status = 303, description = "signed in: the session is the `greenlight_session` cookie; to `/`"),
        (status = 400, description = "the query is not a callback (no `state`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "the sign-in is refused: unknown, used or expired `state`, a sign-in begun in another browser, an ID token that does not verify, an identity with no account, a disabled account; recorded as a failed sign-in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "this server has no OpenID provider configured", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed sign-ins from this address", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "the OpenID provider is not answering", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "the ledger is not answering", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn callback(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    scheme: Scheme,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    let oidc = provider(&state)?;
    let Some(flow_state) = query.state.filter(|s| !s.is_empty()) else {
        return Err(ApiError::InvalidQuery {
            field: Some("state".to_owned()),
            message: "a callback needs the `state` the provider was sent".to_owned(),
            help: None,
        });
    };
    let ledger = state.ledger.get().await?;
    let issuer = oidc.issuer().to_owned();
    let refuse = |reason: String| {
        let ledger = ledger.clone();
        let address = address.clone();
        let issuer = issuer.clone();
        async move {
            ledger
                .record_oidc_failure(&address, &issuer, &reason)
                .await?;
            Err::<Response, ApiError>(ApiError::SignInRefused(reason))
        }
    };
    // The browser that began the sign-in holds its state (compared as hashes).
    let same_browser = sent_flow_cookie(&headers)
        .is_some_and(|sent| sha256_hex(sent.as_bytes()) == sha256_hex(flow_state.as_bytes()));
    if !same_browser {
        return refuse(
            "this sign-in was not begun in this browser (its `greenlight_oidc` cookie is missing or another's): begin again".to_owned(),
        )
        .await;
    }
    let request = match ledger
        .take_oidc_request(&flow_state, &issuer, &address)
        .await
    {
        Ok(request) => request,
        // Refused and recorded by the ledger.
        Err(StoreError::Invalid { message, .. }) => return Err(ApiError::SignInRefused(message)),
        Err(other) => return Err(other.into()),
    };
    if let Some(error) = query.error {
        let words = query
            .error_description
            .map(|d| format!(" ({})", d.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        let error: String = error.chars().take(64).collect();
        return refuse(format!(
            "{} did not sign you in: `{error}`{words}",
            oidc.provider_name()
        ))
        .await;
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return refuse("the provider sent back no code".to_owned()).await;
    };
    let verified = match oidc
        .finish(&code, &request.nonce, &request.pkce_verifier)
        .await
    {
        Ok(verified) => verified,
        Err(OidcError::Refused(reason)) => return refuse(reason).await,
        Err(OidcError::Provider(why)) => {
            ledger.record_oidc_failure(&address, &issuer, &why).await?;
            return Err(ApiError::ProviderUnavailable(why));
        }
    };
    let identity = OidcIdentity {
        issuer: issuer.clone(),
        subject: verified.subject,
        email: verified.email,
        email_verified: verified.email_verified,
        name: verified.name,
    };
    // Provisioning hashes a password (argon2id, slow by design): on a blocking thread.
    let provision = oidc.provision();
    let served = ledger.clone();
    let from = address.clone();
    let runtime = tokio::runtime::Handle::current();
    let signed = tokio::task::spawn_blocking(move || {
        runtime.block_on(served.oidc_sign_in(&identity, &from, provision))
    })
    .await
    .map_err(|e| ApiError::Internal(Cause::new(e)))??;
    match signed {
        Login::SignedIn(signed) => {
            let max_age = (signed.session.expires_at.as_datetime()
                - signed.session.created_at.as_datetime())
            .num_seconds();
            let secure = secure(&state, scheme);
            let mut response = see_other("/")?;
            let cookies = response.headers_mut();
            cookies.append(
                header::SET_COOKIE,
                session_cookie_header(&signed.cookie, max_age, secure)?,
            );
            cookies.append(
                header::SET_COOKIE,
                csrf_cookie(&signed.csrf_token, max_age, secure)?,
            );
            cookies.append(header::SET_COOKIE, flow_cookie("", 0, secure)?);
            Ok(response)
        }
        Login::Refused { message } => Err(ApiError::SignInRefused(message)),
        Login::Throttled {
            retry_after,
            message,
        } => Err(ApiError::TooManyRequests {
            retry_after,
            message,
        }),
    }
}
