//! `greenlight scan`: walk files and trees and say, per file, whether it carries evidence of
//! generative AI, and which.
//!
//! Two stages, as everywhere in this binary: [`ScanArgs`] mirrors the flags, [`Config`] is the
//! checked form (roots that exist, a loaded trust list, the library's `ScanOptions`). The work is
//! done by `greenlight_provenance::Scanner`, which streams one report per file; this module
//! only prints them as they come (NDJSON or text), counts them, and draws a progress line on
//! stderr when stderr is a terminal. Nothing here holds more than one report at a time.
//!
//! With `--production X`, every flagged file is also matched against that production's
//! approvals in the ledger ([`crate::gate`]) and the result rides along: an `approval` object in
//! JSON, a second line in text, a gate table in the summary. With `--server URL`, the ledger is
//! the server's: the evidence of flagged files (never their content) is posted in batches and
//! each file is printed when the server has judged its batch ([`crate::remote`]).
//!
//! With `--screen`, prompts found in generator metadata are screened against watchlists; with
//! `--similar`, every JPEG, PNG, WebP or TIFF file is read again, decoded and checked against
//! the local ledger's protected reference images ([`crate::similar::ScanCheck`], loaded once
//! before the walk). Both add lines under the file (`screen`, `similar` in JSON) and list it in
//! text output; neither changes the exit code. Without them nothing is read twice.
//!
//! Exit code: 0 when the scan ran, whatever it found; 4 with `--gate` when a flagged file fails
//! the gate; 1 when a PATH does not exist or cannot be read at all (the other PATHs are still
//! scanned), the ledger cannot be read, or the output cannot be written; 2 for usage errors.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anstream::AutoStream;
use anstyle::{AnsiColor, Style};
use clap::Args;
use greenlight_provenance::{
    Evidence, FileReport, Integrity, Kind, ScanOptions, Scanner, Signal, Strength, Summary, Verdict,
};
use greenlight_store::Judgement;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::Format;
use crate::exit::Exit;
use crate::gate::{Gate, GateOptions};
use crate::ledger::Global;
use crate::remote::{Server, Token};
use crate::style;

