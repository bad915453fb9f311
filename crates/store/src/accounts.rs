//! Accounts: users with argon2id passwords, sign-in sessions, API tokens, and the sign-in
//! attempts that rate limiting counts. Every one is a ledger record, and every change to one
//! (a user created, a role changed, a sign-in, a sign-out, a token created or revoked) is an
//! audited write like any other.
//!
//! What is kept, and what never is:
//! - a password only as its argon2id PHC string (salted) in the [`User`] record. The record
//!   and its audit entries hold it, so that `audit verify` catches a hash swapped in the
//!   database; whatever serves users or audit entries leaves it out ([`User::redacted_body`],
//!   [`redact_secrets`]).
//! - a session's cookie and CSRF token, and an API token's secret, only as their sha256: the
//!   session and the token are stored under the sha256 of their secret, so a lookup is by
//!   hash, its timing says nothing of any stored secret, and the database (or the audit log)
//!   gives nobody a usable credential.
//!
//! A session lasts at most [`SESSION_LIFETIME`] from sign-in and ends after
//! [`SESSION_IDLE`] without use. Its last use, like a token's, is written at most once a
//! [`TOUCH_INTERVAL`]: a request within a minute of the last recorded use reads only.
//!
//! Sign-ins are limited per account and per address from the attempts recorded in the
//! ledger itself (no state in any one server): after [`MAX_FAILURES_PER_ACCOUNT`] failures
//! for one login, or [`MAX_FAILURES_PER_ADDRESS`] from one address, within
//! [`LOGIN_WINDOW`], a sign-in is refused until the oldest of them leaves the window.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, sha256_hex};
use crate::authz::{GlobalRole, Principal, TokenGrant, TokenRole};
use crate::backend::{Kind, Store};
use crate::error::{Result, Rule, StoreError};
use crate::ids::ProductionId;
use crate::ledger::{Ledger, MAX_PAGE};
use crate::records::{Page, Record};
use crate::time::Timestamp;

/// How long a session lasts from sign-in, whatever its use.
pub const SESSION_LIFETIME: TimeDelta = TimeDelta::hours(12);
/// A session unused this long has ended.
pub const SESSION_IDLE: TimeDelta = TimeDelta::hours(1);
/// The last use of a session or token is written at most this often.
pub const TOUCH_INTERVAL: TimeDelta = TimeDelta::minutes(1);
/// The window failed sign-ins are counted in.
pub const LOGIN_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failed sign-ins for one login within the window before sign-ins are refused.
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
/// Failed sign-ins from one address within the window before sign-ins are refused.
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// The prefix of every API token's secret.
pub const TOKEN_PREFIX: &str = "glt_";
/// What an API returns instead of a password hash.
pub const REDACTED: &str = "[redacted]";

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The login: the actor name every change the account makes records.
    pub login: String,
    /// The display name.
    pub name: String,
    /// The global roles (`admin`, `auditor`); production roles come from membership.
    pub roles: Vec<GlobalRole>,
    /// The password's argon2id PHC string. Never served: see [`User::redacted_body`].
    pub password_hash: String,
    /// A disabled account cannot sign in, and its sessions and tokens stop working.
    pub disabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
}

impl User {
    /// The record as JSON, with the password hash replaced by [`REDACTED`].
    pub fn redacted_body(&self) -> Result<String> {
        let mut user = self.clone();
        user.password_hash = REDACTED.to_owned();
        serde_json::to_string(&user).map_err(StoreError::other)
    }
}

impl Record for User {
    const KIND: Kind = Kind::User;
    fn key(&self) -> String {
        self.login.clone()
    }
    fn parent(&self) -> Option<String> {
        None
    }
}

/// An account to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// The login.
    pub login: String,
    /// The display name (the login when empty).
    pub name: String,
    /// The global roles.
    pub roles: Vec<GlobalRole>,
    /// The password (at least 12 characters); only its hash is kept.
    pub password: String,
}

