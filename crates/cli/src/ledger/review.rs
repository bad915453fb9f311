//! `greenlight approve` and `greenlight reject`: a reviewer's written verdict
//! on an escalated declaration.

use std::io::Write;

use clap::Args;
use greenlight_store::{Approval, AssetScope, DeclarationId, NewReview, Timestamp, Verdict};

use super::Context;
use super::common::{self, Output, json_line, parse_id, parse_time};
use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The declaration (its latest version and current decision are approved).
    #[arg(value_parser = parse_id::<DeclarationId>)]
    declaration: DeclarationId,
    /// The assets covered: a path glob (VFX/ep103/**/*.exr), matched by `greenlight scan
    /// --production` against paths relative to the scanned directory (`*` stays within a
    /// directory, `**` crosses them), or sha256:HEX of one file's content. Repeat for more.
    #[arg(long, required = true, value_name = "GLOB|sha256:HEX", value_parser = parse_scope)]
    scope: Vec<AssetScope>,
    /// A condition the use must meet. Repeat for more.
    #[arg(long = "conditions", visible_alias = "condition", value_name = "TEXT")]
    conditions: Vec<String>,
    /// When the approval lapses (date or RFC 3339 time); never when left out.
    #[arg(long, value_name = "DATE", value_parser = parse_time)]
    expires: Option<Timestamp>,
    /// A note for the record.
    #[arg(long, default_value = "")]
    note: String,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The declaration.
    #[arg(value_parser = parse_id::<DeclarationId>)]
    declaration: DeclarationId,
    /// Why it is rejected.
    #[arg(long)]
    note: String,
    #[command(flatten)]
    output: Output,
}

pub async fn approve(cx: &Context, args: ApproveArgs) -> anyhow::Result<Exit> {
    let review = NewReview {
        declaration_id: args.declaration,
        verdict: Verdict::Approved,
        conditions: args.conditions,
        scope: args.scope,
        expires_at: args.expires,
        note: args.note,
    };
    let approval = cx.ledger.review(cx.actor()?, review).await?;
    print(&approval, args.output)
}

pub async fn reject(cx: &Context, args: RejectArgs) -> anyhow::Result<Exit> {
    let review = NewReview {
        declaration_id: args.declaration,
        verdict: Verdict::Rejected,
        conditions: Vec::new(),
        scope: Vec::new(),
        expires_at: None,
        note: args.note,
    };
    let approval = cx.ledger.review(cx.actor()?, review).await?;
    print(&approval, args.output)
}

fn print(approval: &Approval, output: Output) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    if output.json() {
        json_line(&mut out, approval)?;
    } else {
        let verb = match approval.verdict {
            Verdict::Approved => "approved",
            Verdict::Rejected => "rejected",
        };
        writeln!(
            out,
            "{verb} declaration {} version {} (decision {}) by {}",
            approval.declaration_id,
            approval.declaration_version,
            approval.decision_id,
            approval.reviewer
        )?;
        writeln!(out, "  {:<12}{}", "record", approval.id)?;
        if !approval.scope.is_empty() {
            let scope: Vec<String> = approval.scope.iter().map(scope_text).collect();
            writeln!(out, "  {:<12}{}", "scope", scope.join(", "))?;
        }
        for condition in &approval.conditions {
            writeln!(out, "  {:<12}{condition}", "condition")?;
        }
        if approval.verdict == Verdict::Approved {
            let expires = approval
                .expires_at
                .map_or_else(|| "never".to_owned(), |e| e.to_string());
            writeln!(out, "  {:<12}{expires}", "expires")?;
        }
        if !approval.note.is_empty() {
            writeln!(out, "  {:<12}{}", "note", approval.note)?;
        }
    }
    out.flush()?;
    Ok(Exit::Notify)
}

/// A scope as written on the command line.
pub fn scope_text(scope: &AssetScope) -> String {
    match scope {
        AssetScope::Glob(glob) => glob.clone(),
        AssetScope::Sha256(hash) => format!("sha256:{hash}"),
    }
}

fn parse_scope(text: &str) -> Result<AssetScope, String> {
    let text = text.trim();
    match text.strip_prefix("sha256:") {
        Some(hash) => Ok(AssetScope::Sha256(hash.to_ascii_lowercase())),
        None if text.is_empty() => Err("an empty scope".to_owned()),
        None => Ok(AssetScope::Glob(text.to_owned())),
    }
}