/// The flags of `greenlight scan`, as typed.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan (directories are walked).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format: text for people (flagged files and a summary), json for programs
    /// (one object per file, NDJSON).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// In text output, list every file, not only the AI-flagged, possible and failed ones.
    #[arg(long)]
    all: bool,
    /// Validate C2PA manifests (hashes, signature, signer trust); slower.
    #[arg(long)]
    verify: bool,
    /// PEM bundle of trusted C2PA signer roots, used with --verify.
    #[arg(long, value_name = "PEM", requires = "verify")]
    trust_list: Option<PathBuf>,
    /// PEM bundle of signer certificates and CA anchors that greenlight stamps are checked
    /// against (a stamp counts at the gate only when its signer is on it). Default: trust.pem
    /// in the keys directory (`greenlight keys`), when there is one.
    #[arg(long, env = "GREENLIGHT_STAMP_TRUST", value_name = "PEM")]
    stamp_trust: Option<PathBuf>,
    /// Follow symbolic links while walking (off: links are counted and skipped).
    #[arg(long)]
    follow_symlinks: bool,
    /// Do not look for a `.c2pa` sidecar next to each file.
    #[arg(long)]
    no_sidecars: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Most bytes read from one file, e.g. 268435456, 256M or 1G.
    #[arg(long, value_name = "N", value_parser = parse_size, default_value = "256M")]
    max_bytes: u64,
    /// Most seconds spent reading one file's container.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), default_value_t = 20)]
    max_time: u64,
    /// Never draw the progress line (it is only drawn when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
    /// Screen the prompts found in generator metadata (A1111, ComfyUI, IPTC AI fields)
    /// against watchlists: each hit is listed under its file (`screen` in JSON).
    #[arg(long, help_heading = "Screening")]
    screen: bool,
    /// A watchlist for --screen (TOML or CSV); repeatable. Default: as `greenlight screen`.
    #[arg(
        long = "watchlist",
        value_name = "FILE",
        requires = "screen",
        help_heading = "Screening"
    )]
    watchlists: Vec<PathBuf>,
    /// Check every image the scan reads (JPEG, PNG, WebP, TIFF) against the local ledger's
    /// protected reference images, as `greenlight similar` does: near-copies, low-quality
    /// hashes and images that cannot be decoded are listed under the file (`similar` in
    /// JSON). The exit code is unchanged; `greenlight similar` exits 3 on a near-copy.
    #[arg(long, conflicts_with = "server", help_heading = "Near-copy check")]
    similar: bool,
    /// The match distance for --similar: bits of 256 that may differ.
    #[arg(
        long,
        value_name = "BITS",
        requires = "similar",
        default_value_t = greenlight_screen::image::MATCH_DISTANCE,
        value_parser = clap::value_parser!(u32).range(0..=128),
        help_heading = "Near-copy check"
    )]
    similar_distance: u32,
    /// Only references of this label, for --similar.
    #[arg(
        long,
        value_name = "LABEL",
        requires = "similar",
        help_heading = "Near-copy check"
    )]
    similar_label: Option<String>,
    /// Match every AI-flagged file against this production's approvals (its id or exact
    /// title): each is approved (with the approval's id), unapproved, or approval_expired.
    /// Approval globs match the path relative to the scanned directory, or as printed.
    #[arg(long, value_name = "ID|TITLE", help_heading = "Delivery gate")]
    production: Option<String>,
    /// Exit 4 when an ai_generated or ai_edited file is not covered by an approval in force.
    #[arg(long, requires = "production", help_heading = "Delivery gate")]
    gate: bool,
    /// Gate ai_possible (weak signals only) and unreadable files too.
    #[arg(long, requires = "production", help_heading = "Delivery gate")]
    strict: bool,
    /// Record the scan in the ledger, with the scanner's version, the counts and every
    /// flagged or unreadable file, written in audited batches as the scan goes.
    #[arg(long, requires = "production", help_heading = "Delivery gate")]
    record: bool,
    /// Ask this greenlight server (http:// or https://) instead of the local ledger: the
    /// evidence of flagged files (paths, hashes, verdicts, evidence; never their content) is
    /// posted in batches and the server judges each file and keeps the record.
    #[arg(
        long,
        value_name = "URL",
        requires = "production",
        requires = "token",
        help_heading = "Delivery gate"
    )]
    server: Option<String>,
    /// The API token to call the server with (never printed).
    #[arg(
        long,
        env = "GREENLIGHT_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = crate::remote::parse_token,
        help_heading = "Delivery gate"
    )]
    token: Option<Token>,
}

/// The checked form of [`ScanArgs`].
struct Config {
    /// Roots that exist and can be read.
    roots: Vec<PathBuf>,
    /// Roots that do not exist or cannot be read, with the reason.
    missing: Vec<(PathBuf, io::Error)>,
    options: ScanOptions,
    format: Format,
    all: bool,
    progress: bool,
    gate: Option<GateOptions>,
    /// The trust list stamps are verified against.
    stamp_trust: Option<greenlight_provenance::stamp::TrustList>,
}

impl ScanArgs {
    fn check(self) -> anyhow::Result<Config> {
        let trust_anchors =
            match &self.trust_list {
                Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
                    anyhow::anyhow!("cannot read trust list `{}`: {e}", p.display())
                })?),
                None => None,
            };
        let stamp_trust = crate::stamp::load_trust(self.stamp_trust.as_deref())?;
        let (mut roots, mut missing) = (Vec::new(), Vec::new());
        for path in self.paths {
            match readable(&path) {
                Ok(()) => roots.push(path),
                Err(e) => missing.push((path, e)),
            }
        }
        Ok(Config {
            roots,
            missing,
            options: ScanOptions {
                verify: self.verify,
                trust_anchors,
                follow_symlinks: self.follow_symlinks,
                sidecars: !self.no_sidecars,
                max_bytes_per_file: self.max_bytes,
                max_time_per_file: Duration::from_secs(self.max_time),
                threads: self.jobs.map_or(0, usize::from),
                // Set once the gate knows whether it needs the hashes.
                hash_flagged: false,
            },
            format: self.format,
            all: self.all,
            progress: !self.no_progress && io::stderr().is_terminal(),
            stamp_trust,
            gate: self.production.map(|production| GateOptions {
                production,
                enforce: self.gate,
                strict: self.strict,
                record: self.record,
                server: match (self.server, self.token) {
                    (Some(url), Some(token)) => Some(Server { url, token }),
                    _ => None,
                },
            }),
        })
    }
}

