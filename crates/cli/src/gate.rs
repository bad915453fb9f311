//! The delivery gate of `greenlight scan --production X`: every AI-flagged
//! file is matched against the production's approvals in the ledger.
//!
//! [`Gate::open`] reads the production and builds the ledger's
//! [`ApprovalIndex`] once, before the scan; [`Gate::judge`] answers for each
//! report as it arrives (no I/O: the scanner has already hashed flagged
//! files). With `--record`, the scan is begun in the ledger when the gate opens, every
//! flagged, unreadable or skipped file is kept in a buffer of at most [`MAX_SCAN_BATCH`] that
//! is written as one audited batch whenever it fills, and [`Gate::finish`] writes the rest and
//! the counts: memory does not grow with the number of flagged files, and a scan that stops
//! half way stays in the ledger as `in_progress`.
//!
//! A file fails the gate when it is `ai_generated` or `ai_edited` and no approval in force
//! covers it; with `--strict`, so do `ai_possible`, unreadable and skipped files (FIFOs,
//! devices: never read).

use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use greenlight_provenance::{C2PA_SDK_VERSION, FileReport, Signal, Summary, Verdict};
use greenlight_store::{
    ApprovalId, ApprovalIndex, Coverage, DeclarationId, MAX_SCAN_BATCH, NewScan, Production,
    ScanCounts, ScanOutcome, ScanRecord, ScannedFile, Standing,
};
use serde::Serialize;

use crate::ledger::common;
use crate::ledger::{Access, Context, Global};

/// What the gate says of one file, as the scan result's `approval` field.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    /// `approved`, `unapproved` or `approval_expired`.
    pub status: Standing,
    /// The approval that covers the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<ApprovalId>,
    /// That approval's declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration_id: Option<DeclarationId>,
    /// Why, for people.
    pub reason: String,
    /// Whether this file fails the gate.
    pub fails_gate: bool,
}

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
}

/// An open gate: the ledger, the production and its approvals.
pub struct Gate {
    runtime: tokio::runtime::Runtime,
    cx: Context,
    production: Production,
    index: ApprovalIndex,
    roots: Vec<PathBuf>,
    options: GateOptions,
    /// The scan being recorded, with `--record`.
    record: Option<ScanRecord>,
    /// Files kept for the record and not yet written (fewer than a batch).
    pending: Vec<ScannedFile>,
    /// The first failure to write a batch: nothing more is written, and `finish` reports it.
    failed: Option<anyhow::Error>,
    approved: u64,
    unapproved: u64,
    expired: u64,
    failing: u64,
}

impl Gate {
    /// Opens the ledger and reads the production's approvals.
    /// With `--record`, begins the scan's record (`verified`: C2PA manifests are validated).
    pub fn open(
        global: &Global,
        options: GateOptions,
        roots: &[PathBuf],
        verified: bool,
    ) -> anyhow::Result<Gate> {
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
                    scanner: format!(
                        "greenlight {} (c2pa-rs {C2PA_SDK_VERSION})",
                        env!("CARGO_PKG_VERSION")
                    ),
                    // Absolute, so that the record says which tree it was whatever the directory.
                    roots: roots
                        .iter()
                        .map(|r| {
                            std::fs::canonicalize(r)
                                .unwrap_or_else(|_| r.clone())
                                .display()
                                .to_string()
                        })
                        .collect(),
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
        Ok(Gate {
            runtime,
            cx,
            production,
            index,
            roots: roots.to_vec(),
            options,
            record,
            pending: Vec::new(),
            failed: None,
            approved: 0,
            unapproved: 0,
            expired: 0,
            failing: 0,
        })
    }

    /// The production.
    pub fn production(&self) -> &Production {
        &self.production
    }

    /// The approvals read, and stored scopes that could not be used.
    pub fn index(&self) -> &ApprovalIndex {
        &self.index
    }

    /// Whether the exit code follows the gate.
    pub fn enforced(&self) -> bool {
        self.options.enforce
    }

    /// Whether ai_possible and unreadable files are gated too.
    pub fn strict(&self) -> bool {
        self.options.strict
    }

    /// (approved, unapproved, approval expired, failing) so far.
    pub fn counts(&self) -> (u64, u64, u64, u64) {
        (self.approved, self.unapproved, self.expired, self.failing)
    }

    /// Whether flagged files must be hashed: some approval is scoped by content hash, or the
    /// scan is recorded (the record keeps each flagged file's hash).
    pub fn needs_hashes(&self) -> bool {
        self.options.record || self.index.has_hashes()
    }

