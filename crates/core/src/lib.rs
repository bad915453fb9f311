//! Domain types of greenlight, shared by every other crate.
//!
//! This crate's single job is to say what a *declaration* (an intended use of
//! generative AI, written by a production) and a *decision* (the outcome of
//! triage, with every finding) are, and to read a declaration from TOML or
//! JSON with errors that name the field, the line and the column.
//!
//! It does no I/O beyond parsing text handed to it, reads no clock and knows
//! nothing of policy packs, storage or HTTP.
//!
//! ```
//! use greenlight_core::{Answer, Declaration, SourceFormat};
//!
//! let text = r#"
//! title = "Mood boards"
//! production = "The Long Night"
//! production_kind = "scripted"
//! stage = "pre_production"
//! purpose = "mood_board"
//! "#;
//! let declaration = Declaration::parse(text, SourceFormat::Toml).unwrap();
//! // A question left out counts as unsure, never as "no".
//! assert_eq!(declaration.inputs.talent_likeness, Answer::Unsure);
//! ```

mod decision;
mod declaration;
mod parse;

pub use decision::{Basis, Decision, Finding, Level, PolicyRef, Severity};
pub use declaration::{
    Answer, Consent, Declaration, Inputs, Medium, Output, Performer, PerformerUse, Principles,
    ProductionKind, Prominence, Purpose, References, ReplicaKind, Representation, Script, Stage,
    Territory, Tool,
};
pub use parse::{DeclarationError, SourceFormat, decision_schema, declaration_schema};
