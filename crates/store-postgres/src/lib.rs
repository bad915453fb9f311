//! The PostgreSQL backend of the greenlight ledger: for a studio's shared ledger.
//!
//! This crate's single job is to implement [`greenlight_store::Store`] on
//! PostgreSQL. It owns its migrations (`migrations/`, embedded, run on
//! connect; the same names as the SQLite backend's). Every change takes a
//! transaction-scoped advisory lock up front, so audit entries chain in order
//! across any number of `greenlight` processes and servers.
//!
//! ```no_run
//! # async fn demo() -> greenlight_store::Result<()> {
//! use std::sync::Arc;
//! use greenlight_store::{AuditKey, Ledger, SystemClock};
//! use greenlight_store_postgres::PostgresStore;
//!
//! let store = PostgresStore::connect("postgres://greenlight@127.0.0.1/ledger").await?;
//! let key = AuditKey::load_or_create("audit.key".as_ref())?;
//! let ledger = Ledger::new(Arc::new(store), Arc::new(SystemClock), key);
//! assert!(ledger.verify().await?.is_ok());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

use std::time::Duration;

use async_trait::async_trait;
use greenlight_store::{
    AUDIT_ENTRY_COLUMNS, AuditEntry, AuditEntryColumns, Checkpoint, DRAFT_COLUMNS, DraftColumns,
    DraftRow, FileRow, Kind, OUTBOX_COLUMNS, OutboxColumns, OutboxRow, OutboxStatus, Result, Row,
    RowColumns, SettleRow, Store, StoreError, WriteTx,
};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool, Postgres, Transaction};

/// The ledger in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

/// The advisory lock every write takes (an arbitrary constant: "glaudit").
const WRITE_LOCK: i64 = 0x0067_6c61_7564_6974;

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
        _ => StoreError::Other(format!("postgres: {error}")),
    }
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_owned(),
    }
}

fn select_columns(kind: Kind) -> String {
    format!(
        "SELECT id, {}, body FROM {}",
        kind.parent_column().unwrap_or("NULL::text"),
        kind.table()
    )
}

const ENTRY_COLUMNS: &str = AUDIT_ENTRY_COLUMNS;

