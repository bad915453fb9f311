//! The embedded SQLite backend of the greenlight ledger: the default, one file
//! on one machine.
//!
//! This crate's single job is to implement [`greenlight_store::Store`] on
//! SQLite. It owns its migrations (`migrations/`, embedded, run on open).
//! The file is opened in WAL mode with `synchronous=FULL`, so a write that
//! returned `Ok` survives a crash or power cut, and with foreign keys on.
//! Every change takes the write lock up front (`BEGIN IMMEDIATE`), so audit
//! entries chain in order even with several processes on one file.
//!
//! Writes go through one write connection with group commit ([`GroupCommit`]):
//! writers that arrive together run one after another inside one transaction,
//! each in a savepoint of its own (a refused or abandoned write rolls back
//! alone), and the last of the group runs the `COMMIT`. Every writer's commit
//! returns only after that `COMMIT`, so every `Ok` is durable; one fsync serves
//! the whole group. A writer alone commits at once. [`SqliteStore::stats`]
//! counts writes and commits.
//!
//! ```no_run
//! # async fn demo() -> greenlight_store::Result<()> {
//! use std::sync::Arc;
//! use greenlight_store::{AuditKey, Ledger, SystemClock};
//! use greenlight_store_sqlite::SqliteStore;
//!
//! let store = SqliteStore::open("ledger.sqlite3").await?;
//! let key = AuditKey::load_or_create("audit.key".as_ref())?;
//! let ledger = Ledger::new(Arc::new(store), Arc::new(SystemClock), key);
//! assert!(ledger.verify().await?.is_ok());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod group;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use greenlight_store::{
    AUDIT_ENTRY_COLUMNS, AuditEntry, AuditEntryColumns, Checkpoint, DRAFT_COLUMNS, DraftColumns,
    DraftRow, FileRow, Kind, OUTBOX_COLUMNS, OutboxColumns, OutboxRow, OutboxStatus, Result, Row,
    RowColumns, SettleRow, Store, StoreError, WriteTx,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, QueryBuilder, Sqlite, SqlitePool};

pub use group::{GroupCommit, WriteStats};

/// The ledger in one SQLite file: a pool of read connections and one write
/// connection, owned by the group committer.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: group::Committer,
}

type RowTuple = RowColumns;
type EntryTuple = AuditEntryColumns;

fn db_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Conflict(format!("refers to a missing record: {}", db.message()))
        }
        _ => StoreError::Other(format!("sqlite: {error}")),
    }
}

fn select_columns(kind: Kind) -> String {
    format!(
        "SELECT id, {}, body FROM {}",
        kind.parent_column().unwrap_or("NULL"),
        kind.table()
    )
}

const ENTRY_COLUMNS: &str = AUDIT_ENTRY_COLUMNS;

/// The default place of the ledger file: `$XDG_DATA_HOME/greenlight/ledger.sqlite3`,
/// else `~/.local/share/greenlight/ledger.sqlite3`, else `greenlight.sqlite3` here.
pub fn default_path() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("share"))
        });
    match data {
        Some(dir) => dir.join("greenlight").join("ledger.sqlite3"),
        None => PathBuf::from("greenlight.sqlite3"),
    }
}

impl SqliteStore {
    /// Opens (creating on first use) the ledger at `target`: a file path or a
    /// `sqlite:` URL. Runs any pending migration. Writes are grouped with the
    /// default [`GroupCommit`]. Must be called inside a tokio runtime, which
    /// runs the committer.
    pub async fn open(target: &str) -> Result<Self> {
        SqliteStore::open_with(target, GroupCommit::default()).await
    }

