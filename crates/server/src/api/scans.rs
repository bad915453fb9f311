//! Delivery scans over HTTP: the remote scanner's routes, and recorded scans.
//!
//! A scanner (`greenlight scan --server URL`) reads the files where they are and posts their
//! evidence only: paths, hash, verdict, evidence items, error and notes, never media. The
//! judgment is `greenlight_store::GateRun`'s, run by the ledger
//! (`Ledger::judge_files`, `Ledger::append_judged_scan_files`, `Ledger::finish_judged_scan`),
//! so a remote scan is judged as a local one is. A batch holds at most
//! [`MAX_SCAN_BATCH`] files and fits the body limit; the scanner posts as it scans, so a
//! delivery of any size streams through.
//!
//! | route | what | action |
//! |---|---|---|
//! | `GET /api/v1/gate?production=X` | the production's gate: approvals, batch limits | `ReadScans` |
//! | `POST /api/v1/gate` | judge a batch, recording nothing | `ReadScans` |
//! | `POST /api/v1/productions/{id}/scans` | begin a recorded scan | `RecordScan` |
//! | `GET /api/v1/productions/{id}/scans` | the production's scans, a page at a time | `ReadScans` |
//! | `GET /api/v1/scans/{id}` | a scan's header and counts | `ReadScans` |
//! | `POST /api/v1/scans/{id}/files` | judge and record a batch | `RecordScan` |
//! | `GET /api/v1/scans/{id}/files` | a scan's files, a page at a time | `ReadScans` |
//! | `POST /api/v1/scans/{id}/finish` | finish: the gate's result, counted from the rows | `RecordScan` |

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use greenlight_store::{
    Action, EvidenceItem, FileEvidence, FileVerdict, Judgement, MAX_SCAN_BATCH, NewScan,
    Production, ProductionId, ScanCounts, ScanFile, ScanId, ScanRecord, Standing,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::views::{Cursor, Sees, visible_page};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Later};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(gate_info, judge))
        .routes(routes!(list_scans, begin_scan))
        .routes(routes!(show_scan))
        .routes(routes!(scan_files, post_files))
        .routes(routes!(finish_scan))
}

/// A production, by id and title.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductionRef {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// A production's delivery gate, as a scanner needs it before it posts files.
#[derive(Debug, Serialize, ToSchema)]
pub struct GateInfoView {
    /// The production.
    pub production: ProductionRef,
    /// Approvals and rejections given to its declarations.
    pub approvals: usize,
    /// Approvals in force now.
    pub in_force: usize,
    /// Whether some approval names files by content hash (flagged files must then be hashed).
    pub hashes: bool,
    /// Stored scopes that cannot be used (they cover nothing).
    pub problems: Vec<String>,
    /// The most files one batch may hold.
    pub max_files: usize,
    /// The largest request body the server takes, in bytes.
    pub max_bytes: usize,
}

/// Which production's gate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateQuery {
    /// The production: its id or exact title.
    pub production: String,
}

/// One piece of evidence found in a file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// Its kind (`c2pa_action`, `iptc_digital_source_type`, …).
    pub kind: String,
    /// What was found.
    pub detail: String,
    /// Where it was found.
    #[serde(default)]
    pub source: String,
}

/// A scanned file's evidence: never its content.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    /// The path as the scanner printed it.
    pub path: String,
    /// The path relative to the scanned directory, with `/` separators.
    #[serde(default)]
    pub relative_path: Option<String>,
    /// The scanner's verdict: `ai_generated`, `ai_edited`, `ai_possible`, `no_ai_evidence`,
    /// `unsupported`, `error` or `skipped`.
    pub verdict: String,
    /// The sha256 of the file's content (64 hex digits), when the scanner hashed it.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The evidence that gave the verdict.
    #[serde(default)]
    pub evidence: Vec<EvidenceBody>,
    /// Why the file could not be read.
    #[serde(default)]
    pub error: Option<String>,
    /// The scanner's notes.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A batch of a recorded scan's files.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesRequest {
    /// At most 1,000 files.
    pub files: Vec<FileBody>,
}

/// A batch of files to judge without recording them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeRequest {
    /// The production: its id or exact title.
    pub production: String,
    /// Also gate weak signals and unreadable files.
    #[serde(default)]
    pub strict: bool,
    /// At most 1,000 files.
    pub files: Vec<FileBody>,
}

