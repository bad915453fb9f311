//! Group commit: writers that arrive together share one durable SQLite transaction.
//!
//! One task (the committer) owns the single write connection. A writer asks it
//! for the connection ([`Committer::begin`]) and gets a [`Lease`]: the connection
//! inside an open `BEGIN IMMEDIATE` transaction and a fresh `SAVEPOINT write`.
//! The writer runs its statements on the leased connection directly, then gives
//! it back, either to commit (its savepoint is released and it waits for the
//! group's outcome) or by dropping the lease (its savepoint is rolled back: only
//! its own work goes, never the group's). When the connection comes back, the
//! committer lends it to the next writer waiting, in the same transaction, or,
//! when nobody is waiting or the group is full ([`GroupCommit`]), runs the real
//! `COMMIT` and answers every writer of the group with its result. A writer
//! alone commits at once: grouping adds no delay.
//!
//! The durability invariant: a writer's commit returns `Ok` only after the
//! `COMMIT` of the transaction that holds its work returned (WAL,
//! `synchronous=FULL`: on disk). If that `COMMIT` fails, every writer of the
//! group gets the error; none of them had been answered.
//!
//! Audit entries still chain in order: writers of a group run one after
//! another, and each reads the chain's head inside the shared transaction.
//!
//! Giving the connection back needs no `.await` (an unbounded channel send),
//! so a lease dropped anywhere (a refused change, a cancelled future) returns
//! it and the committer rolls back that writer's savepoint.
//!
//! The connection is a plain (rusqlite) one, and a writer's statements run in
//! place on the task that holds the lease: inside the transaction, with the
//! file's write lock already taken, each is work on pages in memory, a few
//! microseconds, where a hop to a connection thread and back (sqlx's SQLite
//! driver) cost tens. Only what can wait on the disk or on another process
//! runs on a blocking thread: `BEGIN IMMEDIATE` (it may wait for the write
//! lock) and `COMMIT` (the fsync).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use greenlight_store::{Result, StoreError};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::sql_error;

/// How writers that arrive together are grouped into one durable transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCommit {
    /// The most writes one transaction holds; 1 commits every write on its own.
    pub max_writes: usize,
    /// How long a transaction keeps taking in waiting writers after it began.
    pub max_age: Duration,
}

impl GroupCommit {
    /// Every write in its own transaction, with its own fsync (no grouping).
    pub const OFF: GroupCommit = GroupCommit {
        max_writes: 1,
        max_age: Duration::ZERO,
    };
}

impl Default for GroupCommit {
    /// Up to 256 writes, for up to 20 ms.
    fn default() -> Self {
        GroupCommit {
            max_writes: 256,
            max_age: Duration::from_millis(20),
        }
    }
}

/// Counts of the write path, since the store was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Writes committed durably (each answered `Ok`).
    pub writes: u64,
    /// `COMMIT`s that succeeded: each one fsync for all the writes of its group.
    pub commits: u64,
    /// Writes rolled back alone (dropped without commit, or refused).
    pub rollbacks: u64,
    /// Groups whose transaction failed: every write of them was answered with the error.
    pub failed_groups: u64,
}

#[derive(Debug, Default)]
struct Counters {
    writes: AtomicU64,
    commits: AtomicU64,
    rollbacks: AtomicU64,
    failed_groups: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

enum Msg {
    /// A writer waits for the connection.
    Begin(oneshot::Sender<Result<Lease>>),
    /// The connection comes back: to commit (with where to send the outcome) or rolled back.
    Back {
        conn: Connection,
        commit: Option<oneshot::Sender<Result<()>>>,
    },
    /// Finish the open group, close the connection and stop.
    Close(oneshot::Sender<()>),
}

/// The handle on the committer task that a store keeps.
#[derive(Clone, Debug)]
pub(crate) struct Committer {
    inbox: mpsc::UnboundedSender<Msg>,
    counters: Arc<Counters>,
}

fn closed() -> StoreError {
    StoreError::Other("sqlite: the ledger is closed".to_owned())
}

fn lost() -> StoreError {
    StoreError::Other(
        "sqlite: the write connection was lost while the runtime shut down; reopen the ledger"
            .to_owned(),
    )
}

impl Committer {
    /// Starts the committer task on the current tokio runtime, owning `conn`.
    pub(crate) fn start(conn: Connection, config: GroupCommit) -> Result<Committer> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StoreError::Other("sqlite: the ledger must be opened inside a tokio runtime".to_owned())
        })?;
        let (inbox, messages) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let task = Task {
            conn: Some(conn),
            messages,
            home: inbox.downgrade(),
            waiting: VecDeque::new(),
            group: Vec::new(),
            open_since: None,
            config: GroupCommit {
                max_writes: config.max_writes.max(1),
                ..config
            },
            counters: Arc::clone(&counters),
            closing: Vec::new(),
            lost: false,
        };
        runtime.spawn(task.run());
        Ok(Committer { inbox, counters })
    }

    /// Waits for the connection, inside the group's transaction and a savepoint of its own.
    pub(crate) async fn begin(&self) -> Result<Lease> {
        let (reply, lease) = oneshot::channel();
        self.inbox.send(Msg::Begin(reply)).map_err(|_| closed())?;
        lease.await.map_err(|_| closed())?
    }

    /// Commits the open group, closes the connection and stops the task.
    pub(crate) async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.inbox.send(Msg::Close(reply)).is_ok() {
            let _ = done.await;
        }
    }

    pub(crate) fn stats(&self) -> WriteStats {
        let c = &self.counters;
        WriteStats {
            writes: c.writes.load(Ordering::Relaxed),
            commits: c.commits.load(Ordering::Relaxed),
            rollbacks: c.rollbacks.load(Ordering::Relaxed),
            failed_groups: c.failed_groups.load(Ordering::Relaxed),
        }
    }
}

