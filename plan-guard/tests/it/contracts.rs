//! Contracts in `check` on real plans: module call inputs, pre-conditions (including
//! network probes against real sockets) and `forbid_actions`, each with its finding
//! source `contract:NAME`.

use crate::support::check_file;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use iom_model::{Model, Outcome, load_str};
use plan_guard::decide::CheckOptions;
use plan_guard::decide::report::Report;
use plan_guard::decide::surface::{Accountable, InputStatus};
use plan_guard::render::{render_json, render_text};

fn judge(plan: &str, governance: &str) -> Report {
    judge_in(plan, governance, None)
}

/// Judged with the workspace's source at hand (`--source-dir`).
fn judge_in(plan: &str, governance: &str, source_dir: Option<PathBuf>) -> Report {
    let spec = load_str("gov.tf", governance).unwrap_or_else(|e| panic!("{}", e[0]));
    let model = Model::compile(spec).unwrap_or_else(|p| panic!("{}", p[0]));
    let opts = CheckOptions {
        workspace: "payments-prod".into(),
        actor: "tester".into(),
        ungoverned: Outcome::Allow,
        model_source: "gov".into(),
        model_revision: None,
        source_dir,
    };
    check_file(Path::new(plan), &model, &opts)
}

fn fixture() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    root.join("tests/fixtures/plans/contracts/plan.json")
        .to_string_lossy()
        .into_owned()
}

/// (rule, outcome, message) of one change's contract findings.
fn contract_findings(r: &Report, address: &str) -> Vec<(String, Outcome, String)> {
    let change = r
        .changes
        .iter()
        .find(|c| c.address == address)
        .unwrap_or_else(|| panic!("no change {address}"));
    change
        .findings
        .iter()
        .filter(|f| f.source == "contract:deploy-service")
        .map(|f| (f.rule.clone(), f.outcome, f.message.clone()))
        .collect()
}

fn governance(tcp_target: &str) -> String {
    format!(
        r#"
resource "iom_profile" "prod" {{
  name       = "prod-safe"
  on_unknown = "warn"
}}

resource "iom_intent" "payments" {{
  name    = "payments"
  profile = "prod-safe"
}}

resource "iom_element" "net" {{
  name = "core-network"
  kind = "network"
}}

resource "iom_contract" "deploy" {{
  name   = "deploy-service"
  module = "module.service_*"
  input {{
    name     = "env"
    type     = "string"
    required = true
    enum     = ["lab", "staging", "prod"]
  }}
  input {{
    name = "replicas"
    type = "number"
    min  = 1
    max  = 10
  }}
  input {{
    name    = "ticket"
    type    = "string"
    pattern = "^chg-[0-9]+$"
  }}
  input {{
    name     = "owner"
    required = false
  }}
  pre_condition {{
    check   = "element_exists"
    element = "core-network"
  }}
  pre_condition {{
    check   = "profile_active"
    profile = "{{{{ inputs.env }}}}-safe"
    outcome = "escalate"
  }}
  pre_condition {{
    check      = "tcp_reachable"
    target     = "{tcp_target}"
    timeout_ms = 1000
  }}
  constraint {{
    profile        = "prod-safe"
    forbid_actions = ["replace", "delete"]
  }}
}}
"#
    )
}

