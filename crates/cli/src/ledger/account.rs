//! `greenlight user create|list` and `greenlight token create|list|revoke`: the accounts
//! `greenlight serve` signs people and programs in with. A generated password and a token's
//! secret are printed once and kept nowhere.

use std::io::{BufRead as _, Write};

use anyhow::{Context as _, bail};
use chrono::TimeDelta;
use clap::Subcommand;
use greenlight_store::{
    ApiToken, GlobalRole, MAX_PAGE, NewToken, NewUser, TokenRole, User, generate_password,
};
use serde::Serialize;

use super::Context;
use super::common::{self, Output, json_line, table};
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; without --password-stdin a password is generated and printed once.
    Create {
        /// The login (lowercase letters, digits and `. _ - @ +`).
        login: String,
        /// The display name (default: the login).
        #[arg(long, default_value = "")]
        name: String,
        /// An administrator: users, tokens, registries and packs.
        #[arg(long)]
        admin: bool,
        /// An auditor: reads everything, changes nothing.
        #[arg(long)]
        auditor: bool,
        /// Read the password from the first line of standard input.
        #[arg(long = "password-stdin")]
        password_stdin: bool,
        #[command(flatten)]
        output: Output,
    },
    /// List accounts (never their passwords).
    List {
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an account; its secret is printed once.
    Create {
        /// The account it acts for.
        #[arg(long)]
        user: String,
        /// What it is for.
        #[arg(long)]
        name: String,
        /// A production it may act on (id or exact title); repeat for more. Default: every
        /// production of its account.
        #[arg(long = "production", value_name = "PRODUCTION")]
        productions: Vec<String>,
        /// The most it may do: `admin`, `auditor`, or a production role (`vendor`,
        /// `post_supervisor`, `reviewer`, …).
        #[arg(long, value_parser = parse_role)]
        role: TokenRole,
        /// How many days it works.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=366))]
        expires: u32,
        #[command(flatten)]
        output: Output,
    },
    /// List an account's tokens (never their secrets).
    List {
        /// The account.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        output: Output,
    },
    /// Revoke a token: it is refused from then on.
    Revoke {
        /// The token's id.
        id: String,
        #[command(flatten)]
        output: Output,
    },
}

fn parse_role(text: &str) -> Result<TokenRole, String> {
    text.parse()
}

pub fn user_writes(command: &UserCommand) -> bool {
    matches!(command, UserCommand::Create { .. })
}

pub fn token_writes(command: &TokenCommand) -> bool {
    !matches!(command, TokenCommand::List { .. })
}

/// An account as printed: never its password hash.
#[derive(Serialize)]
struct UserLine<'a> {
    login: &'a str,
    name: &'a str,
    roles: &'a [GlobalRole],
    disabled: bool,
    created_at: String,
    created_by: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
}

impl<'a> UserLine<'a> {
    fn of(user: &'a User, password: Option<&'a str>) -> Self {
        UserLine {
            login: &user.login,
            name: &user.name,
            roles: &user.roles,
            disabled: user.disabled,
            created_at: user.created_at.to_string(),
            created_by: &user.created_by,
            password,
        }
    }
}

#[derive(Serialize)]
struct IssuedLine<'a> {
    #[serde(flatten)]
    token: &'a ApiToken,
    secret: &'a str,
}

fn roles_text(roles: &[GlobalRole]) -> String {
    if roles.is_empty() {
        "-".to_owned()
    } else {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

pub async fn run_user(cx: &Context, command: UserCommand) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    match command {
        UserCommand::Create {
            login,
            name,
            admin,
            auditor,
            password_stdin,
            output,
        } => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                let line = line.trim_end_matches(['\n', '\r']).to_owned();
                if line.is_empty() {
                    bail!("--password-stdin: standard input has no password on its first line");
                }
                (line, false)
            } else {
                (generate_password()?, true)
            };
            let mut roles = Vec::new();
            if admin {
                roles.push(GlobalRole::Admin);
            }
            if auditor {
                roles.push(GlobalRole::Auditor);
            }
            let user = cx
                .ledger
                .create_user(
                    cx.actor()?,
                    NewUser {
                        login,
                        name,
                        roles,
                        password: password.clone(),
                    },
                )
                .await?;
            let shown = generated.then_some(password.as_str());
            if output.json() {
                json_line(&mut out, &UserLine::of(&user, shown))?;
            } else {
                writeln!(
                    out,
                    "created user {} ({}), roles: {}",
                    user.login,
                    user.name,
                    roles_text(&user.roles)
                )?;
                if let Some(password) = shown {
                    writeln!(out, "password (shown once, kept nowhere): {password}")?;
                }
            }
        }
        UserCommand::List { output } => {
            let mut users = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = cx.ledger.users(after.as_deref(), MAX_PAGE).await?;
                users.extend(page.items);
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            if output.json() {
                for user in &users {
                    json_line(&mut out, &UserLine::of(user, None))?;
                }
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.login.clone(),
                            roles_text(&u.roles),
                            if u.disabled { "disabled" } else { "active" }.to_owned(),
                            u.name.clone(),
                        ]
                    })
                    .collect();
                table(&mut out, &["LOGIN", "ROLES", "STATE", "NAME"], &rows)?;
            }
        }
    }
    Ok(Exit::Notify)
}

pub async fn run_token(cx: &Context, command: TokenCommand) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    match command {
        TokenCommand::Create {
            user,
            name,
            productions,
            role,
            expires,
            output,
        } => {
            let mut ids = Vec::new();
            for production in &productions {
                ids.push(common::production(&cx.ledger, production).await?.id);
            }
            let expires_at = cx.ledger.now().plus(TimeDelta::days(i64::from(expires)));
            let issued = cx
                .ledger
                .create_token(
                    cx.actor()?,
                    NewToken {
                        user_login: user,
                        name,
                        productions: ids,
                        role,
                        expires_at,
                    },
                )
                .await?;
            if output.json() {
                json_line(
                    &mut out,
                    &IssuedLine {
                        token: &issued.token,
                        secret: &issued.secret,
                    },
                )?;
            } else {
                writeln!(
                    out,
                    "created token {} for {} as {}, until {}",
                    issued.token.id,
                    issued.token.user_login,
                    issued.token.role,
                    issued.token.expires_at
                )?;
                writeln!(out, "secret (shown once, kept nowhere): {}", issued.secret)?;
                writeln!(
                    out,
                    "use it as: curl -H 'Authorization: Bearer {}' …/api/v1/me",
                    issued.secret
                )?;
            }
        }
        TokenCommand::List { user, output } => {
            let tokens = cx.ledger.tokens_of(&user).await?;
            if output.json() {
                for token in &tokens {
                    json_line(&mut out, token)?;
                }
            } else {
                let now = cx.ledger.now();
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        let state = if t.revoked.is_some() {
                            "revoked"
                        } else if t.live(now) {
                            "live"
                        } else {
                            "expired"
                        };
                        vec![
                            t.id.clone(),
                            t.role.to_string(),
                            state.to_owned(),
                            t.expires_at.to_string(),
                            t.name.clone(),
                        ]
                    })
                    .collect();
                table(&mut out, &["ID", "ROLE", "STATE", "EXPIRES", "NAME"], &rows)?;
            }
        }
        TokenCommand::Revoke { id, output } => {
            let token = cx.ledger.revoke_token(cx.actor()?, id.trim()).await?;
            if output.json() {
                json_line(&mut out, &token)?;
            } else {
                writeln!(out, "revoked token {} of {}", token.id, token.user_login)?;
            }
        }
    }
    Ok(Exit::Notify)
}
