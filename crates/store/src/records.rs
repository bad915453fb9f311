//! The records of the ledger. Each is stored whole, as JSON, and every change
//! to one appends an audit entry holding its text before and after.

use greenlight_core::{
    Answer, Decision, Declaration, Level, Medium, PerformerUse, ProductionKind, ReplicaKind,
    Representation,
};
use serde::{Deserialize, Serialize};

use crate::backend::Kind;
use crate::ids::{
    ApprovalId, ConsentId, DecisionId, DeclarationId, NotificationId, PerformerId, ProductionId,
    ScanId, ToolId,
};
use crate::time::Timestamp;

/// A record kept in the ledger: its kind, id and the record it hangs under.
pub trait Record: Serialize + serde::de::DeserializeOwned + Send + Sync {
    /// The kind of record.
    const KIND: Kind;
    /// The record's id, as stored.
    fn key(&self) -> String;
    /// The id of the record it belongs to, when it belongs to one.
    fn parent(&self) -> Option<String>;
}

/// Someone to reach: a name and an address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The person's name.
    pub name: String,
    /// How to reach them (an e-mail address).
    pub email: String,
}

/// What a member does on a production.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Declares uses (production coordinator).
    Coordinator,
    /// A VFX or other vendor declaring uses in its pipeline.
    Vendor,
    /// Approves or rejects escalations for the studio.
    Reviewer,
    /// Legal review.
    Legal,
    /// Post supervisor or delivery QC.
    PostSupervisor,
    /// Talent relations: consents.
    TalentRelations,
    /// Compliance: reports and audit.
    Compliance,
}

/// A person on a production, with their roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The person's login or e-mail: the actor name they act under.
    pub person: String,
    /// Their display name.
    pub name: String,
    /// What they do on the production.
    pub roles: Vec<Role>,
}

/// A production: a film, series, documentary or other work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Production {
    /// Its id.
    pub id: ProductionId,
    /// Its title.
    pub title: String,
    /// What kind of production it is.
    pub kind: ProductionKind,
    /// The studio contact every notify-level use is shared with.
    pub studio_contact: Contact,
    /// The people on it.
    pub members: Vec<Member>,
    /// The overlay packs that apply to it (its unions, its release
    /// territories), by pack id, stacked in this order on the default pack.
    /// Older records without the field read as none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlays: Vec<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
}

impl Record for Production {
    const KIND: Kind = Kind::Production;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        None
    }
}

/// A production to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProduction {
    /// Its title.
    pub title: String,
    /// What kind of production it is.
    pub kind: ProductionKind,
    /// The studio contact.
    pub studio_contact: Contact,
    /// The people on it.
    pub members: Vec<Member>,
}

/// A tool's data terms (policy-spec §4). Unknown is `unsure`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataTerms {
    /// The tool trains or fine-tunes on inputs or outputs.
    pub trains_on_inputs: Answer,
    /// The tool stores or reuses inputs.
    pub retains_inputs: Answer,
    /// The tool's maker resells or shares inputs.
    pub resells_inputs: Answer,
    /// Used under an enterprise agreement with the studio.
    pub enterprise_agreement: Answer,
    /// Data terms were negotiated with the vendor.
    pub terms_negotiated: Answer,
    /// Who reviewed the terms.
    pub reviewed_by: Option<String>,
    /// When the terms were reviewed.
    pub reviewed_at: Option<Timestamp>,
}

/// A registered tool, plug-in or vendor step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// Its id; a declaration names the tool by it.
    pub id: ToolId,
    /// The vendor or maker.
    pub vendor: String,
    /// The product's name.
    pub product: String,
    /// The version in use.
    pub version: String,
    /// The licence tier or plan.
    pub licence_tier: String,
    /// Its data terms.
    pub terms: DataTerms,
    /// When it was registered.
    pub registered_at: Timestamp,
    /// Who registered it.
    pub registered_by: String,
}

impl Record for Tool {
    const KIND: Kind = Kind::Tool;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        None
    }
}

/// A tool to register.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTool {
    /// The vendor or maker.
    pub vendor: String,
    /// The product's name.
    pub product: String,
    /// The version in use.
    pub version: String,
    /// The licence tier or plan.
    pub licence_tier: String,
    /// Its data terms.
    pub terms: DataTerms,
}

