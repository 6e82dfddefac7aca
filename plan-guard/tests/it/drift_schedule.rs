//! The scheduled-reconcile recipes of docs/integrations/drift-schedule.md, run as written
//! (a GitHub Actions workflow, a GitLab job, a systemd service and timer, a cron line) on
//! the example workspace with a `null_resource` beside it, applied by the real Terraform.
//! Each recipe runs twice: before and after the resource's id is taken out of the state
//! behind Terraform's back, which a real refresh-only plan reports as deleted outside
//! Terraform, i.e. governed drift (intent platform-root governs the root module).

use std::path::PathBuf;
use std::process::Command;

use super::integrations::{Env, cli_config, run_gitlab_job, yaml, yaml_blocks};
use crate::support::repo;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const HELD: &str = "### plan-guard reconcile: 🔴 drift — workspace `payments-prod`";
const CLEAN: &str = "### plan-guard reconcile: ✅ no governed drift — workspace `payments-prod`";

fn page() -> String {
    std::fs::read_to_string(repo().join("docs/integrations/drift-schedule.md")).unwrap()
}

/// The fenced block of `lang` whose first line is `first`.
fn block(lang: &str, first: &str) -> String {
    page()
        .split(&format!("```{lang}\n"))
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with(first))
        .unwrap_or_else(|| panic!("no ```{lang} block starting {first}"))
        .to_string()
}

/// The example workspace with `null_resource.cache` added, applied.
pub(super) fn applied(tag: &str) -> Env {
    let env = Env::new(&format!("drift-{tag}"));
    std::fs::write(
        env.dir.join("cache.tf"),
        "resource \"null_resource\" \"cache\" {\n  triggers = { generation = \"1\" }\n}\n",
    )
    .unwrap();
    let (code, log) = env.bash(
        "terraform init -input=false -no-color >/dev/null && terraform apply -input=false -no-color -auto-approve >/dev/null",
        &[],
    );
    assert_eq!(code, 0, "{log}");
    env
}

