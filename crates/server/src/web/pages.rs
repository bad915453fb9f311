//! The sign-in page, sign-out and the API tokens page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use greenlight_store::{Action, GlobalRole, Login, NewToken, Role, TokenRole};

use super::{AnyForm, Chrome, MaybeWeb, Web, WebError, WebForm, page, see_other};
use crate::AppState;
use crate::api::accounts::{secure, session_cookie_header};
use crate::client::Scheme;
use crate::error::{ApiError, Cause};
use crate::extract::ClientAddress;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    login: String,
    error: Option<String>,
    oidc: bool,
}

/// `GET /sign-in`: the form (or, signed in already, the dashboard).
pub async fn sign_in_page(
    State(state): State<AppState>,
    MaybeWeb(web): MaybeWeb,
) -> Result<Response, WebError> {
    if web.is_some() {
        return Ok(see_other("/"));
    }
    page(
        StatusCode::OK,
        &SignInPage {
            chrome: Chrome::anonymous("Sign in"),
            login: String::new(),
            error: None,
            oidc: state.oidc.is_some(),
        },
    )
}

/// `POST /sign-in`: a session cookie and to the dashboard, or the form again with the error
/// and the login typed (never the password).
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    scheme: Scheme,
    AnyForm(fields): AnyForm,
) -> Result<Response, WebError> {
    let login = fields.get("login").to_owned();
    let password = fields.get("password").to_owned();
    let again = |status: StatusCode, error: String| {
        page(
            status,
            &SignInPage {
                chrome: Chrome::anonymous("Sign in"),
                login: login.clone(),
                error: Some(error),
                oidc: state.oidc.is_some(),
            },
        )
    };
    if login.is_empty() || password.is_empty() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "enter your login and your password".to_owned(),
        );
    }
    // Checking a password is slow by design: off the workers, as the API does.
    let ledger = state.ledger.get().await?.clone();
    let runtime = tokio::runtime::Handle::current();
    let (who, secret) = (login.clone(), password);
    let outcome = tokio::task::spawn_blocking(move || {
        runtime.block_on(ledger.login(&who, &secret, &address))
    })
    .await
    .map_err(|e| WebError::Api(ApiError::Internal(Cause::new(e))))?;
    match outcome {
        Ok(Login::SignedIn(signed)) => {
            let max_age = (signed.session.expires_at.as_datetime()
                - signed.session.created_at.as_datetime())
            .num_seconds();
            let cookie = session_cookie_header(&signed.cookie, max_age, secure(&state, scheme))?;
            let mut response = see_other("/");
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Ok(Login::Refused { message }) => again(StatusCode::UNAUTHORIZED, message),
        Ok(Login::Throttled { message, .. }) => again(StatusCode::TOO_MANY_REQUESTS, message),
        Err(e) => match ApiError::from(e) {
            ApiError::Unauthenticated(message) => again(StatusCode::UNAUTHORIZED, message),
            ApiError::InvalidField { message, .. } => {
                again(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
            other => Err(WebError::Api(other)),
        },
    }
}

/// `POST /sign-out`: the session ends and its cookie is cleared.
pub async fn sign_out(
    State(state): State<AppState>,
    scheme: Scheme,
    form: WebForm,
) -> Result<Response, WebError> {
    let ledger = state.ledger.get().await?;
    ledger.logout(&form.web.cookie).await?;
    let mut response = see_other("/sign-in");
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie_header("", 0, secure(&state, scheme))?,
    );
    Ok(response)
}

/// A token as the page lists it.
pub struct TokenRow {
    /// Its id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// The most it may do.
    pub role: String,
    /// When it was created.
    pub created: String,
    /// When it stops working.
    pub expires: String,
    /// Revoked (when) or live.
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenRow>,
    roles: Vec<RoleOption>,
    name: String,
    days: String,
    error: Option<(String, String)>,
    issued: Option<(String, String)>,
}

impl TokensPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::error_of(&self.error, field)
    }
}

