//! `greenlight screen`: find the names on a clearance team's watchlists, and the ledger's
//! performers without consent, in prompts, prompt logs and scripts.
//!
//! Two stages: [`ScreenArgs`] mirrors the flags; [`load_screener`] turns the watchlists (and
//! the production's performers) into a `greenlight_screen::text::Screener`. Each FILE is read
//! whole (at most 1 GiB), cut into segments by `greenlight_screen::text::input`, and each hit
//! printed as it is found: a line for people, or one JSON object per hit (NDJSON).
//!
//! Exit code: 0 when nothing was found; 3 when a hit escalates (any watchlist entry); 4 when a
//! hit is blocked (a performer without documented consent); 1 when a file, a watchlist or a
//! line of a prompt log could not be read (the rest is still screened and printed); 2 for usage
//! errors. With `--declaration`, the decision's level counts too.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anstream::AutoStream;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use greenlight_core::Level;
use greenlight_provenance::{FileReport, Kind};
use greenlight_screen::text::{Category, Hit, InputFormat, Screener, Watchlist, input};

use crate::Format;
use crate::exit::Exit;
use crate::ledger::Global;
use crate::style;

/// The flags of `greenlight screen`, as typed.
#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// Files to screen (`-` reads standard input): prompts, prompt logs (.jsonl), Fountain
    /// (.fountain), Final Draft (.fdx), PDF, plain text.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// A watchlist (TOML, or CSV when the name ends in .csv); repeatable. Default: every
    /// .toml and .csv file in $GREENLIGHT_WATCHLISTS, else
    /// $XDG_CONFIG_HOME/greenlight/watchlists (~/.config/greenlight/watchlists).
    #[arg(long = "watchlist", value_name = "FILE")]
    watchlists: Vec<PathBuf>,
    /// Also screen for this production's performers (its id or exact title) who have no
    /// documented consent in force for it, from the ledger (--db).
    #[arg(long, value_name = "ID|TITLE")]
    production: Option<String>,
    /// Read every FILE as this kind of input, whatever its name.
    #[arg(long = "input", value_enum, value_name = "KIND")]
    input: Option<InputKind>,
    /// Fill this declaration's `references` from the hits and triage it again.
    #[arg(long, value_name = "USE.TOML")]
    declaration: Option<PathBuf>,
    /// Policy packs for --declaration (default: the built-in pack).
    #[arg(long = "policy", value_name = "PACK", requires = "declaration")]
    policies: Vec<PathBuf>,
    /// Output format: text for people, json for programs (one object per hit, NDJSON).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The kinds of input `--as` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InputKind {
    Text,
    Jsonl,
    Fountain,
    Fdx,
    Pdf,
}

impl From<InputKind> for InputFormat {
    fn from(k: InputKind) -> InputFormat {
        match k {
            InputKind::Text => InputFormat::Text,
            InputKind::Jsonl => InputFormat::Jsonl,
            InputKind::Fountain => InputFormat::Fountain,
            InputKind::Fdx => InputFormat::Fdx,
            InputKind::Pdf => InputFormat::Pdf,
        }
    }
}

/// The default watchlist directory.
pub fn default_watchlist_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GREENLIGHT_WATCHLISTS").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("greenlight").join("watchlists"))
}

/// Reads the watchlists (or those in the default directory when none is named) into `list`.
/// Problems are printed; the result says whether there were any.
fn load_watchlists(files: &[PathBuf], list: &mut Watchlist) -> anyhow::Result<bool> {
    let mut files = files.to_vec();
    if files.is_empty()
        && let Some(dir) = default_watchlist_dir()
        && let Ok(entries) = std::fs::read_dir(&dir)
    {
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| {
                    e.eq_ignore_ascii_case("toml") || e.eq_ignore_ascii_case("csv")
                })
            })
            .collect();
        found.sort();
        files = found;
    }
    let mut err = anstream::stderr();
    let mut failed = false;
    for file in &files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                error(&mut err, &format!("{name}: cannot read the watchlist: {e}"))?;
                failed = true;
                continue;
            }
        };
        for problem in list.load(&name, &text) {
            error(&mut err, &problem.to_string())?;
            failed = true;
        }
    }
    Ok(failed)
}

