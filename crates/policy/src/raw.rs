//! Stage one: the pack's TOML read into plain structs with positions.
//!
//! The TOML is parsed with recovery, so a syntax error does not hide the
//! problems after it, and every table is walked by hand so that an unknown
//! key, a wrong type or a missing field becomes a diagnostic of its own
//! instead of stopping the walk.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::dates::PackDate;
use crate::diagnostic::{Diagnostic, Source, closest};

/// A value and where it was written.
#[derive(Clone, Debug)]
pub(crate) struct Sp<T> {
    pub value: T,
    pub span: Range<usize>,
}

/// A pack as written.
#[derive(Debug, Default)]
pub(crate) struct RawPack {
    pub id: Option<Sp<String>>,
    pub version: Option<Sp<String>>,
    pub title: String,
    pub source_ref: String,
    /// The first and last day the pack's text is in force (inclusive).
    pub effective: Option<Sp<PackDate>>,
    pub expires: Option<Sp<PackDate>>,
    pub extends: Vec<Sp<String>>,
    pub remove: Vec<Sp<String>>,
    pub principles: Vec<RawEntry>,
    pub categories: Vec<RawEntry>,
    pub rules: Vec<RawRule>,
}

/// A principle, category or section the rules may cite.
#[derive(Clone, Debug)]
pub(crate) struct RawEntry {
    pub id: Sp<String>,
    pub group: String,
    pub text: String,
}

/// A rule as written.
#[derive(Clone, Debug)]
pub(crate) struct RawRule {
    pub id: Sp<String>,
    pub title: String,
    /// The CEL condition, and the byte offset in the file where its text starts
    /// (`None` when escapes make offsets inside it unreliable).
    pub when: Option<Sp<String>>,
    pub when_offset: Option<usize>,
    pub level: Option<Sp<String>>,
    pub cites: Vec<Sp<String>>,
    pub basis: Option<Sp<String>>,
    pub severity: Option<Sp<String>>,
    pub reason: String,
    /// Where the reason sits in the file, and the byte offset where its text
    /// starts (`None` when escapes make offsets inside it unreliable).
    pub reason_span: Range<usize>,
    pub reason_offset: Option<usize>,
    pub remedy: String,
}

const PACK_KEYS: &[&str] = &[
    "id",
    "version",
    "title",
    "source",
    "effective",
    "expires",
    "extends",
    "remove",
];
const ENTRY_KEYS: &[&str] = &["id", "group", "text"];
const RULE_KEYS: &[&str] = &[
    "id", "title", "when", "level", "cites", "basis", "severity", "reason", "remedy",
];
const TOP_KEYS: &[&str] = &["pack", "principles", "categories", "rules"];

