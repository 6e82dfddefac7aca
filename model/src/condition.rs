//! CEL conditions: compiled once per model, with a static record of which parts of
//! `after` and `before` each one reads, so a decision can tell, without evaluating,
//! whether a condition touches a value that is unknown until apply.
//!
//! CEL's `matches` compiles its regular expression on every call, which would dominate a
//! check of a large plan. Compiling rewrites those calls to a function of ours that keeps
//! each pattern compiled once per process; literal patterns are compiled, and so
//! validated, when the condition is. Compiling also meters every comprehension and every
//! `in` (see [`crate::budget`]): an evaluation that visits more items than its budget
//! ends with the budget error instead of running on.

// Indexes here are proven in bounds: every `args[i]` is behind an `args.len()` guard.
#![allow(clippy::indexing_slicing)]

use crate::budget::{self, CHARGE_RANGE, CHARGE_SCAN};
use cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue};
use cel::extractors::This;
use cel::objects::Value;
use cel::parser::Expression;
use cel::{Context, ExecutionError};
use regex::Regex;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// The name `matches` calls are rewritten to; not a name a condition can spell.
const CACHED_MATCHES: &str = "matches#cached";

/// One step into a value: an attribute or map key, or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathStep {
    /// An attribute or map key.
    Key(String),
    /// A list index.
    Index(i64),
}

/// A compiled condition. Cloning shares the compiled program.
#[derive(Clone)]
pub struct Condition {
    source: Arc<str>,
    expression: Arc<Expression>,
    variables: Arc<[String]>,
    /// Paths under `after` the condition reads; an empty path means all of `after`.
    pub reads_after: Arc<[Vec<PathStep>]>,
    /// Paths under `before` the condition reads; an empty path means all of `before`.
    pub reads_before: Arc<[Vec<PathStep>]>,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

/// The variables a rule or constraint condition reads: the change being judged.
pub const CHANGE_VARIABLES: &[&str] = &[
    "action",
    "actions",
    "address",
    "after",
    "before",
    "module",
    "name",
    "provider",
    "type",
    "workspace",
];

/// The variables a blueprint `module_rule` condition reads: the module call being judged
/// (`module_call.address`, `.source`, `.version`) and the workspace.
pub const MODULE_VARIABLES: &[&str] = &["module_call", "workspace"];

/// The variables a `post_verify` `state` condition reads: the state after apply.
pub const STATE_VARIABLES: &[&str] = &["resources", "state"];

impl Condition {
    /// Compiles `source` for a scope that binds exactly `variables`: a name it does not
    /// bind, or a function CEL does not declare, is an error now rather than a finding
    /// on every change later (a typo such as `afterr.x` would otherwise "fail" always).
    pub fn compile_for(source: &str, variables: &[&str]) -> Result<Condition, String> {
        let condition = Condition::compile(source)?;
        let mut names = FreeNames::default();
        names.walk(&condition.expression, &mut Vec::new());
        // CEL's type names (`type(x) == string`) are identifiers every scope has.
        const TYPES: &[&str] = &[
            "bool",
            "bytes",
            "double",
            "dyn",
            "int",
            "list",
            "map",
            "null_type",
            "string",
            "type",
            "uint",
        ];
        let declared = |v: &str| variables.contains(&v) || TYPES.contains(&v);
        if let Some(unknown) = names.variables.iter().find(|v| !declared(v)) {
            return Err(format!(
                "undeclared reference `{unknown}` (a condition here can read {})",
                variables.join(", ")
            ));
        }
        if let Some(kind) = never_bool(&condition.expression) {
            return Err(format!(
                "a condition must be true or false; this one is {kind}"
            ));
        }
        let mut probe = Context::default();
        for function in &names.functions {
            if !is_declared_function(&mut probe, function) {
                return Err(format!("undeclared function `{function}`"));
            }
        }
        Ok(condition)
    }

