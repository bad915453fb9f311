//! `greenlight declare FILE`: triage a declaration and store it, with its
//! decision, in the ledger.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args as ClapArgs;
use greenlight_core::Level;
use greenlight_store::{DeclarationId, Production, Submission};
use serde::Serialize;

use super::Context;
use super::common::{self, Output, json_line, parse_id};
use super::production::contact_text;
use crate::exit::Exit;
use crate::style;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The declaration (TOML, or JSON when the name ends in .json).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The production (id or exact title). Default: the production the
    /// declaration names.
    #[arg(long, conflicts_with = "revises")]
    production: Option<String>,
    /// Store the file as a new version of this declaration (earlier versions are kept).
    #[arg(long, value_name = "DECLARATION", value_parser = parse_id::<DeclarationId>)]
    revises: Option<DeclarationId>,
    /// Policy packs, in order (each later one lays over the ones before).
    /// Default: the built-in netflix-2025 pack with the production's
    /// overlays (`production overlays`) laid over it.
    #[arg(long = "policy", value_name = "PACK")]
    policies: Vec<PathBuf>,
    #[command(flatten)]
    output: Output,
}

#[derive(Serialize)]
struct Declared<'a> {
    declaration_id: String,
    version: u32,
    production_id: String,
    decision_id: String,
    notification_id: Option<String>,
    level: Level,
    decision: &'a greenlight_core::Decision,
    resolution: &'a [String],
}

pub async fn run(cx: &Context, args: Args) -> anyhow::Result<Exit> {
    let declaration = match crate::assess::read_declaration(&args.file) {
        Ok(declaration) => declaration,
        Err(message) => bail!(message),
    };
    let actor = cx.actor()?;
    let production = match (&args.revises, &args.production) {
        (Some(id), _) => {
            let current = cx.ledger.declaration(*id).await?;
            cx.ledger.production(current.production_id).await?
        }
        (None, Some(production)) => common::production(&cx.ledger, production).await?,
        (None, None) => common::production(&cx.ledger, &declaration.production).await?,
    };
    let policy = match crate::policy::for_production(&args.policies, &production) {
        Ok(policy) => policy,
        Err(exit) => return Ok(exit),
    };
    let today = crate::assess::today()?;
    // Triage once before writing, so that a rule that cannot be evaluated is
    // reported and nothing is stored.
    let resolution = cx.ledger.resolve(production.id, &declaration).await?;
    let checked = policy.assess_on(&resolution.declaration, today)?;
    let triage = |d: &greenlight_core::Declaration| policy.assess_on(d, today).unwrap_or(checked);
    let submission = match args.revises {
        Some(id) => {
            cx.ledger
                .revise_declaration(actor, id, declaration, triage)
                .await?
        }
        None => {
            cx.ledger
                .submit_declaration(actor, production.id, declaration, triage)
                .await?
        }
    };
    let mut out = common::stdout();
    if args.output.json() {
        json_line(&mut out, &declared(&submission))?;
    } else {
        let decision = &submission.decision;
        crate::assess::render(
            &mut out,
            &args.file,
            decision.triaged(&submission.declaration.declaration),
            &decision.decision,
        )?;
        writeln!(out)?;
        recorded(&mut out, &submission, &production)?;
    }
    out.flush()?;
    Ok(Exit::from(submission.decision.level()))
}

fn declared(submission: &Submission) -> Declared<'_> {
    Declared {
        declaration_id: submission.declaration.id.to_string(),
        version: submission.declaration.version,
        production_id: submission.declaration.production_id.to_string(),
        decision_id: submission.decision.id.to_string(),
        notification_id: submission.notification.as_ref().map(|n| n.id.to_string()),
        level: submission.decision.level(),
        decision: &submission.decision.decision,
        resolution: &submission.decision.resolution,
    }
}

fn recorded(
    out: &mut impl Write,
    submission: &Submission,
    production: &Production,
) -> std::io::Result<()> {
    let stored = &submission.declaration;
    writeln!(
        out,
        "{}recorded{} declaration {} version {} in {} ({})",
        style::BOLD.render(),
        style::BOLD.render_reset(),
        stored.id,
        stored.version,
        production.title,
        production.id
    )?;
    writeln!(out, "  decision {}", submission.decision.id)?;
    for note in &submission.decision.resolution {
        writeln!(out, "  registry: {note}")?;
    }
    match (&submission.notification, submission.decision.level()) {
        (Some(notification), _) => writeln!(
            out,
            "  shared with the studio contact {}",
            contact_text(&notification.contact)
        ),
        (None, Level::Escalate) => writeln!(
            out,
            "  next: a reviewer approves it: greenlight approve {} --scope GLOB --as REVIEWER",
            stored.id
        ),
        (None, _) => writeln!(
            out,
            "  next: record the missing precondition, then declare it again with --revises {}",
            stored.id
        ),
    }
}
