//! Reviews: `POST /api/v1/declarations/{id}/approvals` approves or rejects a declaration's
//! latest version (with conditions, scope, expiry and a note); the `GET` lists them.
//! `POST /api/v1/declarations/{id}/change-requests` asks for changes instead (a note; the
//! declaration stays undecided until a new version); the `GET` lists those requests.
//!
//! Who may ask is `authz` (the production's reviewers and legal); the rules (never one's own
//! submission, never a blocked declaration, an approval needs a scope) are
//! `Ledger::review`'s, refused with their own problem types (`/problems/self-review`, …).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use greenlight_store::{Action, ChangeRequest, NewReview, Timestamp, Verdict, request_stands};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::declarations::declaration_and_production;
use crate::api::problems::{JsonBody, NotSignedIn};
use crate::api::views::{ApprovalView, scope_of};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Later};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, review))
        .routes(routes!(change_requests, request_changes))
}

/// A request for changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequestBody {
    /// What to change (required).
    pub note: String,
}

/// A reviewer's request for changes to one version of a declaration.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeRequestView {
    /// Its id.
    pub id: String,
    /// The declaration.
    pub declaration_id: String,
    /// The version the changes are asked of.
    pub declaration_version: u32,
    /// The decision in force when they were asked.
    pub decision_id: String,
    /// Who asked.
    pub reviewer: String,
    /// What to change.
    pub note: String,
    /// When.
    pub requested_at: String,
    /// It still stands: it is about the latest version, and that version was not reviewed
    /// after it.
    pub open: bool,
}

impl ChangeRequestView {
    fn new(request: &ChangeRequest, open: bool) -> ChangeRequestView {
        ChangeRequestView {
            id: request.id.to_string(),
            declaration_id: request.declaration_id.to_string(),
            declaration_version: request.declaration_version,
            decision_id: request.decision_id.to_string(),
            reviewer: request.reviewer.clone(),
            note: request.note.clone(),
            requested_at: request.requested_at.to_string(),
            open,
        }
    }
}

/// A declaration's requests for changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeRequestList {
    /// Oldest first.
    pub change_requests: Vec<ChangeRequestView>,
}

/// A declaration's requests for changes, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}/change-requests",
    tag = "reviews",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    responses(
        (status = 200, description = "the requests for changes", body = ChangeRequestList),
        (status = 403, description = "not one of the caller's productions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such declaration", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn change_requests(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ChangeRequestList>, ApiError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::ReadDeclarations, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let requests = ledger.change_requests(declaration.id).await?;
    let approvals = ledger.approvals(declaration.id).await?;
    let last = requests.last().map(|r| r.id);
    Ok(Json(ChangeRequestList {
        change_requests: requests
            .iter()
            .map(|r| {
                let open = Some(r.id) == last && request_stands(r, &declaration, &approvals);
                ChangeRequestView::new(r, open)
            })
            .collect(),
    }))
}

/// Ask for changes to a declaration's latest version instead of approving or rejecting it
/// (its production's reviewers and legal): it stays undecided until a new version.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/change-requests",
    tag = "reviews",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    request_body = ChangeRequestBody,
    responses(
        (status = 201, description = "the request for changes", body = ChangeRequestView),
        (status = 400, description = "the body is not a request for changes", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a reviewer or legal of the production, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such declaration", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the declaration does not wait for a review (`/problems/not-escalated`) or its version is already reviewed (`/problems/already-done`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the reviewer submitted it (`/problems/self-review`), or the note is empty or too long", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn request_changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<ChangeRequestBody>>,
) -> Result<(StatusCode, Json<ChangeRequestView>), ApiError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::Review, Some(&production))?;
    let ApiJson(request) = body.read(&state).await?;
    let ledger = state.ledger.get().await?;
    let asked = ledger
        .request_changes(caller.login(), declaration.id, &request.note)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ChangeRequestView::new(&asked, true)),
    ))
}

/// An approval or a rejection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `approved` or `rejected`.
    #[schema(value_type = String)]
    pub verdict: Verdict,
    /// Conditions of the approval.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// The assets an approval covers: path globs, or `sha256:` and a content hash (an
    /// approval needs at least one).
    #[serde(default)]
    pub scope: Vec<String>,
    /// When the approval ends (RFC 3339).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
    /// A note.
    #[serde(default)]
    pub note: String,
}

/// A declaration's approvals and rejections.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalList {
    /// Oldest first.
    pub approvals: Vec<ApprovalView>,
}

/// A declaration's approvals and rejections, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}/approvals",
    tag = "reviews",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    responses(
        (status = 200, description = "the reviews", body = ApprovalList),
        (status = 403, description = "not one of the caller's productions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such declaration", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ApprovalList>, ApiError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::ReadDeclarations, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let approvals = ledger.approvals(declaration.id).await?;
    Ok(Json(ApprovalList {
        approvals: approvals.iter().map(ApprovalView::from).collect(),
    }))
}

/// Approve or reject a declaration's latest version (its production's reviewers and legal).
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/approvals",
    tag = "reviews",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    request_body = ReviewRequest,
    responses(
        (status = 201, description = "the approval or rejection", body = ApprovalView),
        (status = 400, description = "the body is not a review", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a reviewer or legal of the production, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such declaration", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the declaration is notify-level or blocked (`/problems/not-escalated`, `/problems/blocked`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the reviewer submitted it (`/problems/self-review`), or a field is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<ReviewRequest>>,
) -> Result<(StatusCode, Json<ApprovalView>), ApiError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::Review, Some(&production))?;
    let ApiJson(request) = body.read(&state).await?;
    let ledger = state.ledger.get().await?;
    let approval = ledger
        .review(
            caller.login(),
            NewReview {
                declaration_id: declaration.id,
                verdict: request.verdict,
                conditions: request.conditions,
                scope: request.scope.iter().map(|s| scope_of(s)).collect(),
                expires_at: request.expires_at,
                note: request.note,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ApprovalView::from(&approval))))
}
