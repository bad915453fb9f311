//! `greenlight serve`: the HTTP API (`greenlight-server`) on the ledger that
//! `--db` and `--audit-key` name.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;

use anyhow::Context as _;
use greenlight_server::{AppState, LedgerSlot, Opener, ServerConfig};
use tracing_subscriber::EnvFilter;

use crate::exit::Exit;
use crate::ledger::{Access, Context, Global};

/// Serves until SIGINT or SIGTERM, then lets requests in flight finish.
pub fn run(global: &Global, config: ServerConfig) -> anyhow::Result<Exit> {
    // Request logs go to stderr: `RUST_LOG` chooses what (default: info).
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal, and never with NO_COLOR set.
        .with_ansi(
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .init();
    let policy = match crate::policy::load(&config.policies) {
        Ok(policy) => policy,
        Err(exit) => return Ok(exit),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let global = global.clone();
        // The server writes (sign-ins, tokens, recorded scans): the ledger is opened as a
        // writer, so its entries are signed by the ledger's own key (created on first use
        // for a ledger nothing has signed, refused when it is not the ledger's). It is
        // opened when first needed and kept open.
        let opener: Opener = Arc::new(move || {
            let global = global.clone();
            Box::pin(async move {
                Context::open(&global, Access::Write)
                    .await
                    .map(Context::into_ledger)
                    .map_err(|e| format!("{e:#}").into())
            })
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on `{}`", config.listen))?;
        let address = listener.local_addr()?;
        let state = AppState::new(config, policy, LedgerSlot::new(opener));
        // One line a person or a script can read, before any log line (and before the
        // note that a new ledger's audit key was created).
        let mut err = std::io::stderr().lock();
        writeln!(err, "greenlight serve: listening on http://{address}")?;
        drop(err);
        if let Err(e) = state.ledger.get().await {
            tracing::warn!(error = ?e, "the ledger is not answering yet: /readyz says so until it does");
        }
        greenlight_server::serve(listener, state, greenlight_server::shutdown_signal())
            .await
            .context("the server failed")?;
        Ok(Exit::Notify)
    })
}