/// The write connection, lent to one writer. Dropping it rolls the writer's savepoint back.
pub(crate) struct Lease {
    conn: Option<Connection>,
    home: mpsc::UnboundedSender<Msg>,
}

impl Lease {
    /// The connection, inside the writer's savepoint.
    pub(crate) fn conn(&self) -> Result<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| StoreError::Other("sqlite: the write has ended".to_owned()))
    }

    /// Releases the writer's savepoint and waits for the `COMMIT` of its group.
    pub(crate) async fn commit(mut self) -> Result<()> {
        let Some(conn) = self.conn.take() else {
            return Err(StoreError::Other("sqlite: the write has ended".to_owned()));
        };
        let (outcome, result) = oneshot::channel();
        self.home
            .send(Msg::Back {
                conn,
                commit: Some(outcome),
            })
            .map_err(|_| closed())?;
        result.await.map_err(|_| {
            StoreError::Other(
                "sqlite: the ledger closed before the write's outcome was known".to_owned(),
            )
        })?
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // The committer rolls this writer's savepoint back. If it has stopped, the
            // connection closes here and SQLite rolls the open transaction back.
            let _ = self.home.send(Msg::Back { conn, commit: None });
        }
    }
}

/// The committer: owns the connection whenever no writer holds it.
struct Task {
    conn: Option<Connection>,
    messages: mpsc::UnboundedReceiver<Msg>,
    /// To make leases; weak, so the task stops when every store handle is gone.
    home: mpsc::WeakUnboundedSender<Msg>,
    /// Writers waiting for the connection, in arrival order.
    waiting: VecDeque<oneshot::Sender<Result<Lease>>>,
    /// The writers of the open group that released their savepoint, waiting for the `COMMIT`.
    group: Vec<oneshot::Sender<Result<()>>>,
    /// When the open transaction began; `None` when none is open.
    open_since: Option<Instant>,
    config: GroupCommit,
    counters: Arc<Counters>,
    closing: Vec<oneshot::Sender<()>>,
    /// The connection was lost with a blocking thread: every write is refused from then on.
    lost: bool,
}

/// A statement that cannot wait on the disk or another process: run in place.
fn run_sql(conn: &Connection, sql: &str) -> Result<()> {
    conn.execute_batch(sql).map_err(sql_error)
}

/// A statement that may wait (for the file's write lock, for the fsync): run on a
/// blocking thread. `None` when that thread was lost with the connection (the runtime
/// is shutting down).
async fn run_blocking(conn: Connection, sql: &'static str) -> Option<(Connection, Result<()>)> {
    tokio::task::spawn_blocking(move || {
        let outcome = run_sql(&conn, sql);
        (conn, outcome)
    })
    .await
    .ok()
}

impl Task {
    async fn run(mut self) {
        while let Some(message) = self.messages.recv().await {
            self.take(message);
            // Everything already sent: a writer that arrived while the connection was out
            // joins the open group.
            while let Ok(message) = self.messages.try_recv() {
                self.take(message);
            }
            self.advance().await;
            if !self.closing.is_empty() && (self.conn.is_some() || self.lost) {
                break;
            }
        }
        // Closing, or every handle dropped: whatever released its savepoint is committed.
        if let Some(conn) = self.conn.take() {
            let conn = if self.open_since.is_some() {
                self.finish(conn).await
            } else {
                Some(conn)
            };
            if let Some(conn) = conn {
                let _ = tokio::task::spawn_blocking(move || drop(conn)).await;
            }
        }
        for waiting in self.waiting.drain(..) {
            let _ = waiting.send(Err(closed()));
        }
        for reply in self.closing.drain(..) {
            let _ = reply.send(());
        }
    }

