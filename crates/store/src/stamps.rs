//! Stamps: files signed with an approval in their Content Credentials. The signing is the
//! provenance crate's job; the ledger keeps what was stamped (the file, its sha256 before and
//! after, the approval, the signer) as an audited record, and refuses to record a stamp of an
//! approval that is not in force.

use serde::{Deserialize, Serialize};

use crate::backend::{Kind, Store};
use crate::error::{Result, Rule, StoreError};
use crate::gate::ApprovalState;
use crate::ids::{ApprovalId, DeclarationId, ProductionId, StampId};
use crate::ledger::{Ledger, MAX_PAGE, approval_state};
use crate::records::{Approval, Page, Record, StoredDecision, StoredDeclaration};
use crate::time::Timestamp;

/// The longest path or text field a stamp keeps, in bytes.
const MAX_TEXT: usize = 4096;

/// A stamped file as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    /// Its id.
    pub id: StampId,
    /// The approval stamped into the file.
    pub approval_id: ApprovalId,
    /// That approval's declaration.
    pub declaration_id: DeclarationId,
    /// The declaration's production.
    pub production_id: ProductionId,
    /// The file stamped, as given.
    pub source_path: String,
    /// The stamped copy written, if any.
    pub output_path: Option<String>,
    /// The sidecar written, if any.
    pub sidecar_path: Option<String>,
    /// The container, as the scanner names it.
    pub format: String,
    /// The sha256 of the file before stamping.
    pub sha256_before: String,
    /// The sha256 of the stamped media (the same as before when only a sidecar was written).
    pub sha256_after: String,
    /// The sha256 of the sidecar, if any.
    pub sidecar_sha256: Option<String>,
    /// The label of the manifest written.
    pub manifest: Option<String>,
    /// The signing certificate's subject.
    pub signer: String,
    /// The sha256 of the signing certificate.
    pub signer_sha256: String,
    /// When it was recorded.
    pub stamped_at: Timestamp,
    /// Who stamped it.
    pub stamped_by: String,
}

impl Record for Stamp {
    const KIND: Kind = Kind::Stamp;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        Some(self.approval_id.to_string())
    }
}

/// A stamped file to record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStamp {
    /// The file stamped, as given.
    pub source_path: String,
    /// The stamped copy written, if any.
    pub output_path: Option<String>,
    /// The sidecar written, if any.
    pub sidecar_path: Option<String>,
    /// The container.
    pub format: String,
    /// The sha256 before.
    pub sha256_before: String,
    /// The sha256 after.
    pub sha256_after: String,
    /// The sidecar's sha256.
    pub sidecar_sha256: Option<String>,
    /// The manifest's label.
    pub manifest: Option<String>,
    /// The signing certificate's subject.
    pub signer: String,
    /// The signing certificate's sha256.
    pub signer_sha256: String,
}

