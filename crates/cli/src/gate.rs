//! The delivery gate of `greenlight scan --production X`: every AI-flagged
//! file is matched against the production's approvals in the ledger.
//!
//! The judgment itself (which files are gated, each file's standing, the counts, pass or
//! fail, `--strict`) is `greenlight_store::GateRun`'s; this module only feeds it, in one of
//! two ways:
//!
//! - **Local** (`--db`): [`Gate::open`] reads the production and builds the ledger's
//!   `ApprovalIndex` once, before the scan, and each report is judged as it arrives (no
//!   I/O: the scanner has already hashed flagged files). With `--record`, the scan is begun
//!   in the ledger when the gate opens, every flagged, unreadable or skipped file is kept in
//!   a buffer of at most [`MAX_SCAN_BATCH`] that is written as one audited batch whenever it
//!   fills, and [`Gate::finish`] writes the rest and the counts: memory does not grow with
//!   the number of flagged files, and a scan that stops half way stays in the ledger as
//!   `in_progress`.
//! - **Remote** (`--server URL --token T`): the same, through the server's API
//!   ([`crate::remote`]): evidence is posted in batches and each file's judgement comes back
//!   from the server, which runs the same `GateRun` on its ledger.
//!
//! A file fails the gate when it is `ai_generated` or `ai_edited` and no approval in force
//! covers it; with `--strict`, so do `ai_possible`, unreadable and skipped files (FIFOs,
//! devices: never read).

use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use greenlight_provenance::{C2PA_SDK_VERSION, FileReport, Kind, Signal, Summary, Verdict};
use greenlight_store::{
    EvidenceItem, FileEvidence, FileVerdict, GateRun, GateTally, Judgement, MAX_SCAN_BATCH,
    NewScan, ScanCounts, ScanRecord, ScannedFile,
};

use crate::ledger::common;
use crate::ledger::{Access, Context, Global};
use crate::remote::{Remote, Server};

/// The options of the gate, from the scan's flags.
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// The production, by id or exact title.
    pub production: String,
    /// Fail the exit code on unapproved files.
    pub enforce: bool,
    /// Also gate `ai_possible` and unreadable files.
    pub strict: bool,
    /// Record the scan in the ledger.
    pub record: bool,
    /// Ask this server instead of opening the ledger.
    pub server: Option<Server>,
}

/// What the summary says of the production and its approvals.
#[derive(Debug, Clone)]
pub struct GateHeader {
    /// The production's id.
    pub production_id: String,
    /// Its title.
    pub title: String,
    /// Approvals and rejections given.
    pub approvals: usize,
    /// Approvals in force.
    pub in_force: usize,
    /// Stored scopes that could not be used.
    pub problems: Vec<String>,
    /// Whether some approval names files by content hash.
    pub hashes: bool,
}

/// A recorded scan, as the closing line names it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The scan's id.
    pub id: String,
    /// Its production's id.
    pub production_id: String,
    /// Whether the gate passed, as recorded.
    pub passed: bool,
}

/// Where a judged report goes: printed by the caller.
pub type Emit<'a> = dyn FnMut(&FileReport, Option<&Judgement>) + 'a;

/// An open gate, on the ledger or on a server.
pub enum Gate {
    /// On the ledger `--db` names.
    Local(Box<Local>),
    /// Through a server's API.
    Remote(Box<Remote>),
}

impl Gate {
    /// Opens the ledger (or asks the server) and reads the production's approvals.
    /// With `--record`, begins the scan's record (`verified`: C2PA manifests are validated).
    pub fn open(
        global: &Global,
        options: GateOptions,
        roots: &[PathBuf],
        verified: bool,
    ) -> anyhow::Result<Gate> {
        match options.server.clone() {
            Some(server) => Ok(Gate::Remote(Box::new(Remote::open(
                server, options, roots, verified,
            )?))),
            None => Ok(Gate::Local(Box::new(Local::open(
                global, options, roots, verified,
            )?))),
        }
    }

    /// The production and its approvals.
    pub fn header(&self) -> &GateHeader {
        match self {
            Gate::Local(g) => &g.header,
            Gate::Remote(g) => g.header(),
        }
    }

    fn options(&self) -> &GateOptions {
        match self {
            Gate::Local(g) => &g.options,
            Gate::Remote(g) => g.options(),
        }
    }

    /// Whether the exit code follows the gate.
    pub fn enforced(&self) -> bool {
        self.options().enforce
    }

