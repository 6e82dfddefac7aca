//! Waivers on a real plan: a live waiver turns the finding it covers into a named allow;
//! an expired one no longer applies and the check says so.

use crate::support::{check_file, fixture_plan};
use std::path::PathBuf;

use iom_model::{Model, Outcome, load_dir, load_str};
use plan_guard::decide::CheckOptions;
use plan_guard::decide::report::Report;
use plan_guard::render::render_text;

const LEDGER: &str = "module.payments.terraform_data.ledger_db[0]";

fn judge(waiver: &str, workspace: &str) -> Report {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut spec = load_dir(&root.join("../examples/governance")).unwrap();
    let extra = load_str("waiver.tf", waiver).unwrap_or_else(|e| panic!("{}", e[0]));
    spec.waivers = extra.waivers;
    let model = Model::compile(spec).unwrap();
    let opts = CheckOptions {
        workspace: workspace.into(),
        actor: "ci".into(),
        ungoverned: Outcome::Escalate,
        model_source: "examples/governance".into(),
        model_revision: None,
        source_dir: Some(root.join("../examples/workspace")),
    };
    check_file(&fixture_plan("example_escalate.json"), &model, &opts)
}

fn waiver(expires: &str) -> String {
    format!(
        r#"
resource "iom_waiver" "ledger" {{
  name        = "ledger-migration"
  source      = "intent:payments-prod"
  rule        = "critical"
  addresses   = ["module.payments.terraform_data.ledger_db*"]
  workspaces  = ["payments-*"]
  reason      = "CHG-1234: planned ledger migration"
  approved_by = "alice"
  expires     = "{expires}"
}}
"#
    )
}

fn ledger(r: &Report) -> &plan_guard::decide::report::ChangeReport {
    r.changes.iter().find(|c| c.address == LEDGER).unwrap()
}

#[test]
fn a_live_waiver_allows_and_names_itself() {
    let r = judge(&waiver("2099-01-01T00:00:00Z"), "payments-prod");
    let change = ledger(&r);
    assert_eq!(change.verdict, Outcome::Allow);
    let f = change
        .findings
        .iter()
        .find(|f| f.rule == "critical")
        .unwrap();
    assert_eq!(f.outcome, Outcome::Allow);
    assert_eq!(f.waived_by.as_deref(), Some("ledger-migration"));
    assert!(
        f.message.contains(
            "waived by ledger-migration until 2099-01-01T00:00:00Z, approved by alice: CHG-1234"
        ),
        "{}",
        f.message
    );
    assert_eq!(r.verdict, Outcome::Allow);
    assert!(render_text(&r, false).contains("ledger-migration"));
}

#[test]
fn an_expired_waiver_stops_applying_and_warns() {
    let r = judge(&waiver("2020-01-01T00:00:00+00:00"), "payments-prod");
    let change = ledger(&r);
    assert_eq!(change.verdict, Outcome::Escalate);
    let expired = change
        .findings
        .iter()
        .find(|f| f.rule == "waiver_expired")
        .unwrap();
    assert_eq!(
        (expired.source.as_str(), expired.outcome),
        ("model", Outcome::Warn)
    );
    assert!(
        expired
            .message
            .contains("waiver ledger-migration expired at 2020-01-01T00:00:00+00:00")
    );
}

#[test]
fn a_waiver_covers_only_its_workspaces_source_and_rule() {
    let r = judge(&waiver("2099-01-01T00:00:00Z"), "default");
    assert_eq!(
        ledger(&r).verdict,
        Outcome::Escalate,
        "default is not a payments-* workspace"
    );
    let other_rule = waiver("2099-01-01T00:00:00Z").replace("\"critical\"", "\"eu-only\"");
    assert_eq!(
        ledger(&judge(&other_rule, "payments-prod")).verdict,
        Outcome::Escalate
    );
}

#[test]
fn a_malformed_waiver_is_refused_at_load_naming_the_attribute() {
    let errors = load_str("waiver.tf", &waiver("next tuesday")).unwrap_err();
    let text = errors[0].to_string();
    assert!(
        text.contains("expires") && text.contains("RFC 3339"),
        "{text}"
    );
}

/// The hand-written timestamp parser sliced the offset by byte position: a multi-byte
/// character there made `check` panic (exit 101). Now it is a load error naming the file
/// and the attribute (exit 1).
#[test]
fn a_non_ascii_expiry_is_a_load_error_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("pg-waiver-utf8-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let governance = root.join("../examples/governance");
    for entry in std::fs::read_dir(&governance).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "tf") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(dir.join("waiver.tf"), waiver("2026-01-01T00:00:00+0é:0")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .env_remove("IOM_STORE")
        .args(["check"])
        .arg(root.join("tests/fixtures/plans/example_escalate.json"))
        .args(["--workspace", "payments-prod", "--actor", "ci", "--model"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("waiver.tf") && stderr.contains("expires") && stderr.contains("RFC 3339"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
