//! What the plan JSON leaves out of the configuration, read from the workspace's `.tf`
//! files with hcl-edit (module source directories taken from the plan's `module_calls`):
//! where a resource address is declared (the file and line of its `resource` or `data`
//! block, for SARIF physical locations), and which module arguments pass a variable of
//! the calling module straight through (`env = var.env`), so contract inputs can take
//! the variable's value, and the type each `variable` block declares, which is the value
//! Terraform converts a module argument or a `-var` string to. An address, argument or
//! variable it cannot place simply has none.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hcl_edit::Span;

use crate::plan::address::InstanceAddress;
use crate::plan::{ConfigModule, Plan};

/// Finds where resources and module arguments are written in the workspace's `.tf` files.
pub struct Locator {
    root: PathBuf,
    /// Module path (`a.b`) → directory relative to the root.
    modules: HashMap<String, PathBuf>,
    /// (directory, `type.name` or `data.type.name`) → (file relative to the root, line).
    blocks: HashMap<(PathBuf, String), (String, usize)>,
    /// (directory, module call name, argument) → the variable `var.NAME` it is set to.
    pass_through: HashMap<(PathBuf, String, String), String>,
    /// (directory, module call name) of every `module` block read.
    calls: std::collections::HashSet<(PathBuf, String)>,
    /// (directory, variable name) → the `type` its `variable` block declares.
    variable_types: HashMap<(PathBuf, String), VarType>,
}

