//! The judging rules (docs/judging.md) on the plans the real Terraform wrote
//! (tests/fixtures/plans) where a case needs Rust: sensitive values through every output
//! and the binary, moves as rendered, a model edited after loading. The rules as plan and
//! governance in, verdicts and findings out, are data in `tests/fixtures/judging.iomtest.hcl`,
//! run by `decision_cases`.

use crate::fixture_util::*;
use iom_model::{ActionClass, Model, Outcome};
use plan_guard::render::{render_json, render_text};

use Outcome::*;

/// A profile `p` and an intent `i` governing with it; `profile` and `intent` are extra
/// attributes and blocks.
fn gov(profile: &str, intent: &str) -> String {
    format!(
        "resource \"iom_profile\" \"p\" {{\n  name = \"p\"\n{profile}\n}}\n\
         resource \"iom_intent\" \"i\" {{\n  name    = \"i\"\n  profile = \"p\"\n{intent}\n}}\n"
    )
}

/// Conditions built to fail or break on sensitive values, each a different path to an
/// error text that could quote a value.
const SENSITIVE_RULES: &str = r#"
  constraint {
    id             = "equal"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.password) || after.input.password == 'nope'"
    outcome        = "warn"
  }
  constraint {
    id             = "compare"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.password) || after.input.password > 3"
    outcome        = "warn"
  }
  constraint {
    id             = "key"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.password) || {'a': 1}[after.input.password] == 1"
    outcome        = "warn"
  }
  constraint {
    id             = "convert"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.password) || int(after.input.password) > 0"
    outcome        = "warn"
  }
  constraint {
    id             = "regex"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.dsn) || 'x'.matches(after.input.dsn + '[')"
    outcome        = "warn"
  }
  constraint {
    id             = "whole"
    resource_types = ["terraform_data"]
    condition      = "type(after.input) != string || int(after.input) > 0"
    outcome        = "warn"
  }
  constraint {
    id             = "unsigned"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.api_key) || uint(after.input.api_key) > 0u"
    outcome        = "warn"
  }
  constraint {
    id             = "module"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.value) || after.input.value + 1 == 2"
    outcome        = "warn"
  }
  constraint {
    id             = "echo"
    resource_types = ["terraform_data"]
    condition      = "before == null || !has(before.output) || type(before.output) != map || !has(before.output.password) || {'a': 1}[before.output.password] == 1"
    outcome        = "warn"
  }
  constraint {
    id             = "echo-convert"
    resource_types = ["terraform_data"]
    condition      = "before == null || !has(before.output) || type(before.output) != map || !has(before.output.password) || int(before.output.password) == 1"
    outcome        = "warn"
  }
  constraint {
    id             = "token"
    resource_types = ["null_resource"]
    condition      = "!has(after.triggers) || !has(after.triggers.token) || {'a': 1}[after.triggers.token] == 1"
    outcome        = "warn"
  }
  constraint {
    id             = "token-convert"
    resource_types = ["null_resource"]
    condition      = "!has(after.triggers) || !has(after.triggers.token) || double(after.triggers.token) > 0.0"
    outcome        = "warn"
  }"#;