#[test]
fn inputs_preconditions_and_forbidden_actions_on_a_real_plan() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().to_string();
    let r = judge(&fixture(), &governance(&open));

    // service_api: env "staging" is allowed, but `staging-safe` governs nothing; the
    // ticket comes from a resource, so it is unknown (the profile's on_unknown: warn);
    // and the replace is forbidden under prod-safe.
    let api = contract_findings(&r, "module.service_api.terraform_data.deploy");
    let rules: Vec<(&str, Outcome)> = api.iter().map(|(r, o, _)| (r.as_str(), *o)).collect();
    assert_eq!(
        rules,
        [
            ("constraint", Outcome::Block),
            ("input.ticket", Outcome::Warn),
            ("pre_condition.profile_active", Outcome::Escalate),
        ],
        "{api:#?}"
    );
    assert!(
        api[0]
            .2
            .starts_with("module.service_api: profile prod-safe forbids replace")
    );
    assert!(
        api[2]
            .2
            .contains("profile staging-safe does not govern this workspace")
    );

    // service_batch: `qa` is not an allowed env and 12 replicas exceed the maximum; the
    // update itself is not forbidden.
    let batch = contract_findings(&r, "module.service_batch.terraform_data.deploy");
    let rules: Vec<&str> = batch.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(
        rules,
        [
            "input.env",
            "input.replicas",
            "pre_condition.profile_active"
        ],
        "{batch:#?}"
    );
    assert!(
        batch[0]
            .2
            .ends_with("input `env` must be one of lab, staging, prod")
    );
    assert!(
        batch[1]
            .2
            .ends_with("input `replicas` is above its maximum 10")
    );
    let verdict = |a: &str| r.changes.iter().find(|c| c.address == a).unwrap().verdict;
    assert_eq!(
        verdict("module.service_batch.terraform_data.deploy"),
        Outcome::Block
    );
    assert_eq!(
        verdict("module.service_api.terraform_data.deploy"),
        Outcome::Block
    );

    // Contract findings stay inside the module calls the glob matches.
    for c in &r.changes {
        let governed = c.address.starts_with("module.service_");
        let has = c.findings.iter().any(|f| f.source.starts_with("contract:"));
        assert!(governed || !has, "{} has contract findings", c.address);
    }
    drop(listener);
}

#[test]
fn an_unreachable_target_is_a_violation_not_a_hang() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = closed.local_addr().unwrap().to_string();
    drop(closed);
    let r = judge(&fixture(), &governance(&target));
    let batch = contract_findings(&r, "module.service_batch.terraform_data.deploy");
    let tcp: Vec<_> = batch
        .iter()
        .filter(|(rule, _, _)| rule == "pre_condition.tcp_reachable")
        .collect();
    assert_eq!(tcp.len(), 1, "{batch:#?}");
    assert_eq!(tcp[0].1, Outcome::Block);
    assert!(
        tcp[0]
            .2
            .contains(&format!("tcp_reachable {target}: cannot connect")),
        "{}",
        tcp[0].2
    );
}

#[test]
fn the_root_contract_reads_variables_and_no_drift_reads_resource_drift() {
    let governance = r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_intent" "i" {
  name    = "all"
  profile = "p"
}
resource "iom_contract" "root" {
  name   = "deploy-service"
  module = ""
  input {
    name = "env"
    enum = ["prod"]
  }
  input {
    name     = "region"
    required = true
  }
  pre_condition { check = "no_drift" }
}
"#;
    let r = judge(&fixture(), governance);
    let f = contract_findings(&r, "module.service_batch.terraform_data.deploy");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].0, "input.region");
    assert_eq!(
        f[0].2,
        "the root module: required input `region` is missing"
    );

    let corpus =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/plans/029_tf_drift.json");
    let r = judge(corpus.to_str().unwrap(), governance);
    let drifted = r
        .changes
        .iter()
        .flat_map(|c| &c.findings)
        .find(|f| f.rule == "pre_condition.no_drift")
        .expect("a no_drift finding");
    assert!(
        drifted.message.contains("drifted outside Terraform"),
        "{}",
        drifted.message
    );
}

#[test]
fn sensitive_inputs_never_reach_a_report() {
    // `token` is a sensitive root variable whose value is a canary; a contract that
    // rejects it must not quote it.
    let governance = r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_intent" "i" {
  name    = "all"
  profile = "p"
}
resource "iom_contract" "root" {
  name   = "deploy-service"
  module = ""
  input {
    name    = "token"
    pattern = "^[0-9]+$"
    enum    = ["x"]
  }
}
"#;
    let r = judge(&fixture(), governance);
    let text = render_text(&r, false);
    let json = render_json(&r);
    assert!(text.contains("input `token` must be one of x"), "{text}");
    for out in [text, json] {
        assert!(!out.contains("CANARY-SENSITIVE-41c9"));
    }
}

