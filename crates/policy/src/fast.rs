//! Conditions compiled to a small tree that evaluates directly on the
//! declaration's [`Val`] tree.
//!
//! The CEL interpreter is the reference: it defines what a condition means.
//! It is also slow for our use (building its context alone costs more than a
//! whole assessment may), so the subset of CEL packs are written in — field
//! paths, string, integer and boolean literals, `==`, `!=`, `in`, `!`, `&&`,
//! `||`, `? :`, comparisons, `size()`, and the `exists` and `all` macros — is
//! lowered here once, when the pack loads. A condition outside the subset
//! keeps only its interpreted form; a lowered one that meets a value it does
//! not handle answers `None`, and the interpreter decides. A differential
//! test checks both forms agree on every rule of the default pack over many
//! random declarations.

use cel::IdedExpr;
use cel::common::ast::{Expr, LiteralValue, operators};

use crate::value::Val;

/// A lowered condition.
#[derive(Debug)]
pub(crate) enum Node {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Node>),
    /// A top-level field of the declaration, then fields below it.
    Root(Vec<Step>),
    /// A comprehension variable (by depth), then fields below it.
    Local(usize, Vec<Step>),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    Eq(Box<Node>, Box<Node>),
    Ne(Box<Node>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    In(Box<Node>, Box<Node>),
    Size(Box<Node>),
    Exists(Box<Node>, Box<Node>),
    All(Box<Node>, Box<Node>),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// One field step of a path, with where the field usually sits in its
/// object: serde writes a struct's fields in declaration order, so the
/// position found in a probe declaration is right unless an optional field
/// was skipped; the name, compared by address, tells.
#[derive(Debug)]
pub(crate) struct Step {
    name: String,
    hint: Option<(usize, &'static str)>,
}

impl Step {
    fn get<'a>(&self, v: &'a Val) -> Option<&'a Val> {
        let Val::Object(fields) = v else {
            return None;
        };
        if let Some((index, name)) = self.hint
            && let Some((k, value)) = fields.get(index)
            && std::ptr::eq(k.as_ptr(), name.as_ptr())
            && k.len() == name.len()
        {
            return Some(value);
        }
        fields.iter().find(|(k, _)| *k == self.name).map(|(_, v)| v)
    }
}

/// Where `name` sits in the probe object `v`, if it is one.
fn step<'p>(name: &str, probe: Option<&'p Val>) -> (Step, Option<&'p Val>) {
    let found = match probe {
        Some(Val::Object(fields)) => fields.iter().enumerate().find(|(_, (k, _))| *k == name),
        _ => None,
    };
    (
        Step {
            name: name.to_owned(),
            hint: found.map(|(i, (k, _))| (i, *k)),
        },
        found.map(|(_, (_, v))| v),
    )
}

/// A comprehension variable while lowering: its name and a probe item.
type Scope<'p> = Vec<(String, Option<&'p Val>)>;

/// Lowers a CEL expression, or `None` if it uses anything outside the subset.
/// `probe` is a declaration with every list non-empty, for field positions.
pub(crate) fn lower(expr: &IdedExpr, probe: &Val) -> Option<Node> {
    lower_in(expr, probe, &mut Vec::new())
}

/// The probe value a path leads to, to give the items of a list their layout.
fn probe_of<'p>(node: &Node, probe: &'p Val, scope: &Scope<'p>) -> Option<&'p Val> {
    let (mut v, steps) = match node {
        Node::Root(steps) => (Some(probe), steps),
        Node::Local(depth, steps) => (scope.get(*depth).and_then(|(_, p)| *p), steps),
        _ => return None,
    };
    for s in steps {
        v = v.and_then(|v| s.get(v));
    }
    match v {
        Some(Val::List(items)) => items.first(),
        _ => None,
    }
}

