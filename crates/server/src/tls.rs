//! HTTPS: rustls with the ring provider, from a PEM certificate chain and private key.
//!
//! [`Tls::load`] reads both files once, at start, and says what is wrong with either, naming
//! the file: unreadable, no PEM certificate (or a key where the certificate should be), no
//! private key, a key that is not the certificate's. The server offers ALPN `h2` and
//! `http/1.1`; a client has [`HANDSHAKE_TIMEOUT`] to finish its handshake.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::{self, PemObject as _, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::ServerConfig;

/// A client must finish its TLS handshake within this time, or the connection is closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What is wrong with the certificate or key given to [`Tls::load`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file cannot be read.
    #[error("cannot read the TLS {what} `{}`: {source}", path.display())]
    Read {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not well-formed PEM.
    #[error("the TLS {what} `{}` is not well-formed PEM: {message}", path.display())]
    Pem {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        message: String,
    },
    /// The certificate file has no certificate.
    #[error(
        "the TLS certificate `{}` holds no certificate (a PEM `BEGIN CERTIFICATE` block){hint}",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// A guess at the mistake, or nothing.
        hint: &'static str,
    },
    /// The key file has no private key.
    #[error(
        "the TLS private key `{}` holds no private key (a PEM `BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY` or `BEGIN EC PRIVATE KEY` block){hint}",
        path.display()
    )]
    NoKey {
        /// The file.
        path: PathBuf,
        /// A guess at the mistake, or nothing.
        hint: &'static str,
    },
    /// The key is not the certificate's.
    #[error(
        "the TLS private key `{}` is not the key of the certificate `{}`",
        key.display(),
        cert.display()
    )]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refuses the pair for another reason (an unsupported key type, a certificate
    /// that does not parse).
    #[error(
        "the TLS certificate `{}` and private key `{}` cannot be used: {message}",
        cert.display(),
        key.display()
    )]
    Unusable {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        message: String,
    },
}

/// The server's TLS: its certificate and key, loaded, and the protocols it offers.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// The TLS that `config` asks for (`--tls-cert` and `--tls-key`), or `None` for plain HTTP.
    pub fn from_config(config: &ServerConfig) -> Result<Option<Tls>, TlsError> {
        match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Tls::load(cert, key).map(Some),
            _ => Ok(None),
        }
    }

    /// Reads the certificate chain at `cert` and the private key at `key` (both PEM).
    pub fn load(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        let cert_pem = read(cert, "certificate")?;
        let key_pem = read(key, "private key")?;
        let cert_sections = sections(cert, "certificate", &cert_pem)?;
        let chain: Vec<CertificateDer<'static>> = cert_sections
            .iter()
            .filter(|(kind, _)| *kind == SectionKind::Certificate)
            .map(|(_, der)| CertificateDer::from(der.clone()))
            .collect();
        if chain.is_empty() {
            let hint = if cert_sections.iter().any(|(kind, _)| is_key(*kind)) {
                ": it holds a private key; are `--tls-cert` and `--tls-key` swapped?"
            } else {
                ""
            };
            return Err(TlsError::NoCertificate {
                path: cert.to_owned(),
                hint,
            });
        }
        let key_sections = sections(key, "private key", &key_pem)?;
        let private_key = match PrivateKeyDer::from_pem_slice(&key_pem) {
            Ok(private_key) => private_key,
            Err(pem::Error::NoItemsFound) => {
                let hint = if key_sections
                    .iter()
                    .any(|(kind, _)| *kind == SectionKind::Certificate)
                {
                    ": it holds a certificate; are `--tls-cert` and `--tls-key` swapped?"
                } else {
                    ""
                };
                return Err(TlsError::NoKey {
                    path: key.to_owned(),
                    hint,
                });
            }
            Err(e) => {
                return Err(TlsError::Pem {
                    what: "private key",
                    path: key.to_owned(),
                    message: e.to_string(),
                });
            }
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let unusable = |e: rustls::Error| TlsError::Unusable {
            cert: cert.to_owned(),
            key: key.to_owned(),
            message: e.to_string(),
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
                    cert: cert.to_owned(),
                    key: key.to_owned(),
                },
                e => unusable(e),
            })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The acceptor that runs a connection's handshake.
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Every PEM section of a file, or what is wrong with its PEM.
fn sections(
    path: &Path,
    what: &'static str,
    text: &[u8],
) -> Result<Vec<(SectionKind, Vec<u8>)>, TlsError> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what,
            path: path.to_owned(),
            message: e.to_string(),
        })
}

fn is_key(kind: SectionKind) -> bool {
    matches!(
        kind,
        SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
    )
}
