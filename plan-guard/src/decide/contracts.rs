//! Contracts in `check` (docs/judging.md, Contracts): a contract governs the module calls its
//! `module` glob matches (`""` is the root module, and so the whole configuration). For
//! each governed call it checks the call's inputs, its pre-conditions and, per change,
//! its `forbid_actions` constraints. Findings come from source `contract:NAME`.
//!
//! Input values come from the plan: a module call's constant arguments, the root
//! module's variables, and arguments that pass a variable of the caller straight through
//! (`env = var.env`, seen in the workspace's source) take that variable's value. An
//! argument computed from anything else has no value in the plan JSON, so it is unknown
//! and takes the governing profile's `on_unknown`. A value is judged as the module
//! receives it: Terraform records `-var` values as the strings given (`"2"`) and converts
//! them, and constant arguments, to the type the variable declares (read from the
//! workspace's source), or, where that is not known, to the contract input's type
//! (`"2"` → 2, `"true"`/`"1"` → true, 2 → `"2"`). An input declared sensitive (by the
//! module's variable or the root variable it comes from) is checked but never shown: a
//! `{{ inputs.NAME }}` template over it is not expanded (no message, probe target or
//! network request ever carries it), and the pre-condition fails instead.

// Indexes here are proven in bounds: `depth` runs over the path's own length, `gi`
// and `ci` index the vectors they were enumerated from, segments are length-checked.
#![allow(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use iom_model::{
    ActionClass, CompiledIntent, Contract, InputValue, Model, Outcome, check_contract_inputs,
    expand_inputs, glob,
};

use crate::decide::probes::{self, Probe};
use crate::decide::report::Finding;
use crate::decide::surface::{
    ConstraintInForce, ContractSection, PostVerifySection, PreConditionSection, contract_digest,
    input_section, without_credentials,
};
use crate::plan::address::InstanceAddress;
use crate::plan::sources::{Locator, VarType};
use crate::plan::{ConfigModule, ModuleCall, Plan, ResourceChange};

/// One contract applied to one module call (by configuration path, instance keys aside).
pub struct Governed<'m> {
    /// The contract.
    pub contract: &'m Contract,
    /// `module.a.module.b`, or `""` for the root module.
    pub call: String,
    /// Each declared input's value, as the plan (or the source) gives it.
    pub inputs: BTreeMap<String, InputValue>,
    /// Inputs whose values must never be shown.
    pub sensitive: BTreeSet<String>,
    /// Findings that do not depend on the change: inputs and pre-conditions.
    pub(crate) findings: Vec<Finding>,
    /// Inputs unknown until apply (findings take each change's `on_unknown`).
    pub(crate) unknown: Vec<String>,
    /// Unknown inputs that name just a variable (`var.NAME`) of a call whose source was
    /// not found: they may be plain pass-throughs, which the source would confirm.
    pub(crate) unconfirmed: BTreeMap<String, String>,
    /// Each input's problem (message, and whether it is only unknown), by name; empty
    /// when every input passed.
    pub(crate) problems: BTreeMap<String, (String, bool)>,
    /// Whether the inputs were checked (not when the call is gone from the configuration).
    pub(crate) inputs_checked: bool,
    /// Every pre-condition, with what it checked and how it came out.
    pub(crate) pre_conditions: Vec<PreConditionSection>,
}

/// Every governed module call of a plan with its contract, judged once per check.
pub struct Contracts<'m> {
    governed: Vec<Governed<'m>>,
    /// Index into `governed`, per configuration module path of the plan's changes.
    by_path: HashMap<Vec<String>, Vec<usize>>,
}

