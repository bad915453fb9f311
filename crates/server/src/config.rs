//! `ServerConfig`: how the server listens and what it allows a request.
//!
//! It derives `clap::Parser` so `greenlight serve` flattens it into its own
//! arguments (each option also read from a `GREENLIGHT_` environment variable);
//! it is parsed only there. [`crate::app`] takes it built, so tests write one in
//! code with [`ServerConfig::default`].

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use greenlight_store::StampSigners;
use ipnet::IpNet;

/// The address `greenlight serve` listens on when none is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The largest request body accepted by default, in bytes (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Requests taking longer than this many seconds are answered 408 by default.
pub const DEFAULT_REQUEST_TIMEOUT: u64 = 10;
/// How many seconds in-flight requests may take to finish after a shutdown signal, by default.
pub const DEFAULT_SHUTDOWN_GRACE: u64 = 30;
/// The most header lines a request may send (HTTP/1).
pub const MAX_HEADERS: usize = 64;
/// The most bytes a request's head (request line and headers) may take.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// A client must have sent a request's whole head within this time.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server listens, what it allows a request, and the policy it triages with.
#[derive(Clone, Debug, PartialEq, Eq, clap::Parser)]
#[command(next_help_heading = "Server options")]
pub struct ServerConfig {
    /// The address and port to listen on (port 0: any free port, printed at start).
    #[arg(long, env = "GREENLIGHT_LISTEN", value_name = "ADDR:PORT", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// The largest request body accepted, in bytes; a larger one is answered 413.
    #[arg(long, env = "GREENLIGHT_BODY_LIMIT", value_name = "BYTES", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// A request taking longer than this many seconds is answered 408.
    #[arg(long, env = "GREENLIGHT_REQUEST_TIMEOUT", value_name = "SECONDS", default_value_t = DEFAULT_REQUEST_TIMEOUT, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,
    /// After SIGINT or SIGTERM, how many seconds requests in flight may take to finish.
    #[arg(long, env = "GREENLIGHT_SHUTDOWN_GRACE", value_name = "SECONDS", default_value_t = DEFAULT_SHUTDOWN_GRACE)]
    pub shutdown_grace: u64,
    /// Mark the session cookie `Secure` (sent over HTTPS only): set it when a TLS proxy
    /// serves greenlight (with `--tls-cert` it is `Secure` anyway).
    #[arg(long, env = "GREENLIGHT_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first); needs
    /// `--tls-key`.
    #[arg(
        long,
        env = "GREENLIGHT_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "GREENLIGHT_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// A reverse proxy's address or range (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`; repeatable):
    /// from it alone the client's address is read from `Forwarded` or `X-Forwarded-For` and
    /// the scheme from `X-Forwarded-Proto`. Default: none, those headers are ignored.
    #[arg(
        long = "trusted-proxy",
        env = "GREENLIGHT_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ',',
        value_parser = parse_cidr
    )]
    pub trusted_proxies: Vec<IpNet>,
    /// Policy packs to triage with, in order (each later one lays over the ones
    /// before it). Default: the built-in netflix-2025 pack.
    #[arg(
        long = "policy",
        env = "GREENLIGHT_POLICY",
        value_name = "PACK",
        value_delimiter = ','
    )]
    pub policies: Vec<PathBuf>,
    /// OIDC sign-in: the OpenID provider's issuer URL (`https://studio.okta.com`,
    /// `https://login.microsoftonline.com/TENANT/v2.0`); its discovery document is read from
    /// `ISSUER/.well-known/openid-configuration`. Needs `--oidc-client-id` and
    /// `--oidc-redirect-url`.
    #[arg(
        long,
        env = "GREENLIGHT_OIDC_ISSUER",
        value_name = "URL",
        requires_all = ["oidc_client_id", "oidc_redirect_url"],
        help_heading = "OIDC sign-in"
    )]
    pub oidc_issuer: Option<String>,
    /// The client id greenlight is registered with at the provider.
    #[arg(
        long,
        env = "GREENLIGHT_OIDC_CLIENT_ID",
        value_name = "ID",
        requires = "oidc_issuer",
        help_heading = "OIDC sign-in"
    )]
    pub oidc_client_id: Option<String>,
    /// The client secret (prefer `GREENLIGHT_OIDC_CLIENT_SECRET` or
    /// `--oidc-client-secret-file`: an argument is visible to other users of the machine).
    #[arg(
        long,
        env = "GREENLIGHT_OIDC_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        conflicts_with = "oidc_client_secret_file",
        requires = "oidc_issuer",
        help_heading = "OIDC sign-in"
    )]
    pub oidc_client_secret: Option<Secret>,
    /// A file holding the client secret (its first line), read once at start.
    #[arg(
        long,
        env = "GREENLIGHT_OIDC_CLIENT_SECRET_FILE",
        value_name = "PATH",
        requires = "oidc_issuer",
        help_heading = "OIDC sign-in"
    )]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// Where the provider sends the browser back: this server's
    /// `/api/v1/session/oidc/callback`, as the browser reaches it
    /// (`https://greenlight.studio.example/api/v1/session/oidc/callback`), registered at the
    /// provider as the client's redirect URI.
    #[arg(
        long,
        env = "GREENLIGHT_OIDC_REDIRECT_URL",
        value_name = "URL",
        requires = "oidc_issuer",
        help_heading = "OIDC sign-in"
    )]
    pub oidc_redirect_url: Option<String>,
    /// The provider's name as shown to people (`Okta`, `Entra ID`). Default: `your provider`.
    #[arg(
        long,
        env = "GREENLIGHT_OIDC_PROVIDER_NAME",
        value_name = "NAME",
        help_heading = "OIDC sign-in"
    )]
    pub oidc_provider_name: Option<String>,
    /// Create an account (with no roles) on the first OIDC sign-in of a verified email no
    /// account has. Default: only accounts an administrator created can sign in.
    #[arg(
        long,
        env = "GREENLIGHT_OIDC_PROVISION",
        requires = "oidc_issuer",
        help_heading = "OIDC sign-in"
    )]
    pub oidc_provision: bool,
    /// The signer certificates (PEM) whose greenlight stamps this server trusts when a remote
    /// scanner (`greenlight scan --server`) tells of them: the server decides the signer's
    /// trust by the certificate's fingerprint, never by what the scanner says. A CA
    /// certificate here vouches for no remote stamp (the server never sees the signer's
    /// chain). Default: none, so every remote stamp's signer is untrusted.
    #[arg(
        long,
        env = "GREENLIGHT_STAMP_TRUST",
        value_name = "PEM",
        value_parser = parse_stamp_trust
    )]
    pub stamp_trust: Option<StampSigners>,
    /// Notification e-mail: the mail server, `smtp://host:port` (plain, or STARTTLS when the
    /// server offers it with `?tls=opportunistic`, required with `?tls=required`) or
    /// `smtps://host:port` (TLS); credentials as `smtp://user:password@host:port` (prefer
    /// `GREENLIGHT_SMTP_URL`). Needs `--smtp-from`.
    #[arg(
        long,
        env = "GREENLIGHT_SMTP_URL",
        value_name = "URL",
        hide_env_values = true,
        requires = "smtp_from",
        help_heading = "Notifications"
    )]
    pub smtp_url: Option<Secret>,
    /// The sender of notification e-mail (`greenlight <greenlight@studio.example>`).
    #[arg(
        long,
        env = "GREENLIGHT_SMTP_FROM",
        value_name = "ADDRESS",
        requires = "smtp_url",
        help_heading = "Notifications"
    )]
    pub smtp_from: Option<String>,
    /// Certificates (PEM) to trust for the mail server's TLS besides the public roots, for
    /// a mail server whose certificate a studio's own CA signed. Only with a TLS URL
    /// (`smtps://`, or `smtp://` with `?tls=required` or `?tls=opportunistic`).
    #[arg(
        long,
        env = "GREENLIGHT_SMTP_CA",
        value_name = "PEM",
        requires = "smtp_url",
        help_heading = "Notifications"
    )]
    pub smtp_ca: Option<PathBuf>,
    /// Notification webhook: every event is POSTed here as JSON, signed with the secret of
    /// `--webhook-secret-file` (`X-Greenlight-Signature`, see the README).
    #[arg(
        long,
        env = "GREENLIGHT_WEBHOOK_URL",
        value_name = "URL",
        requires = "webhook_secret_file",
        help_heading = "Notifications"
    )]
    pub webhook_url: Option<String>,
    /// A file whose first line is the webhook's shared secret (16 characters or more).
    #[arg(
        long,
        env = "GREENLIGHT_WEBHOOK_SECRET_FILE",
        value_name = "PATH",
        requires = "webhook_url",
        help_heading = "Notifications"
    )]
    pub webhook_secret_file: Option<PathBuf>,
    /// Delivery attempts of a notification before it is marked failed.
    #[arg(long, env = "GREENLIGHT_NOTIFY_ATTEMPTS", value_name = "N", default_value_t = DEFAULT_NOTIFY_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..), help_heading = "Notifications")]
    pub notify_attempts: u32,
    /// Milliseconds before the second attempt; the delay doubles after each failure (at most
    /// an hour).
    #[arg(long, env = "GREENLIGHT_NOTIFY_RETRY_MS", value_name = "MS", default_value_t = DEFAULT_NOTIFY_RETRY_MS, help_heading = "Notifications")]
    pub notify_retry_ms: u64,
    /// How often, in milliseconds, the outbox is looked at for due notifications.
    #[arg(long, env = "GREENLIGHT_NOTIFY_POLL_MS", value_name = "MS", default_value_t = DEFAULT_NOTIFY_POLL_MS, help_heading = "Notifications")]
    pub notify_poll_ms: u64,
    /// Days ahead of an approval's or a consent's expiry when its `expiring` notification is
    /// sent (once per record and expiry date); 0 sends none.
    #[arg(long, env = "GREENLIGHT_EXPIRING_DAYS", value_name = "DAYS", default_value_t = DEFAULT_EXPIRING_DAYS, value_parser = clap::value_parser!(u32).range(0..=366), help_heading = "Notifications")]
    pub expiring_days: u32,
    /// How often, in milliseconds, approvals and consents are looked at for one nearing its
    /// expiry.
    #[arg(long, env = "GREENLIGHT_EXPIRING_SWEEP_MS", value_name = "MS", default_value_t = DEFAULT_EXPIRING_SWEEP_MS, help_heading = "Notifications")]
    pub expiring_sweep_ms: u64,
}

