//! Sign-in through an OpenID provider (a studio's Okta or Entra ID): the ledger's half.
//!
//! The protocol (discovery, the redirect, the code exchange, the ID token's signature,
//! issuer, audience, expiry and nonce) is the server's; the ledger keeps what must outlive
//! one request and be shared by every instance, and decides who the identity is:
//!
//! - a sign-in begun ([`OidcRequest`]) is stored under the sha256 of its `state`, with its
//!   nonce and PKCE verifier, for [`OIDC_REQUEST_LIFETIME`], and is used once: the callback
//!   takes it ([`Ledger::take_oidc_request`]) in one write that marks it used, so a replayed
//!   `state` is refused on any instance.
//! - an identity is its issuer and subject ([`OidcLink`], stored under the sha256 of the
//!   pair). Linking rule: an administrator creates the account first; the first sign-in whose
//!   ID token carries a *verified* email equal to an account's login links that account to
//!   the issuer and subject (an audited write), when the account has no identity at that
//!   issuer yet. From then on only the subject counts: an email changed at the provider
//!   neither moves the link nor takes another account. An identity with no link and no
//!   matching account is refused, unless the server provisions accounts (then a new account
//!   with no roles, named by the verified email). A disabled account cannot sign in.
//! - every sign-in, refused or not, is a [`LoginAttempt`] (audited) naming the issuer and,
//!   when refused, why. The per-address limit of password sign-ins applies to OIDC
//!   sign-ins too, counted over both; the per-account limit does not, since no password is
//!   guessed (a password attacker could otherwise lock a user out of their provider).

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::accounts::{
    LoginAttempt, LoginOutcome, SESSION_IDLE, SESSION_LIFETIME, Session, SignedIn, User,
    check_login, generate_password, hash_password, random_secret, throttle_message, throttle_wait,
    throttled, unauthenticated, v7_at,
};
use crate::audit::sha256_hex;
use crate::backend::{Kind, Store};
use crate::error::{Result, Rule, StoreError};
use crate::ledger::{Ledger, Writer};
use crate::records::Record;
use crate::time::Timestamp;
use crate::{Login, MAX_FAILURES_PER_ADDRESS};

/// How long a sign-in begun at a provider may take to come back.
pub const OIDC_REQUEST_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// The actor of the writes made before anyone is known (a sign-in begun or refused).
pub const OIDC_ACTOR: &str = "oidc";

/// A sign-in begun at a provider, stored under the sha256 of its `state`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcRequest {
    /// The sha256 of the `state` sent to the provider, lowercase hex.
    pub id: String,
    /// The provider's issuer.
    pub issuer: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier the code is redeemed with (redacted when served).
    pub pkce_verifier: String,
    /// The address it began from.
    pub address: String,
    /// When it began.
    pub created_at: Timestamp,
    /// When it can no longer be completed.
    pub expires_at: Timestamp,
    /// When the callback took it; a request is taken once.
    pub used_at: Option<Timestamp>,
}

impl Record for OidcRequest {
    const KIND: Kind = Kind::OidcRequest;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn parent(&self) -> Option<String> {
        None
    }
}

/// A sign-in to begin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOidcRequest {
    /// The `state` sent to the provider (kept only as its sha256).
    pub state: String,
    /// The provider's issuer.
    pub issuer: String,
    /// The nonce.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
    /// The address it comes from.
    pub address: String,
}

/// What beginning a sign-in gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OidcStart {
    /// Begun: send the browser to the provider.
    Begun(Box<OidcRequest>),
    /// Too many failed sign-ins from this address.
    Throttled {
        /// Seconds to wait.
        retry_after: u64,
        /// Why, in words.
        message: String,
    },
}

/// An OIDC identity linked to an account, stored under [`OidcLink::id_of`] its pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcLink {
    /// The sha256 of the issuer and subject.
    pub id: String,
    /// The provider's issuer.
    pub issuer: String,
    /// The subject (`sub`): the provider's stable id of the person.
    pub subject: String,
    /// The account.
    pub user_login: String,
    /// The verified email that made the link.
    pub email: Option<String>,
    /// When it was made.
    pub created_at: Timestamp,
}

impl OidcLink {
    /// The key of an issuer and subject.
    pub fn id_of(issuer: &str, subject: &str) -> String {
        let mut text = String::with_capacity(issuer.len() + subject.len() + 1);
        text.push_str(issuer);
        text.push('\n');
        text.push_str(subject);
        sha256_hex(text.as_bytes())
    }
}

impl Record for OidcLink {
    const KIND: Kind = Kind::OidcLink;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn parent(&self) -> Option<String> {
        Some(self.user_login.clone())
    }
}

/// Who a verified ID token says signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcIdentity {
    /// The issuer (checked against the configured one).
    pub issuer: String,
    /// The subject.
    pub subject: String,
    /// The email claim, if any.
    pub email: Option<String>,
    /// Whether the provider says it verified the email (`email_verified`).
    pub email_verified: bool,
    /// The name claim, for a provisioned account.
    pub name: Option<String>,
}