/// A real performer whose voice or likeness may be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Performer {
    /// Its id; a declaration names the performer by it.
    pub id: PerformerId,
    /// The performer's name.
    pub name: String,
    /// The performer's union, empty when none.
    pub union: String,
    /// The performer is deceased: consent then comes from the estate.
    pub deceased: bool,
    /// The estate or authorised representative that consents for a deceased performer.
    pub estate: Option<String>,
    /// When the performer was registered.
    pub registered_at: Timestamp,
    /// Who registered the performer.
    pub registered_by: String,
}

impl Record for Performer {
    const KIND: Kind = Kind::Performer;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        None
    }
}

/// A performer to register.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPerformer {
    /// The performer's name.
    pub name: String,
    /// The performer's union, empty when none.
    pub union: String,
    /// The performer is deceased.
    pub deceased: bool,
    /// The estate that consents for a deceased performer.
    pub estate: Option<String>,
}

/// A kind of use a consent covers (policy-spec §8, SAG-AFTRA 2023).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// A replica made with the performer's participation during employment.
    EmploymentReplica,
    /// A replica made from existing material.
    IndependentReplica,
    /// A background actor's replica.
    BackgroundReplica,
    /// A synthetic performer drawing on the performer.
    SyntheticPerformer,
    /// A digital alteration of a performance.
    DigitalAlteration,
}

impl ConsentKind {
    /// The kind's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::EmploymentReplica => "employment_replica",
            ConsentKind::IndependentReplica => "independent_replica",
            ConsentKind::BackgroundReplica => "background_replica",
            ConsentKind::SyntheticPerformer => "synthetic_performer",
            ConsentKind::DigitalAlteration => "digital_alteration",
        }
    }

    /// Whether consent of this kind covers a use of a performer as declared.
    ///
    /// Customary alterations need no consent (policy-spec §6), so no kind covers them.
    pub fn covers(self, use_: PerformerUse) -> bool {
        match use_ {
            PerformerUse::Replica | PerformerUse::VoiceClone => matches!(
                self,
                ConsentKind::EmploymentReplica
                    | ConsentKind::IndependentReplica
                    | ConsentKind::BackgroundReplica
            ),
            PerformerUse::DeAging | PerformerUse::AlterationSignificant => {
                self == ConsentKind::DigitalAlteration
            }
            PerformerUse::AlterationCustomary => false,
        }
    }
}

/// Whether a use of a performer needs consent at all (customary alterations do not).
pub fn needs_consent(use_: PerformerUse) -> bool {
    use_ != PerformerUse::AlterationCustomary
}

/// Where a consent applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentScope {
    /// The one production it applies to (a new consent is needed for any other, O4).
    pub production_id: ProductionId,
    /// The media it covers; empty covers all.
    pub media: Vec<Medium>,
    /// A reasonably specific description of the intended use.
    pub description: String,
}

/// The state of a consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// Given and documented (the signed document's hash is on file).
    Documented,
    /// Asked for, not yet given.
    Pending,
    /// Withdrawn.
    Revoked,
}

/// How and why a consent was revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// When.
    pub at: Timestamp,
    /// Who recorded it.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// A performer's consent to one kind of use in one production.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Its id.
    pub id: ConsentId,
    /// The performer.
    pub performer_id: PerformerId,
    /// The kind of use.
    pub kind: ConsentKind,
    /// Where it applies.
    pub scope: ConsentScope,
    /// Who gave it: the performer, or for a deceased performer the estate (or the union).
    pub given_by: String,
    /// Its state.
    pub status: ConsentStatus,
    /// When it lapses, if ever.
    pub expires_at: Option<Timestamp>,
    /// The sha256 of the signed document, lowercase hex.
    pub document_sha256: Option<String>,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Who recorded it.
    pub recorded_by: String,
    /// Set when revoked.
    pub revocation: Option<Revocation>,
    /// What the consent says of the replica and who negotiated it, so that a
    /// declaration naming the performer need not repeat it. Older records
    /// without it read as all unsure.
    #[serde(default, skip_serializing_if = "ConsentTerms::is_unsure")]
    pub terms: ConsentTerms,
}

