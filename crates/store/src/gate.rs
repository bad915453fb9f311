//! The delivery gate's question: does an approval cover this file?
//!
//! An [`ApprovalIndex`] holds every approval of one production with its state
//! at one instant (in force, expired, superseded by a newer version of its
//! declaration, or withdrawn because the declaration is blocked since) and its
//! scope compiled: path globs into one matcher each, content hashes as they
//! are. [`ApprovalIndex::cover`] answers for one file; it does no I/O.
//!
//! A glob matches a path with `/` separators; `*` and `?` never cross a `/`,
//! `**` does (`VFX/ep103/**/*.exr`). The caller passes every form of the path
//! it knows (relative to the scanned directory, and as printed); any match
//! counts.
//!
//! A [`GateRun`] is the gate's judgment over one delivery, the same whether the
//! scan runs beside the ledger (`greenlight scan --production X`) or posts its
//! evidence to a server (`--server URL`): which files it looks at
//! ([`gated`]), each file's [`Judgement`], the counts, pass or fail, and the
//! row a recorded scan keeps for a file ([`GateRun::row`]). It is told of a
//! file by its [`FileEvidence`]: paths, hash, verdict and evidence, never its
//! content.

use std::fmt;

use globset::{Glob, GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::ids::{ApprovalId, DeclarationId};
use crate::records::{
    Approval, AssetScope, ScanCounts, ScanOutcome, ScannedFile, Standing, Verdict,
};
use crate::time::Timestamp;

/// Compiles an approval's path glob as the gate matches it.
pub fn compile_glob(glob: &str) -> Result<Glob, String> {
    // `./VFX/**` means what `VFX/**` means: paths are matched without a leading `./`.
    let mut text = glob.trim();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("`{glob}` is not a path glob: {}", e.kind()))
}

/// Where an approval stands at the instant the index was built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalState {
    /// Approved, unexpired, on its declaration's current decision.
    InForce,
    /// Its expiry has passed.
    Expired {
        /// When it lapsed.
        at: Timestamp,
    },
    /// Its declaration was declared again, or triaged again, since.
    Superseded,
    /// Its declaration's current decision is blocked (e.g. a consent was revoked).
    Withdrawn,
    /// A rejection, not an approval.
    Rejected,
}

impl fmt::Display for ApprovalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApprovalState::InForce => f.write_str("in force"),
            ApprovalState::Expired { at } => write!(f, "expired {at}"),
            ApprovalState::Superseded => {
                f.write_str("superseded: its declaration was declared or triaged again since")
            }
            ApprovalState::Withdrawn => f.write_str("withdrawn: its declaration is blocked since"),
            ApprovalState::Rejected => f.write_str("a rejection"),
        }
    }
}

/// How one file stands, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Approved, unapproved or approval expired.
    pub standing: Standing,
    /// The approval that covers the file (for an expired one, that approval).
    pub approval_id: Option<ApprovalId>,
    /// That approval's declaration.
    pub declaration_id: Option<DeclarationId>,
    /// One sentence for people.
    pub reason: String,
}

struct Entry {
    approval: Approval,
    state: ApprovalState,
    globs: Vec<(String, GlobMatcher)>,
    hashes: Vec<String>,
}

impl Entry {
    /// The scope item that covers the file, if any.
    fn covers(&self, paths: &[&str], sha256: Option<&str>) -> Option<String> {
        if let Some(hash) = sha256
            && self.hashes.iter().any(|h| h.eq_ignore_ascii_case(hash))
        {
            return Some(format!("sha256:{hash}"));
        }
        self.globs
            .iter()
            .find(|(_, m)| paths.iter().any(|p| m.is_match(p)))
            .map(|(text, _)| format!("glob `{text}`"))
    }
}

/// Every approval of a production, ready to match files against.
#[derive(Default)]
pub struct ApprovalIndex {
    entries: Vec<Entry>,
    problems: Vec<String>,
}

impl fmt::Debug for ApprovalIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApprovalIndex")
            .field("approvals", &self.entries.len())
            .field("problems", &self.problems)
            .finish()
    }
}

