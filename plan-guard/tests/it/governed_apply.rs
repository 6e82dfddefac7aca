//! The whole loop with the real Terraform and a real SQLite ledger: check → escalate →
//! apply refused → approval by the author refused → approval by a listed approver →
//! apply runs → post-verify probes against a local HTTP server → evidence verifies → one
//! byte of one record changed in the database → verify names that record.

use crate::support::{Run, copy_tree, repo, scratch, terraform, tf};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where the local backend keeps the state of workspace payments-prod.
const STATE: &str = "terraform.tfstate.d/payments-prod/terraform.tfstate";

fn pg(dir: &Path, args: &[&str]) -> Run {
    pg_env(dir, args, None)
}

/// [`pg`] with one more environment variable.
fn pg_env(dir: &Path, args: &[&str], env: Option<(&str, &str)>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plan-guard"));
    command
        .args(args)
        .current_dir(dir)
        .env("TERRAFORM_BINARY", terraform())
        .env_remove("IOM_STORE")
        .env_remove("IOM_SIGNING_KEY")
        .env_remove("TF_WORKSPACE")
        .env_remove("WORKSPACE");
    if let Some((name, value)) = env {
        command.env(name, value);
    }
    let out: Output = command.output().unwrap();
    Run::from(out)
}

/// Points the example contract's http post-verify probe at `url`.
fn health_check_at(gov: &Path, url: &str) {
    std::fs::write(
        gov.join("terraform.tfvars"),
        format!("payments_health_url = \"{url}\"\n"),
    )
    .unwrap();
}

/// An HTTP server that answers 200 and counts requests.
fn health_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut s = stream.unwrap();
            let _ = s.read(&mut [0u8; 2048]);
            counter.fetch_add(1, Ordering::SeqCst);
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (url, hits)
}

/// A store to run the loop on: SQLite under `root`, or a fresh database on the real
/// PostgreSQL server the test script starts (`$IOM_TEST_POSTGRES_URL`).
struct TestStore {
    url: String,
    admin: Option<(String, String)>,
}

