//! The one report of a check. Every output format renders this value; none re-derives
//! a verdict. Fields are declared in alphabetical order and lists are sorted, so the
//! JSON form is byte-identical for the same plan and model (`decision_id` and
//! `generated_at` aside).

use crate::decide::surface::{Accountable, ContractSection, natural_cmp};
use crate::graph::BlastRadius;
use iom_model::{ActionClass, Outcome};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub actor: String,
    pub changes: Vec<ChangeReport>,
    /// The contract of every governed module call with a changed resource
    /// (docs/report.md, Contracts and accountability).
    pub contracts: Vec<ContractSection>,
    pub decision_id: String,
    /// Findings about the plan as a whole (an incomplete plan), beside the changes'.
    pub findings: Vec<Finding>,
    pub generated_at: String,
    pub model: ModelInfo,
    pub plan: PlanInfo,
    pub summary: Summary,
    pub verdict: Outcome,
    pub workspace: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub revision: Option<u64>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanInfo {
    pub format_version: Option<String>,
    pub sha256: String,
    pub source: String,
    pub terraform_version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub allow: usize,
    pub block: usize,
    /// Judged changes: every change but `no-op`.
    pub changes: usize,
    pub create: usize,
    pub delete: usize,
    pub escalate: usize,
    pub forget: usize,
    /// Objects the plan imports: judged changes that import, and import-only ones
    /// (`no-op` with `importing`), which are not judged but are counted here.
    pub import: usize,
    /// Action invocations (Terraform 1.14+ actions) the apply would run.
    pub invoke: usize,
    /// Module calls judged by blueprint module rules.
    pub module: usize,
    /// Objects moved to a new address and not otherwise changed.
    #[serde(rename = "move")]
    pub moved: usize,
    pub read: usize,
    pub replace: usize,
    pub update: usize,
    pub warn: usize,
    /// Import-only changes, kept across recounts (they are not in `changes`).
    #[serde(skip)]
    pub unjudged_imports: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// For an escalated or blocked change: the intents whose findings raised it, with
    /// their owners.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accountable: Vec<Accountable>,
    pub action: ActionClass,
    pub actions: Vec<String>,
    pub address: String,
    pub blast_radius: BlastRadius,
    /// Names of the contracts that govern the module call the change is in (their
    /// sections are the report's `contracts`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contracts: Vec<String>,
    /// Why Terraform deferred this change to a later plan, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    pub findings: Vec<Finding>,
    /// Names of the intents that govern this change.
    pub governed_by: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub importing: bool,
    pub module: String,
    /// For a module call judged by module rules (class `module`): its source and version
    /// constraint as the configuration gives them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_call: Option<ModuleCallInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<String>,
    /// For an action invocation (class `invoke`): what runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(rename = "type")]
    pub ty: String,
    pub verdict: Outcome,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleCallInfo {
    pub source: String,
    /// The version constraint, `""` when the call has none.
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub message: String,
    pub outcome: Outcome,
    pub rule: String,
    pub source: String,
    /// The waiver that turned this finding into an allow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
}

impl Summary {
    /// Adds another plan's counts (a set of plans' summary is its plans' added up).
    pub fn add(&mut self, other: &Summary) {
        self.allow += other.allow;
        self.block += other.block;
        self.changes += other.changes;
        self.create += other.create;
        self.delete += other.delete;
        self.escalate += other.escalate;
        self.forget += other.forget;
        self.import += other.import;
        self.invoke += other.invoke;
        self.module += other.module;
        self.moved += other.moved;
        self.read += other.read;
        self.replace += other.replace;
        self.update += other.update;
        self.warn += other.warn;
        self.unjudged_imports += other.unjudged_imports;
    }

    pub fn count(&mut self, change: &ChangeReport) {
        self.changes += 1;
        match change.action {
            ActionClass::Create => self.create += 1,
            ActionClass::Update => self.update += 1,
            ActionClass::Replace => self.replace += 1,
            ActionClass::Delete => self.delete += 1,
            ActionClass::Read => self.read += 1,
            ActionClass::Forget => self.forget += 1,
            ActionClass::Invoke => self.invoke += 1,
            ActionClass::Move => self.moved += 1,
            ActionClass::Module => self.module += 1,
            ActionClass::NoOp => {}
        }
        // A create that forgets the object it replaces counts as both.
        if change.action.also_forgets(&change.actions) {
            self.forget += 1;
        }
        if change.importing {
            self.import += 1;
        }
        match change.verdict {
            Outcome::Allow => self.allow += 1,
            Outcome::Warn => self.warn += 1,
            Outcome::Escalate => self.escalate += 1,
            Outcome::Block => self.block += 1,
        }
    }
}

impl Report {
    /// `plan-guard check`'s exit code for this verdict (docs/cli.md, Exit codes).
    pub fn exit_code(&self) -> u8 {
        crate::exit::of_verdict(self.verdict)
    }

    /// Changes ordered riskiest first (verdict, then blast radius, then address).
    /// The summary and the plan's verdict, from the changes: after the changes were
    /// judged, and again when a later step (drift, other workspaces) adds findings.
    pub fn recount(&mut self) {
        let mut summary = Summary {
            unjudged_imports: self.summary.unjudged_imports,
            import: self.summary.unjudged_imports,
            ..Summary::default()
        };
        self.changes.iter().for_each(|c| summary.count(c));
        self.summary = summary;
        self.verdict = self
            .changes
            .iter()
            .map(|c| c.verdict)
            .chain(self.findings.iter().map(|f| f.outcome))
            .max()
            .unwrap_or(Outcome::Allow);
    }

    pub fn riskiest(&self) -> Vec<&ChangeReport> {
        let mut v: Vec<&ChangeReport> = self.changes.iter().collect();
        v.sort_by(|a, b| {
            b.verdict
                .cmp(&a.verdict)
                .then(b.blast_radius.transitive.cmp(&a.blast_radius.transitive))
                .then(natural_cmp(&a.address, &b.address))
        });
        v
    }
}
