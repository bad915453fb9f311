//! `greenlight refs add|list` and `greenlight similar`: protected reference
//! images hashed into the ledger, and outputs checked against them for
//! near-copies. Hashing and matching are `greenlight-screen`'s; this file
//! reads files, talks to the ledger and prints.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use greenlight_screen::image::{
    MATCH_DISTANCE, QueryHashes, ReferenceIndex, decode, hash_query, hash_reference,
};
use greenlight_store::{ImageReference, MAX_PAGE, NewImageReference, ReferenceHash, sha256_hex};
use serde::Serialize;

use crate::Format;
use crate::exit::Exit;
use crate::ledger::{Access, Context, Global};

/// The largest file read as an image.
const MAX_FILE: u64 = 256 * 1024 * 1024;

/// `greenlight refs …`.
#[derive(Debug, Subcommand)]
pub enum RefsCommand {
    /// Hash every image under DIR (JPEG, PNG, WebP, TIFF) into the ledger as protected
    /// references of LABEL: PDQ hashes of each image and of its crops and small rotations.
    ///
    /// Each file that cannot be read or is not an image is named on stderr; the others
    /// are still added. Adding a file again under the same label changes nothing. Exit
    /// code: 0 when every file was added, 1 when any failed.
    Add {
        /// The directory (or a single file) to hash.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The set they belong to (a franchise, a rights holder, a film).
        #[arg(long)]
        label: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List the reference images in the ledger.
    List {
        /// Only this label's.
        #[arg(long)]
        label: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// `greenlight similar OUTPUT...`.
#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// Images (or directories of them) to check.
    #[arg(required = true, value_name = "OUTPUT")]
    outputs: Vec<PathBuf>,
    /// The match distance: bits of 256 that may differ.
    #[arg(long, default_value_t = MATCH_DISTANCE, value_parser = clap::value_parser!(u32).range(0..=128))]
    distance: u32,
    /// Only references of this label.
    #[arg(long)]
    label: Option<String>,
    /// Output format: text for people, json (one object per image) for programs.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs `refs`.
pub fn refs(global: &Global, command: RefsCommand) -> anyhow::Result<Exit> {
    let runtime = runtime()?;
    runtime.block_on(async {
        match command {
            RefsCommand::Add { dir, label, format } => {
                let cx = Context::open(global, Access::Write).await?;
                let result = add(&cx, &dir, &label, format).await;
                cx.ledger().store().close().await;
                result
            }
            RefsCommand::List { label, format } => {
                let cx = Context::open(global, Access::Read).await?;
                let result = list(&cx, label.as_deref(), format).await;
                cx.ledger().store().close().await;
                result
            }
        }
    })
}

/// Runs `similar`.
pub fn similar(global: &Global, args: SimilarArgs) -> anyhow::Result<Exit> {
    let index = open_index(global, args.label.as_deref())?;
    let files = files_under(&args.outputs);
    let mut out = std::io::stdout().lock();
    let (mut found, mut failed, mut checked) = (0usize, 0usize, 0usize);
    for entry in files {
        let report = match entry {
            Ok(path) => check_one(&index, &path, args.distance),
            Err((path, error)) => Report::error(&path, error),
        };
        checked += 1;
        match report.checked.status {
            Status::NearCopy => found += 1,
            Status::Error => failed += 1,
            Status::NoMatch | Status::LowQuality => {}
        }
        match args.format {
            Format::Json => {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            }
            Format::Text => write_text(&mut out, &report)?,
        }
    }
    if args.format == Format::Text {
        writeln!(
            out,
            "{checked} checked against {} references ({} hashes): {found} near-copies, {failed} unreadable",
            index.references(),
            index.hashes()
        )?;
    }
    Ok(if failed > 0 {
        Exit::Error
    } else if found > 0 {
        Exit::Escalate
    } else {
        Exit::Notify
    })
}

/// The ledger's reference index (of one label, or all), read once.
fn open_index(global: &Global, label: Option<&str>) -> anyhow::Result<ReferenceIndex<RefInfo>> {
    runtime()?.block_on(async {
        let cx = Context::open(global, Access::Read).await?;
        let index = load_index(&cx, label).await;
        cx.ledger().store().close().await;
        index
    })
}

/// The scanner's names of the formats the image decoder reads: only these are checked by
/// `scan --similar`.
const DECODED_FORMATS: [&str; 4] = ["jpeg", "png", "webp", "tiff"];

/// `scan --similar`: the ledger's references, loaded once before the walk, and what the check
/// found so far.
pub(crate) struct ScanCheck {
    index: ReferenceIndex<RefInfo>,
    distance: u32,
    /// Images checked, near-copies, low-quality hashes, images not decoded.
    pub(crate) tally: ScanTally,
}

/// `scan --similar`'s counts, for the summary.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ScanTally {
    pub(crate) checked: u64,
    pub(crate) near_copies: u64,
    pub(crate) low_quality: u64,
    pub(crate) unreadable: u64,
}

/// What `scan --similar` found for one image: `similar`'s report without the path (the scan
/// line has it).
#[derive(Serialize)]
pub(crate) struct ScanFinding {
    #[serde(flatten)]
    checked: Checked,
}

impl ScanFinding {
    /// Whether text output lists the file for it without `--all`: a near-copy, a hash too
    /// poor to match on, or an image that could not be decoded are all things to look at.
    pub(crate) fn notable(&self) -> bool {
        self.checked.status != Status::NoMatch
    }
}

impl ScanCheck {
    /// Loads the index (references of `label`, or all) from the local ledger.
    pub(crate) fn open(
        global: &Global,
        label: Option<&str>,
        distance: u32,
    ) -> anyhow::Result<ScanCheck> {
        Ok(ScanCheck {
            index: open_index(global, label)?,
            distance,
            tally: ScanTally::default(),
        })
    }

    /// The match distance.
    pub(crate) fn distance(&self) -> u32 {
        self.distance
    }

    /// References and hashes in the index.
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.index.references(), self.index.hashes())
    }

