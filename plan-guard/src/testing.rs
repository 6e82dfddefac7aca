//! Shared test data.

use crate::decide::report::*;
use crate::graph::BlastRadius;
use iom_model::{ActionClass, Outcome};

pub fn sample_report() -> Report {
    let change = ChangeReport {
        accountable: Vec::new(),
        contracts: Vec::new(),
        action: ActionClass::Replace,
        actions: vec!["delete".into(), "create".into()],
        address: "module.payments.aws_db_instance.main".into(),
        blast_radius: BlastRadius {
            direct: 1,
            transitive: 1,
            addresses: vec!["aws_instance.app".into()],
        },
        deferred: None,
        deposed: None,
        findings: vec![Finding {
            waived_by: None,
            message: "m".into(),
            outcome: Outcome::Escalate,
            rule: "replace".into(),
            source: "profile:p".into(),
        }],
        governed_by: vec!["payments".into()],
        importing: false,
        module: "module.payments".into(),
        module_call: None,
        previous_address: None,
        trigger: None,
        ty: "aws_db_instance".into(),
        verdict: Outcome::Escalate,
    };
    let mut summary = Summary::default();
    summary.count(&change);
    Report {
        actor: "ci".into(),
        changes: vec![change],
        contracts: Vec::new(),
        decision_id: "pg-1".into(),
        findings: Vec::new(),
        generated_at: "2026-01-01T00:00:00Z".into(),
        model: ModelInfo {
            revision: None,
            source: "dir".into(),
        },
        plan: PlanInfo {
            format_version: Some("1.2".into()),
            sha256: "ab".repeat(32),
            source: "plan.json".into(),
            terraform_version: None,
        },
        summary,
        verdict: Outcome::Escalate,
        workspace: "default".into(),
    }
}