impl PostgresStore {
    /// Connects to the ledger at `url` (`postgres://…`) and runs any pending
    /// migration.
    pub async fn connect(url: &str) -> Result<Self> {
        // One direct connection first: a refused connection, a bad password or a missing
        // database is reported at once, where the pool would retry until its timeout.
        let probe = sqlx::PgConnection::connect(url).await.map_err(|e| {
            StoreError::Other(format!(
                "cannot connect to PostgreSQL at {}: {e}",
                redacted(url)
            ))
        })?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(db_error)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("postgres migration: {e}")))?;
        Ok(PostgresStore { pool })
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Row>> {
        let sql = format!("{} WHERE id = $1", select_columns(kind));
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
                conditions.push(format!("{column} = ${}", conditions.len() + 1));
                Some(parent)
            }
            (Some(_), None) => return Ok(Vec::new()),
            (None, _) => None,
        };
        if after.is_some() {
            conditions.push(format!("id > ${}", conditions.len() + 1));
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", conditions.len() + 1));
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
            "SELECT scan_id, seq, body FROM scan_files WHERE scan_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
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
            "SELECT scan_id, seq, body FROM scan_files WHERE (scan_id, seq) > ($1, $2) \
             ORDER BY scan_id, seq LIMIT $3",
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
            format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
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
             WHERE seq > $1 ORDER BY seq LIMIT $2",
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
        // The lock is held to commit or rollback, so the chain head read
        // next cannot go stale.
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        Ok(Box::new(PostgresTx { tx }))
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        lease: &str,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        // Not under the ledger's write lock: rows another worker is claiming are skipped, so
        // any number of servers share the outbox without waiting on each other.
        let sql = format!(
            "UPDATE outbox SET lease = $1, leased_until = $2 WHERE id IN (\
             SELECT id FROM outbox WHERE status = 'pending' AND next_at <= $3 \
             AND (leased_until IS NULL OR leased_until <= $3) ORDER BY next_at, id LIMIT $4 \
             FOR UPDATE SKIP LOCKED) RETURNING {OUTBOX_COLUMNS}"
        );
        let rows: Vec<OutboxColumns> = sqlx::query_as(&sql)
            .bind(lease)
            .bind(lease_until)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(OutboxRow::try_from).collect()
    }

    async fn settle_outbox(&self, id: &str, lease: &str, change: &SettleRow) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = $1, attempts = $2, next_at = $3, last_error = $4, \
             sent_at = $5, lease = NULL, leased_until = NULL WHERE id = $6 AND lease = $7",
        )
        .bind(change.status.as_str())
        .bind(i64::from(change.attempts))
        .bind(change.next_at)
        .bind(&change.last_error)
        .bind(&change.sent_at)
        .bind(id)
        .bind(lease)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_page(
        &self,
        status: Option<OutboxStatus>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ($1::text IS NULL OR status = $1) \
             AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows: Vec<OutboxColumns> = sqlx::query_as(&sql)
            .bind(status.map(OutboxStatus::as_str))
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(OutboxRow::try_from).collect()
    }

    async fn save_draft(&self, draft: &DraftRow) -> Result<bool> {
        // Drafts are not audited: no write lock, one statement.
        let done = sqlx::query(
            "INSERT INTO drafts (id, author, declaration_id, title, body, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
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
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_row(&self, id: &str) -> Result<Option<OutboxRow>> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1");
        let row: Option<OutboxColumns> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(OutboxRow::try_from).transpose()
    }

    async fn retry_outbox(&self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_at = $1, lease = NULL, \
             leased_until = NULL WHERE id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn draft(&self, id: &str) -> Result<Option<DraftRow>> {
        let sql = format!("SELECT {DRAFT_COLUMNS} FROM drafts WHERE id = $1");
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
            "SELECT {DRAFT_COLUMNS} FROM drafts WHERE author = $1 AND id > $2 ORDER BY id LIMIT $3"
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
        let done = sqlx::query("DELETE FROM drafts WHERE id = $1 AND author = $2")
            .bind(id)
            .bind(author)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

struct PostgresTx {
    tx: Transaction<'static, Postgres>,
}

#[async_trait]
impl WriteTx for PostgresTx {
    async fn get(&mut self, kind: Kind, id: &str) -> Result<Option<Row>> {
        let sql = format!("{} WHERE id = $1", select_columns(kind));
        let row: Option<RowTuple> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_error)?;
        Ok(row.map(Row::from))
    }

    async fn children(&mut self, kind: Kind, parent: &str) -> Result<Vec<Row>> {
        let Some(column) = kind.parent_column() else {
            return Ok(Vec::new());
        };
        let sql = format!("{} WHERE {column} = $1 ORDER BY id", select_columns(kind));
        let rows: Vec<RowTuple> = sqlx::query_as(&sql)
            .bind(parent)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Row::from).collect())
    }

    async fn all(&mut self, kind: Kind) -> Result<Vec<Row>> {
        let sql = format!("{} ORDER BY id", select_columns(kind));
        let rows: Vec<RowTuple> = sqlx::query_as(&sql)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Row::from).collect())
    }

    async fn put(&mut self, kind: Kind, row: &Row) -> Result<()> {
        let table = kind.table();
        let query = match kind.parent_column() {
            Some(column) => {
                let sql = format!(
                    "INSERT INTO {table} (id, {column}, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body"
                );
                sqlx::query(&sql)
                    .bind(&row.id)
                    .bind(&row.parent)
                    .bind(&row.body)
                    .execute(&mut *self.tx)
                    .await
            }
            None => {
                let sql = format!(
                    "INSERT INTO {table} (id, body) VALUES ($1, $2) \
                     ON CONFLICT (id) DO UPDATE SET body = excluded.body"
                );
                sqlx::query(&sql)
                    .bind(&row.id)
                    .bind(&row.body)
                    .execute(&mut *self.tx)
                    .await
            }
        };
        query.map(|_| ()).map_err(db_error)
    }

    async fn put_scan_files(&mut self, scan: &str, rows: &[(i64, String)]) -> Result<()> {
        let (seqs, bodies): (Vec<i64>, Vec<&str>) =
            rows.iter().map(|(seq, body)| (*seq, body.as_str())).unzip();
        sqlx::query(
            "INSERT INTO scan_files (scan_id, seq, body) \
             SELECT $1, seq, body FROM UNNEST($2::bigint[], $3::text[]) AS r (seq, body)",
        )
        .bind(scan)
        .bind(seqs)
        .bind(bodies)
        .execute(&mut *self.tx)
        .await
        .map(|_| ())
        .map_err(db_error)
    }

    async fn last_scan_file(&mut self, scan: &str) -> Result<Option<i64>> {
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT max(seq) FROM scan_files WHERE scan_id = $1")
                .bind(scan)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(db_error)?;
        Ok(last)
    }

    async fn set_performer_links(
        &mut self,
        declaration: &str,
        performers: &[String],
    ) -> Result<()> {
        sqlx::query("DELETE FROM declaration_performers WHERE declaration_id = $1")
            .bind(declaration)
            .execute(&mut *self.tx)
            .await
            .map_err(db_error)?;
        for performer in performers {
            sqlx::query(
                "INSERT INTO declaration_performers (declaration_id, performer_id) VALUES ($1, $2)",
            )
            .bind(declaration)
            .bind(performer)
            .execute(&mut *self.tx)
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn declarations_naming(&mut self, performer: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT declaration_id FROM declaration_performers WHERE performer_id = $1 \
             ORDER BY declaration_id",
        )
        .bind(performer)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn head(&mut self) -> Result<Option<(i64, String)>> {
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_error)
    }

    async fn append(&mut self, entry: &AuditEntry) -> Result<()> {
        let sql = format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
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
            .execute(&mut *self.tx)
            .await
            .map(|_| ())
            .map_err(db_error)
    }

    async fn enqueue(&mut self, rows: &[OutboxRow]) -> Result<()> {
        for row in rows {
            sqlx::query(
                "INSERT INTO outbox (id, event_id, event, channel, recipient, production_id, \
                 body, status, attempts, next_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
            .execute(&mut *self.tx)
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn outbox_once(&mut self, key: &str, event_id: &str, at: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO outbox_once (key, event_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(event_id)
        .bind(at)
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn add_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(checkpoint.seq)
        .bind(&checkpoint.hash)
        .bind(&checkpoint.at)
        .bind(&checkpoint.key_id)
        .bind(&checkpoint.signature)
        .execute(&mut *self.tx)
        .await
        .map(|_| ())
        .map_err(db_error)
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await.map_err(db_error)
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn messages_never_show_the_password() {
        assert_eq!(
            redacted("postgres://gl:s3cret@db.example:5432/greenlight"),
            "postgres://gl:***@db.example:5432/greenlight"
        );
        assert_eq!(redacted("postgres://gl@db/x"), "postgres://gl@db/x");
        assert_eq!(redacted("postgres://db/x"), "postgres://db/x");
    }
}
