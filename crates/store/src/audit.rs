//! The audit log: a hash chain of entries, with checkpoints signed by an
//! ed25519 key kept outside the database.
//!
//! Entry hash = sha256 of the JSON text of
//! `{"v":1,"seq":…,"at":…,"actor":…,"action":…,"kind":…,"record_id":…,"before":…,"after":…,"prev_hash":…}`
//! (keys in that order, no spaces, `before`/`after` the records' JSON text or
//! null), as lowercase hex; the first entry's `prev_hash` is 64 zeros.
//! A checkpoint signs `greenlight audit checkpoint v1\nseq {seq}\nhash {hash}\nat {at}\n`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write as _;
use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::backend::{Kind, Store};
use crate::error::{Result, StoreError};
use crate::records::{BatchDigest, ScanBatch};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many rows verification reads at a time.
const BATCH: u32 = 1_000;

/// The audit log's columns, in the order [`AuditEntryColumns`] holds them.
pub const AUDIT_ENTRY_COLUMNS: &str =
    "seq, at, actor, action, kind, record_id, before_body, after_body, prev_hash, hash";

/// An audit entry's columns as a backend selects them ([`AUDIT_ENTRY_COLUMNS`]).
pub type AuditEntryColumns = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

impl From<AuditEntryColumns> for AuditEntry {
    fn from(t: AuditEntryColumns) -> AuditEntry {
        let (seq, at, actor, action, kind, record_id, before, after, prev_hash, hash) = t;
        AuditEntry {
            seq,
            at,
            actor,
            action,
            kind,
            record_id,
            before,
            after,
            prev_hash,
            hash,
        }
    }
}

/// One entry of the audit log, exactly as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its position, from 1, with no gaps.
    pub seq: i64,
    /// When (UTC, fixed text form).
    pub at: String,
    /// Who made the change.
    pub actor: String,
    /// `create` or `update`.
    pub action: String,
    /// The kind of record changed.
    pub kind: String,
    /// The id of the record changed.
    pub record_id: String,
    /// The record's JSON before, or `None` when created.
    pub before: Option<String>,
    /// The record's JSON after.
    pub after: Option<String>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

#[derive(Serialize)]
struct HashedFields<'a> {
    v: u32,
    seq: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    kind: &'a str,
    record_id: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    prev_hash: &'a str,
}

impl AuditEntry {
    /// The hash this entry's contents give (what `hash` must hold).
    pub fn compute_hash(&self) -> String {
        let fields = HashedFields {
            v: 1,
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            kind: &self.kind,
            record_id: &self.record_id,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
            prev_hash: &self.prev_hash,
        };
        // Serializing plain strings and integers cannot fail.
        let text = serde_json::to_vec(&fields).unwrap_or_default();
        sha256_hex(&text)
    }
}

/// The sha256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A signed statement that the chain ended at `seq` with `hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The entry signed.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When it was signed.
    pub at: String,
    /// The signing key's public half, hex.
    pub key_id: String,
    /// The ed25519 signature, hex.
    pub signature: String,
}

impl Checkpoint {
    /// The exact bytes signed.
    pub fn message(seq: i64, hash: &str, at: &str) -> Vec<u8> {
        format!("greenlight audit checkpoint v1\nseq {seq}\nhash {hash}\nat {at}\n").into_bytes()
    }
}

