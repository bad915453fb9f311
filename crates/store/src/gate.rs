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
//! evidence to a server (`--server URL`): which files it looks at ([`look`], the one
//! rule every caller uses), each file's [`Judgement`], the counts, pass or fail, and the
//! row a recorded scan keeps for a file ([`GateRun::row`]). It is told of a
//! file by its [`FileEvidence`]: paths, hash, verdict and evidence, never its
//! content.
//!
//! A greenlight stamp is judged whatever else the file shows: a file that carries one is
//! always looked at, and fails unless the stamp verifies, its signer is trusted and its
//! approval is in force (or, for a stamp that verifies, another approval in force covers
//! the file). A server that judges a remote scanner's evidence decides the signer's trust
//! itself, by the signer's fingerprint against its own [`StampSigners`].

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
    /// The sha256 of the signing certificate, lowercase hex, when the scanner gave it.
    pub signer_sha256: Option<String>,
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
        // `signed by SUBJECT (sha256 HEX)`, then `: failure codes` for a tampered stamp.
        let by = by.strip_prefix("signed by ").unwrap_or(by);
        let (subject, fingerprint) = match by.rsplit_once(" (sha256 ") {
            Some((subject, rest)) => {
                let hex = rest.split(')').next().unwrap_or_default();
                let hex = (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| hex.to_ascii_lowercase());
                (subject, hex)
            }
            None => (by.split(':').next().unwrap_or_default(), None),
        };
        Some(StampClaim {
            approval_id: approval.parse().ok(),
            // Anything but a plain `valid` counts as not verified.
            valid: signature == "valid",
            trusted: signer == "trusted",
            signer: subject.to_owned(),
            signer_sha256: fingerprint,
        })
    }

    /// The signer as people read it: its subject and fingerprint.
    fn named_signer(&self) -> String {
        match &self.signer_sha256 {
            Some(hex) => format!("`{}` (sha256 {hex})", self.signer),
            None => format!("`{}`", self.signer),
        }
    }
}

/// Whether a file's evidence carries a greenlight stamp.
pub fn is_stamped(evidence: &[EvidenceItem]) -> bool {
    evidence.iter().any(|e| e.kind == STAMP_EVIDENCE)
}

/// The signer certificates a server trusts for stamps a remote scanner tells it of, by the
/// sha256 of each certificate's DER. The server never sees the file nor the signer's chain,
/// so it trusts a signer named here and no other: a CA certificate on the list lets no
/// remote claim through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StampSigners {
    sha256: Vec<String>,
}

