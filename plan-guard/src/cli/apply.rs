//! `plan-guard apply`: authorise the checked plan, run the apply command on a private
//! copy, run the post-verify probes, record it all.

use super::args::ApplyArgs;
use super::terraform_output;
use anyhow::{Context as _, Result};
use iom_store::Store;
use plan_guard::evidence::signing::Signer;
use plan_guard::evidence::workflow;
use plan_guard::plan::copy::PlanCopy;

pub(crate) fn run(args: ApplyArgs) -> Result<u8> {
    let ApplyArgs {
        plan,
        decision,
        store,
        model,
        signing_key,
        command,
        notify,
    } = args;
    let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
    let ledger = Store::open_configured(store.as_deref())?;
    let plan = PlanCopy::take(&plan)?;
    let workspace = current_workspace()?;
    let check = workflow::authorize(&ledger, &plan, decision.as_deref(), &workspace)?;
    // The decision's own model, for its contracts' post-verify probes.
    let loaded = workflow::model_for_apply(&check, model.as_deref(), store.as_deref())?;
    let targets = super::notify_targets(&notify, &loaded, &workspace)?;
    eprintln!("plan-guard: applying under decision {}", check.decision_id);
    let applied = workflow::apply(&ledger, signer.as_ref(), &plan, &check, &loaded, &command)?;
    for p in &applied.probes {
        let mark = if p.ok { "ok  " } else { "FAIL" };
        eprintln!(
            "plan-guard: {mark} [contract:{} / {}] {}",
            p.contract, p.probe, p.message
        );
    }
    super::notify(
        &notify,
        &targets,
        plan_guard::notify::Notification::for_post_verify(
            &workspace,
            &check.decision_id,
            &applied.probes,
        ),
    );
    Ok(applied.exit_code())
}

/// The Terraform workspace an apply here runs in, as `terraform workspace show` says
/// (which honours `$TF_WORKSPACE`; Atlantis selects `$WORKSPACE` before its steps run).
/// Not knowing it is an error: the decision was judged for one workspace.
fn current_workspace() -> Result<String> {
    let shown = terraform_output(&["workspace", "show"])
        .context("cannot tell which Terraform workspace this apply would run in")?;
    match shown.trim() {
        "" => Err(anyhow::anyhow!(
            "cannot tell which Terraform workspace this apply would run in: terraform workspace show printed nothing"
        )),
        w => Ok(w.to_string()),
    }
}
