//! Writes declarations in a burst and prints each id once its write is
//! acknowledged, for the crash test (which kills this process with SIGKILL).
//!
//! Usage: `ledger-burst TARGET KEY_FILE COUNT`. Prints `production ID` first,
//! then `declaration ID` after each committed submission.
#![allow(clippy::print_stdout, reason = "stdout is this tool's interface")]

use std::io::Write as _;
use std::sync::Arc;

use greenlight_core::Answer;
use greenlight_store::{AuditKey, Contact, Ledger, NewProduction, SystemClock};
use greenlight_store_tests::{declaration, open, triage};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, target, key, count] = args.as_slice() else {
        anyhow::bail!("usage: ledger-burst TARGET KEY_FILE COUNT");
    };
    let count: u64 = count.parse()?;
    let store = open(target).await?;
    let ledger = Ledger::new(store, Arc::new(SystemClock), AuditKey::load(key.as_ref())?);
    let production = ledger
        .create_production(
            "burst",
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
    let mut out = std::io::stdout().lock();
    writeln!(out, "production {}", production.id)?;
    out.flush()?;
    for n in 0..count {
        let mut use_ = declaration("Burst", &format!("use {n}"));
        if n % 2 == 0 {
            use_.output.final_deliverable = Answer::Yes;
        }
        let submission = ledger
            .submit_declaration("burst", production.id, use_, triage)
            .await?;
        writeln!(out, "declaration {}", submission.declaration.id)?;
        out.flush()?;
    }
    Ok(())
}
