//! Writes declarations in a burst and prints each id once its write is
//! acknowledged, for the crash test (which kills this process with SIGKILL)
//! and the two-process test.
//!
//! Usage: `ledger-burst TARGET KEY_FILE COUNT [TASKS]`. Prints `production ID`
//! first, then `declaration ID` after each committed submission. With TASKS
//! (default 1) concurrent writers sharing the COUNT, so that writes are in
//! flight together (on SQLite, grouped into one commit). The actor is
//! `burst-PID`, so the audit log tells the processes apart.
#![allow(clippy::print_stdout, reason = "stdout is this tool's interface")]

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use greenlight_core::Answer;
use greenlight_store::{AuditKey, Contact, Ledger, NewProduction, SystemClock};
use greenlight_store_tests::{declaration, open, triage};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (target, key, count, tasks) = match args.as_slice() {
        [_, target, key, count] => (target, key, count, "1"),
        [_, target, key, count, tasks] => (target, key, count, tasks.as_str()),
        _ => anyhow::bail!("usage: ledger-burst TARGET KEY_FILE COUNT [TASKS]"),
    };
    let count: u64 = count.parse()?;
    let tasks: u64 = tasks.parse()?;
    anyhow::ensure!(tasks >= 1, "TASKS is at least 1");
    let actor = format!("burst-{}", std::process::id());
    let store = open(target).await?;
    let ledger = Ledger::new(store, Arc::new(SystemClock), AuditKey::load(key.as_ref())?);
    let production = ledger
        .create_production(
            &actor,
            NewProduction {
                title: "Burst".to_owned(),
                kind: greenlight_core::ProductionKind::Scripted,
                studio_contact: Contact {
                    name: "Studio".to_owned(),
                    email: "studio@example.com".to_owned(),
                },
                members: Vec::new(),
            },
        )
        .await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "production {}", production.id)?;
        out.flush()?;
    }
    let next = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for _ in 0..tasks {
        let (ledger, next, actor) = (ledger.clone(), Arc::clone(&next), actor.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(());
                }
                let mut use_ = declaration("Burst", &format!("use {n}"));
                if n % 2 == 0 {
                    use_.output.final_deliverable = Answer::Yes;
                }
                let submission = ledger
                    .submit_declaration(&actor, production.id, use_, triage)
                    .await?;
                // One line, written and flushed whole, only after the commit returned.
                let mut out = std::io::stdout().lock();
                writeln!(out, "declaration {}", submission.declaration.id)?;
                out.flush()?;
            }
        }));
    }
    for writer in writers {
        writer.await??;
    }
    Ok(())
}
