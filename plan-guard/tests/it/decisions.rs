//! The judging rules on real plans from the corpus (`tests/corpus`) where a case needs
//! Rust: rendered reports, broken plans, repeated runs. The rules themselves, plan and
//! governance in and verdicts and findings out, are data in
//! `tests/corpus/judging.iomtest.hcl`, run by `decision_cases`.

use crate::support::check_file;
use iom_model::{Model, Outcome, load_str};
use plan_guard::decide::report::Report;
use plan_guard::decide::{CheckOptions, check};
use plan_guard::plan::read_plan;
use std::path::{Path, PathBuf};

fn corpus(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/plans")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn judge(plan: &str, governance: &str) -> Report {
    let spec = load_str("gov.tf", governance).unwrap_or_else(|e| panic!("{}", e[0]));
    let model = Model::compile(spec).unwrap();
    let opts = CheckOptions {
        workspace: "default".into(),
        actor: "tester".into(),
        ungoverned: Outcome::Escalate,
        model_source: "gov".into(),
        model_revision: None,
        source_dir: None,
    };
    check_file(Path::new(&corpus(plan)), &model, &opts)
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