/// What a registered consent records beyond its scope: the kind of replica,
/// whether it was signed separately from standard terms, and the performer's
/// representation (overlays: SAG-AFTRA 2023, California, New York). The
/// specific description is the scope's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentTerms {
    /// The kind of replica consented to.
    #[serde(default)]
    pub replica_kind: ReplicaKind,
    /// Signed separately, not buried in standard terms.
    #[serde(default)]
    pub separately_signed: Answer,
    /// Who negotiated the terms for the performer.
    #[serde(default)]
    pub representation: Representation,
}

impl ConsentTerms {
    /// Nothing recorded.
    pub fn is_unsure(&self) -> bool {
        *self == ConsentTerms::default()
    }
}

impl Consent {
    /// Documented, not revoked and not expired at `now`.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.status == ConsentStatus::Documented && !self.expired(now)
    }

    /// The consent has an expiry, and `now` is at or past it.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|end| now >= end)
    }

    /// Whether this consent covers a use with these media in this production.
    pub fn applies_to(
        &self,
        production: ProductionId,
        use_: PerformerUse,
        media: &[Medium],
    ) -> bool {
        self.scope.production_id == production
            && self.kind.covers(use_)
            && (self.scope.media.is_empty() || media.iter().all(|m| self.scope.media.contains(m)))
    }
}

impl Record for Consent {
    const KIND: Kind = Kind::Consent;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        Some(self.performer_id.to_string())
    }
}

/// A consent to record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConsent {
    /// The performer.
    pub performer_id: PerformerId,
    /// The kind of use.
    pub kind: ConsentKind,
    /// Where it applies.
    pub scope: ConsentScope,
    /// Who gave it.
    pub given_by: String,
    /// `documented` or `pending` (a consent is never recorded as revoked).
    pub status: ConsentStatus,
    /// When it lapses, if ever.
    pub expires_at: Option<Timestamp>,
    /// The sha256 of the signed document; required when documented.
    pub document_sha256: Option<String>,
}

#[cfg(test)]
mod consent_terms_tests {
    use super::*;

    #[test]
    fn a_consent_recorded_before_the_terms_still_reads() {
        let old = r#"{"id":"00000000-0000-0000-0000-000000000001","performer_id":"00000000-0000-0000-0000-000000000002","kind":"employment_replica","scope":{"production_id":"00000000-0000-0000-0000-000000000003","media":["video"],"description":"d"},"given_by":"p","status":"documented","expires_at":null,"document_sha256":null,"recorded_at":"2026-11-27T09:00:00.000000Z","recorded_by":"t","revocation":null}"#;
        let consent: Consent = serde_json::from_str(old).unwrap();
        assert!(consent.terms.is_unsure());
        assert_eq!(serde_json::to_string(&consent).unwrap(), old);
        let production = r#"{"id":"00000000-0000-0000-0000-000000000003","title":"t","kind":"scripted","studio_contact":{"name":"n","email":"e"},"members":[],"created_at":"2026-11-27T09:00:00.000000Z","created_by":"t"}"#;
        let production: Production = serde_json::from_str(production).unwrap();
        assert!(production.overlays.is_empty());
    }
}

/// The current state of a declaration: its latest version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDeclaration {
    /// Its id, the same for every version.
    pub id: DeclarationId,
    /// The production it belongs to.
    pub production_id: ProductionId,
    /// The version, from 1.
    pub version: u32,
    /// The declaration as submitted.
    pub declaration: Declaration,
    /// Who submitted this version.
    pub submitted_by: String,
    /// When.
    pub submitted_at: Timestamp,
}

impl Record for StoredDeclaration {
    const KIND: Kind = Kind::Declaration;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        Some(self.production_id.to_string())
    }
}

/// One version of a declaration, kept for ever.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeclarationVersion(pub StoredDeclaration);

impl DeclarationVersion {
    /// The stored key of a version: the declaration id and the zero-padded version.
    pub fn key_of(id: DeclarationId, version: u32) -> String {
        format!("{id}/{version:010}")
    }
}

impl Record for DeclarationVersion {
    const KIND: Kind = Kind::DeclarationVersion;
    fn key(&self) -> String {
        DeclarationVersion::key_of(self.0.id, self.0.version)
    }
    fn parent(&self) -> Option<String> {
        Some(self.0.id.to_string())
    }
}

/// Why a decision was turned back to blocked after it was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// When.
    pub at: Timestamp,
    /// The consent whose revocation or expiry caused it.
    pub consent_id: Option<ConsentId>,
    /// Why, in words.
    pub reason: String,
}

