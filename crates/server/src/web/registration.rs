//! The registries' own forms: admins register tools with their data terms and performers,
//! and record a new review of a tool's terms on its page, where every earlier review is
//! listed from the audit log. A form sent back with a mistake comes back with the error
//! beside its field and everything that was typed.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use greenlight_core::Answer;
use greenlight_store::{
    Action, AuditEntry, DataTerms, NewPerformer, NewTool, StoreError, Timestamp, Tool, ToolId,
};

use super::export::{Cell, Table, csv_response, wants_csv};
use super::registry::{PageQuery, parse, read_query};
use super::review::{json_name, when};
use super::{Chrome, Fields, Web, WebError, WebForm, page, see_other};
use crate::AppState;

/// The five questions of a tool's data terms: the field, its label and one line of help.
const TERMS: [(&str, &str, &str); 5] = [
    (
        "trains_on_inputs",
        "Trains on what is sent",
        "The vendor trains or fine-tunes models on inputs or outputs.",
    ),
    (
        "retains_inputs",
        "Keeps what is sent",
        "The vendor stores or reuses inputs after the job.",
    ),
    (
        "resells_inputs",
        "Resells or shares what is sent",
        "The vendor passes inputs on to others.",
    ),
    (
        "enterprise_agreement",
        "Enterprise agreement",
        "The studio uses it under an enterprise agreement.",
    ),
    (
        "terms_negotiated",
        "Terms negotiated",
        "The data terms were negotiated with the vendor.",
    ),
];

const ANSWERS: [(&str, &str); 3] = [("yes", "Yes"), ("no", "No"), ("unsure", "Unsure")];

fn answer_of(text: &str) -> Option<Answer> {
    match text {
        "yes" => Some(Answer::Yes),
        "no" => Some(Answer::No),
        "unsure" => Some(Answer::Unsure),
        _ => None,
    }
}

fn answers(terms: &DataTerms) -> [Answer; 5] {
    [
        terms.trains_on_inputs,
        terms.retains_inputs,
        terms.resells_inputs,
        terms.enterprise_agreement,
        terms.terms_negotiated,
    ]
}

/// A day typed as `YYYY-MM-DD`, at `time` (`HH:MM:SS`, UTC) of it; empty is none.
pub(super) fn day(
    field: &str,
    text: &str,
    time: &str,
) -> Result<Option<Timestamp>, (String, String)> {
    if text.is_empty() {
        return Ok(None);
    }
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => format!("{date}T{time}Z")
            .parse::<Timestamp>()
            .map(Some)
            .map_err(|e| (field.to_owned(), e.to_string())),
        Err(_) => Err((
            field.to_owned(),
            format!("`{text}` is not a date (YYYY-MM-DD)"),
        )),
    }
}

/// One radio of a question.
pub struct Radio {
    /// Its element id.
    pub id: String,
    /// Its value.
    pub value: &'static str,
    /// What it says.
    pub label: &'static str,
    /// It is checked.
    pub checked: bool,
}

/// One yes / no / unsure question of the data terms, as the form shows it.
pub struct Question {
    /// The field's name.
    pub name: &'static str,
    /// What it asks.
    pub label: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// Its three radios.
    pub radios: Vec<Radio>,
}

/// The terms form as typed: the five answers, who reviewed them and on which day.
#[derive(Clone, Default)]
pub struct TermsForm {
    answers: [String; 5],
    reviewed_by: String,
    reviewed_on: String,
}

impl TermsForm {
    fn read(fields: &Fields) -> TermsForm {
        TermsForm {
            answers: TERMS.map(|(name, _, _)| fields.get(name).to_owned()),
            reviewed_by: fields.get("reviewed_by").to_owned(),
            reviewed_on: fields.get("reviewed_on").to_owned(),
        }
    }

    /// The form holding `terms` as they stand, for a new review of them.
    fn of(terms: &DataTerms) -> TermsForm {
        TermsForm {
            answers: answers(terms).map(|a| json_name(&a)),
            reviewed_by: terms.reviewed_by.clone().unwrap_or_default(),
            reviewed_on: String::new(),
        }
    }

    fn questions(&self, prefix: &str) -> Vec<Question> {
        TERMS
            .iter()
            .zip(&self.answers)
            .map(|(&(name, label, help), given)| Question {
                name,
                label,
                help,
                radios: ANSWERS
                    .iter()
                    .map(|&(value, label)| Radio {
                        id: format!("{prefix}-{name}-{value}"),
                        value,
                        label,
                        checked: given == value,
                    })
                    .collect(),
            })
            .collect()
    }

