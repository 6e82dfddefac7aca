//! The judging rules (docs/judging.md), one by one, on real plans from the corpus
//! (`tests/corpus`).

use iom_model::{Model, Outcome, load_str};
use plan_guard::decide::report::Report;
use plan_guard::decide::{CheckOptions, check};
use plan_guard::plan::read_plan;
use std::path::PathBuf;

fn corpus(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/plans")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn judge_with(plan: &str, governance: &str, workspace: &str, ungoverned: Outcome) -> Report {
    let spec = load_str("gov.tf", governance).unwrap_or_else(|e| panic!("{}", e[0]));
    let model = Model::compile(spec).unwrap();
    let raw = read_plan(&corpus(plan)).unwrap();
    let parsed = raw.parse().unwrap();
    let opts = CheckOptions {
        workspace: workspace.into(),
        actor: "tester".into(),
        ungoverned,
        model_source: "gov".into(),
        model_revision: None,
        source_dir: None,
    };
    check(&raw, &parsed, &model, &opts).unwrap()
}

fn judge(plan: &str, governance: &str) -> Report {
    judge_with(plan, governance, "default", Outcome::Escalate)
}

fn findings(r: &Report, address: &str) -> Vec<(String, String, Outcome)> {
    let c = r
        .changes
        .iter()
        .find(|c| c.address == address)
        .unwrap_or_else(|| panic!("no change {address}"));
    c.findings
        .iter()
        .map(|f| (f.source.clone(), f.rule.clone(), f.outcome))
        .collect()
}

const PROFILE: &str = r#"
resource "iom_profile" "p" {
  name    = "prod-safe"
  actions = { replace = "escalate", delete = "block", update = "warn" }
}
"#;

fn with_intent(body: &str) -> String {
    format!(
        "{PROFILE}\nresource \"iom_intent\" \"i\" {{\n  name = \"app\"\n  profile = \"prod-safe\"\n{body}\n}}\n"
    )
}

#[test]
fn replace_is_its_own_class() {
    let r = judge("041_tf_requires_replace.json", &with_intent(""));
    assert_eq!(
        findings(&r, "test_instance.test"),
        vec![(
            "profile:prod-safe".into(),
            "replace".into(),
            Outcome::Escalate
        )]
    );
    assert_eq!(r.verdict, Outcome::Escalate);
    assert_eq!(r.exit_code(), 3);
    assert_eq!(r.summary.replace, 1);
    assert_eq!(r.summary.delete, 0);
}

#[test]
fn delete_blocks_and_the_plan_takes_the_highest_verdict() {
    let r = judge("025_tf_basic_delete.json", &with_intent(""));
    assert_eq!(
        findings(&r, "test_instance.test-delete"),
        vec![("profile:prod-safe".into(), "delete".into(), Outcome::Block)]
    );
    assert_eq!(
        findings(&r, "test_instance.test"),
        vec![("profile:prod-safe".into(), "update".into(), Outcome::Warn)]
    );
    assert_eq!(r.verdict, Outcome::Block);
    assert_eq!(r.exit_code(), 2);
    assert_eq!((r.summary.warn, r.summary.block), (1, 1));
}

#[test]
fn unspecified_actions_allow() {
    let r = judge("031_tf_modules.json", &with_intent(""));
    assert_eq!(r.verdict, Outcome::Allow);
    assert_eq!(r.exit_code(), 0);
    assert!(
        r.changes
            .iter()
            .all(|c| c.findings.is_empty() && c.governed_by == vec!["app".to_string()])
    );
}

#[test]
fn permitted_types_and_critical_addresses() {
    let r = judge(
        "031_tf_modules.json",
        &with_intent(
            r#"  allowed_resource_types = ["aws_*"]
  critical = ["module.module_test_foo.test_instance.test[1]"]"#,
        ),
    );
    let f = findings(&r, "module.module_test_foo.test_instance.test[1]");
    assert!(
        f.contains(&("intent:app".into(), "critical".into(), Outcome::Escalate)),
        "{f:?}"
    );
    assert!(
        f.contains(&(
            "intent:app".into(),
            "allowed_resource_types".into(),
            Outcome::Block
        )),
        "{f:?}"
    );
    assert!(
        !findings(&r, "module.module_test_foo.test_instance.test[0]")
            .iter()
            .any(|f| f.1 == "critical")
    );
}

