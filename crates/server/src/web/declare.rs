//! Declare a use: the guided form, and its submission.
//!
//! The questions are grouped as the studio guidance groups them (the use; tools and vendors;
//! what goes in; what comes out; references; performers; release and crew; script; the five
//! principles last), each yes / no / unsure with one line of help. The form's fields are
//! the declaration's own dotted paths (`inputs.personal_data`), so an error the schema finds
//! lands beside the field it names; every question must be answered (`unsure` is an
//! answer). A wrong form comes back with everything typed kept and each error beside its
//! field; a right one is triaged and recorded, and the browser goes to the declaration's
//! page, which shows the decision with every finding and what to do next.
//!
//! The same form revises a declaration (`/declarations/{id}/revise`, filled in with the
//! latest version's answers; submitting records a new version), and either form can be saved
//! as a draft instead, as typed, valid or not (resumed from `/drafts`; submitting it deletes
//! it).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use greenlight_core::Declaration;
use greenlight_store::{
    Action, DraftId, NewDraft, Performer, Production, StoreError, StoredDeclaration, Tool,
};
use serde_json::{Map, Value};

use super::review::query_fields;
use super::{Chrome, Fields, Web, WebError, WebForm, page, productions_for, see_other};
use crate::AppState;
use crate::api::declarations::{declaration_and_production, triage_for};
use crate::error::ApiError;