/// An approval with everything a stamp says of it: its state now, its declaration and the
/// decision it was given on.
#[derive(Clone, Debug)]
pub struct ApprovalStanding {
    /// The approval.
    pub approval: Approval,
    /// Where it stands now.
    pub state: ApprovalState,
    /// Its declaration (latest version).
    pub declaration: StoredDeclaration,
    /// The decision it was given on, when the ledger still has it.
    pub decision: Option<StoredDecision>,
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check(new: &NewStamp) -> Result<()> {
    let bad = |message: String| Err(StoreError::invalid(Rule::BadInput, message));
    for (name, text) in [
        ("source path", Some(&new.source_path)),
        ("output path", new.output_path.as_ref()),
        ("sidecar path", new.sidecar_path.as_ref()),
        ("format", Some(&new.format)),
        ("manifest label", new.manifest.as_ref()),
        ("signer", Some(&new.signer)),
    ] {
        if let Some(t) = text
            && (t.len() > MAX_TEXT || t.contains('\0'))
        {
            return bad(format!("the {name} is too long or holds a NUL"));
        }
    }
    if new.source_path.is_empty() {
        return bad("a stamp names the file stamped".to_owned());
    }
    if new.output_path.is_none() && new.sidecar_path.is_none() {
        return bad(format!(
            "the stamp of `{}` wrote neither a copy nor a sidecar",
            new.source_path
        ));
    }
    for (name, hash) in [
        ("sha256 before", Some(&new.sha256_before)),
        ("sha256 after", Some(&new.sha256_after)),
        ("sidecar sha256", new.sidecar_sha256.as_ref()),
        ("signer sha256", Some(&new.signer_sha256)),
    ] {
        if let Some(h) = hash
            && !is_sha256(h)
        {
            return bad(format!(
                "the {name} `{}` is not 64 lowercase hex digits",
                h.chars().take(80).collect::<String>()
            ));
        }
    }
    Ok(())
}

fn not_in_force(approval: &Approval, state: &ApprovalState) -> StoreError {
    StoreError::invalid(
        Rule::NotInForce,
        format!(
            "approval {} is {state}: only an approval in force is stamped",
            approval.id
        ),
    )
}

impl<S: Store + ?Sized> Ledger<S> {
    /// An approval, where it stands now, its declaration and the decision it was given on.
    pub async fn approval_standing(&self, id: ApprovalId) -> Result<ApprovalStanding> {
        let approval: Approval = self.get(id).await?;
        let declaration = self.declaration(approval.declaration_id).await?;
        let decisions = self.decisions(approval.declaration_id).await?;
        let current = decisions
            .iter()
            .rev()
            .find(|d| d.declaration_version == declaration.version);
        let state = approval_state(&approval, current, self.now());
        let decision = decisions
            .iter()
            .find(|d| d.id == approval.decision_id)
            .cloned();
        Ok(ApprovalStanding {
            approval,
            state,
            declaration,
            decision,
        })
    }

    /// Records stamped files of one approval in one write, one audit entry each. Refused,
    /// recording nothing, when the approval is not in force as the write sees it, or a file's
    /// fields are malformed. At most [`MAX_PAGE`] at a time.
    pub async fn record_stamps(
        &self,
        actor: &str,
        approval: ApprovalId,
        new: Vec<NewStamp>,
    ) -> Result<Vec<Stamp>> {
        if new.is_empty() || new.len() > MAX_PAGE as usize {
            return Err(StoreError::invalid(
                Rule::BadInput,
                format!("1 to {MAX_PAGE} stamps at a time, not {}", new.len()),
            ));
        }
        for n in &new {
            check(n)?;
        }
        let mut w = self.begin(actor).await?;
        let a: Approval = w.must(approval).await?;
        let declaration: StoredDeclaration = w.must(a.declaration_id).await?;
        let current = w.current_decision(&declaration).await?;
        let state = approval_state(&a, current.as_ref(), w.at);
        if state != ApprovalState::InForce {
            return Err(not_in_force(&a, &state));
        }
        let mut out = Vec::with_capacity(new.len());
        for n in new {
            let record = Stamp {
                id: StampId::generate(),
                approval_id: a.id,
                declaration_id: a.declaration_id,
                production_id: declaration.production_id,
                source_path: n.source_path,
                output_path: n.output_path,
                sidecar_path: n.sidecar_path,
                format: n.format,
                sha256_before: n.sha256_before,
                sha256_after: n.sha256_after,
                sidecar_sha256: n.sidecar_sha256,
                manifest: n.manifest,
                signer: n.signer,
                signer_sha256: n.signer_sha256,
                stamped_at: w.at,
                stamped_by: w.actor.clone(),
            };
            w.save(&record).await?;
            out.push(record);
        }
        w.commit(self.audit_key()).await?;
        Ok(out)
    }

    /// One page of the files stamped with an approval, in the order they were recorded; every
    /// approval's when `approval` is `None`.
    pub async fn stamps(
        &self,
        approval: Option<ApprovalId>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Stamp>> {
        let parent = approval.map(|a| a.to_string());
        self.page_of(parent.as_deref(), after, limit).await
    }
}

/// Refuses an approval that is not in force, in the words [`Ledger::record_stamps`] uses.
pub fn require_in_force(standing: &ApprovalStanding) -> Result<()> {
    if standing.state == ApprovalState::InForce {
        Ok(())
    } else {
        Err(not_in_force(&standing.approval, &standing.state))
    }
}
