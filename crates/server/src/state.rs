//! `AppState`: what every handler is given, built once by `greenlight serve`
//! (or a test) and cloned cheaply per request.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Datelike;
use greenlight_policy::{PackDate, Policy};
use greenlight_store::{Ledger, OutboxChannels, Production, Store, Timestamp};
use tokio::sync::OnceCell;

use crate::config::ServerConfig;
use crate::error::{ApiError, Cause};
use crate::oidc::Oidc;

/// The error an [`Opener`] gives: anything that can be shown and logged.
pub type OpenError = Box<dyn std::error::Error + Send + Sync>;

/// The future an [`Opener`] returns.
pub type Opening = Pin<Box<dyn Future<Output = Result<Ledger<dyn Store>, OpenError>> + Send>>;

/// Opens the ledger: the caller (the CLI) decides which backend and key.
pub type Opener = Arc<dyn Fn() -> Opening + Send + Sync>;

/// How long one attempt to open the ledger may take before `/readyz` says no.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// The shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The ledger, opened on first need and kept open.
    pub ledger: Arc<LedgerSlot>,
    /// The policy the server triages with: the packs `serve` was given, else the built-in
    /// pack (a production with overlays gets [`AppState::policy_for`]'s stack instead).
    pub policy: Arc<Policy>,
    /// The built-in pack with each production's overlays, compiled once per set of overlays.
    stacks: Arc<Stacks>,
    /// How the server listens and what it allows.
    pub config: Arc<ServerConfig>,
    /// The OpenID provider people may sign in with, when one is configured.
    pub oidc: Option<Arc<Oidc>>,
}

impl AppState {
    /// State from its parts.
    pub fn new(config: ServerConfig, policy: Policy, mut ledger: LedgerSlot) -> AppState {
        ledger.outbox = crate::notify::channels(&config);
        AppState {
            ledger: Arc::new(ledger),
            policy: Arc::new(policy),
            stacks: Arc::new(Stacks {
                builtin: config.policies.is_empty(),
                compiled: Mutex::new(HashMap::new()),
            }),
            config: Arc::new(config),
            oidc: None,
        }
    }

    /// The state with OIDC sign-in through `oidc` (from [`Oidc::from_config`]).
    pub fn with_oidc(mut self, oidc: Option<Oidc>) -> AppState {
        self.oidc = oidc.map(Arc::new);
        self
    }

    /// The policy a production's declarations are triaged with, as `greenlight declare`
    /// chooses it: the packs `serve` was given when it was given any; else the built-in pack
    /// with the production's overlays laid over it, in their order (the built-in pack alone
    /// when it has none).
    pub fn policy_for(&self, production: &Production) -> Result<Arc<Policy>, ApiError> {
        if !self.stacks.builtin || production.overlays.is_empty() {
            return Ok(self.policy.clone());
        }
        let mut compiled = self
            .stacks
            .compiled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(policy) = compiled.get(&production.overlays) {
            return Ok(policy.clone());
        }
        let ids: Vec<&str> = production.overlays.iter().map(String::as_str).collect();
        // The ledger checks a production's overlays when they are set, so a stack that does
        // not compile is the server's fault, not the request's.
        let policy = Arc::new(
            Policy::builtin_stack(&ids).map_err(|errors| ApiError::Internal(Cause::new(errors)))?,
        );
        compiled.insert(production.overlays.clone(), policy.clone());
        Ok(policy)
    }
}

/// The day (UTC) of a ledger instant, for the packs' dates (`effective`, `expires`).
pub fn pack_day(at: Timestamp) -> Option<PackDate> {
    let at = at.as_datetime();
    PackDate::new(
        u16::try_from(at.year()).ok()?,
        u8::try_from(at.month()).ok()?,
        u8::try_from(at.day()).ok()?,
    )
}

/// Compiled stacks of the built-in pack and overlays, keyed by the overlays' ids in order.
struct Stacks {
    /// Whether productions' overlays apply: `serve` was given no packs of its own.
    builtin: bool,
    compiled: Mutex<HashMap<Vec<String>, Arc<Policy>>>,
}

/// The ledger, opened when first needed. A server whose database is not
/// answering at start still starts (`/healthz` answers, `/readyz` does not) and
/// opens the ledger once the database answers.
pub struct LedgerSlot {
    opener: Opener,
    ledger: OnceCell<Ledger<dyn Store>>,
    /// The notification channels the opened ledger enqueues on (those the server delivers).
    outbox: OutboxChannels,
}

impl LedgerSlot {
    /// A slot that opens the ledger with `opener` when first asked.
    pub fn new(opener: Opener) -> LedgerSlot {
        LedgerSlot {
            opener,
            ledger: OnceCell::new(),
            outbox: OutboxChannels::default(),
        }
    }

    /// The open ledger, opening it now if it is not yet open. An open that
    /// fails or takes too long is `ApiError::Unavailable`, and is tried again
    /// on the next call.
    pub async fn get(&self) -> Result<&Ledger<dyn Store>, ApiError> {
        self.ledger
            .get_or_try_init(|| async {
                match tokio::time::timeout(OPEN_TIMEOUT, (self.opener)()).await {
                    Ok(Ok(ledger)) => Ok(ledger.with_outbox(self.outbox)),
                    Ok(Err(e)) => Err(ApiError::Unavailable(Cause::new(format!(
                        "cannot open the ledger: {e}"
                    )))),
                    Err(_) => Err(ApiError::Unavailable(Cause::new(format!(
                        "cannot open the ledger: no answer within {} s",
                        OPEN_TIMEOUT.as_secs()
                    )))),
                }
            })
            .await
    }
}

impl std::fmt::Debug for LedgerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerSlot")
            .field("open", &self.ledger.initialized())
            .finish_non_exhaustive()
    }
}
