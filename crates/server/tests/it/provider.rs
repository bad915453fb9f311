//! A small OpenID provider for the OIDC tests, served on `127.0.0.1:0` by the test itself:
//! discovery, a JWKS with an RSA key made at start, `/authorize` that sends the browser back
//! with a code at once (the person "signs in" as whoever the test says), and `/token` that
//! checks the client's secret, the redirect URI and the PKCE verifier, and returns an ID
//! token signed with the key (or, when the test asks, another key, an expired one, another
//! audience or another nonce).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{Duration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AdditionalClaims, Audience, EndUserEmail, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey as _, StandardClaims,
    SubjectIdentifier,
};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::oneshot;

/// The client greenlight is registered as.
pub const CLIENT_ID: &str = "greenlight-test";
/// Its secret.
pub const CLIENT_SECRET: &str = "test-client-secret-never-logged";

/// Who the next sign-in is, and what is wrong with its ID token, if anything.
#[derive(Clone, Debug)]
pub struct Person {
    pub subject: String,
    pub email: Option<String>,
    /// `email_verified`, or none (as Entra ID sends it).
    pub email_verified: Option<bool>,
    /// Entra ID's optional `xms_edov` claim, as the provider sends it.
    pub xms_edov: Option<serde_json::Value>,
    /// The audience, when not the client's.
    pub audience: Option<String>,
    /// The nonce, when not the sign-in's.
    pub nonce: Option<String>,
    /// The token expired an hour ago.
    pub expired: bool,
    /// The token is signed with a key the JWKS does not hold (under the same key id).
    pub foreign_key: bool,
}

impl Person {
    pub fn new(subject: &str, email: &str) -> Person {
        Person {
            subject: subject.to_owned(),
            email: Some(email.to_owned()),
            email_verified: Some(true),
            xms_edov: None,
            audience: None,
            nonce: None,
            expired: false,
            foreign_key: false,
        }
    }
}

/// The claims beyond the standard ones this provider may put in an ID token.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Extra {
    #[serde(skip_serializing_if = "Option::is_none")]
    xms_edov: Option<serde_json::Value>,
}

impl AdditionalClaims for Extra {}

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    person: Person,
}

struct Inner {
    issuer: String,
    person: Mutex<Person>,
    codes: Mutex<HashMap<String, Grant>>,
}

/// A running provider.
pub struct Provider {
    /// Its issuer: `http://127.0.0.1:PORT`.
    pub issuer: String,
    inner: Arc<Inner>,
    _shutdown: oneshot::Sender<()>,
}

/// The keys, made once per test run (a 2048-bit RSA key takes a moment): the one the JWKS
/// publishes and another under the same key id.
fn keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem = || {
            let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
            key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
                .unwrap()
                .to_string()
        };
        (pem(), pem())
    })
}

fn signing_key(foreign: bool) -> CoreRsaPrivateSigningKey {
    let (published, other) = keys();
    let pem = if foreign { other } else { published };
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("key-1".to_owned()))).unwrap()
}

impl Provider {
    /// Starts a provider; its first person is `person`.
    pub async fn start(person: Person) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let _ = keys();
        let inner = Arc::new(Inner {
            issuer: issuer.clone(),
            person: Mutex::new(person),
            codes: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(Arc::clone(&inner));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Provider {
            issuer,
            inner,
            _shutdown: tx,
        }
    }

    /// Who signs in next.
    pub fn sign_in_as(&self, person: Person) {
        *self.inner.person.lock().unwrap() = person;
    }
}

async fn discovery(State(inner): State<Arc<Inner>>) -> Response {
    let issuer = &inner.issuer;
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "email", "email_verified", "name"],
    }))
    .into_response()
}

async fn jwks() -> Response {
    let set = CoreJsonWebKeySet::new(vec![signing_key(false).as_verification_key()]);
    axum::Json(serde_json::to_value(&set).unwrap()).into_response()
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    nonce: String,
    code_challenge: String,
    code_challenge_method: String,
}

async fn authorize(State(inner): State<Arc<Inner>>, Query(q): Query<AuthorizeQuery>) -> Response {
    if q.response_type != "code"
        || q.client_id != CLIENT_ID
        || q.code_challenge_method != "S256"
        || !q.scope.split(' ').any(|s| s == "openid")
    {
        return (
            StatusCode::BAD_REQUEST,
            "not a code flow with PKCE for the client",
        )
            .into_response();
    }
    let code = format!("code-{}", uuid::Uuid::now_v7().simple());
    let person = inner.person.lock().unwrap().clone();
    inner.codes.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: q.nonce,
            challenge: q.code_challenge,
            redirect_uri: q.redirect_uri.clone(),
            person,
        },
    );
    let mut url = url::Url::parse(&q.redirect_uri).unwrap();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &q.state);
    Redirect::to(url.as_str()).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

fn token_error(code: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": code}))).into_response()
}

async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(format!("Basic {basic}").as_str());
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    if form.grant_type != "authorization_code" {
        return token_error("unsupported_grant_type");
    }
    // A code is redeemed once.
    let Some(grant) = inner.codes.lock().unwrap().remove(&form.code) else {
        return token_error("invalid_grant");
    };
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(form.code_verifier));
    if challenge.as_str() != grant.challenge || form.redirect_uri != grant.redirect_uri {
        return token_error("invalid_grant");
    }
    let person = grant.person;
    let now = Utc::now();
    let (issued, expires) = if person.expired {
        (now - Duration::hours(2), now - Duration::hours(1))
    } else {
        (now, now + Duration::minutes(5))
    };
    let mut standard = StandardClaims::new(SubjectIdentifier::new(person.subject.clone()));
    standard = standard
        .set_email(person.email.clone().map(EndUserEmail::new))
        .set_email_verified(person.email_verified);
    let claims = IdTokenClaims::<Extra, CoreGenderClaim>::new(
        IssuerUrl::new(inner.issuer.clone()).unwrap(),
        vec![Audience::new(
            person
                .audience
                .clone()
                .unwrap_or_else(|| CLIENT_ID.to_owned()),
        )],
        expires,
        issued,
        standard,
        Extra {
            xms_edov: person.xms_edov.clone(),
        },
    )
    .set_nonce(Some(Nonce::new(
        person.nonce.clone().unwrap_or(grant.nonce),
    )));
    let id_token = IdToken::<
        Extra,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >::new(
        claims,
        &signing_key(person.foreign_key),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap();
    axum::Json(json!({
        "access_token": format!("at-{}", uuid::Uuid::now_v7().simple()),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token.to_string(),
    }))
    .into_response()
}
