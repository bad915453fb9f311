//! `GET /healthz` (the process is up) and `GET /readyz` (the ledger answers).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, Cause, Problem};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The answer of `/healthz` and `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`: any other state is a problem document.
    pub status: &'static str,
}

/// The process is up and answering HTTP.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "the process is up", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The server can serve: the ledger answers a trivial read.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "the ledger answers", body = Health),
        (status = 503, description = "the ledger is not answering", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let ledger = state.ledger.get().await?;
    ledger
        .audit_entries(None, 1)
        .await
        .map_err(|e| ApiError::Unavailable(Cause::new(e)))?;
    Ok(Json(Health { status: "ok" }))
}
