//! `POST /api/v1/assess`: stateless triage of one declaration against the
//! server's policy. Nothing is stored.

use axum::Json;
use axum::extract::State;
use greenlight_core::Decision;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::DeclarationBody;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(assess))
}

/// Triage a declaration: notify, escalate or blocked, with every finding.
///
/// The body is a declaration in JSON (`application/json`) or TOML
/// (`application/toml`), as `greenlight assess` reads from a file; the answer
/// is the decision `greenlight assess --format json` prints, byte for byte.
#[utoipa::path(
    post,
    path = "/api/v1/assess",
    tag = "triage",
    request_body(
        description = "a declaration (see `greenlight schema declaration`)",
        content(
            (ref("#/components/schemas/Declaration") = "application/json"),
            (String = "application/toml"),
        )
    ),
    responses(
        (status = 200, description = "the decision", body = ref("#/components/schemas/Decision")),
        (status = 400, description = "the body is not a well-formed document", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is larger than the server allows", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is neither JSON nor TOML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field of the declaration is unknown, missing or has a value outside its set", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn assess(
    State(state): State<AppState>,
    DeclarationBody(declaration): DeclarationBody,
) -> Result<Json<Decision>, ApiError> {
    Ok(Json(state.policy.assess(&declaration)?))
}
