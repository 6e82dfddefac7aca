//! The provider's whole lifecycle on both Terraform versions: validate (bad input named),
//! apply, a plan with no changes, update in place, replace on rename, out-of-band changes
//! and removals seen as drift, import by name, destroy; then `plan-guard check --store`
//! decides as `--model` does on the same HCL.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use acceptance_tests::built;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use iom_model::{Kind, Object};
use iom_store::Store;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn terraforms() -> Vec<(&'static str, PathBuf)> {
    let tools = repo().join(".tools/bin");
    let t115 = std::env::var_os("TERRAFORM_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| tools.join("terraform"));
    let t103 = std::env::var_os("TERRAFORM_1_0_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| tools.join("terraform-1.0.3"));
    for t in [&t115, &t103] {
        assert!(
            t.exists(),
            "no Terraform at {}: run bash scripts/install-terraform.sh",
            t.display()
        );
    }
    vec![("1.15", t115), ("1.0.3", t103)]
}

struct Ws {
    terraform: PathBuf,
    root: PathBuf,
    store: String,
}

impl Ws {
    fn new(label: &str, terraform: &Path) -> Ws {
        let root = std::env::temp_dir().join(format!("iom-acc-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("plugins")).unwrap();
        std::fs::create_dir_all(root.join("work")).unwrap();
        // A directory holding only the provider: Terraform picks the binary by its name.
        std::fs::copy(
            built("terraform-provider-iom"),
            root.join("plugins/terraform-provider-iom"),
        )
        .unwrap();
        std::fs::write(
            root.join("cli.tfrc"),
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/iom-dev/iom\" = {:?}\n  }}\n  direct {{}}\n}}\n",
                root.join("plugins").display().to_string()
            ),
        )
        .unwrap();
        let store = format!("sqlite://{}/model.db", root.display());
        Ws {
            terraform: terraform.to_path_buf(),
            root,
            store,
        }
    }

    fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// Copies the example governance into the workspace.
    fn governance(&self) {
        for f in ["main.tf", "versions.tf"] {
            std::fs::copy(
                repo().join("examples/governance").join(f),
                self.work().join(f),
            )
            .unwrap();
        }
    }

    fn tf(&self, args: &[&str]) -> Output {
        self.tf_with(args, &[])
    }

    /// `tf` with extra environment variables for the provider.
    fn tf_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let (cmd, rest) = args.split_first().unwrap();
        let mut all: Vec<String> = vec![cmd.to_string()];
        // `providers` takes its flags after its own subcommand.
        if *cmd != "providers" {
            all.push("-no-color".into());
        }
        if !matches!(*cmd, "validate" | "providers") {
            all.push("-input=false".into());
        }
        if matches!(*cmd, "plan" | "apply" | "destroy" | "import") {
            all.push(format!("-var=store={}", self.store));
        }
        all.extend(rest.iter().map(|a| a.to_string()));
        Command::new(&self.terraform)
            .args(&all)
            .current_dir(self.work())
            .env("TF_CLI_CONFIG_FILE", self.root.join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("IOM_STORE")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.tf(args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "terraform {args:?} failed:\n{text}");
        text
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes.
    fn plan_code(&self) -> (i32, String) {
        let out = self.tf(&["plan", "-detailed-exitcode"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }

    fn store(&self) -> Store {
        Store::open(&self.store).unwrap()
    }

    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.work().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

/// Terraform wraps diagnostics to the terminal width: the text with single spaces.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Drop for Ws {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
fn validation_names_the_attribute() {
    for (version, terraform) in terraforms() {
        for (bad, expect) in [
            (r#"actions = { delete = "explode" }"#, "actions"),
            (r#"on_unknown = "maybe""#, "on_unknown"),
        ] {
            let ws = Ws::new(&format!("validate-{version}"), &terraform);
            std::fs::copy(
                repo().join("examples/governance/versions.tf"),
                ws.work().join("versions.tf"),
            )
            .unwrap();
            std::fs::write(
                ws.work().join("main.tf"),
                format!("resource \"iom_profile\" \"p\" {{\n  name = \"p\"\n  {bad}\n}}\n"),
            )
            .unwrap();
            let out = ws.tf(&["validate"]);
            let text = String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout);
            assert!(!out.status.success(), "{version}: {bad} validated:\n{text}");
            assert!(
                text.contains(&format!("Invalid {expect}")),
                "{version}: {text}"
            );
        }
        let ws = Ws::new(&format!("validate-cel-{version}"), &terraform);
        std::fs::copy(
            repo().join("examples/governance/versions.tf"),
            ws.work().join("versions.tf"),
        )
        .unwrap();
        std::fs::write(
            ws.work().join("main.tf"),
            r#"
resource "iom_blueprint" "b" {
  name    = "b"
  version = "1.0.0"
  rule {
    id             = "r"
    resource_types = ["aws_[s3"]
    condition      = "after.x =="
    outcome        = "block"
  }
}
"#,
        )
        .unwrap();
        let out = ws.tf(&["validate"]);
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success());
        assert!(
            text.contains("Invalid rule[0].condition") && text.contains("CEL syntax error"),
            "{version}: {text}"
        );
        assert!(
            text.contains("Invalid rule[0].resource_types[0]"),
            "{version}: {text}"
        );
    }
}

#[test]
fn lifecycle_on_both_terraform_versions() {
    for (version, terraform) in terraforms() {
        let ws = Ws::new(&format!("life-{version}"), &terraform);
        ws.governance();

        let out = ws.ok(&["apply", "-auto-approve"]);
        assert!(
            out.contains("Apply complete! Resources: 9 added"),
            "{version}: {out}"
        );
        let revision = ws.store().revision().unwrap();
        assert_eq!(revision, 9);
        let (code, text) = ws.plan_code();
        assert_eq!(code, 0, "{version}: a second plan shows no changes: {text}");

        // Update in place.
        ws.edit(
            "main.tf",
            "max_changes      = 100",
            "max_changes      = 150",
        );
        let (code, text) = ws.plan_code();
        assert_eq!(code, 2);
        assert!(
            text.contains("1 to change, 0 to destroy"),
            "{version}: {text}"
        );
        ws.ok(&["apply", "-auto-approve"]);
        let p = ws.store().get(Kind::Profile, "prod-safe").unwrap().unwrap();
        let Object::Profile(profile) = p.object else {
            unreachable!()
        };
        assert_eq!(profile.max_changes, Some(150));
        assert_eq!(p.revision, revision + 1);

        // Rename: replace.
        ws.edit(
            "main.tf",
            "name    = \"payments-ledger\"",
            "name    = \"payments-ledger-v2\"",
        );
        let out = ws.ok(&["apply", "-auto-approve"]);
        assert!(
            out.contains("1 added, 0 changed, 1 destroyed"),
            "{version}: {out}"
        );
        let store = ws.store();
        assert!(
            store
                .get(Kind::Element, "payments-ledger")
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .get(Kind::Element, "payments-ledger-v2")
                .unwrap()
                .is_some()
        );
        assert_eq!(ws.plan_code().0, 0);

        // Changed and removed out of band: the next plan puts them back.
        let mut changed = profile.clone();
        changed.max_changes = Some(5);
        store.put(&Object::Profile(changed)).unwrap();
        store.delete(Kind::Element, "payments-ledger-v2").unwrap();
        let (code, text) = ws.plan_code();
        assert_eq!(code, 2, "{version}: {text}");
        assert!(
            text.contains("iom_profile.prod will be updated in-place"),
            "{version}: {text}"
        );
        assert!(
            text.contains("iom_element.ledger will be created"),
            "{version}: {text}"
        );
        ws.ok(&["apply", "-auto-approve"]);
        assert_eq!(ws.plan_code().0, 0);

        // Import by name into a workspace that does not manage it yet.
        std::fs::remove_file(ws.work().join("terraform.tfstate")).unwrap();
        let Some(shared) = store.get(Kind::Profile, "shared-services").unwrap() else {
            unreachable!()
        };
        let Object::Profile(mut other) = shared.object.clone() else {
            unreachable!()
        };
        other.max_changes = Some(7);
        store.put(&Object::Profile(other)).unwrap();
        let out = ws.tf(&["apply", "-auto-approve", "-target=iom_profile.shared"]);
        let text = words(&String::from_utf8_lossy(&out.stderr));
        assert!(
            !out.status.success()
                && text.contains("differs from this configuration")
                && text.contains("terraform import"),
            "{version}: creating an existing, different object points at import: {text}"
        );
        store.put(&shared.object).unwrap();
        ws.ok(&["import", "iom_profile.shared", "shared-services"]);
        // An object stored exactly as configured (a create whose result never reached the
        // state, say the provider was killed) is adopted, not refused.
        let before = store.revision().unwrap();
        let out = ws.ok(&["apply", "-auto-approve", "-target=iom_profile.prod"]);
        assert!(out.contains("1 added"), "{version}: {out}");
        assert_eq!(
            store.revision().unwrap(),
            before,
            "{version}: nothing rewritten"
        );
        let out = ws.tf(&[
            "plan",
            "-target=iom_profile.shared",
            "-target=iom_profile.prod",
            "-detailed-exitcode",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{version}: imported objects match: {}",
            String::from_utf8_lossy(&out.stdout)
        );

        // This state manages the profiles but not the intents naming them: destroying it
        // would leave those references dangling, so it is refused, naming them.
        let out = ws.tf_with(
            &["destroy", "-auto-approve"],
            &[("IOM_REFERENCE_WAIT_MS", "300")],
        );
        let text = words(&String::from_utf8_lossy(&out.stderr));
        assert!(
            !out.status.success()
                && text.contains("Object still referenced")
                && text.contains("iom_intent `payments-prod` references it"),
            "{version}: {text}"
        );
        assert!(store.get(Kind::Profile, "prod-safe").unwrap().is_some());

        // The rest, stored exactly as configured, is adopted by a plain apply: every
        // object of the example but the two profiles the refused destroy left in state.
        let before = store.revision().unwrap();
        let out = ws.ok(&["apply", "-auto-approve"]);
        assert!(out.contains("7 added"), "{version}: {out}");
        assert_eq!(store.revision().unwrap(), before, "{version}");

        // Destroy: the store is empty of what this state manages.
        ws.ok(&["destroy", "-auto-approve"]);
        let left: Vec<String> = ws
            .store()
            .list()
            .unwrap()
            .iter()
            .map(|s| s.object.name().to_string())
            .collect();
        assert!(left.is_empty(), "{version}: {left:?}");
    }
}

#[test]
fn plan_guard_decides_from_the_applied_store_as_from_the_files() {
    let (_, terraform) = terraforms().remove(0);
    let ws = Ws::new("plan-guard", &terraform);
    ws.governance();
    ws.ok(&["apply", "-auto-approve"]);
    let plan_guard = built("plan-guard");
    for plan in [
        "example_allow.json",
        "example_escalate.json",
        "example_block.json",
    ] {
        let path = repo().join("plan-guard/tests/fixtures/plans").join(plan);
        let run = |model: &[&str]| {
            let out = Command::new(&plan_guard)
                .arg("check")
                .arg(&path)
                .args(["--workspace", "payments-prod", "--format", "json"])
                .args(model)
                .current_dir(&ws.root)
                .env_remove("IOM_STORE")
                .output()
                .unwrap();
            let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for field in ["decision_id", "generated_at", "model"] {
                report[field] = serde_json::Value::Null;
            }
            (out.status.code(), report)
        };
        let governance = repo().join("examples/governance");
        let from_files = run(&[
            "--model",
            governance.to_str().unwrap(),
            "--store",
            &ws.store,
        ]);
        let from_store = run(&["--store", &ws.store]);
        assert_eq!(from_files, from_store, "{plan}");
    }
}

#[test]
fn the_schema_documents_itself() {
    for (version, terraform) in terraforms() {
        let ws = Ws::new(&format!("schema-{version}"), &terraform);
        ws.governance();
        let schema: serde_json::Value = serde_json::from_str(
            ws.ok(&["providers", "schema", "-json"])
                .lines()
                .find(|l| l.starts_with('{'))
                .unwrap_or("{}"),
        )
        .unwrap();
        let provider = &schema["provider_schemas"]["registry.terraform.io/iom-dev/iom"];
        let resources = provider["resource_schemas"]
            .as_object()
            .expect("resource schemas");
        let mut names: Vec<&String> = resources.keys().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "iom_blueprint",
                "iom_contract",
                "iom_element",
                "iom_intent",
                "iom_notification",
                "iom_profile",
                "iom_waiver"
            ],
            "{version}"
        );
        // A webhook URL is a secret: Terraform is told, so it never shows one.
        let url = &resources["iom_notification"]["block"]["attributes"]["url"];
        assert_eq!(url["sensitive"], true, "{version}: {url}");
        for (name, r) in resources {
            let attrs = r["block"]["attributes"].as_object().unwrap();
            let nested = r["block"]["block_types"]
                .as_object()
                .into_iter()
                .flatten()
                .flat_map(|(_, b)| b["block"]["attributes"].as_object().into_iter().flatten());
            for (attr, a) in attrs.iter().chain(nested) {
                assert!(
                    a["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{version}: {name}.{attr} has no description"
                );
            }
        }
        assert!(provider["data_source_schemas"]["iom_contract_check"].is_object());
        // Module rules come from the same declaration as rules: a repeated block whose
        // condition reads `module_call`.
        let module_rule = &resources["iom_blueprint"]["block"]["block_types"]["module_rule"];
        assert_eq!(module_rule["nesting_mode"], "list", "{version}");
        let condition = &module_rule["block"]["attributes"]["condition"];
        assert_eq!(condition["required"], true, "{version}");
        assert!(
            condition["description"]
                .as_str()
                .is_some_and(|d| d.contains("module_call")),
            "{version}: {condition}"
        );
    }
}

#[test]
fn contract_check_fails_the_plan_once_per_violation() {
    let (_, terraform) = terraforms().remove(0);
    let ws = Ws::new("contract-check", &terraform);
    std::fs::copy(
        repo().join("examples/governance/versions.tf"),
        ws.work().join("versions.tf"),
    )
    .unwrap();
    std::fs::write(
        ws.work().join("main.tf"),
        r#"
resource "iom_contract" "deploy" {
  name   = "deploy-service"
  module = "module.service*"
  input {
    name     = "env"
    type     = "string"
    required = true
    enum     = ["lab", "staging", "prod"]
  }
  input {
    name = "replicas"
    type = "number"
    min  = 1
    max  = 10
  }
}
"#,
    )
    .unwrap();
    ws.ok(&["apply", "-auto-approve"]);
    let check = |inputs: &str| {
        std::fs::write(
            ws.work().join("check.tf"),
            format!("data \"iom_contract_check\" \"svc\" {{\n  contract = \"deploy-service\"\n  inputs   = {inputs}\n}}\n"),
        )
        .unwrap();
        let out = ws.tf(&["plan"]);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, text) = check(r#"{ env = "qa", replicas = "12" }"#);
    assert!(!ok);
    assert!(
        text.contains("input `env` must be one of lab, staging, prod"),
        "{text}"
    );
    assert!(
        text.contains("input `replicas` is above its maximum 10"),
        "{text}"
    );
    assert_eq!(
        text.matches("Contract deploy-service violated").count(),
        2,
        "{text}"
    );
    let (ok, text) = check(r#"{ env = "prod", replicas = "3" }"#);
    assert!(ok, "{text}");
}

#[test]
fn an_intent_naming_a_missing_profile_is_refused_at_apply() {
    let (_, terraform) = terraforms().remove(0);
    let ws = Ws::new("missing-ref", &terraform);
    std::fs::copy(
        repo().join("examples/governance/versions.tf"),
        ws.work().join("versions.tf"),
    )
    .unwrap();
    std::fs::write(
        ws.work().join("main.tf"),
        "resource \"iom_intent\" \"i\" {\n  name    = \"payments\"\n  profile = \"no-such-profile\"\n}\n",
    )
    .unwrap();
    let out = ws.tf_with(
        &["apply", "-auto-approve"],
        &[("IOM_REFERENCE_WAIT_MS", "300")],
    );
    let text = words(&String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success());
    assert!(
        text.contains("Unresolved reference")
            && text.contains("no-such-profile")
            && text.contains("may not exist yet")
            && text.contains("iom_profile.prod.name"),
        "{text}"
    );
    assert!(
        ws.store().get(Kind::Intent, "payments").unwrap().is_none(),
        "nothing was written"
    );
}

/// The living model with a resource that really drifts: iom objects changed in the store
/// behind Terraform's back show as `resource_drift` in a real refresh-only plan.
#[test]
fn drift_is_observed_reconciled_and_holds_checks_until_accepted() {
    let (_, terraform) = terraforms().remove(0);
    let ws = Ws::new("drift", &terraform);
    std::fs::copy(
        repo().join("examples/governance/versions.tf"),
        ws.work().join("versions.tf"),
    )
    .unwrap();
    std::fs::write(
        ws.work().join("main.tf"),
        r#"
resource "iom_profile" "p" {
  name     = "governance-safe"
  on_drift = "block"
}
resource "iom_intent" "i" {
  name    = "governance"
  profile = iom_profile.p.name
  scope {
    workspaces = ["governance"]
  }
  allowed_resource_types = ["iom_*"]
}
resource "iom_element" "e" {
  name    = "model-store"
  kind    = "data"
  matches = ["iom_profile.*"]
}
"#,
    )
    .unwrap();
    ws.ok(&["apply", "-auto-approve"]);
    let plan_guard = |args: &[&str]| {
        let out = Command::new(built("plan-guard"))
            .args(args)
            .args(["--workspace", "governance", "--store", &ws.store])
            .current_dir(ws.work())
            .env("TERRAFORM_BINARY", &ws.terraform)
            .env("TF_CLI_CONFIG_FILE", ws.root.join("cli.tfrc"))
            .env("TF_VAR_store", &ws.store)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    };
    let (code, text) = plan_guard(&["observe"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("observed 3 resources"), "{text}");
    let (code, text) = plan_guard(&["reconcile"]);
    assert_eq!(code, 0, "no drift yet: {text}");

    // Out of band: the element's kind changes in the store.
    let store = ws.store();
    let Some(stored) = store.get(Kind::Element, "model-store").unwrap() else {
        unreachable!()
    };
    let Object::Element(mut element) = stored.object else {
        unreachable!()
    };
    element.kind = "service".into();
    store.put(&Object::Element(element)).unwrap();

    let (code, text) = plan_guard(&["reconcile"]);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("DRIFT on governed resources") && text.contains("iom_element.e"),
        "{text}"
    );

    // Every check of the workspace is held at the profile's on_drift (block).
    ws.ok(&["plan", "-out=tfplan"]);
    let (code, text) = plan_guard(&["check", "tfplan"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("[model / drift]") && text.contains("unreconciled drift"),
        "{text}"
    );

    // Accepted with a reason: checks go back to the model's own verdicts.
    let (code, text) = plan_guard(&[
        "reconcile",
        "--accept",
        "--reason",
        "kind corrected by the data team",
    ]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = plan_guard(&["check", "tfplan"]);
    assert_eq!(code, 0, "{text}");
    let out = Command::new(built("plan-guard"))
        .args(["evidence", "verify", "--store", &ws.store])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("ledger verified"),
        "{text}"
    );
}

#[test]
fn blueprint_versions_live_side_by_side() {
    let (_, terraform) = terraforms().remove(0);
    let ws = Ws::new("versions", &terraform);
    std::fs::copy(
        repo().join("examples/governance/versions.tf"),
        ws.work().join("versions.tf"),
    )
    .unwrap();
    let rule = |outcome: &str| {
        format!(
            "  rule {{\n    id        = \"r\"\n    condition = \"true\"\n    outcome   = \"{outcome}\"\n  }}\n"
        )
    };
    std::fs::write(
        ws.work().join("main.tf"),
        format!(
            "resource \"iom_blueprint\" \"v1\" {{\n  name    = \"naming\"\n  version = \"1.0.0\"\n{}}}\n\
             resource \"iom_blueprint\" \"v2\" {{\n  name    = \"naming\"\n  version = \"2.1.0\"\n{}}}\n\
             resource \"iom_profile\" \"p\" {{\n  name = \"p\"\n}}\n\
             resource \"iom_intent\" \"old\" {{\n  name       = \"old\"\n  profile    = iom_profile.p.name\n  blueprints = [\"naming@${{iom_blueprint.v1.version}}\"]\n}}\n\
             resource \"iom_intent\" \"new\" {{\n  name       = \"new\"\n  profile    = iom_profile.p.name\n  blueprints = [\"naming@${{iom_blueprint.v2.version}}\"]\n}}\n",
            rule("warn"),
            rule("block")
        ),
    )
    .unwrap();
    ws.ok(&["apply", "-auto-approve"]);
    let store = ws.store();
    assert!(
        store
            .get(Kind::Blueprint, "naming@1.0.0")
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .get(Kind::Blueprint, "naming@2.1.0")
            .unwrap()
            .is_some()
    );
    assert_eq!(ws.plan_code().0, 0);

    // A bare name imports the highest version.
    std::fs::remove_file(ws.work().join("terraform.tfstate")).unwrap();
    ws.ok(&["import", "iom_blueprint.v2", "naming"]);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.work().join("terraform.tfstate")).unwrap(),
    )
    .unwrap();
    let id = &state["resources"][0]["instances"][0]["attributes"]["id"];
    assert_eq!(id, "naming@2.1.0");
}

#[test]
fn waivers_are_declared_with_the_provider() {
    let (_, terraform) = terraforms().remove(0);
    let ws = Ws::new("waiver", &terraform);
    std::fs::copy(
        repo().join("examples/governance/versions.tf"),
        ws.work().join("versions.tf"),
    )
    .unwrap();
    std::fs::write(
        ws.work().join("main.tf"),
        r#"
resource "iom_waiver" "w" {
  name        = "ledger-migration"
  source      = "intent:payments-prod"
  rule        = "critical"
  addresses   = ["module.payments.terraform_data.ledger_db*"]
  workspaces  = ["payments-*"]
  reason      = "CHG-1234"
  approved_by = "alice"
  expires     = "2099-01-01T00:00:00Z"
}
"#,
    )
    .unwrap();
    ws.ok(&["apply", "-auto-approve"]);
    assert!(
        ws.store()
            .get(Kind::Waiver, "ledger-migration")
            .unwrap()
            .is_some()
    );
    assert_eq!(ws.plan_code().0, 0);
    ws.edit("main.tf", "2099-01-01T00:00:00Z", "next week");
    let out = ws.tf(&["validate"]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && text.contains("Invalid expires"),
        "{text}"
    );
}

const HOOK_CANARY: &str = "acc-hook-canary-5d1e";

/// Notifications on both Terraform versions: applied into the store (a URL, or the name
/// of the variable that holds it), no changes on a second plan, a new URL planned as an
/// update without being shown (sensitive), and a URL that is no webhook refused at
/// validate naming the attribute, never quoting the URL.
#[test]
fn notifications_are_declared_with_the_provider() {
    for (version, terraform) in terraforms() {
        let ws = Ws::new(&format!("notify-{version}"), &terraform);
        std::fs::copy(
            repo().join("examples/governance/versions.tf"),
            ws.work().join("versions.tf"),
        )
        .unwrap();
        std::fs::write(
            ws.work().join("main.tf"),
            format!(
                r#"
resource "iom_notification" "pager" {{
  name = "pager"
  url  = "https://hooks.example/services/{HOOK_CANARY}"
  on   = ["block"]
}}

resource "iom_notification" "oncall" {{
  name       = "platform-oncall"
  url_env    = "IOM_NOTIFY_ONCALL"
  on         = ["escalate", "drift", "post_verify_failed"]
  workspaces = ["payments-*"]
}}
"#
            ),
        )
        .unwrap();
        let out = ws.ok(&["apply", "-auto-approve"]);
        assert!(
            out.contains("Apply complete! Resources: 2 added"),
            "{version}: {out}"
        );
        assert!(!out.contains(HOOK_CANARY), "{version}: {out}");
        let store = ws.store();
        let Some(Object::Notification(oncall)) = store
            .get(Kind::Notification, "platform-oncall")
            .unwrap()
            .map(|s| s.object)
        else {
            panic!("{version}: platform-oncall not stored");
        };
        assert_eq!(oncall.url_env.as_deref(), Some("IOM_NOTIFY_ONCALL"));
        assert_eq!(oncall.url, None, "no URL stored for url_env");
        assert_eq!(oncall.on, ["escalate", "drift", "post_verify_failed"]);
        let (code, text) = ws.plan_code();
        assert_eq!(code, 0, "{version}: a second plan shows no changes: {text}");

        ws.edit("main.tf", HOOK_CANARY, "rotated-canary-9b2c");
        let (code, text) = ws.plan_code();
        assert_eq!(code, 2, "{version}: {text}");
        assert!(
            text.contains("iom_notification.pager will be updated in-place"),
            "{version}: {text}"
        );
        assert!(text.contains("(sensitive value)"), "{version}: {text}");
        for secret in [HOOK_CANARY, "rotated-canary-9b2c"] {
            assert!(!text.contains(secret), "{version}: {text}");
        }

        ws.edit(
            "main.tf",
            "https://hooks.example/services/rotated-canary-9b2c",
            "hooks.example/rotated-canary-9b2c",
        );
        let out = ws.tf(&["validate"]);
        let text = words(&String::from_utf8_lossy(&out.stderr));
        assert!(!out.status.success(), "{version}: {text}");
        assert!(
            text.contains("Invalid url")
                && text.contains("must be an http:// or https:// URL with a host"),
            "{version}: {text}"
        );
        // Terraform quotes the configuration's source line; the provider's message
        // does not quote the URL again.
        assert_eq!(
            text.matches("rotated-canary-9b2c").count(),
            1,
            "{version}: {text}"
        );
    }
}

/// The example governance with a notification applied by the provider; `plan-guard
/// check --store` posts an escalation to it (its URL read from `url_env`) and an allow
/// to nobody.
#[test]
fn plan_guard_posts_to_a_notification_the_provider_applied() {
    let (_, terraform) = terraforms().remove(0);
    let ws = Ws::new("notify-check", &terraform);
    ws.governance();
    std::fs::write(
        ws.work().join("notify.tf"),
        r#"
resource "iom_notification" "oncall" {
  name       = "platform-oncall"
  url_env    = "IOM_NOTIFY_ONCALL"
  on         = ["escalate"]
  workspaces = ["payments-*"]
}
"#,
    )
    .unwrap();
    let out = ws.ok(&["apply", "-auto-approve"]);
    assert!(out.contains("Apply complete! Resources: 10 added"), "{out}");
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/{HOOK_CANARY}",
        hook.local_addr().unwrap()
    );
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in hook.incoming().flatten() {
            kept.lock().unwrap().push(answer_ok(stream));
        }
    });
    for (plan, code, posts) in [
        ("example_allow.json", 0, 0),
        ("example_escalate.json", 3, 1),
    ] {
        let out = Command::new(built("plan-guard"))
            .arg("check")
            .arg(repo().join("plan-guard/tests/fixtures/plans").join(plan))
            .args(["--workspace", "payments-prod", "--store", &ws.store])
            .arg("--source-dir")
            .arg(repo().join("examples/workspace"))
            .current_dir(&ws.root)
            .env_remove("IOM_STORE")
            .env("IOM_NOTIFY_ONCALL", &url)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{plan}: {text}");
        assert!(!text.contains(HOOK_CANARY), "{text}");
        assert_eq!(bodies.lock().unwrap().len(), posts, "{plan}: {text}");
    }
    let body: serde_json::Value = serde_json::from_str(&bodies.lock().unwrap()[0]).unwrap();
    assert_eq!(body["event"], "escalate");
    assert_eq!(body["workspace"], "payments-prod");
}

/// Reads one HTTP request and answers 200; returns its body.
fn answer_ok(stream: std::net::TcpStream) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut reader = BufReader::new(stream);
    let (mut line, mut length) = (String::new(), 0);
    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let _ = reader
        .get_mut()
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    String::from_utf8_lossy(&body).into_owned()
}

/// A model may write references between objects as literal names (docs/index.md). Terraform then has
/// no edge between the writes and creates the intent beside the profile it names: the
/// provider waits for it, so the first apply succeeds. A delete that would leave a
/// reference dangling is refused naming the referrer, while a full destroy (referrers
/// deleted beside it) and a blueprint version bump (a replace) go through.
#[test]
fn literal_name_references_apply_first_time_and_guard_deletes() {
    for (version, terraform) in terraforms() {
        let ws = Ws::new(&format!("literal-{version}"), &terraform);
        std::fs::copy(
            repo().join("examples/governance/versions.tf"),
            ws.work().join("versions.tf"),
        )
        .unwrap();
        let blueprint = r#"
resource "iom_blueprint" "storage" {
  name    = "encrypted-storage"
  version = "1.0.0"
  rule {
    id        = "sse-required"
    condition = "true"
    outcome   = "block"
  }
}
"#;
        let rest = r#"
resource "iom_profile" "prod" {
  name = "prod-safe"
}
resource "iom_intent" "payments_prod" {
  name       = "payments-prod"
  profile    = "prod-safe"
  blueprints = ["encrypted-storage"]
}
resource "iom_contract" "deploy_service" {
  name   = "deploy-service"
  module = "module.service*"
  constraint {
    profile        = "prod-safe"
    forbid_actions = ["delete"]
  }
}
resource "iom_element" "net" {
  name                = "core-network"
  kind                = "network"
  depends_on_elements = ["identity-provider"]
}
resource "iom_element" "idp" {
  name = "identity-provider"
  kind = "identity"
}
"#;
        std::fs::write(ws.work().join("main.tf"), format!("{blueprint}{rest}")).unwrap();
        let started = std::time::Instant::now();
        let out = ws.ok(&["apply", "-auto-approve"]);
        assert!(out.contains("6 added"), "{version}: {out}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{version}: took {:?}",
            started.elapsed()
        );
        assert_eq!(ws.plan_code().0, 0, "{version}");

        // The blueprint leaves the configuration; the intent still names it.
        std::fs::write(ws.work().join("main.tf"), rest).unwrap();
        let out = ws.tf_with(
            &["apply", "-auto-approve"],
            &[("IOM_REFERENCE_WAIT_MS", "500")],
        );
        let text = words(&String::from_utf8_lossy(&out.stderr));
        assert!(!out.status.success(), "{version}: delete not refused");
        assert!(
            text.contains("Object still referenced")
                && text.contains("iom_intent `payments-prod` references it"),
            "{version}: {text}"
        );
        assert!(
            ws.store()
                .get(Kind::Blueprint, "encrypted-storage@1.0.0")
                .unwrap()
                .is_some(),
            "{version}: the referenced blueprint is still there"
        );

        // Referenced through its resource, a new version replaces it in one apply.
        let pinned = rest.replace(
            r#"blueprints = ["encrypted-storage"]"#,
            "blueprints = [iom_blueprint.storage.id]",
        );
        std::fs::write(ws.work().join("main.tf"), format!("{blueprint}{pinned}")).unwrap();
        ws.ok(&["apply", "-auto-approve"]);
        std::fs::write(
            ws.work().join("main.tf"),
            format!("{}{pinned}", blueprint.replace("1.0.0", "1.1.0")),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let out = ws.ok(&["apply", "-auto-approve"]);
        assert!(out.contains("1 destroyed"), "{version}: {out}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{version}: the replace waited for its referrer: {:?}",
            started.elapsed()
        );

        // Back to literal names: a full destroy deletes referrers and referenced alike.
        std::fs::write(
            ws.work().join("main.tf"),
            format!("{}{rest}", blueprint.replace("1.0.0", "1.1.0")),
        )
        .unwrap();
        ws.ok(&["apply", "-auto-approve"]);
        ws.ok(&["destroy", "-auto-approve"]);
        assert!(ws.store().list().unwrap().is_empty(), "{version}");
    }
}

/// `enum = [1, 2]` of a number input reaches the store as numbers (Terraform hands the
/// provider strings), so `--store` judges `n = 1` as `--model` does; the state keeps the
/// configuration's form, so there is nothing to change on the next plan.
#[test]
fn numeric_enums_keep_their_type() {
    for (version, terraform) in terraforms() {
        let ws = Ws::new(&format!("enum-{version}"), &terraform);
        std::fs::copy(
            repo().join("examples/governance/versions.tf"),
            ws.work().join("versions.tf"),
        )
        .unwrap();
        std::fs::write(
            ws.work().join("main.tf"),
            r#"
resource "iom_contract" "c" {
  name   = "c"
  module = "module.svc"
  input {
    name = "n"
    type = "number"
    enum = [1, 2.5]
  }
  input {
    name = "flag"
    type = "bool"
    enum = [true]
  }
  input {
    name = "env"
    enum = ["lab", "prod"]
  }
}
"#,
        )
        .unwrap();
        ws.ok(&["apply", "-auto-approve"]);
        assert_eq!(ws.plan_code().0, 0, "{version}");
        let Some(stored) = ws.store().get(Kind::Contract, "c").unwrap() else {
            unreachable!()
        };
        let Object::Contract(c) = stored.object else {
            unreachable!()
        };
        let enums: Vec<Vec<serde_json::Value>> =
            c.input.iter().map(|i| i.allowed.clone()).collect();
        assert_eq!(
            enums,
            [
                vec![serde_json::json!(1), serde_json::json!(2.5)],
                vec![serde_json::json!(true)],
                vec![serde_json::json!("lab"), serde_json::json!("prod")],
            ],
            "{version}"
        );
        // The same HCL loaded by plan-guard --model gives the same contract.
        let model = iom_model::load_dir(&ws.work()).unwrap();
        assert_eq!(model.contracts, [c], "{version}");

        // iom_contract_check (inputs as text, read back as numbers and bools) agrees.
        let check = |inputs: &str| {
            std::fs::write(
                ws.work().join("check.tf"),
                format!("data \"iom_contract_check\" \"svc\" {{\n  contract = \"c\"\n  inputs   = {inputs}\n}}\n"),
            )
            .unwrap();
            let out = ws.tf(&["plan"]);
            (
                out.status.success(),
                words(&String::from_utf8_lossy(&out.stderr)),
            )
        };
        let (ok, text) = check(r#"{ n = 1, flag = true, env = "lab" }"#);
        assert!(ok, "{version}: {text}");
        let (ok, text) = check(r#"{ n = 3, flag = false, env = "lab" }"#);
        assert!(
            !ok && text.contains("input `n` must be one of 1, 2.5")
                && text.contains("input `flag` must be one of true"),
            "{version}: {text}"
        );
    }
}