/// Days ahead of an expiry when its notification is sent, by default.
pub const DEFAULT_EXPIRING_DAYS: u32 = 14;
/// How often the expiry sweep runs by default, in milliseconds (an hour).
pub const DEFAULT_EXPIRING_SWEEP_MS: u64 = 3_600_000;

/// Delivery attempts of a notification by default.
pub const DEFAULT_NOTIFY_ATTEMPTS: u32 = 8;
/// The first retry delay of a notification by default, in milliseconds.
pub const DEFAULT_NOTIFY_RETRY_MS: u64 = 30_000;
/// How often the outbox is polled by default, in milliseconds.
pub const DEFAULT_NOTIFY_POLL_MS: u64 = 2_000;

/// A secret taken from the command line or the environment: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Secret(text.to_owned()))
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            secure_cookies: false,
            tls_cert: None,
            tls_key: None,
            trusted_proxies: Vec::new(),
            policies: Vec::new(),
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_client_secret_file: None,
            oidc_redirect_url: None,
            oidc_provider_name: None,
            oidc_provision: false,
            stamp_trust: None,
            smtp_url: None,
            smtp_from: None,
            smtp_ca: None,
            webhook_url: None,
            webhook_secret_file: None,
            notify_attempts: DEFAULT_NOTIFY_ATTEMPTS,
            notify_retry_ms: DEFAULT_NOTIFY_RETRY_MS,
            notify_poll_ms: DEFAULT_NOTIFY_POLL_MS,
            expiring_days: DEFAULT_EXPIRING_DAYS,
            expiring_sweep_ms: DEFAULT_EXPIRING_SWEEP_MS,
        }
    }
}