#[test]
fn scope_by_module_prefix_and_workspace_glob() {
    let gov = with_intent(
        r#"  scope {
    workspaces = ["pay-*"]
    modules    = ["module.module_test_foo"]
  }"#,
    );
    let r = judge_with("031_tf_modules.json", &gov, "pay-prod", Outcome::Block);
    assert_eq!(
        findings(&r, "module.module_test_foo.test_instance.test[2]"),
        vec![]
    );
    assert_eq!(
        findings(&r, "module.module_test_bar.test_instance.test"),
        vec![("model".into(), "ungoverned".into(), Outcome::Block)]
    );
    // Another workspace: the intent governs nothing.
    let r = judge_with("031_tf_modules.json", &gov, "staging", Outcome::Warn);
    assert!(r.changes.iter().all(|c| c.verdict == Outcome::Warn));
    assert_eq!(r.exit_code(), 0);
    // --ungoverned allow records no finding at all.
    let r = judge_with("031_tf_modules.json", &gov, "staging", Outcome::Allow);
    assert!(r.changes.iter().all(|c| c.findings.is_empty()));
}

#[test]
fn every_matching_intent_applies() {
    let gov = format!(
        "{}\nresource \"iom_profile\" \"strict\" {{\n  name = \"strict\"\n  actions = {{ create = \"escalate\" }}\n}}\nresource \"iom_intent\" \"j\" {{\n  name = \"second\"\n  profile = \"strict\"\n}}\n",
        with_intent("")
    );
    let r = judge("031_tf_modules.json", &gov);
    let c = &r.changes[0];
    assert_eq!(c.governed_by, vec!["app", "second"]);
    assert_eq!(c.verdict, Outcome::Escalate);
}

#[test]
fn blueprint_rules_and_constraints_evaluate_cel_on_after() {
    let gov = format!(
        r#"{}
resource "iom_blueprint" "b" {{
  name    = "ami-policy"
  version = "1.2.0"
  rule {{
    id        = "ami-known"
    condition = "after.ami in ['ami-approved']"
    outcome   = "block"
    message   = "only approved images"
  }}
  rule {{
    id             = "other-types"
    resource_types = ["aws_*"]
    condition      = "false"
    outcome        = "block"
  }}
}}
"#,
        with_intent(
            r#"  blueprints = ["ami-policy"]
  constraint {
    id        = "named"
    condition = "address.startsWith('test_instance.')"
    outcome   = "warn"
  }"#
        )
    );
    let r = judge("042_tf_sensitive_values.json", &gov);
    assert_eq!(
        findings(&r, "test_instance.test"),
        vec![(
            "blueprint:ami-policy@1.2.0".into(),
            "ami-known".into(),
            Outcome::Block
        )]
    );
    let c = &r.changes[0];
    assert_eq!(c.findings[0].message, "only approved images");
}

#[test]
fn conditions_reading_unknown_values_follow_on_unknown() {
    let gov = r#"
resource "iom_profile" "p" {
  name       = "p"
  on_unknown = "warn"
}
resource "iom_intent" "i" {
  name    = "i"
  profile = "p"
  constraint {
    id        = "id-shape"
    condition = "after.id.startsWith('i-')"
    outcome   = "block"
  }
  constraint {
    id        = "ami-known"
    condition = "has(after.ami)"
    outcome   = "block"
  }
}
"#;
    let r = judge("042_tf_sensitive_values.json", gov);
    let c = &r.changes[0];
    assert_eq!(c.findings.len(), 1, "{:?}", c.findings);
    assert_eq!(c.findings[0].source, "profile:p");
    assert_eq!(c.findings[0].rule, "on_unknown");
    assert_eq!(c.findings[0].outcome, Outcome::Warn);
    assert!(
        c.findings[0].message.contains("after.id"),
        "{}",
        c.findings[0].message
    );
}

#[test]
fn sensitive_values_never_reach_messages() {
    // `ami` is sensitive in this plan and its value is "boop"; a condition that fails on
    // it, and one that cannot be evaluated on it, must not quote it.
    let gov = r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_intent" "i" {
  name    = "i"
  profile = "p"
  constraint {
    id        = "compare"
    condition = "after.ami > 3"
    outcome   = "block"
  }
  constraint {
    id        = "index"
    condition = "after[after.ami] == 1"
    outcome   = "block"
  }
}
"#;
    let r = judge("042_tf_sensitive_values.json", gov);
    let json = plan_guard::render::render_json(&r);
    let text = plan_guard::render::render_text(&r, false);
    assert_eq!(r.changes[0].findings.len(), 2, "{json}");
    for out in [json, text] {
        assert!(!out.contains("boop"), "sensitive value leaked:\n{out}");
    }
}

