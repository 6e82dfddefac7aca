//! `plan-guard check`: read the plan and the model, judge with what the living model
//! observed, record the decision, then render it.

use super::args::CheckArgs;
use super::progress::Progress;
use super::{actor_or_default, workspace_or_default};
use anyhow::{Context as _, Result};
use iom_store::Store;
use plan_guard::decide::model_source;
use plan_guard::decide::{CheckOptions, Observed, check_observed};
use plan_guard::evidence::identity::SshSigner;
use plan_guard::evidence::signing::Signer;
use plan_guard::evidence::workflow;
use plan_guard::plan::read_plan;
use plan_guard::render::{Format, Options as RenderOptions, render};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub(crate) fn run(args: CheckArgs) -> Result<u8> {
    if args.plan.len() > 1 {
        return super::check_set::run(args);
    }
    let CheckArgs {
        plan,
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
    let plan = plan.into_iter().next().context("no plan given")?;
    let actor = actor_or_default(actor)?;
    let workspace = workspace_or_default(at_most_one(workspace, "--workspace")?)?;
    require_existing_store(store.as_deref(), init_store)?;
    let source_dir = existing_source_dir(at_most_one(source_dir, "--source-dir")?)?
        .unwrap_or_else(|| default_source_dir(&plan));
    let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
    let ssh = sign_with.as_deref().map(SshSigner::from_file).transpose()?;
    let progress = Progress::for_plan(&plan);
    progress.say(|| "reading the plan".into());
    let raw = read_plan(&plan)?;
    progress.say(|| format!("parsing {:.1} MB", raw.text.len() as f64 / 1e6));
    let parsed = raw.parse()?;
    progress.say(|| format!("judging {} changes", parsed.resource_changes.len()));
    let loaded = model_source::load(model.as_deref(), store.as_deref())?;
    let targets = super::notify_targets(&notify, &loaded.model, &workspace)?;
    let opts = CheckOptions {
        workspace,
        actor,
        ungoverned,
        model_source: loaded.source,
        model_revision: loaded.revision,
        source_dir: Some(source_dir.clone()),
    };
    // What the living model observed is judged with the plan: drift, and readers
    // in other workspaces in the blast radius.
    let ledger = Store::open_configured(store.as_deref())?;
    let observed = observed_around(&ledger, &opts.workspace)?;
    let report = check_observed(&raw, &parsed, &loaded.model, &opts, &observed)?;
    progress.done();
    // Recorded before it is shown: a decision that is not in the ledger cannot be
    // applied, so an unrecordable one is an error, not a report.
    workflow::record_check(
        &ledger,
        signer.as_ref(),
        ssh.as_ref(),
        &report,
        &loaded.model,
        opts.ungoverned,
    )?;
    let locator = wants_sources(format, &also)
        .then(|| plan_guard::plan::sources::Locator::new(&source_dir, &parsed));
    let options = RenderOptions {
        color: false,
        junit_escalations,
        sources: locator.as_ref(),
    };
    write_reports(format, output.as_deref(), &also, |format, color| {
        render(&report, format, RenderOptions { color, ..options })
    })?;
    super::notify(
        &notify,
        &targets,
        plan_guard::notify::Notification::for_check(&report),
    );
    Ok(report.exit_code())
}

/// The one value of a flag given at most once with a single plan.
fn at_most_one<T>(values: Vec<T>, flag: &str) -> Result<Option<T>> {
    if values.len() > 1 {
        anyhow::bail!(
            "{flag} is given {} times for one plan: give it once per plan",
            values.len()
        );
    }
    Ok(values.into_iter().next())
}

/// Whether any report asked for is SARIF, which locates findings in the `.tf` files.
pub(super) fn wants_sources(format: Format, also: &[(Format, PathBuf)]) -> bool {
    format == Format::Sarif || also.iter().any(|(f, _)| *f == Format::Sarif)
}

/// Writes the report in `format` to `output` (standard output when `None`, in colour on
/// a terminal without NO_COLOR) and in every `--also` format to its file, each drawn by
/// `render(format, color)`.
pub(super) fn write_reports(
    format: Format,
    output: Option<&Path>,
    also: &[(Format, PathBuf)],
    render: impl Fn(Format, bool) -> String,
) -> Result<()> {
    let color = output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    for (extra, path) in also {
        std::fs::write(path, render(*extra, false))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let text = render(format, color);
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// `check --store URL` names a SQLite file that must exist unless `--init-store`: a typo
/// would otherwise start a new ledger in which no `apply` finds the decision.
pub(super) fn require_existing_store(store: Option<&str>, init_store: bool) -> Result<()> {
    let Some(url) = store.filter(|_| !init_store) else {
        return Ok(());
    };
    if let iom_store::StoreUrl::Sqlite(path) = iom_store::StoreUrl::parse(url)?
        && !path.exists()
    {
        anyhow::bail!(
            "store {url}: {} does not exist; pass --init-store to create a new store there",
            path.display()
        );
    }
    Ok(())
}

/// `--source-dir`, when given, must be a directory: a wrong one would silently lose
/// SARIF's locations and the contract inputs read from the configuration.
pub(super) fn existing_source_dir(dir: Option<PathBuf>) -> Result<Option<PathBuf>> {
    match dir {
        Some(d) if !d.is_dir() => {
            let what = if d.exists() {
                "not a directory"
            } else {
                "no such directory"
            };
            Err(anyhow::anyhow!("--source-dir {}: {what}", d.display()))
        }
        other => Ok(other),
    }
}

/// Where the workspace's `.tf` files are when `--source-dir` is not given: the current
/// directory if it has any (plan-guard run where Terraform ran), else the directory of
/// the plan file (`plan-guard check path/to/ws/plan.json`).
fn default_source_dir(plan: &str) -> PathBuf {
    let has_tf = |dir: &Path| {
        std::fs::read_dir(dir).into_iter().flatten().any(|e| {
            e.ok()
                .is_some_and(|e| e.path().extension().is_some_and(|x| x == "tf"))
        })
    };
    let here = PathBuf::from(".");
    if has_tf(&here) || plan == "-" {
        return here;
    }
    match Path::new(plan)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        Some(dir) if has_tf(dir) => dir.to_path_buf(),
        _ => here,
    }
}

/// What the store observed around `workspace`: its unreconciled drift, its latest
/// observation and every other workspace's.
pub(super) fn observed_around(ledger: &Store, workspace: &str) -> Result<Observed> {
    let drifted = match ledger.drift(workspace)? {
        Some(drift) => drifted_addresses(&drift).with_context(|| {
            format!(
                "store {}: the drift recorded for workspace {workspace:?} does not read",
                ledger.url()
            )
        })?,
        None => Vec::new(),
    };
    let this = latest_observation(ledger, workspace)?;
    let mut others = Vec::new();
    for w in ledger.observed_workspaces()? {
        if w != workspace
            && let Some(body) = latest_observation(ledger, &w)?
        {
            others.push((w, body));
        }
    }
    Ok(Observed {
        drifted,
        this,
        others,
        ..Observed::default()
    })
}

/// The latest observation of `workspace`, refused when its body is not an observation's.
pub(super) fn latest_observation(
    ledger: &Store,
    workspace: &str,
) -> Result<Option<serde_json::Value>> {
    let Some(observation) = ledger.latest_observation(workspace)? else {
        return Ok(None);
    };
    plan_guard::living::Observation::parse(&observation.body).with_context(|| {
        format!(
            "store {}: observation {workspace:?}#{} does not read as an observation",
            ledger.url(),
            observation.id
        )
    })?;
    Ok(Some(observation.body))
}

/// The addresses a drift record lists. A record without them is refused rather than read
/// as "nothing drifted", which would let a drifted workspace be judged as reconciled.
fn drifted_addresses(drift: &serde_json::Value) -> Result<Vec<String>> {
    let listed = drift
        .get("addresses")
        .and_then(|a| a.as_array())
        .context("no `addresses` list")?;
    listed
        .iter()
        .map(|a| {
            a.as_str()
                .map(String::from)
                .context("an address that is not text")
        })
        .collect()
}
