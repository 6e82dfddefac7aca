//! `--format sarif`: SARIF 2.1.0 for code scanning. One rule per finding source and rule,
//! with help text; one result per finding that is not an allow, at the resource address
//! (logical location) and, when the workspace's `.tf` files are at hand, the file and line
//! of its block (physical location). block is `error`, escalate `warning`, warn `note`.

// The values written by key here are objects this module builds with `json!`.
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeMap;

use iom_model::{ActionClass, Outcome};
use serde_json::{Value, json};

use crate::decide::plan_set::SetReport;
use crate::decide::report::Report;
use crate::plan::sources::Locator;

fn level(o: Outcome) -> &'static str {
    match o {
        Outcome::Block => "error",
        Outcome::Escalate => "warning",
        Outcome::Warn | Outcome::Allow => "note",
    }
}

fn help(source: &str, rule: &str) -> String {
    let kind = source.split(':').next().unwrap_or(source);
    let what = match kind {
        "profile" => {
            "The governing profile's outcome for this action class, threshold or undecidable condition."
        }
        "intent" => {
            "A rule of the intent that governs this resource: permitted types, critical addresses or a constraint."
        }
        "blueprint" => {
            "A rule of a blueprint the governing intent applies (a module rule judges a module call: its source and version)."
        }
        "contract" => "An item of the contract governing this module call.",
        _ => "A rule of the governance model itself.",
    };
    format!(
        "{what} Source `{source}`, rule `{rule}`. Change the plan, or the governance model if the rule is wrong; escalations can be approved with `plan-guard approve`."
    )
}

/// The report as a SARIF 2.1.0 log: one result per finding, at its source line when
/// `sources` finds the block that declares the change.
pub fn render_sarif(r: &Report, sources: Option<&Locator>) -> String {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    change_results(r, sources, &mut rules, &mut results);
    plan_level_results(r, &mut rules, &mut results);
    document(
        rules,
        results,
        &format!("plan-guard/{}/{}", r.workspace, r.decision_id),
    )
}

/// One plan of a set for SARIF: its report, and its workspace's `.tf` files (read there
/// by `sources`, at `dir` as the command line gave it).
pub struct SetPlanSources<'a> {
    /// The plan's workspace sources, when they were found.
    pub sources: Option<&'a Locator>,
    /// The directory as given, which SARIF locations are relative to.
    pub dir: &'a str,
}

/// `--format sarif` of a set of plans: one run with every plan's results, each located
/// in its own workspace's files (`DIR/FILE` from the set's working directory), its
/// message and fingerprint naming the workspace.
pub fn render_set_sarif(set: &SetReport, sources: &[SetPlanSources<'_>]) -> String {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for (n, r) in set.plans.iter().enumerate() {
        let mut mine = Vec::new();
        let at = sources.get(n);
        change_results(r, at.and_then(|s| s.sources), &mut rules, &mut mine);
        plan_level_results(r, &mut rules, &mut mine);
        let dir = at.map_or("", |s| s.dir);
        mine.iter_mut()
            .for_each(|result| in_workspace(result, r, dir));
        results.extend(mine);
    }
    document(
        rules,
        results,
        &format!("plan-guard/set/{}", set.decision_id),
    )
}

/// A result of one plan of a set: its file under the plan's directory, its message and
/// fingerprint prefixed with the workspace, and the workspace and the plan's decision as
/// properties.
fn in_workspace(result: &mut Value, r: &Report, dir: &str) {
    let workspace = r.workspace.as_str();
    let dir = dir.trim_start_matches("./").trim_end_matches('/');
    for location in result["locations"].as_array_mut().into_iter().flatten() {
        let uri = &mut location["physicalLocation"]["artifactLocation"]["uri"];
        if let (Some(file), false) = (uri.as_str(), dir.is_empty() || dir == ".") {
            *uri = json!(format!("{dir}/{file}"));
        }
    }
    let message = result["message"]["text"].as_str().unwrap_or("").to_string();
    result["message"]["text"] = json!(format!("{workspace}: {message}"));
    let print = result["partialFingerprints"]["planGuardFinding/v1"]
        .as_str()
        .unwrap_or("")
        .to_string();
    result["partialFingerprints"]["planGuardFinding/v1"] = json!(format!("{workspace}|{print}"));
    result["properties"]["workspace"] = json!(workspace);
    result["properties"]["decision_id"] = json!(r.decision_id);
}

