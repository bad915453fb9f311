//! `greenlight policy check|show`, and loading the packs other verbs use.

use std::io::Write;
use std::path::{Path, PathBuf};

use anstream::AutoStream;
use greenlight_policy::{EntryKind, PackErrors, Policy};

use crate::Format;
use crate::exit::Exit;
use crate::style;

/// Loads the packs named, or the built-in pack when none is. On failure the
/// problems are printed to stderr and the exit code is returned.
pub fn load(paths: &[PathBuf]) -> Result<Policy, Exit> {
    if paths.is_empty() {
        return Ok(Policy::builtin());
    }
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    Policy::load(&paths).map_err(|errors| {
        report(&errors);
        Exit::Error
    })
}

/// The policy a production's declarations are triaged with: the packs named
/// (`--policy`, stacked by hand) or, when none is, the built-in pack with the
/// production's overlays laid over it.
pub fn for_production(
    paths: &[PathBuf],
    production: &greenlight_store::Production,
) -> Result<Policy, Exit> {
    if !paths.is_empty() || production.overlays.is_empty() {
        return load(paths);
    }
    let ids: Vec<&str> = production.overlays.iter().map(String::as_str).collect();
    Policy::builtin_stack(&ids).map_err(|errors| {
        report(&errors);
        Exit::Error
    })
}

/// Prints every problem with its snippet to stderr.
fn report(errors: &PackErrors) {
    let colour = AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let theme = if colour {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let mut err = std::io::stderr().lock();
    for diagnostic in &errors.diagnostics {
        let mut text = String::new();
        if handler.render_report(&mut text, diagnostic).is_err() || diagnostic.pack.text.is_empty()
        {
            text = format!("  × {}\n", diagnostic.one_line());
        }
        let _ = write!(err, "{text}");
    }
    let _ = writeln!(err, "{errors}");
}

pub fn check(packs: &[PathBuf]) -> anyhow::Result<Exit> {
    let policy = match load(packs) {
        Ok(policy) => policy,
        Err(exit) => return Ok(exit),
    };
    let mut out = AutoStream::auto(std::io::stdout().lock());
    for layer in policy.layers() {
        writeln!(
            out,
            "{}ok{}  {} {}  ({}, sha256 {})",
            style::level(greenlight_core::Level::Notify).render(),
            style::level(greenlight_core::Level::Notify).render_reset(),
            layer.reference.id,
            layer.reference.version,
            layer.origin,
            layer.reference.sha256.get(..12).unwrap_or_default()
        )?;
    }
    let interpretations = policy
        .rules()
        .iter()
        .filter(|r| r.basis == greenlight_core::Basis::Interpretation)
        .count();
    writeln!(
        out,
        "{} rules ({interpretations} interpretations), {} citable ids",
        policy.rules().len(),
        policy.entries().len()
    )?;
    Ok(Exit::Notify)
}

pub fn show(packs: &[PathBuf], format: Format) -> anyhow::Result<Exit> {
    let policy = match load(packs) {
        Ok(policy) => policy,
        Err(exit) => return Ok(exit),
    };
    let mut out = AutoStream::auto(std::io::stdout().lock());
    if format == Format::Json {
        let rules: Vec<serde_json::Value> = policy
            .rules()
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "title": r.title, "when": r.when, "level": r.level,
                    "cites": r.cites, "basis": r.basis, "severity": r.severity,
                    "reason": r.reason, "remedy": r.remedy, "pack": r.pack, "reads": r.reads(),
                })
            })
            .collect();
        let entries: Vec<serde_json::Value> = policy
            .entries()
            .values()
            .map(|e| serde_json::json!({"id": e.id, "group": e.group, "text": e.text}))
            .collect();
        let doc = serde_json::json!({"policy": policy.reference(), "ids": entries, "rules": rules});
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(Exit::Notify);
    }
    for layer in policy.layers() {
        writeln!(
            out,
            "{}{} {}{}  {}",
            style::BOLD.render(),
            layer.reference.id,
            layer.reference.version,
            style::BOLD.render_reset(),
            layer.title
        )?;
        if !layer.source_ref.is_empty() {
            writeln!(
                out,
                "{}{}{}",
                style::DIM.render(),
                layer.source_ref,
                style::DIM.render_reset()
            )?;
        }
    }
    writeln!(out)?;
    let id_width = policy
        .rules()
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let cite_width = policy
        .rules()
        .iter()
        .map(|r| r.cites.join(" ").chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(
        out,
        "{}{:<id_width$}  {:<8}  {:<cite_width$}  {:<5}  TITLE{}",
        style::BOLD.render(),
        "RULE",
        "LEVEL",
        "CITES",
        "BASIS",
        style::BOLD.render_reset()
    )?;
    for rule in policy.rules() {
        let l = style::level(rule.level);
        let cites = rule.cites.join(" ");
        let pad = cite_width.saturating_sub(cites.chars().count());
        let basis = match rule.basis {
            greenlight_core::Basis::Guidance => "G",
            greenlight_core::Basis::Interpretation => "I",
        };
        writeln!(
            out,
            "{:<id_width$}  {}{:<8}{}  {cites}{:pad$}  {:<5}  {}",
            rule.id,
            l.render(),
            rule.level.as_str(),
            l.render_reset(),
            "",
            basis,
            rule.title
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}BASIS: G guidance, I interpretation (the pack's reading where the guidance is silent){}",
        style::DIM.render(),
        style::DIM.render_reset()
    )?;
    let principles = policy
        .entries()
        .values()
        .filter(|e| e.kind == EntryKind::Principle)
        .count();
    writeln!(
        out,
        "{}{} rules; {} principles and {} other citable ids{}",
        style::DIM.render(),
        policy.rules().len(),
        principles,
        policy.entries().len() - principles,
        style::DIM.render_reset()
    )?;
    Ok(Exit::Notify)
}
