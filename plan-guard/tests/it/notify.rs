//! `--notify URL` against webhooks on loopback: one that takes the POST, one that answers
//! 500, one that answers 404, one that never answers, and a closed port. The verdict and
//! the exit code are the same whatever the webhooks do; failures are said on standard
//! error; the body never holds a value (the example's sensitive canary).

use crate::support::{Run, check_command, copy_tree, repo, terraform};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const CANARY: &str = "demo-secret-canary-7f3a";

/// A webhook on loopback answering every request with `status`, or never (0). It
/// keeps the bodies it was sent.
struct Hook {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Hook {
    fn new(status: u16) -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/services/T000/B000/secret-path",
            listener.local_addr().unwrap()
        );
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let kept = kept.clone();
                thread::spawn(move || serve(stream, status, &kept));
            }
        });
        Hook { url, bodies }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }

    /// The address messages may show: scheme, host and port.
    fn shown(&self) -> String {
        self.url.split("/services").next().unwrap().to_string()
    }
}

fn serve(stream: std::net::TcpStream, status: u16, kept: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        line.clear();
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    kept.lock().unwrap().push(String::from_utf8(body).unwrap());
    if status == 0 {
        // Holds the connection open far past any client's timeout.
        thread::sleep(Duration::from_secs(60));
        return;
    }
    let _ = write!(
        reader.get_mut(),
        "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
    );
}

/// An empty directory of this test process.
fn scratch(tag: &str) -> PathBuf {
    crate::support::scratch(&format!("notify-{tag}"))
}

/// The example governance with `notifications` (HCL) beside it, in a scratch directory.
fn governance_with(tag: &str, notifications: &str) -> PathBuf {
    let gov = scratch(&format!("{tag}-gov"));
    for file in ["main.tf", "versions.tf"] {
        std::fs::copy(
            repo().join("examples/governance").join(file),
            gov.join(file),
        )
        .unwrap();
    }
    std::fs::write(gov.join("notifications.tf"), notifications).unwrap();
    gov
}

/// Every byte of the files under `dir` (the store, its log), as text.
fn bytes_under(dir: &std::path::Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    all
}

fn check(plan: &str, tag: &str, hooks: &[&str]) -> Run {
    check_against(&repo().join("examples/governance"), plan, tag, hooks, &[])
}

/// `check` of a fixture plan against the model in `model`, with `env` set.
fn check_against(
    model: &std::path::Path,
    plan: &str,
    tag: &str,
    hooks: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let dir = scratch(tag);
    let mut command = check_command(plan, model);
    command.envs(env.iter().copied());
    command
        .args(["--format", "json"])
        .args(["--notify-timeout-ms", "300"])
        .env("IOM_STORE", format!("sqlite://{}/iom.db", dir.display()));
    for hook in hooks {
        command.args(["--notify", hook]);
    }
    let out = command.output().unwrap();
    Run::from(out)
}

