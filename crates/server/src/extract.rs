//! Request bodies: a declaration (JSON or TOML) and a policy pack (TOML).
//!
//! Both read the body through the server's size limit and answer a wrong
//! content type (415), an oversized body (413), a body that is not UTF-8 (400)
//! and a declaration that does not parse (400 or 422, with the field, line and
//! column) with [`ApiError`], so every error has the same problem shape.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use greenlight_core::{Declaration, SourceFormat};

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
