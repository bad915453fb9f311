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
//! Reads go through a pool of sqlx connections, which also runs the
//! migrations. Writes go through one write connection (rusqlite: its
//! statements run in place, where sqlx's SQLite driver hops to a thread of
//! the connection's and back for each one) with group commit ([`GroupCommit`]):
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
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use greenlight_store::{
    AUDIT_ENTRY_COLUMNS, AuditEntry, AuditEntryColumns, Checkpoint, DRAFT_COLUMNS, DraftColumns,
    DraftRow, FileRow, Kind, OUTBOX_COLUMNS, OutboxColumns, OutboxRow, OutboxStatus, Result, Row,
    RowColumns, SettleRow, Store, StoreError, WriteTx,
};
use rusqlite::{OptionalExtension as _, params};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use group::{GroupCommit, WriteStats};

/// The ledger in one SQLite file: a pool of read connections, a few read-only
/// connections for reads of one record by id, and one write connection, owned
/// by the group committer.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    lookups: Arc<Lookups>,
    writer: group::Committer,
}

/// How many read-only connections serve reads of one record by id: one for each
/// thread that may run one at a time (a lookup holds its connection only while
/// it runs, with no `.await`); when none is free, the read goes through the pool.
const LOOKUPS: usize = 4;

/// Reads of one record by id, in place: the token, user and production that
/// every request reads before it acts. Each is a lookup by primary key in pages
/// the file's readers share, a few microseconds, where the pool hops to a
/// connection thread and back. Read-only and never waiting: if the file is busy
/// (a WAL recovery) the read goes through the pool, which waits.
#[derive(Debug)]
struct Lookups {
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl Lookups {
    fn open(file: &Path) -> Result<Lookups> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut idle = Vec::with_capacity(LOOKUPS);
        for _ in 0..LOOKUPS {
            let conn = rusqlite::Connection::open_with_flags(file, flags).map_err(sql_error)?;
            // Never wait on the runtime's thread: a busy file sends the read to the pool.
            conn.busy_timeout(Duration::ZERO).map_err(sql_error)?;
            conn.set_prepared_statement_cache_capacity(Kind::ALL.len());
            idle.push(conn);
        }
        Ok(Lookups {
            idle: Mutex::new(idle),
        })
    }

