//! Performers' consents: `/api/v1/consents` and `/api/v1/performers/{id}/consents`.
//!
//! Legal and talent relations record, document and revoke the consents of their productions;
//! a listing shows only the consents of productions the caller may read consents of
//! (`authz::visible`). Revoking a consent turns the decisions that relied on it back to
//! blocked, and the answer lists them.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use greenlight_store::{
    Action, ConsentId, ConsentKind, ConsentScope, ConsentStatus, NewConsent, PerformerId,
    Production, ProductionId, Timestamp,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::problems::{JsonBody, NotSignedIn};
use crate::api::views::{ConsentView, DecisionView, parse_id};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Later};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(record))
        .routes(routes!(show))
        .routes(routes!(document))
        .routes(routes!(revoke))
        .routes(routes!(sweep))
}

/// A consent to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// The performer (a registered performer's id).
    pub performer_id: String,
    /// `employment_replica`, `independent_replica`, `background_replica`,
    /// `synthetic_performer`, `digital_alteration`.
    #[schema(value_type = String)]
    pub kind: ConsentKind,
    /// The production it is for.
    pub production_id: String,
    /// The media it covers (empty: all).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub media: Vec<greenlight_core::Medium>,
    /// The intended use, reasonably specific.
    pub description: String,
    /// Who gave it: the performer, their estate or union.
    pub given_by: String,
    /// `documented` (with the signed document's sha256) or `pending`.
    #[schema(value_type = String)]
    pub status: ConsentStatus,
    /// When it ends (RFC 3339).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
    /// The sha256 of the signed document (64 lowercase hex digits).
    #[serde(default)]
    pub document_sha256: Option<String>,
}

/// The signed document of a pending consent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequest {
    /// Its sha256 (64 lowercase hex digits).
    pub document_sha256: String,
}

/// Why a consent is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why.
    pub reason: String,
}

/// A performer's consents.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    /// The consents the caller may see, oldest first.
    pub consents: Vec<ConsentView>,
}

/// A consent revoked, and the decisions it turned back to blocked.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedView {
    /// The consent.
    pub consent: ConsentView,
    /// The decisions that relied on it, now blocked.
    pub blocked: Vec<DecisionView>,
}

/// The decisions a sweep of expired consents turned back to blocked.
#[derive(Debug, Serialize, ToSchema)]
pub struct SweepView {
    /// The decisions, now blocked.
    pub blocked: Vec<DecisionView>,
}