/// Someone removes the cache outside Terraform: its id leaves the state, and the null
/// provider's refresh then reports the object gone.
pub(super) fn drift(env: &Env) {
    let path = env.dir.join("terraform.tfstate");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let serial = state["serial"].as_u64().unwrap();
    state["serial"] = (serial + 1).into();
    let cache = state["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["type"] == "null_resource")
        .unwrap();
    cache["instances"][0]["attributes"]["id"] = "".into();
    std::fs::write(&path, state.to_string()).unwrap();
}

/// The ledger's one-line records of the store.
fn ledger(env: &Env) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .args(["evidence", "list", "--store", &env.store])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a GitHub Actions job's steps as the runner does: the job's `env` (secrets and
/// repository variables from `context`), each `run:` in `bash -e` with `$GITHUB_OUTPUT`,
/// `$GITHUB_PATH` and `$GITHUB_STEP_SUMMARY`, and `if:` conditions on an earlier step's
/// outputs. `uses:` steps are not run (Terraform is already on the PATH); neither is a
/// step calling `gh`, which needs GitHub. Returns the exit code, the output and the
/// names of the steps whose condition held.
fn run_github_job(
    env: &Env,
    job: &serde_json::Value,
    context: &[(&str, String)],
) -> (i32, String, Vec<String>) {
    let runner_temp = env.root.join("runner_temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let github_path = env.root.join("github_path");
    std::fs::write(&github_path, "").unwrap();
    let summary = env.root.join("summary.md");
    let lookup = |expr: &str| -> String {
        let inner = expr.trim_start_matches("${{ ").trim_end_matches(" }}");
        if inner == "github.token" {
            return String::new();
        }
        let name = inner
            .strip_prefix("secrets.")
            .or_else(|| inner.strip_prefix("vars."))
            .unwrap_or_else(|| panic!("unexpected expression {expr}"));
        context
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let vars_of = |map: &serde_json::Value| -> Vec<(String, String)> {
        map.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = v.as_str().unwrap();
                let v = if v.starts_with("${{") {
                    lookup(v)
                } else {
                    v.to_string()
                };
                (k.clone(), v)
            })
            .collect()
    };
    let job_env = vars_of(&job["env"]);
    let mut outputs: Vec<(String, String, String)> = Vec::new();
    let (mut log, mut ran) = (String::new(), Vec::new());
    for (i, step) in job["steps"].as_array().unwrap().iter().enumerate() {
        if let Some(uses) = step["uses"].as_str() {
            assert!(
                uses.starts_with("actions/checkout@")
                    || uses.starts_with("hashicorp/setup-terraform@"),
                "{uses}"
            );
            continue;
        }
        if let Some(condition) = step["if"].as_str() {
            // `steps.ID.outputs.KEY == 'VALUE'`, the one form the recipes use.
            let (lhs, value) = condition.split_once(" == ").unwrap();
            let parts: Vec<&str> = lhs.split('.').collect();
            assert_eq!((parts[0], parts[2]), ("steps", "outputs"), "{condition}");
            let got = outputs
                .iter()
                .find(|(id, key, _)| id == parts[1] && key == parts[3])
                .map(|(_, _, v)| v.as_str())
                .unwrap_or("");
            if got != value.trim_matches('\'') {
                continue;
            }
        }
        let name = step["name"].as_str().unwrap_or("").to_string();
        ran.push(name);
        let script = step["run"].as_str().unwrap();
        if script.starts_with("gh ") {
            continue;
        }
        let output_file = env.root.join(format!("github_output_{i}"));
        std::fs::write(&output_file, "").unwrap();
        let mut all: Vec<(&str, String)> = vec![
            ("GITHUB_ACTOR", "octocat".into()),
            ("GITHUB_OUTPUT", output_file.display().to_string()),
            ("GITHUB_PATH", github_path.display().to_string()),
            ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
            ("RUNNER_TEMP", runner_temp.display().to_string()),
        ];
        let step_env = vars_of(&step["env"]);
        all.extend(job_env.iter().map(|(k, v)| (k.as_str(), v.clone())));
        all.extend(step_env.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let added: String = std::fs::read_to_string(&github_path)
            .unwrap()
            .lines()
            .map(|l| format!("{l}:"))
            .collect();
        let (code, out) = env.bash(
            &format!("set -e\nexport PATH=\"{added}$PATH\"\n{script}"),
            &all,
        );
        log.push_str(&out);
        if code != 0 {
            return (code, log, ran);
        }
        if let Some(id) = step["id"].as_str() {
            for line in std::fs::read_to_string(&output_file).unwrap().lines() {
                let (k, v) = line.split_once('=').unwrap();
                outputs.push((id.into(), k.into(), v.into()));
            }
        }
    }
    (0, log, ran)
}

#[test]
fn the_github_workflow_reconciles_on_schedule_and_opens_an_issue_on_drift() {
    let workflow = yaml(&yaml_blocks(&page())[0]);
    // YAML 1.1 (PyYAML) reads the key `on` as true; Actions reads it as "on".
    let on = &workflow["on"]
        .as_object()
        .map_or(&workflow["true"], |_| &workflow["on"]);
    assert_eq!(on["schedule"][0]["cron"], "17 6 * * *");
    assert!(
        on["workflow_dispatch"].is_object(),
        "it can also be run by hand"
    );
    assert_eq!(workflow["permissions"]["issues"], "write");
    let job = &workflow["jobs"]["reconcile"];
    assert_eq!(job["env"]["PLAN_GUARD_VERSION"], VERSION);
    let env = applied("github").without_plan_guard();
    let context = vec![
        ("IOM_STORE", env.store.clone()),
        ("PLAN_GUARD_RELEASES", env.releases()),
    ];
    let body = env.dir.join("drift.md");
    let summary = env.root.join("summary.md");

    let (code, log, ran) = run_github_job(&env, job, &context);
    assert_eq!(code, 0, "{log}");
    assert!(!ran.contains(&"open an issue".to_string()), "{ran:?}");
    assert!(std::fs::read_to_string(&body).unwrap().starts_with(CLEAN));

    drift(&env);
    let (code, log, ran) = run_github_job(&env, job, &context);
    assert_eq!(
        code, 0,
        "drift is reported by the issue, not a failed run:\n{log}"
    );
    assert!(ran.contains(&"open an issue".to_string()), "{ran:?}");
    let md = std::fs::read_to_string(&body).unwrap();
    assert!(md.starts_with(HELD), "{md}");
    assert!(md.contains("- `null_resource.cache`"), "{md}");
    assert!(!md.contains("demo-secret-canary-7f3a"));
    assert!(
        std::fs::read_to_string(&summary).unwrap().contains(HELD),
        "the job summary shows the body too"
    );
    assert!(
        ledger(&env).contains("in payments-prod: drift on 1 governed resource(s) held"),
        "{}",
        ledger(&env)
    );
}

#[test]
fn the_gitlab_job_runs_in_scheduled_pipelines_and_fails_on_drift() {
    let config = yaml(&yaml_blocks(&page())[1]);
    let job = &config["plan-guard-drift"];
    assert_eq!(job["rules"][0]["if"], "$CI_PIPELINE_SOURCE == \"schedule\"");
    assert_eq!(job["artifacts"]["paths"][0], "drift.md");
    assert_eq!(job["artifacts"]["when"], "always");
    let env = applied("gitlab").without_plan_guard();
    let vars = vec![
        ("PLAN_GUARD_RELEASES", env.releases()),
        ("GITLAB_USER_LOGIN", "scheduler".to_string()),
    ];
    let body = env.dir.join("drift.md");
    let (code, log) = run_gitlab_job(&env, job, &vars);
    assert_eq!(code, 0, "{log}");
    assert!(std::fs::read_to_string(&body).unwrap().starts_with(CLEAN));

    drift(&env);
    let (code, log) = run_gitlab_job(&env, job, &vars);
    assert_eq!(code, 3, "drift fails the job:\n{log}");
    let md = std::fs::read_to_string(&body).unwrap();
    assert!(
        md.starts_with(HELD) && md.contains("`null_resource.cache`"),
        "{md}"
    );
}

/// The recipes' host paths, mapped into the test's directory.
struct Host {
    etc: PathBuf,
    var: PathBuf,
}

impl Host {
    fn new(env: &Env) -> Host {
        let host = Host {
            etc: env.root.join("etc-plan-guard"),
            var: env.root.join("var-lib-plan-guard"),
        };
        std::fs::create_dir_all(&host.etc).unwrap();
        std::fs::create_dir_all(&host.var).unwrap();
        // The environment file the recipes read: the store, and what Terraform needs here.
        std::fs::write(
            host.etc.join("payments-prod.env"),
            format!(
                "IOM_STORE={}\nCHECKPOINT_DISABLE=1\nTF_CLI_CONFIG_FILE={}\n",
                env.store,
                cli_config().display()
            ),
        )
        .unwrap();
        host
    }

    fn map(&self, env: &Env, text: &str) -> String {
        text.replace("/srv/terraform/payments", &env.dir.display().to_string())
            .replace("/etc/plan-guard", &self.etc.display().to_string())
            .replace("/var/lib/plan-guard", &self.var.display().to_string())
            .replace("/usr/local/bin", &env.bin.display().to_string())
    }

    fn body(&self) -> String {
        std::fs::read_to_string(self.var.join("drift-payments-prod.md")).unwrap()
    }
}

/// `key=value` lines of a unit file by section, comments left out.
fn unit(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut entries = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else {
            let (k, v) = line.split_once('=').unwrap();
            entries.push((section.clone(), k.to_string(), v.to_string()));
        }
    }
    entries
}

fn entry<'a>(unit: &'a [(String, String, String)], section: &str, key: &str) -> &'a str {
    unit.iter()
        .find(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key}= in [{section}]"))
}

