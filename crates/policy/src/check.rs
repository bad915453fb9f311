//! Stage three's static check of a CEL condition against the declaration:
//! every field it reads must exist, and every string it compares a field
//! with must be one of that field's values.

use std::collections::BTreeSet;

use cel::IdedExpr;
use cel::common::ast::{Expr, LiteralValue, operators};

use crate::diagnostic::closest;
use crate::schema::Field;

/// One step of a path into the declaration.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    /// A named field.
    Field(String),
    /// Every item of a list.
    Each,
    /// The size of the list or text the path leads to (`size(tools)`).
    Size,
}

/// A path the condition reads, e.g. `tools[].trains_on_inputs`.
pub(crate) type Path = Vec<Step>;

/// A problem in a condition, at a node of its AST.
#[derive(Debug)]
pub(crate) struct Problem {
    /// The node at fault.
    pub expr_id: u64,
    /// Where a dotted name starts, when the fault is a field of it, so the
    /// whole name is underlined rather than the dot.
    pub name_start: Option<u64>,
    /// The field name at fault, if any.
    pub field: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

impl Problem {
    /// Byte offsets of the problem within the condition.
    pub(crate) fn span(&self, info: &cel::common::ast::SourceInfo) -> (usize, usize) {
        let node = info
            .offset_for(self.expr_id)
            .map(|(s, e)| (s as usize, e as usize));
        let start = self
            .name_start
            .and_then(|id| info.offset_for(id))
            .map(|(s, _)| s as usize);
        match (start, node, &self.field) {
            // A select node sits at its dot: the name ends after the field.
            (Some(start), Some((dot, _)), Some(field)) => (start, dot + 1 + field.len()),
            (_, Some((s, e)), _) => (s, e.max(s + 1)),
            _ => (0, 0),
        }
    }
}

/// The innermost operand of a dotted name: `a` in `a.b.c`.
fn root_of(expr: &IdedExpr) -> u64 {
    match &expr.expr {
        Expr::Select(select) => root_of(&select.operand),
        _ => expr.id,
    }
}

/// What a condition reads, and what is wrong with it.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub reads: BTreeSet<Path>,
    pub problems: Vec<Problem>,
}

enum Binding<'a> {
    /// A comprehension's item variable, standing for every item of a list.
    Item(Path, &'a Field),
    /// A comprehension's accumulator: internal, not part of the declaration.
    Opaque,
}

struct Checker<'a> {
    root: &'a Field,
    scope: Vec<(String, Binding<'a>)>,
    report: Report,
}

/// Checks `expr` against `root`, the declaration's shape.
pub(crate) fn check(expr: &IdedExpr, root: &Field) -> Report {
    let mut checker = Checker {
        root,
        scope: Vec::new(),
        report: Report::default(),
    };
    checker.walk(expr);
    checker.report
}

pub(crate) fn render(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Each => out.push_str("[]"),
            Step::Size => out = format!("size({out})"),
        }
    }
    out
}

/// The outcome of resolving a name: a known field, nothing (a problem was
/// reported), or something that is not part of the declaration.
enum Resolved<'a> {
    Field(Path, &'a Field),
    Unknown,
    NotDeclaration,
}

impl<'a> Checker<'a> {
    fn problem(&mut self, expr_id: u64, message: String, help: Option<String>) {
        self.report.problems.push(Problem {
            expr_id,
            name_start: None,
            field: None,
            message,
            help,
        });
    }

    fn field_problem(
        &mut self,
        expr: &IdedExpr,
        field: &str,
        message: String,
        help: Option<String>,
    ) {
        let name_start = match &expr.expr {
            Expr::Select(select) => Some(root_of(&select.operand)),
            _ => None,
        };
        self.report.problems.push(Problem {
            expr_id: expr.id,
            name_start,
            field: Some(field.to_owned()),
            message,
            help,
        });
    }