    /// Whether ai_possible and unreadable files are gated too.
    pub fn strict(&self) -> bool {
        self.options().strict
    }

    /// Whether flagged files must be hashed: some approval is scoped by content hash, or the
    /// scan is recorded (the record keeps each flagged file's hash).
    pub fn needs_hashes(&self) -> bool {
        self.options().record || self.header().hashes
    }

    /// How the judged files stand so far.
    pub fn tally(&self) -> GateTally {
        match self {
            Gate::Local(g) => *g.run.tally(),
            Gate::Remote(g) => g.tally(),
        }
    }

    /// Whether some files went unjudged (a call to the server failed).
    pub fn incomplete(&self) -> bool {
        match self {
            Gate::Local(_) => false,
            Gate::Remote(g) => g.incomplete(),
        }
    }

    /// Takes one report: `emit` is called with it and its judgement (`None` for files the
    /// gate does not look at), now or, on a server, when its batch has been judged.
    pub fn take(&mut self, report: FileReport, emit: &mut Emit<'_>) {
        match self {
            Gate::Local(g) => g.take(&report, emit),
            Gate::Remote(g) => g.take(report, emit),
        }
    }

    /// Judges what is still waiting (a server's last batch), before the summary.
    pub fn drain(&mut self, emit: &mut Emit<'_>) {
        if let Gate::Remote(g) = self {
            g.flush(emit);
        }
    }

    /// Writes the last batch and the counts when recording (returning the record), and
    /// closes the ledger. When a batch could not be written, the scan is left in progress
    /// and the error says so.
    pub fn finish(self, summary: &Summary) -> anyhow::Result<Option<Recorded>> {
        match self {
            Gate::Local(g) => g.finish(summary),
            Gate::Remote(g) => g.finish(summary),
        }
    }
}

/// The gate on a ledger opened here.
pub struct Local {
    runtime: tokio::runtime::Runtime,
    cx: Context,
    header: GateHeader,
    run: GateRun,
    roots: Vec<PathBuf>,
    options: GateOptions,
    /// The scan being recorded, with `--record`.
    record: Option<ScanRecord>,
    /// Files kept for the record and not yet written (fewer than a batch).
    pending: Vec<ScannedFile>,
    /// The first failure to write a batch: nothing more is written, and `finish` reports it.
    failed: Option<anyhow::Error>,
}

/// The name and version a recorded scan names as its scanner.
pub fn scanner_name() -> String {
    format!(
        "greenlight {} (c2pa-rs {C2PA_SDK_VERSION})",
        env!("CARGO_PKG_VERSION")
    )
}

/// The scanned roots as a record keeps them: absolute, so that the record says which tree
/// it was whatever the directory.
pub fn absolute_roots(roots: &[PathBuf]) -> Vec<String> {
    roots
        .iter()
        .map(|r| {
            std::fs::canonicalize(r)
                .unwrap_or_else(|_| r.clone())
                .display()
                .to_string()
        })
        .collect()
}

