//! Request bodies: a declaration (JSON or TOML), a policy pack (TOML) and any other JSON body
//! ([`ApiJson`]); and the client's address ([`ClientAddress`]).
//!
//! Both read the body through the server's size limit and answer a wrong
//! content type (415), an oversized body (413), a body that is not UTF-8 (400)
//! and a declaration that does not parse (400 or 422, with the field, line and
//! column) with [`ApiError`], so every error has the same problem shape.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use greenlight_core::{Declaration, SourceFormat};
use serde::de::DeserializeOwned;

use crate::AppState;
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
        serde_json::from_str(&text)
            .map(ApiJson)
            .map_err(|e| ApiError::InvalidBody {
                field: named_field(&e.to_string()),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })
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
            .map_err(|e| ApiError::InvalidQuery {
                field: named_field(&e.to_string()),
                message: e.to_string(),
            })
    }
}

/// The field a serde message names (`unknown field `x``, `missing field `x``).
fn named_field(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let rest = message.get(start..)?;
    Some(rest.get(..rest.find('`')?)?.to_owned())
}

/// The address of the client: the connection's peer (`unknown` when served without one, as
/// in a test calling the router directly).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string()),
        ))
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
    use super::named_field;

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