    /// Compiles `source`. The error text describes the syntax problem and its column.
    pub fn compile(source: &str) -> Result<Condition, String> {
        if source.trim().is_empty() {
            return Err("condition is empty".to_string());
        }
        let program = cel::Program::compile(source).map_err(|errors| {
            let first = errors.errors.first();
            match first {
                Some(e) => format!("CEL syntax error at column {}: {}", e.pos.1 + 1, e.msg),
                None => "CEL syntax error".to_string(),
            }
        })?;
        let mut reads = Reads::default();
        reads.walk(program.expression());
        let mut variables: Vec<String> = program
            .references()
            .variables()
            .into_iter()
            .map(String::from)
            .collect();
        variables.sort();
        let mut expression = program.expression().clone();
        use_cached_matches(&mut expression)?;
        meter(&mut expression);
        Ok(Condition {
            source: source.into(),
            expression: Arc::new(expression),
            variables: variables.into(),
            reads_after: reads.after.into(),
            reads_before: reads.before.into(),
        })
    }

    /// The condition as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the condition mentions the variable `name` at all.
    pub fn mentions(&self, name: &str) -> bool {
        self.variables
            .binary_search_by(|v| v.as_str().cmp(name))
            .is_ok()
    }

    /// Evaluates the condition in a scope of [`root_context`], within the process's
    /// evaluation budget ([`budget::set_budget`]).
    pub fn evaluate(&self, ctx: &Context) -> Result<Value, ExecutionError> {
        self.evaluate_within(ctx, budget::budget())
    }

    /// [`Condition::evaluate`] with `units` list and map items to visit at most.
    pub fn evaluate_within(&self, ctx: &Context, units: u64) -> Result<Value, ExecutionError> {
        match budget::metered(units, || ctx.resolve(&self.expression)) {
            (_, true) => Err(budget::exceeded_error(units)),
            (result, false) => result,
        }
    }

    /// Evaluates the condition when some `after` paths are unknown until apply
    /// (`unknown(path)` says which). The logical operators decide what they can from
    /// the operands that read only known values, as CEL's own `||`, `&&`, `!` and `?:`
    /// would for any value of the rest: `address != 'x' || after.a == 1` is true for
    /// every other address whatever `after.a` becomes. Any other expression that reads
    /// an unknown path is undecided, and the first such path is returned.
    pub fn evaluate_partial(
        &self,
        ctx: &Context,
        unknown: &dyn Fn(&[PathStep]) -> bool,
    ) -> Partial {
        self.evaluate_partial_within(ctx, unknown, budget::budget())
    }

    /// [`Condition::evaluate_partial`] with `units` list and map items to visit at most.
    pub fn evaluate_partial_within(
        &self,
        ctx: &Context,
        unknown: &dyn Fn(&[PathStep]) -> bool,
        units: u64,
    ) -> Partial {
        // The budget spans every part evaluated; running out anywhere decides the whole.
        match budget::metered(units, || partial(&self.expression, ctx, unknown)) {
            (_, true) => Partial::Decided(Err(budget::exceeded_error(units))),
            (result, false) => result,
        }
    }

