//! The living model (DESIGN section 10): `observe` records what a workspace has built,
//! `reconcile` compares intended (the model), built (the last observation) and actual (a
//! refresh-only plan's `resource_drift`), and unreconciled drift on governed resources
//! turns the next checks of the workspace into the profiles' `on_drift` outcome.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Result, anyhow};
use iom_model::{CompiledIntent, Model, Outcome};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::plan::Plan;
use crate::report::{Finding, Report};

/// Where an observed document comes from: a state (`terraform show -json` of the state,
/// or a state file's `show -json` rendering) or a plan, whose `prior_state` is what was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObservedFrom {
    State,
    Plan,
}

/// The body of an observation from a `terraform show -json` document (a state, or for
/// [`ObservedFrom::Plan`] a plan's `prior_state`). Attribute values are only digested, so
/// a sensitive value is never stored.
///
/// A document that holds no state is refused, naming `source`: `{}`, the
/// `{"format_version":"1.0"}` Terraform prints in a directory with no state, or a plan
/// given as a state. Recording one would replace what the workspace has built with
/// nothing, and a new observation settles the workspace's drift. An empty but real state
/// (`values.root_module` present, no resources) is a legitimate observation.
///
/// `location` is the workspace's directory when known (observe run there): remote-state
/// reads with a local `path` are resolved against it, and other workspaces find this one
/// by its state file there.
pub fn observation_body(
    doc: &str,
    source: &str,
    from: ObservedFrom,
    location: Option<&Path>,
) -> Result<Value> {
    let doc: Value = serde_json::from_str(doc)
        .map_err(|e| anyhow!("{source}: not a `terraform show -json` document: {e}"))?;
    if !doc.is_object() {
        return Err(anyhow!(
            "{source}: not a `terraform show -json` document (not a JSON object)"
        ));
    }
    let is_plan = doc.get("prior_state").is_some()
        || doc.get("planned_values").is_some()
        || doc.get("resource_changes").is_some();
    let state = match from {
        ObservedFrom::State if is_plan => {
            return Err(anyhow!(
                "{source}: this is a plan, not a state: observe it with --from-plan, or give the state (`terraform show -json` with no plan file)"
            ));
        }
        ObservedFrom::State => doc,
        ObservedFrom::Plan if !is_plan => {
            return Err(anyhow!(
                "{source}: not a plan (it has none of `prior_state`, `planned_values`, `resource_changes`)"
            ));
        }
        ObservedFrom::Plan => match doc.get("prior_state") {
            Some(prior) => prior.clone(),
            None => {
                return Err(anyhow!(
                    "{source}: the plan has no `prior_state`: nothing is built yet, so there is nothing to observe"
                ));
            }
        },
    };
    let values = &state["values"];
    if !values["root_module"].is_object() {
        return Err(anyhow!(
            "{source}: holds no state (no `values.root_module`): is the workspace initialised and applied, and is this its `terraform show -json`? Nothing was recorded"
        ));
    }
    let mut resources = Vec::new();
    collect(&values["root_module"], &mut resources);
    let outputs: Vec<&String> = values["outputs"]
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    let reads = remote_state_reads(&values["root_module"], &resources, location);
    Ok(json!({
        "terraform_version": state["terraform_version"],
        "resources": resources,
        "outputs": outputs,
        "state_file": location.map(|l| l.join("terraform.tfstate").display().to_string()),
        "reads": reads,
    }))
}

/// The `terraform_remote_state` data sources of the root module: the state file each
/// reads (local backend) and the resources that depend on it.
fn remote_state_reads(root: &Value, resources: &[Value], location: Option<&Path>) -> Vec<Value> {
    let mut out = Vec::new();
    for r in root["resources"].as_array().into_iter().flatten() {
        if r["type"] != "terraform_remote_state" {
            continue;
        }
        let address = r["address"].as_str().unwrap_or("");
        let path = r["values"]["config"]["path"]
            .as_str()
            .map(|p| match location {
                Some(base) => crate::sources::normalize(&base.join(p))
                    .display()
                    .to_string(),
                None => p.to_string(),
            });
        let dependents: Vec<&Value> = resources
            .iter()
            .filter(|x| {
                x["depends_on"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|d| d == address)
            })
            .map(|x| &x["address"])
            .collect();
        out.push(json!({ "data": address, "path": path, "dependents": dependents }));
    }
    out
}

