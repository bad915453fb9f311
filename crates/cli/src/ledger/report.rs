//! `greenlight report --production X [--format html|pdf|json|csv] [--out FILE]`:
//! a production's report, recorded in the ledger by its sha256; and
//! `greenlight report verify FILE`: which production, report and time a file
//! handed over is, or that the ledger never made it.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use greenlight_report::Format;
use greenlight_store::{NewReport, StoreError};
use sha2::Digest as _;

use super::Context;
use super::common::{self, Output, json_line};
use crate::exit::Exit;
use crate::style;

/// The report's options, or `verify`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The production (id or exact title).
    #[arg(long, required = true)]
    production: Option<String>,
    /// html (one self-contained page), pdf, json (the documented shape), or csv (a zip
    /// archive of one CSV file per table).
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    format: ReportFormat,
    /// Write the report to FILE. Default: standard output (json and html; pdf and csv
    /// only when it is not a terminal).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a report handed over: hash FILE and say which production, report and time
    /// it is. Exit 1 when the ledger never recorded it (changed, or from another ledger).
    Verify {
        /// The report file (any format).
        file: PathBuf,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Html,
    Pdf,
    Json,
    Csv,
}

impl From<ReportFormat> for Format {
    fn from(f: ReportFormat) -> Format {
        match f {
            ReportFormat::Html => Format::Html,
            ReportFormat::Pdf => Format::Pdf,
            ReportFormat::Json => Format::Json,
            ReportFormat::Csv => Format::Csv,
        }
    }
}

/// Whether the verb writes (a report is recorded; `verify` only reads).
pub fn writes(args: &Args) -> bool {
    args.command.is_none()
}

pub async fn run(cx: &Context, args: Args) -> anyhow::Result<Exit> {
    match args.command {
        Some(Command::Verify { file, output }) => verify(cx, &file, &output).await,
        None => {
            let Some(production) = args.production else {
                bail!("which production? pass --production ID|TITLE");
            };
            make(cx, &production, args.format.into(), args.out.as_deref()).await
        }
    }
}

async fn make(
    cx: &Context,
    production: &str,
    format: Format,
    out: Option<&Path>,
) -> anyhow::Result<Exit> {
    let actor = cx.actor()?;
    if out.is_none() && format.is_binary() && std::io::stdout().is_terminal() {
        bail!("a {format} report is binary: pass --out FILE (or redirect standard output)");
    }
    let production = common::production(cx.ledger(), production).await?;
    let report = greenlight_report::gather(cx.ledger(), production.id, actor).await?;
    let bytes = greenlight_report::render(&report, format)?;
    let sha256 = greenlight_report::sha256_hex(&bytes);
    let record = cx
        .ledger()
        .record_report(
            actor,
            NewReport {
                sha256: sha256.clone(),
                report_id: report.report_id.clone(),
                production_id: production.id,
                format: format.as_str().to_owned(),
                bytes: bytes.len() as u64,
                generated_at: report
                    .generated_at
                    .parse()
                    .context("the report's time does not read back")?,
                audit_head_seq: report.audit.head_seq,
                audit_head_hash: report.audit.head_hash.clone(),
            },
        )
        .await?;
    match out {
        Some(path) => {
            std::fs::write(path, &bytes)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            let mut err = anstream::stderr();
            writeln!(
                err,
                "wrote {} ({format}, {} bytes): report {} on `{}`, sha256 {} recorded in the ledger",
                path.display(),
                bytes.len(),
                record.report_id,
                production.title,
                record.sha256
            )?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes)?;
            stdout.flush()?;
        }
    }
    if !report.audit.ok {
        let mut err = anstream::stderr();
        writeln!(
            err,
            "{}warning:{} the audit log did not verify ({} problem(s)); the report says so",
            style::WARNING.render(),
            style::WARNING.render_reset(),
            report.audit.problems.len()
        )?;
    }
    Ok(Exit::Notify)
}

/// The most a report file may be: larger is not a report this ledger made.
const MAX_REPORT: u64 = 1 << 30;

fn hash_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut digest = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > MAX_REPORT {
            bail!("`{}` is over 1 GiB: not a report", path.display());
        }
        digest.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hex::encode(digest.finalize()))
}

#[derive(serde::Serialize)]
struct Verified<'a> {
    ok: bool,
    file: String,
    sha256: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a greenlight_store::ReportRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    production_title: Option<String>,
}

async fn verify(cx: &Context, path: &Path, output: &Output) -> anyhow::Result<Exit> {
    let sha256 = hash_file(path)?;
    let record = cx.ledger().report_by_sha256(&sha256).await?;
    let title = match &record {
        Some(r) => match cx.ledger().production(r.production_id).await {
            Ok(p) => Some(p.title),
            Err(StoreError::NotFound { .. }) => None,
            Err(other) => return Err(other.into()),
        },
        None => None,
    };
    let mut out = common::stdout();
    if output.json() {
        json_line(
            &mut out,
            &Verified {
                ok: record.is_some(),
                file: path.display().to_string(),
                sha256: &sha256,
                report: record.as_ref(),
                production_title: title.clone(),
            },
        )?;
    }
    match record {
        Some(r) => {
            if !output.json() {
                writeln!(
                    out,
                    "{}ok:{} `{}` is report {} on production `{}` ({}), {} made at {} by {}",
                    style::level(greenlight_core::Level::Notify).render(),
                    style::level(greenlight_core::Level::Notify).render_reset(),
                    path.display(),
                    r.report_id,
                    title.as_deref().unwrap_or("?"),
                    r.production_id,
                    r.format,
                    r.generated_at,
                    r.recorded_by
                )?;
                match (r.audit_head_seq, &r.audit_head_hash) {
                    (Some(seq), Some(hash)) => {
                        writeln!(out, "  audit head then: entry {seq}, {hash}")?
                    }
                    _ => writeln!(out, "  audit log then: empty")?,
                }
                writeln!(out, "  sha256 {}", r.sha256)?;
            }
            Ok(Exit::Notify)
        }
        None => {
            if !output.json() {
                let mut err = anstream::stderr();
                writeln!(
                    err,
                    "{}refused:{} `{}` (sha256 {sha256}) is not a report this ledger recorded: \
                     it was changed after it was made, or it comes from another ledger",
                    style::ERROR.render(),
                    style::ERROR.render_reset(),
                    path.display()
                )?;
            }
            Ok(Exit::Error)
        }
    }
}