    fn take(&mut self, message: Msg) {
        match message {
            Msg::Begin(reply) => {
                if self.lost {
                    let _ = reply.send(Err(lost()));
                } else if self.closing.is_empty() {
                    self.waiting.push_back(reply);
                } else {
                    let _ = reply.send(Err(closed()));
                }
            }
            Msg::Back { conn, commit } => {
                match commit {
                    Some(outcome) => match run_sql(&conn, "RELEASE SAVEPOINT write") {
                        Ok(()) => self.group.push(outcome),
                        Err(error) => {
                            let _ = outcome.send(Err(error));
                            self.fail_group(&conn, "a savepoint could not be released");
                        }
                    },
                    None => {
                        add(&self.counters.rollbacks, 1);
                        let undone = run_sql(&conn, "ROLLBACK TO SAVEPOINT write")
                            .and_then(|()| run_sql(&conn, "RELEASE SAVEPOINT write"));
                        if undone.is_err() {
                            self.fail_group(&conn, "a write could not be rolled back");
                        }
                    }
                }
                self.conn = Some(conn);
            }
            Msg::Close(reply) => self.closing.push(reply),
        }
    }

    /// With the connection home: lends it to the next writer, or commits the group.
    async fn advance(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if !self.closing.is_empty() {
            self.conn = Some(conn);
            return;
        }
        // A writer that stopped waiting is passed over.
        self.waiting.retain(|w| !w.is_closed());
        if let Some(since) = self.open_since {
            let room =
                self.group.len() < self.config.max_writes && since.elapsed() < self.config.max_age;
            if !room || self.waiting.is_empty() {
                let Some(back) = self.finish(conn).await else {
                    return;
                };
                conn = back;
            }
        }
        while let Some(next) = self.waiting.pop_front() {
            if self.open_since.is_none() {
                // IMMEDIATE takes the file's write lock now, so the chain head that
                // the writer reads next cannot go stale (other processes wait).
                let Some((back, begun)) = run_blocking(conn, "BEGIN IMMEDIATE").await else {
                    self.lose(next);
                    return;
                };
                conn = back;
                if let Err(error) = begun {
                    let _ = next.send(Err(error));
                    continue;
                }
                self.open_since = Some(Instant::now());
            }
            if let Err(error) = run_sql(&conn, "SAVEPOINT write") {
                let _ = next.send(Err(error));
                self.fail_group(&conn, "a savepoint could not be opened");
                continue;
            }
            let Some(home) = self.home.upgrade() else {
                break;
            };
            // If the writer stopped waiting, the lease comes back through the inbox
            // (dropped, so rolled back) like any other.
            let _ = next.send(Ok(Lease {
                conn: Some(conn),
                home,
            }));
            return;
        }
        if self.open_since.is_some() {
            // Nobody took the connection: the group so far commits now.
            let Some(back) = self.finish(conn).await else {
                return;
            };
            conn = back;
        }
        self.conn = Some(conn);
    }

    /// Commits the open transaction and answers every writer of the group. Gives the
    /// connection back, or `None` when it was lost with the blocking thread.
    async fn finish(&mut self, conn: Connection) -> Option<Connection> {
        self.open_since = None;
        let group = std::mem::take(&mut self.group);
        if group.is_empty() {
            // Every writer of it rolled back: nothing to make durable.
            if run_sql(&conn, "ROLLBACK").is_err() {
                add(&self.counters.failed_groups, 1);
            }
            return Some(conn);
        }
        let Some((conn, committed)) = run_blocking(conn, "COMMIT").await else {
            // Whether the COMMIT ran is unknown: no writer of the group is told it is durable.
            self.group = group;
            self.lost = true;
            add(&self.counters.failed_groups, 1);
            for writer in self.group.drain(..) {
                let _ = writer.send(Err(lost()));
            }
            self.refuse_waiting();
            return None;
        };
        match committed {
            Ok(()) => {
                add(&self.counters.commits, 1);
                add(&self.counters.writes, group.len() as u64);
                for writer in group {
                    let _ = writer.send(Ok(()));
                }
            }
            Err(error) => {
                self.group = group;
                self.fail_group(&conn, &format!("the group's commit failed: {error}"));
            }
        }
        Some(conn)
    }

    /// The connection went with a blocking thread that did not come back (the runtime
    /// is shutting down): `next` and every later writer are refused.
    fn lose(&mut self, next: oneshot::Sender<Result<Lease>>) {
        self.lost = true;
        let _ = next.send(Err(lost()));
        self.refuse_waiting();
    }

    fn refuse_waiting(&mut self) {
        for waiting in self.waiting.drain(..) {
            let _ = waiting.send(Err(lost()));
        }
    }

    /// Rolls the whole transaction back and answers every writer of the group with the error.
    fn fail_group(&mut self, conn: &Connection, why: &str) {
        // The transaction may already be gone (SQLite rolls back by itself on some errors).
        let _ = run_sql(conn, "ROLLBACK");
        self.open_since = None;
        add(&self.counters.failed_groups, 1);
        for writer in self.group.drain(..) {
            let _ = writer.send(Err(StoreError::Other(format!(
                "sqlite: nothing of this write was committed: {why}"
            ))));
        }
    }
}
