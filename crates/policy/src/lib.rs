//! Policy packs: load, validate with precise diagnostics, compile CEL
//! conditions once, evaluate a declaration, explain the decision.
//!
//! A pack is TOML a legal team can read: metadata (`[pack]`), the principles
//! and categories its rules cite, and rules. Each rule has an id, a CEL
//! condition (`when`) over the declaration's fields, a level, the ids it
//! cites, a reason, a remedy and a basis (`guidance` or `interpretation`).
//!
//! Loading runs in three stages, each reporting every problem it finds rather
//! than the first: the TOML is read into plain structs with positions
//! ([`raw`]), the structs are validated (ids unique, cites known, levels and
//! bases spelled right), and every condition is compiled once and checked
//! against the declaration's shape: a field it reads must exist and a value
//! it compares with must be one the field can take. A pack that loads has no
//! condition that can fail on a well-formed declaration.
//!
//! The crate reads no clock, knows no database and does no I/O but reading
//! the pack files it is pointed at ([`Policy::load`]).
//!
//! ```
//! use greenlight_core::{Declaration, Level, SourceFormat};
//! use greenlight_policy::Policy;
//!
//! let policy = Policy::builtin();
//! let declaration = Declaration::parse(
//!     r#"
//!     title = "Mood boards for the station interior"
//!     production = "The Long Night"
//!     production_kind = "scripted"
//!     stage = "pre_production"
//!     purpose = "mood_board"
//!     "#,
//!     SourceFormat::Toml,
//! )
//! .unwrap();
//! let decision = policy.assess(&declaration).unwrap();
//! // The principles were not answered: unsure escalates, and says so.
//! assert_eq!(decision.level, Level::Escalate);
//! ```

mod check;
mod dates;
mod diagnostic;
mod fast;
mod raw;
mod schema;
mod template;
mod value;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use cel::objects::Key;
use cel::{Context, Env, Program, Value};
use greenlight_core::{Basis, Decision, Declaration, Finding, Level, PolicyRef, Severity};
use sha2::{Digest, Sha256};

pub use dates::{BadDate, PackDate};
pub use diagnostic::{Diagnostic, PackErrors, Source};

use check::{Path as FieldPath, Step};
use raw::{RawPack, Sp};

/// The default pack, `policies/netflix-2025.toml`, built into the binary.
pub const BUILTIN_PACK: &str = include_str!("../../../policies/netflix-2025.toml");

/// The name the built-in pack is known by in diagnostics.
pub const BUILTIN_NAME: &str = "<builtin>/netflix-2025.toml";

/// The overlay packs of `policies/` built into the binary, by pack id: the
/// union agreements and laws a production stacks on the default pack.
pub const BUILTIN_OVERLAYS: &[(&str, &str)] = &[
    (
        "sag-aftra-2023",
        include_str!("../../../policies/sag-aftra-2023.toml"),
    ),
    ("wga-2023", include_str!("../../../policies/wga-2023.toml")),
    ("dga-2023", include_str!("../../../policies/dga-2023.toml")),
    ("us-ca", include_str!("../../../policies/us-ca.toml")),
    ("us-ny", include_str!("../../../policies/us-ny.toml")),
    ("us-tn", include_str!("../../../policies/us-tn.toml")),
    (
        "eu-ai-act-art50",
        include_str!("../../../policies/eu-ai-act-art50.toml"),
    ),
    (
        "usco-registration",
        include_str!("../../../policies/usco-registration.toml"),
    ),
];

/// A compiled policy: one pack, or an overlay and the packs it stands on.
pub struct Policy {
    layers: Vec<Layer>,
    entries: BTreeMap<String, Entry>,
    rules: Vec<Rule>,
    env: Arc<Env>,
}

/// One pack of a policy, with the identity decisions cite.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Id, version and sha256 of the pack's text.
    pub reference: PolicyRef,
    /// The pack's title.
    pub title: String,
    /// The published text the pack encodes.
    pub source_ref: String,
    /// The first day the pack's text is in force, when it says.
    pub effective: Option<PackDate>,
    /// The last day the pack's text is in force, when it says.
    pub expires: Option<PackDate>,
    /// Where it was loaded from.
    pub origin: String,
}

