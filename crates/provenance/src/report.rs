//! The per-file scan result and its JSON shape (a public contract, see the project's design
//! notes): `path`, `format`, `verdict`, `evidence`, `c2pa`, plus notes and errors.

use crate::evidence::{Evidence, Signal, strongest};
use crate::manifest::C2paSummary;
use serde::Serialize;

/// The verdict for one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The file declares it was made by generative AI.
    AiGenerated,
    /// The file declares generative AI edited it or contributed part of it.
    AiEdited,
    /// Only weak signals of generative AI.
    AiPossible,
    /// Nothing found. Never "clean": stripped metadata shows nothing.
    NoAiEvidence,
    /// The container is not one the scanner reads.
    Unsupported,
    /// The file could not be read (see `error`).
    Error,
    /// Not a regular file (a FIFO, a socket, a device): never opened, reported with its kind
    /// in `notes`.
    Skipped,
}

impl Verdict {
    /// The name used in scan results.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::AiGenerated => "ai_generated",
            Verdict::AiEdited => "ai_edited",
            Verdict::AiPossible => "ai_possible",
            Verdict::NoAiEvidence => "no_ai_evidence",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
            Verdict::Skipped => "skipped",
        }
    }

    /// Whether the verdict flags generative AI (generated or edited).
    pub fn is_ai(self) -> bool {
        matches!(self, Verdict::AiGenerated | Verdict::AiEdited)
    }

    /// Whether any signal of generative AI was found, weak ones included.
    pub fn is_flagged(self) -> bool {
        matches!(
            self,
            Verdict::AiGenerated | Verdict::AiEdited | Verdict::AiPossible
        )
    }

    /// The verdict that a set of evidence supports.
    pub fn from_evidence(evidence: &[Evidence]) -> Verdict {
        match strongest(evidence) {
            Signal::Generated => Verdict::AiGenerated,
            Signal::Edited => Verdict::AiEdited,
            Signal::Possible => Verdict::AiPossible,
            Signal::Context => Verdict::NoAiEvidence,
        }
    }
}

/// The scan result for one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The path as given or found by the walk.
    pub path: String,
    /// The container, recognised by magic bytes (`null` when unknown).
    pub format: Option<&'static str>,
    /// The verdict.
    pub verdict: Verdict,
    /// Every piece of evidence found.
    pub evidence: Vec<Evidence>,
    /// C2PA findings.
    pub c2pa: C2paSummary,
    /// Facts that are not evidence (for example "format cannot carry C2PA").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the file could not be read (with `verdict: error`) or was read only in part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Bytes read from the file by the container reader.
    pub bytes_read: u64,
    /// The sha256 of the whole file (lowercase hex), when the scan was asked to hash flagged
    /// files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl FileReport {
    /// A report for a file that could not be read at all.
    pub fn error(path: String, message: String) -> Self {
        Self {
            path,
            format: None,
            verdict: Verdict::Error,
            evidence: Vec::new(),
            c2pa: C2paSummary::default(),
            notes: Vec::new(),
            error: Some(message),
            bytes_read: 0,
            sha256: None,
        }
    }

    /// A report for a path that is not a regular file (`kind` is "FIFO", "socket", …): it was
    /// not opened.
    pub fn skipped(path: String, kind: &str) -> Self {
        Self {
            path,
            format: None,
            verdict: Verdict::Skipped,
            evidence: Vec::new(),
            c2pa: C2paSummary::default(),
            notes: vec![format!("not a regular file: {kind}, not opened")],
            error: None,
            bytes_read: 0,
            sha256: None,
        }
    }
}

/// Counts over a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files reported (skipped paths included).
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
    /// `skipped` paths (not regular files: FIFOs, sockets, devices).
    pub skipped: u64,
    /// Files carrying a C2PA manifest store.
    pub with_c2pa: u64,
    /// Symbolic links skipped (not followed).
    pub symlinks_skipped: u64,
    /// Bytes read by container readers.
    pub bytes_read: u64,
}

impl Summary {
    /// Adds one report.
    pub fn add(&mut self, r: &FileReport) {
        self.files = self.files.saturating_add(1);
        let slot = match r.verdict {
            Verdict::AiGenerated => &mut self.ai_generated,
            Verdict::AiEdited => &mut self.ai_edited,
            Verdict::AiPossible => &mut self.ai_possible,
            Verdict::NoAiEvidence => &mut self.no_ai_evidence,
            Verdict::Unsupported => &mut self.unsupported,
            Verdict::Error => &mut self.error,
            Verdict::Skipped => &mut self.skipped,
        };
        *slot = slot.saturating_add(1);
        if r.c2pa.present {
            self.with_c2pa = self.with_c2pa.saturating_add(1);
        }
        self.bytes_read = self.bytes_read.saturating_add(r.bytes_read);
    }
}

impl std::fmt::Display for FileReport {
    /// One line for people: `path: verdict (format) c2pa=…`, then one indented line per
    /// piece of evidence.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.path,
            self.verdict.name(),
            self.format.unwrap_or("unknown format")
        )?;
        if self.c2pa.present || self.c2pa.integrity != crate::manifest::Integrity::None {
            let integrity = serde_json::to_value(self.c2pa.integrity).unwrap_or_default();
            let trust = serde_json::to_value(self.c2pa.trust).unwrap_or_default();
            write!(
                f,
                " c2pa: {} / {}",
                integrity.as_str().unwrap_or("?"),
                trust.as_str().unwrap_or("?")
            )?;
        }
        if let Some(e) = &self.error {
            write!(f, " error: {e}")?;
        }
        if self.verdict == Verdict::Skipped {
            for n in &self.notes {
                write!(f, " {n}")?;
            }
        }
        for e in &self.evidence {
            write!(f, "\n  {} [{}]", e.detail, e.source)?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files: {} ai_generated, {} ai_edited, {} ai_possible, {} no_ai_evidence, {} unsupported, {} error, {} skipped; {} with C2PA",
            self.files,
            self.ai_generated,
            self.ai_edited,
            self.ai_possible,
            self.no_ai_evidence,
            self.unsupported,
            self.error,
            self.skipped,
            self.with_c2pa
        )
    }
}
