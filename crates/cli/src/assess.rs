//! `greenlight assess`: triage declarations against a policy.

use std::io::Write;
use std::path::{Path, PathBuf};

use anstream::AutoStream;
use greenlight_core::{Decision, Declaration, DeclarationError, Level, SourceFormat};
use greenlight_policy::{PackDate, Policy};

use crate::Format;
use crate::exit::Exit;
use crate::style;

/// Today in UTC, the day an assessment is made unless `--on` says otherwise.
pub fn today() -> anyhow::Result<PackDate> {
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    Ok(day.parse::<PackDate>()?)
}

pub fn run(
    files: &[PathBuf],
    policies: &[PathBuf],
    format: Format,
    on: Option<PackDate>,
) -> anyhow::Result<Exit> {
    let on = match on {
        Some(day) => day,
        None => today()?,
    };
    let policy = match crate::policy::load(policies) {
        Ok(policy) => policy,
        Err(exit) => return Ok(exit),
    };
    let mut out = AutoStream::auto(std::io::stdout().lock());
    let mut err = anstream::stderr();
    let mut exit = Exit::Notify;
    let mut printed = false;
    for file in files {
        let outcome = assess_file(&policy, file, on);
        match (&outcome, format) {
            (Ok((declaration, decision)), Format::Text) => {
                if printed {
                    writeln!(out)?;
                }
                render(&mut out, file, declaration, decision)?;
                printed = true;
            }
            (Ok((_, decision)), Format::Json) => {
                serde_json::to_writer(&mut out, decision)?;
                writeln!(out)?;
            }
            (Err(message), Format::Text) => {
                writeln!(
                    err,
                    "{}error:{} {message}",
                    style::ERROR.render(),
                    style::ERROR.render_reset()
                )?;
            }
            (Err(message), Format::Json) => {
                writeln!(
                    err,
                    "{}error:{} {message}",
                    style::ERROR.render(),
                    style::ERROR.render_reset()
                )?;
                // Keep line N of the output for file N.
                let line =
                    serde_json::json!({ "file": file.display().to_string(), "error": message });
                serde_json::to_writer(&mut out, &line)?;
                writeln!(out)?;
            }
        }
        let this = match &outcome {
            Ok((_, decision)) => Exit::from(decision.level),
            Err(_) => Exit::Error,
        };
        exit = exit.max(this);
    }
    out.flush()?;
    Ok(exit)
}

/// Reads and parses a declaration file; the error names the file, line and field.
pub fn read_declaration(file: &Path) -> Result<Declaration, String> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| format!("{name}: cannot read: {e}"))?;
    Declaration::parse(&text, SourceFormat::from_path(&name)).map_err(|e| describe(&name, &e))
}

fn assess_file(
    policy: &Policy,
    file: &Path,
    on: PackDate,
) -> Result<(Declaration, Decision), String> {
    let name = file.display().to_string();
    let declaration = read_declaration(file)?;
    let decision = policy
        .assess_on(&declaration, on)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok((declaration, decision))
}

fn describe(name: &str, error: &DeclarationError) -> String {
    let mut out = name.to_owned();
    if let (Some(line), Some(column)) = (error.line, error.column) {
        out.push_str(&format!(":{line}:{column}"));
    }
    out.push_str(": ");
    if !error.field.is_empty() && !error.message.contains(&format!("`{}`", error.field)) {
        out.push_str(&format!("`{}`: ", error.field));
    }
    out.push_str(&error.message);
    if let Some(help) = &error.help {
        out.push_str(&format!("\n  help: {help}"));
    }
    out
}

fn what_it_means(level: Level) -> &'static str {
    match level {
        Level::Notify => "proceed, and share the use with your studio contact",
        Level::Escalate => "written approval is required before proceeding",
        Level::Blocked => "a precondition is missing that no approval alone can replace",
    }
}

/// Writes a decision for people: the level, what it means, and every finding.
pub fn render(
    out: &mut impl Write,
    file: &Path,
    declaration: &Declaration,
    decision: &Decision,
) -> std::io::Result<()> {
    let level = style::level(decision.level);
    let upper = decision.level.as_str().to_uppercase();
    let severity = match decision.severity() {
        greenlight_core::Severity::High => " (high severity)",
        greenlight_core::Severity::Normal => "",
    };
    writeln!(
        out,
        "{}{upper}{severity}{}  {}{}{}  {}{}{}",
        level.render(),
        level.render_reset(),
        style::BOLD.render(),
        declaration.title,
        style::BOLD.render_reset(),
        style::DIM.render(),
        file.display(),
        style::DIM.render_reset(),
    )?;
    writeln!(
        out,
        "{}{} · policy {} {}{}",
        style::DIM.render(),
        what_it_means(decision.level),
        decision.policy.id,
        decision.policy.version,
        style::DIM.render_reset()
    )?;
    for finding in &decision.findings {
        let l = style::level(finding.level);
        let basis = match finding.basis {
            greenlight_core::Basis::Guidance => "",
            greenlight_core::Basis::Interpretation => " · interpretation",
        };
        let high = match finding.severity {
            greenlight_core::Severity::High => " · high severity",
            greenlight_core::Severity::Normal => "",
        };
        writeln!(out)?;
        writeln!(
            out,
            "  {}{:<8}{}  {}{}{}  {}[{}]{basis}{high}{}",
            l.render(),
            finding.level.as_str(),
            l.render_reset(),
            style::BOLD.render(),
            finding.rule,
            style::BOLD.render_reset(),
            style::DIM.render(),
            finding.cites.join(", "),
            style::DIM.render_reset(),
        )?;
        writeln!(out, "            {}", finding.reason)?;
        if !finding.facts.is_empty() {
            let facts: Vec<String> = finding
                .facts
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k} = {s}"),
                    other => format!("{k} = {other}"),
                })
                .collect();
            writeln!(
                out,
                "            {}because:{} {}",
                style::DIM.render(),
                style::DIM.render_reset(),
                facts.join(", ")
            )?;
        }
        writeln!(
            out,
            "            {}to change it:{} {}",
            style::DIM.render(),
            style::DIM.render_reset(),
            finding.remedy
        )?;
    }
    Ok(())
}