impl ApprovalIndex {
    /// Adds an approval in its state. A stored glob that does not compile is
    /// left out and named in [`ApprovalIndex::problems`].
    pub fn add(&mut self, approval: Approval, state: ApprovalState) {
        let mut globs = Vec::new();
        let mut hashes = Vec::new();
        for scope in &approval.scope {
            match scope {
                AssetScope::Glob(text) => match compile_glob(text) {
                    Ok(glob) => globs.push((text.clone(), glob.compile_matcher())),
                    Err(e) => self
                        .problems
                        .push(format!("approval {}: {e}; it covers nothing", approval.id)),
                },
                AssetScope::Sha256(hash) => hashes.push(hash.clone()),
            }
        }
        self.entries.push(Entry {
            approval,
            state,
            globs,
            hashes,
        });
    }

    /// How many approvals and rejections the index holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many are in force.
    pub fn in_force(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.state == ApprovalState::InForce)
            .count()
    }

    /// Whether some approval is scoped by content hash (so files need hashing).
    pub fn has_hashes(&self) -> bool {
        self.entries.iter().any(|e| !e.hashes.is_empty())
    }

    /// Stored scopes that could not be used.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// How a file stands. `paths` are the forms of its path to match globs
    /// against; `sha256` its content hash, when known.
    pub fn cover(&self, paths: &[&str], sha256: Option<&str>) -> Coverage {
        let mut lapsed: Option<(&Entry, String)> = None;
        let mut void: Option<(&Entry, String)> = None;
        for entry in &self.entries {
            let Some(by) = entry.covers(paths, sha256) else {
                continue;
            };
            match entry.state {
                ApprovalState::InForce => {
                    let a = &entry.approval;
                    let until = a
                        .expires_at
                        .map_or_else(String::new, |end| format!(", until {end}"));
                    return Coverage {
                        standing: Standing::Approved,
                        approval_id: Some(a.id),
                        declaration_id: Some(a.declaration_id),
                        reason: format!(
                            "approved by {} on {} ({by}{until})",
                            a.reviewer, a.decided_at
                        ),
                    };
                }
                ApprovalState::Expired { .. } => {
                    if lapsed.is_none() {
                        lapsed = Some((entry, by));
                    }
                }
                _ => {
                    if void.is_none() {
                        void = Some((entry, by));
                    }
                }
            }
        }
        if let Some((entry, by)) = lapsed {
            let a = &entry.approval;
            return Coverage {
                standing: Standing::ApprovalExpired,
                approval_id: Some(a.id),
                declaration_id: Some(a.declaration_id),
                reason: format!(
                    "approval {} ({by}) {}; the declaration needs a new review",
                    a.id, entry.state
                ),
            };
        }
        if let Some((entry, by)) = void {
            let a = &entry.approval;
            let reason = if a.verdict == Verdict::Rejected {
                format!(
                    "rejected by {} on {} ({by}): {}",
                    a.reviewer, a.decided_at, a.note
                )
            } else {
                format!(
                    "approval {} ({by}) is {}; the declaration needs a new review",
                    a.id, entry.state
                )
            };
            return Coverage {
                standing: Standing::Unapproved,
                approval_id: None,
                declaration_id: Some(a.declaration_id),
                reason,
            };
        }
        Coverage {
            standing: Standing::Unapproved,
            approval_id: None,
            declaration_id: None,
            reason: "no approval of this production covers it".to_owned(),
        }
    }
}

/// The evidence kind of a greenlight stamp, as the scanner names it.
pub const STAMP_EVIDENCE: &str = "greenlight_stamp";

/// A greenlight stamp as a file's evidence tells of it: the item's detail reads `approval ID,
/// signature valid|tampered, signer trusted|untrusted, signed by SUBJECT (sha256 HEX)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StampClaim {
    /// The approval it names, when that is an approval id.
    pub approval_id: Option<ApprovalId>,
    /// Whether its signature and the media's hashes verified.
    pub valid: bool,
    /// Whether its signer is on the scanner's trust list.
    pub trusted: bool,
    /// Who signed it, as the scanner printed it.
    pub signer: String,
}

