//! `greenlight production create|list|show`.

use std::io::Write;

use clap::Subcommand;
use greenlight_core::ProductionKind;
use greenlight_store::{Contact, Member, NewProduction, Production, Role};

use super::Context;
use super::common::{self, Output, field, json_line, name_of, parse_name, table};
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a production.
    Create {
        /// Its title, as declarations name it.
        title: String,
        /// What kind of production it is.
        #[arg(long, value_parser = parse_name::<ProductionKind>, default_value = "scripted")]
        kind: ProductionKind,
        /// The studio contact every notify-level use is shared with:
        /// "Name <email>" or an e-mail address.
        #[arg(long, value_name = "CONTACT", value_parser = parse_contact)]
        contact: Contact,
        /// A member: PERSON=ROLE[,ROLE…][=NAME], e.g. rae@studio.example=reviewer,legal=Rae Tan.
        /// Roles: coordinator, vendor, reviewer, legal, post_supervisor,
        /// talent_relations, compliance. Repeat for each member.
        #[arg(long = "member", value_name = "MEMBER", value_parser = parse_member)]
        members: Vec<Member>,
        /// An overlay pack that applies to the production (its unions, its
        /// release territories), stacked on the default pack in the order
        /// given: sag-aftra-2023, wga-2023, dga-2023, us-ca, us-ny, us-tn,
        /// eu-ai-act-art50, usco-registration. Repeat for each.
        #[arg(long = "overlay", value_name = "PACK", value_parser = parse_overlay)]
        overlays: Vec<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Replace the overlay packs that apply to a production (give every one,
    /// in stacking order; `--none` for none).
    Overlays {
        /// The production's id or exact title.
        production: String,
        /// An overlay pack id. Repeat for each.
        #[arg(long = "overlay", value_name = "PACK", value_parser = parse_overlay, required_unless_present = "none")]
        overlays: Vec<String>,
        /// No overlays: the default pack alone.
        #[arg(long, conflicts_with = "overlays")]
        none: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Replace a production's members (give every member, with their roles).
    Members {
        /// The production's id or exact title.
        production: String,
        /// A member: PERSON=ROLE[,ROLE…][=NAME]. Repeat for each member.
        #[arg(long = "member", value_name = "MEMBER", value_parser = parse_member, required = true)]
        members: Vec<Member>,
        #[command(flatten)]
        output: Output,
    },
    /// List productions.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Show a production: contact, members and roles.
    Show {
        /// The production's id or exact title.
        production: String,
        #[command(flatten)]
        output: Output,
    },
}

pub fn writes(command: &Command) -> bool {
    matches!(
        command,
        Command::Create { .. } | Command::Members { .. } | Command::Overlays { .. }
    )
}

pub async fn run(cx: &Context, command: Command) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    match command {
        Command::Create {
            title,
            kind,
            contact,
            members,
            overlays,
            output,
        } => {
            let new = NewProduction {
                title,
                kind,
                studio_contact: contact,
                members,
            };
            let actor = cx.actor()?;
            let mut production = cx.ledger.create_production(actor, new).await?;
            if !overlays.is_empty() {
                production = cx
                    .ledger
                    .set_overlays(actor, production.id, overlays)
                    .await?;
            }
            if output.json() {
                json_line(&mut out, &production)?;
            } else {
                writeln!(out, "created production {}", production.id)?;
                show(&mut out, &production)?;
            }
        }
        Command::Members {
            production,
            members,
            output,
        } => {
            let production = common::production(&cx.ledger, &production).await?;
            let production = cx
                .ledger
                .set_members(cx.actor()?, production.id, members)
                .await?;
            if output.json() {
                json_line(&mut out, &production)?;
            } else {
                show(&mut out, &production)?;
            }
        }
        Command::Overlays {
            production,
            overlays,
            none: _,
            output,
        } => {
            let production = common::production(&cx.ledger, &production).await?;
            let production = cx
                .ledger
                .set_overlays(cx.actor()?, production.id, overlays)
                .await?;
            if output.json() {
                json_line(&mut out, &production)?;
            } else {
                show(&mut out, &production)?;
            }
        }
        Command::List { output } => {
            let productions = common::all_productions(&cx.ledger).await?;
            if output.json() {
                for production in &productions {
                    json_line(&mut out, production)?;
                }
            } else {
                let rows: Vec<Vec<String>> = productions
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.to_string(),
                            name_of(&p.kind),
                            p.members.len().to_string(),
                            p.title.clone(),
                        ]
                    })
                    .collect();
                table(&mut out, &["id", "kind", "members", "title"], &rows)?;
            }
        }
        Command::Show { production, output } => {
            let production = common::production(&cx.ledger, &production).await?;
            if output.json() {
                json_line(&mut out, &production)?;
            } else {
                show(&mut out, &production)?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Notify)
}

