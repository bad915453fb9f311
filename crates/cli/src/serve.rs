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
        // The server writes (sign-ins, tokens, …): the ledger is opened with its audit key
        // (created on the first write to a ledger nothing has signed). It is opened when first
        // needed and kept open.
        let opener: Opener = Arc::new(move || {
            let global = global.clone();
            Box::pin(async move {
                Context::open(&global, Access::Serve)
                    .await
                    .map(Context::into_ledger)
                    .map_err(|e| format!("{e:#}").into())
            })
        });
        // A bad certificate or key is reported before anything listens.
        let tls = greenlight_server::Tls::from_config(&config)?;
        // So is a bad OIDC setting (the secret file read once, here).
        let oidc = greenlight_server::Oidc::from_config(&config).map_err(anyhow::Error::msg)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on `{}`", config.listen))?;
        let address = listener.local_addr()?;
        let state = AppState::new(config, policy, LedgerSlot::new(opener)).with_oidc(oidc);
        if let Some(oidc) = &state.oidc {
            // Discovery now, so a provider that is down is said at start; sign-ins try again.
            match oidc.metadata(greenlight_server::oidc::METADATA_TTL).await {
                Ok(_) => tracing::info!(issuer = oidc.issuer(), "OIDC sign-in through the provider"),
                Err(e) => tracing::warn!(issuer = oidc.issuer(), error = ?e, "the OpenID provider is not answering yet: OIDC sign-ins will try again"),
            }
        }
        // One line a person or a script can read, before any log line.
        let mut err = std::io::stderr().lock();
        writeln!(err, "greenlight serve: listening on {scheme}://{address}")?;
        drop(err);
        match state.ledger.get().await {
            Ok(ledger) => first_admin(ledger, &format!("{scheme}://{address}")).await?,
            Err(e) => {
                tracing::warn!(error = ?e, "the ledger is not answering yet: /readyz says so until it does");
            }
        }
        greenlight_server::serve_with(listener, state, tls, greenlight_server::shutdown_signal())
            .await
            .context("the server failed")?;
        Ok(Exit::Notify)
    })
}

/// On a ledger with no account, creates `admin` with a generated password and says once, on
/// stderr, how to sign in. Another server that created it first is fine.
async fn first_admin(
    ledger: &greenlight_store::Ledger<dyn greenlight_store::Store>,
    base: &str,
) -> anyhow::Result<()> {
    if ledger.has_users().await? {
        return Ok(());
    }
    let password = greenlight_store::generate_password()?;
    let created = ledger
        .create_user(
            "greenlight serve",
            greenlight_store::NewUser {
                login: "admin".to_owned(),
                name: "Administrator".to_owned(),
                roles: vec![greenlight_store::GlobalRole::Admin],
                password: password.clone(),
            },
        )
        .await;
    match created {
        Ok(_) => {}
        Err(greenlight_store::StoreError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "greenlight serve: created the first account, `admin`, with the password {password} \
         (shown once, kept nowhere). Sign in with a browser at {base}/sign-in, or from a \
         program with:\n  \
         curl -c cookies.txt -H 'content-type: application/json' \
         -d '{{\"login\":\"admin\",\"password\":\"{password}\"}}' {base}/api/v1/session\n\
         then create accounts on {base}/accounts (or with `greenlight user create`, or POST \
         /api/v1/users) and a production with its members on {base}/productions."
    )?;
    Ok(())
}