impl StampClaim {
    /// The stamp an evidence item tells of, if it is one.
    pub fn read(item: &EvidenceItem) -> Option<StampClaim> {
        if item.kind != STAMP_EVIDENCE {
            return None;
        }
        let mut parts = item.detail.splitn(4, ", ");
        let approval = parts.next()?.strip_prefix("approval ")?;
        let signature = parts.next()?.strip_prefix("signature ")?;
        let signer = parts.next()?.strip_prefix("signer ")?;
        let by = parts.next().unwrap_or_default();
        Some(StampClaim {
            approval_id: approval.parse().ok(),
            // Anything but a plain `valid` counts as not verified.
            valid: signature == "valid",
            trusted: signer == "trusted",
            signer: by
                .strip_prefix("signed by ")
                .unwrap_or(by)
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

impl ApprovalIndex {
    /// How a file stands by its stamps: `None` when it carries none that speaks (no stamp,
    /// or only stamps whose signer is not trusted or whose approval is not this
    /// production's). A stamp that does not verify leaves the file unapproved, whatever else
    /// covers it: the file changed after it was stamped.
    pub fn cover_stamps(&self, stamps: &[StampClaim]) -> Option<Coverage> {
        if let Some(bad) = stamps.iter().find(|s| !s.valid) {
            let named = bad
                .approval_id
                .map_or_else(String::new, |id| format!(" of approval {id}"));
            return Some(Coverage {
                standing: Standing::Unapproved,
                approval_id: None,
                declaration_id: None,
                reason: format!(
                    "tampered: the stamp{named} does not verify, so the file or its manifest changed after it was signed"
                ),
            });
        }
        let mut found: Option<Coverage> = None;
        for stamp in stamps.iter().filter(|s| s.trusted) {
            let Some(id) = stamp.approval_id else {
                continue;
            };
            let Some(entry) = self.entries.iter().find(|e| e.approval.id == id) else {
                continue;
            };
            let a = &entry.approval;
            let coverage = match &entry.state {
                ApprovalState::InForce => Coverage {
                    standing: Standing::Approved,
                    approval_id: Some(a.id),
                    declaration_id: Some(a.declaration_id),
                    reason: format!(
                        "approved by {} on {} (stamp signed by {}{})",
                        a.reviewer,
                        a.decided_at,
                        stamp.signer,
                        a.expires_at
                            .map_or_else(String::new, |end| format!(", until {end}"))
                    ),
                },
                ApprovalState::Expired { .. } => Coverage {
                    standing: Standing::ApprovalExpired,
                    approval_id: Some(a.id),
                    declaration_id: Some(a.declaration_id),
                    reason: format!(
                        "the stamped approval {} {}; the declaration needs a new review",
                        a.id, entry.state
                    ),
                },
                state => Coverage {
                    standing: Standing::Unapproved,
                    approval_id: None,
                    declaration_id: Some(a.declaration_id),
                    reason: format!(
                        "the stamped approval {} is {state}; the declaration needs a new review",
                        a.id
                    ),
                },
            };
            let better = match &found {
                None => true,
                Some(f) => rank(coverage.standing) > rank(f.standing),
            };
            if better {
                found = Some(coverage);
            }
        }
        found
    }
}

fn rank(s: Standing) -> u8 {
    match s {
        Standing::Approved => 2,
        Standing::ApprovalExpired => 1,
        Standing::Unapproved => 0,
    }
}

/// What the scanner said of a file, as the gate reads it (the scan result's `verdict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileVerdict {
    /// Made by generative AI.
    AiGenerated,
    /// Edited with generative AI.
    AiEdited,
    /// Weak signals only.
    AiPossible,
    /// No evidence of generative AI.
    NoAiEvidence,
    /// A container the scanner does not read.
    Unsupported,
    /// The file could not be read.
    Error,
    /// Not a regular file (a FIFO, a device): never opened.
    Skipped,
}

impl FileVerdict {
    /// Every verdict.
    pub const ALL: [FileVerdict; 7] = [
        FileVerdict::AiGenerated,
        FileVerdict::AiEdited,
        FileVerdict::AiPossible,
        FileVerdict::NoAiEvidence,
        FileVerdict::Unsupported,
        FileVerdict::Error,
        FileVerdict::Skipped,
    ];

    /// The name used in scan results and records.
    pub fn as_str(self) -> &'static str {
        match self {
            FileVerdict::AiGenerated => "ai_generated",
            FileVerdict::AiEdited => "ai_edited",
            FileVerdict::AiPossible => "ai_possible",
            FileVerdict::NoAiEvidence => "no_ai_evidence",
            FileVerdict::Unsupported => "unsupported",
            FileVerdict::Error => "error",
            FileVerdict::Skipped => "skipped",
        }
    }

    /// The verdict of that name.
    pub fn from_name(name: &str) -> Option<FileVerdict> {
        FileVerdict::ALL.into_iter().find(|v| v.as_str() == name)
    }

    /// Whether a recorded scan keeps a row for a file with this verdict: flagged (AI, weak
    /// signals) and unreadable or skipped files are kept, the others only counted.
    pub fn is_kept(self) -> bool {
        !matches!(self, FileVerdict::NoAiEvidence | FileVerdict::Unsupported)
    }
}

/// Whether a file with `verdict` fails the gate when no approval in force covers it:
/// `ai_generated` and `ai_edited` always; with `strict`, also `ai_possible`, unreadable and
/// skipped files.
pub fn gated(verdict: FileVerdict, strict: bool) -> bool {
    match verdict {
        FileVerdict::AiGenerated | FileVerdict::AiEdited => true,
        FileVerdict::AiPossible | FileVerdict::Error | FileVerdict::Skipped => strict,
        FileVerdict::NoAiEvidence | FileVerdict::Unsupported => false,
    }
}

/// One piece of evidence the scanner found in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceItem {
    /// Its kind (`c2pa_action`, `iptc_digital_source_type`, …).
    pub kind: String,
    /// What was found.
    pub detail: String,
    /// Where (`active manifest`, `XMP`, …).
    pub source: String,
}

impl EvidenceItem {
    /// The line a recorded scan keeps: `kind: detail [source]`.
    pub fn line(&self) -> String {
        format!("{}: {} [{}]", self.kind, self.detail, self.source)
    }
}

/// What the gate is told of one scanned file: its paths, hash, verdict and evidence, never
/// its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEvidence {
    /// The path as the scanner printed it.
    pub path: String,
    /// The path relative to the directory it was found under, with `/` separators.
    pub relative_path: Option<String>,
    /// The scanner's verdict.
    pub verdict: FileVerdict,
    /// The sha256 of its content, when the scanner hashed it.
    pub sha256: Option<String>,
    /// The evidence that gave the verdict (context items left out).
    pub evidence: Vec<EvidenceItem>,
    /// Why it could not be read, when it could not.
    pub error: Option<String>,
    /// The scanner's notes (a skipped path's kind).
    pub notes: Vec<String>,
}