/// Runs the service as systemd does: ExecStart without a shell, in WorkingDirectory,
/// with the EnvironmentFile's variables (and systemd's PATH, /usr/local/bin first), and
/// standard output truncated into the file StandardOutput names.
fn run_service(env: &Env, host: &Host, service: &[(String, String, String)]) -> i32 {
    let map = |key: &str| host.map(env, entry(service, "Service", key));
    let exec = map("ExecStart");
    let mut argv = exec.split_whitespace();
    let output = map("StandardOutput");
    let output = output.strip_prefix("truncate:").unwrap();
    let mut command = Command::new(argv.next().unwrap());
    command
        .args(argv)
        .current_dir(map("WorkingDirectory"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", env.bin.display()))
        .env("USER", "terraform")
        .stdout(std::fs::File::create(output).unwrap());
    for line in std::fs::read_to_string(map("EnvironmentFile"))
        .unwrap()
        .lines()
    {
        let (k, v) = line.split_once('=').unwrap();
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let code = out.status.code().unwrap();
    assert!(
        matches!(code, 0 | 3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    code
}

#[test]
fn the_systemd_service_fails_on_drift_and_its_timer_is_daily() {
    let service = unit(&block(
        "ini",
        "# /etc/systemd/system/plan-guard-reconcile.service",
    ));
    let timer = unit(&block(
        "ini",
        "# /etc/systemd/system/plan-guard-reconcile.timer",
    ));
    assert_eq!(entry(&service, "Service", "Type"), "oneshot");
    assert_eq!(entry(&timer, "Timer", "Persistent"), "true");
    assert_eq!(entry(&timer, "Install", "WantedBy"), "timers.target");
    let calendar = entry(&timer, "Timer", "OnCalendar");
    if let Ok(out) = Command::new("systemd-analyze")
        .args(["calendar", calendar])
        .output()
    {
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("06:17:00"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let env = applied("systemd");
    let host = Host::new(&env);
    assert_eq!(run_service(&env, &host, &service), 0);
    assert!(host.body().starts_with(CLEAN), "{}", host.body());
    drift(&env);
    assert_eq!(
        run_service(&env, &host, &service),
        3,
        "the unit fails on drift"
    );
    assert!(host.body().starts_with(HELD), "{}", host.body());
}

/// Runs the cron line's command as cron does: `sh -c`, the file's PATH, nothing of the
/// caller's environment. Returns what cron would mail (the output).
fn run_cron(env: &Env, host: &Host, file: &str) -> String {
    let path = file
        .lines()
        .find_map(|l| l.strip_prefix("PATH="))
        .expect("the cron file sets PATH (cron's own has no /usr/local/bin)");
    let line = file
        .lines()
        .find(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap();
    let fields: Vec<&str> = line.splitn(7, ' ').collect();
    assert_eq!(fields[..6], ["17", "6", "*", "*", "*", "terraform"]);
    assert!(!fields[6].contains('%'), "cron reads % as a line break");
    let out = Command::new("sh")
        .args(["-c", &host.map(env, fields[6])])
        .env_clear()
        .env("PATH", host.map(env, path))
        .env("USER", "terraform")
        .env("LOGNAME", "terraform")
        .env("HOME", &env.root)
        .output()
        .unwrap();
    assert!(out.status.success(), "the job's failure is in its mail");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn the_cron_line_mails_only_when_drift_is_recorded() {
    let file = block("text", "# /etc/cron.d/plan-guard-reconcile");
    let env = applied("cron");
    let host = Host::new(&env);
    assert_eq!(run_cron(&env, &host, &file), "", "nothing to mail");
    assert!(host.body().starts_with(CLEAN));
    drift(&env);
    let mail = run_cron(&env, &host, &file);
    assert!(
        mail.contains("payments-prod: drift recorded or reconcile failed (exit 3)"),
        "{mail}"
    );
    assert!(host.body().starts_with(HELD), "{}", host.body());
}
