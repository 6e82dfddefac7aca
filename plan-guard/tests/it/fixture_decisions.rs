//! The judging rules (docs/judging.md), one by one, on the plans the real Terraform wrote
//! (tests/fixtures/plans), against small governance models written here.

use crate::fixture_util::*;
use iom_model::{ActionClass, Model, Outcome};
use plan_guard::decide::report::Report;
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

/// (address, class, verdict) of every judged change.
fn verdicts(r: &Report) -> Vec<(String, ActionClass, Outcome)> {
    r.changes
        .iter()
        .map(|c| {
            let key = match &c.deposed {
                Some(d) => format!("{} (deposed {d})", c.address),
                None => c.address.clone(),
            };
            (key, c.action, c.verdict)
        })
        .collect()
}

fn v(address: &str, class: ActionClass, verdict: Outcome) -> (String, ActionClass, Outcome) {
    (address.into(), class, verdict)
}

#[test]
fn each_class_takes_its_profile_action_and_no_op_is_never_judged() {
    let r = judge(
        "mixed",
        &gov(
            r#"  actions = { create = "warn", update = "escalate", replace = "block", delete = "block", read = "warn", forget = "escalate", move = "warn" }"#,
            "",
        ),
    );
    use ActionClass::*;
    assert_eq!(
        verdicts(&r),
        vec![
            v("data.terraform_remote_state.settings", Read, Warn),
            v("module.payments.terraform_data.api[0]", Update, Escalate),
            v("module.payments.terraform_data.api[1]", Update, Escalate),
            v("module.payments.terraform_data.cache", Replace, Block),
            v("module.payments.terraform_data.db", Replace, Block),
            v("terraform_data.audit", Create, Warn),
            v("terraform_data.dns", Move, Warn),
            v("terraform_data.handed_over", Forget, Escalate),
            v("terraform_data.retired", Delete, Block),
        ]
    );
    // One finding per change, named after its class; the no-op network is absent, and the
    // dns moved from old_dns (a no-op with a previous address) is a move.
    for c in &r.changes {
        assert_eq!(
            findings(&r, &c.address),
            vec![finding("profile:p", c.action.as_str(), c.verdict)],
            "{}",
            c.address
        );
    }
    assert_eq!(r.verdict, Block);
    assert_eq!(r.exit_code(), 2);
    let s = &r.summary;
    assert_eq!(
        (s.allow, s.warn, s.escalate, s.block, s.changes, s.moved),
        (0, 3, 3, 3, 9, 1)
    );
}

