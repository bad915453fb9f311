//! The productions: the list with counts by outcome and, for admins, the form that creates
//! one (its kind, studio contact and overlays); a production's page with its members, counts,
//! declarations, scans and report, and for admins the forms that add, change and remove its
//! members. A form sent back with a mistake keeps what was typed, the error beside its field.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use greenlight_core::{Level, ProductionKind};
use greenlight_policy::BUILTIN_OVERLAYS;
use greenlight_store::{Action, Contact, Member, NewProduction, ProductionId, Role, StoreError};

use super::export::{Cell, Table, csv_response, wants_csv};
use super::registry::{Link, PageQuery, counts, link, parse, read_query, roles_of};
use super::review::{Choice, Row, choices, json_name, load_rows, when};
use super::{Chrome, Web, WebError, WebForm, page, productions_for, see_other};
use crate::AppState;
use crate::api::reports::may_report;

const KINDS: [ProductionKind; 6] = [
    ProductionKind::Scripted,
    ProductionKind::Documentary,
    ProductionKind::Unscripted,
    ProductionKind::Animation,
    ProductionKind::Advertising,
    ProductionKind::Other,
];

/// A checkbox of a form.
pub struct Check {
    /// Its element id.
    pub id: String,
    /// Its value.
    pub value: String,
    /// What it says.
    pub label: String,
    /// It is ticked.
    pub checked: bool,
}

fn checks(prefix: &str, values: &[&str], ticked: &[String]) -> Vec<Check> {
    values
        .iter()
        .map(|v| Check {
            id: format!("{prefix}-{v}"),
            value: (*v).to_owned(),
            label: v.replace('_', " "),
            checked: ticked.iter().any(|t| t == v),
        })
        .collect()
}

/// The create form as typed.
#[derive(Default)]
pub struct ProductionForm {
    title: String,
    kind: String,
    contact_name: String,
    contact_email: String,
    overlays: Vec<String>,
}

#[derive(Template)]
#[template(path = "productions.html")]
struct ProductionsPage {
    chrome: Chrome,
    table: Table,
    may_create: bool,
    form: ProductionForm,
    kinds: Vec<Choice>,
    overlays: Vec<Check>,
    error: Option<(String, String)>,
}

impl ProductionsPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::error_of(&self.error, field)
    }
}

async fn productions_page(
    state: &AppState,
    web: &Web,
    query: &PageQuery,
    status: StatusCode,
    form: ProductionForm,
    error: Option<(String, String)>,
) -> Result<Response, WebError> {
    let list = productions_for(state, web, Action::ReadProduction).await?;
    let rows = load_rows(state, web, Action::ReadDeclarations).await?;
    let mut table = Table::new(
        "/productions",
        "productions",
        "Productions you may see",
        vec![
            "Production",
            "Kind",
            "Overlays",
            "Members",
            "Your roles",
            "Notify",
            "Escalate",
            "of which approved",
            "Blocked",
        ],
        "You may see no production.",
    );
    for p in &list {
        let n = counts(rows.iter().filter(|r| r.production.id == p.id));
        table.rows.push(vec![
            Cell::link(&p.title, format!("/productions/{}", p.id)),
            Cell::text(json_name(&p.kind)),
            Cell::text(p.overlays.join(", ")),
            Cell::text(p.members.len().to_string()),
            Cell::text(roles_of(p, web.caller.login())),
            Cell::text(n[0].to_string()),
            Cell::text(n[1].to_string()),
            Cell::text(n[2].to_string()),
            Cell::text(n[3].to_string()),
        ]);
    }
    if wants_csv(query.format.as_deref())? {
        return csv_response("productions", &[table], query.table.as_deref());
    }
    let kinds = choices(
        KINDS.iter().map(|k| (json_name(k), json_name(k))).collect(),
        if form.kind.is_empty() {
            "scripted"
        } else {
            &form.kind
        },
    );
    let ids: Vec<&str> = BUILTIN_OVERLAYS.iter().map(|(id, _)| *id).collect();
    page(
        status,
        &ProductionsPage {
            chrome: web.chrome("Productions", "/productions"),
            table,
            may_create: web.caller.authorize(Action::CreateProduction, None).is_ok(),
            overlays: checks("o", &ids, &form.overlays),
            kinds,
            form,
            error,
        },
    )
}

/// `GET /productions`: the productions the caller may see, with counts by outcome; for an
/// admin, the form that creates one.
pub async fn productions(
    State(state): State<AppState>,
    web: Web,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    productions_page(
        &state,
        &web,
        &query,
        StatusCode::OK,
        ProductionForm::default(),
        None,
    )
    .await
}

