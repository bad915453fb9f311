//! Durable writes per second with 64 concurrent writers, each submitting
//! declarations through the `Ledger` and waiting for its commit before the next:
//! SQLite with every write its own transaction (`GroupCommit::OFF`), SQLite with
//! group commit (the default), and PostgreSQL when `GREENLIGHT_TEST_POSTGRES_URL`
//! is set. Runs alternate (`ROUNDS`, default 5, of `SECONDS`, default 10, each on
//! a fresh database); the medians are reported, and their ratios.
//!
//! `cargo bench -p greenlight-store-tests --bench concurrent_writes`
//! (`TASKS=64 ROUNDS=5 SECONDS=10` by default; `MAX_WRITES` and `MAX_AGE_MS`
//! change the grouping's caps).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark stops at the first error and prints its figures"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use greenlight_store::{AuditKey, Contact, Ledger, NewProduction, Store, SystemClock};
use greenlight_store_sqlite::{GroupCommit, SqliteStore};
use greenlight_store_tests::{Backend, Fixture, declaration, postgres_admin_url, triage};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} is a number")))
        .unwrap_or(default)
}

fn new_production() -> NewProduction {
    NewProduction {
        title: "The Long Night".to_owned(),
        kind: greenlight_core::ProductionKind::Scripted,
        studio_contact: Contact {
            name: "Studio".to_owned(),
            email: "studio@example.com".to_owned(),
        },
        members: Vec::new(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    SqlitePerWrite,
    SqliteGrouped,
    Postgres,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::SqlitePerWrite => "sqlite, a commit per write",
            Mode::SqliteGrouped => "sqlite, group commit",
            Mode::Postgres => "postgres",
        }
    }
}

struct Run {
    writes_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    note: String,
}

/// `tasks` writers submit declarations for `duration`; every write is awaited
/// (durable) before the writer's next.
async fn drive<S: Store + ?Sized>(
    ledger: &Ledger<S>,
    tasks: u64,
    duration: Duration,
) -> (u64, Duration, Vec<Duration>) {
    let production = ledger
        .create_production("bench", new_production())
        .await
        .unwrap()
        .id;
    let started = Instant::now();
    let stop = started + duration;
    let mut writers = Vec::new();
    for writer in 0..tasks {
        let ledger = ledger.clone();
        writers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < stop {
                let sent = Instant::now();
                ledger
                    .submit_declaration(
                        &format!("writer{writer}"),
                        production,
                        declaration("The Long Night", &format!("{writer}/{n}")),
                        triage,
                    )
                    .await
                    .unwrap();
                latencies.push(sent.elapsed());
                n += 1;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for writer in writers {
        latencies.extend(writer.await.unwrap());
    }
    let elapsed = started.elapsed();
    (latencies.len() as u64, elapsed, latencies)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

async fn run(mode: Mode, tasks: u64, duration: Duration) -> Run {
    let (count, elapsed, mut latencies, note) = match mode {
        Mode::SqlitePerWrite | Mode::SqliteGrouped => {
            let dir = std::env::temp_dir().join(format!(
                "greenlight-bench-{}",
                uuid::Uuid::now_v7().simple()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let group = if mode == Mode::SqliteGrouped {
                let default = GroupCommit::default();
                GroupCommit {
                    max_writes: env_number("MAX_WRITES", default.max_writes as u64) as usize,
                    max_age: std::env::var("MAX_AGE_MS").map_or(default.max_age, |_| {
                        Duration::from_millis(env_number("MAX_AGE_MS", 0))
                    }),
                }
            } else {
                GroupCommit::OFF
            };
            let target = dir.join("ledger.sqlite3").to_string_lossy().into_owned();
            let store = Arc::new(SqliteStore::open_with(&target, group).await.unwrap());
            let key = AuditKey::load_or_create(&dir.join("audit.key")).unwrap();
            let ledger = Ledger::new(Arc::clone(&store), Arc::new(SystemClock), key);
            let (count, elapsed, latencies) = drive(&ledger, tasks, duration).await;
            let report = ledger.verify().await.unwrap();
            assert!(report.is_ok(), "{report}");
            let stats = store.stats();
            assert_eq!(stats.writes, count + 1);
            store.close().await;
            std::fs::remove_dir_all(&dir).unwrap();
            let note = format!(
                "{} commits, {:.1} writes a commit",
                stats.commits,
                stats.writes as f64 / stats.commits.max(1) as f64
            );
            (count, elapsed, latencies, note)
        }
        Mode::Postgres => {
            let fixture = Fixture::new(Backend::Postgres).await.unwrap();
            let ledger = Ledger::new(
                Arc::clone(&fixture.store),
                Arc::new(SystemClock),
                AuditKey::load(&fixture.key_path).unwrap(),
            );
            let (count, elapsed, latencies) = drive(&ledger, tasks, duration).await;
            let report = ledger.verify().await.unwrap();
            assert!(report.is_ok(), "{report}");
            fixture.cleanup().await;
            (count, elapsed, latencies, String::new())
        }
    };
    latencies.sort();
    Run {
        writes_per_s: count as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        note,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn main() {
    let tasks = env_number("TASKS", 64);
    let rounds = env_number("ROUNDS", 5);
    let duration = Duration::from_secs(env_number("SECONDS", 10));
    let mut modes = vec![Mode::SqlitePerWrite, Mode::SqliteGrouped];
    if postgres_admin_url().is_some() {
        modes.push(Mode::Postgres);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{tasks} concurrent writers, {rounds} alternating rounds of {} s, a fresh database each run",
        duration.as_secs()
    );
    let mut results: Vec<Vec<Run>> = modes.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        // Alternate the order too, so neither mode always runs on a warmer machine.
        let mut order: Vec<usize> = (0..modes.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let r = rt.block_on(run(modes[i], tasks, duration));
            println!(
                "round {}: {:<28} {:>8.0} writes/s  p50 {:>7.2} ms  p99 {:>7.2} ms  {}",
                round + 1,
                modes[i].name(),
                r.writes_per_s,
                r.p50_ms,
                r.p99_ms,
                r.note
            );
            results[i].push(r);
        }
    }
    println!("medians:");
    let mut medians = Vec::new();
    for (mode, runs) in modes.iter().zip(&results) {
        let rate = median(&mut runs.iter().map(|r| r.writes_per_s).collect::<Vec<_>>());
        let p50 = median(&mut runs.iter().map(|r| r.p50_ms).collect::<Vec<_>>());
        let p99 = median(&mut runs.iter().map(|r| r.p99_ms).collect::<Vec<_>>());
        println!(
            "  {:<28} {rate:>8.0} writes/s  p50 {p50:>7.2} ms  p99 {p99:>7.2} ms",
            mode.name()
        );
        medians.push(rate);
    }
    let base = medians[0];
    for (i, (mode, rate)) in modes.iter().zip(&medians).enumerate().skip(1) {
        // The same ratio taken round by round (the runs of a round are adjacent in time).
        let mut per_round: Vec<f64> = results[i]
            .iter()
            .zip(&results[0])
            .map(|(r, b)| r.writes_per_s / b.writes_per_s)
            .collect();
        println!(
            "  {} / {}: {:.2}x (median of the per-round ratios: {:.2}x)",
            mode.name(),
            modes[0].name(),
            rate / base,
            median(&mut per_round)
        );
    }
}