impl Layer {
    /// Why this layer does not apply on `day`, or `None` when it does (or
    /// gives no dates).
    pub fn out_of_dates(&self, day: PackDate) -> Option<String> {
        let name = format!("`{}` {}", self.reference.id, self.reference.version);
        let source = if self.source_ref.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.source_ref)
        };
        match (self.effective, self.expires) {
            (Some(from), _) if day < from => Some(format!(
                "The pack {name}{source} takes effect on {from}; this assessment is dated {day}, before it. Its rules were applied all the same, as the text that will be in force: confirm which terms bind the work done now."
            )),
            (_, Some(until)) if day > until => Some(format!(
                "The pack {name}{source} expired on {until}; this assessment is dated {day}, after it. Its rules were applied all the same, as the last known terms: confirm whether a successor agreement or amended law replaces them."
            )),
            _ => None,
        }
    }
}

/// The rule id of the finding that says a layer is applied outside its dates.
pub const OUT_OF_DATES_RULE: &str = "pack-dates";

/// Whether an entry is one of the principles or another citable category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// One of the pack's principles.
    Principle,
    /// A category, trigger, matrix row or section.
    Category,
}

/// A principle, category or section that rules cite.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its id, e.g. `P4`, `C3a`, `M2`, `§6`.
    pub id: String,
    /// Principle or category.
    pub kind: EntryKind,
    /// The group it belongs to, e.g. `C3 Talent and performance`.
    pub group: String,
    /// Its text.
    pub text: String,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// The rule's id.
    pub id: String,
    /// A short title.
    pub title: String,
    /// The CEL condition, as written.
    pub when: String,
    /// The level it asks for when it fires.
    pub level: Level,
    /// The ids it cites.
    pub cites: Vec<String>,
    /// Guidance or interpretation.
    pub basis: Basis,
    /// Normal or high.
    pub severity: Severity,
    /// Why it fires, as written: `{path}` placeholders are filled from the
    /// declaration in each finding.
    pub reason: String,
    /// What would change the outcome.
    pub remedy: String,
    /// The id of the pack the rule comes from.
    pub pack: String,
    program: Program,
    fast: Option<fast::Node>,
    reads: Vec<Read>,
    reason_template: template::Template,
}

/// A path a condition reads, with its name ready when it has no list in it.
#[derive(Debug)]
struct Read {
    path: FieldPath,
    name: Option<String>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("layers", &self.layers)
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// The declaration fields the condition reads, e.g. `tools[].trains_on_inputs`.
    pub fn reads(&self) -> Vec<String> {
        self.reads.iter().map(|r| check::render(&r.path)).collect()
    }
}

/// A condition failed while evaluating a declaration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule `{rule}` could not be evaluated: {message}")]
pub struct EvalError {
    /// The rule that failed.
    pub rule: String,
    /// What went wrong.
    pub message: String,
}

