//! The ledger's verbs: productions, tools, performers, consents,
//! declarations, reviews, the audit log and impact analysis.
//!
//! Each verb lives in its own module and does three things: read its
//! arguments, call `greenlight-store` (and `greenlight-policy` for triage),
//! and render the result as text or JSON. This module opens the ledger once,
//! from `--db`: a `postgres://` URL selects PostgreSQL, anything else is a
//! SQLite file (created on first use).

mod account;
mod audit;
pub(crate) mod common;
mod consent;
mod declaration;
mod declare;
mod performer;
mod production;
mod reassess;
mod report;
mod review;
mod scans;
mod stamps;
mod tool;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use greenlight_store::{AuditKey, Ledger, Store, SystemClock};
use greenlight_store_postgres::PostgresStore;
use greenlight_store_sqlite::SqliteStore;

use crate::exit::Exit;

/// Where the ledger is and who is acting: options every ledger verb takes.
#[derive(Clone, Debug, Args)]
pub struct Global {
    /// The ledger: a SQLite file (created on first use) or a PostgreSQL URL
    /// (postgres://…). Default: $XDG_DATA_HOME/greenlight/ledger.sqlite3.
    #[arg(
        long,
        global = true,
        env = "GREENLIGHT_DB",
        value_name = "PATH|URL",
        help_heading = "Ledger options"
    )]
    db: Option<String>,
    /// The file holding the key that signs the audit log (created on first
    /// use; keep it outside the database). Default: audit.key beside the
    /// default ledger file. Every writer of one ledger uses the same key.
    #[arg(
        long = "audit-key",
        global = true,
        env = "GREENLIGHT_AUDIT_KEY",
        value_name = "FILE",
        help_heading = "Ledger options"
    )]
    audit_key: Option<PathBuf>,
    /// Who is acting, as the audit log records it (a login or e-mail).
    /// Default: the operating system's user name.
    #[arg(
        long = "as",
        global = true,
        env = "GREENLIGHT_USER",
        value_name = "PERSON",
        help_heading = "Ledger options"
    )]
    actor: Option<String>,
}

/// The ledger's verbs.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Create, list and show productions (members, roles, studio contact).
    Production {
        #[command(subcommand)]
        command: production::Command,
    },
    /// Register, list and show tools with their data terms.
    Tool {
        #[command(subcommand)]
        command: tool::Command,
    },
    /// Register, list and show performers.
    Performer {
        #[command(subcommand)]
        command: performer::Command,
    },
    /// Record, document, revoke and list performers' consents.
    Consent {
        #[command(subcommand)]
        command: consent::Command,
    },
    /// Triage a declaration and store it with its decision.
    ///
    /// Exit code as `assess`: 0 notify, 3 escalate, 4 blocked; 1 on error.
    Declare(declare::Args),
    /// List and show stored declarations: versions, decisions, approvals.
    Declaration {
        #[command(subcommand)]
        command: declaration::Command,
    },
    /// Approve an escalated declaration, with conditions, scope and expiry.
    Approve(review::ApproveArgs),
    /// Reject an escalated or blocked declaration.
    Reject(review::RejectArgs),
    /// Verify the audit log, list its entries, or print its public key.
    Audit {
        #[command(subcommand)]
        command: audit::Command,
    },
    /// Show which stored decisions another policy would change; --apply records them.
    Reassess(reassess::Args),
    /// List and show delivery scans recorded with `greenlight scan --production X --record`.
    Scans {
        #[command(subcommand)]
        command: scans::Command,
    },
    /// List the files stamped with `greenlight stamp`, as the ledger audited them.
    Stamps {
        #[command(subcommand)]
        command: stamps::Command,
    },
    /// Create and list the accounts `greenlight serve` signs people in with.
    User {
        #[command(subcommand)]
        command: account::UserCommand,
    },
    /// Create, list and revoke API tokens for programs (remote scanners, scripts).
    Token {
        #[command(subcommand)]
        command: account::TokenCommand,
    },
    /// A production's report (uses, decisions, approvals, consents, escalations, scans,
    /// audit status, disclosures owed) as html, pdf, json or csv; `report verify FILE`
    /// checks one handed over.
    ///
    /// The report's sha256 is recorded in the ledger (audited), so a copy can be checked
    /// later. Exit code of `verify`: 0 when the ledger recorded the file, 1 when not.
    Report(report::Args),
}

/// Runs a ledger verb on a current-thread runtime.
pub fn run(global: &Global, command: LedgerCommand) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(dispatch(global, command))
}