    /// Checks a scanned file when the scanner recognised it as an image the decoder reads;
    /// `None` for every other file (nothing is read).
    pub(crate) fn check(&mut self, path: &Path, format: Option<&str>) -> Option<ScanFinding> {
        if !format.is_some_and(|f| DECODED_FORMATS.contains(&f)) {
            return None;
        }
        let report = check_one(&self.index, path, self.distance);
        self.tally.checked += 1;
        match report.checked.status {
            Status::NearCopy => self.tally.near_copies += 1,
            Status::LowQuality => self.tally.low_quality += 1,
            Status::Error => self.tally.unreadable += 1,
            Status::NoMatch => {}
        }
        Some(ScanFinding {
            checked: report.checked,
        })
    }
}

/// Writes `scan --similar`'s finding for one file as lines under its report line.
pub(crate) fn scan_text(out: &mut impl Write, finding: &ScanFinding) -> std::io::Result<()> {
    let c = &finding.checked;
    let quality = c.quality.unwrap_or(0);
    match c.status {
        Status::NoMatch => writeln!(out, "    similar  no near-copy (quality {quality})"),
        Status::Error => writeln!(
            out,
            "    similar  error: {}",
            c.error.as_deref().unwrap_or("")
        ),
        Status::LowQuality => writeln!(
            out,
            "    similar  low-quality hash (quality {quality}): not matched"
        ),
        Status::NearCopy => {
            for m in &c.matches {
                writeln!(
                    out,
                    "    similar  NEAR-COPY of {} [{}] distance {} ({}, {}, quality {quality}, reference quality {})",
                    m.source_path,
                    m.label,
                    m.distance,
                    m.variant,
                    m.orientation,
                    m.reference_quality
                )?;
            }
            Ok(())
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Every file named or under a directory named, in order; errors for paths
/// that cannot be read.
fn files_under(paths: &[PathBuf]) -> Vec<Result<PathBuf, (PathBuf, String)>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() => out.push(Ok(e.into_path())),
                    Ok(_) => {}
                    Err(e) => {
                        let at = e.path().map_or_else(|| path.clone(), Path::to_path_buf);
                        out.push(Err((at, e.to_string())));
                    }
                }
            }
        } else if path.is_file() {
            out.push(Ok(path.clone()));
        } else {
            out.push(Err((path.clone(), "no such file or directory".to_owned())));
        }
    }
    out
}