impl<'m> Contracts<'m> {
    /// Evaluates every contract that governs a module call some change lives in; network
    /// pre-conditions of all of them run concurrently.
    pub fn evaluate(
        plan: &Plan<'_>,
        model: &'m Model,
        workspace_intents: &[&CompiledIntent],
        changes: &[&ResourceChange<'_>],
        sources: Option<&Locator>,
    ) -> Contracts<'m> {
        let mut out = Contracts::governing(plan, model, changes, sources);
        let profiles: BTreeSet<&str> = workspace_intents
            .iter()
            .map(|i| i.profile.as_str())
            .collect();
        let mut probes = Vec::new();
        for (gi, g) in out.governed.iter_mut().enumerate() {
            g.check_inputs(plan);
            g.check_pre_conditions(gi, plan, model, &profiles, &mut probes);
        }
        let (targets, runs): (Vec<_>, Vec<_>) = probes.into_iter().unzip();
        let results = probes::run_all(&runs);
        for (((gi, pi, finding), result), probe) in targets.into_iter().zip(results).zip(&runs) {
            if let Err(why) = result {
                // A probe's error names the URL it requested: never with its credentials.
                let why = match probe {
                    Probe::Http { url, .. } => why.replace(url, &without_credentials(url)),
                    Probe::Tcp { .. } => why,
                };
                let g = &mut out.governed[gi];
                let shown = &mut g.pre_conditions[pi];
                shown.passed = false;
                shown.outcome = finding.outcome;
                shown.message = Some(why.clone());
                let mut finding: Finding = finding;
                finding.message = format!("{}: {why}", finding.message);
                g.findings.push(finding);
            }
        }
        out
    }

    /// The indexes into [`Contracts::calls`] of the governed calls `rc` lives in: for a
    /// moved object, those of the call it leaves too, so moving an object out of a
    /// governed call does not take it out of the call's contract.
    pub fn indexes_for(&self, rc: &ResourceChange<'_>) -> Vec<usize> {
        if self.governed.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<usize> = module_paths(rc)
            .iter()
            .filter_map(|path| self.by_path.get(path))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The module calls each contract governs among those `changes` live in, with their
    /// inputs, judged nothing yet.
    pub fn governing(
        plan: &Plan<'_>,
        model: &'m Model,
        changes: &[&ResourceChange<'_>],
        sources: Option<&Locator>,
    ) -> Contracts<'m> {
        let mut out = Contracts {
            governed: Vec::new(),
            by_path: HashMap::new(),
        };
        if model.spec.contracts.is_empty() {
            return out;
        }
        let globs: Vec<_> = model
            .spec
            .contracts
            .iter()
            // `module.mc[*]` is every instance of the call, which is the call itself.
            .map(|c| glob::compile_addresses(&[c.module.replace("[*]", "")]).ok())
            .collect();
        let paths: BTreeSet<Vec<String>> = changes.iter().flat_map(|rc| module_paths(rc)).collect();
        let mut index: HashMap<(usize, String), usize> = HashMap::new();
        for path in paths {
            let mut here = Vec::new();
            for depth in 0..=path.len() {
                let call = call_address(&path[..depth]);
                for (ci, c) in model.spec.contracts.iter().enumerate() {
                    let governs = match (depth, c.module.as_str(), &globs[ci]) {
                        (0, "", _) => true,
                        (0, _, _) | (_, "", _) => false,
                        (_, _, Some(g)) => g.is_match(&call),
                        (_, _, None) => false,
                    };
                    if !governs {
                        continue;
                    }
                    let at = *index.entry((ci, call.clone())).or_insert_with(|| {
                        let (mut inputs, sensitive) = inputs_of(plan, &path[..depth], sources);
                        as_terraform_converts(&mut inputs, c, &path[..depth], sources);
                        let unconfirmed = unconfirmed_of(plan, &path[..depth], &inputs, sources);
                        out.governed.push(Governed {
                            contract: c,
                            inputs,
                            sensitive,
                            unconfirmed,
                            call: call.clone(),
                            findings: Vec::new(),
                            unknown: Vec::new(),
                            problems: BTreeMap::new(),
                            inputs_checked: false,
                            pre_conditions: Vec::new(),
                        });
                        out.governed.len() - 1
                    });
                    here.push(at);
                }
            }
            out.by_path.insert(path, here);
        }
        out
    }

    /// Every governed module call, in the order first met.
    pub fn calls(&self) -> &[Governed<'m>] {
        &self.governed
    }

    /// The contract findings of one change.
    pub fn findings_for(
        &self,
        rc: &ResourceChange<'_>,
        classes: &[ActionClass],
        governing: &[&CompiledIntent],
        model: &Model,
    ) -> Vec<Finding> {
        // Most models have no contracts: then no change's address needs parsing here.
        if self.governed.is_empty() {
            return Vec::new();
        }
        let indexes = self.indexes_for(rc);
        let on_unknown = governing
            .iter()
            .filter_map(|i| model.profiles.get(&i.profile))
            .map(|p| p.on_unknown)
            .max()
            .unwrap_or(Outcome::Escalate);
        let mut out = Vec::new();
        for gi in indexes {
            let g = &self.governed[gi];
            out.extend(g.findings.iter().cloned());
            for input in &g.unknown {
                let message = match g.unconfirmed.get(input) {
                    Some(var) => format!(
                        "input `{input}` is set from `var.{var}`, but the workspace's .tf files were not found (--source-dir) to show it is passed straight through, so it cannot be checked"
                    ),
                    None => {
                        format!("input `{input}` is unknown until apply, so it cannot be checked")
                    }
                };
                out.push(g.finding(format!("input.{input}"), on_unknown, message));
            }
            for k in &g.contract.constraint {
                let Ok(profile) = g.expand(&k.profile) else {
                    continue;
                };
                let applies = governing.iter().any(|it| it.profile == profile);
                if applies
                    && let Some(class) = classes
                        .iter()
                        .find(|c| k.forbid_actions.iter().any(|a| a == c.as_str()))
                {
                    out.push(g.finding(
                        "constraint".to_string(),
                        outcome_or_block(k.outcome.as_deref()),
                        format!("profile {profile} forbids {class} here"),
                    ));
                }
            }
        }
        out
    }
}

impl Governed<'_> {
    fn finding(&self, rule: String, outcome: Outcome, message: String) -> Finding {
        let place = if self.call.is_empty() {
            "the root module".to_string()
        } else {
            self.call.clone()
        };
        Finding {
            waived_by: None,
            source: format!("contract:{}", self.contract.name),
            rule,
            outcome,
            message: format!("{place}: {message}"),
        }
    }

