//! The registry pages: productions and their members, tools and their data terms,
//! performers and their consents (record and revoke), recorded scans and the pack's rules.
//! Each table exports as CSV (`?format=csv&table=NAME`); every page asks the API's
//! `authorize` first.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use greenlight_core::Level;
use greenlight_policy::{BUILTIN_OVERLAYS, Policy};
use greenlight_store::{
    Action, Consent, ConsentId, ConsentKind, ConsentScope, ConsentStatus, NewConsent, PerformerId,
    Production, ProductionId, ScanId, ScanRecord, ScanState, Standing, StoreError,
};
use serde::Deserialize;

use super::export::{Cell, Table, csv_response, wants_csv};
use super::review::{Choice, Row, choices, json_name, when};
use super::{Chrome, Web, WebError, WebForm, page, productions_for};
use crate::AppState;
use crate::error::ApiError;

/// A registry page's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// `html` (the page, the default) or `csv` (one of its tables).
    pub(super) format: Option<String>,
    /// The table to export (the first when absent).
    pub(super) table: Option<String>,
    /// A production to narrow the list to (`/scans`), or to preview an overlay on
    /// (`/policy`).
    production: Option<String>,
    /// The built-in overlay to preview (`/policy`).
    overlay: Option<String>,
}

pub(super) fn read_query(query: Option<String>) -> Result<PageQuery, WebError> {
    serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|e| WebError::Api(ApiError::invalid_field("query", e.to_string())))
}

/// A link of a page.
pub struct Link {
    /// Where it goes.
    pub href: String,
    /// What it says.
    pub label: String,
}

pub(super) fn link(href: impl Into<String>, label: impl Into<String>) -> Link {
    Link {
        href: href.into(),
        label: label.into(),
    }
}

/// A page of facts, links and tables.
#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    chrome: Chrome,
    heading: String,
    facts: Vec<(String, String)>,
    links: Vec<Link>,
    tables: Vec<Table>,
}

/// The page, or one of its tables as CSV when the query asks.
fn answer(query: &PageQuery, name: &str, view: RegistryPage) -> Result<Response, WebError> {
    if wants_csv(query.format.as_deref())? {
        return csv_response(name, &view.tables, query.table.as_deref());
    }
    page(StatusCode::OK, &view)
}

pub(super) fn parse<T: std::str::FromStr<Err = StoreError>>(
    field: &str,
    text: &str,
) -> Result<T, WebError> {
    text.parse()
        .map_err(|e: StoreError| WebError::Api(ApiError::invalid_field(field, e.to_string())))
}

pub(super) fn roles_of(production: &Production, login: &str) -> String {
    production
        .members
        .iter()
        .filter(|m| m.person == login)
        .flat_map(|m| m.roles.iter().map(|r| r.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts by the level in force: notify, escalate, of which approved, blocked, undecided.
pub(super) fn counts<'a>(rows: impl Iterator<Item = &'a Row>) -> [usize; 5] {
    let (mut notify, mut escalate, mut approved, mut blocked, mut undecided) = (0, 0, 0, 0, 0);
    for row in rows {
        match row.level() {
            Some(Level::Notify) => notify += 1,
            Some(Level::Escalate) => {
                escalate += 1;
                if row.approved {
                    approved += 1;
                }
            }
            Some(Level::Blocked) => blocked += 1,
            None => undecided += 1,
        }
    }
    [notify, escalate, approved, blocked, undecided]
}

/// A consent as the performer's page lists it.
pub struct ConsentRow {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its production's title.
    pub production: String,
    /// What it covers.
    pub description: String,
    /// Who gave it.
    pub given_by: String,
    /// `pending`, `documented` or `revoked`.
    pub status: String,
    /// When it ends.
    pub expires: String,
    /// When it was revoked, by whom and why.
    pub revoked: String,
    /// The caller may revoke it.
    pub revocable: bool,
    /// It is pending and the caller may record its signed document.
    pub documentable: bool,
}

const CONSENT_KINDS: [ConsentKind; 5] = [
    ConsentKind::EmploymentReplica,
    ConsentKind::IndependentReplica,
    ConsentKind::BackgroundReplica,
    ConsentKind::SyntheticPerformer,
    ConsentKind::DigitalAlteration,
];

/// What the record form was sent with, kept when it comes back with an error.
#[derive(Default)]
pub struct ConsentForm {
    production: String,
    kind: String,
    description: String,
    given_by: String,
    status: String,
    document_sha256: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "performer.html")]
struct PerformerPage {
    chrome: Chrome,
    id: String,
    name: String,
    facts: Vec<(String, String)>,
    consents: Vec<ConsentRow>,
    csv: String,
    may_record: bool,
    productions: Vec<Choice>,
    kinds: Vec<Choice>,
    statuses: Vec<Choice>,
    form: ConsentForm,
    error: Option<(String, String)>,
    /// A document form that came back: the consent's id, what was typed and why.
    document_error: Option<(String, String, String)>,
}

impl PerformerPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::error_of(&self.error, field)
    }

    /// What was typed in the document form of consent `id` and why it came back.
    fn document_of(&self, id: &str) -> Option<(&str, &str)> {
        self.document_error
            .as_ref()
            .filter(|(c, _, _)| c == id)
            .map(|(_, typed, why)| (typed.as_str(), why.as_str()))
    }
}

