//! "My drafts": the caller's own drafts of the declare form (and of revisions), each
//! resumed where it was left or deleted. Nobody else sees them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use greenlight_store::{Action, Draft, DraftId};

use super::review::{query_fields, when};
use super::{Chrome, Web, WebError, WebForm, page, productions_for, see_other};
use crate::AppState;

/// A draft as the lists show it.
pub struct DraftItem {
    /// Its id.
    pub id: String,
    /// The title typed, or `untitled`.
    pub title: String,
    /// Where to resume it.
    pub resume: String,
    /// The declaration it revises (its id), or empty for a new one.
    pub revises: String,
    /// When it was last saved.
    pub saved: String,
}

impl From<&Draft> for DraftItem {
    fn from(draft: &Draft) -> Self {
        DraftItem {
            id: draft.id.to_string(),
            title: if draft.title.is_empty() {
                "untitled".to_owned()
            } else {
                draft.title.clone()
            },
            resume: match draft.declaration_id {
                Some(declaration) => {
                    format!("/declarations/{declaration}/revise?draft={}", draft.id)
                }
                None => format!("/declare?draft={}", draft.id),
            },
            revises: draft
                .declaration_id
                .map(|d| d.to_string())
                .unwrap_or_default(),
            saved: when(draft.updated_at),
        }
    }
}

/// The caller's drafts, newest last.
pub async fn my_drafts(state: &AppState, web: &Web) -> Result<Vec<DraftItem>, WebError> {
    let ledger = state.ledger.get().await?;
    Ok(ledger
        .drafts(web.caller.login())
        .await?
        .iter()
        .map(DraftItem::from)
        .collect())
}

/// Drafts are for those who declare: the same check as the declare form's.
async fn may_declare(state: &AppState, web: &Web) -> Result<(), WebError> {
    if productions_for(state, web, Action::SubmitDeclaration)
        .await?
        .is_empty()
    {
        web.authorize(Action::SubmitDeclaration, None)?;
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "drafts.html")]
struct DraftsPage {
    chrome: Chrome,
    drafts: Vec<DraftItem>,
    saved: String,
    deleted: bool,
}

/// `GET /drafts`: the caller's drafts (`?saved=ID` after saving one, `?deleted=1` after
/// deleting one).
pub async fn drafts(
    State(state): State<AppState>,
    web: Web,
    uri: Uri,
) -> Result<Response, WebError> {
    may_declare(&state, &web).await?;
    let query = query_fields(&uri);
    page(
        StatusCode::OK,
        &DraftsPage {
            chrome: web.chrome("My drafts", ""),
            drafts: my_drafts(&state, &web).await?,
            saved: query.get("saved").to_owned(),
            deleted: query.get("deleted") == "1",
        },
    )
}

/// `POST /drafts/{id}/delete`: deletes one of the caller's drafts (404 for anyone else's).
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm,
) -> Result<Response, WebError> {
    may_declare(&state, &web).await?;
    let id: DraftId = id.parse()?;
    let ledger = state.ledger.get().await?;
    ledger.delete_draft(web.caller.login(), id).await?;
    Ok(see_other("/drafts?deleted=1"))
}