/// What the gate says of one file.
#[derive(Debug, Serialize, ToSchema)]
pub struct JudgementView {
    /// `approved`, `unapproved` or `approval_expired`.
    pub status: String,
    /// The approval that covers the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// That approval's declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration_id: Option<String>,
    /// Why, for people.
    pub reason: String,
    /// Whether this file fails the gate.
    pub fails_gate: bool,
}

impl From<&Judgement> for JudgementView {
    fn from(j: &Judgement) -> Self {
        JudgementView {
            status: j.status.as_str().to_owned(),
            approval_id: j.approval_id.map(|id| id.to_string()),
            declaration_id: j.declaration_id.map(|id| id.to_string()),
            reason: j.reason.clone(),
            fails_gate: j.fails_gate,
        }
    }
}

/// The batch's rows in the record.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// The first row's number.
    pub first: u64,
    /// The last row's number.
    pub last: u64,
    /// The sha256 of the rows, as the audit entry holds it.
    pub sha256: String,
}

/// Each file's judgement, in the order posted.
#[derive(Debug, Serialize, ToSchema)]
pub struct JudgedView {
    /// One per file posted: `null` for a file the gate does not look at (no evidence of
    /// AI, an unsupported container, and unreadable files unless strict).
    pub files: Vec<Option<JudgementView>>,
    /// With a recorded scan, the rows this batch added (absent when it kept none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchView>,
}

/// A scan to begin recording.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeginRequest {
    /// The scanner and its version.
    pub scanner: String,
    /// The files and directories scanned.
    pub roots: Vec<String>,
    /// Whether C2PA manifests are fully validated.
    #[serde(default)]
    pub verified: bool,
    /// Whether weak signals and unreadable files also fail the gate.
    #[serde(default)]
    pub strict: bool,
}

/// The scanner's counts of verdicts over every file it scanned.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountsBody {
    /// Files scanned.
    pub files: u64,
    /// `ai_generated` files.
    #[serde(default)]
    pub ai_generated: u64,
    /// `ai_edited` files.
    #[serde(default)]
    pub ai_edited: u64,
    /// `ai_possible` files.
    #[serde(default)]
    pub ai_possible: u64,
    /// `no_ai_evidence` files.
    #[serde(default)]
    pub no_ai_evidence: u64,
    /// `unsupported` files.
    #[serde(default)]
    pub unsupported: u64,
    /// `error` files.
    #[serde(default)]
    pub error: u64,
    /// `skipped` paths.
    #[serde(default)]
    pub skipped: u64,
    /// Ignored: the server counts the standings from the recorded rows.
    #[serde(default)]
    pub approved: u64,
    /// Ignored: counted from the recorded rows.
    #[serde(default)]
    pub unapproved: u64,
    /// Ignored: counted from the recorded rows.
    #[serde(default)]
    pub approval_expired: u64,
}

/// The end of a scan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    /// The scanner's counts of verdicts.
    pub counts: CountsBody,
}

/// Counts over a recorded scan.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsView {
    /// Files scanned.
    pub files: u64,
    /// `ai_generated` files.
    pub ai_generated: u64,
    /// `ai_edited` files.
    pub ai_edited: u64,
    /// `ai_possible` files.
    pub ai_possible: u64,
    /// `no_ai_evidence` files.
    pub no_ai_evidence: u64,
    /// `unsupported` files.
    pub unsupported: u64,
    /// `error` files.
    pub error: u64,
    /// `skipped` paths.
    pub skipped: u64,
    /// Judged files an approval in force covers.
    pub approved: u64,
    /// Judged files no approval in force covers.
    pub unapproved: u64,
    /// Judged files covered only by expired approvals.
    pub approval_expired: u64,
}

impl From<&ScanCounts> for CountsView {
    fn from(c: &ScanCounts) -> Self {
        CountsView {
            files: c.files,
            ai_generated: c.ai_generated,
            ai_edited: c.ai_edited,
            ai_possible: c.ai_possible,
            no_ai_evidence: c.no_ai_evidence,
            unsupported: c.unsupported,
            error: c.error,
            skipped: c.skipped,
            approved: c.approved,
            unapproved: c.unapproved,
            approval_expired: c.approval_expired,
        }
    }
}

