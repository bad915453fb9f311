//! Reasons that name what the declaration says. A rule's reason may hold
//! placeholders: `{performers[].name}` is replaced by the values at that path
//! of the declaration, in the declaration's order, joined by ", " ("none"
//! when there are none). `[]` steps into every item of a list; `{{` and `}}`
//! are literal braces. Every placeholder is checked against the
//! declaration's shape when the pack loads, so rendering cannot fail.

use std::ops::Range;

use crate::check::Step;
use crate::diagnostic::closest;
use crate::schema::Field;
use crate::value::Val;

/// A reason with its placeholders parsed.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Path(Vec<Step>),
}

/// A mistake in a reason, at a byte range of its text.
#[derive(Debug, PartialEq)]
pub(crate) struct Problem {
    pub at: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Template {
    /// Parses `text` and checks each placeholder against `root`.
    pub(crate) fn parse(text: &str, root: &Field) -> Result<Template, Vec<Problem>> {
        let mut parts = Vec::new();
        let mut problems = Vec::new();
        let mut literal = String::new();
        let mut rest = text.char_indices().peekable();
        while let Some((at, c)) = rest.next() {
            match c {
                '{' if rest.peek().is_some_and(|(_, n)| *n == '{') => {
                    rest.next();
                    literal.push('{');
                }
                '}' if rest.peek().is_some_and(|(_, n)| *n == '}') => {
                    rest.next();
                    literal.push('}');
                }
                '{' => {
                    let Some(close) = text.get(at..).and_then(|t| t.find('}')) else {
                        problems.push(Problem {
                            at: at..text.len(),
                            message: "a `{` in the reason opens a placeholder that is never closed"
                                .to_owned(),
                            help: Some("close it with `}`, or write `{{` for a brace".to_owned()),
                        });
                        break;
                    };
                    let inner = text.get(at + 1..at + close).unwrap_or_default();
                    match path(inner, root) {
                        Ok(steps) => {
                            if !literal.is_empty() {
                                parts.push(Part::Text(std::mem::take(&mut literal)));
                            }
                            parts.push(Part::Path(steps));
                        }
                        Err((message, help)) => problems.push(Problem {
                            at: at..at + close + 1,
                            message,
                            help,
                        }),
                    }
                    while rest.peek().is_some_and(|(i, _)| *i <= at + close) {
                        rest.next();
                    }
                }
                '}' => problems.push(Problem {
                    at: at..at + 1,
                    message: "a `}` in the reason closes no placeholder".to_owned(),
                    help: Some("write `}}` for a brace".to_owned()),
                }),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        if problems.is_empty() {
            Ok(Template { parts })
        } else {
            Err(problems)
        }
    }

    /// Whether the reason is the same for every declaration.
    pub(crate) fn is_fixed(&self) -> bool {
        !self.parts.iter().any(|p| matches!(p, Part::Path(_)))
    }

    /// The reason for this declaration.
    pub(crate) fn render(&self, root: &Val) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Path(steps) => {
                    let mut values = Vec::new();
                    collect(root, steps, &mut values);
                    if values.is_empty() {
                        out.push_str("none");
                    } else {
                        out.push_str(&values.join(", "));
                    }
                }
            }
        }
        out
    }
}

/// Reads `performers[].name` into steps, checking each against the shape.
fn path(text: &str, root: &Field) -> Result<Vec<Step>, (String, Option<String>)> {
    let mut steps = Vec::new();
    let mut field = root;
    let mut shown = String::new();
    if text.trim().is_empty() {
        return Err((
            "an empty placeholder `{}` in the reason".to_owned(),
            Some("name a field, e.g. `{performers[].name}`, or write `{{}}` for braces".to_owned()),
        ));
    }
    for segment in text.split('.') {
        let (name, each) = match segment.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (segment, false),
        };
        let Field::Object(fields) = field else {
            return Err((
                format!("placeholder `{{{text}}}`: `{shown}` has no fields"),
                None,
            ));
        };
        let Some(next) = fields.get(name) else {
            let help = closest(name, fields.keys().map(String::as_str))
                .map(|c| format!("did you mean `{c}`?"));
            return Err((
                format!("placeholder `{{{text}}}`: the declaration has no field `{name}` here"),
                help,
            ));
        };
        if !shown.is_empty() {
            shown.push('.');
        }
        shown.push_str(segment);
        steps.push(Step::Field(name.to_owned()));
        field = next;
        match (field, each) {
            (Field::List(item), true) => {
                steps.push(Step::Each);
                field = item;
            }
            (Field::List(_), false) => {
                return Err((
                    format!("placeholder `{{{text}}}`: `{shown}` is a list"),
                    Some(format!("write `{shown}[]` to name every item")),
                ));
            }
            (_, true) => {
                return Err((
                    format!("placeholder `{{{text}}}`: `{name}` is not a list"),
                    Some(format!("write `{name}` without `[]`")),
                ));
            }
            _ => {}
        }
    }
    if let Field::Object(fields) = field {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        return Err((
            format!("placeholder `{{{text}}}` names a table, not a value"),
            Some(format!("name one of its fields: {}", names.join(", "))),
        ));
    }
    Ok(steps)
}

