//! `POST /api/v1/productions/{id}/reassess`: how a production's declarations would fare under
//! another policy pack (sent as TOML), as `greenlight reassess` previews it. Nothing is
//! written: each declaration's latest version is triaged again against the registry as it
//! stands and compared with the decision in force.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use greenlight_core::{Decision, Level, PolicyRef};
use greenlight_policy::{Policy, Source};
use greenlight_store::{Action, Ledger, MAX_PAGE, ProductionId, Store};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::problems::NotSignedIn;
use crate::api::views::parse_id;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Later, PackBody};

/// The name a pack sent in a request body is known by in its diagnostics.
const BODY_NAME: &str = "<request body>";

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview))
}

/// A declaration whose decision would change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// The declaration.
    pub declaration_id: String,
    /// Its title.
    pub title: String,
    /// The level in force.
    #[schema(value_type = String)]
    pub from: Level,
    /// The level under the pack.
    #[schema(value_type = String)]
    pub to: Level,
    /// Rules that would fire and do not now.
    pub rules_added: Vec<String>,
    /// Rules that fire now and would not.
    pub rules_removed: Vec<String>,
    /// Approvals in force on the decision that would be replaced.
    pub approvals_in_force: usize,
}

/// What a pack would change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReassessView {
    /// The pack previewed.
    #[schema(value_type = Object)]
    pub policy: PolicyRef,
    /// Declarations triaged again.
    pub checked: usize,
    /// Those whose decision would change.
    pub changes: Vec<ChangeView>,
}

fn rules(decision: &Decision) -> BTreeSet<String> {
    decision.findings.iter().map(|f| f.rule.clone()).collect()
}

/// Preview a policy pack on a production's declarations (legal, compliance, auditors, admins).
#[utoipa::path(
    post,
    path = "/api/v1/productions/{id}/reassess",
    tag = "policy",
    params(("id" = String, Path, format = Uuid, description = "the production's id")),
    request_body(content = String, content_type = "application/toml", description = "a policy pack"),
    responses(
        (status = 200, description = "what would change; nothing is written", body = ReassessView),
        (status = 403, description = "the caller may not preview on this production, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is not TOML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the pack has problems, or the id is malformed", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<PackBody>,
) -> Result<Json<ReassessView>, ApiError> {
    let id: ProductionId = parse_id("id", &id)?;
    let ledger = state.ledger.get().await?;
    let production = ledger.production(id).await?;
    caller.authorize(Action::ReassessPreview, Some(&production))?;
    let PackBody(text) = body.read(&state).await?;
    let policy = Policy::compile(&[Source::new(BODY_NAME, text)], &mut |name, _| {
        Err(format!(
            "`extends = \"{name}\"` cannot be resolved from a request body: preview a pack that extends another with `greenlight reassess` where both files are"
        ))
    })?;
    let (checked, changes) = changes(ledger, id, &policy).await?;
    Ok(Json(ReassessView {
        policy: policy.reference(),
        checked,
        changes,
    }))
}

/// How `policy` would change the decisions in force on production `id`'s declarations: how
/// many were triaged again (each latest version, against the registry as it stands), and
/// those whose level or rules would change. Nothing is written. The API's preview and the
/// policy page's both ask this.
pub(crate) async fn changes(
    ledger: &Ledger<dyn Store>,
    id: ProductionId,
    policy: &Policy,
) -> Result<(usize, Vec<ChangeView>), ApiError> {
    let mut checked = 0usize;
    let mut changes = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ledger.declarations(id, after.as_deref(), MAX_PAGE).await?;
        for stored in page.items {
            let current = match ledger.current_decision(stored.id).await {
                Ok(current) => current,
                Err(greenlight_store::StoreError::NotFound { .. }) => continue,
                Err(other) => return Err(other.into()),
            };
            checked += 1;
            let resolution = ledger.resolve(id, &stored.declaration).await?;
            let new = policy.assess(&resolution.declaration)?;
            let (old_rules, new_rules) = (rules(&current.decision), rules(&new));
            if current.level() == new.level && old_rules == new_rules {
                continue;
            }
            changes.push(ChangeView {
                declaration_id: stored.id.to_string(),
                title: stored.declaration.title.clone(),
                from: current.level(),
                to: new.level,
                rules_added: new_rules.difference(&old_rules).cloned().collect(),
                rules_removed: old_rules.difference(&new_rules).cloned().collect(),
                approvals_in_force: ledger.approvals_in_force(stored.id).await?.len(),
            });
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok((checked, changes))
}