impl Policy {
    /// The default pack, `netflix-2025`.
    #[expect(
        clippy::expect_used,
        reason = "the built-in pack is checked by the test suite"
    )]
    pub fn builtin() -> Policy {
        Policy::compile(
            &[Source::new(BUILTIN_NAME, BUILTIN_PACK)],
            &mut |name, _| Err(format!("the built-in pack cannot extend `{name}`")),
        )
        .expect("the built-in pack compiles")
    }

    /// The built-in pack with the built-in overlays named (by pack id, e.g.
    /// `sag-aftra-2023`, `us-ny`) laid over it in order: the stack a
    /// production's overlays name. An unknown id is an error naming the
    /// known ones.
    pub fn builtin_stack(overlays: &[&str]) -> Result<Policy, PackErrors> {
        let mut tops = vec![Source::new(BUILTIN_NAME, BUILTIN_PACK)];
        let mut diagnostics = Vec::new();
        for id in overlays {
            match BUILTIN_OVERLAYS.iter().find(|(name, _)| name == id) {
                Some((name, text)) => {
                    tops.push(Source::new(format!("<builtin>/{name}.toml"), *text));
                }
                None => {
                    let known: Vec<&str> = BUILTIN_OVERLAYS.iter().map(|(n, _)| *n).collect();
                    let mut d = Diagnostic::new(
                        &Source::new(format!("<overlay {id}>"), ""),
                        0..0,
                        format!("no built-in overlay pack `{id}`"),
                    );
                    d = match diagnostic::closest(id, known.iter().copied()) {
                        Some(c) => d.with_help(format!("did you mean `{c}`?")),
                        None => d.with_help(format!("known overlays: {}", known.join(", "))),
                    };
                    diagnostics.push(d);
                }
            }
        }
        if !diagnostics.is_empty() {
            return Err(PackErrors { diagnostics });
        }
        Policy::compile(&tops, &mut |name, _| {
            if name == "netflix-2025.toml" {
                Ok(Source::new(BUILTIN_NAME, BUILTIN_PACK))
            } else {
                Err(format!("a built-in overlay cannot extend `{name}`"))
            }
        })
    }

    /// Loads packs from files, in order: each later pack lays over the ones
    /// before it. `extends` paths are read relative to the pack naming them.
    pub fn load(paths: &[&Path]) -> Result<Policy, PackErrors> {
        let mut sources = Vec::new();
        let mut diagnostics = Vec::new();
        for path in paths {
            match std::fs::read_to_string(path) {
                Ok(text) => sources.push(Source::new(path.display().to_string(), text)),
                Err(e) => diagnostics.push(Diagnostic::new(
                    &Source::new(path.display().to_string(), ""),
                    0..0,
                    format!("cannot read policy pack: {e}"),
                )),
            }
        }
        if !diagnostics.is_empty() {
            return Err(PackErrors { diagnostics });
        }
        Policy::compile(&sources, &mut |name, from| {
            let base = Path::new(&*from.name).parent().unwrap_or(Path::new(""));
            let path = base.join(name);
            std::fs::read_to_string(&path)
                .map(|text| Source::new(path.display().to_string(), text))
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
        })
    }

    /// Compiles packs given as text. `resolve` finds the pack an `extends`
    /// entry names, relative to the pack naming it.
    pub fn compile(
        tops: &[Source],
        resolve: &mut dyn FnMut(&str, &Source) -> Result<Source, String>,
    ) -> Result<Policy, PackErrors> {
        let mut diagnostics = Vec::new();
        let mut stack: Vec<(Source, RawPack)> = Vec::new();
        for top in tops {
            collect(
                top.clone(),
                resolve,
                &mut stack,
                &mut Vec::new(),
                &mut diagnostics,
            );
        }
        let policy = build(stack, &mut diagnostics);
        // File order: packs in the order first seen, positions ascending.
        let mut order: Vec<Arc<str>> = Vec::new();
        for d in &diagnostics {
            if !order.contains(&d.pack.name) {
                order.push(d.pack.name.clone());
            }
        }
        diagnostics.sort_by_key(|d| (order.iter().position(|n| *n == d.pack.name), d.span.start));
        if diagnostics.is_empty() {
            Ok(policy)
        } else {
            Err(PackErrors { diagnostics })
        }
    }

    /// The packs of this policy, base first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The principles and categories rules may cite, by id.
    pub fn entries(&self) -> &BTreeMap<String, Entry> {
        &self.entries
    }

    /// The rules, in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The identity decisions cite: the top pack, and the layers beneath it.
    pub fn reference(&self) -> PolicyRef {
        let mut top = self
            .layers
            .last()
            .map(|l| l.reference.clone())
            .unwrap_or_else(|| PolicyRef {
                id: String::new(),
                version: String::new(),
                sha256: String::new(),
                layers: Vec::new(),
            });
        if self.layers.len() > 1 {
            top.layers = self.layers.iter().map(|l| l.reference.clone()).collect();
        }
        top
    }

    /// Triage: evaluates every rule against the declaration. The decision's
    /// level is the strictest finding's; findings come strictest first, then
    /// in pack order. The same declaration always gives the same decision.
    pub fn assess(&self, declaration: &Declaration) -> Result<Decision, EvalError> {
        self.assess_inner(declaration, None)
    }

    /// Triage as [`Policy::assess`], made on `day`: every layer applied
    /// outside its `effective` .. `expires` dates adds a notify finding
    /// (rule [`OUT_OF_DATES_RULE`], citing the pack's id) that says so.
    /// The rules of such a layer still apply.
    pub fn assess_on(
        &self,
        declaration: &Declaration,
        day: PackDate,
    ) -> Result<Decision, EvalError> {
        self.assess_inner(declaration, Some(day))
    }

    fn assess_inner(
        &self,
        declaration: &Declaration,
        day: Option<PackDate>,
    ) -> Result<Decision, EvalError> {
        let root = value::to_val(declaration).map_err(|e| EvalError {
            rule: String::new(),
            message: e.to_string(),
        })?;
        // The interpreter's context is costly to build: only when a rule needs it.
        let mut context: Option<Context> = None;
        let mut findings = Vec::new();
        for rule in &self.rules {
            let fired = match rule.fast.as_ref().and_then(|node| fast::eval(node, &root)) {
                Some(fired) => fired,
                None => {
                    let context = match &mut context {
                        Some(context) => context,
                        None => context.insert(self.context(declaration).map_err(|message| {
                            EvalError {
                                rule: rule.id.clone(),
                                message,
                            }
                        })?),
                    };
                    interpret(rule, context)?
                }
            };
            if fired {
                findings.push(Finding {
                    rule: rule.id.clone(),
                    cites: rule.cites.clone(),
                    level: rule.level,
                    basis: rule.basis,
                    severity: rule.severity,
                    reason: if rule.reason_template.is_fixed() {
                        rule.reason.clone()
                    } else {
                        rule.reason_template.render(&root)
                    },
                    facts: facts(&rule.reads, &root),
                    remedy: rule.remedy.clone(),
                });
            }
        }
        if let Some(day) = day {
            for layer in &self.layers {
                if let Some(reason) = layer.out_of_dates(day) {
                    let mut facts = BTreeMap::new();
                    facts.insert("assessed_on".to_owned(), day.to_string().into());
                    if let Some(from) = layer.effective {
                        facts.insert("effective".to_owned(), from.to_string().into());
                    }
                    if let Some(until) = layer.expires {
                        facts.insert("expires".to_owned(), until.to_string().into());
                    }
                    findings.push(Finding {
                        rule: OUT_OF_DATES_RULE.to_owned(),
                        cites: vec![layer.reference.id.clone()],
                        level: Level::Notify,
                        basis: Basis::Interpretation,
                        severity: Severity::Normal,
                        reason,
                        facts,
                        remedy: "Check the terms in force on this date; a successor pack (a later version of the agreement or law) can be stacked instead once its text is known.".to_owned(),
                    });
                }
            }
        }
        findings.sort_by_key(|f| std::cmp::Reverse(f.level));
        let level = findings
            .iter()
            .map(|f| f.level)
            .max()
            .unwrap_or(Level::Notify);
        Ok(Decision {
            level,
            findings,
            policy: self.reference(),
        })
    }
}

