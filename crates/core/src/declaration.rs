//! The declaration: what a production intends to do with generative AI.
//!
//! Field names are a public contract (see the design brief, "The
//! declaration"); more fields may be added, none renamed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An answer to a yes/no question. A question left out is [`Answer::Unsure`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// A confident yes.
    Yes,
    /// A confident no.
    No,
    /// Not known; triage treats it like the riskier answer and says so.
    #[default]
    Unsure,
}

/// What kind of production the use belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs, reason = "the variant names are the documentation")]
pub enum ProductionKind {
    Scripted,
    Documentary,
    Unscripted,
    Animation,
    Advertising,
    Other,
}

/// Where in the life of the production the use happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs, reason = "the variant names are the documentation")]
pub enum Stage {
    Development,
    PreProduction,
    Production,
    PostProduction,
    Marketing,
    Localization,
}

/// What the generative AI is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs, reason = "the variant names are the documentation")]
pub enum Purpose {
    Ideation,
    MoodBoard,
    PitchDeck,
    Storyboard,
    Previs,
    TempMedia,
    Vfx,
    BackgroundElement,
    Prop,
    KeyCreative,
    CharacterDesign,
    TalentReplica,
    TalentAlteration,
    DeAging,
    VoiceSynthesis,
    Localization,
    SyntheticPerformer,
    CrowdReplication,
    ScriptDevelopment,
    Restoration,
    Marketing,
    ModelTraining,
    Other,
}

/// A kind of media the use produces or consumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs, reason = "the variant names are the documentation")]
pub enum Medium {
    Image,
    Video,
    Audio,
    Voice,
    Text,
    #[serde(rename = "3d")]
    ThreeD,
}

/// How prominent the output is on screen (policy-spec §5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Prominence {
    /// Not seen or heard on screen.
    None,
    /// Glimpsed, never referenced.
    Incidental,
    /// Read aloud, legible, or it drives the story.
    StoryRelevant,
    /// A key creative element: main character, key visual, central setting.
    KeyCreative,
    /// Not known yet; treated like the riskier answers.
    #[default]
    Unsure,
}

/// How a real performer's voice or likeness is used (policy-spec §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PerformerUse {
    /// A digital replica of voice and/or likeness.
    Replica,
    /// A synthetic copy of the performer's voice.
    VoiceClone,
    /// Re-ageing or de-ageing.
    DeAging,
    /// A change to the emotional tone, delivery or intent of a performance.
    AlterationSignificant,
    /// A customary post-production fix: cosmetics, wardrobe, noise, timing,
    /// continuity, pitch, clarity.
    AlterationCustomary,
}

/// The state of a performer's consent for this use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// Explicit consent, documented and on file.
    Documented,
    /// Asked for, not yet given.
    Pending,
    /// No consent.
    #[default]
    None,
    /// The production holds that no consent is needed (one of the §6 cases).
    NotRequired,
}

/// Where the work is released, for the territorial overlays (laws of a
/// state or union of states).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Territory {
    /// The European Union (AI Act).
    Eu,
    /// California.
    UsCa,
    /// New York.
    UsNy,
    /// Tennessee.
    UsTn,
    /// Another US state.
    UsOther,
    /// Anywhere else.
    Other,
}

/// The kind of digital replica, in the SAG-AFTRA 2023 agreement's terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaKind {
    /// Made with the performer's physical participation while employed, to
    /// portray them in scenes they did not perform (EBDR).
    EmploymentBased,
    /// Made from existing material without their participation (ICDR).
    IndependentlyCreated,
    /// A replica of a background actor (crowd replication).
    Background,
    /// A synthetic performer: gives the impression of a natural performer
    /// without being recognisable as any identifiable one.
    Synthetic,
    /// No replica: an alteration of recorded photography or soundtrack.
    None,
    /// Not known; treated like the riskier answers.
    #[default]
    Unsure,
}

/// Who negotiated the performer's replica terms on their side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Representation {
    /// A lawyer who negotiated the terms.
    Counsel,
    /// A union whose agreement expressly covers digital replicas.
    Union,
    /// Nobody.
    None,
    /// Not known; treated like the riskier answers.
    #[default]
    Unsure,
}

