//! Requests for changes: a reviewer's third answer beside approving and rejecting. The
//! declaration stays undecided; its submitter is told what to change (the note), and a new
//! version answers the request.
//!
//! A request is an audited record (`change_request`, keyed under the declaration) about one
//! version. It stands while that version is the latest and no approval or rejection of the
//! version came after it ([`Ledger::changes_requested`]).

use greenlight_core::Level;
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::backend::Kind;
use crate::error::{Result, Rule, StoreError};
use crate::ids::{ChangeRequestId, DecisionId, DeclarationId};
use crate::ledger::{Ledger, review_target};
use crate::outbox;
use crate::records::{Approval, Record, StoredDeclaration};
use crate::time::Timestamp;

/// The longest note a request for changes keeps, in bytes.
pub const MAX_CHANGE_NOTE: usize = 10_000;

/// A reviewer's request for changes to one version of a declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequest {
    /// Its id.
    pub id: ChangeRequestId,
    /// The declaration.
    pub declaration_id: DeclarationId,
    /// The version the changes are asked of.
    pub declaration_version: u32,
    /// The decision in force when they were asked.
    pub decision_id: DecisionId,
    /// Who asked.
    pub reviewer: String,
    /// What to change.
    pub note: String,
    /// When.
    pub requested_at: Timestamp,
}

impl Record for ChangeRequest {
    const KIND: Kind = Kind::ChangeRequest;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        Some(self.declaration_id.to_string())
    }
}

/// Whether `request` still stands: it is about the latest version and no review of that
/// version came after it.
pub fn request_stands(
    request: &ChangeRequest,
    declaration: &StoredDeclaration,
    approvals: &[Approval],
) -> bool {
    request.declaration_version == declaration.version
        && !approvals.iter().any(|a| {
            a.declaration_version == declaration.version && a.decided_at >= request.requested_at
        })
}

impl<S: Store + ?Sized> Ledger<S> {
    /// A reviewer asks for changes to the latest version of an escalated declaration, saying
    /// what to change in `note`. The declaration stays undecided; everyone who submitted a
    /// version is notified.
    ///
    /// Refused as a review is (not a reviewer or legal member of the production, the
    /// reviewer submitted a version, no decision yet), when the decision does not escalate
    /// ([`Rule::NotEscalated`]), when the version is already approved or rejected
    /// ([`Rule::AlreadyDone`]), and when the note is empty or longer than
    /// [`MAX_CHANGE_NOTE`] ([`Rule::BadInput`]).
    pub async fn request_changes(
        &self,
        reviewer: &str,
        declaration: DeclarationId,
        note: &str,
    ) -> Result<ChangeRequest> {
        let note = note.trim();
        if note.is_empty() {
            return Err(StoreError::invalid(
                Rule::BadInput,
                "a request for changes needs a note: say what to change",
            ));
        }
        if note.len() > MAX_CHANGE_NOTE {
            return Err(StoreError::invalid(
                Rule::BadInput,
                format!(
                    "the note is {} bytes: at most {MAX_CHANGE_NOTE}",
                    note.len()
                ),
            ));
        }
        let mut w = self.begin(reviewer).await?;
        let (declaration, production, decision) = review_target(&mut w, declaration).await?;
        if decision.level() != Level::Escalate {
            return Err(StoreError::invalid(
                Rule::NotEscalated,
                format!(
                    "declaration `{}` is {}: only an escalated declaration waits for a review",
                    declaration.id,
                    decision.level().as_str()
                ),
            ));
        }
        let approvals = w.children::<Approval>(declaration.id).await?;
        if approvals.iter().any(|a| a.decision_id == decision.id) {
            return Err(StoreError::invalid(
                Rule::AlreadyDone,
                format!(
                    "declaration `{}` version {} is already reviewed",
                    declaration.id, declaration.version
                ),
            ));
        }
        let request = ChangeRequest {
            id: ChangeRequestId::generate(),
            declaration_id: declaration.id,
            declaration_version: declaration.version,
            decision_id: decision.id,
            reviewer: w.actor.clone(),
            note: note.to_owned(),
            requested_at: w.at,
        };
        w.save(&request).await?;
        outbox::notify_changes_requested(
            &mut w,
            self.outbox_channels(),
            &production,
            &declaration,
            &request,
        )
        .await?;
        w.commit(self.key()).await?;
        Ok(request)
    }

    /// Every request for changes to a declaration, oldest first.
    pub async fn change_requests(&self, declaration: DeclarationId) -> Result<Vec<ChangeRequest>> {
        self.all_children(declaration).await
    }

    /// The request for changes that stands on a declaration, if one does: the latest on its
    /// latest version, unless that version was reviewed after it.
    pub async fn changes_requested(
        &self,
        declaration: DeclarationId,
    ) -> Result<Option<ChangeRequest>> {
        let requests = self.change_requests(declaration).await?;
        let Some(latest) = requests.into_iter().next_back() else {
            return Ok(None);
        };
        let stored: StoredDeclaration = self.declaration(declaration).await?;
        let approvals = self.approvals(declaration).await?;
        Ok(request_stands(&latest, &stored, &approvals).then_some(latest))
    }
}
