//! `plan-guard check PLAN PLAN…`: several plans, one per workspace, judged as one set
//! (docs/judging.md, Several plans, one decision). Every plan is read and parsed before
//! anything is judged, so one that does not read fails the whole set, naming its file.

use super::actor_or_default;
use super::args::CheckArgs;
use super::check::{
    existing_source_dir, observed_around, require_existing_store, wants_sources, write_reports,
};
use anyhow::{Context as _, Result, bail};
use iom_store::Store;
use plan_guard::decide::model_source;
use plan_guard::decide::plan_set::{Member, check_set};
use plan_guard::decide::{CheckOptions, Observed};
use plan_guard::evidence::identity::SshSigner;
use plan_guard::evidence::signing::Signer;
use plan_guard::evidence::workflow;
use plan_guard::plan::read_plan;
use plan_guard::plan::sources::Locator;
use plan_guard::render::{Options as RenderOptions, SetPlanSources, render_set};
use std::path::{Path, PathBuf};

pub(crate) fn run(args: CheckArgs) -> Result<u8> {
    let CheckArgs {
        plan: plans,
        model,
        store,
        init_store,
        workspace,
        actor,
        format,
        output,
        ungoverned,
        also,
        source_dir,
        junit_escalations,
        signing_key,
        sign_with,
        notify,
    } = args;
    if plans.iter().any(|p| p == "-") {
        bail!("a set of plans is read from files: `-` (standard input) names no workspace");
    }
    let actor = actor_or_default(actor)?;
    let workspaces = workspaces_of(&plans, workspace)?;
    let dirs = source_dirs_of(&plans, source_dir)?;
    require_existing_store(store.as_deref(), init_store)?;
    let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
    let ssh = sign_with.as_deref().map(SshSigner::from_file).transpose()?;
    // Every plan read and parsed before any is judged: one that does not read fails the
    // set, naming its file.
    let raws = plans
        .iter()
        .map(|p| read_plan(p))
        .collect::<Result<Vec<_>, _>>()?;
    let parsed = raws
        .iter()
        .map(|r| r.parse())
        .collect::<Result<Vec<_>, _>>()?;
    let loaded = model_source::load(model.as_deref(), store.as_deref())?;
    // Where each plan's notification goes, settled before anything is judged.
    let targets = workspaces
        .iter()
        .map(|w| super::notify_targets(&notify, &loaded.model, w))
        .collect::<Result<Vec<_>>>()?;
    let opts = CheckOptions {
        workspace: String::new(),
        actor,
        ungoverned,
        model_source: loaded.source,
        model_revision: loaded.revision,
        source_dir: None,
    };
    let ledger = Store::open_configured(store.as_deref())?;
    let observed = workspaces
        .iter()
        .map(|w| observed_around(&ledger, w))
        .collect::<Result<Vec<Observed>>>()?;
    let members: Vec<Member<'_, '_>> = (0..plans.len())
        .filter_map(|i| {
            Some(Member {
                workspace: workspaces.get(i)?.clone(),
                raw: raws.get(i)?,
                plan: parsed.get(i)?,
                source_dir: dirs.get(i).cloned(),
            })
        })
        .collect();
    let set = check_set(&members, observed, &loaded.model, &opts)?;
    // Recorded before it is shown, as one plan's check is.
    workflow::record_set(
        &ledger,
        signer.as_ref(),
        ssh.as_ref(),
        &set,
        &loaded.model,
        ungoverned,
    )?;
    // SARIF locates each plan's findings in its own workspace's files.
    let locators: Vec<Option<Locator>> = members
        .iter()
        .map(|m| {
            let dir = m.source_dir.as_deref()?;
            wants_sources(format, &also).then(|| Locator::new(dir, m.plan))
        })
        .collect();
    let shown_dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let sources: Vec<SetPlanSources<'_>> = locators
        .iter()
        .zip(&shown_dirs)
        .map(|(l, dir)| SetPlanSources {
            sources: l.as_ref(),
            dir,
        })
        .collect();
    write_reports(format, output.as_deref(), &also, |format, color| {
        let options = RenderOptions {
            color,
            junit_escalations,
            sources: None,
        };
        render_set(&set, format, options, &sources)
    })?;
    for (plan, targets) in set.plans.iter().zip(&targets) {
        let notification = plan_guard::notify::Notification::for_check(plan);
        super::notify(&notify, targets, notification);
    }
    Ok(set.exit_code())
}

/// Each plan's workspace: `--workspace` once per plan, in plan order, or else each plan
/// file's name without its extension. A count that does not match is refused: which
/// plan a name belongs to would be a guess.
fn workspaces_of(plans: &[String], given: Vec<String>) -> Result<Vec<String>> {
    if given.is_empty() {
        return plans
            .iter()
            .map(|p| {
                Path::new(p)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .filter(|s| !s.is_empty())
                    .with_context(|| format!("{p}: no file name to take the workspace from: give --workspace once per plan"))
            })
            .collect();
    }
    if given.len() != plans.len() {
        bail!(
            "{} plans but {} --workspace: give --workspace once per plan, in plan order, or not at all (each plan's workspace is then its file name without the extension)",
            plans.len(),
            given.len()
        );
    }
    if given.iter().any(|w| w.trim().is_empty()) {
        bail!("--workspace must not be empty (is the CI variable it names set?)");
    }
    Ok(given)
}

/// Each plan's configuration directory: `--source-dir` once per plan, in plan order, or
/// else the plan's directory when it holds `.tf` files, else the current directory.
fn source_dirs_of(plans: &[String], given: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    if given.is_empty() {
        return Ok(plans.iter().map(|p| plan_dir(p)).collect());
    }
    if given.len() != plans.len() {
        bail!(
            "{} plans but {} --source-dir: give --source-dir once per plan, in plan order, or not at all",
            plans.len(),
            given.len()
        );
    }
    given
        .into_iter()
        .map(|d| Ok(existing_source_dir(Some(d))?.unwrap_or_default()))
        .collect()
}

/// The directory of `plan` when it holds `.tf` files, else the current directory.
fn plan_dir(plan: &str) -> PathBuf {
    let dir = Path::new(plan)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let has_tf = std::fs::read_dir(dir).into_iter().flatten().any(|e| {
        e.ok()
            .is_some_and(|e| e.path().extension().is_some_and(|x| x == "tf"))
    });
    if has_tf {
        dir.to_path_buf()
    } else {
        PathBuf::from(".")
    }
}