fn fixture_source() -> Option<PathBuf> {
    Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/contracts/config"))
}

const EDGE: &str = "module.service_edge.terraform_data.deploy";

#[test]
fn arguments_passing_a_variable_through_take_its_value_from_the_plan() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let gov = governance(&closed.local_addr().unwrap().to_string());
    drop(closed);
    // `env = var.env` ("prod") passes; `replicas = var.edge_replicas` (20) is over the
    // maximum; `ticket = "${var.env}-1"` references the same variable but computes a
    // new value, so it stays unknown (on_unknown: warn) rather than judged as "prod".
    let edge = contract_findings(&judge_in(&fixture(), &gov, fixture_source()), EDGE);
    let rules = |f: &[(String, Outcome, String)]| -> Vec<(String, Outcome)> {
        f.iter()
            .filter(|(r, _, _)| r.starts_with("input."))
            .map(|(r, o, _)| (r.clone(), *o))
            .collect()
    };
    assert_eq!(
        rules(&edge),
        [
            ("input.replicas".to_string(), Outcome::Block),
            ("input.ticket".to_string(), Outcome::Warn)
        ],
        "{edge:#?}"
    );
    assert!(
        edge.iter()
            .any(|(_, _, m)| m.contains("input `replicas` is above its maximum 10")),
        "{edge:#?}"
    );
    // `{{ inputs.env }}-safe` expands to the variable's value: prod-safe governs.
    assert!(
        !edge
            .iter()
            .any(|(r, _, _)| r == "pre_condition.profile_active"),
        "{edge:#?}"
    );

    // Without the source nothing tells a pass-through from an interpolation: unknown,
    // and the message says what would have told.
    let blind = contract_findings(&judge(&fixture(), &gov), EDGE);
    assert!(
        blind.iter().any(|(r, _, m)| r == "input.env"
            && m.contains("is set from `var.env`, but the workspace's .tf files were not found")),
        "{blind:#?}"
    );
    assert_eq!(
        rules(&blind),
        [
            ("input.env".to_string(), Outcome::Warn),
            ("input.replicas".to_string(), Outcome::Warn),
            ("input.ticket".to_string(), Outcome::Warn)
        ],
        "{blind:#?}"
    );
}

#[test]
fn a_sensitive_input_is_checked_but_never_expanded_or_sent() {
    // `token` is declared sensitive by the module and comes from a sensitive root
    // variable holding a canary. It is judged (the enum fails without quoting it), and
    // templates over it are refused: no message, probe target or request carries it.
    let governance = r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_intent" "i" {
  name    = "all"
  profile = "p"
}
resource "iom_contract" "c" {
  name   = "deploy-service"
  module = "module.service_edge"
  input {
    name = "token"
    enum = ["x"]
  }
  pre_condition {
    check   = "element_exists"
    element = "{{ inputs.token }}"
  }
  pre_condition {
    check = "http_ok"
    url   = "http://127.0.0.1:1/{{ inputs.token }}"
  }
  pre_condition {
    check  = "tcp_reachable"
    target = "{{ inputs.token }}.invalid:1"
  }
}
"#;
    let r = judge_in(&fixture(), governance, fixture_source());
    let edge = contract_findings(&r, EDGE);
    let message = |rule: &str| {
        edge.iter()
            .find(|(r, _, _)| r == rule)
            .map(|(_, _, m)| m.clone())
            .unwrap_or_else(|| panic!("no {rule} finding: {edge:#?}"))
    };
    assert!(message("input.token").contains("input `token` must be one of x"));
    for rule in [
        "pre_condition.element_exists",
        "pre_condition.http_ok",
        "pre_condition.tcp_reachable",
    ] {
        assert!(
            message(rule).contains("uses input `token`, which is sensitive and is never expanded"),
            "{rule}: {}",
            message(rule)
        );
    }
    for out in [render_text(&r, false), render_json(&r)] {
        assert!(!out.contains("CANARY-SENSITIVE-41c9"), "{out}");
    }
}