/// The ed25519 key that signs checkpoints, read from a file outside the database.
///
/// The file holds the 32-byte secret seed as 64 hex digits.
pub struct AuditKey {
    signing: SigningKey,
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl AuditKey {
    /// A new random key (not saved).
    pub fn generate() -> Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|e| StoreError::Other(format!("no randomness for a new key: {e}")))?;
        Ok(AuditKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads the key at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            StoreError::Other(format!("cannot read audit key `{}`: {e}", path.display()))
        })?;
        let bytes = hex::decode(text.trim()).map_err(|_| bad_key(path))?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| bad_key(path))?;
        Ok(AuditKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads the key at `path`, creating it (mode 0600) when the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        if path.exists() {
            return AuditKey::load(path);
        }
        let key = AuditKey::generate()?;
        key.save(path)?;
        Ok(key)
    }

    /// Writes the key to a new file at `path` (never overwrites).
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(StoreError::other)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| {
            StoreError::Other(format!("cannot create audit key `{}`: {e}", path.display()))
        })?;
        writeln!(file, "{}", hex::encode(self.signing.to_bytes())).map_err(StoreError::other)?;
        file.sync_all().map_err(StoreError::other)
    }

    /// The public half, which verification needs.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public half as hex: the id written in each checkpoint.
    pub fn key_id(&self) -> String {
        hex::encode(self.verifying_key().to_bytes())
    }

    /// Signs a checkpoint at the entry `seq` with `hash`.
    pub fn checkpoint(&self, seq: i64, hash: &str, at: &str) -> Checkpoint {
        let signature = self.signing.sign(&Checkpoint::message(seq, hash, at));
        Checkpoint {
            seq,
            hash: hash.to_owned(),
            at: at.to_owned(),
            key_id: self.key_id(),
            signature: hex::encode(signature.to_bytes()),
        }
    }
}

/// A public key from its hex form (a checkpoint's `key_id`), for verifying
/// with the public half only.
pub fn public_key_from_hex(text: &str) -> Result<VerifyingKey> {
    let bad = || {
        StoreError::Other(format!(
            "`{text}` is not an ed25519 public key (64 hex digits)"
        ))
    };
    let bytes = hex::decode(text.trim()).map_err(|_| bad())?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())
}

fn bad_key(path: &Path) -> StoreError {
    StoreError::Other(format!(
        "audit key `{}` is not 64 hex digits (a 32-byte ed25519 seed)",
        path.display()
    ))
}

/// Something wrong that verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The entry expected at `seq` is not there (deleted, or the log reordered).
    Missing {
        /// The position expected.
        seq: i64,
        /// The position found there instead.
        found: i64,
    },
    /// The entry's contents do not give its hash (edited).
    HashMismatch {
        /// The entry.
        seq: i64,
    },
    /// The entry does not link to the one before it.
    BrokenLink {
        /// The entry.
        seq: i64,
    },
    /// A checkpoint names an entry that is not in the log.
    CheckpointWithoutEntry {
        /// The checkpoint's position.
        seq: i64,
    },
    /// A checkpoint's hash is not the entry's hash (the chain was rewritten).
    CheckpointMismatch {
        /// The checkpoint's position.
        seq: i64,
    },
    /// A checkpoint's signature does not verify with the key.
    BadSignature {
        /// The checkpoint's position.
        seq: i64,
    },
    /// Entries after the last signed checkpoint (appended outside the ledger, or the checkpoint deleted).
    Unsigned {
        /// The first unsigned entry.
        from: i64,
        /// The last.
        to: i64,
    },
    /// A record differs from what its last audit entry says it became.
    RecordChanged {
        /// The record's kind.
        kind: String,
        /// Its id.
        id: String,
        /// The last entry that wrote it.
        seq: i64,
    },
    /// A record the log says exists is gone.
    RecordMissing {
        /// The record's kind.
        kind: String,
        /// Its id.
        id: String,
        /// The last entry that wrote it.
        seq: i64,
    },
    /// The performer index of a declaration differs from its current decision.
    IndexChanged {
        /// The declaration.
        declaration: String,
        /// The last entry that wrote its current decision.
        seq: i64,
    },
    /// The file rows of a scan batch differ from the digest its entry recorded (a row
    /// changed, removed or renumbered outside the ledger).
    ScanFilesChanged {
        /// The batch (`SCAN/FIRST`).
        batch: String,
        /// The entry that wrote the batch.
        seq: i64,
    },
    /// A record that no audit entry wrote.
    RecordUnlogged {
        /// The record's kind.
        kind: String,
        /// Its id.
        id: String,
    },
}

