//! Parts of a plan beyond its plain resource changes, each judged rather than skipped:
//! OpenTofu's ephemeral resources and forgetting replacements, provisioner references,
//! deferred changes, incomplete plans and action invocations.

use crate::fixture_util::*;
use iom_model::{ActionClass, Outcome};
use plan_guard::decide::check;
use plan_guard::decide::report::Report;
use plan_guard::graph::ChangeGraph;
use plan_guard::plan::read_plan;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    crate::support::scratch(&format!("parts-{name}"))
}

/// Writes `doc` to a scratch file and judges it against `governance`.
fn judge_doc(name: &str, doc: &serde_json::Value, governance: &str) -> Report {
    let dir = scratch(name);
    let path = dir.join("plan.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let raw = read_plan(path.to_str().unwrap()).unwrap();
    let plan = raw.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
    let report = check(
        &raw,
        &plan,
        &model(governance),
        &options("default", Outcome::Escalate),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    report
}

fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(plan_path(name)).unwrap()).unwrap()
}

fn profile_with(actions: &str) -> String {
    format!(
        "resource \"iom_profile\" \"p\" {{\n  name = \"p\"\n  actions = {{ {actions} }}\n}}\n\
         resource \"iom_intent\" \"i\" {{\n  name    = \"i\"\n  profile = \"p\"\n}}\n"
    )
}

/// `["create","forget"]` / `["forget","create"]` (a replacement whose old object is
/// forgotten, not destroyed) is a create that also forgets: judged under `create` and
/// `forget`, never as a `replace`. Terraform 1.15 cannot write it from a resource block
/// (`destroy = false` is only accepted in `removed` blocks), so the replace fixture's
/// action list is rewritten here.
#[test]
fn a_create_that_forgets_is_judged_as_create_and_forget_not_replace() {
    let governance = profile_with(
        r#"create = "warn", replace = "block", forget = "escalate", delete = "block""#,
    );
    for actions in [["create", "forget"], ["forget", "create"]] {
        let mut doc = fixture_json("replace");
        for rc in doc["resource_changes"].as_array_mut().unwrap() {
            if rc["address"] == "terraform_data.db" {
                rc["change"]["actions"] = serde_json::json!(actions);
            }
        }
        let r = judge_doc("create-forget", &doc, &governance);
        let db = change(&r, "terraform_data.db");
        assert_eq!(db.action, ActionClass::Create, "{actions:?}");
        assert_eq!(db.verdict, Outcome::Escalate, "{actions:?}");
        assert_eq!(
            findings(&r, "terraform_data.db"),
            vec![
                finding("profile:p", "create", Outcome::Warn),
                finding("profile:p", "forget", Outcome::Escalate),
            ]
        );
        assert_eq!(
            (r.summary.create, r.summary.forget, r.summary.replace),
            (1, 1, 0)
        );
    }
}