fn lower_in<'p>(expr: &IdedExpr, probe: &'p Val, scope: &mut Scope<'p>) -> Option<Node> {
    Some(match &expr.expr {
        Expr::Literal(LiteralValue::Boolean(b)) => Node::Bool(**b),
        Expr::Literal(LiteralValue::Int(i)) => Node::Int(**i),
        Expr::Literal(LiteralValue::String(s)) => Node::Str(s.inner().to_owned()),
        Expr::List(list) if list.optional_indices.is_empty() => Node::List(
            list.elements
                .iter()
                .map(|e| lower_in(e, probe, scope))
                .collect::<Option<Vec<_>>>()?,
        ),
        Expr::Ident(_) | Expr::Select(_) => {
            let mut steps = Vec::new();
            let mut at = expr;
            loop {
                match &at.expr {
                    Expr::Select(select) if !select.test => {
                        steps.push(select.field.clone());
                        at = &select.operand;
                    }
                    Expr::Ident(name) => {
                        steps.reverse();
                        let (mut at, mut lowered, local) =
                            match scope.iter().rposition(|(v, _)| v == name) {
                                Some(depth) => (
                                    scope.get(depth).and_then(|(_, p)| *p),
                                    Vec::new(),
                                    Some(depth),
                                ),
                                None => {
                                    let (first, next) = step(name, Some(probe));
                                    (next, vec![first], None)
                                }
                            };
                        for field in &steps {
                            let (s, next) = step(field, at);
                            lowered.push(s);
                            at = next;
                        }
                        return Some(match local {
                            Some(depth) => Node::Local(depth, lowered),
                            None => Node::Root(lowered),
                        });
                    }
                    _ => return None,
                }
            }
        }
        Expr::Call(call) => {
            let args = &call.args;
            let f = call.func_name.as_str();
            if let Some(target) = &call.target {
                if f == "size" && args.is_empty() {
                    return Some(Node::Size(Box::new(lower_in(target, probe, scope)?)));
                }
                return None;
            }
            let one = |scope: &mut Scope<'p>| match args.as_slice() {
                [a] => lower_in(a, probe, scope).map(Box::new),
                _ => None,
            };
            let two = |scope: &mut Scope<'p>| match args.as_slice() {
                [a, b] => Some((
                    Box::new(lower_in(a, probe, scope)?),
                    Box::new(lower_in(b, probe, scope)?),
                )),
                _ => None,
            };
            match f {
                operators::LOGICAL_NOT => Node::Not(one(scope)?),
                "size" => Node::Size(one(scope)?),
                operators::LOGICAL_AND => {
                    let (a, b) = two(scope)?;
                    Node::And(a, b)
                }
                operators::LOGICAL_OR => {
                    let (a, b) = two(scope)?;
                    Node::Or(a, b)
                }
                operators::EQUALS => {
                    let (a, b) = two(scope)?;
                    Node::Eq(a, b)
                }
                operators::NOT_EQUALS => {
                    let (a, b) = two(scope)?;
                    Node::Ne(a, b)
                }
                operators::IN => {
                    let (a, b) = two(scope)?;
                    Node::In(a, b)
                }
                operators::LESS
                | operators::LESS_EQUALS
                | operators::GREATER
                | operators::GREATER_EQUALS => {
                    let (a, b) = two(scope)?;
                    let cmp = match f {
                        operators::LESS => Cmp::Lt,
                        operators::LESS_EQUALS => Cmp::Le,
                        operators::GREATER => Cmp::Gt,
                        _ => Cmp::Ge,
                    };
                    Node::Cmp(cmp, a, b)
                }
                operators::CONDITIONAL => match args.as_slice() {
                    [c, a, b] => Node::Cond(
                        Box::new(lower_in(c, probe, scope)?),
                        Box::new(lower_in(a, probe, scope)?),
                        Box::new(lower_in(b, probe, scope)?),
                    ),
                    _ => return None,
                },
                _ => return None,
            }
        }
        Expr::Comprehension(c) => {
            // `range.exists(v, p)` and `range.all(v, p)` as the parser expands them.
            if c.iter_var2.is_some() {
                return None;
            }
            let exists = match &c.accu_init.expr {
                Expr::Literal(LiteralValue::Boolean(b)) => !**b,
                _ => return None,
            };
            let Expr::Call(step) = &c.loop_step.expr else {
                return None;
            };
            let expected = if exists {
                operators::LOGICAL_OR
            } else {
                operators::LOGICAL_AND
            };
            let [accu, predicate] = step.args.as_slice() else {
                return None;
            };
            let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if *n == c.accu_var);
            if step.func_name != expected || !is_accu(accu) || !is_accu(&c.result) {
                return None;
            }
            let range = lower_in(&c.iter_range, probe, scope)?;
            let item = probe_of(&range, probe, scope);
            scope.push((c.iter_var.clone(), item));
            let body = lower_in(predicate, probe, scope);
            scope.pop();
            let body = Box::new(body?);
            if exists {
                Node::Exists(Box::new(range), body)
            } else {
                Node::All(Box::new(range), body)
            }
        }
        _ => return None,
    })
}