    /// The terms, or the first field that is wrong with why.
    fn terms(&self) -> Result<DataTerms, (String, String)> {
        let mut read = [Answer::Unsure; 5];
        for ((slot, given), (name, label, _)) in read.iter_mut().zip(&self.answers).zip(TERMS) {
            *slot = answer_of(given).ok_or_else(|| {
                (
                    name.to_owned(),
                    format!("answer “{label}”: yes, no or unsure"),
                )
            })?;
        }
        let reviewed_at = day("reviewed_on", &self.reviewed_on, "00:00:00")?;
        if reviewed_at.is_some() && self.reviewed_by.is_empty() {
            return Err((
                "reviewed_by".to_owned(),
                "say who reviewed the terms on that day".to_owned(),
            ));
        }
        let [
            trains_on_inputs,
            retains_inputs,
            resells_inputs,
            enterprise_agreement,
            terms_negotiated,
        ] = read;
        Ok(DataTerms {
            trains_on_inputs,
            retains_inputs,
            resells_inputs,
            enterprise_agreement,
            terms_negotiated,
            reviewed_by: (!self.reviewed_by.is_empty()).then(|| self.reviewed_by.clone()),
            reviewed_at,
        })
    }
}

/// The tool form as typed.
#[derive(Default)]
pub struct ToolForm {
    vendor: String,
    product: String,
    version: String,
    licence_tier: String,
    terms: TermsForm,
}

#[derive(Template)]
#[template(path = "tools.html")]
struct ToolsPage {
    chrome: Chrome,
    table: Table,
    may_register: bool,
    form: ToolForm,
    questions: Vec<Question>,
    error: Option<(String, String)>,
}

impl ToolsPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::error_of(&self.error, field)
    }
}

async fn tools_page(
    state: &AppState,
    web: &Web,
    query: &PageQuery,
    status: StatusCode,
    form: ToolForm,
    error: Option<(String, String)>,
) -> Result<Response, WebError> {
    web.authorize(Action::ReadRegistry, None)?;
    let ledger = state.ledger.get().await?;
    let mut table = Table::new(
        "/tools",
        "tools",
        "Registered tools and their data terms",
        vec![
            "Tool",
            "Version",
            "Licence tier",
            "Trains on inputs",
            "Retains inputs",
            "Resells inputs",
            "Enterprise agreement",
            "Terms negotiated",
            "Reviewed by",
            "Reviewed on",
        ],
        "No tool is registered.",
    );
    let mut after: Option<String> = None;
    loop {
        let page = ledger.tools(after.as_deref(), 1_000).await?;
        for t in page.items {
            let mut row = vec![
                Cell::link(
                    format!("{} {}", t.vendor, t.product),
                    format!("/tools/{}", t.id),
                ),
                Cell::text(&t.version),
                Cell::text(&t.licence_tier),
            ];
            row.extend(answers(&t.terms).iter().map(|a| Cell::text(json_name(a))));
            row.extend(reviewed(&t.terms));
            table.rows.push(row);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if wants_csv(query.format.as_deref())? {
        return csv_response("tools", &[table], query.table.as_deref());
    }
    let view = ToolsPage {
        chrome: web.chrome("Tools", "/tools"),
        may_register: web.caller.authorize(Action::RegisterTool, None).is_ok(),
        questions: form.terms.questions("t"),
        table,
        form,
        error,
    };
    page(status, &view)
}

fn reviewed(terms: &DataTerms) -> [Cell; 2] {
    [
        Cell::text(
            terms
                .reviewed_by
                .clone()
                .unwrap_or_else(|| "not reviewed".to_owned()),
        ),
        Cell::text(
            terms
                .reviewed_at
                .map(|at| at.as_datetime().format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        ),
    ]
}

/// `GET /tools`: the registered tools, their data terms and who reviewed them when; for an
/// admin, the form to register one.
pub async fn tools(
    State(state): State<AppState>,
    web: Web,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    tools_page(
        &state,
        &web,
        &query,
        StatusCode::OK,
        ToolForm::default(),
        None,
    )
    .await
}

/// `POST /tools`: a tool registered with its data terms (admins); the tool's page next.
pub async fn register_tool(
    State(state): State<AppState>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::RegisterTool, None)?;
    let form = ToolForm {
        vendor: fields.get("vendor").to_owned(),
        product: fields.get("product").to_owned(),
        version: fields.get("version").to_owned(),
        licence_tier: fields.get("licence_tier").to_owned(),
        terms: TermsForm::read(&fields),
    };
    let wrong = if form.vendor.is_empty() {
        Err(("vendor".to_owned(), "name the vendor or maker".to_owned()))
    } else if form.product.is_empty() {
        Err(("product".to_owned(), "name the product".to_owned()))
    } else {
        form.terms.terms()
    };
    let terms = match wrong {
        Ok(terms) => terms,
        Err(error) => {
            return tools_page(
                &state,
                &web,
                &PageQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                Some(error),
            )
            .await;
        }
    };
    let ledger = state.ledger.get().await?;
    let tool = ledger
        .register_tool(
            web.caller.login(),
            NewTool {
                vendor: form.vendor.clone(),
                product: form.product.clone(),
                version: form.version.clone(),
                licence_tier: form.licence_tier.clone(),
                terms,
            },
        )
        .await?;
    Ok(see_other(&format!("/tools/{}", tool.id)))
}

#[derive(Template)]
#[template(path = "tool.html")]
struct ToolPage {
    chrome: Chrome,
    id: String,
    heading: String,
    facts: Vec<(String, String)>,
    reviews: Table,
    may_review: bool,
    form: TermsForm,
    questions: Vec<Question>,
    error: Option<(String, String)>,
}

impl ToolPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::error_of(&self.error, field)
    }
}