    /// The record, or `None` when no connection is free or the file is busy.
    fn get(&self, kind: Kind, id: &str) -> Option<Result<Option<Row>>> {
        let conn = self.idle.lock().ok()?.pop()?;
        let found = record_by_id(&conn, kind, id);
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        match found {
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if matches!(
                    failure.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                None
            }
            found => Some(found.map_err(sql_error)),
        }
    }
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

/// The write connection, on the file the pool opened (and migrated): durable
/// (`synchronous=FULL`), WAL, foreign keys on, waiting up to 30 s for the write lock.
fn write_connection(file: &Path) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    if file.as_os_str() == ":memory:" || file.as_os_str().is_empty() {
        return Err(StoreError::Other(
            "sqlite: the ledger must be a file (an in-memory database is not shared between \
             its connections)"
                .to_owned(),
        ));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = rusqlite::Connection::open_with_flags(file, flags).map_err(sql_error)?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(sql_error)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(sql_error)?;
    // Every statement of the write path, each kind's get, put and children included.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// An error of the write connection, as [`db_error`] words one of the pool's.
fn sql_error(error: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(failure, message) = &error {
        let message = message.clone().unwrap_or_else(|| failure.to_string());
        match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StoreError::Conflict(message);
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return StoreError::Conflict(format!("refers to a missing record: {message}"));
            }
            _ => {}
        }
    }
    StoreError::Other(format!("sqlite: {error}"))
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
        let file = options.get_filename().to_owned();
        let (conn, lookups) = tokio::task::spawn_blocking(move || {
            Ok::<_, StoreError>((write_connection(&file)?, Lookups::open(&file)?))
        })
        .await
        .map_err(|e| {
            StoreError::Other(format!("sqlite: opening the ledger's connections: {e}"))
        })??;
        let writer = group::Committer::start(conn, group)?;
        Ok(SqliteStore {
            pool,
            lookups: Arc::new(lookups),
            writer,
        })
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
        if let Some(found) = self.lookups.get(kind, id) {
            return found;
        }
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
        let tx = self.writer.begin().await?;
        let rows = all_rows(
            tx.conn()?,
            &sql,
            params![lease, lease_until, now, now, i64::from(limit)],
            outbox_columns,
        )?;
        tx.commit().await?;
        rows.into_iter().map(OutboxRow::try_from).collect()
    }

    async fn settle_outbox(&self, id: &str, lease: &str, change: &SettleRow) -> Result<bool> {
        let tx = self.writer.begin().await?;
        let done = tx
            .conn()?
            .prepare_cached(
                "UPDATE outbox SET status = ?, attempts = ?, next_at = ?, last_error = ?, \
             sent_at = ?, lease = NULL, leased_until = NULL WHERE id = ? AND lease = ?",
            )
            .and_then(|mut s| {
                s.execute(params![
                    change.status.as_str(),
                    i64::from(change.attempts),
                    change.next_at,
                    change.last_error,
                    change.sent_at,
                    id,
                    lease
                ])
            })
            .map_err(sql_error)?;
        tx.commit().await?;
        Ok(done == 1)
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
        let tx = self.writer.begin().await?;
        let done = tx
            .conn()?
            .prepare_cached("INSERT INTO drafts (id, author, declaration_id, title, body, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET declaration_id = excluded.declaration_id, \
             title = excluded.title, body = excluded.body, updated_at = excluded.updated_at \
             WHERE drafts.author = excluded.author")
            .and_then(|mut s| s.execute(params![draft.id, draft.author, draft.declaration_id, draft.title, draft.body, draft.created_at, draft.updated_at]))
            .map_err(sql_error)?;
        tx.commit().await?;
        Ok(done == 1)
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
        let tx = self.writer.begin().await?;
        let done = tx
            .conn()?
            .prepare_cached(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_at = ?, lease = NULL, \
             leased_until = NULL WHERE id = ? AND status = 'failed'",
            )
            .and_then(|mut s| s.execute(params![now, id]))
            .map_err(sql_error)?;
        tx.commit().await?;
        Ok(done == 1)
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
        let tx = self.writer.begin().await?;
        let done = tx
            .conn()?
            .prepare_cached("DELETE FROM drafts WHERE id = ? AND author = ?")
            .and_then(|mut s| s.execute(params![id, author]))
            .map_err(sql_error)?;
        tx.commit().await?;
        Ok(done == 1)
    }

    async fn close(&self) {
        if let Ok(mut idle) = self.lookups.idle.lock() {
            idle.clear();
        }
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
        record_by_id(self.lease.conn()?, kind, id).map_err(sql_error)
    }

    async fn children(&mut self, kind: Kind, parent: &str) -> Result<Vec<Row>> {
        let Some(column) = kind.parent_column() else {
            return Ok(Vec::new());
        };
        let sql = format!("{} WHERE {column} = ? ORDER BY id", select_columns(kind));
        all_rows(self.lease.conn()?, &sql, [parent], row_of)
    }

    async fn all(&mut self, kind: Kind) -> Result<Vec<Row>> {
        let sql = format!("{} ORDER BY id", select_columns(kind));
        all_rows(self.lease.conn()?, &sql, [], row_of)
    }

    async fn put(&mut self, kind: Kind, row: &Row) -> Result<()> {
        let table = kind.table();
        let conn = self.lease.conn()?;
        match kind.parent_column() {
            Some(column) => {
                let sql = format!(
                    "INSERT INTO {table} (id, {column}, body) VALUES (?, ?, ?) \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body"
                );
                conn.prepare_cached(&sql)
                    .and_then(|mut s| s.execute(params![row.id, row.parent, row.body]))
            }
            None => {
                let sql = format!(
                    "INSERT INTO {table} (id, body) VALUES (?, ?) \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body"
                );
                conn.prepare_cached(&sql)
                    .and_then(|mut s| s.execute(params![row.id, row.body]))
            }
        }
        .map(|_| ())
        .map_err(sql_error)
    }

    async fn put_scan_files(&mut self, scan: &str, rows: &[(i64, String)]) -> Result<()> {
        let conn = self.lease.conn()?;
        let mut insert = conn
            .prepare_cached("INSERT INTO scan_files (scan_id, seq, body) VALUES (?, ?, ?)")
            .map_err(sql_error)?;
        for (seq, body) in rows {
            insert
                .execute(params![scan, seq, body])
                .map_err(sql_error)?;
        }
        Ok(())
    }

    async fn last_scan_file(&mut self, scan: &str) -> Result<Option<i64>> {
        let conn = self.lease.conn()?;
        conn.prepare_cached("SELECT max(seq) FROM scan_files WHERE scan_id = ?")
            .and_then(|mut s| s.query_row([scan], |r| r.get(0)))
            .map_err(sql_error)
    }

    async fn set_performer_links(
        &mut self,
        declaration: &str,
        performers: &[String],
    ) -> Result<()> {
        let conn = self.lease.conn()?;
        conn.prepare_cached("DELETE FROM declaration_performers WHERE declaration_id = ?")
            .and_then(|mut s| s.execute([declaration]))
            .map_err(sql_error)?;
        if performers.is_empty() {
            return Ok(());
        }
        let mut insert = conn
            .prepare_cached(
                "INSERT INTO declaration_performers (declaration_id, performer_id) VALUES (?, ?)",
            )
            .map_err(sql_error)?;
        for performer in performers {
            insert
                .execute(params![declaration, performer])
                .map_err(sql_error)?;
        }
        Ok(())
    }

    async fn declarations_naming(&mut self, performer: &str) -> Result<Vec<String>> {
        all_rows(
            self.lease.conn()?,
            "SELECT declaration_id FROM declaration_performers WHERE performer_id = ? \
             ORDER BY declaration_id",
            [performer],
            |r| r.get(0),
        )
    }

    async fn head(&mut self) -> Result<Option<(i64, String)>> {
        let conn = self.lease.conn()?;
        conn.prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(sql_error)
    }

    async fn append(&mut self, entry: &AuditEntry) -> Result<()> {
        let sql = format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let conn = self.lease.conn()?;
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.execute(params![
                    entry.seq,
                    entry.at,
                    entry.actor,
                    entry.action,
                    entry.kind,
                    entry.record_id,
                    entry.before,
                    entry.after,
                    entry.prev_hash,
                    entry.hash,
                ])
            })
            .map(|_| ())
            .map_err(sql_error)
    }

    async fn enqueue(&mut self, rows: &[OutboxRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let conn = self.lease.conn()?;
        let mut insert = conn
            .prepare_cached(
                "INSERT INTO outbox (id, event_id, event, channel, recipient, production_id, \
                 body, status, attempts, next_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .map_err(sql_error)?;
        for row in rows {
            insert
                .execute(params![
                    row.id,
                    row.event_id,
                    row.event.as_str(),
                    row.channel.as_str(),
                    row.recipient,
                    row.production_id,
                    row.body,
                    row.status.as_str(),
                    i64::from(row.attempts),
                    greenlight_store::outbox_millis(row.next_at),
                    row.created_at.to_string(),
                ])
                .map_err(sql_error)?;
        }
        Ok(())
    }

    async fn outbox_once(&mut self, key: &str, event_id: &str, at: &str) -> Result<bool> {
        let conn = self.lease.conn()?;
        let inserted = conn
            .prepare_cached(
                "INSERT INTO outbox_once (key, event_id, created_at) VALUES (?, ?, ?) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![key, event_id, at]))
            .map_err(sql_error)?;
        Ok(inserted == 1)
    }

    async fn add_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        let conn = self.lease.conn()?;
        conn.prepare_cached(
            "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .and_then(|mut s| {
            s.execute(params![
                checkpoint.seq,
                checkpoint.hash,
                checkpoint.at,
                checkpoint.key_id,
                checkpoint.signature,
            ])
        })
        .map(|_| ())
        .map_err(sql_error)
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.lease.commit().await
    }
}