/// Whether a root can be scanned at all: a directory that lists, or a regular file that
/// opens. Anything else that exists (a FIFO, a device) is the scanner's to report as skipped:
/// it is not opened here either (opening a FIFO blocks).
fn readable(path: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        std::fs::read_dir(path).map(drop)
    } else if meta.is_file() {
        File::open(path).map(drop)
    } else {
        Ok(())
    }
}

/// Parses a byte count: digits, optionally followed by K, M or G (powers of 1024, with or
/// without a trailing `iB` or `B`).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a byte count (for example 1048576, 64K, 256M, 2G)"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use K, M or G)")),
    };
    let n = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))?;
    if n == 0 {
        return Err("must be at least 1 byte".to_string());
    }
    Ok(n)
}

/// Runs `greenlight scan`.
pub fn run(global: &Global, args: ScanArgs) -> anyhow::Result<Exit> {
    let screener = match args.screen {
        true => Some(crate::screen::load_screener(
            global,
            &args.watchlists,
            None,
        )?),
        false => None,
    };
    let similar = match args.similar {
        true => Some(crate::similar::ScanCheck::open(
            global,
            args.similar_label.as_deref(),
            args.similar_distance,
        )?),
        false => None,
    };
    let config = args.check()?;
    let mut err = anstream::stderr();
    let mut gate = match &config.gate {
        Some(options) => Some(Gate::open(
            global,
            options.clone(),
            &config.roots,
            config.options.verify,
        )?),
        None => None,
    };
    if let Some(gate) = &gate {
        for problem in &gate.header().problems {
            writeln!(
                err,
                "{}warning:{} {problem}",
                style::WARNING.render(),
                style::WARNING.render_reset()
            )?;
        }
    }
    for (path, e) in &config.missing {
        writeln!(
            err,
            "{}error:{} cannot read `{}`: {e}",
            style::ERROR.render(),
            style::ERROR.render_reset(),
            path.display()
        )?;
    }
    let mut options = config.options.clone();
    // Flagged files are hashed (whole, in the workers) only when an approval names files by
    // content hash or the record keeps the hashes: a multi-gigabyte master is read end to end.
    options.hash_flagged = gate.as_ref().is_some_and(Gate::needs_hashes);
    let mut scanner = Scanner::new(options)?;
    if let Some(trust) = &config.stamp_trust {
        scanner = scanner.with_stamp_trust(trust)?;
    }
    let started = Instant::now();
    let bar = progress_bar(config.progress);
    let stdout = io::stdout();
    // NDJSON goes out as written, in blocks unless a person is watching; text goes through
    // anstream, which drops the colours when stdout is not a terminal or NO_COLOR is set.
    let out: Box<dyn Write> = match config.format {
        Format::Json if stdout.is_terminal() => Box::new(stdout.lock()),
        Format::Json => Box::new(io::BufWriter::with_capacity(64 << 10, stdout.lock())),
        Format::Text => Box::new(AutoStream::auto(stdout.lock())),
    };
    let mut printer = Printer {
        out,
        format: config.format,
        all: config.all,
        tally: Tally::default(),
        failed: None,
        bar: &bar,
        screener: screener.as_ref().map(|(s, _)| s),
        similar,
    };
    let summary = if config.roots.is_empty() {
        Summary::default()
    } else {
        scanner.scan_tree(&config.roots, |report| {
            printer.count(&report);
            match gate.as_mut() {
                None => printer.emit(&report, None),
                Some(gate) => gate.take(report, &mut |r, j| printer.emit(r, j)),
            }
        })
    };
    if let Some(gate) = gate.as_mut() {
        gate.drain(&mut |r, j| printer.emit(r, j));
    }
    bar.finish_and_clear();
    if let Some(e) = printer.failed.take() {
        return Err(e.into());
    }
    if config.format == Format::Text && !config.roots.is_empty() {
        printer.summary(&summary, &config, started.elapsed(), gate.as_ref())?;
    }
    printer.out.flush()?;
    drop(printer);
    let Some(gate) = gate else {
        return Ok(exit_code(&config, None));
    };
    let mut passed = gate.tally().passed();
    let enforced = gate.enforced();
    if let Some(record) = gate.finish(&summary)? {
        passed = record.passed;
        let mut out = AutoStream::auto(io::stderr().lock());
        writeln!(
            out,
            "recorded as scan {} of production `{}` ({})",
            record.id,
            record.production_id,
            if record.passed { "passed" } else { "failed" }
        )?;
    }
    Ok(exit_code(&config, enforced.then_some(passed)))
}