#[test]
fn thresholds_escalate() {
    let gov = r#"
resource "iom_profile" "p" {
  name             = "p"
  max_changes      = 3
  max_blast_radius = 2
}
resource "iom_intent" "i" {
  name    = "i"
  profile = "p"
}
"#;
    let r = judge("031_tf_modules.json", gov);
    assert_eq!(r.changes.len(), 4);
    assert!(r.changes.iter().all(|c| {
        c.findings
            .iter()
            .any(|f| f.rule == "max_changes" && f.outcome == Outcome::Escalate)
    }));
    let r = judge("004_tfjson_110_sensitive_values.json", gov);
    let foo = r
        .changes
        .iter()
        .find(|c| c.address == "null_resource.foo")
        .unwrap();
    assert_eq!(foo.blast_radius.transitive, 4, "{:?}", foo.blast_radius);
    assert!(
        foo.findings.iter().any(|f| f.rule == "max_blast_radius"),
        "{:?}",
        foo.findings
    );
}

#[test]
fn errored_and_broken_plans_fail_closed() {
    let raw = read_plan(&corpus("060_tofu_plan_error.json")).unwrap();
    let parsed = raw.parse().unwrap();
    let opts = CheckOptions {
        workspace: "w".into(),
        actor: "a".into(),
        ungoverned: Outcome::Allow,
        model_source: "m".into(),
        model_revision: None,
        source_dir: None,
    };
    let e = check(&raw, &parsed, &Model::empty(), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("060_tofu_plan_error.json") && e.contains("errored"),
        "{e}"
    );

    let dir = std::env::temp_dir().join(format!("pg-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let full = std::fs::read_to_string(corpus("031_tf_modules.json")).unwrap();
    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let e = read_plan(truncated.to_str().unwrap())
        .unwrap()
        .parse()
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{}:", truncated.display())) && e.contains("invalid plan JSON"),
        "{e}"
    );
    let not_plan = dir.join("state.json");
    std::fs::write(&not_plan, r#"{"format_version":"1.0","values":{}}"#).unwrap();
    let e = read_plan(not_plan.to_str().unwrap())
        .unwrap()
        .parse()
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a Terraform plan"), "{e}");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [ oops ]\n}",
    )
    .unwrap();
    let e = read_plan(bad.to_str().unwrap())
        .unwrap()
        .parse()
        .unwrap_err()
        .to_string();
    assert!(e.starts_with(&format!("{}:3:", bad.display())), "{e}");

    // A change with an empty action list is an error, not a no-op the report would drop.
    let mut doc: serde_json::Value = serde_json::from_str(&full).unwrap();
    let first = doc["resource_changes"][0]["address"]
        .as_str()
        .unwrap()
        .to_string();
    doc["resource_changes"][0]["change"]["actions"] = serde_json::json!([]);
    let empty = dir.join("empty-actions.json");
    std::fs::write(&empty, doc.to_string()).unwrap();
    let raw = read_plan(empty.to_str().unwrap()).unwrap();
    let e = check(&raw, &raw.parse().unwrap(), &Model::empty(), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("empty-actions.json") && e.contains(&first) && e.contains("[]"),
        "{e}"
    );

    // A format this reader does not know is refused rather than read on trust.
    doc["format_version"] = "2.0".into();
    let future = dir.join("format-2.json");
    std::fs::write(&future, doc.to_string()).unwrap();
    let e = read_plan(future.to_str().unwrap())
        .unwrap()
        .parse()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("format-2.json") && e.contains("\"2.0\" is not supported"),
        "{e}"
    );
}

#[test]
fn json_report_is_deterministic() {
    let gov = with_intent("");
    let a = plan_guard::render::render_json(&judge("025_tf_basic_delete.json", &gov));
    let b = plan_guard::render::render_json(&judge("025_tf_basic_delete.json", &gov));
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("\"decision_id\"") && !l.contains("\"generated_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_ne!(a, b, "decision ids differ");
    assert_eq!(strip(&a), strip(&b));
}