impl Policy {
    /// The interpreter's context: the declaration's top-level fields as variables.
    fn context(&self, declaration: &Declaration) -> Result<Context<'_, '_>, String> {
        let mut context = Context::with_env(self.env.clone());
        for (name, value) in variables(declaration)? {
            context.add_variable_from_value(name, value);
        }
        Ok(context)
    }
}

/// Runs a rule's condition in the CEL interpreter.
fn interpret(rule: &Rule, context: &Context<'_, '_>) -> Result<bool, EvalError> {
    match rule.program.execute(context) {
        Ok(Value::Bool(fired)) => Ok(fired),
        Ok(other) => Err(EvalError {
            rule: rule.id.clone(),
            message: format!("the condition gave {other:?}, not true or false"),
        }),
        Err(e) => Err(EvalError {
            rule: rule.id.clone(),
            message: e.to_string(),
        }),
    }
}

/// Reads `source` and, first, the packs it extends; appends them to `stack`
/// base first, each text once.
fn collect(
    source: Source,
    resolve: &mut dyn FnMut(&str, &Source) -> Result<Source, String>,
    stack: &mut Vec<(Source, RawPack)>,
    path: &mut Vec<Arc<str>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if stack.iter().any(|(s, _)| s.text == source.text) {
        return;
    }
    let raw = raw::read(&source, diagnostics);
    path.push(source.name.clone());
    for base in &raw.extends {
        match resolve(&base.value, &source) {
            Ok(found) => {
                if path.contains(&found.name) {
                    diagnostics.push(Diagnostic::new(
                        &source,
                        base.span.clone(),
                        format!("`{}` extends itself through this chain", base.value),
                    ));
                } else {
                    collect(found, resolve, stack, path, diagnostics);
                }
            }
            Err(message) => {
                diagnostics.push(Diagnostic::new(&source, base.span.clone(), message));
            }
        }
    }
    path.pop();
    stack.push((source, raw));
}

