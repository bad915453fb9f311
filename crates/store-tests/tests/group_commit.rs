//! Group commit on SQLite: writers that arrive together commit in one durable
//! transaction; each is answered only after that commit; a writer that fails or
//! is dropped rolls back alone.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests: a failure should stop the test where it happens"
)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use greenlight_store::{
    AuditKey, Contact, Kind, Ledger, ManualClock, NewProduction, Production, Row, Rule, Store,
    Timestamp, ToolId,
};
use greenlight_store_sqlite::{GroupCommit, SqliteStore, WriteStats};
use greenlight_store_tests::{declaration, triage};

/// A temporary ledger file and its key, removed on drop.
struct Temp {
    dir: PathBuf,
}

impl Temp {
    fn new() -> Temp {
        let dir = std::env::temp_dir().join(format!(
            "greenlight-group-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Temp { dir }
    }

    fn target(&self) -> String {
        self.dir
            .join("ledger.sqlite3")
            .to_string_lossy()
            .into_owned()
    }

    async fn ledger(&self, group: GroupCommit) -> (Arc<SqliteStore>, Ledger<SqliteStore>) {
        let store = Arc::new(SqliteStore::open_with(&self.target(), group).await.unwrap());
        let key = AuditKey::load_or_create(&self.dir.join("audit.key")).unwrap();
        let clock = Arc::new(ManualClock::new(
            "2026-11-27T09:00:00Z".parse::<Timestamp>().unwrap(),
        ));
        (Arc::clone(&store), Ledger::new(store, clock, key))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn production(ledger: &Ledger<SqliteStore>) -> anyhow::Result<Production> {
    Ok(ledger
        .create_production(
            "cora",
            NewProduction {
                title: "The Long Night".to_owned(),
                kind: greenlight_core::ProductionKind::Scripted,
                studio_contact: Contact {
                    name: "Studio".to_owned(),
                    email: "studio@example.com".to_owned(),
                },
                members: Vec::new(),
            },
        )
        .await?)
}

async fn all_titles(ledger: &Ledger<SqliteStore>, p: &Production) -> anyhow::Result<Vec<String>> {
    let mut titles = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ledger.declarations(p.id, after.as_deref(), 1000).await?;
        titles.extend(page.items.iter().map(|d| d.declaration.title.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(titles),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_writers_commit_in_groups() -> anyhow::Result<()> {
    let temp = Temp::new();
    let (store, ledger) = temp.ledger(GroupCommit::default()).await;
    let p = production(&ledger).await?;
    let mut tasks = Vec::new();
    for writer in 0..64 {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..5 {
                let s = ledger
                    .submit_declaration(
                        &format!("writer{writer}"),
                        p.id,
                        declaration("The Long Night", &format!("{writer}/{n}")),
                        triage,
                    )
                    .await?;
                ids.push(s.declaration.id);
            }
            anyhow::Ok(ids)
        }));
    }
    let mut acknowledged = HashSet::new();
    for task in tasks {
        acknowledged.extend(task.await??);
    }
    ensure!(acknowledged.len() == 320);
    for id in &acknowledged {
        ledger.declaration(*id).await?;
        ledger.current_decision(*id).await?;
    }
    let report = ledger.verify().await?;
    ensure!(report.is_ok(), "{report}");
    // production + 320 × (declaration, version, decision, notification)
    ensure!(report.entries == 1 + 320 * 4, "{report}");
    let stats = store.stats();
    eprintln!("{stats:?}");
    ensure!(stats.writes == 321, "{stats:?}");
    ensure!(
        stats.commits < stats.writes,
        "no writes were grouped: {stats:?}"
    );
    ensure!(
        stats.rollbacks == 0 && stats.failed_groups == 0,
        "{stats:?}"
    );
    store.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_writer_leaves_no_trace_while_its_group_commits() -> anyhow::Result<()> {
    let temp = Temp::new();
    let (store, ledger) = temp.ledger(GroupCommit::default()).await;
    let p = production(&ledger).await?;
    let mut tasks = Vec::new();
    for writer in 0..64 {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            if writer % 8 == 3 {
                // An import that writes two declarations, then names an unknown tool:
                // refused after it wrote something.
                let mut bad = declaration("The Long Night", &format!("refused {writer}/c"));
                bad.tools.push(greenlight_core::Tool {
                    id: Some(ToolId::generate().to_string()),
                    ..Default::default()
                });
                let import = vec![
                    declaration("The Long Night", &format!("refused {writer}/a")),
                    declaration("The Long Night", &format!("refused {writer}/b")),
                    bad,
                ];
                let refused = ledger
                    .submit_declarations(&format!("writer{writer}"), p.id, import, triage)
                    .await;
                match refused {
                    Err(e) if e.rule() == Some(Rule::UnknownReference) => Ok(None),
                    other => anyhow::bail!("writer {writer}: {other:?}"),
                }
            } else {
                let s = ledger
                    .submit_declaration(
                        &format!("writer{writer}"),
                        p.id,
                        declaration("The Long Night", &format!("ok {writer}")),
                        triage,
                    )
                    .await?;
                Ok(Some(s.declaration.id))
            }
        }));
    }
    let mut acknowledged = HashSet::new();
    for task in tasks {
        acknowledged.extend(task.await??);
    }
    ensure!(acknowledged.len() == 56);
    let titles = all_titles(&ledger, &p).await?;
    ensure!(titles.len() == 56, "{} declarations", titles.len());
    ensure!(
        titles.iter().all(|t| t.starts_with("ok ")),
        "a refused write left a declaration"
    );
    for id in &acknowledged {
        ledger.declaration(*id).await?;
    }
    let report = ledger.verify().await?;
    ensure!(report.is_ok(), "{report}");
    ensure!(report.entries == 1 + 56 * 4, "{report}");
    let stats = store.stats();
    eprintln!("{stats:?}");
    ensure!(
        stats.writes == 57 && stats.rollbacks == 8 && stats.failed_groups == 0,
        "{stats:?}"
    );
    ensure!(stats.commits < stats.writes, "{stats:?}");
    store.close().await;
    Ok(())
}

fn tool_row(id: &str) -> Row {
    Row {
        id: id.to_owned(),
        parent: None,
        body: format!("{{\"name\":\"{id}\"}}"),
    }
}

/// Waits until the committer has taken in what was sent (it drains its inbox
/// before it decides), by giving the runtime time to run every task spawned.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_dropped_mid_write_rolls_back_only_its_own() -> anyhow::Result<()> {
    let temp = Temp::new();
    // A group may stay open for a minute: the test's pauses must not close it.
    let group = GroupCommit {
        max_writes: 256,
        max_age: Duration::from_secs(60),
    };
    let (store, _ledger) = temp.ledger(group).await;

    // A holds the write connection; B, C and D queue behind it.
    let mut a = store.begin().await?;
    a.put(Kind::Tool, &tool_row("a")).await?;

    // B writes, then its future is cancelled while it holds the connection.
    let (b_wrote, b_has_written) = tokio::sync::oneshot::channel();
    let b = tokio::spawn({
        let store = Arc::clone(&store);
        async move {
            let mut b = store.begin().await?;
            b.put(Kind::Tool, &tool_row("b")).await?;
            let _ = b_wrote.send(());
            std::future::pending::<()>().await;
            anyhow::Ok(())
        }
    });
    // C writes and commits.
    let c = tokio::spawn({
        let store = Arc::clone(&store);
        async move {
            let mut c = store.begin().await?;
            c.put(Kind::Tool, &tool_row("c")).await?;
            c.commit().await?;
            anyhow::Ok(())
        }
    });
    // D gives up while waiting for the connection.
    let d = tokio::spawn({
        let store = Arc::clone(&store);
        async move {
            let _d = store.begin().await?;
            anyhow::bail!("D should have been cancelled before it got the connection");
            #[allow(unreachable_code, reason = "names the task's output type")]
            anyhow::Ok(())
        }
    });
    settle().await;
    d.abort();
    ensure!(d.await.is_err_and(|e| e.is_cancelled()));

    // A releases: B gets the connection in the same transaction (A is not answered yet).
    let a_commit = tokio::spawn(async move { a.commit().await });
    tokio::time::timeout(Duration::from_secs(30), b_has_written)
        .await
        .context("B never got the connection")??;
    ensure!(
        !a_commit.is_finished(),
        "A was answered before its group committed"
    );
    ensure!(
        store.get(Kind::Tool, "a").await?.is_none(),
        "A is visible before COMMIT"
    );
    // B is cancelled mid-write; C runs next and, alone in the queue, commits A and C.
    b.abort();
    ensure!(b.await.is_err_and(|e| e.is_cancelled()));
    tokio::time::timeout(Duration::from_secs(30), c)
        .await
        .context("C never committed")???;
    tokio::time::timeout(Duration::from_secs(30), a_commit)
        .await
        .context("A never answered")???;

    ensure!(store.get(Kind::Tool, "a").await?.is_some());
    ensure!(
        store.get(Kind::Tool, "b").await?.is_none(),
        "B's write survived"
    );
    ensure!(store.get(Kind::Tool, "c").await?.is_some());
    let stats = store.stats();
    ensure!(
        stats
            == WriteStats {
                writes: 2,
                commits: 1,
                rollbacks: 1,
                failed_groups: 0,
            },
        "{stats:?}"
    );

    // The connection is usable afterwards: a writer alone commits at once.
    let mut e = store.begin().await?;
    e.put(Kind::Tool, &tool_row("e")).await?;
    e.commit().await?;
    ensure!(store.get(Kind::Tool, "e").await?.is_some());
    ensure!(store.stats().commits == 2);
    store.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_ledger_writes_leave_a_valid_chain() -> anyhow::Result<()> {
    let temp = Temp::new();
    let (store, ledger) = temp.ledger(GroupCommit::default()).await;
    let p = production(&ledger).await?;
    let mut tasks = Vec::new();
    for writer in 0..64u64 {
        let ledger = ledger.clone();
        let task = tokio::spawn(async move {
            let s = ledger
                .submit_declaration(
                    &format!("writer{writer}"),
                    p.id,
                    declaration("The Long Night", &format!("{writer}")),
                    triage,
                )
                .await?;
            anyhow::Ok(s.declaration.id)
        });
        tasks.push((writer, task));
    }
    // Every fourth writer is cancelled wherever it happens to be: waiting for the
    // connection, mid-write, or released and waiting for its group's COMMIT.
    for (writer, task) in &tasks {
        if writer % 4 == 0 {
            tokio::time::sleep(Duration::from_micros(300)).await;
            task.abort();
        }
    }
    let mut acknowledged = HashSet::new();
    let mut cancelled = 0;
    for (_, task) in tasks {
        match task.await {
            Ok(id) => {
                acknowledged.insert(id?);
            }
            Err(e) if e.is_cancelled() => cancelled += 1,
            Err(e) => return Err(e.into()),
        }
    }
    ensure!(acknowledged.len() + cancelled == 64);
    for id in &acknowledged {
        ledger.declaration(*id).await?;
        ledger.current_decision(*id).await?;
    }
    // Whatever a cancelled writer left is whole (verify matches every record to
    // its entries), and the chain is one.
    let report = ledger.verify().await?;
    ensure!(report.is_ok(), "{report}");
    let listed = all_titles(&ledger, &p).await?.len();
    ensure!(listed >= acknowledged.len());
    ensure!(report.entries == 1 + 4 * listed as u64, "{report}");
    eprintln!(
        "{} acknowledged, {cancelled} cancelled, {listed} in the ledger; {:?}",
        acknowledged.len(),
        store.stats()
    );
    store.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_alone_is_not_held_back() -> anyhow::Result<()> {
    let temp = Temp::new();
    // Grouping may keep a transaction open for a minute; a lone writer must not wait for it.
    let group = GroupCommit {
        max_writes: 256,
        max_age: Duration::from_secs(60),
    };
    let (store, ledger) = temp.ledger(group).await;
    for _ in 0..3 {
        tokio::time::timeout(Duration::from_secs(20), production(&ledger))
            .await
            .context("a lone write waited for company")??;
    }
    ensure!(store.stats().commits == 3 && store.stats().writes == 3);
    store.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_grouping_every_write_commits_alone() -> anyhow::Result<()> {
    let temp = Temp::new();
    let (store, ledger) = temp.ledger(GroupCommit::OFF).await;
    let p = production(&ledger).await?;
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            ledger
                .submit_declaration(
                    "cora",
                    p.id,
                    declaration("The Long Night", &format!("{writer}")),
                    triage,
                )
                .await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let stats = store.stats();
    ensure!(stats.writes == 17 && stats.commits == 17, "{stats:?}");
    ensure!(ledger.verify().await?.is_ok());
    store.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_refuses_writes() -> anyhow::Result<()> {
    let temp = Temp::new();
    let (store, ledger) = temp.ledger(GroupCommit::default()).await;
    production(&ledger).await?;
    store.close().await;
    let refused = store.begin().await;
    ensure!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("closed")),
        "{:?}",
        refused.err()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_fails_every_writer_of_its_group() -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let temp = Temp::new();
    let group = GroupCommit {
        max_writes: 256,
        max_age: Duration::from_secs(60),
    };
    let (store, _ledger) = temp.ledger(group).await;
    // Around the ledger: a tool named `poison` adds a row whose foreign key is only
    // checked at COMMIT (deferred), and is broken, so the COMMIT of its group fails.
    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", temp.target())).await?;
    for statement in [
        "CREATE TABLE poison (production_id TEXT REFERENCES productions (id) \
         DEFERRABLE INITIALLY DEFERRED)",
        "CREATE TRIGGER poison_tool AFTER INSERT ON tools WHEN NEW.id = 'poison' \
         BEGIN INSERT INTO poison VALUES ('no-such-production'); END",
    ] {
        sqlx::query(statement).execute(&mut raw).await?;
    }
    raw.close().await?;

    // A holds the connection; B and C queue behind it and write in the same group.
    let mut a = store.begin().await?;
    a.put(Kind::Tool, &tool_row("a")).await?;
    let others: Vec<_> = ["b", "c"]
        .into_iter()
        .map(|id| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut tx = store.begin().await?;
                tx.put(Kind::Tool, &tool_row(id)).await?;
                tx.put(
                    Kind::Tool,
                    &tool_row(if id == "c" { "poison" } else { "b2" }),
                )
                .await?;
                tx.commit().await
            })
        })
        .collect();
    settle().await;
    let a = a.commit().await;
    ensure!(
        a.as_ref()
            .is_err_and(|e| e.to_string().contains("the group's commit failed")),
        "A was not answered with the COMMIT's failure: {a:?}"
    );
    for other in others {
        let outcome = tokio::time::timeout(Duration::from_secs(30), other)
            .await
            .context("a writer of the group was never answered")??;
        ensure!(outcome.is_err(), "a writer was answered Ok: {outcome:?}");
    }
    for id in ["a", "b", "b2", "c", "poison"] {
        ensure!(
            store.get(Kind::Tool, id).await?.is_none(),
            "`{id}` was kept"
        );
    }
    let stats = store.stats();
    ensure!(
        stats.writes == 0 && stats.commits == 0 && stats.failed_groups == 1,
        "{stats:?}"
    );
    // The next group starts afresh.
    let mut d = store.begin().await?;
    d.put(Kind::Tool, &tool_row("d")).await?;
    d.commit().await?;
    ensure!(store.get(Kind::Tool, "d").await?.is_some());
    store.close().await;
    Ok(())
}
