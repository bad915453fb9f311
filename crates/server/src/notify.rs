//! Delivering the outbox: the task `greenlight serve` runs beside the server when e-mail
//! (`--smtp-url`) or a webhook (`--webhook-url`) is configured.
//!
//! The ledger enqueues a notification in the transaction of the change that caused it
//! ([`greenlight_store::OutboxRow`]); this worker claims due rows with a lease (so several
//! servers on one database never deliver a row twice), delivers each, and settles it: sent,
//! retried after a delay that doubles from `--notify-retry-ms` (at most an hour), or failed
//! after `--notify-attempts` with the last error, which admins see at `GET /api/v1/outbox`
//! and on `/outbox`.
//!
//! A webhook call is a `POST` of the event as JSON with `X-Greenlight-Timestamp` (Unix
//! seconds) and `X-Greenlight-Signature: sha256=<hex>`, the HMAC-SHA256 under the shared
//! secret of `<timestamp>.<body>`: a receiver recomputes it, compares in constant time, and
//! refuses a timestamp far from its clock (replay). [`signature`] is that computation.
//!
//! Beside delivery, the worker sweeps approvals and consents every `--expiring-sweep-ms` and
//! enqueues `expiring` for each one that expires within `--expiring-days`
//! ([`Ledger::sweep_expiring`]): once per record and expiry date, by a key the database
//! keeps, so a restart or a second server sends it once.
//!
//! Every attempt is logged (row, event, channel, recipient, outcome); the secret, SMTP
//! credentials and the webhook's query string never are.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use greenlight_store::{Channel, Ledger, OutboxChannels, OutboxEvent, OutboxRow, Settle, Store};
use hmac::{Hmac, Mac};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Sha256;
use tokio::sync::watch;

use crate::config::ServerConfig;
use crate::state::LedgerSlot;

/// The header holding the webhook's signature.
pub const SIGNATURE_HEADER: &str = "x-greenlight-signature";
/// The header holding the webhook call's time (Unix seconds), part of the signed bytes.
pub const TIMESTAMP_HEADER: &str = "x-greenlight-timestamp";
/// The header naming the event (`escalated`, …).
pub const EVENT_HEADER: &str = "x-greenlight-event";
/// The header holding the outbox row's id: the same on every retry of one delivery.
pub const DELIVERY_HEADER: &str = "x-greenlight-delivery";

/// How long a claimed row is held before another worker may take it: longer than any
/// attempt may take ([`SEND_TIMEOUT`]).
const LEASE: TimeDelta = TimeDelta::seconds(120);
/// The longest one delivery attempt may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest delay between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(3_600);
/// Rows claimed at a time.
const BATCH: u32 = 50;
/// The actor the expiry sweep's notifications name.
pub const SWEEP_ACTOR: &str = "greenlight";

/// The webhook's `X-Greenlight-Signature` value for `body` sent at `timestamp`:
/// `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable_hmac());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[expect(
    clippy::panic,
    reason = "HMAC takes a key of any length: new_from_slice cannot fail"
)]
fn unreachable_hmac() -> Hmac<Sha256> {
    panic!("HMAC refused a key")
}

/// Why the notification settings cannot be used (reported at start).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The webhook secret file cannot be read or is empty.
    #[error("--webhook-secret-file `{path}`: {message}")]
    Secret {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The webhook URL is not an `http` or `https` URL.
    #[error("--webhook-url `{0}` is not an http:// or https:// URL")]
    WebhookUrl(String),
    /// The SMTP URL cannot be used.
    #[error("--smtp-url: {0}")]
    SmtpUrl(String),
    /// The mail server's CA file cannot be used.
    #[error("--smtp-ca `{path}`: {message}")]
    SmtpCa {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The sender address is missing or not an address.
    #[error("--smtp-from: {0}")]
    From(String),
    /// The HTTP client cannot be built.
    #[error("the webhook's HTTP client: {0}")]
    Client(String),
}

/// How the worker retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Attempts before a row is marked failed.
    pub attempts: u32,
    /// The delay after the first failed attempt; it doubles after each next one.
    pub first_delay: Duration,
    /// How often the worker looks for due rows.
    pub poll: Duration,
}