/// What the gate says of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// `approved`, `unapproved` or `approval_expired`.
    pub status: Standing,
    /// The approval that covers the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<ApprovalId>,
    /// That approval's declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_id: Option<DeclarationId>,
    /// Why, for people.
    pub reason: String,
    /// Whether this file fails the gate.
    pub fails_gate: bool,
}

/// How the judged files of a delivery stand, so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateTally {
    /// Judged files an approval in force covers.
    pub approved: u64,
    /// Judged files no approval in force covers.
    pub unapproved: u64,
    /// Judged files covered only by expired approvals.
    pub approval_expired: u64,
    /// Files that fail the gate.
    pub failing: u64,
}

impl GateTally {
    /// Counts one judgement.
    pub fn count(&mut self, judgement: &Judgement) {
        self.count_standing(judgement.status, judgement.fails_gate);
    }

    fn count_standing(&mut self, standing: Standing, fails: bool) {
        let slot = match standing {
            Standing::Approved => &mut self.approved,
            Standing::Unapproved => &mut self.unapproved,
            Standing::ApprovalExpired => &mut self.approval_expired,
        };
        *slot = slot.saturating_add(1);
        if fails {
            self.failing = self.failing.saturating_add(1);
        }
    }

    /// Counts one row of a recorded scan, judged in a scan that was `strict` or not: what
    /// [`GateTally::count`] counted for it when it was judged.
    pub fn count_row(&mut self, row: &ScannedFile, strict: bool) {
        let Some(standing) = row.status else { return };
        let fails = FileVerdict::from_name(&row.verdict).is_some_and(|v| gated(v, strict))
            && standing != Standing::Approved;
        self.count_standing(standing, fails);
    }

