//! Notifications: `GET /api/v1/declarations/{id}/notifications`, the record that a
//! notify-level use was shared with the production's studio contact.

use axum::Json;
use axum::extract::{Path, State};
use greenlight_store::Action;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::declarations::declaration_and_production;
use crate::api::problems::NotSignedIn;
use crate::api::views::NotificationView;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// A declaration's notifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// Oldest first.
    pub notifications: Vec<NotificationView>,
}

/// A declaration's notifications of the studio contact, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}/notifications",
    tag = "declarations",
    params(("id" = String, Path, format = Uuid, description = "the declaration's id")),
    responses(
        (status = 200, description = "the notifications", body = NotificationList),
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
) -> Result<Json<NotificationList>, ApiError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    caller.authorize(Action::ReadProduction, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let notifications = ledger.notifications(declaration.id).await?;
    Ok(Json(NotificationList {
        notifications: notifications.iter().map(NotificationView::from).collect(),
    }))
}
