//! The audit log: `GET /api/v1/audit` (entries by cursor, secrets left out) and
//! `GET /api/v1/audit/verify` (the chain, the checkpoints' signatures and every record
//! checked against it, as `greenlight audit verify`) and `GET /api/v1/audit/key` (the key
//! that checks its signed checkpoints, as `greenlight audit key`).

use axum::Json;
use axum::extract::State;
use greenlight_store::Action;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::problems::{NotSignedIn, Paged};
use crate::api::views::{AuditEntryView, page_limit};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(entries))
        .routes(routes!(verify))
        .routes(routes!(key))
}

/// A page of the audit log: `?after=` (a `seq`) and `?limit=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditCursor {
    /// The `next` of the previous page (an entry's `seq`); absent for the first.
    pub after: Option<i64>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

/// A page of audit entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries, in order.
    pub entries: Vec<AuditEntryView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// What verifying the audit log found.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyView {
    /// Nothing was found wrong.
    pub ok: bool,
    /// Entries read.
    pub entries: u64,
    /// Checkpoints whose signatures were checked.
    pub checkpoints: u64,
    /// Records compared with the log.
    pub records: u64,
    /// The first bad entry, when a problem names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_entry: Option<i64>,
    /// Every problem, in order of the entry it is at.
    pub problems: Vec<String>,
}

/// The public key that checks the audit log's signed checkpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// The ed25519 verifying key, in hex (as `greenlight audit key` prints it).
    pub verifying_key: String,
}

/// The audit log, a page at a time (auditors).
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(
        ("after" = Option<i64>, Query, description = "the `next` of the previous page (an entry's `seq`)"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of entries", body = AuditPage),
        (status = 403, description = "not an auditor", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        Paged,
    )
)]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(cursor): ApiQuery<AuditCursor>,
) -> Result<Json<AuditPage>, ApiError> {
    // The log spans every production: reading it is a global role's.
    caller.authorize(Action::ReadAudit, None)?;
    let limit = page_limit(cursor.limit)?;
    let ledger = state.ledger.get().await?;
    let entries = ledger.audit_entries(cursor.after, limit).await?;
    let next = if entries.len() == limit as usize {
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(AuditPage {
        entries: entries.into_iter().map(AuditEntryView::from).collect(),
        next,
    }))
}

/// Verify the audit log (auditors, admins).
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    tag = "audit",
    responses(
        (status = 200, description = "what verifying found; `ok` is false when anything is wrong", body = VerifyView),
        (status = 403, description = "not an auditor or admin", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<VerifyView>, ApiError> {
    caller.authorize(Action::VerifyAudit, None)?;
    let ledger = state.ledger.get().await?;
    let report = ledger.verify().await?;
    Ok(Json(VerifyView {
        ok: report.is_ok(),
        entries: report.entries,
        checkpoints: report.checkpoints,
        records: report.records,
        first_bad_entry: report.first_bad_entry(),
        problems: report.problems.iter().map(|p| p.to_string()).collect(),
    }))
}

/// The audit log's verifying key, to check its checkpoints elsewhere (auditors, admins).
#[utoipa::path(
    get,
    path = "/api/v1/audit/key",
    tag = "audit",
    responses(
        (status = 200, description = "the ed25519 verifying key", body = KeyView),
        (status = 403, description = "not an auditor or admin", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn key(State(state): State<AppState>, caller: Caller) -> Result<Json<KeyView>, ApiError> {
    caller.authorize(Action::VerifyAudit, None)?;
    let ledger = state.ledger.get().await?;
    let verifying_key = ledger
        .verifying_key()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Json(KeyView { verifying_key }))
}
