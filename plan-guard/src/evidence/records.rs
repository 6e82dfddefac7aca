//! The ledger's records, typed. A record is stored as a kind (`check`, `approval`,
//! `apply`, `reconcile`, and the provider's `verification` and `run`) and a JSON body;
//! [`Record::read`] parses the body once, by its kind, into the structs below, so a
//! reader names fields the compiler checks instead of string keys. What is written is
//! unchanged. Fields older builds did not write read as their default, so every record
//! stored so far still reads (tests/ledger_compat.rs holds a ledger main wrote). Bodies
//! carry no version yet: absent is version 1; a change older readers would misread
//! writes `"version": 2` and reads both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decide::surface::Accountable;
use crate::evidence::ProfileApprovers;
use crate::living::Reconciliation;

/// The kinds of record in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A decision: `plan-guard check`.
    Check,
    /// An approval of an escalated decision: `plan-guard approve`.
    Approval,
    /// A governed apply and its post-verify probes: `plan-guard apply`.
    Apply,
    /// A reconciliation of a workspace's drift: `plan-guard reconcile`.
    Reconcile,
    /// Post-verify probes the provider's `iom_verify` action ran inside Terraform.
    Verification,
    /// A run the provider's `iom_record` action recorded.
    Run,
}

impl Kind {
    /// The name the ledger stores.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Check => "check",
            Kind::Approval => "approval",
            Kind::Apply => "apply",
            Kind::Reconcile => "reconcile",
            Kind::Verification => "verification",
            Kind::Run => "run",
        }
    }

    /// The kind a stored name is, if plan-guard knows it.
    pub fn parse(name: &str) -> Option<Kind> {
        [
            Kind::Check,
            Kind::Approval,
            Kind::Apply,
            Kind::Reconcile,
            Kind::Verification,
            Kind::Run,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// A record's body, read by its kind.
#[derive(Debug, Clone)]
pub enum Record {
    /// Boxed: the whole decision is far larger than the other bodies.
    Check(Box<CheckRecord>),
    /// An approval of an escalated decision.
    Approval(ApprovalRecord),
    /// A governed apply and its probes.
    Apply(ApplyRecord),
    /// A reconciliation of a workspace's drift.
    Reconcile(ReconcileRecord),
    /// The provider's `iom_verify` probes.
    Verification(VerificationRecord),
    /// A run the provider's `iom_record` recorded.
    Run(RunRecord),
    /// A kind this build does not know (a newer writer's): listed, never acted on.
    Other,
}

impl Record {
    /// Parses `body` as a record of `kind`. A body whose fields have the wrong types is an
    /// error naming the kind; missing fields take their defaults.
    pub fn read(kind: &str, body: &Value) -> Result<Record, serde_json::Error> {
        Ok(match Kind::parse(kind) {
            Some(Kind::Check) => Record::Check(Box::new(CheckRecord::deserialize(body)?)),
            Some(Kind::Approval) => Record::Approval(ApprovalRecord::deserialize(body)?),
            Some(Kind::Apply) => Record::Apply(ApplyRecord::deserialize(body)?),
            Some(Kind::Reconcile) => Record::Reconcile(ReconcileRecord::deserialize(body)?),
            Some(Kind::Verification) => {
                Record::Verification(VerificationRecord::deserialize(body)?)
            }
            Some(Kind::Run) => Record::Run(RunRecord::deserialize(body)?),
            None => Record::Other,
        })
    }
}

fn version_one() -> u32 {
    1
}

/// Bodies still carry no `version` when it is 1, as before typed records.
fn is_version_one(v: &u32) -> bool {
    *v == 1
}

/// A record's body typed, with the stored JSON it was read from: a signature covers the
/// stored JSON (which may hold fields this build does not know), never a re-serialised
/// copy of the typed record.
#[derive(Debug)]
pub struct Stored<'a, T> {
    /// The fields this build reads.
    pub record: &'a T,
    /// The body as the ledger holds it.
    pub json: &'a Value,
}

// By hand: a derive would ask `T: Copy`, and only references are copied.
impl<T> Clone for Stored<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Stored<'_, T> {}

impl<'a, T> Stored<'a, T> {
    /// `record` as read from `json`.
    pub fn new(record: &'a T, json: &'a Value) -> Stored<'a, T> {
        Stored { record, json }
    }
}

