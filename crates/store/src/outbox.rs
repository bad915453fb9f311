//! The outbox: notifications (e-mail and webhooks) waiting to be delivered, kept in the
//! ledger's database beside the records whose change caused them.
//!
//! A change that notifies ([`Ledger::submit_declaration`], [`Ledger::review`],
//! [`Ledger::revoke_consent`], …) enqueues one [`OutboxRow`] per channel and recipient in the
//! same transaction as the change, so a notification is never lost to a crash and never sent
//! for a change that did not commit. A delivery worker claims due rows with a lease
//! ([`Ledger::claim_outbox`]; any number of workers share one database), delivers them and
//! settles each ([`Ledger::settle_outbox`]): sent, retried later, or failed with the last
//! error. Rows are delivery state, not records: they are not in the audit log (the change
//! that caused them is) and are never deleted.
//!
//! An event says what happened and to which records, by id and title; it never holds media,
//! a declaration's text or a secret.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::ledger::{Ledger, Writer};
use greenlight_core::Level;

use crate::Store;
use crate::changes::ChangeRequest;
use crate::error::Rule;
use crate::gate::ApprovalState;
use crate::ledger::{MAX_PAGE, Submission, approval_state};
use crate::records::{
    Approval, Consent, ConsentStatus, DeclarationVersion, Performer, Production, Role,
    StoredDecision, StoredDeclaration, Verdict,
};
use crate::time::Timestamp;

/// What happened, as a notification tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A declaration (or a new version) was submitted and needs no review.
    Submitted,
    /// A submitted declaration escalated: it waits for a reviewer.
    Escalated,
    /// A reviewer approved or rejected a declaration.
    Decided,
    /// A consent was revoked (and the decisions that relied on it turned to blocked).
    Revoked,
    /// An approval or consent is near its expiry.
    Expiring,
    /// A reviewer asked for changes to a declaration: it waits for a new version.
    ChangesRequested,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 6] = [
        Event::Submitted,
        Event::Escalated,
        Event::Decided,
        Event::Revoked,
        Event::Expiring,
        Event::ChangesRequested,
    ];

    /// The event's name, as rows and payloads write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Submitted => "submitted",
            Event::Escalated => "escalated",
            Event::Decided => "decided",
            Event::Revoked => "revoked",
            Event::Expiring => "expiring",
            Event::ChangesRequested => "changes_requested",
        }
    }
}

/// How a notification travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An e-mail to one person.
    Email,
    /// A signed POST to the configured webhook.
    Webhook,
}

impl Channel {
    /// The channel's name, as rows write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// Where an outbox row stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Not yet delivered: due at `next_at` (again, after a failed attempt).
    Pending,
    /// Delivered.
    Sent,
    /// Given up after the last attempt; `last_error` says why.
    Failed,
}

impl OutboxStatus {
    /// The status's name, as rows write it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }
}