/// The exit code of a scan that ran: 1 when a path could not be read, else 4 when an enforced
/// gate failed, else 0.
fn exit_code(config: &Config, gate_passed: Option<bool>) -> Exit {
    if !config.missing.is_empty() {
        Exit::Error
    } else if gate_passed == Some(false) {
        Exit::Blocked
    } else {
        Exit::Notify
    }
}

fn progress_bar(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} scanning: {human_pos} files, {rate} files/s, {elapsed} {wide_msg}",
    ) {
        bar.set_style(style.with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", state.per_sec());
            },
        ));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The format column's name for files whose container was not recognised or not read.
const UNKNOWN: &str = "(unknown)";

/// Counts the library's [`Summary`] does not keep.
#[derive(Default)]
struct Tally {
    by_format: BTreeMap<&'static str, u64>,
    /// Files read only in part (a report with an error but a verdict other than `error`).
    partial: u64,
    /// Files printed in text output without `--all`.
    flagged: u64,
    /// `ai_generated` and `ai_edited` files, for the progress line.
    ai: u64,
    /// `error` files, for the progress line.
    errors: u64,
}

struct Printer<'a> {
    out: Box<dyn Write>,
    format: Format,
    all: bool,
    tally: Tally,
    /// The first write error; nothing more is printed after it.
    failed: Option<io::Error>,
    bar: &'a ProgressBar,
    /// With `--screen`: the watchlists' screener.
    screener: Option<&'a greenlight_screen::text::Screener>,
    /// With `--similar`: the reference index and its counts.
    similar: Option<crate::similar::ScanCheck>,
}

/// A scan result with the gate's judgement, as `--production` prints it.
#[derive(serde::Serialize)]
struct Judged<'a> {
    #[serde(flatten)]
    report: &'a FileReport,
    approval: &'a Judgement,
}

