//! Request bodies: a declaration (JSON or TOML), a policy pack (TOML) and any other JSON body
//! ([`ApiJson`]); and the client's address ([`ClientAddress`]).
//!
//! Both read the body through the server's size limit and answer a wrong
//! content type (415), an oversized body (413), a body that is not UTF-8 (400)
//! and a declaration that does not parse (400 or 422, with the field, line and
//! column) with [`ApiError`], so every error has the same problem shape.

use std::marker::PhantomData;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use greenlight_core::{Declaration, SourceFormat};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::client::Client;
use crate::error::ApiError;

/// The media type of a declaration or pack written in TOML.
pub const TOML: &str = "application/toml";
/// The media type of JSON.
pub const JSON: &str = "application/json";

/// A declaration from the body: `application/json` or `application/toml`.
#[derive(Debug)]
pub struct DeclarationBody(pub Declaration);

/// A policy pack's text from the body: `application/toml`.
#[derive(Debug)]
pub struct PackBody(pub String);

/// A JSON body (`application/json`) read into `T`; a body that does not fit is a 400 problem
/// naming the line, the column and, when serde names one, the field.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (_, text) = text_body(request, state, &[JSON]).await?;
        read_json(&text).map(ApiJson)
    }
}

/// A body read only when the handler asks for it ([`Later::read`]), so that a route can
/// authorize its caller first: a caller who may not use the route gets 403, whatever the body
/// (malformed, oversized, of the wrong type) would have got. `T` is one of the body
/// extractors above ([`ApiJson`], [`DeclarationBody`], [`PackBody`]).
pub struct Later<T> {
    request: Request,
    read: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Later<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Later").finish_non_exhaustive()
    }
}

impl<T> FromRequest<AppState> for Later<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &AppState) -> Result<Self, ApiError> {
        Ok(Later {
            request,
            read: PhantomData,
        })
    }
}

impl<T: FromRequest<AppState, Rejection = ApiError>> Later<T> {
    /// Reads the body now, with the same checks and problems as `T` itself.
    pub async fn read(self, state: &AppState) -> Result<T, ApiError> {
        T::from_request(self.request, state).await
    }
}

/// A query string read into `T`; one that does not fit is a 400 problem naming the parameter
/// (axum's own rejection would be plain text).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| {
                let message = e.to_string();
                ApiError::InvalidQuery {
                    field: named_field(&message),
                    help: did_you_mean(&message),
                    message,
                }
            })
    }
}

/// Reads a JSON body into `T`; an error names the field at fault (its dotted path, from
/// `serde_path_to_error`), the line and column, and for a misspelt field the one probably meant.
pub fn read_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        let message = inner.to_string();
        let mut field = (path != "." && !path.is_empty()).then_some(path);
        if let Some(unknown) = named_field(&message)
            && message.starts_with("unknown field")
            && !field.as_deref().is_some_and(|f| f.ends_with(&unknown))
        {
            field = Some(match field {
                Some(parent) => format!("{parent}.{unknown}"),
                None => unknown,
            });
        }
        if field.is_none() {
            field = named_field(&message);
        }
        ApiError::InvalidBody {
            field,
            line: inner.line(),
            column: inner.column(),
            help: did_you_mean(&message),
            message,
        }
    })
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant"), the
/// candidate closest to `x`, as a hint.
fn did_you_mean(message: &str) -> Option<String> {
    let start = message
        .find("unknown field")
        .or_else(|| message.find("unknown variant"))?;
    let (head, expected) = message.get(start..)?.split_once("expected")?;
    let sent = head.split('`').nth(1)?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(sent, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    Some(format!("did you mean `{}`?", best.1))
}

/// The field a serde message names (`unknown field `x``, `missing field `x``).
fn named_field(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let rest = message.get(start..)?;
    Some(rest.get(..rest.find('`')?)?.to_owned())
}

/// The address of the client, as [`crate::serve`] resolved it ([`crate::client::resolve`]):
/// the connection's peer, or behind a trusted proxy the address it forwarded (`unknown` when
/// served without either, as in a test calling the router directly). Sign-in rate limits
/// count by it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let address = match parts.extensions.get::<Client>() {
            Some(client) => client.address.to_string(),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string()),
        };
        Ok(ClientAddress(address))
    }
}

impl FromRequest<AppState> for DeclarationBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (format, text) = text_body(request, state, &[JSON, TOML]).await?;
        let format = if format == JSON {
            SourceFormat::Json
        } else {
            SourceFormat::Toml
        };
        Ok(DeclarationBody(Declaration::parse(&text, format)?))
    }
}

impl FromRequest<AppState> for PackBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (_, text) = text_body(request, state, &[TOML]).await?;
        Ok(PackBody(text))
    }
}

/// Checks the content type against `accepted` (parameters such as
/// `charset=utf-8` are allowed) and reads the body as UTF-8 text.
async fn text_body(
    request: Request,
    state: &AppState,
    accepted: &'static [&'static str],
) -> Result<(&'static str, String), ApiError> {
    let sent = request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = sent
        .as_deref()
        .and_then(|s| s.split(';').next())
        .map(|s| s.trim().to_ascii_lowercase());
    let Some(format) = accepted
        .iter()
        .find(|a| essence.as_deref() == Some(**a))
        .copied()
    else {
        return Err(ApiError::UnsupportedMediaType { sent, accepted });
    };
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| body_error(rejection, state.config.body_limit))?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|e| ApiError::UnreadableBody(format!("the body is not UTF-8 text: {e}")))?;
    Ok((format, text))
}

fn body_error(rejection: BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge { limit }
    } else {
        ApiError::UnreadableBody(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, named_field};

    #[test]
    fn a_misspelt_field_or_value_gets_a_hint() {
        assert_eq!(
            did_you_mean("unknown field `titel`, expected `title` or `kind`").as_deref(),
            Some("did you mean `title`?")
        );
        assert_eq!(
            did_you_mean("unknown variant `reviewr`, expected one of `reviewer`, `legal`")
                .as_deref(),
            Some("did you mean `reviewer`?")
        );
        assert_eq!(did_you_mean("unknown field `zzz`, expected `title`"), None);
    }

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            named_field("unknown field `pasword`, expected `login` or `password`").as_deref(),
            Some("pasword")
        );
        assert_eq!(
            named_field("missing field `login` at line 1").as_deref(),
            Some("login")
        );
        assert_eq!(named_field("expected value at line 1 column 2"), None);
    }
}
