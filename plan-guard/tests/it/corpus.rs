//! Every real plan of the corpus (`tests/corpus`, sources in its SOURCES.md) (Terraform 0.12 to 1.15 and OpenTofu, format
//! versions 0.1 to 1.2) loads, builds a graph, and is judged; the judged changes are
//! exactly the plan's non-`no-op` resource changes (deferred ones included) and its action
//! invocations, counted independently here.

use iom_model::Model;
use plan_guard::decide::{CheckError, CheckOptions, check};
use plan_guard::graph::ChangeGraph;
use plan_guard::plan::read_plan;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/plans");
    assert!(
        dir.is_dir(),
        "the plan corpus must be at {} (plan-guard/tests/corpus, see its SOURCES.md)",
        dir.display()
    );
    dir
}

fn options() -> CheckOptions {
    CheckOptions {
        workspace: "default".into(),
        actor: "test".into(),
        ungoverned: iom_model::Outcome::Escalate,
        model_source: "empty".into(),
        model_revision: None,
        source_dir: None,
    }
}

/// Counts non-no-op changes (deferred ones too) and action invocations with a plain JSON
/// tree, as a second opinion.
fn expected_changes(text: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    // A no-op that moves its object is a `move`, and judged.
    let moved = |rc: &serde_json::Value| {
        rc["previous_address"]
            .as_str()
            .is_some_and(|p| rc["address"].as_str() != Some(p))
    };
    let plain = v["resource_changes"].as_array().map_or(0, |a| {
        a.iter()
            .filter(|rc| rc["change"]["actions"] != serde_json::json!(["no-op"]) || moved(rc))
            .count()
    });
    let deferred = v["deferred_changes"].as_array().map_or(0, |a| {
        a.iter()
            .filter(|d| d["resource_change"]["change"]["actions"] != serde_json::json!(["no-op"]))
            .count()
    });
    let invocations = ["action_invocations", "deferred_action_invocations"]
        .iter()
        .map(|k| v[*k].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    plain + deferred + invocations
}

#[test]
fn every_corpus_plan_loads_and_is_judged() {
    let model = Model::empty();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 150, "corpus has {} plans", files.len());
    let mut judged = 0;
    let mut errored = 0;
    for path in &files {
        let raw = read_plan(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
        let plan = raw.parse().unwrap_or_else(|e| panic!("{e}"));
        let graph = ChangeGraph::build(&plan);
        assert!(
            graph.graph.node_count() >= plan.resource_changes.len().min(1),
            "{}",
            path.display()
        );
        match check(&raw, &plan, &model, &options()) {
            Ok(report) => {
                assert_eq!(
                    report.changes.len(),
                    expected_changes(&raw.text),
                    "{}",
                    path.display()
                );
                // With an empty model every judged change is ungoverned, so escalates.
                if !report.changes.is_empty() {
                    assert_eq!(report.exit_code(), 3, "{}", path.display());
                }
                judged += report.changes.len();
            }
            Err(CheckError::Errored { .. }) => {
                assert!(plan.errored);
                errored += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(judged > 500, "judged {judged} changes");
    assert!(errored >= 1, "the corpus holds an errored plan");
}
