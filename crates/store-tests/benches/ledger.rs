//! Ledger benchmarks: listing 100,000 declarations of one production page by
//! page (aim: under 50 ms a page), and the bulk insert rate.
//!
//! Runs on SQLite; on PostgreSQL too when `GREENLIGHT_TEST_POSTGRES_URL` is set.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark stops at the first error and prints its setup figures"
)]

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use greenlight_store::{Contact, NewProduction, ProductionId};
use greenlight_store_tests::{Backend, Fixture, declaration, triage};

const TOTAL: usize = 100_000;
const BATCH: usize = 1_000;
const PAGE: u32 = 100;

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

fn batch(from: usize, n: usize) -> Vec<greenlight_core::Declaration> {
    (from..from + n)
        .map(|i| declaration("The Long Night", &format!("use {i}")))
        .collect()
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, backend: Backend) {
    let Some(fixture) = rt.block_on(Fixture::new(backend)) else {
        return;
    };
    let ledger = fixture.ledger();
    let name = format!("{backend:?}").to_lowercase();

    // Setup: 100,000 declarations of one production, 1,000 per transaction.
    let production: ProductionId = rt
        .block_on(ledger.create_production("bench", new_production()))
        .unwrap()
        .id;
    let started = Instant::now();
    for from in (0..TOTAL).step_by(BATCH) {
        rt.block_on(ledger.submit_declarations("bench", production, batch(from, BATCH), triage))
            .unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "{name}: inserted {TOTAL} declarations (+ version, decision, notification, 4 audit entries each) \
         in {:.1} s: {:.0} declarations/s in batches of {BATCH}",
        elapsed.as_secs_f64(),
        TOTAL as f64 / elapsed.as_secs_f64()
    );

    // Cursors at every page boundary, and one full walk timed.
    let started = Instant::now();
    let mut cursors: Vec<Option<String>> = vec![None];
    let mut seen = 0;
    loop {
        let page = rt
            .block_on(ledger.declarations(production, cursors.last().unwrap().as_deref(), PAGE))
            .unwrap();
        seen += page.items.len();
        match page.next {
            Some(next) => cursors.push(Some(next)),
            None => break,
        }
    }
    let walk = started.elapsed();
    assert_eq!(seen, TOTAL);
    println!(
        "{name}: listed all {TOTAL} in {} pages of {PAGE} in {:.2} s: {:.2} ms a page on average",
        cursors.len(),
        walk.as_secs_f64(),
        walk.as_secs_f64() * 1000.0 / cursors.len() as f64
    );

    let mut group = c.benchmark_group(format!("{name}/list_100k"));
    for (label, at) in [
        ("first", 0),
        ("middle", cursors.len() / 2),
        ("last", cursors.len() - 1),
    ] {
        let cursor = cursors[at].clone();
        group.bench_with_input(
            BenchmarkId::new("page_of_100", label),
            &cursor,
            |b, cursor| {
                b.iter(|| {
                    rt.block_on(ledger.declarations(production, cursor.as_deref(), PAGE))
                        .unwrap()
                });
            },
        );
    }
    group.finish();

    let mut group = c.benchmark_group(format!("{name}/insert"));
    group.sample_size(10);
    let mut next = TOTAL;
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("batch_of_1000_in_one_transaction", |b| {
        b.iter(|| {
            rt.block_on(ledger.submit_declarations(
                "bench",
                production,
                batch(next, BATCH),
                triage,
            ))
            .unwrap();
            next += BATCH;
        });
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_declaration_per_transaction", |b| {
        b.iter(|| {
            rt.block_on(ledger.submit_declaration(
                "bench",
                production,
                declaration("The Long Night", "single"),
                triage,
            ))
            .unwrap();
        });
    });
    group.finish();

    let started = Instant::now();
    let report = rt.block_on(ledger.verify()).unwrap();
    assert!(report.is_ok(), "{report}");
    println!(
        "{name}: audit verify of {} entries and {} records in {:.1} s",
        report.entries,
        report.records,
        started.elapsed().as_secs_f64()
    );
    rt.block_on(fixture.cleanup());
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    bench_backend(c, &rt, Backend::Sqlite);
    bench_backend(c, &rt, Backend::Postgres);
}

criterion_group!(ledger, benches);
criterion_main!(ledger);