impl Printer<'_> {
    /// Counts a report as it arrives, for the progress line and the summary.
    fn count(&mut self, report: &FileReport) {
        let slot = self
            .tally
            .by_format
            .entry(report.format.unwrap_or(UNKNOWN))
            .or_default();
        *slot = slot.saturating_add(1);
        if report.error.is_some() && report.verdict != Verdict::Error {
            self.tally.partial = self.tally.partial.saturating_add(1);
        }
        if flagged(report) {
            self.tally.flagged = self.tally.flagged.saturating_add(1);
            if report.verdict.is_ai() {
                self.tally.ai = self.tally.ai.saturating_add(1);
            } else if report.verdict == Verdict::Error {
                self.tally.errors = self.tally.errors.saturating_add(1);
            }
            self.bar.set_message(format!(
                "({} AI, {} errors)",
                self.tally.ai, self.tally.errors
            ));
        }
        self.bar.inc(1);
    }

    /// Prints a report, with its judgement when the gate judged it.
    fn emit(&mut self, report: &FileReport, judgement: Option<&Judgement>) {
        if self.failed.is_some() {
            return;
        }
        let hits = self
            .screener
            .map(|s| crate::screen::scan_hits(s, report))
            .unwrap_or_default();
        // Only images the decoder reads are opened again, and only with `--similar`.
        let finding = self
            .similar
            .as_mut()
            .and_then(|c| c.check(Path::new(&report.path), report.format));
        let notable = finding
            .as_ref()
            .is_some_and(crate::similar::ScanFinding::notable);
        if notable && !flagged(report) {
            self.tally.flagged = self.tally.flagged.saturating_add(1);
        }
        let flagged = flagged(report) || !hits.is_empty() || notable;
        let written = match (self.format, judgement) {
            (Format::Json, _) if !hits.is_empty() || finding.is_some() => {
                let value = match judgement {
                    Some(approval) => serde_json::to_value(Judged { report, approval }),
                    None => serde_json::to_value(report),
                }
                .and_then(|mut value| {
                    if let serde_json::Value::Object(map) = &mut value {
                        if !hits.is_empty() {
                            map.insert("screen".to_owned(), serde_json::json!(hits));
                        }
                        if let Some(finding) = &finding {
                            map.insert("similar".to_owned(), serde_json::to_value(finding)?);
                        }
                    }
                    Ok(value)
                })
                .map_err(io::Error::from);
                value
                    .and_then(|v| serde_json::to_writer(&mut self.out, &v).map_err(io::Error::from))
                    .and_then(|()| self.out.write_all(b"\n"))
            }
            (Format::Json, None) => serde_json::to_writer(&mut self.out, report)
                .map_err(io::Error::from)
                .and_then(|()| self.out.write_all(b"\n")),
            (Format::Json, Some(approval)) => {
                serde_json::to_writer(&mut self.out, &Judged { report, approval })
                    .map_err(io::Error::from)
                    .and_then(|()| self.out.write_all(b"\n"))
            }
            (Format::Text, _) if flagged || self.all => {
                let (out, bar) = (&mut self.out, self.bar);
                bar.suspend(|| {
                    line(out, report)?;
                    crate::screen::scan_text(out, &hits)?;
                    if let Some(finding) = &finding {
                        crate::similar::scan_text(out, finding)?;
                    }
                    match judgement {
                        Some(j) => judgement_line(out, j),
                        None => Ok(()),
                    }
                })
            }
            (Format::Text, _) => Ok(()),
        };
        if let Err(e) = written {
            if e.kind() == io::ErrorKind::BrokenPipe {
                // The reader has gone (`greenlight scan … | head`): stop the walk quietly, as
                // other filters do.
                self.bar.finish_and_clear();
                std::process::exit(0);
            }
            self.failed = Some(e);
        }
    }

    fn summary(
        &mut self,
        s: &Summary,
        config: &Config,
        elapsed: Duration,
        gate: Option<&Gate>,
    ) -> io::Result<()> {
        let out = &mut self.out;
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            s.files as f64 / secs
        } else {
            0.0
        };
        if self.tally.flagged > 0 || self.all {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}Scanned {} files in {:.2} s ({:.0} files/s), {} read{}",
            style::BOLD.render(),
            s.files,
            secs,
            rate,
            human_bytes(s.bytes_read),
            style::BOLD.render_reset()
        )?;
        writeln!(out)?;
        let verdicts = [
            (Verdict::AiGenerated, s.ai_generated),
            (Verdict::AiEdited, s.ai_edited),
            (Verdict::AiPossible, s.ai_possible),
            (Verdict::NoAiEvidence, s.no_ai_evidence),
            (Verdict::Unsupported, s.unsupported),
            (Verdict::Error, s.error),
            (Verdict::Skipped, s.skipped),
        ];
        let mut formats: Vec<(&str, u64)> =
            self.tally.by_format.iter().map(|(k, v)| (*k, *v)).collect();
        formats.sort_by_key(|&(name, n)| (name == UNKNOWN, std::cmp::Reverse(n), name));
        let rows = verdicts.len().max(formats.len());
        writeln!(
            out,
            "  {}{:<16} {:>9}    {:<12} {:>9}{}",
            style::DIM.render(),
            "verdict",
            "files",
            "format",
            "files",
            style::DIM.render_reset()
        )?;
        for i in 0..rows {
            let left = match verdicts.get(i) {
                Some((v, n)) => {
                    let st = if *n > 0 {
                        verdict_style(*v)
                    } else {
                        Style::new()
                    };
                    format!(
                        "{}{:<16}{} {:>9}",
                        st.render(),
                        v.name(),
                        st.render_reset(),
                        n
                    )
                }
                None => format!("{:<16} {:>9}", "", ""),
            };
            let right = match formats.get(i) {
                Some((f, n)) => format!("{f:<12} {n:>9}"),
                None => String::new(),
            };
            writeln!(out, "{}", format!("  {left}    {right}").trim_end())?;
        }
        writeln!(out)?;
        writeln!(out, "  {:<24} {:>9}", "with C2PA", s.with_c2pa)?;
        writeln!(out, "  {:<24} {:>9}", "errors", s.error)?;
        writeln!(out, "  {:<24} {:>9}", "read in part", self.tally.partial)?;
        writeln!(
            out,
            "  {:<24} {:>9}",
            "symbolic links skipped", s.symlinks_skipped
        )?;
        writeln!(out, "  {:<24} {:>9}", "bytes read", s.bytes_read)?;
        writeln!(out, "  {:<24} {:>9.2} s", "elapsed", secs)?;
        if !config.missing.is_empty() {
            writeln!(
                out,
                "  {:<24} {:>9}",
                "paths not read",
                config.missing.len()
            )?;
        }
        if let Some(check) = &self.similar {
            similar_summary(out, check)?;
        }
        if let Some(gate) = gate {
            gate_summary(out, gate)?;
        }
        Ok(())
    }
}