/// A sign-in session, stored under the sha256 of its cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The sha256 of the cookie value, lowercase hex.
    pub id: String,
    /// The account.
    pub user_login: String,
    /// When it began.
    pub created_at: Timestamp,
    /// When it ends, however much it is used.
    pub expires_at: Timestamp,
    /// Its last recorded use (written at most once a minute).
    pub last_seen_at: Timestamp,
    /// How long it may go unused, in seconds.
    pub idle_seconds: i64,
    /// The sha256 of its CSRF token, lowercase hex.
    pub csrf_sha256: String,
    /// The address it signed in from.
    pub address: String,
    /// Set when it was ended (signed out, or the account disabled).
    pub revoked_at: Option<Timestamp>,
}

impl Session {
    /// Whether the session can be used at `now`.
    pub fn live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none()
            && now < self.expires_at
            && now
                < self
                    .last_seen_at
                    .plus(TimeDelta::seconds(self.idle_seconds))
    }

    /// Whether `token` is this session's CSRF token (compared as hashes, in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        constant_time_eq(
            sha256_hex(token.as_bytes()).as_bytes(),
            self.csrf_sha256.as_bytes(),
        )
    }
}

impl Record for Session {
    const KIND: Kind = Kind::Session;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn parent(&self) -> Option<String> {
        Some(self.user_login.clone())
    }
}

/// How a token was revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRevocation {
    /// When.
    pub at: Timestamp,
    /// Who revoked it.
    pub by: String,
}

/// An API token for a program, stored under the sha256 of its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// The sha256 of the secret, lowercase hex: the token's id.
    pub id: String,
    /// The account it acts for.
    pub user_login: String,
    /// What it is for, in words.
    pub name: String,
    /// The productions it may act on; empty: every production its user is a member of.
    pub productions: Vec<ProductionId>,
    /// The most it may do.
    pub role: TokenRole,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Set when revoked.
    pub revoked: Option<TokenRevocation>,
    /// Its last recorded use (written at most once a minute).
    pub last_used_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether the token can be used at `now`.
    pub fn live(&self, now: Timestamp) -> bool {
        self.revoked.is_none() && now < self.expires_at
    }
}

impl Record for ApiToken {
    const KIND: Kind = Kind::ApiToken;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn parent(&self) -> Option<String> {
        Some(self.user_login.clone())
    }
}

/// A token to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// The account it acts for.
    pub user_login: String,
    /// What it is for.
    pub name: String,
    /// The productions it may act on; empty: all of its user's.
    pub productions: Vec<ProductionId>,
    /// The most it may do.
    pub role: TokenRole,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// A token just created, with its secret: shown once, kept nowhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    /// The record.
    pub token: ApiToken,
    /// The secret (`glt_…`), to hand to the program that will use it.
    pub secret: String,
}

/// How a sign-in attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginOutcome {
    /// Signed in.
    Succeeded,
    /// Wrong login or password, or a disabled account.
    Failed,
    /// Refused unchecked: too many failures in the window.
    Throttled,
}

/// One sign-in attempt, kept for the audit and for rate limiting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAttempt {
    /// Its id (a UUIDv7 from the ledger's clock: ids sort by time).
    pub id: String,
    /// The login as typed.
    pub login: String,
    /// The address it came from.
    pub address: String,
    /// How it ended.
    pub outcome: LoginOutcome,
    /// When.
    pub at: Timestamp,
    /// For a sign-in through an OpenID provider: its issuer (absent for a password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    /// Why it was refused, in words, when the ledger was told (OIDC sign-ins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Record for LoginAttempt {
    const KIND: Kind = Kind::LoginAttempt;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn parent(&self) -> Option<String> {
        Some(self.login.clone())
    }
}

