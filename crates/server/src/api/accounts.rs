//! Accounts over HTTP: signing in and out (`/api/v1/session`), who am I (`/api/v1/me`),
//! API tokens (`/api/v1/tokens`) and users (`/api/v1/users`, admin).
//!
//! Handlers extract, ask `authorize`, make one ledger call and render. A user is never
//! served with its password hash, a token never with its secret (but once, on creation).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use greenlight_store::{
    Action, ApiToken, GlobalRole, Login, NewToken, NewUser, ProductionId, TokenRole, User,
    generate_password,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::problems::{JsonBody, NotSignedIn};
use crate::auth::{Caller, Credential, SESSION_COOKIE, session_cookie};
use crate::client::Scheme;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, ClientAddress, Later};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, logout))
        .routes(routes!(me))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_users, create_user))
        .routes(routes!(set_roles))
}

/// An account, as served: never its password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// The login: the actor its changes record.
    pub login: String,
    /// The display name.
    pub name: String,
    /// Global roles: `admin`, `auditor`.
    pub roles: Vec<String>,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        UserView {
            login: user.login.clone(),
            name: user.name.clone(),
            roles: user.roles.iter().map(|r| r.to_string()).collect(),
            disabled: user.disabled,
            created_at: user.created_at.to_string(),
            created_by: user.created_by.clone(),
        }
    }
}

/// An API token, as served: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Its id: the sha256 of the secret.
    pub id: String,
    /// The account it acts for.
    pub user: String,
    /// What it is for.
    pub name: String,
    /// The productions it may act on; empty: every production of its account.
    pub productions: Vec<String>,
    /// The most it may do (a global or a production role).
    pub role: String,
    /// When it was created.
    pub created_at: String,
    /// When it stops working.
    pub expires_at: String,
    /// When it was revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Its last recorded use (written at most once a minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

impl From<&ApiToken> for TokenView {
    fn from(token: &ApiToken) -> Self {
        TokenView {
            id: token.id.clone(),
            user: token.user_login.clone(),
            name: token.name.clone(),
            productions: token.productions.iter().map(|p| p.to_string()).collect(),
            role: token.role.to_string(),
            created_at: token.created_at.to_string(),
            expires_at: token.expires_at.to_string(),
            revoked_at: token.revoked.as_ref().map(|r| r.at.to_string()),
            last_used_at: token.last_used_at.map(|t| t.to_string()),
        }
    }
}

/// A sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login.
    pub login: String,
    /// The password.
    pub password: String,
}

/// A session begun: the account and the CSRF token every unsafe request must send back in
/// `X-CSRF-Token`. The session itself is the `greenlight_session` cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The account.
    pub user: UserView,
    /// The CSRF token.
    pub csrf_token: String,
    /// When the session ends, however much it is used.
    pub expires_at: String,
}

/// Who is calling.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// The account.
    pub user: UserView,
    /// `session` or `token`.
    pub via: &'static str,
    /// The token called with, when it was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenView>,
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What it is for.
    pub name: String,
    /// The account it acts for (admins only; default: the caller).
    #[serde(default)]
    pub user: Option<String>,
    /// The productions it may act on (ids); empty: every production of its account.
    #[serde(default)]
    pub productions: Vec<String>,
    /// The most it may do: `admin`, `auditor`, or a production role (`vendor`, …).
    pub role: String,
    /// How many days it works (1 to 366).
    pub expires_in_days: u32,
}

/// A token just created, with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenView {
    /// The token.
    pub token: TokenView,
    /// The secret to send as `Authorization: Bearer …`; it is kept nowhere.
    pub secret: String,
}

/// An account to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    /// The login.
    pub login: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// Global roles: `admin`, `auditor`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The password (12 characters or more); without one, one is generated and returned once.
    #[serde(default)]
    pub password: Option<String>,
}

/// An account just created, and its password when it was generated.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserView {
    /// The account.
    pub user: UserView,
    /// The generated password, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// An account's new global roles.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    /// Global roles: `admin`, `auditor`; empty removes them all.
    pub roles: Vec<String>,
}

/// A list of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// The tokens, oldest id first.
    pub tokens: Vec<TokenView>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// The users, by login.
    pub users: Vec<UserView>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

fn global_roles(names: &[String], field: &str) -> Result<Vec<GlobalRole>, ApiError> {
    names
        .iter()
        .map(|name| {
            GlobalRole::ALL
                .into_iter()
                .find(|r| r.as_str() == name)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        field,
                        format!("`{name}` is not a global role: use `admin` or `auditor`"),
                    )
                })
        })
        .collect()
}