#[test]
fn a_replace_is_never_a_delete_or_a_create_in_either_ordering() {
    let model = gov(r#"  actions = { create = "block", delete = "block" }"#, "");
    for name in ["replace", "replace_cbd", "replace_reasons"] {
        let r = judge(name, &model);
        for c in &r.changes {
            if c.action == ActionClass::Replace {
                assert_eq!(c.findings, vec![], "{name} {}", c.address);
            }
        }
        assert_eq!(r.verdict, Allow, "{name}");
        assert_eq!(r.exit_code(), 0, "{name}");
    }
    let model = gov(
        r#"  actions = { replace = "escalate", delete = "block" }"#,
        "",
    );
    for (name, replaced) in [
        ("replace", "terraform_data.db"),
        ("replace_cbd", "terraform_data.db"),
    ] {
        let r = judge(name, &model);
        assert_eq!(
            findings(&r, replaced),
            vec![finding("profile:p", "replace", Escalate)]
        );
        assert_eq!(findings(&r, "terraform_data.app"), vec![]);
        assert_eq!(r.exit_code(), 3);
    }
    // The deposed object is a delete of its own beside the current object's replace.
    let r = judge("deposed", &model);
    assert_eq!(
        verdicts(&r),
        vec![
            v("terraform_data.db", ActionClass::Replace, Escalate),
            v(
                "terraform_data.db (deposed 5e1f0c2a)",
                ActionClass::Delete,
                Block
            ),
        ]
    );
    assert_eq!(r.changes[1].findings[0].rule, "delete");
    // Terraform 1.0.3's replaces in both orderings, its deletes of a removed module instance.
    let r = judge("tf103_modules", &model);
    assert_eq!(r.summary.replace, 3);
    assert_eq!(r.summary.delete, 5);
    assert_eq!((r.summary.escalate, r.summary.block), (3, 5));
}

#[test]
fn rule_actions_and_types_see_the_class_not_terraforms_actions() {
    let model = format!(
        "{}{}",
        gov("", r#"  blueprints = ["lifecycle"]"#),
        r#"
resource "iom_blueprint" "b" {
  name    = "lifecycle"
  version = "0.1.0"
  rule {
    id        = "no-deletes"
    actions   = ["delete"]
    condition = "false"
    outcome   = "block"
  }
  rule {
    id        = "creates-named"
    actions   = ["create"]
    condition = "false"
    outcome   = "warn"
  }
  rule {
    id             = "remote-state-reads"
    resource_types = ["terraform_remote_*"]
    actions        = ["read"]
    condition      = "false"
    outcome        = "escalate"
  }
}
"#
    );
    let r = judge("mixed", &model);
    let source = "blueprint:lifecycle@0.1.0";
    assert_eq!(
        findings(&r, "terraform_data.retired"),
        vec![finding(source, "no-deletes", Block)]
    );
    assert_eq!(
        findings(&r, "terraform_data.audit"),
        vec![finding(source, "creates-named", Warn)]
    );
    assert_eq!(
        findings(&r, "data.terraform_remote_state.settings"),
        vec![finding(source, "remote-state-reads", Escalate)]
    );
    // Replaces (both orderings), the forget and the updates match none of these rules.
    for address in [
        "module.payments.terraform_data.cache",
        "module.payments.terraform_data.db",
        "terraform_data.handed_over",
        "module.payments.terraform_data.api[0]",
    ] {
        assert_eq!(findings(&r, address), vec![], "{address}");
    }
}

#[test]
fn allowed_resource_types_block_everything_else() {
    let model = gov("", r#"  allowed_resource_types = ["terraform_data"]"#);
    let r = judge("mixed", &model);
    assert_eq!(
        findings(&r, "data.terraform_remote_state.settings"),
        vec![finding("intent:i", "allowed_resource_types", Block)]
    );
    assert_eq!(r.summary.block, 1);
    // Terraform 1.0.3 with the null provider: every null_resource and the data source.
    let r = judge("tf103_modules", &model);
    assert_eq!(r.summary.block, 12);
    assert_eq!(r.exit_code(), 2);
    let r = judge(
        "tf103_modules",
        &gov(
            "",
            r#"  allowed_resource_types = ["null_*", "terraform_*"]"#,
        ),
    );
    assert_eq!(r.verdict, Allow);
}

#[test]
fn critical_addresses_escalate_at_least() {
    let model = gov(
        r#"  actions = { replace = "block" }"#,
        r#"  critical = ["module.payments.terraform_data.db", "terraform_data.net*", "module.payments.terraform_data.api[1]"]"#,
    );
    let r = judge("mixed", &model);
    assert_eq!(
        findings(&r, "module.payments.terraform_data.db"),
        vec![
            finding("intent:i", "critical", Escalate),
            finding("profile:p", "replace", Block)
        ]
    );
    assert_eq!(
        change(&r, "module.payments.terraform_data.db").verdict,
        Block
    );
    assert_eq!(
        findings(&r, "module.payments.terraform_data.api[1]"),
        vec![finding("intent:i", "critical", Escalate)]
    );
    assert_eq!(
        findings(&r, "module.payments.terraform_data.api[0]"),
        vec![]
    );
    // The critical network is a no-op: nothing to judge.
    assert!(
        r.changes
            .iter()
            .all(|c| c.address != "terraform_data.network")
    );
    // A glob over every instance of a nested module.
    let r = judge(
        "nested_modules",
        &gov(
            "",
            r#"  critical = ["module.region[\"eu-central-1\"].module.cluster[0].*"]"#,
        ),
    );
    assert_eq!(r.summary.escalate, 5);
    assert!(r.changes.iter().filter(|c| c.verdict == Escalate).all(|c| {
        c.address
            .starts_with(r#"module.region["eu-central-1"].module.cluster[0]."#)
    }));
}

#[test]
fn conditions_on_unknown_values_follow_on_unknown() {
    let model = gov(
        r#"  on_unknown = "warn""#,
        r#"
  constraint {
    id        = "seed-id"
    condition = "!has(after.input.seed_id) || after.input.seed_id.startsWith('x')"
    outcome   = "block"
  }
  constraint {
    id        = "fixed"
    condition = "address != 'terraform_data.uses' || after.input.nested.deep.fixed == 1"
    outcome   = "block"
  }
  constraint {
    id        = "known-id"
    condition = "address != 'terraform_data.uses' || after.input.ids[1] == 'known'"
    outcome   = "block"
  }
  constraint {
    id        = "named"
    condition = "after.input.name != ''"
    outcome   = "block"
  }"#,
    );
    let r = judge("unknown", &model);
    let unknown = |f: &plan_guard::decide::report::Finding, path: &str| {
        f.source == "profile:p"
            && f.rule == "on_unknown"
            && f.outcome == Warn
            && f.message.contains(path)
    };
    // uses: seed_id is unknown; nested.deep.fixed and ids[1] are known and hold.
    let uses = change(&r, "terraform_data.uses");
    assert_eq!(uses.findings.len(), 1, "{:?}", uses.findings);
    assert!(
        unknown(&uses.findings[0], "after.input.seed_id"),
        "{:?}",
        uses.findings
    );
    assert!(uses.findings[0].message.contains("intent:i rule seed-id"));
    // whole: the entire input is unknown. The two rules guarded by `address != ...` are
    // decided by the guard whatever the input becomes; the other two are undecided.
    let whole = change(&r, "terraform_data.whole");
    assert_eq!(whole.findings.len(), 2, "{:?}", whole.findings);
    assert!(unknown(
        &whole.findings[0],
        "intent:i rule named reads after.input"
    ));
    assert!(unknown(
        &whole.findings[1],
        "intent:i rule seed-id reads after.input"
    ));
    // seed and per_item: only known paths are read, and every condition holds.
    for address in [
        "terraform_data.seed",
        r#"terraform_data.per_item["a"]"#,
        r#"terraform_data.per_item["b"]"#,
    ] {
        assert_eq!(findings(&r, address), vec![], "{address}");
    }
    assert_eq!(r.verdict, Warn);
    assert_eq!(r.exit_code(), 0);

    // The default on_unknown is escalate; a condition on the unknown id undecided on every create.
    let model = gov(
        "",
        r#"
  constraint {
    id        = "id"
    condition = "after.id != ''"
    outcome   = "block"
  }"#,
    );
    let r = judge("unknown", &model);
    assert_eq!(r.summary.escalate, 5);
    for c in &r.changes {
        assert_eq!(
            findings(&r, &c.address),
            vec![finding("profile:p", "on_unknown", Escalate)]
        );
    }
    // On an update the id is known: the same condition holds.
    let r = judge("update", &model);
    assert_eq!(r.verdict, Allow);
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
fn max_blast_radius_escalates_exactly_the_wide_changes() {
    // Each region's network reaches its 8 VMs and, through them, its 2 controls.
    let r = judge("nested_modules", &gov("  max_blast_radius = 9", ""));
    let flagged: Vec<&str> = r
        .changes
        .iter()
        .filter(|c| !c.findings.is_empty())
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(
        flagged,
        vec![
            r#"module.region["eu-central-1"].terraform_data.network"#,
            r#"module.region["eu-west-1"].terraform_data.network"#,
        ]
    );
    assert_eq!(
        findings(&r, flagged[0]),
        vec![finding("profile:p", "max_blast_radius", Escalate)]
    );
    let c = change(&r, flagged[0]);
    assert!(
        c.findings[0]
            .message
            .contains("blast radius 10 exceeds max_blast_radius 9"),
        "{}",
        c.findings[0].message
    );
    // At 10 nothing exceeds; at 0 every change with a dependent does.
    assert_eq!(
        judge("nested_modules", &gov("  max_blast_radius = 10", "")).verdict,
        Allow
    );
    let r = judge("nested_modules", &gov("  max_blast_radius = 0", ""));
    // 2 networks and the 8 vm[0]s (which feed a control).
    assert_eq!(r.summary.escalate, 10);
    // module_refs: the db reaches 5 instances, the servers 3, the lb 2.
    let r = judge("module_refs", &gov("  max_blast_radius = 2", ""));
    assert_eq!(
        r.changes
            .iter()
            .filter(|c| c.verdict == Escalate)
            .map(|c| c.address.as_str())
            .collect::<Vec<_>>(),
        vec![
            "module.app.terraform_data.server[0]",
            "module.app.terraform_data.server[1]",
            "terraform_data.db",
        ]
    );
    // The replace_triggered_by follower is in the config's blast radius.
    let r = judge("replace_reasons", &gov("  max_blast_radius = 0", ""));
    assert_eq!(
        findings(&r, "terraform_data.config"),
        vec![finding("profile:p", "max_blast_radius", Escalate)]
    );
}

#[test]
fn max_changes_counts_the_changes_in_the_intents_scope() {
    let r = judge("nested_modules", &gov("  max_changes = 22", ""));
    assert_eq!(r.verdict, Allow);
    let r = judge("nested_modules", &gov("  max_changes = 21", ""));
    assert_eq!(r.summary.escalate, 22);
    assert!(r.changes.iter().all(|c| c.findings
        == vec![plan_guard::decide::report::Finding {
            waived_by: None,
            message: "22 changes in scope of intent i exceed max_changes 21 of profile p".into(),
            outcome: Escalate,
            rule: "max_changes".into(),
            source: "profile:p".into(),
        }]));
    // Scoped to one region: 11 changes in scope. No-ops never count (noop, mixed).
    let scoped = gov(
        "  max_changes = 10",
        r#"  scope {
    modules = ["module.region[\"eu-west-1\"]"]
  }"#,
    );
    let r = judge_model("nested_modules", &model(&scoped), "default", Allow);
    assert_eq!(r.summary.escalate, 11);
    assert_eq!(r.summary.allow, 11);
    let r = judge("mixed", &gov("  max_changes = 9", ""));
    assert_eq!(r.verdict, Allow, "9 judged changes (one a move), 1 no-op");
    let r = judge("noop", &gov("  max_changes = 0", ""));
    assert_eq!((r.changes.len(), r.verdict), (0, Allow));
}

#[test]
fn ungoverned_changes_take_the_ungoverned_outcome() {
    let scoped = gov(
        "",
        r#"  scope {
    modules = ["module.payments"]
  }"#,
    );
    let m = model(&scoped);
    let r = judge_model("mixed", &m, "default", Warn);
    let ungoverned: Vec<&str> = r
        .changes
        .iter()
        .filter(|c| c.governed_by.is_empty())
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(
        ungoverned,
        vec![
            "data.terraform_remote_state.settings",
            "terraform_data.audit",
            "terraform_data.dns",
            "terraform_data.handed_over",
            "terraform_data.retired",
        ]
    );
    for address in &ungoverned {
        // The moved dns is ungoverned at both of its addresses, each a finding.
        let times = if *address == "terraform_data.dns" {
            2
        } else {
            1
        };
        assert_eq!(
            findings(&r, address),
            vec![finding("model", "ungoverned", Warn); times],
            "{address}"
        );
    }
    let dns: Vec<&str> = change(&r, "terraform_data.dns")
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        dns,
        [
            "no intent governs terraform_data.dns in workspace default",
            "no intent governs terraform_data.old_dns in workspace default"
        ]
    );
    assert_eq!(findings(&r, "module.payments.terraform_data.db"), vec![]);
    assert_eq!(r.exit_code(), 0);
    assert_eq!(judge_model("mixed", &m, "default", Block).exit_code(), 2);
    assert_eq!(judge_model("mixed", &m, "default", Escalate).exit_code(), 3);
    let r = judge_model("mixed", &m, "default", Allow);
    assert!(r.changes.iter().all(|c| c.findings.is_empty()));
    // A workspace the intent does not cover: everything is ungoverned.
    let ws = gov(
        "",
        r#"  scope {
    workspaces = ["payments-*"]
  }"#,
    );
    let r = judge_model("mixed", &model(&ws), "staging", Block);
    assert_eq!(r.summary.block, 9);
    let r = judge_model("mixed", &model(&ws), "payments-prod", Block);
    assert_eq!(r.verdict, Allow);
}

/// The changes an intent scoped to `modules` governs in the nested_modules plan.
fn governed(modules: &str) -> usize {
    let m = model(&gov(
        "",
        &format!("  scope {{\n    modules = [{modules}]\n  }}"),
    ));
    judge_model("nested_modules", &m, "default", Allow)
        .changes
        .iter()
        .filter(|c| c.governed_by == vec!["i".to_string()])
        .count()
}

#[test]
fn module_scope_prefixes_on_nested_module_instances() {
    // Per region: a network, 2 controls, 8 VMs; per cluster: a control and 4 VMs.
    assert_eq!(governed(r#""module.region""#), 22);
    assert_eq!(governed(r#""module.region[\"eu-west-1\"]""#), 11);
    assert_eq!(
        governed(r#""module.region[\"eu-west-1\"].module.cluster[1]""#),
        5
    );
    assert_eq!(
        governed(r#""module.region[\"eu-west-1\"].module.cluster[1].module.node[\"blue\"]""#),
        2
    );
    assert_eq!(
        governed(
            r#""module.region[\"eu-west-1\"].module.cluster[1]", "module.region[\"eu-central-1\"].module.cluster[0]""#
        ),
        10
    );
    // A prefix ends at an address boundary.
    assert_eq!(governed(r#""module.reg""#), 0);
    assert_eq!(governed(r#""module.region[\"eu-west-1\"].module.clu""#), 0);
    // The module scope of the changes is in the report.
    let r = judge_model("nested_modules", &model(&gov("", "")), "default", Allow);
    let c = change(
        &r,
        r#"module.region["eu-west-1"].module.cluster[1].module.node["blue"].terraform_data.vm[0]"#,
    );
    assert_eq!(
        c.module,
        r#"module.region["eu-west-1"].module.cluster[1].module.node["blue"]"#
    );
    // Terraform 1.0.3: the removed region's four deletes.
    let m = model(&gov(
        r#"  actions = { delete = "block" }"#,
        r#"  scope {
    modules = ["module.region[\"us-east-1\"]"]
  }"#,
    ));
    let r = judge_model("tf103_modules", &m, "default", Allow);
    assert_eq!(r.summary.block, 4);
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

/// Issue 17 item 4: instance keys sort as people read them, in the changes and in a
/// blast radius: spoke[2] before spoke[10].
#[test]
fn instance_keys_sort_naturally() {
    let r = judge(
        "hub_spokes",
        r#"resource "iom_profile" "p" {
  name = "p"
}
resource "iom_intent" "i" {
  name    = "i"
  profile = "p"
}"#,
    );
    let spokes: Vec<String> = (0..12)
        .map(|i| format!("terraform_data.spoke[{i}]"))
        .collect();
    let changes: Vec<&str> = r.changes.iter().map(|c| c.address.as_str()).collect();
    let mut want: Vec<&str> = vec!["terraform_data.hub"];
    want.extend(spokes.iter().map(String::as_str));
    assert_eq!(changes, want);
    assert_eq!(
        change(&r, "terraform_data.hub").blast_radius.addresses,
        spokes
    );
}
