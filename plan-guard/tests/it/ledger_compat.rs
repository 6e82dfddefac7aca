//! A ledger an earlier plan-guard wrote (`tests/fixtures/ledger`, made by
//! `scripts/gen-ledger-fixture.sh` with the build of the commit in `written-by-commit`)
//! still verifies, lists, shows and exports as that build printed it: records in the
//! store outlive the code that reads them, so a change to how records are read must keep
//! reading the ones already stored.

use crate::support::scratch;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture().join(name)).unwrap()
}

/// A copy of the fixture's database (reading a SQLite store leaves files beside it).
fn store_copy(tag: &str) -> (PathBuf, String) {
    let dir = scratch(&format!("ledger-compat-{tag}"));
    std::fs::copy(fixture().join("ledger.db"), dir.join("ledger.db")).unwrap();
    let url = format!("sqlite://{}/ledger.db", dir.display());
    (dir, url)
}

fn evidence(store: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .arg("evidence")
        .args(args)
        .args(["--store", store])
        .env_remove("IOM_STORE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_ledger_written_by_an_earlier_build_verifies_and_lists() {
    let (dir, store) = store_copy("read");
    let (code, stdout, stderr) = evidence(&store, &["verify"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("ledger verified: 4 records, chain intact"),
        "{stdout}"
    );

    let (code, stdout, stderr) = evidence(&store, &["list"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, read("list.txt"));

    let id = read("decision_id");
    let (code, stdout, stderr) = evidence(&store, &["show", id.trim()]);
    assert_eq!(code, 0, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let then: serde_json::Value = serde_json::from_str(&read("show.json")).unwrap();
    assert_eq!(shown, then);

    let (code, stdout, stderr) = evidence(&store, &["export"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json_lines(&stdout), json_lines(&read("export.jsonl")));
    let _ = std::fs::remove_dir_all(dir);
}

/// The check, approval and apply were signed with the fixture's key and still verify
/// against it; the reconciliation, which `reconcile` does not sign, is where it stops.
#[test]
fn its_signatures_still_verify_up_to_the_unsigned_reconciliation() {
    let (dir, store) = store_copy("signed");
    let key = fixture().join("key.pub");
    let (code, stdout, stderr) = evidence(&store, &["verify", "--public-key", path(&key)]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("ledger broken at record 4") && stderr.contains("it is not signed"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every record the earlier build wrote reads as its typed kind, with what the readers
/// use: the decision's verdict, workspace and model, the approval's actor, the apply's
/// exit, the reconciliation's workspace.
#[test]
fn its_records_read_as_their_kinds() {
    use plan_guard::evidence::records::Record;
    let records = json_lines(&read("export.jsonl"));
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["check", "approval", "apply", "reconcile"]);
    for r in &records {
        match Record::read(r["kind"].as_str().unwrap(), &r["body"]).unwrap() {
            Record::Check(c) => {
                assert_eq!(c.version, 1);
                assert_eq!(c.verdict.as_deref(), Some("escalate"));
                assert_eq!(c.workspace.as_deref(), Some("payments-prod"));
                assert_eq!(c.model.digest.as_ref().map(String::len), Some(64));
                assert!(!c.changes.is_empty() && !c.saw_drift());
            }
            Record::Approval(a) => assert_eq!(a.actor.as_deref(), Some("bob")),
            Record::Apply(a) => assert!(a.succeeded() && a.error.is_none()),
            Record::Reconcile(r) => {
                assert_eq!(r.reconciliation.workspace, "payments-prod");
                assert!(!r.accepted && r.reconciliation.drifted.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }
}