#[test]
fn a_call_gone_from_the_configuration_is_held_to_its_constraints_not_its_inputs() {
    // In the `delete` fixture module.gone was removed: there is no call whose inputs
    // could be missing, but deleting what it built is still forbidden.
    let governance = r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_intent" "i" {
  name    = "all"
  profile = "p"
}
resource "iom_contract" "c" {
  name   = "deploy-service"
  module = "module.gone"
  input {
    name     = "a_id"
    required = true
  }
  input {
    name     = "owner"
    required = true
  }
  constraint {
    profile        = "p"
    forbid_actions = ["delete"]
  }
}
"#;
    let plan =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/delete/plan.json");
    let r = judge(plan.to_str().unwrap(), governance);
    let gone = contract_findings(&r, "module.gone.terraform_data.svc");
    let rules: Vec<&str> = gone.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(rules, ["constraint"], "{gone:#?}");
}

#[test]
fn an_any_instance_pattern_governs_the_call() {
    let governance = r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_intent" "i" {
  name    = "all"
  profile = "p"
}
resource "iom_contract" "c" {
  name   = "deploy-service"
  module = "module.service_batch[*]"
  constraint {
    profile        = "p"
    forbid_actions = ["update"]
  }
}
"#;
    let r = judge(&fixture(), governance);
    let batch = contract_findings(&r, "module.service_batch.terraform_data.deploy");
    assert_eq!(batch.len(), 1, "{batch:#?}");
    assert_eq!(batch[0].0, "constraint");
}

