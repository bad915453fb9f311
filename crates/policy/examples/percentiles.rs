//! Percentiles of one assessment against the default pack, timed one call at
//! a time (criterion reports means; the target is a p99).
//!
//! `cargo run --release -p greenlight-policy --example percentiles [DECLARATION]`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test, benchmark or tool: a failure panics with its message"
)]

use std::time::Instant;

use greenlight_core::{Declaration, SourceFormat};
use greenlight_policy::Policy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/vfx-shot.toml").to_owned()
    });
    let text = std::fs::read_to_string(&path)?;
    let declaration = Declaration::parse(&text, SourceFormat::from_path(&path))?;
    let policy = Policy::builtin();
    let rules = policy.rules().len();
    let warmup: usize = std::env::var("GREENLIGHT_BENCH_WARMUP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let samples_n: usize = std::env::var("GREENLIGHT_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    for _ in 0..warmup {
        std::hint::black_box(policy.assess(&declaration)?);
    }
    let mut samples = Vec::with_capacity(samples_n);
    for _ in 0..samples_n {
        let start = Instant::now();
        std::hint::black_box(policy.assess(std::hint::black_box(&declaration))?);
        samples.push(start.elapsed().as_nanos() as f64 / 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    println!("declaration: {path}");
    println!("rules: {rules}");
    println!(
        "p50: {:.2} µs  p90: {:.2} µs  p99: {:.2} µs  p99.9: {:.2} µs  max: {:.2} µs",
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        at(1.0)
    );
    println!(
        "per rule (p50 / rules): {:.0} ns",
        at(0.5) * 1000.0 / rules as f64
    );
    Ok(())
}
