//! Drafts of the declare form: what a person typed, kept so that nothing is lost, resumed
//! later, and gone once submitted or discarded.
//!
//! A draft is not a record of a decision: it is not in the audit log and it is deleted. It is
//! one person's own: only its author reads, replaces or deletes it, and to anyone else it does
//! not exist ([`StoreError::NotFound`]). Its fields are kept as the form sent them (name and
//! value pairs, in order), valid or not.

use serde::{Deserialize, Serialize};

use crate::Store;
use crate::backend::DraftRow;
use crate::error::{Result, Rule, StoreError};
use crate::ids::{DeclarationId, DraftId};
use crate::ledger::Ledger;
use crate::time::Timestamp;

/// The most fields a draft keeps.
pub const MAX_DRAFT_FIELDS: usize = 2_000;

/// The most bytes a draft's fields hold together (names and values).
pub const MAX_DRAFT_BYTES: usize = 512 * 1024;

/// A draft of the declare form (or of a revision).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Its id.
    pub id: DraftId,
    /// Who wrote it.
    pub author: String,
    /// The declaration it revises, when it is a revision.
    pub declaration_id: Option<DeclarationId>,
    /// The title typed (empty when none was), for lists.
    pub title: String,
    /// The form's fields as typed: name and value, in order.
    pub fields: Vec<(String, String)>,
    /// When it was first saved.
    pub created_at: Timestamp,
    /// When it was last saved.
    pub updated_at: Timestamp,
}

/// A draft to save: a new one (`id` none) or one of the author's again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewDraft {
    /// The draft to replace, when it is saved again.
    pub id: Option<DraftId>,
    /// The declaration it revises, when it is a revision.
    pub declaration_id: Option<DeclarationId>,
    /// The form's fields as typed.
    pub fields: Vec<(String, String)>,
}

fn not_found(id: impl ToString) -> StoreError {
    StoreError::NotFound {
        kind: "draft",
        id: id.to_string(),
    }
}

fn parse(row: DraftRow) -> Result<Draft> {
    let unreadable = |what: &str| StoreError::Other(format!("draft `{}` has {what}", row.id));
    Ok(Draft {
        id: row.id.parse().map_err(|_| unreadable("a bad id"))?,
        declaration_id: row
            .declaration_id
            .as_deref()
            .map(str::parse::<DeclarationId>)
            .transpose()
            .map_err(|_| unreadable("a bad declaration id"))?,
        fields: serde_json::from_str(&row.body).map_err(|_| unreadable("unreadable fields"))?,
        created_at: row
            .created_at
            .parse()
            .map_err(|_| unreadable("a bad creation time"))?,
        updated_at: row
            .updated_at
            .parse()
            .map_err(|_| unreadable("a bad update time"))?,
        author: row.author,
        title: row.title,
    })
}

fn title_of(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .find(|(name, _)| name == "title")
        .map(|(_, value)| {
            value
                .trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect()
        })
        .unwrap_or_default()
}

impl<S: Store + ?Sized> Ledger<S> {
    /// Saves a draft of `author`'s: a new one, or (with `id`) one of theirs again, keeping
    /// when it was first saved. Refused when `id` is no draft of theirs
    /// ([`StoreError::NotFound`]) and when the fields are too many or too long
    /// ([`Rule::BadInput`]).
    pub async fn save_draft(&self, author: &str, new: NewDraft) -> Result<Draft> {
        if author.trim().is_empty() {
            return Err(StoreError::invalid(Rule::BadInput, "the author is empty"));
        }
        if new.fields.len() > MAX_DRAFT_FIELDS {
            return Err(StoreError::invalid(
                Rule::BadInput,
                format!(
                    "a draft keeps at most {MAX_DRAFT_FIELDS} fields, not {}",
                    new.fields.len()
                ),
            ));
        }
        let bytes: usize = new.fields.iter().map(|(n, v)| n.len() + v.len()).sum();
        if bytes > MAX_DRAFT_BYTES {
            return Err(StoreError::invalid(
                Rule::BadInput,
                format!("a draft holds at most {MAX_DRAFT_BYTES} bytes, not {bytes}"),
            ));
        }
        let now = self.now();
        let (id, created_at) = match new.id {
            Some(id) => (id, self.draft(author, id).await?.created_at),
            None => (DraftId::generate(), now),
        };
        let draft = Draft {
            id,
            author: author.to_owned(),
            declaration_id: new.declaration_id,
            title: title_of(&new.fields),
            fields: new.fields,
            created_at,
            updated_at: now,
        };
        let row = DraftRow {
            id: draft.id.to_string(),
            author: draft.author.clone(),
            declaration_id: draft.declaration_id.map(|d| d.to_string()),
            title: draft.title.clone(),
            body: serde_json::to_string(&draft.fields).map_err(StoreError::other)?,
            created_at: draft.created_at.to_string(),
            updated_at: draft.updated_at.to_string(),
        };
        if !self.store().save_draft(&row).await? {
            return Err(not_found(draft.id));
        }
        Ok(draft)
    }

    /// One of `author`'s drafts; [`StoreError::NotFound`] when it is not theirs.
    pub async fn draft(&self, author: &str, id: DraftId) -> Result<Draft> {
        match self.store().draft(&id.to_string()).await? {
            Some(row) if row.author == author => parse(row),
            _ => Err(not_found(id)),
        }
    }

    /// Every draft of `author`'s, oldest first.
    pub async fn drafts(&self, author: &str) -> Result<Vec<Draft>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let rows = self
                .store()
                .drafts_of(author, after.as_deref(), crate::MAX_PAGE)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            for row in rows {
                out.push(parse(row)?);
            }
        }
        Ok(out)
    }

    /// Deletes one of `author`'s drafts; [`StoreError::NotFound`] when it is not theirs.
    pub async fn delete_draft(&self, author: &str, id: DraftId) -> Result<()> {
        if self.store().delete_draft(&id.to_string(), author).await? {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }
}