impl ServerConfig {
    /// The signers whose stamps a remote scanner's evidence may be trusted for.
    pub fn stamp_signers(&self) -> &StampSigners {
        static NONE: std::sync::LazyLock<StampSigners> =
            std::sync::LazyLock::new(StampSigners::default);
        self.stamp_trust.as_ref().unwrap_or(&NONE)
    }

    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout)
    }

    /// The shutdown grace period as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }
}

/// Reads `--stamp-trust`: the signer certificates of a PEM file.
pub fn parse_stamp_trust(path: &str) -> Result<StampSigners, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the stamp trust list `{path}`: {e}"))?;
    StampSigners::from_pem(&text).map_err(|e| format!("the stamp trust list `{path}`: {e}"))
}

/// Reads a `--trusted-proxy`: a CIDR range, or one address (a range of one). Bits set past
/// the prefix are dropped (`10.1.2.3/8` is `10.0.0.0/8`).
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
        format!("`{text}` is not an address or a CIDR range (such as `10.0.0.0/8` or `fd00::/8`)")
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn the_defaults_of_the_flags_are_the_defaults_in_code() {
        let parsed = ServerConfig::try_parse_from(["serve"]).unwrap();
        assert_eq!(parsed, ServerConfig::default());
    }

    #[test]
    fn tls_needs_both_files_and_proxies_are_ranges() {
        let parsed = ServerConfig::try_parse_from([
            "serve",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
            "--trusted-proxy",
            "10.1.2.3/8",
            "--trusted-proxy",
            "::1",
        ])
        .unwrap();
        assert_eq!(parsed.tls_cert, Some(PathBuf::from("cert.pem")));
        assert_eq!(
            parsed.trusted_proxies,
            vec![
                "10.0.0.0/8".parse::<IpNet>().unwrap(),
                "::1/128".parse().unwrap()
            ]
        );
        let alone = ServerConfig::try_parse_from(["serve", "--tls-cert", "cert.pem"]).unwrap_err();
        assert!(alone.to_string().contains("--tls-key"), "{alone}");
        let bad = ServerConfig::try_parse_from(["serve", "--trusted-proxy", "10.0.0.0/33"])
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("`10.0.0.0/33` is not an address or a CIDR range"),
            "{bad}"
        );
    }

    #[test]
    fn oidc_needs_a_client_and_hides_its_secret() {
        let parsed = ServerConfig::try_parse_from([
            "serve",
            "--oidc-issuer",
            "https://studio.okta.com",
            "--oidc-client-id",
            "greenlight",
            "--oidc-client-secret",
            "s3cret-value",
            "--oidc-redirect-url",
            "https://greenlight.example/api/v1/session/oidc/callback",
        ])
        .unwrap();
        assert_eq!(parsed.oidc_client_id.as_deref(), Some("greenlight"));
        assert!(!format!("{parsed:?}").contains("s3cret-value"));
        let alone = ServerConfig::try_parse_from(["serve", "--oidc-issuer", "https://x.example"])
            .unwrap_err()
            .to_string();
        assert!(alone.contains("--oidc-client-id"), "{alone}");
        let both = ServerConfig::try_parse_from([
            "serve",
            "--oidc-issuer",
            "https://x.example",
            "--oidc-client-id",
            "g",
            "--oidc-redirect-url",
            "https://g.example/cb",
            "--oidc-client-secret",
            "a",
            "--oidc-client-secret-file",
            "b",
        ])
        .unwrap_err()
        .to_string();
        assert!(both.contains("cannot be used with"), "{both}");
    }
}