impl OidcIdentity {
    /// The login a sign-in by this identity is counted under before it is linked.
    fn attempt_login(&self) -> String {
        format!("oidc:{}", self.subject)
    }
}

impl<S: Store + ?Sized> Ledger<S> {
    async fn address_throttle(&self, address: &str) -> Result<Option<i64>> {
        let now = self.now();
        // The login is one no attempt is recorded under: only the address counts.
        let (_, by_address) = self.recent_failures("\n", address, now).await?;
        Ok(throttle_wait(&by_address, MAX_FAILURES_PER_ADDRESS, now))
    }

    /// Begins a sign-in at a provider: stores the request (audited), unless the address has
    /// failed too often.
    pub async fn begin_oidc(&self, new: NewOidcRequest) -> Result<OidcStart> {
        if new.state.len() < 16 || new.nonce.len() < 16 || new.pkce_verifier.len() < 43 {
            return Err(StoreError::invalid(
                Rule::BadInput,
                "an OIDC sign-in needs a state and nonce of at least 16 characters and a PKCE verifier of at least 43",
            ));
        }
        if let Some(seconds) = self.address_throttle(&new.address).await? {
            self.oidc_failure(
                OIDC_ACTOR,
                &new.address,
                &new.issuer,
                LoginOutcome::Throttled,
                "too many failed sign-ins from this address",
            )
            .await?;
            let (retry_after, message) = throttle_message(seconds, "from this address");
            return Ok(OidcStart::Throttled {
                retry_after,
                message,
            });
        }
        let mut w = self.begin(OIDC_ACTOR).await?;
        let request = OidcRequest {
            id: sha256_hex(new.state.as_bytes()),
            issuer: new.issuer,
            nonce: new.nonce,
            pkce_verifier: new.pkce_verifier,
            address: new.address,
            created_at: w.at,
            expires_at: w.at.plus(OIDC_REQUEST_LIFETIME),
            used_at: None,
        };
        if w.load::<OidcRequest>(&request.id).await?.is_some() {
            return Err(StoreError::Conflict(
                "this sign-in was already begun".to_owned(),
            ));
        }
        w.save(&request).await?;
        w.commit(self.key()).await?;
        Ok(OidcStart::Begun(Box::new(request)))
    }

    /// Takes the sign-in a callback's `state` names, once: unknown, expired or already used
    /// is refused (and recorded as a failed sign-in).
    pub async fn take_oidc_request(
        &self,
        state: &str,
        issuer: &str,
        address: &str,
    ) -> Result<OidcRequest> {
        let id = sha256_hex(state.as_bytes());
        let mut w = self.begin(OIDC_ACTOR).await?;
        let refusal = match w.load::<OidcRequest>(&id).await? {
            None => "the sign-in is unknown (its `state` was never issued here)",
            Some(request) if request.used_at.is_some() => {
                "the sign-in was already completed (its `state` is used once)"
            }
            Some(request) if request.expires_at <= w.at => "the sign-in took too long: begin again",
            Some(request) if request.issuer != issuer => {
                "the sign-in was begun at another provider"
            }
            Some(mut request) => {
                request.used_at = Some(w.at);
                w.save(&request).await?;
                w.commit(self.key()).await?;
                return Ok(request);
            }
        };
        drop(w);
        self.oidc_failure(OIDC_ACTOR, address, issuer, LoginOutcome::Failed, refusal)
            .await?;
        Err(unauthenticated(refusal))
    }

    /// Records a refused OIDC sign-in (a token that did not verify, a provider's error): an
    /// audited failed attempt from `address`, counted by the per-address limit.
    pub async fn record_oidc_failure(
        &self,
        address: &str,
        issuer: &str,
        reason: &str,
    ) -> Result<()> {
        self.oidc_failure(OIDC_ACTOR, address, issuer, LoginOutcome::Failed, reason)
            .await
    }

    async fn oidc_failure(
        &self,
        login: &str,
        address: &str,
        issuer: &str,
        outcome: LoginOutcome,
        reason: &str,
    ) -> Result<()> {
        let mut w = self.begin(login).await?;
        save_attempt(&mut w, login, address, issuer, outcome, Some(reason)).await?;
        w.commit(self.key()).await
    }