/// The `Set-Cookie` value of a session cookie (`HttpOnly`, `SameSite=Strict`).
pub(crate) fn session_cookie_header(
    value: &str,
    max_age: i64,
    secure: bool,
) -> Result<HeaderValue, ApiError> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(crate::error::Cause::new(e)))
}

/// Whether the session cookie is `Secure`: over HTTPS (here, or at a trusted proxy that says
/// so), or whenever `--secure-cookies` is set.
pub(crate) fn secure(state: &AppState, scheme: Scheme) -> bool {
    state.config.secure_cookies || scheme == Scheme::Https
}

/// Sign in: a session cookie, and the CSRF token.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 201, description = "signed in; the session is the `greenlight_session` cookie", body = SessionView),
        (status = 400, description = "the body is not a sign-in", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "wrong login or password, or a disabled account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the login is not one a user can have (empty or too long)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed sign-ins; `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    scheme: Scheme,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    // Checking a password is slow by design (argon2id): it runs on a blocking thread, so the
    // workers go on answering other requests meanwhile.
    let ledger = state.ledger.get().await?.clone();
    let runtime = tokio::runtime::Handle::current();
    let login = tokio::task::spawn_blocking(move || {
        runtime.block_on(ledger.login(&request.login, &request.password, &address))
    })
    .await
    .map_err(|e| ApiError::Internal(crate::error::Cause::new(e)))??;
    match login {
        Login::SignedIn(signed) => {
            let max_age = (signed.session.expires_at.as_datetime()
                - signed.session.created_at.as_datetime())
            .num_seconds();
            let set_cookie =
                session_cookie_header(&signed.cookie, max_age, secure(&state, scheme))?;
            let body = SessionView {
                user: UserView::from(&signed.user),
                csrf_token: signed.csrf_token,
                expires_at: signed.session.expires_at.to_string(),
            };
            let mut response = (StatusCode::CREATED, Json(body)).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, set_cookie);
            Ok(response)
        }
        Login::Refused { message } => Err(ApiError::Unauthenticated(message)),
        Login::Throttled {
            retry_after,
            message,
        } => Err(ApiError::TooManyRequests {
            retry_after,
            message,
        }),
    }
}

/// Sign out: the session ends, and its cookie is cleared.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "accounts",
    responses(
        (status = 204, description = "signed out"),
        (status = 403, description = "no CSRF token, or the wrong one", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    scheme: Scheme,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if caller.credential == Credential::Token {
        return Err(ApiError::Unauthenticated(
            "an API token has no session to end: revoke it instead".to_owned(),
        ));
    }
    let value = session_cookie(&headers).unwrap_or_default().to_owned();
    let ledger = state.ledger.get().await?;
    ledger.logout(&value).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie_header("", 0, secure(&state, scheme))?,
    );
    Ok(response)
}