    /// `text` with its `{{ inputs.NAME }}` templates expanded, or the first input that
    /// cannot be: unknown, missing, or sensitive (a sensitive value is never expanded).
    pub fn expand(&self, text: &str) -> Result<String, String> {
        if self.sensitive.is_empty() {
            return expand_inputs(text, &self.inputs);
        }
        let shown: BTreeMap<String, InputValue> = self
            .inputs
            .iter()
            .filter(|(name, _)| !self.sensitive.contains(*name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        expand_inputs(text, &shown)
    }

    /// The section the report shows for this call, with `changes` judged changes in it,
    /// under a workspace governed by `profiles`.
    pub fn section(&self, changes: usize, profiles: &BTreeSet<&str>) -> ContractSection {
        let inputs = self
            .contract
            .input
            .iter()
            .map(|decl| {
                let problem = self
                    .problems
                    .get(&decl.name)
                    .map(|(m, unknown)| (m.as_str(), *unknown));
                input_section(
                    decl,
                    self.inputs.get(&decl.name),
                    self.sensitive.contains(&decl.name),
                    problem,
                    self.inputs_checked,
                )
            })
            .collect();
        let constraints = self
            .contract
            .constraint
            .iter()
            .filter_map(|k| {
                let profile = self.expand(&k.profile).ok()?;
                profiles
                    .contains(profile.as_str())
                    .then(|| ConstraintInForce {
                        forbid_actions: k.forbid_actions.clone(),
                        outcome: outcome_or_block(k.outcome.as_deref()),
                        profile,
                    })
            })
            .collect();
        let post_verify = self
            .contract
            .post_verify
            .iter()
            .map(|pv| {
                let target = match pv.probe.as_str() {
                    "http" => pv.url.as_deref().map(|u| self.shown_template(u)),
                    "tcp" => pv.target.as_deref().map(|t| self.shown_template(t)),
                    "state" => pv.condition.clone(),
                    _ => None,
                };
                PostVerifySection {
                    expect_status: (pv.probe == "http").then(|| pv.expect_status.unwrap_or(200)),
                    probe: pv.probe.clone(),
                    retries: pv.retries,
                    target,
                }
            })
            .collect();
        ContractSection {
            call: self.call.clone(),
            changes,
            constraints,
            contract: self.contract.name.clone(),
            digest: contract_digest(self.contract),
            inputs,
            post_verify,
            pre_conditions: self.pre_conditions.clone(),
        }
    }

    /// A contract string as shown before apply: expanded when every input it names is
    /// known and not sensitive, else as written (the template names the input, never its
    /// value); without credentials either way.
    fn shown_template(&self, text: &str) -> String {
        without_credentials(&self.expand(text).unwrap_or_else(|_| text.to_string()))
    }

    fn check_inputs(&mut self, plan: &Plan<'_>) {
        // A call gone from the configuration (its resources are being deleted) has no
        // inputs to check; its constraints still apply to the deletes.
        let path = config_path(&self.call);
        if !path.is_empty() && plan.configuration.is_some() && module_call(plan, &path).is_none() {
            return;
        }
        self.inputs_checked = true;
        for v in check_contract_inputs(self.contract, &self.inputs) {
            self.problems
                .insert(v.input.clone(), (v.message.clone(), v.unknown));
            if v.unknown {
                self.unknown.push(v.input);
            } else {
                let f = self.finding(format!("input.{}", v.input), Outcome::Block, v.message);
                self.findings.push(f);
            }
        }
    }

    fn check_pre_conditions(
        &mut self,
        gi: usize,
        plan: &Plan<'_>,
        model: &Model,
        profiles: &BTreeSet<&str>,
        probes: &mut Vec<((usize, usize, Finding), Probe)>,
    ) {
        for pc in &self.contract.pre_condition {
            let pi = self.pre_conditions.len();
            // The rule is named by the check (`pre_condition.CHECK`, docs/report.md); the
            // message tells repeated checks apart.
            let rule = format!("pre_condition.{}", pc.check);
            let outcome = outcome_or_block(pc.outcome.as_deref());
            let timeout =
                Duration::from_millis(pc.timeout_ms.unwrap_or(probes::DEFAULT_TIMEOUT_MS));
            let sensitive = &self.sensitive;
            // Why a template could not be expanded, in words that never carry the value.
            let why_not = |what: &str, input: String| {
                if sensitive.contains(&input) {
                    format!("{what} uses input `{input}`, which is sensitive and is never expanded")
                } else {
                    format!("{what} depends on input `{input}`, which has no known value")
                }
            };
            let expand = |s: &Option<String>| self.expand(s.as_deref().unwrap_or(""));
            let checked = self.checked_by(pc);
            let failed = match pc.check.as_str() {
                "profile_active" => match expand(&pc.profile) {
                    Ok(p) if profiles.contains(p.as_str()) => None,
                    Ok(p) => Some(format!("profile {p} does not govern this workspace")),
                    Err(input) => Some(why_not("profile", input)),
                },
                "element_exists" => match expand(&pc.element) {
                    Ok(e) if model.spec.elements.iter().any(|x| x.name == e) => None,
                    Ok(e) => Some(format!("no iom_element is named {e}")),
                    Err(input) => Some(why_not("element", input)),
                },
                "no_drift" => {
                    let path: Vec<String> = config_path(&self.call);
                    let drifted: Vec<&str> = plan
                        .resource_drift
                        .iter()
                        .filter(|d| module_path(d).starts_with(&path))
                        .map(|d| d.address.as_str())
                        .collect();
                    (!drifted.is_empty()).then(|| {
                        format!(
                            "{} drifted outside Terraform: {}",
                            plural(drifted.len()),
                            drifted.join(", ")
                        )
                    })
                }
                "tcp_reachable" | "http_ok" => {
                    let target = if pc.check == "tcp_reachable" {
                        &pc.target
                    } else {
                        &pc.url
                    };
                    match expand(target) {
                        Ok(t) => {
                            let probe = if pc.check == "tcp_reachable" {
                                Probe::Tcp {
                                    target: t.clone(),
                                    timeout,
                                }
                            } else {
                                Probe::Http {
                                    url: t.clone(),
                                    expect_status: pc.expect_status.unwrap_or(200),
                                    timeout,
                                }
                            };
                            let shown = without_credentials(&t);
                            let f = self.finding(
                                rule.clone(),
                                outcome,
                                format!("{} {shown}", pc.check),
                            );
                            probes.push(((gi, pi, f), probe));
                            None
                        }
                        Err(input) => Some(why_not("target", input)),
                    }
                }
                other => Some(format!("unknown check {other}")),
            };
            self.pre_conditions.push(PreConditionSection {
                check: pc.check.clone(),
                checked,
                message: failed.clone(),
                outcome: if failed.is_some() {
                    outcome
                } else {
                    Outcome::Allow
                },
                passed: failed.is_none(),
            });
            if let Some(message) = failed {
                let f = self.finding(rule, outcome, message);
                self.findings.push(f);
            }
        }
    }

    /// What a pre-condition checks, in words that never carry a sensitive value: a
    /// template over a sensitive or unknown input is shown as written.
    fn checked_by(&self, pc: &iom_model::PreCondition) -> String {
        let text = |s: &Option<String>| self.shown_template(s.as_deref().unwrap_or(""));
        match pc.check.as_str() {
            "profile_active" => format!("profile {}", text(&pc.profile)),
            "element_exists" => format!("element {}", text(&pc.element)),
            "no_drift" => format!(
                "no drift in {}",
                if self.call.is_empty() {
                    "the root module"
                } else {
                    &self.call
                }
            ),
            "tcp_reachable" => text(&pc.target),
            "http_ok" => format!(
                "GET {} answers {}",
                text(&pc.url),
                pc.expect_status.unwrap_or(200)
            ),
            other => other.to_string(),
        }
    }
}

fn outcome_or_block(word: Option<&str>) -> Outcome {
    word.and_then(|w| w.parse().ok()).unwrap_or(Outcome::Block)
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 resource".into()
    } else {
        format!("{n} resources")
    }
}

/// Module call names from the root to the module a change lives in.
fn module_path(rc: &ResourceChange<'_>) -> Vec<String> {
    path_of(&rc.address)
}

/// The module paths a change lives in: its address's and, for a moved object, its
/// previous address's.
fn module_paths(rc: &ResourceChange<'_>) -> Vec<Vec<String>> {
    let mut paths = vec![module_path(rc)];
    if let Some(previous) = rc.previous_address.as_deref() {
        let left = path_of(previous);
        if !paths.contains(&left) {
            paths.push(left);
        }
    }
    paths
}

fn path_of(address: &str) -> Vec<String> {
    InstanceAddress::parse(address)
        .map(|a| a.module_names())
        .unwrap_or_default()
}

fn call_address(path: &[String]) -> String {
    path.iter()
        .map(|m| format!("module.{m}"))
        .collect::<Vec<_>>()
        .join(".")
}

fn config_path(call: &str) -> Vec<String> {
    call.split('.')
        .collect::<Vec<_>>()
        .chunks(2)
        .filter(|c| c.len() == 2 && c[0] == "module")
        .map(|c| c[1].to_string())
        .collect()
}

/// The inputs of the module call at `path` and the names of those that are sensitive.
/// The root module's inputs are its variables.
fn inputs_of(
    plan: &Plan<'_>,
    path: &[String],
    sources: Option<&Locator>,
) -> (BTreeMap<String, InputValue>, BTreeSet<String>) {
    let mut inputs = BTreeMap::new();
    let mut sensitive = BTreeSet::new();
    if path.is_empty() {
        for name in plan.variables.keys() {
            let (value, secret) = root_variable(plan, name);
            if secret {
                sensitive.insert(name.clone());
            }
            inputs.insert(name.clone(), value);
        }
        return (inputs, sensitive);
    }
    if let Some(call) = module_call(plan, path) {
        for name in call.expressions.keys() {
            let (value, secret) = argument(plan, path, name, sources);
            if secret {
                sensitive.insert(name.clone());
            }
            inputs.insert(name.clone(), value);
        }
    }
    (inputs, sensitive)
}

/// Each known input as the module at `module` receives it: converted to the type its
/// variable declares in the source, else to the type the contract gives the input, by
/// Terraform's rules. A value that does not convert is left as given (Terraform would
/// have refused the plan), so the contract still reports the mismatch.
fn as_terraform_converts(
    inputs: &mut BTreeMap<String, InputValue>,
    contract: &Contract,
    module: &[String],
    sources: Option<&Locator>,
) {
    for (name, value) in inputs.iter_mut() {
        let InputValue::Known(value) = value else {
            continue;
        };
        let declared = sources.and_then(|s| s.declared_type(module, name)).cloned();
        let wanted = declared.or_else(|| {
            let decl = contract.input.iter().find(|i| &i.name == name)?;
            match decl.ty.as_deref()? {
                "number" => Some(VarType::Number),
                "bool" => Some(VarType::Bool),
                "string" => Some(VarType::String),
                _ => None,
            }
        });
        if let Some(converted) = wanted.and_then(|t| convert(value, &t)) {
            *value = converted;
        }
    }
}

/// `value` converted to `ty` as Terraform (cty) converts a variable's value, or `None`
/// when Terraform would refuse it.
fn convert(value: &serde_json::Value, ty: &VarType) -> Option<serde_json::Value> {
    use serde_json::Value;
    match (ty, value) {
        (VarType::Any, _) | (_, Value::Null) => Some(value.clone()),
        (VarType::String, Value::String(_))
        | (VarType::Number, Value::Number(_))
        | (VarType::Bool, Value::Bool(_)) => Some(value.clone()),
        (VarType::String, Value::Number(n)) => Some(Value::String(number_text(n))),
        (VarType::String, Value::Bool(b)) => Some(Value::String(b.to_string())),
        (VarType::Number, Value::String(s)) => parse_number(s).map(Value::Number),
        (VarType::Bool, Value::String(s)) => match s.as_str() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        (VarType::List(t), Value::Array(items)) => items
            .iter()
            .map(|item| convert(item, t))
            .collect::<Option<_>>()
            .map(Value::Array),
        (VarType::Tuple(types), Value::Array(items)) if types.len() == items.len() => items
            .iter()
            .zip(types)
            .map(|(item, t)| convert(item, t))
            .collect::<Option<_>>()
            .map(Value::Array),
        (VarType::Map(t), Value::Object(entries)) => entries
            .iter()
            .map(|(k, v)| Some((k.clone(), convert(v, t)?)))
            .collect::<Option<_>>()
            .map(Value::Object),
        (VarType::Object(attrs), Value::Object(entries)) => entries
            .iter()
            .map(|(k, v)| {
                let converted = match attrs.get(k) {
                    Some(t) => convert(v, t)?,
                    None => v.clone(),
                };
                Some((k.clone(), converted))
            })
            .collect::<Option<_>>()
            .map(Value::Object),
        _ => None,
    }
}

/// A decimal number as Terraform reads one from a string: an optional sign, digits with
/// an optional fraction (`2`, `2.5`, `.5`), an optional exponent (`1e3`). No spaces,
/// hexadecimal, underscores or infinities.
fn parse_number(text: &str) -> Option<serde_json::Number> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = digits(whole)
        && digits(fraction)
        && !(whole.is_empty() && fraction.is_empty())
        && exponent.is_none_or(|e| !e.is_empty() && digits(e));
    if !well_formed {
        return None;
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(i.into());
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}

/// A number as Terraform writes it as a string: `2`, `2.5`, never `2.0`.
fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => n.to_string(),
    }
}

