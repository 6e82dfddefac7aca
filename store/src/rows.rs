//! Turning stored rows back into values, the same for every backend.

use iom_model::{Kind, Object};

use crate::ledger::Evidence;
use crate::{Drift, Observation, Result, StoreError, Stored};

/// An object row: its kind as the resource type, name, JSON spec and revision.
/// The digest written beside an object's spec: the SHA-256 (hex) of the spec's text.
pub(crate) fn object_digest(spec: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::ledger::hex(&Sha256::digest(spec.as_bytes()))
}

/// An object row: its kind as the resource type, name, JSON spec, revision, and the digest
/// written with it, which must match the spec: an object edited in the database (one bit
/// of a `critical` glob) is an error naming it, never a quietly different model. A plain
/// SHA-256 finds corruption and edits made without recomputing it; someone who can write
/// the store can recompute it too (the checks' `model.digest` and signed checkpoints are
/// the record of which model decided).
pub(crate) fn object(
    url: &str,
    kind: &str,
    name: &str,
    spec: &str,
    revision: i64,
    digest: Option<&str>,
) -> Result<Stored> {
    let corrupt = |kind: &'static str, why: String| StoreError::Corrupt {
        url: url.to_string(),
        kind,
        name: name.to_string(),
        why,
    };
    let Some(kind) = Kind::from_resource_type(kind) else {
        return Err(corrupt("object", format!("unknown kind {kind:?}")));
    };
    if digest != Some(object_digest(spec).as_str()) {
        return Err(corrupt(
            kind.resource_type(),
            "its content does not match the digest written with it: it was changed in the database, not through the provider".into(),
        ));
    }
    let value =
        serde_json::from_str(spec).map_err(|e| corrupt(kind.resource_type(), e.to_string()))?;
    let object =
        Object::from_json(kind, value).map_err(|e| corrupt(kind.resource_type(), e.to_string()))?;
    Ok(Stored {
        object,
        revision: revision as u64,
    })
}

/// An evidence row, columns in the order of [`EVIDENCE_COLUMNS`].
pub(crate) struct EvidenceRow {
    pub seq: i64,
    pub kind: String,
    pub decision_id: String,
    pub recorded_at: String,
    pub plan_sha256: Option<String>,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
    pub signature: Option<String>,
}

pub(crate) const EVIDENCE_COLUMNS: &str =
    "seq, kind, decision_id, recorded_at, plan_sha256, body, prev_hash, hash, signature";

impl EvidenceRow {
    pub(crate) fn into_evidence(self) -> Evidence {
        // A body that no longer parses was edited; keep it as a string so the chain check
        // reports that record instead of the read failing.
        let body = serde_json::from_str(&self.body).unwrap_or(serde_json::Value::String(self.body));
        Evidence {
            seq: self.seq as u64,
            kind: self.kind,
            decision_id: self.decision_id,
            recorded_at: self.recorded_at,
            plan_sha256: self.plan_sha256,
            body,
            prev_hash: self.prev_hash,
            hash: self.hash,
            signature: self.signature,
        }
    }
}

/// An observation row. A body that does not parse is an error, not an empty observation:
/// reconcile and cross-workspace blast radius must not quietly see "nothing built".
pub(crate) fn observation(
    url: &str,
    workspace: &str,
    id: i64,
    observed_at: String,
    body: &str,
) -> Result<Observation> {
    let body = serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        url: url.to_string(),
        kind: "observation",
        name: format!("{workspace}#{id}"),
        why: e.to_string(),
    })?;
    Ok(Observation {
        id: id as u64,
        workspace: workspace.to_string(),
        observed_at,
        body,
    })
}

/// A drift row. A body that does not parse is an error, not "no drift": a check must not
/// quietly judge a drifted workspace as reconciled.
pub(crate) fn drift(url: &str, workspace: &str, recorded_at: String, body: &str) -> Result<Drift> {
    let body = serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        url: url.to_string(),
        kind: "drift",
        name: workspace.to_string(),
        why: e.to_string(),
    })?;
    Ok(Drift { recorded_at, body })
}