impl StampSigners {
    /// The certificates of a PEM bundle (`-----BEGIN CERTIFICATE-----` blocks).
    pub fn from_pem(pem: &str) -> Result<StampSigners, String> {
        use base64::Engine as _;
        use sha2::{Digest as _, Sha256};
        const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
        const END: &str = "-----END CERTIFICATE-----";
        let mut sha256 = Vec::new();
        let mut rest = pem;
        let mut n = 0usize;
        while let Some(start) = rest.find(BEGIN) {
            n += 1;
            let body = rest.get(start + BEGIN.len()..).unwrap_or_default();
            let Some((inner, after)) = body.split_once(END) else {
                return Err(format!("certificate {n} has no `{END}` line"));
            };
            let text: String = inner.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|e| format!("certificate {n} is not base64: {e}"))?;
            sha256.push(hex_lower(&Sha256::digest(&der)));
            rest = after;
        }
        if sha256.is_empty() {
            return Err("it holds no PEM certificate".to_owned());
        }
        Ok(StampSigners { sha256 })
    }

    /// Signers named by fingerprint (64 hex digits each).
    pub fn from_fingerprints<I, T>(fingerprints: I) -> Result<StampSigners, String>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut sha256 = Vec::new();
        for f in fingerprints {
            let f = f.as_ref().trim();
            if f.len() != 64 || !f.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("`{f}` is not a sha256 fingerprint (64 hex digits)"));
            }
            sha256.push(f.to_ascii_lowercase());
        }
        Ok(StampSigners { sha256 })
    }

    /// The fingerprints, lowercase hex.
    pub fn fingerprints(&self) -> &[String] {
        &self.sha256
    }

    /// Whether the signer of `claim` is on the list.
    pub fn trusts(&self, claim: &StampClaim) -> bool {
        claim
            .signer_sha256
            .as_deref()
            .is_some_and(|hex| self.sha256.iter().any(|s| s == hex))
    }

    /// The file's evidence with each stamp's `signer trusted|untrusted` decided by this
    /// list, never by what the scanner said: what a server judges and records.
    pub fn rejudge(&self, file: &FileEvidence) -> FileEvidence {
        let mut file = file.clone();
        for item in &mut file.evidence {
            let Some(claim) = StampClaim::read(item) else {
                continue;
            };
            let said = if claim.trusted {
                ", signer trusted, "
            } else {
                ", signer untrusted, "
            };
            let judged = if self.trusts(&claim) {
                ", signer trusted, "
            } else {
                ", signer untrusted, "
            };
            item.detail = item.detail.replacen(said, judged, 1);
        }
        file
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

impl ApprovalIndex {
    /// How a file stands by its stamps: `None` when it carries none. Every stamp speaks: one
    /// that does not verify, whose signer is not trusted, that names no approval of this
    /// production or whose approval is not in force leaves the file unapproved and says why
    /// (the first such stamp is named); otherwise the file is approved by the stamped approval.
    pub fn cover_stamps(&self, stamps: &[StampClaim]) -> Option<Coverage> {
        let unapproved = |declaration_id, reason| Coverage {
            standing: Standing::Unapproved,
            approval_id: None,
            declaration_id,
            reason,
        };
        if let Some(bad) = stamps.iter().find(|s| !s.valid) {
            let named = bad
                .approval_id
                .map_or_else(String::new, |id| format!(" of approval {id}"));
            return Some(unapproved(
                None,
                format!(
                    "tampered: the stamp{named} does not verify, so the file or its manifest changed after it was signed"
                ),
            ));
        }
        let mut found: Option<Coverage> = None;
        for stamp in stamps {
            let coverage = self.cover_stamp(stamp, &unapproved);
            let worse = match &found {
                None => true,
                Some(f) => rank(coverage.standing) < rank(f.standing),
            };
            if worse {
                found = Some(coverage);
            }
        }
        found
    }

    fn cover_stamp(
        &self,
        stamp: &StampClaim,
        unapproved: &dyn Fn(Option<DeclarationId>, String) -> Coverage,
    ) -> Coverage {
        if !stamp.trusted {
            return unapproved(
                None,
                format!(
                    "untrusted signer: the stamp is signed by {}, whom the trust list does not name",
                    stamp.named_signer()
                ),
            );
        }
        let Some(id) = stamp.approval_id else {
            return unapproved(None, "the stamp names no approval id".to_owned());
        };
        let Some(entry) = self.entries.iter().find(|e| e.approval.id == id) else {
            return unapproved(
                None,
                format!("the stamped approval {id} is not an approval of this production"),
            );
        };
        let a = &entry.approval;
        match &entry.state {
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
            state => unapproved(
                Some(a.declaration_id),
                format!(
                    "the stamped approval {} is {state}; the declaration needs a new review",
                    a.id
                ),
            ),
        }
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
}

/// How the gate looks at one file: the one rule the local gate, a remote scanner, the server
/// and the recount of a recorded scan all follow ([`look`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    /// Only counted: no judgement, no row in a recorded scan, and a remote scanner need not
    /// send it.
    Counted,
    /// Kept as a row of a recorded scan, but not judged (unreadable or skipped, not strict).
    Kept,
    /// Judged against the approvals; `gated`: it fails the gate unless approved.
    Judged {
        /// Whether it fails the gate when no approval in force covers it.
        gated: bool,
    },
}

impl Look {
    /// Whether a recorded scan keeps a row for the file (and a remote scanner sends it).
    pub fn kept(self) -> bool {
        self != Look::Counted
    }

    /// Whether the file fails the gate when it stands so.
    pub fn fails(self, standing: Standing) -> bool {
        matches!(self, Look::Judged { gated: true }) && standing != Standing::Approved
    }
}

/// How the gate looks at a file with `verdict`, carrying a greenlight stamp or not, in a
/// scan that is `strict` or not. A stamped file is always judged and gated, whatever its
/// verdict: a stamp that is tampered, untrusted or of an approval not in force fails it.
/// Otherwise `ai_generated` and `ai_edited` are judged and gated; `ai_possible` judged, and
/// gated with `strict`; unreadable and skipped files are kept, and with `strict` judged and
/// gated; files with no evidence of AI and unsupported containers are only counted.
pub fn look(verdict: FileVerdict, stamped: bool, strict: bool) -> Look {
    if stamped {
        return Look::Judged { gated: true };
    }
    match verdict {
        FileVerdict::AiGenerated | FileVerdict::AiEdited => Look::Judged { gated: true },
        FileVerdict::AiPossible => Look::Judged { gated: strict },
        FileVerdict::Error | FileVerdict::Skipped if strict => Look::Judged { gated: true },
        FileVerdict::Error | FileVerdict::Skipped => Look::Kept,
        FileVerdict::NoAiEvidence | FileVerdict::Unsupported => Look::Counted,
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

impl FileEvidence {
    /// How the gate looks at this file in a scan that is `strict` or not.
    pub fn look(&self, strict: bool) -> Look {
        look(self.verdict, is_stamped(&self.evidence), strict)
    }

    /// Whether a recorded scan keeps a row for this file (and a remote scanner sends it):
    /// the same in a strict scan and in another.
    pub fn kept(&self) -> bool {
        self.look(false).kept()
    }
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
        let stamped = row.evidence.iter().any(|line| {
            line.strip_prefix(STAMP_EVIDENCE)
                .is_some_and(|rest| rest.starts_with(": "))
        });
        let fails = FileVerdict::from_name(&row.verdict)
            .is_some_and(|v| look(v, stamped, strict).fails(standing));
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
        let look = file.look(self.strict);
        let Look::Judged { gated } = look else {
            return None;
        };
        let shown = file.path.trim_start_matches("./");
        let mut paths = vec![shown];
        if let Some(rel) = file.relative_path.as_deref()
            && rel != shown
        {
            paths.insert(0, rel);
        }
        let mut coverage = self.index.cover(&paths, file.sha256.as_deref());
        let stamps: Vec<StampClaim> = file.evidence.iter().filter_map(StampClaim::read).collect();
        // A tampered stamp fails the file whatever covers it; another stamp yields only to
        // an approval in force that covers the file by path or hash.
        if let Some(by_stamp) = self.index.cover_stamps(&stamps)
            && (by_stamp.standing == Standing::Approved
                || coverage.standing != Standing::Approved
                || stamps.iter().any(|s| !s.valid))
        {
            coverage = by_stamp;
        }
        let fails_gate = look.fails(coverage.standing);
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
        if !file.kept() {
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
