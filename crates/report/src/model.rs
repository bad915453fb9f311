//! The report's content: plain data, serialised as the JSON format's stable
//! shape (`schema` = [`SCHEMA`]). Fields are added, never renamed.

use serde::{Deserialize, Serialize};

/// The name and version of the JSON shape.
pub const SCHEMA: &str = "greenlight-report/1";

/// Everything a production's report says, gathered at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: String,
    /// The report's own id (a UUID), printed in every format and recorded with its sha256.
    pub report_id: String,
    /// When its content was gathered (UTC, RFC 3339).
    pub generated_at: String,
    /// Who made it.
    pub generated_by: String,
    /// The production.
    pub production: ProductionInfo,
    /// Counts at a glance.
    pub summary: Summary,
    /// Every declared use with its current decision.
    pub uses: Vec<Use>,
    /// Every approval and rejection, with conditions, scope and expiry.
    pub approvals: Vec<ApprovalRow>,
    /// The consents the production's decisions rely on.
    pub consents: Vec<ConsentRow>,
    /// The escalated uses still awaiting a review, oldest first, with their age.
    pub escalations: Vec<EscalationRow>,
    /// The recorded delivery scans, oldest first.
    pub scans: Vec<ScanRow>,
    /// The delivery gate's result: that of the latest complete scan.
    pub gate: Gate,
    /// The audit log's verification at the time of the report.
    pub audit: AuditStatus,
    /// The disclosures the production owes.
    pub disclosures: Vec<Disclosure>,
}

/// The production a report is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductionInfo {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its kind (`scripted`, `documentary`, …).
    pub kind: String,
    /// The overlay packs that apply to it, by id.
    pub overlays: Vec<String>,
    /// The studio contact's name.
    pub studio_contact: String,
}

/// A count under a label (a chart's bar).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// What is counted.
    pub label: String,
    /// How many.
    pub count: u64,
}

/// Counts at a glance, and what the charts show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Declared uses.
    pub uses: u64,
    /// Uses by the level in force (`notify`, `escalate`, `blocked`), every level listed.
    pub by_outcome: Vec<Count>,
    /// Uses by purpose, most frequent first.
    pub by_purpose: Vec<Count>,
    /// Open escalations by age (`< 1 day`, `1-7 days`, `7-30 days`, `> 30 days`).
    pub escalations_by_age: Vec<Count>,
    /// Approvals in force.
    pub approvals_in_force: u64,
    /// Recorded scans.
    pub scans: u64,
}

/// One declared use and its current decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Use {
    /// The declaration's id.
    pub declaration_id: String,
    /// Its latest version.
    pub version: u32,
    /// Its title.
    pub title: String,
    /// The purpose (`vfx`, `de_aging`, …).
    pub purpose: String,
    /// The stage.
    pub stage: String,
    /// The media.
    pub media: Vec<String>,
    /// The tools, each `name (vendor)`.
    pub tools: Vec<String>,
    /// Whether the output is a final deliverable (`yes`, `no`, `unsure`).
    pub final_deliverable: String,
    /// The level in force (`notify`, `escalate`, `blocked`); `none` when undecided.
    pub level: String,
    /// Where it stands: `notify`, `awaiting review`, `approved`, `approval expired`,
    /// `rejected`, `blocked` or `undecided`.
    pub standing: String,
    /// The decision in force.
    pub decision_id: Option<String>,
    /// When it was made.
    pub decided_at: Option<String>,
    /// The pack stack that made it: every layer as `id@version`.
    pub policy: Vec<String>,
    /// The rules that fired, strictest first.
    pub rules: Vec<String>,
    /// Why a lapsed consent blocked it, when one did.
    pub blocks: Vec<String>,
    /// Who submitted the latest version, and when.
    pub submitted_by: String,
    /// When.
    pub submitted_at: String,
}