/// A decision on one version of a declaration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredDecision {
    /// Its id.
    pub id: DecisionId,
    /// The declaration.
    pub declaration_id: DeclarationId,
    /// The version decided on.
    pub declaration_version: u32,
    /// The declaration as triaged, when the registry changed it: registered
    /// tools' terms and performers' consents filled in as they stood then.
    /// `None` when triage saw the declaration as submitted.
    pub resolved: Option<Declaration>,
    /// What the registry supplied, in words.
    pub resolution: Vec<String>,
    /// The registered performers the declaration names (what a revoked
    /// consent is traced through).
    #[serde(default)]
    pub performers: Vec<PerformerId>,
    /// The decision, with the pack's id, version and hash.
    pub decision: Decision,
    /// When it was made.
    pub decided_at: Timestamp,
    /// Who asked for it.
    pub decided_by: String,
    /// Set when a lapsed consent turned the decision back to blocked.
    pub blocks: Vec<Block>,
}

impl StoredDecision {
    /// The declaration as triage saw it, given the version it decided on.
    pub fn triaged<'a>(&'a self, submitted: &'a Declaration) -> &'a Declaration {
        self.resolved.as_ref().unwrap_or(submitted)
    }

    /// The level in force: blocked when a block was recorded, else the decision's.
    pub fn level(&self) -> Level {
        if self.blocks.is_empty() {
            self.decision.level
        } else {
            Level::Blocked
        }
    }
}

impl Record for StoredDecision {
    const KIND: Kind = Kind::Decision;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        Some(self.declaration_id.to_string())
    }
}

/// A reviewer's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Approved, with conditions, scope and expiry.
    Approved,
    /// Rejected.
    Rejected,
}

/// The assets an approval covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetScope {
    /// Paths matching a glob, e.g. `VFX/ep103/**/*.exr`.
    Glob(String),
    /// One file, by the sha256 of its content (lowercase hex).
    Sha256(String),
}

/// A reviewer's approval or rejection of an escalated declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Its id.
    pub id: ApprovalId,
    /// The declaration.
    pub declaration_id: DeclarationId,
    /// The version reviewed.
    pub declaration_version: u32,
    /// The decision reviewed.
    pub decision_id: DecisionId,
    /// Approved or rejected.
    pub verdict: Verdict,
    /// Who reviewed.
    pub reviewer: String,
    /// Conditions the use must meet.
    pub conditions: Vec<String>,
    /// The assets covered.
    pub scope: Vec<AssetScope>,
    /// When the approval lapses, if ever.
    pub expires_at: Option<Timestamp>,
    /// The reviewer's note.
    pub note: String,
    /// When.
    pub decided_at: Timestamp,
}

impl Record for Approval {
    const KIND: Kind = Kind::Approval;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        Some(self.declaration_id.to_string())
    }
}

/// A review to record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReview {
    /// The declaration (its latest version is reviewed).
    pub declaration_id: DeclarationId,
    /// Approved or rejected.
    pub verdict: Verdict,
    /// Conditions the use must meet.
    pub conditions: Vec<String>,
    /// The assets covered; an approval needs at least one.
    pub scope: Vec<AssetScope>,
    /// When the approval lapses, if ever.
    pub expires_at: Option<Timestamp>,
    /// The reviewer's note.
    pub note: String,
}

/// A notify-level use, recorded as shared with the studio contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Its id.
    pub id: NotificationId,
    /// The production.
    pub production_id: ProductionId,
    /// The declaration.
    pub declaration_id: DeclarationId,
    /// The version.
    pub declaration_version: u32,
    /// The decision.
    pub decision_id: DecisionId,
    /// Who it was shared with.
    pub contact: Contact,
    /// When.
    pub shared_at: Timestamp,
}

impl Record for Notification {
    const KIND: Kind = Kind::Notification;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        Some(self.declaration_id.to_string())
    }
}

/// How an AI-flagged file stands against its production's approvals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// An approval in force covers the file.
    Approved,
    /// No approval in force covers it.
    Unapproved,
    /// The only approvals that cover it have expired.
    ApprovalExpired,
}