/// `--similar`'s table: images checked against how many references, and what was found.
fn similar_summary(out: &mut impl Write, check: &crate::similar::ScanCheck) -> io::Result<()> {
    let (references, hashes) = check.size();
    let t = check.tally;
    writeln!(out)?;
    writeln!(
        out,
        "{}Near-copy check: {references} reference images ({hashes} hashes), distance {}{}",
        style::BOLD.render(),
        check.distance(),
        style::BOLD.render_reset()
    )?;
    writeln!(out, "  {:<24} {:>9}", "images checked", t.checked)?;
    let st = if t.near_copies > 0 {
        style::ERROR
    } else {
        Style::new()
    };
    writeln!(
        out,
        "  {}{:<24}{} {:>9}",
        st.render(),
        "near-copies",
        st.render_reset(),
        t.near_copies
    )?;
    writeln!(out, "  {:<24} {:>9}", "low-quality hashes", t.low_quality)?;
    writeln!(out, "  {:<24} {:>9}", "images not decoded", t.unreadable)
}

/// The gate's table: how the flagged files stand, and whether the gate passed.
fn gate_summary(out: &mut impl Write, gate: &Gate) -> io::Result<()> {
    let tally = gate.tally();
    let (approved, unapproved, expired, failing) = (
        tally.approved,
        tally.unapproved,
        tally.approval_expired,
        tally.failing,
    );
    let p = gate.header();
    writeln!(out)?;
    writeln!(
        out,
        "{}Approvals of `{}` ({}): {} in force of {} given{}",
        style::BOLD.render(),
        p.title,
        p.production_id,
        p.in_force,
        p.approvals,
        style::BOLD.render_reset()
    )?;
    writeln!(out, "  {:<24} {:>9}", "approved", approved)?;
    writeln!(out, "  {:<24} {:>9}", "unapproved", unapproved)?;
    writeln!(out, "  {:<24} {:>9}", "approval expired", expired)?;
    let gated = if gate.strict() {
        "AI-flagged, weak-signal or unreadable"
    } else {
        "AI-flagged"
    };
    let (st, verdict) = if gate.incomplete() {
        (
            style::ERROR,
            "INCOMPLETE: the server could not judge every file".to_owned(),
        )
    } else if failing == 0 {
        (AnsiColor::Green.on_default().bold(), "PASSED".to_owned())
    } else {
        (
            style::ERROR,
            format!(
                "FAILED: {failing} {gated} file{} not covered by an approval in force",
                if failing == 1 { "" } else { "s" }
            ),
        )
    };
    let label = if gate.enforced() {
        "gate"
    } else {
        "gate (not enforced)"
    };
    writeln!(
        out,
        "  {label:<24} {}{verdict}{}",
        st.render(),
        st.render_reset()
    )
}

/// The gate's judgement of a file, under its scan line.
fn judgement_line(out: &mut impl Write, j: &Judgement) -> io::Result<()> {
    let st = match (j.status, j.fails_gate) {
        (greenlight_store::Standing::Approved, _) => AnsiColor::Green.on_default(),
        (_, true) => style::ERROR,
        (_, false) => AnsiColor::Yellow.on_default(),
    };
    let id = j
        .approval_id
        .map_or_else(String::new, |id| format!(" {id}"));
    writeln!(
        out,
        "               {}{}{id}{}: {}",
        st.render(),
        j.status.as_str(),
        st.render_reset(),
        j.reason
    )
}

/// Whether text output lists the file without `--all`: AI-flagged, weak signals, unreadable
/// or skipped.
fn flagged(report: &FileReport) -> bool {
    matches!(
        report.verdict,
        Verdict::AiGenerated
            | Verdict::AiEdited
            | Verdict::AiPossible
            | Verdict::Error
            | Verdict::Skipped
    )
}