/// A performer's consents, those of productions the caller may read consents of.
#[utoipa::path(
    get,
    path = "/api/v1/performers/{id}/consents",
    tag = "consents",
    params(("id" = String, Path, format = Uuid, description = "the performer's id")),
    responses(
        (status = 200, description = "the consents the caller may see", body = ConsentList),
        (status = 404, description = "no such performer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConsentList>, ApiError> {
    caller.authorize(Action::ReadRegistry, None)?;
    let id: PerformerId = parse_id("id", &id)?;
    let ledger = state.ledger.get().await?;
    let _ = ledger.performer(id).await?;
    let consents = ledger.consents(id).await?;
    let mut productions: HashMap<ProductionId, Production> = HashMap::new();
    let mut pairs = Vec::with_capacity(consents.len());
    for consent in consents {
        let pid = consent.scope.production_id;
        let production = match productions.get(&pid) {
            Some(production) => production.clone(),
            None => {
                let production = ledger.production(pid).await?;
                productions.insert(pid, production.clone());
                production
            }
        };
        pairs.push((consent, production));
    }
    let seen = greenlight_store::visible(&caller.principal, Action::ReadConsents, pairs, |p| {
        Some(&p.1)
    });
    Ok(Json(ConsentList {
        consents: seen.iter().map(|(c, _)| ConsentView::from(c)).collect(),
    }))
}

/// Record a performer's consent for a production (legal, talent relations).
#[utoipa::path(
    post,
    path = "/api/v1/consents",
    tag = "consents",
    request_body = ConsentRequest,
    responses(
        (status = 201, description = "the consent", body = ConsentView),
        (status = 400, description = "the body is not a consent", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not legal or talent relations on the production, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong (an unknown performer or production, a sha256 that is not one, …)", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<ConsentRequest>,
) -> Result<(StatusCode, Json<ConsentView>), ApiError> {
    let performer_id: PerformerId = parse_id("performer_id", &request.performer_id)?;
    let production_id: ProductionId = parse_id("production_id", &request.production_id)?;
    let ledger = state.ledger.get().await?;
    let production = ledger
        .production(production_id)
        .await
        .map_err(|e| missing("production_id", e))?;
    caller.authorize(Action::RecordConsent, Some(&production))?;
    let _ = ledger
        .performer(performer_id)
        .await
        .map_err(|e| missing("performer_id", e))?;
    let consent = ledger
        .record_consent(
            caller.login(),
            NewConsent {
                performer_id,
                kind: request.kind,
                scope: ConsentScope {
                    production_id,
                    media: request.media,
                    description: request.description,
                },
                given_by: request.given_by,
                status: request.status,
                expires_at: request.expires_at,
                document_sha256: request.document_sha256,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ConsentView::from(&consent))))
}

/// A record a body names that does not exist: a 422 naming the field.
fn missing(field: &str, error: greenlight_store::StoreError) -> ApiError {
    match error {
        greenlight_store::StoreError::NotFound { .. } => {
            ApiError::invalid_field(field, error.to_string())
        }
        other => other.into(),
    }
}

async fn consent_and_production(
    state: &AppState,
    id: &str,
) -> Result<(greenlight_store::Consent, Production), ApiError> {
    let id: ConsentId = parse_id("id", id)?;
    let ledger = state.ledger.get().await?;
    let consent = ledger.consent(id).await?;
    let production = ledger.production(consent.scope.production_id).await?;
    Ok((consent, production))
}

/// A consent.
#[utoipa::path(
    get,
    path = "/api/v1/consents/{id}",
    tag = "consents",
    params(("id" = String, Path, format = Uuid, description = "the consent's id")),
    responses(
        (status = 200, description = "the consent", body = ConsentView),
        (status = 403, description = "the caller may not see this production's consents", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such consent", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ConsentView>, ApiError> {
    let (consent, production) = consent_and_production(&state, &id).await?;
    caller.authorize(Action::ReadConsents, Some(&production))?;
    Ok(Json(ConsentView::from(&consent)))
}

/// Record the signed document of a pending consent: it becomes documented.
#[utoipa::path(
    post,
    path = "/api/v1/consents/{id}/document",
    tag = "consents",
    params(("id" = String, Path, format = Uuid, description = "the consent's id")),
    request_body = DocumentRequest,
    responses(
        (status = 200, description = "the consent, documented", body = ConsentView),
        (status = 400, description = "the body is not a document", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not legal or talent relations on the production, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such consent", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the consent is not pending", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the sha256 is not one", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<DocumentRequest>>,
) -> Result<Json<ConsentView>, ApiError> {
    let (consent, production) = consent_and_production(&state, &id).await?;
    caller.authorize(Action::DocumentConsent, Some(&production))?;
    let ApiJson(request) = body.read(&state).await?;
    let ledger = state.ledger.get().await?;
    let consent = ledger
        .document_consent(caller.login(), consent.id, &request.document_sha256)
        .await?;
    Ok(Json(ConsentView::from(&consent)))
}

/// Revoke a consent; the decisions that relied on it turn back to blocked.
#[utoipa::path(
    post,
    path = "/api/v1/consents/{id}/revocation",
    tag = "consents",
    params(("id" = String, Path, format = Uuid, description = "the consent's id")),
    request_body = RevokeRequest,
    responses(
        (status = 200, description = "the consent, revoked, and the decisions now blocked", body = RevokedView),
        (status = 400, description = "the body is not a revocation", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not legal or talent relations on the production, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such consent", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already revoked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no reason given", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<RevokeRequest>>,
) -> Result<Json<RevokedView>, ApiError> {
    let (consent, production) = consent_and_production(&state, &id).await?;
    caller.authorize(Action::RevokeConsent, Some(&production))?;
    let ApiJson(request) = body.read(&state).await?;
    let ledger = state.ledger.get().await?;
    let (consent, blocked) = ledger
        .revoke_consent(caller.login(), consent.id, &request.reason)
        .await?;
    Ok(Json(RevokedView {
        consent: ConsentView::from(&consent),
        blocked: blocked.iter().map(DecisionView::from).collect(),
    }))
}

/// Turn the decisions that relied on expired consents back to blocked (admin); safe to run
/// often.
#[utoipa::path(
    post,
    path = "/api/v1/consents/sweep",
    tag = "consents",
    responses(
        (status = 200, description = "the decisions now blocked", body = SweepView),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn sweep(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SweepView>, ApiError> {
    caller.authorize(Action::SweepConsents, None)?;
    let ledger = state.ledger.get().await?;
    let blocked = ledger.sweep_expired_consents(caller.login()).await?;
    Ok(Json(SweepView {
        blocked: blocked.iter().map(DecisionView::from).collect(),
    }))
}
