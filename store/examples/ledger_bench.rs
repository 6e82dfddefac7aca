//! The evidence ledger under load, for `bench/ledger.sh`:
//!
//!   ledger_bench URL seed N                 N records written as the store writes them
//!   ledger_bench URL append WRITERS EACH    WRITERS connections append EACH records at once
//!   ledger_bench URL verify                 read the whole ledger and check its chain
//!
//! `seed` writes the same rows and head moves as `append_evidence` (the append-only
//! triggers check every one) but in one transaction, so a million records take seconds
//! instead of a million synchronous commits. `append` goes through the store's own API,
//! one transaction per record, and counts the ledger afterwards: no append may be lost.

use std::time::Instant;

use iom_store::ledger::{GENESIS, NewEvidence, record_hash};
use iom_store::{Store, StoreUrl};
use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let number = |i: usize| -> u64 {
        arg(i)
            .parse()
            .unwrap_or_else(|_| usage(&format!("{:?} is not a count", arg(i))))
    };
    let url = arg(0);
    match arg(1) {
        "seed" => seed(url, number(2)),
        "append" => append(url, number(2), number(3)),
        "verify" => verify(url),
        _ => usage("no such step"),
    }
}

fn usage(why: &str) -> ! {
    eprintln!("ledger_bench: {why}\nusage: ledger_bench URL seed N | append WRITERS EACH | verify");
    std::process::exit(2)
}

/// A check record of typical size (about 700 bytes): a few findings, hashes, the model pin.
fn body(n: u64) -> Value {
    json!({
        "verdict": "escalate",
        "workspace": "payments-prod",
        "actor": "ci-bot",
        "plan_sha256": format!("{n:064x}"),
        "model": {"source": "store", "revision": 42, "sha256": format!("{:064x}", n ^ 0xabc)},
        "summary": {"create": 3, "update": 5, "delete": 1, "replace": 1},
        "findings": [
            {"address": format!("module.payments.aws_db_instance.main[{n}]"), "rule": "critical", "outcome": "escalate", "source": "intent:payments"},
            {"address": "module.net.aws_subnet.private[\"b\"]", "rule": "profile.actions.delete", "outcome": "warn", "source": "profile:prod"},
            {"address": "aws_iam_role.deploy", "rule": "ungoverned", "outcome": "escalate", "source": "default"}
        ]
    })
}

fn record(n: u64) -> NewEvidence {
    NewEvidence {
        kind: "check".into(),
        decision_id: format!("bench-{n:08}"),
        recorded_at: "2026-12-02T10:00:00Z".into(),
        plan_sha256: Some(format!("{n:064x}")),
        body: body(n),
    }
}

fn seed(url: &str, n: u64) {
    let store = Store::open(url).unwrap_or_else(|e| fail(&e));
    let head = store.evidence().unwrap_or_else(|e| fail(&e)).records.len() as u64;
    let started = Instant::now();
    let rows = (head + 1..=head + n).scan(head_hash(&store), |prev: &mut String, seq| {
        let r = record(seq);
        let hash = record_hash(
            seq,
            &r.kind,
            &r.decision_id,
            &r.recorded_at,
            r.plan_sha256.as_deref(),
            &r.body,
            prev,
        );
        let row = (seq, r, prev.clone(), hash.clone());
        *prev = hash;
        Some(row)
    });
    match StoreUrl::parse(url).unwrap_or_else(|e| fail(&e)) {
        StoreUrl::Sqlite(path) => seed_sqlite(&path, rows),
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(conninfo) => seed_postgres(&conninfo, rows),
        #[cfg(not(feature = "postgres"))]
        StoreUrl::Postgres(_) => fail(&"this build has no PostgreSQL (feature `postgres`)"),
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seed: {n} records in {secs:.1} s ({:.0} records/s, in large transactions)",
        n as f64 / secs
    );
}

fn head_hash(store: &Store) -> String {
    let ledger = store.evidence().unwrap_or_else(|e| fail(&e));
    ledger
        .records
        .last()
        .map_or_else(|| GENESIS.to_string(), |r| r.hash.clone())
}

type Row = (u64, NewEvidence, String, String);

const INSERT: &str =
    "(seq, kind, decision_id, recorded_at, plan_sha256, body, prev_hash, hash, signature)";

