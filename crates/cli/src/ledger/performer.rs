//! `greenlight performer register|list|show`.

use std::io::Write;

use clap::Subcommand;
use greenlight_store::{Consent, Kind, NewPerformer, Performer, PerformerId};
use serde::Serialize;

use super::Context;
use super::common::{self, Output, field, json_line, parse_id, table};
use super::consent::consent_table;
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register a performer; declarations then name them by id.
    Register {
        /// The performer's name.
        name: String,
        /// Their union (e.g. SAG-AFTRA); empty when none.
        #[arg(long, default_value = "")]
        union: String,
        /// The performer is deceased: consent then comes from the estate.
        #[arg(long)]
        deceased: bool,
        /// The estate or representative that consents for a deceased performer.
        #[arg(long, requires = "deceased")]
        estate: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// List registered performers.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Show a performer and their consents.
    Show {
        /// The performer's id.
        #[arg(value_parser = parse_id::<PerformerId>)]
        performer: PerformerId,
        #[command(flatten)]
        output: Output,
    },
}

pub fn writes(command: &Command) -> bool {
    matches!(command, Command::Register { .. })
}

#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    performer: &'a Performer,
    consents: &'a [Consent],
}

pub async fn run(cx: &Context, command: Command) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    match command {
        Command::Register {
            name,
            union,
            deceased,
            estate,
            output,
        } => {
            let new = NewPerformer {
                name,
                union,
                deceased,
                estate,
            };
            let performer = cx.ledger.register_performer(cx.actor()?, new).await?;
            if output.json() {
                json_line(&mut out, &performer)?;
            } else {
                writeln!(out, "registered performer {}", performer.id)?;
                show(&mut out, &performer)?;
                writeln!(
                    out,
                    "\nname them in a declaration as [[performers]] id = \"{}\"",
                    performer.id
                )?;
            }
        }
        Command::List { output } => {
            let performers: Vec<Performer> =
                common::all_of(&cx.ledger, Kind::Performer, None).await?;
            if output.json() {
                for performer in &performers {
                    json_line(&mut out, performer)?;
                }
            } else {
                let rows: Vec<Vec<String>> = performers
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.to_string(),
                            if p.union.is_empty() {
                                "-".to_owned()
                            } else {
                                p.union.clone()
                            },
                            if p.deceased { "deceased" } else { "" }.to_owned(),
                            p.name.clone(),
                        ]
                    })
                    .collect();
                table(&mut out, &["id", "union", "", "name"], &rows)?;
            }
        }
        Command::Show { performer, output } => {
            let performer = cx.ledger.performer(performer).await?;
            let consents = cx.ledger.consents(performer.id).await?;
            if output.json() {
                json_line(
                    &mut out,
                    &Shown {
                        performer: &performer,
                        consents: &consents,
                    },
                )?;
            } else {
                show(&mut out, &performer)?;
                writeln!(out)?;
                if consents.is_empty() {
                    writeln!(out, "no consent recorded")?;
                } else {
                    consent_table(cx, &mut out, &consents).await?;
                }
            }
        }
    }
    out.flush()?;
    Ok(Exit::Notify)
}

fn show(out: &mut impl Write, performer: &Performer) -> std::io::Result<()> {
    writeln!(out, "{}", performer.name)?;
    field(out, "id", performer.id)?;
    field(
        out,
        "union",
        if performer.union.is_empty() {
            "none"
        } else {
            &performer.union
        },
    )?;
    if performer.deceased {
        field(
            out,
            "deceased",
            format!(
                "yes; consent from {}",
                performer
                    .estate
                    .as_deref()
                    .unwrap_or("the union (no estate recorded)")
            ),
        )?;
    }
    field(
        out,
        "registered",
        format!("{} by {}", performer.registered_at, performer.registered_by),
    )
}
