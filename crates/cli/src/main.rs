//! The `greenlight` command. It is thin: every verb parses its arguments,
//! calls a library crate and prints the result.

mod assess;
mod exit;
mod gate;
mod ledger;
mod manual;
mod policy;
mod remote;
mod scan;
mod screen;
mod serve;
mod similar;
mod stamp;
mod style;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::exit::Exit;

/// greenlight: use generative AI inside a studio's rules, and prove it.
#[derive(Debug, Parser)]
#[command(name = "greenlight", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: ledger::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Triage declared uses of generative AI: notify, escalate or blocked.
    ///
    /// Exit code: 0 notify, 3 escalate, 4 blocked (the strictest of all
    /// files), 1 when a file cannot be read or assessed, 2 for usage errors.
    Assess {
        /// Declarations to assess (TOML, or JSON when the name ends in .json).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Policy packs, in order: each later pack lays over the ones before
        /// it. Default: the built-in netflix-2025 pack.
        #[arg(long = "policy", value_name = "PACK")]
        policies: Vec<PathBuf>,
        /// Output format: text for people, json (one decision per line) for programs.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The day the assessment is made (YYYY-MM-DD), against which each
        /// pack's `effective` and `expires` dates are read. Default: today (UTC).
        #[arg(long, value_name = "DATE")]
        on: Option<greenlight_policy::PackDate>,
    },
    /// Validate, list and explain policy packs.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Scan files and trees for evidence of generative AI, per file.
    ///
    /// Reads C2PA Content Credentials, the IPTC digital source type and
    /// generator metadata; files are only ever opened for reading. Exit
    /// code: 0 when the scan ran (whatever it found), 4 with --gate when an
    /// AI-flagged file is not covered by an approval in force, 1 when a PATH does not
    /// exist or cannot be read, 2 for usage errors.
    Scan(scan::ScanArgs),
    /// Screen prompts, prompt logs and scripts for the names on watchlists.
    ///
    /// Finds copyrighted works, characters, living artists, public figures,
    /// deceased personalities and brands from the watchlists (and, with
    /// --production, the ledger's performers without documented consent),
    /// folding case, diacritics and look-alike letters, on word boundaries.
    /// Exit code: 0 nothing found, 3 a hit escalates, 4 a hit is blocked, 1
    /// when a file, watchlist or prompt-log line cannot be read, 2 for usage errors.
    Screen(screen::ScreenArgs),
    /// Hash protected reference images into the ledger and list them.
    Refs {
        #[command(subcommand)]
        command: similar::RefsCommand,
    },
    /// Check images for near-copies of the protected reference images in the ledger.
    ///
    /// For each image: the references within the match distance (PDQ bits of 256),
    /// nearest first, with the distance, the variant and orientation matched, and the
    /// hash quality; a flat image's low-quality hash is reported and never matched.
    /// Exit code: 0 when no image is a near-copy, 3 when any is (a person must look),
    /// 1 when an image cannot be read, 2 for usage errors.
    Similar(similar::SimilarArgs),
    /// Make, import and show the studio's signing key for stamps, and the trust list.
    Keys {
        #[command(subcommand)]
        command: stamp::KeysCommand,
    },
    /// Stamp files with an approval in force: a C2PA manifest signed with the studio's key.
    ///
    /// The file's existing manifest becomes the parent ingredient (its actions kept) and an
    /// `org.greenlight.approval` assertion names the approval; formats that cannot embed a
    /// manifest get a `.c2pa` sidecar. The original is never modified; each stamp is an
    /// audited ledger entry. Exit code: 0 every file stamped, 1 when any failed or the
    /// approval is not in force, 2 for usage errors.
    Stamp(stamp::StampArgs),
    /// Print a JSON Schema.
    Schema {
        /// What to describe.
        #[arg(value_enum)]
        what: SchemaKind,
    },
    #[command(flatten)]
    Ledger(ledger::LedgerCommand),
    /// Serve the ledger to a team over HTTP: accounts, roles, every record and action.
    ///
    /// Listens on --listen (default 127.0.0.1:8080) until SIGINT or SIGTERM,
    /// then finishes the requests in flight. On a ledger with no account, the
    /// first start creates `admin` and prints once how to sign in. `/readyz`
    /// answers when the ledger (--db) does. The OpenAPI document is at
    /// /api/v1/openapi.json.
    Serve(Box<greenlight_server::ServerConfig>),
    /// Print a shell completion script.
    ///
    /// For example, `greenlight completions bash > /etc/bash_completion.d/greenlight`,
    /// `greenlight completions zsh > "${fpath[1]}/_greenlight"` or
    /// `greenlight completions fish > ~/.config/fish/completions/greenlight.fish`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page greenlight(1), or write it and one page per verb into a directory.
    ///
    /// For example, `greenlight man | man -l -`, or
    /// `greenlight man --out /usr/local/share/man/man1` (it prints each file it writes).
    Man {
        /// Write greenlight.1 and a page per verb (greenlight-scan.1, …) into DIR, creating it.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Check packs: report every problem with its file, line and column.
    Check {
        /// Packs to check together (each later one lays over the ones before).
        #[arg(required = true, value_name = "PACK")]
        packs: Vec<PathBuf>,
    },
    /// List a policy's rules in a table. Default: the built-in pack.
    Show {
        /// Packs, in order (each later one lays over the ones before).
        #[arg(value_name = "PACK")]
        packs: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SchemaKind {
    /// The declaration a production writes.
    Declaration,
    /// The decision greenlight answers with.
    Decision,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Assess {
            files,
            policies,
            format,
            on,
        } => assess::run(&files, &policies, format, on),
        Command::Policy { command } => match command {
            PolicyCommand::Check { packs } => policy::check(&packs),
            PolicyCommand::Show { packs, format } => policy::show(&packs, format),
        },
        Command::Refs { command } => similar::refs(&cli.global, command),
        Command::Similar(args) => similar::similar(&cli.global, args),
        Command::Keys { command } => stamp::keys(command),
        Command::Stamp(args) => stamp::stamp(&cli.global, args),
        Command::Schema { what } => schema(what),
        Command::Ledger(command) => ledger::run(&cli.global, command),
        Command::Scan(args) => scan::run(&cli.global, args),
        Command::Screen(args) => screen::run(&cli.global, args),
        Command::Serve(config) => serve::run(&cli.global, *config),
        Command::Completions { shell } => manual::completions(shell),
        Command::Man { out } => manual::man(out.as_deref()),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(error) => {
            if is_broken_pipe(&error) {
                return Exit::Notify.into();
            }
            let _ = writeln!(
                anstream::stderr(),
                "{}error:{} {error:#}",
                style::ERROR.render(),
                style::ERROR.render_reset()
            );
            Exit::Error.into()
        }
    }
}

fn schema(what: SchemaKind) -> anyhow::Result<Exit> {
    let schema = match what {
        SchemaKind::Declaration => greenlight_core::declaration_schema(),
        SchemaKind::Decision => greenlight_core::decision_schema(),
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &schema)?;
    writeln!(out)?;
    Ok(Exit::Notify)
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