/// Reads a pack's text. Never fails: what cannot be read is a diagnostic.
pub(crate) fn read(source: &Source, diagnostics: &mut Vec<Diagnostic>) -> RawPack {
    let text: &str = &source.text;
    let (document, errors) = DeTable::parse_recoverable(text);
    for error in errors {
        let span = error.span().unwrap_or(0..0);
        diagnostics.push(Diagnostic::new(
            source,
            span,
            format!("invalid TOML: {}", error.message().trim()),
        ));
    }
    let span = document.span();
    let document = document.into_inner();
    let mut top = Table::new(source, &document, span, "the pack", diagnostics);
    let mut pack = RawPack::default();

    if let Some((table, span)) = top.table("pack") {
        let mut t = Table::new(source, table, span.clone(), "`[pack]`", top.diagnostics);
        pack.id = t.required_str("id");
        pack.version = t.required_str("version");
        pack.title = t.optional_str("title").map(|s| s.value).unwrap_or_default();
        pack.source_ref = t
            .optional_str("source")
            .map(|s| s.value)
            .unwrap_or_default();
        pack.effective = t.optional_date("effective");
        pack.expires = t.optional_date("expires");
        if let (Some(from), Some(until)) = (&pack.effective, &pack.expires)
            && until.value < from.value
        {
            t.diagnostics.push(
                Diagnostic::new(
                    source,
                    until.span.clone(),
                    format!(
                        "`expires` ({}) is before `effective` ({})",
                        until.value, from.value
                    ),
                )
                .with_help(
                    "`expires` is the last day the pack is in force, on or after `effective`",
                ),
            );
        }
        pack.extends = t.str_list("extends");
        pack.remove = t.str_list("remove");
        t.finish(PACK_KEYS);
    } else {
        top.diagnostics.push(
            Diagnostic::new(source, 0..0, "missing `[pack]` table")
                .with_help("add `[pack]` with `id` and `version`"),
        );
    }
    for key in ["principles", "categories"] {
        for (table, span) in top.table_array(key) {
            let mut t = Table::new(source, table, span.clone(), "this entry", top.diagnostics);
            let id = t.required_str("id");
            let group = t.optional_str("group").map(|s| s.value).unwrap_or_default();
            let text = t.optional_str("text").map(|s| s.value).unwrap_or_default();
            t.finish(ENTRY_KEYS);
            if let Some(id) = id {
                let entry = RawEntry { id, group, text };
                if key == "principles" {
                    pack.principles.push(entry);
                } else {
                    pack.categories.push(entry);
                }
            }
        }
    }
    for (table, span) in top.table_array("rules") {
        let mut t = Table::new(source, table, span.clone(), "this rule", top.diagnostics);
        let id = t.required_str("id");
        if let Some(id) = &id {
            t.what = format!("rule `{}`", id.value);
        }
        let title = t.optional_str("title").map(|s| s.value).unwrap_or_default();
        let when = t.required_str("when");
        let level = t.required_str("level");
        let cites = t.str_list("cites");
        let basis = t.required_str("basis");
        let severity = t.optional_str("severity");
        let reason = t.required_str("reason");
        let remedy = t.required_str("remedy");
        let cites_span = t.span_of("cites");
        let diagnostics = t.finish(RULE_KEYS);
        if cites.is_empty()
            && let Some(id) = &id
        {
            diagnostics.push(
                    Diagnostic::new(source, cites_span.unwrap_or(id.span.clone()), format!("rule `{}` cites nothing", id.value))
                        .with_help("every rule cites the principle, category or section it rests on, e.g. `cites = [\"P4\"]`"),
                );
        }
        if let Some(id) = id {
            let when_offset = when.as_ref().and_then(|w| string_content_offset(text, w));
            let reason_offset = reason.as_ref().and_then(|r| string_content_offset(text, r));
            let reason_span = reason.as_ref().map_or(id.span.clone(), |r| r.span.clone());
            pack.rules.push(RawRule {
                id,
                title,
                when,
                when_offset,
                level,
                cites,
                basis,
                severity,
                reason: reason.map(|r| r.value).unwrap_or_default(),
                reason_span,
                reason_offset,
                remedy: remedy.map(|r| r.value).unwrap_or_default(),
            });
        }
    }
    top.finish(TOP_KEYS);
    pack
}

/// Where the characters of a string value start in the file, if the value's
/// text appears there verbatim (no escapes).
fn string_content_offset(text: &str, value: &Sp<String>) -> Option<usize> {
    let raw = text.get(value.span.clone())?;
    let skip = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        let after = raw.get(3..)?;
        3 + if after.starts_with("\r\n") {
            2
        } else if after.starts_with('\n') {
            1
        } else {
            0
        }
    } else {
        1
    };
    let inner = raw.get(skip..)?;
    inner
        .starts_with(value.value.as_str())
        .then_some(value.span.start + skip)
}

/// A table being walked: hands out its keys and reports the ones left over.
struct Table<'a, 'i, 'd> {
    source: &'a Source,
    table: &'a DeTable<'i>,
    span: Range<usize>,
    what: String,
    used: Vec<&'static str>,
    diagnostics: &'d mut Vec<Diagnostic>,
}

impl<'a, 'i, 'd> Table<'a, 'i, 'd> {
    fn new(
        source: &'a Source,
        table: &'a DeTable<'i>,
        span: Range<usize>,
        what: &str,
        diagnostics: &'d mut Vec<Diagnostic>,
    ) -> Self {
        Table {
            source,
            table,
            span,
            what: what.to_owned(),
            used: Vec::new(),
            diagnostics,
        }
    }

