//! Loads the governance objects straight from the `.tf` files of a directory
//! (`plan-guard check --model DIR`): `iom_*` resource blocks, with `var.*` values,
//! `local.*` values and references between iom resources resolved statically. Variables
//! take their values as Terraform would in that directory: the default, then
//! `TF_VAR_name`, `terraform.tfvars(.json)` and `*.auto.tfvars(.json)`, so the model
//! read here is the one `terraform apply` of the same directory writes. Every other
//! block is ignored, so the directory can be the provider workspace itself; governance
//! this loader cannot read (JSON syntax, child modules) is an error, not a silent gap.

// Indexes here are proven in bounds: positions found in the same vectors, the edit
// distance's row of `b.len() + 1` cells, and function arguments whose count hcl-rs checks
// against the declared parameters before the call.
#![allow(clippy::indexing_slicing)]

use crate::objects::{ModelSpec, Object};
use crate::problem::{Problem, Step};
use crate::schema::{AttrType, Kind, ObjectSchema};
use hcl::eval::{Context, ErrorKind, Evaluate};
use hcl_edit::Span;
use hcl_edit::structure::{Block, Body};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem in a governance file, located at a line and column (both 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file the problem is in.
    pub file: PathBuf,
    /// Its line, from 1.
    pub line: usize,
    /// Its column, from 1.
    pub column: usize,
    /// What is wrong, naming the attribute.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// A parsed file and where its lines start, to turn byte offsets into positions.
struct SourceFile {
    path: PathBuf,
    text: String,
    body: Body,
}

impl SourceFile {
    fn error(&self, span: Option<Range<usize>>, message: String) -> LoadError {
        let offset = span.map(|s| s.start).unwrap_or(0).min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map(|nl| offset - nl)
            .unwrap_or(offset + 1);
        LoadError {
            file: self.path.clone(),
            line,
            column,
            message,
        }
    }
}

/// One `resource "iom_*" "label"` block awaiting evaluation.
struct Declared {
    kind: Kind,
    label: String,
    file: usize,
    block: Block,
}

/// Loads every `iom_*` resource of the `.tf` files directly in `dir`.
pub fn load_dir(dir: &Path) -> Result<ModelSpec, Vec<LoadError>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            vec![LoadError {
                file: dir.to_path_buf(),
                line: 0,
                column: 0,
                message: format!("cannot read model directory: {e}"),
            }]
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tf") && p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(vec![LoadError {
            file: dir.to_path_buf(),
            line: 0,
            column: 0,
            message: "no .tf files in the model directory".into(),
        }]);
    }
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(LoadError {
                    file: path,
                    line: 0,
                    column: 0,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        match hcl_edit::parser::parse_body(&text) {
            Ok(body) => sources.push(SourceFile { path, text, body }),
            Err(e) => {
                let loc = e.location();
                errors.push(LoadError {
                    file: path,
                    line: loc.line(),
                    column: loc.column(),
                    message: format!("HCL syntax error: {}", e.message()),
                });
            }
        }
    }
    errors.extend(unreadable_governance(dir, &sources));
    if !errors.is_empty() {
        return Err(errors);
    }
    let values = variable_values(dir, &sources)?;
    load_sources(&sources, &values)
}

/// Governance this loader would otherwise skip without a word: `iom_*` resources in a
/// JSON-syntax file, or in a local module the directory calls.
fn unreadable_governance(dir: &Path, sources: &[SourceFile]) -> Vec<LoadError> {
    let mut errors = Vec::new();
    let declares_iom = |text: &str| text.contains("\"iom_");
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut json: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".tf.json"))
            .collect();
        json.sort();
        for path in json {
            if std::fs::read_to_string(&path).is_ok_and(|t| declares_iom(&t)) {
                errors.push(LoadError {
                    file: path,
                    line: 1,
                    column: 1,
                    message: "iom resources in JSON syntax are not read by --model: write them in .tf files, or apply them with the provider and check with --store".into(),
                });
            }
        }
    }
    for src in sources {
        for block in src.body.blocks() {
            let ("module", [name]) = (block.ident.as_str(), block.labels.as_slice()) else {
                continue;
            };
            let Some(source) = block
                .body
                .get_attribute("source")
                .and_then(|a| a.value.as_str().map(str::to_string))
                .filter(|s| s.starts_with("./") || s.starts_with("../"))
            else {
                continue;
            };
            let child = dir.join(&source);
            let has_iom = std::fs::read_dir(&child).into_iter().flatten().any(|e| {
                e.ok().is_some_and(|e| {
                    let p = e.path();
                    p.extension().is_some_and(|x| x == "tf")
                        && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("resource \"iom_"))
                })
            });
            if has_iom {
                errors.push(src.error(
                    block.span(),
                    format!(
                        "module `{}` ({source}) declares iom resources, which --model does not follow into modules: declare them in this directory, or apply with the provider and check with --store",
                        name.as_str()
                    ),
                ));
            }
        }
    }
    errors
}

