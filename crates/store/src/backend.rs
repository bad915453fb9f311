//! The [`Store`] trait: what a storage backend provides. It knows rows, not
//! rules: the rules live in [`crate::Ledger`], once, for every backend.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;

use crate::audit::{AuditEntry, Checkpoint};
use crate::error::{Result, StoreError};
use crate::outbox::{OutboxRow, OutboxStatus, SettleRow};

/// A kind of record; each is one table with the same three columns
/// (`id`, the parent's id, `body`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Productions (no parent).
    Production,
    /// Registered tools (no parent).
    Tool,
    /// Registered performers (no parent).
    Performer,
    /// Consents (parent: the performer).
    Consent,
    /// Declarations, latest version (parent: the production).
    Declaration,
    /// Every version of every declaration (parent: the declaration).
    DeclarationVersion,
    /// Decisions (parent: the declaration).
    Decision,
    /// Approvals and rejections (parent: the declaration).
    Approval,
    /// Notifications (parent: the declaration).
    Notification,
    /// Recorded delivery scans (parent: the production).
    Scan,
    /// Batches of a recorded scan's files (parent: the scan); the files themselves are rows
    /// of their own ([`FileRow`]).
    ScanBatch,
    /// Accounts, keyed by login (no parent).
    User,
    /// Sign-in sessions, keyed by the sha256 of the cookie (parent: the user).
    Session,
    /// API tokens, keyed by the sha256 of the secret (parent: the user).
    ApiToken,
    /// Sign-in attempts (parent: the login as typed, which need not be a user's).
    LoginAttempt,
    /// OIDC identities (issuer and subject) linked to accounts, keyed by the sha256 of the
    /// pair (parent: the user).
    OidcLink,
    /// OIDC sign-ins begun and not yet (or already) completed, keyed by the sha256 of their
    /// `state` (no parent).
    OidcRequest,
    /// Protected reference images and their perceptual hashes (parent: the label).
    ImageReference,
    /// Reports handed over, keyed by the sha256 of their bytes (parent: the production).
    Report,
    /// Files stamped with an approval (parent: the approval).
    Stamp,
    /// Reviewers' requests for changes (parent: the declaration).
    ChangeRequest,
}

impl Kind {
    /// Every kind, parents before children.
    pub const ALL: [Kind; 21] = [
        Kind::Production,
        Kind::Tool,
        Kind::Performer,
        Kind::Consent,
        Kind::Declaration,
        Kind::DeclarationVersion,
        Kind::Decision,
        Kind::Approval,
        Kind::Notification,
        Kind::Scan,
        Kind::ScanBatch,
        Kind::User,
        Kind::Session,
        Kind::ApiToken,
        Kind::LoginAttempt,
        Kind::OidcLink,
        Kind::OidcRequest,
        Kind::ImageReference,
        Kind::Report,
        Kind::Stamp,
        Kind::ChangeRequest,
    ];

    /// The kind's name, as written in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Production => "production",
            Kind::Tool => "tool",
            Kind::Performer => "performer",
            Kind::Consent => "consent",
            Kind::Declaration => "declaration",
            Kind::DeclarationVersion => "declaration_version",
            Kind::Decision => "decision",
            Kind::Approval => "approval",
            Kind::Notification => "notification",
            Kind::Scan => "scan",
            Kind::ScanBatch => "scan_batch",
            Kind::User => "user",
            Kind::Session => "session",
            Kind::ApiToken => "api_token",
            Kind::LoginAttempt => "login_attempt",
            Kind::OidcLink => "oidc_link",
            Kind::OidcRequest => "oidc_request",
            Kind::ImageReference => "image_reference",
            Kind::Report => "report",
            Kind::Stamp => "stamp",
            Kind::ChangeRequest => "change_request",
        }
    }

    /// The table the kind is kept in.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Production => "productions",
            Kind::Tool => "tools",
            Kind::Performer => "performers",
            Kind::Consent => "consents",
            Kind::Declaration => "declarations",
            Kind::DeclarationVersion => "declaration_versions",
            Kind::Decision => "decisions",
            Kind::Approval => "approvals",
            Kind::Notification => "notifications",
            Kind::Scan => "scans",
            Kind::ScanBatch => "scan_batches",
            Kind::User => "users",
            Kind::Session => "sessions",
            Kind::ApiToken => "api_tokens",
            Kind::LoginAttempt => "login_attempts",
            Kind::OidcLink => "oidc_links",
            Kind::OidcRequest => "oidc_requests",
            Kind::ImageReference => "image_references",
            Kind::Report => "reports",
            Kind::Stamp => "stamps",
            Kind::ChangeRequest => "change_requests",
        }
    }

    /// The column holding the parent's id.
    pub fn parent_column(self) -> Option<&'static str> {
        match self {
            Kind::Production | Kind::Tool | Kind::Performer | Kind::User | Kind::OidcRequest => {
                None
            }
            Kind::Session | Kind::ApiToken | Kind::OidcLink => Some("user_login"),
            Kind::LoginAttempt => Some("login"),
            Kind::ImageReference => Some("label"),
            Kind::Stamp => Some("approval_id"),
            Kind::Consent => Some("performer_id"),
            Kind::Declaration | Kind::Scan | Kind::Report => Some("production_id"),
            Kind::ScanBatch => Some("scan_id"),
            Kind::DeclarationVersion
            | Kind::Decision
            | Kind::Approval
            | Kind::Notification
            | Kind::ChangeRequest => Some("declaration_id"),
        }
    }
}

