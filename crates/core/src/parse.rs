//! Reading a declaration from TOML or JSON, with errors that name the field,
//! the line and the column, and suggest the field that was probably meant.

// A declaration error is built once per file read; its size does not matter.
#![allow(
    clippy::result_large_err,
    reason = "errors are rare and read by people"
)]

use std::fmt;

use serde::de::DeserializeOwned;

use crate::Declaration;

/// The text format of a declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// TOML, the format people write.
    Toml,
    /// JSON, the format programs write.
    Json,
}

impl SourceFormat {
    /// The format a file name suggests: `.json` is JSON, anything else TOML.
    pub fn from_path(path: &str) -> SourceFormat {
        if path.to_ascii_lowercase().ends_with(".json") {
            SourceFormat::Json
        } else {
            SourceFormat::Toml
        }
    }
}

/// Why a declaration could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct DeclarationError {
    /// The dotted path of the field at fault (`inputs.talent_likeness`), empty
    /// when the fault is in the document as a whole.
    pub field: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Byte offsets of the fault in the text, when known.
    pub span: Option<std::ops::Range<usize>>,
    /// What is wrong, lowercase and without a final period.
    pub message: String,
    /// A suggestion, e.g. the field that was probably meant.
    pub help: Option<String>,
}

impl fmt::Display for DeclarationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "{line}:{column}: ")?;
        }
        if !self.field.is_empty() && !self.message.contains(&format!("`{}`", self.field)) {
            write!(f, "`{}`: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl Declaration {
    /// Reads a declaration. Every question left out is `unsure`; a field the
    /// declaration does not have is an error, as is a value outside the
    /// field's allowed set.
    pub fn parse(text: &str, format: SourceFormat) -> Result<Declaration, DeclarationError> {
        match format {
            SourceFormat::Toml => parse_toml(text),
            SourceFormat::Json => parse_json(text),
        }
    }
}

/// The JSON Schema of a declaration.
pub fn declaration_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Declaration);
    serde_json::to_value(schema).unwrap_or_default()
}

/// The JSON Schema of a decision.
pub fn decision_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(crate::Decision);
    serde_json::to_value(schema).unwrap_or_default()
}

fn parse_toml<T: DeserializeOwned>(text: &str) -> Result<T, DeclarationError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| {
        let span = e.span();
        located(text, span, String::new(), e.message().to_owned())
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = field_path(e.path());
        let inner = e.inner();
        located(text, inner.span(), field, inner.message().to_owned())
    })
}

fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, DeclarationError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = field_path(e.path());
        let inner = e.inner();
        let message = strip_json_position(&inner.to_string());
        let mut error = explain(String::new(), field, message);
        if inner.line() > 0 {
            error.line = Some(inner.line());
            error.column = Some(inner.column());
        }
        error
    })?;
    deserializer.end().map_err(|e| {
        let mut error = explain(
            String::new(),
            String::new(),
            strip_json_position(&e.to_string()),
        );
        error.line = Some(e.line());
        error.column = Some(e.column());
        error
    })?;
    Ok(value)
}

/// serde_json appends " at line L column C"; we report those separately.
fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message.get(..at).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

/// `inputs.talent_likeness`, `tools[1].name`: the path serde walked, without
/// the trailing `?` serde_path_to_error puts on a path it could not finish.
fn field_path(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { String::new() } else { text }
}

fn located(
    text: &str,
    span: Option<std::ops::Range<usize>>,
    field: String,
    message: String,
) -> DeclarationError {
    let mut error = explain(String::new(), field, message.trim().to_owned());
    if let Some(span) = span {
        let (line, column) = line_column(text, span.start);
        error.line = Some(line);
        error.column = Some(column);
        error.span = Some(span);
    }
    error
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Turns serde's messages into ours: names the field, and for an unknown
/// field suggests the closest known one.
fn explain(_unused: String, field: String, message: String) -> DeclarationError {
    let mut field = field;
    let mut help = None;
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((name, expected)) = rest.split_once('`') {
            let candidates = backticked(expected);
            help = closest(name, &candidates).map(|c| format!("did you mean `{c}`?"));
            field = join_field(&field, name);
        }
    } else if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        field = join_field(&field, name);
    }
    DeclarationError {
        field,
        line: None,
        column: None,
        span: None,
        message,
        help,
    }
}

/// Appends `name` to `path` unless serde already put it there.
fn join_field(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else if path == name || path.ends_with(&format!(".{name}")) {
        path.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The candidate closest to `name`, if any is close enough to be a typo.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Answer, Prominence};

    const MINIMAL: &str = r#"
title = "t"
production = "p"
production_kind = "scripted"
stage = "development"
purpose = "ideation"
"#;

    #[test]
    fn missing_answers_are_unsure() {
        let d = Declaration::parse(MINIMAL, SourceFormat::Toml).unwrap();
        assert_eq!(d.principles.p1_no_ip_replication, Answer::Unsure);
        assert_eq!(d.output.final_deliverable, Answer::Unsure);
        assert_eq!(d.output.prominence, Prominence::Unsure);
        assert_eq!(d.replaces_union_work, Answer::Unsure);
    }

    #[test]
    fn unknown_field_is_named_with_position_and_hint() {
        let text = format!("{MINIMAL}\n[inputs]\ntalent_likness = \"no\"\n");
        let e = Declaration::parse(&text, SourceFormat::Toml).unwrap_err();
        assert_eq!(e.field, "inputs.talent_likness");
        assert_eq!(e.line, Some(9));
        assert_eq!(e.help.as_deref(), Some("did you mean `talent_likeness`?"));
    }

    #[test]
    fn bad_value_names_field_and_allowed_values() {
        let text = format!("{MINIMAL}\n[output]\nfinal_deliverable = \"maybe\"\n");
        let e = Declaration::parse(&text, SourceFormat::Toml).unwrap_err();
        assert_eq!(e.field, "output.final_deliverable");
        assert!(e.message.contains("`yes`, `no`"), "{}", e.message);
        assert_eq!(e.line, Some(9));
    }

    #[test]
    fn json_errors_name_field_and_line() {
        let text = "{\n\"title\": \"t\", \"production\": \"p\", \"production_kind\": \"scripted\",\n\"stage\": \"development\", \"purpose\": \"ideation\",\n\"principles\": {\"p1_no_ip_replicaton\": \"yes\"}}";
        let e = Declaration::parse(text, SourceFormat::Json).unwrap_err();
        assert_eq!(e.field, "principles.p1_no_ip_replicaton");
        assert_eq!(e.line, Some(4));
        assert_eq!(
            e.help.as_deref(),
            Some("did you mean `p1_no_ip_replication`?")
        );
        let text = "{\"title\": \"t\", \"production\": \"p\", \"production_kind\": \"scripted\", \"stage\": \"development\", \"purpose\": \"idea\"}";
        let e = Declaration::parse(text, SourceFormat::Json).unwrap_err();
        assert_eq!(e.field, "purpose");
        assert!(e.message.contains("`ideation`"), "{}", e.message);
    }

    #[test]
    fn missing_required_field_is_named() {
        let e = Declaration::parse("title = \"t\"\n", SourceFormat::Toml).unwrap_err();
        assert_eq!(e.field, "production");
        assert!(e.message.contains("missing field"));
    }

    #[test]
    fn schema_lists_every_top_level_field() {
        let schema = declaration_schema();
        let properties = schema["properties"].as_object().unwrap();
        for field in [
            "title",
            "purpose",
            "tools",
            "inputs",
            "output",
            "performers",
            "principles",
        ] {
            assert!(properties.contains_key(field), "{field}");
        }
    }
}