/// How a question is answered.
#[derive(Clone, Copy)]
enum Ask {
    /// Yes, no or unsure.
    Answer,
    /// One of these (value, label).
    Select(&'static [(&'static str, &'static str)]),
    /// Any of these.
    Checks(&'static [(&'static str, &'static str)]),
    /// A line of text.
    Text,
    /// Lines of text (a list, one item a line, for the list fields).
    Lines,
    /// Free text.
    Prose,
    /// The production, from those the caller may declare for.
    Production,
    /// Tools picked from the registry.
    Tools,
    /// A tool entered by name (matched against the registry).
    OtherTool,
    /// A performer picked from the registry.
    Performer,
}

struct Question {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    ask: Ask,
}

struct Group {
    title: &'static str,
    intro: &'static str,
    questions: &'static [Question],
}

const fn q(name: &'static str, label: &'static str, help: &'static str) -> Question {
    Question {
        name,
        label,
        help,
        ask: Ask::Answer,
    }
}

const STAGES: &[(&str, &str)] = &[
    ("", "choose a stage"),
    ("development", "development"),
    ("pre_production", "pre-production"),
    ("production", "production"),
    ("post_production", "post-production"),
    ("marketing", "marketing"),
    ("localization", "localization"),
];

const PURPOSES: &[(&str, &str)] = &[
    ("", "choose a purpose"),
    ("ideation", "ideation"),
    ("mood_board", "mood board"),
    ("pitch_deck", "pitch deck"),
    ("storyboard", "storyboard"),
    ("previs", "previs"),
    ("temp_media", "temp media"),
    ("vfx", "VFX"),
    ("background_element", "background element"),
    ("prop", "prop"),
    ("key_creative", "key creative element"),
    ("character_design", "character design"),
    ("talent_replica", "digital replica of a performer"),
    ("talent_alteration", "alteration of a performance"),
    ("de_aging", "de-ageing"),
    ("voice_synthesis", "voice synthesis"),
    ("localization", "localization (dubbing, subtitles)"),
    ("synthetic_performer", "synthetic performer"),
    ("crowd_replication", "crowd replication"),
    ("script_development", "script development"),
    ("restoration", "restoration"),
    ("marketing", "marketing"),
    ("model_training", "training a model"),
    ("other", "other"),
];

const MEDIA: &[(&str, &str)] = &[
    ("image", "image"),
    ("video", "video"),
    ("audio", "audio"),
    ("voice", "voice"),
    ("text", "text"),
    ("3d", "3D"),
];

const PROMINENCE: &[(&str, &str)] = &[
    ("", "choose one"),
    ("none", "none: not seen in the work"),
    ("incidental", "incidental"),
    ("story_relevant", "relevant to the story"),
    ("key_creative", "a key creative element"),
    ("unsure", "unsure"),
];

const PERFORMER_USES: &[(&str, &str)] = &[
    ("", "choose how"),
    ("replica", "a digital replica"),
    ("voice_clone", "a voice clone"),
    ("de_aging", "de-ageing"),
    ("alteration_significant", "a significant alteration"),
    (
        "alteration_customary",
        "a customary alteration (clean-up, colour)",
    ),
];

const TERRITORIES: &[(&str, &str)] = &[
    ("eu", "European Union"),
    ("us_ca", "California"),
    ("us_ny", "New York"),
    ("us_tn", "Tennessee"),
    ("us_other", "elsewhere in the US"),
    ("other", "elsewhere"),
];

const GROUPS: &[Group] = &[
    Group {
        title: "The use",
        intro: "What the generative AI is for, on which production, at which stage.",
        questions: &[
            Question {
                name: "title",
                label: "Title",
                help: "A short name for this use, e.g. \"Storyboards for episode 3\".",
                ask: Ask::Text,
            },
            Question {
                name: "production",
                label: "Production",
                help: "The production the use is for.",
                ask: Ask::Production,
            },
            Question {
                name: "stage",
                label: "Stage",
                help: "Where the production is when the tool is used.",
                ask: Ask::Select(STAGES),
            },
            Question {
                name: "purpose",
                label: "Purpose",
                help: "What the output is for.",
                ask: Ask::Select(PURPOSES),
            },
            Question {
                name: "media",
                label: "Media",
                help: "Every kind of media the tool takes in or puts out.",
                ask: Ask::Checks(MEDIA),
            },
            Question {
                name: "description",
                label: "Description",
                help: "Anything a reviewer should know, in your words (optional).",
                ask: Ask::Prose,
            },
            q(
                "replaces_union_work",
                "Does it replace or materially affect union-covered work?",
                "Work a writer, performer or crew member under a union agreement would otherwise do.",
            ),
        ],
    },
    Group {
        title: "Tools and vendors",
        intro: "Every tool, plug-in and vendor step of the pipeline. Registered tools carry their reviewed data terms.",
        questions: &[
            Question {
                name: "tools",
                label: "Registered tools",
                help: "Tick each registered tool the use goes through.",
                ask: Ask::Tools,
            },
            Question {
                name: "tool_other",
                label: "Another tool, by name",
                help: "A registered tool's name or id, if it is not ticked above (leave empty if none).",
                ask: Ask::OtherTool,
            },
        ],
    },
    Group {
        title: "What goes into the tools",
        intro: "Confidentiality: what you give the tools, as prompts, files or training data.",
        questions: &[
            q(
                "inputs.proprietary_material",
                "Studio or production material that is not public?",
                "Scripts, designs, artwork or anything else the production owns and has not released.",
            ),
            q(
                "inputs.contracts",
                "Contracts or deal terms?",
                "Any agreement, or a part of one.",
            ),
            q(
                "inputs.unreleased_footage",
                "Unreleased footage or audio?",
                "Dailies, cuts, stems, anything not yet released.",
            ),
            q(
                "inputs.personal_data",
                "Personal data of anyone?",
                "Names with contact details, photos, recordings or records of real people.",
            ),
            q(
                "inputs.talent_likeness",
                "A performer's face, body or voice?",
                "Any image, scan or recording of a performer.",
            ),
            q(
                "inputs.third_party_material",
                "Material owned by someone else?",
                "Stock, archive, another production's or anyone else's work.",
            ),
            q(
                "inputs.rights_cleared",
                "Are the rights to that material cleared for this use?",
                "Answer yes only when the clearance is documented.",
            ),
            q(
                "inputs.trains_model",
                "Does the material train or fine-tune a model?",
                "Including a custom model, a LoRA or a voice model.",
            ),
        ],
    },
    Group {
        title: "What comes out",
        intro: "Final deliverables versus temporary media.",
        questions: &[
            q(
                "output.final_deliverable",
                "Will the output be in a final deliverable?",
                "On screen or on the soundtrack of what is delivered, not only temporary or internal.",
            ),
            Question {
                name: "output.prominence",
                label: "How prominent is it?",
                help: "How much the output matters on screen.",
                ask: Ask::Select(PROMINENCE),
            },
            q(
                "output.depicts_real_people",
                "Does it depict real people?",
                "Anyone who exists or existed, recognisably.",
            ),
            q(
                "output.depicts_real_events",
                "Does it depict real events?",
                "Events that happened, as if recorded.",
            ),
            q(
                "output.could_mislead",
                "Could it mislead an audience into taking it as real?",
                "E.g. synthetic archive footage in a documentary.",
            ),
            q(
                "output.disclosed",
                "Will the use of AI be disclosed?",
                "In the credits, the materials or to the audience.",
            ),
            q(
                "output.handed_to_writers",
                "Is the output handed to writers as source material?",
                "Generated text given to writers to adapt or rewrite.",
            ),
            q(
                "output.advertisement",
                "Is it used in advertising?",
                "Trailers, posters, social posts, paid ads.",
            ),
        ],
    },
    Group {
        title: "References",
        intro: "What the prompts or input images name or imitate.",
        questions: &[
            Question {
                name: "references.copyrighted_works",
                label: "Copyrighted works referenced",
                help: "One a line (leave empty if none).",
                ask: Ask::Lines,
            },
            Question {
                name: "references.artists",
                label: "Artists whose work or style is referenced",
                help: "One a line (leave empty if none).",
                ask: Ask::Lines,
            },
            Question {
                name: "references.public_figures",
                label: "Public figures referenced",
                help: "One a line (leave empty if none).",
                ask: Ask::Lines,
            },
            q(
                "references.permission",
                "Is permission for those references documented?",
                "Answer no or unsure when nothing is referenced but you are not certain.",
            ),
        ],
    },
    Group {
        title: "Performers",
        intro: "Talent enhancement and digital replicas: a real performer whose voice, likeness or performance the use touches.",
        questions: &[
            Question {
                name: "performer",
                label: "Performer",
                help: "A registered performer (their recorded consents apply), or none.",
                ask: Ask::Performer,
            },
            Question {
                name: "performer.use",
                label: "How is the performer used?",
                help: "Needed when a performer is chosen.",
                ask: Ask::Select(PERFORMER_USES),
            },
            q(
                "performer.recognizable",
                "Is the result recognisable as the performer?",
                "Answer for the chosen performer; unsure when none is chosen.",
            ),
            q(
                "performer.same_production",
                "Does the use stay within the production they worked on?",
                "Answer for the chosen performer; unsure when none is chosen.",
            ),
        ],
    },
    Group {
        title: "Release and crew",
        intro: "Where the work is released and who was consulted.",
        questions: &[
            Question {
                name: "release_territories",
                label: "Release territories",
                help: "Where the work is released; leave all unticked when not known yet.",
                ask: Ask::Checks(TERRITORIES),
            },
            q(
                "director_consulted",
                "Was the director consulted on the use?",
                "DGA 2023: the director is consulted before generative AI is used.",
            ),
            q(
                "copyright_registration",
                "Will the work be registered for copyright?",
                "AI-generated parts must then be disclosed to the Copyright Office.",
            ),
            Question {
                name: "human_contribution",
                label: "The human contribution",
                help: "When the work is registered: what people made around the generated material (writing, performance, selection, editing), for the claim (optional).",
                ask: Ask::Prose,
            },
        ],
    },
    Group {
        title: "Script",
        intro: "For script material: what the writers were told and chose.",
        questions: &[
            q(
                "script.writer_told",
                "Were the writers told the material is AI-generated?",
                "Answer unsure when no script material is involved.",
            ),
            q(
                "script.writer_chose_ai",
                "Did the writer choose to use AI themselves?",
                "A writer may use AI if they choose; the company may not require it.",
            ),
            q(
                "script.company_consented",
                "Did the company consent to the writer's use?",
                "Needed when the writer chose to use AI.",
            ),
            q(
                "script.writer_required",
                "Is a writer required to use AI?",
                "The company may not require a writer to use AI software.",
            ),
        ],
    },
    Group {
        title: "The five principles",
        intro: "Your own answers to the studio's five guiding principles, last.",
        questions: &[
            q(
                "principles.p1_no_ip_replication",
                "P1: outputs do not replicate unowned or copyrighted material?",
                "Nothing generated copies protected work, characters or likenesses.",
            ),
            q(
                "principles.p2_no_training_or_retention",
                "P2: the tools do not store, reuse or train on inputs or outputs?",
                "Check the tool's data terms.",
            ),
            q(
                "principles.p3_enterprise_secured",
                "P3: the tools run in an enterprise-secured environment?",
                "An enterprise agreement, not a personal or free account.",
            ),
            q(
                "principles.p4_temporary",
                "P4: generated material is temporary, not in the final deliverables?",
                "Answer no when any of it is delivered.",
            ),
            q(
                "principles.p5_no_talent_replacement",
                "P5: no replacement of talent performances or union-covered work without consent?",
                "Answer no when consent is missing.",
            ),
        ],
    },
];

const ANSWERS: &[(&str, &str)] = &[("yes", "Yes"), ("no", "No"), ("unsure", "Unsure")];

/// An option of a field.
pub struct OptionView {
    /// Its value.
    pub value: String,
    /// What it says.
    pub label: String,
    /// It is chosen.
    pub checked: bool,
    /// Its element id.
    pub id: String,
}

/// A field as the template shows it.
pub struct FieldView {
    /// The form field's name (the declaration's dotted path).
    pub name: String,
    /// Its element id.
    pub id: String,
    /// The question.
    pub label: String,
    /// One line of help.
    pub help: String,
    /// `radios`, `select`, `checks`, `text`, `textarea`.
    pub kind: &'static str,
    /// What was typed.
    pub value: String,
    /// The options of radios, selects and checks.
    pub options: Vec<OptionView>,
    /// What is wrong with it.
    pub error: Option<String>,
}

/// A group as the template shows it.
pub struct GroupView {
    /// Its heading.
    pub title: &'static str,
    /// One line on what it is about.
    pub intro: &'static str,
    /// Its fields.
    pub fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "declare.html")]
struct DeclarePage {
    chrome: Chrome,
    groups: Vec<GroupView>,
    errors: Vec<(String, String)>,
    problem: Option<String>,
    /// Where the form posts.
    action: String,
    /// The page's heading.
    heading: String,
    /// For a revision: the declaration's id, title and latest version.
    revising: Option<(String, String, u32)>,
    /// The draft being resumed (its id), or empty.
    draft: String,
}

impl DeclarePage {
    fn anchor(&self, field: &str) -> String {
        element_id(field)
    }

