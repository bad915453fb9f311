//! Declarations: `POST /api/v1/declarations` submits one (JSON or TOML) and answers with its
//! decision; a production's declarations by cursor; one declaration with its decision and
//! reviews; its versions; a new version; triage again.
//!
//! Triage is the server's policy over the declaration as the registry fills it in
//! (`Ledger::resolve`), done once before anything is written, so a declaration the policy
//! cannot evaluate is refused and nothing is stored.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use greenlight_core::{Decision, Declaration};
use greenlight_policy::Policy;
use greenlight_store::{
    Action, DeclarationId, Kind, Ledger, Production, ProductionId, Store, StoredDeclaration,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::problems::NotSignedIn;
use crate::api::views::{
    ApprovalView, Cursor, DecisionView, DeclarationView, Sees, SubmissionView, find_production,
    parse_id, stored_list, stored_page, visible_page,
};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, DeclarationBody, Later};
use crate::state::pack_day;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(versions, revise))
        .routes(routes!(retriage))
}

/// Which production a declaration is submitted for.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitQuery {
    /// The production's id or exact title; default: the production the declaration names.
    pub production: Option<String>,
}

/// A page of a production's declarations.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclarationList {
    /// Their latest versions, in submission order.
    pub declarations: Vec<DeclarationView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A declaration: its latest version, the decision in force, its approvals and rejections.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclarationDetail {
    /// The latest version.
    pub declaration: DeclarationView,
    /// The decision in force, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionView>,
    /// Every approval and rejection, oldest first.
    pub approvals: Vec<ApprovalView>,
}

/// Every version of a declaration.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    /// First to latest.
    pub versions: Vec<DeclarationView>,
}

/// Triage once, before writing: the decision or the error (so a declaration the policy cannot
/// evaluate is refused with nothing written), and the triage to hand the ledger. Inside its
/// transaction the ledger resolves the declaration against the registry again; when that gives
/// the declaration triaged here (the registry did not change in between) the decision is
/// reused, so the policy runs once per write, outside the write transaction.
///
/// The policy is the production's ([`AppState::policy_for`]: the built-in pack with its
/// overlays, as `greenlight declare` triages), on the ledger's day, so a pack applied outside
/// its dates says so.
pub(crate) async fn triage_for(
    state: &AppState,
    ledger: &Ledger<dyn Store>,
    production: &Production,
    declaration: &Declaration,
) -> Result<impl FnOnce(&Declaration) -> Decision + Send + use<>, ApiError> {
    let policy = state.policy_for(production)?;
    let day = pack_day(ledger.now());
    let assess = move |policy: &Policy, d: &Declaration| match day {
        Some(day) => policy.assess_on(d, day),
        None => policy.assess(d),
    };
    let resolution = ledger.resolve(production.id, declaration).await?;
    let checked = assess(&policy, &resolution.declaration)?;
    let resolved = resolution.declaration;
    Ok(move |d: &Declaration| {
        if *d == resolved {
            checked
        } else {
            assess(&policy, d).unwrap_or(checked)
        }
    })
}

/// The declaration and its production, for the routes about one declaration.
pub async fn declaration_and_production(
    state: &AppState,
    id: &str,
) -> Result<(StoredDeclaration, Production), ApiError> {
    let id: DeclarationId = parse_id("id", id)?;
    let ledger = state.ledger.get().await?;
    let declaration = ledger.declaration(id).await?;
    let production = ledger.production(declaration.production_id).await?;
    Ok((declaration, production))
}