/// Script material: what the writers were told and chose (WGA Article 72).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The writer was told the material handed to them was produced by GenAI.
    #[serde(default)]
    pub writer_told: Answer,
    /// The writer chose to use GenAI themselves.
    #[serde(default)]
    pub writer_chose_ai: Answer,
    /// The company consented to the writer's use, within its policy.
    #[serde(default)]
    pub company_consented: Answer,
    /// The company requires the writer to use GenAI.
    #[serde(default)]
    pub writer_required: Answer,
}

/// A tool, plug-in or vendor step in the pipeline, with its data terms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// The id of a registered tool, whose recorded terms then apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tool's name, as the production knows it.
    #[serde(default)]
    pub name: String,
    /// The vendor or maker of the tool.
    #[serde(default)]
    pub vendor: String,
    /// Licence tier or plan (a wrong tier can break confidentiality).
    #[serde(default)]
    pub licence_tier: String,
    /// Used under an enterprise agreement with the studio.
    #[serde(default)]
    pub enterprise_agreement: Answer,
    /// The tool trains or fine-tunes on inputs or outputs.
    #[serde(default)]
    pub trains_on_inputs: Answer,
    /// The tool stores or reuses inputs.
    #[serde(default)]
    pub retains_inputs: Answer,
    /// The tool's maker resells or shares inputs.
    #[serde(default)]
    pub resells_inputs: Answer,
}

/// What goes into the tools.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Studio-owned material: scripts, unreleased footage, production images.
    #[serde(default)]
    pub proprietary_material: Answer,
    /// Contracts or other confidential business documents (a sensitive input, O1).
    #[serde(default)]
    pub contracts: Answer,
    /// Unreleased footage (a sensitive input, O1).
    #[serde(default)]
    pub unreleased_footage: Answer,
    /// Cast or crew personal information.
    #[serde(default)]
    pub personal_data: Answer,
    /// Images, video or voice of real performers.
    #[serde(default)]
    pub talent_likeness: Answer,
    /// Unowned copyrighted works, artists' works.
    #[serde(default)]
    pub third_party_material: Answer,
    /// Rights in the third-party material are cleared.
    #[serde(default)]
    pub rights_cleared: Answer,
    /// Training or fine-tuning a model on the inputs.
    #[serde(default)]
    pub trains_model: Answer,
}

/// What comes out, and where it ends up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// The output is, or may become, part of the final deliverables.
    #[serde(default)]
    pub final_deliverable: Answer,
    /// How prominent it is on screen.
    #[serde(default)]
    pub prominence: Prominence,
    /// It shows or sounds like real, identifiable people.
    #[serde(default)]
    pub depicts_real_people: Answer,
    /// It shows real events.
    #[serde(default)]
    pub depicts_real_events: Answer,
    /// It could be taken for real events, people or statements that never happened.
    #[serde(default)]
    pub could_mislead: Answer,
    /// The use of generative AI is disclosed to the audience.
    #[serde(default)]
    pub disclosed: Answer,
    /// The output is handed to writers as material (WGA).
    #[serde(default)]
    pub handed_to_writers: Answer,
    /// The output is, or is part of, an advertisement.
    #[serde(default)]
    pub advertisement: Answer,
}

/// What prompts or input images reference, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct References {
    /// Copyrighted works referenced.
    #[serde(default)]
    pub copyrighted_works: Vec<String>,
    /// Artists whose work or style is referenced.
    #[serde(default)]
    pub artists: Vec<String>,
    /// Public figures referenced.
    #[serde(default)]
    pub public_figures: Vec<String>,
    /// Deceased people referenced.
    #[serde(default)]
    pub deceased_people: Vec<String>,
    /// Permission for the references above is documented.
    #[serde(default)]
    pub permission: Answer,
}

