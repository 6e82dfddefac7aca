//! The one report of a check. Every output format renders this value; none re-derives
//! a verdict. Fields are declared in alphabetical order and lists are sorted, so the
//! JSON form is byte-identical for the same plan and model (`decision_id` and
//! `generated_at` aside).

use crate::decide::surface::{Accountable, ContractSection, natural_cmp};
use crate::graph::BlastRadius;
use iom_model::{ActionClass, Outcome};
use serde::Serialize;

/// The decision of one check: every judged change with its findings, and the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Who ran the check.
    pub actor: String,
    /// Every judged change, in the natural order of addresses.
    pub changes: Vec<ChangeReport>,
    /// The contract of every governed module call with a changed resource
    /// (docs/report.md, Contracts and accountability).
    pub contracts: Vec<ContractSection>,
    /// The decision's id, which approvals and applies name.
    pub decision_id: String,
    /// Findings about the plan as a whole (an incomplete plan), beside the changes'.
    pub findings: Vec<Finding>,
    /// When the check ran (RFC 3339).
    pub generated_at: String,
    /// The model it was judged against.
    pub model: ModelInfo,
    /// The plan judged.
    pub plan: PlanInfo,
    /// Counts of changes by class and verdict.
    pub summary: Summary,
    /// The strictest verdict of any change or plan-level finding.
    pub verdict: Outcome,
    /// The Terraform workspace it was judged for.
    pub workspace: String,
}

/// Where the model came from.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// The store's model revision, when it came from the store.
    pub revision: Option<u64>,
    /// `--model DIR` as given, or the store's URL.
    pub source: String,
}

/// The plan judged.
#[derive(Debug, Clone, Serialize)]
pub struct PlanInfo {
    /// The plan document's `format_version`.
    pub format_version: Option<String>,
    /// SHA-256 of the plan document as read.
    pub sha256: String,
    /// Where it was read from.
    pub source: String,
    /// The Terraform that made it.
    pub terraform_version: Option<String>,
}

/// Counts of a report's changes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Changes whose verdict is allow.
    pub allow: usize,
    /// Changes whose verdict is block.
    pub block: usize,
    /// Judged changes: every change but `no-op`.
    pub changes: usize,
    /// Changes of class create.
    pub create: usize,
    /// Changes of class delete.
    pub delete: usize,
    /// Changes whose verdict is escalate.
    pub escalate: usize,
    /// Changes of class forget.
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
    /// Changes of class read.
    pub read: usize,
    /// Changes of class replace.
    pub replace: usize,
    /// Changes of class update.
    pub update: usize,
    /// Changes whose verdict is warn.
    pub warn: usize,
    /// Import-only changes, kept across recounts (they are not in `changes`).
    #[serde(skip)]
    pub unjudged_imports: usize,
}

/// One judged change.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// For an escalated or blocked change: the intents whose findings raised it, with
    /// their owners.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accountable: Vec<Accountable>,
    /// Its action class.
    pub action: ActionClass,
    /// Terraform's actions.
    pub actions: Vec<String>,
    /// The instance address.
    pub address: String,
    /// How far it reaches.
    pub blast_radius: BlastRadius,
    /// Names of the contracts that govern the module call the change is in (their
    /// sections are the report's `contracts`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contracts: Vec<String>,
    /// Why Terraform deferred this change to a later plan, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred: Option<String>,
    /// The deposed object's key, for a change of a deposed object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    /// Every finding, waived ones included, sorted.
    pub findings: Vec<Finding>,
    /// Names of the intents that govern this change.
    pub governed_by: Vec<String>,
    /// Whether the change imports the object.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub importing: bool,
    /// Its module's address, `""` for the root module.
    pub module: String,
    /// For a module call judged by module rules (class `module`): its source and version
    /// constraint as the configuration gives them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_call: Option<ModuleCallInfo>,
    /// The address it had before a `moved` block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<String>,
    /// For an action invocation (class `invoke`): what runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// The resource type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The strictest outcome of its findings.
    pub verdict: Outcome,
}

/// A module call as written, for a change of class `module`.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleCallInfo {
    /// Its `source` as written.
    pub source: String,
    /// The version constraint, `""` when the call has none.
    pub version: String,
}

/// One thing a rule found about a change (or the whole plan).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// What was found, in words (never a value).
    pub message: String,
    /// What it asks for.
    pub outcome: Outcome,
    /// The rule, as `source` names it.
    pub rule: String,
    /// Who raised it: `profile:P`, `intent:I`, `blueprint:B@V`, `contract:C` or `model`.
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

    /// Counts `change` by its class and verdict.
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

    /// The changes with the strictest verdict, for a report's headline.
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
