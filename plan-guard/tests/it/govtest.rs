//! `plan-guard test`: the example governance's own tests pass with the real Terraform, and
//! a wrong expectation fails with a message a reviewer can act on.

use crate::support::{repo, scratch};
use std::path::Path;
use std::process::Command;

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
    let (code, text) = run(&repo().join("examples/governance/tests"));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("5 passed, 0 failed"), "{text}");
}

#[test]
fn wrong_expectations_fail_and_say_why() {
    let dir = scratch("govtest");
    let plans = repo().join("plan-guard/tests/fixtures/plans");
    let governance = repo().join("examples/governance");
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
        text.contains(
            "aws_instance.absent: expected in the report, but the plan does not change it"
        ),
        "{text}"
    );
    assert!(text.contains("ERROR a plan that does not exist"), "{text}");
    assert!(text.contains("ok    right"), "{text}");
    assert!(text.contains("1 passed, 2 failed"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes `body` as the one test file of a fresh directory and runs `plan-guard test` on it.
fn run_file(name: &str, body: &str) -> (i32, String) {
    let dir = scratch(&format!("govtest-{name}"));
    std::fs::write(dir.join("cases.iomtest.hcl"), body).unwrap();
    let result = run(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[test]
fn finding_level_expectations_fail_and_say_what_differed() {
    let plans = repo().join("plan-guard/tests/fixtures/plans");
    let (code, text) = run_file(
        "findings",
        &format!(
            r#"
test "every expectation wrong" {{
  plan = "{plans}/replace/plan.json"
  governance = <<-EOT
    resource "iom_profile" "p" {{
      name             = "p"
      actions          = {{ replace = "escalate" }}
      max_blast_radius = 5
    }}
    resource "iom_intent" "i" {{
      name    = "i"
      profile = "p"
    }}
  EOT
  exit_code    = 0
  every_change = ["terraform_data.db"]
  absent       = ["terraform_data.app"]
  summary      = {{ replace = 2, replaces = 1 }}
  classes      = {{ "terraform_data.db" = "delete" }}
  findings     = {{ "terraform_data.db" = ["block profile:p/replace"] }}
  messages     = {{ "terraform_data.db" = ["not in any message"] }}
  governed_by  = {{ "*" = ["j"] }}
  blast_radius = {{
    "terraform_data.db"  = 7
    "terraform_data.app" = {{ addresses = ["x"], transitive = 4 }}
  }}
}}

test "expects nothing" {{
  plan = "{plans}/replace/plan.json"
  governance = "resource \"iom_profile\" \"p\" {{ name = \"p\" }}"
}}

test "no model" {{
  plan    = "{plans}/replace/plan.json"
  verdict = "allow"
}}
"#,
            plans = plans.display()
        ),
    );
    assert_eq!(code, 1, "{text}");
    let file = "cases.iomtest.hcl)";
    for line in [
        "FAIL  every expectation wrong  (",
        "exit_code: expected 0, got 3",
        r#"every_change: expected ["terraform_data.db"], got ["terraform_data.app", "terraform_data.db"]"#,
        "terraform_data.app: expected absent, but the report judges it",
        "summary.replace: expected 2, got 1",
        "summary.replaces: the summary has no such count",
        "terraform_data.db: expected class delete, got replace",
        r#"terraform_data.db: expected findings ["block profile:p/replace"], got ["escalate profile:p/replace"]"#,
        r#"terraform_data.db: no finding's message contains "not in any message" (1 findings)"#,
        r#"terraform_data.app: expected governed_by ["j"], got ["i"]"#,
        r#"terraform_data.db: expected governed_by ["j"], got ["i"]"#,
        "terraform_data.db: expected blast radius 7, got 1",
        r#"terraform_data.app: expected blast radius ["x"], got []"#,
        "terraform_data.app: expected blast radius 4, got 0",
        "ERROR expects nothing  (",
        "the test expects nothing: give verdict,",
        "ERROR no model  (",
        "no model: give `model` in the file, --model, or `governance` in the test",
        "0 passed, 3 failed",
    ] {
        assert!(text.contains(line), "{line:?} is missing:\n{text}");
    }
    assert_eq!(text.matches(file).count(), 3, "{text}");
}

#[test]
fn a_file_without_tests_a_name_given_twice_and_a_directory_without_files_fail() {
    let (code, text) = run_file("empty", "model = \"../\"\n");
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("no `test` blocks"), "{text}");
    // A name given twice would hide one of the two cases.
    let case = "test \"same\" {\n  plan = \"p.json\"\n  verdict = \"allow\"\n}\n";
    let (code, text) = run_file("twice", &format!("{case}{case}"));
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("test \"same\" is declared twice"), "{text}");
    let (code, text) = run_file("unnamed", "test {\n  verdict = \"allow\"\n}\n");
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("a `test` block has one name"), "{text}");
    let dir = std::env::temp_dir().join(format!("pg-govtest-none-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (code, text) = run(&dir);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("no *.iomtest.hcl files under"), "{text}");
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
