//! Shared by the `fixture_*` tests: the plans under `tests/fixtures/plans/<name>/`,
//! written by the real Terraform through `scripts/gen-fixtures.sh`.

#![allow(dead_code)] // helpers for the fixture modules; not every one uses each

use iom_model::{Model, Outcome, load_str};
use plan_guard::decide::report::{ChangeReport, Report};
use plan_guard::decide::{CheckOptions, check};
use plan_guard::plan::{RawPlan, read_plan};
use std::path::PathBuf;

/// Every generated fixture directory.
pub const FIXTURES: [&str; 24] = [
    "checks",
    "create",
    "data_source",
    "delete",
    "depends_on",
    "deposed",
    "destroy",
    "errored",
    "forget",
    "import",
    "mixed",
    "module_refs",
    "moved",
    "nested_modules",
    "noop",
    "refresh_only",
    "replace",
    "replace_cbd",
    "replace_reasons",
    "sensitive",
    "sensitive_update",
    "tf103_modules",
    "unknown",
    "update",
];

/// The canary of the `sensitive` and `tf103_modules` configurations.
pub const CANARY: &str = "CANARY-SENSITIVE-41c9";
/// The `sensitive_update` marker (with `-previous` before apply, `-current` in the plan).
pub const ECHOED: &str = "ECHOED-SECRET-7c1e";

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans")
}

pub fn plan_path(name: &str) -> String {
    fixtures_dir()
        .join(name)
        .join("plan.json")
        .to_string_lossy()
        .into_owned()
}

pub fn load(name: &str) -> RawPlan {
    read_plan(&plan_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn model(governance: &str) -> Model {
    let spec = load_str("gov.tf", governance).unwrap_or_else(|e| panic!("{}", e[0]));
    Model::compile(spec).unwrap_or_else(|e| panic!("{e:?}"))
}

pub fn options(workspace: &str, ungoverned: Outcome) -> CheckOptions {
    CheckOptions {
        workspace: workspace.into(),
        actor: "tester".into(),
        ungoverned,
        model_source: "gov".into(),
        model_revision: None,
        source_dir: None,
    }
}

/// Judges fixture `name` against `model` in `workspace`.
pub fn judge_model(name: &str, model: &Model, workspace: &str, ungoverned: Outcome) -> Report {
    let raw = load(name);
    let plan = raw.parse().unwrap_or_else(|e| panic!("{e}"));
    check(&raw, &plan, model, &options(workspace, ungoverned)).unwrap_or_else(|e| panic!("{e}"))
}

pub fn judge(name: &str, governance: &str) -> Report {
    judge_model(name, &model(governance), "default", Outcome::Escalate)
}

pub fn change<'r>(r: &'r Report, address: &str) -> &'r ChangeReport {
    r.changes
        .iter()
        .find(|c| c.address == address && c.deposed.is_none())
        .unwrap_or_else(|| {
            panic!(
                "no change {address}; the report has {:?}",
                r.changes.iter().map(|c| &c.address).collect::<Vec<_>>()
            )
        })
}

/// (source, rule, outcome) of every finding of a change, in report order.
pub fn findings(r: &Report, address: &str) -> Vec<(String, String, Outcome)> {
    change(r, address)
        .findings
        .iter()
        .map(|f| (f.source.clone(), f.rule.clone(), f.outcome))
        .collect()
}

pub fn finding(source: &str, rule: &str, outcome: Outcome) -> (String, String, Outcome) {
    (source.into(), rule.into(), outcome)
}

/// `[(a, b)]` as owned pairs, sorted, for comparing edge lists.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

pub fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
