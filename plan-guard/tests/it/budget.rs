//! The evaluation budget (`--cel-budget`, `$PLAN_GUARD_CEL_BUDGET`) on a real plan: a
//! rule whose cost grows with the square of a planned list runs out of a small budget
//! and fails with its own outcome, naming itself, while a linear rule over the same list
//! passes; the model's load warns about the quadratic rule. No timing is asserted: the
//! budget counts list items visited, so the same plan gives the same verdict anywhere.

use std::path::{Path, PathBuf};
use std::process::Command;

const GOVERNANCE: &str = r#"
resource "iom_profile" "batch" {
  name       = "batch"
  on_unknown = "escalate"
}

resource "iom_blueprint" "lists" {
  name    = "lists"
  version = "1.0.0"

  rule {
    id      = "items-unique"
    condition = "after.input.items.all(a, after.input.items.exists_one(b, b == a))"
    outcome = "escalate"
  }

  rule {
    id        = "items-positive"
    condition = "after.input.items.all(a, a >= 0)"
    outcome   = "block"
  }
}

resource "iom_intent" "batch" {
  name       = "batch"
  profile    = iom_profile.batch.name
  blueprints = ["lists"]
}
"#;

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pg-budget-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("gov")).unwrap();
    std::fs::write(dir.join("gov/main.tf"), GOVERNANCE).unwrap();
    dir
}

/// `check` of the 200-item plan; `budget` by flag, or by environment when `env` is set.
fn check(dir: &Path, budget: Option<&str>, env: Option<&str>) -> (i32, serde_json::Value, String) {
    let plan =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/big_list/plan.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plan-guard"));
    cmd.current_dir(dir)
        .env_remove("IOM_STORE")
        .env_remove("PLAN_GUARD_CEL_BUDGET")
        .arg("check")
        .arg(plan)
        .args(["--model", "gov", "--workspace", "batch", "--actor", "ci"])
        .args(["--format", "json"]);
    if let Some(b) = budget {
        cmd.args(["--cel-budget", b]);
    }
    if let Some(b) = env {
        cmd.env("PLAN_GUARD_CEL_BUDGET", b);
    }
    let out = cmd.output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap(), json, stderr)
}

fn findings(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["changes"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("rule"), s("outcome"), s("message"))
        })
        .collect()
}

#[test]
fn a_rule_over_its_budget_fails_with_its_outcome_and_a_linear_rule_does_not() {
    let dir = scratch("small");
    // 200 + 200 × 200 items for the uniqueness rule; 200 for the linear one.
    for (flag, env) in [(Some("10000"), None), (None, Some("10000"))] {
        let (code, report, stderr) = check(&dir, flag, env);
        assert_eq!(code, 3, "{stderr}");
        let found = findings(&report);
        assert_eq!(found.len(), 1, "{found:#?}");
        let (rule, outcome, message) = &found[0];
        assert_eq!(
            (rule.as_str(), outcome.as_str()),
            ("items-unique", "escalate")
        );
        assert!(
            message.contains("more than 10000 list or map items")
                && message.contains("--cel-budget"),
            "{message}"
        );
        assert!(
            stderr.contains("warning: iom_blueprint `lists`, attribute `rule[0].condition`")
                && stderr.contains("square"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("rule[1]"),
            "the linear rule is not warned about: {stderr}"
        );
    }
}

#[test]
fn within_the_default_budget_both_rules_are_judged() {
    let dir = scratch("default");
    let (code, report, stderr) = check(&dir, None, None);
    assert_eq!(code, 0, "{stderr}");
    assert!(findings(&report).is_empty(), "{report:#}");
    // Even a budget of nothing is never "allow": the linear rule fails too.
    let (code, report, _) = check(&dir, Some("0"), None);
    assert_eq!(code, 2);
    let mut rules: Vec<String> = findings(&report).into_iter().map(|f| f.0).collect();
    rules.sort();
    assert_eq!(rules, ["items-positive", "items-unique"]);
}