    /// [`SqliteStore::open`] with the grouping of writes given
    /// ([`GroupCommit::OFF`]: each write its own transaction and fsync).
    pub async fn open_with(target: &str, group: GroupCommit) -> Result<Self> {
        let options = if target.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(target).map_err(db_error)?
        } else {
            let path = Path::new(target);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Other(format!("cannot create `{}`: {e}", dir.display()))
                })?;
            }
            SqliteConnectOptions::new().filename(path)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        // No ping before lending an idle connection (sqlx's default): a connection to a local
        // file does not go stale, and the ping is a round trip to the connection's thread on
        // every read.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("sqlite migration: {e}")))?;
        let conn = options.connect().await.map_err(db_error)?;
        let writer = group::Committer::start(conn, group)?;
        Ok(SqliteStore { pool, writer })
    }

    /// Counts of the write path since the store was opened: writes committed,
    /// `COMMIT`s run (fewer than writes when writers were grouped), rollbacks.
    pub fn stats(&self) -> WriteStats {
        self.writer.stats()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Row>> {
        let sql = format!("{} WHERE id = ?", select_columns(kind));
        let row: Option<RowTuple> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Row::from))
    }

    async fn page(
        &self,
        kind: Kind,
        parent: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Row>> {
        let mut sql = select_columns(kind);
        let mut conditions = Vec::new();
        let parent = match (parent, kind.parent_column()) {
            (Some(parent), Some(column)) => {
                conditions.push(format!("{column} = ?"));
                Some(parent)
            }
            (Some(_), None) => return Ok(Vec::new()),
            (None, _) => None,
        };
        if after.is_some() {
            conditions.push("id > ?".to_owned());
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY id LIMIT ?");
        let mut query = sqlx::query_as::<_, RowTuple>(&sql);
        if let Some(parent) = parent {
            query = query.bind(parent);
        }
        if let Some(after) = after {
            query = query.bind(after);
        }
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Row::from).collect())
    }

    async fn scan_file_page(&self, scan: &str, after: i64, limit: u32) -> Result<Vec<FileRow>> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT scan_id, seq, body FROM scan_files WHERE scan_id = ? AND seq > ? \
             ORDER BY seq LIMIT ?",
        )
        .bind(scan)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(FileRow::from).collect())
    }

    async fn all_scan_files(&self, after: Option<(&str, i64)>, limit: u32) -> Result<Vec<FileRow>> {
        let (scan, seq) = after.unwrap_or(("", i64::MIN));
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT scan_id, seq, body FROM scan_files WHERE (scan_id, seq) > (?, ?) \
             ORDER BY scan_id, seq LIMIT ?",
        )
        .bind(scan)
        .bind(seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(FileRow::from).collect())
    }

    async fn audit_page(&self, after: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?");
        let rows: Vec<EntryTuple> = sqlx::query_as(&sql)
            .bind(after.unwrap_or(i64::MIN))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    async fn checkpoint_page(&self, after: Option<i64>, limit: u32) -> Result<Vec<Checkpoint>> {
        let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, hash, at, key_id, signature FROM audit_checkpoints \
             WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after.unwrap_or(i64::MIN))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(seq, hash, at, key_id, signature)| Checkpoint {
                seq,
                hash,
                at,
                key_id,
                signature,
            })
            .collect())
    }

    async fn performer_links(&self) -> Result<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT declaration_id, performer_id FROM declaration_performers \
             ORDER BY declaration_id, performer_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn begin(&self) -> Result<Box<dyn WriteTx>> {
        // The write connection, inside the group's `BEGIN IMMEDIATE` transaction
        // (the file's write lock is held, so the chain head read next cannot go
        // stale) and a savepoint of this write's own.
        let lease = self.writer.begin().await?;
        Ok(Box::new(SqliteTx { lease }))
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        lease: &str,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        // One statement on the write connection, inside its `BEGIN IMMEDIATE`: no other
        // writer (process or task) runs between the choice of rows and their lease.
        let sql = format!(
            "UPDATE outbox SET lease = ?, leased_until = ? WHERE id IN (\
             SELECT id FROM outbox WHERE status = 'pending' AND next_at <= ? \
             AND (leased_until IS NULL OR leased_until <= ?) ORDER BY next_at, id LIMIT ?) \
             RETURNING {OUTBOX_COLUMNS}"
        );
        let mut tx = self.writer.begin().await?;
        let rows: Vec<OutboxColumns> = sqlx::query_as(&sql)
            .bind(lease)
            .bind(lease_until)
            .bind(now)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(tx.conn()?)
            .await
            .map_err(db_error)?;
        tx.commit().await?;
        rows.into_iter().map(OutboxRow::try_from).collect()
    }

    async fn settle_outbox(&self, id: &str, lease: &str, change: &SettleRow) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = ?, attempts = ?, next_at = ?, last_error = ?, \
             sent_at = ?, lease = NULL, leased_until = NULL WHERE id = ? AND lease = ?",
        )
        .bind(change.status.as_str())
        .bind(i64::from(change.attempts))
        .bind(change.next_at)
        .bind(&change.last_error)
        .bind(&change.sent_at)
        .bind(id)
        .bind(lease)
        .execute(tx.conn()?)
        .await
        .map_err(db_error)?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_page(
        &self,
        status: Option<OutboxStatus>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE (? IS NULL OR status = ?) AND id > ? \
             ORDER BY id LIMIT ?"
        );
        let status = status.map(OutboxStatus::as_str);
        let rows: Vec<OutboxColumns> = sqlx::query_as(&sql)
            .bind(status)
            .bind(status)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(OutboxRow::try_from).collect()
    }

    async fn save_draft(&self, draft: &DraftRow) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "INSERT INTO drafts (id, author, declaration_id, title, body, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET declaration_id = excluded.declaration_id, \
             title = excluded.title, body = excluded.body, updated_at = excluded.updated_at \
             WHERE drafts.author = excluded.author",
        )
        .bind(&draft.id)
        .bind(&draft.author)
        .bind(&draft.declaration_id)
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(&draft.created_at)
        .bind(&draft.updated_at)
        .execute(tx.conn()?)
        .await
        .map_err(db_error)?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_row(&self, id: &str) -> Result<Option<OutboxRow>> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?");
        let row: Option<OutboxColumns> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(OutboxRow::try_from).transpose()
    }

    async fn retry_outbox(&self, id: &str, now: i64) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_at = ?, lease = NULL, \
             leased_until = NULL WHERE id = ? AND status = 'failed'",
        )
        .bind(now)
        .bind(id)
        .execute(tx.conn()?)
        .await
        .map_err(db_error)?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn draft(&self, id: &str) -> Result<Option<DraftRow>> {
        let sql = format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = ?");
        let row: Option<DraftColumns> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(DraftRow::from))
    }

    async fn drafts_of(
        &self,
        author: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DraftRow>> {
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM drafts WHERE author = ? AND id > ? ORDER BY id LIMIT ?"
        );
        let rows: Vec<DraftColumns> = sqlx::query_as(&sql)
            .bind(author)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(DraftRow::from).collect())
    }

    async fn delete_draft(&self, id: &str, author: &str) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query("DELETE FROM drafts WHERE id = ? AND author = ?")
            .bind(id)
            .bind(author)
            .execute(tx.conn()?)
            .await
            .map_err(db_error)?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// One write: the leased write connection. Dropped without `commit`, its