/// The unknown inputs of the call at `path` whose plan expression names only one
/// variable, when the call's `module` block was not found in the source.
fn unconfirmed_of(
    plan: &Plan<'_>,
    path: &[String],
    inputs: &BTreeMap<String, InputValue>,
    sources: Option<&Locator>,
) -> BTreeMap<String, String> {
    if path.is_empty() || sources.is_some_and(|s| s.has_call(path)) {
        return BTreeMap::new();
    }
    let Some(call) = module_call(plan, path) else {
        return BTreeMap::new();
    };
    inputs
        .iter()
        .filter(|(_, v)| matches!(v, InputValue::Unknown))
        .filter_map(|(name, _)| {
            let refs = &call.expressions.get(name)?.references;
            let var = refs.first()?.strip_prefix("var.")?;
            (!var.contains('.') && refs.iter().all(|r| r == &refs[0]))
                .then(|| (name.clone(), var.to_string()))
        })
        .collect()
}

fn module_call<'p>(plan: &'p Plan<'_>, path: &[String]) -> Option<&'p ModuleCall> {
    let mut module: &ConfigModule = &plan.configuration.as_ref()?.root_module;
    let mut call = None;
    for name in path {
        let c = module.module_calls.get(name)?;
        module = &c.module;
        call = Some(c);
    }
    call
}