/// The body of a `check` record: the whole decision and what it rests on. The same type
/// writes it ([`crate::evidence::check_record`]) and reads it (approvals, apply,
/// insights, `evidence list`); parts only shown, never decided on (`summary`, the
/// contract sections' details), are kept as they were written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckRecord {
    /// The body's format; absent (1) in every body written so far.
    #[serde(default = "version_one", skip_serializing_if = "is_version_one")]
    pub version: u32,
    /// Who ran the check (`--actor`).
    pub actor: Option<String>,
    /// Who may approve under each escalating profile, resolved when the check ran.
    pub approvers: Vec<ProfileApprovers>,
    /// Every judged change, in the report's order.
    pub changes: Vec<CheckedChange>,
    /// The contract sections the decision was given on; their digests are the contract
    /// versions an approval names.
    pub contracts: Vec<RecordedContract>,
    /// Findings about the whole plan.
    pub findings: Vec<RecordedFinding>,
    /// The model the decision was judged against.
    pub model: ModelPin,
    /// The plan it judged.
    pub plan: PlanPin,
    /// The report's counts, as written.
    pub summary: Value,
    /// The outcome the check gave ungoverned changes (`--ungoverned`).
    pub ungoverned: Option<String>,
    /// `allow`, `warn`, `escalate` or `block`; anything else is an unreadable verdict.
    pub verdict: Option<String>,
    /// The Terraform workspace it was checked for (`default` when absent).
    pub workspace: Option<String>,
    /// For a plan judged in a set (`check PLAN PLAN…`): the set's decision, whose verdict
    /// and approvals stand for every plan of the set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<SetLink>,
    /// For the record of a set itself: its plans, each recorded as a check of its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<SetMember>,
}

/// The set a plan's check belongs to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SetLink {
    /// The set's decision.
    pub decision_id: String,
    /// How many plans the set has.
    pub plans: usize,
    /// The set's verdict when it was checked.
    pub verdict: Option<String>,
}

/// One plan of a set, as the set's record lists it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SetMember {
    /// The plan's own decision.
    pub decision_id: String,
    /// SHA-256 of the plan document.
    pub plan_sha256: String,
    /// Where the plan was read from.
    pub plan_source: String,
    /// The plan's own verdict.
    pub verdict: Option<String>,
    /// The workspace the plan is for.
    pub workspace: String,
}

impl CheckRecord {
    /// Whether a change was found drifted (`model / drift`) when the check ran.
    pub fn saw_drift(&self) -> bool {
        self.changes
            .iter()
            .flat_map(|c| &c.findings)
            .any(|f| f.source == "model" && f.rule == "drift")
    }
}

/// One change as a check record keeps it. The approval surface (`accountable`,
/// `actions`, the blast radius's addresses) is written only for an escalated or blocked
/// change, `approval_profiles` only for an escalated one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckedChange {
    /// Who is accountable for a flagged change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accountable: Option<Vec<Accountable>>,
    /// The change's class (`create`, `replace`, …).
    pub action: Option<String>,
    /// Terraform's actions, for a flagged change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
    /// The instance address.
    pub address: String,
    /// The profiles whose approvers may approve this escalated change; empty: no one may.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_profiles: Option<Vec<String>>,
    /// How far the change reaches.
    pub blast_radius: RecordedBlastRadius,
    /// The deposed object's key, for a change of a deposed object.
    pub deposed: Option<String>,
    /// What was found, waived findings included.
    pub findings: Vec<RecordedFinding>,
    /// The intents governing the change.
    pub governed_by: Vec<String>,
    /// The change's verdict.
    pub verdict: Option<String>,
}

/// A change's blast radius as a check record keeps it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordedBlastRadius {
    /// Every address in it, for a flagged change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<String>>,
    /// Instances one edge away.
    pub direct: usize,
    /// Every instance it reaches.
    pub transitive: usize,
}

