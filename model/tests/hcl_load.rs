//! Loading governance HCL: a model with every kind of object (fixtures/design.tf) resolves,
//! and every kind of mistake is an error that names the file, line and attribute.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use iom_model::{Model, load_dir, load_str};
use std::path::Path;

#[test]
fn design_example_loads_and_resolves_references() {
    let spec =
        load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")).expect("loads");
    assert_eq!(spec.profiles.len(), 1);
    assert_eq!(spec.profiles[0].name, "prod-safe");
    assert_eq!(spec.profiles[0].max_blast_radius, Some(20));
    assert_eq!(spec.profiles[0].groups["platform"], vec!["bob", "carol"]);
    let intent = &spec.intents[0];
    assert_eq!(intent.profile, "prod-safe");
    assert_eq!(intent.environment.as_deref(), Some("prod"));
    assert_eq!(intent.blueprints, vec!["encrypted-storage@1.0.0"]);
    assert_eq!(
        intent.scope.as_ref().unwrap().modules,
        vec!["module.payments"]
    );
    assert_eq!(spec.contracts[0].input.len(), 2);
    assert_eq!(spec.contracts[0].input[1].min, Some(1.0));
    assert_eq!(spec.contracts[0].post_verify[0].retries, Some(3));
    assert_eq!(spec.elements.len(), 2);
    assert_eq!(spec.notifications.len(), 1);
    assert_eq!(
        spec.notifications[0].url_env.as_deref(),
        Some("IOM_NOTIFY_ONCALL")
    );
    let model = Model::compile(spec).expect("compiles");
    assert!(model.notifications[0].covers("drift", "payments-prod"));
    assert!(!model.notifications[0].covers("drift", "billing-prod"));
    assert_eq!(
        model.intents[0].rules.len(),
        2,
        "constraint + blueprint rule"
    );
}

fn load_err(text: &str) -> String {
    let errors = load_str("gov.tf", text).expect_err("must fail");
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn unknown_outcome_word_points_at_the_attribute() {
    let e = load_err(
        r#"
resource "iom_profile" "p" {
  name    = "p"
  actions = { delete = "deny" }
}
"#,
    );
    assert!(
        e.starts_with("gov.tf:4:13: iom_profile.p, attribute `actions[\"delete\"]`"),
        "{e}"
    );
    assert!(e.contains("unknown outcome `deny`"), "{e}");
}

#[test]
fn bad_cel_is_an_error_at_load() {
    let e = load_err(
        r#"
resource "iom_blueprint" "b" {
  name    = "b"
  version = "1.0.0"
  rule {
    id        = "r"
    condition = "after.x =="
    outcome   = "block"
  }
}
"#,
    );
    assert!(
        e.starts_with(
            "gov.tf:7:17: iom_blueprint.b, attribute `rule[0].condition`: CEL syntax error"
        ),
        "{e}"
    );
}

#[test]
fn a_contract_naming_module_instances_is_an_error_at_load() {
    let e = load_err(
        r#"
resource "iom_contract" "c" {
  name   = "c"
  module = "module.mc[0]"
}
"#,
    );
    assert!(
        e.contains("iom_contract.c, attribute `module`") && e.contains("names module instances"),
        "{e}"
    );
    load_str(
        "gov.tf",
        "resource \"iom_contract\" \"c\" {\n  name   = \"c\"\n  module = \"module.mc[*]\"\n}\n",
    )
    .unwrap_or_else(|e| panic!("{}", e[0]));
}

#[test]
fn a_name_the_condition_cannot_read_is_an_error_at_load() {
    let e = load_err(
        r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_intent" "i" {
  name    = "i"
  profile = "p"
  constraint {
    id        = "c"
    condition = "afterr.input == 1"
    outcome   = "warn"
  }
}
"#,
    );
    assert!(
        e.starts_with("gov.tf:8:17: iom_intent.i, attribute `constraint[0].condition`: undeclared reference `afterr`"),
        "{e}"
    );
}

