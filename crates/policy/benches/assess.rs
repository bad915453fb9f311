//! Triage speed: one declaration against the full default pack, and against
//! the floor rule alone, measured in the same run so the cost per rule is the
//! difference divided by the number of rules.
//!
//! `cargo bench -p greenlight-policy --bench assess`; the percentiles are
//! printed by `scripts/bench-assess.sh`, which times single calls.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test, benchmark or tool: a failure panics with its message"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use greenlight_core::{Declaration, SourceFormat};
use greenlight_policy::{Policy, Source};

const DECLARATION: &str = include_str!("data/vfx-shot.toml");

const FLOOR_ONLY: &str = r#"
[pack]
id = "floor"
version = "1"
[[categories]]
id = "§0"
text = "floor"
[[rules]]
id = "floor-notify"
when = 'true'
level = "notify"
cites = ["§0"]
basis = "guidance"
reason = "r"
remedy = "r"
"#;

fn bench(c: &mut Criterion) {
    let declaration = Declaration::parse(DECLARATION, SourceFormat::Toml).unwrap();
    let full = Policy::builtin();
    let floor = Policy::compile(&[Source::new("floor.toml", FLOOR_ONLY)], &mut |_, _| {
        Err(String::new())
    })
    .unwrap();
    let mut group = c.benchmark_group("assess");
    group.bench_function(format!("full pack ({} rules)", full.rules().len()), |b| {
        b.iter(|| full.assess(black_box(&declaration)).unwrap())
    });
    group.bench_function("floor rule only", |b| {
        b.iter(|| floor.assess(black_box(&declaration)).unwrap())
    });
    group.finish();
    c.bench_function("parse declaration (TOML)", |b| {
        b.iter(|| Declaration::parse(black_box(DECLARATION), SourceFormat::Toml).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