fn build(stack: Vec<(Source, RawPack)>, diagnostics: &mut Vec<Diagnostic>) -> Policy {
    let env = Arc::new(Env::stdlib());
    let mut layers = Vec::new();
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    let mut raw_rules: Vec<(Source, String, raw::RawRule)> = Vec::new();

    for (source, pack) in &stack {
        let id = pack
            .id
            .as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_default();
        layers.push(Layer {
            reference: PolicyRef {
                id: id.clone(),
                version: pack
                    .version
                    .as_ref()
                    .map(|s| s.value.clone())
                    .unwrap_or_default(),
                sha256: hex_sha256(&source.text),
                layers: Vec::new(),
            },
            title: pack.title.clone(),
            source_ref: pack.source_ref.clone(),
            effective: pack.effective.as_ref().map(|d| d.value),
            expires: pack.expires.as_ref().map(|d| d.value),
            origin: source.name.to_string(),
        });
        let mut seen = BTreeSet::new();
        for (kind, list) in [
            (EntryKind::Principle, &pack.principles),
            (EntryKind::Category, &pack.categories),
        ] {
            for entry in list {
                if !seen.insert(entry.id.value.clone()) {
                    diagnostics.push(Diagnostic::new(
                        source,
                        entry.id.span.clone(),
                        format!("`{}` is defined twice in this pack", entry.id.value),
                    ));
                }
                entries.insert(
                    entry.id.value.clone(),
                    Entry {
                        id: entry.id.value.clone(),
                        kind,
                        group: entry.group.clone(),
                        text: entry.text.clone(),
                    },
                );
            }
        }
        for removed in &pack.remove {
            let before = raw_rules.len();
            raw_rules.retain(|(_, _, r)| r.id.value != removed.value);
            if raw_rules.len() == before {
                let known: Vec<&str> = raw_rules
                    .iter()
                    .map(|(_, _, r)| r.id.value.as_str())
                    .collect();
                let mut d = Diagnostic::new(
                    source,
                    removed.span.clone(),
                    format!(
                        "cannot remove `{}`: no pack beneath this one has that rule",
                        removed.value
                    ),
                );
                if let Some(c) = diagnostic::closest(&removed.value, known) {
                    d = d.with_help(format!("did you mean `{c}`?"));
                }
                diagnostics.push(d);
            }
        }
        let mut ids = BTreeSet::new();
        for rule in &pack.rules {
            if !ids.insert(rule.id.value.clone()) {
                diagnostics.push(Diagnostic::new(
                    source,
                    rule.id.span.clone(),
                    format!("rule `{}` is defined twice in this pack", rule.id.value),
                ));
                continue;
            }
            match raw_rules
                .iter_mut()
                .find(|(_, _, r)| r.id.value == rule.id.value)
            {
                Some(slot) => *slot = (source.clone(), id.clone(), rule.clone()),
                None => raw_rules.push((source.clone(), id.clone(), rule.clone())),
            }
        }
    }

    // A declaration with every list non-empty, to find where fields sit.
    let probe_value = Declaration::parse(PROBE_FULL, greenlight_core::SourceFormat::Toml)
        .ok()
        .and_then(|d| value::to_val(&d).ok())
        .unwrap_or(value::Val::Null);
    let mut rules = Vec::new();
    for (source, pack_id, rule) in raw_rules {
        if let Some(rule) =
            compile_rule(&probe_value, &source, &pack_id, rule, &entries, diagnostics)
        {
            rules.push(rule);
        }
    }
    let policy = Policy {
        layers,
        entries,
        rules,
        env,
    };
    probe(&policy, diagnostics);
    policy
}

