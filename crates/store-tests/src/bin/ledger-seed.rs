//! Fills a production with declarations fast, for the HTTP list benchmark
//! (`scripts/bench-serve-ledger.sh`): through the `Ledger`, 1,000 to a
//! transaction (`Ledger::submit_declarations`), each audited as any other.
//!
//! Usage: `ledger-seed TARGET KEY_FILE PRODUCTION_ID COUNT`. Prints the count
//! and how long it took. The actor is `seed`; the decisions are the suite's
//! stand-in triage.
#![allow(clippy::print_stdout, reason = "stdout is this tool's interface")]

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use greenlight_store::{AuditKey, Ledger, ProductionId, SystemClock};
use greenlight_store_tests::{declaration, open, triage};

/// Declarations written in one transaction.
const BATCH: u64 = 1_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, target, key, production, count] = args.as_slice() else {
        anyhow::bail!("usage: ledger-seed TARGET KEY_FILE PRODUCTION_ID COUNT");
    };
    let production: ProductionId = production
        .parse()
        .map_err(|e| anyhow::anyhow!("PRODUCTION_ID `{production}`: {e}"))?;
    let count: u64 = count
        .parse()
        .with_context(|| format!("COUNT `{count}` is not a number"))?;
    let store = open(target).await?;
    let ledger = Ledger::new(
        Arc::clone(&store),
        Arc::new(SystemClock),
        AuditKey::load(key.as_ref())?,
    );
    let title = ledger.production(production).await?.title;
    let started = Instant::now();
    let mut written = 0;
    while written < count {
        let n = BATCH.min(count - written);
        let batch = (written..written + n)
            .map(|i| declaration(&title, &format!("seeded use {i}")))
            .collect();
        ledger
            .submit_declarations("seed", production, batch, triage)
            .await?;
        written += n;
    }
    let elapsed = started.elapsed();
    store.close().await;
    println!(
        "seeded {written} declarations in {:.1} s ({:.0}/s)",
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    Ok(())
}
