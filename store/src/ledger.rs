//! The evidence ledger's chain, independent of the backend. Each record holds the hash
//! of the one before it; its own hash covers its sequence number, kind, decision id,
//! time, body and that previous hash, so editing, deleting, inserting or reordering any
//! record breaks the chain at that record. The chain head (last sequence number and hash)
//! is kept beside the records, so deleting the newest records shows too.
//!
//! Bodies are what callers give; callers must never put a sensitive value in one.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A record to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvidence {
    /// `check`, `approval`, `apply`, ...
    pub kind: String,
    /// The decision the record belongs to.
    pub decision_id: String,
    /// RFC 3339, from the caller's clock.
    pub recorded_at: String,
    /// The plan hash the record is about, when there is one (indexed for `apply`).
    pub plan_sha256: Option<String>,
    /// What the record says, by its kind.
    pub body: Value,
}

/// A record as the ledger holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Its place in the ledger, from 1.
    pub seq: u64,
    /// As appended ([`NewEvidence`]).
    pub kind: String,
    /// As appended.
    pub decision_id: String,
    /// As appended.
    pub recorded_at: String,
    /// As appended.
    pub plan_sha256: Option<String>,
    /// As appended.
    pub body: Value,
    /// The hash of the record before it ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of the record, `prev_hash` included, as compact JSON with sorted keys
    /// ([`record_hash`]).
    pub hash: String,
    /// Hex ed25519 signature of `hash`, when the writer signed.
    pub signature: Option<String>,
}

/// The newest record's sequence number and hash, kept beside the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The newest record's sequence number.
    pub seq: u64,
    /// The newest record's hash.
    pub hash: String,
}

/// The whole ledger read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    /// Every record, oldest first.
    pub records: Vec<Evidence>,
    /// The head kept beside them (none in an empty ledger).
    pub head: Option<Head>,
}

/// Given a record's hash and its signature, whether the signature is good.
pub type SignatureCheck<'a> = &'a (dyn Fn(&str, &str) -> bool + Sync);

impl Ledger {
    /// See [`verify_chain`].
    pub fn verify(&self, verify_signature: Option<SignatureCheck>) -> Result<usize, ChainError> {
        verify_chain(&self.records, self.head.as_ref(), verify_signature)
    }
}

/// Where a chain first goes wrong: record `seq`, or with `seq` 0 the start of the ledger
/// (no record is left to name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ChainError {
    /// The first bad record (0: the start of the ledger).
    pub seq: u64,
    /// Its decision.
    pub decision_id: String,
    /// What is wrong there.
    pub why: String,
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.seq == 0 {
            write!(f, "the start of the ledger: {}", self.why)
        } else {
            write!(
                f,
                "record {} (decision {}): {}",
                self.seq, self.decision_id, self.why
            )
        }
    }
}

/// The hash a record must carry.
pub fn record_hash(
    seq: u64,
    kind: &str,
    decision_id: &str,
    recorded_at: &str,
    plan_sha256: Option<&str>,
    body: &Value,
    prev_hash: &str,
) -> String {
    hash_with_body_json(
        seq,
        kind,
        decision_id,
        recorded_at,
        plan_sha256,
        &body.to_string(),
        prev_hash,
    )
}

/// [`record_hash`] of a body already written as compact JSON (what the store keeps), so
/// a large record is serialised once for both. The hashed text is the record as one JSON
/// object with sorted keys and no whitespace: serde_json writes objects in key order
/// (its map is a BTreeMap), which a test below holds it to.
pub(crate) fn hash_with_body_json(
    seq: u64,
    kind: &str,
    decision_id: &str,
    recorded_at: &str,
    plan_sha256: Option<&str>,
    body_json: &str,
    prev_hash: &str,
) -> String {
    let text = |s: &str| Value::String(s.to_string()).to_string();
    let mut hasher = Sha256::new();
    for part in [
        "{\"body\":",
        body_json,
        ",\"decision_id\":",
        &text(decision_id),
        ",\"kind\":",
        &text(kind),
        ",\"plan_sha256\":",
        &plan_sha256.map_or_else(|| "null".to_string(), text),
        ",\"prev_hash\":",
        &text(prev_hash),
        ",\"recorded_at\":",
        &text(recorded_at),
        ",\"seq\":",
        &seq.to_string(),
        "}",
    ] {
        hasher.update(part.as_bytes());
    }
    hex(&hasher.finalize())
}