#[test]
fn sensitive_values_appear_in_no_report_and_no_condition_error() {
    let model = gov(r#"  on_unknown = "warn""#, SENSITIVE_RULES);
    for (name, marker, failing) in [
        ("sensitive", CANARY, 15),
        ("sensitive_update", ECHOED, 17),
        ("tf103_modules", CANARY, 6),
    ] {
        assert!(
            load(name).text.contains(marker),
            "{name}: the plan carries {marker}, so the test means something"
        );
        let r = judge(name, &model);
        let failed: usize = r.changes.iter().map(|c| c.findings.len()).sum();
        let list: Vec<(String, String, String)> = r
            .changes
            .iter()
            .flat_map(|c| {
                c.findings
                    .iter()
                    .map(|f| (c.address.clone(), f.rule.clone(), f.message.clone()))
            })
            .collect();
        assert_eq!(failed, failing, "{name}: {list:#?}");
        // Every change that carries the marker has a condition that broke on it.
        let plan: serde_json::Value = serde_json::from_str(&load(name).text).unwrap();
        for rc in plan["resource_changes"].as_array().unwrap() {
            let values = format!("{}{}", rc["change"]["after"], rc["change"]["before"]);
            let action = &rc["change"]["actions"][0];
            if !values.contains(marker) || action == "delete" || action == "no-op" {
                continue;
            }
            let c = change(&r, rc["address"].as_str().unwrap());
            assert!(
                c.findings
                    .iter()
                    .any(|f| f.message.contains("could not be evaluated")),
                "{name} {}: {:?}",
                c.address,
                c.findings
            );
        }
        for out in [
            render_json(&r),
            render_text(&r, false),
            render_text(&r, true),
        ] {
            assert!(!out.contains(marker), "{name}: {marker} leaked:\n{out}");
        }
    }
}

#[test]
fn sensitive_values_appear_nowhere_in_the_binarys_output() {
    let dir = std::env::temp_dir().join(format!("pg-fx-sensitive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("gov.tf"),
        gov(r#"  on_unknown = "warn""#, SENSITIVE_RULES),
    )
    .unwrap();
    // Every check records its decision: in a store of the test's own, never the source
    // tree's `.iom/` (the working directory) or a store `$IOM_STORE` names.
    let store = dir.join("model.db");
    let store_url = format!("sqlite://{}", store.display());
    let mut checks = 0;
    for name in ["sensitive", "sensitive_update", "tf103_modules"] {
        for format in ["text", "json"] {
            checks += 1;
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_plan-guard"))
                .args(["check", &plan_path(name), "--format", format])
                .args(["--model", dir.to_str().unwrap(), "--workspace", "w"])
                .args(["--store", &store_url, "--init-store"])
                .env_remove("IOM_STORE")
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            // Failed constraints warn: exit 0, with the findings in the report.
            assert_eq!(out.status.code(), Some(0), "{name} {format}: {stderr}");
            assert!(stdout.contains("could not be evaluated"), "{stdout}");
            for marker in [CANARY, ECHOED] {
                assert!(
                    !stdout.contains(marker) && !stderr.contains(marker),
                    "{name} {format}: {marker} leaked:\n{stdout}{stderr}"
                );
            }
        }
    }
    let records = std::process::Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .args(["evidence", "list", "--store", &store_url])
        .env_remove("IOM_STORE")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&records.stdout);
    assert_eq!(listed.lines().count(), checks, "{listed}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_module_of_a_change_is_in_the_report() {
    // The module scopes themselves are cases in tests/fixtures/judging.iomtest.hcl.
    let r = judge_model("nested_modules", &model(&gov("", "")), "default", Allow);
    let c = change(
        &r,
        r#"module.region["eu-west-1"].module.cluster[1].module.node["blue"].terraform_data.vm[0]"#,
    );
    assert_eq!(
        c.module,
        r#"module.region["eu-west-1"].module.cluster[1].module.node["blue"]"#
    );
}

/// module.db is strict (deleting blocks, its object is critical); module.scratch and
/// module.app are lax. `lax_profile` adds attributes to the lax profile.
fn moves_gov(lax_profile: &str) -> Model {
    model(&format!(
        r#"resource "iom_profile" "strict" {{
  name    = "strict"
  actions = {{ delete = "block" }}
}}
resource "iom_profile" "lax" {{
  name = "lax"
{lax_profile}
}}
resource "iom_intent" "db" {{
  name     = "db"
  profile  = "strict"
  critical = ["module.db.terraform_data.main"]
  scope {{
    modules = ["module.db"]
  }}
}}
resource "iom_intent" "rest" {{
  name    = "rest"
  profile = "lax"
  scope {{
    modules = ["module.scratch", "module.app"]
  }}
}}
"#
    ))
}

#[test]
fn a_moved_object_is_judged_at_both_of_its_addresses() {
    // Terraform moves module.db's object to the undeclared module.scratch and destroys it
    // there, under the lax intent. Deleting it at module.db blocks; so does this.
    let r = judge_model("moved_across_modules", &moves_gov(""), "default", Allow);
    let gone = change(&r, "module.scratch.terraform_data.main");
    assert_eq!(
        (gone.action, gone.verdict),
        (ActionClass::Delete, Block),
        "{:?}",
        gone.findings
    );
    assert_eq!(
        gone.previous_address.as_deref(),
        Some("module.db.terraform_data.main")
    );
    assert_eq!(gone.governed_by, ["db", "rest"]);
    assert_eq!(
        findings(&r, "module.scratch.terraform_data.main"),
        vec![
            finding("intent:db", "critical", Escalate),
            finding("profile:strict", "delete", Block),
        ]
    );
    assert!(
        gone.findings[0]
            .message
            .starts_with("module.db.terraform_data.main is critical to intent db"),
        "{}",
        gone.findings[0].message
    );
    // reader's state still records the dependency under the old address: it counts.
    assert_eq!(gone.blast_radius.addresses, ["terraform_data.reader"]);
    assert_eq!(r.exit_code(), 2);
    let text = render_text(&r, false);
    assert!(
        text.contains(
            "BLOCK    module.scratch.terraform_data.main  delete (moved from module.db.terraform_data.main)"
        ),
        "{text}"
    );
}

#[test]
fn a_pure_move_is_its_own_class_that_profiles_map() {
    // terraform_data.cfg moved into module.app, nothing else changed: a `move`, allowed
    // unless a profile says otherwise.
    let r = judge_model("moved_across_modules", &moves_gov(""), "default", Allow);
    let cfg = change(&r, "module.app.terraform_data.cfg");
    assert_eq!((cfg.action, cfg.verdict), (ActionClass::Move, Allow));
    assert_eq!(cfg.actions, ["no-op"]);
    assert_eq!(r.summary.moved, 1);
    let r = judge_model(
        "moved_across_modules",
        &moves_gov(r#"  actions = { move = "warn" }"#),
        "default",
        Allow,
    );
    assert_eq!(
        findings(&r, "module.app.terraform_data.cfg"),
        vec![finding("profile:lax", "move", Warn)]
    );
    // It left the root module, which no intent governs: the ungoverned outcome applies
    // there, naming the address it left.
    let r = judge_model("moved_across_modules", &moves_gov(""), "default", Escalate);
    let cfg = change(&r, "module.app.terraform_data.cfg");
    assert_eq!(cfg.verdict, Escalate);
    assert_eq!(
        cfg.findings[0].message,
        "no intent governs terraform_data.cfg in workspace default"
    );
    let json: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
    assert_eq!(json["summary"]["move"], 1);
    let cfg = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "module.app.terraform_data.cfg")
        .unwrap();
    assert_eq!(cfg["action"], "move");
    assert_eq!(cfg["previous_address"], "terraform_data.cfg");
}

#[test]
fn a_keyless_module_step_in_critical_and_element_globs_covers_every_instance() {
    // The example governance on the example workspace with `count = 1` on module
    // "payments": its critical ledger database is module.payments[0]...ledger_db[0].
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut spec =
        iom_model::load_dir(&root.join("examples/governance")).unwrap_or_else(|e| panic!("{e:?}"));
    // The payments contract judges the call's inputs, which need the workspace's source;
    // this test is about the intent's globs.
    spec.contracts.clear();
    let example = Model::compile(spec).unwrap_or_else(|e| panic!("{e:?}"));
    let r = judge_model("example_module_count", &example, "payments-prod", Escalate);
    let ledger = "module.payments[0].terraform_data.ledger_db[0]";
    assert_eq!(
        findings(&r, ledger),
        vec![finding("intent:payments-prod", "critical", Escalate)]
    );
    assert_eq!(r.verdict, Escalate);
    assert_eq!(r.exit_code(), 3);
    // Element `matches` read the keyless call the same way.
    let elements = model(
        r#"resource "iom_profile" "p" {
  name = "p"
}
resource "iom_intent" "i" {
  name    = "i"
  profile = "p"
}
resource "iom_element" "ledger" {
  name    = "ledger"
  kind    = "data"
  matches = ["module.payments.terraform_data.ledger_db*"]
}
resource "iom_element" "reports" {
  name                = "reports"
  kind                = "service"
  matches             = ["terraform_data.dns"]
  depends_on_elements = ["ledger"]
}
"#,
    );
    let r = judge_model("example_module_count", &elements, "payments-prod", Escalate);
    assert_eq!(
        change(&r, ledger).blast_radius.addresses,
        ["element:reports"]
    );
}