/// A real performer whose voice, likeness or performance the use touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Performer {
    /// The id of a registered performer, whose recorded consent then applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The performer's name.
    #[serde(default)]
    pub name: String,
    /// The performer's union, empty when none.
    #[serde(default)]
    pub union: String,
    /// How the performer's voice, likeness or performance is used.
    #[serde(rename = "use")]
    pub use_: PerformerUse,
    /// The output is recognisable as this performer.
    #[serde(default)]
    pub recognizable: Answer,
    /// Consent for this use.
    #[serde(default)]
    pub consent: Consent,
    /// The performer is deceased (consent then comes from the estate).
    #[serde(default)]
    pub deceased: Answer,
    /// The use stays within the production the performer worked on.
    #[serde(default)]
    pub same_production: Answer,
    /// The result stays substantially as scripted, performed or recorded.
    #[serde(default)]
    pub as_scripted: Answer,
    /// The result depicts action unsafe for a human.
    #[serde(default)]
    pub unsafe_action: Answer,
    /// Dubbing or doubles permitted by existing agreements.
    #[serde(default)]
    pub existing_agreement: Answer,
    /// Only this performer's own material trains the model (with
    /// `inputs.trains_model`): `yes` when every recording or image of them
    /// that goes in is their own, made for this production or supplied by
    /// them, and none of it belongs to others (earlier productions, archives);
    /// `no` when some of it does; `unsure` (the default) when it is not known.
    /// When every performer named answers `yes` and has documented consent
    /// for this production (`same_production = "yes"`), that consent clears
    /// their material for training (policy-spec M4, C3a); anyone else's
    /// material still needs `inputs.rights_cleared`.
    #[serde(default)]
    pub own_material_only: Answer,
    /// The kind of replica (SAG-AFTRA 2023): employment-based, independently
    /// created, background, synthetic, none (an alteration only).
    #[serde(default)]
    pub replica_kind: ReplicaKind,
    /// The consent is signed separately, not buried in standard terms.
    #[serde(default)]
    pub consent_separately_signed: Answer,
    /// The consent describes the intended use reasonably specifically.
    #[serde(default)]
    pub consent_description_specific: Answer,
    /// Who negotiated the replica terms for the performer.
    #[serde(default)]
    pub representation: Representation,
    /// Hours of notice given before the scan session; absent when not known.
    #[serde(default)]
    pub scan_notice_hours: Option<u32>,
    /// The compensation terms for creating and using the replica are recorded.
    #[serde(default)]
    pub compensation_terms_recorded: Answer,
}

/// The partner's own answers to the five principles (policy-spec §1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Principles {
    /// P1: outputs do not replicate unowned or copyrighted material.
    #[serde(default)]
    pub p1_no_ip_replication: Answer,
    /// P2: tools do not store, reuse or train on inputs or outputs.
    #[serde(default)]
    pub p2_no_training_or_retention: Answer,
    /// P3: tools run in an enterprise-secured environment.
    #[serde(default)]
    pub p3_enterprise_secured: Answer,
    /// P4: generated material is temporary, not in the final deliverables.
    #[serde(default)]
    pub p4_temporary: Answer,
    /// P5: no replacement of talent performances or union-covered work without consent.
    #[serde(default)]
    pub p5_no_talent_replacement: Answer,
}

/// An intended use of generative AI, as a production declares it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// A short title of the use.
    pub title: String,
    /// The production's title or id.
    pub production: String,
    /// What kind of production it is.
    pub production_kind: ProductionKind,
    /// The stage of the production.
    pub stage: Stage,
    /// What the generative AI is for.
    pub purpose: Purpose,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The kinds of media involved.
    #[serde(default)]
    pub media: Vec<Medium>,
    /// The use replaces or materially affects union-covered work.
    #[serde(default)]
    pub replaces_union_work: Answer,
    /// The tools, plug-ins and vendor steps of the pipeline.
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// What goes into the tools.
    #[serde(default)]
    pub inputs: Inputs,
    /// What comes out.
    #[serde(default)]
    pub output: Output,
    /// What prompts or input images reference.
    #[serde(default)]
    pub references: References,
    /// Real performers the use touches.
    #[serde(default)]
    pub performers: Vec<Performer>,
    /// The partner's answers to P1–P5.
    #[serde(default)]
    pub principles: Principles,
    /// Where the work is released; empty when not known yet (unsure).
    #[serde(default)]
    pub release_territories: Vec<Territory>,
    /// The director was consulted on the use (DGA 2023).
    #[serde(default)]
    pub director_consulted: Answer,
    /// The work will be registered for copyright (US Copyright Office).
    #[serde(default)]
    pub copyright_registration: Answer,
    /// What people made around the generated material (writing, performance, selection,
    /// arrangement, editing), in the words a copyright registration's claim would use; empty
    /// when not described yet.
    #[serde(default)]
    pub human_contribution: String,
    /// Script material: what the writers were told and chose.
    #[serde(default)]
    pub script: Script,
}