impl TestStore {
    /// SQLite always; PostgreSQL when the test script provides it (and must, under it).
    fn all(root: &Path, tag: &str) -> Vec<TestStore> {
        let sqlite = format!("sqlite://{}/ledger.db", root.display());
        // Created up front: `check --store` refuses a SQLite store that is not there.
        iom_store::Store::open(&sqlite).unwrap();
        let mut out = vec![TestStore {
            url: sqlite,
            admin: None,
        }];
        match std::env::var("IOM_TEST_POSTGRES_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("pg_{tag}_{}", std::process::id());
                let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
                c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .unwrap();
                c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let base = admin.rsplit_once('/').unwrap().0;
                out.push(TestStore {
                    url: format!("{base}/{name}"),
                    admin: Some((admin, name)),
                });
            }
            _ => assert_ne!(
                std::env::var("IOM_REQUIRE_POSTGRES").as_deref(),
                Ok("1"),
                "IOM_REQUIRE_POSTGRES=1 without IOM_TEST_POSTGRES_URL"
            ),
        }
        out
    }

    /// Changes stored evidence behind plan-guard's back with the rights of the database's
    /// owner: the append-only triggers dropped (SQLite) or off for the session
    /// (PostgreSQL). `sql_for` gets the name of the evidence table; its head is that
    /// name with `_head`.
    fn tamper(&self, sql_for: impl Fn(&str) -> String) {
        if self.admin.is_some() {
            let mut c = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
            c.batch_execute(&format!(
                "SET session_replication_role = replica; {}",
                sql_for("iom_evidence")
            ))
            .unwrap();
        } else {
            let conn =
                rusqlite::Connection::open(self.url.trim_start_matches("sqlite://")).unwrap();
            conn.execute_batch(
                "DROP TRIGGER evidence_no_update; DROP TRIGGER evidence_no_delete;
                 DROP TRIGGER evidence_head_forward;",
            )
            .unwrap();
            conn.execute_batch(&sql_for("evidence")).unwrap();
        }
    }

    /// Runs SQL as an ordinary client of the store (triggers in force); the error, if any.
    fn try_sql(&self, sql_for: impl Fn(&str) -> String) -> Result<(), String> {
        if self.admin.is_some() {
            let mut c = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
            c.batch_execute(&sql_for("iom_evidence")).map_err(|e| {
                e.as_db_error()
                    .map_or(e.to_string(), |d| d.message().into())
            })
        } else {
            rusqlite::Connection::open(self.url.trim_start_matches("sqlite://"))
                .unwrap()
                .execute_batch(&sql_for("evidence"))
                .map_err(|e| e.to_string())
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin
            && let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn setup(tag: &str) -> (PathBuf, PathBuf, String) {
    let root = scratch(&format!("apply-{tag}"));
    let work = root.join("workspace");
    let gov = root.join("governance");
    copy_tree(&repo().join("examples/workspace"), &work);
    copy_tree(&repo().join("examples/governance"), &gov);
    let _ = std::fs::remove_dir_all(gov.join("tests"));
    // The example contract's http post-verify probe asks a server of this test's own.
    health_check_at(&gov, &health_server().0);
    tf(&work, &["init", "-input=false", "-no-color"]);
    // The Terraform workspace the checks name: apply refuses to run in any other.
    tf(&work, &["workspace", "new", "-no-color", "payments-prod"]);
    let store = format!("sqlite://{}/ledger.db", root.display());
    // The ledger exists before the first check, as a store the team set up would:
    // `check --store` refuses a store that is not there (a mistyped path).
    iom_store::Store::open(&store).unwrap();
    (work, gov, store)
}

fn decision_of(run: &Run) -> String {
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    report["decision_id"].as_str().unwrap().to_string()
}

#[test]
fn check_approve_apply_verify_and_tamper() {
    let root = scratch("apply-stores");
    for (i, store) in TestStore::all(&root, "loop").iter().enumerate() {
        governed_loop(&format!("loop{i}"), store);
    }
    let _ = std::fs::remove_dir_all(&root);
}

fn governed_loop(tag: &str, test_store: &TestStore) {
    let (work, gov, _) = setup(tag);
    let store = test_store.url.clone();
    // The example contract (payments-service) probes this server after the apply; a
    // second contract checks the state.
    let (url, hits) = health_server();
    health_check_at(&gov, &url);
    std::fs::write(
        gov.join("contract.tf"),
        r#"
resource "iom_contract" "ledger" {
  name   = "payments-ledger-state"
  module = "module.payments"
  post_verify {
    probe     = "state"
    condition = "resources['module.payments.terraform_data.ledger_db[0]'].input.encrypted == true"
  }
}
"#,
    )
    .unwrap();
    let gov_s = gov.to_str().unwrap();
    tf(
        &work,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=tfplan",
            "-var",
            "enable_ledger_db=true",
        ],
    );

    // check: the critical ledger database escalates; alice ran the check.
    let run = pg(
        &work,
        &[
            "check",
            "tfplan",
            "--model",
            gov_s,
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--actor",
            "alice",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let id = decision_of(&run);

    // apply before approval: refused, nothing run.
    let run = pg(
        &work,
        &[
            "apply",
            "--plan",
            "tfplan",
            "--store",
            &store,
            "--",
            terraform().to_str().unwrap(),
            "apply",
            "-input=false",
            "-no-color",
            "tfplan",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "decision {id} escalates and has no valid approval"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("for profile prod-safe by one of bob, carol"),
        "alice ran the check, so she is not listed: {}",
        run.stderr
    );
    assert!(!work.join(STATE).exists(), "nothing was applied");

    // approvals: not a listed approver, then the author herself: both refused.
    let run = pg(
        &work,
        &[
            "approve", "--yes", &id, "--actor", "mallory", "--reason", "ship it", "--store", &store,
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("mallory is not an approver of profile prod-safe"),
        "{}",
        run.stderr
    );
    let run = pg(
        &work,
        &[
            "approve", "--yes", &id, "--actor", "alice", "--reason", "ship it", "--store", &store,
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("requires an approver other than alice"),
        "{}",
        run.stderr
    );

    // bob, through group:platform, may. Without --yes and without a terminal nothing is
    // approved, but the approval surface is shown: the change, who is accountable, who
    // may approve, and the contract the decision rests on.
    let approve_bob = [
        "approve",
        &id,
        "--actor",
        "bob",
        "--reason",
        "CHG-42 ledger rollout",
        "--store",
        &store,
    ];
    let run = pg(&work, &approve_bob);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("standard input is not a terminal; pass --yes"),
        "{}",
        run.stderr
    );
    for shown in [
        "ESCALATE module.payments.terraform_data.ledger_db[0]  create",
        "[intent:payments-prod / critical]",
        "accountable: intent payments-prod (owner team-payments)",
        "may approve: profile prod-safe: one of bob, carol (group platform: bob, carol); not alice, who ran the check",
        "Contract payments-service on module.payments (4 changes, version ",
        "ok       region = \"eu-west-1\"",
        "api_token = (sensitive, not shown)",
        "passed   profile_active: profile prod-safe",
        "profile prod-safe forbids delete (block)",
        &format!("http GET {url} expects 200 (2 retries)"),
        "run_record_written",
    ] {
        assert!(run.stdout.contains(shown), "{shown}: {}", run.stdout);
    }
    assert!(!run.stdout.contains("demo-secret-canary-7f3a"));
    // On a terminal it asks: anything but yes approves nothing, yes approves.
    let on_terminal = |answer: &str| {
        let mut command = vec![env!("CARGO_BIN_EXE_plan-guard").to_string()];
        command.extend(approve_bob.iter().map(|a| format!("'{a}'")));
        let mut child = Command::new("script")
            .args(["-qec", &command.join(" "), "/dev/null"])
            .current_dir(&work)
            .env_remove("IOM_STORE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("script (util-linux) runs the command on a terminal");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{answer}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = on_terminal("no");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("Type yes to approve") && text.contains("the answer was not yes"),
        "{text}"
    );
    let (code, text) = on_terminal("yes");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("approved {id} by bob under profile prod-safe")),
        "{text}"
    );
    // The approval names the contract versions it was given on.
    let records = iom_store::Store::open(&store)
        .unwrap()
        .evidence_for(&id)
        .unwrap();
    let approvals: Vec<_> = records.iter().filter(|e| e.kind == "approval").collect();
    assert_eq!(approvals.len(), 1, "the refusals recorded nothing");
    let check = records.iter().find(|e| e.kind == "check").unwrap();
    assert_eq!(
        approvals[0].body["contracts"],
        serde_json::json!([
            {
                "call": "module.payments",
                "contract": "payments-ledger-state",
                "digest": check.body["contracts"][0]["digest"],
            },
            {
                "call": "module.payments",
                "contract": "payments-service",
                "digest": check.body["contracts"][1]["digest"],
            },
        ])
    );
    assert_eq!(
        check.body["contracts"][0]["digest"].as_str().unwrap().len(),
        64
    );
    // `evidence show` prints the records: the contract sections and the accountable
    // owner are there, the sensitive input's value is not.
    let run = pg(&work, &["evidence", "show", &id, "--store", &store]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for shown in [
        "\"pre_conditions\"",
        "\"post_verify\"",
        "\"contract\": \"payments-service\"",
        "\"owner\": \"team-payments\"",
        "\"name\": \"api_token\"",
    ] {
        assert!(run.stdout.contains(shown), "{shown}: {}", run.stdout);
    }
    assert!(!run.stdout.contains("demo-secret-canary-7f3a"));

    // Another plan under this decision: refused.
    tf(
        &work,
        &["plan", "-input=false", "-no-color", "-out=other.tfplan"],
    );
    let run = pg(
        &work,
        &[
            "apply",
            "--plan",
            "other.tfplan",
            "--decision",
            &id,
            "--store",
            &store,
            "--",
            "true",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("is not the plan decision"),
        "{}",
        run.stderr
    );

    // The governed apply: Terraform runs, then the probes.
    let run = pg(
        &work,
        &[
            "apply",
            "--plan",
            "tfplan",
            "--store",
            &store,
            "--model",
            gov_s,
            "--",
            terraform().to_str().unwrap(),
            "apply",
            "-input=false",
            "-no-color",
            "tfplan",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Apply complete!"),
        "Terraform's output streams through: {}",
        run.stdout
    );
    assert!(work.join(STATE).exists());
    assert!(
        hits.load(Ordering::SeqCst) >= 1,
        "the http probe reached the server"
    );
    for (contract, probe) in [
        ("payments-service", "post_verify.http"),
        ("payments-ledger-state", "post_verify.state"),
        ("payments-service", "post_verify.run_record_written"),
    ] {
        assert!(
            run.stderr
                .contains(&format!("ok   [contract:{contract} / {probe}]")),
            "{probe}: {}",
            run.stderr
        );
    }

    // The apply observed what it built.
    let observed = iom_store::Store::open(&store)
        .unwrap()
        .observations("payments-prod")
        .unwrap();
    assert_eq!(observed.len(), 1, "one observation after the apply");
    assert!(observed[0].body["resources"].as_array().unwrap().len() >= 8);
    assert!(
        !observed[0]
            .body
            .to_string()
            .contains("demo-secret-canary-7f3a"),
        "values are digested only"
    );

    // The ledger: check, approval, apply; it verifies; the canary is nowhere in it.
    let run = pg(&work, &["evidence", "verify", "--store", &store]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("ledger verified: 3 records"),
        "{}",
        run.stdout
    );
    let export = pg(
        &work,
        &["evidence", "export", "--format", "jsonl", "--store", &store],
    )
    .stdout;
    let kinds: Vec<String> = export
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["check", "approval", "apply"]);
    assert!(!export.contains("demo-secret-canary-7f3a"));
    let list = pg(&work, &["evidence", "list", "--store", &store]).stdout;
    assert!(
        list.contains("escalate by alice in payments-prod") && list.contains("by bob: CHG-42"),
        "{list}"
    );

    // One byte of the approval record changed in the database: verify names it.
    test_store
        .tamper(|t| format!("UPDATE {t} SET body = replace(body, 'bob', 'bow') WHERE seq = 2"));
    let run = pg(&work, &["evidence", "verify", "--store", &store]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&format!("ledger broken at record 2 (decision {id})")),
        "{}",
        run.stderr
    );
}

#[test]
fn blocked_plans_are_never_approved_or_applied() {
    let (work, gov, store) = setup("block");
    tf(
        &work,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=tfplan",
            "-var",
            "region=us-east-1",
        ],
    );
    let run = pg(
        &work,
        &[
            "check",
            "tfplan",
            "--model",
            gov.to_str().unwrap(),
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 2);
    let id = decision_of(&run);
    let run = pg(
        &work,
        &[
            "approve", "--yes", &id, "--actor", "bob", "--reason", "please", "--store", &store,
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("a blocked plan cannot be approved"),
        "{}",
        run.stderr
    );
    // Without --yes the block is still what refuses: nobody is asked to confirm what no
    // one may approve.
    let run = pg(
        &work,
        &[
            "approve", &id, "--actor", "bob", "--reason", "please", "--store", &store,
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("a blocked plan cannot be approved")
            && !run.stderr.contains("not a terminal"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("may approve: nobody (a blocked change is never approved)")
    );
    let run = pg(
        &work,
        &[
            "apply", "--plan", "tfplan", "--store", &store, "--", "cp", "tfplan", "ran",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&format!("decision {id} blocks this plan")),
        "{}",
        run.stderr
    );
    assert!(!work.join("ran").exists(), "the command never ran");
}

#[test]
fn signed_records_verify_only_with_their_key() {
    let (work, gov, store) = setup("signed");
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let run = pg(
        &work,
        &[
            "evidence",
            "keygen",
            "--private-key",
            "ledger.key",
            "--public-key",
            "ledger.pub",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    pg(
        &work,
        &[
            "evidence",
            "keygen",
            "--private-key",
            "other.key",
            "--public-key",
            "other.pub",
        ],
    );
    let run = pg(
        &work,
        &[
            "check",
            "tfplan",
            "--model",
            gov.to_str().unwrap(),
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--signing-key",
            "ledger.key",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = pg(
        &work,
        &[
            "evidence",
            "verify",
            "--store",
            &store,
            "--public-key",
            "ledger.pub",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("every signature good"));
    let run = pg(
        &work,
        &[
            "evidence",
            "verify",
            "--store",
            &store,
            "--public-key",
            "other.pub",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("record 1") && run.stderr.contains("signature does not verify"),
        "{}",
        run.stderr
    );
}

/// 32 checks at once against one store leave 32 records in one verifying chain; checks
/// killed mid-run leave a chain that still verifies.
#[test]
fn concurrent_and_killed_checks_keep_the_chain_whole() {
    let root = scratch("apply-concurrent");
    for store in TestStore::all(&root, "concurrent") {
        concurrent_checks(&root, &store.url);
    }
    let _ = std::fs::remove_dir_all(&root);
}

fn concurrent_checks(root: &Path, store: &str) {
    let store = store.to_string();
    let plan = repo().join("plan-guard/tests/fixtures/plans/example_escalate.json");
    let gov = repo().join("examples/governance");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .args([
                "check",
                plan.to_str().unwrap(),
                "--model",
                gov.to_str().unwrap(),
            ])
            .args([
                "--store",
                &store,
                "--workspace",
                "payments-prod",
                "--format",
                "json",
            ])
            .current_dir(root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..32).map(|_| spawn()).collect();
    for mut c in children {
        assert_eq!(c.wait().unwrap().code(), Some(3));
    }
    let run = pg(root, &["evidence", "verify", "--store", &store]);
    assert!(
        run.stdout.contains("ledger verified: 32 records"),
        "{}{}",
        run.stdout,
        run.stderr
    );

    // Kill checks at staggered moments, some surely while they write.
    let mut victims: Vec<_> = (0..16).map(|_| spawn()).collect();
    for (i, c) in victims.iter_mut().enumerate() {
        std::thread::sleep(std::time::Duration::from_millis((i as u64 % 4) * 3));
        let _ = c.kill();
    }
    for mut c in victims {
        let _ = c.wait();
    }
    let run = pg(root, &["evidence", "verify", "--store", &store]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// The check record pins the model (source, revision, digest of its objects) and the
/// `--ungoverned` outcome; `apply` refuses, running nothing, unless the model it is given
/// is that model, so the decision's post-verify probes never silently become none.
#[test]
fn apply_runs_under_the_model_the_check_used() {
    let (work, gov, store) = setup("pinned");
    std::fs::write(
        gov.join("contract.tf"),
        r#"
resource "iom_contract" "record" {
  name   = "payments-record"
  module = "module.payments"
  post_verify {
    probe = "run_record_written"
  }
}
"#,
    )
    .unwrap();
    let other = gov.with_file_name("other-governance");
    copy_tree(&gov, &other);
    std::fs::remove_file(other.join("contract.tf")).unwrap();
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let gov_s = gov.to_str().unwrap();
    let run = pg(
        &work,
        &[
            "check",
            "tfplan",
            "--model",
            gov_s,
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--ungoverned",
            "warn",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let export = pg(&work, &["evidence", "export", "--store", &store]).stdout;
    let record: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    let id = record["decision_id"].as_str().unwrap().to_string();
    assert_eq!(record["body"]["ungoverned"], "warn");
    assert_eq!(record["body"]["model"]["source"], gov_s);
    assert_eq!(record["body"]["model"]["revision"], serde_json::Value::Null);
    assert_eq!(
        record["body"]["model"]["directory"],
        std::fs::canonicalize(&gov).unwrap().display().to_string()
    );
    let digest = record["body"]["model"]["digest"].as_str().unwrap();
    assert_eq!(digest.len(), 64, "{digest}");

    // No model here (the store holds none), then a different model: refused, nothing ran.
    let apply = |extra: &[&str]| {
        let mut args = vec!["apply", "--plan", "tfplan", "--store", &store];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "cp", "tfplan", "ran"]);
        pg(&work, &args)
    };
    let run = apply(&[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "decision {id} was judged against --model {gov_s}, and that model is not available here"
        )) && run
            .stderr
            .contains(&format!("pass the same --model {gov_s} as the check did")),
        "{}",
        run.stderr
    );
    let run = apply(&["--model", other.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "is not the one decision {id} was judged against (--model {gov_s}, digest {}…)",
            &digest[..12]
        )),
        "{}",
        run.stderr
    );
    assert!(!work.join("ran").exists(), "nothing ran");

    // The same model. A command that cannot start, or that a signal ends, is recorded
    // (the signal as 128 + N, a shell's convention); a failed command may be retried.
    let run = pg(
        &work,
        &[
            "apply",
            "--plan",
            "tfplan",
            "--store",
            &store,
            "--model",
            gov_s,
            "--",
            "/nonexistent/cmd",
            "tfplan",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot run /nonexistent/cmd"),
        "{}",
        run.stderr
    );
    let run = pg(
        &work,
        &[
            "apply",
            "--plan",
            "tfplan",
            "--store",
            &store,
            "--model",
            gov_s,
            "--",
            "sh",
            "-c",
            "kill -TERM $$",
            "sh",
            "tfplan",
        ],
    );
    assert_eq!(run.code, 143, "{}{}", run.stdout, run.stderr);
    let list = pg(&work, &["evidence", "list", "--store", &store]).stdout;
    assert!(
        list.contains("not run: cannot run /nonexistent/cmd")
            && list.contains("ended by signal 15"),
        "{list}"
    );
    let run = pg(
        &work,
        &[
            "apply", "--plan", "tfplan", "--store", &store, "--model", gov_s, "--", "sh", "-c",
            "exit 7", "sh", "tfplan",
        ],
    );
    assert_eq!(
        run.code, 7,
        "the command's code passes through: {}",
        run.stderr
    );
    let run = apply(&["--model", gov_s]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(work.join("ran").exists());
    assert!(
        run.stderr
            .contains("ok   [contract:payments-service / post_verify.run_record_written]"),
        "{}",
        run.stderr
    );

    // Applied once successfully: a second run of the same decision is refused.
    std::fs::remove_file(work.join("ran")).unwrap();
    let run = apply(&["--model", gov_s]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "decision {id} was already applied (evidence record 5 at"
        )),
        "{}",
        run.stderr
    );
    assert!(!work.join("ran").exists(), "nothing ran again");
}

/// `apply --decision OLD` refuses a decision a later check of the same plan superseded,
/// naming the newer one.
#[test]
fn superseded_decisions_are_refused() {
    let (work, gov, store) = setup("superseded");
    let gov_s = gov.to_str().unwrap();
    tf(
        &work,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=tfplan",
            "-var",
            "enable_ledger_db=true",
        ],
    );
    let check = || {
        let run = pg(
            &work,
            &[
                "check",
                "tfplan",
                "--model",
                gov_s,
                "--store",
                &store,
                "--workspace",
                "payments-prod",
                "--actor",
                "alice",
                "--format",
                "json",
            ],
        );
        assert_eq!(run.code, 3, "{}", run.stderr);
        decision_of(&run)
    };
    let old = check();
    let run = pg(
        &work,
        &[
            "approve", "--yes", &old, "--actor", "bob", "--reason", "CHG-1", "--store", &store,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let newer = check();
    let run = pg(
        &work,
        &[
            "apply",
            "--plan",
            "tfplan",
            "--decision",
            &old,
            "--store",
            &store,
            "--model",
            gov_s,
            "--",
            "cp",
            "tfplan",
            "ran",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "decision {old} is superseded by decision {newer} (a later check of the same plan, verdict escalate)"
        )),
        "{}",
        run.stderr
    );
    assert!(!work.join("ran").exists(), "nothing ran");
}

/// A check of `terraform show -json tfplan > plan.json` authorises `apply --plan tfplan`:
/// the JSON rendering of the very same binary plan is the same plan. Another plan's
/// rendering does not.
#[test]
fn a_checked_json_rendering_authorises_its_binary_plan() {
    let (work, gov, store) = setup("rendering");
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let json = Command::new(terraform())
        .arg(format!("-chdir={}", work.display()))
        .args(["show", "-json", "tfplan"])
        .output()
        .unwrap();
    assert!(json.status.success());
    std::fs::write(work.join("plan.json"), &json.stdout).unwrap();
    let gov_s = gov.to_str().unwrap();
    let run = pg(
        &work,
        &[
            "check",
            "plan.json",
            "--model",
            gov_s,
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = decision_of(&run);

    // Another binary plan is refused under that decision.
    tf(
        &work,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=other.tfplan",
            "-var",
            "region=eu-central-1",
        ],
    );
    let run = pg(
        &work,
        &[
            "apply",
            "--plan",
            "other.tfplan",
            "--decision",
            &id,
            "--store",
            &store,
            "--model",
            gov_s,
            "--",
            "cp",
            "tfplan",
            "ran",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("is not the plan decision"),
        "{}",
        run.stderr
    );

    // With no command, plan-guard runs terraform apply on its copy of the plan.
    let run = pg(
        &work,
        &[
            "apply", "--plan", "tfplan", "--store", &store, "--model", gov_s,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(&format!("applying under decision {id}")),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("Apply complete!"), "{}", run.stdout);
    assert!(work.join(STATE).exists());
}

/// Issue 12, item 1: a JSON document with its `resource_changes` cut out checks as
/// allow; neither it nor any other checked plan lets a command apply the destroy plan it
/// was cut from, which the honest check blocks. Only the binary plan that was checked
/// (or whose `show -json` rendering was) is applied, and the command gets that plan.
#[test]
fn a_crafted_document_never_authorises_another_plan() {
    let (work, gov, store) = setup("crafted");
    let gov_s = gov.to_str().unwrap();
    let var = ["-var", "enable_ledger_db=true"];
    tf(
        &work,
        &[
            &["apply", "-input=false", "-no-color", "-auto-approve"][..],
            &var,
        ]
        .concat(),
    );
    let ledger_db_built = || {
        std::fs::read_to_string(work.join(STATE))
            .unwrap()
            .contains("\"ledger_db\"")
    };
    assert!(ledger_db_built());
    tf(
        &work,
        &[
            &[
                "plan",
                "-destroy",
                "-input=false",
                "-no-color",
                "-out=del.tfplan",
            ][..],
            &var,
        ]
        .concat(),
    );
    tf(
        &work,
        &[
            &["plan", "-input=false", "-no-color", "-out=ok.tfplan"][..],
            &var,
        ]
        .concat(),
    );
    let shown = Command::new(terraform())
        .arg(format!("-chdir={}", work.display()))
        .args(["show", "-json", "del.tfplan"])
        .output()
        .unwrap();
    assert!(shown.status.success());
    let mut crafted: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    crafted.as_object_mut().unwrap().remove("resource_changes");
    std::fs::write(work.join("crafted.json"), crafted.to_string()).unwrap();
    let check = |plan: &str| {
        pg(
            &work,
            &[
                "check",
                plan,
                "--model",
                gov_s,
                "--store",
                &store,
                "--workspace",
                "payments-prod",
                "--format",
                "json",
            ],
        )
    };
    let run = check("crafted.json");
    assert_eq!(
        run.code, 0,
        "the crafted document checks as allow: {}",
        run.stderr
    );
    let crafted_id = decision_of(&run);
    let run = check("ok.tfplan");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let apply = |args: &[&str]| {
        let mut all = vec!["apply", "--store", &store, "--model", gov_s];
        all.extend_from_slice(args);
        pg(&work, &all)
    };
    let terraform = terraform();
    let destroy = [
        terraform.to_str().unwrap(),
        "apply",
        "-input=false",
        "-no-color",
        "del.tfplan",
    ];

    // The JSON document is no authority to apply anything.
    let run = apply(&[&["--plan", "crafted.json", "--"][..], &destroy].concat());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("crafted.json is not a binary plan"),
        "{}",
        run.stderr
    );
    // The destroy plan is not what the crafted decision judged, nor any decision.
    let run = apply(
        &[
            &["--plan", "del.tfplan", "--decision", &crafted_id, "--"][..],
            &destroy,
        ]
        .concat(),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "del.tfplan is not the plan decision {crafted_id} judged"
        )),
        "{}",
        run.stderr
    );
    let run = apply(&[&["--plan", "del.tfplan", "--"][..], &destroy].concat());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("no decision is recorded for del.tfplan"),
        "{}",
        run.stderr
    );
    // An allowed plan does not lend its decision to a command applying another one.
    let run = apply(&[&["--plan", "ok.tfplan", "--"][..], &destroy].concat());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("the command does not name the plan file ok.tfplan"),
        "{}",
        run.stderr
    );
    assert!(ledger_db_built(), "nothing was destroyed");

    // The honest check of the destroy plan blocks it.
    let run = check("del.tfplan");
    assert_eq!(run.code, 2, "{}", run.stderr);

    // The allowed plan runs on plan-guard's private copy: the command gets its path.
    let run = apply(&[
        "--plan",
        "ok.tfplan",
        "--",
        "sh",
        "-c",
        "cp \"$1\" ran && echo \"$1\"",
        "sh",
        "ok.tfplan",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let copy = run.stdout.trim();
    assert!(copy.contains("plan-guard-apply-"), "{copy}");
    assert!(!Path::new(copy).exists(), "the copy is removed afterwards");
    assert_eq!(
        std::fs::read(work.join("ran")).unwrap(),
        std::fs::read(work.join("ok.tfplan")).unwrap()
    );
    assert!(ledger_db_built());
}

/// Issue 12, item 3: a decision is applied only in the Terraform workspace it was
/// checked for; Atlantis's `$WORKSPACE` alone does not change what Terraform applies to,
/// so it does not count.
#[test]
fn apply_runs_only_in_the_workspace_that_was_checked() {
    let (work, gov, store) = setup("workspace");
    let gov_s = gov.to_str().unwrap();
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let run = pg(
        &work,
        &[
            "check",
            "tfplan",
            "--model",
            gov_s,
            "--store",
            &store,
            "--workspace",
            "payments-dev",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = decision_of(&run);
    let args = [
        "apply", "--plan", "tfplan", "--store", &store, "--model", gov_s, "--", "cp", "tfplan",
        "ran",
    ];
    for env in [None, Some(("WORKSPACE", "payments-dev"))] {
        let run = pg_env(&work, &args, env);
        assert_eq!(run.code, 1, "{env:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "decision {id} was checked for workspace payments-dev, but the current Terraform workspace is payments-prod"
            )),
            "{env:?}: {}",
            run.stderr
        );
        assert!(!work.join("ran").exists(), "nothing ran");
    }
    // In that workspace, it runs.
    tf(&work, &["workspace", "new", "-no-color", "payments-dev"]);
    let run = pg(&work, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(work.join("ran").exists());
}

/// An escalation two profiles with different approvers contributed to: each profile's
/// approver records an approval under it, apply says which profiles still lack one and
/// who may give it, and runs once both have.
#[test]
fn each_escalating_profile_is_approved_by_its_own_approvers() {
    let (work, gov, store) = setup("profiles");
    std::fs::remove_file(gov.join("main.tf")).unwrap();
    std::fs::write(
        gov.join("main.tf"),
        r#"
resource "iom_profile" "pa" {
  name      = "pa"
  actions   = { create = "escalate" }
  approvers = ["alice"]
  require_distinct_approver = true
}
resource "iom_profile" "pb" {
  name      = "pb"
  actions   = { create = "escalate" }
  approvers = ["group:net"]
  groups    = { net = ["bob", "zed"] }
  require_distinct_approver = true
}
resource "iom_profile" "quiet" {
  name      = "quiet"
  approvers = ["carol"]
}
resource "iom_intent" "payments" {
  name    = "payments"
  profile = "pa"
  scope {
    modules = ["module.payments"]
  }
}
resource "iom_intent" "network" {
  name    = "network"
  profile = "pb"
  scope {
    modules = ["module.network"]
  }
}
resource "iom_intent" "root" {
  name    = "root"
  profile = "quiet"
}
"#,
    )
    .unwrap();
    let gov_s = gov.to_str().unwrap();
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let run = pg(
        &work,
        &[
            "check",
            "tfplan",
            "--model",
            gov_s,
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--actor",
            "zed",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let id = decision_of(&run);
    let apply = || {
        pg(
            &work,
            &[
                "apply", "--plan", "tfplan", "--store", &store, "--model", gov_s, "--", "cp",
                "tfplan", "ran",
            ],
        )
    };
    let approve = |actor: &str| {
        pg(
            &work,
            &[
                "approve", "--yes", &id, "--actor", actor, "--reason", "CHG-7", "--store", &store,
            ],
        )
    };

    let run = apply();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "decision {id} escalates and has no valid approval under 2 of its profiles"
        )) && run
            .stderr
            .contains("for profile pa by one of alice; profile pb by one of bob"),
        "{}",
        run.stderr
    );
    // carol approves only a profile that escalated nothing; zed ran the check.
    let run = approve("carol");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("carol is not an approver of profile pa (approvers: alice)"),
        "{}",
        run.stderr
    );
    let run = approve("zed");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("profile pb requires an approver other than zed"),
        "{}",
        run.stderr
    );

    let run = approve("alice");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("approved {id} by alice under profile pa"))
            && run
                .stdout
                .contains("still to approve: profile pb by one of bob"),
        "{}",
        run.stdout
    );
    let run = apply();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("has no valid approval under profile pb: plan-guard approve")
            && run.stderr.contains("for profile pb by one of bob"),
        "{}",
        run.stderr
    );
    assert!(!work.join("ran").exists(), "nothing ran");

    let run = approve("bob");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("still to approve"), "{}", run.stdout);
    let run = apply();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(work.join("ran").exists());
}

/// `evidence list|show|verify|export` and `insights` only read: a store that does not
/// exist (a mistyped path) is an error naming it, and is not created.
#[test]
fn read_only_commands_never_create_a_store() {
    let root = scratch("apply-readonly");
    let missing = root.join("typo/ledger.db");
    let store = format!("sqlite://{}", missing.display());
    let gov = repo().join("examples/governance");
    for args in [
        vec!["evidence", "list"],
        vec!["evidence", "show", "pg-1"],
        vec!["evidence", "verify"],
        vec!["evidence", "export", "--format", "jsonl"],
        vec!["insights", "--model", gov.to_str().unwrap()],
        vec!["insights"],
    ] {
        let mut args = args.clone();
        args.extend_from_slice(&["--store", &store]);
        let run = pg(&root, &args);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains(&format!("{} does not exist", missing.display())),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!missing.exists() && !root.join("typo").exists(), "{args:?}");
    }

    // An existing but empty ledger verifies, with a warning that it is empty.
    let empty = format!("sqlite://{}/empty.db", root.display());
    iom_store::Store::open(&empty).unwrap();
    let run = pg(&root, &["evidence", "verify", "--store", &empty]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("ledger verified: 0 records")
            && run.stderr.contains("warning: the ledger of")
            && run.stderr.contains("is empty"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// `evidence export | head -1`: a reader that goes away ends the export quietly.
#[test]
fn a_closed_pipe_ends_the_export_quietly() {
    let (_work, gov, store) = setup("pipe");
    let plan = repo().join("plan-guard/tests/fixtures/plans/example_escalate.json");
    let root = gov.parent().unwrap().to_path_buf();
    for _ in 0..3 {
        let run = pg(
            &root,
            &[
                "check",
                plan.to_str().unwrap(),
                "--model",
                gov.to_str().unwrap(),
                "--store",
                &store,
                "--workspace",
                "payments-prod",
            ],
        );
        assert_eq!(run.code, 3, "{}", run.stderr);
    }
    for command in ["export", "list"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .args(["evidence", command, "--store", &store])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("Broken pipe"), "{command}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{command}: {stderr}");
    }
}

/// Issue 12: once a decision was applied, deleting its `apply` record (and moving the
/// head back onto the record before it) let the decision run again, and a signed ledger
/// cut that way still verified. Plain SQL cannot do it now; someone who owns the store and
/// drops the triggers leaves a valid, shorter chain, which a signed checkpoint finds.
#[test]
fn a_cut_ledger_is_refused_by_the_store_and_found_by_a_checkpoint() {
    let root = scratch("apply-cut");
    for (i, store) in TestStore::all(&root, "cut").iter().enumerate() {
        cut_ledger(&format!("cut{i}"), store);
    }
    let _ = std::fs::remove_dir_all(&root);
}

fn cut_ledger(tag: &str, test_store: &TestStore) {
    let (work, gov, _) = setup(tag);
    let store = test_store.url.clone();
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let keygen = [
        "evidence",
        "keygen",
        "--private-key",
        "ledger.key",
        "--public-key",
        "ledger.pub",
    ];
    assert_eq!(pg(&work, &keygen).code, 0);
    let run = pg(
        &work,
        &[
            "check",
            "tfplan",
            "--model",
            gov.to_str().unwrap(),
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--signing-key",
            "ledger.key",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tf_bin = terraform();
    let apply = [
        "apply",
        "--plan",
        "tfplan",
        "--store",
        &store,
        "--model",
        gov.to_str().unwrap(),
        "--signing-key",
        "ledger.key",
        "--",
        tf_bin.to_str().unwrap(),
        "apply",
        "-input=false",
        "-no-color",
        "tfplan",
    ];
    let run = pg(&work, &apply);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = pg(
        &work,
        &[
            "evidence",
            "checkpoint",
            "--store",
            &store,
            "--signing-key",
            "ledger.key",
            "--output",
            "head.json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("checkpoint of record "),
        "{}",
        run.stdout
    );
    let verify = |checkpoint: &str, key: &str| {
        pg(
            &work,
            &[
                "evidence",
                "verify",
                "--store",
                &store,
                "--public-key",
                key,
                "--checkpoint",
                checkpoint,
            ],
        )
    };
    let run = verify("head.json", "ledger.pub");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("holds checkpointed record "),
        "{}",
        run.stdout
    );

    // Through SQL the apply record can be neither deleted nor have the head moved off it.
    let e = test_store
        .try_sql(|t| format!("DELETE FROM {t} WHERE kind = 'apply'"))
        .unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = test_store
        .try_sql(|t| {
            format!("UPDATE {t}_head SET seq = 1, hash = (SELECT hash FROM {t} WHERE seq = 1)")
        })
        .unwrap_err();
    assert!(e.contains("only moves forward"), "{e}");
    let run = pg(&work, &apply);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("was already applied"), "{}", run.stderr);

    // The owner drops the triggers, deletes what followed the check and moves the head
    // back: every signature is still good and the chain intact, but the checkpoint finds
    // the cut.
    test_store.tamper(|t| {
        format!(
            "DELETE FROM {t} WHERE seq > 1; \
             UPDATE {t}_head SET seq = 1, hash = (SELECT hash FROM {t} WHERE seq = 1);"
        )
    });
    let run = pg(
        &work,
        &[
            "evidence",
            "verify",
            "--store",
            &store,
            "--public-key",
            "ledger.pub",
        ],
    );
    assert_eq!(
        run.code, 0,
        "without a checkpoint the cut is invisible: {}",
        run.stderr
    );
    let run = verify("head.json", "ledger.pub");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("ledger broken at checkpoint head.json (record ")
            && run
                .stderr
                .contains("but the ledger holds 1: the records after 1 were cut"),
        "{}",
        run.stderr
    );

    // A checkpoint edited to vouch for less proves nothing.
    let text = std::fs::read_to_string(work.join("head.json")).unwrap();
    let mut forged: serde_json::Value = serde_json::from_str(&text).unwrap();
    forged["seq"] = 1.into();
    std::fs::write(work.join("forged.json"), forged.to_string()).unwrap();
    let run = verify("forged.json", "ledger.pub");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("checkpoint forged.json (record 1): its signature does not verify"),
        "{}",
        run.stderr
    );
}

/// Issue 12: an approval is for the changes someone is entitled to approve. alice may
/// approve what profile `prod` governs (module.payments); the network and the DNS record
/// are ungoverned and escalate (`--ungoverned escalate`, the default), so no one may
/// approve them, and her approval under `prod` no longer carries them along.
#[test]
fn an_ungoverned_change_does_not_ride_along_with_another_profiles_approval() {
    let (work, gov, store) = setup("ride-along");
    std::fs::remove_file(gov.join("main.tf")).unwrap();
    std::fs::write(
        gov.join("main.tf"),
        r#"
resource "iom_profile" "prod" {
  name      = "prod"
  actions   = { create = "escalate" }
  approvers = ["alice"]
}
resource "iom_intent" "payments" {
  name    = "payments"
  profile = "prod"
  scope {
    modules = ["module.payments"]
  }
}
"#,
    )
    .unwrap();
    let gov_s = gov.to_str().unwrap();
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let check = |ungoverned: &str| {
        let run = pg(
            &work,
            &[
                "check",
                "tfplan",
                "--model",
                gov_s,
                "--store",
                &store,
                "--workspace",
                "payments-prod",
                "--actor",
                "ci",
                "--ungoverned",
                ungoverned,
                "--format",
                "json",
            ],
        );
        assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
        decision_of(&run)
    };
    let approve = |id: &str| {
        pg(
            &work,
            &[
                "approve", "--yes", id, "--actor", "alice", "--reason", "CHG-9", "--store", &store,
            ],
        )
    };
    let apply = || {
        pg(
            &work,
            &[
                "apply", "--plan", "tfplan", "--store", &store, "--model", gov_s, "--", "cp",
                "tfplan", "ran",
            ],
        )
    };

    let id = check("escalate");
    let run = approve(&id);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(&format!("alice cannot approve {id}: no one may approve "))
            && run.stderr.contains("terraform_data.dns")
            && run.stderr.contains("module.network.terraform_data.subnet")
            && !run.stderr.contains("module.payments."),
        "{}",
        run.stderr
    );
    let run = apply();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("escalates and cannot be approved: no one may approve"),
        "{}",
        run.stderr
    );
    assert!(!work.join("ran").exists(), "nothing ran");

    // Checked again with ungoverned changes only warned about, the payments changes are
    // all that escalates, and alice's approval covers them.
    let id = check("warn");
    let run = approve(&id);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = apply();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(work.join("ran").exists());
}

/// Issue 12, item 2: eight `apply` runs of one allowed decision at once run its command
/// once; the others are refused, naming the run that holds the decision.
#[test]
fn concurrent_applies_of_one_decision_run_it_once() {
    let root = scratch("apply-once");
    for (i, store) in TestStore::all(&root, "once").iter().enumerate() {
        applied_once(&format!("once{i}"), &store.url);
    }
    let _ = std::fs::remove_dir_all(&root);
}

fn applied_once(tag: &str, store: &str) {
    let (work, gov, _) = setup(tag);
    let gov_s = gov.to_str().unwrap();
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let run = pg(
        &work,
        &[
            "check",
            "tfplan",
            "--model",
            gov_s,
            "--store",
            store,
            "--workspace",
            "payments-prod",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = decision_of(&run);
    // Each run appends a line, then lingers so the others start while it holds the claim.
    let runs: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_plan-guard"))
                .args([
                    "apply", "--plan", "tfplan", "--store", store, "--model", gov_s,
                ])
                .args([
                    "--",
                    "sh",
                    "-c",
                    "echo ran >> runs; sleep 3",
                    "sh",
                    "tfplan",
                ])
                .current_dir(&work)
                .env("TERRAFORM_BINARY", terraform())
                .env_remove("IOM_STORE")
                .env_remove("TF_WORKSPACE")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = runs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let ran = std::fs::read_to_string(work.join("runs")).unwrap();
    assert_eq!(ran.lines().count(), 1, "the command ran once: {ran}");
    let (ok, refused): (Vec<_>, Vec<_>) = outs.iter().partition(|o| o.status.success());
    assert_eq!(ok.len(), 1);
    for out in refused {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("decision {id} is being applied by run run-"))
                || stderr.contains(&format!("decision {id} was already applied")),
            "{stderr}"
        );
    }
    let run = pg(&work, &["evidence", "verify", "--store", store]);
    assert!(
        run.stdout.contains("ledger verified: 2 records"),
        "one check, one apply: {}{}",
        run.stdout,
        run.stderr
    );
}

/// The example governance written into a store, as the provider would write it.
fn model_into(store: &str) {
    let spec = iom_model::load_dir(&repo().join("examples/governance")).unwrap();
    let s = iom_store::Store::open(store).unwrap();
    let objects = (spec.profiles.into_iter().map(iom_model::Object::Profile))
        .chain(
            spec.blueprints
                .into_iter()
                .map(iom_model::Object::Blueprint),
        )
        .chain(spec.intents.into_iter().map(iom_model::Object::Intent))
        .chain(spec.contracts.into_iter().map(iom_model::Object::Contract))
        .chain(spec.elements.into_iter().map(iom_model::Object::Element));
    for object in objects {
        s.put(&object).unwrap();
    }
}

/// Issue 12, item 11: a password in the store URL (as `user:pass@` or `?password=`)
/// reaches no report of any format, no ledger record, no evidence output and no error.
#[test]
fn no_credential_in_the_store_url_reaches_any_output() {
    let root = scratch("apply-secret");
    let stores = TestStore::all(&root, "secret");
    let Some(pg_store) = stores.iter().find(|s| s.admin.is_some()) else {
        return; // The credentials only exist in PostgreSQL URLs.
    };
    model_into(&pg_store.url);
    let (scheme, rest) = pg_store.url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').unwrap();
    // The test server trusts loopback: any password is accepted, and must never show.
    let url = format!("{scheme}://{user}:pw-in-userinfo-7c1@{host}?password=pw-in-query-7c2");
    let secrets = ["pw-in-userinfo-7c1", "pw-in-query-7c2"];
    let plan = repo().join("plan-guard/tests/fixtures/plans/example_escalate.json");
    let mut seen = String::new();
    let run = pg(
        &root,
        &[
            "check",
            plan.to_str().unwrap(),
            "--store",
            &url,
            "--workspace",
            "payments-prod",
            "--also",
            "json=r.json",
            "--also",
            "markdown=r.md",
            "--also",
            "junit=r.xml",
            "--also",
            "html=r.html",
            "--also",
            "sarif=r.sarif",
        ],
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    seen += &run.stdout;
    seen += &run.stderr;
    for file in ["r.json", "r.md", "r.xml", "r.html", "r.sarif"] {
        seen += &std::fs::read_to_string(root.join(file)).unwrap();
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("r.json")).unwrap()).unwrap();
    let id = report["decision_id"].as_str().unwrap();
    assert!(
        report["model"]["source"].as_str().unwrap().contains(host),
        "the report names the store: {}",
        report["model"]
    );
    for args in [
        vec!["evidence", "list"],
        vec!["evidence", "show", id],
        vec!["evidence", "export", "--format", "jsonl"],
        vec!["evidence", "verify"],
        vec!["insights"],
        vec![
            "approve", "--yes", id, "--actor", "bob", "--reason", "CHG-1",
        ],
    ] {
        let mut args = args.clone();
        args.extend_from_slice(&["--store", &url]);
        let run = pg(&root, &args);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
        seen += &run.stdout;
        seen += &run.stderr;
    }
    // Errors: a misspelt scheme, a server that is not there, a database that is not.
    let unreachable = format!(
        "{scheme}://{user}:pw-in-userinfo-7c1@127.0.0.1:1/x?password=pw-in-query-7c2&connect_timeout=5"
    );
    let no_db = url.replace("/pg_secret_", "/nodb_");
    for bad in [url.replacen("postgres", "postgress", 1), unreachable, no_db] {
        let run = pg(&root, &["evidence", "list", "--store", &bad]);
        assert_eq!(run.code, 1, "{bad}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("store"), "{}", run.stderr);
        seen += &run.stderr;
    }
    for secret in secrets {
        assert!(!seen.contains(secret), "{secret} shown:\n{seen}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Issue 12, item 10: a server that accepts the connection and never answers fails the
/// check with an error naming the limit, within `connect_timeout` (libpq's meaning), or
/// the default when the URL gives none.
#[test]
fn a_silent_server_fails_the_check_instead_of_hanging_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and holds every connection, answering nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let root = scratch("apply-silent");
    let plan = repo().join("plan-guard/tests/fixtures/plans/example_escalate.json");
    let gov = repo().join("examples/governance");
    for (query, secs) in [("?connect_timeout=1", 2), ("?sslmode=disable", 10)] {
        let url = format!("postgres://iom@127.0.0.1:{port}/iom{query}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .args([
                "check",
                plan.to_str().unwrap(),
                "--model",
                gov.to_str().unwrap(),
            ])
            .args(["--store", &url, "--workspace", "payments-prod"])
            .current_dir(&root)
            .env_remove("PGCONNECT_TIMEOUT")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A bound on the test, not a measurement: before the fix the check never ended.
        let mut waited = 0;
        while child.try_wait().unwrap().is_none() {
            if waited == 600 {
                child.kill().unwrap();
                panic!("check against a silent server still running after 60 s ({url})");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            waited += 1;
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "the server did not answer within {secs} s while connecting"
            )),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Issue 12, item 12: the read-only commands read a SQLite store the user may not
/// write (the file read-only, then its directory too), take no write lock (a writer
/// holding one does not stop them) and create nothing.
#[test]
fn read_only_commands_read_a_read_only_store() {
    let (_work, gov, _) = setup("readonly-file");
    let root = gov.parent().unwrap().to_path_buf();
    let dir = root.join("ro");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ledger.db");
    let store = format!("sqlite://{}", db.display());
    model_into(&store);
    let plan = repo().join("plan-guard/tests/fixtures/plans/example_escalate.json");
    let run = pg(
        &root,
        &[
            "check",
            plan.to_str().unwrap(),
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let id = decision_of(&run);
    let commands: Vec<Vec<&str>> = vec![
        vec!["evidence", "list"],
        vec!["evidence", "show", &id],
        vec!["evidence", "verify"],
        vec!["evidence", "export", "--format", "jsonl"],
        vec!["insights"],
        vec!["insights", "--model", gov.to_str().unwrap()],
    ];
    // Permissions bind everyone but root: as root, the reads run as `nobody`.
    let root_user = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let read_all = |why: &str| {
        for args in &commands {
            let mut args = args.clone();
            args.extend_from_slice(&["--store", &store]);
            let run = if root_user {
                let bin = env!("CARGO_BIN_EXE_plan-guard");
                let mut all = vec!["--reuid=65534", "--regid=65534", "--clear-groups", bin];
                all.extend_from_slice(&args);
                let out = Command::new("setpriv")
                    .args(&all)
                    .current_dir(&root)
                    .env_remove("IOM_STORE")
                    .output()
                    .unwrap();
                Run::from(out)
            } else {
                pg(&root, &args)
            };
            assert_eq!(run.code, 0, "{why}, {args:?}: {}{}", run.stdout, run.stderr);
        }
    };
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    // A writer holds the write lock the whole time.
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    read_all("beside a writer");
    writer.execute_batch("ROLLBACK").unwrap();
    drop(writer);
    let chmod = |path: &Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    chmod(&db, 0o444);
    chmod(&dir, 0o777);
    read_all("the file read-only");
    // SQLite's readers keep a WAL database's shared-memory file beside it; with the
    // directory read-only and none there, the store is read as the immutable file it is.
    let wal = dir.join("ledger.db-wal");
    if wal.exists() {
        assert_eq!(
            std::fs::metadata(&wal).unwrap().len(),
            0,
            "no writer left a log"
        );
        std::fs::remove_file(&wal).unwrap();
    }
    let _ = std::fs::remove_file(dir.join("ledger.db-shm"));
    chmod(&dir, 0o555);
    read_all("the file and its directory read-only");
    assert_eq!(listing(), ["ledger.db"], "nothing created beside the store");
    chmod(&dir, 0o755);
    chmod(&db, 0o644);
    let run = pg(&root, &["evidence", "verify", "--store", &store]);
    assert!(
        run.stdout.contains("ledger verified: 1 records"),
        "{}",
        run.stdout
    );
}

/// Runs the real `ssh-keygen` (Debian's openssh-client) in `dir`.
fn ssh_keygen(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new("ssh-keygen")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ssh-keygen (openssh-client) is installed");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// Issue 12: one person ran `check --actor ci-bot` and `approve --actor alice` and
/// defeated `require_distinct_approver`. With `approver_keys`, alice's approval counts
/// only signed with her SSH key (verifiable by `ssh-keygen -Y verify` against the
/// allowed_signers file plan-guard exports), and the check's actor must be proven by the
/// CI key; `min_approvals = 2` needs a second, distinct approver.
#[test]
fn approvers_are_proven_by_their_ssh_keys() {
    let (work, gov, store) = setup("identities");
    for name in ["alice", "ci", "mallory"] {
        let out = ssh_keygen(
            &work,
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                &format!("{name}@corp"),
                "-f",
                name,
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let public = |name: &str| {
        std::fs::read_to_string(work.join(format!("{name}.pub")))
            .unwrap()
            .trim()
            .to_string()
    };
    std::fs::remove_file(gov.join("main.tf")).unwrap();
    std::fs::write(
        gov.join("main.tf"),
        format!(
            r#"
resource "iom_profile" "prod" {{
  name      = "prod"
  actions   = {{ create = "escalate" }}
  approvers = ["alice", "bob"]
  require_distinct_approver = true
  approver_keys = {{
    alice  = "{}"
    ci-bot = "{}"
  }}
  min_approvals = 2
}}
resource "iom_intent" "all" {{
  name    = "all"
  profile = "prod"
}}
"#,
            public("alice"),
            public("ci")
        ),
    )
    .unwrap();
    let gov_s = gov.to_str().unwrap();
    tf(&work, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let check = |sign: Option<&str>| {
        let mut args = vec![
            "check",
            "tfplan",
            "--model",
            gov_s,
            "--store",
            &store,
            "--workspace",
            "payments-prod",
            "--actor",
            "ci-bot",
            "--format",
            "json",
        ];
        if let Some(key) = sign {
            args.extend(["--sign-with", key]);
        }
        let run = pg(&work, &args);
        assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
        decision_of(&run)
    };
    let approve = |id: &str, actor: &str, sign: Option<&str>| {
        let mut args = vec![
            "approve", "--yes", id, "--actor", actor, "--reason", "CHG-12", "--store", &store,
        ];
        if let Some(key) = sign {
            args.extend(["--sign-with", key]);
        }
        pg(&work, &args)
    };
    let apply = || {
        pg(
            &work,
            &[
                "apply", "--plan", "tfplan", "--store", &store, "--model", gov_s, "--", "cp",
                "tfplan", "ran",
            ],
        )
    };

    // The check's actor is typed, not proven: no approval under prod counts.
    let id = check(None);
    let run = approve(&id, "alice", Some("alice"));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("the check's actor ci-bot is not proven (the check it is not signed)"),
        "{}",
        run.stderr
    );

    // Signed by the CI key: alice must sign, with her own key.
    let id = check(Some("ci"));
    for (sign, why) in [
        (
            None,
            "binds a key to alice, and the approval it is not signed",
        ),
        (
            Some("mallory"),
            "its signature does not verify with the bound key",
        ),
    ] {
        let run = approve(&id, "alice", sign);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(why), "{sign:?}: {}", run.stderr);
    }
    let run = approve(&id, "alice", Some("alice"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "still to approve: profile prod by 1 more of alice, bob (2 distinct approvers needed)"
        ),
        "{}",
        run.stdout
    );
    let run = apply();
    assert_eq!(run.code, 1, "one approval of two: {}", run.stdout);
    assert!(!work.join("ran").exists());

    // ssh-keygen verifies alice's approval with the exported allowed_signers file.
    let signers = pg(&work, &["evidence", "allowed-signers", "--model", gov_s]);
    assert_eq!(signers.code, 0, "{}", signers.stderr);
    std::fs::write(work.join("allowed_signers"), &signers.stdout).unwrap();
    let shown = pg(&work, &["evidence", "show", &id, "--store", &store]);
    let records: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let approval = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "approval")
        .unwrap()["body"]
        .clone();
    std::fs::write(
        work.join("approval.sig"),
        approval["ssh_signature"].as_str().unwrap(),
    )
    .unwrap();
    let mut message = approval.clone();
    message.as_object_mut().unwrap().remove("ssh_signature");
    let message = message.to_string();
    let verify = |principal: &str, text: &str| {
        ssh_keygen(
            &work,
            &[
                "-Y",
                "verify",
                "-f",
                "allowed_signers",
                "-I",
                principal,
                "-n",
                "iom-approval",
                "-s",
                "approval.sig",
            ],
            Some(text.as_bytes()),
        )
    };
    let out = verify("alice", &message);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!verify("ci-bot", &message).status.success());
    assert!(
        !verify("alice", &message.replace("CHG-12", "CHG-13"))
            .status
            .success()
    );

    // bob is bound to no key: his typed approval is the second, distinct one.
    let run = approve(&id, "bob", None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("still to approve"), "{}", run.stdout);
    let run = apply();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(work.join("ran").exists());
}