/// Checks a whole ledger, oldest first, against its recorded head. `verify_signature`
/// (given a hash and a signature) is asked about every record when given, and then every
/// record must be signed. Returns the number of records.
///
/// Every check of a record needs only the record itself and the one before it (its
/// sequence number follows, its `prev_hash` is that record's hash, its own hash matches
/// its content), so the records are checked in chunks on every core and the first bad
/// record of the whole ledger is reported: a million records verify in seconds.
pub fn verify_chain(
    records: &[Evidence],
    head: Option<&Head>,
    verify_signature: Option<SignatureCheck>,
) -> Result<usize, ChainError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Small ledgers are not worth a thread.
    let chunk = records.len().div_ceil(cores).max(4096);
    let first_bad = std::thread::scope(|scope| {
        let parts: Vec<_> = (0..records.len())
            .step_by(chunk)
            .map(|from| {
                let to = (from + chunk).min(records.len());
                scope.spawn(move || check_records(records, from..to, verify_signature))
            })
            .collect();
        // In ledger order, so the earliest bad record is the one named.
        parts
            .into_iter()
            .map(|part| {
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .find_map(Result::err)
    });
    if let Some(bad) = first_bad {
        return Err(bad);
    }
    let last = records.last().map(|r| LastRecord {
        seq: r.seq,
        hash: &r.hash,
        decision_id: &r.decision_id,
    });
    check_head(last, head)?;
    Ok(records.len())
}

/// The newest record read, for the head check.
struct LastRecord<'r> {
    seq: u64,
    hash: &'r str,
    decision_id: &'r str,
}

/// The stored head must name the last record: records cut from the end, or a deleted
/// head, are found here.
fn check_head(last: Option<LastRecord>, head: Option<&Head>) -> Result<(), ChainError> {
    if let Some(Head { seq, hash }) = head {
        if last.as_ref().map(|r| (r.seq, r.hash)) != Some((*seq, hash.as_str())) {
            return Err(match last {
                Some(r) => ChainError {
                    seq: r.seq,
                    decision_id: r.decision_id.to_string(),
                    why: format!(
                        "the ledger's head is record {seq}: the records after this one were deleted"
                    ),
                },
                None => ChainError {
                    seq: 0,
                    decision_id: String::new(),
                    why: format!(
                        "the ledger's head is record {seq}, but no record is left: they were deleted"
                    ),
                },
            });
        }
    } else if let Some(first) = last {
        // Any record at all without a head: the head row was deleted.
        return Err(ChainError {
            seq: first.seq,
            decision_id: first.decision_id.to_string(),
            why: "the ledger has records but no head: its head was deleted".into(),
        });
    }
    Ok(())
}

/// The first bad record among `records[range]`, each checked against the record before it.
fn check_records(
    records: &[Evidence],
    range: std::ops::Range<usize>,
    verify_signature: Option<SignatureCheck>,
) -> Result<(), ChainError> {
    let mut prev = range
        .start
        .checked_sub(1)
        .and_then(|p| records.get(p))
        .map_or(GENESIS, |r| r.hash.as_str());
    let first_seq = range.start as u64 + 1;
    for (r, expected_seq) in records
        .get(range)
        .unwrap_or_default()
        .iter()
        .zip(first_seq..)
    {
        let body = r.body.to_string();
        check_one(
            &RecordRef::of(r, &body),
            expected_seq,
            prev,
            verify_signature,
        )?;
        prev = &r.hash;
    }
    Ok(())
}