    /// Whether no file has failed the gate.
    pub fn passed(&self) -> bool {
        self.failing == 0
    }

    /// The outcome of a scan with these standings and the scanner's `counts` of verdicts
    /// (whose approved, unapproved and expired counts are replaced by these).
    pub fn outcome(&self, counts: &ScanCounts) -> ScanOutcome {
        ScanOutcome {
            passed: self.passed(),
            counts: ScanCounts {
                approved: self.approved,
                unapproved: self.unapproved,
                approval_expired: self.approval_expired,
                ..counts.clone()
            },
        }
    }
}

/// The delivery gate over one scan: a production's approvals, whether the gate is strict,
/// and the judgements so far.
#[derive(Debug)]
pub struct GateRun {
    index: ApprovalIndex,
    strict: bool,
    tally: GateTally,
}

impl GateRun {
    /// A gate over `index`; `strict` also gates weak signals and unreadable files.
    pub fn new(index: ApprovalIndex, strict: bool) -> GateRun {
        GateRun {
            index,
            strict,
            tally: GateTally::default(),
        }
    }

    /// The approvals.
    pub fn index(&self) -> &ApprovalIndex {
        &self.index
    }

    /// Whether weak signals and unreadable files are gated too.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// The judgements so far.
    pub fn tally(&self) -> &GateTally {
        &self.tally
    }

    /// Whether no file has failed the gate.
    pub fn passed(&self) -> bool {
        self.tally.passed()
    }

    /// Judges one file: `None` for files the gate does not look at (no evidence of AI,
    /// unsupported containers, and unreadable or skipped files unless strict).
    pub fn judge(&mut self, file: &FileEvidence) -> Option<Judgement> {
        let gated = gated(file.verdict, self.strict);
        match file.verdict {
            FileVerdict::NoAiEvidence | FileVerdict::Unsupported => return None,
            FileVerdict::Error | FileVerdict::Skipped if !gated => return None,
            _ => {}
        }
        let shown = file.path.trim_start_matches("./");
        let mut paths = vec![shown];
        if let Some(rel) = file.relative_path.as_deref()
            && rel != shown
        {
            paths.insert(0, rel);
        }
        let mut coverage = self.index.cover(&paths, file.sha256.as_deref());
        let stamps: Vec<StampClaim> = file.evidence.iter().filter_map(StampClaim::read).collect();
        if let Some(by_stamp) = self.index.cover_stamps(&stamps)
            && (by_stamp.standing == Standing::Approved
                || coverage.standing != Standing::Approved
                || stamps.iter().any(|s| !s.valid))
        {
            coverage = by_stamp;
        }
        let fails_gate = gated && coverage.standing != Standing::Approved;
        let mut reason = coverage.reason;
        if coverage.standing != Standing::Approved {
            if file.verdict == FileVerdict::Error {
                reason = format!(
                    "the file could not be read, so the gate cannot vouch for it; {reason}"
                );
            } else if file.verdict == FileVerdict::Skipped {
                reason = format!(
                    "not a regular file, so it was not read and the gate cannot vouch for it; {reason}"
                );
            } else if !gated {
                reason = format!("{reason} (weak signals only: --strict gates them)");
            }
        }
        let judgement = Judgement {
            status: coverage.standing,
            approval_id: coverage.approval_id,
            declaration_id: coverage.declaration_id,
            reason,
            fails_gate,
        };
        self.tally.count(&judgement);
        Some(judgement)
    }

    /// The row a recorded scan keeps for a file and its judgement: `None` for files that
    /// are only counted (no evidence of AI, unsupported containers).
    pub fn row(file: &FileEvidence, judgement: Option<&Judgement>) -> Option<ScannedFile> {
        if !file.verdict.is_kept() {
            return None;
        }
        let reason = match (judgement, &file.error) {
            (Some(j), _) => j.reason.clone(),
            (None, Some(e)) => e.clone(),
            (None, None) => file.notes.join("; "),
        };
        Some(ScannedFile {
            path: file.path.clone(),
            verdict: file.verdict.as_str().to_owned(),
            sha256: file.sha256.clone(),
            evidence: file.evidence.iter().map(EvidenceItem::line).collect(),
            status: judgement.map(|j| j.status),
            approval_id: judgement.and_then(|j| j.approval_id),
            declaration_id: judgement.and_then(|j| j.declaration_id),
            reason,
        })
    }