/// Who is calling, and how.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    responses(
        (status = 200, description = "the caller", body = MeView),
        (status = 401, description = "no credential, or one that no longer works", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<MeView>, ApiError> {
    let ledger = state.ledger.get().await?;
    let user = ledger.user(caller.login()).await?;
    let token = match &caller.principal.token {
        Some(grant) => Some(TokenView::from(&ledger.token(&grant.token_id).await?)),
        None => None,
    };
    Ok(Json(MeView {
        user: UserView::from(&user),
        via: if token.is_some() { "token" } else { "session" },
        token,
    }))
}

/// The caller's API tokens (an admin's: add nothing; every account's own).
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "accounts",
    responses(
        (status = 200, description = "the caller's tokens, never their secrets", body = TokenList),
        (status = 403, description = "an API token cannot manage tokens", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    caller.authorize(Action::ManageOwnTokens, None)?;
    let ledger = state.ledger.get().await?;
    let tokens = ledger.tokens_of(caller.login()).await?;
    Ok(Json(TokenList {
        tokens: tokens.iter().map(TokenView::from).collect(),
    }))
}

/// Create an API token; its secret is in this answer and nowhere else.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "accounts",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "the token and its secret, shown once", body = IssuedTokenView),
        (status = 400, description = "the body is not a token request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not allowed, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    body: Later<ApiJson<TokenRequest>>,
) -> Result<(StatusCode, Json<IssuedTokenView>), ApiError> {
    caller.authorize(Action::ManageOwnTokens, None)?;
    let ApiJson(request) = body.read(&state).await?;
    let user = match request.user {
        Some(user) if user != caller.login() => {
            caller.authorize(Action::ManageUsers, None)?;
            user
        }
        _ => caller.login().to_owned(),
    };
    let role: TokenRole = request
        .role
        .parse()
        .map_err(|e: String| ApiError::invalid_field("role", e))?;
    if !(1..=366).contains(&request.expires_in_days) {
        return Err(ApiError::invalid_field(
            "expires_in_days",
            format!(
                "a token works for 1 to 366 days, not {}",
                request.expires_in_days
            ),
        ));
    }
    let productions = request
        .productions
        .iter()
        .map(|p| {
            p.parse::<ProductionId>()
                .map_err(|e| ApiError::invalid_field("productions", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ledger = state.ledger.get().await?;
    let expires_at = ledger
        .now()
        .plus(chrono::TimeDelta::days(i64::from(request.expires_in_days)));
    let issued = ledger
        .create_token(
            caller.login(),
            NewToken {
                user_login: user,
                name: request.name,
                productions,
                role,
                expires_at,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedTokenView {
            token: TokenView::from(&issued.token),
            secret: issued.secret,
        }),
    ))
}

/// Revoke an API token: it is refused from then on.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "accounts",
    params(("id" = String, Path, description = "the token's id")),
    responses(
        (status = 200, description = "the token, revoked", body = TokenView),
        (status = 403, description = "another account's token, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "already revoked", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, ApiError> {
    caller.authorize(Action::ManageOwnTokens, None)?;
    let ledger = state.ledger.get().await?;
    let token = ledger.token(&id).await?;
    if token.user_login != caller.login() {
        caller.authorize(Action::ManageUsers, None)?;
    }
    let revoked = ledger.revoke_token(caller.login(), &id).await?;
    Ok(Json(TokenView::from(&revoked)))
}

/// The accounts, by login (admin).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "accounts",
    params(
        ("after" = Option<String>, Query, description = "the `next` of the previous page"),
        ("limit" = Option<u32>, Query, description = "at most this many (1 to 1000, default 100)"),
    ),
    responses(
        (status = 200, description = "a page of accounts", body = UserList),
        (status = 400, description = "the query string is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<UserList>, ApiError> {
    caller.authorize(Action::ManageUsers, None)?;
    let ledger = state.ledger.get().await?;
    let page = ledger
        .users(page.after.as_deref(), page.limit.unwrap_or(100))
        .await?;
    Ok(Json(UserList {
        users: page.items.iter().map(UserView::from).collect(),
        next: page.next,
    }))
}

/// A page of a listing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// Create an account (admin).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "accounts",
    request_body = UserRequest,
    responses(
        (status = 201, description = "the account, and its password when generated", body = CreatedUserView),
        (status = 400, description = "the body is not a user", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the login is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    body: Later<ApiJson<UserRequest>>,
) -> Result<(StatusCode, Json<CreatedUserView>), ApiError> {
    caller.authorize(Action::ManageUsers, None)?;
    let ApiJson(request) = body.read(&state).await?;
    let roles = global_roles(&request.roles, "roles")?;
    let (password, generated) = match request.password {
        Some(password) => (password, None),
        None => {
            let password = generate_password()?;
            (password.clone(), Some(password))
        }
    };
    let ledger = state.ledger.get().await?;
    let user = ledger
        .create_user(
            caller.login(),
            NewUser {
                login: request.login,
                name: request.name,
                roles,
                password,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUserView {
            user: UserView::from(&user),
            password: generated,
        }),
    ))
}

/// Replace an account's global roles (admin).
#[utoipa::path(
    put,
    path = "/api/v1/users/{login}/roles",
    tag = "accounts",
    params(("login" = String, Path, description = "the account's login")),
    request_body = RolesRequest,
    responses(
        (status = 200, description = "the account with its new roles", body = UserView),
        (status = 400, description = "the body is not a list of roles", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a role is wrong", body = Problem, content_type = "application/problem+json"),
        NotSignedIn,
        JsonBody,
    )
)]
pub async fn set_roles(
    State(state): State<AppState>,
    caller: Caller,
    Path(login): Path<String>,
    body: Later<ApiJson<RolesRequest>>,
) -> Result<Json<UserView>, ApiError> {
    caller.authorize(Action::ManageUsers, None)?;
    let ApiJson(request) = body.read(&state).await?;
    let roles = global_roles(&request.roles, "roles")?;
    let ledger = state.ledger.get().await?;
    let user = ledger.set_user_roles(caller.login(), &login, roles).await?;
    Ok(Json(UserView::from(&user)))
}
