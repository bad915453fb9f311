//! The outbox page (admins): every notification with its status, attempts and last error,
//! filtered by status, exported as CSV, and a retry button for a failed one.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use greenlight_store::{Action, OutboxEvent, OutboxRow, OutboxStatus};
use serde::Deserialize;

use super::export::{Cell, Table, csv_response, wants_csv};
use super::review::{Choice, when};
use super::{Chrome, Web, WebError, WebForm, page, see_other};
use crate::AppState;
use crate::api::outbox::parse_status;
use crate::error::ApiError;

/// The most rows the page reads (newest shown first).
const MAX_ROWS: usize = 5_000;

/// The page's query: `?status=`, and `?format=csv&table=outbox`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    status: Option<String>,
    format: Option<String>,
    table: Option<String>,
}

/// One notification as the page lists it.
pub struct OutboxItem {
    /// The row's id.
    pub id: String,
    /// When it was enqueued.
    pub created: String,
    /// The event's name.
    pub event: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address, or `webhook`.
    pub recipient: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: String,
    /// When it is due (pending) or was sent.
    pub when: String,
    /// What the notification says.
    pub summary: String,
    /// The record it concerns: what the link says and where it goes.
    pub record: (String, String),
    /// It may be retried.
    pub failed: bool,
}

impl From<&OutboxRow> for OutboxItem {
    fn from(row: &OutboxRow) -> Self {
        let event = serde_json::from_str::<OutboxEvent>(&row.body).ok();
        let summary = event
            .as_ref()
            .map(|e| e.summary.clone())
            .unwrap_or_default();
        let record = match event.as_ref().and_then(|e| e.declaration.as_ref()) {
            Some(d) => (
                d.title.clone().unwrap_or_else(|| d.id.clone()),
                format!("/declarations/{}", d.id),
            ),
            None => (
                event
                    .as_ref()
                    .and_then(|e| e.production.title.clone())
                    .unwrap_or_else(|| row.production_id.clone()),
                format!("/productions/{}", row.production_id),
            ),
        };
        let due = match row.status {
            OutboxStatus::Pending => format!("due {}", when(row.next_at)),
            OutboxStatus::Sent => row
                .sent_at
                .map(|t| format!("sent {}", when(t)))
                .unwrap_or_default(),
            OutboxStatus::Failed => String::new(),
        };
        OutboxItem {
            id: row.id.clone(),
            created: when(row.created_at),
            event: row.event.to_string(),
            channel: row.channel.to_string(),
            recipient: row.recipient.clone(),
            status: row.status.to_string(),
            attempts: row.attempts,
            last_error: row.last_error.clone().unwrap_or_default(),
            when: due,
            summary,
            record,
            failed: row.status == OutboxStatus::Failed,
        }
    }
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    statuses: Vec<Choice>,
    items: Vec<OutboxItem>,
    more: bool,
    csv: String,
}

/// `GET /outbox`: the notifications, newest first (`?status=` for one status).
pub async fn outbox(
    State(state): State<AppState>,
    web: Web,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    web.authorize(Action::ReadOutbox, None)?;
    let query: OutboxQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|e| WebError::Api(ApiError::invalid_field("query", e.to_string())))?;
    let status = parse_status(query.status.as_deref()).map_err(WebError::Api)?;
    let ledger = state.ledger.get().await?;
    let mut rows: Vec<OutboxRow> = Vec::new();
    let mut after: Option<String> = None;
    let mut more = false;
    loop {
        let page = ledger.outbox(status, after.as_deref(), 1_000).await?;
        let full = page.len() == 1_000;
        after = page.last().map(|r| r.id.clone());
        rows.extend(page);
        if rows.len() >= MAX_ROWS {
            more = full;
            rows.truncate(MAX_ROWS);
            break;
        }
        if !full {
            break;
        }
    }
    rows.reverse();
    let items: Vec<OutboxItem> = rows.iter().map(OutboxItem::from).collect();
    let here = match status {
        Some(s) => format!("/outbox?status={s}"),
        None => "/outbox".to_owned(),
    };
    let mut table = Table::new(
        &here,
        "outbox",
        "Notifications, newest first",
        vec![
            "Enqueued",
            "Event",
            "Channel",
            "Recipient",
            "Status",
            "Attempts",
            "Last error",
            "Due or sent",
            "Record",
            "Summary",
        ],
        "No notification matches.",
    );
    for item in &items {
        table.rows.push(vec![
            Cell::text(&item.created),
            Cell::text(&item.event),
            Cell::text(&item.channel),
            Cell::text(&item.recipient),
            Cell::text(&item.status),
            Cell::text(item.attempts.to_string()),
            Cell::text(&item.last_error),
            Cell::text(&item.when),
            Cell::link(&item.record.0, &item.record.1),
            Cell::text(&item.summary),
        ]);
    }
    if wants_csv(query.format.as_deref())? {
        return csv_response("outbox", &[table], query.table.as_deref());
    }
    let chosen = status.map(OutboxStatus::as_str).unwrap_or_default();
    let statuses = [
        ("", "every status"),
        ("pending", "pending"),
        ("sent", "sent"),
        ("failed", "failed"),
    ]
    .into_iter()
    .map(|(value, label)| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: value == chosen,
    })
    .collect();
    page(
        StatusCode::OK,
        &OutboxPage {
            chrome: web.chrome("Outbox", "/outbox"),
            statuses,
            items,
            more,
            csv: table.csv,
        },
    )
}

/// `POST /outbox/{id}/retry`: a failed notification due again, then back to the failed ones.
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::RetryOutbox, None)?;
    let ledger = state.ledger.get().await?;
    let row = ledger.retry_outbox(&id).await?;
    tracing::info!(
        row = %row.id, event = %row.event, channel = %row.channel,
        recipient = %row.recipient, by = %web.caller.login(), "notification due again"
    );
    Ok(see_other("/outbox?status=failed"))
}