fn read_image(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).context("cannot read it")?;
    if meta.len() > MAX_FILE {
        anyhow::bail!("larger than {} MiB", MAX_FILE >> 20);
    }
    std::fs::read(path).context("cannot read it")
}

async fn add(cx: &Context, dir: &Path, label: &str, format: Format) -> anyhow::Result<Exit> {
    let actor = cx.actor()?.to_owned();
    let mut failed = 0usize;
    let mut batch: Vec<NewImageReference> = Vec::new();
    let (mut added, mut unchanged) = (0usize, 0usize);
    let mut out = std::io::stdout().lock();
    let mut flush = async |batch: &mut Vec<NewImageReference>,
                           out: &mut std::io::StdoutLock<'_>|
           -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let result = cx
            .ledger()
            .add_image_references(&actor, std::mem::take(batch))
            .await?;
        added += result.added.len();
        unchanged += result.unchanged.len();
        for r in result.added.iter().chain(&result.unchanged) {
            if format == Format::Json {
                serde_json::to_writer(&mut *out, &ListedRef::from(r))?;
                writeln!(out)?;
            }
        }
        Ok(())
    };
    for entry in files_under(&[dir.to_path_buf()]) {
        let path = match entry {
            Ok(path) => path,
            Err((path, error)) => {
                failed += 1;
                eprintln!("error: {}: {error}", path.display());
                continue;
            }
        };
        let hashed = read_image(&path).and_then(|bytes| {
            let luma = decode::decode_luma(&bytes)?;
            Ok((sha256_hex(&bytes), hash_reference(&luma)))
        });
        match hashed {
            Ok((sha256, hashes)) => {
                let usable = hashes.iter().filter(|h| h.pdq.is_usable()).count();
                if usable == 0 {
                    eprintln!(
                        "warning: {}: low-quality hash (quality {}): kept, but it will match nothing",
                        path.display(),
                        hashes.first().map_or(0, |h| h.pdq.quality)
                    );
                }
                batch.push(NewImageReference {
                    label: label.to_owned(),
                    source_path: path.to_string_lossy().into_owned(),
                    file_sha256: sha256,
                    hashes: hashes
                        .into_iter()
                        .map(|h| ReferenceHash {
                            variant: h.variant,
                            hash: h.pdq.hash.to_string(),
                            quality: h.pdq.quality,
                        })
                        .collect(),
                });
                if batch.len() >= 100 {
                    flush(&mut batch, &mut out).await?;
                }
            }
            Err(error) => {
                failed += 1;
                eprintln!("error: {}: {error:#}", path.display());
            }
        }
    }
    flush(&mut batch, &mut out).await?;
    if format == Format::Text {
        writeln!(
            out,
            "{added} references added to `{label}`, {unchanged} already there, {failed} failed"
        )?;
    }
    Ok(if failed > 0 {
        Exit::Error
    } else {
        Exit::Notify
    })
}

#[derive(Serialize)]
struct ListedRef<'a> {
    id: &'a str,
    label: &'a str,
    source_path: &'a str,
    file_sha256: &'a str,
    hashes: usize,
    quality: u8,
    added_at: String,
    added_by: &'a str,
}

impl<'a> From<&'a ImageReference> for ListedRef<'a> {
    fn from(r: &'a ImageReference) -> Self {
        ListedRef {
            id: &r.id,
            label: &r.label,
            source_path: &r.source_path,
            file_sha256: &r.file_sha256,
            hashes: r.hashes.len(),
            quality: r.hashes.first().map_or(0, |h| h.quality),
            added_at: r.added_at.to_string(),
            added_by: &r.added_by,
        }
    }
}

async fn all_references(cx: &Context, label: Option<&str>) -> anyhow::Result<Vec<ImageReference>> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = cx
            .ledger()
            .image_references(label, after.as_deref(), MAX_PAGE)
            .await?;
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(all)
}

async fn list(cx: &Context, label: Option<&str>, format: Format) -> anyhow::Result<Exit> {
    let all = all_references(cx, label).await?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            for r in &all {
                serde_json::to_writer(&mut out, &ListedRef::from(r))?;
                writeln!(out)?;
            }
        }
        Format::Text => {
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|r| {
                    vec![
                        r.label.clone(),
                        r.hashes.len().to_string(),
                        r.hashes.first().map_or(0, |h| h.quality).to_string(),
                        r.file_sha256.get(..12).unwrap_or("").to_owned(),
                        r.source_path.clone(),
                    ]
                })
                .collect();
            crate::ledger::common::table(
                &mut out,
                &["label", "hashes", "quality", "sha256", "source"],
                &rows,
            )?;
        }
    }
    Ok(Exit::Notify)
}