/// What the performer page shows beside its forms: the record form as typed with its error,
/// or a document form sent back.
#[derive(Default)]
struct Sent {
    form: ConsentForm,
    error: Option<(String, String)>,
    document_error: Option<(String, String, String)>,
}

async fn performer_page(
    state: &AppState,
    web: &Web,
    id: &str,
    query: &PageQuery,
    status: StatusCode,
    sent: Sent,
) -> Result<Response, WebError> {
    let Sent {
        form,
        error,
        document_error,
    } = sent;
    web.authorize(Action::ReadRegistry, None)?;
    let ledger = state.ledger.get().await?;
    let performer = ledger.performer(parse::<PerformerId>("id", id)?).await?;
    let here = format!("/performers/{}", performer.id);
    let mut table = Table::new(
        &here,
        "consents",
        "Consents you may see",
        vec![
            "Kind",
            "Production",
            "Description",
            "Given by",
            "Status",
            "Expires",
            "Revoked",
        ],
        "",
    );
    let mut titles: BTreeMap<ProductionId, Option<Production>> = BTreeMap::new();
    let mut consents = Vec::new();
    for c in ledger.consents(performer.id).await? {
        let pid = c.scope.production_id;
        if let Entry::Vacant(slot) = titles.entry(pid) {
            let p = match ledger.production(pid).await {
                Ok(p) => Some(p),
                Err(StoreError::NotFound { .. }) => None,
                Err(other) => return Err(other.into()),
            };
            slot.insert(p);
        }
        let Some(Some(p)) = titles.get(&pid) else {
            continue;
        };
        if !web.caller.may(Action::ReadConsents, p) {
            continue;
        }
        let row = consent_row(
            &c,
            p,
            web.caller.may(Action::RevokeConsent, p),
            web.caller.may(Action::DocumentConsent, p),
        );
        table.rows.push(vec![
            Cell::text(&row.kind),
            Cell::text(&row.production),
            Cell::text(&row.description),
            Cell::text(&row.given_by),
            Cell::text(&row.status),
            Cell::text(&row.expires),
            Cell::text(&row.revoked),
        ]);
        consents.push(row);
    }
    if wants_csv(query.format.as_deref())? {
        return csv_response("performer", &[table], query.table.as_deref());
    }
    let recordable = productions_for(state, web, Action::RecordConsent).await?;
    let productions = choices(
        recordable
            .iter()
            .map(|p| (p.id.to_string(), p.title.clone()))
            .collect(),
        &form.production,
    );
    let kinds = choices(
        CONSENT_KINDS
            .iter()
            .map(|k| (k.as_str().to_owned(), k.as_str().replace('_', " ")))
            .collect(),
        &form.kind,
    );
    let statuses = choices(
        vec![
            ("pending".to_owned(), "pending (asked for)".to_owned()),
            (
                "documented".to_owned(),
                "documented (the signed document's sha256 below)".to_owned(),
            ),
        ],
        if form.status.is_empty() {
            "pending"
        } else {
            &form.status
        },
    );
    let facts = vec![
        ("Union".to_owned(), performer.union.clone()),
        (
            "Deceased".to_owned(),
            if performer.deceased { "yes" } else { "no" }.to_owned(),
        ),
        (
            "Estate".to_owned(),
            performer.estate.clone().unwrap_or_default(),
        ),
    ];
    page(
        status,
        &PerformerPage {
            chrome: web.chrome(&performer.name, "/performers"),
            id: performer.id.to_string(),
            name: performer.name.clone(),
            facts,
            consents,
            csv: table.csv.clone(),
            may_record: !recordable.is_empty(),
            productions,
            kinds,
            statuses,
            form,
            error,
            document_error,
        },
    )
}