fn seed_sqlite(path: &std::path::Path, rows: impl Iterator<Item = Row>) {
    let mut conn = rusqlite::Connection::open(path).unwrap_or_else(|e| fail(&e));
    let tx = conn.transaction().unwrap_or_else(|e| fail(&e));
    {
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO evidence {INSERT} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL)"
            ))
            .unwrap_or_else(|e| fail(&e));
        for (seq, r, prev, hash) in rows {
            let body = r.body.to_string();
            insert
                .execute(rusqlite::params![
                    seq as i64,
                    r.kind,
                    r.decision_id,
                    r.recorded_at,
                    r.plan_sha256,
                    body,
                    prev,
                    hash
                ])
                .unwrap_or_else(|e| fail(&e));
            let head = if seq == 1 {
                "INSERT INTO evidence_head (id, seq, hash) VALUES (1, ?1, ?2)"
            } else {
                "UPDATE evidence_head SET seq = ?1, hash = ?2 WHERE id = 1"
            };
            tx.execute(head, rusqlite::params![seq as i64, hash])
                .unwrap_or_else(|e| fail(&e));
        }
    }
    tx.commit().unwrap_or_else(|e| fail(&e));
}

/// PostgreSQL keeps every version of the head row a transaction writes until it ends, so
/// one transaction of a million head moves slows down as it goes: commit every batch.
#[cfg(feature = "postgres")]
fn seed_postgres(conninfo: &str, rows: impl Iterator<Item = Row>) {
    const BATCH: usize = 10_000;
    let mut client =
        postgres::Client::connect(conninfo, postgres::NoTls).unwrap_or_else(|e| fail(&e));
    let insert = client
        .prepare(&format!(
            "INSERT INTO iom_evidence {INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)"
        ))
        .unwrap_or_else(|e| fail(&e));
    let head = client
        .prepare("UPDATE iom_evidence_head SET seq = $1, hash = $2 WHERE id = 1")
        .unwrap_or_else(|e| fail(&e));
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let mut tx = client.transaction().unwrap_or_else(|e| fail(&e));
        for (seq, r, prev, hash) in rows.by_ref().take(BATCH) {
            let body = r.body.to_string();
            tx.execute(
                &insert,
                &[
                    &(seq as i64),
                    &r.kind,
                    &r.decision_id,
                    &r.recorded_at,
                    &r.plan_sha256,
                    &body,
                    &prev,
                    &hash,
                ],
            )
            .unwrap_or_else(|e| fail(&e));
            tx.execute(&head, &[&(seq as i64), &hash])
                .unwrap_or_else(|e| fail(&e));
        }
        tx.commit().unwrap_or_else(|e| fail(&e));
    }
}

fn append(url: &str, writers: u64, each: u64) {
    let before = chain_of(url).unwrap_or_else(|e| fail(&e)).records;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..writers {
            scope.spawn(move || {
                // A connection of its own, as a separate CI runner would have.
                let store = Store::open(url).unwrap_or_else(|e| fail(&e));
                for i in 0..each {
                    store
                        .append_evidence(&record(1_000_000_000 + w * each + i), None)
                        .unwrap_or_else(|e| fail(&e));
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let total = writers * each;
    let after = chain_of(url);
    let added = after.as_ref().map_or(0, |c| c.records - before);
    println!(
        "append: {writers} writers x {each} = {total} records in {secs:.1} s ({:.0} appends/s); {added} added ({}), {}",
        total as f64 / secs,
        if added == total {
            "none lost"
        } else {
            "SOME LOST"
        },
        match &after {
            Ok(chain) => format!("chain of {} verifies", chain.records),
            Err(e) => format!("CHAIN BROKEN: {e}"),
        }
    );
    if added != total || after.is_err() {
        std::process::exit(1);
    }
}

/// The ledger verified as it streams; a broken chain is an error.
fn chain_of(url: &str) -> Result<iom_store::VerifiedChain, String> {
    let store = Store::open(url).map_err(|e| e.to_string())?;
    let chain = store
        .verify_evidence(None, &[])
        .map_err(|e| e.to_string())?;
    chain.map_err(|e| e.to_string())
}

fn verify(url: &str) {
    let store = Store::open(url).unwrap_or_else(|e| fail(&e));
    let started = Instant::now();
    let chain = store
        .verify_evidence(None, &[])
        .unwrap_or_else(|e| fail(&e))
        .unwrap_or_else(|e| fail(&e));
    let secs = started.elapsed().as_secs_f64();
    println!(
        "verify: {} records read and checked as they stream in {secs:.2} s ({:.0} records/s)",
        chain.records,
        chain.records as f64 / secs
    );
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("ledger_bench: {e}");
    std::process::exit(1)
}