/// OpenTofu writes `"mode": "ephemeral"` for ephemeral resources in `configuration`; the
/// plan is read, and a resource that reads an ephemeral resource depends on what that
/// ephemeral resource reads. No Terraform or OpenTofu binary here writes one (the offline
/// mirror has no provider with ephemeral resources), so the plan is a minimal crafted one
/// in OpenTofu's shape.
#[test]
fn opentofu_ephemeral_resources_are_read_and_pass_dependencies_through() {
    let doc = serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.10.0",
        "planned_values": { "root_module": {} },
        "resource_changes": [
            {
                "address": "terraform_data.seed", "mode": "managed", "type": "terraform_data",
                "name": "seed", "provider_name": "terraform.io/builtin/terraform",
                "change": { "actions": ["update"], "before": {}, "after": {},
                            "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {} }
            },
            {
                "address": "terraform_data.user", "mode": "managed", "type": "terraform_data",
                "name": "user", "provider_name": "terraform.io/builtin/terraform",
                "change": { "actions": ["no-op"], "before": {}, "after": {},
                            "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {} }
            }
        ],
        "configuration": { "root_module": { "resources": [
            { "address": "terraform_data.seed", "mode": "managed", "type": "terraform_data",
              "name": "seed", "expressions": {} },
            { "address": "ephemeral.random_password.db", "mode": "ephemeral",
              "type": "random_password", "name": "db",
              "expressions": { "keepers": { "references": ["terraform_data.seed.id", "terraform_data.seed"] } } },
            { "address": "terraform_data.user", "mode": "managed", "type": "terraform_data",
              "name": "user",
              "expressions": { "input": { "references": ["ephemeral.random_password.db.result", "ephemeral.random_password.db"] } } }
        ] } }
    });
    let dir = scratch("ephemeral");
    let path = dir.join("plan.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let raw = read_plan(path.to_str().unwrap()).unwrap();
    let plan = raw.parse().unwrap_or_else(|e| panic!("{e}"));
    let graph = ChangeGraph::build(&plan);
    assert_eq!(
        graph.edge_list(),
        pairs(&[("terraform_data.seed", "terraform_data.user")])
    );
    let r = judge_doc("ephemeral", &doc, &profile_with(r#"update = "warn""#));
    assert_eq!(
        change(&r, "terraform_data.seed").blast_radius.addresses,
        strings(&["terraform_data.user"])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a provisioner references is a dependency, as Terraform orders it: the
/// `null_resource` whose `local-exec` command reads the database, and the resource whose
/// provisioner environment reads it, are in the database's blast radius; `self` in a
/// destroy-time provisioner is no edge. A real plan of Terraform 1.15 with hashicorp/null.
#[test]
fn provisioner_references_are_dependencies() {
    let raw = load("provisioners");
    let plan = raw.parse().unwrap();
    let graph = ChangeGraph::build(&plan);
    assert_eq!(
        graph.edge_list(),
        pairs(&[
            ("terraform_data.db", "null_resource.migrate"),
            ("terraform_data.db", "terraform_data.notify"),
        ])
    );
    let r = judge("provisioners", &profile_with(r#"create = "allow""#));
    let db = change(&r, "terraform_data.db");
    assert_eq!(
        db.blast_radius.addresses,
        strings(&["null_resource.migrate", "terraform_data.notify"])
    );
    assert_eq!(db.blast_radius.direct, 2);
    assert!(
        change(&r, "terraform_data.unrelated")
            .blast_radius
            .addresses
            .is_empty()
    );
}

fn governed(profile_attrs: &str, intent_attrs: &str) -> String {
    format!(
        "resource \"iom_profile\" \"p\" {{\n  name = \"p\"\n{profile_attrs}\n}}\n\
         resource \"iom_intent\" \"i\" {{\n  name    = \"i\"\n  profile = \"p\"\n{intent_attrs}\n}}\n"
    )
}

/// An incomplete plan (`complete: false`; here a real `plan -target`) is never a plain
/// allow: the governing profile's `on_unknown` (at least warn) is a finding about the
/// whole plan, counted in the verdict; with no intent, the `--ungoverned` outcome.
#[test]
fn an_incomplete_plan_is_never_a_plain_allow() {
    let raw = load("targeted");
    let plan = raw.parse().unwrap();
    assert_eq!(plan.complete, Some(false));
    let r = judge("targeted", &governed(r#"  on_unknown = "escalate""#, ""));
    assert_eq!(change(&r, "terraform_data.app").verdict, Outcome::Allow);
    let plan_findings: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.source.as_str(), f.rule.as_str(), f.outcome))
        .collect();
    assert_eq!(
        plan_findings,
        vec![("profile:p", "incomplete", Outcome::Escalate)]
    );
    assert_eq!(r.verdict, Outcome::Escalate);
    // A profile whose on_unknown allows still leaves a warning.
    let r = judge("targeted", &governed(r#"  on_unknown = "allow""#, ""));
    assert_eq!(r.verdict, Outcome::Warn);
    // No intent at all: the ungoverned outcome, at least warn.
    let model = model("resource \"iom_profile\" \"p\" { name = \"p\" }\n");
    let r = judge_model("targeted", &model, "default", Outcome::Allow);
    assert_eq!(r.verdict, Outcome::Warn);
    assert_eq!(r.findings[0].source, "model");
    // Every format says so.
    for text in rendered(&r) {
        assert!(text.contains("incomplete"), "{text}");
    }
    // A complete plan has no such finding.
    let r = judge("create", &governed("", ""));
    assert!(r.findings.is_empty());
}

/// Deferred changes were ignored: each is judged like any change, with its action, plus
/// the profile's `on_unknown` (what it will do is not final). Terraform 1.15 writes them
/// only with experimental deferrals, so a real plan's change is moved under
/// `deferred_changes` here, in the shape Terraform writes.
#[test]
fn deferred_changes_are_judged_with_their_action_and_on_unknown() {
    let mut doc = fixture_json("create");
    let changes = doc["resource_changes"].as_array_mut().unwrap();
    let at = changes
        .iter()
        .position(|rc| rc["address"] == "terraform_data.vpc")
        .unwrap();
    let vpc = changes.remove(at);
    doc["deferred_changes"] =
        serde_json::json!([{ "reason": "resource_config_unknown", "resource_change": vpc }]);
    doc["complete"] = false.into();
    let r = judge_doc(
        "deferred",
        &doc,
        &governed(
            r#"  actions = { create = "warn" }
  on_unknown = "escalate""#,
            "",
        ),
    );
    let vpc = change(&r, "terraform_data.vpc");
    assert_eq!(vpc.action, ActionClass::Create);
    assert_eq!(vpc.deferred.as_deref(), Some("resource_config_unknown"));
    assert_eq!(
        findings(&r, "terraform_data.vpc"),
        vec![
            finding("profile:p", "create", Outcome::Warn),
            finding("profile:p", "deferred", Outcome::Escalate),
        ]
    );
    assert_eq!(r.verdict, Outcome::Escalate);
    assert_eq!(r.summary.create, 5);
    for text in rendered(&r) {
        assert!(text.contains("terraform_data.vpc"), "{text}");
    }
}

/// Action invocations (Terraform 1.14 actions) were ignored: each is judged as class
/// `invoke`, with type and address globs, and listed in every format even when allowed.
/// The corpus plan is terraform-json's real `-invoke` plan; no provider here offers
/// actions (hashicorp/null and the built-in provider have none), so the lifecycle-triggered
/// one is added to a real plan in the shape Terraform 1.14 writes.
#[test]
fn action_invocations_are_judged_as_invoke_and_listed_everywhere() {
    let corpus = format!(
        "{}/tests/corpus/plans/007_tfjson_actions.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = read_plan(&corpus).unwrap();
    let plan = raw.parse().unwrap();
    let judge_actions = |gov: &str| {
        check(
            &raw,
            &plan,
            &model(gov),
            &options("default", Outcome::Escalate),
        )
        .unwrap()
    };
    let r = judge_actions(&governed(r#"  actions = { invoke = "block" }"#, ""));
    let a = change(&r, "action.bufo_print.success");
    assert_eq!((a.action, a.verdict), (ActionClass::Invoke, Outcome::Block));
    assert_eq!(a.ty, "bufo_print");
    assert_eq!(a.trigger.as_deref(), Some("by -invoke"));
    assert_eq!(r.summary.invoke, 1);
    let r = judge_actions(&governed(
        "",
        r#"  allowed_resource_types = ["terraform_data"]"#,
    ));
    assert_eq!(
        findings(&r, "action.bufo_print.success"),
        vec![finding(
            "intent:i",
            "allowed_resource_types",
            Outcome::Block
        )]
    );
    let r = judge_actions(&governed("", r#"  critical = ["action.bufo_print.*"]"#));
    assert_eq!(r.verdict, Outcome::Escalate);
    // Unspecified, invoke allows, like every class; the empty model's ungoverned escalates.
    assert_eq!(judge_actions(&governed("", "")).verdict, Outcome::Allow);

    let mut doc = fixture_json("create");
    doc["action_invocations"] = serde_json::json!([{
        "address": "action.local_command.notify",
        "type": "local_command",
        "name": "notify",
        "config_values": { "command": "echo created" },
        "config_sensitive": {},
        "config_unknown": {},
        "provider_name": "registry.terraform.io/hashicorp/local",
        "lifecycle_action_trigger": {
            "triggering_resource_address": "terraform_data.vpc",
            "action_trigger_event": "after_create",
            "action_trigger_block_index": 0,
            "actions_list_index": 0
        }
    }]);
    let r = judge_doc("lifecycle-action", &doc, &governed("", ""));
    let a = change(&r, "action.local_command.notify");
    assert_eq!((a.action, a.verdict), (ActionClass::Invoke, Outcome::Allow));
    assert_eq!(
        a.trigger.as_deref(),
        Some("after_create of terraform_data.vpc")
    );
    for text in rendered(&r) {
        assert!(text.contains("action.local_command.notify"), "{text}");
    }
    // Rules read the action's configuration as `after`.
    let rule = r#"  constraint {
    id        = "echo_only"
    condition = "type != 'local_command' || after.command.startsWith('echo ')"
    actions   = ["invoke"]
    outcome   = "block"
  }"#;
    doc["action_invocations"][0]["config_values"]["command"] = "rm -rf /".into();
    let r = judge_doc("lifecycle-action-rule", &doc, &governed("", rule));
    assert_eq!(
        findings(&r, "action.local_command.notify"),
        vec![finding("intent:i", "echo_only", Outcome::Block)]
    );
}

/// The report in every format.
fn rendered(r: &Report) -> Vec<String> {
    use plan_guard::render::{Format, Options, render};
    [
        Format::Text,
        Format::Json,
        Format::Markdown,
        Format::Junit,
        Format::Html,
        Format::Sarif,
    ]
    .into_iter()
    .map(|f| render(r, f, Options::default()))
    .collect()
}
