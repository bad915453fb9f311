//! `greenlight scans list|show`: delivery scans recorded with
//! `greenlight scan --production X --record`.

use std::io::Write;

use clap::Subcommand;
use greenlight_store::{MAX_PAGE, ScanId, ScanRecord};

use super::Context;
use super::common::{self, Output, field, json_line, parse_id, table};
use crate::exit::Exit;
use crate::style;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List a production's recorded scans, oldest first.
    List {
        /// The production (id or exact title).
        #[arg(long)]
        production: String,
        #[command(flatten)]
        output: Output,
    },
    /// Show a recorded scan: its counts and every flagged or unreadable file.
    Show {
        /// The scan's id.
        #[arg(value_parser = parse_id::<ScanId>)]
        scan: ScanId,
        #[command(flatten)]
        output: Output,
    },
}

pub async fn run(cx: &Context, command: Command) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    match command {
        Command::List { production, output } => {
            let production = common::production(cx.ledger(), &production).await?;
            let mut rows = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = cx
                    .ledger()
                    .scans(production.id, after.as_deref(), MAX_PAGE)
                    .await?;
                for scan in page.items {
                    if output.json() {
                        json_line(&mut out, &scan)?;
                    } else {
                        let c = &scan.scan.counts;
                        rows.push(vec![
                            scan.id.to_string(),
                            scan.recorded_at.to_string(),
                            scan.recorded_by.clone(),
                            gate_text(&scan).to_owned(),
                            c.files.to_string(),
                            (c.ai_generated + c.ai_edited + c.ai_possible).to_string(),
                            c.approved.to_string(),
                            c.unapproved.to_string(),
                            c.approval_expired.to_string(),
                            scan.scan.roots.join(", "),
                        ]);
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            if !output.json() {
                table(
                    &mut out,
                    &[
                        "id",
                        "recorded",
                        "by",
                        "gate",
                        "files",
                        "flagged",
                        "approved",
                        "unapproved",
                        "expired",
                        "paths",
                    ],
                    &rows,
                )?;
            }
        }
        Command::Show { scan, output } => {
            let scan = cx.ledger().scan(scan).await?;
            if output.json() {
                json_line(&mut out, &scan)?;
            } else {
                show(&mut out, &scan)?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Notify)
}

fn gate_text(scan: &ScanRecord) -> &'static str {
    if scan.scan.passed { "passed" } else { "failed" }
}

fn show(out: &mut impl Write, scan: &ScanRecord) -> std::io::Result<()> {
    let st = if scan.scan.passed {
        style::level(greenlight_core::Level::Notify)
    } else {
        style::ERROR
    };
    writeln!(
        out,
        "scan {} of production {}: gate {}{}{}",
        scan.id,
        scan.scan.production_id,
        st.render(),
        gate_text(scan),
        st.render_reset()
    )?;
    field(out, "scanner", &scan.scan.scanner)?;
    field(out, "paths", scan.scan.roots.join(", "))?;
    field(out, "started", scan.scan.started_at)?;
    field(
        out,
        "recorded",
        format!("{} by {}", scan.recorded_at, scan.recorded_by),
    )?;
    let mut options = Vec::new();
    if scan.scan.verified {
        options.push("C2PA verified");
    }
    if scan.scan.strict {
        options.push("strict");
    }
    field(
        out,
        "options",
        if options.is_empty() {
            "none".to_owned()
        } else {
            options.join(", ")
        },
    )?;
    let c = &scan.scan.counts;
    field(
        out,
        "files",
        format!(
            "{} scanned: {} ai_generated, {} ai_edited, {} ai_possible, {} no_ai_evidence, \
             {} unsupported, {} error",
            c.files,
            c.ai_generated,
            c.ai_edited,
            c.ai_possible,
            c.no_ai_evidence,
            c.unsupported,
            c.error
        ),
    )?;
    field(
        out,
        "approvals",
        format!(
            "{} approved, {} unapproved, {} approval expired",
            c.approved, c.unapproved, c.approval_expired
        ),
    )?;
    if scan.scan.files.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = scan
        .scan
        .files
        .iter()
        .map(|f| {
            vec![
                f.verdict.clone(),
                f.status.map_or("-", |s| s.as_str()).to_owned(),
                f.approval_id
                    .map_or_else(|| "-".to_owned(), |a| a.to_string()),
                f.sha256
                    .as_deref()
                    .and_then(|h| h.get(..12))
                    .unwrap_or("-")
                    .to_owned(),
                f.path.clone(),
            ]
        })
        .collect();
    table(
        out,
        &["verdict", "status", "approval", "sha256", "path"],
        &rows,
    )
}