fn collect(value: &Val, steps: &[Step], out: &mut Vec<String>) {
    match steps.split_first() {
        None => match value {
            Val::Null => {}
            Val::Text(text) if text.is_empty() => {}
            Val::Text(text) => out.push(text.clone()),
            Val::Name(name) => out.push((*name).to_owned()),
            Val::List(items) => items.iter().for_each(|i| collect(i, &[], out)),
            other => out.push(other.to_json().to_string()),
        },
        Some((Step::Field(name), rest)) => {
            if let Some(inner) = value.field(name) {
                collect(inner, rest, out);
            }
        }
        Some((Step::Each, rest)) => {
            if let Val::List(items) = value {
                for item in items {
                    collect(item, rest, out);
                }
            }
        }
        Some((Step::Size, _)) => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "a test")]

    use super::*;
    use crate::schema::DECLARATION;

    fn declaration(performers: &str) -> Val {
        let text = format!(
            "title = \"t\"\nproduction = \"p\"\nproduction_kind = \"scripted\"\n\
             stage = \"production\"\npurpose = \"voice_synthesis\"\n{performers}"
        );
        let d = greenlight_core::Declaration::parse(&text, greenlight_core::SourceFormat::Toml)
            .unwrap();
        crate::value::to_val(&d).unwrap()
    }

    #[test]
    fn placeholders_name_every_item_in_order() {
        let t = Template::parse(
            "consent of {performers[].name} ({performers[].consent}), {{literal}}",
            &DECLARATION,
        )
        .unwrap();
        assert!(!t.is_fixed());
        let two = declaration(
            "[[performers]]\nname = \"Ruth Calder\"\nuse = \"voice_clone\"\nconsent = \"documented\"\n\
             [[performers]]\nname = \"Jonah Whitlock\"\nuse = \"replica\"\nconsent = \"pending\"\n",
        );
        assert_eq!(
            t.render(&two),
            "consent of Ruth Calder, Jonah Whitlock (documented, pending), {literal}"
        );
        assert_eq!(
            t.render(&declaration("")),
            "consent of none (none), {literal}"
        );
    }

    #[test]
    fn a_fixed_reason_renders_as_written() {
        let t = Template::parse("No placeholder here.", &DECLARATION).unwrap();
        assert!(t.is_fixed());
        assert_eq!(t.render(&declaration("")), "No placeholder here.");
    }

    #[test]
    fn every_mistake_is_named_where_it_is() {
        let cases = [
            (
                "a {performers[].nmae} b",
                2..21,
                "no field `nmae`",
                Some("did you mean `name`?"),
            ),
            (
                "{performers.name}",
                0..17,
                "`performers` is a list",
                Some("write `performers[]`"),
            ),
            (
                "{inputs[].trains_model}",
                0..23,
                "`inputs` is not a list",
                None,
            ),
            ("{inputs}", 0..8, "names a table", Some("trains_model")),
            ("x {} y", 2..4, "empty placeholder", None),
            ("x { y", 2..5, "never closed", None),
            ("x } y", 2..3, "closes no placeholder", None),
        ];
        for (text, at, message, help) in cases {
            let problems = Template::parse(text, &DECLARATION).unwrap_err();
            let [problem] = problems.as_slice() else {
                panic!("{text}: {problems:?}")
            };
            assert_eq!(problem.at, at, "{text}");
            assert!(
                problem.message.contains(message),
                "{text}: {}",
                problem.message
            );
            if let Some(help) = help {
                assert!(
                    problem.help.as_deref().is_some_and(|h| h.contains(help)),
                    "{text}: {:?}",
                    problem.help
                );
            }
        }
    }
}