/// A session just begun, with its secrets: the cookie value and the CSRF token, each
/// handed to the browser once and kept only as a hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    /// The account.
    pub user: User,
    /// The session record.
    pub session: Session,
    /// The cookie value.
    pub cookie: String,
    /// The CSRF token unsafe requests must send back.
    pub csrf_token: String,
}

/// What a sign-in gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// Signed in.
    SignedIn(Box<SignedIn>),
    /// Wrong login or password, or a disabled account (the message says which only to the
    /// one who knows the password).
    Refused {
        /// Why, in words.
        message: String,
    },
    /// Too many failures: try again after this many seconds.
    Throttled {
        /// Seconds to wait.
        retry_after: u64,
        /// Why, in words.
        message: String,
    },
}

/// A signed-in session and its account, as a request presents it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionAuth {
    /// Who.
    pub principal: Principal,
    /// The session.
    pub session: Session,
}

/// The audit body of a record with its secrets taken out, for serving: a user's password
/// hash and an OIDC sign-in's PKCE verifier become [`REDACTED`]. Other records hold no secret and are returned as they are.
pub fn redact_secrets(kind: &str, body: &str) -> String {
    let field = if kind == Kind::User.as_str() {
        "password_hash"
    } else if kind == Kind::OidcRequest.as_str() {
        "pkce_verifier"
    } else {
        return body.to_owned();
    };
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            if let Some(secret) = value.get_mut(field) {
                *secret = serde_json::Value::String(REDACTED.to_owned());
            }
            serde_json::to_string(&value).unwrap_or_else(|_| REDACTED.to_owned())
        }
        Err(_) => REDACTED.to_owned(),
    }
}

impl AuditEntry {
    /// The entry with the secrets of its bodies taken out ([`redact_secrets`]), for serving.
    /// Its hash is the stored one: verify the chain on the server (`audit verify`).
    pub fn redacted(&self) -> AuditEntry {
        let mut entry = self.clone();
        entry.before = entry.before.map(|b| redact_secrets(&entry.kind, &b));
        entry.after = entry.after.map(|a| redact_secrets(&entry.kind, &a));
        entry
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes, base64url without padding.
pub(crate) fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| StoreError::Other(format!("no randomness: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A password of 24 random characters (letters and digits), for accounts created without one.
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 24];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| StoreError::Other(format!("no randomness: {e}")))?;
    // 256 is not a multiple of the alphabet's length: the tiny bias is harmless here.
    Ok(bytes
        .iter()
        .filter_map(|b| ALPHABET.get(usize::from(*b) % ALPHABET.len()))
        .map(|b| char::from(*b))
        .collect())
}

pub(crate) fn hash_password(password: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| StoreError::Other(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| StoreError::Other(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Other(format!("cannot hash the password: {e}")))
}

/// Verifies `password` against a PHC string; an unreadable hash verifies nothing.
fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// The hash an unknown login is checked against, so that it costs what a known one does.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_password("greenlight dummy password, never a real one").unwrap_or_default()
});

pub(crate) fn check_login(login: &str) -> Result<()> {
    let ok = !login.is_empty()
        && login.len() <= 64
        && login
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@+".contains(&b))
        && login
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            Rule::BadInput,
            format!(
                "login `{login}` is not valid: 1 to 64 lowercase letters, digits and `. _ - @ +`, starting with a letter or digit"
            ),
        ))
    }
}

fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if (12..=1024).contains(&chars) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            Rule::BadInput,
            format!("a password needs 12 to 1024 characters, not {chars}"),
        ))
    }
}