    /// How the cost of evaluating the condition grows with the size of the lists and
    /// maps it walks: 1 when linearly, 2 when as the square (a comprehension inside a
    /// comprehension, or `in` a computed list inside one), and so on.
    pub fn growth(&self) -> usize {
        growth(&self.expression)
    }
}

impl Condition {
    /// Without evaluating anything: the unknown `after` path that leaves the condition
    /// undecided whatever its known parts turn out to be, if there is one (every operand
    /// of its logical operators reads an unknown value). `None` means the known parts
    /// may decide it: [`Condition::evaluate_partial`] says whether they do. This lets a
    /// caller skip binding the change's values when nothing could be decided anyway.
    pub fn undecided_by(&self, unknown: &dyn Fn(&[PathStep]) -> bool) -> Option<Vec<PathStep>> {
        undecided(&self.expression, unknown)
    }
}

fn undecided(e: &Expression, unknown: &dyn Fn(&[PathStep]) -> bool) -> Option<Vec<PathStep>> {
    use cel::common::ast::operators::{CONDITIONAL, LOGICAL_AND, LOGICAL_NOT, LOGICAL_OR};
    if let Expr::Call(call) = &e.expr
        && call.target.is_none()
    {
        match (call.func_name.as_str(), call.args.as_slice()) {
            (LOGICAL_OR | LOGICAL_AND, [a, b]) => {
                let left = undecided(a, unknown)?;
                undecided(b, unknown)?;
                return Some(left);
            }
            (LOGICAL_NOT, [a]) => return undecided(a, unknown),
            (CONDITIONAL, [c, _, _]) => return undecided(c, unknown),
            _ => {}
        }
    }
    let mut reads = Reads::default();
    reads.walk(e);
    reads.after.into_iter().find(|p| unknown(p))
}

/// The outcome of [`Condition::evaluate_partial`].
#[derive(Debug)]
pub enum Partial {
    /// Decided by its known operands: the value, or why it could not be evaluated.
    Decided(Result<Value, ExecutionError>),
    /// Undecided: it reads this `after` path, unknown until apply.
    Unknown(Vec<PathStep>),
}

fn partial(e: &Expression, ctx: &Context, unknown: &dyn Fn(&[PathStep]) -> bool) -> Partial {
    use cel::common::ast::operators::{CONDITIONAL, LOGICAL_AND, LOGICAL_NOT, LOGICAL_OR};
    let as_bool = |p: &Partial| match p {
        Partial::Decided(Ok(Value::Bool(b))) => Some(*b),
        _ => None,
    };
    if let Expr::Call(call) = &e.expr
        && call.target.is_none()
    {
        match (call.func_name.as_str(), call.args.as_slice()) {
            (op @ (LOGICAL_OR | LOGICAL_AND), [a, b]) => {
                // `true || _` and `false && _` decide the whole, whichever side it is.
                let decisive = op == LOGICAL_OR;
                let left = partial(a, ctx, unknown);
                if as_bool(&left) == Some(decisive) {
                    return left;
                }
                let right = partial(b, ctx, unknown);
                if as_bool(&right) == Some(decisive) {
                    return right;
                }
                return match (left, right) {
                    (Partial::Unknown(p), _) | (_, Partial::Unknown(p)) => Partial::Unknown(p),
                    (
                        Partial::Decided(Ok(Value::Bool(_))),
                        Partial::Decided(Ok(Value::Bool(_))),
                    ) => Partial::Decided(Ok(Value::Bool(!decisive))),
                    // Errors and non-bool operands: CEL's own evaluation says what they give.
                    _ => Partial::Decided(ctx.resolve(e)),
                };
            }
            (LOGICAL_NOT, [a]) => {
                return match partial(a, ctx, unknown) {
                    Partial::Decided(Ok(Value::Bool(b))) => Partial::Decided(Ok(Value::Bool(!b))),
                    Partial::Unknown(p) => Partial::Unknown(p),
                    Partial::Decided(_) => Partial::Decided(ctx.resolve(e)),
                };
            }
            (CONDITIONAL, [c, then, otherwise]) => {
                return match partial(c, ctx, unknown) {
                    Partial::Decided(Ok(Value::Bool(true))) => partial(then, ctx, unknown),
                    Partial::Decided(Ok(Value::Bool(false))) => partial(otherwise, ctx, unknown),
                    Partial::Unknown(p) => Partial::Unknown(p),
                    Partial::Decided(_) => Partial::Decided(ctx.resolve(e)),
                };
            }
            _ => {}
        }
    }
    let mut reads = Reads::default();
    reads.walk(e);
    match reads.after.into_iter().find(|p| unknown(p)) {
        Some(p) => Partial::Unknown(p),
        None => Partial::Decided(ctx.resolve(e)),
    }
}

/// The context conditions are evaluated under: CEL's standard library, our `matches`
/// and the budget's meters.
// Adding a function fails only for a name the library already declares; ours are not.
#[allow(clippy::expect_used)]
pub fn root_context() -> Context<'static, 'static> {
    let mut ctx = Context::default();
    ctx.add_function(CACHED_MATCHES, cached_matches)
        .expect("a name no library declares");
    type Meter = Box<
        dyn for<'c, 'k> Fn(
                &mut cel::FunctionContext<'c, 'k>,
            )
                -> Result<cel::common::value::CowVal<'c, 'k>, ExecutionError>
            + Send
            + Sync,
    >;
    let range: Meter = Box::new(budget::charge_range);
    let scan: Meter = Box::new(budget::charge_scan);
    ctx.add_function(CHARGE_RANGE, range)
        .expect("a name no library declares");
    ctx.add_function(CHARGE_SCAN, scan)
        .expect("a name no library declares");
    ctx
}

/// `e` passed through the budget function `name`: `name(e)`.
fn charged(name: &str, e: &mut Expression) {
    let inner = std::mem::take(e);
    e.id = inner.id;
    e.expr = Expr::Call(CallExpr {
        func_name: name.to_string(),
        target: None,
        args: vec![inner],
    });
}

/// Wraps every comprehension's range and every `in`'s right operand in a budget charge
/// (see [`crate::budget`]).
fn meter(e: &mut Expression) {
    match &mut e.expr {
        Expr::Call(call) => {
            if let Some(t) = &mut call.target {
                meter(t);
            }
            call.args.iter_mut().for_each(meter);
            if call.func_name == "@in" && call.target.is_none() && call.args.len() == 2 {
                charged(CHARGE_SCAN, &mut call.args[1]);
            }
        }
        Expr::Comprehension(c) => {
            for part in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                meter(part);
            }
            charged(CHARGE_RANGE, &mut c.iter_range);
        }
        Expr::List(l) => l.elements.iter_mut().for_each(meter),
        Expr::Map(m) => m.entries.iter_mut().for_each(|x| match &mut x.expr {
            EntryExpr::StructField(f) => meter(&mut f.value),
            EntryExpr::MapEntry(m) => {
                meter(&mut m.key);
                meter(&mut m.value);
            }
        }),
        Expr::Struct(st) => st.entries.iter_mut().for_each(|x| match &mut x.expr {
            EntryExpr::StructField(f) => meter(&mut f.value),
            EntryExpr::MapEntry(m) => {
                meter(&mut m.key);
                meter(&mut m.value);
            }
        }),
        Expr::Select(sel) => meter(&mut sel.operand),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// See [`Condition::growth`]. A comprehension's range is walked once per evaluation of
/// the comprehension; its condition, step and result once per item.
fn growth(e: &Expression) -> usize {
    let max_of =
        |parts: &mut dyn Iterator<Item = &Expression>| parts.map(growth).max().unwrap_or(0);
    match &e.expr {
        Expr::Comprehension(c) => {
            let per_item = max_of(&mut [&c.loop_cond, &c.loop_step, &c.result].into_iter());
            max_of(&mut [&c.iter_range, &c.accu_init].into_iter()).max(1 + per_item)
        }
        Expr::Call(call) => {
            let scans = call.func_name == CHARGE_SCAN
                && !call
                    .args
                    .first()
                    .is_some_and(|a| matches!(a.expr, Expr::List(_) | Expr::Map(_)));
            let parts = max_of(&mut call.target.iter().map(|t| &**t).chain(&call.args));
            parts.max(usize::from(scans))
        }
        Expr::List(l) => max_of(&mut l.elements.iter()),
        Expr::Map(m) => max_of(&mut m.entries.iter().flat_map(|x| entry_parts(&x.expr))),
        Expr::Struct(st) => max_of(&mut st.entries.iter().flat_map(|x| entry_parts(&x.expr))),
        Expr::Select(sel) => growth(&sel.operand),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 0,
    }
}

fn entry_parts(e: &EntryExpr) -> Vec<&Expression> {
    match e {
        EntryExpr::StructField(f) => vec![&f.value],
        EntryExpr::MapEntry(m) => vec![&m.key, &m.value],
    }
}

fn cached_matches(
    This(text): This<Arc<String>>,
    pattern: Arc<String>,
) -> Result<bool, ExecutionError> {
    let regex = compiled(&pattern).map_err(|message| ExecutionError::FunctionError {
        function: "matches".into(),
        message,
    })?;
    Ok(regex.is_match(&text))
}

/// Every pattern compiled so far in this process. Patterns come from the model, so the
/// map stays small.
fn compiled(pattern: &str) -> Result<Arc<Regex>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(pattern) {
        return Ok(Arc::clone(r));
    }
    let regex =
        Arc::new(Regex::new(pattern).map_err(|e| format!("invalid regular expression: {e}"))?);
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(pattern.to_string(), Arc::clone(&regex));
    Ok(regex)
}

fn entry_matches(e: &mut EntryExpr) -> Result<(), String> {
    match e {
        EntryExpr::StructField(f) => use_cached_matches(&mut f.value),
        EntryExpr::MapEntry(m) => {
            use_cached_matches(&mut m.key)?;
            use_cached_matches(&mut m.value)
        }
    }
}

/// Points every `matches` call at [`cached_matches`], compiling literal patterns now.
fn use_cached_matches(e: &mut Expression) -> Result<(), String> {
    match &mut e.expr {
        Expr::Call(call) => {
            if call.func_name == "matches" {
                let pattern = match (&call.target, call.args.as_slice()) {
                    (Some(_), [p]) | (None, [_, p]) => Some(p),
                    _ => None,
                };
                if let Some(Expr::Literal(LiteralValue::String(p))) = pattern.map(|p| &p.expr) {
                    compiled(p).map_err(|e| format!("matches({p:?}): {e}"))?;
                }
                call.func_name = CACHED_MATCHES.to_string();
                // The global form `matches(s, re)` becomes the member form our function takes.
                if call.target.is_none() && call.args.len() == 2 {
                    let text = call.args.remove(0);
                    call.target = Some(Box::new(text));
                }
            }
            if let Some(t) = &mut call.target {
                use_cached_matches(t)?;
            }
            call.args.iter_mut().try_for_each(use_cached_matches)
        }
        Expr::List(l) => l.elements.iter_mut().try_for_each(use_cached_matches),
        Expr::Map(m) => m
            .entries
            .iter_mut()
            .try_for_each(|x| entry_matches(&mut x.expr)),
        Expr::Struct(st) => st
            .entries
            .iter_mut()
            .try_for_each(|x| entry_matches(&mut x.expr)),
        Expr::Select(sel) => use_cached_matches(&mut sel.operand),
        Expr::Comprehension(c) => {
            use_cached_matches(&mut c.iter_range)?;
            use_cached_matches(&mut c.accu_init)?;
            use_cached_matches(&mut c.loop_cond)?;
            use_cached_matches(&mut c.loop_step)?;
            use_cached_matches(&mut c.result)
        }
        _ => Ok(()),
    }
}

/// What a condition evaluates to when that is plainly not a bool, whatever the values:
/// a literal, a list or map, arithmetic, or a conversion (`'a'`, `1 + x`, `size(x)`,
/// `c ? 'a' : 'b'`). Anything else may be a bool and is left to evaluation.
fn never_bool(e: &Expression) -> Option<&'static str> {
    match &e.expr {
        Expr::Literal(LiteralValue::Boolean(_)) => None,
        Expr::Literal(LiteralValue::Null) => Some("null"),
        Expr::Literal(LiteralValue::String(_)) => Some("a string"),
        Expr::Literal(_) => Some("a number or bytes"),
        Expr::List(_) => Some("a list"),
        Expr::Map(_) | Expr::Struct(_) => Some("a map"),
        Expr::Call(call) => match (call.func_name.as_str(), call.args.as_slice()) {
            ("_+_" | "_-_" | "_*_" | "_/_" | "_%_" | "-_", _) => Some("a number, string or list"),
            ("size" | "int" | "uint" | "double" | "string" | "bytes" | "type", _) => {
                Some("not a bool")
            }
            ("_?_:_", [_, a, b]) => never_bool(a).and(never_bool(b)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether CEL's standard library (or plan-guard) declares a function of this name.
/// Operators (`_==_`, `!_`, `@in`, …) are the interpreter's own.
fn is_declared_function(probe: &mut Context, name: &str) -> bool {
    if [CACHED_MATCHES, CHARGE_RANGE, CHARGE_SCAN].contains(&name)
        || name.starts_with(['_', '@', '!', '-'])
    {
        return true;
    }
    // The library's registry is private; declaring a name again is refused exactly
    // when the library already has it (each name is probed once, so what the probe
    // adds never matters).
    probe.add_function(name, || true).is_err()
}

/// The identifiers a condition reads that no comprehension binds, and the functions it
/// calls.
#[derive(Default)]
struct FreeNames {
    variables: std::collections::BTreeSet<String>,
    functions: std::collections::BTreeSet<String>,
}

impl FreeNames {
    fn walk(&mut self, e: &Expression, bound: &mut Vec<String>) {
        match &e.expr {
            Expr::Ident(name) => {
                if !bound.iter().any(|b| b == name) {
                    self.variables.insert(name.clone());
                }
            }
            Expr::Call(call) => {
                self.functions.insert(call.func_name.clone());
                if let Some(t) = &call.target {
                    self.walk(t, bound);
                }
                call.args.iter().for_each(|a| self.walk(a, bound));
            }
            Expr::Comprehension(c) => {
                self.walk(&c.iter_range, bound);
                self.walk(&c.accu_init, bound);
                let depth = bound.len();
                bound.push(c.iter_var.clone());
                bound.extend(c.iter_var2.clone());
                bound.push(c.accu_var.clone());
                for part in [&c.loop_cond, &c.loop_step, &c.result] {
                    self.walk(part, bound);
                }
                bound.truncate(depth);
            }
            Expr::List(l) => l.elements.iter().for_each(|x| self.walk(x, bound)),
            Expr::Map(m) => m
                .entries
                .iter()
                .for_each(|x| self.walk_entry(&x.expr, bound)),
            Expr::Struct(st) => st
                .entries
                .iter()
                .for_each(|x| self.walk_entry(&x.expr, bound)),
            Expr::Select(sel) => self.walk(&sel.operand, bound),
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn walk_entry(&mut self, e: &EntryExpr, bound: &mut Vec<String>) {
        match e {
            EntryExpr::StructField(f) => self.walk(&f.value, bound),
            EntryExpr::MapEntry(m) => {
                self.walk(&m.key, bound);
                self.walk(&m.value, bound);
            }
        }
    }
}

#[derive(Default)]
struct Reads {
    after: Vec<Vec<PathStep>>,
    before: Vec<Vec<PathStep>>,
}

impl Reads {
    fn walk(&mut self, e: &Expression) {
        if let Some((root, path)) = access_chain(e) {
            match root {
                "after" => return self.after.push(path),
                "before" => return self.before.push(path),
                _ => {}
            }
        }
        match &e.expr {
            Expr::Call(call) => {
                if let Some(t) = &call.target {
                    self.walk(t);
                }
                call.args.iter().for_each(|a| self.walk(a));
            }
            Expr::Comprehension(c) => {
                for part in [
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ] {
                    self.walk(part);
                }
            }
            Expr::List(l) => l.elements.iter().for_each(|x| self.walk(x)),
            Expr::Map(m) => m.entries.iter().for_each(|x| self.walk_entry(&x.expr)),
            Expr::Struct(s) => s.entries.iter().for_each(|x| self.walk_entry(&x.expr)),
            Expr::Select(s) => self.walk(&s.operand),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn walk_entry(&mut self, e: &EntryExpr) {
        match e {
            EntryExpr::StructField(f) => self.walk(&f.value),
            EntryExpr::MapEntry(m) => {
                self.walk(&m.key);
                self.walk(&m.value);
            }
        }
    }
}

/// `a.b["c"][0]` as (`a`, [b, c, 0]); `None` when the chain has a computed index.
fn access_chain(e: &Expression) -> Option<(&str, Vec<PathStep>)> {
    match &e.expr {
        Expr::Ident(name) => Some((name.as_str(), Vec::new())),
        Expr::Select(s) => {
            let (root, mut path) = access_chain(&s.operand)?;
            path.push(PathStep::Key(s.field.clone()));
            Some((root, path))
        }
        Expr::Call(call)
            if call.func_name == "_[_]" && call.target.is_none() && call.args.len() == 2 =>
        {
            let step = match &call.args[1].expr {
                Expr::Literal(LiteralValue::String(s)) => PathStep::Key(s.inner().to_string()),
                Expr::Literal(LiteralValue::Int(i)) => PathStep::Index(*i.inner()),
                _ => return None,
            };
            let (root, mut path) = access_chain(&call.args[0])?;
            path.push(step);
            Some((root, path))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> PathStep {
        PathStep::Key(s.to_string())
    }

    #[test]
    fn undecided_without_evaluation_only_when_every_operand_reads_an_unknown() {
        let a_unknown = |p: &[PathStep]| p.first() == Some(&key("a"));
        let u = |src: &str| Condition::compile(src).unwrap().undecided_by(&a_unknown);
        assert_eq!(u("after.a == 1"), Some(vec![key("a")]));
        assert_eq!(u("after.a == 1 || !(after.a > 2)"), Some(vec![key("a")]));
        assert_eq!(u("address != 'x' || after.a == 1"), None);
        assert_eq!(u("after.b == 1"), None);
        assert_eq!(u("after.a > 0 ? true : false"), Some(vec![key("a")]));
    }

    #[test]
    fn names_a_scope_does_not_bind_are_errors_at_compile() {
        let ok = |src: &str| Condition::compile_for(src, CHANGE_VARIABLES);
        ok("after.rules.all(r, r.port != 22) && size(after) > 0").unwrap();
        ok("after.tags.exists(k, k.startsWith('x')) || address.matches('^a')").unwrap();
        ok("has(after.input.region) && !(action in ['delete']) && int('1') == 1").unwrap();
        ok("[1, 2].map(x, x * 2).filter(y, y > 2).size() == 1").unwrap();
        ok("type(after.input) != string || type(before) == map").unwrap();
        let e = ok("afterr.input == 1").unwrap_err();
        assert!(e.contains("undeclared reference `afterr`"), "{e}");
        let e = ok("undefined_fn(after)").unwrap_err();
        assert!(e.contains("undeclared function `undefined_fn`"), "{e}");
        let e = ok("after.x.noSuchMethod()").unwrap_err();
        assert!(e.contains("`noSuchMethod`"), "{e}");
        assert!(Condition::compile_for("state.x == 1", CHANGE_VARIABLES).is_err());
        for never in [
            "'a string'",
            "1 == 1 ? 'a' : 'b'",
            "size(after) + 1",
            "[true]",
        ] {
            let e = ok(never).unwrap_err();
            assert!(e.contains("must be true or false"), "{never}: {e}");
        }
        ok("after.x == 1 ? true : after.y").unwrap();
        Condition::compile_for("resources['a'].output.ready", STATE_VARIABLES).unwrap();
    }

    #[test]
    fn records_paths_read_from_after_and_before() {
        let c = Condition::compile(
            "has(after.sse) && after.tags['env'] == before.tags.env && after.list[0] > 1",
        )
        .unwrap();
        let mut a = c.reads_after.to_vec();
        a.sort();
        assert_eq!(
            a,
            vec![
                vec![key("list"), PathStep::Index(0)],
                vec![key("sse")],
                vec![key("tags"), key("env")]
            ]
        );
        assert_eq!(c.reads_before.to_vec(), vec![vec![key("tags"), key("env")]]);
    }

    #[test]
    fn computed_index_reads_the_whole_container() {
        let c = Condition::compile("after.tags[type] == 'x' && size(after) > 0").unwrap();
        let mut a = c.reads_after.to_vec();
        a.sort();
        assert_eq!(a, vec![vec![], vec![key("tags")]]);
    }

    #[test]
    fn comprehension_reads_its_range() {
        let c = Condition::compile("after.rules.all(r, r.port != 22)").unwrap();
        assert_eq!(c.reads_after.to_vec(), vec![vec![key("rules")]]);
    }

    #[test]
    fn syntax_errors_are_reported() {
        let e = Condition::compile("after.x ==").unwrap_err();
        assert!(e.contains("CEL syntax error"), "{e}");
        assert!(Condition::compile("  ").is_err());
    }

    #[test]
    fn matches_keeps_cel_semantics_with_cached_patterns() {
        let ctx = {
            let mut c = root_context();
            c.add_variable_from_value("address", "module.a.terraform_data.x[0]");
            c.add_variable_from_value("re", "^module\\.");
            c
        };
        let eval = |src: &str| Condition::compile(src).unwrap().evaluate(&ctx);
        assert_eq!(
            eval("address.matches('x\\\\[0\\\\]$')"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            eval("matches(address, '^terraform_data')"),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            eval("address.matches(re)"),
            Ok(Value::Bool(true)),
            "a pattern from a variable"
        );
        assert_eq!(
            eval("['a1', 'b2'].all(s, s.matches('[0-9]$'))"),
            Ok(Value::Bool(true))
        );
        let bad = Condition::compile("address.matches('(')")
            .map(|_| ())
            .unwrap_err();
        assert!(
            bad.contains("matches(") && bad.contains("regular expression"),
            "{bad}"
        );
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;
    use crate::budget::is_exceeded;

    fn with_items(n: i64) -> Context<'static, 'static> {
        let mut ctx = root_context();
        let items: Vec<Value> = (0..n).map(Value::Int).collect();
        ctx.add_variable_from_value("items", items);
        ctx
    }

    fn run(src: &str, ctx: &Context, units: u64) -> Result<Value, ExecutionError> {
        Condition::compile(src).unwrap().evaluate_within(ctx, units)
    }

    /// Comprehensions four deep over 30 items visit 30⁴ = 810,000 items (the issue's
    /// rule took 37 s at this depth); a budget of 10,000 stops it after a few hundred
    /// steps, and a linear rule over the same list spends 30.
    #[test]
    fn a_runaway_rule_is_stopped_and_a_linear_one_is_not() {
        let ctx = with_items(30);
        let deep = "items.all(a, items.all(b, items.all(c, items.all(d, a + b + c + d >= 0))))";
        let e = run(deep, &ctx, 10_000).unwrap_err();
        assert!(is_exceeded(&e), "{e:?}");
        assert_eq!(
            run("items.all(a, a >= 0)", &ctx, 10_000),
            Ok(Value::Bool(true))
        );
        // The same deep rule over 3 items is well inside the budget.
        assert_eq!(run(deep, &with_items(3), 10_000), Ok(Value::Bool(true)));
    }

    /// CEL's `||`, `&&` and `exists` absorb errors when the other side decides; running
    /// out of budget is never absorbed into a verdict. (`true || runaway` never runs the
    /// runaway side at all, and is simply true.)
    #[test]
    fn running_out_is_never_absorbed_into_true_or_false() {
        let ctx = with_items(100);
        for src in [
            "items.all(a, items.exists_one(b, b == a)) || true",
            "items.exists(a, items.filter(b, b == a).size() > 1) && false",
            // Fails from the tenth item on; the last one's `|| a == 99` would absorb it.
            "items.exists(a, items.all(b, b > a) || a == 99)",
            "items.all(a, a in items)",
        ] {
            let e = run(src, &ctx, 1_000).unwrap_err();
            assert!(is_exceeded(&e), "{src}: {e:?}");
        }
        let partial = Condition::compile("items.all(a, items.exists_one(b, b == a)) || after.x")
            .unwrap()
            .evaluate_partial_within(&ctx, &|_| false, 1_000);
        assert!(
            matches!(partial, Partial::Decided(Err(ref e)) if is_exceeded(e)),
            "{partial:?}"
        );
    }

    #[test]
    fn a_map_membership_is_not_a_scan() {
        let mut ctx = with_items(100);
        let keys: HashMap<String, i64> = (0..100).map(|i| (i.to_string(), i)).collect();
        ctx.add_variable_from_value("tags", keys);
        // 100 items walked, then 100 lookups of one unit each: inside 1,000.
        assert_eq!(
            run("items.all(a, string(a) in tags)", &ctx, 1_000),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn growth_counts_nesting_not_sequence() {
        let g = |src: &str| Condition::compile(src).unwrap().growth();
        assert_eq!(g("after.a == 1"), 0);
        assert_eq!(g("after.a.all(x, x > 0)"), 1);
        assert_eq!(g("after.a.map(x, x + 1).all(y, y > 0)"), 1);
        assert_eq!(g("after.a.all(x, x in ['a', 'b'])"), 1);
        assert_eq!(g("after.a in after.b"), 1);
        assert_eq!(g("after.a.all(x, after.a.exists_one(y, y == x))"), 2);
        assert_eq!(g("after.a.all(x, x in after.b)"), 2);
        assert_eq!(
            g("after.a.all(a, after.a.all(b, after.a.all(c, a + b + c > 0)))"),
            3
        );
    }
}