impl Problem {
    /// The audit entry the problem is at, when there is one.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Problem::Missing { seq, .. }
            | Problem::HashMismatch { seq }
            | Problem::BrokenLink { seq }
            | Problem::CheckpointWithoutEntry { seq }
            | Problem::CheckpointMismatch { seq }
            | Problem::BadSignature { seq }
            | Problem::RecordChanged { seq, .. }
            | Problem::RecordMissing { seq, .. }
            | Problem::IndexChanged { seq, .. }
            | Problem::ScanFilesChanged { seq, .. } => Some(*seq),
            Problem::Unsigned { from, .. } => Some(*from),
            Problem::RecordUnlogged { .. } => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { seq, found } => {
                write!(f, "entry {seq}: missing (found entry {found} in its place)")
            }
            Problem::HashMismatch { seq } => {
                write!(f, "entry {seq}: contents do not match its hash (edited)")
            }
            Problem::BrokenLink { seq } => write!(
                f,
                "entry {seq}: does not link to the entry before it (an entry was changed, removed or inserted)"
            ),
            Problem::CheckpointWithoutEntry { seq } => {
                write!(f, "entry {seq}: signed by a checkpoint but not in the log")
            }
            Problem::CheckpointMismatch { seq } => write!(
                f,
                "entry {seq}: hash differs from the signed checkpoint (the chain was rewritten)"
            ),
            Problem::BadSignature { seq } => {
                write!(f, "entry {seq}: checkpoint signature does not verify")
            }
            Problem::Unsigned { from, to } => write!(
                f,
                "entry {from}: entries {from} to {to} are covered by no signed checkpoint"
            ),
            Problem::RecordChanged { kind, id, seq } => write!(
                f,
                "entry {seq}: {kind} `{id}` differs from what this entry recorded (changed outside the ledger)"
            ),
            Problem::RecordMissing { kind, id, seq } => write!(
                f,
                "entry {seq}: {kind} `{id}` recorded here is missing (deleted outside the ledger)"
            ),
            Problem::IndexChanged { declaration, seq } => write!(
                f,
                "entry {seq}: the performers indexed for declaration `{declaration}` differ from its decision (changed outside the ledger)"
            ),
            Problem::ScanFilesChanged { batch, seq } => write!(
                f,
                "entry {seq}: the file rows of scan batch `{batch}` differ from what this entry recorded (changed, removed or renumbered outside the ledger)"
            ),
            Problem::RecordUnlogged { kind, id } => write!(
                f,
                "{kind} `{id}` has no audit entry (inserted outside the ledger)"
            ),
        }
    }
}

