//! The living model with the real Terraform: what `observe` refuses to record (no state,
//! a plan given as a state), and drift recorded after a check holding the apply of that
//! decision until it is reconciled.

use crate::support::{Run, scratch, terraform, tf};
use std::path::{Path, PathBuf};
use std::process::Command;

fn pg(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .args(args)
        .current_dir(dir)
        .env("TERRAFORM_BINARY", terraform())
        .env_remove("IOM_STORE")
        .env_remove("IOM_SIGNING_KEY")
        .output()
        .unwrap();
    Run::from(out)
}

const WORKSPACE: &str = r#"
variable "gen" {
  default = 1
}
resource "terraform_data" "a" {
  input = { gen = var.gen }
}
resource "terraform_data" "b" {
  input = terraform_data.a.output
}
"#;

const GOVERNANCE: &str = r#"
resource "iom_profile" "ops" {
  name = "ops"
}
resource "iom_intent" "all" {
  name    = "all"
  profile = "ops"
  scope {
    workspaces = ["ws"]
  }
}
"#;

/// A workspace applied once, its governance, and a store; `root` holds them.
struct Setup {
    root: PathBuf,
    work: PathBuf,
    gov: String,
    store: String,
}

impl Setup {
    /// `terraform plan -out=tfplan` of the change (`gen=2`: both resources replaced).
    fn plan_change(&self) {
        tf(
            &self.work,
            &[
                "plan",
                "-input=false",
                "-no-color",
                "-out=tfplan",
                "-var",
                "gen=2",
            ],
        );
    }

    /// `plan-guard check tfplan` of workspace `ws` against `gov`, in the store, with
    /// `extra` arguments.
    fn check(&self, gov: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "check",
            "tfplan",
            "--workspace",
            "ws",
            "--model",
            gov,
            "--store",
            &self.store,
        ];
        args.extend_from_slice(extra);
        pg(&self.work, &args)
    }
}

