//! `plan-guard observe`: record what a workspace has built.

use super::args::ObserveArgs;
use super::{terraform_output, workspace_or_default};
use anyhow::{Context as _, Result};
use iom_store::Store;
use plan_guard::exit;
use plan_guard::plan::read_plan;

pub(crate) fn run(args: ObserveArgs) -> Result<u8> {
    let ObserveArgs {
        state,
        from_plan,
        workspace,
        store,
    } = args;
    use plan_guard::living::ObservedFrom;
    let here = std::env::current_dir()?;
    let (doc, source, from) = match (state, from_plan) {
        (_, Some(plan)) => (read_plan(&plan)?.text, plan, ObservedFrom::Plan),
        (Some(state), None) => (
            std::fs::read_to_string(&state).with_context(|| format!("cannot read {state}"))?,
            state,
            ObservedFrom::State,
        ),
        (None, None) => (
            terraform_output(&["show", "-json"])?,
            format!("`terraform show -json` in {}", here.display()),
            ObservedFrom::State,
        ),
    };
    let workspace = workspace_or_default(workspace)?;
    let store = Store::open_configured(store.as_deref())?;
    let key = plan_guard::living::digest_key(&store)?;
    let body = plan_guard::living::observation_body(&doc, &source, from, Some(&here), None, &key)?;
    let id = store.record_observation(&workspace, &plan_guard::ids::now_rfc3339(), &body)?;
    println!(
        "observed {} resources of workspace {workspace} (observation {id}, {})",
        body.get("resources")
            .and_then(|r| r.as_array())
            .map_or(0, Vec::len),
        store.url()
    );
    Ok(exit::SUCCESS)
}