/// An approval or a rejection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRow {
    /// Its id.
    pub approval_id: String,
    /// The declaration.
    pub declaration_id: String,
    /// The declaration's title.
    pub title: String,
    /// The version reviewed.
    pub declaration_version: u32,
    /// `approved` or `rejected`.
    pub verdict: String,
    /// The reviewer.
    pub reviewer: String,
    /// The conditions.
    pub conditions: Vec<String>,
    /// The assets covered: `glob:…` or `sha256:…`.
    pub scope: Vec<String>,
    /// When it expires, if it does.
    pub expires_at: Option<String>,
    /// In force now (approved, on the current decision, not expired, not blocked since).
    pub in_force: bool,
    /// When it was given.
    pub decided_at: String,
    /// The reviewer's note.
    pub note: String,
}

/// A consent the production's decisions rely on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentRow {
    /// Its id.
    pub consent_id: String,
    /// The performer.
    pub performer_id: String,
    /// The performer's name.
    pub performer: String,
    /// The kind (`digital_alteration`, …).
    pub kind: String,
    /// The media covered.
    pub media: Vec<String>,
    /// The scope's description.
    pub description: String,
    /// Who gave it.
    pub given_by: String,
    /// `documented`, `pending` or `revoked`.
    pub status: String,
    /// When it expires, if it does.
    pub expires_at: Option<String>,
    /// In force now.
    pub in_force: bool,
    /// The declarations whose current decision relies on it.
    pub relied_on_by: Vec<String>,
}

/// An escalated use awaiting a review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EscalationRow {
    /// The declaration.
    pub declaration_id: String,
    /// Its title.
    pub title: String,
    /// When the escalating decision was made.
    pub decided_at: String,
    /// Its age at the report's time, in whole hours.
    pub age_hours: u64,
    /// The escalating rules.
    pub rules: Vec<String>,
}

/// A recorded delivery scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanRow {
    /// Its id.
    pub scan_id: String,
    /// When it was recorded.
    pub recorded_at: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// `complete` or `in progress`.
    pub state: String,
    /// The gate's result: `passed`, `failed`, or `unfinished`.
    pub gate: String,
    /// Strict mode (weak signals and unreadable files gated too).
    pub strict: bool,
    /// Files scanned.
    pub files: u64,
    /// Files flagged as AI (generated, edited or possible).
    pub flagged: u64,
    /// Flagged files covered by an approval in force.
    pub approved: u64,
    /// Gated files with no approval.
    pub unapproved: u64,
    /// Gated files whose approval expired.
    pub approval_expired: u64,
    /// The roots scanned.
    pub roots: Vec<String>,
}

/// The delivery gate's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// `passed`, `failed` or `no scan`.
    pub result: String,
    /// The scan it comes from.
    pub scan_id: Option<String>,
}

/// The audit log's verification when the report was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditStatus {
    /// Nothing found wrong.
    pub ok: bool,
    /// Entries read.
    pub entries: u64,
    /// Signed checkpoints checked.
    pub checkpoints: u64,
    /// Records compared with the log.
    pub records: u64,
    /// Problems found, in words (at most 20).
    pub problems: Vec<String>,
    /// The head entry's `seq`.
    pub head_seq: Option<i64>,
    /// The head entry's hash.
    pub head_hash: Option<String>,
}

/// A disclosure the production owes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    /// Which: `eu_art50_notice`, `eu_art50_label`, `ny_ad_notice`, `usco_exclusions`,
    /// `credits`.
    pub kind: String,
    /// A heading.
    pub title: String,
    /// The overlay pack it comes from (none for the credits list).
    pub overlay: Option<String>,
    /// The overlay's rule ids and the spec ids they cite.
    pub cites: Vec<String>,
    /// The text to use (the notice line, the label, the ad notice, or what the table is).
    pub text: String,
    /// Where it goes.
    pub placement: String,
    /// The uses it covers.
    pub items: Vec<DisclosureItem>,
}

/// One use a disclosure covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureItem {
    /// The declaration.
    pub declaration_id: String,
    /// Its title.
    pub title: String,
    /// The AI-generated or AI-manipulated material, in words.
    pub material: String,
    /// The tools and vendors.
    pub tools: Vec<String>,
    /// The human contribution (the Copyright Office table), else empty.
    pub human_contribution: String,
}