/// What verification checked and found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read.
    pub entries: u64,
    /// Checkpoints whose signatures were checked.
    pub checkpoints: u64,
    /// Records compared with the log.
    pub records: u64,
    /// Problems, in order of the entry they are at.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Nothing was found wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first bad entry, when a problem names one.
    pub fn first_bad_entry(&self) -> Option<i64> {
        self.problems.iter().filter_map(Problem::seq).min()
    }

    /// The first problem (the one at the first bad entry, else the first found).
    pub fn first_problem(&self) -> Option<&Problem> {
        self.problems.first()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ok() {
            return write!(
                f,
                "audit log ok: {} entries, {} signed checkpoints, {} records match",
                self.entries, self.checkpoints, self.records
            );
        }
        writeln!(f, "audit log has {} problem(s):", self.problems.len())?;
        for problem in &self.problems {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

/// Recomputes the chain, checks each checkpoint's signature against `key`,
/// and compares every record with the last entry that wrote it.
pub async fn verify<S: Store + ?Sized>(store: &S, key: &VerifyingKey) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let key_id = hex::encode(key.to_bytes());

    let mut checkpoints = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.checkpoint_page(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        for checkpoint in page {
            checkpoints.insert(checkpoint.seq, checkpoint);
        }
    }
    for checkpoint in checkpoints.values() {
        report.checkpoints += 1;
        if !signature_ok(checkpoint, key, &key_id) {
            report.problems.push(Problem::BadSignature {
                seq: checkpoint.seq,
            });
        }
    }

    // The last entry that wrote each record: (seq, sha256 of the body after).
    let mut last_write: HashMap<(String, String), (i64, Option<String>)> = HashMap::new();
    // Every scan batch the log wrote, as the log wrote it: its file rows are checked against it.
    let mut batches = Batches::default();
    let mut expected_seq = 1;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut after = None;
    let mut last_signed = 0;
    let mut last_seq = 0;
    loop {
        let page = store.audit_page(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        for entry in page {
            report.entries += 1;
            if entry.seq != expected_seq {
                report.problems.push(Problem::Missing {
                    seq: expected_seq,
                    found: entry.seq,
                });
            }
            if entry.compute_hash() != entry.hash {
                report
                    .problems
                    .push(Problem::HashMismatch { seq: entry.seq });
            } else if entry.prev_hash != prev_hash && entry.seq == expected_seq {
                report.problems.push(Problem::BrokenLink { seq: entry.seq });
            }
            if let Some(checkpoint) = checkpoints.remove(&entry.seq) {
                if checkpoint.hash != entry.hash {
                    report
                        .problems
                        .push(Problem::CheckpointMismatch { seq: entry.seq });
                }
                last_signed = entry.seq;
            }
            if entry.kind == Kind::ScanBatch.as_str()
                && let Some(after) = entry.after.as_deref()
            {
                batches.note(entry.seq, &entry.record_id, after);
            }
            last_write.insert(
                (entry.kind.clone(), entry.record_id.clone()),
                (
                    entry.seq,
                    entry.after.as_deref().map(|a| sha256_hex(a.as_bytes())),
                ),
            );
            expected_seq = entry.seq.saturating_add(1);
            prev_hash = entry.hash;
            last_seq = entry.seq;
        }
    }
    for seq in checkpoints.keys() {
        report
            .problems
            .push(Problem::CheckpointWithoutEntry { seq: *seq });
    }
    if last_seq > last_signed {
        report.problems.push(Problem::Unsigned {
            from: last_signed + 1,
            to: last_seq,
        });
    }

    // Per declaration: its current decision's id, last entry and performers.
    let mut decided: HashMap<String, (String, i64, Vec<String>)> = HashMap::new();
    for kind in Kind::ALL {
        let mut after: Option<String> = None;
        loop {
            let page = store.page(kind, None, after.as_deref(), BATCH).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for row in page {
                report.records += 1;
                let written = last_write.remove(&(kind.as_str().to_owned(), row.id.clone()));
                let body_hash = sha256_hex(row.body.as_bytes());
                let parent_ok = parent_matches(kind, &row.parent, &row.body);
                if kind == Kind::Decision
                    && let (Some(declaration), Some((seq, _))) = (&row.parent, &written)
                {
                    decided.insert(
                        declaration.clone(),
                        (row.id.clone(), *seq, performers_of(&row.body)),
                    );
                }
                match written {
                    Some((seq, Some(hash))) => {
                        if hash != body_hash || !parent_ok {
                            report.problems.push(Problem::RecordChanged {
                                kind: kind.as_str().to_owned(),
                                id: row.id,
                                seq,
                            });
                        }
                    }
                    Some((seq, None)) => report.problems.push(Problem::RecordChanged {
                        kind: kind.as_str().to_owned(),
                        id: row.id,
                        seq,
                    }),
                    None => report.problems.push(Problem::RecordUnlogged {
                        kind: kind.as_str().to_owned(),
                        id: row.id,
                    }),
                }
            }
        }
    }
    check_scan_files(store, batches, &mut report).await?;
    let mut indexed: HashMap<String, Vec<String>> = HashMap::new();
    for (declaration, performer) in store.performer_links().await? {
        indexed.entry(declaration).or_default().push(performer);
    }
    for (declaration, (_, seq, mut expected)) in decided {
        expected.sort();
        let mut found = indexed.remove(&declaration).unwrap_or_default();
        found.sort();
        if found != expected {
            report
                .problems
                .push(Problem::IndexChanged { declaration, seq });
        }
    }
    for declaration in indexed.into_keys() {
        report.problems.push(Problem::RecordUnlogged {
            kind: "declaration_performers".to_owned(),
            id: declaration,
        });
    }
    for ((kind, id), (seq, after)) in last_write {
        if after.is_some() {
            report
                .problems
                .push(Problem::RecordMissing { kind, id, seq });
        }
    }

    report
        .problems
        .sort_by_key(|p| (p.seq().unwrap_or(i64::MAX), p.to_string()));
    Ok(report)
}

/// The scan batches the log wrote, by (scan, first row): (last row, digest, entry, batch id).
#[derive(Default)]
struct Batches(BTreeMap<(String, i64), (i64, String, i64, String)>);

impl Batches {
    /// Notes a batch from its entry's `after` text (the latest entry for a batch wins; a
    /// batch that does not parse is left to the record check, which compares the text).
    fn note(&mut self, seq: i64, id: &str, after: &str) {
        let Ok(batch) = serde_json::from_str::<ScanBatch>(after) else {
            return;
        };
        let (Ok(first), Ok(last)) = (i64::try_from(batch.first), i64::try_from(batch.last)) else {
            return;
        };
        self.0.insert(
            (batch.scan_id.to_string(), first),
            (last, batch.sha256, seq, id.to_owned()),
        );
    }
}

/// One batch being checked against the rows read so far.
struct Open {
    scan: String,
    first: i64,
    last: i64,
    sha256: String,
    seq: i64,
    id: String,
    next: i64,
    digest: BatchDigest,
    bad: bool,
}

impl Open {
    fn close(self, report: &mut VerifyReport) {
        let rows = u64::try_from(self.last - self.first + 1).unwrap_or(0);
        if self.bad || self.digest.rows != rows || self.digest.finish() != self.sha256 {
            report.problems.push(Problem::ScanFilesChanged {
                batch: self.id,
                seq: self.seq,
            });
        }
    }
}

/// Reads every scan's file rows in key order, a page at a time, and checks each batch's rows
/// against the digest its entry recorded; a row that no batch covers was inserted outside
/// the ledger.
async fn check_scan_files<S: Store + ?Sized>(
    store: &S,
    batches: Batches,
    report: &mut VerifyReport,
) -> Result<()> {
    let mut pending = batches.0.into_iter().peekable();
    let mut open: Option<Open> = None;
    let mut after: Option<(String, i64)> = None;
    loop {
        let page = store
            .all_scan_files(after.as_ref().map(|(s, n)| (s.as_str(), *n)), BATCH)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.scan_id.clone(), last.seq));
        for row in page {
            report.records += 1;
            // Close the open batch once the rows have gone past it.
            if let Some(batch) = open.take() {
                if batch.scan == row.scan_id && row.seq <= batch.last {
                    open = Some(batch);
                } else {
                    batch.close(report);
                }
            }
            // Batches wholly before this row have no rows left: closed with what they got.
            while open.is_none()
                && let Some(((scan, first), _)) = pending.peek()
            {
                let key = (scan.as_str(), *first);
                if key > (row.scan_id.as_str(), row.seq) {
                    break;
                }
                let Some(((scan, first), (last, sha256, seq, id))) = pending.next() else {
                    break;
                };
                let batch = Open {
                    scan,
                    first,
                    last,
                    sha256,
                    seq,
                    id,
                    next: first,
                    digest: BatchDigest::default(),
                    bad: false,
                };
                if batch.scan == row.scan_id && row.seq <= batch.last {
                    open = Some(batch);
                } else {
                    batch.close(report);
                }
            }
            match open.as_mut() {
                Some(batch) if batch.scan == row.scan_id && row.seq >= batch.first => {
                    if row.seq != batch.next {
                        batch.bad = true;
                    }
                    batch.next = row.seq.saturating_add(1);
                    batch
                        .digest
                        .add(u64::try_from(row.seq).unwrap_or_default(), &row.body);
                }
                _ => report.problems.push(Problem::RecordUnlogged {
                    kind: "scan_file".to_owned(),
                    id: format!("{}/{:010}", row.scan_id, row.seq),
                }),
            }
        }
    }
    if let Some(batch) = open {
        batch.close(report);
    }
    for ((scan, first), (last, sha256, seq, id)) in pending {
        Open {
            scan,
            first,
            last,
            sha256,
            seq,
            id,
            next: first,
            digest: BatchDigest::default(),
            bad: false,
        }
        .close(report);
    }
    Ok(())
}

