//! The ledger's records of a set of plans (docs/ledger.md, Sets of plans): one `check`
//! record per plan, under its own decision id (`SET.N`) and plan digest, linked to the
//! set (`set.decision_id`), so `apply` authorises each plan alone and only for its own
//! file; and one `check` record of the set, under the set's decision id and with no plan
//! digest of its own, holding every plan's changes (addressed `WORKSPACE:ADDRESS`) and
//! the approvers they need. `approve SET` approves that record, and its verdict and
//! approvals stand for every plan of the set.

use iom_model::{Model, Outcome};
use sha2::{Digest, Sha256};

use super::records::{CheckRecord, SetLink, SetMember};
use crate::decide::plan_set::SetReport;
use crate::decide::report::{PlanInfo, Report};

/// The body of the set's own `check` record.
pub fn set_check_record(set: &SetReport, model: &Model, ungoverned: Outcome) -> CheckRecord {
    let mut record = super::check_record(&merged(set), model, ungoverned);
    record.members = set
        .plans
        .iter()
        .map(|p| SetMember {
            decision_id: p.decision_id.clone(),
            plan_sha256: p.plan.sha256.clone(),
            plan_source: p.plan.source.clone(),
            verdict: Some(p.verdict.as_str().into()),
            workspace: p.workspace.clone(),
        })
        .collect();
    record
}

/// The link a plan's own `check` record carries to its set.
pub fn set_link(set: &SetReport) -> SetLink {
    SetLink {
        decision_id: set.decision_id.clone(),
        plans: set.plans.len(),
        verdict: Some(set.verdict.as_str().into()),
    }
}

/// The set as one report for its record: every plan's changes and contracts, named
/// `WORKSPACE:…` as blast radii name other workspaces, and plan-level findings prefixed
/// with their workspace.
fn merged(set: &SetReport) -> Report {
    let at = |p: &Report, what: &str| format!("{}:{what}", p.workspace);
    let mut changes = Vec::new();
    let mut contracts = Vec::new();
    let mut findings = Vec::new();
    for p in &set.plans {
        changes.extend(p.changes.iter().cloned().map(|mut c| {
            c.address = at(p, &c.address);
            c
        }));
        contracts.extend(p.contracts.iter().cloned().map(|mut s| {
            s.call = at(p, &s.call);
            s
        }));
        findings.extend(p.findings.iter().cloned().map(|mut f| {
            f.message = format!("{}: {}", p.workspace, f.message);
            f
        }));
    }
    Report {
        actor: set.actor.clone(),
        changes,
        contracts,
        decision_id: set.decision_id.clone(),
        findings,
        generated_at: set.generated_at.clone(),
        model: set.model.clone(),
        plan: PlanInfo {
            format_version: None,
            sha256: set_digest(set),
            source: set
                .plans
                .iter()
                .map(|p| p.plan.source.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            terraform_version: None,
        },
        summary: set.summary.clone(),
        verdict: set.verdict,
        workspace: set
            .plans
            .iter()
            .map(|p| p.workspace.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// SHA-256 over the plans' digests in order: what an approval of the set names.
fn set_digest(set: &SetReport) -> String {
    let mut h = Sha256::new();
    for p in &set.plans {
        h.update(p.plan.sha256.as_bytes());
        h.update(b"\n");
    }
    crate::plan::hex_digest(&h.finalize())
}