#[test]
fn bad_glob_duplicate_names_and_missing_references() {
    let e = load_err(
        r#"
resource "iom_profile" "a" { name = "same" }
resource "iom_profile" "b" { name = "same" }
resource "iom_intent" "i" {
  name       = "i"
  profile    = "nope"
  blueprints = ["storage@9.9.9"]
  critical   = ["aws_[db"]
}
"#,
    );
    assert!(e.contains("gov.tf:3:"), "{e}");
    assert!(e.contains("duplicate name `same`"), "{e}");
    assert!(
        e.contains(
            "gov.tf:6:16: iom_intent.i, attribute `profile`: no iom_profile is named `nope`"
        ),
        "{e}"
    );
    assert!(
        e.contains("attribute `blueprints[0]`: no iom_blueprint is named `storage`"),
        "{e}"
    );
    assert!(
        e.contains("attribute `critical[0]`: invalid glob `aws_[db`"),
        "{e}"
    );
}

#[test]
fn missing_blueprint_version_is_named() {
    let e = load_err(
        r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_blueprint" "b" {
  name    = "naming"
  version = "2.0.0"
}
resource "iom_intent" "i" {
  name       = "i"
  profile    = iom_profile.p.name
  blueprints = ["${iom_blueprint.b.name}@2.1.0"]
}
"#,
    );
    assert!(
        e.contains("has no version `2.1.0` (declared: 2.0.0)"),
        "{e}"
    );
}

#[test]
fn unresolvable_references_name_file_line_and_attribute() {
    let e = load_err(
        r#"
resource "iom_profile" "p" {
  name       = "p"
  on_unknown = var.missing
}
"#,
    );
    assert!(
        e.starts_with(
            "gov.tf:4:16: iom_profile.p: attribute `on_unknown` cannot be resolved statically"
        ),
        "{e}"
    );
    let e = load_err(
        r#"
resource "iom_intent" "i" {
  name    = "i"
  profile = iom_profile.ghost.name
}
"#,
    );
    assert!(e.contains("gov.tf:4:13"), "{e}");
}

#[test]
fn unknown_attributes_and_syntax_errors() {
    let e = load_err("resource \"iom_profile\" \"p\" {\n  name = \"p\"\n  max_blast = 3\n}\n");
    assert!(
        e.contains("gov.tf:3:3: iom_profile.p: unknown attribute `max_blast`"),
        "{e}"
    );
    let e = load_err("resource \"iom_profile\" \"p\" {\n  name = \n}\n");
    assert!(e.contains("HCL syntax error"), "{e}");
    assert!(e.starts_with("gov.tf:"), "{e}");
}

#[test]
fn other_blocks_are_ignored() {
    let spec = load_str(
        "x.tf",
        "resource \"aws_instance\" \"x\" { ami = data.x.y }\nterraform {}\n",
    )
    .unwrap();
    assert!(spec.profiles.is_empty());
}

/// A scratch directory of files, removed when dropped.
struct Dir(std::path::PathBuf);