impl Local {
    fn open(
        global: &Global,
        options: GateOptions,
        roots: &[PathBuf],
        verified: bool,
    ) -> anyhow::Result<Local> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let access = if options.record {
            Access::Write
        } else {
            Access::Read
        };
        let (cx, production, index, record) = runtime.block_on(async {
            let cx = Context::open(global, access).await?;
            let production = common::production(cx.ledger(), &options.production).await?;
            let index = cx.ledger().approval_index(production.id).await?;
            let record = if options.record {
                let new = NewScan {
                    production_id: production.id,
                    scanner: scanner_name(),
                    roots: absolute_roots(roots),
                    verified,
                    strict: options.strict,
                    started_at: cx.ledger().now(),
                };
                Some(cx.ledger().begin_scan(cx.actor()?, new).await?)
            } else {
                None
            };
            anyhow::Ok((cx, production, index, record))
        })?;
        let header = GateHeader {
            production_id: production.id.to_string(),
            title: production.title.clone(),
            approvals: index.len(),
            in_force: index.in_force(),
            problems: index.problems().to_vec(),
            hashes: index.has_hashes(),
        };
        Ok(Local {
            runtime,
            cx,
            header,
            run: GateRun::new(index, options.strict),
            roots: roots.to_vec(),
            options,
            record,
            pending: Vec::new(),
            failed: None,
        })
    }

    fn take(&mut self, report: &FileReport, emit: &mut Emit<'_>) {
        let evidence = evidence_of(report, &self.roots);
        if !evidence.kept() {
            emit(report, None);
            return;
        }
        let judgement = self.run.judge(&evidence);
        if self.record.is_some()
            && self.failed.is_none()
            && let Some(row) = GateRun::row(&evidence, judgement.as_ref())
        {
            self.pending.push(row);
            if self.pending.len() >= MAX_SCAN_BATCH {
                self.flush();
            }
        }
        emit(report, judgement.as_ref());
    }

    /// Writes the kept files as one batch of the record.
    fn flush(&mut self) {
        let Some(record) = &self.record else { return };
        if self.pending.is_empty() || self.failed.is_some() {
            return;
        }
        let (cx, id, files) = (&self.cx, record.id, &self.pending);
        let written = self.runtime.block_on(async {
            cx.ledger()
                .append_scan_files(cx.actor()?, id, files)
                .await
                .map_err(anyhow::Error::from)
        });
        self.pending.clear();
        if let Err(e) = written {
            self.failed = Some(e);
        }
    }

    fn finish(mut self, summary: &Summary) -> anyhow::Result<Option<Recorded>> {
        self.flush();
        let outcome = self.run.outcome(&counts_of(summary));
        let (cx, record, failed) = (self.cx, self.record, self.failed);
        self.runtime.block_on(async move {
            let result = match (record, failed) {
                (None, _) => Ok(None),
                (Some(record), Some(e)) => Err(e.context(format!(
                    "cannot record the files of scan {}: it stays in progress in the ledger",
                    record.id
                ))),
                (Some(record), None) => match cx.actor() {
                    Ok(actor) => cx
                        .ledger()
                        .finish_scan(actor, record.id, outcome)
                        .await
                        .map(|r| {
                            Some(Recorded {
                                id: r.id.to_string(),
                                production_id: r.scan.production_id.to_string(),
                                passed: r.passed,
                            })
                        })
                        .map_err(anyhow::Error::from),
                    Err(e) => Err(e),
                },
            };
            cx.ledger().store().close().await;
            result
        })
    }
}

/// The gate's name for the scanner's verdict.
pub fn verdict_of(verdict: Verdict) -> FileVerdict {
    match verdict {
        Verdict::AiGenerated => FileVerdict::AiGenerated,
        Verdict::AiEdited => FileVerdict::AiEdited,
        Verdict::AiPossible => FileVerdict::AiPossible,
        Verdict::NoAiEvidence => FileVerdict::NoAiEvidence,
        Verdict::Unsupported => FileVerdict::Unsupported,
        Verdict::Error => FileVerdict::Error,
        Verdict::Skipped => FileVerdict::Skipped,
    }
}

/// What the gate is told of a report: paths, hash, verdict, the evidence that gave the
/// verdict (context items left out, but for stamps), the error and notes. Never the file's content.
pub fn evidence_of(report: &FileReport, roots: &[PathBuf]) -> FileEvidence {
    FileEvidence {
        path: report.path.clone(),
        relative_path: relative(&report.path, roots),
        verdict: verdict_of(report.verdict),
        sha256: report.sha256.clone(),
        evidence: report
            .evidence
            .iter()
            // A stamp is context, but the gate judges by it (its approval, signer and
            // signature), here and on a server.
            .filter(|e| e.signal > Signal::Context || e.kind == Kind::GreenlightStamp)
            .map(|e| EvidenceItem {
                kind: common::name_of(&e.kind),
                detail: e.detail.clone(),
                source: e.source.clone(),
            })
            .collect(),
        error: report.error.clone(),
        notes: report.notes.clone(),
    }
}

/// The scanner's counts of verdicts, as a record keeps them (the gate adds its own).
pub fn counts_of(summary: &Summary) -> ScanCounts {
    ScanCounts {
        files: summary.files,
        ai_generated: summary.ai_generated,
        ai_edited: summary.ai_edited,
        ai_possible: summary.ai_possible,
        no_ai_evidence: summary.no_ai_evidence,
        unsupported: summary.unsupported,
        error: summary.error,
        skipped: summary.skipped,
        ..ScanCounts::default()
    }
}

/// The path relative to the root it was found under, with `/` separators.
fn relative(path: &str, roots: &[PathBuf]) -> Option<String> {
    let path = Path::new(path);
    for root in roots {
        if path == root.as_path() {
            return path.file_name().map(|n| n.to_string_lossy().into_owned());
        }
        if let Ok(rest) = path.strip_prefix(root) {
            let parts: Vec<String> = rest
                .components()
                .filter_map(|c| match c {
                    Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            return Some(parts.join("/"));
        }
    }
    None
}