fn consent_row(c: &Consent, p: &Production, may_revoke: bool, may_document: bool) -> ConsentRow {
    ConsentRow {
        id: c.id.to_string(),
        kind: c.kind.as_str().replace('_', " "),
        production: p.title.clone(),
        description: c.scope.description.clone(),
        given_by: c.given_by.clone(),
        status: json_name(&c.status),
        expires: c.expires_at.map(when).unwrap_or_default(),
        revoked: c
            .revocation
            .as_ref()
            .map(|r| format!("{} by {}: {}", when(r.at), r.by, r.reason))
            .unwrap_or_default(),
        revocable: may_revoke && c.status != ConsentStatus::Revoked,
        documentable: may_document && c.status == ConsentStatus::Pending,
    }
}

/// `GET /performers/{id}`: a performer, the consents the caller may see, and the forms to
/// record and revoke them for those allowed.
pub async fn performer(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    performer_page(&state, &web, &id, &query, StatusCode::OK, Sent::default()).await
}

/// `POST /performers/{id}/consents`: a consent recorded for a production the caller may
/// record consents of; a wrong field comes back beside it, with what was typed.
pub async fn record_consent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::ReadRegistry, None)?;
    let form = ConsentForm {
        production: fields.get("production").to_owned(),
        kind: fields.get("kind").to_owned(),
        description: fields.get("description").to_owned(),
        given_by: fields.get("given_by").to_owned(),
        status: fields.get("status").to_owned(),
        document_sha256: fields.get("document_sha256").to_owned(),
        expires: fields.get("expires").to_owned(),
    };
    let ledger = state.ledger.get().await?;
    let performer = ledger.performer(parse::<PerformerId>("id", &id)?).await?;
    let production = match form.production.parse::<ProductionId>() {
        Ok(pid) => match ledger.production(pid).await {
            Ok(p) => Some(p),
            Err(StoreError::NotFound { .. }) => None,
            Err(other) => return Err(other.into()),
        },
        Err(_) => None,
    };
    let Some(production) = production else {
        return again(
            &state,
            &web,
            &id,
            form,
            "production",
            "choose the production the consent is for",
        )
        .await;
    };
    web.authorize(Action::RecordConsent, Some(&production))?;
    let kind: Option<ConsentKind> =
        serde_json::from_value(serde_json::Value::String(form.kind.clone())).ok();
    let Some(kind) = kind else {
        return again(
            &state,
            &web,
            &id,
            form,
            "kind",
            "choose the kind of consent",
        )
        .await;
    };
    let status = match form.status.as_str() {
        "pending" => ConsentStatus::Pending,
        "documented" => ConsentStatus::Documented,
        _ => {
            return again(
                &state,
                &web,
                &id,
                form,
                "status",
                "choose pending or documented",
            )
            .await;
        }
    };
    let expires_at = match super::registration::day("expires", &form.expires, "23:59:59") {
        Ok(at) => at,
        Err((field, message)) => return again(&state, &web, &id, form, &field, &message).await,
    };
    let document = (!form.document_sha256.is_empty()).then(|| form.document_sha256.clone());
    let recorded = ledger
        .record_consent(
            web.caller.login(),
            NewConsent {
                performer_id: performer.id,
                kind,
                scope: ConsentScope {
                    production_id: production.id,
                    media: Vec::new(),
                    description: form.description.clone(),
                },
                given_by: form.given_by.clone(),
                status,
                expires_at,
                document_sha256: document,
            },
        )
        .await;
    match recorded {
        Ok(_) => Ok(super::see_other(&format!("/performers/{}", performer.id))),
        Err(StoreError::Invalid { message, .. }) => {
            let field = if message.contains("sha256") {
                "document_sha256"
            } else if message.contains("given") {
                "given_by"
            } else {
                "description"
            };
            again(&state, &web, &id, form, field, &message).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn again(
    state: &AppState,
    web: &Web,
    id: &str,
    form: ConsentForm,
    field: &str,
    message: &str,
) -> Result<Response, WebError> {
    performer_page(
        state,
        web,
        id,
        &PageQuery::default(),
        StatusCode::UNPROCESSABLE_ENTITY,
        Sent {
            form,
            error: Some((field.to_owned(), message.to_owned())),
            document_error: None,
        },
    )
    .await
}

/// `POST /consents/{id}/document`: the signed document of a pending consent, by its sha256
/// (legal and talent relations of its production); a wrong hash comes back beside it.
pub async fn document_consent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    let ledger = state.ledger.get().await?;
    let consent = ledger.consent(parse::<ConsentId>("id", &id)?).await?;
    let production = ledger.production(consent.scope.production_id).await?;
    web.authorize(Action::DocumentConsent, Some(&production))?;
    let typed = fields.get("document_sha256").to_owned();
    let performer = consent.performer_id.to_string();
    match ledger
        .document_consent(web.caller.login(), consent.id, &typed.to_ascii_lowercase())
        .await
    {
        Ok(_) => Ok(super::see_other(&format!("/performers/{performer}"))),
        Err(StoreError::Invalid { message, .. }) => {
            performer_page(
                &state,
                &web,
                &performer,
                &PageQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Sent {
                    document_error: Some((consent.id.to_string(), typed, message)),
                    ..Sent::default()
                },
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// A decision a revocation turned to blocked.
pub struct BlockedRow {
    /// Its declaration's id.
    pub declaration: String,
    /// Its declaration's title.
    pub title: String,
    /// When it was decided.
    pub at: String,
}

#[derive(Template)]
#[template(path = "revoked.html")]
struct RevokedPage {
    chrome: Chrome,
    performer: String,
    performer_id: String,
    consent: ConsentRow,
    blocked: Vec<BlockedRow>,
}

/// `POST /consents/{id}/revoke`: the consent is revoked (with the reason given); the page
/// shows each decision that relied on it and is now blocked.
pub async fn revoke_consent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    let ledger = state.ledger.get().await?;
    let consent = ledger.consent(parse::<ConsentId>("id", &id)?).await?;
    let production = ledger.production(consent.scope.production_id).await?;
    web.authorize(Action::RevokeConsent, Some(&production))?;
    let reason = fields.get("reason");
    if reason.is_empty() {
        return Err(WebError::Api(ApiError::invalid_field(
            "reason",
            "say why the consent is revoked",
        )));
    }
    let (consent, blocked) = ledger
        .revoke_consent(web.caller.login(), consent.id, reason)
        .await?;
    let performer = ledger.performer(consent.performer_id).await?;
    let mut rows = Vec::new();
    for d in &blocked {
        let title = match ledger.declaration(d.declaration_id).await {
            Ok(stored) => stored.declaration.title,
            Err(StoreError::NotFound { .. }) => String::new(),
            Err(other) => return Err(other.into()),
        };
        rows.push(BlockedRow {
            declaration: d.declaration_id.to_string(),
            title,
            at: when(d.decided_at),
        });
    }
    page(
        StatusCode::OK,
        &RevokedPage {
            chrome: web.chrome("Consent revoked", "/performers"),
            performer: performer.name.clone(),
            performer_id: performer.id.to_string(),
            consent: consent_row(&consent, &production, false, false),
            blocked: rows,
        },
    )
}

/// Files of a scan that hold the gate back: found AI-made without an approval in force, or
/// unreadable.
fn flagged(counts: &greenlight_store::ScanCounts) -> u64 {
    counts.unapproved + counts.approval_expired + counts.error
}

fn gate(scan: &ScanRecord) -> &'static str {
    match (scan.state, scan.passed) {
        (ScanState::InProgress, _) => "in progress",
        (ScanState::Complete, true) => "passed",
        (ScanState::Complete, false) => "failed",
    }
}

/// `GET /scans`: the recorded scans of the productions the caller may see scans of
/// (`?production=ID` for one).
pub async fn scans(
    State(state): State<AppState>,
    web: Web,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    let ledger = state.ledger.get().await?;
    let mut list = productions_for(&state, &web, Action::ReadScans).await?;
    let mut here = "/scans".to_owned();
    if let Some(id) = query.production.as_deref().filter(|p| !p.is_empty()) {
        let p = ledger
            .production(parse::<ProductionId>("production", id)?)
            .await?;
        web.authorize(Action::ReadScans, Some(&p))?;
        here = format!("/scans?production={}", p.id);
        list = vec![p];
    }
    let mut table = Table::new(
        &here,
        "scans",
        "Recorded delivery scans, oldest first",
        vec![
            "Scan",
            "Production",
            "Scanner",
            "Gate",
            "Files",
            "AI-made",
            "Flagged",
            "Recorded by",
        ],
        "No scan is recorded.",
    );
    for p in &list {
        let mut after: Option<String> = None;
        loop {
            let page = ledger.scans(p.id, after.as_deref(), 1_000).await?;
            for s in page.items {
                let c = &s.counts;
                table.rows.push(vec![
                    Cell::link(when(s.scan.started_at), format!("/scans/{}", s.id)),
                    Cell::text(&p.title),
                    Cell::text(&s.scan.scanner),
                    Cell::text(gate(&s)),
                    Cell::text(c.files.to_string()),
                    Cell::text((c.ai_generated + c.ai_edited + c.ai_possible).to_string()),
                    Cell::text(flagged(c).to_string()),
                    Cell::text(&s.recorded_by),
                ]);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    answer(
        &query,
        "scans",
        RegistryPage {
            chrome: web.chrome("Scans", "/scans"),
            heading: "Delivery scans".to_owned(),
            facts: Vec::new(),
            links: Vec::new(),
            tables: vec![table],
        },
    )
}

/// The most files a scan's page reads for its flagged list.
const MAX_FILES_READ: u64 = 100_000;

/// `GET /scans/{id}`: a scan's gate result, its counts and its flagged files.
pub async fn scan(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    let ledger = state.ledger.get().await?;
    let s = ledger.scan(parse::<ScanId>("id", &id)?).await?;
    let p = ledger.production(s.scan.production_id).await?;
    web.authorize(Action::ReadScans, Some(&p))?;
    let here = format!("/scans/{}", s.id);
    let c = &s.counts;
    let mut counts = Table::new(
        &here,
        "counts",
        "Files by verdict",
        vec!["Verdict", "Files"],
        "",
    );
    for (label, n) in [
        ("files", c.files),
        ("ai generated", c.ai_generated),
        ("ai edited", c.ai_edited),
        ("ai possible", c.ai_possible),
        ("no AI evidence", c.no_ai_evidence),
        ("unsupported", c.unsupported),
        ("error", c.error),
        ("skipped", c.skipped),
        ("approved", c.approved),
        ("unapproved", c.unapproved),
        ("approval expired", c.approval_expired),
    ] {
        counts
            .rows
            .push(vec![Cell::text(label), Cell::text(n.to_string())]);
    }
    let mut files = Table::new(
        &here,
        "flagged",
        "Flagged files: AI-made without an approval in force, or unreadable",
        vec![
            "File",
            "Verdict",
            "Standing",
            "Declaration",
            "Reason",
            "sha256",
        ],
        "No file is flagged.",
    );
    let mut after: Option<u64> = None;
    let mut read = 0u64;
    loop {
        let page = ledger.scan_files(s.id, after, 1_000).await?;
        read += page.items.len() as u64;
        for f in &page.items {
            let file = &f.file;
            let held = matches!(
                file.status,
                Some(Standing::Unapproved | Standing::ApprovalExpired)
            ) || file.verdict == "error";
            if !held {
                continue;
            }
            files.rows.push(vec![
                Cell::text(&file.path),
                Cell::text(file.verdict.replace('_', " ")),
                Cell::text(file.status.map(|st| st.as_str()).unwrap_or_default()),
                match file.declaration_id {
                    Some(d) => Cell::link(d.to_string(), format!("/declarations/{d}")),
                    None => Cell::text(""),
                },
                Cell::text(&file.reason),
                Cell::text(file.sha256.clone().unwrap_or_default()),
            ]);
        }
        match page.next.and_then(|n| n.parse::<u64>().ok()) {
            Some(next) if read < MAX_FILES_READ => after = Some(next),
            _ => break,
        }
    }
    let facts = vec![
        ("Production".to_owned(), p.title.clone()),
        ("Gate".to_owned(), gate(&s).to_owned()),
        ("Scanner".to_owned(), s.scan.scanner.clone()),
        ("Roots".to_owned(), s.scan.roots.join(", ")),
        ("Started".to_owned(), when(s.scan.started_at)),
        (
            "Finished".to_owned(),
            s.finished_at
                .map(when)
                .unwrap_or_else(|| "not yet".to_owned()),
        ),
        ("Recorded by".to_owned(), s.recorded_by.clone()),
    ];
    answer(
        &query,
        "scan",
        RegistryPage {
            chrome: web.chrome("Scan", "/scans"),
            heading: format!("Scan of {}", when(s.scan.started_at)),
            facts,
            links: vec![link(format!("/productions/{}", p.id), p.title.clone())],
            tables: vec![files, counts],
        },
    )
}

/// `GET /policy`: the server's pack: its rules as a table with their cites and basis, and
/// the ids they cite.
pub async fn policy(
    State(state): State<AppState>,
    web: Web,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    web.authorize(Action::ShowPacks, None)?;
    let policy = &state.policy;
    let reference = policy.reference();

    // The overlay preview: a production's stack with one built-in overlay more, against the
    // decisions in force, as `greenlight reassess` previews it.
    let previewable = productions_for(&state, &web, Action::ReassessPreview).await?;
    let production = query.production.as_deref().filter(|p| !p.is_empty());
    let overlay = query.overlay.as_deref().filter(|o| !o.is_empty());
    let mut tables = Vec::new();
    let mut summary = None;
    if let (Some(production), Some(overlay)) = (production, overlay) {
        let id: ProductionId = parse("production", production)?;
        let ledger = state.ledger.get().await?;
        let production = ledger.production(id).await?;
        web.authorize(Action::ReassessPreview, Some(&production))?;
        if !BUILTIN_OVERLAYS.iter().any(|(name, _)| *name == overlay) {
            let known: Vec<&str> = BUILTIN_OVERLAYS.iter().map(|(n, _)| *n).collect();
            return Err(WebError::Api(ApiError::invalid_field(
                "overlay",
                format!(
                    "no built-in overlay `{overlay}` (known: {})",
                    known.join(", ")
                ),
            )));
        }
        let mut stack: Vec<&str> = production.overlays.iter().map(String::as_str).collect();
        let already = stack.contains(&overlay);
        if !already {
            stack.push(overlay);
        }
        let preview = Policy::builtin_stack(&stack).map_err(|errors| {
            let first = errors.diagnostics.first().map(|d| d.one_line());
            WebError::Api(ApiError::invalid_field(
                "overlay",
                first.unwrap_or_else(|| "the stack does not compile".to_owned()),
            ))
        })?;
        let (checked, changes) = crate::api::reassess::changes(ledger, id, &preview).await?;
        let layers: Vec<String> = preview
            .reference()
            .layers
            .iter()
            .map(|l| format!("{} {}", l.id, l.version))
            .collect();
        summary = Some(format!(
            "{} with {overlay}{}: {} ({checked} triaged again, {} would change; nothing is recorded).",
            production.title,
            if already { " (it applies already)" } else { "" },
            layers.join(" + "),
            changes.len(),
        ));
        let mut table = Table::new(
            &format!("/policy?production={id}&overlay={overlay}"),
            "changes",
            format!("What {overlay} would change on {}", production.title),
            vec![
                "Declaration",
                "From",
                "To",
                "Rules added",
                "Rules removed",
                "Approvals it would replace",
            ],
            "No decision would change.",
        );
        for c in &changes {
            table.rows.push(vec![
                Cell::link(&c.title, format!("/declarations/{}", c.declaration_id)),
                Cell::text(c.from.as_str()),
                Cell::text(c.to.as_str()),
                Cell::text(c.rules_added.join(", ")),
                Cell::text(c.rules_removed.join(", ")),
                Cell::text(c.approvals_in_force.to_string()),
            ]);
        }
        tables.push(table);
    }
    let chosen_production = production.unwrap_or_default();
    let productions = choices(
        previewable
            .iter()
            .map(|p| (p.id.to_string(), p.title.clone()))
            .collect(),
        chosen_production,
    );
    let overlays = choices(
        BUILTIN_OVERLAYS
            .iter()
            .map(|(name, _)| ((*name).to_owned(), (*name).to_owned()))
            .collect(),
        overlay.unwrap_or_default(),
    );

    let mut rules = Table::new(
        "/policy",
        "rules",
        "Rules, in evaluation order",
        vec![
            "Rule", "Title", "Level", "Cites", "Basis", "Severity", "Pack", "Reason",
        ],
        "The pack has no rule.",
    );
    for r in policy.rules() {
        rules.rows.push(vec![
            Cell::text(&r.id),
            Cell::text(&r.title),
            Cell::text(r.level.as_str()),
            Cell::text(r.cites.join(", ")),
            Cell::text(json_name(&r.basis)),
            Cell::text(json_name(&r.severity)),
            Cell::text(&r.pack),
            Cell::text(&r.reason),
        ]);
    }
    let mut ids = Table::new(
        "/policy",
        "ids",
        "What rules cite",
        vec!["Id", "Group", "Text"],
        "",
    );
    for e in policy.entries().values() {
        ids.rows.push(vec![
            Cell::text(&e.id),
            Cell::text(&e.group),
            Cell::text(&e.text),
        ]);
    }
    tables.push(rules);
    tables.push(ids);
    let mut facts = vec![
        (
            "Pack".to_owned(),
            format!("{} {}", reference.id, reference.version),
        ),
        ("sha256".to_owned(), reference.sha256.clone()),
    ];
    for layer in &reference.layers {
        facts.push((
            "Layer".to_owned(),
            format!("{} {} ({})", layer.id, layer.version, layer.sha256),
        ));
    }
    let view = PolicyPage {
        chrome: web.chrome("Policy", "/policy"),
        facts,
        productions,
        overlays,
        summary,
        tables,
    };
    if wants_csv(query.format.as_deref())? {
        return csv_response("policy", &view.tables, query.table.as_deref());
    }
    page(StatusCode::OK, &view)
}

/// The policy page: the pack's rules and what they cite, and an overlay's preview.
#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    chrome: Chrome,
    facts: Vec<(String, String)>,
    productions: Vec<Choice>,
    overlays: Vec<Choice>,
    summary: Option<String>,
    tables: Vec<Table>,
}
