//! The delivery gate of `greenlight scan --production X`: every AI-flagged
//! file is matched against the production's approvals in the ledger.
//!
//! [`Gate::open`] reads the production and builds the ledger's
//! [`ApprovalIndex`] once, before the scan; [`Gate::judge`] answers for each
//! report as it arrives (no I/O: the scanner has already hashed flagged
//! files); [`Gate::finish`] records the scan, when asked, as one audited
//! ledger entry. A file fails the gate when it is `ai_generated` or
//! `ai_edited` and no approval in force covers it; with `--strict`, so do
//! `ai_possible`, unreadable and skipped files (FIFOs, devices: never read).

use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use greenlight_provenance::{C2PA_SDK_VERSION, FileReport, Signal, Summary, Verdict};
use greenlight_store::{
    ApprovalId, ApprovalIndex, Coverage, DeclarationId, NewScan, Production, ScanCounts,
    ScanRecord, ScannedFile, Standing, Timestamp,
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
    started_at: Timestamp,
    files: Vec<ScannedFile>,
    approved: u64,
    unapproved: u64,
    expired: u64,
    failing: u64,
}

impl Gate {
    /// Opens the ledger and reads the production's approvals.
    pub fn open(global: &Global, options: GateOptions, roots: &[PathBuf]) -> anyhow::Result<Gate> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let access = if options.record {
            Access::Write
        } else {
            Access::Read
        };
        let (cx, production, index) = runtime.block_on(async {
            let cx = Context::open(global, access).await?;
            let production = common::production(cx.ledger(), &options.production).await?;
            let index = cx.ledger().approval_index(production.id).await?;
            anyhow::Ok((cx, production, index))
        })?;
        let started_at = cx.ledger().now();
        Ok(Gate {
            runtime,
            cx,
            production,
            index,
            roots: roots.to_vec(),
            options,
            started_at,
            files: Vec::new(),
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

    /// Keeps a flagged or unreadable file for the record.
    fn keep(&mut self, report: &FileReport, judged: Option<(&Coverage, &Judgement)>) {
        if !self.options.record {
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
        self.files.push(ScannedFile {
            path: report.path.clone(),
            verdict: report.verdict.name().to_owned(),
            sha256: report.sha256.clone(),
            evidence,
            status: judged.map(|(c, _)| c.standing),
            approval_id: judged.and_then(|(c, _)| c.approval_id),
            declaration_id: judged.and_then(|(c, _)| c.declaration_id),
            reason,
        });
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

    /// Records the scan when asked (returning the record), and closes the ledger.
    pub fn finish(
        mut self,
        summary: &Summary,
        verified: bool,
    ) -> anyhow::Result<Option<ScanRecord>> {
        let files = std::mem::take(&mut self.files);
        let new = NewScan {
            production_id: self.production.id,
            scanner: format!(
                "greenlight {} (c2pa-rs {C2PA_SDK_VERSION})",
                env!("CARGO_PKG_VERSION")
            ),
            // Absolute, so that the record says which tree it was whatever the directory.
            roots: self
                .roots
                .iter()
                .map(|r| {
                    std::fs::canonicalize(r)
                        .unwrap_or_else(|_| r.clone())
                        .display()
                        .to_string()
                })
                .collect(),
            verified,
            strict: self.options.strict,
            passed: self.passed(),
            counts: ScanCounts {
                files: summary.files,
                ai_generated: summary.ai_generated,
                ai_edited: summary.ai_edited,
                ai_possible: summary.ai_possible,
                no_ai_evidence: summary.no_ai_evidence,
                unsupported: summary.unsupported,
                error: summary.error,
                approved: self.approved,
                unapproved: self.unapproved,
                approval_expired: self.expired,
            },
            files,
            started_at: self.started_at,
        };
        let record = self.options.record;
        let cx = self.cx;
        self.runtime.block_on(async move {
            let result = if record {
                match cx.actor() {
                    Ok(actor) => cx
                        .ledger()
                        .record_scan(actor, new)
                        .await
                        .map(Some)
                        .map_err(Into::into),
                    Err(e) => Err(e),
                }
            } else {
                Ok(None)
            };
            cx.ledger().store().close().await;
            result
        })
    }
}