/// Values for declared variables beyond their defaults, in Terraform's order (a later
/// source wins): `TF_VAR_name`, `terraform.tfvars`, `terraform.tfvars.json`, then
/// `*.auto.tfvars` and `*.auto.tfvars.json` in lexical order.
fn variable_values(
    dir: &Path,
    sources: &[SourceFile],
) -> Result<Map<String, Json>, Vec<LoadError>> {
    let mut declared: BTreeMap<String, bool> = BTreeMap::new(); // name → typed as string
    for src in sources {
        for block in src.body.blocks() {
            if let ("variable", [name]) = (block.ident.as_str(), block.labels.as_slice()) {
                let string_typed = block
                    .body
                    .get_attribute("type")
                    .is_none_or(|t| t.value.to_string().trim() == "string");
                declared.insert(name.as_str().to_string(), string_typed);
            }
        }
    }
    let mut values = Map::new();
    for (name, string_typed) in &declared {
        let Ok(raw) = std::env::var(format!("TF_VAR_{name}")) else {
            continue;
        };
        // As Terraform does: a string variable takes the text as it is; any other is
        // parsed as an HCL expression.
        let parsed = (!string_typed)
            .then(|| raw.parse::<hcl::Expression>().ok())
            .flatten()
            .and_then(|e| e.evaluate(&Context::new()).ok())
            .map(|v| to_json(&v));
        values.insert(name.clone(), parsed.unwrap_or(Json::String(raw)));
    }
    let mut files: Vec<PathBuf> = ["terraform.tfvars", "terraform.tfvars.json"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.is_file())
        .collect();
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
        })
        .collect();
    auto.sort();
    files.extend(auto);
    let mut errors = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                errors.push(LoadError {
                    file,
                    line: 0,
                    column: 0,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let assigned: Result<Map<String, Json>, LoadError> = if file
            .extension()
            .is_some_and(|x| x == "json")
        {
            serde_json::from_str::<Map<String, Json>>(&text).map_err(|e| LoadError {
                file: file.clone(),
                line: e.line(),
                column: e.column(),
                message:
                    "invalid variable definitions (a JSON object of variable values is expected)"
                        .into(),
            })
        } else {
            tfvars(&file, &text)
        };
        match assigned {
            Ok(map) => {
                for (name, value) in map {
                    if declared.contains_key(&name) {
                        values.insert(name, value);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// The `name = value` assignments of a `.tfvars` file.
fn tfvars(file: &Path, text: &str) -> Result<Map<String, Json>, LoadError> {
    let src = SourceFile {
        path: file.to_path_buf(),
        text: text.to_string(),
        body: hcl_edit::parser::parse_body(text).map_err(|e| LoadError {
            file: file.to_path_buf(),
            line: e.location().line(),
            column: e.location().column(),
            message: format!("HCL syntax error: {}", e.message()),
        })?,
    };
    let mut out = Map::new();
    for attr in src.body.attributes() {
        let expr: hcl::Expression = attr.value.clone().into();
        match expr.evaluate(&Context::new()) {
            Ok(v) => {
                out.insert(attr.key.as_str().to_string(), to_json(&v));
            }
            Err(e) => {
                return Err(src.error(
                    attr.value.span(),
                    format!("variable `{}`: {}", attr.key.as_str(), e.kind()),
                ));
            }
        }
    }
    Ok(out)
}

/// Loads governance objects from HCL text, as if it were one file named `name`.
pub fn load_str(name: &str, text: &str) -> Result<ModelSpec, Vec<LoadError>> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let loc = e.location();
        vec![LoadError {
            file: name.into(),
            line: loc.line(),
            column: loc.column(),
            message: format!("HCL syntax error: {}", e.message()),
        }]
    })?;
    load_sources(
        &[SourceFile {
            path: name.into(),
            text: text.to_string(),
            body,
        }],
        &Map::new(),
    )
}

/// A `locals` entry as declared: its file, name, expression and where it is.
type Local = (usize, String, hcl::Expression, Option<Range<usize>>);

/// What the files declare, before any expression is evaluated.
#[derive(Default)]
struct Declarations {
    /// Variables with their defaults.
    variables: Map<String, Json>,
    locals: Vec<Local>,
    declared: Vec<Declared>,
}

/// `values`: variables set beyond their defaults (see [`variable_values`]).
fn load_sources(
    sources: &[SourceFile],
    values: &Map<String, Json>,
) -> Result<ModelSpec, Vec<LoadError>> {
    let mut found = declarations(sources)?;
    for (name, value) in values {
        found.variables.insert(name.clone(), value.clone());
    }
    let resolved = resolve(sources, &found)?;
    let (spec, origin) = objects(sources, &found.declared, resolved)?;
    // Validate here too, so that problems point at the file and line that declared them.
    if let Err(problems) = crate::Model::compile(spec.clone()) {
        return Err(problems
            .into_iter()
            .map(|p| {
                let d = &found.declared[origin[&(p.kind, p.index)]];
                locate_problem(&sources[d.file], d, &p)
            })
            .collect());
    }
    Ok(spec)
}

/// The variables (with their defaults), locals and governance resources of the files;
/// an unknown `iom_` type, a malformed block or a default that does not evaluate is an error.
fn declarations(sources: &[SourceFile]) -> Result<Declarations, Vec<LoadError>> {
    let mut errors = Vec::new();
    let mut found = Declarations::default();
    let Declarations {
        variables,
        locals,
        declared,
    } = &mut found;
    for (fi, src) in sources.iter().enumerate() {
        for block in src.body.blocks() {
            match (block.ident.as_str(), block.labels.as_slice()) {
                ("variable", [name]) => {
                    if let Some(default) = block.body.get_attribute("default") {
                        let expr: hcl::Expression = default.value.clone().into();
                        match expr.evaluate(&Context::new()) {
                            Ok(v) => {
                                variables.insert(name.as_str().to_string(), to_json(&v));
                            }
                            Err(e) => errors.push(src.error(
                                default.value.span(),
                                format!("variable `{}` default: {}", name.as_str(), e.kind()),
                            )),
                        }
                    }
                }
                ("locals", []) => {
                    for attr in block.body.attributes() {
                        locals.push((
                            fi,
                            attr.key.as_str().to_string(),
                            attr.value.clone().into(),
                            attr.value.span(),
                        ));
                    }
                }
                ("resource", [rtype, label]) if rtype.as_str().starts_with("iom_") => {
                    match Kind::from_resource_type(rtype.as_str()) {
                        Some(kind) => {
                            check_shape(src, block, kind.schema(), &mut errors);
                            declared.push(Declared {
                                kind,
                                label: label.as_str().to_string(),
                                file: fi,
                                block: block.clone(),
                            });
                        }
                        None => errors.push(src.error(
                            block.span(),
                            format!("unknown governance resource type `{}`", rtype.as_str()),
                        )),
                    }
                }
                _ => {}
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(found)
}

/// Every declared object's attributes evaluated, resolving locals and references between
/// resources in as many passes as they need; what is left unresolved is an error naming
/// where and why.
fn resolve(
    sources: &[SourceFile],
    found: &Declarations,
) -> Result<BTreeMap<(Kind, String), Json>, Vec<LoadError>> {
    let Declarations {
        variables,
        locals,
        declared,
    } = found;
    let mut errors = Vec::new();
    let mut local_values: Map<String, Json> = Map::new();
    let mut resolved: BTreeMap<(Kind, String), Json> = BTreeMap::new();
    let mut pending_locals: Vec<usize> = (0..locals.len()).collect();
    let mut pending: Vec<usize> = (0..declared.len()).collect();
    loop {
        let ctx = context(variables, &local_values, &resolved);
        let mut progressed = false;
        pending_locals.retain(|&i| {
            let (_, name, expr, _) = &locals[i];
            match expr.evaluate(&ctx) {
                Ok(v) => {
                    local_values.insert(name.clone(), to_json(&v));
                    progressed = true;
                    false
                }
                Err(_) => true,
            }
        });
        pending.retain(|&i| {
            let d = &declared[i];
            match evaluate_object(&d.block.body, d.kind.schema(), &ctx) {
                Ok(value) => {
                    resolved.insert((d.kind, d.label.clone()), value);
                    progressed = true;
                    false
                }
                Err(_) => true,
            }
        });
        if !progressed || (pending.is_empty() && pending_locals.is_empty()) {
            break;
        }
    }

    // Whatever is left cannot be resolved statically: say where and why.
    let ctx = context(variables, &local_values, &resolved);
    for &i in &pending_locals {
        let (fi, name, expr, span) = &locals[i];
        if let Err(e) = expr.evaluate(&ctx) {
            errors.push(sources[*fi].error(
                span.clone(),
                format!(
                    "local `{name}` cannot be resolved statically: {}",
                    describe(&e)
                ),
            ));
        }
    }
    for &i in &pending {
        let d = &declared[i];
        if let Err((span, message)) = evaluate_object(&d.block.body, d.kind.schema(), &ctx) {
            errors.push(sources[d.file].error(
                span,
                format!("{}.{}: {message}", d.kind.resource_type(), d.label),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(resolved)
}

/// Where each object of a spec came from: (kind, index among its kind) to its place in
/// the declarations.
type Origins = BTreeMap<(Kind, usize), usize>;

/// The resolved objects as the spec holds them, with their [`Origins`].
fn objects(
    sources: &[SourceFile],
    declared: &[Declared],
    mut resolved: BTreeMap<(Kind, String), Json>,
) -> Result<(ModelSpec, Origins), Vec<LoadError>> {
    let mut errors = Vec::new();
    let mut spec = ModelSpec::default();
    let mut origin = Origins::new();
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for (i, d) in declared.iter().enumerate() {
        // Every declared object was resolved above, or the load stopped with its error.
        #[allow(clippy::expect_used)]
        let mut value = resolved
            .remove(&(d.kind, d.label.clone()))
            .expect("every declared object resolved");
        if let Json::Object(map) = &mut value {
            map.remove("id");
            map.remove("revision");
        }
        match Object::from_json(d.kind, value) {
            Ok(object) => {
                let n = counts.entry(d.kind).or_default();
                origin.insert((d.kind, *n), i);
                *n += 1;
                spec.push(object);
            }
            Err(e) => errors.push(sources[d.file].error(
                d.block.span(),
                format!("{}.{}: {e}", d.kind.resource_type(), d.label),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((spec, origin))
}

fn context(
    variables: &Map<String, Json>,
    locals: &Map<String, Json>,
    resolved: &BTreeMap<(Kind, String), Json>,
) -> Context<'static> {
    let mut ctx = Context::new();
    declare_functions(&mut ctx);
    ctx.declare_var("var", to_hcl(&Json::Object(variables.clone())));
    ctx.declare_var("local", to_hcl(&Json::Object(locals.clone())));
    let mut by_type: BTreeMap<&str, Map<String, Json>> = BTreeMap::new();
    for ((kind, label), value) in resolved {
        by_type
            .entry(kind.resource_type())
            .or_default()
            .insert(label.clone(), value.clone());
    }
    for (rtype, objects) in by_type {
        ctx.declare_var(rtype, to_hcl(&Json::Object(objects)));
    }
    ctx
}

/// The few Terraform functions that governance files commonly use to build strings.
fn declare_functions(ctx: &mut Context) {
    use hcl::eval::{FuncArgs, FuncDef, ParamType};
    fn jsonencode(args: FuncArgs) -> Result<hcl::Value, String> {
        serde_json::to_string(&to_json(&args[0]))
            .map(hcl::Value::String)
            .map_err(|e| e.to_string())
    }
    fn lower(args: FuncArgs) -> Result<hcl::Value, String> {
        Ok(hcl::Value::String(
            args[0].as_str().unwrap_or_default().to_lowercase(),
        ))
    }
    fn upper(args: FuncArgs) -> Result<hcl::Value, String> {
        Ok(hcl::Value::String(
            args[0].as_str().unwrap_or_default().to_uppercase(),
        ))
    }
    fn join(args: FuncArgs) -> Result<hcl::Value, String> {
        let sep = args[0].as_str().unwrap_or_default();
        let items: Vec<String> = args[1]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect();
        Ok(hcl::Value::String(items.join(sep)))
    }
    fn concat(args: FuncArgs) -> Result<hcl::Value, String> {
        Ok(hcl::Value::Array(
            args.iter()
                .flat_map(|a| a.as_array().cloned().unwrap_or_default())
                .collect(),
        ))
    }
    ctx.declare_func(
        "jsonencode",
        FuncDef::builder().param(ParamType::Any).build(jsonencode),
    );
    ctx.declare_func(
        "lower",
        FuncDef::builder().param(ParamType::String).build(lower),
    );
    ctx.declare_func(
        "upper",
        FuncDef::builder().param(ParamType::String).build(upper),
    );
    ctx.declare_func(
        "join",
        FuncDef::builder()
            .param(ParamType::String)
            .param(ParamType::array_of(ParamType::Any))
            .build(join),
    );
    ctx.declare_func(
        "concat",
        FuncDef::builder()
            .variadic_param(ParamType::array_of(ParamType::Any))
            .build(concat),
    );
}

/// Evaluates a resource body into its JSON form; on failure, the span and reason.
fn evaluate_object(
    body: &Body,
    schema: &ObjectSchema,
    ctx: &Context,
) -> Result<Json, (Option<Range<usize>>, String)> {
    let mut out = Map::new();
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if schema.attribute(key).is_none() {
            continue; // meta-arguments such as depends_on
        }
        let expr: hcl::Expression = attr.value.clone().into();
        let v = expr.evaluate(ctx).map_err(|e| {
            (
                attr.value.span(),
                format!(
                    "attribute `{key}` cannot be resolved statically: {}",
                    describe(&e)
                ),
            )
        })?;
        out.insert(key.to_string(), to_json(&v));
    }
    for block_schema in schema.blocks {
        let mut items = Vec::new();
        for block in body.get_blocks(block_schema.name) {
            let mut item = Map::new();
            for attr in block.body.attributes() {
                let key = attr.key.as_str();
                let expr: hcl::Expression = attr.value.clone().into();
                let v = expr.evaluate(ctx).map_err(|e| {
                    (
                        attr.value.span(),
                        format!(
                            "`{}.{key}` cannot be resolved statically: {}",
                            block_schema.name,
                            describe(&e)
                        ),
                    )
                })?;
                item.insert(key.to_string(), to_json(&v));
            }
            items.push(Json::Object(item));
        }
        if block_schema.repeated {
            out.insert(block_schema.name.to_string(), Json::Array(items));
        } else if let Some(first) = items.into_iter().next() {
            out.insert(block_schema.name.to_string(), first);
        }
    }
    // Like the provider, the id of an object is its name, so `iom_profile.x.id` resolves.
    if let Some(name) = out.get("name").cloned() {
        out.insert("id".to_string(), name);
    }
    normalise_numbers(&mut out, schema);
    Ok(Json::Object(out))
}

/// HCL numbers arrive as floats; whole numbers become integers so counts deserialize.
fn normalise_numbers(out: &mut Map<String, Json>, schema: &ObjectSchema) {
    for attr in schema.attributes {
        if attr.ty == AttrType::Number
            && let Some(Json::Number(n)) = out.get(attr.name)
            && let Some(f) = n.as_f64()
            && f.fract() == 0.0
            && (0.0..9.0e15).contains(&f)
        {
            out.insert(attr.name.to_string(), Json::from(f as u64));
        }
    }
    for block in schema.blocks {
        let items: Vec<&mut Map<String, Json>> = match out.get_mut(block.name) {
            Some(Json::Array(a)) => a.iter_mut().filter_map(Json::as_object_mut).collect(),
            Some(Json::Object(o)) => vec![o],
            _ => vec![],
        };
        for item in items {
            for attr in block.attributes {
                if attr.ty == AttrType::Number
                    && !matches!(attr.name, "min" | "max")
                    && let Some(f) = item.get(attr.name).and_then(Json::as_f64)
                    && f.fract() == 0.0
                    && f >= 0.0
                {
                    item.insert(attr.name.to_string(), Json::from(f as u64));
                }
            }
        }
    }
}

/// Reports attributes and blocks the schema does not have, before anything is evaluated.
fn check_shape(
    src: &SourceFile,
    block: &Block,
    schema: &ObjectSchema,
    errors: &mut Vec<LoadError>,
) {
    const META: &[&str] = &["depends_on", "provider", "lifecycle", "count", "for_each"];
    let label = block.labels.get(1).map(|l| l.as_str()).unwrap_or("");
    for attr in block.body.attributes() {
        let key = attr.key.as_str();
        match schema.attribute(key) {
            Some(a) if a.presence == crate::schema::Presence::Computed => errors.push(src.error(
                attr.key.span(),
                format!("{}.{label}: attribute `{key}` is set by the provider and cannot be declared", schema.resource_type),
            )),
            Some(_) => {}
            None if key == "count" || key == "for_each" => errors.push(src.error(
                attr.key.span(),
                format!("{}.{label}: `{key}` on a governance object cannot be resolved statically; declare each object", schema.resource_type),
            )),
            None if META.contains(&key) => {}
            None => errors.push(src.error(attr.key.span(), format!("{}.{label}: unknown attribute `{key}`{}", schema.resource_type, suggest(key, schema)))),
        }
    }
    for inner in block.body.blocks() {
        let ident = inner.ident.as_str();
        match schema.block(ident) {
            Some(bs) => {
                for attr in inner.body.attributes() {
                    if bs.attribute(attr.key.as_str()).is_none() {
                        errors.push(src.error(
                            attr.key.span(),
                            format!(
                                "{}.{label}: unknown attribute `{}` in `{ident}` block",
                                schema.resource_type,
                                attr.key.as_str()
                            ),
                        ));
                    }
                }
                if !bs.repeated && block.body.get_blocks(ident).count() > 1 {
                    errors.push(src.error(
                        inner.ident.span(),
                        format!(
                            "{}.{label}: at most one `{ident}` block is allowed",
                            schema.resource_type
                        ),
                    ));
                }
            }
            None if ident == "lifecycle" => {}
            None => errors.push(src.error(
                inner.ident.span(),
                format!("{}.{label}: unknown block `{ident}`", schema.resource_type),
            )),
        }
    }
    for attr in schema.attributes {
        if attr.presence == crate::schema::Presence::Required
            && !block.body.has_attribute(attr.name)
        {
            errors.push(src.error(
                block.ident.span(),
                format!(
                    "{}.{label}: required attribute `{}` is missing",
                    schema.resource_type, attr.name
                ),
            ));
        }
    }
    for bs in schema.blocks {
        for (i, inner) in block.body.get_blocks(bs.name).enumerate() {
            for attr in bs.attributes {
                if attr.presence == crate::schema::Presence::Required
                    && !inner.body.has_attribute(attr.name)
                {
                    errors.push(src.error(
                        inner.ident.span(),
                        format!(
                            "{}.{label}: `{}[{i}]` is missing required attribute `{}`",
                            schema.resource_type, bs.name, attr.name
                        ),
                    ));
                }
            }
        }
    }
}

fn suggest(key: &str, schema: &ObjectSchema) -> String {
    let close = schema
        .attributes
        .iter()
        .map(|a| a.name)
        .chain(schema.blocks.iter().map(|b| b.name))
        .find(|name| edit_distance(key, name) <= 2);
    close
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Points a validation problem at the attribute (or block) its path names.
fn locate_problem(src: &SourceFile, d: &Declared, p: &Problem) -> LoadError {
    let mut span = d.block.ident.span();
    let mut body = &d.block.body;
    let mut steps = p.path.0.iter().peekable();
    while let Some(step) = steps.next() {
        let Step::Attr(name) = step else { break };
        if let Some(attr) = body.get_attribute(name) {
            span = attr.value.span().or(span);
            break;
        }
        let blocks: Vec<&Block> = body.get_blocks(name).collect();
        let index = match steps.peek() {
            Some(Step::Index(i)) => {
                steps.next();
                *i
            }
            _ => 0,
        };
        match blocks.get(index) {
            Some(b) => {
                span = b.ident.span().or(span);
                body = &b.body;
            }
            None => break,
        }
    }
    let path = if p.path.0.is_empty() {
        String::new()
    } else {
        format!(", attribute `{}`", p.path)
    };
    src.error(
        span,
        format!(
            "{}.{}{path}: {}",
            d.kind.resource_type(),
            d.label,
            p.message
        ),
    )
}

fn describe(e: &hcl::eval::Error) -> String {
    match e.kind() {
        ErrorKind::UndefinedVar(name) => format!(
            "`{name}` is not known statically (declare a variable default, a local or an iom resource)"
        ),
        ErrorKind::UndefinedFunc(name) => {
            format!("function `{name}` is not available when loading a model statically")
        }
        ErrorKind::NoSuchKey(key) => format!("no attribute or key `{key}`"),
        other => other.to_string(),
    }
}

fn to_json(v: &hcl::Value) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

fn to_hcl(v: &Json) -> hcl::Value {
    hcl::to_value(v).unwrap_or(hcl::Value::Null)
}