    /// Signs in the account an identity (from a verified ID token) is linked to, linking it
    /// first when the rule allows (see the module's doc); `provision` creates an account
    /// with no roles for a verified email no account has. Every outcome is recorded.
    pub async fn oidc_sign_in(
        &self,
        identity: &OidcIdentity,
        address: &str,
        provision: bool,
    ) -> Result<Login> {
        if identity.subject.is_empty() || identity.subject.len() > 255 {
            return Err(StoreError::invalid(
                Rule::BadInput,
                "the ID token's `sub` is 1 to 255 characters",
            ));
        }
        if let Some(seconds) = self.address_throttle(address).await? {
            self.oidc_failure(
                &identity.attempt_login(),
                address,
                &identity.issuer,
                LoginOutcome::Throttled,
                "too many failed sign-ins from this address",
            )
            .await?;
            return Ok(throttled(seconds, "from this address"));
        }
        // A provisioned account's password is random and shown to nobody: it signs in
        // through its provider (or an administrator sets a password).
        let provisional_hash = if provision {
            Some(hash_password(&generate_password()?)?)
        } else {
            None
        };
        let link_id = OidcLink::id_of(&identity.issuer, &identity.subject);
        let mut w = self.begin(&identity.attempt_login()).await?;
        let user = match w.load::<OidcLink>(&link_id).await? {
            Some(link) => Ok(w.must::<User>(&link.user_login).await?),
            None => {
                self.link(&mut w, identity, link_id, provisional_hash)
                    .await?
            }
        };
        let user = match user {
            Ok(user) if user.disabled => Err(format!("account `{}` is disabled", user.login)),
            other => other,
        };
        let user = match user {
            Ok(user) => user,
            Err(reason) => {
                save_attempt(
                    &mut w,
                    &identity.attempt_login(),
                    address,
                    &identity.issuer,
                    LoginOutcome::Failed,
                    Some(&reason),
                )
                .await?;
                w.commit(self.key()).await?;
                return Ok(Login::Refused { message: reason });
            }
        };
        let cookie = random_secret()?;
        let csrf_token = random_secret()?;
        let session = Session {
            id: sha256_hex(cookie.as_bytes()),
            user_login: user.login.clone(),
            created_at: w.at,
            expires_at: w.at.plus(SESSION_LIFETIME),
            last_seen_at: w.at,
            idle_seconds: SESSION_IDLE.num_seconds(),
            csrf_sha256: sha256_hex(csrf_token.as_bytes()),
            address: address.to_owned(),
            revoked_at: None,
        };
        save_attempt(
            &mut w,
            &user.login,
            address,
            &identity.issuer,
            LoginOutcome::Succeeded,
            None,
        )
        .await?;
        w.save(&session).await?;
        w.commit(self.key()).await?;
        Ok(Login::SignedIn(Box::new(SignedIn {
            user,
            session,
            cookie,
            csrf_token,
        })))
    }

    /// Links an identity with no link yet to the account its verified email names (or a new
    /// one, provisioning), in the sign-in's write; `Err` says why not, in words.
    async fn link(
        &self,
        w: &mut Writer,
        identity: &OidcIdentity,
        link_id: String,
        provisional_hash: Option<String>,
    ) -> Result<std::result::Result<User, String>> {
        let unknown = "no greenlight account is linked to this identity: an administrator creates the account (its login the email your provider verified) first";
        let email = match (&identity.email, identity.email_verified) {
            (Some(email), true) => email.trim().to_lowercase(),
            (Some(_), false) => {
                return Ok(Err(format!(
                    "{unknown}; the provider did not say the email is verified (`email_verified`; for Entra ID, the optional claim `xms_edov`)"
                )));
            }
            (None, _) => {
                return Ok(Err(format!("{unknown}; the provider gave no email")));
            }
        };
        let user = match (w.load::<User>(&email).await?, provisional_hash) {
            (Some(user), _) => user,
            (None, Some(password_hash)) if check_login(&email).is_ok() => {
                let user = User {
                    login: email.clone(),
                    name: identity
                        .name
                        .clone()
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| email.clone()),
                    roles: Vec::new(),
                    password_hash,
                    disabled: false,
                    created_at: w.at,
                    created_by: w.actor.clone(),
                };
                w.save(&user).await?;
                user
            }
            (None, _) => return Ok(Err(unknown.to_owned())),
        };
        if user.disabled {
            return Ok(Err(format!("account `{}` is disabled", user.login)));
        }
        let links = w.children::<OidcLink>(&user.login).await?;
        if links.iter().any(|l| l.issuer == identity.issuer) {
            return Ok(Err(format!(
                "account `{}` is linked to another identity at this provider",
                user.login
            )));
        }
        let link = OidcLink {
            id: link_id,
            issuer: identity.issuer.clone(),
            subject: identity.subject.clone(),
            user_login: user.login.clone(),
            email: Some(email),
            created_at: w.at,
        };
        w.save(&link).await?;
        Ok(Ok(user))
    }

    /// The OIDC identities linked to an account.
    pub async fn oidc_links_of(&self, login: &str) -> Result<Vec<OidcLink>> {
        self.all_children(login).await
    }

    /// A sign-in begun, by the sha256 of its state.
    pub async fn oidc_request(&self, id: &str) -> Result<OidcRequest> {
        self.get(id).await
    }
}

async fn save_attempt(
    w: &mut Writer,
    login: &str,
    address: &str,
    issuer: &str,
    outcome: LoginOutcome,
    reason: Option<&str>,
) -> Result<()> {
    let attempt = LoginAttempt {
        id: v7_at(w.at)?,
        login: login.to_owned(),
        address: address.to_owned(),
        outcome,
        at: w.at,
        oidc_issuer: Some(issuer.to_owned()),
        reason: reason.map(str::to_owned),
    };
    w.save(&attempt).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_ids_separate_issuer_and_subject() {
        assert_ne!(OidcLink::id_of("a", "bc"), OidcLink::id_of("ab", "c"));
        assert_eq!(OidcLink::id_of("a", "b").len(), 64);
    }
}