/// One finding as a check record keeps it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordedFinding {
    /// What was found, in words (never a value).
    pub message: String,
    /// `allow`, `warn`, `escalate` or `block`.
    pub outcome: Option<String>,
    /// The rule, as `source` names it.
    pub rule: String,
    /// Who raised it: `profile:P`, `intent:I`, `blueprint:B@V`, `contract:C` or `model`.
    pub source: String,
    /// The waiver that turned the finding into an allow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
}

/// A contract section as a check record keeps it: what an approval names, and the rest
/// of the section as the report wrote it (shown by `approve`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordedContract {
    /// The module call, `""` for the root module.
    pub call: String,
    /// The contract's name.
    pub contract: String,
    /// The contract's version: SHA-256 of it as declared.
    pub digest: String,
    /// The section's other fields, as written.
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// The model a decision was judged against.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelPin {
    /// [`crate::evidence::model_digest`] of its objects; older records lack it.
    pub digest: Option<String>,
    /// The directory `--model` named, made absolute when the check ran.
    pub directory: Option<String>,
    /// The store's model revision, when it came from the store.
    pub revision: Option<u64>,
    /// `--model DIR` as given, or the store's URL.
    pub source: Option<String>,
}

/// The plan a decision judged.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanPin {
    /// The plan document's `format_version`.
    pub format_version: Option<String>,
    /// SHA-256 of the plan document as read.
    pub sha256: Option<String>,
    /// Where it was read from.
    pub source: Option<String>,
    /// The Terraform that made the plan.
    pub terraform_version: Option<String>,
}

/// The body of an `approval` record, as [`crate::evidence::approval_record`] writes it
/// (signed afterwards when `--signing-key` is given).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ApprovalRecord {
    /// The body's format; absent (1) in every body written so far.
    #[serde(default = "version_one", skip_serializing_if = "is_version_one")]
    pub version: u32,
    /// Who approves.
    pub actor: Option<String>,
    /// The contract versions the approval was given on, as the check recorded them.
    pub contracts: Vec<ContractVersion>,
    /// The decision approved.
    pub decision_id: Option<String>,
    /// SHA-256 of the plan the check judged.
    pub plan_sha256: Option<String>,
    /// The escalating profiles it counts under, added once they are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles: Option<Vec<String>>,
    /// Why, for the record.
    pub reason: Option<String>,
}

/// One contract version an approval names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContractVersion {
    /// The module call, `""` for the root module.
    pub call: String,
    /// The contract's name.
    pub contract: String,
    /// SHA-256 of the contract as declared.
    pub digest: String,
}

/// The body of an `apply` record: the command, how it ended (or why it did not run), and
/// the post-verify probes run after it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplyRecord {
    /// The body's format; absent (1) in every body written so far.
    #[serde(default = "version_one", skip_serializing_if = "is_version_one")]
    pub version: u32,
    /// The command as run, with the plan's private copy substituted.
    pub command: Vec<String>,
    /// Why the command did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The command's exit code; none when a signal ended it or it did not run.
    pub exit_code: Option<i64>,
    /// SHA-256 of the plan applied.
    pub plan_sha256: Option<String>,
    /// The post-verify probes run after the command, but for `run_record_written`.
    pub probes: Vec<ProbeOutcome>,
    /// The run's id, as the apply claim names it.
    pub run: Option<String>,
    /// The signal that ended the command. Written (null when none did) only for a
    /// command that ran, as before typed records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<Option<i64>>,
}

impl ApplyRecord {
    /// Whether the command ran and exited 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The signal that ended the command, if one did.
    pub fn ended_by(&self) -> Option<i64> {
        self.signal.flatten()
    }
}

/// The body of a `reconcile` record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReconcileRecord {
    /// The body's format; absent (1) in every body written so far.
    #[serde(default = "version_one", skip_serializing_if = "is_version_one")]
    pub version: u32,
    /// Who reconciled.
    pub actor: Option<String>,
    /// Whether the drift was accepted (`--accept`), releasing the hold on the workspace.
    pub accepted: bool,
    /// Why it was accepted.
    pub reason: Option<String>,
    /// What the reconciliation found.
    pub reconciliation: Reconciliation,
}

