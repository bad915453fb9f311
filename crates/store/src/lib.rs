//! The greenlight ledger: productions, tools, performers and their consents,
//! declarations (every version), decisions, approvals and notifications, with
//! a tamper-evident audit log.
//!
//! This crate's single job is the ledger's *meaning*: the records, the rules
//! (a reviewer never approves what they submitted; a blocked declaration is
//! not approved until its precondition is recorded; a revoked or expired
//! consent turns the decisions that relied on it back to blocked), and the
//! audit chain. It knows no SQL: a backend implements the small [`Store`]
//! trait (`greenlight-store-sqlite`, `greenlight-store-postgres`), and
//! [`Ledger`] puts the rules on top of any of them, once.
//!
//! Time is an argument: the ledger reads it from a [`Clock`].
//!
//! See `README.md` beside this crate for the data model, the audit chain
//! format and the invariants.
#![deny(missing_docs)]

mod accounts;
mod audit;
pub mod authz;
mod backend;
mod changes;
mod drafts;
mod error;
mod gate;
mod ids;
mod ledger;
mod oidc;
mod outbox;
mod records;
mod refs;
mod reports;
mod resolve;
mod stamps;
mod time;

pub use accounts::{
    ApiToken, IssuedToken, LOGIN_WINDOW, Login, LoginAttempt, LoginOutcome,
    MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, NewToken, NewUser, REDACTED, SESSION_IDLE,
    SESSION_LIFETIME, Session, SessionAuth, SignedIn, TOKEN_PREFIX, TOUCH_INTERVAL,
    TokenRevocation, User, generate_password, redact_secrets,
};
pub use audit::{
    AUDIT_ENTRY_COLUMNS, AuditEntry, AuditEntryColumns, AuditKey, Checkpoint, GENESIS_HASH,
    Problem, VerifyReport, public_key_from_hex, sha256_hex, verify,
};
pub use authz::{Action, Denied, GlobalRole, Principal, TokenGrant, TokenRole, authorize, visible};
pub use backend::{
    DRAFT_COLUMNS, DraftColumns, DraftRow, FileRow, Kind, Row, RowColumns, Store, WriteTx,
};
pub use changes::{ChangeRequest, MAX_CHANGE_NOTE, request_stands};
pub use drafts::{Draft, MAX_DRAFT_BYTES, MAX_DRAFT_FIELDS, NewDraft};
pub use ed25519_dalek::VerifyingKey;
pub use error::{Result, Rule, StoreError};
pub use gate::{
    ApprovalIndex, ApprovalState, Coverage, EvidenceItem, FileEvidence, FileVerdict, GateRun,
    GateTally, Judgement, Look, STAMP_EVIDENCE, StampClaim, StampSigners, compile_glob, is_stamped,
    look,
};
pub use ids::{
    ApprovalId, ChangeRequestId, ConsentId, DecisionId, DeclarationId, DraftId, NotificationId,
    PerformerId, ProductionId, ScanId, StampId, ToolId,
};
pub use ledger::{JudgedBatch, Ledger, MAX_PAGE, MAX_SCAN_BATCH, Submission, body_of};
pub use oidc::{
    NewOidcRequest, OIDC_ACTOR, OIDC_REQUEST_LIFETIME, OidcIdentity, OidcLink, OidcRequest,
    OidcStart,
};
pub use outbox::{
    Channel, Event, EventRef, OUTBOX_COLUMNS, OutboxChannels, OutboxClaim, OutboxColumns,
    OutboxEvent, OutboxRow, OutboxStatus, Settle, SettleRow, expiring_key, looks_like_address,
    millis as outbox_millis,
};
pub use records::{
    Approval, AssetScope, Block, Consent, ConsentKind, ConsentScope, ConsentStatus, ConsentTerms,
    Contact, DataTerms, DeclarationVersion, Member, NewConsent, NewPerformer, NewProduction,
    NewReview, NewScan, NewTool, Notification, Page, Performer, Production, Record, Revocation,
    Role, ScanBatch, ScanCounts, ScanFile, ScanOutcome, ScanRecord, ScanState, ScannedFile,
    Standing, StoredDecision, StoredDeclaration, Tool, Verdict, needs_consent,
};
pub use refs::{
    AddedReferences, ImageReference, MAX_LABEL, MAX_REFERENCE_HASHES, NewImageReference,
    ReferenceHash, reference_id,
};
pub use reports::{NewReport, REPORT_FORMATS, ReportRecord};
pub use resolve::{Registry, Resolution, consent_for, resolve};
pub use stamps::{ApprovalStanding, NewStamp, Stamp, require_in_force};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
