//! `greenlight declaration list|show`: stored declarations with their
//! versions, decisions, approvals and notifications.

use std::io::Write;
use std::path::Path;

use clap::Subcommand;
use greenlight_core::Level;
use greenlight_store::{
    Approval, DeclarationId, MAX_PAGE, Notification, StoredDecision, StoredDeclaration, Verdict,
};
use serde::Serialize;

use super::Context;
use super::common::{self, Output, field, json_line, name_of, parse_id, table};
use super::production::contact_text;
use crate::exit::Exit;
use crate::style;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List declarations with their current level and review.
    List {
        /// Only this production's (id or exact title).
        #[arg(long)]
        production: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Show a declaration: its decision, versions, decisions, approvals.
    Show {
        /// The declaration's id.
        #[arg(value_parser = parse_id::<DeclarationId>)]
        declaration: DeclarationId,
        #[command(flatten)]
        output: Output,
    },
}

/// A declaration and everything the ledger holds about it.
#[derive(Serialize)]
struct Shown {
    declaration: StoredDeclaration,
    level: Level,
    versions: Vec<StoredDeclaration>,
    decisions: Vec<StoredDecision>,
    approvals: Vec<Approval>,
    approvals_in_force: Vec<String>,
    notifications: Vec<Notification>,
}

pub async fn run(cx: &Context, command: Command) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    match command {
        Command::List { production, output } => {
            let productions = match production {
                Some(p) => vec![common::production(&cx.ledger, &p).await?],
                None => common::all_productions(&cx.ledger).await?,
            };
            let mut rows = Vec::new();
            for production in &productions {
                let mut after: Option<String> = None;
                loop {
                    let page = cx
                        .ledger
                        .declarations(production.id, after.as_deref(), MAX_PAGE)
                        .await?;
                    for declaration in page.items {
                        let row = summary(cx, declaration).await?;
                        if output.json() {
                            json_line(&mut out, &row)?;
                        } else {
                            rows.push(vec![
                                row.id.to_string(),
                                row.version.to_string(),
                                row.level.map_or("-", Level::as_str).to_owned(),
                                row.review.to_owned(),
                                production.title.clone(),
                                row.title,
                            ]);
                        }
                    }
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
            }
            if !output.json() {
                table(
                    &mut out,
                    &["id", "v", "level", "review", "production", "title"],
                    &rows,
                )?;
            }
        }
        Command::Show {
            declaration,
            output,
        } => {
            let shown = gather(cx, declaration).await?;
            if output.json() {
                json_line(&mut out, &shown)?;
            } else {
                show(cx, &mut out, &shown).await?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Notify)
}

#[derive(Serialize)]
struct Summary {
    id: DeclarationId,
    production_id: String,
    version: u32,
    title: String,
    level: Option<Level>,
    review: &'static str,
    submitted_by: String,
    submitted_at: String,
}

/// Where a declaration stands: its level and what review it has.
async fn summary(cx: &Context, declaration: StoredDeclaration) -> anyhow::Result<Summary> {
    let current = cx.ledger.current_decision(declaration.id).await.ok();
    let level = current.as_ref().map(StoredDecision::level);
    let review = match (&current, level) {
        (Some(current), Some(level)) => {
            let approvals = cx.ledger.approvals(declaration.id).await?;
            let on_current: Vec<&Approval> = approvals
                .iter()
                .filter(|a| a.decision_id == current.id)
                .collect();
            let in_force = !cx
                .ledger
                .approvals_in_force(declaration.id)
                .await?
                .is_empty();
            match level {
                Level::Notify => "not needed",
                _ if in_force => "approved",
                _ if on_current
                    .last()
                    .is_some_and(|a| a.verdict == Verdict::Rejected) =>
                {
                    "rejected"
                }
                Level::Blocked => "blocked",
                Level::Escalate => "awaiting review",
            }
        }
        _ => "-",
    };
    Ok(Summary {
        id: declaration.id,
        production_id: declaration.production_id.to_string(),
        version: declaration.version,
        title: declaration.declaration.title,
        level,
        review,
        submitted_by: declaration.submitted_by,
        submitted_at: declaration.submitted_at.to_string(),
    })
}

async fn gather(cx: &Context, id: DeclarationId) -> anyhow::Result<Shown> {
    let declaration = cx.ledger.declaration(id).await?;
    let versions = cx.ledger.declaration_versions(id).await?;
    let decisions = cx.ledger.decisions(id).await?;
    let approvals = cx.ledger.approvals(id).await?;
    let approvals_in_force = cx
        .ledger
        .approvals_in_force(id)
        .await?
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    let notifications = cx.ledger.notifications(id).await?;
    let level = cx.ledger.current_decision(id).await?.level();
    Ok(Shown {
        declaration,
        level,
        versions,
        decisions,
        approvals,
        approvals_in_force,
        notifications,
    })
}

async fn show(cx: &Context, out: &mut impl Write, shown: &Shown) -> anyhow::Result<()> {
    let stored = &shown.declaration;
    let production = cx.ledger.production(stored.production_id).await?;
    let current = shown
        .decisions
        .iter()
        .rev()
        .find(|d| d.declaration_version == stored.version);
    if let Some(current) = current {
        let label = format!("declaration {} v{}", stored.id, stored.version);
        // The level in force: blocked when a lapsed consent blocked it since.
        let mut decision = current.decision.clone();
        decision.level = current.level();
        crate::assess::render(
            out,
            Path::new(&label),
            current.triaged(&stored.declaration),
            &decision,
        )?;
        for block in &current.blocks {
            let l = style::level(Level::Blocked);
            writeln!(out)?;
            writeln!(
                out,
                "  {}blocked {}  since {}: {}",
                l.render(),
                l.render_reset(),
                block.at,
                block.reason
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", stored.declaration.title)?;
    field(out, "id", stored.id)?;
    field(
        out,
        "production",
        format!("{} ({})", production.title, production.id),
    )?;
    field(out, "level", shown.level.as_str())?;
    writeln!(out, "versions")?;
    for version in &shown.versions {
        writeln!(
            out,
            "  v{:<4} {}  by {}",
            version.version, version.submitted_at, version.submitted_by
        )?;
    }
    writeln!(out, "decisions")?;
    for decision in &shown.decisions {
        let rules: Vec<&str> = decision
            .decision
            .findings
            .iter()
            .map(|f| f.rule.as_str())
            .collect();
        writeln!(
            out,
            "  {}  v{}  {:<8}  {} {}  {} by {}  rules: {}",
            decision.id,
            decision.declaration_version,
            decision.level().as_str(),
            decision.decision.policy.id,
            decision.decision.policy.version,
            decision.decided_at,
            decision.decided_by,
            if rules.is_empty() {
                "none".to_owned()
            } else {
                rules.join(", ")
            }
        )?;
    }
    writeln!(out, "approvals")?;
    if shown.approvals.is_empty() {
        writeln!(out, "  none")?;
    }
    for approval in &shown.approvals {
        let in_force = shown.approvals_in_force.contains(&approval.id.to_string());
        writeln!(
            out,
            "  {}  {} by {} on {} (v{}, decision {}){}",
            approval.id,
            name_of(&approval.verdict),
            approval.reviewer,
            approval.decided_at,
            approval.declaration_version,
            approval.decision_id,
            if in_force { "  in force" } else { "" }
        )?;
        if !approval.scope.is_empty() {
            let scope: Vec<String> = approval
                .scope
                .iter()
                .map(super::review::scope_text)
                .collect();
            writeln!(out, "      scope: {}", scope.join(", "))?;
        }
        for condition in &approval.conditions {
            writeln!(out, "      condition: {condition}")?;
        }
        if let Some(end) = approval.expires_at {
            writeln!(out, "      expires: {end}")?;
        }
        if !approval.note.is_empty() {
            writeln!(out, "      note: {}", approval.note)?;
        }
    }
    for notification in &shown.notifications {
        writeln!(
            out,
            "shared with {} on {} (v{})",
            contact_text(&notification.contact),
            notification.shared_at,
            notification.declaration_version
        )?;
    }
    Ok(())
}