    /// Whether no file has failed the gate.
    pub fn passed(&self) -> bool {
        self.failing == 0
    }

    /// Judges one report: `None` for files the gate does not look at
    /// (no evidence of AI, unsupported containers, and unreadable files
    /// unless strict).
    pub fn judge(&mut self, report: &FileReport) -> Option<Judgement> {
        let gated = match report.verdict {
            Verdict::AiGenerated | Verdict::AiEdited => true,
            Verdict::AiPossible => self.options.strict,
            Verdict::Error | Verdict::Skipped => {
                if !self.options.strict {
                    self.keep(report, None);
                    return None;
                }
                true
            }
            Verdict::NoAiEvidence | Verdict::Unsupported => return None,
        };
        let relative = self.relative(&report.path);
        let shown = report.path.trim_start_matches("./");
        let mut paths = vec![shown];
        if let Some(rel) = relative.as_deref()
            && rel != shown
        {
            paths.insert(0, rel);
        }
        let coverage = self.index.cover(&paths, report.sha256.as_deref());
        match coverage.standing {
            Standing::Approved => self.approved += 1,
            Standing::Unapproved => self.unapproved += 1,
            Standing::ApprovalExpired => self.expired += 1,
        }
        let fails_gate = gated && coverage.standing != Standing::Approved;
        if fails_gate {
            self.failing += 1;
        }
        let mut reason = coverage.reason.clone();
        if report.verdict == Verdict::Error && coverage.standing != Standing::Approved {
            reason =
                format!("the file could not be read, so the gate cannot vouch for it; {reason}");
        } else if report.verdict == Verdict::Skipped && coverage.standing != Standing::Approved {
            reason = format!(
                "not a regular file, so it was not read and the gate cannot vouch for it; {reason}"
            );
        } else if !gated && coverage.standing != Standing::Approved {
            reason = format!("{reason} (weak signals only: --strict gates them)");
        }
        let judgement = Judgement {
            status: coverage.standing,
            approval_id: coverage.approval_id,
            declaration_id: coverage.declaration_id,
            reason,
            fails_gate,
        };
        self.keep(report, Some((&coverage, &judgement)));
        Some(judgement)
    }

    /// Keeps a flagged or unreadable file for the record, writing a batch when the buffer
    /// is full.
    fn keep(&mut self, report: &FileReport, judged: Option<(&Coverage, &Judgement)>) {
        if self.record.is_none() || self.failed.is_some() {
            return;
        }
        let evidence = report
            .evidence
            .iter()
            .filter(|e| e.signal > Signal::Context)
            .map(|e| format!("{}: {} [{}]", common::name_of(&e.kind), e.detail, e.source))
            .collect();
        let reason = match (judged, &report.error) {
            (Some((_, j)), _) => j.reason.clone(),
            (None, Some(e)) => e.clone(),
            (None, None) => report.notes.join("; "),
        };
        self.pending.push(ScannedFile {
            path: report.path.clone(),
            verdict: report.verdict.name().to_owned(),
            sha256: report.sha256.clone(),
            evidence,
            status: judged.map(|(c, _)| c.standing),
            approval_id: judged.and_then(|(c, _)| c.approval_id),
            declaration_id: judged.and_then(|(c, _)| c.declaration_id),
            reason,
        });
        if self.pending.len() >= MAX_SCAN_BATCH {
            self.flush();
        }
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

    /// The path relative to the root it was found under, with `/` separators.
    fn relative(&self, path: &str) -> Option<String> {
        let path = Path::new(path);
        for root in &self.roots {
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

    /// Writes the last batch and the counts when recording (returning the record), and
    /// closes the ledger. When a batch could not be written, the scan is left in progress
    /// and the error says so.
    pub fn finish(mut self, summary: &Summary) -> anyhow::Result<Option<ScanRecord>> {
        self.flush();
        let outcome = ScanOutcome {
            passed: self.passed(),
            counts: ScanCounts {
                files: summary.files,
                ai_generated: summary.ai_generated,
                ai_edited: summary.ai_edited,
                ai_possible: summary.ai_possible,
                no_ai_evidence: summary.no_ai_evidence,
                unsupported: summary.unsupported,
                error: summary.error,
                skipped: summary.skipped,
                approved: self.approved,
                unapproved: self.unapproved,
                approval_expired: self.expired,
            },
        };
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
                        .map(Some)
                        .map_err(anyhow::Error::from),
                    Err(e) => Err(e),
                },
            };
            cx.ledger().store().close().await;
            result
        })
    }
}
