//! `plan-guard reconcile`: compare intended, built and actual; hold or accept drift.

use super::args::{ReconcileArgs, ReconcileFormat};
use super::living::reconciliation_text;
use super::{actor_or_default, one_line_reason, terraform_output, workspace_or_default};
use anyhow::Result;
use iom_store::Store;
use plan_guard::decide::model_source;
use plan_guard::exit;
use plan_guard::plan::read_plan;

pub(crate) fn run(args: ReconcileArgs) -> Result<u8> {
    let ReconcileArgs {
        plan,
        workspace,
        model,
        store,
        accept,
        reason,
        actor,
        format,
        notify,
    } = args;
    let workspace = workspace_or_default(workspace)?;
    if let Some(reason) = &reason {
        one_line_reason(reason)?;
    }
    let ledger = Store::open_configured(store.as_deref())?;
    let loaded = model_source::load(model.as_deref(), store.as_deref())?;
    let targets = super::notify_targets(&notify, &loaded.model, &workspace)?;
    let scratch =
        std::env::temp_dir().join(format!("plan-guard-refresh-{}.tfplan", std::process::id()));
    let plan_path = match plan {
        Some(p) => p,
        None => {
            terraform_output(&[
                "plan",
                "-refresh-only",
                "-input=false",
                "-no-color",
                &format!("-out={}", scratch.display()),
            ])?;
            scratch.display().to_string()
        }
    };
    let raw = read_plan(&plan_path)?;
    let _ = std::fs::remove_file(&scratch);
    let refresh = raw.parse()?;
    let built = super::check::latest_observation(&ledger, &workspace)?;
    let found = plan_guard::living::reconcile(&workspace, &loaded.model, &refresh, built.as_ref());
    let now = plan_guard::ids::now_rfc3339();
    let actor = actor_or_default(actor)?;
    let held = !found.drifted.is_empty() && !accept;
    let record = serde_json::to_value(plan_guard::evidence::records::ReconcileRecord {
        version: 1,
        actor: Some(actor),
        accepted: accept,
        reason,
        reconciliation: found.clone(),
    })?;
    if held {
        ledger.set_drift(
            &workspace,
            &now,
            Some(&serde_json::to_value(
                plan_guard::evidence::records::DriftHold {
                    addresses: found.drifted.clone(),
                },
            )?),
        )?;
    } else if accept {
        ledger.set_drift(&workspace, &now, None)?;
    }
    let record_id = format!("reconcile-{workspace}-{now}");
    ledger.append_evidence(
        &iom_store::NewEvidence {
            kind: plan_guard::evidence::records::Kind::Reconcile
                .as_str()
                .into(),
            decision_id: record_id.clone(),
            recorded_at: now,
            plan_sha256: Some(raw.sha256().to_string()),
            body: record,
        },
        None,
    )?;
    match format {
        ReconcileFormat::Json => println!("{}", serde_json::to_string_pretty(&found)?),
        ReconcileFormat::Text => print!("{}", reconciliation_text(&found, accept)),
        ReconcileFormat::Markdown => print!(
            "{}",
            plan_guard::render::render_reconciliation_markdown(&found, accept, &record_id)
        ),
    }
    super::notify(
        &notify,
        &targets,
        plan_guard::notify::Notification::for_drift(&found, accept, &record_id),
    );
    Ok(if held { exit::ESCALATE } else { exit::SUCCESS })
}