/// The body of a `verification` record (the provider's `iom_verify`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VerificationRecord {
    /// The body's format; absent (1) in every body written so far.
    #[serde(default = "version_one")]
    pub version: u32,
    /// The contract whose probes ran.
    pub contract: Option<String>,
    /// Each probe's outcome.
    pub probes: Vec<ProbeOutcome>,
}

/// One post-verify probe's outcome in an `apply` or `verification` record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeOutcome {
    /// The contract that declares the probe.
    pub contract: String,
    /// `post_verify.PROBE`.
    pub probe: String,
    /// Whether the probe held.
    pub ok: bool,
    /// Why it failed, or what answered.
    pub message: String,
}

impl From<&crate::evidence::verify::ProbeResult> for ProbeOutcome {
    fn from(p: &crate::evidence::verify::ProbeResult) -> ProbeOutcome {
        ProbeOutcome {
            contract: p.contract.clone(),
            probe: p.probe.clone(),
            ok: p.ok,
            message: p.message.clone(),
        }
    }
}

/// The body of a `run` record (the provider's `iom_record`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunRecord {
    /// The body's format; absent (1) in every body written so far.
    #[serde(default = "version_one")]
    pub version: u32,
    /// What kind of run the configuration says it was.
    pub kind: Option<String>,
    /// Its message.
    pub message: Option<String>,
}

/// What `reconcile` stores as a workspace's unreconciled drift (the store's drift row, not
/// a ledger record): the governed addresses found drifted. Until reconciled it holds the
/// workspace's checks (`model / drift` findings) and applies.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriftHold {
    /// The governed addresses found drifted.
    pub addresses: Vec<String>,
}

impl DriftHold {
    /// The hold a stored drift body describes; entries that are not addresses are
    /// skipped, and a body without any reads as drift at unknown addresses.
    pub fn read(body: &Value) -> DriftHold {
        DriftHold {
            addresses: body
                .get("addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(String::from))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Apply and reconcile records carry the keys the `json!` builders before typed
    /// records wrote: `signal` only for a command that ran, `error` only for one that
    /// did not, no `version`.
    #[test]
    fn apply_and_reconcile_bodies_keep_their_keys() {
        let probe = ProbeOutcome {
            contract: "payments".into(),
            probe: "post_verify.health".into(),
            ok: true,
            message: "200".into(),
        };
        let ran = ApplyRecord {
            version: 1,
            command: vec!["terraform".into(), "apply".into()],
            error: None,
            exit_code: Some(0),
            plan_sha256: Some("ab".into()),
            probes: vec![probe],
            run: Some("run-1".into()),
            signal: Some(None),
        };
        assert_eq!(
            serde_json::to_value(&ran).unwrap(),
            json!({
                "command": ["terraform", "apply"],
                "exit_code": 0,
                "plan_sha256": "ab",
                "probes": [{ "contract": "payments", "probe": "post_verify.health", "ok": true, "message": "200" }],
                "run": "run-1",
                "signal": null,
            })
        );
        let not_run = ApplyRecord {
            error: Some("cannot run terraform: not found".into()),
            exit_code: None,
            probes: Vec::new(),
            signal: None,
            ..ran
        };
        assert_eq!(
            serde_json::to_value(&not_run).unwrap(),
            json!({
                "command": ["terraform", "apply"],
                "error": "cannot run terraform: not found",
                "exit_code": null,
                "plan_sha256": "ab",
                "probes": [],
                "run": "run-1",
            })
        );
        let reconcile = ReconcileRecord {
            version: 1,
            actor: Some("alice".into()),
            accepted: false,
            reason: None,
            reconciliation: Reconciliation {
                workspace: "prod".into(),
                drifted: vec!["aws_s3_bucket.b".into()],
                ..Reconciliation::default()
            },
        };
        assert_eq!(
            serde_json::to_value(&reconcile).unwrap(),
            json!({
                "actor": "alice",
                "accepted": false,
                "reason": null,
                "reconciliation": {
                    "workspace": "prod",
                    "drifted": ["aws_s3_bucket.b"],
                    "drifted_ungoverned": [],
                    "ungoverned": [],
                    "unmatched_elements": [],
                    "stale": null,
                },
            })
        );
    }
}