    /// An error of the summary: the question it is about, and what is wrong.
    fn summary(&self, field: &str, message: &str) -> String {
        let label = GROUPS
            .iter()
            .flat_map(|g| g.questions.iter())
            .find(|q| q.name == field)
            .map_or(field, |q| q.label);
        format!("{label} {message}")
    }
}

fn element_id(name: &str) -> String {
    format!("f-{}", name.replace(['.', '_'], "-"))
}

fn options(
    name: &str,
    choices: impl IntoIterator<Item = (String, String)>,
    chosen: &[&str],
) -> Vec<OptionView> {
    choices
        .into_iter()
        .map(|(value, label)| OptionView {
            id: format!(
                "{}-{}",
                element_id(name),
                if value.is_empty() { "none" } else { &value }
            ),
            checked: chosen.contains(&value.as_str()),
            value,
            label,
        })
        .collect()
}

fn statics(choices: &[(&str, &str)]) -> Vec<(String, String)> {
    choices
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

/// A tool's name as the form shows and matches it.
fn tool_name(tool: &Tool) -> String {
    let mut name = format!("{} {}", tool.vendor, tool.product);
    if !tool.version.is_empty() {
        name.push(' ');
        name.push_str(&tool.version);
    }
    name
}

/// What the form is built from: the caller's productions and the registries.
struct Choices {
    productions: Vec<Production>,
    tools: Vec<Tool>,
    performers: Vec<Performer>,
}

async fn choices(state: &AppState, web: &Web) -> Result<Choices, WebError> {
    let productions = productions_for(state, web, Action::SubmitDeclaration).await?;
    if productions.is_empty() {
        web.authorize(Action::SubmitDeclaration, None)?;
    }
    let ledger = state.ledger.get().await?;
    let may_read = web.authorize(Action::ReadRegistry, None).is_ok()
        || productions
            .iter()
            .any(|p| web.caller.may(Action::ReadRegistry, p));
    let mut tools = Vec::new();
    let mut performers = Vec::new();
    if may_read {
        let mut after: Option<String> = None;
        loop {
            let page = ledger.tools(after.as_deref(), 1_000).await?;
            tools.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut after: Option<String> = None;
        loop {
            let page = ledger.performers(after.as_deref(), 1_000).await?;
            performers.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    tools.sort_by_key(tool_name);
    performers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Choices {
        productions,
        tools,
        performers,
    })
}

fn groups(choices: &Choices, fields: &Fields, errors: &[(String, String)]) -> Vec<GroupView> {
    GROUPS
        .iter()
        .map(|group| GroupView {
            title: group.title,
            intro: group.intro,
            fields: group
                .questions
                .iter()
                .map(|question| {
                    let name = question.name;
                    let value = fields.get(name);
                    let chosen = fields.all(name);
                    let (kind, options) = match question.ask {
                        Ask::Answer => ("radios", options(name, statics(ANSWERS), &[value])),
                        Ask::Select(list) => ("select", options(name, statics(list), &[value])),
                        Ask::Checks(list) => ("checks", options(name, statics(list), &chosen)),
                        Ask::Text | Ask::OtherTool => ("text", Vec::new()),
                        Ask::Lines | Ask::Prose => ("textarea", Vec::new()),
                        Ask::Production => {
                            let list =
                                std::iter::once((String::new(), "choose a production".to_owned()))
                                    .chain(
                                        choices
                                            .productions
                                            .iter()
                                            .map(|p| (p.id.to_string(), p.title.clone())),
                                    );
                            ("select", options(name, list, &[value]))
                        }
                        Ask::Tools => (
                            "checks",
                            options(
                                name,
                                choices
                                    .tools
                                    .iter()
                                    .map(|t| (t.id.to_string(), tool_name(t))),
                                &chosen,
                            ),
                        ),
                        Ask::Performer => {
                            let list = std::iter::once((String::new(), "none".to_owned())).chain(
                                choices
                                    .performers
                                    .iter()
                                    .map(|p| (p.id.to_string(), p.name.clone())),
                            );
                            ("select", options(name, list, &[value]))
                        }
                    };
                    FieldView {
                        name: name.to_owned(),
                        id: element_id(name),
                        label: question.label.to_owned(),
                        help: question.help.to_owned(),
                        kind,
                        value: value.to_owned(),
                        options,
                        error: errors
                            .iter()
                            .find(|(field, _)| field == name)
                            .map(|(_, message)| message.clone()),
                    }
                })
                .collect(),
        })
        .collect()
}

/// What the form makes: a new declaration, or a new version of one.
enum Target<'a> {
    New,
    Revise(&'a StoredDeclaration),
}

fn form_page(
    web: &Web,
    choices: &Choices,
    fields: &Fields,
    errors: Vec<(String, String)>,
    problem: Option<String>,
    target: &Target<'_>,
) -> Result<Response, WebError> {
    let status = if errors.is_empty() && problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (chrome, action, heading, revising) = match target {
        Target::New => (
            web.chrome("Declare a use", "/declare"),
            "/declare".to_owned(),
            "Declare a use of generative AI".to_owned(),
            None,
        ),
        Target::Revise(declaration) => (
            web.chrome(&format!("Revise: {}", declaration.declaration.title), ""),
            format!("/declarations/{}/revise", declaration.id),
            format!("Revise: {}", declaration.declaration.title),
            Some((
                declaration.id.to_string(),
                declaration.declaration.title.clone(),
                declaration.version,
            )),
        ),
    };
    page(
        status,
        &DeclarePage {
            chrome,
            groups: groups(choices, fields, &errors),
            errors,
            problem,
            action,
            heading,
            revising,
            draft: fields.get(DRAFT_FIELD).to_owned(),
        },
    )
}

/// The hidden field naming the draft a form was resumed from.
const DRAFT_FIELD: &str = "draft";

/// The fields of a form that are not the declaration's: kept out of a draft.
const NOT_ANSWERS: &[&str] = &["csrf", "intent", DRAFT_FIELD];

/// One of the caller's drafts, by the id in `text`; not found when it is not theirs.
async fn own_draft(
    state: &AppState,
    web: &Web,
    text: &str,
) -> Result<greenlight_store::Draft, WebError> {
    let id: DraftId = text.parse()?;
    let ledger = state.ledger.get().await?;
    Ok(ledger.draft(web.caller.login(), id).await?)
}

/// A resumed draft's fields, with the hidden field that names it.
fn draft_fields(draft: &greenlight_store::Draft) -> Fields {
    let mut pairs = draft.fields.clone();
    pairs.push((DRAFT_FIELD.to_owned(), draft.id.to_string()));
    Fields::new(pairs)
}

/// `GET /declare`: the empty form, or (`?draft=ID`) a draft resumed as it was typed.
pub async fn form(State(state): State<AppState>, web: Web, uri: Uri) -> Result<Response, WebError> {
    let choices = choices(&state, &web).await?;
    let query = query_fields(&uri);
    let fields = match query.get(DRAFT_FIELD) {
        "" => Fields::default(),
        id => {
            let draft = own_draft(&state, &web, id).await?;
            if let Some(declaration) = draft.declaration_id {
                return Ok(see_other(&format!(
                    "/declarations/{declaration}/revise?draft={}",
                    draft.id
                )));
            }
            draft_fields(&draft)
        }
    };
    form_page(&web, &choices, &fields, Vec::new(), None, &Target::New)
}

/// Saves the form as a draft of the caller's, as typed (a new one, or the one resumed), and
/// sends the browser to the drafts.
async fn save_draft(
    state: &AppState,
    web: &Web,
    fields: &Fields,
    declaration: Option<greenlight_store::DeclarationId>,
) -> Result<Response, WebError> {
    let id = match fields.get(DRAFT_FIELD) {
        "" => None,
        text => Some(text.parse::<DraftId>()?),
    };
    let ledger = state.ledger.get().await?;
    let draft = ledger
        .save_draft(
            web.caller.login(),
            NewDraft {
                id,
                declaration_id: declaration,
                fields: fields.pairs_except(NOT_ANSWERS),
            },
        )
        .await?;
    Ok(see_other(&format!("/drafts?saved={}", draft.id)))
}

/// Deletes the draft a submitted form was resumed from, if it was (and is still there).
async fn drop_draft(state: &AppState, web: &Web, fields: &Fields) -> Result<(), WebError> {
    let Ok(id) = fields.get(DRAFT_FIELD).parse::<DraftId>() else {
        return Ok(());
    };
    let ledger = state.ledger.get().await?;
    match ledger.delete_draft(web.caller.login(), id).await {
        Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// The form's fields for a declaration: its answers as the form asks them (the inverse of
/// [`read`]), so a revision starts from the latest version. The production is the one the
/// declaration is recorded under, whatever its text names.
fn fields_of(declaration: &Declaration, production: &Production, choices: &Choices) -> Fields {
    let value = serde_json::to_value(declaration).unwrap_or(Value::Null);
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let performer = value
        .get("performers")
        .and_then(Value::as_array)
        .and_then(|p| p.first());
    let tools: Vec<&Value> = value
        .get("tools")
        .and_then(Value::as_array)
        .map(|t| t.iter().collect())
        .unwrap_or_default();
    let registered = |tool: &Value| {
        tool.get("id")
            .and_then(Value::as_str)
            .filter(|id| choices.tools.iter().any(|t| t.id.to_string() == *id))
            .map(str::to_owned)
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for group in GROUPS {
        for question in group.questions {
            let name = question.name;
            let found = match name.strip_prefix("performer.") {
                Some(key) => performer.and_then(|p| p.get(key)),
                None => value.pointer(&format!("/{}", name.replace('.', "/"))),
            };
            let mut push = |v: String| pairs.push((name.to_owned(), v));
            match question.ask {
                Ask::Tools => tools.iter().filter_map(|t| registered(t)).for_each(push),
                Ask::OtherTool => {
                    if let Some(tool) = tools.iter().find(|t| registered(t).is_none()) {
                        push(tool.get("name").map(text).unwrap_or_default());
                    }
                }
                Ask::Performer => {
                    if let Some(id) = performer.and_then(|p| p.get("id")) {
                        push(text(id));
                    }
                }
                Ask::Checks(_) => {
                    if let Some(list) = found.and_then(Value::as_array) {
                        list.iter().map(text).for_each(push);
                    }
                }
                Ask::Lines => {
                    if let Some(list) = found.and_then(Value::as_array) {
                        push(list.iter().map(text).collect::<Vec<_>>().join("\n"));
                    }
                }
                Ask::Production => push(production.id.to_string()),
                // A performer's answers are kept only with a performer: without one, the
                // form's default answer.
                Ask::Answer => push(found.map_or_else(|| "unsure".to_owned(), text)),
                Ask::Select(_) | Ask::Text | Ask::Prose => {
                    if let Some(v) = found {
                        push(text(v));
                    }
                }
            }
        }
    }
    Fields::new(pairs)
}

/// Sets `path` (dotted) in `object` to `value`.
fn set(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let child = object
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(child) = child {
                set(child, rest, value);
            }
        }
    }
}

/// The declaration the form describes, or each field's error.
fn read(
    choices: &Choices,
    fields: &Fields,
) -> Result<(Declaration, Production), Vec<(String, String)>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut wrong = |field: &str, message: String| errors.push((field.to_owned(), message));
    let mut object = Map::new();
    let mut performer = Map::new();
    let production = choices
        .productions
        .iter()
        .find(|p| p.id.to_string() == fields.get("production"));
    for group in GROUPS {
        for question in group.questions {
            let name = question.name;
            let value = fields.get(name);
            match question.ask {
                Ask::Answer => {
                    if !ANSWERS.iter().any(|(v, _)| *v == value) {
                        wrong(name, "answer yes, no or unsure".to_owned());
                    } else if let Some(key) = name.strip_prefix("performer.") {
                        performer.insert(key.to_owned(), Value::from(value));
                    } else {
                        set(&mut object, name, Value::from(value));
                    }
                }
                Ask::Select(list) => {
                    if let Some(key) = name.strip_prefix("performer.") {
                        if !value.is_empty() {
                            performer.insert(key.to_owned(), Value::from(value));
                        }
                    } else if value.is_empty() || !list.iter().any(|(v, _)| *v == value) {
                        wrong(
                            name,
                            format!("choose the {}", question.label.to_lowercase()),
                        );
                    } else {
                        set(&mut object, name, Value::from(value));
                    }
                }
                Ask::Checks(list) => {
                    let chosen = fields.all(name);
                    if let Some(bad) = chosen.iter().find(|c| !list.iter().any(|(v, _)| v == *c)) {
                        wrong(name, format!("`{bad}` is not one of the choices"));
                    }
                    set(&mut object, name, Value::from(chosen));
                }
                Ask::Text => {
                    if value.is_empty() {
                        wrong(name, "give the use a short title".to_owned());
                    }
                    set(&mut object, name, Value::from(value));
                }
                Ask::Prose => set(&mut object, name, Value::from(value)),
                Ask::Lines => {
                    let lines: Vec<&str> = value
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .collect();
                    set(&mut object, name, Value::from(lines));
                }
                Ask::Production => match production {
                    Some(p) => {
                        set(&mut object, name, Value::from(p.id.to_string()));
                        set(
                            &mut object,
                            "production_kind",
                            serde_json::to_value(p.kind).unwrap_or(Value::Null),
                        );
                    }
                    None => wrong(name, "choose one of your productions".to_owned()),
                },
                Ask::Tools | Ask::OtherTool | Ask::Performer => {}
            }
        }
    }
    // Tools: those ticked, and the one entered, which must be registered.
    let mut tools: Vec<&Tool> = Vec::new();
    for id in fields.all("tools") {
        match choices.tools.iter().find(|t| t.id.to_string() == id) {
            Some(tool) => tools.push(tool),
            None => wrong("tools", format!("`{id}` is not a registered tool")),
        }
    }
    let other = fields.get("tool_other");
    if !other.is_empty() {
        let found = choices.tools.iter().find(|t| {
            t.id.to_string() == other
                || tool_name(t).eq_ignore_ascii_case(other)
                || format!("{} {}", t.vendor, t.product).eq_ignore_ascii_case(other)
        });
        match found {
            Some(tool) => tools.push(tool),
            None => wrong(
                "tool_other",
                format!(
                    "unknown tool: no registered tool is called `{other}`; tick one above, or \
                     ask for the tool to be registered (its data terms reviewed) first"
                ),
            ),
        }
    }
    tools.dedup_by(|a, b| a.id == b.id);
    let tools: Vec<Value> = tools
        .iter()
        .map(|t| serde_json::json!({"id": t.id.to_string(), "name": tool_name(t), "vendor": t.vendor}))
        .collect();
    set(&mut object, "tools", Value::from(tools));
    // The performer, when one is chosen: how they are used is then needed.
    let chosen = fields.get("performer");
    if !chosen.is_empty() {
        match choices
            .performers
            .iter()
            .find(|p| p.id.to_string() == chosen)
        {
            Some(registered) => {
                if !performer.contains_key("use") {
                    wrong("performer.use", "say how the performer is used".to_owned());
                }
                performer.insert("id".to_owned(), Value::from(registered.id.to_string()));
                performer.insert("name".to_owned(), Value::from(registered.name.clone()));
                set(
                    &mut object,
                    "performers",
                    Value::from(vec![Value::Object(performer)]),
                );
            }
            None => wrong(
                "performer",
                format!("`{chosen}` is not a registered performer"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(production) = production else {
        return Err(vec![(
            "production".to_owned(),
            "choose one of your productions".to_owned(),
        )]);
    };
    let value = Value::Object(object);
    let declaration: Declaration = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        vec![(field, e.inner().to_string())]
    })?;
    Ok((declaration, production.clone()))
}

/// `POST /declare`: the form again with its errors, or the declaration recorded and the
/// browser sent to its page (the decision, its findings, what to do next).
pub async fn submit(
    State(state): State<AppState>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    let choices = choices(&state, &web).await?;
    if fields.get("intent") == "draft" {
        return save_draft(&state, &web, &fields, None).await;
    }
    let (declaration, production) = match read(&choices, &fields) {
        Ok(read) => read,
        Err(errors) => return form_page(&web, &choices, &fields, errors, None, &Target::New),
    };
    web.authorize(Action::SubmitDeclaration, Some(&production))?;
    let ledger = state.ledger.get().await?;
    let triaged = triage_for(&state, ledger, &production, &declaration).await;
    let triage = match triaged {
        Ok(triage) => triage,
        Err(
            error @ (ApiError::Declaration(_)
            | ApiError::InvalidField { .. }
            | ApiError::RecordNotFound(_)),
        ) => {
            let (problem, _) = error.problem();
            return form_page(
                &web,
                &choices,
                &fields,
                Vec::new(),
                Some(problem.detail),
                &Target::New,
            );
        }
        Err(other) => return Err(other.into()),
    };
    let submission = ledger
        .submit_declaration(web.caller.login(), production.id, declaration, triage)
        .await?;
    drop_draft(&state, &web, &fields).await?;
    Ok(see_other(&format!(
        "/declarations/{}?submitted=1",
        submission.declaration.id
    )))
}

/// `GET /declarations/{id}/revise`: the form filled in with the latest version's answers (or,
/// `?draft=ID`, a draft of a revision as it was typed), for those who may revise it.
pub async fn revise_form(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, WebError> {
    let (declaration, production) = declaration_and_production(&state, &id).await?;
    web.authorize(Action::ReviseDeclaration, Some(&production))?;
    let choices = choices(&state, &web).await?;
    let query = query_fields(&uri);
    let fields = match query.get(DRAFT_FIELD) {
        "" => fields_of(&declaration.declaration, &production, &choices),
        draft => {
            let draft = own_draft(&state, &web, draft).await?;
            if draft.declaration_id != Some(declaration.id) {
                return Err(StoreError::NotFound {
                    kind: "draft",
                    id: draft.id.to_string(),
                }
                .into());
            }
            draft_fields(&draft)
        }
    };
    form_page(
        &web,
        &choices,
        &fields,
        Vec::new(),
        None,
        &Target::Revise(&declaration),
    )
}

/// `POST /declarations/{id}/revise`: the form again with its errors, a draft saved, or a new
/// version recorded (the API's versions, triaged as a submission is) and the browser sent to
/// the declaration's page with its decision.
pub async fn revise(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, fields }: WebForm,
) -> Result<Response, WebError> {
    let (current, production) = declaration_and_production(&state, &id).await?;
    web.authorize(Action::ReviseDeclaration, Some(&production))?;
    if fields.get("intent") == "draft" {
        return save_draft(&state, &web, &fields, Some(current.id)).await;
    }
    let choices = choices(&state, &web).await?;
    let target = Target::Revise(&current);
    let (declaration, chosen) = match read(&choices, &fields) {
        Ok(read) => read,
        Err(errors) => return form_page(&web, &choices, &fields, errors, None, &target),
    };
    if chosen.id != production.id {
        let errors = vec![(
            "production".to_owned(),
            format!(
                "a new version stays in its production: choose {}",
                production.title
            ),
        )];
        return form_page(&web, &choices, &fields, errors, None, &target);
    }
    let ledger = state.ledger.get().await?;
    let triage = match triage_for(&state, ledger, &production, &declaration).await {
        Ok(triage) => triage,
        Err(
            error @ (ApiError::Declaration(_)
            | ApiError::InvalidField { .. }
            | ApiError::RecordNotFound(_)),
        ) => {
            let (problem, _) = error.problem();
            return form_page(
                &web,
                &choices,
                &fields,
                Vec::new(),
                Some(problem.detail),
                &target,
            );
        }
        Err(other) => return Err(other.into()),
    };
    let submission = ledger
        .revise_declaration(web.caller.login(), current.id, declaration, triage)
        .await?;
    drop_draft(&state, &web, &fields).await?;
    Ok(see_other(&format!(
        "/declarations/{}?submitted=1",
        submission.declaration.id
    )))
}