impl Dir {
    fn new(tag: &str, files: &[(&str, &str)]) -> Dir {
        let dir = std::env::temp_dir().join(format!("iom-load-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn create_outcome(dir: &Dir) -> String {
    let spec = load_dir(&dir.0).unwrap_or_else(|e| panic!("{}", e[0]));
    spec.profiles[0].actions["create"].clone()
}

const OUTCOME_FROM_VARIABLE: &str = r#"
variable "tfvars_probe_outcome" {
  type    = string
  default = "allow"
}
resource "iom_profile" "p" {
  name    = "p"
  actions = { create = var.tfvars_probe_outcome }
}
"#;

#[test]
fn variables_take_their_values_as_terraform_would() {
    let only_default = Dir::new("vars-default", &[("main.tf", OUTCOME_FROM_VARIABLE)]);
    assert_eq!(create_outcome(&only_default), "allow");
    let tfvars = Dir::new(
        "vars-tfvars",
        &[
            ("main.tf", OUTCOME_FROM_VARIABLE),
            ("terraform.tfvars", "tfvars_probe_outcome = \"block\"\n"),
        ],
    );
    assert_eq!(create_outcome(&tfvars), "block");
    // *.auto.tfvars come after terraform.tfvars, in lexical order; JSON ones too.
    let auto = Dir::new(
        "vars-auto",
        &[
            ("main.tf", OUTCOME_FROM_VARIABLE),
            ("terraform.tfvars", "tfvars_probe_outcome = \"block\"\n"),
            ("a.auto.tfvars", "tfvars_probe_outcome = \"escalate\"\n"),
            (
                "b.auto.tfvars.json",
                r#"{"tfvars_probe_outcome": "warn", "undeclared": 1}"#,
            ),
        ],
    );
    assert_eq!(create_outcome(&auto), "warn");
    let broken = Dir::new(
        "vars-broken",
        &[
            ("main.tf", OUTCOME_FROM_VARIABLE),
            ("terraform.tfvars", "tfvars_probe_outcome = \n"),
        ],
    );
    let e = load_dir(&broken.0).unwrap_err()[0].to_string();
    assert!(e.contains("terraform.tfvars:"), "{e}");
}

#[test]
fn governance_the_loader_cannot_read_is_an_error_not_a_gap() {
    let json = Dir::new(
        "json",
        &[
            (
                "main.tf",
                "resource \"iom_profile\" \"p\" { name = \"p\" }\n",
            ),
            (
                "intent.tf.json",
                r#"{"resource": {"iom_intent": {"i": {"name": "i", "profile": "p"}}}}"#,
            ),
        ],
    );
    let e = load_dir(&json.0).unwrap_err()[0].to_string();
    assert!(
        e.contains("intent.tf.json:1:1") && e.contains("JSON syntax"),
        "{e}"
    );
    let module = Dir::new(
        "module",
        &[
            (
                "main.tf",
                "resource \"iom_profile\" \"p\" { name = \"p\" }\n\nmodule \"intents\" {\n  source = \"./sub\"\n}\n",
            ),
            (
                "sub/main.tf",
                "resource \"iom_intent\" \"i\" {\n  name    = \"i\"\n  profile = \"p\"\n}\n",
            ),
        ],
    );
    let e = load_dir(&module.0).unwrap_err()[0].to_string();
    assert!(
        e.contains("main.tf:3:1") && e.contains("module `intents`"),
        "{e}"
    );
}

#[test]
fn tf_var_environment_values_sit_between_default_and_tfvars() {
    const NAME: &str = "tf_var_environment_values_sit_between_default_and_tfvars";
    // The loader reads the variable from its process's environment, and changing this
    // process's environment is unsafe while other tests run: the assertions run in a child
    // process of this test binary that starts with the variable set.
    if std::env::var_os("TF_VAR_tf_var_env_probe").is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--test-threads=1"])
            .env("TF_VAR_tf_var_env_probe", "escalate")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let main = OUTCOME_FROM_VARIABLE.replace("tfvars_probe_outcome", "tf_var_env_probe");
    let env_only = Dir::new("vars-env", &[("main.tf", &main)]);
    assert_eq!(create_outcome(&env_only), "escalate");
    let file_wins = Dir::new(
        "vars-env-file",
        &[
            ("main.tf", &main),
            ("terraform.tfvars", "tf_var_env_probe = \"block\"\n"),
        ],
    );
    assert_eq!(create_outcome(&file_wins), "block");
}

#[test]
fn module_rules_load_compile_and_name_their_mistakes() {
    let text = r#"
resource "iom_profile" "p" { name = "p" }
resource "iom_blueprint" "b" {
  name    = "modules"
  version = "1.0.0"
  module_rule {
    id        = "pinned"
    condition = "module_call.source.startsWith('./') || module_call.version != ''"
    outcome   = "block"
    message   = "pin the version"
  }
}
resource "iom_intent" "i" {
  name       = "i"
  profile    = "p"
  blueprints = ["modules"]
}
"#;
    let spec = load_str("gov.tf", text).unwrap_or_else(|e| panic!("{}", e[0]));
    assert_eq!(spec.blueprints[0].module_rule[0].id, "pinned");
    let model = Model::compile(spec).expect("compiles");
    let rules = &model.intents[0].module_rules;
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].source, "blueprint:modules@1.0.0");
    assert!(
        model.intents[0].rules.is_empty(),
        "no change rule came of it"
    );

    // A module rule reads the call, not a change: `after` is a mistake named at load.
    let e = load_err(&text.replace("module_call.version != ''", "after.x == 1"));
    assert!(
        e.starts_with("gov.tf:8:17: iom_blueprint.b, attribute `module_rule[0].condition`: undeclared reference `after`"),
        "{e}"
    );
    // Nor does a change rule read `module_call`.
    let e = load_err(
        r#"
resource "iom_blueprint" "b" {
  name    = "b"
  version = "1.0.0"
  rule {
    id        = "r"
    condition = "module_call.source == ''"
    outcome   = "block"
  }
}
"#,
    );
    assert!(
        e.contains("`rule[0].condition`: undeclared reference `module_call`"),
        "{e}"
    );
    let e = load_err(&text.replace("outcome   = \"block\"", "outcome   = \"allow\""));
    assert!(e.contains("`module_rule[0].outcome`"), "{e}");
    let twice = text.replace(
        "  module_rule {",
        "  module_rule {\n    id = \"pinned\"\n    condition = \"true\"\n    outcome = \"warn\"\n  }\n  module_rule {",
    );
    assert!(load_err(&twice).contains("duplicate id `pinned`"));
    // `module` is the class of judged calls, never a profile's or a rule's action.
    let e = load_err(
        "resource \"iom_profile\" \"p\" {\n  name    = \"p\"\n  actions = { module = \"warn\" }\n}\n",
    );
    assert!(
        e.contains("`module` is the class of judged module calls"),
        "{e}"
    );
}

#[test]
fn a_module_rule_whose_cost_grows_is_warned_of() {
    let spec = load_str(
        "gov.tf",
        r#"
resource "iom_blueprint" "b" {
  name    = "b"
  version = "1.0.0"
  module_rule {
    id        = "slow"
    condition = "[module_call.source, module_call.version].all(a, [module_call.source, module_call.version].exists_one(b, b == a))"
    outcome   = "warn"
  }
}
"#,
    )
    .unwrap_or_else(|e| panic!("{}", e[0]));
    let warnings = iom_model::validate::cost_warnings(&spec);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].to_string().contains("module_rule[0].condition"),
        "{}",
        warnings[0]
    );
}

