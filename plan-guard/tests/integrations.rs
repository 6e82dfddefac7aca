//! The CI recipes in docs/integrations and the root action.yml, run as written: their
//! YAML is parsed (PyYAML, from the project's venv), and each `run:` step executes in bash
//! with the variables the CI system sets, against the real Terraform.

use std::path::{Path, PathBuf};
use std::process::Command;

use iom_model::{Object, load_dir};
use iom_store::Store;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

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
fn yaml(text: &str) -> serde_json::Value {
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
fn yaml_blocks(page: &str) -> Vec<String> {
    page.split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .collect()
}

fn terraform() -> PathBuf {
    std::env::var_os("TERRAFORM_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/terraform"))
}

/// A copy of the example workspace, a store holding the example governance, and a PATH
/// on which `terraform` and `plan-guard` are the project's.
struct Env {
    dir: PathBuf,
    bin: PathBuf,
    store: String,
}

impl Env {
    fn new(tag: &str) -> Env {
        let root = std::env::temp_dir().join(format!("pg-ci-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("repo");
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        assert!(
            Command::new("cp")
                .arg("-r")
                .arg(repo().join("examples/workspace"))
                .arg(&dir)
                .status()
                .unwrap()
                .success()
        );
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
        Env { dir, bin, store }
    }

    /// Runs a shell step in the repository directory with `vars`; returns (code, output).
    fn bash(&self, script: &str, vars: &[(&str, String)]) -> (i32, String) {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .args(["-c", script])
            .current_dir(&self.dir)
            .env("PATH", path)
            .env("IOM_STORE", &self.store)
            .env("CHECKPOINT_DISABLE", "1")
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

    for (scenario, tf_vars, plan_code) in [("allow", "", 0), ("escalate", "true", 3)] {
        let env = Env::new(&format!("atlantis-{scenario}"));
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

#[test]
fn the_github_action_writes_the_summary_and_junit() {
    let action = yaml(&std::fs::read_to_string(repo().join("action.yml")).unwrap());
    let step = &action["runs"]["steps"][0];
    let script = step["run"].as_str().unwrap();
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
        // The inputs as Actions passes them: the step's `env` with `${{ inputs.X }}` filled.
        let inputs = [
            ("plan", "tfplan"),
            ("workspace", "payments-prod"),
            ("model", ""),
            ("junit", "junit.xml"),
            ("sarif", "plan-guard.sarif"),
        ];
        let mut owned: Vec<(String, String)> = vec![
            ("GITHUB_ACTOR".into(), "octocat".into()),
            ("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()),
        ];
        for (name, value) in step["env"].as_object().unwrap() {
            let input = value
                .as_str()
                .unwrap()
                .trim_start_matches("${{ inputs.")
                .trim_end_matches(" }}");
            let v = inputs
                .iter()
                .find(|(k, _)| *k == input)
                .unwrap_or_else(|| panic!("input {input}"))
                .1;
            owned.push((name.clone(), v.to_string()));
        }
        let vars: Vec<(&str, String)> =
            owned.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let (code, log) = env.bash(script, &vars);
        assert_eq!(code, expected, "{scenario}:\n{log}");
        let md = std::fs::read_to_string(&summary).unwrap();
        assert!(md.starts_with("### plan-guard:"), "{md}");
        assert!(
            std::fs::read_to_string(env.dir.join("junit.xml"))
                .unwrap()
                .contains("<testsuites")
        );
    }
}

#[test]
fn the_gitlab_job_reports_junit_and_markdown() {
    let page = std::fs::read_to_string(repo().join("docs/integrations/gitlab-ci.md")).unwrap();
    let job = yaml(&yaml_blocks(&page)[0]);
    let job = &job["plan-guard"];
    assert_eq!(job["artifacts"]["reports"]["junit"], "plan-guard-junit.xml");
    for (enable_ledger_db, expected) in [("false", 0), ("true", 3)] {
        let env = Env::new(&format!("gitlab-{enable_ledger_db}"));
        let vars = vec![
            ("CI_ENVIRONMENT_NAME", "payments-prod".to_string()),
            ("GITLAB_USER_LOGIN", "alice".to_string()),
            ("TF_VAR_enable_ledger_db", enable_ledger_db.to_string()),
        ];
        let mut code = 0;
        let mut log = String::new();
        for line in job["script"].as_array().unwrap() {
            let (c, out) = env.bash(line.as_str().unwrap(), &vars);
            log.push_str(&out);
            code = c;
            if c != 0 {
                break;
            }
        }
        assert_eq!(code, expected, "{log}");
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
