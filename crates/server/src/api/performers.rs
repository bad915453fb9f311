//! The performer registry: `/api/v1/performers`. Every account reads it; admins register
//! performers. Their consents are `consents.rs`'s.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use greenlight_store::{Action, NewPerformer, PerformerId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::problems::{JsonBody, NotSignedIn, Paged};
use crate::api::views::{Cursor, PerformerView, Sees, parse_id, visible_page};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Later};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(show))
}

/// A performer to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformerRequest {
    /// Their name.
    pub name: String,
    /// Their union, empty when none.
    #[serde(default)]
    pub union: String,
    /// Whether they are deceased.
    #[serde(default)]
    pub deceased: bool,
    /// The estate that consents for a deceased performer.
    #[serde(default)]
    pub estate: Option<String>,
}

/// A page of performers.
#[derive(Debug, Serialize, ToSchema)]
pub struct PerformerList {
    /// The performers, in registration order.
    pub performers: Vec<PerformerView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The registered performers, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/performers",
    tag = "registry",
    params(
        ("after" = Option<String>, Query, description = "the `next` of the previous page"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of performers", body = PerformerList),
        NotSignedIn,
        Paged,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<PerformerList>, ApiError> {
    let ledger = state.ledger.get().await?;
    let page = visible_page(
        &caller,
        Sees::Anyone(Action::ReadRegistry),
        &cursor,
        |after, n| ledger.performers(after, n),
        |r| PerformerView::from(&r),
    )
    .await?;
    Ok(Json(PerformerList {
        performers: page.items,
        next: page.next,
    }))
}

/// Register a performer (admin).
#[utoipa::path(
    post,
    path = "/api/v1/performers",
    tag = "registry",
    request_body = PerformerRequest,
    responses(
        (status = 201, description = "the performer", body = PerformerView),
        (status = 400, description = "the body is not a performer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    body: Later<ApiJson<PerformerRequest>>,
) -> Result<(StatusCode, Json<PerformerView>), ApiError> {
    caller.authorize(Action::RegisterPerformer, None)?;
    let ApiJson(request) = body.read(&state).await?;
    let ledger = state.ledger.get().await?;
    let performer = ledger
        .register_performer(
            caller.login(),
            NewPerformer {
                name: request.name,
                union: request.union,
                deceased: request.deceased,
                estate: request.estate,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(PerformerView::from(&performer))))
}

/// A registered performer.
#[utoipa::path(
    get,
    path = "/api/v1/performers/{id}",
    tag = "registry",
    params(("id" = String, Path, format = Uuid, description = "the performer's id")),
    responses(
        (status = 200, description = "the performer", body = PerformerView),
        (status = 404, description = "no such performer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PerformerView>, ApiError> {
    caller.authorize(Action::ReadRegistry, None)?;
    let id: PerformerId = parse_id("id", &id)?;
    let ledger = state.ledger.get().await?;
    Ok(Json(PerformerView::from(&ledger.performer(id).await?)))
}
