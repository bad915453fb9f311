//! A production's report: `GET /api/v1/productions/{id}/report?format=json|html|pdf|csv`.
//!
//! The same report as `greenlight report` (`greenlight-report` gathers and renders it), made
//! for a caller who may read the production's declarations, consents and scans, and recorded
//! in the ledger by its sha256 in an audited write, so the file handed over can be checked
//! later (`greenlight report verify FILE`).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use greenlight_report::Format;
use greenlight_store::{Action, NewReport, Production, ProductionId};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Cause, Problem};
use crate::extract::ApiQuery;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}

/// The report's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json`, `html` (the default), `pdf` or `csv` (a zip archive of one CSV per table).
    pub format: Option<String>,
}

/// The actions a report needs on its production: it holds the declarations, the consents
/// relied on and the scans.
pub const REPORT_NEEDS: [Action; 3] = [
    Action::ReadDeclarations,
    Action::ReadConsents,
    Action::ReadScans,
];

/// `Ok` when `caller` may have `production`'s report.
pub fn may_report(caller: &Caller, production: &Production) -> Result<(), ApiError> {
    for action in REPORT_NEEDS {
        caller.authorize(action, Some(production))?;
    }
    Ok(())
}

/// The file name a report is served under: the production's title in plain letters, then
/// the report's extension.
pub fn file_name(title: &str, format: Format) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "production" } else { slug };
    format!("greenlight-report-{slug}.{}", format.extension())
}

/// A production's report in one format, with its production's title.
///
/// It is the one report the ledger holds then, rendered in `format` and recorded by its
/// sha256 (`Ledger::record_report`, an audited write), with `caller` as who made it.
#[utoipa::path(
    get,
    path = "/api/v1/productions/{id}/report",
    tag = "productions",
    params(
        ("id" = String, Path, format = Uuid, description = "the production's id"),
        ("format" = Option<String>, Query, description = "`html` (the default), `pdf`, `json`, or `csv` (a zip archive of one CSV file per table)"),
    ),
    responses(
        (status = 200, description = "the report, as an attachment; its sha256 is recorded in the ledger", content(
            (String = "text/html"),
            (Vec<u8> = "application/pdf"),
            (Object = "application/json"),
            (Vec<u8> = "application/zip"),
        )),
        (status = 400, description = "the query string cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not read this production's declarations, consents or scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id or the format is not one", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let ledger = state.ledger.get().await?;
    let id: ProductionId = id
        .parse()
        .map_err(|e: greenlight_store::StoreError| ApiError::invalid_field("id", e.to_string()))?;
    let production = ledger.production(id).await?;
    may_report(&caller, &production)?;
    let format: Format = match query.format.as_deref() {
        None | Some("") => Format::Html,
        Some(name) => name.parse().map_err(|e: greenlight_report::Error| {
            ApiError::invalid_field("format", e.to_string())
        })?,
    };
    let report = greenlight_report::gather(ledger, production.id, caller.login()).await?;
    let generated_at = report
        .generated_at
        .parse()
        .map_err(|e: greenlight_store::StoreError| ApiError::Internal(Cause::new(e)))?;
    let (report_id, head_seq, head_hash) = (
        report.report_id.clone(),
        report.audit.head_seq,
        report.audit.head_hash.clone(),
    );
    // Typesetting a PDF is work for a blocking thread, not for the request's worker.
    let bytes = tokio::task::spawn_blocking(move || greenlight_report::render(&report, format))
        .await
        .map_err(|e| ApiError::Internal(Cause::new(e)))?
        .map_err(|e| ApiError::Internal(Cause::new(e)))?;
    let record = ledger
        .record_report(
            caller.login(),
            NewReport {
                sha256: greenlight_report::sha256_hex(&bytes),
                report_id,
                production_id: production.id,
                format: format.as_str().to_owned(),
                bytes: bytes.len() as u64,
                generated_at,
                audit_head_seq: head_seq,
                audit_head_hash: head_hash,
            },
        )
        .await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name(&production.title, format)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&record.sha256) {
        headers.insert("x-greenlight-report-sha256", value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_keeps_plain_letters_only() {
        assert_eq!(
            file_name("The \"Long\" Night: ep. 1/2\r\n", Format::Pdf),
            "greenlight-report-the-long-night-ep-1-2.pdf"
        );
        assert_eq!(
            file_name("«»", Format::Csv),
            "greenlight-report-production.zip"
        );
    }
}