/// An outbox row of [`OUTBOX_COLUMNS`].
fn outbox_columns(row: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxColumns> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
        row.get(12)?,
    ))
}

/// Every row a statement of the write connection selects, each read by `read`.
fn all_rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql).map_err(sql_error)?;
    let rows = statement.query_map(params, read).map_err(sql_error)?;
    rows.collect::<rusqlite::Result<_>>().map_err(sql_error)
}

/// One record by id on a rusqlite connection (the write connection or a lookup one).
fn record_by_id(
    conn: &rusqlite::Connection,
    kind: Kind,
    id: &str,
) -> rusqlite::Result<Option<Row>> {
    let sql = format!("{} WHERE id = ?", select_columns(kind));
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id], row_of).optional())
}

/// A record row of [`select_columns`]: id, parent, body.
fn row_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: row.get(0)?,
        parent: row.get(1)?,
        body: row.get(2)?,
    })
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

    #[tokio::test]
    async fn a_record_written_is_read_by_id_at_once_in_place_and_through_the_pool() {
        let dir = std::env::temp_dir().join(format!("gl-sqlite-{}", uuid::Uuid::now_v7()));
        let store = SqliteStore::open(&dir.join("ledger.sqlite3").to_string_lossy())
            .await
            .unwrap();
        let row = Row {
            id: "t1".to_owned(),
            parent: None,
            body: r#"{"name":"a tool"}"#.to_owned(),
        };
        let mut tx = store.begin().await.unwrap();
        tx.put(Kind::Tool, &row).await.unwrap();
        tx.commit().await.unwrap();

        // In place, on a lookup connection.
        let in_place = store.lookups.get(Kind::Tool, "t1").unwrap().unwrap();
        assert_eq!(in_place, Some(row.clone()));
        let found = store.get(Kind::Tool, "t1").await.unwrap().unwrap();
        assert_eq!(
            (found.id, found.parent, found.body),
            (row.id.clone(), None, row.body.clone())
        );
        assert!(store.get(Kind::Tool, "t2").await.unwrap().is_none());

        // Every lookup connection taken: the pool gives the same answer.
        let taken = std::mem::take(&mut *store.lookups.idle.lock().unwrap());
        assert_eq!(taken.len(), LOOKUPS);
        let found = store.get(Kind::Tool, "t1").await.unwrap().unwrap();
        assert_eq!(found.body, row.body);
        // A lookup connection is read-only.
        assert!(taken[0].execute_batch("DELETE FROM tools").is_err());
        store.lookups.idle.lock().unwrap().extend(taken);

        // The write connection is durable, with foreign keys on.
        let tx = store.writer.begin().await.unwrap();
        let conn = tx.conn().unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!((sync, fk), (2, 1));
        drop(tx);
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_default_path_is_under_the_data_directory() {
        let path = default_path();
        assert!(path.ends_with("ledger.sqlite3") || path.ends_with("greenlight.sqlite3"));
    }
}