impl Kind {
    /// The field of the record's JSON body that the parent column repeats.
    pub fn parent_field(self) -> Option<&'static str> {
        match self {
            // A version's body is the declaration itself: its own `id`.
            Kind::DeclarationVersion => Some("id"),
            other => other.parent_column(),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| StoreError::Other(format!("unknown record kind `{text}`")))
    }
}

/// A stored record: its id, its parent's id and its body (the record as JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The record's id.
    pub id: String,
    /// The parent's id, for kinds that have one.
    pub parent: Option<String>,
    /// The record, as the JSON text the audit log holds.
    pub body: String,
}

/// A record's columns as a backend selects them: `id, parent, body`.
pub type RowColumns = (String, Option<String>, String);

impl From<RowColumns> for Row {
    fn from((id, parent, body): RowColumns) -> Row {
        Row { id, parent, body }
    }
}

/// One file row of a recorded scan: the scan, the row's number in it (from 1), and the file
/// as JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    /// The scan's id.
    pub scan_id: String,
    /// The row's number in the scan, from 1.
    pub seq: i64,
    /// The file, as JSON text.
    pub body: String,
}

impl From<(String, i64, String)> for FileRow {
    fn from((scan_id, seq, body): (String, i64, String)) -> FileRow {
        FileRow { scan_id, seq, body }
    }
}

/// A draft as a backend keeps it: not a record (not audited), one person's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftRow {
    /// The draft's id.
    pub id: String,
    /// Who wrote it: only they see it.
    pub author: String,
    /// The declaration it revises, when it is a revision.
    pub declaration_id: Option<String>,
    /// The title typed, for lists.
    pub title: String,
    /// The form's fields as typed, as JSON text.
    pub body: String,
    /// When it was first saved (RFC 3339).
    pub created_at: String,
    /// When it was last saved (RFC 3339).
    pub updated_at: String,
}

/// A draft's columns as a backend selects them ([`DRAFT_COLUMNS`]).
pub type DraftColumns = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
);

/// The columns a backend selects for a [`DraftRow`], in [`DraftColumns`]' order.
pub const DRAFT_COLUMNS: &str = "id, author, declaration_id, title, body, created_at, updated_at";

impl From<DraftColumns> for DraftRow {
    fn from(
        (id, author, declaration_id, title, body, created_at, updated_at): DraftColumns,
    ) -> DraftRow {
        DraftRow {
            id,
            author,
            declaration_id,
            title,
            body,
            created_at,
            updated_at,
        }
    }
}

