//! The tool registry: `/api/v1/tools`. Every account reads it; admins register tools and
//! record new reviews of their data terms.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use greenlight_core::Answer;
use greenlight_store::{Action, DataTerms, NewTool, Timestamp, ToolId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::problems::{JsonBody, NotSignedIn, Paged};
use crate::api::views::{Cursor, Sees, ToolView, parse_id, visible_page};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Later};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, register))
        .routes(routes!(show))
        .routes(routes!(update_terms))
}

/// A tool's data terms, as reviewed: each `yes`, `no` or `unsure` (the default).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsRequest {
    /// The vendor trains on what is sent.
    #[serde(default)]
    #[schema(value_type = String)]
    pub trains_on_inputs: Answer,
    /// The vendor keeps what is sent.
    #[serde(default)]
    #[schema(value_type = String)]
    pub retains_inputs: Answer,
    /// The vendor resells what is sent.
    #[serde(default)]
    #[schema(value_type = String)]
    pub resells_inputs: Answer,
    /// Used under an enterprise agreement with the studio.
    #[serde(default)]
    #[schema(value_type = String)]
    pub enterprise_agreement: Answer,
    /// The data terms were negotiated with the vendor.
    #[serde(default)]
    #[schema(value_type = String)]
    pub terms_negotiated: Answer,
    /// Who reviewed the terms.
    #[serde(default)]
    pub reviewed_by: Option<String>,
    /// When the terms were reviewed (RFC 3339).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub reviewed_at: Option<Timestamp>,
}

impl From<TermsRequest> for DataTerms {
    fn from(t: TermsRequest) -> Self {
        DataTerms {
            trains_on_inputs: t.trains_on_inputs,
            retains_inputs: t.retains_inputs,
            resells_inputs: t.resells_inputs,
            enterprise_agreement: t.enterprise_agreement,
            terms_negotiated: t.terms_negotiated,
            reviewed_by: t.reviewed_by,
            reviewed_at: t.reviewed_at,
        }
    }
}

/// A tool to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolRequest {
    /// The vendor.
    pub vendor: String,
    /// The product.
    pub product: String,
    /// The version reviewed.
    #[serde(default)]
    pub version: String,
    /// The licence tier reviewed.
    #[serde(default)]
    pub licence_tier: String,
    /// Its data terms.
    #[serde(default)]
    pub terms: TermsRequest,
}

/// A page of tools.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolList {
    /// The tools, in registration order.
    pub tools: Vec<ToolView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The registered tools, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/tools",
    tag = "registry",
    params(
        ("after" = Option<String>, Query, description = "the `next` of the previous page"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of tools", body = ToolList),
        NotSignedIn,
        Paged,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<ToolList>, ApiError> {
    let ledger = state.ledger.get().await?;
    let page = visible_page(
        &caller,
        Sees::Anyone(Action::ReadRegistry),
        &cursor,
        |after, n| ledger.tools(after, n),
        |r| ToolView::from(&r),
    )
    .await?;
    Ok(Json(ToolList {
        tools: page.items,
        next: page.next,
    }))
}

/// Register a tool with its data terms (admin).
#[utoipa::path(
    post,
    path = "/api/v1/tools",
    tag = "registry",
    request_body = ToolRequest,
    responses(
        (status = 201, description = "the tool", body = ToolView),
        (status = 400, description = "the body is not a tool", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    body: Later<ApiJson<ToolRequest>>,
) -> Result<(StatusCode, Json<ToolView>), ApiError> {
    caller.authorize(Action::RegisterTool, None)?;
    let ApiJson(request) = body.read(&state).await?;
    let ledger = state.ledger.get().await?;
    let tool = ledger
        .register_tool(
            caller.login(),
            NewTool {
                vendor: request.vendor,
                product: request.product,
                version: request.version,
                licence_tier: request.licence_tier,
                terms: request.terms.into(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ToolView::from(&tool))))
}

/// A registered tool and its data terms.
#[utoipa::path(
    get,
    path = "/api/v1/tools/{id}",
    tag = "registry",
    params(("id" = String, Path, format = Uuid, description = "the tool's id")),
    responses(
        (status = 200, description = "the tool", body = ToolView),
        (status = 404, description = "no such tool", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ToolView>, ApiError> {
    caller.authorize(Action::ReadRegistry, None)?;
    let id: ToolId = parse_id("id", &id)?;
    let ledger = state.ledger.get().await?;
    Ok(Json(ToolView::from(&ledger.tool(id).await?)))
}

/// Record a new review of a tool's data terms (admin).
#[utoipa::path(
    put,
    path = "/api/v1/tools/{id}/terms",
    tag = "registry",
    params(("id" = String, Path, format = Uuid, description = "the tool's id")),
    request_body = TermsRequest,
    responses(
        (status = 200, description = "the tool with its new terms", body = ToolView),
        (status = 400, description = "the body is not data terms", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such tool", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn update_terms(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<TermsRequest>>,
) -> Result<Json<ToolView>, ApiError> {
    caller.authorize(Action::UpdateToolTerms, None)?;
    let ApiJson(request) = body.read(&state).await?;
    let id: ToolId = parse_id("id", &id)?;
    let ledger = state.ledger.get().await?;
    let tool = ledger
        .update_tool_terms(caller.login(), id, request.into())
        .await?;
    Ok(Json(ToolView::from(&tool)))
}
