//! Helpers the test modules share: where the repository and the real Terraform are,
//! running Terraform, fresh scratch directories, copies of example trees, and what a
//! spawned command printed. Each spawn of plan-guard stays in its module, beside the
//! environment it gives the binary (`test_hygiene` reads them there).

use iom_model::Model;
use plan_guard::decide::report::Report;
use plan_guard::decide::{CheckOptions, check};
use plan_guard::plan::read_plan;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root (the workspace above `plan-guard/`).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A plan Terraform wrote for the tests: `tests/fixtures/plans/NAME`.
pub fn fixture_plan(name: &str) -> PathBuf {
    repo().join("plan-guard/tests/fixtures/plans").join(name)
}

/// Judges the plan file at `path` against `model` in the library, as `check` does;
/// a plan that cannot be read or judged fails the test, naming it.
pub fn check_file(path: &Path, model: &Model, options: &CheckOptions) -> Report {
    let name = path.display();
    let raw = read_plan(&path.to_string_lossy()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let plan = raw.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
    check(&raw, &plan, model, options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `plan-guard check` of fixture plan `plan` against the governance in `model`, with the
/// example workspace's source, in workspace payments-prod. No store or signing key comes
/// from the environment: the caller names the store (`IOM_STORE` or `--store`) and adds
/// the format and what else it tests.
pub fn check_command(plan: &str, model: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plan-guard"));
    command
        .env_remove("IOM_STORE")
        .env_remove("IOM_SIGNING_KEY")
        .arg("check")
        .arg(fixture_plan(plan))
        .arg("--model")
        .arg(model)
        .arg("--source-dir")
        .arg(repo().join("examples/workspace"))
        .args(["--workspace", "payments-prod"]);
    command
}

/// The real Terraform: `$TERRAFORM_BINARY`, else the one `scripts/install-terraform.sh`
/// put under `.tools/bin`.
pub fn terraform() -> PathBuf {
    std::env::var_os("TERRAFORM_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/terraform"))
}

/// Runs the real Terraform in `dir` and returns its standard output; a failure fails the
/// test with Terraform's standard error, and a missing Terraform says how to install it.
pub fn tf(dir: &Path, args: &[&str]) -> String {
    let binary = terraform();
    // A bare name is looked up on the PATH when it runs.
    assert!(
        binary.components().count() == 1 || binary.exists(),
        "no Terraform at {}: run scripts/install-terraform.sh (or set TERRAFORM_BINARY)",
        binary.display()
    );
    let out = Command::new(&binary)
        .arg(format!("-chdir={}", dir.display()))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An empty directory of the test's own under the system's temporary directory,
/// `pg-NAME-PID`: whatever an earlier run left there is removed first. Every module
/// starts its names with its own word, so tests running at once never share one.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Copies the tree `from` to `to` (which must not exist yet), as `cp -r` does.
pub fn copy_tree(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap()
        .success();
    assert!(ok, "cp -r {} {}", from.display(), to.display());
}

/// What a finished command said: its exit code (-1 when a signal ended it) and its
/// output as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
