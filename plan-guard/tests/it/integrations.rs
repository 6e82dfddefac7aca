//! The CI recipes in docs/integrations and the root action.yml, run as written: their
//! YAML is parsed (PyYAML, from the project's venv), and each `run:` step executes in bash
//! with the variables the CI system sets, against the real Terraform.

use crate::support::{copy_tree, repo, terraform};
use std::path::{Path, PathBuf};
use std::process::Command;

use iom_model::{Object, load_dir};
use iom_store::Store;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn python() -> PathBuf {
    let p = repo().join(".tools/venv/bin/python");
    assert!(
        p.exists(),
        "no {}: run bash scripts/install-test-tools.sh",
        p.display()
    );
    p
}

/// The YAML document as JSON.
pub(super) fn yaml(text: &str) -> serde_json::Value {
    let out = Command::new(python())
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "not YAML:\n{text}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The fenced ```yaml blocks of a Markdown page.
pub(super) fn yaml_blocks(page: &str) -> Vec<String> {
    page.split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .collect()
}

/// The CLI configuration that installs hashicorp/null from the project's mirror.
pub(super) fn cli_config() -> PathBuf {
    std::env::var_os("TF_CLI_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/terraformrc"))
}

/// A copy of the example workspace, a store holding the example governance, and a PATH
/// on which `terraform` and `plan-guard` are the project's.
pub(super) struct Env {
    pub(super) root: PathBuf,
    pub(super) dir: PathBuf,
    pub(super) bin: PathBuf,
    pub(super) store: String,
    /// The PATH after `bin`.
    path: String,
}