/// `POST /productions`: a production created (admins), with its kind, studio contact and
/// overlays; its page next, where its members are added.
pub async fn create_production(
    State(state): State<AppState>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::CreateProduction, None)?;
    let form = ProductionForm {
        title: fields.get("title").to_owned(),
        kind: fields.get("kind").to_owned(),
        contact_name: fields.get("contact_name").to_owned(),
        contact_email: fields.get("contact_email").to_owned(),
        overlays: fields
            .all("overlays")
            .into_iter()
            .map(str::to_owned)
            .collect(),
    };
    let kind = KINDS.iter().copied().find(|k| json_name(k) == form.kind);
    let unknown = form
        .overlays
        .iter()
        .find(|o| !BUILTIN_OVERLAYS.iter().any(|(id, _)| id == o));
    let wrong = if form.title.is_empty() {
        Some(("title", "give the production's title".to_owned()))
    } else if kind.is_none() {
        Some(("kind", "choose the kind of production".to_owned()))
    } else if !form.contact_email.contains('@') {
        Some((
            "contact_email",
            "give the studio contact's e-mail address: notify-level uses are shared with them"
                .to_owned(),
        ))
    } else {
        unknown.map(|o| ("overlays", format!("`{o}` is not a built-in overlay")))
    };
    let (Some(kind), None) = (kind, &wrong) else {
        let (field, message) = wrong.unwrap_or(("kind", String::new()));
        return productions_page(
            &state,
            &web,
            &PageQuery::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            Some((field.to_owned(), message)),
        )
        .await;
    };
    let ledger = state.ledger.get().await?;
    let mut production = ledger
        .create_production(
            web.caller.login(),
            NewProduction {
                title: form.title.clone(),
                kind,
                studio_contact: Contact {
                    name: form.contact_name.clone(),
                    email: form.contact_email.clone(),
                },
                members: Vec::new(),
            },
        )
        .await?;
    if !form.overlays.is_empty() {
        production = ledger
            .set_overlays(web.caller.login(), production.id, form.overlays.clone())
            .await?;
    }
    Ok(see_other(&format!("/productions/{}", production.id)))
}

/// The member form as typed.
#[derive(Default)]
pub struct MemberForm {
    person: String,
    name: String,
    roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "production.html")]
struct ProductionPage {
    chrome: Chrome,
    id: String,
    heading: String,
    facts: Vec<(String, String)>,
    links: Vec<Link>,
    tables: Vec<Table>,
    may_manage: bool,
    people: Vec<Choice>,
    accounts: Vec<String>,
    form: MemberForm,
    roles: Vec<Check>,
    error: Option<(String, String)>,
}

impl ProductionPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::error_of(&self.error, field)
    }
}