impl Standing {
    /// The name used in scan results.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Approved => "approved",
            Standing::Unapproved => "unapproved",
            Standing::ApprovalExpired => "approval_expired",
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Counts over a recorded scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanCounts {
    /// Files scanned.
    pub files: u64,
    /// Files the scanner found made by generative AI.
    pub ai_generated: u64,
    /// Files it found edited by generative AI.
    pub ai_edited: u64,
    /// Files with weak signals only.
    pub ai_possible: u64,
    /// Files with no evidence of generative AI.
    pub no_ai_evidence: u64,
    /// Files in a container the scanner does not read.
    pub unsupported: u64,
    /// Files that could not be read.
    pub error: u64,
    /// Paths that are not regular files (FIFOs, sockets, devices), never opened. Left out of
    /// the serialised counts when zero, so records written before it existed read the same.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: u64,
    /// Flagged files an approval in force covers.
    pub approved: u64,
    /// Flagged files no approval in force covers.
    pub unapproved: u64,
    /// Flagged files covered only by expired approvals.
    pub approval_expired: u64,
}

/// One file of a recorded scan: every flagged or unreadable file is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedFile {
    /// The path as scanned.
    pub path: String,
    /// The scanner's verdict (`ai_generated`, `ai_edited`, `ai_possible`, `error`, …).
    pub verdict: String,
    /// The sha256 of the file's content, when it was hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The evidence, one line per item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// How it stands against the approvals (flagged files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Standing>,
    /// The approval that covers it (or the expired one that did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<ApprovalId>,
    /// That approval's declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_id: Option<DeclarationId>,
    /// Why it stands so, or why it could not be read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Where a recorded scan is: begun and taking files, or finished with its counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanState {
    /// Begun and not finished: its files are still being written, or the scan never finished
    /// (stopped, killed, crashed). Its counts and gate say nothing.
    InProgress,
    /// Finished: the counts and the gate are final. A scan recorded before scans were written
    /// in batches has no state in its body and is complete.
    #[default]
    Complete,
}

impl ScanState {
    /// The name used in listings.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanState::InProgress => "in_progress",
            ScanState::Complete => "complete",
        }
    }
}

/// A delivery scan, recorded against a production: a header, whose files are kept as child
/// rows written in audited batches ([`ScanBatch`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRecord {
    /// Its id.
    pub id: ScanId,
    /// What was scanned, and how.
    #[serde(flatten)]
    pub scan: NewScan,
    /// In progress until the scan finishes.
    #[serde(default)]
    pub state: ScanState,
    /// Whether the gate passed (false while in progress).
    pub passed: bool,
    /// Counts over every file scanned (zero while in progress).
    pub counts: ScanCounts,
    /// The flagged and unreadable files of a scan recorded before files were kept as rows;
    /// empty otherwise. [`crate::Ledger::scan_files`] pages through either kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ScannedFile>,
    /// When it was recorded (begun).
    pub recorded_at: Timestamp,
    /// Who recorded it.
    pub recorded_by: String,
    /// When it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
}

impl Record for ScanRecord {
    const KIND: Kind = Kind::Scan;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn parent(&self) -> Option<String> {
        Some(self.scan.production_id.to_string())
    }
}

/// A scan to begin recording: what is scanned, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewScan {
    /// The production.
    pub production_id: ProductionId,
    /// The scanner and its version.
    pub scanner: String,
    /// The files and directories scanned.
    pub roots: Vec<String>,
    /// Whether C2PA manifests were fully validated.
    pub verified: bool,
    /// Whether weak signals and unreadable files also failed the gate.
    pub strict: bool,
    /// When the scan started.
    pub started_at: Timestamp,
}

/// How a scan ended, as [`crate::Ledger::finish_scan`] records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanOutcome {
    /// Whether the gate passed.
    pub passed: bool,
    /// Counts over every file scanned.
    pub counts: ScanCounts,
}

/// One batch of a recorded scan's files: the audited record of rows `first..=last` of the
/// scan, with the digest of those rows ([`ScanBatch::digest`]). The rows themselves are kept
/// beside it, one per file, and `audit verify` checks them against this digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanBatch {
    /// The scan.
    pub scan_id: ScanId,
    /// The first row's number (rows count from 1 in each scan).
    pub first: u64,
    /// The last row's number.
    pub last: u64,
    /// The sha256 of the rows, as [`ScanBatch::digest`] computes it.
    pub sha256: String,
}

impl ScanBatch {
    /// The stored key of a batch: the scan's id and its first row, zero-padded.
    pub fn key_of(scan: ScanId, first: u64) -> String {
        format!("{scan}/{first:010}")
    }

