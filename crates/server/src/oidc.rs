//! OIDC sign-in, the protocol's half (the `openidconnect` crate): discovery, the
//! authorization URL with PKCE (S256), `state` and nonce, the code exchange, and the ID
//! token's checks (signature against the provider's JWKS, issuer, audience, expiry, nonce).
//!
//! Nothing of a sign-in in flight is kept in the process: its `state`, nonce and PKCE
//! verifier are in the ledger (`Ledger::begin_oidc`, taken once by
//! `Ledger::take_oidc_request`), so the callback may reach any instance. The provider's
//! discovery document and keys are cached here ([`METADATA_TTL`]), as any instance may fetch
//! them again; a token whose signature does not verify has them fetched again once, so a
//! provider's rotated keys are picked up.
//!
//! Nothing logged or answered holds a code, a token or the client secret: errors are
//! said in this module's own words.

use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims,
    IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::config::ServerConfig;

/// The ID token's claims beyond the standard ones that greenlight reads.
///
/// Entra ID sends no `email_verified`; its optional claim `xms_edov` ("email domain owner
/// verified", which a tenant adds to the application's token configuration) says the same
/// of the `email` claim, and is what Microsoft tells applications to check before they
/// trust an email to find an account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtraClaims {
    /// Entra ID's `xms_edov`: sent as a boolean, or as `1`/`"1"`/`"true"` by some
    /// configurations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xms_edov: Option<serde_json::Value>,
}

impl AdditionalClaims for ExtraClaims {}

impl ExtraClaims {
    /// Whether `xms_edov` says the email's domain owner verified it.
    fn domain_owner_verified(&self) -> bool {
        match &self.xms_edov {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::Number(n)) => n.as_u64() == Some(1),
            Some(serde_json::Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
}

/// The ID token claims greenlight verifies.
pub type Claims = IdTokenClaims<ExtraClaims, CoreGenderClaim>;

/// The token endpoint's answer, with [`ExtraClaims`] in its ID token.
type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// The OIDC client as built from a provider's discovery document: the core client's types
/// with [`ExtraClaims`].
type Client = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long a discovery document and its keys are used before being fetched again.
pub const METADATA_TTL: Duration = Duration::from_secs(3600);
/// A token that fails its signature fetches the keys again when they are older than this.
const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// How long one request to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The OpenID provider a server signs people in with, from `--oidc-*`.
pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    provider_name: String,
    provision: bool,
    http: reqwest::Client,
    metadata: Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .field("redirect", &self.redirect.as_str())
            .finish_non_exhaustive()
    }
}

/// Why a sign-in cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcError {
    /// The provider cannot be reached, or answers with something that is not OIDC (502).
    Provider(String),
    /// The provider's answer does not sign this person in (a bad or foreign token, an error
    /// from the provider): refused, and recorded as a failed sign-in.
    Refused(String),
}

/// A sign-in begun: where to send the browser, and what the ledger keeps.
#[derive(Debug)]
pub struct Begun {
    /// The provider's authorization URL.
    pub url: String,
    /// The `state` in it.
    pub state: String,
    /// The nonce in it.
    pub nonce: String,
    /// The PKCE verifier of its challenge.
    pub pkce_verifier: String,
}

/// What a verified ID token says.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The subject.
    pub subject: String,
    /// The email claim.
    pub email: Option<String>,
    /// `email_verified`.
    pub email_verified: bool,
    /// The name claim.
    pub name: Option<String>,
}