/// A root variable's value from the plan, and whether it is declared sensitive.
fn root_variable(plan: &Plan<'_>, name: &str) -> (InputValue, bool) {
    let value = plan
        .variables
        .get(name)
        .and_then(|v| v.value)
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .map_or(InputValue::Unknown, InputValue::Known);
    let secret = plan
        .configuration
        .as_ref()
        .and_then(|c| c.root_module.variables.get(name))
        .is_some_and(|v| v.sensitive);
    (value, secret)
}

/// Argument `name` of the module call at `path`: a constant, or the caller's variable it
/// passes through (checked against both the source and the plan's recorded references,
/// so a source that is not this plan's configuration resolves nothing), else unknown.
/// Sensitive when the module declares the variable sensitive or its value comes from a
/// sensitive variable.
fn argument(
    plan: &Plan<'_>,
    path: &[String],
    name: &str,
    sources: Option<&Locator>,
) -> (InputValue, bool) {
    let Some(call) = module_call(plan, path) else {
        return (InputValue::Unknown, false);
    };
    let declared_secret = call.module.variables.get(name).is_some_and(|v| v.sensitive);
    let Some(expr) = call.expressions.get(name) else {
        return (InputValue::Unknown, declared_secret);
    };
    if let Some(v) = &expr.constant {
        return (InputValue::Known(v.clone()), declared_secret);
    }
    let passed = sources
        .and_then(|s| s.pass_through(path, name))
        .filter(|var| {
            let reference = format!("var.{var}");
            !expr.references.is_empty() && expr.references.iter().all(|r| *r == reference)
        });
    let Some(var) = passed else {
        return (InputValue::Unknown, declared_secret);
    };
    let parent = &path[..path.len() - 1];
    let (value, secret) = if parent.is_empty() {
        root_variable(plan, var)
    } else {
        argument(plan, parent, var, sources)
    };
    (value, secret || declared_secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_convert_as_terraform_converts_them() {
        let n = |s: &str| convert(&json!(s), &VarType::Number);
        assert_eq!(n("2"), Some(json!(2)));
        assert_eq!(n("-2"), Some(json!(-2)));
        assert_eq!(n("+2"), Some(json!(2)));
        assert_eq!(n("2.5"), Some(json!(2.5)));
        assert_eq!(n(".5"), Some(json!(0.5)));
        assert_eq!(n("1e3"), Some(json!(1000.0)));
        for refused in [
            " 2", "2 ", "0x10", "1_000", "Inf", "NaN", "", ".", "1e", "e3", "--2",
        ] {
            assert_eq!(n(refused), None, "{refused:?}");
        }
        let b = |s: &str| convert(&json!(s), &VarType::Bool);
        assert_eq!(b("true"), Some(json!(true)));
        assert_eq!(b("1"), Some(json!(true)));
        assert_eq!(b("0"), Some(json!(false)));
        assert_eq!(b("True"), None);
        assert_eq!(convert(&json!(2), &VarType::String), Some(json!("2")));
        assert_eq!(convert(&json!(2.5), &VarType::String), Some(json!("2.5")));
        assert_eq!(convert(&json!(true), &VarType::String), Some(json!("true")));
        assert_eq!(convert(&json!(true), &VarType::Number), None);
        let list = VarType::List(Box::new(VarType::Number));
        assert_eq!(convert(&json!(["1", 2]), &list), Some(json!([1, 2])));
        let object = VarType::Object([("n".to_string(), VarType::Number)].into());
        assert_eq!(
            convert(&json!({"n": "3", "other": "x"}), &object),
            Some(json!({"n": 3, "other": "x"}))
        );
    }
}
