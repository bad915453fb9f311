//! `GET /api/v1/policy` (the server's policy: packs, citable ids, rules) and
//! `POST /api/v1/policy/check` (every problem of a pack sent in the body).

use axum::Json;
use axum::extract::State;
use greenlight_core::{Basis, Level, PolicyRef, Severity};
use greenlight_policy::{Policy, Source};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::PackBody;

/// The name a pack sent in a request body is known by in its diagnostics.
const BODY_NAME: &str = "<request body>";

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(check))
}

/// The server's policy, as `greenlight policy show --format json` prints it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyDocument {
    /// The id, version and sha256 decisions cite (`layers` when packs are stacked).
    #[schema(value_type = Object)]
    pub policy: PolicyRef,
    /// The principles and categories rules cite.
    pub ids: Vec<CitableId>,
    /// The rules, in evaluation order.
    pub rules: Vec<RuleDocument>,
}

/// A principle or category that rules cite.
#[derive(Debug, Serialize, ToSchema)]
pub struct CitableId {
    /// Its id, e.g. `P4`, `C3a`, `§6`.
    pub id: String,
    /// The group it belongs to.
    pub group: String,
    /// Its text.
    pub text: String,
}

/// One rule of the policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleDocument {
    /// The rule's id.
    pub id: String,
    /// A short title.
    pub title: String,
    /// The CEL condition, as written.
    pub when: String,
    /// The level it asks for when it fires.
    #[schema(value_type = String)]
    pub level: Level,
    /// The ids it cites.
    pub cites: Vec<String>,
    /// `guidance` or `interpretation`.
    #[schema(value_type = String)]
    pub basis: Basis,
    /// `normal` or `high`.
    #[schema(value_type = String)]
    pub severity: Severity,
    /// Why it fires, with `{path}` placeholders.
    pub reason: String,
    /// What would change the outcome.
    pub remedy: String,
    /// The id of the pack it comes from.
    pub pack: String,
    /// The declaration fields its condition reads.
    pub reads: Vec<String>,
}

/// A pack that loads: what `greenlight policy check` reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckReport {
    /// The pack's id, version and sha256.
    #[schema(value_type = Object)]
    pub policy: PolicyRef,
    /// How many rules it has.
    pub rules: usize,
    /// How many of them are interpretations.
    pub interpretations: usize,
    /// How many ids rules may cite.
    pub ids: usize,
}

/// The server's policy: packs, citable ids and rules.
#[utoipa::path(
    get,
    path = "/api/v1/policy",
    tag = "policy",
    responses((status = 200, description = "the policy the server triages with", body = PolicyDocument))
)]
pub async fn show(State(state): State<AppState>) -> Json<PolicyDocument> {
    Json(document(&state.policy))
}

/// Check a policy pack: every problem, with its line and column.
///
/// The body is one pack's TOML. A pack that `extends` another file cannot be
/// checked here: that file cannot be read from a request body.
#[utoipa::path(
    post,
    path = "/api/v1/policy/check",
    tag = "policy",
    request_body(content = String, content_type = "application/toml", description = "a policy pack"),
    responses(
        (status = 200, description = "the pack loads", body = CheckReport),
        (status = 413, description = "the body is larger than the server allows", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is not TOML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the pack has problems: every one, with line and column", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn check(PackBody(text): PackBody) -> Result<Json<CheckReport>, ApiError> {
    let policy = Policy::compile(&[Source::new(BODY_NAME, text)], &mut |name, _| {
        Err(format!(
            "`extends = \"{name}\"` cannot be resolved from a request body: check a pack that extends another with `greenlight policy check` where both files are"
        ))
    })?;
    let interpretations = policy
        .rules()
        .iter()
        .filter(|r| r.basis == Basis::Interpretation)
        .count();
    Ok(Json(CheckReport {
        policy: policy.reference(),
        rules: policy.rules().len(),
        interpretations,
        ids: policy.entries().len(),
    }))
}

fn document(policy: &Policy) -> PolicyDocument {
    PolicyDocument {
        policy: policy.reference(),
        ids: policy
            .entries()
            .values()
            .map(|e| CitableId {
                id: e.id.clone(),
                group: e.group.clone(),
                text: e.text.clone(),
            })
            .collect(),
        rules: policy
            .rules()
            .iter()
            .map(|r| RuleDocument {
                id: r.id.clone(),
                title: r.title.clone(),
                when: r.when.clone(),
                level: r.level,
                cites: r.cites.clone(),
                basis: r.basis,
                severity: r.severity,
                reason: r.reason.clone(),
                remedy: r.remedy.clone(),
                pack: r.pack.clone(),
                reads: r.reads(),
            })
            .collect(),
    }
}