/// The SARIF log of one run with `rules` and `results` (each result given its rule's index).
fn document(
    rules: BTreeMap<String, Value>,
    mut results: Vec<Value>,
    automation_id: &str,
) -> String {
    let index: BTreeMap<&String, usize> = rules.keys().enumerate().map(|(i, k)| (k, i)).collect();
    for result in &mut results {
        let id = result["ruleId"].as_str().unwrap_or("").to_string();
        result["ruleIndex"] = json!(index.get(&id).copied().unwrap_or(0));
    }
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "plan-guard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/iom-dev/iom",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "automationDetails": { "id": automation_id },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}

/// A result per finding that is not an allow, at its change's address and, with the
/// sources, the file and line of its block.
fn change_results(
    r: &Report,
    sources: Option<&Locator>,
    rules: &mut BTreeMap<String, Value>,
    results: &mut Vec<Value>,
) {
    for c in &r.changes {
        for f in c.findings.iter().filter(|f| f.outcome > Outcome::Allow) {
            let id = format!("{}/{}", f.source, f.rule);
            rules.entry(id.clone()).or_insert_with(|| {
                json!({
                    "id": id,
                    "name": f.rule,
                    "shortDescription": { "text": format!("{} {}", f.source, f.rule) },
                    "help": { "text": help(&f.source, &f.rule) },
                    "defaultConfiguration": { "level": level(f.outcome) },
                })
            });
            let is_call = c.action == ActionClass::Module;
            let kind = if is_call { "module" } else { "resource" };
            let mut location = json!({
                "logicalLocations": [{ "fullyQualifiedName": c.address, "kind": kind }],
            });
            let place = sources.and_then(|s| {
                if is_call {
                    s.locate_call(&c.address)
                } else {
                    s.locate(&c.address)
                }
            });
            if let Some((file, line)) = place {
                location["physicalLocation"] = json!({
                    "artifactLocation": { "uri": file, "uriBaseId": "SRCROOT" },
                    "region": { "startLine": line },
                });
            }
            let mut result = json!({
                "ruleId": id,
                "level": level(f.outcome),
                "message": { "text": format!("{}: {}", c.address, f.message) },
                "locations": [location],
                "partialFingerprints": { "planGuardFinding/v1": format!("{}|{}|{}", c.address, f.source, f.rule) },
            });
            // Who is accountable for the change this finding flagged (a property bag:
            // SARIF's place for what a tool adds).
            if !c.accountable.is_empty() {
                result["properties"] = json!({ "accountable": c.accountable });
            }
            results.push(result);
        }
    }
}

/// Findings about the whole plan, at the plan file; and every action the apply would
/// invoke, as a note even when allowed (an action runs code a resource diff does not show).
fn plan_level_results(r: &Report, rules: &mut BTreeMap<String, Value>, results: &mut Vec<Value>) {
    let mut rule = |id: &str, name: &str, outcome: Outcome, help_text: String| {
        rules.entry(id.to_string()).or_insert_with(|| {
            json!({
                "id": id,
                "name": name,
                "shortDescription": { "text": id },
                "help": { "text": help_text },
                "defaultConfiguration": { "level": level(outcome) },
            })
        });
    };
    for f in r.findings.iter().filter(|f| f.outcome > Outcome::Allow) {
        let id = format!("{}/{}", f.source, f.rule);
        rule(&id, &f.rule, f.outcome, help(&f.source, &f.rule));
        results.push(json!({
            "ruleId": id,
            "level": level(f.outcome),
            "message": { "text": f.message },
            "locations": [{ "logicalLocations": [{ "fullyQualifiedName": r.plan.source, "kind": "module" }] }],
            "partialFingerprints": { "planGuardFinding/v1": format!("plan|{}|{}", f.source, f.rule) },
        }));
    }
    for c in &r.changes {
        let Some(trigger) = &c.trigger else { continue };
        let id = "plan/invoke";
        rule(
            id,
            "invoke",
            Outcome::Allow,
            "An action (Terraform 1.14+) the apply would run; listed whatever its verdict.".into(),
        );
        results.push(json!({
            "ruleId": id,
            "level": "note",
            "message": { "text": format!("{}: invoked, {trigger} (verdict {})", c.address, c.verdict) },
            "locations": [{ "logicalLocations": [{ "fullyQualifiedName": c.address, "kind": "resource" }] }],
            "partialFingerprints": { "planGuardFinding/v1": format!("{}|plan|invoke", c.address) },
        }));
    }
}