/// Without `--source-dir`, a plan lying in its workspace directory brings the source
/// with it: `replicas = var.edge_replicas` (20) is judged against the maximum even when
/// plan-guard runs somewhere else.
#[test]
fn the_plans_own_directory_is_the_default_source() {
    let fx = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/contracts");
    let root = std::env::temp_dir().join(format!("pg-default-source-{}", std::process::id()));
    let (ws, gov, elsewhere) = (root.join("ws"), root.join("gov"), root.join("elsewhere"));
    for d in [&ws, &gov, &elsewhere] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::copy(fx.join("config/main.tf"), ws.join("main.tf")).unwrap();
    std::fs::copy(fx.join("plan.json"), ws.join("plan.json")).unwrap();
    std::fs::write(
        gov.join("main.tf"),
        r#"
resource "iom_profile" "p" {
  name       = "p"
  on_unknown = "warn"
}
resource "iom_intent" "i" {
  name    = "all"
  profile = "p"
}
resource "iom_contract" "c" {
  name   = "deploy-service"
  module = "module.service_edge"
  input {
    name = "replicas"
    type = "number"
    max  = 10
  }
}
"#,
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .current_dir(&elsewhere)
            .arg("check")
            .arg(ws.join("plan.json"))
            .arg("--model")
            .arg(&gov)
            .args(["--store", &format!("sqlite://{}/iom.db", root.display())])
            .args(["--init-store", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == EDGE)
            .unwrap()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["outcome"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        run(&[]),
        [("input.replicas".to_string(), "block".to_string())]
    );
    // An explicit --source-dir that holds no configuration leaves it unknown.
    assert_eq!(
        run(&["--source-dir", elsewhere.to_str().unwrap()]),
        [("input.replicas".to_string(), "warn".to_string())]
    );
    let _ = std::fs::remove_dir_all(&root);
}

const LEDGER_VARS: &str = r#"
resource "iom_profile" "prod" {
  name       = "prod-safe"
  on_unknown = "escalate"
}

resource "iom_intent" "payments" {
  name    = "payments"
  profile = "prod-safe"
}

resource "iom_contract" "root" {
  name   = "ledger-vars"
  module = ""
  input {
    name = "ledger_generation"
    type = "number"
    max  = 5
  }
  input {
    name = "ha"
    type = "bool"
  }
}

resource "iom_contract" "ledger" {
  name   = "ledger"
  module = "module.ledger*"
  input {
    name = "generation"
    type = "number"
    max  = 5
  }
  input {
    name = "ha"
    type = "bool"
  }
  input {
    name = "build"
    type = "number"
  }
}
"#;

/// (source, rule, outcome) of the contract findings of one change.
fn contract_rules(r: &Report, address: &str) -> Vec<(String, String, Outcome)> {
    let change = r.changes.iter().find(|c| c.address == address).unwrap();
    let mut rules: Vec<_> = change
        .findings
        .iter()
        .filter(|f| f.source.starts_with("contract:"))
        .map(|f| (f.source.clone(), f.rule.clone(), f.outcome))
        .collect();
    rules.sort();
    rules
}

fn rule(source: &str, rule: &str, outcome: Outcome) -> (String, String, Outcome) {
    (source.to_string(), rule.to_string(), outcome)
}

/// `terraform plan -var ledger_generation=2 -var ha=1 -var build=42` records the three
/// values as strings; Terraform hands the module 2, true and (its `build` is a string)
/// "42". A contract judges what the module receives: a number variable's "2" is 2, not
/// "a string", while a constant "7" is still 7 and over the maximum.
#[test]
fn typed_inputs_are_judged_as_terraform_converts_them() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/contract_vars");
    let plan = root.join("plan.json").to_string_lossy().into_owned();
    let first = "module.ledger.terraform_data.db";
    let next = "module.ledger_next.terraform_data.db";

    let with_source = judge_in(&plan, LEDGER_VARS, Some(root.join("config")));
    assert_eq!(
        contract_rules(&with_source, first),
        // `build` is declared `string` in the module: it receives "42", not a number.
        [rule("contract:ledger", "input.build", Outcome::Block)],
    );
    assert_eq!(
        contract_rules(&with_source, next),
        [
            rule("contract:ledger", "input.build", Outcome::Block),
            rule("contract:ledger", "input.generation", Outcome::Block),
        ],
    );
    let over = with_source
        .changes
        .iter()
        .flat_map(|c| &c.findings)
        .find(|f| f.rule == "input.generation")
        .unwrap();
    assert!(
        over.message
            .contains("input `generation` is above its maximum 5"),
        "{}",
        over.message
    );

    // Without the source: the root variables are still judged by the contract's types
    // (2, true), the constants too ("43" is 43 to a number input); the pass-throughs of
    // module.ledger cannot be confirmed and take on_unknown.
    let blind = judge(&plan, LEDGER_VARS);
    assert_eq!(
        contract_rules(&blind, next),
        [rule("contract:ledger", "input.generation", Outcome::Block)],
    );
    assert_eq!(
        contract_rules(&blind, first),
        [
            rule("contract:ledger", "input.build", Outcome::Escalate),
            rule("contract:ledger", "input.generation", Outcome::Escalate),
            rule("contract:ledger", "input.ha", Outcome::Escalate),
        ],
    );
}

/// Issue 17 item 1: every governed call with a change has a section in the report, a
/// passing contract as much as a failing one: inputs with their values and checks (a
/// sensitive one without its value), each pre-condition with what it checked and how it
/// came out (a probe's failure too), the constraints in force and the post-verify probes.
#[test]
fn each_governed_call_has_a_contract_section() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().to_string();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let shut = closed.local_addr().unwrap().to_string();
    drop(closed);
    let governance = governance(&open).replace(
        "  constraint {\n",
        &format!(
            "  pre_condition {{\n    check      = \"http_ok\"\n    url        = \"http://user:pw-7d1@{shut}/up\"\n    timeout_ms = 1000\n    outcome    = \"warn\"\n  }}\n  post_verify {{\n    probe = \"http\"\n    url   = \"https://svc.internal/{{{{ inputs.env }}}}/health\"\n  }}\n  post_verify {{\n    probe = \"run_record_written\"\n  }}\n  constraint {{\n"
        ),
    );
    let r = judge_in(&fixture(), &governance, fixture_source());
    let calls: Vec<(&str, &str, usize)> = r
        .contracts
        .iter()
        .map(|s| (s.call.as_str(), s.contract.as_str(), s.changes))
        .collect();
    assert_eq!(
        calls,
        [
            ("module.service_api", "deploy-service", 1),
            ("module.service_batch", "deploy-service", 1),
            ("module.service_edge", "deploy-service", 1),
        ],
        "{:#?}",
        r.contracts
    );
    let api = &r.contracts[0];
    assert_eq!(api.digest.len(), 64);
    let inputs: Vec<(&str, InputStatus, Option<String>)> = api
        .inputs
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                i.status,
                i.value.as_ref().map(|v| v.to_string()),
            )
        })
        .collect();
    assert_eq!(
        inputs,
        [
            ("env", InputStatus::Passed, Some("\"staging\"".into())),
            ("replicas", InputStatus::Passed, Some("3".into())),
            ("ticket", InputStatus::Unknown, None),
            ("owner", InputStatus::Unset, None),
        ],
        "{:#?}",
        api.inputs
    );
    assert_eq!(
        api.inputs[0].checks,
        ["type string", "required", "one of lab, staging, prod"]
    );
    let pre: Vec<(&str, &str, bool, Outcome)> = api
        .pre_conditions
        .iter()
        .map(|p| (p.check.as_str(), p.checked.as_str(), p.passed, p.outcome))
        .collect();
    let up = format!("GET http://{shut}/up answers 200");
    assert_eq!(
        pre,
        [
            (
                "element_exists",
                "element core-network",
                true,
                Outcome::Allow
            ),
            (
                "profile_active",
                "profile staging-safe",
                false,
                Outcome::Escalate
            ),
            ("tcp_reachable", open.as_str(), true, Outcome::Allow),
            ("http_ok", up.as_str(), false, Outcome::Warn),
        ]
    );
    assert_eq!(api.constraints.len(), 1);
    assert_eq!(api.constraints[0].forbid_actions, ["replace", "delete"]);
    let probes: Vec<(&str, Option<&str>)> = api
        .post_verify
        .iter()
        .map(|p| (p.probe.as_str(), p.target.as_deref()))
        .collect();
    assert_eq!(
        probes,
        [
            ("http", Some("https://svc.internal/staging/health")),
            ("run_record_written", None),
        ]
    );
    let change = r
        .changes
        .iter()
        .find(|c| c.address == "module.service_api.terraform_data.deploy")
        .unwrap();
    assert_eq!(change.contracts, ["deploy-service"]);
    assert_eq!(
        change.accountable,
        [Accountable {
            intent: "payments".into(),
            owner: None
        }]
    );

    // The sensitive input of service_edge is listed, checked, and never shown.
    let edge = &r.contracts[2];
    let token = edge.inputs.iter().find(|i| i.name == "token");
    assert!(
        token.is_none_or(|t| t.sensitive && t.value.is_none()),
        "{token:?}"
    );
    for out in [render_text(&r, false), render_json(&r)] {
        assert!(!out.contains("CANARY-SENSITIVE-41c9"), "{out}");
        assert!(!out.contains("pw-7d1"), "no URL credential: {out}");
    }
    drop(listener);
}