impl Env {
    pub(super) fn new(tag: &str) -> Env {
        let root = std::env::temp_dir().join(format!("pg-ci-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("repo");
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        copy_tree(&repo().join("examples/workspace"), &dir);
        std::os::unix::fs::symlink(terraform(), bin.join("terraform")).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_plan-guard"), bin.join("plan-guard"))
            .unwrap();
        let store = format!("sqlite://{}/iom.db", root.display());
        let spec = load_dir(&repo().join("examples/governance")).unwrap();
        let s = Store::open(&store).unwrap();
        let objects = (spec.profiles.into_iter().map(Object::Profile))
            .chain(spec.blueprints.into_iter().map(Object::Blueprint))
            .chain(spec.intents.into_iter().map(Object::Intent))
            .chain(spec.elements.into_iter().map(Object::Element));
        objects.for_each(|o| {
            s.create(&o).unwrap();
        });
        Env {
            root,
            dir,
            bin,
            store,
            path: std::env::var("PATH").unwrap_or_default(),
        }
    }

    /// Takes plan-guard off the PATH (this build's, and any other the PATH has): the
    /// recipe's own steps must install it.
    pub(super) fn without_plan_guard(mut self) -> Env {
        std::fs::remove_file(self.bin.join("plan-guard")).unwrap();
        self.path = std::env::split_paths(&self.path)
            .filter(|d| !d.join("plan-guard").exists())
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        self
    }

    /// A folder laid out as a release's download folder for plan-guard (the archive
    /// `scripts/release.sh` makes, holding this build, and its SHA256SUMS), as a file://
    /// URL the recipes' `curl` fetches from.
    pub(super) fn releases(&self) -> String {
        let releases = self.root.join("releases");
        let staged = self.root.join("staged");
        std::fs::create_dir_all(&releases).unwrap();
        std::fs::create_dir_all(&staged).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_plan-guard"), staged.join("plan-guard")).unwrap();
        let archive = format!("plan-guard_{VERSION}_linux_amd64.tar.gz");
        let (code, log) = self.bash(
            &format!(
                "tar -czf {r}/{archive} -C {s} plan-guard && cd {r} && sha256sum {archive} > plan-guard_{VERSION}_SHA256SUMS",
                r = releases.display(),
                s = staged.display(),
            ),
            &[],
        );
        assert_eq!(code, 0, "{log}");
        format!("file://{}", releases.display())
    }

    /// Runs a shell step in the repository directory with `vars`; returns (code, output).
    pub(super) fn bash(&self, script: &str, vars: &[(&str, String)]) -> (i32, String) {
        let path = format!("{}:{}", self.bin.display(), self.path);
        let out = Command::new("bash")
            .args(["-c", script])
            .current_dir(&self.dir)
            .env("PATH", path)
            .env("IOM_STORE", &self.store)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", cli_config())
            .env_remove("TF_WORKSPACE")
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }
}

fn atlantis_steps(workflow: &serde_json::Value, stage: &str) -> Vec<serde_json::Value> {
    workflow[stage]["steps"].as_array().unwrap().clone()
}

/// Runs an Atlantis stage: the built-in `init` and `plan` as Atlantis runs them, `run:`
/// steps through bash. Stops at the first failing step, as Atlantis does.
fn run_stage(env: &Env, steps: &[serde_json::Value], vars: &[(&str, String)]) -> (i32, String) {
    let mut log = String::new();
    for step in steps {
        let script = match step {
            serde_json::Value::String(s) if s == "init" => {
                "terraform init -input=false -no-color".to_string()
            }
            // Atlantis selects the project's workspace (creating it) before it plans.
            serde_json::Value::String(s) if s == "plan" => {
                "terraform workspace select -or-create -no-color \"$WORKSPACE\" >/dev/null && \
                 terraform plan -input=false -refresh -no-color -out \"$PLANFILE\""
                    .to_string()
            }
            other => other["run"]
                .as_str()
                .unwrap_or_else(|| panic!("unsupported step {other}"))
                .to_string(),
        };
        let (code, out) = env.bash(&script, vars);
        log.push_str(&out);
        if code != 0 {
            return (code, log);
        }
    }
    (0, log)
}

#[test]
fn the_atlantis_workflow_checks_and_applies() {
    let page = std::fs::read_to_string(repo().join("docs/integrations/atlantis.md")).unwrap();
    let blocks = yaml_blocks(&page);
    let repos = yaml(&blocks[0]);
    let workflow = &repos["workflows"]["plan-guard"];
    let project = yaml(&blocks[1]);
    assert_eq!(project["projects"][0]["workflow"], "plan-guard");

    let install = page
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the page shows how plan-guard gets onto the server");
    assert!(install.contains(&format!("PLAN_GUARD_VERSION={VERSION}\n")));

    for (scenario, tf_vars, plan_code) in [("allow", "", 0), ("escalate", "true", 3)] {
        let env = Env::new(&format!("atlantis-{scenario}")).without_plan_guard();
        // The server's image gets plan-guard as the page says, into a directory on its PATH.
        let (code, log) = env.bash(
            &format!("set -euo pipefail\n{install}"),
            &[
                ("PLAN_GUARD_RELEASES", env.releases()),
                ("PLAN_GUARD_BIN", env.bin.display().to_string()),
            ],
        );
        assert_eq!(code, 0, "{log}");
        assert!(log.contains(&format!("plan-guard {VERSION}")), "{log}");
        let vars = vec![
            ("PLANFILE", format!("{}/default.tfplan", env.dir.display())),
            ("SHOWFILE", format!("{}/default.json", env.dir.display())),
            ("WORKSPACE", "payments-prod".to_string()),
            ("USER_NAME", "alice".to_string()),
            ("DIR", env.dir.display().to_string()),
            (
                "TF_VAR_enable_ledger_db",
                if tf_vars.is_empty() {
                    "false".into()
                } else {
                    tf_vars.to_string()
                },
            ),
        ];
        let (code, log) = run_stage(&env, &atlantis_steps(workflow, "plan"), &vars);
        assert_eq!(code, plan_code, "{scenario} plan stage:\n{log}");
        assert!(
            Path::new(&vars[1].1).exists(),
            "the show step wrote $SHOWFILE"
        );
        assert!(
            log.contains("### plan-guard:"),
            "the comment is the Markdown report:\n{log}"
        );
        assert!(!log.contains("demo-secret-canary-7f3a"));
        let (code, log) = run_stage(&env, &atlantis_steps(workflow, "apply"), &vars);
        if plan_code == 0 {
            assert_eq!(code, 0, "{log}");
            assert!(log.contains("Apply complete!"), "{log}");
        } else {
            assert_eq!(code, 1, "{log}");
            assert!(log.contains("escalates and has no valid approval"), "{log}");
            assert!(
                !env.dir
                    .join("terraform.tfstate.d/payments-prod/terraform.tfstate")
                    .exists()
            );
        }
    }
}

/// Runs the steps of action.yml as Actions does: each step's `env` with its `${{ … }}`
/// expressions filled from `inputs` (the action's defaults for the others), the variables
/// the runner sets, and the directories steps add to `$GITHUB_PATH` on the PATH of the
/// steps after them. Stops at the first failing step; returns (exit code, output).
fn run_action(env: &Env, inputs: &[(&str, &str)], vars: &[(&str, String)]) -> (i32, String) {
    let action = yaml(&std::fs::read_to_string(repo().join("action.yml")).unwrap());
    let github_path = env.root.join("github_path");
    let runner_temp = env.root.join("runner_temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    std::fs::write(&github_path, "").unwrap();
    let input = |name: &str| -> String {
        inputs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
            .or_else(|| {
                let default = &action["inputs"][name]["default"];
                default.as_str().map(str::to_string)
            })
            .unwrap_or_else(|| panic!("action.yml has no input {name}"))
    };
    let mut log = String::new();
    for step in action["runs"]["steps"].as_array().unwrap() {
        let mut all: Vec<(&str, String)> = vec![
            ("GITHUB_ACTOR", "octocat".into()),
            ("GITHUB_ACTION_PATH", repo().display().to_string()),
            ("GITHUB_PATH", github_path.display().to_string()),
            ("RUNNER_TEMP", runner_temp.display().to_string()),
            ("RUNNER_OS", "Linux".into()),
            ("RUNNER_ARCH", "X64".into()),
        ];
        all.extend(vars.iter().cloned());
        for (name, value) in step["env"].as_object().into_iter().flatten() {
            let expr = value.as_str().unwrap();
            let filled = match expr.strip_prefix("${{ inputs.") {
                Some(rest) => input(rest.trim_end_matches(" }}")),
                None if expr == "${{ github.token }}" => String::new(),
                None => panic!("unexpected expression {expr}"),
            };
            all.push((name.as_str(), filled));
        }
        let added: Vec<String> = std::fs::read_to_string(&github_path)
            .unwrap()
            .lines()
            .map(|l| format!("{l}:"))
            .collect();
        let script = format!(
            "export PATH=\"{}$PATH\"\n{}",
            added.concat(),
            step["run"].as_str().unwrap()
        );
        let (code, out) = env.bash(&script, &all);
        log.push_str(&out);
        if code != 0 {
            return (code, log);
        }
    }
    (0, log)
}

#[test]
fn the_github_action_writes_the_summary_and_junit() {
    for (scenario, expected) in [("allow", 0), ("escalate", 3)] {
        let env = Env::new(&format!("gha-{scenario}"));
        let (code, log) = env.bash(
            &format!(
                "terraform init -input=false -no-color >/dev/null && terraform plan -input=false -no-color -out=tfplan -var enable_ledger_db={} >/dev/null",
                scenario == "escalate"
            ),
            &[],
        );
        assert_eq!(code, 0, "{log}");
        let summary = env.dir.join("summary.md");
        let inputs = [
            ("plan", "tfplan"),
            ("workspace", "payments-prod"),
            ("junit", "junit.xml"),
        ];
        let vars = [("GITHUB_STEP_SUMMARY", summary.display().to_string())];
        let (code, log) = run_action(&env, &inputs, &vars);
        assert_eq!(code, expected, "{scenario}:\n{log}");
        // plan-guard of the action's own version is on PATH: used, nothing installed.
        assert!(
            log.contains(&format!("plan-guard {VERSION} is on PATH")),
            "{log}"
        );
        let md = std::fs::read_to_string(&summary).unwrap();
        assert!(md.starts_with("### plan-guard:"), "{md}");
        assert!(
            std::fs::read_to_string(env.dir.join("junit.xml"))
                .unwrap()
                .contains("<testsuites")
        );
    }
}

/// With no plan-guard on PATH, the action installs the release archive from the folder
/// `plan-guard-archives` names, checked against SHA256SUMS; a swapped archive fails the
/// step, and the check never runs.
#[test]
fn the_github_action_installs_plan_guard_from_release_archives() {
    for swapped in [false, true] {
        let env = Env::new(&format!("gha-install-{swapped}")).without_plan_guard();
        env.releases();
        let archives = env.root.join("releases");
        if swapped {
            let archive = archives.join(format!("plan-guard_{VERSION}_linux_amd64.tar.gz"));
            let mut bytes = std::fs::read(&archive).unwrap();
            bytes.extend_from_slice(b"appended");
            std::fs::write(&archive, bytes).unwrap();
        }
        let (code, log) = env.bash(
            "terraform init -input=false -no-color >/dev/null && terraform plan -input=false -no-color -out=tfplan >/dev/null",
            &[],
        );
        assert_eq!(code, 0, "{log}");
        let summary = env.dir.join("summary.md");
        let archives = archives.display().to_string();
        let inputs = [
            ("plan", "tfplan"),
            ("workspace", "payments-prod"),
            ("plan-guard-archives", archives.as_str()),
        ];
        let vars = [("GITHUB_STEP_SUMMARY", summary.display().to_string())];
        let (code, log) = run_action(&env, &inputs, &vars);
        if swapped {
            assert_ne!(code, 0, "{log}");
            assert!(log.contains("FAILED"), "{log}");
            assert!(!summary.exists(), "{log}");
        } else {
            assert_eq!(code, 0, "{log}");
            assert!(
                log.contains(&format!("installed plan-guard {VERSION}")),
                "{log}"
            );
            assert!(
                std::fs::read_to_string(&summary)
                    .unwrap()
                    .starts_with("### plan-guard:")
            );
        }
    }
}

/// The GitLab job, parsed from the page.
fn gitlab_job() -> serde_json::Value {
    let page = std::fs::read_to_string(repo().join("docs/integrations/gitlab-ci.md")).unwrap();
    let job = yaml(&yaml_blocks(&page)[0]);
    job["plan-guard"].clone()
}

/// Runs the job's `before_script` and `script` as GitLab's bash runner does (one shell,
/// `set -eo pipefail`, stopping at the first failing line) with the variables GitLab sets:
/// the job's own `variables` and, when the job has an `environment:`,
/// `$CI_ENVIRONMENT_NAME`. Returns (exit code, output).
pub(super) fn run_gitlab_job(
    env: &Env,
    job: &serde_json::Value,
    vars: &[(&str, String)],
) -> (i32, String) {
    let lines: Vec<&str> = ["before_script", "script"]
        .iter()
        .flat_map(|k| job[k].as_array().into_iter().flatten())
        .map(|l| l.as_str().unwrap())
        .collect();
    let mut all: Vec<(&str, String)> = job["variables"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "IOM_STORE") // `IOM_STORE: $IOM_STORE` passes the runner's on
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap().to_string()))
        .collect();
    if let Some(name) = job["environment"]["name"].as_str() {
        all.push(("CI_ENVIRONMENT_NAME", name.to_string()));
    }
    all.extend(vars.iter().cloned());
    env.bash(&format!("set -eo pipefail\n{}", lines.join("\n")), &all)
}

#[test]
fn the_gitlab_job_installs_plan_guard_and_reports_junit_and_markdown() {
    let job = gitlab_job();
    assert_eq!(job["artifacts"]["reports"]["junit"], "plan-guard-junit.xml");
    assert_eq!(job["environment"]["name"], "payments-prod");
    assert_eq!(
        job["variables"]["PLAN_GUARD_VERSION"], VERSION,
        "the recipe installs this release"
    );
    for (enable_ledger_db, expected) in [("false", 0), ("true", 3)] {
        let env = Env::new(&format!("gitlab-{enable_ledger_db}")).without_plan_guard();
        let vars = vec![
            ("PLAN_GUARD_RELEASES", env.releases()),
            ("GITLAB_USER_LOGIN", "alice".to_string()),
            ("TF_VAR_enable_ledger_db", enable_ledger_db.to_string()),
        ];
        let (code, log) = run_gitlab_job(&env, &job, &vars);
        assert_eq!(code, expected, "{log}");
        assert!(log.contains(&format!("plan-guard {VERSION}")), "{log}");
        assert!(
            std::fs::read_to_string(env.dir.join("plan-guard.md"))
                .unwrap()
                .starts_with("### plan-guard:")
        );
        assert!(
            std::fs::read_to_string(env.dir.join("plan-guard-junit.xml"))
                .unwrap()
                .contains("<testsuites")
        );
    }
}

/// The job's `before_script` checks the archive against SHA256SUMS: a swapped archive
/// stops the job before anything runs it.
#[test]
fn the_gitlab_job_refuses_an_archive_that_is_not_the_release() {
    let job = gitlab_job();
    let env = Env::new("gitlab-swapped").without_plan_guard();
    let releases = env.releases();
    let archive = env
        .root
        .join(format!("releases/plan-guard_{VERSION}_linux_amd64.tar.gz"));
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.extend_from_slice(b"appended");
    std::fs::write(&archive, bytes).unwrap();
    let vars = vec![
        ("PLAN_GUARD_RELEASES", releases),
        ("GITLAB_USER_LOGIN", "alice".to_string()),
    ];
    let (code, log) = run_gitlab_job(&env, &job, &vars);
    assert_ne!(code, 0, "{log}");
    assert!(log.contains("FAILED"), "{log}");
    assert!(!env.dir.join(".plan-guard/plan-guard").exists(), "{log}");
    assert!(!env.dir.join("plan-guard.md").exists(), "{log}");
}

/// Without `environment:`, GitLab leaves `$CI_ENVIRONMENT_NAME` empty: the check is an
/// error naming --workspace, not a plan judged in a workspace no governance scopes (the
/// escalating plan would otherwise pass as ungoverned).
#[test]
fn the_gitlab_job_without_an_environment_is_refused_not_judged_ungoverned() {
    let mut job = gitlab_job();
    job.as_object_mut().unwrap().remove("environment");
    let env = Env::new("gitlab-no-environment").without_plan_guard();
    let vars = vec![
        ("PLAN_GUARD_RELEASES", env.releases()),
        ("GITLAB_USER_LOGIN", "alice".to_string()),
        ("TF_VAR_enable_ledger_db", "true".to_string()),
    ];
    let (code, log) = run_gitlab_job(&env, &job, &vars);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("--workspace must not be empty"), "{log}");
    assert!(!env.dir.join("plan-guard.md").exists(), "{log}");
}