/// The UUIDv7 of a moment, with its random part zero: the least id of that millisecond.
fn v7_floor(at: Timestamp) -> String {
    let ms = u64::try_from(at.as_datetime().timestamp_millis()).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(ms, &[0u8; 10])
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// A UUIDv7 of a moment with a random part.
pub(crate) fn v7_at(at: Timestamp) -> Result<String> {
    let ms = u64::try_from(at.as_datetime().timestamp_millis()).unwrap_or_default();
    let mut random = [0u8; 10];
    getrandom::getrandom(&mut random)
        .map_err(|e| StoreError::Other(format!("no randomness: {e}")))?;
    Ok(uuid::Builder::from_unix_timestamp_millis(ms, &random)
        .into_uuid()
        .hyphenated()
        .to_string())
}

/// Seconds until the oldest of the failures that reach `limit` leaves the window, when they do.
pub(crate) fn throttle_wait(failures: &[Timestamp], limit: usize, now: Timestamp) -> Option<i64> {
    let oldest = failures
        .len()
        .checked_sub(limit)
        .and_then(|i| failures.get(i))?;
    Some(
        (oldest.plus(LOGIN_WINDOW).as_datetime() - now.as_datetime())
            .num_seconds()
            .max(1),
    )
}

/// The refusal of a throttled sign-in, waiting `seconds`.
pub(crate) fn throttled(seconds: i64, whom: &str) -> Login {
    let (retry_after, message) = throttle_message(seconds, whom);
    Login::Throttled {
        retry_after,
        message,
    }
}

/// The seconds to wait and the words of a throttled sign-in.
pub(crate) fn throttle_message(seconds: i64, whom: &str) -> (u64, String) {
    let minutes = (seconds + 59) / 60;
    (
        u64::try_from(seconds).unwrap_or(1),
        format!(
            "too many failed sign-ins {whom}: try again in {minutes} minute{} ({seconds} s)",
            if minutes == 1 { "" } else { "s" }
        ),
    )
}

pub(crate) fn unauthenticated(message: impl Into<String>) -> StoreError {
    StoreError::invalid(Rule::Unauthenticated, message)
}

impl<S: Store + ?Sized> Ledger<S> {
    // ----- users -------------------------------------------------------------

    /// Creates an account.
    pub async fn create_user(&self, actor: &str, new: NewUser) -> Result<User> {
        check_login(&new.login)?;
        check_password(&new.password)?;
        let password_hash = hash_password(&new.password)?;
        let mut roles = new.roles;
        roles.sort();
        roles.dedup();
        let mut w = self.begin(actor).await?;
        if w.load::<User>(&new.login).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "user `{}` already exists",
                new.login
            )));
        }
        let user = User {
            name: if new.name.trim().is_empty() {
                new.login.clone()
            } else {
                new.name
            },
            login: new.login,
            roles,
            password_hash,
            disabled: false,
            created_at: w.at,
            created_by: w.actor.clone(),
        };
        w.save(&user).await?;
        w.commit(self.key()).await?;
        Ok(user)
    }

    /// An account.
    pub async fn user(&self, login: &str) -> Result<User> {
        self.get(login).await
    }

    /// A page of accounts, by login.
    pub async fn users(&self, after: Option<&str>, limit: u32) -> Result<Page<User>> {
        self.page_of(None, after, limit).await
    }

    /// Whether the ledger has any account (the first `serve` creates one when not).
    pub async fn has_users(&self) -> Result<bool> {
        Ok(!self
            .store()
            .page(Kind::User, None, None, 1)
            .await?
            .is_empty())
    }

    /// Replaces an account's global roles.
    pub async fn set_user_roles(
        &self,
        actor: &str,
        login: &str,
        mut roles: Vec<GlobalRole>,
    ) -> Result<User> {
        roles.sort();
        roles.dedup();
        self.update(actor, login, |u: &mut User| u.roles = roles)
            .await
    }

    /// Disables or enables an account. Disabling stops its tokens while it is disabled and
    /// ends its live sessions for good, in the same transaction: enabling it again gives
    /// sign-in back, never a session that was open before.
    pub async fn set_user_disabled(
        &self,
        actor: &str,
        login: &str,
        disabled: bool,
    ) -> Result<User> {
        let mut w = self.begin(actor).await?;
        let mut user: User = w.must(login).await?;
        user.disabled = disabled;
        w.save(&user).await?;
        if disabled {
            let at = w.at;
            for mut session in w.children::<Session>(login).await? {
                if session.revoked_at.is_none() {
                    session.revoked_at = Some(at);
                    w.save(&session).await?;
                }
            }
        }
        w.commit(self.key()).await?;
        Ok(user)
    }

    /// Sets an account's password.
    pub async fn set_password(&self, actor: &str, login: &str, password: &str) -> Result<User> {
        check_password(password)?;
        let hash = hash_password(password)?;
        self.update(actor, login, |u: &mut User| u.password_hash = hash)
            .await
    }

    // ----- sign-in -------------------------------------------------------------

    /// Failed sign-ins within the window, for the login and for the address: the moments
    /// of each, oldest first.
    pub(crate) async fn recent_failures(
        &self,
        login: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<(Vec<Timestamp>, Vec<Timestamp>)> {
        let since = now.plus(-LOGIN_WINDOW);
        let floor = v7_floor(since);
        let mut by_login = Vec::new();
        let mut by_address = Vec::new();
        let mut after = floor.clone();
        loop {
            let rows = self
                .store()
                .page(Kind::LoginAttempt, None, Some(&after), MAX_PAGE)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            for row in rows {
                let attempt: LoginAttempt = crate::ledger::parse(row)?;
                if attempt.outcome != LoginOutcome::Failed || attempt.at <= since {
                    continue;
                }
                if attempt.login == login {
                    by_login.push(attempt.at);
                }
                if attempt.address == address {
                    by_address.push(attempt.at);
                }
            }
        }
        by_login.sort();
        by_address.sort();
        Ok((by_login, by_address))
    }

    /// Signs in with a login and password from `address`: a session, or why not. Every
    /// attempt is recorded (audited), and counted for rate limiting.
    pub async fn login(&self, login: &str, password: &str, address: &str) -> Result<Login> {
        let login = login.trim();
        if login.is_empty() || login.len() > 256 {
            return Err(StoreError::invalid(
                Rule::BadInput,
                "`login`: a login is 1 to 256 characters",
            ));
        }
        let now = self.now();
        let (by_login, by_address) = self.recent_failures(login, address, now).await?;
        let throttle = match (
            throttle_wait(&by_login, MAX_FAILURES_PER_ACCOUNT, now),
            throttle_wait(&by_address, MAX_FAILURES_PER_ADDRESS, now),
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let user = match self.store().get(Kind::User, login).await? {
            Some(row) => Some(crate::ledger::parse::<User>(row)?),
            None => None,
        };
        if let Some(seconds) = throttle {
            self.record_attempt(login, address, LoginOutcome::Throttled, None)
                .await?;
            return Ok(throttled(seconds, "for this account or from this address"));
        }
        let hash = user
            .as_ref()
            .map_or(DUMMY_HASH.as_str(), |u| u.password_hash.as_str());
        let verified = verify_password(password, hash) && user.is_some();
        let user = match user {
            Some(user) if verified && !user.disabled => user,
            Some(user) if verified => {
                self.record_attempt(login, address, LoginOutcome::Failed, None)
                    .await?;
                return Ok(Login::Refused {
                    message: format!("account `{}` is disabled", user.login),
                });
            }
            _ => {
                self.record_attempt(login, address, LoginOutcome::Failed, None)
                    .await?;
                return Ok(Login::Refused {
                    message: "wrong login or password".to_owned(),
                });
            }
        };
        let cookie = random_secret()?;
        let csrf_token = random_secret()?;
        let session = Session {
            id: sha256_hex(cookie.as_bytes()),
            user_login: user.login.clone(),
            created_at: now,
            expires_at: now.plus(SESSION_LIFETIME),
            last_seen_at: now,
            idle_seconds: SESSION_IDLE.num_seconds(),
            csrf_sha256: sha256_hex(csrf_token.as_bytes()),
            address: address.to_owned(),
            revoked_at: None,
        };
        let session = self
            .record_attempt(login, address, LoginOutcome::Succeeded, Some(session))
            .await?
            .ok_or_else(|| StoreError::Other("the session was not recorded".to_owned()))?;
        Ok(Login::SignedIn(Box::new(SignedIn {
            user,
            session,
            cookie,
            csrf_token,
        })))
    }

    /// Records a sign-in attempt, and the session it began, in one write.
    async fn record_attempt(
        &self,
        login: &str,
        address: &str,
        outcome: LoginOutcome,
        session: Option<Session>,
    ) -> Result<Option<Session>> {
        let mut w = self.begin(login).await?;
        let attempt = LoginAttempt {
            id: v7_at(w.at)?,
            login: login.to_owned(),
            address: address.to_owned(),
            outcome,
            at: w.at,
            oidc_issuer: None,
            reason: None,
        };
        w.save(&attempt).await?;
        if let Some(session) = &session {
            w.save(session).await?;
        }
        w.commit(self.key()).await?;
        Ok(session)
    }

    /// The session a cookie names, when it is live and its account enabled; its last use
    /// is recorded when the one on record is older than [`TOUCH_INTERVAL`].
    pub async fn session(&self, cookie: &str) -> Result<SessionAuth> {
        let id = sha256_hex(cookie.as_bytes());
        let refused = || unauthenticated("the session has ended: sign in again");
        let Some(row) = self.store().get(Kind::Session, &id).await? else {
            return Err(refused());
        };
        let session: Session = crate::ledger::parse(row)?;
        let now = self.now();
        if !session.live(now) {
            return Err(refused());
        }
        let user = self.user(&session.user_login).await?;
        if user.disabled {
            return Err(unauthenticated(format!(
                "account `{}` is disabled",
                user.login
            )));
        }
        let session = if session.last_seen_at.plus(TOUCH_INTERVAL) <= now {
            self.update(&user.login, &id, |s: &mut Session| s.last_seen_at = now)
                .await?
        } else {
            session
        };
        Ok(SessionAuth {
            principal: Principal::session(user.login, user.roles),
            session,
        })
    }

    /// Ends the session a cookie names (signing out); an ended one stays ended.
    pub async fn logout(&self, cookie: &str) -> Result<Session> {
        let id = sha256_hex(cookie.as_bytes());
        let Some(row) = self.store().get(Kind::Session, &id).await? else {
            return Err(unauthenticated("the session has ended: sign in again"));
        };
        let session: Session = crate::ledger::parse(row)?;
        if session.revoked_at.is_some() {
            return Ok(session);
        }
        let actor = session.user_login.clone();
        let now = self.now();
        self.update(&actor, &id, |s: &mut Session| s.revoked_at = Some(now))
            .await
    }

    // ----- API tokens ------------------------------------------------------------

    /// Creates an API token for an account; its secret is returned once and kept nowhere.
    /// A token with a global role needs an account holding it.
    pub async fn create_token(&self, actor: &str, new: NewToken) -> Result<IssuedToken> {
        if new.name.trim().is_empty() {
            return Err(StoreError::invalid(
                Rule::BadInput,
                "a token needs a name saying what it is for",
            ));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret()?);
        let mut w = self.begin(actor).await?;
        let user: User = w.must(&new.user_login).await?;
        if let TokenRole::Global(role) = new.role
            && !user.roles.contains(&role)
        {
            return Err(StoreError::invalid(
                Rule::BadInput,
                format!(
                    "`{}` is not `{role}`: a token cannot do more than its account",
                    user.login
                ),
            ));
        }
        if new.expires_at <= w.at {
            return Err(StoreError::invalid(
                Rule::BadInput,
                format!("the token expires in the past ({})", new.expires_at),
            ));
        }
        for production in &new.productions {
            let _: crate::records::Production = w.must(production).await?;
        }
        let token = ApiToken {
            id: sha256_hex(secret.as_bytes()),
            user_login: user.login,
            name: new.name,
            productions: new.productions,
            role: new.role,
            created_at: w.at,
            created_by: w.actor.clone(),
            expires_at: new.expires_at,
            revoked: None,
            last_used_at: None,
        };
        w.save(&token).await?;
        w.commit(self.key()).await?;
        Ok(IssuedToken { token, secret })
    }

    /// A token, by id.
    pub async fn token(&self, id: &str) -> Result<ApiToken> {
        self.get(id).await
    }

    /// Every token of an account, oldest id first.
    pub async fn tokens_of(&self, login: &str) -> Result<Vec<ApiToken>> {
        self.all_children(login).await
    }

    /// Revokes a token; a revoked token is refused from then on.
    pub async fn revoke_token(&self, actor: &str, id: &str) -> Result<ApiToken> {
        let mut w = self.begin(actor).await?;
        let mut token: ApiToken = w.must(id).await?;
        if token.revoked.is_some() {
            return Err(StoreError::invalid(
                Rule::AlreadyDone,
                format!("token `{id}` is already revoked"),
            ));
        }
        token.revoked = Some(TokenRevocation {
            at: w.at,
            by: w.actor.clone(),
        });
        w.save(&token).await?;
        w.commit(self.key()).await?;
        Ok(token)
    }

    /// Who a token's secret acts for, when it is live and its account enabled; its last use
    /// is recorded when the one on record is older than [`TOUCH_INTERVAL`].
    pub async fn authenticate_token(&self, secret: &str) -> Result<Principal> {
        let refused = || unauthenticated("the token is unknown, expired or revoked");
        if !secret.starts_with(TOKEN_PREFIX) {
            return Err(refused());
        }
        let id = sha256_hex(secret.as_bytes());
        let Some(row) = self.store().get(Kind::ApiToken, &id).await? else {
            return Err(refused());
        };
        let token: ApiToken = crate::ledger::parse(row)?;
        let now = self.now();
        if !token.live(now) {
            return Err(refused());
        }
        let user = self.user(&token.user_login).await?;
        if user.disabled {
            return Err(unauthenticated(format!(
                "account `{}` is disabled",
                user.login
            )));
        }
        if token
            .last_used_at
            .is_none_or(|last| last.plus(TOUCH_INTERVAL) <= now)
        {
            self.update(&user.login, &id, |t: &mut ApiToken| {
                t.last_used_at = Some(now)
            })
            .await?;
        }
        Ok(Principal {
            login: user.login,
            roles: user.roles,
            token: Some(TokenGrant {
                token_id: token.id,
                productions: token.productions,
                role: token.role,
            }),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_to_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn user_bodies_are_redacted() {
        let body = r#"{"login":"ana","password_hash":"$argon2id$v=19$secret"}"#;
        let redacted = redact_secrets("user", body);
        assert!(!redacted.contains("argon2"), "{redacted}");
        assert!(redacted.contains(REDACTED));
        assert_eq!(redact_secrets("tool", body), body);
    }

    #[test]
    fn logins_are_checked() {
        assert!(check_login("rae@studio.example").is_ok());
        assert!(check_login("Rae").is_err());
        assert!(check_login("").is_err());
        assert!(check_login(".dot").is_err());
    }

    #[test]
    fn v7_floors_sort_before_ids_of_the_same_moment() {
        let at: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        let floor = v7_floor(at);
        let id = v7_at(at).unwrap();
        assert!(floor <= id);
        assert!(v7_floor(at.plus(TimeDelta::milliseconds(1))) > id);
    }

    #[test]
    fn generated_secrets_differ_and_compare_in_constant_time() {
        assert_ne!(random_secret().unwrap(), random_secret().unwrap());
        assert_eq!(generate_password().unwrap().len(), 24);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