/// A `moved` block must not take an object out of its call's contract: module.db's
/// object, moved to the undeclared module.scratch and destroyed there, is still a delete
/// in module.db, which the contract forbids.
#[test]
fn an_object_moved_out_of_a_governed_call_keeps_its_contract() {
    let governance = r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_intent" "i" {
  name    = "all"
  profile = "p"
}
resource "iom_contract" "c" {
  name   = "deploy-service"
  module = "module.db"
  constraint {
    profile        = "p"
    forbid_actions = ["delete"]
  }
}
"#;
    let plan = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans/moved_across_modules/plan.json");
    let r = judge(plan.to_str().unwrap(), governance);
    let gone = contract_findings(&r, "module.scratch.terraform_data.main");
    assert_eq!(
        gone,
        [(
            "constraint".to_string(),
            Outcome::Block,
            "module.db: profile p forbids delete here".to_string()
        )]
    );
    let change = r
        .changes
        .iter()
        .find(|c| c.address == "module.scratch.terraform_data.main")
        .unwrap();
    assert_eq!(change.contracts, ["deploy-service"]);
    assert_eq!(r.exit_code(), 2);
    // The object moved into module.app from the root is not module.db's.
    assert!(contract_findings(&r, "module.app.terraform_data.cfg").is_empty());
}