    fn resolve(&mut self, expr: &IdedExpr) -> Resolved<'a> {
        match &expr.expr {
            Expr::Ident(name) => {
                for (bound, binding) in self.scope.iter().rev() {
                    if bound == name {
                        return match binding {
                            Binding::Item(path, field) => Resolved::Field(path.clone(), field),
                            Binding::Opaque => Resolved::NotDeclaration,
                        };
                    }
                }
                let root = self.root;
                match root {
                    Field::Object(fields) => match fields.get(name) {
                        Some(field) => Resolved::Field(vec![Step::Field(name.clone())], field),
                        None => {
                            let help = closest(name, root.names())
                                .map(|c| format!("did you mean `{c}`?"))
                                .or_else(|| {
                                    Some(format!(
                                        "a condition reads the declaration's fields: {}",
                                        root.names().join(", ")
                                    ))
                                });
                            self.problem(
                                expr.id,
                                format!("the declaration has no field `{name}`"),
                                help,
                            );
                            Resolved::Unknown
                        }
                    },
                    _ => Resolved::NotDeclaration,
                }
            }
            Expr::Select(select) => match self.resolve(&select.operand) {
                Resolved::Field(mut path, Field::Object(fields)) => {
                    match fields.get(&select.field) {
                        Some(field) => {
                            path.push(Step::Field(select.field.clone()));
                            Resolved::Field(path, field)
                        }
                        None => {
                            let names: Vec<&str> = fields.keys().map(String::as_str).collect();
                            let help = closest(&select.field, names.iter().copied())
                                .map(|c| format!("did you mean `{c}`?"))
                                .or_else(|| Some(format!("its fields: {}", names.join(", "))));
                            self.field_problem(
                                expr,
                                &select.field,
                                format!("`{}` has no field `{}`", render(&path), select.field),
                                help,
                            );
                            Resolved::Unknown
                        }
                    }
                }
                Resolved::Field(path, Field::List(_)) => {
                    let name = render(&path);
                    self.field_problem(
                        expr,
                        &select.field,
                        format!("`{name}` is a list and has no field `{}`", select.field),
                        Some(format!(
                            "test its items, e.g. `{name}.exists(x, x.{} == \"yes\")`",
                            select.field
                        )),
                    );
                    Resolved::Unknown
                }
                Resolved::Field(path, _) => {
                    self.field_problem(
                        expr,
                        &select.field,
                        format!(
                            "`{}` is a value and has no field `{}`",
                            render(&path),
                            select.field
                        ),
                        None,
                    );
                    Resolved::Unknown
                }
                Resolved::Unknown => Resolved::Unknown,
                Resolved::NotDeclaration => {
                    self.walk(&select.operand);
                    Resolved::NotDeclaration
                }
            },
            _ => Resolved::NotDeclaration,
        }
    }

    fn walk(&mut self, expr: &IdedExpr) {
        match &expr.expr {
            Expr::Ident(_) | Expr::Select(_) => {
                if let Resolved::Field(path, _) = self.resolve(expr) {
                    self.report.reads.insert(path);
                }
            }
            Expr::Call(call) => {
                self.check_literals(&call.func_name, &call.args);
                // `size(tools)` reads how many tools there are, not each one.
                let sized = match (call.func_name.as_str(), &call.target, call.args.as_slice()) {
                    ("size", Some(only), []) => Some(&**only),
                    ("size", None, [only]) => Some(only),
                    _ => None,
                };
                if let Some(only) = sized
                    && matches!(only.expr, Expr::Ident(_) | Expr::Select(_))
                {
                    if let Resolved::Field(mut path, _) = self.resolve(only) {
                        path.push(Step::Size);
                        self.report.reads.insert(path);
                    }
                    return;
                }
                if let Some(target) = &call.target {
                    self.walk(target);
                }
                for arg in &call.args {
                    self.walk(arg);
                }
            }
            Expr::Comprehension(comprehension) => {
                let item = match self.resolve(&comprehension.iter_range) {
                    Resolved::Field(mut path, Field::List(item)) => {
                        path.push(Step::Each);
                        Binding::Item(path, item)
                    }
                    Resolved::Field(path, _) => {
                        self.problem(
                            comprehension.iter_range.id,
                            format!("`{}` is not a list", render(&path)),
                            None,
                        );
                        Binding::Opaque
                    }
                    Resolved::Unknown => Binding::Opaque,
                    Resolved::NotDeclaration => {
                        self.walk(&comprehension.iter_range);
                        Binding::Opaque
                    }
                };
                self.walk(&comprehension.accu_init);
                let depth = self.scope.len();
                self.scope.push((comprehension.iter_var.clone(), item));
                if let Some(second) = &comprehension.iter_var2 {
                    self.scope.push((second.clone(), Binding::Opaque));
                }
                self.scope
                    .push((comprehension.accu_var.clone(), Binding::Opaque));
                self.walk(&comprehension.loop_cond);
                self.walk(&comprehension.loop_step);
                self.walk(&comprehension.result);
                self.scope.truncate(depth);
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.walk(element);
                }
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(e) = &entry.expr {
                        self.walk(&e.key);
                        self.walk(&e.value);
                    }
                }
            }
            Expr::Literal(_) | Expr::Struct(_) | Expr::Unspecified => {}
        }
    }

    /// The values a field may take, if it is an enum or a list of enums.
    fn values_of(&mut self, expr: &IdedExpr, through_list: bool) -> Option<(String, Vec<String>)> {
        if !matches!(expr.expr, Expr::Ident(_) | Expr::Select(_)) {
            return None;
        }
        // Resolve without recording: walk() records reads.
        let problems = self.report.problems.len();
        let resolved = self.resolve(expr);
        self.report.problems.truncate(problems);
        match resolved {
            Resolved::Field(path, Field::Enum(values)) if !through_list => {
                Some((render(&path), values.clone()))
            }
            Resolved::Field(path, Field::List(item)) if through_list => match &**item {
                Field::Enum(values) => Some((render(&path), values.clone())),
                _ => None,
            },
            _ => None,
        }
    }

    fn check_literals(&mut self, func: &str, args: &[IdedExpr]) {
        if func == operators::EQUALS || func == operators::NOT_EQUALS {
            let [left, right] = args else { return };
            for (field, literal) in [(left, right), (right, left)] {
                if let Some((name, values)) = self.values_of(field, false) {
                    self.check_value(&name, &values, literal);
                }
            }
        } else if func == operators::IN {
            let [element, container] = args else { return };
            if let Some((name, values)) = self.values_of(element, false)
                && let Expr::List(list) = &container.expr
            {
                for item in &list.elements {
                    self.check_value(&name, &values, item);
                }
            }
            if let Some((name, values)) = self.values_of(container, true) {
                self.check_value(&name, &values, element);
            }
        }
    }

    fn check_value(&mut self, name: &str, values: &[String], literal: &IdedExpr) {
        let Expr::Literal(value) = &literal.expr else {
            return;
        };
        let allowed = values
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match value {
            LiteralValue::String(s) => {
                let s = s.inner();
                if !values.iter().any(|v| v == s) {
                    let help = closest(s, values.iter().map(String::as_str))
                        .map(|c| format!("did you mean \"{c}\"? `{name}` takes {allowed}"))
                        .unwrap_or_else(|| format!("`{name}` takes {allowed}"));
                    self.problem(
                        literal.id,
                        format!("\"{s}\" is not a value of `{name}`"),
                        Some(help),
                    );
                }
            }
            _ => self.problem(
                literal.id,
                format!("`{name}` is compared with something that is not a string"),
                Some(format!("`{name}` takes {allowed}")),
            ),
        }
    }
}
