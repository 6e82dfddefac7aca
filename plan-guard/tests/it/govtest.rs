//! `plan-guard test`: the example governance's own tests pass with the real Terraform, and
//! a wrong expectation fails with a message a reviewer can act on.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .env_remove("IOM_STORE")
        .arg("test")
        .arg(dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap(), text)
}

#[test]
fn the_example_governance_passes_its_own_tests() {
    let (code, text) = run(&root().join("examples/governance/tests"));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("5 passed, 0 failed"), "{text}");
}

#[test]
fn wrong_expectations_fail_and_say_why() {
    let dir = std::env::temp_dir().join(format!("pg-govtest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let plans = root().join("plan-guard/tests/fixtures/plans");
    let governance = root().join("examples/governance");
    std::fs::write(
        dir.join("wrong.iomtest.hcl"),
        format!(
            r#"
model = "{governance}"

test "expects allow where the governance escalates" {{
  plan      = "{plans}/example_escalate.json"
  workspace = "payments-prod"
  verdict   = "allow"
  changes = {{
    "module.payments.terraform_data.ledger_db[0]" = "allow"
    "aws_instance.absent"                         = "block"
  }}
}}

test "a plan that does not exist" {{
  plan = "{plans}/no-such-plan.json"
}}

test "right" {{
  plan      = "{plans}/example_block.json"
  workspace = "payments-prod"
  verdict   = "block"
}}
"#,
            governance = governance.display(),
            plans = plans.display()
        ),
    )
    .unwrap();
    let (code, text) = run(&dir);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  expects allow where the governance escalates"),
        "{text}"
    );
    assert!(
        text.contains("verdict: expected allow, got escalate"),
        "{text}"
    );
    // Every escalating finding is named: the critical address and (without the workspace's
    // source at hand) the payments contract's inputs, which pass variables through.
    assert!(
        text.contains("module.payments.terraform_data.ledger_db[0]: expected allow, got escalate (contract:payments-service/input.api_token, ")
            && text.contains(", intent:payments-prod/critical)"),
        "{text}"
    );
    assert!(
        text.contains("aws_instance.absent: expected block, but the plan does not change it"),
        "{text}"
    );
    assert!(text.contains("ERROR a plan that does not exist"), "{text}");
    assert!(text.contains("ok    right"), "{text}");
    assert!(text.contains("1 passed, 2 failed"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_and_man_page_come_from_the_cli_definitions() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .env_remove("IOM_STORE")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let bash = run(&["completions", "bash"]);
    assert!(
        bash.contains("_plan__guard()") && bash.contains("--ungoverned"),
        "{bash}"
    );
    let man = run(&["man"]);
    assert!(
        man.contains(".TH plan-guard") && man.contains("approve"),
        "{man}"
    );
}
