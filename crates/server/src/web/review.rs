//! A declaration's page with the reviewer's approval panel, the review queue and the audit
//! log.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use greenlight_core::{Decision, Level};
use greenlight_store::{
    Action, Approval, ChangeRequest, NewReview, Production, Rule, StoreError, StoredDecision,
    StoredDeclaration, Timestamp, Verdict, request_stands,
};

use super::{Chrome, Fields, Web, WebError, WebForm, page, productions_for, see_other};
use crate::AppState;
use crate::api::declarations::declaration_and_production;
use crate::api::views::{scope_of, scope_text};
use crate::error::ApiError;

/// A ledger instant as a page shows it: to the minute, in UTC.
pub fn when(at: Timestamp) -> String {
    at.as_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// How long ago, roughly: `40 min`, `5 h`, `3 days`.
fn age(since: Timestamp, now: Timestamp) -> String {
    let minutes = (now.as_datetime() - since.as_datetime())
        .num_minutes()
        .max(0);
    match minutes {
        0..60 => format!("{minutes} min"),
        60..2880 => format!("{} h", minutes / 60),
        _ => format!("{} days", minutes / 1440),
    }
}

/// The query string's fields.
pub fn query_fields(uri: &Uri) -> Fields {
    Fields::new(serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default())
}

/// A declaration with its production, decision in force and whether it is reviewed.
pub struct Row {
    /// Its production.
    pub production: Production,
    /// Its latest version.
    pub declaration: StoredDeclaration,
    /// The decision in force.
    pub decision: Option<StoredDecision>,
    /// An approval is in force.
    pub approved: bool,
    /// The decision in force was approved or rejected.
    pub reviewed: bool,
    /// The request for changes that stands, if one does.
    pub changes: Option<ChangeRequest>,
}

impl Row {
    /// The level of the decision in force.
    pub fn level(&self) -> Option<Level> {
        self.decision.as_ref().map(StoredDecision::level)
    }
}

/// Every declaration of every production the caller may take `action` on.
pub async fn load_rows(state: &AppState, web: &Web, action: Action) -> Result<Vec<Row>, WebError> {
    let ledger = state.ledger.get().await?;
    let mut rows = Vec::new();
    for production in productions_for(state, web, action).await? {
        let mut after: Option<String> = None;
        loop {
            let page = ledger
                .declarations(production.id, after.as_deref(), 1_000)
                .await?;
            for declaration in page.items {
                let decision = match ledger.current_decision(declaration.id).await {
                    Ok(decision) => Some(decision),
                    Err(StoreError::NotFound { .. }) => None,
                    Err(other) => return Err(other.into()),
                };
                let approvals = ledger.approvals(declaration.id).await?;
                let reviewed = decision
                    .as_ref()
                    .is_some_and(|d| approvals.iter().any(|a| a.decision_id == d.id));
                let approved = !ledger.approvals_in_force(declaration.id).await?.is_empty();
                let changes = ledger
                    .change_requests(declaration.id)
                    .await?
                    .pop()
                    .filter(|r| request_stands(r, &declaration, &approvals));
                rows.push(Row {
                    production: production.clone(),
                    declaration,
                    decision,
                    approved,
                    reviewed,
                    changes,
                });
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(rows)
}

/// A declaration as a list shows it.
pub struct QueueItem {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its production's title.
    pub production: String,
    /// Its purpose.
    pub purpose: String,
    /// The level of the decision in force.
    pub level: String,
    /// Who submitted it.
    pub submitted_by: String,
    /// When it was decided.
    pub since: String,
    /// How long it has waited.
    pub waited: String,
    /// Where it stands: `waiting for review`, or `changes requested` (by whom).
    pub state: String,
    /// The note of the request for changes that stands, if one does.
    pub changes_note: String,
    decided: Option<Timestamp>,
}

impl From<&Row> for QueueItem {
    fn from(row: &Row) -> Self {
        let decided = row.decision.as_ref().map(|d| d.decided_at);
        QueueItem {
            id: row.declaration.id.to_string(),
            title: row.declaration.declaration.title.clone(),
            production: row.production.title.clone(),
            purpose: json_name(&row.declaration.declaration.purpose),
            level: row.level().map_or("undecided", Level::as_str).to_owned(),
            submitted_by: row.declaration.submitted_by.clone(),
            since: decided.map(when).unwrap_or_default(),
            waited: String::new(),
            state: match &row.changes {
                Some(r) => format!("changes requested by {}", r.reviewer),
                None if row.reviewed => "reviewed".to_owned(),
                None => "waiting for review".to_owned(),
            },
            changes_note: row
                .changes
                .as_ref()
                .map(|r| r.note.clone())
                .unwrap_or_default(),
            decided,
        }
    }
}

/// A value's name as its JSON spells it (`mood_board`).
pub fn json_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The declarations waiting for the caller's review: on a production they review, not
/// reviewed yet, no request for changes standing, not submitted by the caller; oldest
/// decision first.
pub fn waiting(rows: &[Row], web: &Web, now: Option<Timestamp>) -> Vec<QueueItem> {
    reviewable(rows, web, now, false)
}

/// The escalations on the caller's productions whose reviewer asked for changes: they wait
/// for a new version (the queue shows them, after those waiting for review).
pub fn awaiting_changes(rows: &[Row], web: &Web, now: Option<Timestamp>) -> Vec<QueueItem> {
    reviewable(rows, web, now, true)
}

/// The coordinator's side: the caller's own declarations whose reviewer asked for changes.
pub fn changes_for_me(rows: &[Row], web: &Web) -> Vec<QueueItem> {
    rows.iter()
        .filter(|row| row.changes.is_some() && row.declaration.submitted_by == web.caller.login())
        .map(QueueItem::from)
        .collect()
}

fn reviewable(rows: &[Row], web: &Web, now: Option<Timestamp>, changes: bool) -> Vec<QueueItem> {
    let mut items: Vec<QueueItem> = rows
        .iter()
        .filter(|row| {
            web.caller.may(Action::Review, &row.production)
                && row.level() == Some(Level::Escalate)
                && !row.reviewed
                && row.changes.is_some() == changes
                && row.declaration.submitted_by != web.caller.login()
        })
        .map(QueueItem::from)
        .collect();
    items.sort_by_key(|item| item.decided);
    if let Some(now) = now {
        for item in &mut items {
            item.waited = item.decided.map(|d| age(d, now)).unwrap_or_default();
        }
    }
    items
}

/// An option of a select (a filter's, a form's).
pub struct Choice {
    /// Its value.
    pub value: String,
    /// What it says.
    pub label: String,
    /// It is chosen.
    pub selected: bool,
}

pub(super) fn choices(values: Vec<(String, String)>, chosen: &str) -> Vec<Choice> {
    values
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == chosen,
            value,
            label,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    items: Vec<QueueItem>,
    productions: Vec<Choice>,
    levels: Vec<Choice>,
    purposes: Vec<Choice>,
    reviewer: bool,
}

/// `GET /queue`: what waits for review on the caller's productions, oldest first;
/// `?production=&level=&purpose=` narrow it.
pub async fn queue(
    State(state): State<AppState>,
    web: Web,
    uri: Uri,
) -> Result<Response, WebError> {
    let query = query_fields(&uri);
    let rows = load_rows(&state, &web, Action::Review).await?;
    let reviewer = !rows.is_empty()
        || !productions_for(&state, &web, Action::Review)
            .await?
            .is_empty();
    let now = state.ledger.get().await?.now();
    let (production, level, purpose) = (
        query.get("production"),
        query.get("level"),
        query.get("purpose"),
    );
    let level = if level.is_empty() { "escalate" } else { level };
    let mut items: Vec<QueueItem> = if level == "escalate" {
        let mut items = waiting(&rows, &web, Some(now));
        items.extend(awaiting_changes(&rows, &web, Some(now)));
        items
    } else {
        let mut items: Vec<QueueItem> = rows
            .iter()
            .filter(|row| level == "any" || row.level().is_some_and(|l| l.as_str() == level))
            .map(QueueItem::from)
            .collect();
        items.sort_by_key(|item| item.decided);
        for item in &mut items {
            item.waited = item.decided.map(|d| age(d, now)).unwrap_or_default();
        }
        items
    };
    let productions = productions_for(&state, &web, Action::Review).await?;
    if !production.is_empty() {
        let title = productions
            .iter()
            .find(|p| p.id.to_string() == production)
            .map(|p| p.title.clone());
        items.retain(|item| Some(&item.production) == title.as_ref());
    }
    if !purpose.is_empty() {
        items.retain(|item| item.purpose == purpose);
    }
    let mut purposes: Vec<(String, String)> = rows
        .iter()
        .map(|row| json_name(&row.declaration.declaration.purpose))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|p| (p.clone(), p.replace('_', " ")))
        .collect();
    purposes.insert(0, (String::new(), "any purpose".to_owned()));
    let mut production_choices: Vec<(String, String)> = productions
        .iter()
        .map(|p| (p.id.to_string(), p.title.clone()))
        .collect();
    production_choices.insert(0, (String::new(), "every production".to_owned()));
    let levels = vec![
        (
            "escalate".to_owned(),
            "escalations waiting for review".to_owned(),
        ),
        ("blocked".to_owned(), "blocked".to_owned()),
        ("notify".to_owned(), "notify".to_owned()),
        ("any".to_owned(), "any level".to_owned()),
    ];
    page(
        StatusCode::OK,
        &QueuePage {
            chrome: web.chrome("Review queue", "/queue"),
            items,
            productions: choices(production_choices, production),
            levels: choices(levels, level),
            purposes: choices(purposes, purpose),
            reviewer,
        },
    )
}

/// A finding as the page shows it.
pub struct FindingView {
    /// The rule's id.
    pub rule: String,
    /// Its level.
    pub level: String,
    /// `guidance` or `interpretation`.
    pub basis: String,
    /// What it cites.
    pub cites: String,
    /// Why.
    pub reason: String,
    /// The facts it rests on, `field = value`.
    pub facts: Vec<String>,
    /// What to do about it.
    pub remedy: String,
}

/// The findings of a decision, the decision's own level first.
pub fn findings(decision: &Decision) -> Vec<FindingView> {
    let mut findings: Vec<&greenlight_core::Finding> = decision.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    findings
        .into_iter()
        .map(|f| FindingView {
            rule: f.rule.clone(),
            level: f.level.as_str().to_owned(),
            basis: f.basis.as_str().to_owned(),
            cites: f.cites.join(", "),
            reason: f.reason.clone(),
            facts: f.facts.iter().map(|(k, v)| format!("{k} = {v}")).collect(),
            remedy: f.remedy.clone(),
        })
        .collect()
}

/// What to do next when a reviewer asked for changes.
pub const CHANGES_NEXT: &str = "Changes requested: read the reviewer's note, revise the \
     declaration (Revise, below the decision) and submit the new version; it is reviewed again.";

/// What to do next, by the decision's level and whether it is approved.
pub fn next_steps(level: Option<Level>, approved: bool, reviewed: bool) -> &'static str {
    match (level, approved, reviewed) {
        (Some(Level::Notify), _, _) => {
            "Go ahead: the studio contact has been told of this use. Keep to what you declared; \
             anything different is a new version."
        }
        (Some(Level::Escalate), true, _) => {
            "Approved: go ahead within the approval's scope and conditions, until it expires."
        }
        (Some(Level::Escalate), false, true) => {
            "Rejected: read the reviewer's note, change the use, and declare it again."
        }
        (Some(Level::Escalate), false, false) => {
            "Wait for written approval: a reviewer of the production sees this use in the review \
             queue. Do not use the output until it is approved; the approval will show here."
        }
        (Some(Level::Blocked), _, _) => {
            "Do not go ahead: this use cannot be approved as declared. Follow each finding's \
             remedy, then declare the use again."
        }
        (None, _, _) => "No decision is recorded yet.",
    }
}

/// A version in the list.
pub struct VersionView {
    /// Its number.
    pub version: u32,
    /// When it was submitted.
    pub at: String,
    /// By whom.
    pub by: String,
    /// The level of its latest decision.
    pub level: String,
    /// Its reviews, in words (`approved by rae`, `changes requested by rae`), when it has any.
    pub reviews: String,
}

/// A request for changes as the page shows it.
pub struct ChangeView {
    /// Who asked.
    pub reviewer: String,
    /// When.
    pub at: String,
    /// Of which version.
    pub version: u32,
    /// What to change.
    pub note: String,
    /// It still stands.
    pub open: bool,
}

/// An approval or rejection as the page shows it.
pub struct ApprovalRow {
    /// `approved` or `rejected`.
    pub verdict: String,
    /// By whom.
    pub reviewer: String,
    /// When.
    pub at: String,
    /// Of which version.
    pub version: u32,
    /// Its conditions.
    pub conditions: Vec<String>,
    /// Its scope.
    pub scope: Vec<String>,
    /// When it ends.
    pub expires: String,
    /// The note.
    pub note: String,
    /// It is in force.
    pub in_force: bool,
}

impl ApprovalRow {
    fn new(approval: &Approval, in_force: &[Approval]) -> ApprovalRow {
        ApprovalRow {
            verdict: json_name(&approval.verdict),
            reviewer: approval.reviewer.clone(),
            at: when(approval.decided_at),
            version: approval.declaration_version,
            conditions: approval.conditions.clone(),
            scope: approval.scope.iter().map(scope_text).collect(),
            expires: approval.expires_at.map(when).unwrap_or_default(),
            note: approval.note.clone(),
            in_force: in_force.iter().any(|a| a.id == approval.id),
        }
    }
}

/// An audit entry as the pages show it.
pub struct EntryView {
    /// Its place in the log.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To what kind of record.
    pub kind: String,
    /// The record's id.
    pub record: String,
}

impl From<&greenlight_store::AuditEntry> for EntryView {
    fn from(entry: &greenlight_store::AuditEntry) -> Self {
        EntryView {
            seq: entry.seq,
            at: entry.at.parse::<Timestamp>().map_or_else(
                |_| entry.at.clone(),
                |at| at.as_datetime().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ),
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            kind: entry.kind.clone(),
            record: entry.record_id.clone(),
        }
    }
}

/// The review form as typed, with the error beside its field.
#[derive(Default)]
pub struct ReviewForm {
    /// `approved`, `rejected` or `changes`.
    pub verdict: String,
    /// One condition a line.
    pub conditions: String,
    /// One glob or `sha256:` hash a line.
    pub scope: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
    /// The note.
    pub note: String,
    /// The field at fault and what is wrong.
    pub error: Option<(String, String)>,
}

impl ReviewForm {
    /// The error of `field`, when it is the one at fault.
    pub fn error_of(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "declaration.html")]
struct DeclarationPage {
    chrome: Chrome,
    id: String,
    title: String,
    production: String,
    purpose: String,
    stage: String,
    description: String,
    submitted_by: String,
    submitted_at: String,
    version: u32,
    level: String,
    next: &'static str,
    findings: Vec<FindingView>,
    policy: String,
    versions: Vec<VersionView>,
    approvals: Vec<ApprovalRow>,
    changes: Option<ChangeView>,
    change_requests: Vec<ChangeView>,
    history: Vec<EntryView>,
    panel: bool,
    may_revise: bool,
    printable: bool,
    form: ReviewForm,
    submitted: bool,
}

async fn declaration_page(
    state: &AppState,
    web: &Web,
    id: &str,
    form: ReviewForm,
    status: StatusCode,
    submitted: bool,
) -> Result<Response, WebError> {
    let (declaration, production) = declaration_and_production(state, id).await?;
    web.authorize(Action::ReadDeclarations, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let decisions = ledger.decisions(declaration.id).await?;
    let current = decisions
        .iter()
        .rev()
        .find(|d| d.declaration_version == declaration.version);
    let approvals = ledger.approvals(declaration.id).await?;
    let in_force = ledger.approvals_in_force(declaration.id).await?;
    let requests = ledger.change_requests(declaration.id).await?;
    let reviewed = current.is_some_and(|d| approvals.iter().any(|a| a.decision_id == d.id));
    let level = current.map(StoredDecision::level);
    let standing = requests
        .last()
        .filter(|r| request_stands(r, &declaration, &approvals))
        .map(|r| r.id);
    let change_view = |r: &ChangeRequest| ChangeView {
        reviewer: r.reviewer.clone(),
        at: when(r.requested_at),
        version: r.declaration_version,
        note: r.note.clone(),
        open: Some(r.id) == standing,
    };
    let versions = ledger
        .declaration_versions(declaration.id)
        .await?
        .iter()
        .map(|v| {
            let mut reviews: Vec<(Timestamp, String)> = approvals
                .iter()
                .filter(|a| a.declaration_version == v.version)
                .map(|a| {
                    (
                        a.decided_at,
                        format!("{} by {}", json_name(&a.verdict), a.reviewer),
                    )
                })
                .collect();
            reviews.extend(
                requests
                    .iter()
                    .filter(|r| r.declaration_version == v.version)
                    .map(|r| {
                        (
                            r.requested_at,
                            format!("changes requested by {}", r.reviewer),
                        )
                    }),
            );
            reviews.sort();
            VersionView {
                version: v.version,
                at: when(v.submitted_at),
                by: v.submitted_by.clone(),
                level: decisions
                    .iter()
                    .rev()
                    .find(|d| d.declaration_version == v.version)
                    .map_or("undecided", |d| d.level().as_str())
                    .to_owned(),
                reviews: reviews
                    .into_iter()
                    .map(|(_, text)| text)
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })
        .collect();
    // The history: every audit entry about the declaration, its decisions and its reviews.
    let mut records: HashSet<String> = HashSet::new();
    records.insert(declaration.id.to_string());
    records.extend(decisions.iter().map(|d| d.id.to_string()));
    records.extend(approvals.iter().map(|a| a.id.to_string()));
    records.extend(requests.iter().map(|r| r.id.to_string()));
    let mut history = Vec::new();
    let mut after = None;
    loop {
        let entries = ledger.audit_entries(after, 1_000).await?;
        history.extend(
            entries
                .iter()
                .filter(|e| records.contains(&e.record_id))
                .map(EntryView::from),
        );
        match entries.last() {
            Some(last) if entries.len() == 1_000 => after = Some(last.seq),
            _ => break,
        }
    }
    let panel = web.caller.may(Action::Review, &production)
        && level == Some(Level::Escalate)
        && declaration.submitted_by != web.caller.login();
    let may_revise = web.caller.may(Action::ReviseDeclaration, &production);
    let changes = requests
        .iter()
        .find(|r| Some(r.id) == standing)
        .map(change_view);
    let d = &declaration.declaration;
    page(
        status,
        &DeclarationPage {
            chrome: web.chrome(&d.title, ""),
            id: declaration.id.to_string(),
            title: d.title.clone(),
            production: production.title.clone(),
            purpose: json_name(&d.purpose).replace('_', " "),
            stage: json_name(&d.stage).replace('_', " "),
            description: d.description.clone(),
            submitted_by: declaration.submitted_by.clone(),
            submitted_at: when(declaration.submitted_at),
            version: declaration.version,
            level: level.map_or("undecided", Level::as_str).to_owned(),
            next: if changes.is_some() {
                CHANGES_NEXT
            } else {
                next_steps(level, !in_force.is_empty(), reviewed)
            },
            findings: current.map(|d| findings(&d.decision)).unwrap_or_default(),
            policy: current
                .map(|d| format!("{} {}", d.decision.policy.id, d.decision.policy.version))
                .unwrap_or_default(),
            versions,
            printable: approvals.iter().any(|a| a.verdict == Verdict::Approved),
            approvals: approvals
                .iter()
                .map(|a| ApprovalRow::new(a, &in_force))
                .collect(),
            change_requests: requests.iter().map(change_view).collect(),
            changes,
            history,
            panel,
            may_revise,
            form,
            submitted,
        },
    )
}

/// `GET /declarations/{id}`: the decision in force with its findings, the versions, the
/// reviews, the history; for a reviewer of its production, the approval panel.
pub async fn declaration(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, WebError> {
    let submitted = query_fields(&uri).get("submitted") == "1";
    let form = ReviewForm {
        verdict: "approved".to_owned(),
        ..ReviewForm::default()
    };
    declaration_page(&state, &web, &id, form, StatusCode::OK, submitted).await
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /declarations/{id}/review`: approve (conditions, scope, expiry), reject (a note) or
/// request changes (a note).
pub async fn review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    web.authorize(Action::Review, Some(&production))?;
    let mut form = ReviewForm {
        verdict: fields.get("verdict").to_owned(),
        conditions: fields.get("conditions").to_owned(),
        scope: fields.get("scope").to_owned(),
        expires: fields.get("expires").to_owned(),
        note: fields.get("note").to_owned(),
        error: None,
    };
    if form.verdict == "changes" {
        return request_changes(&state, &web, &declaration, form).await;
    }
    let verdict = match form.verdict.as_str() {
        "approved" => Some(Verdict::Approved),
        "rejected" => Some(Verdict::Rejected),
        _ => None,
    };
    let expires_at = if form.expires.is_empty() {
        Ok(None)
    } else {
        format!("{}T23:59:59Z", form.expires)
            .parse::<Timestamp>()
            .map(Some)
            .map_err(|_| format!("`{}` is not a date (YYYY-MM-DD)", form.expires))
    };
    let scope = lines(&form.scope);
    let wrong = match (&verdict, &expires_at) {
        (None, _) => Some((
            "verdict",
            "choose approve, reject or request changes".to_owned(),
        )),
        (_, Err(e)) => Some(("expires", e.clone())),
        (Some(Verdict::Approved), _) if scope.is_empty() => Some((
            "scope",
            "an approval covers named assets: give at least one path glob or sha256: hash"
                .to_owned(),
        )),
        (Some(Verdict::Rejected), _) if form.note.is_empty() => {
            Some(("note", "say why it is rejected".to_owned()))
        }
        _ => None,
    };
    if let Some((field, message)) = wrong {
        form.error = Some((field.to_owned(), message));
        return declaration_page(
            &state,
            &web,
            &id,
            form,
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
        )
        .await;
    }
    let (Some(verdict), Ok(expires_at)) = (verdict, expires_at) else {
        return Err(WebError::Api(ApiError::invalid_field(
            "verdict",
            "no verdict",
        )));
    };
    let ledger = state.ledger.get().await?;
    let reviewed = ledger
        .review(
            web.caller.login(),
            NewReview {
                declaration_id: declaration.id,
                verdict,
                conditions: lines(&form.conditions),
                scope: scope.iter().map(|s| scope_of(s)).collect(),
                expires_at,
                note: form.note.clone(),
            },
        )
        .await;
    match reviewed {
        Ok(_) => Ok(see_other(&format!("/declarations/{}", declaration.id))),
        Err(
            refused @ StoreError::Invalid {
                rule: Rule::SelfReview | Rule::NotReviewer,
                ..
            },
        ) => Err(refused.into()),
        Err(StoreError::Invalid { message, .. }) => {
            let field = if message.contains("scope") {
                "scope"
            } else if message.contains("expir") {
                "expires"
            } else {
                "verdict"
            };
            form.error = Some((field.to_owned(), message));
            declaration_page(
                &state,
                &web,
                &id,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
                false,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// The review panel's third answer: the note is what to change; the declaration stays
/// undecided and its page shows the request to whoever submitted it.
async fn request_changes(
    state: &AppState,
    web: &Web,
    declaration: &StoredDeclaration,
    mut form: ReviewForm,
) -> Result<Response, WebError> {
    let id = declaration.id.to_string();
    if form.note.is_empty() {
        form.error = Some((
            "note".to_owned(),
            "say what to change: the note is sent to whoever submitted it".to_owned(),
        ));
        return declaration_page(
            state,
            web,
            &id,
            form,
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
        )
        .await;
    }
    let ledger = state.ledger.get().await?;
    match ledger
        .request_changes(web.caller.login(), declaration.id, &form.note)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/declarations/{id}"))),
        Err(
            refused @ StoreError::Invalid {
                rule: Rule::SelfReview | Rule::NotReviewer,
                ..
            },
        ) => Err(refused.into()),
        Err(StoreError::Invalid { message, rule }) => {
            let field = if rule == Rule::BadInput {
                "note"
            } else {
                "verdict"
            };
            form.error = Some((field.to_owned(), message));
            declaration_page(
                state,
                web,
                &id,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
                false,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// The verification's result as the audit page shows it.
pub struct VerifyResult {
    /// Nothing was found wrong.
    pub ok: bool,
    /// Entries read.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Records compared.
    pub records: u64,
    /// Every problem.
    pub problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    record: String,
    person: String,
    entries: Vec<EntryView>,
    more: bool,
    verified: Option<VerifyResult>,
    may_verify: bool,
}

/// The most entries the audit page lists.
const AUDIT_SHOWN: usize = 500;

async fn audit_page(
    state: &AppState,
    web: &Web,
    query: &Fields,
    verified: Option<VerifyResult>,
) -> Result<Response, WebError> {
    web.authorize(Action::ReadAudit, None)?;
    let (record, person) = (query.get("record"), query.get("person"));
    let ledger = state.ledger.get().await?;
    let mut matched = Vec::new();
    let mut after = None;
    loop {
        let entries = ledger.audit_entries(after, 1_000).await?;
        matched.extend(
            entries
                .iter()
                .filter(|e| record.is_empty() || e.record_id == record)
                .filter(|e| person.is_empty() || e.actor == person)
                .map(EntryView::from),
        );
        match entries.last() {
            Some(last) if entries.len() == 1_000 => after = Some(last.seq),
            _ => break,
        }
    }
    matched.reverse();
    let more = matched.len() > AUDIT_SHOWN;
    matched.truncate(AUDIT_SHOWN);
    page(
        StatusCode::OK,
        &AuditPage {
            chrome: web.chrome("Audit log", "/audit"),
            record: record.to_owned(),
            person: person.to_owned(),
            entries: matched,
            more,
            verified,
            may_verify: web.caller.authorize(Action::VerifyAudit, None).is_ok(),
        },
    )
}

/// `GET /audit`: the log, newest first, `?record=&person=` narrowing it.
pub async fn audit(
    State(state): State<AppState>,
    web: Web,
    uri: Uri,
) -> Result<Response, WebError> {
    audit_page(&state, &web, &query_fields(&uri), None).await
}

/// `POST /audit/verify`: verify the log now, and show what was found.
pub async fn verify(
    State(state): State<AppState>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::VerifyAudit, None)?;
    let ledger = state.ledger.get().await?;
    let report = ledger.verify().await?;
    let result = VerifyResult {
        ok: report.is_ok(),
        entries: report.entries,
        checkpoints: report.checkpoints,
        records: report.records,
        problems: report.problems.iter().map(|p| p.to_string()).collect(),
    };
    audit_page(&state, &web, &fields, Some(result)).await
}