/// A recorded scan's header.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanView {
    /// Its id.
    pub id: String,
    /// The production.
    pub production_id: String,
    /// The scanner and its version.
    pub scanner: String,
    /// The files and directories scanned.
    pub roots: Vec<String>,
    /// Whether C2PA manifests were fully validated.
    pub verified: bool,
    /// Whether weak signals and unreadable files also failed the gate.
    pub strict: bool,
    /// `in_progress` or `complete`.
    pub state: String,
    /// Whether the gate passed (false while in progress).
    pub passed: bool,
    /// Counts over every file scanned (zero while in progress).
    pub counts: CountsView,
    /// When the scan started.
    pub started_at: String,
    /// When it was recorded (begun).
    pub recorded_at: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

impl From<&ScanRecord> for ScanView {
    fn from(r: &ScanRecord) -> Self {
        ScanView {
            id: r.id.to_string(),
            production_id: r.scan.production_id.to_string(),
            scanner: r.scan.scanner.clone(),
            roots: r.scan.roots.clone(),
            verified: r.scan.verified,
            strict: r.scan.strict,
            state: r.state.as_str().to_owned(),
            passed: r.passed,
            counts: CountsView::from(&r.counts),
            started_at: r.scan.started_at.to_string(),
            recorded_at: r.recorded_at.to_string(),
            recorded_by: r.recorded_by.clone(),
            finished_at: r.finished_at.map(|t| t.to_string()),
        }
    }
}

/// A page of a production's scans.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanList {
    /// The scans, oldest first.
    pub scans: Vec<ScanView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One file of a recorded scan.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanFileView {
    /// Its row number in the scan, from 1.
    pub seq: u64,
    /// The path as scanned.
    pub path: String,
    /// The scanner's verdict.
    pub verdict: String,
    /// The sha256 of its content, when hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The evidence, one line per item.
    pub evidence: Vec<String>,
    /// How it stands against the approvals (judged files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The approval that covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// That approval's declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration_id: Option<String>,
    /// Why it stands so, or why it could not be read.
    pub reason: String,
}

impl From<&ScanFile> for ScanFileView {
    fn from(f: &ScanFile) -> Self {
        ScanFileView {
            seq: f.seq,
            path: f.file.path.clone(),
            verdict: f.file.verdict.clone(),
            sha256: f.file.sha256.clone(),
            evidence: f.file.evidence.clone(),
            status: f.file.status.map(|s: Standing| s.as_str().to_owned()),
            approval_id: f.file.approval_id.map(|id| id.to_string()),
            declaration_id: f.file.declaration_id.map(|id| id.to_string()),
            reason: f.file.reason.clone(),
        }
    }
}

/// A page of a scan's files.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanFilesView {
    /// The files, by row number.
    pub files: Vec<ScanFileView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// A page of a scan's files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowQuery {
    /// The `next` of the previous page: the last row number seen.
    pub after: Option<u64>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

fn production_id(text: &str) -> Result<ProductionId, ApiError> {
    text.parse()
        .map_err(|e: greenlight_store::StoreError| ApiError::invalid_field("id", e.to_string()))
}

fn scan_id(text: &str) -> Result<ScanId, ApiError> {
    text.parse()
        .map_err(|e: greenlight_store::StoreError| ApiError::invalid_field("id", e.to_string()))
}

/// The store's form of the posted files, each field checked and named when wrong.
fn evidence(files: Vec<FileBody>) -> Result<Vec<FileEvidence>, ApiError> {
    if files.len() > MAX_SCAN_BATCH {
        return Err(ApiError::invalid_field(
            "files",
            format!(
                "a batch holds at most {MAX_SCAN_BATCH} files, not {}",
                files.len()
            ),
        ));
    }
    files
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let verdict = FileVerdict::from_name(&f.verdict).ok_or_else(|| {
                let known: Vec<&str> = FileVerdict::ALL.iter().map(|v| v.as_str()).collect();
                ApiError::invalid_field(
                    &format!("files[{i}].verdict"),
                    format!(
                        "`{}` is not a verdict: use one of {}",
                        f.verdict,
                        known.join(", ")
                    ),
                )
            })?;
            if f.path.is_empty() {
                return Err(ApiError::invalid_field(
                    &format!("files[{i}].path"),
                    "a scanned file needs its path",
                ));
            }
            Ok(FileEvidence {
                path: f.path,
                relative_path: f.relative_path,
                verdict,
                sha256: f.sha256,
                evidence: f
                    .evidence
                    .into_iter()
                    .map(|e| EvidenceItem {
                        kind: e.kind,
                        detail: e.detail,
                        source: e.source,
                    })
                    .collect(),
                error: f.error,
                notes: f.notes,
            })
        })
        .collect()
}