    /// The digest of a batch's rows, given in order as (row number, the file's JSON text):
    /// sha256 over `{seq} {body}\n` for each, as lowercase hex.
    pub fn digest<'a>(rows: impl IntoIterator<Item = (u64, &'a str)>) -> String {
        let mut digest = BatchDigest::default();
        for (seq, body) in rows {
            digest.add(seq, body);
        }
        digest.finish()
    }
}

/// [`ScanBatch::digest`], fed one row at a time.
#[derive(Clone, Default)]
pub(crate) struct BatchDigest {
    hasher: sha2::Sha256,
    pub(crate) rows: u64,
}

impl BatchDigest {
    pub(crate) fn add(&mut self, seq: u64, body: &str) {
        use sha2::Digest as _;
        self.hasher.update(seq.to_string().as_bytes());
        self.hasher.update(b" ");
        self.hasher.update(body.as_bytes());
        self.hasher.update(b"\n");
        self.rows += 1;
    }

    pub(crate) fn finish(self) -> String {
        use sha2::Digest as _;
        hex::encode(self.hasher.finalize())
    }
}

impl Record for ScanBatch {
    const KIND: Kind = Kind::ScanBatch;
    fn key(&self) -> String {
        ScanBatch::key_of(self.scan_id, self.first)
    }
    fn parent(&self) -> Option<String> {
        Some(self.scan_id.to_string())
    }
}

/// One file of a recorded scan, with its row number, as [`crate::Ledger::scan_files`] pages
/// them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanFile {
    /// Its row number in the scan, from 1.
    pub seq: u64,
    /// The file.
    #[serde(flatten)]
    pub file: ScannedFile,
}

/// A page of a listing, in id order (creation order).
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The records on this page.
    pub items: Vec<T>,
    /// The cursor to pass for the next page; `None` on the last page.
    pub next: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;

    fn consent(kind: ConsentKind, media: Vec<Medium>) -> Consent {
        let at: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        Consent {
            id: ConsentId::generate(),
            performer_id: PerformerId::generate(),
            kind,
            scope: ConsentScope {
                production_id: ProductionId::from(uuid::Uuid::nil()),
                media,
                description: "d".to_owned(),
            },
            given_by: "p".to_owned(),
            status: ConsentStatus::Documented,
            expires_at: Some(at.plus(chrono::TimeDelta::days(1))),
            document_sha256: None,
            recorded_at: at,
            recorded_by: "t".to_owned(),
            revocation: None,
            terms: ConsentTerms::default(),
        }
    }

    #[test]
    fn consent_kinds_cover_the_uses_they_name() {
        use PerformerUse::*;
        let replica = ConsentKind::EmploymentReplica;
        assert!(replica.covers(Replica) && replica.covers(VoiceClone));
        assert!(!replica.covers(DeAging) && !replica.covers(AlterationSignificant));
        let alteration = ConsentKind::DigitalAlteration;
        assert!(alteration.covers(DeAging) && alteration.covers(AlterationSignificant));
        assert!(!alteration.covers(Replica));
        assert!(!ConsentKind::SyntheticPerformer.covers(Replica));
        assert!(!needs_consent(AlterationCustomary) && needs_consent(VoiceClone));
    }

    #[test]
    fn a_consent_applies_to_its_production_media_and_time_only() {
        let c = consent(ConsentKind::DigitalAlteration, vec![Medium::Video]);
        let here = c.scope.production_id;
        let there = ProductionId::generate();
        assert!(c.applies_to(here, PerformerUse::DeAging, &[Medium::Video]));
        assert!(!c.applies_to(there, PerformerUse::DeAging, &[Medium::Video]));
        assert!(!c.applies_to(here, PerformerUse::DeAging, &[Medium::Video, Medium::Voice]));
        let everywhere = consent(ConsentKind::DigitalAlteration, Vec::new());
        assert!(everywhere.applies_to(here, PerformerUse::DeAging, &[Medium::Voice]));
        let start = c.recorded_at;
        assert!(c.in_force(start));
        assert!(
            !c.in_force(start.plus(chrono::TimeDelta::days(1))),
            "expiry is exclusive"
        );
        let mut revoked = c.clone();
        revoked.status = ConsentStatus::Revoked;
        assert!(!revoked.in_force(start));
    }
}
