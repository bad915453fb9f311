//! `greenlight audit verify|log`: check the hash chain and its signed
//! checkpoints, or read the entries.

use std::io::Write;

use clap::{Args, Subcommand};
use greenlight_store::{AuditEntry, MAX_PAGE, Problem, public_key_from_hex};
use serde::Serialize;

use super::Context;
use super::common::{self, Output, json_line, table};
use crate::exit::Exit;
use crate::style;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Recompute the chain, check every checkpoint's signature, and compare
    /// every record with the entry that last wrote it. Exit 1 naming the
    /// first bad entry when anything is wrong.
    Verify(VerifyArgs),
    /// Print the public half of the audit key (hex), for verifying elsewhere
    /// with `audit verify --public-key`.
    Key,
    /// List audit entries, oldest first.
    Log {
        /// Start after this entry (its seq).
        #[arg(long, value_name = "SEQ")]
        after: Option<i64>,
        /// At most this many entries. Default: all.
        #[arg(long)]
        limit: Option<u64>,
        /// Only the entries of this record (its id).
        #[arg(long, value_name = "ID")]
        record: Option<String>,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Check the signatures with this public key (hex, as `audit key` prints
    /// it) instead of the audit key file: no secret is needed to verify.
    #[arg(long = "public-key", value_name = "HEX")]
    pub public_key: Option<String>,
    #[command(flatten)]
    output: Output,
}

#[derive(Serialize)]
struct Verified {
    ok: bool,
    entries: u64,
    checkpoints: u64,
    records: u64,
    first_bad_entry: Option<i64>,
    problems: Vec<ProblemLine>,
}

#[derive(Serialize)]
struct ProblemLine {
    seq: Option<i64>,
    message: String,
}

#[derive(Serialize)]
struct EntryLine<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    kind: &'a str,
    record_id: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    prev_hash: &'a str,
    hash: &'a str,
}

pub async fn run(cx: &Context, command: Command) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    let exit = match command {
        Command::Verify(args) => verify(cx, &mut out, args).await?,
        Command::Key => {
            writeln!(out, "{}", hex(&cx.ledger.verifying_key().to_bytes()))?;
            Exit::Notify
        }
        Command::Log {
            after,
            limit,
            record,
            output,
        } => {
            log(cx, &mut out, after, limit, record.as_deref(), output).await?;
            Exit::Notify
        }
    };
    out.flush()?;
    Ok(exit)
}

async fn verify(cx: &Context, out: &mut impl Write, args: VerifyArgs) -> anyhow::Result<Exit> {
    let output = args.output;
    let key = match &args.public_key {
        Some(text) => public_key_from_hex(text)?,
        None => cx.ledger.verifying_key(),
    };
    let report = greenlight_store::verify(&**cx.ledger.store(), &key).await?;
    // The problem at the first bad entry (a record inserted outside the
    // ledger is at no entry: then the first found).
    let first_bad = report.first_bad_entry();
    let first = report
        .problems
        .iter()
        .find(|p| p.seq().is_some() && p.seq() == first_bad)
        .or(report.first_problem())
        .cloned();
    if output.json() {
        json_line(
            out,
            &Verified {
                ok: report.is_ok(),
                entries: report.entries,
                checkpoints: report.checkpoints,
                records: report.records,
                first_bad_entry: report.first_bad_entry(),
                problems: report
                    .problems
                    .iter()
                    .map(|p| ProblemLine {
                        seq: p.seq(),
                        message: p.to_string(),
                    })
                    .collect(),
            },
        )?;
    } else {
        write!(out, "{report}")?;
        if report.is_ok() {
            writeln!(
                out,
                " (key {})",
                hex(&key.to_bytes()).get(..16).unwrap_or_default()
            )?;
        }
    }
    match first {
        None => Ok(Exit::Notify),
        Some(problem) => {
            out.flush()?;
            let hint = match (&problem, &args.public_key) {
                (Problem::BadSignature { .. }, None) => format!(
                    " (checked with the key in `{}`: is it the key that signs this ledger?)",
                    cx.key_path.display()
                ),
                (Problem::BadSignature { .. }, Some(_)) => {
                    " (is --public-key the key that signs this ledger?)".to_owned()
                }
                _ => String::new(),
            };
            let _ = writeln!(
                anstream::stderr(),
                "{}error:{} the audit log is broken: {problem}{hint}",
                style::ERROR.render(),
                style::ERROR.render_reset(),
            );
            Ok(Exit::Error)
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn log(
    cx: &Context,
    out: &mut impl Write,
    after: Option<i64>,
    limit: Option<u64>,
    record: Option<&str>,
    output: Output,
) -> anyhow::Result<()> {
    let mut cursor = after;
    let mut shown: u64 = 0;
    let mut rows = Vec::new();
    'pages: loop {
        let page: Vec<AuditEntry> = cx.ledger.audit_entries(cursor, MAX_PAGE).await?;
        let Some(last) = page.last() else { break };
        cursor = Some(last.seq);
        for entry in &page {
            if limit.is_some_and(|l| shown >= l) {
                break 'pages;
            }
            if record.is_some_and(|r| r != entry.record_id) {
                continue;
            }
            shown += 1;
            // A password hash is the account's secret: shown to nobody, here as over HTTP.
            // The hash printed is the stored one, so `audit verify` still checks the chain.
            let entry = entry.redacted();
            if output.json() {
                json_line(
                    out,
                    &EntryLine {
                        seq: entry.seq,
                        at: &entry.at,
                        actor: &entry.actor,
                        action: &entry.action,
                        kind: &entry.kind,
                        record_id: &entry.record_id,
                        before: entry.before.as_deref(),
                        after: entry.after.as_deref(),
                        prev_hash: &entry.prev_hash,
                        hash: &entry.hash,
                    },
                )?;
            } else {
                rows.push(vec![
                    entry.seq.to_string(),
                    entry.at.clone(),
                    entry.actor.clone(),
                    entry.action.clone(),
                    entry.kind.clone(),
                    entry.record_id.clone(),
                ]);
            }
        }
    }
    if !output.json() {
        table(
            out,
            &["seq", "at", "actor", "action", "kind", "record"],
            &rows,
        )?;
    }
    Ok(())
}
