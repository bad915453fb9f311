//! `greenlight stamps list`: the audited record of every file stamped with
//! `greenlight stamp` (the file, its sha256 before and after, the approval, the signer).

use std::io::Write;

use clap::Subcommand;
use greenlight_store::{MAX_PAGE, ProductionId};

use super::Context;
use super::common::{self, Output, json_line, table};
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the stamped files, in the order they were stamped: the file, its sha256 before
    /// and after, the approval, the signer and who stamped it.
    List {
        /// Only this production's (id or exact title). Default: every production's.
        #[arg(long)]
        production: Option<String>,
        #[command(flatten)]
        output: Output,
    },
}

pub async fn run(cx: &Context, command: Command) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    let Command::List { production, output } = command;
    let only: Option<ProductionId> = match &production {
        Some(text) => Some(common::production(cx.ledger(), text).await?.id),
        None => None,
    };
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = cx.ledger().stamps(None, after.as_deref(), MAX_PAGE).await?;
        for stamp in page.items {
            if only.is_some_and(|p| p != stamp.production_id) {
                continue;
            }
            if output.json() {
                json_line(&mut out, &stamp)?;
            } else {
                let written = match (&stamp.output_path, &stamp.sidecar_path) {
                    (Some(o), Some(c)) => format!("{o} + {c}"),
                    (Some(o), None) => o.clone(),
                    (None, Some(c)) => c.clone(),
                    (None, None) => String::new(),
                };
                rows.push(vec![
                    stamp.id.to_string(),
                    stamp.stamped_at.to_string(),
                    stamp.stamped_by.clone(),
                    stamp.approval_id.to_string(),
                    stamp.source_path.clone(),
                    written,
                    stamp.sha256_before.clone(),
                    stamp.sha256_after.clone(),
                    stamp.signer.clone(),
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
                "stamped",
                "by",
                "approval",
                "file",
                "written",
                "sha256 before",
                "sha256 after",
                "signer",
            ],
            &rows,
        )?;
    }
    out.flush()?;
    Ok(Exit::Notify)
}