async fn dispatch(global: &Global, command: LedgerCommand) -> anyhow::Result<Exit> {
    let access = match &command {
        LedgerCommand::Audit {
            command: audit::Command::Verify(args),
        } if args.public_key.is_none() => Access::Verify,
        LedgerCommand::Audit {
            command: audit::Command::Key,
        } => Access::Verify,
        LedgerCommand::Production { command } if production::writes(command) => Access::Write,
        LedgerCommand::Tool { command } if tool::writes(command) => Access::Write,
        LedgerCommand::Performer { command } if performer::writes(command) => Access::Write,
        LedgerCommand::Consent { command } if consent::writes(command) => Access::Write,
        LedgerCommand::Declare(_) | LedgerCommand::Approve(_) | LedgerCommand::Reject(_) => {
            Access::Write
        }
        LedgerCommand::Reassess(args) if args.apply => Access::Write,
        LedgerCommand::User { command } if account::user_writes(command) => Access::Write,
        LedgerCommand::Token { command } if account::token_writes(command) => Access::Write,
        LedgerCommand::Report(args) if report::writes(args) => Access::Write,
        _ => Access::Read,
    };
    let cx = Context::open(global, access).await?;
    let result = match command {
        LedgerCommand::Production { command } => production::run(&cx, command).await,
        LedgerCommand::Tool { command } => tool::run(&cx, command).await,
        LedgerCommand::Performer { command } => performer::run(&cx, command).await,
        LedgerCommand::Consent { command } => consent::run(&cx, command).await,
        LedgerCommand::Declare(args) => declare::run(&cx, args).await,
        LedgerCommand::Declaration { command } => declaration::run(&cx, command).await,
        LedgerCommand::Approve(args) => review::approve(&cx, args).await,
        LedgerCommand::Reject(args) => review::reject(&cx, args).await,
        LedgerCommand::Audit { command } => audit::run(&cx, command).await,
        LedgerCommand::Reassess(args) => reassess::run(&cx, args).await,
        LedgerCommand::Scans { command } => scans::run(&cx, command).await,
        LedgerCommand::Stamps { command } => stamps::run(&cx, command).await,
        LedgerCommand::User { command } => account::run_user(&cx, command).await,
        LedgerCommand::Token { command } => account::run_token(&cx, command).await,
        LedgerCommand::Report(args) => report::run(&cx, args).await,
    };
    cx.ledger.store().close().await;
    result
}

/// What a verb does with the ledger, which decides how the audit key is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads records: no key is needed.
    Read,
    /// Writes: the key signs the new entries, and is created on first use.
    Write,
    /// Verifies the log: the key must exist.
    Verify,
    /// Serves: writes as `Write` does (sign-ins, tokens), each change under the account
    /// that makes it, so no `--as` is needed.
    Serve,
}

/// An open ledger and who is acting.
pub struct Context {
    ledger: Ledger<dyn Store>,
    actor: Option<String>,
    key_path: PathBuf,
}

impl Context {
    /// Opens the ledger `--db` names, for a verb that needs `access`.
    pub(crate) async fn open(global: &Global, access: Access) -> anyhow::Result<Context> {
        let actor = global
            .actor
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or_else(os_user);
        if access == Access::Write && actor.is_none() {
            bail!("who is acting? pass --as PERSON or set GREENLIGHT_USER");
        }
        let target = match &global.db {
            Some(db) if !db.trim().is_empty() => db.clone(),
            _ => greenlight_store_sqlite::default_path()
                .to_string_lossy()
                .into_owned(),
        };
        let key_path = match &global.audit_key {
            Some(path) => path.clone(),
            None => greenlight_store_sqlite::default_path().with_file_name("audit.key"),
        };
        let postgres = target.starts_with("postgres://") || target.starts_with("postgresql://");
        if !postgres && same_file(Path::new(target.trim_start_matches("sqlite:")), &key_path) {
            bail!(
                "the audit key `{}` cannot be the ledger file itself: keep it outside the database",
                key_path.display()
            );
        }
        let store: Arc<dyn Store> = if postgres {
            Arc::new(PostgresStore::connect(&target).await?)
        } else {
            Arc::new(SqliteStore::open(&target).await?)
        };
        let key = load_key(&*store, &key_path, access).await?;
        Ok(Context {
            ledger: Ledger::new(store, Arc::new(SystemClock), key),
            actor,
            key_path,
        })
    }

    /// The open ledger, for a caller that keeps it (`serve`).
    pub(crate) fn into_ledger(self) -> Ledger<dyn Store> {
        self.ledger
    }

    /// The open ledger.
    pub(crate) fn ledger(&self) -> &Ledger<dyn Store> {
        &self.ledger
    }

    /// Who is acting; every change needs someone.
    pub(crate) fn actor(&self) -> anyhow::Result<&str> {
        match self.actor.as_deref() {
            Some(actor) => Ok(actor),
            None => bail!("who is acting? pass --as PERSON or set GREENLIGHT_USER"),
        }
    }
}

async fn load_key(store: &dyn Store, path: &Path, access: Access) -> anyhow::Result<AuditKey> {
    if access == Access::Verify {
        return Ok(AuditKey::load(path)?);
    }
    if access == Access::Read {
        if path.exists() {
            return Ok(AuditKey::load(path)?);
        }
        // Nothing is signed by a read: a throwaway key, never saved.
        return Ok(AuditKey::generate()?);
    }
    // A ledger is signed by one key: a write never mixes in another.
    let signer = store
        .checkpoint_page(None, 1)
        .await?
        .first()
        .map(|c| c.key_id.clone());
    if path.exists() {
        let key = AuditKey::load(path)?;
        if let Some(signer) = signer
            && signer != key.key_id()
        {
            bail!(
                "audit key `{}` is not the key that signs this ledger (key {signer}): \
                 point --audit-key (or GREENLIGHT_AUDIT_KEY) at that key",
                path.display()
            );
        }
        return Ok(key);
    }
    if let Some(signer) = signer {
        bail!(
            "audit key `{}` does not exist, and this ledger is signed by key {signer}: \
             point --audit-key (or GREENLIGHT_AUDIT_KEY) at that key",
            path.display()
        );
    }
    let key = AuditKey::load_or_create(path)?;
    eprintln!(
        "created audit key `{}`: it signs this ledger's audit log; keep it safe and outside the database",
        path.display()
    );
    Ok(key)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The operating system's name for the user running the command.
fn os_user() -> Option<String> {
    whoami::fallible::username()
        .ok()
        .into_iter()
        .chain(
            ["USER", "LOGNAME", "USERNAME"]
                .into_iter()
                .filter_map(|name| std::env::var(name).ok()),
        )
        .find(|name| !name.trim().is_empty())
}
