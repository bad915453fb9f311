//! `AppState`: what every handler is given, built once by `greenlight serve`
//! (or a test) and cloned cheaply per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use greenlight_policy::Policy;
use greenlight_store::{Ledger, Store};
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
    /// The policy the server triages with.
    pub policy: Arc<Policy>,
    /// How the server listens and what it allows.
    pub config: Arc<ServerConfig>,
    /// The OpenID provider people may sign in with, when one is configured.
    pub oidc: Option<Arc<Oidc>>,
}

impl AppState {
    /// State from its parts.
    pub fn new(config: ServerConfig, policy: Policy, ledger: LedgerSlot) -> AppState {
        AppState {
            ledger: Arc::new(ledger),
            policy: Arc::new(policy),
            config: Arc::new(config),
            oidc: None,
        }
    }

    /// The state with OIDC sign-in through `oidc` (from [`Oidc::from_config`]).
    pub fn with_oidc(mut self, oidc: Option<Oidc>) -> AppState {
        self.oidc = oidc.map(Arc::new);
        self
    }
}

/// The ledger, opened when first needed. A server whose database is not
/// answering at start still starts (`/healthz` answers, `/readyz` does not) and
/// opens the ledger once the database answers.
pub struct LedgerSlot {
    opener: Opener,
    ledger: OnceCell<Ledger<dyn Store>>,
}

impl LedgerSlot {
    /// A slot that opens the ledger with `opener` when first asked.
    pub fn new(opener: Opener) -> LedgerSlot {
        LedgerSlot {
            opener,
            ledger: OnceCell::new(),
        }
    }

    /// The open ledger, opening it now if it is not yet open. An open that
    /// fails or takes too long is `ApiError::Unavailable`, and is tried again
    /// on the next call.
    pub async fn get(&self) -> Result<&Ledger<dyn Store>, ApiError> {
        self.ledger
            .get_or_try_init(|| async {
                match tokio::time::timeout(OPEN_TIMEOUT, (self.opener)()).await {
                    Ok(Ok(ledger)) => Ok(ledger),
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