fn judged(judgements: &[Option<Judgement>]) -> Vec<Option<JudgementView>> {
    judgements
        .iter()
        .map(|j| j.as_ref().map(JudgementView::from))
        .collect()
}

/// The scan and its production, once the caller may take `action` on them.
async fn scan_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> Result<(ScanRecord, Production), ApiError> {
    let ledger = state.ledger.get().await?;
    let scan = ledger.scan(scan_id(id)?).await?;
    let production = ledger.production(scan.scan.production_id).await?;
    caller.authorize(action, Some(&production))?;
    Ok((scan, production))
}

/// A production's delivery gate: its approvals and the batch limits.
#[utoipa::path(
    get,
    path = "/api/v1/gate",
    tag = "scans",
    params(("production" = String, Query, description = "the production: its id or exact title")),
    responses(
        (status = 200, description = "the production's gate", body = GateInfoView),
        (status = 400, description = "the query string cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not see this production's scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn gate_info(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<GateQuery>,
) -> Result<Json<GateInfoView>, ApiError> {
    let ledger = state.ledger.get().await?;
    let production = ledger.find_production(&query.production).await?;
    caller.authorize(Action::ReadScans, Some(&production))?;
    let index = ledger.approval_index(production.id).await?;
    Ok(Json(GateInfoView {
        production: ProductionRef {
            id: production.id.to_string(),
            title: production.title,
        },
        approvals: index.len(),
        in_force: index.in_force(),
        hashes: index.has_hashes(),
        problems: index.problems().to_vec(),
        max_files: MAX_SCAN_BATCH,
        max_bytes: state.config.body_limit,
    }))
}

/// Judge a batch of files against the production's approvals, recording nothing.
#[utoipa::path(
    post,
    path = "/api/v1/gate",
    tag = "scans",
    request_body = JudgeRequest,
    responses(
        (status = 200, description = "each file's judgement, in the order posted", body = JudgedView),
        (status = 400, description = "the body is not a batch", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not see this production's scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is over the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn judge(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<JudgeRequest>,
) -> Result<Json<JudgedView>, ApiError> {
    let ledger = state.ledger.get().await?;
    let production = ledger.find_production(&request.production).await?;
    caller.authorize(Action::ReadScans, Some(&production))?;
    let files = evidence(request.files)?;
    let judgements = ledger
        .judge_files(
            production.id,
            request.strict,
            &files,
            state.config.stamp_signers(),
        )
        .await?;
    Ok(Json(JudgedView {
        files: judged(&judgements),
        batch: None,
    }))
}

/// Begin recording a delivery scan of the production's deliverables.
#[utoipa::path(
    post,
    path = "/api/v1/productions/{id}/scans",
    tag = "scans",
    params(("id" = String, Path, format = Uuid, description = "the production's id")),
    request_body = BeginRequest,
    responses(
        (status = 201, description = "the scan, in progress", body = ScanView),
        (status = 400, description = "the body is not a scan", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not record this production's scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is over the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn begin_scan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<BeginRequest>>,
) -> Result<(StatusCode, Json<ScanView>), ApiError> {
    let ledger = state.ledger.get().await?;
    let production = ledger.production(production_id(&id)?).await?;
    caller.authorize(Action::RecordScan, Some(&production))?;
    let ApiJson(request) = body.read(&state).await?;
    let record = ledger
        .begin_scan(
            caller.login(),
            NewScan {
                production_id: production.id,
                scanner: request.scanner,
                roots: request.roots,
                verified: request.verified,
                strict: request.strict,
                started_at: ledger.now(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ScanView::from(&record))))
}

/// A production's recorded scans, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/productions/{id}/scans",
    tag = "scans",
    params(
        ("id" = String, Path, format = Uuid, description = "the production's id"),
        ("after" = Option<String>, Query, description = "the `next` of the previous page"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of scans", body = ScanList),
        (status = 400, description = "the query string cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not see this production's scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such production", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id or a parameter is not one", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_scans(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<ScanList>, ApiError> {
    let ledger = state.ledger.get().await?;
    let production = ledger.production(production_id(&id)?).await?;
    let sees = Sees::Production(Action::ReadScans, &production);
    let page = visible_page(
        &caller,
        sees,
        &cursor,
        |after, n| ledger.scans(production.id, after, n),
        |r| ScanView::from(&r),
    )
    .await?;
    Ok(Json(ScanList {
        scans: page.items,
        next: page.next,
    }))
}

/// A recorded scan: its header, state and counts.
#[utoipa::path(
    get,
    path = "/api/v1/scans/{id}",
    tag = "scans",
    params(("id" = String, Path, format = Uuid, description = "the scan's id")),
    responses(
        (status = 200, description = "the scan", body = ScanView),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not see this production's scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such scan", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id is not a scan id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show_scan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ScanView>, ApiError> {
    let (scan, _) = scan_for(&state, &caller, &id, Action::ReadScans).await?;
    Ok(Json(ScanView::from(&scan)))
}

/// A recorded scan's files, by row number, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/scans/{id}/files",
    tag = "scans",
    params(
        ("id" = String, Path, format = Uuid, description = "the scan's id"),
        ("after" = Option<u64>, Query, description = "the `next` of the previous page: the last row number seen"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of the scan's files", body = ScanFilesView),
        (status = 400, description = "the query string cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not see this production's scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such scan", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the id or a parameter is not one", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn scan_files(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<RowQuery>,
) -> Result<Json<ScanFilesView>, ApiError> {
    let (scan, _) = scan_for(&state, &caller, &id, Action::ReadScans).await?;
    let ledger = state.ledger.get().await?;
    let page = ledger
        .scan_files(scan.id, page.after, page.limit.unwrap_or(100))
        .await?;
    Ok(Json(ScanFilesView {
        files: page.items.iter().map(ScanFileView::from).collect(),
        next: page.next.and_then(|n| n.parse().ok()),
    }))
}

/// Judge a batch of a recorded scan's files and record the flagged and unreadable ones.
#[utoipa::path(
    post,
    path = "/api/v1/scans/{id}/files",
    tag = "scans",
    params(("id" = String, Path, format = Uuid, description = "the scan's id")),
    request_body = FilesRequest,
    responses(
        (status = 200, description = "each file's judgement, and the rows recorded", body = JudgedView),
        (status = 400, description = "the body is not a batch", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not record this production's scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such scan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the scan is finished", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is over the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_files(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<FilesRequest>>,
) -> Result<Json<JudgedView>, ApiError> {
    let (scan, _) = scan_for(&state, &caller, &id, Action::RecordScan).await?;
    let ApiJson(request) = body.read(&state).await?;
    let files = evidence(request.files)?;
    let ledger = state.ledger.get().await?;
    let judged_batch = ledger
        .append_judged_scan_files(
            caller.login(),
            scan.id,
            &files,
            state.config.stamp_signers(),
        )
        .await?;
    Ok(Json(JudgedView {
        files: judged(&judged_batch.judgements),
        batch: judged_batch.batch.map(|b| BatchView {
            first: b.first,
            last: b.last,
            sha256: b.sha256,
        }),
    }))
}

/// Finish a recorded scan: the gate's counts and result are counted from its recorded rows.
#[utoipa::path(
    post,
    path = "/api/v1/scans/{id}/finish",
    tag = "scans",
    params(("id" = String, Path, format = Uuid, description = "the scan's id")),
    request_body = FinishRequest,
    responses(
        (status = 200, description = "the scan, complete, with the gate's result", body = ScanView),
        (status = 400, description = "the body is not the scan's counts", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "may not record this production's scans", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such scan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the scan is finished already, or files were added while it was being finished", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is over the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the counts disagree with the files posted", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn finish_scan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Later<ApiJson<FinishRequest>>,
) -> Result<Json<ScanView>, ApiError> {
    let (scan, _) = scan_for(&state, &caller, &id, Action::RecordScan).await?;
    let ApiJson(request) = body.read(&state).await?;
    let c = request.counts;
    let counts = ScanCounts {
        files: c.files,
        ai_generated: c.ai_generated,
        ai_edited: c.ai_edited,
        ai_possible: c.ai_possible,
        no_ai_evidence: c.no_ai_evidence,
        unsupported: c.unsupported,
        error: c.error,
        skipped: c.skipped,
        ..ScanCounts::default()
    };
    let ledger = state.ledger.get().await?;
    let record = ledger
        .finish_judged_scan(caller.login(), scan.id, counts)
        .await?;
    Ok(Json(ScanView::from(&record)))
}
