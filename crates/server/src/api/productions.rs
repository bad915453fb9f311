//! Productions and their members: `/api/v1/productions`.
//!
//! Everyone signed in may list productions, and sees those they may read (`authz::visible`);
//! creating one and changing its members is for admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use greenlight_store::{Action, NewProduction, Production, ProductionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::problems::{JsonBody, NotSignedIn, Paged};
use crate::api::views::{
    ContactView, Cursor, MemberView, ProductionView, Sees, parse_id, visible_page,
};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Later};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show))
        .routes(routes!(set_members))
}

/// A production to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductionRequest {
    /// Its title.
    pub title: String,
    /// `scripted`, `documentary`, `unscripted`, `animation`, `advertising`, `other`.
    #[schema(value_type = String)]
    pub kind: greenlight_core::ProductionKind,
    /// Whom notify-level uses are shared with.
    pub studio_contact: ContactView,
    /// Who works on it, with their roles.
    #[serde(default)]
    pub members: Vec<MemberView>,
    /// The overlay packs that apply to it (its unions, its release
    /// territories), by pack id, stacked in this order on the default pack.
    #[serde(default)]
    pub overlays: Vec<String>,
}

/// A production's members, replacing the ones it had.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersRequest {
    /// Who works on it, with their roles.
    pub members: Vec<MemberView>,
}

/// A page of productions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductionList {
    /// The productions the caller may see, in creation order.
    pub productions: Vec<ProductionView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The productions the caller may see, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/productions",
    tag = "productions",
    params(
        ("after" = Option<String>, Query, description = "the `next` of the previous page"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of the productions the caller may see (a page may hold fewer than `limit` and still have a `next`)", body = ProductionList),
        NotSignedIn,
        Paged,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<ProductionList>, ApiError> {
    let ledger = state.ledger.get().await?;
    let sees = Sees::Each(Action::ReadProduction, |p: &Production| Some(p));
    let page = visible_page(
        &caller,
        sees,
        &cursor,
        |after, n| ledger.productions(after, n),
        |r| ProductionView::from(&r),
    )
    .await?;
    Ok(Json(ProductionList {
        productions: page.items,
        next: page.next,
    }))
}

/// Create a production (admin).
#[utoipa::path(
    post,
    path = "/api/v1/productions",
    tag = "productions",
    request_body = ProductionRequest,
    responses(
        (status = 201, description = "the production", body = ProductionView),
        (status = 400, description = "the body is not a production", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Later<ApiJson<ProductionRequest>>,
) -> Result<(StatusCode, Json<ProductionView>), ApiError> {
    caller.authorize(Action::CreateProduction, None)?;
    let ApiJson(request) = body.read(&state).await?;
    for id in &request.overlays {
        if !greenlight_policy::BUILTIN_OVERLAYS
            .iter()
            .any(|(known, _)| known == id)
        {
            return Err(ApiError::invalid_field(
                "overlays",
                format!("`{}` is not an overlay pack", id.escape_debug()),
            ));
        }
    }
    let ledger = state.ledger.get().await?;
    let mut production = ledger
        .create_production(
            caller.login(),
            NewProduction {
                title: request.title,
                kind: request.kind,
                studio_contact: request.studio_contact.into(),
                members: request.members.into_iter().map(Into::into).collect(),
            },
        )
        .await?;
    if !request.overlays.is_empty() {
        production = ledger
            .set_overlays(caller.login(), production.id, request.overlays)
            .await?;
    }
    Ok((StatusCode::CREATED, Json(ProductionView::from(&production))))
}

/// A production and its members.
#[utoipa::path(
    get,
    path = "/api/v1/productions/{id}",
    tag = "productions",
    params(("id" = String, Path, format = Uuid, description = "the production's id")),
    responses(
        (status = 200, description = "the production", body = ProductionView),
        (status = 403, description = "not one of the caller's productions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ProductionView>, ApiError> {
    let id: ProductionId = parse_id("id", &id)?;
    let ledger = state.ledger.get().await?;
    let production = ledger.production(id).await?;
    caller.authorize(Action::ReadProduction, Some(&production))?;
    Ok(Json(ProductionView::from(&production)))
}

/// Replace a production's members (admin).
#[utoipa::path(
    put,
    path = "/api/v1/productions/{id}/members",
    tag = "productions",
    params(("id" = String, Path, format = Uuid, description = "the production's id")),
    request_body = MembersRequest,
    responses(
        (status = 200, description = "the production with its new members", body = ProductionView),
        (status = 400, description = "the body is not a list of members", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn set_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<MembersRequest>>,
) -> Result<Json<ProductionView>, ApiError> {
    let id: ProductionId = parse_id("id", &id)?;
    let ledger = state.ledger.get().await?;
    let production = ledger.production(id).await?;
    caller.authorize(Action::SetMembers, Some(&production))?;
    let ApiJson(request) = body.read(&state).await?;
    let production = ledger
        .set_members(
            caller.login(),
            id,
            request.members.into_iter().map(Into::into).collect(),
        )
        .await?;
    Ok(Json(ProductionView::from(&production)))
}