fn compile_rule(
    probe_value: &value::Val,
    source: &Source,
    pack: &str,
    rule: raw::RawRule,
    entries: &BTreeMap<String, Entry>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let before = diagnostics.len();
    let level = rule.level.as_ref().and_then(|l| {
        pick(
            source,
            l,
            "level",
            &Level::ALL.map(|l| (l.as_str(), l)),
            diagnostics,
        )
    });
    let basis = rule.basis.as_ref().and_then(|b| {
        pick(
            source,
            b,
            "basis",
            &[
                ("guidance", Basis::Guidance),
                ("interpretation", Basis::Interpretation),
            ],
            diagnostics,
        )
    });
    let severity = match &rule.severity {
        Some(s) => pick(
            source,
            s,
            "severity",
            &[("normal", Severity::Normal), ("high", Severity::High)],
            diagnostics,
        ),
        None => Some(Severity::Normal),
    };
    for cite in &rule.cites {
        if !entries.contains_key(&cite.value) {
            let mut d = Diagnostic::new(
                source,
                cite.span.clone(),
                format!(
                    "rule `{}` cites `{}`, which no pack defines",
                    rule.id.value, cite.value
                ),
            );
            if let Some(c) = diagnostic::closest(&cite.value, entries.keys().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{c}`?"));
            }
            diagnostics.push(d);
        }
    }
    let reason_template = match template::Template::parse(&rule.reason, &schema::DECLARATION) {
        Ok(template) => Some(template),
        Err(problems) => {
            for problem in problems {
                let span = match rule.reason_offset {
                    Some(offset) => offset + problem.at.start..offset + problem.at.end,
                    None => rule.reason_span.clone(),
                };
                let mut d = Diagnostic::new(
                    source,
                    span,
                    format!("reason of rule `{}`: {}", rule.id.value, problem.message),
                );
                if let Some(help) = problem.help {
                    d = d.with_help(help);
                }
                diagnostics.push(d);
            }
            None
        }
    };
    let when = rule.when.as_ref()?;
    let span_in_when = |start: usize, end: usize| match rule.when_offset {
        Some(offset) => offset + start..offset + end.max(start),
        None => when.span.clone(),
    };
    let program = match Program::compile(&when.value) {
        Ok(program) => Some(program),
        Err(errors) => {
            for error in errors.errors {
                let start = offset_of(&when.value, error.pos.0, error.pos.1);
                diagnostics.push(
                    Diagnostic::new(
                        source,
                        span_in_when(start, start + 1),
                        format!(
                            "condition of rule `{}` does not parse: {}",
                            rule.id.value, error.msg
                        ),
                    )
                    .with_help("conditions are CEL, e.g. `output.final_deliverable != \"no\"`"),
                );
            }
            None
        }
    };
    let program = program?;
    let report = check::check(program.expression(), &schema::DECLARATION);
    for problem in report.problems {
        let (start, end) = problem.span(program.source_info());
        let mut d = Diagnostic::new(
            source,
            span_in_when(start, end),
            format!("condition of rule `{}`: {}", rule.id.value, problem.message),
        );
        if let Some(help) = problem.help {
            d = d.with_help(help);
        }
        diagnostics.push(d);
    }
    if diagnostics.len() > before {
        return None;
    }
    Some(Rule {
        id: rule.id.value,
        title: rule.title,
        when: when.value.clone(),
        level: level?,
        cites: rule.cites.into_iter().map(|c| c.value).collect(),
        basis: basis?,
        severity: severity?,
        reason: rule.reason,
        reason_template: reason_template?,
        remedy: rule.remedy,
        pack: pack.to_owned(),
        fast: fast::lower(program.expression(), probe_value),
        program,
        reads: report
            .reads
            .into_iter()
            .map(|path| Read {
                name: (!path.contains(&Step::Each) && !path.contains(&Step::Size))
                    .then(|| check::render(&path)),
                path,
            })
            .collect(),
    })
}