pub fn contact_text(contact: &Contact) -> String {
    if contact.name.is_empty() {
        contact.email.clone()
    } else {
        format!("{} <{}>", contact.name, contact.email)
    }
}

fn show(out: &mut impl Write, production: &Production) -> std::io::Result<()> {
    writeln!(out, "{}", production.title)?;
    field(out, "id", production.id)?;
    field(out, "kind", name_of(&production.kind))?;
    field(out, "contact", contact_text(&production.studio_contact))?;
    field(
        out,
        "overlays",
        if production.overlays.is_empty() {
            "none (the default pack alone)".to_owned()
        } else {
            production.overlays.join(", ")
        },
    )?;
    field(
        out,
        "created",
        format!("{} by {}", production.created_at, production.created_by),
    )?;
    if production.members.is_empty() {
        field(out, "members", "none")?;
    }
    for (i, member) in production.members.iter().enumerate() {
        let roles: Vec<String> = member.roles.iter().map(name_of).collect();
        let who = if member.name.is_empty() {
            member.person.clone()
        } else {
            format!("{} ({})", member.person, member.name)
        };
        let label = if i == 0 { "members" } else { "" };
        field(out, label, format!("{who}: {}", roles.join(", ")))?;
    }
    Ok(())
}

/// The id of a built-in overlay pack.
fn parse_overlay(text: &str) -> Result<String, String> {
    let known: Vec<&str> = greenlight_policy::BUILTIN_OVERLAYS
        .iter()
        .map(|(id, _)| *id)
        .collect();
    if known.contains(&text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not an overlay pack; known: {}",
            known.join(", ")
        ))
    }
}

/// "Name <email>" or a bare e-mail address.
fn parse_contact(text: &str) -> Result<Contact, String> {
    let text = text.trim();
    if let Some((name, rest)) = text.split_once('<') {
        let email = rest.trim_end().trim_end_matches('>').trim();
        if email.is_empty() {
            return Err(format!("`{text}` has no e-mail address between < and >"));
        }
        return Ok(Contact {
            name: name.trim().to_owned(),
            email: email.to_owned(),
        });
    }
    if text.is_empty() {
        return Err("the studio contact is empty".to_owned());
    }
    Ok(Contact {
        name: String::new(),
        email: text.to_owned(),
    })
}

/// PERSON=ROLE[,ROLE…][=NAME]
fn parse_member(text: &str) -> Result<Member, String> {
    let mut parts = text.splitn(3, '=');
    let person = parts.next().unwrap_or_default().trim();
    let roles = parts.next().unwrap_or_default();
    let name = parts.next().unwrap_or_default().trim();
    if person.is_empty() || roles.trim().is_empty() {
        return Err(format!(
            "`{text}` is not PERSON=ROLE[,ROLE…][=NAME], e.g. rae@studio.example=reviewer,legal"
        ));
    }
    let roles = roles
        .split(',')
        .filter(|r| !r.trim().is_empty())
        .map(parse_name::<Role>)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Member {
        person: person.to_owned(),
        name: name.to_owned(),
        roles,
    })
}
