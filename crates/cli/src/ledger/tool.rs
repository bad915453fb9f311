//! `greenlight tool register|list|show`: tools and their data terms.

use std::io::Write;

use clap::Subcommand;
use greenlight_core::Answer;
use greenlight_store::{DataTerms, MAX_PAGE, NewTool, Timestamp, Tool, ToolId};

use super::Context;
use super::common::{
    self, Output, answer, field, json_line, parse_id, parse_name, parse_time, table,
};
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register a tool with its data terms; declarations then name it by id.
    Register {
        /// The vendor or maker.
        #[arg(long)]
        vendor: String,
        /// The product's name.
        #[arg(long)]
        product: String,
        /// The version in use.
        #[arg(long = "product-version", value_name = "VERSION", default_value = "")]
        product_version: String,
        /// The licence tier or plan.
        #[arg(long = "licence-tier", default_value = "")]
        licence_tier: String,
        /// The tool trains or fine-tunes on inputs or outputs.
        #[arg(long = "trains-on-inputs", value_parser = parse_name::<Answer>, default_value = "unsure")]
        trains_on_inputs: Answer,
        /// The tool stores or reuses inputs.
        #[arg(long = "retains-inputs", value_parser = parse_name::<Answer>, default_value = "unsure")]
        retains_inputs: Answer,
        /// The maker resells or shares inputs.
        #[arg(long = "resells-inputs", value_parser = parse_name::<Answer>, default_value = "unsure")]
        resells_inputs: Answer,
        /// Used under an enterprise agreement with the studio.
        #[arg(long = "enterprise-agreement", value_parser = parse_name::<Answer>, default_value = "unsure")]
        enterprise_agreement: Answer,
        /// Data terms were negotiated with the vendor.
        #[arg(long = "terms-negotiated", value_parser = parse_name::<Answer>, default_value = "unsure")]
        terms_negotiated: Answer,
        /// Who reviewed the terms.
        #[arg(long = "reviewed-by")]
        reviewed_by: Option<String>,
        /// When the terms were reviewed (date or RFC 3339 time).
        #[arg(long = "reviewed-at", value_name = "DATE", value_parser = parse_time)]
        reviewed_at: Option<Timestamp>,
        #[command(flatten)]
        output: Output,
    },
    /// List registered tools.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Show a tool and its data terms.
    Show {
        /// The tool's id.
        #[arg(value_parser = parse_id::<ToolId>)]
        tool: ToolId,
        #[command(flatten)]
        output: Output,
    },
}

pub fn writes(command: &Command) -> bool {
    matches!(command, Command::Register { .. })
}

pub async fn run(cx: &Context, command: Command) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    match command {
        Command::Register {
            vendor,
            product,
            product_version,
            licence_tier,
            trains_on_inputs,
            retains_inputs,
            resells_inputs,
            enterprise_agreement,
            terms_negotiated,
            reviewed_by,
            reviewed_at,
            output,
        } => {
            let new = NewTool {
                vendor,
                product,
                version: product_version,
                licence_tier,
                terms: DataTerms {
                    trains_on_inputs,
                    retains_inputs,
                    resells_inputs,
                    enterprise_agreement,
                    terms_negotiated,
                    reviewed_by,
                    reviewed_at,
                },
            };
            let tool = cx.ledger.register_tool(cx.actor()?, new).await?;
            if output.json() {
                json_line(&mut out, &tool)?;
            } else {
                writeln!(out, "registered tool {}", tool.id)?;
                show(&mut out, &tool)?;
                writeln!(
                    out,
                    "\nname it in a declaration as [[tools]] id = \"{}\"",
                    tool.id
                )?;
            }
        }
        Command::List { output } => {
            let mut tools = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = cx.ledger.tools(after.as_deref(), MAX_PAGE).await?;
                tools.extend(page.items);
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            if output.json() {
                for tool in &tools {
                    json_line(&mut out, tool)?;
                }
            } else {
                let rows: Vec<Vec<String>> = tools
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            answer(t.terms.enterprise_agreement),
                            answer(t.terms.trains_on_inputs),
                            answer(t.terms.retains_inputs),
                            format!("{} {} {}", t.vendor, t.product, t.version)
                                .trim_end()
                                .to_owned(),
                        ]
                    })
                    .collect();
                table(
                    &mut out,
                    &["id", "enterprise", "trains", "retains", "tool"],
                    &rows,
                )?;
            }
        }
        Command::Show { tool, output } => {
            let tool = cx.ledger.tool(tool).await?;
            if output.json() {
                json_line(&mut out, &tool)?;
            } else {
                show(&mut out, &tool)?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Notify)
}

fn show(out: &mut impl Write, tool: &Tool) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        format!("{} {} {}", tool.vendor, tool.product, tool.version).trim_end()
    )?;
    field(out, "id", tool.id)?;
    if !tool.licence_tier.is_empty() {
        field(out, "licence", &tool.licence_tier)?;
    }
    let terms = &tool.terms;
    field(
        out,
        "terms",
        format!(
            "enterprise agreement {}, trains on inputs {}, retains inputs {}, resells inputs {}, negotiated {}",
            answer(terms.enterprise_agreement),
            answer(terms.trains_on_inputs),
            answer(terms.retains_inputs),
            answer(terms.resells_inputs),
            answer(terms.terms_negotiated)
        ),
    )?;
    let reviewed = match (&terms.reviewed_by, &terms.reviewed_at) {
        (Some(by), Some(at)) => format!("by {by} on {at}"),
        (Some(by), None) => format!("by {by}"),
        (None, Some(at)) => format!("on {at}"),
        (None, None) => "not reviewed".to_owned(),
    };
    field(out, "reviewed", reviewed)?;
    field(
        out,
        "registered",
        format!("{} by {}", tool.registered_at, tool.registered_by),
    )
}
