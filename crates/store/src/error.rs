//! The one error type of the ledger; backends map their own errors into it.

use std::fmt;

/// A business rule of the ledger that a request broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// A field is empty, malformed or out of range.
    BadInput,
    /// A reviewer tried to review a declaration they submitted.
    SelfReview,
    /// A blocked declaration cannot be approved until its precondition is recorded.
    Blocked,
    /// Only an escalated declaration is reviewed.
    NotEscalated,
    /// The declaration names a tool or performer that is not registered.
    UnknownReference,
    /// The declaration is for another production.
    WrongProduction,
    /// The record is already in the state asked for.
    AlreadyDone,
    /// Only a member of the production with the reviewer or legal role reviews its declarations.
    NotReviewer,
    /// The sign-in failed, or the account or credential cannot be used.
    Unauthenticated,
    /// Too many failed sign-ins: wait before trying again.
    RateLimited,
    /// The approval is not in force (expired, superseded, withdrawn or a rejection).
    NotInForce,
}

impl Rule {
    /// A short, stable name of the rule.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::BadInput => "bad-input",
            Rule::SelfReview => "self-review",
            Rule::Blocked => "blocked",
            Rule::NotEscalated => "not-escalated",
            Rule::UnknownReference => "unknown-reference",
            Rule::WrongProduction => "wrong-production",
            Rule::AlreadyDone => "already-done",
            Rule::NotReviewer => "not-reviewer",
            Rule::Unauthenticated => "unauthenticated",
            Rule::RateLimited => "rate-limited",
            Rule::NotInForce => "not-in-force",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can go wrong in the ledger. No backend type (sqlx or other) shows here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist.
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// The kind of record looked for.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The write clashes with another (e.g. a duplicate key or a concurrent change).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request breaks a rule of the ledger.
    #[error("refused ({rule}): {message}")]
    Invalid {
        /// The rule broken.
        rule: Rule,
        /// Why, in words a person reads.
        message: String,
    },
    /// Anything else: I/O, the database, a corrupt row, the key file.
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// A refusal under `rule`.
    pub fn invalid(rule: Rule, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            rule,
            message: message.into(),
        }
    }

    /// The rule broken, when the error is a refusal.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            StoreError::Invalid { rule, .. } => Some(*rule),
            _ => None,
        }
    }

    /// Any other error, kept as text.
    pub fn other(error: impl fmt::Display) -> Self {
        StoreError::Other(error.to_string())
    }
}

/// The result of every ledger operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
