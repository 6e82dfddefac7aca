//! End to end with the project's own real Terraform (scripts/install-terraform.sh):
//! the example workspace is planned in three scenarios and each plan, as JSON and as a
//! binary plan file, is checked with the `plan-guard` binary against the example
//! governance. The workspace's sensitive canary must appear in no output.

use crate::support::{repo, scratch, tf};
use std::path::{Path, PathBuf};
use std::process::Command;

fn terraform() -> PathBuf {
    let path = crate::support::terraform();
    assert!(
        path.exists(),
        "no Terraform at {}: run scripts/install-terraform.sh (or set TERRAFORM_BINARY)",
        path.display()
    );
    path
}

fn plan_guard(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .env_remove("IOM_STORE")
        .args(args)
        .current_dir(cwd)
        .env("TERRAFORM_BINARY", terraform())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn example_workspace_gives_allow_escalate_and_block() {
    let work = scratch("example");
    let src = repo().join("examples/workspace");
    let status = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", src.display()))
        .arg(&work)
        .status()
        .unwrap();
    assert!(status.success());
    tf(&work, &["init", "-input=false", "-no-color"]);
    let governance = repo().join("examples/governance");
    let governance = governance.to_str().unwrap();

    for (vars, expected, flagged) in [
        (vec![], 0, None),
        (
            vec!["-var", "enable_ledger_db=true"],
            3,
            Some("module.payments.terraform_data.ledger_db[0]"),
        ),
        (
            vec!["-var", "region=us-east-1"],
            2,
            Some("module.payments.terraform_data.queue"),
        ),
    ] {
        let mut args = vec!["plan", "-input=false", "-no-color", "-out=tfplan"];
        args.extend(vars.iter().copied());
        tf(&work, &args);
        let json = tf(&work, &["show", "-json", "tfplan"]);
        assert!(
            json.contains("demo-secret-canary-7f3a"),
            "the plan JSON carries the canary, so the test means something"
        );
        std::fs::write(work.join("plan.json"), &json).unwrap();
        for input in ["plan.json", "tfplan"] {
            for format in ["text", "json"] {
                let (code, out, err) = plan_guard(
                    &[
                        "check",
                        input,
                        "--model",
                        governance,
                        "--workspace",
                        "payments-prod",
                        "--format",
                        format,
                    ],
                    &work,
                );
                assert_eq!(code, expected, "{vars:?} {input} {format}: {out}{err}");
                assert!(
                    !out.contains("demo-secret-canary-7f3a")
                        && !err.contains("demo-secret-canary-7f3a"),
                    "canary leaked: {out}{err}"
                );
                if let Some(address) = flagged {
                    assert!(out.contains(address), "{out}");
                }
            }
        }
    }

    let (code, dot, _) = plan_guard(&["graph", "plan.json", "--format", "dot"], &work);
    assert_eq!(code, 0);
    // The root `dns` reads module.payments.endpoint, which is api[0]'s id inside the module.
    assert!(
        dot.contains(r#""module.payments.terraform_data.api[0]" -> "terraform_data.dns""#),
        "{dot}"
    );
    // api reads module.network.subnet_ids through the module input variable.
    assert!(dot.contains(r#""module.network.terraform_data.subnet[\"a\"]" -> "module.payments.terraform_data.api[0]""#), "{dot}");
    // depends_on inside the module.
    assert!(
        dot.contains(
            r#""module.payments.terraform_data.api[1]" -> "module.payments.terraform_data.queue""#
        ),
        "{dot}"
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// A plan large enough to be judged on several threads gives, byte for byte, the report
/// one thread gives (decision id and time aside).
#[test]
fn threads_do_not_change_the_report() {
    let work = scratch("threads");
    std::fs::write(
        work.join("main.tf"),
        r#"
resource "terraform_data" "hub" {
  input = { region = "eu-west-1", owner = "platform" }
}
module "unit" {
  source = "./unit"
  count  = 40
  hub    = terraform_data.hub.id
  region = count.index % 3 == 0 ? "us-east-1" : "eu-west-1"
}
"#,
    )
    .unwrap();
    std::fs::create_dir_all(work.join("unit")).unwrap();
    std::fs::write(
        work.join("unit/main.tf"),
        r#"
variable "hub" { type = string }
variable "region" { type = string }
resource "terraform_data" "item" {
  count = 8
  input = { region = var.region, hub = var.hub, owner = count.index == 0 ? "nobody" : "platform" }
}
"#,
    )
    .unwrap();
    tf(&work, &["init", "-input=false", "-no-color"]);
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    std::fs::write(
        work.join("plan.json"),
        tf(&work, &["show", "-json", "tfplan"]),
    )
    .unwrap();
    let governance = repo().join("bench/governance");
    let report = |threads: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .env_remove("IOM_STORE")
            .args([
                "check",
                "plan.json",
                "--format",
                "json",
                "--workspace",
                "bench-x",
            ])
            .arg("--model")
            .arg(&governance)
            .env("PLAN_GUARD_THREADS", threads)
            .current_dir(&work)
            .output()
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["decision_id"] = "x".into();
        v["generated_at"] = "x".into();
        (out.status.code(), v)
    };
    let (code_one, one) = report("1");
    let (code_four, four) = report("4");
    assert_eq!(one["summary"]["changes"], 321);
    assert_eq!(code_one, code_four);
    assert_eq!(one, four);
    assert!(
        one["verdict"] != "allow",
        "the plan breaks rules, so the comparison means something"
    );
    let _ = std::fs::remove_dir_all(&work);
}