/// A role of the token form's select.
pub struct RoleOption {
    /// The role's name.
    pub value: &'static str,
    /// It is chosen.
    pub selected: bool,
}

/// Every role a token may be given, `chosen` selected.
fn token_roles(chosen: &str) -> Vec<RoleOption> {
    Role::ALL
        .iter()
        .map(|r| r.as_str())
        .chain(GlobalRole::ALL.iter().map(|r| r.as_str()))
        .map(|value| RoleOption {
            value,
            selected: value == chosen,
        })
        .collect()
}

async fn tokens_page(
    state: &AppState,
    web: &Web,
    status: StatusCode,
    form: (String, String, String),
    error: Option<(String, String)>,
    issued: Option<(String, String)>,
) -> Result<Response, WebError> {
    let ledger = state.ledger.get().await?;
    let tokens = ledger
        .tokens_of(web.caller.login())
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role.to_string(),
            created: t.created_at.to_string(),
            expires: t.expires_at.to_string(),
            revoked: t.revoked.as_ref().map(|r| r.at.to_string()),
        })
        .collect();
    let (name, role, days) = form;
    page(
        status,
        &TokensPage {
            chrome: web.chrome("API tokens", "/tokens"),
            tokens,
            roles: token_roles(&role),
            name,
            days,
            error,
            issued,
        },
    )
}

/// `GET /tokens`: one's API tokens, and the form to create one.
pub async fn tokens(State(state): State<AppState>, web: Web) -> Result<Response, WebError> {
    web.authorize(Action::ManageOwnTokens, None)?;
    let form = (String::new(), "coordinator".to_owned(), "30".to_owned());
    tokens_page(&state, &web, StatusCode::OK, form, None, None).await
}

/// `POST /tokens`: a new token, its secret shown on this page once.
pub async fn create_token(
    State(state): State<AppState>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::ManageOwnTokens, None)?;
    let form = (
        fields.get("name").to_owned(),
        fields.get("role").to_owned(),
        fields.get("days").to_owned(),
    );
    let wrong = |field: &str, message: String| Some((field.to_owned(), message));
    let mut error = None;
    if form.0.is_empty() {
        error = wrong("name", "say what the token is for".to_owned());
    }
    let role: Option<TokenRole> = match form.1.parse() {
        Ok(role) => Some(role),
        Err(e) => {
            error = error.or(wrong("role", e));
            None
        }
    };
    let days = match form.2.parse::<i64>() {
        Ok(days) if (1..=366).contains(&days) => Some(days),
        _ => {
            error = error.or(wrong(
                "days",
                format!("a token works for 1 to 366 days, not `{}`", form.2),
            ));
            None
        }
    };
    let (Some(role), Some(days), None) = (role, days, &error) else {
        return tokens_page(
            &state,
            &web,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            error,
            None,
        )
        .await;
    };
    let ledger = state.ledger.get().await?;
    let expires_at = ledger.now().plus(chrono::TimeDelta::days(days));
    let issued = ledger
        .create_token(
            web.caller.login(),
            NewToken {
                user_login: web.caller.login().to_owned(),
                name: form.0.clone(),
                productions: Vec::new(),
                role,
                expires_at,
            },
        )
        .await;
    match issued {
        Ok(issued) => {
            let shown = Some((issued.token.name.clone(), issued.secret));
            let form = (String::new(), "coordinator".to_owned(), "30".to_owned());
            tokens_page(&state, &web, StatusCode::CREATED, form, None, shown).await
        }
        Err(e) => {
            let message = e.to_string();
            tokens_page(
                &state,
                &web,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                wrong("name", message),
                None,
            )
            .await
        }
    }
}

/// `POST /tokens/{id}/revoke`: the token is refused from then on.
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::ManageOwnTokens, None)?;
    let ledger = state.ledger.get().await?;
    let token = ledger.token(&id).await?;
    if token.user_login != web.caller.login() {
        web.authorize(Action::ManageUsers, None)?;
    }
    ledger.revoke_token(web.caller.login(), &id).await?;
    Ok(see_other("/tokens"))
}