    fn get(&mut self, key: &'static str) -> Option<(&'a DeValue<'i>, Range<usize>)> {
        self.used.push(key);
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| (v.get_ref(), v.span()))
    }

    fn span_of(&self, key: &str) -> Option<Range<usize>> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, _)| k.span())
    }

    fn wrong_type(&mut self, key: &str, span: Range<usize>, expected: &str) {
        self.diagnostics.push(Diagnostic::new(
            self.source,
            span,
            format!("`{key}` in {} must be {expected}", self.what),
        ));
    }

    fn optional_str(&mut self, key: &'static str) -> Option<Sp<String>> {
        match self.get(key)? {
            (DeValue::String(s), span) => Some(Sp {
                value: s.to_string(),
                span,
            }),
            (_, span) => {
                self.wrong_type(key, span, "a string");
                None
            }
        }
    }

    /// A day: a TOML local date (`2026-06-30`) or a string in that form.
    fn optional_date(&mut self, key: &'static str) -> Option<Sp<PackDate>> {
        let (value, span) = self.get(key)?;
        let help = "write a day as a TOML date, e.g. `2026-06-30`";
        let parsed = match value {
            DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => PackDate::new(d.year, d.month, d.day)
                    .ok_or_else(|| format!("`{key}` in {} is not a real day: `{dt}`", self.what)),
                // Nothing parsed: the TOML error already says why.
                (None, None, _) => return None,
                _ => Err(format!(
                    "`{key}` in {} must be a day, without a time or offset: `{dt}`",
                    self.what
                )),
            },
            DeValue::String(s) => s
                .parse::<PackDate>()
                .map_err(|e| format!("`{key}` in {}: {e}", self.what)),
            _ => Err(format!("`{key}` in {} must be a date", self.what)),
        };
        match parsed {
            Ok(value) => Some(Sp { value, span }),
            Err(message) => {
                self.diagnostics
                    .push(Diagnostic::new(self.source, span, message).with_help(help));
                None
            }
        }
    }

    fn required_str(&mut self, key: &'static str) -> Option<Sp<String>> {
        let present = self.table.iter().any(|(k, _)| k.get_ref().as_ref() == key);
        if !present {
            self.used.push(key);
            self.diagnostics.push(Diagnostic::new(
                self.source,
                self.span.clone(),
                format!("missing `{key}` in {}", self.what),
            ));
            return None;
        }
        self.optional_str(key)
    }

    fn str_list(&mut self, key: &'static str) -> Vec<Sp<String>> {
        let Some((value, span)) = self.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = value else {
            self.wrong_type(key, span, "a list of strings");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(Sp {
                    value: s.to_string(),
                    span: item.span(),
                }),
                _ => self.wrong_type(key, item.span(), "a list of strings"),
            }
        }
        out
    }

    fn table(&mut self, key: &'static str) -> Option<(&'a DeTable<'i>, Range<usize>)> {
        match self.get(key)? {
            (DeValue::Table(t), span) => Some((t, span)),
            (_, span) => {
                self.wrong_type(key, span, "a table");
                None
            }
        }
    }

    fn table_array(&mut self, key: &'static str) -> Vec<(&'a DeTable<'i>, Range<usize>)> {
        let Some((value, span)) = self.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = value else {
            self.wrong_type(key, span, &format!("an array of tables (`[[{key}]]`)"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::Table(t) => out.push((t, item.span())),
                _ => self.wrong_type(
                    key,
                    item.span(),
                    &format!("an array of tables (`[[{key}]]`)"),
                ),
            }
        }
        out
    }

    /// Reports every key that was not asked for, with the closest known key.
    fn finish(self, allowed: &[&str]) -> &'d mut Vec<Diagnostic> {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref().as_ref();
            if self.used.contains(&name) {
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                self.source,
                key.span(),
                format!("unknown key `{name}` in {}", self.what),
            );
            diagnostic = match closest(name, allowed.iter().copied()) {
                Some(c) => diagnostic.with_help(format!("did you mean `{c}`?")),
                None => diagnostic.with_help(format!(
                    "known keys: {}",
                    allowed
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            self.diagnostics.push(diagnostic);
        }
        self.diagnostics
    }
}