impl Retry {
    /// The delay after the `attempt`-th failed attempt (from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1_u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.first_delay
            .checked_mul(factor)
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY)
    }
}

/// The configured webhook.
struct Webhook {
    url: reqwest::Url,
    secret: Vec<u8>,
    client: reqwest::Client,
}

/// The configured mail server and sender.
struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for the log.
    server: String,
}

/// When the expiry sweep runs and how far ahead it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiring {
    /// How far ahead of an expiry its notification is sent.
    pub ahead: TimeDelta,
    /// How often the sweep runs.
    pub every: Duration,
}

/// The delivery worker's settings and clients.
pub struct Notifier {
    webhook: Option<Webhook>,
    mailer: Option<Mailer>,
    retry: Retry,
    expiring: Option<Expiring>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field(
                "webhook",
                &self.webhook.as_ref().map(|w| redact_url(&w.url)),
            )
            .field("smtp", &self.mailer.as_ref().map(|m| m.server.clone()))
            .field("retry", &self.retry)
            .field("expiring", &self.expiring)
            .finish()
    }
}

/// The channels `config` turns on.
pub fn channels(config: &ServerConfig) -> OutboxChannels {
    OutboxChannels {
        email: config.smtp_url.is_some(),
        webhook: config.webhook_url.is_some(),
    }
}