fn error(err: &mut impl Write, message: &str) -> std::io::Result<()> {
    writeln!(
        err,
        "{}error:{} {message}",
        style::ERROR.render(),
        style::ERROR.render_reset()
    )
}

/// Adds the production's performers who have no documented consent in force for it.
fn add_performers(global: &Global, production: &str, list: &mut Watchlist) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let cx = crate::ledger::Context::open(global, crate::ledger::Access::Read).await?;
        let ledger = cx.ledger();
        let production = crate::ledger::common::production(ledger, production).await?;
        let now = ledger.now();
        let mut after: Option<String> = None;
        loop {
            let page = ledger.performers(after.as_deref(), 500).await?;
            for performer in &page.items {
                let consents = ledger.consents(performer.id).await?;
                let consented = consents
                    .iter()
                    .any(|c| c.scope.production_id == production.id && c.in_force(now));
                if !consented {
                    list.add_performer(
                        &performer.name,
                        Some(format!(
                            "performer {}: no documented consent in force for `{}`",
                            performer.id, production.title
                        )),
                    );
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok::<_, anyhow::Error>(())
    })
}

/// Builds the screener for `screen` and `scan --screen`; the flag says whether a watchlist
/// had problems. An empty watchlist is an error: screening for nothing would pass anything.
pub fn load_screener(
    global: &Global,
    watchlists: &[PathBuf],
    production: Option<&str>,
) -> anyhow::Result<(Screener, bool)> {
    let mut list = Watchlist::new();
    let failed = load_watchlists(watchlists, &mut list)?;
    if let Some(production) = production {
        add_performers(global, production, &mut list)?;
    }
    if list.entries().is_empty() && !failed {
        let dir = default_watchlist_dir().map_or_else(
            || "(none: HOME is not set)".to_owned(),
            |d| d.display().to_string(),
        );
        anyhow::bail!(
            "no watchlist entries: pass --watchlist FILE, or put .toml or .csv watchlists in {dir}"
        );
    }
    Ok((Screener::new(&list), failed))
}

/// A hit as the JSON output prints it.
#[derive(serde::Serialize)]
struct Line<'a> {
    file: &'a str,
    format: &'static str,
    #[serde(flatten)]
    hit: &'a Hit,
}

/// Runs `greenlight screen`.
pub fn run(global: &Global, args: ScreenArgs) -> anyhow::Result<Exit> {
    let (screener, mut failed) =
        load_screener(global, &args.watchlists, args.production.as_deref())?;
    let mut out = AutoStream::auto(std::io::stdout().lock());
    let mut err = anstream::stderr();
    let mut level: Option<Level> = None;
    let mut found: Vec<Hit> = Vec::new();
    let (mut files, mut total) = (0usize, 0usize);
    for file in &args.files {
        let name = file.display().to_string();
        let bytes = match read_input(file) {
            Ok(b) => b,
            Err(e) => {
                error(&mut err, &format!("{name}: cannot read: {e}"))?;
                failed = true;
                continue;
            }
        };
        files += 1;
        let doc = input::read(&name, &bytes, args.input.map(InputFormat::from));
        let format = args
            .input
            .map_or_else(|| InputFormat::detect(&name, &bytes), InputFormat::from);
        for problem in &doc.problems {
            let at = if problem.line > 0 {
                format!("{name}:{}", problem.line)
            } else {
                name.clone()
            };
            error(&mut err, &format!("{at}: {}", problem.message))?;
            if args.format == Format::Json {
                let line = serde_json::json!({
                    "file": name, "format": format.as_str(), "line": problem.line,
                    "problem": problem.message,
                });
                serde_json::to_writer(&mut out, &line)?;
                writeln!(out)?;
            }
            failed = true;
        }
        // Each hit is printed as it is found: a long script's hits are never all held at
        // once (only those a declaration needs are kept). The first write error stops the
        // printing and is returned once the document is screened.
        let mut written: std::io::Result<()> = Ok(());
        screener.screen_each(&doc, |hit| {
            total += 1;
            level = level.max(Some(hit.rule.level));
            if written.is_ok() {
                written = match args.format {
                    Format::Json => serde_json::to_writer(
                        &mut out,
                        &Line {
                            file: &name,
                            format: format.as_str(),
                            hit: &hit,
                        },
                    )
                    .map_err(std::io::Error::from)
                    .and_then(|()| writeln!(out)),
                    Format::Text => text_line(&mut out, &name, &hit),
                };
            }
            if args.declaration.is_some() {
                found.push(hit);
            }
        });
        written?;
    }
    if args.format == Format::Text {
        writeln!(
            out,
            "{}{total} hit{} in {files} file{}{}",
            style::DIM.render(),
            if total == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" },
            style::DIM.render_reset()
        )?;
    }
    let mut exit = level.map_or(Exit::Notify, Exit::from);
    if let Some(declaration) = &args.declaration {
        exit = exit.max(triage(
            &mut out,
            declaration,
            &args.policies,
            &found,
            args.format,
        )?);
    }
    if failed {
        exit = exit.max(Exit::Error);
    }
    out.flush()?;
    Ok(exit)
}