macro_rules! from_str_of {
    ($ty:ty, $what:literal, [$($variant:expr),+]) => {
        impl FromStr for $ty {
            type Err = StoreError;
            fn from_str(text: &str) -> Result<Self> {
                [$($variant),+]
                    .into_iter()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| StoreError::Other(format!(concat!("unknown ", $what, " `{}`"), text)))
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

from_str_of!(
    Event,
    "outbox event",
    [
        Event::Submitted,
        Event::Escalated,
        Event::Decided,
        Event::Revoked,
        Event::Expiring,
        Event::ChangesRequested
    ]
);
from_str_of!(
    Channel,
    "outbox channel",
    [Channel::Email, Channel::Webhook]
);
from_str_of!(
    OutboxStatus,
    "outbox status",
    [
        OutboxStatus::Pending,
        OutboxStatus::Sent,
        OutboxStatus::Failed
    ]
);

/// The channels a ledger enqueues notifications for: those the server delivers. A ledger
/// with none (the default, and the CLI's) enqueues nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxChannels {
    /// Enqueue e-mail to the people concerned who have an address.
    pub email: bool,
    /// Enqueue one webhook call per event.
    pub webhook: bool,
}

impl OutboxChannels {
    /// Whether any channel is on.
    pub fn any(self) -> bool {
        self.email || self.webhook
    }
}

/// A record an event names, by id and (when it has one) title.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    /// The record's id.
    pub id: String,
    /// Its title or name, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// What a notification says: the event and the records it concerns, by id. The body of a
/// webhook call and the facts of an e-mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// The event's id: the same in every row the event enqueued (a receiver's idempotency key).
    pub id: String,
    /// What happened.
    pub event: Event,
    /// When.
    pub at: Timestamp,
    /// Who did it.
    pub actor: String,
    /// The production concerned.
    pub production: EventRef,
    /// The declaration concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration: Option<EventRef>,
    /// The declaration's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The decision's level (`allow`, `notify`, `escalate`, `blocked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// For `decided`: `approved` or `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// For `revoked`: the consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<EventRef>,
    /// For `revoked`: the declarations whose decisions turned to blocked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<String>,
    /// For `changes_requested`: what the reviewer asks to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For `expiring`: when it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// One line for people.
    pub summary: String,
}

/// One notification to deliver: an event on one channel to one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    /// The row's id (sorts in creation order).
    pub id: String,
    /// The event's id ([`OutboxEvent::id`]).
    pub event_id: String,
    /// What happened.
    pub event: Event,
    /// How it travels.
    pub channel: Channel,
    /// The e-mail address, or `webhook`.
    pub recipient: String,
    /// The production concerned.
    pub production_id: String,
    /// The event, as JSON ([`OutboxEvent`]).
    pub body: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Delivery attempts made.
    pub attempts: u32,
    /// When it is (next) due.
    pub next_at: Timestamp,
    /// When it was enqueued.
    pub created_at: Timestamp,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub sent_at: Option<Timestamp>,
}

/// An outbox row's columns as a backend selects them ([`OUTBOX_COLUMNS`]).
pub type OutboxColumns = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
);

/// The columns a backend selects for an [`OutboxRow`], in [`OutboxColumns`]' order.
pub const OUTBOX_COLUMNS: &str = "id, event_id, event, channel, recipient, production_id, body, \
     status, attempts, next_at, created_at, last_error, sent_at";

impl TryFrom<OutboxColumns> for OutboxRow {
    type Error = StoreError;

    fn try_from(
        (
            id,
            event_id,
            event,
            channel,
            recipient,
            production_id,
            body,
            status,
            attempts,
            next_at,
            created_at,
            last_error,
            sent_at,
        ): OutboxColumns,
    ) -> Result<OutboxRow> {
        Ok(OutboxRow {
            id,
            event_id,
            event: event.parse()?,
            channel: channel.parse()?,
            recipient,
            production_id,
            body,
            status: status.parse()?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            next_at: from_millis(next_at)?,
            created_at: created_at.parse()?,
            last_error,
            sent_at: sent_at.map(|s| s.parse()).transpose()?,
        })
    }
}

/// An instant as the outbox's due column keeps it: milliseconds since 1970 (UTC).
pub fn millis(at: Timestamp) -> i64 {
    at.as_datetime().timestamp_millis()
}

fn from_millis(ms: i64) -> Result<Timestamp> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(Timestamp::from_datetime)
        .ok_or_else(|| StoreError::Other(format!("bad outbox time `{ms}`")))
}

/// A claim on due outbox rows: the rows, and the lease that settles them.
#[derive(Clone, Debug)]
pub struct OutboxClaim {
    /// The lease's id: only its holder settles the rows, until it runs out.
    pub lease: String,
    /// The rows claimed, oldest due first.
    pub rows: Vec<OutboxRow>,
}

/// How a delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settle {
    /// Delivered.
    Sent,
    /// Failed; try again at this time.
    Retry {
        /// When it is due again.
        at: Timestamp,
        /// The attempt's error.
        error: String,
    },
    /// Failed for the last time.
    Failed {
        /// The attempt's error.
        error: String,
    },
}

/// An outbox row's change as a backend writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettleRow {
    /// The new status.
    pub status: OutboxStatus,
    /// Attempts made, this one included.
    pub attempts: u32,
    /// When it is due next (unchanged unless retried).
    pub next_at: i64,
    /// The attempt's error, if it failed.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub sent_at: Option<String>,
}

/// The longest error kept on a row, in bytes.
const MAX_ERROR: usize = 1_000;

/// Whether `text` can be an e-mail address to send to: one `@` with something either side, no
/// white space or control character, at most 254 bytes. (The mailer parses it again.)
pub fn looks_like_address(text: &str) -> bool {
    let mut parts = text.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && text.len() <= 254
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}