/// A URL as logs show it: scheme, host and port only.
fn redact_url(url: &reqwest::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

impl Notifier {
    /// The worker `config` asks for, reading the webhook's secret file; `None` when no
    /// channel is configured.
    pub fn from_config(config: &ServerConfig) -> Result<Option<Notifier>, NotifyError> {
        let retry = Retry {
            attempts: config.notify_attempts.max(1),
            first_delay: Duration::from_millis(config.notify_retry_ms),
            poll: Duration::from_millis(config.notify_poll_ms.max(10)),
        };
        let webhook = match &config.webhook_url {
            None => None,
            Some(url) => {
                let parsed = reqwest::Url::parse(url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .ok_or_else(|| NotifyError::WebhookUrl(url.clone()))?;
                let path =
                    config
                        .webhook_secret_file
                        .as_ref()
                        .ok_or_else(|| NotifyError::Secret {
                            path: String::new(),
                            message: "a webhook needs its secret file".to_owned(),
                        })?;
                let secret = read_secret(path)?;
                let client = reqwest::Client::builder()
                    .timeout(SEND_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("greenlight/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| NotifyError::Client(e.to_string()))?;
                Some(Webhook {
                    url: parsed,
                    secret,
                    client,
                })
            }
        };
        let mailer = match &config.smtp_url {
            None => None,
            Some(url) => {
                let from = config
                    .smtp_from
                    .as_deref()
                    .ok_or_else(|| NotifyError::From("e-mail needs a sender address".to_owned()))?;
                let from: Mailbox = from
                    .parse()
                    .map_err(|e| NotifyError::From(format!("`{from}` is not an address: {e}")))?;
                let parsed = reqwest::Url::parse(&url.0)
                    .map_err(|_| NotifyError::SmtpUrl("not a URL (smtp://host:port)".to_owned()))?;
                let server = format!(
                    "{}:{}",
                    parsed.host_str().unwrap_or(""),
                    parsed.port().map(|p| p.to_string()).unwrap_or_default()
                );
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0)
                    .map_err(|e| NotifyError::SmtpUrl(e.to_string()))?
                    .timeout(Some(SEND_TIMEOUT));
                if let Some(ca) = &config.smtp_ca {
                    builder = builder.tls(tls_trusting(&parsed, ca)?);
                }
                let transport = builder.build();
                Some(Mailer {
                    transport,
                    from,
                    server,
                })
            }
        };
        if webhook.is_none() && mailer.is_none() {
            return Ok(None);
        }
        let expiring = (config.expiring_days > 0).then(|| Expiring {
            ahead: TimeDelta::days(i64::from(config.expiring_days)),
            every: Duration::from_millis(config.expiring_sweep_ms.max(10)),
        });
        Ok(Some(Notifier {
            webhook,
            mailer,
            retry,
            expiring,
        }))
    }

    /// Delivers due rows until `stop` turns true: claims, delivers, settles, then waits
    /// `poll` when nothing was due.
    pub async fn run(self, slot: Arc<LedgerSlot>, mut stop: watch::Receiver<bool>) {
        tracing::info!(notifier = ?self, "delivering notifications");
        let mut next_sweep = tokio::time::Instant::now();
        loop {
            if *stop.borrow() {
                return;
            }
            let delivered = match slot.get().await {
                Ok(ledger) => {
                    if let Some(expiring) = self.expiring
                        && tokio::time::Instant::now() >= next_sweep
                    {
                        next_sweep = tokio::time::Instant::now() + expiring.every;
                        sweep(ledger, expiring.ahead).await;
                    }
                    self.round(ledger).await
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "notifications wait for the ledger");
                    0
                }
            };
            if delivered == 0 {
                tokio::select! {
                    () = tokio::time::sleep(self.retry.poll) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }

    /// One claim and its deliveries; how many rows were attempted.
    async fn round(&self, ledger: &Ledger<dyn Store>) -> usize {
        let claim = match ledger.claim_outbox(BATCH, LEASE).await {
            Ok(claim) => claim,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim notifications");
                return 0;
            }
        };
        for row in &claim.rows {
            let attempt = row.attempts.saturating_add(1);
            let outcome = self.deliver(row).await;
            let settle = match &outcome {
                Ok(()) => Settle::Sent,
                Err(error) if attempt >= self.retry.attempts => Settle::Failed {
                    error: error.clone(),
                },
                Err(error) => Settle::Retry {
                    at: ledger.now().plus(
                        TimeDelta::from_std(self.retry.delay(attempt))
                            .unwrap_or(TimeDelta::hours(1)),
                    ),
                    error: error.clone(),
                },
            };
            match &outcome {
                Ok(()) => tracing::info!(
                    row = %row.id, event = %row.event, channel = %row.channel,
                    recipient = %row.recipient, attempt, "notification delivered"
                ),
                Err(error) => tracing::warn!(
                    row = %row.id, event = %row.event, channel = %row.channel,
                    recipient = %row.recipient, attempt, %error,
                    gave_up = matches!(settle, Settle::Failed { .. }),
                    "notification not delivered"
                ),
            }
            match ledger.settle_outbox(row, &claim.lease, settle).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(row = %row.id, "the notification's lease ran out"),
                Err(e) => tracing::warn!(row = %row.id, error = %e, "cannot settle a notification"),
            }
        }
        claim.rows.len()
    }

    async fn deliver(&self, row: &OutboxRow) -> Result<(), String> {
        match row.channel {
            Channel::Webhook => match &self.webhook {
                Some(webhook) => post(webhook, row).await,
                None => Err("no webhook is configured".to_owned()),
            },
            Channel::Email => match &self.mailer {
                Some(mailer) => mail(mailer, row).await,
                None => Err("no mail server is configured".to_owned()),
            },
        }
    }
}

/// One expiry sweep, logged.
async fn sweep(ledger: &Ledger<dyn Store>, ahead: TimeDelta) {
    match ledger.sweep_expiring(SWEEP_ACTOR, ahead).await {
        Ok(0) => {}
        Ok(enqueued) => tracing::info!(enqueued, "expiring notifications enqueued"),
        Err(e) => tracing::warn!(error = %e, "cannot sweep for expiring approvals and consents"),
    }
}

/// The URL's TLS mode, trusting the certificates of `ca` besides the public roots.
fn tls_trusting(url: &reqwest::Url, ca: &std::path::Path) -> Result<Tls, NotifyError> {
    let wrong = |message: String| NotifyError::SmtpCa {
        path: ca.display().to_string(),
        message,
    };
    let pem = std::fs::read(ca).map_err(|e| wrong(e.to_string()))?;
    if !pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(wrong("holds no PEM certificate".to_owned()));
    }
    let certificate = Certificate::from_pem(&pem).map_err(|e| wrong(e.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let parameters = TlsParameters::builder(host)
        .add_root_certificate(certificate)
        .build()
        .map_err(|e| wrong(e.to_string()))?;
    let mode = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    match (url.scheme(), mode.as_deref()) {
        ("smtps", _) => Ok(Tls::Wrapper(parameters)),
        ("smtp", Some("required")) => Ok(Tls::Required(parameters)),
        ("smtp", Some("opportunistic")) => Ok(Tls::Opportunistic(parameters)),
        _ => Err(wrong(
            "the mail server's URL asks for no TLS: use smtps://, or smtp:// with ?tls=required"
                .to_owned(),
        )),
    }
}

fn read_secret(path: &std::path::Path) -> Result<Vec<u8>, NotifyError> {
    let error = |message: String| NotifyError::Secret {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let secret = text.lines().next().unwrap_or("").trim();
    if secret.len() < 16 {
        return Err(error(
            "the secret (its first line) must be at least 16 characters".to_owned(),
        ));
    }
    Ok(secret.as_bytes().to_vec())
}

async fn post(webhook: &Webhook, row: &OutboxRow) -> Result<(), String> {
    let timestamp = chrono::Utc::now().timestamp();
    let body = row.body.clone().into_bytes();
    let response = webhook
        .client
        .post(webhook.url.clone())
        .header("content-type", "application/json")
        .header(EVENT_HEADER, row.event.as_str())
        .header(DELIVERY_HEADER, &row.id)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(
            SIGNATURE_HEADER,
            signature(&webhook.secret, timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| {
            // reqwest's error names the URL: keep its host only.
            format!(
                "cannot reach {}: {}",
                redact_url(&webhook.url),
                e.without_url()
            )
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "{} answered HTTP {status}",
            redact_url(&webhook.url)
        ))
    }
}

/// The e-mail of an event: a subject and a plain text, from the event's facts alone.
pub fn email_text(event: &OutboxEvent) -> (String, String) {
    let subject = format!("greenlight: {}", event.summary);
    let mut text = format!("{}\n\n", event.summary);
    let mut line = |name: &str, value: &str| text.push_str(&format!("{name}: {value}\n"));
    line("Event", event.event.as_str());
    line(
        "Production",
        event
            .production
            .title
            .as_deref()
            .unwrap_or(&event.production.id),
    );
    if let Some(declaration) = &event.declaration {
        line("Declaration", &declaration.id);
    }
    if let Some(version) = event.version {
        line("Version", &version.to_string());
    }
    if let Some(level) = &event.level {
        line("Decision", level);
    }
    if let Some(verdict) = &event.verdict {
        line("Verdict", verdict);
    }
    if let Some(note) = &event.note {
        line("Changes asked", note);
    }
    if let Some(consent) = &event.consent {
        line("Consent", &consent.id);
    }
    if !event.blocked.is_empty() {
        line("Now blocked", &event.blocked.join(", "));
    }
    if let Some(expires) = event.expires_at {
        line("Expires", &expires.to_string());
    }
    line("By", &event.actor);
    line("At", &event.at.to_string());
    (subject, text)
}

async fn mail(mailer: &Mailer, row: &OutboxRow) -> Result<(), String> {
    let event: OutboxEvent =
        serde_json::from_str(&row.body).map_err(|e| format!("the event cannot be read: {e}"))?;
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|e| format!("`{}` is not an address: {e}", row.recipient))?;
    let (subject, text) = email_text(&event);
    let message = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| format!("the message cannot be built: {e}"))?;
    mailer
        .transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("the mail server {}: {e}", mailer.server))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature(b"0123456789abcdef", 1_700_000_000, b"{}");
        assert!(a.starts_with("sha256="));
        assert_eq!(a.len(), "sha256=".len() + 64);
        assert_ne!(a, signature(b"0123456789abcdef", 1_700_000_001, b"{}"));
        assert_ne!(a, signature(b"0123456789abcdef", 1_700_000_000, b"{ }"));
        assert_ne!(a, signature(b"0123456789abcdeg", 1_700_000_000, b"{}"));
    }

    #[test]
    fn delays_double_up_to_an_hour() {
        let retry = Retry {
            attempts: 5,
            first_delay: Duration::from_secs(30),
            poll: Duration::from_secs(1),
        };
        assert_eq!(retry.delay(1), Duration::from_secs(30));
        assert_eq!(retry.delay(2), Duration::from_secs(60));
        assert_eq!(retry.delay(3), Duration::from_secs(120));
        assert_eq!(retry.delay(40), MAX_DELAY);
    }
}