/// Every state of the tool's terms the audit log recorded, oldest first: when, by whom, and
/// the terms then.
async fn term_history(
    ledger: &greenlight_store::Ledger<dyn greenlight_store::Store>,
    tool: ToolId,
) -> Result<Vec<(AuditEntry, DataTerms)>, WebError> {
    let id = tool.to_string();
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let entries = ledger.audit_entries(after, 1_000).await?;
        for e in &entries {
            if e.record_id != id {
                continue;
            }
            let Some(after) = e.after.as_deref() else {
                continue;
            };
            let Ok(record) = serde_json::from_str::<Tool>(after) else {
                continue;
            };
            let changed = out
                .last()
                .is_none_or(|(_, last): &(AuditEntry, DataTerms)| *last != record.terms);
            if changed {
                out.push((e.clone(), record.terms));
            }
        }
        match entries.last() {
            Some(last) if entries.len() == 1_000 => after = Some(last.seq),
            _ => break,
        }
    }
    Ok(out)
}

async fn tool_page(
    state: &AppState,
    web: &Web,
    id: &str,
    query: &PageQuery,
    status: StatusCode,
    form: Option<TermsForm>,
    error: Option<(String, String)>,
) -> Result<Response, WebError> {
    web.authorize(Action::ReadRegistry, None)?;
    let ledger = state.ledger.get().await?;
    let tool = ledger.tool(parse::<ToolId>("id", id)?).await?;
    let here = format!("/tools/{}", tool.id);
    let mut reviews = Table::new(
        &here,
        "reviews",
        "Its data terms as each review recorded them, oldest first",
        vec![
            "Recorded",
            "Recorded by",
            "Trains on inputs",
            "Retains inputs",
            "Resells inputs",
            "Enterprise agreement",
            "Terms negotiated",
            "Reviewed by",
            "Reviewed on",
        ],
        "The audit log holds no review of its terms.",
    );
    for (entry, terms) in term_history(ledger, tool.id).await? {
        let mut row = vec![
            Cell::text(
                entry
                    .at
                    .parse::<Timestamp>()
                    .map_or_else(|_| entry.at.clone(), when),
            ),
            Cell::text(&entry.actor),
        ];
        row.extend(answers(&terms).iter().map(|a| Cell::text(json_name(a))));
        row.extend(reviewed(&terms));
        reviews.rows.push(row);
    }
    let terms = &tool.terms;
    let mut facts = vec![
        ("Version".to_owned(), tool.version.clone()),
        ("Licence tier".to_owned(), tool.licence_tier.clone()),
        (
            "Registered".to_owned(),
            format!("{} by {}", when(tool.registered_at), tool.registered_by),
        ),
    ];
    for ((_, label, _), a) in TERMS.iter().zip(answers(terms)) {
        facts.push(((*label).to_owned(), json_name(&a)));
    }
    let [by, at] = reviewed(terms);
    facts.push((
        "Last reviewed".to_owned(),
        if at.text.is_empty() {
            by.text
        } else {
            format!("{} by {}", at.text, by.text)
        },
    ));
    if wants_csv(query.format.as_deref())? {
        return csv_response("tool", &[reviews], query.table.as_deref());
    }
    let form = form.unwrap_or_else(|| TermsForm::of(terms));
    let view = ToolPage {
        chrome: web.chrome(&format!("{} {}", tool.vendor, tool.product), "/tools"),
        id: tool.id.to_string(),
        heading: format!("{} {}", tool.vendor, tool.product),
        facts,
        reviews,
        may_review: web.caller.authorize(Action::UpdateToolTerms, None).is_ok(),
        questions: form.questions("r"),
        form,
        error,
    };
    page(status, &view)
}

