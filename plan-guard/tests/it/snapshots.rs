//! Snapshots of everything a person reads, on plans written by the real Terraform from
//! the example workspace, judged against the example governance. Run-specific values
//! (decision id, time, the plan's path) are masked.

use crate::support::{check_file, fixture_plan};
use iom_model::{Model, Outcome, load_dir};
use plan_guard::decide::CheckOptions;
use plan_guard::render::{render_json, render_text};
use std::path::PathBuf;

fn report(name: &str) -> plan_guard::decide::report::Report {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model = Model::compile(load_dir(&root.join("../examples/governance")).unwrap()).unwrap();
    let opts = CheckOptions {
        workspace: "payments-prod".into(),
        actor: "snapshot".into(),
        ungoverned: Outcome::Escalate,
        model_source: "examples/governance".into(),
        model_revision: None,
        source_dir: Some(root.join("../examples/workspace")),
    };
    let mut r = check_file(&fixture_plan(name), &model, &opts);
    r.decision_id = "[decision-id]".into();
    r.generated_at = "[time]".into();
    r.plan.source = name.into();
    r
}

#[test]
fn text_reports() {
    for name in [
        "example_allow.json",
        "example_escalate.json",
        "example_block.json",
    ] {
        let text = render_text(&report(name), false);
        assert!(!text.contains("demo-secret-canary-7f3a"));
        insta::assert_snapshot!(format!("text_{name}"), text);
    }
}

#[test]
fn json_reports() {
    for name in ["example_escalate.json", "example_block.json"] {
        let json = render_json(&report(name));
        assert!(!json.contains("demo-secret-canary-7f3a"));
        insta::assert_snapshot!(format!("json_{name}"), json);
    }
}

#[test]
fn markdown_reports() {
    for name in [
        "example_allow.json",
        "example_escalate.json",
        "example_block.json",
    ] {
        let md = plan_guard::render::render_markdown(&report(name));
        assert!(!md.contains("demo-secret-canary-7f3a"));
        insta::assert_snapshot!(format!("markdown_{name}"), md);
    }
}

#[test]
fn junit_sarif_and_html_reports() {
    for name in ["example_escalate.json", "example_block.json"] {
        let r = report(name);
        let junit = plan_guard::render::render_junit(&r, plan_guard::render::Escalations::Failure);
        let sarif = plan_guard::render::render_sarif(&r, None);
        let html = plan_guard::render::render_html(&r);
        for out in [&junit, &sarif, &html] {
            assert!(!out.contains("demo-secret-canary-7f3a"));
        }
        insta::assert_snapshot!(format!("junit_{name}"), junit);
        insta::assert_snapshot!(format!("sarif_{name}"), sarif);
        insta::assert_snapshot!(format!("html_{name}"), html);
    }
}

/// What `plan-guard approve` shows, from the check record the ledger would hold.
#[test]
fn approval_surfaces() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model = Model::compile(load_dir(&root.join("../examples/governance")).unwrap()).unwrap();
    for name in ["example_escalate.json", "example_block.json"] {
        let r = report(name);
        let mut record = plan_guard::evidence::check_record(&r, &model, Outcome::Escalate);
        record.model.directory = None;
        let record = serde_json::to_value(&record).unwrap();
        let text = plan_guard::render::render_approval_surface(&r.decision_id, &record);
        assert!(!text.contains("demo-secret-canary-7f3a"));
        insta::assert_snapshot!(format!("approval_{name}"), text);
    }
}
