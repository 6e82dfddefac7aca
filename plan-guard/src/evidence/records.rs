//! The ledger's records, typed. A record is stored as a kind (`check`, `approval`,
//! `apply`, `reconcile`, and the provider's `verification` and `run`) and a JSON body;
//! [`Record::read`] parses the body once, by its kind, into the structs below, so a
//! reader names fields the compiler checks instead of string keys. What is written is
//! unchanged. Fields older builds did not write read as their default, so every record
//! stored so far still reads (tests/ledger_compat.rs holds a ledger main wrote). Bodies
//! carry no version yet: absent is version 1; a change older readers would misread
//! writes `"version": 2` and reads both.

use serde::Deserialize;
use serde_json::Value;

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
    Check(CheckRecord),
    Approval(ApprovalRecord),
    Apply(ApplyRecord),
    Reconcile(ReconcileRecord),
    Verification(VerificationRecord),
    Run(RunRecord),
    /// A kind this build does not know (a newer writer's): listed, never acted on.
    Other,
}

impl Record {
    /// Parses `body` as a record of `kind`. A body whose fields have the wrong types is an
    /// error naming the kind; missing fields take their defaults.
    pub fn read(kind: &str, body: &Value) -> Result<Record, serde_json::Error> {
        Ok(match Kind::parse(kind) {
            Some(Kind::Check) => Record::Check(CheckRecord::deserialize(body)?),
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

/// The body of a `check` record, as far as the readers of the ledger use it (the record
/// holds the whole decision; `evidence show` prints all of it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CheckRecord {
    #[serde(default = "version_one")]
    pub version: u32,
    pub actor: Option<String>,
    /// `allow`, `warn`, `escalate` or `block`; anything else is an unreadable verdict.
    pub verdict: Option<String>,
    pub workspace: Option<String>,
    pub changes: Vec<CheckedChange>,
    pub model: ModelPin,
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

/// One change as a check record keeps it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CheckedChange {
    pub address: String,
    pub verdict: Option<String>,
    pub governed_by: Vec<String>,
    pub findings: Vec<RecordedFinding>,
}

/// One finding as a check record keeps it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RecordedFinding {
    pub source: String,
    pub rule: String,
    pub outcome: Option<String>,
}

/// The model a decision was judged against.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ModelPin {
    /// [`crate::evidence::model_digest`] of its objects; older records lack it.
    pub digest: Option<String>,
    /// The store's model revision, when it came from the store.
    pub revision: Option<u64>,
    /// `--model DIR` as given, or the store's URL.
    pub source: Option<String>,
}

/// The body of an `approval` record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ApprovalRecord {
    #[serde(default = "version_one")]
    pub version: u32,
    pub actor: Option<String>,
    pub reason: Option<String>,
}

/// The body of an `apply` record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ApplyRecord {
    #[serde(default = "version_one")]
    pub version: u32,
    /// The command's exit code; none when a signal ended it or it did not run.
    pub exit_code: Option<serde_json::Number>,
    /// The signal that ended the command.
    pub signal: Option<serde_json::Number>,
    /// Why the command did not run.
    pub error: Option<String>,
}

impl ApplyRecord {
    /// Whether the command ran and exited 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code.as_ref().and_then(serde_json::Number::as_i64) == Some(0)
    }
}

/// The body of a `reconcile` record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReconcileRecord {
    #[serde(default = "version_one")]
    pub version: u32,
    pub actor: Option<String>,
    pub accepted: bool,
    pub reason: Option<String>,
    pub reconciliation: Reconciliation,
}

/// What a reconciliation found.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Reconciliation {
    pub workspace: Option<String>,
    /// The governed resources found drifted.
    pub drifted: Vec<Value>,
}

/// The body of a `verification` record (the provider's `iom_verify`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VerificationRecord {
    #[serde(default = "version_one")]
    pub version: u32,
    pub contract: Option<String>,
    pub probes: Vec<ProbeOutcome>,
}

/// One probe's outcome in a `verification` record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProbeOutcome {
    pub ok: bool,
}

/// The body of a `run` record (the provider's `iom_record`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RunRecord {
    #[serde(default = "version_one")]
    pub version: u32,
    pub kind: Option<String>,
    pub message: Option<String>,
}