/// The comprehension variables in scope, innermost last; a fixed array so
/// evaluating allocates nothing. Deeper nesting is left to the interpreter.
#[derive(Default)]
struct Locals<'a> {
    items: [Option<&'a Val>; 8],
    depth: usize,
}

impl<'a> Locals<'a> {
    fn get(&self, depth: usize) -> Option<&'a Val> {
        self.items.get(depth).copied().flatten()
    }

    fn push(&mut self, item: &'a Val) -> Option<()> {
        *self.items.get_mut(self.depth)? = Some(item);
        self.depth += 1;
        Some(())
    }

    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if let Some(slot) = self.items.get_mut(self.depth) {
            *slot = None;
        }
    }
}

/// A value met while evaluating.
#[derive(Clone, Copy, Debug)]
enum Out<'a> {
    Bool(bool),
    Int(i64),
    Str(&'a str),
    List(&'a [Val]),
    Nodes(&'a [Node]),
}

/// Evaluates a lowered condition. `None`: a case the lowered form does not
/// decide (a type it does not handle, a missing field): ask the interpreter.
pub(crate) fn eval(node: &Node, root: &Val) -> Option<bool> {
    let mut locals = Locals::default();
    match value(node, root, &mut locals)? {
        Out::Bool(b) => Some(b),
        _ => None,
    }
}

fn from_val(v: &Val) -> Option<Out<'_>> {
    Some(match v {
        Val::Bool(b) => Out::Bool(*b),
        Val::Int(i) => Out::Int(*i),
        Val::Uint(u) => Out::Int(i64::try_from(*u).ok()?),
        Val::Name(s) => Out::Str(s),
        Val::Text(s) => Out::Str(s),
        Val::List(items) => Out::List(items),
        Val::Object(_) | Val::Null | Val::Float(_) => return None,
    })
}

fn walk<'a>(mut v: &'a Val, steps: &[Step]) -> Option<&'a Val> {
    for step in steps {
        v = step.get(v)?;
    }
    Some(v)
}

fn boolean<'a>(node: &'a Node, root: &'a Val, locals: &mut Locals<'a>) -> Option<bool> {
    match value(node, root, locals)? {
        Out::Bool(b) => Some(b),
        _ => None,
    }
}

fn equal(a: Out<'_>, b: Out<'_>) -> Option<bool> {
    match (a, b) {
        (Out::Bool(x), Out::Bool(y)) => Some(x == y),
        (Out::Int(x), Out::Int(y)) => Some(x == y),
        (Out::Str(x), Out::Str(y)) => Some(x == y),
        _ => None,
    }
}