fn signature_ok(checkpoint: &Checkpoint, key: &VerifyingKey, key_id: &str) -> bool {
    if checkpoint.key_id != key_id {
        return false;
    }
    let Ok(bytes) = hex::decode(&checkpoint.signature) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&bytes) else {
        return false;
    };
    key.verify_strict(
        &Checkpoint::message(checkpoint.seq, &checkpoint.hash, &checkpoint.at),
        &signature,
    )
    .is_ok()
}

/// The registered performers a decision's body names.
fn performers_of(body: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("performers")?.as_array().map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// The parent column must repeat the parent field of the body.
fn parent_matches(kind: Kind, parent: &Option<String>, body: &str) -> bool {
    let Some(field) = kind.parent_field() else {
        return parent.is_none();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    value.get(field).and_then(|v| v.as_str()) == parent.as_deref()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        let mut entry = AuditEntry {
            seq: 1,
            at: "2026-11-27T12:00:00.000000Z".into(),
            actor: "ana".into(),
            action: "create".into(),
            kind: "tool".into(),
            record_id: "x".into(),
            before: None,
            after: Some(r#"{"a":1}"#.into()),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let base = entry();
        type Edit = Box<dyn Fn(&mut AuditEntry)>;
        let edits: Vec<Edit> = vec![
            Box::new(|e| e.seq = 2),
            Box::new(|e| e.at.push('x')),
            Box::new(|e| e.actor.push('x')),
            Box::new(|e| e.action.push('x')),
            Box::new(|e| e.kind.push('x')),
            Box::new(|e| e.record_id.push('x')),
            Box::new(|e| e.before = Some("{}".into())),
            Box::new(|e| e.after = None),
            Box::new(|e| e.prev_hash.push('0')),
        ];
        for edit in edits {
            let mut changed = base.clone();
            edit(&mut changed);
            assert_ne!(changed.compute_hash(), base.hash);
        }
    }

    #[test]
    fn checkpoints_verify_only_with_their_key() {
        let key = AuditKey::generate().unwrap();
        let other = AuditKey::generate().unwrap();
        let checkpoint = key.checkpoint(3, "ab", "t");
        assert!(signature_ok(
            &checkpoint,
            &key.verifying_key(),
            &key.key_id()
        ));
        assert!(!signature_ok(
            &checkpoint,
            &other.verifying_key(),
            &other.key_id()
        ));
        let mut forged = checkpoint.clone();
        forged.seq = 4;
        assert!(!signature_ok(&forged, &key.verifying_key(), &key.key_id()));
    }

    #[test]
    fn a_key_file_round_trips_and_is_private() {
        let dir = std::env::temp_dir().join(format!("gl-key-{}", uuid::Uuid::now_v7()));
        let path = dir.join("audit.key");
        let key = AuditKey::load_or_create(&path).unwrap();
        let again = AuditKey::load_or_create(&path).unwrap();
        assert_eq!(key.key_id(), again.key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