/// What the index holds per reference.
struct RefInfo {
    label: String,
    id: String,
    source_path: String,
}

async fn load_index(cx: &Context, label: Option<&str>) -> anyhow::Result<ReferenceIndex<RefInfo>> {
    let mut index = ReferenceIndex::new();
    for r in all_references(cx, label).await? {
        let mut hashes = Vec::with_capacity(r.hashes.len());
        for h in &r.hashes {
            let hash = h
                .hash
                .parse()
                .with_context(|| format!("reference `{}` ({})", r.id, r.source_path))?;
            hashes.push(greenlight_screen::image::VariantHash {
                variant: h.variant.clone(),
                pdq: greenlight_screen::image::PdqHash {
                    hash,
                    quality: h.quality,
                },
            });
        }
        index.add(
            RefInfo {
                label: r.label,
                id: r.id,
                source_path: r.source_path,
            },
            &hashes,
        );
    }
    index.build();
    Ok(index)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    NearCopy,
    NoMatch,
    LowQuality,
    Error,
}

#[derive(Serialize)]
struct Found {
    label: String,
    reference: String,
    source_path: String,
    distance: u32,
    variant: String,
    orientation: &'static str,
    reference_quality: u8,
}

#[derive(Serialize)]
struct Report {
    path: String,
    #[serde(flatten)]
    checked: Checked,
}

/// What the check of one image found.
#[derive(Serialize)]
struct Checked {
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    quality: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
    matches: Vec<Found>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Report {
    fn error(path: &Path, error: String) -> Report {
        Report {
            path: path.to_string_lossy().into_owned(),
            checked: Checked {
                status: Status::Error,
                quality: None,
                hash: None,
                matches: Vec::new(),
                error: Some(error),
            },
        }
    }
}

/// Checks one image against the index.
fn check_one(index: &ReferenceIndex<RefInfo>, path: &Path, distance: u32) -> Report {
    let query: QueryHashes =
        match read_image(path).and_then(|bytes| Ok(hash_query(&decode::decode_luma(&bytes)?))) {
            Ok(q) => q,
            Err(e) => return Report::error(path, format!("{e:#}")),
        };
    let matches: Vec<Found> = index
        .nearest(&query, distance)
        .into_iter()
        .map(|m| Found {
            label: m.reference.label.clone(),
            reference: m.reference.id.clone(),
            source_path: m.reference.source_path.clone(),
            distance: m.distance,
            variant: m.variant.to_owned(),
            orientation: m.orientation.as_str(),
            reference_quality: m.quality,
        })
        .collect();
    let status = if !query.is_usable() {
        Status::LowQuality
    } else if matches.is_empty() {
        Status::NoMatch
    } else {
        Status::NearCopy
    };
    Report {
        path: path.to_string_lossy().into_owned(),
        checked: Checked {
            status,
            quality: Some(query.quality),
            hash: Some(query.original().to_string()),
            matches,
            error: None,
        },
    }
}

fn write_text(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    let c = &report.checked;
    let quality = c.quality.unwrap_or(0);
    match c.status {
        Status::Error => writeln!(
            out,
            "{}: error: {}",
            report.path,
            c.error.as_deref().unwrap_or("")
        ),
        Status::LowQuality => writeln!(
            out,
            "{}: low-quality hash (quality {quality}): not matched",
            report.path
        ),
        Status::NoMatch => writeln!(out, "{}: no near-copy (quality {quality})", report.path),
        Status::NearCopy => {
            writeln!(out, "{}: NEAR-COPY (quality {quality})", report.path)?;
            for m in &c.matches {
                writeln!(
                    out,
                    "  {} [{}] distance {} ({}, {}, reference quality {})",
                    m.source_path,
                    m.label,
                    m.distance,
                    m.variant,
                    m.orientation,
                    m.reference_quality
                )?;
            }
            Ok(())
        }
    }
}