/// A record as read, its body still the JSON text it was hashed as.
pub(crate) struct RecordRef<'r> {
    pub seq: u64,
    pub kind: &'r str,
    pub decision_id: &'r str,
    pub recorded_at: &'r str,
    pub plan_sha256: Option<&'r str>,
    pub body_json: &'r str,
    pub prev_hash: &'r str,
    pub hash: &'r str,
    pub signature: Option<&'r str>,
}

impl<'r> RecordRef<'r> {
    fn of(r: &'r Evidence, body_json: &'r str) -> RecordRef<'r> {
        RecordRef {
            seq: r.seq,
            kind: &r.kind,
            decision_id: &r.decision_id,
            recorded_at: &r.recorded_at,
            plan_sha256: r.plan_sha256.as_deref(),
            body_json,
            prev_hash: &r.prev_hash,
            hash: &r.hash,
            signature: r.signature.as_deref(),
        }
    }
}

/// One record against what must come before it: its sequence number, the hash of the
/// record before it, its own content, and its signature when signatures are checked.
fn check_one(
    r: &RecordRef,
    expected_seq: u64,
    prev: &str,
    verify_signature: Option<SignatureCheck>,
) -> Result<(), ChainError> {
    let bad = |why: String| ChainError {
        seq: r.seq,
        decision_id: r.decision_id.to_string(),
        why,
    };
    if r.seq != expected_seq {
        return Err(bad(format!(
            "expected sequence number {expected_seq}: a record before it was deleted, or records were inserted or reordered"
        )));
    }
    if r.prev_hash != prev {
        return Err(bad(
            "it does not chain to the record before it: that record was edited, deleted or reordered"
                .into(),
        ));
    }
    let hash = hash_with_body_json(
        r.seq,
        r.kind,
        r.decision_id,
        r.recorded_at,
        r.plan_sha256,
        r.body_json,
        r.prev_hash,
    );
    if hash != r.hash {
        return Err(bad(
            "its content does not match its hash: it was edited".into()
        ));
    }
    if let Some(verify) = verify_signature {
        match r.signature {
            None => return Err(bad("it is not signed".into())),
            Some(sig) if !verify(r.hash, sig) => {
                return Err(bad(
                    "its signature does not verify with this public key".into()
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// What a streamed verification found: the ledger checked through its last record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChain {
    /// How many records (the last one's sequence number).
    pub records: u64,
    /// The last record's hash ([`GENESIS`] for an empty ledger).
    pub last_hash: String,
    /// The hash of each record the caller asked to keep (checkpointed ones) that exists.
    pub kept: std::collections::BTreeMap<u64, String>,
}

/// The chain check one record at a time, as a backend reads the ledger oldest first, so
/// verifying a ledger of millions of records takes the memory of one. Bodies are hashed
/// as the text the store keeps (what was hashed when the record was written), not parsed.
pub(crate) struct ChainWalk<'a> {
    verify_signature: Option<SignatureCheck<'a>>,
    keep: &'a [u64],
    done: VerifiedChain,
    last_decision: String,
}

impl<'a> ChainWalk<'a> {
    pub(crate) fn new(verify_signature: Option<SignatureCheck<'a>>, keep: &'a [u64]) -> Self {
        ChainWalk {
            verify_signature,
            keep,
            done: VerifiedChain {
                records: 0,
                last_hash: GENESIS.to_string(),
                kept: Default::default(),
            },
            last_decision: String::new(),
        }
    }

    pub(crate) fn step(&mut self, r: &RecordRef) -> Result<(), ChainError> {
        let done = &mut self.done;
        check_one(r, done.records + 1, &done.last_hash, self.verify_signature)?;
        done.records = r.seq;
        done.last_hash.clear();
        done.last_hash.push_str(r.hash);
        if self.keep.contains(&r.seq) {
            done.kept.insert(r.seq, r.hash.to_string());
        }
        // A failed head check names the last record's decision.
        self.last_decision.clear();
        self.last_decision.push_str(r.decision_id);
        Ok(())
    }

    /// The walk's end against the stored head.
    pub(crate) fn finish(self, head: Option<&Head>) -> Result<VerifiedChain, ChainError> {
        let done = self.done;
        let last = (done.records > 0).then_some(LastRecord {
            seq: done.records,
            hash: &done.last_hash,
            decision_id: &self.last_decision,
        });
        check_head(last, head)?;
        Ok(done)
    }
}

/// JSON with object keys sorted at every level and no whitespace: one text per value,
/// whatever map ordering serde_json was built with.
/// The canonical form spelled out (sorted keys, no whitespace): what the fast path above
/// must agree with.
#[cfg(test)]
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    /// A chain of `n` records built in memory, as the store would write them.
    fn chain(n: u64) -> Vec<Evidence> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let body = serde_json::json!({ "n": seq });
                let decision_id = format!("d{seq}");
                let hash = record_hash(seq, "check", &decision_id, "t", None, &body, &prev);
                Evidence {
                    seq,
                    kind: "check".into(),
                    decision_id,
                    recorded_at: "t".into(),
                    plan_sha256: None,
                    body,
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                    signature: None,
                }
            })
            .collect()
    }

    /// Checked in chunks on several threads, the ledger still names its first bad record,
    /// not the first one some thread happened to find.
    #[test]
    fn chunked_checking_names_the_earliest_bad_record() {
        let mut records = chain(20_000);
        let head = |r: &[Evidence]| {
            r.last().map(|l| Head {
                seq: l.seq,
                hash: l.hash.clone(),
            })
        };
        assert_eq!(
            verify_chain(&records, head(&records).as_ref(), None),
            Ok(20_000)
        );
        records[17_000].body = serde_json::json!({ "n": 0 });
        records[9_000].recorded_at = "edited".into();
        let e = verify_chain(&records, head(&records).as_ref(), None).unwrap_err();
        assert_eq!((e.seq, e.why.contains("edited")), (9_001, true), "{e}");
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn the_streamed_hash_is_the_hash_of_the_canonical_record() {
        // Keys inserted out of order, escapes, unicode, numbers of every kind: if
        // serde_json ever kept insertion order (its preserve_order feature), this fails.
        let mut body = serde_json::Map::new();
        body.insert(
            "zeta".into(),
            json!([3, -1.5, 1e300, "a\"b\\c\u{1}é", null, true]),
        );
        body.insert(
            "alpha".into(),
            json!({"y": {"d": 1, "c": [{"b": 2, "a": 1}]}, "x": ""}),
        );
        let body = Value::Object(body);
        let mut canonical = String::new();
        write_canonical(
            &json!({
                "body": body,
                "decision_id": "pg-1",
                "kind": "check",
                "plan_sha256": "ab\"c",
                "prev_hash": GENESIS,
                "recorded_at": "2026-11-28T00:00:00Z",
                "seq": 7,
            }),
            &mut canonical,
        );
        assert_eq!(
            record_hash(
                7,
                "check",
                "pg-1",
                "2026-11-28T00:00:00Z",
                Some("ab\"c"),
                &body,
                GENESIS
            ),
            hex(&Sha256::digest(canonical.as_bytes()))
        );
    }

    #[test]
    fn canonical_form_ignores_key_order() {
        let a = record_hash(
            1,
            "check",
            "d",
            "t",
            None,
            &json!({"a": 1, "b": {"y": 2, "x": [1, {"q": 0, "p": 1}]}}),
            GENESIS,
        );
        let b = record_hash(
            1,
            "check",
            "d",
            "t",
            None,
            &json!({"b": {"x": [1, {"p": 1, "q": 0}], "y": 2}, "a": 1}),
            GENESIS,
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            record_hash(2, "check", "d", "t", None, &json!({}), GENESIS)
        );
    }
}