/// A storage backend. Implemented by `greenlight-store-sqlite` and
/// `greenlight-store-postgres`; used through [`crate::Ledger`].
///
/// Reads run on their own; every change runs in a [`WriteTx`], which holds
/// the ledger's single write lock from `begin` to `commit` so that audit
/// entries chain in order.
///
/// A backend may run several `WriteTx`, one after another, in one database
/// transaction (SQLite's group commit) provided each `commit` returns `Ok` only
/// once the database transaction holding its change has committed, and a
/// `WriteTx` dropped without `commit` undoes its own change and nobody else's.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// One record.
    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Row>>;

    /// Records in id order after the cursor `after`, at most `limit`; all of
    /// the kind when `parent` is `None`, else the parent's.
    async fn page(
        &self,
        kind: Kind,
        parent: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Row>>;

    /// A scan's file rows with `seq` above `after`, in order, at most `limit`.
    async fn scan_file_page(&self, scan: &str, after: i64, limit: u32) -> Result<Vec<FileRow>>;

    /// Every scan's file rows after the key `after` (scan id, seq), in key order, at most
    /// `limit`: for verification.
    async fn all_scan_files(&self, after: Option<(&str, i64)>, limit: u32) -> Result<Vec<FileRow>>;

    /// Audit entries with `seq` above `after`, in order, at most `limit`.
    async fn audit_page(&self, after: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>>;

    /// Checkpoints with `seq` above `after`, in order, at most `limit`.
    async fn checkpoint_page(&self, after: Option<i64>, limit: u32) -> Result<Vec<Checkpoint>>;

    /// Every (declaration, performer) pair of the performer index, in order.
    async fn performer_links(&self) -> Result<Vec<(String, String)>>;

    /// Starts a write: takes the write lock. Dropping the result without
    /// `commit` rolls everything back.
    async fn begin(&self) -> Result<Box<dyn WriteTx>>;

    /// Claims up to `limit` pending outbox rows due at `now` (milliseconds, as
    /// [`crate::outbox_millis`]) whose lease is free or ran out: sets their lease to `lease` until
    /// `lease_until`, atomically, so that two workers never hold one row, and returns them.
    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        lease: &str,
        limit: u32,
    ) -> Result<Vec<OutboxRow>>;

    /// Writes how an attempt on a claimed row ended and frees its lease, provided `lease`
    /// still holds it; `false` when it does not (nothing written).
    async fn settle_outbox(&self, id: &str, lease: &str, change: &SettleRow) -> Result<bool>;

    /// Outbox rows in id order after `after`, at most `limit`, of one status when given.
    async fn outbox_page(
        &self,
        status: Option<OutboxStatus>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>>;

    /// Inserts a draft, or replaces the one with its id provided it has the same author;
    /// `false` when a draft with that id belongs to someone else (nothing written).
    async fn save_draft(&self, draft: &DraftRow) -> Result<bool>;

    /// One draft, whoever wrote it.
    async fn draft(&self, id: &str) -> Result<Option<DraftRow>>;

    /// One author's drafts in id order after `after`, at most `limit`.
    async fn drafts_of(
        &self,
        author: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DraftRow>>;

    /// Deletes a draft of `author`; `false` when they have none with that id.
    async fn delete_draft(&self, id: &str, author: &str) -> Result<bool>;
    /// One outbox row.
    async fn outbox_row(&self, id: &str) -> Result<Option<OutboxRow>>;

    /// Makes a failed outbox row pending again, due at `now` (milliseconds) with its
    /// attempts counted afresh (its last error kept); `false` when no failed row has `id`.
    async fn retry_outbox(&self, id: &str, now: i64) -> Result<bool>;

    /// Closes the connections.
    async fn close(&self);
}

/// One atomic change: records and their audit entries commit together or not at all.
#[async_trait]
pub trait WriteTx: Send {
    /// One record, as this transaction sees it.
    async fn get(&mut self, kind: Kind, id: &str) -> Result<Option<Row>>;

    /// All records under a parent, in id order.
    async fn children(&mut self, kind: Kind, parent: &str) -> Result<Vec<Row>>;

    /// Every record of a kind, in id order: for the registries, which stay small.
    async fn all(&mut self, kind: Kind) -> Result<Vec<Row>>;

    /// Inserts the record, or replaces the body of the one with the same id.
    async fn put(&mut self, kind: Kind, row: &Row) -> Result<()>;

    /// Inserts file rows of a scan (never replaces one).
    async fn put_scan_files(&mut self, scan: &str, rows: &[(i64, String)]) -> Result<()>;

    /// The highest row number of a scan's files, if it has any.
    async fn last_scan_file(&mut self, scan: &str) -> Result<Option<i64>>;

    /// Sets which registered performers a declaration names (an index, rebuilt from the body).
    async fn set_performer_links(&mut self, declaration: &str, performers: &[String])
    -> Result<()>;

    /// The declarations that name a registered performer.
    async fn declarations_naming(&mut self, performer: &str) -> Result<Vec<String>>;

    /// The last audit entry's `seq` and hash, if any.
    async fn head(&mut self) -> Result<Option<(i64, String)>>;

    /// Appends an audit entry.
    async fn append(&mut self, entry: &AuditEntry) -> Result<()>;

    /// Enqueues outbox rows (never replaces one).
    async fn enqueue(&mut self, rows: &[OutboxRow]) -> Result<()>;

    /// Takes `key` for the event `event_id` (table `outbox_once`): `true` when it was free,
    /// `false` when an earlier write took it (then nothing is written).
    async fn outbox_once(&mut self, key: &str, event_id: &str, at: &str) -> Result<bool>;

    /// Stores a signed checkpoint.
    async fn add_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<()>;

    /// Commits; when this returns `Ok`, the change is durable.
    async fn commit(self: Box<Self>) -> Result<()>;
}
