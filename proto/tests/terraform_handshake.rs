//! The example provider loaded by the real Terraform through `dev_overrides`:
//! plan, apply, a no-op plan, a replacing change, an import and a destroy,
//! checking Terraform's output and the state it wrote.
//!
//! Terraform comes from `TERRAFORM_BINARY`, else `<repo>/.tools/bin/terraform`
//! (installed by scripts/install-terraform.sh). Terraform 1.0.3, which only
//! speaks protocol 6.0, comes from `TERRAFORM_1_0_BINARY`, else
//! `<repo>/.tools/bin/terraform-1.0.3`. A missing binary skips its test with
//! a loud message rather than failing, except under the test script
//! (`IOM_REQUIRE_TERRAFORM=1`, as `IOM_REQUIRE_POSTGRES` does for PostgreSQL), where a
//! test that cannot run is a failure, not a pass.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TempDir, provider_binary};
use serde_json::Value as Json;

fn tools_bin(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("proto/ sits in the repository root")
        .join(".tools")
        .join("bin")
        .join(name)
}

fn find_terraform(env_var: &str, default_name: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| tools_bin(default_name));
    if path.exists() {
        Some(path)
    } else if std::env::var("IOM_REQUIRE_TERRAFORM").as_deref() == Ok("1") {
        panic!(
            "IOM_REQUIRE_TERRAFORM=1 but there is no Terraform at {} (set {env_var} or run scripts/install-terraform.sh)",
            path.display()
        );
    } else {
        // Straight to the stderr handle: the test harness captures eprintln!
        // of passing tests, and a skip must not go unnoticed.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n########################################################################\n\
             SKIPPED: no Terraform at {} (set {env_var} or run scripts/install-terraform.sh)\n\
             ########################################################################",
            path.display()
        );
        None
    }
}

struct Workspace {
    terraform: PathBuf,
    root: TempDir,
}