/// Submit a declaration for a production; the decision comes back.
#[utoipa::path(
    post,
    path = "/api/v1/declarations",
    tag = "declarations",
    params(("production" = Option<String>, Query, description = "the production's id or exact title; default: the production the declaration names")),
    request_body(
        description = "a declaration (see `greenlight schema declaration`)",
        content(
            (ref("#/components/schemas/Declaration") = "application/json"),
            (String = "application/toml"),
        )
    ),
    responses(
        (status = 201, description = "the declaration, its decision, and for a notify-level use the notification of the studio contact", body = SubmissionView),
        (status = 400, description = "the body cannot be read, or the query string is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a coordinator or vendor of the production, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is neither JSON nor TOML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field of the declaration is wrong, or its production is unknown", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SubmitQuery>,
    body: Later<DeclarationBody>,
) -> Result<(StatusCode, Json<SubmissionView>), ApiError> {
    let ledger = state.ledger.get().await?;
    // A production named in the query is authorized before the body is read; without one,
    // the production is the one the declaration names.
    let named = match &query.production {
        Some(named) => {
            let production = find_production(ledger, "production", named).await?;
            caller.authorize(Action::SubmitDeclaration, Some(&production))?;
            Some(production)
        }
        None => None,
    };
    let DeclarationBody(declaration) = body.read(&state).await?;
    let production = match named {
        Some(production) => production,
        None => find_production(ledger, "production", &declaration.production).await?,
    };
    caller.authorize(Action::SubmitDeclaration, Some(&production))?;
    let triage = triage_for(&state, ledger, &production, &declaration).await?;
    let submission = ledger
        .submit_declaration(caller.login(), production.id, declaration, triage)
        .await?;
    Ok((StatusCode::CREATED, Json(SubmissionView::from(&submission))))
}

/// A production's declarations (their latest versions), a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/productions/{id}/declarations",
    tag = "declarations",
    params(
        ("id" = String, Path, format = Uuid, description = "the production's id"),
        ("after" = Option<String>, Query, description = "the `next` of the previous page"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of declarations", body = DeclarationList),
        (status = 400, description = "the query string is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not one of the caller's productions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed, or `limit` is out of range", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Response, ApiError> {
    let id: ProductionId = parse_id("id", &id)?;
    let ledger = state.ledger.get().await?;
    let production = ledger.production(id).await?;
    // The stored records are served as they are: their shape is `DeclarationView`'s.
    let sees = Sees::Production(Action::ReadDeclarations, &production);
    let parent = id.to_string();
    let page = visible_page(
        &caller,
        sees,
        &cursor,
        |after, n| stored_page(ledger, Kind::Declaration, &parent, after, n),
        |json| json,
    )
    .await?;
    Ok(stored_list(
        "declarations",
        &page.items,
        page.next.as_deref(),
    ))
}

/// A declaration: its latest version, the decision in force, its reviews.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}",
    tag = "declarations",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    responses(
        (status = 200, description = "the declaration", body = DeclarationDetail),
        (status = 403, description = "not one of the caller's productions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such declaration", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeclarationDetail>, ApiError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::ReadDeclarations, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let decision = match ledger.current_decision(declaration.id).await {
        Ok(decision) => Some(DecisionView::from(&decision)),
        Err(greenlight_store::StoreError::NotFound { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    let approvals = ledger.approvals(declaration.id).await?;
    Ok(Json(DeclarationDetail {
        declaration: DeclarationView::from(&declaration),
        decision,
        approvals: approvals.iter().map(ApprovalView::from).collect(),
    }))
}

/// Every version of a declaration, first to latest.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}/versions",
    tag = "declarations",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    responses(
        (status = 200, description = "the versions", body = VersionList),
        (status = 403, description = "not one of the caller's productions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such declaration", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<VersionList>, ApiError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::ReadDeclarations, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let versions = ledger.declaration_versions(declaration.id).await?;
    Ok(Json(VersionList {
        versions: versions.iter().map(DeclarationView::from).collect(),
    }))
}

/// Submit a new version of a declaration (earlier versions are kept); its decision comes back.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/versions",
    tag = "declarations",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    request_body(
        description = "the declaration's new text",
        content(
            (ref("#/components/schemas/Declaration") = "application/json"),
            (String = "application/toml"),
        )
    ),
    responses(
        (status = 201, description = "the new version and its decision", body = SubmissionView),
        (status = 400, description = "the body cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a coordinator or vendor of the production, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such declaration", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is neither JSON nor TOML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field of the declaration is wrong, or it is for another production", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn revise(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<DeclarationBody>,
) -> Result<(StatusCode, Json<SubmissionView>), ApiError> {
    let (current, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::ReviseDeclaration, Some(&production))?;
    let DeclarationBody(declaration) = body.read(&state).await?;
    let ledger = state.ledger.get().await?;
    let triage = triage_for(&state, ledger, &production, &declaration).await?;
    let submission = ledger
        .revise_declaration(caller.login(), current.id, declaration, triage)
        .await?;
    Ok((StatusCode::CREATED, Json(SubmissionView::from(&submission))))
}

/// Triage the latest version again, against the registry as it stands (e.g. once a missing
/// consent is recorded); the new decision comes back.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/retriage",
    tag = "declarations",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    responses(
        (status = 201, description = "the new decision", body = SubmissionView),
        (status = 403, description = "the caller may not triage this production's declarations, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such declaration", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn retriage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<SubmissionView>), ApiError> {
    let (current, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::RetriageDeclaration, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let triage = triage_for(&state, ledger, &production, &current.declaration).await?;
    let submission = ledger.retriage(caller.login(), current.id, triage).await?;
    Ok((StatusCode::CREATED, Json(SubmissionView::from(&submission))))
}