/// `GET /tools/{id}`: a tool, its terms and every review of them; for an admin, the form to
/// record a new review.
pub async fn tool(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    tool_page(&state, &web, &id, &query, StatusCode::OK, None, None).await
}

/// `POST /tools/{id}/terms`: a new review of a tool's data terms (admins).
pub async fn review_terms(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::UpdateToolTerms, None)?;
    let tool_id = parse::<ToolId>("id", &id)?;
    let form = TermsForm::read(&fields);
    let terms = match form.terms() {
        Ok(terms) => terms,
        Err(error) => {
            return tool_page(
                &state,
                &web,
                &id,
                &PageQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(form),
                Some(error),
            )
            .await;
        }
    };
    let ledger = state.ledger.get().await?;
    ledger
        .update_tool_terms(web.caller.login(), tool_id, terms)
        .await?;
    Ok(see_other(&format!("/tools/{tool_id}")))
}

/// The performer form as typed.
#[derive(Default)]
pub struct PerformerForm {
    name: String,
    union: String,
    deceased: bool,
    estate: String,
}

#[derive(Template)]
#[template(path = "performers.html")]
struct PerformersPage {
    chrome: Chrome,
    table: Table,
    may_register: bool,
    form: PerformerForm,
    error: Option<(String, String)>,
}

impl PerformersPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::error_of(&self.error, field)
    }
}

async fn performers_page(
    state: &AppState,
    web: &Web,
    query: &PageQuery,
    status: StatusCode,
    form: PerformerForm,
    error: Option<(String, String)>,
) -> Result<Response, WebError> {
    web.authorize(Action::ReadRegistry, None)?;
    let ledger = state.ledger.get().await?;
    let mut table = Table::new(
        "/performers",
        "performers",
        "Registered performers",
        vec!["Performer", "Union", "Deceased", "Estate", "Registered"],
        "No performer is registered.",
    );
    let mut after: Option<String> = None;
    loop {
        let page = ledger.performers(after.as_deref(), 1_000).await?;
        for p in page.items {
            table.rows.push(vec![
                Cell::link(&p.name, format!("/performers/{}", p.id)),
                Cell::text(&p.union),
                Cell::text(if p.deceased { "yes" } else { "no" }),
                Cell::text(p.estate.clone().unwrap_or_default()),
                Cell::text(format!("{} by {}", when(p.registered_at), p.registered_by)),
            ]);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if wants_csv(query.format.as_deref())? {
        return csv_response("performers", &[table], query.table.as_deref());
    }
    let view = PerformersPage {
        chrome: web.chrome("Performers", "/performers"),
        may_register: web
            .caller
            .authorize(Action::RegisterPerformer, None)
            .is_ok(),
        table,
        form,
        error,
    };
    page(status, &view)
}

/// `GET /performers`: the registered performers; for an admin, the form to register one.
pub async fn performers(
    State(state): State<AppState>,
    web: Web,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let query = read_query(query)?;
    performers_page(
        &state,
        &web,
        &query,
        StatusCode::OK,
        PerformerForm::default(),
        None,
    )
    .await
}

/// `POST /performers`: a performer registered (admins); the performer's page next, where
/// consents are recorded.
pub async fn register_performer(
    State(state): State<AppState>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    web.authorize(Action::RegisterPerformer, None)?;
    let form = PerformerForm {
        name: fields.get("name").to_owned(),
        union: fields.get("union").to_owned(),
        deceased: !fields.get("deceased").is_empty(),
        estate: fields.get("estate").to_owned(),
    };
    let wrong = if form.name.is_empty() {
        Some(("name", "give the performer's name"))
    } else if form.deceased && form.estate.is_empty() {
        Some((
            "estate",
            "name the estate or representative that consents for a deceased performer",
        ))
    } else if !form.deceased && !form.estate.is_empty() {
        Some((
            "estate",
            "only a deceased performer has an estate that consents: tick “Deceased” or leave this empty",
        ))
    } else {
        None
    };
    if let Some((field, message)) = wrong {
        return performers_page(
            &state,
            &web,
            &PageQuery::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            Some((field.to_owned(), message.to_owned())),
        )
        .await;
    }
    let ledger = state.ledger.get().await?;
    let performer = ledger
        .register_performer(
            web.caller.login(),
            NewPerformer {
                name: form.name.clone(),
                union: form.union.clone(),
                deceased: form.deceased,
                estate: (!form.estate.is_empty()).then(|| form.estate.clone()),
            },
        )
        .await;
    match performer {
        Ok(p) => Ok(see_other(&format!("/performers/{}", p.id))),
        Err(StoreError::Invalid { message, .. }) => {
            performers_page(
                &state,
                &web,
                &PageQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                Some(("name".to_owned(), message)),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}