    /// The scan's outcome, with the scanner's `counts` of verdicts.
    pub fn outcome(&self, counts: &ScanCounts) -> ScanOutcome {
        self.tally.outcome(counts)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;
    use crate::ids::DecisionId;

    fn approval(scope: Vec<AssetScope>) -> Approval {
        Approval {
            id: ApprovalId::generate(),
            declaration_id: DeclarationId::generate(),
            declaration_version: 1,
            decision_id: DecisionId::generate(),
            verdict: Verdict::Approved,
            reviewer: "rita".to_owned(),
            conditions: Vec::new(),
            scope,
            expires_at: None,
            note: String::new(),
            decided_at: "2026-11-27T09:00:00Z".parse().unwrap(),
        }
    }

    fn glob(text: &str) -> AssetScope {
        AssetScope::Glob(text.to_owned())
    }

    #[test]
    fn globs_match_whole_paths_and_star_stays_in_its_directory() {
        let mut index = ApprovalIndex::default();
        let a = approval(vec![glob("VFX/ep103/**/*.exr"), glob("posters/*.png")]);
        let id = a.id;
        index.add(a, ApprovalState::InForce);
        let cover = |p: &str| index.cover(&[p], None);
        assert_eq!(cover("VFX/ep103/sh0420/v3.exr").approval_id, Some(id));
        assert_eq!(cover("VFX/ep103/v3.exr").standing, Standing::Approved);
        assert_eq!(cover("VFX/ep104/v3.exr").standing, Standing::Unapproved);
        assert_eq!(cover("posters/key.png").standing, Standing::Approved);
        assert_eq!(cover("posters/old/key.png").standing, Standing::Unapproved);
        assert_eq!(cover("x/posters/key.png").standing, Standing::Unapproved);
    }

    #[test]
    fn a_leading_dot_slash_is_not_part_of_the_pattern() {
        let mut index = ApprovalIndex::default();
        index.add(
            approval(vec![glob("./posters/*.png")]),
            ApprovalState::InForce,
        );
        assert_eq!(
            index.cover(&["posters/key.png"], None).standing,
            Standing::Approved
        );
    }

    #[test]
    fn a_hash_covers_the_file_wherever_it_lies() {
        let hash = "ab".repeat(32);
        let mut index = ApprovalIndex::default();
        index.add(
            approval(vec![AssetScope::Sha256(hash.clone())]),
            ApprovalState::InForce,
        );
        assert!(index.has_hashes());
        let c = index.cover(&["any/where.png"], Some(&hash));
        assert_eq!(c.standing, Standing::Approved);
        assert!(c.reason.contains("sha256:"), "{}", c.reason);
        let other = "cd".repeat(32);
        assert_eq!(
            index.cover(&["any/where.png"], Some(&other)).standing,
            Standing::Unapproved
        );
        assert_eq!(
            index.cover(&["any/where.png"], None).standing,
            Standing::Unapproved
        );
    }

    #[test]
    fn in_force_wins_over_expired_and_expired_over_void() {
        let at: Timestamp = "2026-11-20T00:00:00Z".parse().unwrap();
        let expired = approval(vec![glob("**/*.png")]);
        let superseded = approval(vec![glob("**/*.png")]);
        let expired_id = expired.id;
        let mut index = ApprovalIndex::default();
        index.add(superseded, ApprovalState::Superseded);
        index.add(expired, ApprovalState::Expired { at });
        let c = index.cover(&["a.png"], None);
        assert_eq!(c.standing, Standing::ApprovalExpired);
        assert_eq!(c.approval_id, Some(expired_id));
        assert!(c.reason.contains("expired"), "{}", c.reason);

        let live = approval(vec![glob("a.png")]);
        let live_id = live.id;
        index.add(live, ApprovalState::InForce);
        assert_eq!(index.cover(&["a.png"], None).approval_id, Some(live_id));
        assert_eq!(index.in_force(), 1);
    }

    #[test]
    fn a_superseded_approval_leaves_the_file_unapproved_and_says_why() {
        let mut index = ApprovalIndex::default();
        index.add(approval(vec![glob("*.png")]), ApprovalState::Withdrawn);
        let c = index.cover(&["a.png"], None);
        assert_eq!(c.standing, Standing::Unapproved);
        assert!(c.declaration_id.is_some());
        assert!(c.reason.contains("withdrawn"), "{}", c.reason);
    }

    #[test]
    fn a_bad_stored_glob_is_named_not_fatal() {
        let mut index = ApprovalIndex::default();
        index.add(approval(vec![glob("VFX/[ep")]), ApprovalState::InForce);
        assert_eq!(index.problems().len(), 1);
        assert!(index.problems()[0].contains("VFX/[ep"));
        assert_eq!(
            index.cover(&["VFX/[ep"], None).standing,
            Standing::Unapproved
        );
    }

    fn file(path: &str, verdict: FileVerdict) -> FileEvidence {
        FileEvidence {
            path: path.to_owned(),
            relative_path: None,
            verdict,
            sha256: None,
            evidence: vec![EvidenceItem {
                kind: "c2pa_action".to_owned(),
                detail: "c2pa.created".to_owned(),
                source: "active manifest".to_owned(),
            }],
            error: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_run_gates_ai_files_and_strict_also_weak_and_unreadable_ones() {
        let mut index = ApprovalIndex::default();
        index.add(approval(vec![glob("ok/**")]), ApprovalState::InForce);
        let mut run = GateRun::new(index, false);
        let judged = |run: &mut GateRun, p: &str, v| run.judge(&file(p, v));
        assert!(
            !judged(&mut run, "ok/a.png", FileVerdict::AiGenerated)
                .unwrap()
                .fails_gate
        );
        assert!(
            judged(&mut run, "x/b.png", FileVerdict::AiEdited)
                .unwrap()
                .fails_gate
        );
        let weak = judged(&mut run, "x/c.png", FileVerdict::AiPossible).unwrap();
        assert!(
            !weak.fails_gate && weak.reason.contains("--strict"),
            "{}",
            weak.reason
        );
        assert!(judged(&mut run, "x/d.png", FileVerdict::Error).is_none());
        assert!(judged(&mut run, "x/e.png", FileVerdict::NoAiEvidence).is_none());
        assert_eq!(
            *run.tally(),
            GateTally {
                approved: 1,
                unapproved: 2,
                approval_expired: 0,
                failing: 1
            }
        );
        assert!(!run.passed());

        let mut strict = GateRun::new(ApprovalIndex::default(), true);
        let unread = strict
            .judge(&file("x/d.png", FileVerdict::Skipped))
            .unwrap();
        assert!(unread.fails_gate);
        assert!(
            unread.reason.starts_with("not a regular file"),
            "{}",
            unread.reason
        );
        assert!(
            strict
                .judge(&file("x/c.png", FileVerdict::AiPossible))
                .unwrap()
                .fails_gate
        );
    }

    #[test]
    fn recorded_rows_count_again_as_they_were_judged() {
        for strict in [false, true] {
            let mut index = ApprovalIndex::default();
            index.add(approval(vec![glob("ok/*")]), ApprovalState::InForce);
            let mut run = GateRun::new(index, strict);
            let mut again = GateTally::default();
            for (path, verdict) in [
                ("ok/a", FileVerdict::AiGenerated),
                ("b", FileVerdict::AiGenerated),
                ("c", FileVerdict::AiPossible),
                ("d", FileVerdict::Error),
                ("e", FileVerdict::Skipped),
                ("f", FileVerdict::Unsupported),
            ] {
                let f = file(path, verdict);
                let judgement = run.judge(&f);
                if let Some(row) = GateRun::row(&f, judgement.as_ref()) {
                    assert_eq!(
                        row.evidence,
                        ["c2pa_action: c2pa.created [active manifest]"]
                    );
                    again.count_row(&row, strict);
                } else {
                    assert_eq!(verdict, FileVerdict::Unsupported);
                }
            }
            assert_eq!(again, *run.tally(), "strict: {strict}");
        }
    }
}