impl Workspace {
    fn new(terraform: PathBuf, label: &str) -> Workspace {
        let root = TempDir::new(label);
        let plugins = root.path().join("plugins");
        let work = root.path().join("work");
        std::fs::create_dir_all(&plugins).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        // A directory holding only the provider: Terraform picks the binary
        // by its name prefix, and cargo's directory has hashed copies too.
        let binary = provider_binary();
        std::fs::copy(&binary, plugins.join(binary.file_name().unwrap())).unwrap();
        let cli_config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/iom/iomtest\" = {:?}\n  }}\n  direct {{}}\n}}\n",
            plugins.display().to_string()
        );
        std::fs::write(root.path().join("cli.tfrc"), cli_config).unwrap();
        Workspace { terraform, root }
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    fn write_config(&self, name: &str) {
        let config = format!(
            r#"terraform {{
  required_providers {{
    iomtest = {{ source = "iom/iomtest" }}
  }}
}}

provider "iomtest" {{
  prefix = "t"
}}

resource "iomtest_thing" "a" {{
  name = "{name}"
  size = 0.1
  tags = {{ env = "lab" }}
}}

data "iomtest_echo" "e" {{
  input = iomtest_thing.a.id
}}

output "echo" {{
  value = data.iomtest_echo.e.output
}}
"#
        );
        std::fs::write(self.work().join("main.tf"), config).unwrap();
    }

    /// Runs a subcommand that takes `-input` and `-no-color` (placed before
    /// its positional arguments, where Terraform parses flags).
    fn terraform(&self, args: &[&str]) -> Output {
        let (command, rest) = args.split_first().expect("a subcommand");
        let mut all = vec![*command, "-input=false", "-no-color"];
        all.extend(rest);
        self.terraform_plain(&all)
    }

    /// Runs a command with exactly these arguments.
    fn terraform_plain(&self, args: &[&str]) -> Output {
        let output = Command::new(&self.terraform)
            .args(args)
            .current_dir(self.work())
            .env("TF_CLI_CONFIG_FILE", self.root.path().join("cli.tfrc"))
            .env("IOMTEST_TRACE", self.root.path().join("trace.log"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .output()
            .expect("run terraform");
        eprintln!(
            "$ terraform {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn state(&self) -> Json {
        let text = std::fs::read_to_string(self.work().join("terraform.tfstate")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn thing_attributes(&self) -> Option<Json> {
        let state = self.state();
        let resources = state["resources"].as_array()?;
        let thing = resources
            .iter()
            .find(|r| r["type"] == "iomtest_thing" && r["mode"] == "managed")?;
        Some(thing["instances"][0]["attributes"].clone())
    }

    fn trace(&self) -> String {
        std::fs::read_to_string(self.root.path().join("trace.log")).unwrap_or_default()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The whole lifecycle against one Terraform; returns the version the
/// provider was told in ConfigureProvider.
fn lifecycle(terraform: PathBuf, label: &str) -> String {
    let ws = Workspace::new(terraform, label);
    ws.write_config("alpha");

    // -detailed-exitcode: 2 means "succeeded, with changes".
    let plan = ws.terraform(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "plan succeeds with changes");
    assert!(stdout(&plan).contains("iomtest_thing.a will be created"));

    let apply = ws.terraform(&["apply", "-auto-approve"]);
    assert!(apply.status.success(), "apply succeeds");
    assert!(stdout(&apply).contains("Resources: 1 added, 0 changed, 0 destroyed"));
    assert!(stdout(&apply).contains(r#"echo = "t-alpha""#));

    let attrs = ws.thing_attributes().expect("iomtest_thing.a in state");
    assert_eq!(attrs["id"], "t-alpha");
    assert_eq!(attrs["name"], "alpha");
    assert_eq!(attrs["size"], 0.1);
    assert_eq!(attrs["tags"]["env"], "lab");
    assert_eq!(ws.state()["outputs"]["echo"]["value"], "t-alpha");

    // Nothing drifts: read returns the state, and 0.1 survives the round trips.
    let replan = ws.terraform(&["plan", "-detailed-exitcode"]);
    assert_eq!(replan.status.code(), Some(0), "no changes after apply");

    // A new name forces replacement (requires_replace).
    ws.write_config("beta");
    let replace = ws.terraform(&["apply", "-auto-approve"]);
    assert!(replace.status.success(), "replacing apply succeeds");
    assert!(stdout(&replace).contains("must be replaced"));
    assert!(stdout(&replace).contains("Resources: 1 added, 0 changed, 1 destroyed"));
    assert_eq!(ws.thing_attributes().unwrap()["id"], "t-beta");

    // Import: forget the object, then bring it back by id (ImportResourceState,
    // then ReadResource on what it returned).
    let forget = ws.terraform_plain(&["state", "rm", "iomtest_thing.a"]);
    assert!(forget.status.success(), "state rm succeeds");
    assert!(ws.thing_attributes().is_none());
    let import = ws.terraform(&["import", "iomtest_thing.a", "t-beta"]);
    assert!(import.status.success(), "import succeeds");
    let imported = ws.thing_attributes().expect("imported into state");
    assert_eq!(imported["id"], "t-beta");
    assert_eq!(imported["name"], "beta");

    let destroy = ws.terraform(&["destroy", "-auto-approve"]);
    assert!(destroy.status.success(), "destroy succeeds");
    assert!(ws.thing_attributes().is_none(), "nothing left in state");

    let trace = ws.trace();
    for call in [
        "apply create",
        "apply destroy",
        "read iomtest_echo",
        "plan iomtest_thing",
    ] {
        assert!(trace.contains(call), "provider saw {call:?}:\n{trace}");
    }
    trace
        .lines()
        .find_map(|l| l.strip_prefix("configure terraform_version="))
        .expect("ConfigureProvider was called")
        .to_owned()
}

#[test]
fn current_terraform_plans_applies_and_destroys() {
    let Some(terraform) = find_terraform("TERRAFORM_BINARY", "terraform") else {
        return;
    };
    let version = lifecycle(terraform, "tf-current");
    eprintln!("provider served Terraform {version}");
    assert!(version.starts_with("1."), "{version}");
}

#[test]
fn terraform_1_0_speaking_protocol_6_0_works_too() {
    let Some(terraform) = find_terraform("TERRAFORM_1_0_BINARY", "terraform-1.0.3") else {
        return;
    };
    let version = lifecycle(terraform, "tf-1-0");
    eprintln!("provider served Terraform {version}");
    assert!(version.starts_with("1.0."), "{version}");
}
