//! Parts of a plan beyond its plain resource changes, each judged rather than skipped:
//! OpenTofu's ephemeral resources and forgetting replacements, provisioner references,
//! deferred changes, incomplete plans and action invocations.

mod fixture_util;

use fixture_util::*;
use iom_model::{ActionClass, Outcome};
use plan_guard::decide::check;
use plan_guard::graph::ChangeGraph;
use plan_guard::plan::read_plan;
use plan_guard::report::Report;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pg-parts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