/// Adds, to each change that produces a root output, the resources of other observed
/// workspaces that read this workspace's state (prefixed `W:`), and escalates where the
/// larger blast radius now exceeds a profile's `max_blast_radius`.
pub fn add_cross_workspace(
    report: &mut Report,
    plan: &Plan<'_>,
    model: &Model,
    this: Option<&Value>,
    others: &[(String, Value)],
) {
    let Some(state_file) = this.and_then(|o| o["state_file"].as_str()) else {
        return;
    };
    let readers: Vec<String> = others
        .iter()
        .flat_map(|(w, o)| {
            o["reads"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["path"].as_str() == Some(state_file))
                .flat_map(|r| r["dependents"].as_array().into_iter().flatten())
                .filter_map(move |d| d.as_str().map(|d| format!("{w}:{d}")))
        })
        .collect();
    if readers.is_empty() {
        return;
    }
    let producers: Vec<String> = plan
        .configuration
        .as_ref()
        .map(|c| {
            c.root_module
                .outputs
                .values()
                .filter_map(|o| o.expression.as_ref())
                .flat_map(|e| e.references.iter().cloned())
                .collect()
        })
        .unwrap_or_default();
    for change in &mut report.changes {
        let produces = producers.iter().any(|p| {
            change.address == *p
                || change.address.starts_with(&format!("{p}["))
                || p.starts_with(&format!("{}.", change.address))
        });
        if !produces {
            continue;
        }
        let b = &mut change.blast_radius;
        b.addresses.extend(readers.iter().cloned());
        b.addresses.sort();
        b.addresses.dedup();
        b.transitive = b.addresses.len();
        let has = change.findings.iter().any(|f| f.rule == "max_blast_radius");
        for intent in model
            .intents
            .iter()
            .filter(|i| change.governed_by.contains(&i.name))
        {
            let Some(profile) = model.profiles.get(&intent.profile) else {
                continue;
            };
            if let Some(max) = profile.max_blast_radius
                && b.transitive as u64 > max
                && !has
            {
                change.findings.push(Finding {
                    message: format!(
                        "blast radius {} (across workspaces) exceeds max_blast_radius {max} of profile {}",
                        b.transitive, profile.name
                    ),
                    outcome: Outcome::Escalate,
                    rule: "max_blast_radius".into(),
                    source: format!("profile:{}", profile.name),
                    waived_by: None,
                });
                change.verdict = change.verdict.max(Outcome::Escalate);
            }
        }
    }
    report.recount();
}

fn collect(module: &Value, out: &mut Vec<Value>) {
    for r in module["resources"].as_array().into_iter().flatten() {
        let digest = Sha256::digest(r["values"].to_string().as_bytes());
        out.push(json!({
            "address": r["address"],
            "type": r["type"],
            "module": module["address"].as_str().unwrap_or(""),
            "depends_on": r["depends_on"],
            "digest": crate::plan::hex_digest(&digest),
        }));
    }
    for child in module["child_modules"].as_array().into_iter().flatten() {
        collect(child, out);
    }
}

/// What `reconcile` found.
#[derive(Debug, Default, serde::Serialize)]
pub struct Reconciliation {
    pub workspace: String,
    /// Governed resources that changed outside Terraform.
    pub drifted: Vec<String>,
    /// Drifted resources no intent governs.
    pub drifted_ungoverned: Vec<String>,
    /// Built resources (last observation) no intent governs.
    pub ungoverned: Vec<String>,
    /// Elements whose `matches` find nothing built.
    pub unmatched_elements: Vec<String>,
    /// Why the last observation cannot be trusted, when it cannot.
    pub stale: Option<String>,
}

pub fn reconcile(
    workspace: &str,
    model: &Model,
    refresh: &Plan<'_>,
    built: Option<&Value>,
) -> Reconciliation {
    let intents: Vec<&CompiledIntent> = model
        .intents
        .iter()
        .filter(|i| i.governs_workspace(workspace))
        .collect();
    let governed = |a: &str| intents.iter().any(|i| i.governs_address(a));
    let mut r = Reconciliation {
        workspace: workspace.into(),
        ..Reconciliation::default()
    };
    for d in &refresh.resource_drift {
        if governed(&d.address) {
            r.drifted.push(d.address.clone());
        } else {
            r.drifted_ungoverned.push(d.address.clone());
        }
    }
    let addresses: BTreeSet<String> = built
        .and_then(|b| b["resources"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|x| x["address"].as_str().map(String::from))
        .collect();
    r.ungoverned = addresses.iter().filter(|a| !governed(a)).cloned().collect();
    r.unmatched_elements = model
        .elements
        .iter()
        .filter(|e| !addresses.iter().any(|a| e.matches.is_match(a)))
        .map(|e| e.name.clone())
        .collect();
    r.stale = match built {
        None => Some(format!(
            "workspace {workspace} has never been observed: run plan-guard observe"
        )),
        Some(_) if !r.drifted.is_empty() || !r.drifted_ungoverned.is_empty() => {
            Some("what is built differs from the last observation (drift)".into())
        }
        Some(_) => None,
    };
    r.drifted.sort();
    r.drifted_ungoverned.sort();
    r
}

/// Adds the `model / drift` finding to every governed change while `drifted` (unreconciled
/// drift of the workspace) is recorded, and recomputes the verdicts.
pub fn add_drift_findings(report: &mut Report, model: &Model, drifted: &[String]) {
    if drifted.is_empty() {
        return;
    }
    let shown: Vec<&str> = drifted.iter().take(5).map(String::as_str).collect();
    let message = format!(
        "workspace {} has unreconciled drift on {} governed resource(s) ({}{}): run plan-guard reconcile",
        report.workspace,
        drifted.len(),
        shown.join(", "),
        if drifted.len() > shown.len() {
            ", …"
        } else {
            ""
        }
    );
    for change in &mut report.changes {
        let outcome = model
            .intents
            .iter()
            .filter(|i| change.governed_by.contains(&i.name))
            .filter_map(|i| model.profiles.get(&i.profile))
            .map(|p| p.on_drift)
            .max();
        let Some(outcome) = outcome else { continue };
        change.findings.push(Finding {
            message: message.clone(),
            outcome,
            rule: "drift".into(),
            source: "model".into(),
            waived_by: None,
        });
        change.findings.sort_by(|a, b| {
            (&a.source, &a.rule, &a.message).cmp(&(&b.source, &b.rule, &b.message))
        });
        change.verdict = change.verdict.max(outcome);
    }
    report.recount();
}