impl Writer {
    /// Enqueues `event` on every channel on: the webhook once, an e-mail to each recipient
    /// with an address (each once).
    pub(crate) async fn notify(
        &mut self,
        channels: OutboxChannels,
        event: OutboxEvent,
        recipients: Vec<String>,
    ) -> Result<()> {
        if !channels.any() {
            return Ok(());
        }
        let body = serde_json::to_string(&event).map_err(StoreError::other)?;
        let mut targets: Vec<(Channel, String)> = Vec::new();
        if channels.webhook {
            targets.push((Channel::Webhook, "webhook".to_owned()));
        }
        if channels.email {
            let mut seen = std::collections::BTreeSet::new();
            for person in recipients {
                let address = person.trim().to_ascii_lowercase();
                if looks_like_address(&address) && seen.insert(address.clone()) {
                    targets.push((Channel::Email, address));
                }
            }
        }
        let rows: Vec<OutboxRow> = targets
            .into_iter()
            .map(|(channel, recipient)| OutboxRow {
                id: uuid::Uuid::now_v7().to_string(),
                event_id: event.id.clone(),
                event: event.event,
                channel,
                recipient,
                production_id: event.production.id.clone(),
                body: body.clone(),
                status: OutboxStatus::Pending,
                attempts: 0,
                next_at: self.at,
                created_at: self.at,
                last_error: None,
                sent_at: None,
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        self.tx.enqueue(&rows).await
    }

    /// A new event of this write about `production`.
    pub(crate) fn event(
        &self,
        event: Event,
        production: &Production,
        summary: String,
    ) -> OutboxEvent {
        OutboxEvent {
            id: uuid::Uuid::now_v7().to_string(),
            event,
            at: self.at,
            actor: self.actor.clone(),
            production: EventRef {
                id: production.id.to_string(),
                title: Some(production.title.clone()),
            },
            declaration: None,
            version: None,
            level: None,
            verdict: None,
            consent: None,
            blocked: Vec::new(),
            note: None,
            expires_at: None,
            summary,
        }
    }
}

/// The production's members with any of `roles`, by the name they act under.
pub(crate) fn members_with(production: &Production, roles: &[Role]) -> Vec<String> {
    production
        .members
        .iter()
        .filter(|m| m.roles.iter().any(|r| roles.contains(r)))
        .map(|m| m.person.clone())
        .collect()
}

/// The title of a declaration, for people: its title field, else its id.
pub(crate) fn declaration_ref(declaration: &StoredDeclaration) -> EventRef {
    let title = declaration.declaration.title.trim();
    EventRef {
        id: declaration.id.to_string(),
        title: (!title.is_empty()).then(|| title.to_owned()),
    }
}

/// Enqueues what a submission tells: `escalated` to the production's reviewers and legal
/// when the decision escalates, else `submitted` to the one who submitted it.
pub(crate) async fn notify_submission(
    w: &mut Writer,
    channels: OutboxChannels,
    production: &Production,
    submission: &Submission,
) -> Result<()> {
    if !channels.any() {
        return Ok(());
    }
    let declaration = &submission.declaration;
    let level = submission.decision.level();
    let reference = declaration_ref(declaration);
    let name = reference
        .title
        .clone()
        .unwrap_or_else(|| reference.id.clone());
    let (kind, recipients, summary) = if level == Level::Escalate {
        (
            Event::Escalated,
            members_with(production, &[Role::Reviewer, Role::Legal]),
            format!(
                "`{name}` (version {}) of {} escalated: it waits for a review",
                declaration.version, production.title
            ),
        )
    } else {
        (
            Event::Submitted,
            vec![declaration.submitted_by.clone()],
            format!(
                "`{name}` (version {}) of {} was submitted: {}",
                declaration.version,
                production.title,
                level.as_str()
            ),
        )
    };
    let mut event = w.event(kind, production, summary);
    event.declaration = Some(reference);
    event.version = Some(declaration.version);
    event.level = Some(level.as_str().to_owned());
    w.notify(channels, event, recipients).await
}

/// Enqueues `decided` for an approval or rejection, to everyone who submitted a version.
pub(crate) async fn notify_decided(
    w: &mut Writer,
    channels: OutboxChannels,
    production: &Production,
    declaration: &StoredDeclaration,
    approval: &Approval,
) -> Result<()> {
    if !channels.any() {
        return Ok(());
    }
    let versions = w.children::<DeclarationVersion>(declaration.id).await?;
    let recipients = versions.into_iter().map(|v| v.0.submitted_by).collect();
    let verdict = match approval.verdict {
        Verdict::Approved => "approved",
        Verdict::Rejected => "rejected",
    };
    let reference = declaration_ref(declaration);
    let name = reference
        .title
        .clone()
        .unwrap_or_else(|| reference.id.clone());
    let mut event = w.event(
        Event::Decided,
        production,
        format!(
            "`{name}` (version {}) of {} was {verdict} by {}",
            declaration.version, production.title, approval.reviewer
        ),
    );
    event.declaration = Some(reference);
    event.version = Some(declaration.version);
    event.verdict = Some(verdict.to_owned());
    event.expires_at = approval.expires_at;
    w.notify(channels, event, recipients).await
}

/// Enqueues `changes_requested` for a request for changes, to everyone who submitted a
/// version.
pub(crate) async fn notify_changes_requested(
    w: &mut Writer,
    channels: OutboxChannels,
    production: &Production,
    declaration: &StoredDeclaration,
    request: &ChangeRequest,
) -> Result<()> {
    if !channels.any() {
        return Ok(());
    }
    let versions = w.children::<DeclarationVersion>(declaration.id).await?;
    let recipients = versions.into_iter().map(|v| v.0.submitted_by).collect();
    let reference = declaration_ref(declaration);
    let name = reference
        .title
        .clone()
        .unwrap_or_else(|| reference.id.clone());
    let mut event = w.event(
        Event::ChangesRequested,
        production,
        format!(
            "{} asked for changes to `{name}` (version {}) of {}: submit a new version",
            request.reviewer, declaration.version, production.title
        ),
    );
    event.declaration = Some(reference);
    event.version = Some(declaration.version);
    event.note = Some(request.note.clone());
    w.notify(channels, event, recipients).await
}

/// Enqueues `revoked` for a revoked consent: to the production's talent relations and to
/// whoever submitted a declaration whose decision it turned to blocked.
pub(crate) async fn notify_revoked(
    w: &mut Writer,
    channels: OutboxChannels,
    consent: &Consent,
    blocked: &[StoredDecision],
) -> Result<()> {
    if !channels.any() {
        return Ok(());
    }
    let Some(production) = w
        .load::<Production>(&consent.scope.production_id.to_string())
        .await?
    else {
        return Ok(());
    };
    let mut recipients = members_with(&production, &[Role::TalentRelations]);
    let mut declarations = Vec::new();
    for decision in blocked {
        let declaration: StoredDeclaration = w.must(decision.declaration_id).await?;
        recipients.push(declaration.submitted_by.clone());
        declarations.push(declaration.id.to_string());
    }
    let mut event = w.event(
        Event::Revoked,
        &production,
        format!(
            "consent `{}` ({}) for {} was revoked; {} decision(s) turned to blocked",
            consent.id,
            consent.kind.as_str(),
            production.title,
            blocked.len()
        ),
    );
    event.consent = Some(EventRef {
        id: consent.id.to_string(),
        title: Some(consent.kind.as_str().to_owned()),
    });
    event.blocked = declarations;
    w.notify(channels, event, recipients).await
}

impl<S: Store + ?Sized> Ledger<S> {
    /// Claims up to `limit` due outbox rows for `lease_for` (no other worker is given them
    /// until then, unless settled). Rows whose lease ran out are due again.
    pub async fn claim_outbox(
        &self,
        limit: u32,
        lease_for: chrono::TimeDelta,
    ) -> Result<OutboxClaim> {
        let now = self.now();
        let lease = uuid::Uuid::now_v7().to_string();
        let mut rows = self
            .store()
            .claim_outbox(
                millis(now),
                millis(now.plus(lease_for)),
                &lease,
                limit.clamp(1, MAX_PAGE),
            )
            .await?;
        rows.sort_by(|a, b| (a.next_at, &a.id).cmp(&(b.next_at, &b.id)));
        Ok(OutboxClaim { lease, rows })
    }

    /// Records how an attempt to deliver `row` (claimed under `lease`) ended. `false` when the
    /// lease had run out and the row was claimed again (the new holder settles it).
    pub async fn settle_outbox(
        &self,
        row: &OutboxRow,
        lease: &str,
        settle: Settle,
    ) -> Result<bool> {
        let attempts = row.attempts.saturating_add(1);
        let change = match settle {
            Settle::Sent => SettleRow {
                status: OutboxStatus::Sent,
                attempts,
                next_at: millis(row.next_at),
                last_error: None,
                sent_at: Some(self.now().to_string()),
            },
            Settle::Retry { at, error } => SettleRow {
                status: OutboxStatus::Pending,
                attempts,
                next_at: millis(at),
                last_error: Some(clip(error)),
                sent_at: None,
            },
            Settle::Failed { error } => SettleRow {
                status: OutboxStatus::Failed,
                attempts,
                next_at: millis(row.next_at),
                last_error: Some(clip(error)),
                sent_at: None,
            },
        };
        self.store().settle_outbox(&row.id, lease, &change).await
    }

    /// Outbox rows in id order after `after`, at most `limit`; only those with `status` when
    /// given.
    pub async fn outbox(
        &self,
        status: Option<OutboxStatus>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        self.store()
            .outbox_page(status, after, limit.clamp(1, MAX_PAGE))
            .await
    }
}

/// The key under which the expiry sweep notifies of a record once per expiry date.
pub fn expiring_key(kind: &str, id: &str, expires_at: Timestamp) -> String {
    format!("expiring:{kind}:{id}:{expires_at}")
}

impl<S: Store + ?Sized> Ledger<S> {
    /// The documented consents (of every production) that expire after now and at most
    /// `within` from now, soonest first.
    pub async fn expiring_consents(&self, within: chrono::TimeDelta) -> Result<Vec<Consent>> {
        let now = self.now();
        let until = now.plus(within);
        let mut out: Vec<Consent> = self
            .every::<Consent>()
            .await?
            .into_iter()
            .filter(|c| {
                c.expires_at.is_some_and(|e| e > now && e <= until)
                    && c.status == ConsentStatus::Documented
            })
            .collect();
        out.sort_by_key(|c| c.expires_at);
        Ok(out)
    }

    /// The approvals (of every production) that expire after now and at most `within` from
    /// now, soonest first; whether each is still in force is the caller's to ask.
    async fn expiring_approvals(&self, within: chrono::TimeDelta) -> Result<Vec<Approval>> {
        let now = self.now();
        let until = now.plus(within);
        let mut out: Vec<Approval> = self
            .every::<Approval>()
            .await?
            .into_iter()
            .filter(|a| {
                a.expires_at.is_some_and(|e| e > now && e <= until)
                    && a.verdict == Verdict::Approved
            })
            .collect();
        out.sort_by_key(|a| a.expires_at);
        Ok(out)
    }

    /// Enqueues `expiring` for every approval in force and every documented consent that
    /// expires within `ahead`: once per record and expiry date, whoever sweeps and however
    /// often (the key is taken in the same write as the rows, [`expiring_key`]). An approval
    /// goes to everyone who submitted a version of its declaration and to its reviewer; a
    /// consent to its production's talent relations and legal. How many events were
    /// enqueued; none when the ledger has no channel.
    pub async fn sweep_expiring(&self, actor: &str, ahead: chrono::TimeDelta) -> Result<usize> {
        let channels = self.outbox_channels();
        if !channels.any() {
            return Ok(0);
        }
        let consents = self.expiring_consents(ahead).await?;
        let approvals = self.expiring_approvals(ahead).await?;
        if consents.is_empty() && approvals.is_empty() {
            return Ok(0);
        }
        let mut w = self.begin(actor).await?;
        let at = w.at.to_string();
        let mut enqueued = 0;
        for consent in consents {
            let Some(end) = consent.expires_at else {
                continue;
            };
            let Some(production) = w
                .load::<Production>(&consent.scope.production_id.to_string())
                .await?
            else {
                continue;
            };
            let performer = w
                .load::<Performer>(&consent.performer_id.to_string())
                .await?
                .map_or_else(|| consent.performer_id.to_string(), |p| p.name);
            let mut event = w.event(
                Event::Expiring,
                &production,
                format!(
                    "consent `{}` ({}) of {performer} for {} expires on {end}",
                    consent.id,
                    consent.kind.as_str(),
                    production.title
                ),
            );
            event.consent = Some(EventRef {
                id: consent.id.to_string(),
                title: Some(consent.kind.as_str().to_owned()),
            });
            event.expires_at = Some(end);
            let key = expiring_key("consent", &consent.id.to_string(), end);
            if !w.tx.outbox_once(&key, &event.id, &at).await? {
                continue;
            }
            let recipients = members_with(&production, &[Role::TalentRelations, Role::Legal]);
            w.notify(channels, event, recipients).await?;
            enqueued += 1;
        }
        for approval in approvals {
            let Some(end) = approval.expires_at else {
                continue;
            };
            let Some(declaration) = w
                .load::<StoredDeclaration>(&approval.declaration_id.to_string())
                .await?
            else {
                continue;
            };
            let current = w.current_decision(&declaration).await?;
            if approval_state(&approval, current.as_ref(), w.at) != ApprovalState::InForce {
                continue;
            }
            let Some(production) = w
                .load::<Production>(&declaration.production_id.to_string())
                .await?
            else {
                continue;
            };
            let reference = declaration_ref(&declaration);
            let name = reference
                .title
                .clone()
                .unwrap_or_else(|| reference.id.clone());
            let mut event = w.event(
                Event::Expiring,
                &production,
                format!(
                    "the approval of `{name}` (version {}) of {} expires on {end}",
                    approval.declaration_version, production.title
                ),
            );
            event.declaration = Some(reference);
            event.version = Some(approval.declaration_version);
            event.verdict = Some("approved".to_owned());
            event.expires_at = Some(end);
            let key = expiring_key("approval", &approval.id.to_string(), end);
            if !w.tx.outbox_once(&key, &event.id, &at).await? {
                continue;
            }
            let versions = w.children::<DeclarationVersion>(declaration.id).await?;
            let mut recipients: Vec<String> =
                versions.into_iter().map(|v| v.0.submitted_by).collect();
            recipients.push(approval.reviewer.clone());
            w.notify(channels, event, recipients).await?;
            enqueued += 1;
        }
        w.commit(self.audit_key()).await?;
        Ok(enqueued)
    }

    /// One outbox row.
    pub async fn outbox_row(&self, id: &str) -> Result<OutboxRow> {
        self.store()
            .outbox_row(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "outbox row",
                id: id.to_owned(),
            })
    }

    /// Makes the failed outbox row `id` due again now, its attempts counted afresh (its last
    /// error kept until the next attempt). Refused for a row that is not failed.
    pub async fn retry_outbox(&self, id: &str) -> Result<OutboxRow> {
        let row = self.outbox_row(id).await?;
        if row.status != OutboxStatus::Failed {
            return Err(StoreError::invalid(
                Rule::AlreadyDone,
                format!(
                    "outbox row `{id}` is {}, not failed: only a failed notification is retried",
                    row.status
                ),
            ));
        }
        if !self.store().retry_outbox(id, millis(self.now())).await? {
            let now = self.outbox_row(id).await?;
            return Err(StoreError::invalid(
                Rule::AlreadyDone,
                format!(
                    "outbox row `{id}` is {}, not failed: only a failed notification is retried",
                    now.status
                ),
            ));
        }
        self.outbox_row(id).await
    }
}

fn clip(mut error: String) -> String {
    if error.len() > MAX_ERROR {
        let mut end = MAX_ERROR;
        while !error.is_char_boundary(end) {
            end -= 1;
        }
        error.truncate(end);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_told_from_logins() {
        assert!(looks_like_address("rae@studio.example"));
        assert!(!looks_like_address("rae"));
        assert!(!looks_like_address("a@b@c.example"));
        assert!(!looks_like_address("rae@localhost"));
        assert!(!looks_like_address(
            "rae@studio.example\r\nBcc: x@y.example"
        ));
        assert!(!looks_like_address("<rae@studio.example>"));
    }

    #[test]
    fn names_parse_back() {
        for event in Event::ALL {
            assert_eq!(event.as_str().parse::<Event>().ok(), Some(event));
        }
        assert!("nope".parse::<OutboxStatus>().is_err());
    }

    #[test]
    fn errors_are_clipped_on_a_char_boundary() {
        let long = "é".repeat(MAX_ERROR);
        let clipped = clip(long);
        assert!(clipped.len() <= MAX_ERROR);
    }
}