fn value<'a>(node: &'a Node, root: &'a Val, locals: &mut Locals<'a>) -> Option<Out<'a>> {
    Some(match node {
        Node::Bool(b) => Out::Bool(*b),
        Node::Int(i) => Out::Int(*i),
        Node::Str(s) => Out::Str(s),
        Node::List(items) => Out::Nodes(items),
        Node::Root(steps) => from_val(walk(root, steps)?)?,
        Node::Local(depth, steps) => from_val(walk(locals.get(*depth)?, steps)?)?,
        Node::Not(a) => Out::Bool(!boolean(a, root, locals)?),
        // CEL's `&&` is false if either side is false, even when the other
        // is an error, and `||` likewise true: so a decided side settles it,
        // and an undecided one (None) leaves the whole to the interpreter
        // unless the other side settles it.
        Node::And(a, b) => Out::Bool(match boolean(a, root, locals) {
            Some(false) => false,
            Some(true) => boolean(b, root, locals)?,
            None => match boolean(b, root, locals) {
                Some(false) => false,
                _ => return None,
            },
        }),
        Node::Or(a, b) => Out::Bool(match boolean(a, root, locals) {
            Some(true) => true,
            Some(false) => boolean(b, root, locals)?,
            None => match boolean(b, root, locals) {
                Some(true) => true,
                _ => return None,
            },
        }),
        Node::Cond(c, a, b) => {
            if boolean(c, root, locals)? {
                value(a, root, locals)?
            } else {
                value(b, root, locals)?
            }
        }
        Node::Eq(a, b) => Out::Bool(equal(value(a, root, locals)?, value(b, root, locals)?)?),
        Node::Ne(a, b) => Out::Bool(!equal(value(a, root, locals)?, value(b, root, locals)?)?),
        Node::Cmp(cmp, a, b) => {
            let (Out::Int(x), Out::Int(y)) = (value(a, root, locals)?, value(b, root, locals)?)
            else {
                return None;
            };
            Out::Bool(match cmp {
                Cmp::Lt => x < y,
                Cmp::Le => x <= y,
                Cmp::Gt => x > y,
                Cmp::Ge => x >= y,
            })
        }
        Node::In(a, b) => {
            let needle = value(a, root, locals)?;
            let found = match value(b, root, locals)? {
                Out::List(items) => {
                    let mut found = false;
                    for item in items {
                        found |= equal(needle, from_val(item)?)?;
                    }
                    found
                }
                Out::Nodes(items) => {
                    let mut found = false;
                    for item in items {
                        found |= equal(needle, value(item, root, locals)?)?;
                    }
                    found
                }
                _ => return None,
            };
            Out::Bool(found)
        }
        Node::Size(a) => Out::Int(match value(a, root, locals)? {
            Out::List(items) => i64::try_from(items.len()).ok()?,
            Out::Nodes(items) => i64::try_from(items.len()).ok()?,
            Out::Str(s) => i64::try_from(s.chars().count()).ok()?,
            _ => return None,
        }),
        Node::Exists(range, body) | Node::All(range, body) => {
            let Out::List(items) = value(range, root, locals)? else {
                return None;
            };
            // `exists` stops at the first true item and `all` at the first
            // false one, as CEL's expansion of them does.
            let exists = matches!(node, Node::Exists(..));
            for item in items {
                locals.push(item)?;
                let b = boolean(body, root, locals);
                locals.pop();
                if b? == exists {
                    return Some(Out::Bool(exists));
                }
            }
            Out::Bool(!exists)
        }
    })
}

#[cfg(test)]
mod tests {
    //! The lowered form against the interpreter, on random declarations.

    use greenlight_core::{Declaration, SourceFormat};

    use crate::schema::{DECLARATION, Field};
    use crate::{Policy, interpret, value};