/// Reads a FILE (or standard input for `-`), at most [`input::MAX_INPUT`] bytes and one more,
/// so the reader can say it was cut.
fn read_input(file: &Path) -> std::io::Result<Vec<u8>> {
    let limit = u64::try_from(input::MAX_INPUT).unwrap_or(u64::MAX) + 1;
    let mut bytes = Vec::new();
    if file == Path::new("-") {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            let mut err = anstream::stderr();
            let _ = writeln!(err, "reading from standard input (end with Ctrl-D)");
        }
        stdin.lock().take(limit).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(file)?
            .take(limit)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

fn text_line(out: &mut impl Write, name: &str, hit: &Hit) -> std::io::Result<()> {
    let l = style::level(hit.rule.level);
    let how = match &hit.how {
        greenlight_screen::text::Match::Exact => String::new(),
        greenlight_screen::text::Match::Folded => " · folded".to_owned(),
        greenlight_screen::text::Match::LookAlike => " · look-alike letters".to_owned(),
        greenlight_screen::text::Match::CommonWordCaseSensitive => {
            " · common word, matched case-sensitively".to_owned()
        }
        greenlight_screen::text::Match::CommonWordCue(cue) => {
            format!(" · common word, matched next to `{cue}`")
        }
    };
    let page = hit.page.map(|p| format!(" (page {p})")).unwrap_or_default();
    let element = hit
        .element
        .as_deref()
        .map(|e| format!(" · {e}"))
        .unwrap_or_default();
    writeln!(
        out,
        "{name}:{}:{}{page}: {}{:<8}{} {}{}{} ({}) {:?}  {}[{}] {}{how}{element}{}",
        hit.line,
        hit.column,
        l.render(),
        hit.rule.level.as_str(),
        l.render_reset(),
        style::BOLD.render(),
        hit.entry,
        style::BOLD.render_reset(),
        hit.category,
        hit.text,
        style::DIM.render(),
        hit.rule.cites.join(", "),
        hit.rule.id,
        style::DIM.render_reset(),
    )
}

/// The names of the hits, sorted into the declaration's `references`.
fn references(hits: &[Hit]) -> [(&'static str, BTreeSet<String>); 4] {
    let mut refs: [(&'static str, BTreeSet<String>); 4] = [
        ("copyrighted_works", BTreeSet::new()),
        ("artists", BTreeSet::new()),
        ("public_figures", BTreeSet::new()),
        ("deceased_people", BTreeSet::new()),
    ];
    for hit in hits {
        let slot = match hit.category {
            Category::CopyrightedWork | Category::Character | Category::Brand => 0,
            Category::LivingArtist => 1,
            Category::PublicFigure | Category::Performer => 2,
            Category::DeceasedPersonality => 3,
        };
        if let Some((_, set)) = refs.get_mut(slot) {
            set.insert(hit.entry.to_string());
        }
    }
    refs
}

/// Fills the declaration's references from the hits and triages it again.
fn triage(
    out: &mut impl Write,
    file: &Path,
    policies: &[PathBuf],
    hits: &[Hit],
    format: Format,
) -> anyhow::Result<Exit> {
    let mut declaration = match crate::assess::read_declaration(file) {
        Ok(d) => d,
        Err(message) => anyhow::bail!(message),
    };
    let policy = match crate::policy::load(policies) {
        Ok(p) => p,
        Err(exit) => return Ok(exit),
    };
    let refs = references(hits);
    let r = &mut declaration.references;
    let mut added: Vec<(&str, Vec<String>)> = Vec::new();
    for (field, names) in &refs {
        let list = match *field {
            "copyrighted_works" => &mut r.copyrighted_works,
            "artists" => &mut r.artists,
            "public_figures" => &mut r.public_figures,
            _ => &mut r.deceased_people,
        };
        let mut new = Vec::new();
        for name in names {
            if !list.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                list.push(name.clone());
                new.push(name.clone());
            }
        }
        added.push((field, new));
    }
    let decision = policy
        .assess(&declaration)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    match format {
        Format::Json => {
            let line = serde_json::json!({
                "declaration": file.display().to_string(),
                "references": declaration.references,
                "decision": decision,
            });
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
        }
        Format::Text => {
            writeln!(out)?;
            writeln!(
                out,
                "{}[references] of {} with the hits added:{}",
                style::BOLD.render(),
                file.display(),
                style::BOLD.render_reset()
            )?;
            for (field, names) in &added {
                let all = match *field {
                    "copyrighted_works" => &declaration.references.copyrighted_works,
                    "artists" => &declaration.references.artists,
                    "public_figures" => &declaration.references.public_figures,
                    _ => &declaration.references.deceased_people,
                };
                let quoted: Vec<String> = all.iter().map(|n| format!("{n:?}")).collect();
                let note = if names.is_empty() {
                    String::new()
                } else {
                    format!("  # added: {}", names.join(", "))
                };
                writeln!(out, "{field} = [{}]{note}", quoted.join(", "))?;
            }
            writeln!(out)?;
            crate::assess::render(out, file, &declaration, &decision)?;
        }
    }
    Ok(Exit::from(decision.level))
}

/// What `scan --screen` finds in one file's report: the prompts in its generator metadata
/// and IPTC AI fields, screened. The scanner keeps the first 160 characters of each field.
pub fn scan_hits(screener: &Screener, report: &FileReport) -> Vec<Hit> {
    let mut hits = Vec::new();
    for e in &report.evidence {
        let value = match e.kind {
            Kind::GeneratorMetadata => e.detail.split_once("` = ").map(|(_, v)| v),
            Kind::IptcAiField if e.detail.starts_with("AIPromptInformation: ") => {
                e.detail.strip_prefix("AIPromptInformation: ")
            }
            _ => None,
        };
        let Some(value) = value else { continue };
        for prompt in input::generator_prompts(value) {
            for mut hit in screener.screen_str(&prompt) {
                hit.element = Some(e.source.clone());
                hits.push(hit);
            }
        }
    }
    hits
}

/// Writes `scan --screen`'s hits for one file as text lines under its report line.
pub fn scan_text(out: &mut impl Write, hits: &[Hit]) -> std::io::Result<()> {
    for hit in hits {
        let l = style::level(hit.rule.level);
        writeln!(
            out,
            "    {}screen{}  {}{}{} ({}) {:?} in {}  {}[{}] {}{}",
            l.render(),
            l.render_reset(),
            style::BOLD.render(),
            hit.entry,
            style::BOLD.render_reset(),
            hit.category,
            hit.text,
            hit.element.as_deref().unwrap_or("metadata"),
            style::DIM.render(),
            hit.rule.cites.join(", "),
            hit.rule.id,
            style::DIM.render_reset(),
        )?;
    }
    Ok(())
}