async fn production_page(
    state: &AppState,
    web: &Web,
    id: &str,
    query: &PageQuery,
    status: StatusCode,
    form: MemberForm,
    error: Option<(String, String)>,
) -> Result<Response, WebError> {
    let ledger = state.ledger.get().await?;
    let p = ledger.production(parse::<ProductionId>("id", id)?).await?;
    web.authorize(Action::ReadProduction, Some(&p))?;
    let here = format!("/productions/{}", p.id);
    let mut members = Table::new(
        &here,
        "members",
        "Members and their roles",
        vec!["Person", "Name", "Roles"],
        "Nobody works on it yet.",
    );
    for m in &p.members {
        members.rows.push(vec![
            Cell::text(&m.person),
            Cell::text(&m.name),
            Cell::text(
                m.roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ]);
    }
    let mut tables = vec![members];
    let mut links = Vec::new();
    if web.caller.may(Action::ReadDeclarations, &p) {
        let rows: Vec<Row> = load_rows(state, web, Action::ReadDeclarations)
            .await?
            .into_iter()
            .filter(|r| r.production.id == p.id)
            .collect();
        let n = counts(rows.iter());
        let mut outcomes = Table::new(
            &here,
            "outcomes",
            "Declarations by the decision in force",
            vec!["Outcome", "Uses"],
            "",
        );
        for (label, count) in [
            ("notify", n[0]),
            ("escalate", n[1]),
            ("of which approved", n[2]),
            ("blocked", n[3]),
            ("undecided", n[4]),
        ] {
            outcomes
                .rows
                .push(vec![Cell::text(label), Cell::text(count.to_string())]);
        }
        let mut declarations = Table::new(
            &here,
            "declarations",
            "Its declarations",
            vec!["Use", "Purpose", "Level", "Approved", "Submitted by"],
            "Nothing is declared yet.",
        );
        for r in &rows {
            declarations.rows.push(vec![
                Cell::link(
                    &r.declaration.declaration.title,
                    format!("/declarations/{}", r.declaration.id),
                ),
                Cell::text(json_name(&r.declaration.declaration.purpose)),
                Cell::text(r.level().map_or("undecided", Level::as_str)),
                Cell::text(if r.approved { "yes" } else { "no" }),
                Cell::text(&r.declaration.submitted_by),
            ]);
        }
        tables.push(outcomes);
        tables.push(declarations);
    }
    if web.caller.may(Action::ReadScans, &p) {
        links.push(link(
            format!("/scans?production={}", p.id),
            "Its delivery scans",
        ));
    }
    if may_report(&web.caller, &p).is_ok() {
        let report = format!("/api/v1/productions/{}/report", p.id);
        links.push(link(
            format!("{report}?format=html"),
            "Download report (HTML)",
        ));
        links.push(link(
            format!("{report}?format=pdf"),
            "Download report (PDF)",
        ));
    }
    let facts = vec![
        ("Kind".to_owned(), json_name(&p.kind)),
        (
            "Overlays".to_owned(),
            if p.overlays.is_empty() {
                "none".to_owned()
            } else {
                p.overlays.join(", ")
            },
        ),
        ("Studio contact".to_owned(), p.studio_contact.email.clone()),
        ("Created".to_owned(), when(p.created_at)),
    ];
    if wants_csv(query.format.as_deref())? {
        return csv_response("production", &tables, query.table.as_deref());
    }
    let may_manage = web.caller.may(Action::SetMembers, &p);
    let mut accounts = Vec::new();
    if may_manage && web.caller.authorize(Action::ManageUsers, None).is_ok() {
        let mut after: Option<String> = None;
        loop {
            let page = ledger.users(after.as_deref(), 1_000).await?;
            accounts.extend(page.items.into_iter().map(|u| u.login));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    let role_names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    page(
        status,
        &ProductionPage {
            chrome: web.chrome(&p.title, "/productions"),
            id: p.id.to_string(),
            heading: p.title.clone(),
            facts,
            links,
            tables,
            may_manage,
            people: choices(
                p.members
                    .iter()
                    .map(|m| (m.person.clone(), format!("{} ({})", m.person, m.name)))
                    .collect(),
                "",
            ),
            accounts,
            roles: checks("m", &role_names, &form.roles),
            form,
            error,
        },
    )
}

/// `GET /productions/{id}`: members with roles, counts by outcome, its declarations, and
/// links to its scans and its report; for an admin, the forms that manage its members.
pub async fn production(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    production_page(
        &state,
        &web,
        &id,
        &query,
        StatusCode::OK,
        MemberForm::default(),
        None,
    )
    .await
}

/// `POST /productions/{id}/members`: a person added to the production with their roles, or
/// their roles and name replaced when they are on it already (admins).
pub async fn set_member(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    let ledger = state.ledger.get().await?;
    let p = ledger.production(parse::<ProductionId>("id", &id)?).await?;
    web.authorize(Action::SetMembers, Some(&p))?;
    let form = MemberForm {
        person: fields.get("person").to_owned(),
        name: fields.get("name").to_owned(),
        roles: fields.all("roles").into_iter().map(str::to_owned).collect(),
    };
    let roles: Vec<Option<Role>> = form
        .roles
        .iter()
        .map(|name| Role::ALL.into_iter().find(|r| r.as_str() == name))
        .collect();
    let wrong = if form.person.is_empty() {
        Some((
            "person",
            "give the person's login (or e-mail address)".to_owned(),
        ))
    } else if roles.is_empty() {
        Some(("roles", "tick at least one role".to_owned()))
    } else if let Some((name, _)) = form.roles.iter().zip(&roles).find(|(_, r)| r.is_none()) {
        Some(("roles", format!("`{name}` is not a production role")))
    } else {
        None
    };
    if let Some((field, message)) = wrong {
        return production_page(
            &state,
            &web,
            &id,
            &PageQuery::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            Some((field.to_owned(), message)),
        )
        .await;
    }
    let member = Member {
        person: form.person.clone(),
        name: if form.name.is_empty() {
            form.person.clone()
        } else {
            form.name.clone()
        },
        roles: roles.into_iter().flatten().collect(),
    };
    let mut members = p.members.clone();
    match members.iter_mut().find(|m| m.person == member.person) {
        Some(slot) => *slot = member,
        None => members.push(member),
    }
    match ledger.set_members(web.caller.login(), p.id, members).await {
        Ok(_) => Ok(see_other(&format!("/productions/{}", p.id))),
        Err(StoreError::Invalid { message, .. }) => {
            production_page(
                &state,
                &web,
                &id,
                &PageQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                Some(("person".to_owned(), message)),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /productions/{id}/members/remove`: a person taken off the production (admins).
pub async fn remove_member(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    let ledger = state.ledger.get().await?;
    let p = ledger.production(parse::<ProductionId>("id", &id)?).await?;
    web.authorize(Action::SetMembers, Some(&p))?;
    let person = fields.get("person");
    let mut members = p.members.clone();
    let before = members.len();
    members.retain(|m| m.person != person);
    if members.len() == before {
        return production_page(
            &state,
            &web,
            &id,
            &PageQuery::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            MemberForm::default(),
            Some((
                "remove".to_owned(),
                format!("`{person}` is not a member of {}", p.title),
            )),
        )
        .await;
    }
    ledger
        .set_members(web.caller.login(), p.id, members)
        .await?;
    Ok(see_other(&format!("/productions/{}", p.id)))
}
