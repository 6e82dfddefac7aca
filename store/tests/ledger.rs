//! The evidence ledger on real databases (SQLite, and PostgreSQL when the test script
//! started one): every kind of tampering done with raw SQL is found and the first bad
//! record named; concurrent appends form one chain.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

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

/// The ledger verified both ways, loaded and streamed (what `evidence verify` does): they
/// must agree on every ledger, tampered or not.
fn verify(db: &Db) -> Result<usize, String> {
    let store = Store::open(&db.url()).unwrap();
    let loaded = store
        .evidence()
        .unwrap()
        .verify(None)
        .map_err(|e| e.to_string());
    let streamed = store
        .verify_evidence(None, &[])
        .unwrap()
        .map(|chain| chain.records as usize)
        .map_err(|e| e.to_string());
    assert_eq!(
        loaded,
        streamed,
        "{}: loaded and streamed disagree",
        db.label()
    );
    loaded
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
        let streamed = store
            .verify_evidence(Some(&good), &[])
            .unwrap()
            .unwrap_err();
        assert_eq!(streamed, e, "{}", db.label());
    }
}

/// The streamed check hashes a body as the text the store keeps: rewriting it to text
/// that parses to the same value (spaces after commas) is an edit too.
#[test]
fn a_body_rewritten_to_the_same_value_is_an_edit_when_streamed() {
    for db in backends("reformatted") {
        let store = fill(&db, 4);
        db.sql(&format!(
            "UPDATE {} SET body = replace(body, ',', ', ') WHERE seq = 2",
            db.table("evidence")
        ));
        let e = store.verify_evidence(None, &[]).unwrap().unwrap_err();
        assert_eq!(e.seq, 2, "{}", db.label());
        assert!(e.why.contains("edited"), "{}: {e}", db.label());
    }
}

/// What a checkpoint needs from the stream: the count, the last hash, and the hash of each
/// record asked for.
#[test]
fn the_streamed_check_keeps_the_hashes_asked_for() {
    for db in backends("kept") {
        let store = fill(&db, 5);
        let ledger = store.evidence().unwrap();
        let chain = store.verify_evidence(None, &[2, 5, 9]).unwrap().unwrap();
        assert_eq!(chain.records, 5, "{}", db.label());
        assert_eq!(chain.last_hash, ledger.records[4].hash, "{}", db.label());
        let kept: Vec<_> = chain.kept.iter().map(|(s, h)| (*s, h.clone())).collect();
        assert_eq!(
            kept,
            vec![
                (2, ledger.records[1].hash.clone()),
                (5, ledger.records[4].hash.clone())
            ],
            "{}",
            db.label()
        );
    }
}

/// Through SQL, without owning the database, the ledger only grows: no record or
/// observation is changed or deleted, the head does not move back, nothing is added
/// except on top of the head; the store still appends afterwards.
#[test]
fn plain_sql_cannot_cut_edit_or_rewind_the_ledger() {
    for db in backends("append-only") {
        let store = fill(&db, 5);
        store
            .record_observation("w", "2026-11-24T12:00:00Z", &json!({"resources": []}))
            .unwrap();
        let (t, head, obs) = (
            db.table("evidence"),
            db.table("evidence_head"),
            db.table("observations"),
        );
        let refused = |statement: String, expect: &str| {
            let e = db.try_sql(&statement).unwrap_err();
            assert!(e.contains(expect), "{}: {statement}: {e}", db.label());
        };
        refused(format!("DELETE FROM {t} WHERE seq >= 4"), "append-only");
        refused(
            format!("UPDATE {t} SET body = replace(body, 'escalate', 'allow') WHERE seq = 3"),
            "append-only",
        );
        // The attack of issue 12: cut the newest records and move the head back onto them.
        refused(
            format!("UPDATE {head} SET seq = 3, hash = (SELECT hash FROM {t} WHERE seq = 3)"),
            "only moves forward",
        );
        refused(format!("DELETE FROM {head}"), "");
        refused(
            format!(
                "INSERT INTO {t} SELECT 9, kind, 'pg-forged', recorded_at, plan_sha256, body, prev_hash, hash, signature FROM {t} WHERE seq = 1"
            ),
            "only on top of the head",
        );
        refused(format!("DELETE FROM {obs}"), "append-only");
        if let common::Db::Postgres { .. } = db {
            refused(format!("TRUNCATE {t}"), "append-only");
            refused(format!("TRUNCATE {head}"), "append-only");
        }
        assert_eq!(verify(&db), Ok(5), "{}", db.label());
        store.append_evidence(&record(6), None).unwrap();
        assert_eq!(verify(&db), Ok(6), "{}", db.label());
        assert_eq!(store.observations("w").unwrap().len(), 1);
    }
}

/// The PostgreSQL writer role of the docs (`store/sql/writer-role.sql`): plan-guard works
/// through it on a store its owner created, and it holds no right to cut the ledger even
/// with the triggers switched off.
#[test]
fn the_postgres_writer_role_appends_but_cannot_delete() {
    for db in backends("writer-role") {
        let common::Db::Postgres { .. } = db else {
            continue;
        };
        fill(&db, 2);
        db.try_sql(
            "DO $$ BEGIN CREATE ROLE iom_writer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .unwrap();
        db.try_sql(include_str!("../sql/writer-role.sql")).unwrap();
        let url = db.url();
        let (scheme, rest) = url.split_once("://").unwrap();
        let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        let writer = format!("{scheme}://iom_writer@{host}");
        let store = Store::open(&writer).unwrap();
        store.append_evidence(&record(3), None).unwrap();
        store
            .record_observation("w", "2026-11-24T12:00:00Z", &json!({"resources": []}))
            .unwrap();
        assert_eq!(store.evidence().unwrap().verify(None), Ok(3));
        for statement in [
            "SET session_replication_role = replica",
            "DELETE FROM iom_evidence WHERE seq = 3",
            "UPDATE iom_evidence SET body = '{}' WHERE seq = 3",
            "TRUNCATE iom_evidence",
            "DELETE FROM iom_observations",
            "ALTER TABLE iom_evidence DISABLE TRIGGER ALL",
        ] {
            let e = db.try_sql_as(&writer, statement).unwrap_err();
            assert!(
                e.contains("permission denied") || e.contains("must be owner"),
                "{statement}: {e}"
            );
        }
        assert_eq!(verify(&db), Ok(3));
    }
}
