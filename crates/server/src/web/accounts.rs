//! The accounts page (admins): every account with its global roles and state, the form that
//! creates one (its password typed, or generated and shown once on the page that answers),
//! and the buttons that disable and enable an account. Production roles are given on each
//! production's page.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use greenlight_store::{Action, GlobalRole, NewUser, StoreError, User, generate_password};

use super::export::{Cell, Table, csv_response, wants_csv};
use super::registry::{PageQuery, read_query};
use super::review::when;
use super::{Chrome, Web, WebError, WebForm, page, see_other};
use crate::AppState;

/// An account as the page lists it.
pub struct AccountRow {
    /// Its login.
    pub login: String,
    /// Its name.
    pub name: String,
    /// Its global roles.
    pub roles: String,
    /// It cannot sign in.
    pub disabled: bool,
    /// When and by whom it was created.
    pub created: String,
    /// The caller's own: not disabled from here.
    pub own: bool,
}

/// The create form as typed (never the password).
#[derive(Default)]
pub struct AccountForm {
    login: String,
    name: String,
    roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    accounts: Vec<AccountRow>,
    csv: String,
    form: AccountForm,
    /// The global roles' checkboxes: value and ticked.
    roles: Vec<(&'static str, bool)>,
    error: Option<(String, String)>,
    /// The account just created, and its password when it was generated.
    created: Option<(String, Option<String>)>,
}

impl AccountsPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::error_of(&self.error, field)
    }
}

/// What the page shows beside the list: the form as typed with its error, or the account
/// just created.
#[derive(Default)]
struct Sent {
    form: AccountForm,
    error: Option<(String, String)>,
    created: Option<(String, Option<String>)>,
}

async fn accounts_page(
    state: &AppState,
    web: &Web,
    query: &PageQuery,
    status: StatusCode,
    sent: Sent,
) -> Result<Response, WebError> {
    web.authorize(Action::ManageUsers, None)?;
    let ledger = state.ledger.get().await?;
    let mut table = Table::new(
        "/accounts",
        "accounts",
        "Accounts",
        vec!["Login", "Name", "Global roles", "State", "Created"],
        "No account.",
    );
    let mut accounts = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ledger.users(after.as_deref(), 1_000).await?;
        for u in page.items {
            let row = account_row(&u, web.caller.login());
            table.rows.push(vec![
                Cell::text(&row.login),
                Cell::text(&row.name),
                Cell::text(&row.roles),
                Cell::text(if row.disabled { "disabled" } else { "active" }),
                Cell::text(&row.created),
            ]);
            accounts.push(row);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if wants_csv(query.format.as_deref())? {
        return csv_response("accounts", &[table], query.table.as_deref());
    }
    let Sent {
        form,
        error,
        created,
    } = sent;
    let roles = GlobalRole::ALL
        .iter()
        .map(|r| (r.as_str(), form.roles.iter().any(|t| t == r.as_str())))
        .collect();
    page(
        status,
        &AccountsPage {
            chrome: web.chrome("Accounts", "/accounts"),
            accounts,
            csv: table.csv,
            form,
            roles,
            error,
            created,
        },
    )
}

fn account_row(u: &User, caller: &str) -> AccountRow {
    AccountRow {
        login: u.login.clone(),
        name: u.name.clone(),
        roles: if u.roles.is_empty() {
            "none (roles per production)".to_owned()
        } else {
            u.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
        disabled: u.disabled,
        created: format!("{} by {}", when(u.created_at), u.created_by),
        own: u.login == caller,
    }
}

/// `GET /accounts`: every account, and the form that creates one (admins).
pub async fn accounts(
    State(state): State<AppState>,
    web: Web,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    accounts_page(&state, &web, &query, StatusCode::OK, Sent::default()).await
}

/// `POST /accounts`: an account created (admins); a generated password is shown on the
/// page that answers, once.
pub async fn create_account(
    State(state): State<AppState>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::ManageUsers, None)?;
    let form = AccountForm {
        login: fields.get("login").to_owned(),
        name: fields.get("name").to_owned(),
        roles: fields.all("roles").into_iter().map(str::to_owned).collect(),
    };
    let mut roles = Vec::new();
    let mut error = None;
    for name in &form.roles {
        match GlobalRole::ALL.into_iter().find(|r| r.as_str() == name) {
            Some(role) => roles.push(role),
            None => {
                error = Some((
                    "roles".to_owned(),
                    format!("`{name}` is not a global role: admin or auditor"),
                ));
            }
        }
    }
    if form.login.is_empty() {
        error = Some(("login".to_owned(), "give the account a login".to_owned()));
    }
    let typed = fields.get("password").to_owned();
    if let Some(error) = error {
        let sent = Sent {
            form,
            error: Some(error),
            created: None,
        };
        let query = PageQuery::default();
        return accounts_page(&state, &web, &query, StatusCode::UNPROCESSABLE_ENTITY, sent).await;
    }
    let (password, generated) = if typed.is_empty() {
        let password = generate_password()?;
        (password.clone(), Some(password))
    } else {
        (typed, None)
    };
    let ledger = state.ledger.get().await?;
    let made = ledger
        .create_user(
            web.caller.login(),
            NewUser {
                login: form.login.clone(),
                name: form.name.clone(),
                roles,
                password,
            },
        )
        .await;
    let query = PageQuery::default();
    match made {
        Ok(user) => {
            let sent = Sent {
                created: Some((user.login, generated)),
                ..Sent::default()
            };
            accounts_page(&state, &web, &query, StatusCode::OK, sent).await
        }
        Err(StoreError::Invalid { message, .. }) => {
            let field = if message.contains("password") {
                "password"
            } else {
                "login"
            };
            let sent = Sent {
                form,
                error: Some((field.to_owned(), message)),
                created: None,
            };
            accounts_page(&state, &web, &query, StatusCode::UNPROCESSABLE_ENTITY, sent).await
        }
        Err(StoreError::Conflict(message)) => {
            let sent = Sent {
                form,
                error: Some(("login".to_owned(), message)),
                created: None,
            };
            accounts_page(&state, &web, &query, StatusCode::UNPROCESSABLE_ENTITY, sent).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /accounts/{login}/state`: an account disabled (`state=disabled`), which ends the
/// use of its sessions and tokens, or enabled again (`state=active`); never one's own.
pub async fn set_state(
    State(state): State<AppState>,
    Path(login): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::ManageUsers, None)?;
    let disabled = match fields.get("state") {
        "disabled" => true,
        "active" => false,
        other => {
            return Err(WebError::Api(crate::error::ApiError::invalid_field(
                "state",
                format!(
                    "`{}` is not a state: disabled or active",
                    other.chars().take(40).collect::<String>()
                ),
            )));
        }
    };
    if disabled && login == web.caller.login() {
        return Err(WebError::Api(crate::error::ApiError::invalid_field(
            "state",
            "an admin does not disable their own account: another admin may",
        )));
    }
    let ledger = state.ledger.get().await?;
    ledger
        .set_user_disabled(web.caller.login(), &login, disabled)
        .await?;
    Ok(see_other("/accounts"))
}
