//! The notification outbox: `GET /api/v1/outbox` (admins), what is pending, sent and failed,
//! with each row's attempts and last error; `POST /api/v1/outbox/{id}/retry` makes a failed
//! row due again.

use axum::Json;
use axum::extract::{Path, State};
use greenlight_store::{Action, OutboxEvent, OutboxRow, OutboxStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::views::page_limit;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(retry))
}

/// A page of the outbox: `?status=`, `?after=` and `?limit=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// Only rows of this status: `pending`, `sent` or `failed`.
    pub status: Option<String>,
    /// The `next` of the previous page (a row's id); absent for the first.
    pub after: Option<String>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

/// One notification of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxView {
    /// The row's id (the webhook's `X-Greenlight-Delivery`).
    pub id: String,
    /// The event's id, shared by the rows one event enqueued.
    pub event_id: String,
    /// `submitted`, `escalated`, `decided`, `revoked` or `expiring`.
    pub event: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The e-mail address, or `webhook`.
    pub recipient: String,
    /// The production concerned.
    pub production_id: String,
    /// What the notification says.
    pub summary: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts made.
    pub attempts: u32,
    /// When it is (next) due (RFC 3339).
    pub next_at: String,
    /// When it was enqueued (RFC 3339).
    pub created_at: String,
    /// The last attempt's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was delivered (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

impl From<&OutboxRow> for OutboxView {
    fn from(row: &OutboxRow) -> Self {
        let summary = serde_json::from_str::<OutboxEvent>(&row.body)
            .map(|e| e.summary)
            .unwrap_or_default();
        OutboxView {
            id: row.id.clone(),
            event_id: row.event_id.clone(),
            event: row.event.to_string(),
            channel: row.channel.to_string(),
            recipient: row.recipient.clone(),
            production_id: row.production_id.clone(),
            summary,
            status: row.status.to_string(),
            attempts: row.attempts,
            next_at: row.next_at.to_string(),
            created_at: row.created_at.to_string(),
            last_error: row.last_error.clone(),
            sent_at: row.sent_at.map(|t| t.to_string()),
        }
    }
}

/// A page of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxPage {
    /// The rows, oldest first.
    pub rows: Vec<OutboxView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Reads a `?status=`.
pub fn parse_status(status: Option<&str>) -> Result<Option<OutboxStatus>, ApiError> {
    status
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<OutboxStatus>().map_err(|_| {
                ApiError::invalid_field(
                    "status",
                    format!("`{s}` is not a status: pending, sent or failed"),
                )
            })
        })
        .transpose()
}

/// The notification outbox, a page at a time (admins).
#[utoipa::path(
    get,
    path = "/api/v1/outbox",
    tag = "outbox",
    params(
        ("status" = Option<String>, Query, description = "only `pending`, `sent` or `failed` rows"),
        ("after" = Option<String>, Query, description = "the `next` of the previous page (a row's id)"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of the outbox", body = OutboxPage),
        (status = 400, description = "the query string is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`status` or `limit` is out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> Result<Json<OutboxPage>, ApiError> {
    caller.authorize(Action::ReadOutbox, None)?;
    let status = parse_status(query.status.as_deref())?;
    let limit = page_limit(query.limit)?;
    let ledger = state.ledger.get().await?;
    let rows = ledger.outbox(status, query.after.as_deref(), limit).await?;
    let next = if rows.len() == limit as usize {
        rows.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok(Json(OutboxPage {
        rows: rows.iter().map(OutboxView::from).collect(),
        next,
    }))
}

/// Make a failed notification due again (admins): its attempts start afresh and the worker
/// delivers it at its next look.
#[utoipa::path(
    post,
    path = "/api/v1/outbox/{id}/retry",
    tag = "outbox",
    params(("id" = String, Path, format = Uuid, description = "the outbox row's id")),
    responses(
        (status = 200, description = "the row, pending again", body = OutboxView),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such outbox row", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the row is pending or sent, not failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OutboxView>, ApiError> {
    caller.authorize(Action::RetryOutbox, None)?;
    let ledger = state.ledger.get().await?;
    let row = ledger.retry_outbox(&id).await?;
    tracing::info!(
        row = %row.id, event = %row.event, channel = %row.channel,
        recipient = %row.recipient, by = %caller.login(), "notification due again"
    );
    Ok(Json(OutboxView::from(&row)))
}
