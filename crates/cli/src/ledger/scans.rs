//! `greenlight scans list|show`: delivery scans recorded with
//! `greenlight scan --production X --record`.

use std::io::Write;

use clap::Subcommand;
use greenlight_store::{MAX_PAGE, ScanFile, ScanId, ScanRecord, ScanState};

use super::Context;
use super::common::{self, Output, field, json_line, parse_id, table};
use crate::exit::Exit;
use crate::style;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List a production's recorded scans, oldest first, with their state and counts.
    List {
        /// The production (id or exact title).
        #[arg(long)]
        production: String,
        #[command(flatten)]
        output: Output,
    },
    /// Show a recorded scan: its state, counts and every flagged or unreadable file, a page
    /// at a time.
    Show {
        /// The scan's id.
        #[arg(value_parser = parse_id::<ScanId>)]
        scan: ScanId,
        /// Start after this file (its row number: `next` in JSON, the hint in text).
        #[arg(long, value_name = "SEQ")]
        after: Option<u64>,
        /// At most this many files. Default: all.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
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
                        let c = &scan.counts;
                        rows.push(vec![
                            scan.id.to_string(),
                            scan.recorded_at.to_string(),
                            scan.recorded_by.clone(),
                            scan.state.as_str().to_owned(),
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
                        "state",
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
        Command::Show {
            scan,
            after,
            limit,
            output,
        } => {
            let mut record = cx.ledger().scan(scan).await?;
            // The files come a page at a time below, whether rows or (older scans) the body's.
            record.files.clear();
            let mut files = Files {
                cx,
                scan,
                after,
                left: limit,
            };
            if output.json() {
                show_json(&mut out, &record, &mut files).await?;
            } else {
                show(&mut out, &record, &mut files).await?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Notify)
}

/// A scan's files, read a page at a time from `after`, at most `left` of them.
struct Files<'a> {
    cx: &'a Context,
    scan: ScanId,
    after: Option<u64>,
    left: Option<u64>,
}

impl Files<'_> {
    /// The next page, empty at the end or at the limit.
    async fn page(&mut self) -> anyhow::Result<Vec<ScanFile>> {
        let want = self.left.map_or(MAX_PAGE, |l| {
            u32::try_from(l.min(u64::from(MAX_PAGE))).unwrap_or(MAX_PAGE)
        });
        if want == 0 {
            return Ok(Vec::new());
        }
        let page = self
            .cx
            .ledger()
            .scan_files(self.scan, self.after, want)
            .await?;
        if let Some(last) = page.items.last() {
            self.after = Some(last.seq);
        }
        if let Some(left) = &mut self.left {
            *left = left.saturating_sub(page.items.len() as u64);
        }
        Ok(page.items)
    }

    /// Where to go on from, when a limit stopped the listing before the last file.
    async fn next(&self) -> anyhow::Result<Option<u64>> {
        if self.left != Some(0) {
            return Ok(None);
        }
        let more = self
            .cx
            .ledger()
            .scan_files(self.scan, self.after, 1)
            .await?;
        Ok(if more.items.is_empty() {
            None
        } else {
            self.after
        })
    }
}

/// One JSON object, as every verb prints: the scan, its `files` (streamed, a page at a time)
/// and, when `--limit` stopped before the last file, `next`.
async fn show_json(
    out: &mut impl Write,
    record: &ScanRecord,
    files: &mut Files<'_>,
) -> anyhow::Result<()> {
    let mut head = serde_json::to_string(record)?;
    // A record serializes as an object with fields: reopen it to add the files.
    head.pop();
    write!(out, "{head},\"files\":[")?;
    let mut first = true;
    loop {
        let page = files.page().await?;
        if page.is_empty() {
            break;
        }
        for file in &page {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut *out, file)?;
        }
    }
    out.write_all(b"]")?;
    if let Some(next) = files.next().await? {
        write!(out, ",\"next\":{next}")?;
    }
    writeln!(out, "}}")?;
    Ok(())
}

fn gate_text(scan: &ScanRecord) -> &'static str {
    match (scan.state, scan.passed) {
        (ScanState::InProgress, _) => "incomplete",
        (ScanState::Complete, true) => "passed",
        (ScanState::Complete, false) => "failed",
    }
}

async fn show(
    out: &mut impl Write,
    scan: &ScanRecord,
    files: &mut Files<'_>,
) -> anyhow::Result<()> {
    let st = match (scan.state, scan.passed) {
        (ScanState::Complete, true) => style::level(greenlight_core::Level::Notify),
        (ScanState::Complete, false) => style::ERROR,
        (ScanState::InProgress, _) => style::WARNING,
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
    field(
        out,
        "state",
        match scan.state {
            ScanState::Complete => "complete".to_owned(),
            ScanState::InProgress => {
                "in_progress: not finished (still running, or stopped before the end); \
                 its counts and gate are not final"
                    .to_owned()
            }
        },
    )?;
    field(out, "scanner", &scan.scan.scanner)?;
    field(out, "paths", scan.scan.roots.join(", "))?;
    field(out, "started", scan.scan.started_at)?;
    field(
        out,
        "recorded",
        format!("{} by {}", scan.recorded_at, scan.recorded_by),
    )?;
    if let Some(at) = scan.finished_at {
        field(out, "finished", at)?;
    }
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
    let c = &scan.counts;
    field(
        out,
        "files",
        format!(
            "{} scanned: {} ai_generated, {} ai_edited, {} ai_possible, {} no_ai_evidence, \
             {} unsupported, {} error{}",
            c.files,
            c.ai_generated,
            c.ai_edited,
            c.ai_possible,
            c.no_ai_evidence,
            c.unsupported,
            c.error,
            if c.skipped > 0 {
                format!(", {} skipped (not regular files)", c.skipped)
            } else {
                String::new()
            }
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
    let mut header = false;
    loop {
        let page = files.page().await?;
        if page.is_empty() {
            break;
        }
        if !header {
            writeln!(out)?;
            file_line(
                out,
                ["#", "VERDICT", "STATUS", "APPROVAL", "SHA256", "PATH"],
            )?;
            header = true;
        }
        for f in &page {
            let seq = f.seq.to_string();
            let approval = f
                .file
                .approval_id
                .map_or_else(|| "-".to_owned(), |a| a.to_string());
            file_line(
                out,
                [
                    &seq,
                    &f.file.verdict,
                    f.file.status.map_or("-", |s| s.as_str()),
                    &approval,
                    f.file
                        .sha256
                        .as_deref()
                        .and_then(|h| h.get(..12))
                        .unwrap_or("-"),
                    &f.file.path,
                ],
            )?;
        }
    }
    if let Some(next) = files.next().await? {
        writeln!(out, "(more files: --after {next})")?;
    }
    Ok(())
}

/// One line of the files table. The widths are fixed (the longest verdict and status, a
/// UUID, 12 hex digits), so that pages stream out aligned without being held.
fn file_line(
    out: &mut impl Write,
    [seq, verdict, status, approval, sha, path]: [&str; 6],
) -> std::io::Result<()> {
    writeln!(
        out,
        "{seq:>7}  {verdict:<14}  {status:<16}  {approval:<36}  {sha:<12}  {path}"
    )
}