/// A Terraform type constraint as a `variable` block writes it. `optional(T)` is `T`;
/// anything this does not know (or `any`) is [`VarType::Any`]: no conversion.
#[derive(Debug, Clone, PartialEq)]
pub enum VarType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list(T)` or `set(T)`.
    List(Box<VarType>),
    /// `map(T)`.
    Map(Box<VarType>),
    /// `object({...})`.
    Object(std::collections::BTreeMap<String, VarType>),
    /// `tuple([...])`.
    Tuple(Vec<VarType>),
    /// `any`, or a type this does not know: values are taken as given.
    Any,
}

impl VarType {
    /// The type of an expression such as `number` or `list(object({ n = number }))`.
    pub fn parse(expr: &hcl_edit::expr::Expression) -> VarType {
        use hcl_edit::expr::{Expression, ObjectKey};
        match expr {
            Expression::Variable(name) => match name.as_str() {
                "string" => VarType::String,
                "number" => VarType::Number,
                "bool" => VarType::Bool,
                _ => VarType::Any,
            },
            Expression::FuncCall(call) if call.name.namespace.is_empty() => {
                let first = call.args.iter().next();
                let of = |e: Option<&Expression>| Box::new(e.map_or(VarType::Any, VarType::parse));
                match (call.name.name.as_str(), first) {
                    ("list" | "set", e) => VarType::List(of(e)),
                    ("map", e) => VarType::Map(of(e)),
                    ("optional", e) => *of(e),
                    ("tuple", Some(Expression::Array(items))) => {
                        VarType::Tuple(items.iter().map(VarType::parse).collect())
                    }
                    ("object", Some(Expression::Object(attrs))) => VarType::Object(
                        attrs
                            .iter()
                            .filter_map(|(key, value)| {
                                let name = match key {
                                    ObjectKey::Ident(i) => i.as_str().to_string(),
                                    ObjectKey::Expression(Expression::String(s)) => {
                                        s.as_str().to_string()
                                    }
                                    ObjectKey::Expression(_) => return None,
                                };
                                Some((name, VarType::parse(value.expr())))
                            })
                            .collect(),
                    ),
                    _ => VarType::Any,
                }
            }
            _ => VarType::Any,
        }
    }
}

impl Locator {
    /// Reads the `.tf` files under `root` for the modules `plan` calls.
    pub fn new(root: &Path, plan: &Plan<'_>) -> Locator {
        let mut l = Locator {
            root: root.to_path_buf(),
            modules: HashMap::new(),
            blocks: HashMap::new(),
            pass_through: HashMap::new(),
            calls: Default::default(),
            variable_types: HashMap::new(),
        };
        l.modules.insert(String::new(), PathBuf::new());
        if let Some(config) = &plan.configuration {
            l.walk(&config.root_module, "", Path::new(""));
        }
        let dirs: Vec<PathBuf> = l.modules.values().cloned().collect();
        for dir in dirs {
            l.scan(&dir);
        }
        l
    }

    fn walk(&mut self, module: &ConfigModule, path: &str, dir: &Path) {
        for (name, call) in &module.module_calls {
            let Some(source) = call
                .source
                .as_deref()
                .filter(|s| s.starts_with("./") || s.starts_with("../"))
            else {
                continue;
            };
            let child_dir = normalize(&dir.join(source));
            let child_path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            self.modules.insert(child_path.clone(), child_dir.clone());
            self.walk(&call.module, &child_path, &child_dir);
        }
    }

    fn scan(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(self.root.join(dir)) else {
            return;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Ok(body) = hcl_edit::parser::parse_body(&text) else {
                continue;
            };
            let relative = dir
                .join(file.file_name().unwrap_or_default())
                .display()
                .to_string();
            for block in body.blocks() {
                let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
                let offset = block.span().map_or(0, |s| s.start);
                let line = text[..offset.min(text.len())].matches('\n').count() + 1;
                if let ("module", [call]) = (block.ident.as_str(), labels.as_slice()) {
                    self.calls.insert((dir.to_path_buf(), call.to_string()));
                    self.blocks
                        .entry((dir.to_path_buf(), format!("module.{call}")))
                        .or_insert((relative.clone(), line));
                    for attr in block.body.attributes() {
                        if let Some(var) = bare_variable(&attr.value) {
                            self.pass_through.insert(
                                (dir.to_path_buf(), call.to_string(), attr.key.to_string()),
                                var.to_string(),
                            );
                        }
                    }
                    continue;
                }
                if let ("variable", [name]) = (block.ident.as_str(), labels.as_slice()) {
                    let ty = block
                        .body
                        .get_attribute("type")
                        .map_or(VarType::Any, |attr| VarType::parse(&attr.value));
                    self.variable_types
                        .insert((dir.to_path_buf(), name.to_string()), ty);
                    continue;
                }
                let key = match (block.ident.as_str(), labels.as_slice()) {
                    ("resource", [ty, name]) => format!("{ty}.{name}"),
                    ("data", [ty, name]) => format!("data.{ty}.{name}"),
                    _ => continue,
                };
                self.blocks
                    .entry((dir.to_path_buf(), key))
                    .or_insert((relative.clone(), line));
            }
        }
    }

    /// The file (relative to the workspace root) and line declaring `address`.
    pub fn locate(&self, address: &str) -> Option<(&str, usize)> {
        let parsed = InstanceAddress::parse(address)?;
        let dir = self.modules.get(&parsed.module_names().join("."))?;
        self.blocks
            .get(&(dir.clone(), parsed.resource.clone()))
            .map(|(f, l)| (f.as_str(), *l))
    }
}

impl Locator {
    /// The file and line of the `module` block of the call at `address`
    /// (`module.a.module.b`), when the calling module's directory was read.
    pub fn locate_call(&self, address: &str) -> Option<(&str, usize)> {
        let names: Vec<&str> = address.strip_prefix("module.")?.split(".module.").collect();
        let (call, parents) = names.split_last()?;
        let dir = self.modules.get(&parents.join("."))?;
        self.blocks
            .get(&(dir.clone(), format!("module.{call}")))
            .map(|(f, l)| (f.as_str(), *l))
    }

    /// The type variable `name` of the module at `module` (module call names from the
    /// root; empty for the root module) declares, when its `variable` block was read and
    /// gives a type. A module argument, or a root variable given with `-var`, reaches the
    /// configuration converted to it.
    pub fn declared_type(&self, module: &[String], name: &str) -> Option<&VarType> {
        let dir = self.modules.get(&module.join("."))?;
        self.variable_types
            .get(&(dir.clone(), name.to_string()))
            .filter(|t| **t != VarType::Any)
    }

    /// Whether the `module` block of the call at `call` was read.
    pub fn has_call(&self, call: &[String]) -> bool {
        let Some((name, parent)) = call.split_last() else {
            return false;
        };
        self.modules
            .get(&parent.join("."))
            .is_some_and(|dir| self.calls.contains(&(dir.clone(), name.clone())))
    }

    /// The variable of the calling module that argument `argument` of the module call at
    /// `call` (module names from the root) is set to, when it is exactly `var.NAME`.
    pub fn pass_through(&self, call: &[String], argument: &str) -> Option<&str> {
        let (name, parent) = call.split_last()?;
        let dir = self.modules.get(&parent.join("."))?;
        self.pass_through
            .get(&(dir.clone(), name.clone(), argument.to_string()))
            .map(String::as_str)
    }
}

/// `NAME` when the expression is exactly `var.NAME`: anything more (an interpolation, a
/// function, an attribute of the variable) computes a different value.
fn bare_variable(expr: &hcl_edit::expr::Expression) -> Option<&str> {
    use hcl_edit::expr::{Expression, TraversalOperator};
    let Expression::Traversal(t) = expr else {
        return None;
    };
    match (&t.expr, t.operators.as_slice()) {
        (Expression::Variable(root), [op]) if root.as_str() == "var" => match op.value() {
            TraversalOperator::GetAttr(name) => Some(name.as_str()),
            _ => None,
        },
        _ => None,
    }
}

/// `a/b/../c` as `a/c`, without touching the file system (the path may not exist here).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