/// savepoint is rolled back (the rest of its group is untouched).
struct SqliteTx {
    lease: group::Lease,
}

#[async_trait]
impl WriteTx for SqliteTx {
    async fn get(&mut self, kind: Kind, id: &str) -> Result<Option<Row>> {
        let sql = format!("{} WHERE id = ?", select_columns(kind));
        let row: Option<RowTuple> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.lease.conn()?)
            .await
            .map_err(db_error)?;
        Ok(row.map(Row::from))
    }

    async fn children(&mut self, kind: Kind, parent: &str) -> Result<Vec<Row>> {
        let Some(column) = kind.parent_column() else {
            return Ok(Vec::new());
        };
        let sql = format!("{} WHERE {column} = ? ORDER BY id", select_columns(kind));
        let rows: Vec<RowTuple> = sqlx::query_as(&sql)
            .bind(parent)
            .fetch_all(self.lease.conn()?)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Row::from).collect())
    }

    async fn all(&mut self, kind: Kind) -> Result<Vec<Row>> {
        let sql = format!("{} ORDER BY id", select_columns(kind));
        let rows: Vec<RowTuple> = sqlx::query_as(&sql)
            .fetch_all(self.lease.conn()?)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Row::from).collect())
    }

    async fn put(&mut self, kind: Kind, row: &Row) -> Result<()> {
        let table = kind.table();
        let query = match kind.parent_column() {
            Some(column) => {
                let sql = format!(
                    "INSERT INTO {table} (id, {column}, body) VALUES (?, ?, ?) \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body"
                );
                sqlx::query(&sql)
                    .bind(&row.id)
                    .bind(&row.parent)
                    .bind(&row.body)
                    .execute(self.lease.conn()?)
                    .await
            }
            None => {
                let sql = format!(
                    "INSERT INTO {table} (id, body) VALUES (?, ?) \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body"
                );
                sqlx::query(&sql)
                    .bind(&row.id)
                    .bind(&row.body)
                    .execute(self.lease.conn()?)
                    .await
            }
        };
        query.map(|_| ()).map_err(db_error)
    }

    async fn put_scan_files(&mut self, scan: &str, rows: &[(i64, String)]) -> Result<()> {
        // Several rows a statement, within SQLite's limit on bound values.
        for chunk in rows.chunks(300) {
            let mut insert =
                QueryBuilder::<Sqlite>::new("INSERT INTO scan_files (scan_id, seq, body) ");
            insert.push_values(chunk, |mut row, (seq, body)| {
                row.push_bind(scan).push_bind(*seq).push_bind(body);
            });
            insert
                .build()
                .execute(self.lease.conn()?)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    async fn last_scan_file(&mut self, scan: &str) -> Result<Option<i64>> {
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT max(seq) FROM scan_files WHERE scan_id = ?")
                .bind(scan)
                .fetch_one(self.lease.conn()?)
                .await
                .map_err(db_error)?;
        Ok(last)
    }

    async fn set_performer_links(
        &mut self,
        declaration: &str,
        performers: &[String],
    ) -> Result<()> {
        sqlx::query("DELETE FROM declaration_performers WHERE declaration_id = ?")
            .bind(declaration)
            .execute(self.lease.conn()?)
            .await
            .map_err(db_error)?;
        for performer in performers {
            sqlx::query(
                "INSERT INTO declaration_performers (declaration_id, performer_id) VALUES (?, ?)",
            )
            .bind(declaration)
            .bind(performer)
            .execute(self.lease.conn()?)
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn declarations_naming(&mut self, performer: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT declaration_id FROM declaration_performers WHERE performer_id = ? \
             ORDER BY declaration_id",
        )
        .bind(performer)
        .fetch_all(self.lease.conn()?)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn head(&mut self) -> Result<Option<(i64, String)>> {
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(self.lease.conn()?)
            .await
            .map_err(db_error)
    }

    async fn append(&mut self, entry: &AuditEntry) -> Result<()> {
        let sql = format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(&sql)
            .bind(entry.seq)
            .bind(&entry.at)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.kind)
            .bind(&entry.record_id)
            .bind(&entry.before)
            .bind(&entry.after)
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .execute(self.lease.conn()?)
            .await
            .map(|_| ())
            .map_err(db_error)
    }

    async fn enqueue(&mut self, rows: &[OutboxRow]) -> Result<()> {
        for row in rows {
            sqlx::query(
                "INSERT INTO outbox (id, event_id, event, channel, recipient, production_id, \
                 body, status, attempts, next_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&row.id)
            .bind(&row.event_id)
            .bind(row.event.as_str())
            .bind(row.channel.as_str())
            .bind(&row.recipient)
            .bind(&row.production_id)
            .bind(&row.body)
            .bind(row.status.as_str())
            .bind(i64::from(row.attempts))
            .bind(greenlight_store::outbox_millis(row.next_at))
            .bind(row.created_at.to_string())
            .execute(self.lease.conn()?)
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn outbox_once(&mut self, key: &str, event_id: &str, at: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO outbox_once (key, event_id, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(event_id)
        .bind(at)
        .execute(self.lease.conn()?)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn add_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(checkpoint.seq)
        .bind(&checkpoint.hash)
        .bind(&checkpoint.at)
        .bind(&checkpoint.key_id)
        .bind(&checkpoint.signature)
        .execute(self.lease.conn()?)
        .await
        .map(|_| ())
        .map_err(db_error)
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.lease.commit().await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_durable_with_foreign_keys_and_migrates_once() {
        let dir = std::env::temp_dir().join(format!("gl-sqlite-{}", uuid::Uuid::now_v7()));
        let path = dir.join("nested").join("ledger.sqlite3");
        let target = path.to_string_lossy().into_owned();
        let store = SqliteStore::open(&target).await.unwrap();
        let mut conn = store.pool.acquire().await.unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
        drop(conn);

        // A record whose parent does not exist is refused by the database itself.
        let mut tx = store.begin().await.unwrap();
        let orphan = Row {
            id: "c".to_owned(),
            parent: Some("no-such-performer".to_owned()),
            body: "{}".to_owned(),
        };
        let refused = tx.put(Kind::Consent, &orphan).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        drop(tx);
        store.close().await;

        // Opening again finds the schema in place.
        let again = SqliteStore::open(&format!("sqlite://{target}"))
            .await
            .unwrap();
        assert!(
            again
                .page(Kind::Tool, None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        again.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_default_path_is_under_the_data_directory() {
        let path = default_path();
        assert!(path.ends_with("ledger.sqlite3") || path.ends_with("greenlight.sqlite3"));
    }
}