fn pick<T: Copy>(
    source: &Source,
    value: &Sp<String>,
    what: &str,
    options: &[(&'static str, T)],
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<T> {
    if let Some((_, v)) = options.iter().find(|(name, _)| *name == value.value) {
        return Some(*v);
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let help = match diagnostic::closest(&value.value, names.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!(
            "one of {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    diagnostics.push(
        Diagnostic::new(
            source,
            value.span.clone(),
            format!("`{}` is not a {what}", value.value),
        )
        .with_help(help),
    );
    None
}

/// Byte offset of a 1-based (line, column) in `text`.
fn offset_of(text: &str, line: isize, column: isize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as isize + 1 == line {
            let column = usize::try_from(column.max(1) - 1).unwrap_or(0);
            return offset + l.char_indices().nth(column).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    0
}

/// Evaluates every rule on a few declarations with every answer unsure, so
/// that a condition whose result is not a boolean, or that calls a function
/// on the wrong type, is found when the pack loads rather than in triage.
fn probe(policy: &Policy, diagnostics: &mut Vec<Diagnostic>) {
    let probes = [PROBE_EMPTY, PROBE_FULL];
    for text in probes {
        let Ok(declaration) = Declaration::parse(text, greenlight_core::SourceFormat::Toml) else {
            continue;
        };
        let Ok(context) = policy.context(&declaration) else {
            continue;
        };
        for rule in &policy.rules {
            let problem = match rule.program.execute(&context) {
                Ok(Value::Bool(_)) => continue,
                Ok(other) => format!("gives {other:?} where true or false is needed"),
                Err(e) => e.to_string(),
            };
            let source = policy
                .layers
                .iter()
                .find(|l| l.reference.id == rule.pack)
                .map(|l| l.origin.clone())
                .unwrap_or_default();
            diagnostics.push(Diagnostic {
                pack: Source::new(source, ""),
                span: 0..0,
                message: format!(
                    "condition of rule `{}` fails on a declaration: {problem}",
                    rule.id
                ),
                help: None,
            });
        }
    }
}

const PROBE_EMPTY: &str = r#"
title = "probe"
production = "probe"
production_kind = "other"
stage = "development"
purpose = "other"
"#;

const PROBE_FULL: &str = r#"
title = "probe"
production = "probe"
production_kind = "documentary"
stage = "production"
purpose = "talent_replica"
media = ["video", "voice"]
[[tools]]
name = "probe"
[references]
public_figures = ["someone"]
[[performers]]
name = "probe"
use = "replica"
"#;

/// The declaration's top-level fields as CEL values.
fn variables(declaration: &Declaration) -> Result<Vec<(String, Value)>, String> {
    match cel::to_value(declaration).map_err(|e| e.to_string())? {
        Value::Map(map) => {
            let mut out: Vec<(String, Value)> = map
                .map
                .iter()
                .filter_map(|(k, v)| match k {
                    Key::String(k) => Some((k.to_string(), v.clone())),
                    _ => None,
                })
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(out)
        }
        _ => Err("the declaration is not a table".to_owned()),
    }
}

/// The values a rule read, e.g. `tools[0].trains_on_inputs = "unsure"`.
fn facts(reads: &[Read], root: &value::Val) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for Read { path, name } in reads {
        if let Some(name) = name {
            let mut value = Some(root);
            for step in path {
                if let Step::Field(field) = step {
                    value = value.and_then(|v| v.field(field));
                }
            }
            if let Some(value) = value {
                out.insert(name.clone(), value.to_json());
            }
            continue;
        }
        let Some(Step::Field(first)) = path.first() else {
            continue;
        };
        let Some(value) = root.field(first) else {
            continue;
        };
        gather(
            first.clone(),
            value,
            path.get(1..).unwrap_or_default(),
            &mut out,
        );
    }
    out
}

fn gather(
    name: String,
    value: &value::Val,
    rest: &[Step],
    out: &mut BTreeMap<String, serde_json::Value>,
) {
    match (rest.first(), value) {
        (None, value) => {
            out.insert(name, value.to_json());
        }
        // A list of names is shown itself; a list of tables by its size.
        (Some(Step::Size), value::Val::List(items))
            if !items.iter().any(|i| matches!(i, value::Val::Object(_))) =>
        {
            out.insert(name, value.to_json());
        }
        (Some(Step::Size), value) => {
            let size = match value {
                value::Val::List(items) => items.len(),
                value::Val::Text(text) => text.chars().count(),
                value::Val::Name(name) => name.chars().count(),
                _ => return,
            };
            out.insert(format!("size({name})"), serde_json::Value::from(size));
        }
        (Some(Step::Each), value::Val::List(items)) => {
            if rest.len() == 1 {
                out.insert(name, value.to_json());
                return;
            }
            for (i, item) in items.iter().enumerate() {
                gather(
                    format!("{name}[{i}]"),
                    item,
                    rest.get(1..).unwrap_or_default(),
                    out,
                );
            }
        }
        (Some(Step::Field(field)), value) => {
            if let Some(inner) = value.field(field) {
                gather(
                    format!("{name}.{field}"),
                    inner,
                    rest.get(1..).unwrap_or_default(),
                    out,
                );
            }
        }
        _ => {}
    }
}

fn hex_sha256(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
