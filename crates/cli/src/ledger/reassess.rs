//! `greenlight reassess --policy PACK [--apply]`: impact analysis of a new
//! policy on the stored decisions.
//!
//! Every declaration's latest version is triaged again, against the registry
//! as it stands now, and compared with the decision in force: a change is a
//! different level or a different set of rules fired. Nothing is written
//! unless `--apply` is given; then each changed declaration gets a new
//! decision (approvals given on the old one no longer apply to it).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use clap::Args as ClapArgs;
use greenlight_core::{Decision, Level};
use greenlight_store::MAX_PAGE;
use serde::Serialize;

use super::Context;
use super::common::{self, Output, json_line};
use crate::exit::Exit;
use crate::style;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Policy packs, in order (each later one lays over the ones before).
    /// Default: each production's own stack, the built-in pack with the
    /// production's overlays laid over it.
    #[arg(long = "policy", value_name = "PACK")]
    policies: Vec<PathBuf>,
    /// Only this production's declarations (id or exact title).
    #[arg(long)]
    production: Option<String>,
    /// Record the new decisions (default: only show what would change).
    #[arg(long)]
    pub apply: bool,
    #[command(flatten)]
    output: Output,
}

#[derive(Serialize)]
struct Change {
    declaration_id: String,
    production_id: String,
    title: String,
    from: Level,
    to: Level,
    rules_added: Vec<String>,
    rules_removed: Vec<String>,
    approvals_in_force: usize,
    applied: bool,
    decision_id: Option<String>,
}

fn rules(decision: &Decision) -> BTreeSet<String> {
    decision.findings.iter().map(|f| f.rule.clone()).collect()
}

pub async fn run(cx: &Context, args: Args) -> anyhow::Result<Exit> {
    let given = if args.policies.is_empty() {
        None
    } else {
        match crate::policy::load(&args.policies) {
            Ok(policy) => Some(policy),
            Err(exit) => return Ok(exit),
        }
    };
    let today = crate::assess::today()?;
    let actor = if args.apply { Some(cx.actor()?) } else { None };
    let productions = match &args.production {
        Some(p) => vec![common::production(&cx.ledger, p).await?],
        None => common::all_productions(&cx.ledger).await?,
    };
    let reference = match &given {
        Some(policy) => policy.reference(),
        None => greenlight_policy::Policy::builtin().reference(),
    };
    let mut out = common::stdout();
    let mut checked = 0usize;
    let mut changes = Vec::new();
    for production in &productions {
        let own;
        let policy = match &given {
            Some(policy) => policy,
            None => {
                own = match crate::policy::for_production(&[], production) {
                    Ok(policy) => policy,
                    Err(exit) => return Ok(exit),
                };
                &own
            }
        };
        let mut after: Option<String> = None;
        loop {
            let page = cx
                .ledger
                .declarations(production.id, after.as_deref(), MAX_PAGE)
                .await?;
            for stored in page.items {
                let Ok(current) = cx.ledger.current_decision(stored.id).await else {
                    continue;
                };
                checked += 1;
                let resolution = cx
                    .ledger
                    .resolve(production.id, &stored.declaration)
                    .await?;
                let new = policy
                    .assess_on(&resolution.declaration, today)
                    .map_err(|e| anyhow::anyhow!("declaration `{}`: {e}", stored.id))?;
                let (old_rules, new_rules) = (rules(&current.decision), rules(&new));
                if current.level() == new.level && old_rules == new_rules {
                    continue;
                }
                let approvals_in_force = cx.ledger.approvals_in_force(stored.id).await?.len();
                let mut change = Change {
                    declaration_id: stored.id.to_string(),
                    production_id: production.id.to_string(),
                    title: stored.declaration.title.clone(),
                    from: current.level(),
                    to: new.level,
                    rules_added: new_rules.difference(&old_rules).cloned().collect(),
                    rules_removed: old_rules.difference(&new_rules).cloned().collect(),
                    approvals_in_force,
                    applied: false,
                    decision_id: None,
                };
                if let Some(actor) = actor {
                    let triage = |d: &greenlight_core::Declaration| {
                        policy.assess_on(d, today).unwrap_or(new)
                    };
                    let submission = cx.ledger.retriage(actor, stored.id, triage).await?;
                    change.applied = true;
                    change.decision_id = Some(submission.decision.id.to_string());
                    change.to = submission.decision.level();
                }
                if args.output.json() {
                    json_line(&mut out, &change)?;
                }
                changes.push(change);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    if !args.output.json() {
        render(&mut out, &reference, checked, &changes, args.apply)?;
    }
    out.flush()?;
    Ok(Exit::Notify)
}

fn render(
    out: &mut impl Write,
    reference: &greenlight_core::PolicyRef,
    checked: usize,
    changes: &[Change],
    applied: bool,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}reassessed{} {checked} declaration(s) against {} {} (sha256 {})",
        style::BOLD.render(),
        style::BOLD.render_reset(),
        reference.id,
        reference.version,
        reference.sha256.get(..12).unwrap_or(&reference.sha256)
    )?;
    for change in changes {
        let (from, to) = (style::level(change.from), style::level(change.to));
        writeln!(out)?;
        writeln!(
            out,
            "  {}  {}{}{} -> {}{}{}  {}",
            change.declaration_id,
            from.render(),
            change.from.as_str(),
            from.render_reset(),
            to.render(),
            change.to.as_str(),
            to.render_reset(),
            change.title
        )?;
        if !change.rules_added.is_empty() {
            writeln!(out, "      + {}", change.rules_added.join(", "))?;
        }
        if !change.rules_removed.is_empty() {
            writeln!(out, "      - {}", change.rules_removed.join(", "))?;
        }
        if change.approvals_in_force > 0 {
            writeln!(
                out,
                "      {} approval(s) in force were given on the {} decision",
                change.approvals_in_force,
                if applied { "replaced" } else { "current" }
            )?;
        }
        if let Some(id) = &change.decision_id {
            writeln!(out, "      recorded decision {id}")?;
        }
    }
    writeln!(out)?;
    match (changes.len(), applied) {
        (0, _) => writeln!(out, "no decision would change"),
        (n, true) => writeln!(out, "{n} decision(s) changed and recorded"),
        (n, false) => writeln!(
            out,
            "{n} decision(s) would change; nothing recorded (run again with --apply to record them)"
        ),
    }
}