    /// xorshift64*: small, seeded, reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn random(field: &Field, rng: &mut Rng) -> serde_json::Value {
        match field {
            Field::Object(fields) => {
                let mut object = serde_json::Map::new();
                for (k, f) in fields {
                    // Leave some answers out: a missing answer is `unsure`.
                    let answer = matches!(f, Field::Enum(v) if v.len() == 3 && v[0] == "yes");
                    if !answer || rng.below(8) != 0 {
                        object.insert(k.clone(), random(f, rng));
                    }
                }
                serde_json::Value::Object(object)
            }
            Field::List(item) => {
                let n = rng.below(4);
                serde_json::Value::Array((0..n).map(|_| random(item, rng)).collect())
            }
            Field::Enum(values) => {
                serde_json::Value::String(values[rng.below(values.len())].clone())
            }
            Field::Text => serde_json::Value::String(format!("t{}", rng.below(3))),
            // The only other fields are counts (hours of notice), absent when not known.
            Field::Other => match rng.below(5) {
                0 => serde_json::Value::Null,
                n => serde_json::Value::from([0, 24, 48, 72][n - 1]),
            },
        }
    }

    /// `example` with each part kept (7 times in 8) or drawn afresh, so that
    /// rules needing many answers at once are compared near where they fire.
    fn blend(example: &serde_json::Value, field: &Field, rng: &mut Rng) -> serde_json::Value {
        match (example, field) {
            (serde_json::Value::Object(values), Field::Object(fields)) => {
                let mut object = serde_json::Map::new();
                for (k, f) in fields {
                    let value = match values.get(k) {
                        Some(v) if rng.below(8) != 0 => blend(v, f, rng),
                        Some(_) => random(f, rng),
                        None if rng.below(8) == 0 => random(f, rng),
                        None => continue,
                    };
                    object.insert(k.clone(), value);
                }
                serde_json::Value::Object(object)
            }
            (serde_json::Value::Array(items), Field::List(item)) => {
                serde_json::Value::Array(items.iter().map(|i| blend(i, item, rng)).collect())
            }
            (value, _) => value.clone(),
        }
    }

    /// The declarations in `examples/`, as JSON values.
    fn examples() -> Vec<serde_json::Value> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("examples/ is readable")
            .chain(std::fs::read_dir(dir.join("overlays")).expect("examples/overlays/ is readable"))
            .map(|e| e.expect("examples/ lists").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml" || e == "json"))
            .filter(|p| p.file_name().is_some_and(|n| n != "EXPECTED.toml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).expect("example is readable");
                let name = path.display().to_string();
                let declaration = Declaration::parse(&text, SourceFormat::from_path(&name))
                    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
                serde_json::to_value(&declaration).expect("declaration serialises")
            })
            .collect()
    }

    #[test]
    fn every_rule_of_the_default_pack_is_lowered() {
        let policy = Policy::builtin();
        let interpreted: Vec<&str> = policy
            .rules()
            .iter()
            .filter(|r| r.fast.is_none())
            .map(|r| r.id.as_str())
            .collect();
        assert!(
            interpreted.is_empty(),
            "rules left to the interpreter: {interpreted:?}"
        );
    }

    #[test]
    fn lowered_conditions_agree_with_the_interpreter() {
        differential(&Policy::builtin(), true);
    }

    #[test]
    fn lowered_conditions_of_the_overlays_agree_with_the_interpreter() {
        let ids: Vec<&str> = crate::BUILTIN_OVERLAYS.iter().map(|(id, _)| *id).collect();
        let policy = Policy::builtin_stack(&ids).expect("the overlays stack");
        differential(&policy, false);
    }

    fn differential(policy: &Policy, every_rule_fires: bool) {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut checked = 0;
        let mut fired = vec![0usize; policy.rules().len()];
        let examples = examples();
        assert!(examples.len() >= 30, "{} examples", examples.len());
        let mut inputs: Vec<serde_json::Value> = Vec::new();
        for example in &examples {
            inputs.push(example.clone());
            for _ in 0..3 {
                inputs.push(blend(example, &DECLARATION, &mut rng));
            }
        }
        for _ in 0..3000 {
            inputs.push(random(&DECLARATION, &mut rng));
        }
        for input in inputs {
            let json = input.to_string();
            let declaration =
                Declaration::parse(&json, SourceFormat::Json).expect("random declaration parses");
            let root = value::to_val(&declaration).expect("declaration converts");
            let context = policy.context(&declaration).expect("context builds");
            for (i, rule) in policy.rules().iter().enumerate() {
                let expected = interpret(rule, &context).expect("interpreter decides");
                if let Some(node) = &rule.fast {
                    let actual = super::eval(node, &root);
                    assert_eq!(actual, Some(expected), "rule `{}` on {json}", rule.id);
                    checked += 1;
                }
                fired[i] += usize::from(expected);
            }
        }
        assert!(checked > 100_000, "{checked}");
        if !every_rule_fires {
            return;
        }
        // Every rule fired at least once, so no rule was compared only on
        // `false` (the examples and their blends reach the narrow ones).
        for (rule, count) in policy.rules().iter().zip(&fired) {
            assert!(
                *count > 0,
                "rule `{}` never fired on random declarations",
                rule.id
            );
        }
    }
}