impl Oidc {
    /// The provider `--oidc-*` configure, when `--oidc-issuer` is set; the client secret is
    /// read here (its file once), and every URL checked, with errors naming the option.
    pub fn from_config(config: &ServerConfig) -> Result<Option<Oidc>, String> {
        let Some(issuer) = &config.oidc_issuer else {
            return Ok(None);
        };
        let issuer = IssuerUrl::new(issuer.trim().to_owned())
            .map_err(|e| format!("`--oidc-issuer` `{issuer}` is not a URL: {e}"))?;
        let client_id = config
            .oidc_client_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .ok_or("`--oidc-issuer` needs `--oidc-client-id`")?;
        let redirect = config
            .oidc_redirect_url
            .as_deref()
            .ok_or("`--oidc-issuer` needs `--oidc-redirect-url`")?;
        let redirect = RedirectUrl::new(redirect.trim().to_owned())
            .map_err(|e| format!("`--oidc-redirect-url` `{redirect}` is not a URL: {e}"))?;
        let secret = match (&config.oidc_client_secret, &config.oidc_client_secret_file) {
            (Some(secret), _) => Some(secret.0.trim().to_owned()),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!(
                        "cannot read the OIDC client secret from `{}`: {e}",
                        path.display()
                    )
                })?;
                let line = text.lines().next().unwrap_or_default().trim().to_owned();
                if line.is_empty() {
                    return Err(format!(
                        "the OIDC client secret file `{}` is empty",
                        path.display()
                    ));
                }
                Some(line)
            }
            (None, None) => None,
        };
        let http = reqwest::Client::builder()
            // A provider's redirect is never followed: it could point anywhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot make the HTTP client for OIDC: {e}"))?;
        Ok(Some(Oidc {
            issuer,
            client_id: ClientId::new(client_id.trim().to_owned()),
            client_secret: secret.filter(|s| !s.is_empty()).map(ClientSecret::new),
            redirect,
            provider_name: config
                .oidc_provider_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "your provider".to_owned()),
            provision: config.oidc_provision,
            http,
            metadata: Mutex::new(None),
        }))
    }

    /// The issuer, as configured.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// The provider's name as shown to people.
    pub fn provider_name(&self) -> &str {
        &self.provider_name
    }

    /// Whether an unknown verified email gets an account.
    pub fn provision(&self) -> bool {
        self.provision
    }

    /// The discovery document and keys: cached, or fetched when older than `max_age`.
    pub async fn metadata(&self, max_age: Duration) -> Result<CoreProviderMetadata, OidcError> {
        let mut cached = self.metadata.lock().await;
        if let Some((metadata, at)) = cached.as_ref()
            && at.elapsed() < max_age
        {
            return Ok(metadata.clone());
        }
        let fetched = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                let why = match &e {
                    openidconnect::DiscoveryError::Request(_) => "it cannot be reached".to_owned(),
                    openidconnect::DiscoveryError::Response(status, _, _) => {
                        format!("it answered {status}")
                    }
                    openidconnect::DiscoveryError::Parse(_) => {
                        "its discovery document cannot be read".to_owned()
                    }
                    openidconnect::DiscoveryError::Validation(why) => why.clone(),
                    _ => "its discovery failed".to_owned(),
                };
                tracing::warn!(issuer = self.issuer.as_str(), error = %e, "OIDC discovery failed");
                OidcError::Provider(format!(
                    "the OpenID provider `{}` is not answering as one: {why}; try again later",
                    self.issuer.as_str()
                ))
            })?;
        *cached = Some((fetched.clone(), Instant::now()));
        Ok(fetched)
    }

    /// A sign-in to begin: the authorization URL (code flow, PKCE S256, `state`, nonce;
    /// scopes `openid email profile`).
    pub async fn begin(&self) -> Result<Begun, OidcError> {
        let metadata = self.metadata(METADATA_TTL).await?;
        let client = Client::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Begun {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Redeems a code (with the sign-in's PKCE verifier) and verifies the ID token against
    /// the sign-in's nonce.
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<Verified, OidcError> {
        let metadata = self.metadata(METADATA_TTL).await?;
        let client = Client::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone());
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| {
                OidcError::Provider(format!(
                    "the OpenID provider `{}` names no token endpoint",
                    self.issuer.as_str()
                ))
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()));
        let response = request.request_async(&self.http).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(error) => OidcError::Refused(format!(
                "the provider refused the code: `{}`",
                error.error()
            )),
            RequestTokenError::Request(_) => OidcError::Provider(format!(
                "the OpenID provider `{}` cannot be reached to redeem the code; try again",
                self.issuer.as_str()
            )),
            // The body may hold tokens: it is neither logged nor answered.
            RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => {
                OidcError::Provider(format!(
                    "the OpenID provider `{}` answered the code exchange with something that is not a token response",
                    self.issuer.as_str()
                ))
            }
        })?;
        let Some(id_token) = response.id_token() else {
            return Err(OidcError::Refused(
                "the provider's answer has no ID token".to_owned(),
            ));
        };
        let nonce = Nonce::new(nonce.to_owned());
        let claims: Claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                // The provider may have rotated its keys: fetch them again, once.
                let metadata = self.metadata(REFETCH_AFTER).await?;
                let client = Client::from_provider_metadata(
                    metadata,
                    self.client_id.clone(),
                    self.client_secret.clone(),
                );
                id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(refusal)?
                    .clone()
            }
            Err(e) => return Err(refusal(e)),
        };
        Ok(verified(&claims))
    }
}

fn verified(claims: &Claims) -> Verified {
    Verified {
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        // `email_verified` when the provider sends it (Okta, Google, Keycloak…); without it,
        // Entra ID's `xms_edov`. A provider's `email_verified: false` is never overridden.
        email_verified: claims
            .email_verified()
            .unwrap_or_else(|| claims.additional_claims().domain_owner_verified()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
    }
}

/// A failed check of the ID token, in words.
fn refusal(error: ClaimsVerificationError) -> OidcError {
    OidcError::Refused(match error {
        ClaimsVerificationError::Expired(_) => "the ID token has expired".to_owned(),
        ClaimsVerificationError::InvalidAudience(_) => {
            "the ID token is not for this client (its audience is another)".to_owned()
        }
        ClaimsVerificationError::InvalidIssuer(_) => {
            "the ID token is from another issuer".to_owned()
        }
        ClaimsVerificationError::InvalidNonce(_) => {
            "the ID token's nonce is not this sign-in's".to_owned()
        }
        ClaimsVerificationError::SignatureVerification(_) => {
            "the ID token's signature does not verify against the provider's keys".to_owned()
        }
        ClaimsVerificationError::InvalidSubject(_) => "the ID token has no subject".to_owned(),
        other => format!("the ID token is not valid: {other}"),
    })
}