fn setup(tag: &str, governance: &str) -> Setup {
    let root = std::env::temp_dir().join(format!("pg-living-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("ws");
    let gov = root.join("gov");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&gov).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::write(work.join("main.tf"), WORKSPACE).unwrap();
    std::fs::write(gov.join("main.tf"), governance).unwrap();
    tf(&work, &["init", "-input=false", "-no-color"]);
    // The Terraform workspace is the one the checks name: apply refuses any other.
    tf(&work, &["workspace", "new", "-no-color", "ws"]);
    tf(
        &work,
        &["apply", "-input=false", "-no-color", "-auto-approve"],
    );
    let store = format!("sqlite://{}/iom.db", root.display());
    Setup {
        gov: gov.display().to_string(),
        root,
        work,
        store,
    }
}

/// A real refresh-only plan of the workspace with drift on `terraform_data.a` added (a
/// `terraform_data` reads back what its state holds, so it cannot drift on its own).
fn drift_plan(s: &Setup) -> PathBuf {
    tf(
        &s.work,
        &[
            "plan",
            "-refresh-only",
            "-input=false",
            "-no-color",
            "-out=refresh.tfplan",
        ],
    );
    let text = tf(&s.work, &["show", "-json", "refresh.tfplan"]);
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    plan["resource_drift"] = serde_json::json!([{
        "address": "terraform_data.a",
        "mode": "managed",
        "type": "terraform_data",
        "name": "a",
        "provider_name": "terraform.io/builtin/terraform",
        "change": {
            "actions": ["update"],
            "before": { "input": { "gen": 1 } },
            "after": { "input": { "gen": 7 } },
            "after_unknown": {},
            "before_sensitive": {},
            "after_sensitive": {}
        }
    }]);
    let path = s.root.join("drift.json");
    std::fs::write(&path, plan.to_string()).unwrap();
    path
}

#[test]
fn observe_refuses_documents_that_hold_no_state() {
    let s = setup("observe", GOVERNANCE);
    let store = s.store.as_str();
    let drift = drift_plan(&s);
    let drift = drift.to_str().unwrap();
    let observe = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["observe", "--workspace", "ws", "--store", store];
        args.extend_from_slice(extra);
        pg(dir, &args)
    };

    let run = observe(&s.work, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("observed 2 resources"),
        "{}",
        run.stdout
    );

    // Governed drift recorded: checks of the workspace are held.
    let run = pg(
        &s.work,
        &[
            "reconcile",
            drift,
            "--workspace",
            "ws",
            "--model",
            &s.gov,
            "--store",
            store,
        ],
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);

    // No state in the directory (`{"format_version":"1.0"}`), an empty object, a plan
    // given as a state: each exits 1 naming what it read, and records nothing.
    let empty = s.root.join("empty");
    let run = observe(&empty, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "`terraform show -json` in {}: holds no state",
            empty.display()
        )),
        "{}",
        run.stderr
    );
    let braces = s.root.join("braces.json");
    std::fs::write(&braces, "{}").unwrap();
    let run = observe(&s.work, &[braces.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&format!("{}: holds no state", braces.display())),
        "{}",
        run.stderr
    );
    let run = observe(&s.work, &[drift]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&format!("{drift}: this is a plan, not a state")),
        "{}",
        run.stderr
    );
    let observations = iom_store::Store::open(store)
        .unwrap()
        .observations("ws")
        .unwrap();
    assert_eq!(observations.len(), 1, "nothing was recorded");

    // So the hold stands.
    s.plan_change();
    let run = s.check(&s.gov, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("model / drift"), "{}", run.stdout);

    // A drift record that does not read is an error, never "nothing drifted".
    let db = rusqlite::Connection::open(s.root.join("iom.db")).unwrap();
    let held: String = db
        .query_row("SELECT body FROM drift WHERE workspace = 'ws'", [], |r| {
            r.get(0)
        })
        .unwrap();
    for (body, why) in [
        ("{\"addresses\": [", "holds an unreadable object"),
        ("{\"resources\": []}", "no `addresses` list"),
    ] {
        db.execute("UPDATE drift SET body = ?1 WHERE workspace = 'ws'", [body])
            .unwrap();
        let run = s.check(&s.gov, &[]);
        assert_eq!(run.code, 1, "{body}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(why), "{body}: {}", run.stderr);
    }
    db.execute("UPDATE drift SET body = ?1 WHERE workspace = 'ws'", [held])
        .unwrap();
    // So is an observation that is JSON but not an observation's shape (here rewritten
    // behind the store's back, its append-only triggers dropped first): reading it as
    // "nothing built" would drop readers from blast radii.
    // (plan-guard puts the triggers back whenever it opens the store.)
    let drop_triggers = || {
        let triggers: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in triggers {
            db.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
        }
    };
    drop_triggers();
    let observed: String = db
        .query_row(
            "SELECT body FROM observations WHERE workspace = 'ws'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    db.execute(
        "UPDATE observations SET body = '{\"resources\": 5}' WHERE workspace = 'ws'",
        [],
    )
    .unwrap();
    let run = s.check(&s.gov, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("observation \"ws\"#1 does not read as an observation"),
        "{}",
        run.stderr
    );
    drop_triggers();
    db.execute(
        "UPDATE observations SET body = ?1 WHERE workspace = 'ws'",
        [observed],
    )
    .unwrap();

    // An empty but real state is a legitimate observation, and a plan's prior state too.
    let state = tf(&s.work, &["show", "-json"]);
    let mut state: serde_json::Value = serde_json::from_str(&state).unwrap();
    state["values"]["root_module"] = serde_json::json!({});
    let bare = s.root.join("bare.json");
    std::fs::write(&bare, state.to_string()).unwrap();
    let run = observe(&s.work, &[bare.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("observed 0 resources"),
        "{}",
        run.stdout
    );
    let run = observe(&s.work, &["--from-plan", "tfplan"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("observed 2 resources"),
        "{}",
        run.stdout
    );
    let _ = std::fs::remove_dir_all(&s.root);
}

#[test]
fn drift_recorded_after_a_check_holds_its_apply() {
    let s = setup("drift", GOVERNANCE);
    let store = s.store.as_str();
    let drift = drift_plan(&s);
    let drift = drift.to_str().unwrap();
    let run = pg(&s.work, &["observe", "--workspace", "ws", "--store", store]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    s.plan_change();
    let run = s.check(&s.gov, &["--format", "json"]);
    assert_eq!(run.code, 0, "allowed before the drift: {}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let id = report["decision_id"].as_str().unwrap();

    // Drift found after the check.
    let run = pg(
        &s.work,
        &[
            "reconcile",
            drift,
            "--workspace",
            "ws",
            "--model",
            &s.gov,
            "--store",
            store,
        ],
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);

    let apply = |tag: &str| {
        pg(
            &s.work,
            &[
                "apply", "--plan", "tfplan", "--store", store, "--model", &s.gov, "--", "cp",
                "tfplan", tag,
            ],
        )
    };
    let run = apply("ran-held");
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "workspace ws has unreconciled drift on governed resources (terraform_data.a)"
        ) && run
            .stderr
            .contains(&format!("after decision {id} was checked")),
        "{}",
        run.stderr
    );
    assert!(!s.work.join("ran-held").exists(), "nothing ran");

    // Reconciled (accepted with a reason): the decision applies.
    let run = pg(
        &s.work,
        &[
            "reconcile",
            drift,
            "--workspace",
            "ws",
            "--model",
            &s.gov,
            "--store",
            store,
            "--accept",
            "--reason",
            "CHG-9 expected",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = apply("ran");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(s.work.join("ran").exists());

    // The ledger lists both reconciliations with who, where and what.
    let run = pg(&s.work, &["evidence", "list", "--store", store]);
    assert!(
        run.stdout
            .contains("in ws: drift on 1 governed resource(s) held")
            && run
                .stdout
                .contains("in ws: drift on 1 governed resource(s) accepted: CHG-9 expected"),
        "{}",
        run.stdout
    );
    let _ = std::fs::remove_dir_all(&s.root);
}

/// A waiver for `model / drift` waives the drift finding like any other finding; an
/// expired one leaves it standing, with a warning that says so.
#[test]
fn drift_findings_are_waivable() {
    let waiver = |expires: &str| {
        format!(
            r#"{GOVERNANCE}
resource "iom_waiver" "drift" {{
  name        = "known-drift"
  source      = "model"
  rule        = "drift"
  workspaces  = ["ws"]
  reason      = "CHG-5: the a input is edited by the migration job"
  approved_by = "alice"
  expires     = "{expires}"
}}
"#
        )
    };
    let s = setup("waiver", &waiver("2099-01-01T00:00:00Z"));
    let store = s.store.as_str();
    let drift = drift_plan(&s);
    let run = pg(&s.work, &["observe", "--workspace", "ws", "--store", store]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = pg(
        &s.work,
        &[
            "reconcile",
            drift.to_str().unwrap(),
            "--workspace",
            "ws",
            "--model",
            &s.gov,
            "--store",
            store,
        ],
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    s.plan_change();
    let check = |gov: &str| {
        let run = s.check(gov, &["--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
        (run.code, report)
    };
    let findings = |report: &serde_json::Value, rule: &str| -> Vec<serde_json::Value> {
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["findings"].as_array().unwrap().clone())
            .filter(|f| f["rule"] == rule)
            .collect()
    };

    let (code, report) = check(&s.gov);
    assert_eq!(code, 0, "waived: {report}");
    let drifts = findings(&report, "drift");
    assert_eq!(drifts.len(), 2, "both changes: {report}");
    for f in &drifts {
        assert_eq!(f["outcome"], "allow");
        assert_eq!(f["waived_by"], "known-drift");
    }

    let expired = s.root.join("expired");
    std::fs::create_dir_all(&expired).unwrap();
    std::fs::write(expired.join("main.tf"), waiver("2020-01-01T00:00:00Z")).unwrap();
    let (code, report) = check(expired.to_str().unwrap());
    assert_eq!(code, 3, "{report}");
    assert!(
        findings(&report, "drift")
            .iter()
            .all(|f| f["outcome"] == "escalate" && f["waived_by"].is_null()),
        "{report}"
    );
    let warnings = findings(&report, "waiver_expired");
    assert!(
        !warnings.is_empty()
            && warnings[0]["message"]
                .as_str()
                .unwrap()
                .contains("waiver known-drift expired at 2020-01-01T00:00:00Z: it no longer waives model / drift"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&s.root);
}

/// A governed apply observes what it built; after a destroy Terraform shows no state at
/// all, and the observation is then an empty one (not none, which would leave the
/// destroyed resources observed).
#[test]
fn a_governed_destroy_observes_nothing_left() {
    let s = setup("destroy", GOVERNANCE);
    let store = s.store.as_str();
    let run = pg(&s.work, &["observe", "--workspace", "ws", "--store", store]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    tf(
        &s.work,
        &[
            "plan",
            "-destroy",
            "-input=false",
            "-no-color",
            "-out=destroy.tfplan",
        ],
    );
    let run = pg(
        &s.work,
        &[
            "check",
            "destroy.tfplan",
            "--workspace",
            "ws",
            "--model",
            &s.gov,
            "--store",
            store,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let terraform = terraform();
    let run = pg(
        &s.work,
        &[
            "apply",
            "--plan",
            "destroy.tfplan",
            "--store",
            store,
            "--model",
            &s.gov,
            "--",
            terraform.to_str().unwrap(),
            "apply",
            "-input=false",
            "-no-color",
            "destroy.tfplan",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let observations = iom_store::Store::open(store)
        .unwrap()
        .observations("ws")
        .unwrap();
    assert_eq!(observations.len(), 2, "observe, then the apply");
    assert_eq!(
        observations[1].body["resources"].as_array().unwrap().len(),
        0
    );
    let _ = std::fs::remove_dir_all(&s.root);
}

/// Issue 12: an observation's attribute digest was the plain SHA-256 of the values, so a
/// low-entropy sensitive value (a 4-digit PIN) was recovered by hashing the 10,000 guesses.
/// Digests are now keyed with a secret of the store: the same values digest the same in
/// one store (observations stay comparable) and differently in another, and no guess
/// hashed without the key matches.
#[test]
fn observation_digests_are_keyed_by_the_store() {
    use sha2::{Digest, Sha256};
    let dir = scratch("living-keyed");
    let values = serde_json::json!({ "id": "x", "pin": "0042" });
    let state = serde_json::json!({
        "format_version": "1.0",
        "values": { "root_module": { "resources": [{
            "address": "terraform_data.door", "mode": "managed", "type": "terraform_data",
            "name": "door", "values": values, "sensitive_values": { "pin": true }
        }] } }
    });
    std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
    let digest_in = |db: &str| {
        let store = format!("sqlite://{}", dir.join(db).display());
        let run = pg(
            &dir,
            &[
                "observe",
                "state.json",
                "--workspace",
                "w",
                "--store",
                &store,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let observed = iom_store::Store::open(&store)
            .unwrap()
            .latest_observation("w")
            .unwrap()
            .unwrap();
        observed.body["resources"][0]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = digest_in("a.db");
    assert!(first.starts_with("hmac-sha256:"), "{first}");
    assert_eq!(digest_in("a.db"), first, "stable within a store");
    assert_ne!(digest_in("b.db"), first, "another store, another key");
    let recovered = (0..10_000).map(|n| format!("{n:04}")).find(|guess| {
        let guessed = serde_json::json!({ "id": "x", "pin": guess }).to_string();
        let plain: String = Sha256::digest(guessed.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        first.ends_with(&plain)
    });
    assert_eq!(recovered, None, "the PIN is not found by hashing guesses");
    let _ = std::fs::remove_dir_all(&dir);
}
