//! CEL conditions: compiled once per model, with a static record of which parts of
//! `after` and `before` each one reads, so a decision can tell, without evaluating,
//! whether a condition touches a value that is unknown until apply.

use cel::common::ast::{EntryExpr, Expr, LiteralValue};
use cel::parser::Expression;
use std::fmt;
use std::sync::Arc;

/// One step into a value: an attribute or map key, or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathStep {
    Key(String),
    Index(i64),
}

/// A compiled condition. Cloning shares the compiled program.
#[derive(Clone)]
pub struct Condition {
    source: Arc<str>,
    program: Arc<cel::Program>,
    /// Paths under `after` the condition reads; an empty path means all of `after`.
    pub reads_after: Arc<[Vec<PathStep>]>,
    pub reads_before: Arc<[Vec<PathStep>]>,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

impl Condition {
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
        Ok(Condition {
            source: source.into(),
            program: Arc::new(program),
            reads_after: reads.after.into(),
            reads_before: reads.before.into(),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn program(&self) -> &cel::Program {
        &self.program
    }

    /// Whether the condition mentions the variable `name` at all.
    pub fn mentions(&self, name: &str) -> bool {
        self.program.references().has_variable(name)
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
}