#[test]
fn an_escalation_is_posted_and_failing_webhooks_change_nothing() {
    let (ok, failing, missing, silent) =
        (Hook::new(200), Hook::new(500), Hook::new(404), Hook::new(0));
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let run = check(
        "example_escalate.json",
        "escalate",
        &[&ok.url, &failing.url, &missing.url, &silent.url, &closed],
    );
    assert_eq!(
        run.code, 3,
        "escalate, as without --notify:\n{}",
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();

    let bodies = ok.bodies();
    assert_eq!(bodies.len(), 1, "one POST to the webhook that took it");
    assert!(!bodies[0].contains(CANARY), "{}", bodies[0]);
    let n: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(n["event"], "escalate");
    assert_eq!(n["verdict"], "escalate");
    assert_eq!(n["workspace"], "payments-prod");
    assert_eq!(n["decision_id"], report["decision_id"]);
    assert_eq!(
        n["changes"][0]["address"],
        "module.payments.terraform_data.ledger_db[0]"
    );
    assert_eq!(
        n["changes"][0]["rules"][0],
        "intent:payments-prod / critical"
    );
    let text = n["text"].as_str().unwrap();
    assert!(
        text.starts_with("plan-guard: *escalate* in workspace `payments-prod`: 1 of 8 changes"),
        "{text}"
    );
    assert!(
        text.contains("module.payments.terraform_data.ledger_db[0]"),
        "{text}"
    );

    // 500 and silence are tried three times, 404 once; all are said, none by its path.
    assert_eq!(failing.bodies().len(), 3);
    assert_eq!(silent.bodies().len(), 3);
    assert_eq!(missing.bodies().len(), 1);
    for (hook, why) in [
        (failing.shown(), "answered 500 (attempt 3 of 3)"),
        (missing.shown(), "answered 404 (attempt 1 of 3)"),
        (silent.shown(), "(attempt 3 of 3)"),
    ] {
        assert!(
            run.stderr.lines().any(|l| l
                .starts_with(&format!("plan-guard: notifying {hook}/… failed: "))
                && l.ends_with(why)),
            "{hook} {why}:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains(&format!(
            "plan-guard: notifying {}/… failed: ",
            closed.trim_end_matches("/hook")
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("secret-path"), "{}", run.stderr);
    assert!(!run.stderr.contains(CANARY));
}

#[test]
fn a_block_is_posted_and_an_allow_is_not() {
    let hook = Hook::new(200);
    let run = check("example_allow.json", "allow", &[&hook.url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(hook.bodies().is_empty(), "nothing needs a person");
    let run = check("example_block.json", "block", &[&hook.url]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1);
    let n: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(n["event"], "block");
    assert!(
        n["text"]
            .as_str()
            .unwrap()
            .starts_with("plan-guard: *block*")
    );
    assert!(!bodies[0].contains(CANARY));
    // Findings' messages can quote the plan's values (here the region); they stay out.
    assert!(!bodies[0].contains("us-east-1"), "{}", bodies[0]);
}

#[test]
fn a_notify_url_that_is_not_http_is_a_usage_error() {
    let run = check("example_allow.json", "bad-url", &["file:///etc/passwd"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("must be an http:// or https:// URL"),
        "{}",
        run.stderr
    );
}

/// Governed drift that `reconcile` records, found by the real Terraform's refresh.
#[test]
fn recorded_drift_is_posted() {
    let env = super::drift_schedule::applied("notify");
    super::drift_schedule::drift(&env);
    let hook = Hook::new(200);
    let (code, log) = env.bash(
        &format!(
            "plan-guard reconcile --workspace payments-prod --notify {} --notify-timeout-ms 2000",
            hook.url
        ),
        &[],
    );
    assert_eq!(code, 3, "{log}");
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1, "{log}");
    let n: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(n["event"], "drift");
    assert_eq!(n["drifted"], serde_json::json!(["null_resource.cache"]));
    assert!(
        n["decision_id"]
            .as_str()
            .unwrap()
            .starts_with("reconcile-payments-prod-")
    );
    assert!(!bodies[0].contains(CANARY));
}

/// A notification stored in the model store (as the provider writes it) is posted
/// governed drift by `reconcile`, read from its `url_env`.
#[test]
fn recorded_drift_is_posted_to_a_stored_notification() {
    let env = super::drift_schedule::applied("notify-model");
    let store = iom_store::Store::open(&env.store).unwrap();
    let stored = iom_model::Notification {
        name: "platform-oncall".into(),
        url_env: Some("IOM_TEST_NOTIFY_DRIFT".into()),
        on: vec!["drift".into()],
        workspaces: vec!["payments-*".into()],
        ..iom_model::Notification::default()
    };
    store
        .create(&iom_model::Object::Notification(stored))
        .unwrap();
    super::drift_schedule::drift(&env);
    let hook = Hook::new(200);
    let (code, log) = env.bash(
        "plan-guard reconcile --workspace payments-prod --notify-timeout-ms 2000",
        &[("IOM_TEST_NOTIFY_DRIFT", hook.url.clone())],
    );
    assert_eq!(code, 3, "{log}");
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1, "{log}");
    let n: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(n["event"], "drift");
    assert_eq!(n["drifted"], serde_json::json!(["null_resource.cache"]));
    assert!(!log.contains("secret-path"), "{log}");
}

fn run_in(dir: &std::path::Path, program: &std::path::Path, args: &[&str]) -> Run {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("TERRAFORM_BINARY", terraform())
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("IOM_STORE")
        .env_remove("IOM_SIGNING_KEY")
        .env_remove("TF_WORKSPACE")
        .output()
        .unwrap();
    Run::from(out)
}

/// A governed apply by the real Terraform whose http post-verify probe finds its service
/// answering 500: exit 4 as without --notify, and the failed probe posted by name only
/// (its target is built from contract inputs).
#[test]
fn a_failed_post_verify_is_posted() {
    let root = scratch("apply");
    let (work, gov) = (root.join("workspace"), root.join("governance"));
    for (from, to) in [("examples/workspace", &work), ("examples/governance", &gov)] {
        copy_tree(&repo().join(from), to);
    }
    let _ = std::fs::remove_dir_all(gov.join("tests"));
    let service = Hook::new(500);
    std::fs::write(
        gov.join("terraform.tfvars"),
        format!("payments_health_url = \"{}\"\n", service.url),
    )
    .unwrap();
    let tf = terraform();
    for args in [
        &["init", "-input=false", "-no-color"][..],
        &["workspace", "new", "-no-color", "payments-prod"],
        &["plan", "-input=false", "-no-color", "-out=tfplan"],
    ] {
        let run = run_in(&work, &tf, args);
        assert_eq!(run.code, 0, "terraform {args:?}: {}", run.stderr);
    }
    let store = format!("sqlite://{}/ledger.db", root.display());
    let gov_s = gov.to_str().unwrap();
    let pg = std::path::Path::new(env!("CARGO_BIN_EXE_plan-guard"));
    let check = [
        "check",
        "tfplan",
        "--model",
        gov_s,
        "--store",
        &store,
        "--init-store",
        "--workspace",
        "payments-prod",
    ];
    let run = run_in(&work, pg, &check);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // A notification declared after the check: notifications judge nothing, so the
    // decision's model is still this one, and the apply posts to it too.
    let declared = Hook::new(200);
    std::fs::write(
        gov.join("notify.tf"),
        format!(
            "resource \"iom_notification\" \"oncall\" {{\n  name = \"oncall\"\n  url  = \"{}\"\n  on   = [\"post_verify_failed\"]\n}}\n",
            declared.url
        ),
    )
    .unwrap();
    let hook = Hook::new(200);
    let tf_s = tf.to_str().unwrap();
    let apply = [
        "apply",
        "--plan",
        "tfplan",
        "--store",
        &store,
        "--model",
        gov_s,
        "--notify",
        &hook.url,
        "--",
        tf_s,
        "apply",
        "-input=false",
        "-no-color",
        "tfplan",
    ];
    let run = run_in(&work, pg, &apply);
    assert_eq!(run.code, 4, "a probe failed: {}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Apply complete!"), "{}", run.stdout);
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1, "{}", run.stderr);
    let n: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(n["event"], "post_verify_failed");
    assert_eq!(
        n["failed_probes"],
        serde_json::json!([{ "contract": "payments-service", "probe": "post_verify.http" }])
    );
    assert!(
        !bodies[0].contains("secret-path"),
        "no probe target: {}",
        bodies[0]
    );
    assert!(!bodies[0].contains(CANARY));
    let text = n["text"].as_str().unwrap();
    assert!(
        text.starts_with("plan-guard: *post-verify failed* after the apply of decision"),
        "{text}"
    );
    assert_eq!(
        declared.bodies(),
        bodies,
        "the model's notification got the same body"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// An `iom_notification` in the model is posted to like a `--notify` URL: on the events
/// its `on` lists, in the workspaces it covers, never on allow. Its URL is a secret:
/// neither the report, standard error nor the ledger holds its path.
#[test]
fn a_model_notification_is_posted_on_escalate_and_not_on_allow() {
    let (oncall, blocks_only, elsewhere) = (Hook::new(200), Hook::new(200), Hook::new(200));
    let gov = governance_with(
        "model",
        &format!(
            r#"
resource "iom_notification" "oncall" {{
  name       = "platform-oncall"
  url        = "{}"
  on         = ["escalate", "drift"]
  workspaces = ["payments-*"]
}}

resource "iom_notification" "blocks" {{
  name = "blocks-only"
  url  = "{}"
  on   = ["block"]
}}

resource "iom_notification" "elsewhere" {{
  name       = "billing"
  url        = "{}"
  on         = ["escalate", "block"]
  workspaces = ["billing-*"]
}}
"#,
            oncall.url, blocks_only.url, elsewhere.url
        ),
    );
    let run = check_against(&gov, "example_allow.json", "model-allow", &[], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(oncall.bodies().is_empty(), "an allow needs nobody");

    let run = check_against(&gov, "example_escalate.json", "model-escalate", &[], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let bodies = oncall.bodies();
    assert_eq!(bodies.len(), 1, "{}", run.stderr);
    let n: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(n["event"], "escalate");
    assert_eq!(n["workspace"], "payments-prod");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(n["decision_id"], report["decision_id"]);
    assert!(!bodies[0].contains(CANARY));
    assert!(blocks_only.bodies().is_empty(), "its `on` is block only");
    assert!(
        elsewhere.bodies().is_empty(),
        "billing-* does not cover payments-prod"
    );
    for shown in [&run.stdout, &run.stderr] {
        assert!(!shown.contains("secret-path"), "{shown}");
    }
    let ledger = bytes_under(&scratch_path("model-escalate"));
    assert!(ledger.contains("payments-prod"), "the store was read");
    assert!(
        !ledger.contains("secret-path"),
        "a webhook URL in the ledger"
    );

    let run = check_against(&gov, "example_block.json", "model-block", &[], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(blocks_only.bodies().len(), 1);
    assert_eq!(oncall.bodies().len(), 1, "oncall's `on` has no block");
}

fn scratch_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pg-notify-{tag}-{}", std::process::id()))
}

/// A model notification and a `--notify` URL are the same webhook: posted once. One that
/// fails is reported by its name, the URL without its path, and the verdict stands.
#[test]
fn a_failing_model_notification_is_reported_by_name_and_changes_nothing() {
    let (ok, failing) = (Hook::new(200), Hook::new(404));
    let gov = governance_with(
        "model-fail",
        &format!(
            r#"
resource "iom_notification" "ok" {{
  name = "ok"
  url  = "{}"
  on   = ["escalate"]
}}

resource "iom_notification" "failing" {{
  name = "pager"
  url  = "{}"
  on   = ["escalate"]
}}
"#,
            ok.url, failing.url
        ),
    );
    let run = check_against(&gov, "example_escalate.json", "model-fail", &[&ok.url], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(ok.bodies().len(), 1, "one URL, one POST");
    assert!(
        run.stderr.contains(&format!(
            "plan-guard: notifying notification `pager` ({}/…) failed: answered 404 (attempt 1 of 3)",
            failing.shown()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("secret-path"), "{}", run.stderr);
}

/// `url_env` keeps the URL out of the model: it is read where plan-guard runs. Unset, or
/// set to something that is not a webhook URL, the check stops with an error naming the
/// notification and the variable (never its value) before it judges anything: a
/// notification cannot be silenced by leaving its variable out. A notification whose
/// workspaces do not cover the check's needs no variable.
#[test]
fn a_url_env_notification_needs_its_variable_where_it_applies() {
    let hook = Hook::new(200);
    let gov = governance_with(
        "env",
        r#"
resource "iom_notification" "oncall" {
  name       = "platform-oncall"
  url_env    = "IOM_TEST_NOTIFY_ONCALL"
  on         = ["escalate"]
  workspaces = ["payments-*"]
}

resource "iom_notification" "billing" {
  name       = "billing"
  url_env    = "IOM_TEST_NOTIFY_BILLING"
  on         = ["escalate"]
  workspaces = ["billing-*"]
}
"#,
    );
    let run = check_against(&gov, "example_escalate.json", "env-unset", &[], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "notification `platform-oncall`: $IOM_TEST_NOTIFY_ONCALL (its url_env) is not set"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !bytes_under(&scratch_path("env-unset")).contains("escalate"),
        "nothing judged, nothing recorded"
    );
    let bad = "ftp://hooks.example/secret-path";
    let run = check_against(
        &gov,
        "example_escalate.json",
        "env-bad",
        &[],
        &[("IOM_TEST_NOTIFY_ONCALL", bad)],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "notification `platform-oncall`: the URL in $IOM_TEST_NOTIFY_ONCALL must be an http:// or https:// URL"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("secret-path"), "{}", run.stderr);
    let run = check_against(
        &gov,
        "example_escalate.json",
        "env-set",
        &[],
        &[("IOM_TEST_NOTIFY_ONCALL", &hook.url)],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(hook.bodies().len(), 1, "{}", run.stderr);
}