/// One line for people: verdict, format, path, and the strongest evidence (or the error).
fn line(out: &mut impl Write, r: &FileReport) -> io::Result<()> {
    let st = verdict_style(r.verdict);
    write!(
        out,
        "{}{:<14}{} {:<8} {}",
        st.render(),
        r.verdict.name(),
        st.render_reset(),
        r.format.unwrap_or("-"),
        r.path
    )?;
    if let Some(e) = strongest(&r.evidence) {
        write!(
            out,
            "  {}{}: {} [{}]{}",
            style::DIM.render(),
            name_of(&e.kind),
            one_line(&e.detail, 120),
            e.source,
            style::DIM.render_reset()
        )?;
        let more = r.evidence.len().saturating_sub(1);
        if more > 0 {
            write!(out, " (+{more} more)")?;
        }
    }
    if r.c2pa.present {
        match r.c2pa.integrity {
            Integrity::NotChecked => write!(out, "  [C2PA manifest, not verified]")?,
            integrity => write!(
                out,
                "  [C2PA {}, {}]",
                name_of(&integrity),
                name_of(&r.c2pa.trust)
            )?,
        }
    }
    if let Some(e) = &r.error {
        write!(
            out,
            "  {}{e}{}",
            style::ERROR.render(),
            style::ERROR.render_reset()
        )?;
    }
    if r.verdict == Verdict::Skipped {
        for n in &r.notes {
            write!(
                out,
                "  {}{n}{}",
                style::DIM.render(),
                style::DIM.render_reset()
            )?;
        }
    }
    writeln!(out)
}

/// `text` on one line (runs of whitespace, newlines included, become one space), cut to at
/// most `max` characters with an ellipsis.
fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_add(4)));
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    match out.char_indices().nth(max) {
        Some((cut, _)) => {
            out.truncate(cut);
            out.push('…');
            out
        }
        None => out,
    }
}

/// The piece of evidence that says the most: highest signal, then most reliable.
fn strongest(evidence: &[Evidence]) -> Option<&Evidence> {
    let rank = |s: Strength| match s {
        Strength::Definitive => 2,
        Strength::Strong => 1,
        Strength::Weak => 0,
    };
    // `max_by_key` keeps the last of equals; reverse so the first found wins ties.
    evidence
        .iter()
        .rev()
        .filter(|e| e.signal > Signal::Context)
        .max_by_key(|e| (e.signal, rank(e.strength)))
        // Without a signal, a fact about the file says more than a caveat about its manifest
        // or a note that some metadata block is malformed.
        .or_else(|| {
            evidence.iter().find(|e| {
                !matches!(
                    e.kind,
                    Kind::C2paAmbiguous
                        | Kind::C2paIngredientUnknownProvenance
                        | Kind::MetadataMalformed
                )
            })
        })
        .or_else(|| evidence.first())
}

/// The JSON name of a unit enum value (as the scan result spells it).
fn name_of(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".to_string(),
    }
}

fn verdict_style(v: Verdict) -> Style {
    match v {
        Verdict::AiGenerated => AnsiColor::Red.on_default().bold(),
        Verdict::AiEdited => AnsiColor::Magenta.on_default().bold(),
        Verdict::AiPossible => AnsiColor::Yellow.on_default().bold(),
        Verdict::NoAiEvidence => AnsiColor::Green.on_default(),
        Verdict::Unsupported => style::DIM,
        Verdict::Error => style::ERROR,
        Verdict::Skipped => AnsiColor::Yellow.on_default(),
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    match UNITS.get(unit) {
        Some(u) if unit > 0 => format!("{v:.1} {u}"),
        _ => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999999999G").is_err());
    }

    #[test]
    fn evidence_details_are_shown_on_one_short_line() {
        assert_eq!(
            one_line("a lighthouse\nSteps: 20,  Seed: 1", 80),
            "a lighthouse Steps: 20, Seed: 1"
        );
        assert_eq!(one_line("ééééé", 3), "ééé…");
        assert_eq!(one_line("abc", 3), "abc");
    }

    #[test]
    fn without_a_signal_a_fact_is_shown_before_a_malformed_block() {
        let item = |kind, detail: &str| Evidence {
            kind,
            detail: detail.to_string(),
            source: "s".to_string(),
            strength: Strength::Definitive,
            signal: Signal::Context,
        };
        let evidence = [
            item(
                Kind::MetadataMalformed,
                "EXIF block malformed: truncated IFD",
            ),
            item(Kind::StrippedManifest, "XMP points at an embedded manifest"),
        ];
        assert_eq!(
            strongest(&evidence).map(|e| e.kind),
            Some(Kind::StrippedManifest)
        );
        assert_eq!(
            strongest(&evidence[..1]).map(|e| e.kind),
            Some(Kind::MetadataMalformed)
        );
    }

    #[test]
    fn bytes_read_are_shown_in_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
