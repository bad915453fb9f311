//! The decision: the outcome of triage, with every finding behind it.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An outcome level, ordered from the mildest to the strictest.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Low risk: proceed, and the use is shared with the studio contact.
    Notify,
    /// Written approval is required before proceeding.
    Escalate,
    /// A precondition that no approval alone can replace is missing.
    Blocked,
}

impl Level {
    /// The level's name as it appears in packs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Notify => "notify",
            Level::Escalate => "escalate",
            Level::Blocked => "blocked",
        }
    }

    /// Every level, mildest first.
    pub const ALL: [Level; 3] = [Level::Notify, Level::Escalate, Level::Blocked];
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a rule states the guidance or is the pack author's reading of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Stated in the guidance.
    Guidance,
    /// An interpretation where the guidance is silent or ambiguous.
    Interpretation,
}

impl Basis {
    /// The basis as it appears in packs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Guidance => "guidance",
            Basis::Interpretation => "interpretation",
        }
    }
}

/// How grave a finding is within its level.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The usual weight of the level.
    #[default]
    Normal,
    /// Needs the reviewer's particular attention (e.g. misleading nonfiction).
    High,
}

impl Severity {
    /// The severity as it appears in packs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Normal => "normal",
            Severity::High => "high",
        }
    }

    fn is_normal(&self) -> bool {
        *self == Severity::Normal
    }
}

/// One rule that fired, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// The id of the rule in its pack.
    pub rule: String,
    /// The principle, category or section ids the rule rests on.
    pub cites: Vec<String>,
    /// The level this finding asks for.
    pub level: Level,
    /// Guidance or interpretation.
    pub basis: Basis,
    /// Omitted when normal.
    #[serde(default, skip_serializing_if = "Severity::is_normal")]
    pub severity: Severity,
    /// Why the rule fired, in words a production reads.
    pub reason: String,
    /// The declaration's fields the rule read, with their values.
    pub facts: BTreeMap<String, serde_json::Value>,
    /// What would change the outcome.
    pub remedy: String,
}

/// The pack a decision was made with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyRef {
    /// The pack id.
    pub id: String,
    /// The pack version.
    pub version: String,
    /// The sha256 of the pack's text, in lowercase hex.
    pub sha256: String,
    /// For an overlay, the packs it stands on, base first, each with its own hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<PolicyRef>,
}

/// The outcome of triage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// The strictest finding's level.
    pub level: Level,
    /// Every finding, strictest first, then in pack order.
    pub findings: Vec<Finding>,
    /// The pack that made the decision.
    pub policy: PolicyRef,
}

impl Decision {
    /// The gravest severity among the findings at the decision's level.
    pub fn severity(&self) -> Severity {
        self.findings
            .iter()
            .filter(|f| f.level == self.level)
            .map(|f| f.severity)
            .max()
            .unwrap_or_default()
    }
}
