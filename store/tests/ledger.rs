//! The evidence ledger on real databases (SQLite, and PostgreSQL when the test script
//! started one): every kind of tampering done with raw SQL is found and the first bad
//! record named; concurrent appends form one chain.

mod common;

use common::{Db, backends};
use iom_store::{NewEvidence, Store, verify_chain};
use serde_json::json;

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

fn fill(db: &Db, n: u32) -> Store {
    let store = Store::open(&db.url()).unwrap();
    for i in 1..=n {
        let e = store.append_evidence(&record(i), None).unwrap();
        assert_eq!(e.seq, u64::from(i));
    }
    store
}

fn verify(db: &Db) -> Result<usize, String> {
    Store::open(&db.url())
        .unwrap()
        .evidence()
        .unwrap()
        .verify(None)
        .map_err(|e| e.to_string())
}

/// Runs `tamper` on a fresh ledger of `n` records per backend and checks the error.
fn tampered(tag: &str, n: u32, tamper: impl Fn(&Db, &str), expect: impl Fn(&str) -> bool) {
    for db in backends(tag) {
        fill(&db, n);
        assert_eq!(verify(&db), Ok(n as usize), "{}", db.label());
        tamper(&db, &db.table("evidence"));
        let e = verify(&db).unwrap_err();
        assert!(expect(&e), "{}: {e}", db.label());
    }
}

#[test]
fn an_untouched_ledger_verifies_and_reads_back() {
    for db in backends("clean") {
        let store = fill(&db, 5);
        assert_eq!(verify(&db), Ok(5));
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
        assert_eq!(store.evidence().unwrap().records.len(), 5, "{}", db.label());
    }
}

#[test]
fn an_empty_ledger_verifies() {
    for db in backends("empty") {
        assert_eq!(verify(&db), Ok(0), "{}", db.label());
    }
}

#[test]
fn an_edited_record_is_named() {
    tampered(
        "edit",
        5,
        |db, t| {
            db.sql(&format!(
                "UPDATE {t} SET body = replace(body, 'escalate', 'escalatf') WHERE seq = 3"
            ))
        },
        |e| e.starts_with("record 3 (decision pg-3)") && e.contains("edited"),
    );
}

#[test]
fn an_edit_that_replaces_its_hash_breaks_the_next_link() {
    tampered(
        "rehash",
        5,
        |db, t| {
            db.sql(&format!(
                "UPDATE {t} SET hash = 'ff' || substr(hash, 3) WHERE seq = 2"
            ))
        },
        |e| e.starts_with("record 2 "),
    );
}

#[test]
fn a_deleted_record_is_found() {
    tampered(
        "delete",
        5,
        |db, t| db.sql(&format!("DELETE FROM {t} WHERE seq = 2")),
        |e| e.starts_with("record 3 (decision pg-3)") && e.contains("expected sequence number 2"),
    );
}

#[test]
fn deleting_the_newest_records_is_found() {
    tampered(
        "tail",
        5,
        |db, t| db.sql(&format!("DELETE FROM {t} WHERE seq >= 4")),
        |e| e.starts_with("record 3 ") && e.contains("head is record 5"),
    );
}

#[test]
fn deleting_every_record_is_found() {
    tampered(
        "all",
        3,
        |db, t| db.sql(&format!("DELETE FROM {t}")),
        |e| {
            e == "the start of the ledger: the ledger's head is record 3, but no record is left: they were deleted"
        },
    );
}

#[test]
fn reordered_records_are_found() {
    tampered(
        "reorder",
        4,
        |db, t| {
            db.sql(&format!(
                "UPDATE {t} SET seq = -1 WHERE seq = 2; UPDATE {t} SET seq = 2 WHERE seq = 3; UPDATE {t} SET seq = 3 WHERE seq = -1;"
            ))
        },
        |e| e.starts_with("record 2 (decision pg-3)"),
    );
}

#[test]
fn an_inserted_record_is_found() {
    tampered(
        "insert",
        3,
        |db, t| {
            db.sql(&format!(
                "UPDATE {t} SET seq = seq + 1000 WHERE seq >= 2; UPDATE {t} SET seq = seq - 999 WHERE seq > 1000;"
            ));
            db.sql(&format!(
                "INSERT INTO {t} SELECT 2, kind, 'pg-forged', recorded_at, plan_sha256, body, prev_hash, hash, signature FROM {t} WHERE seq = 1"
            ));
        },
        |e| e.starts_with("record 2 (decision pg-forged)"),
    );
}

#[test]
fn concurrent_appends_form_one_chain() {
    for db in backends("concurrent") {
        Store::open(&db.url()).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let url = db.url();
                std::thread::spawn(move || {
                    let store = Store::open(&url).unwrap();
                    for i in 0..25 {
                        store.append_evidence(&record(t * 100 + i), None).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(verify(&db), Ok(200), "{}", db.label());
    }
}

#[test]
fn signatures_are_checked_when_a_key_is_given() {
    for db in backends("signed") {
        let store = Store::open(&db.url()).unwrap();
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
        db.sql(&format!(
            "UPDATE {} SET signature = NULL WHERE seq = 2",
            db.table("evidence")
        ));
        let e = store.evidence().unwrap().verify(Some(&good)).unwrap_err();
        assert_eq!(
            (e.seq, e.why.as_str()),
            (2, "it is not signed"),
            "{}",
            db.label()
        );
    }
}
