//! A written approval as a page a producer prints and files: the production, the
//! declaration and version, the decision with its findings' cites, the reviewer, the date,
//! the conditions, scope and expiry, the pack that triaged it, and the audit entry that
//! recorded it (its hash ties the paper to the ledger).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use greenlight_store::{Action, Approval, Kind, StoreError, Verdict};

use super::review::{FindingView, findings, json_name, query_fields, when};
use super::{Chrome, Web, WebError, page};
use crate::AppState;
use crate::api::declarations::declaration_and_production;
use crate::api::views::scope_text;

#[derive(Template)]
#[template(path = "approval.html")]
struct ApprovalPage {
    chrome: Chrome,
    id: String,
    production: String,
    production_id: String,
    title: String,
    version: u32,
    purpose: String,
    stage: String,
    submitted_by: String,
    level: String,
    findings: Vec<FindingView>,
    approval_id: String,
    reviewer: String,
    decided_at: String,
    conditions: Vec<String>,
    scope: Vec<String>,
    expires: String,
    note: String,
    in_force: bool,
    policy_id: String,
    policy_version: String,
    policy_sha256: String,
    layers: Vec<String>,
    decision_id: String,
    audit_seq: String,
    audit_hash: String,
}

/// `GET /declarations/{id}/approval`: the written approval in force (else the latest
/// approval; `?approval=ID` names one) as a page to print.
pub async fn approval(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, WebError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    web.authorize(Action::ReadDeclarations, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let query = query_fields(&uri);
    let wanted = query.get("approval");
    let approvals: Vec<Approval> = ledger
        .approvals(declaration.id)
        .await?
        .into_iter()
        .filter(|a| a.verdict == Verdict::Approved)
        .collect();
    let in_force = ledger.approvals_in_force(declaration.id).await?;
    let chosen = if wanted.is_empty() {
        in_force
            .last()
            .and_then(|f| approvals.iter().find(|a| a.id == f.id))
            .or_else(|| approvals.last())
    } else {
        approvals.iter().find(|a| a.id.to_string() == wanted)
    };
    let Some(approval) = chosen else {
        return Err(StoreError::NotFound {
            kind: "approval",
            id: if wanted.is_empty() {
                format!("of declaration {}", declaration.id)
            } else {
                wanted.to_owned()
            },
        }
        .into());
    };
    let decisions = ledger.decisions(declaration.id).await?;
    let decision = decisions.iter().find(|d| d.id == approval.decision_id);
    let version = ledger
        .declaration_version(declaration.id, approval.declaration_version)
        .await?;
    // The audit entry that recorded the approval.
    let record = approval.id.to_string();
    let mut entry = None;
    let mut after = None;
    while entry.is_none() {
        let entries = ledger.audit_entries(after, 1_000).await?;
        entry = entries
            .iter()
            .find(|e| e.record_id == record && e.kind == Kind::Approval.as_str())
            .cloned();
        match entries.last() {
            Some(last) if entries.len() == 1_000 => after = Some(last.seq),
            _ => break,
        }
    }
    let policy = decision.map(|d| &d.decision.policy);
    let d = &version.declaration;
    page(
        StatusCode::OK,
        &ApprovalPage {
            chrome: web.chrome(&format!("Approval: {}", d.title), ""),
            id: declaration.id.to_string(),
            production: production.title.clone(),
            production_id: production.id.to_string(),
            title: d.title.clone(),
            version: approval.declaration_version,
            purpose: json_name(&d.purpose).replace('_', " "),
            stage: json_name(&d.stage).replace('_', " "),
            submitted_by: version.submitted_by.clone(),
            level: decision
                .map_or("undecided", |d| d.level().as_str())
                .to_owned(),
            findings: decision.map(|d| findings(&d.decision)).unwrap_or_default(),
            approval_id: approval.id.to_string(),
            reviewer: approval.reviewer.clone(),
            decided_at: when(approval.decided_at),
            conditions: approval.conditions.clone(),
            scope: approval.scope.iter().map(scope_text).collect(),
            expires: approval.expires_at.map(when).unwrap_or_default(),
            note: approval.note.clone(),
            in_force: in_force.iter().any(|a| a.id == approval.id),
            policy_id: policy.map(|p| p.id.clone()).unwrap_or_default(),
            policy_version: policy.map(|p| p.version.clone()).unwrap_or_default(),
            policy_sha256: policy.map(|p| p.sha256.clone()).unwrap_or_default(),
            layers: policy
                .map(|p| {
                    p.layers
                        .iter()
                        .map(|l| format!("{} {} (sha256 {})", l.id, l.version, l.sha256))
                        .collect()
                })
                .unwrap_or_default(),
            decision_id: approval.decision_id.to_string(),
            audit_seq: entry
                .as_ref()
                .map(|e| e.seq.to_string())
                .unwrap_or_default(),
            audit_hash: entry.map(|e| e.hash).unwrap_or_default(),
        },
    )
}