/// A notification that could not be delivered would be silence: a URL that is no
/// webhook, an environment variable name no shell exports, no event or an unknown one,
/// both URL forms or neither are errors at load, at their line, and no error quotes the
/// URL (its path is the webhook's secret).
#[test]
fn a_notification_that_could_not_notify_is_an_error_at_load() {
    let cases = [
        (
            r#"url = "hooks.example/CANARY-PATH""#,
            r#"on = ["block"]"#,
            "gov.tf:3:9: iom_notification.n, attribute `url`: must be an http:// or https:// URL with a host",
        ),
        (
            r#"url = "file:///CANARY-PATH""#,
            r#"on = ["block"]"#,
            "attribute `url`: must be an http:// or https:// URL with a host",
        ),
        (
            r#"url = "https:///CANARY-PATH""#,
            r#"on = ["block"]"#,
            "attribute `url`: must be an http:// or https:// URL with a host",
        ),
        (
            r#"url_env = "IOM-HOOK""#,
            r#"on = ["block"]"#,
            "attribute `url_env`: `IOM-HOOK` is not an environment variable name",
        ),
        (
            r#"description = "no url""#,
            r#"on = ["block"]"#,
            "attribute `url`: needs `url`, or `url_env`",
        ),
        (
            "url = \"https://hooks.example/CANARY-PATH\"\n  url_env = \"HOOK\"",
            r#"on = ["block"]"#,
            "attribute `url_env`: give `url` or `url_env`, not both",
        ),
        (
            r#"url = "https://hooks.example/CANARY-PATH""#,
            r#"on = []"#,
            "gov.tf:4:8: iom_notification.n, attribute `on`: must list at least one of escalate, block, drift, post_verify_failed",
        ),
        (
            r#"url = "https://hooks.example/CANARY-PATH""#,
            r#"on = ["block", "verify_failed"]"#,
            "attribute `on[1]`: unknown event `verify_failed`: expected one of escalate, block, drift, post_verify_failed",
        ),
    ];
    for (target, on, want) in cases {
        let text = format!(
            "resource \"iom_notification\" \"n\" {{\n  name = \"n\"\n  {target}\n  {on}\n}}\n"
        );
        let e = load_err(&text);
        assert!(e.contains(want), "{text}\n---\n{e}");
        assert!(!e.contains("CANARY-PATH"), "{e}");
    }
}
