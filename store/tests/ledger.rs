//! The evidence ledger on a real SQLite file: every kind of tampering done with raw SQL
//! is found and the first bad record named; concurrent appends form one chain.

use iom_store::{NewEvidence, Store, verify_chain};
use rusqlite::Connection;
use serde_json::json;
use std::path::PathBuf;

struct Ledger {
    dir: PathBuf,
    url: String,
}

impl Ledger {
    fn new(tag: &str) -> Ledger {
        let dir = std::env::temp_dir().join(format!("iom-ledger-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/model.db", dir.display());
        Ledger { dir, url }
    }
    fn store(&self) -> Store {
        Store::open(&self.url).unwrap()
    }
    fn sql(&self, statement: &str) {
        let conn = Connection::open(self.dir.join("model.db")).unwrap();
        conn.execute_batch(statement).unwrap();
    }
    fn verify(&self) -> Result<usize, String> {
        self.store()
            .evidence()
            .unwrap()
            .verify(None)
            .map_err(|e| e.to_string())
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn record(i: u32) -> NewEvidence {
    NewEvidence {
        kind: if i.is_multiple_of(2) {
            "check"
        } else {
            "approval"
        }
        .into(),
        decision_id: format!("pg-{i}"),
        recorded_at: "2026-11-24T12:00:00Z".into(),
        plan_sha256: Some(format!("{i:064x}")),
        body: json!({ "verdict": "escalate", "n": i, "nested": { "b": 1, "a": [1, 2] } }),
    }
}

fn filled(tag: &str, n: u32) -> Ledger {
    let l = Ledger::new(tag);
    let store = l.store();
    for i in 1..=n {
        let e = store.append_evidence(&record(i), None).unwrap();
        assert_eq!(e.seq, u64::from(i));
    }
    l
}

#[test]
fn an_untouched_ledger_verifies_and_reads_back() {
    let l = filled("clean", 5);
    assert_eq!(l.verify(), Ok(5));
    let store = l.store();
    assert_eq!(store.evidence_for("pg-3").unwrap().len(), 1);
    let latest = store
        .latest_check_for_plan(&format!("{:064x}", 4))
        .unwrap()
        .unwrap();
    assert_eq!(latest.decision_id, "pg-4");
    assert!(
        store
            .latest_check_for_plan(&format!("{:064x}", 3))
            .unwrap()
            .is_none(),
        "3 is an approval"
    );
    assert_eq!(l.verify(), Ok(5));
}

#[test]
fn an_edited_record_is_named() {
    let l = filled("edit", 5);
    l.sql("UPDATE evidence SET body = replace(body, 'escalate', 'escalatf') WHERE seq = 3");
    let e = l.verify().unwrap_err();
    assert!(
        e.starts_with("record 3 (decision pg-3)") && e.contains("edited"),
        "{e}"
    );
}

#[test]
fn an_edit_that_recomputes_its_hash_breaks_the_next_link() {
    let l = filled("rehash", 5);
    l.sql("UPDATE evidence SET hash = 'ff' || substr(hash, 3) WHERE seq = 2");
    let e = l.verify().unwrap_err();
    assert!(e.starts_with("record 2 "), "{e}");
}

#[test]
fn a_deleted_record_is_found() {
    let l = filled("delete", 5);
    l.sql("DELETE FROM evidence WHERE seq = 2");
    let e = l.verify().unwrap_err();
    assert!(
        e.starts_with("record 3 (decision pg-3)") && e.contains("expected sequence number 2"),
        "{e}"
    );
}

#[test]
fn deleting_the_newest_records_is_found() {
    let l = filled("tail", 5);
    l.sql("DELETE FROM evidence WHERE seq >= 4");
    let e = l.verify().unwrap_err();
    assert!(
        e.starts_with("record 3 ") && e.contains("head is record 5"),
        "{e}"
    );
}

#[test]
fn reordered_and_inserted_records_are_found() {
    let l = filled("reorder", 4);
    l.sql("UPDATE evidence SET seq = -1 WHERE seq = 2; UPDATE evidence SET seq = 2 WHERE seq = 3; UPDATE evidence SET seq = 3 WHERE seq = -1;");
    let e = l.verify().unwrap_err();
    assert!(e.starts_with("record 2 (decision pg-3)"), "{e}");

    let l = filled("insert", 3);
    l.sql("UPDATE evidence SET seq = seq + 1000 WHERE seq >= 2; UPDATE evidence SET seq = seq - 999 WHERE seq > 1000;");
    l.sql("INSERT INTO evidence SELECT 2, kind, 'pg-forged', recorded_at, plan_sha256, body, prev_hash, hash, signature FROM evidence WHERE seq = 1");
    let e = l.verify().unwrap_err();
    assert!(e.starts_with("record 2 (decision pg-forged)"), "{e}");
}

#[test]
fn concurrent_appends_form_one_chain() {
    let l = Ledger::new("concurrent");
    l.store();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let url = l.url.clone();
            std::thread::spawn(move || {
                let store = Store::open(&url).unwrap();
                for i in 0..25 {
                    store.append_evidence(&record(t * 100 + i), None).unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(l.verify(), Ok(200));
}

#[test]
fn signatures_are_checked_when_a_key_is_given() {
    let l = Ledger::new("signed");
    let store = l.store();
    // A stand-in signature scheme: the real ed25519 one lives in plan-guard; the chain
    // only needs a signer and a verifier that agree.
    let sign = |hash: &str| hash.chars().rev().collect::<String>();
    for i in 1..=3 {
        store.append_evidence(&record(i), Some(&sign)).unwrap();
    }
    let ledger = store.evidence().unwrap();
    let good = |hash: &str, sig: &str| sig.chars().rev().collect::<String>() == hash;
    assert_eq!(ledger.verify(Some(&good)), Ok(3));
    let wrong_key = |_: &str, _: &str| false;
    let e = verify_chain(&ledger.records, ledger.head.as_ref(), Some(&wrong_key)).unwrap_err();
    assert_eq!(e.seq, 1);
    l.sql("UPDATE evidence SET signature = NULL WHERE seq = 2");
    let e = store.evidence().unwrap().verify(Some(&good)).unwrap_err();
    assert_eq!((e.seq, e.why.as_str()), (2, "it is not signed"));
}
