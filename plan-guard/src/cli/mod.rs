//! Running the parsed command line: the dispatch, and what the commands share (the
//! defaults the CI systems provide, running Terraform here).

mod ledger;
mod living;
mod progress;

pub mod args;

use anyhow::{Context as _, Result};
use args::{Cli, Command, InsightsFormat, ReconcileFormat};
use iom_store::Store;
use ledger::evidence_command;
use living::reconciliation_text;
use plan_guard::decide::model_source;
use plan_guard::decide::{CheckOptions, Observed, check_observed};
use plan_guard::evidence::identity::SshSigner;
use plan_guard::evidence::signing::Signer;
use plan_guard::evidence::workflow;
use plan_guard::exit;
use plan_guard::graph::ChangeGraph;
use plan_guard::plan::copy::PlanCopy;
use plan_guard::plan::read_plan;
use plan_guard::render::{Format, Options as RenderOptions, render, render_graph};
use progress::Progress;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The first of these environment variables that is set and not empty.
pub(crate) fn first_env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// The workspace: given, else `$TF_WORKSPACE`, Atlantis's `$WORKSPACE`, then `default`.
/// An empty name is refused: it is what a CI variable that is not set expands to
/// (GitLab's `$CI_ENVIRONMENT_NAME` without `environment:`), and in a workspace no intent
/// scopes every change would be judged as ungoverned instead of by its governance.
pub(crate) fn workspace_or_default(w: Option<String>) -> Result<String> {
    match w {
        Some(w) if w.trim().is_empty() => Err(anyhow::anyhow!(
            "--workspace must not be empty (is the CI variable it names set?)"
        )),
        Some(w) => Ok(w),
        None => Ok(first_env(&["TF_WORKSPACE", "WORKSPACE"]).unwrap_or_else(|| "default".into())),
    }
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

/// Runs Terraform here (`$TERRAFORM_BINARY`, else `terraform`) and returns its stdout.
pub(crate) fn terraform_output(args: &[&str]) -> Result<String> {
    plan_guard::plan::terraform_output(args).map_err(anyhow::Error::msg)
}

/// The actor given, else Atlantis's `$USER_NAME`, GitHub's `$GITHUB_ACTOR`, GitLab's
/// `$GITLAB_USER_LOGIN`, then `$USER`. An empty name is refused: it would make every
/// approver "distinct" from the check's actor. With no name at all the record says
/// `unknown`, and standard error says why.
pub(crate) fn actor_or_default(actor: Option<String>) -> Result<String> {
    let actor = match actor {
        Some(a) if a.trim().is_empty() => return Err(anyhow::anyhow!("--actor must not be empty")),
        Some(a) => a,
        None => first_env(ACTOR_VARIABLES).unwrap_or_else(|| {
            eprintln!(
                "plan-guard: {}; recording the actor as `unknown`",
                no_actor()
            );
            "unknown".into()
        }),
    };
    one_line_actor(&actor)?;
    Ok(actor)
}

/// A line break in a recorded name would forge a line of `evidence list`.
fn one_line_actor(actor: &str) -> Result<()> {
    plan_guard::render::one_line("--actor", actor).map_err(anyhow::Error::msg)
}

/// A `--reason` for the record: one line, as [`actor_or_default`] requires of names.
pub(crate) fn one_line_reason(reason: &str) -> Result<()> {
    plan_guard::render::one_line("--reason", reason).map_err(anyhow::Error::msg)
}

/// Who approves: given or from the environment as for [`actor_or_default`], but never
/// `unknown`: an approval has to name the approver its profiles list.
fn approver(actor: Option<String>) -> Result<String> {
    match actor {
        None => {
            let actor =
                first_env(ACTOR_VARIABLES).ok_or_else(|| anyhow::anyhow!("{}", no_actor()))?;
            one_line_actor(&actor)?;
            Ok(actor)
        }
        given => actor_or_default(given),
    }
}

fn no_actor() -> String {
    format!(
        "no actor known: pass --actor NAME (none of ${} is set)",
        ACTOR_VARIABLES.join(", $")
    )
}

/// Where the CI systems (Atlantis, GitHub, GitLab) and a login shell name who is running.
const ACTOR_VARIABLES: &[&str] = &["USER_NAME", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"];

/// `check --store URL` names a SQLite file that must exist unless `--init-store`: a typo
/// would otherwise start a new ledger in which no `apply` finds the decision.
fn require_existing_store(store: Option<&str>, init_store: bool) -> Result<()> {
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
fn existing_source_dir(dir: Option<PathBuf>) -> Result<Option<PathBuf>> {
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
fn observed_around(ledger: &Store, workspace: &str) -> Result<Observed> {
    let drifted = match ledger.drift(workspace)? {
        Some(drift) => drift
            .get("addresses")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(String::from))
            .collect(),
        None => Vec::new(),
    };
    let this = ledger.latest_observation(workspace)?.map(|o| o.body);
    let mut others = Vec::new();
    for w in ledger.observed_workspaces()? {
        if w != workspace
            && let Some(o) = ledger.latest_observation(&w)?
        {
            others.push((w, o.body));
        }
    }
    Ok(Observed {
        drifted,
        this,
        others,
    })
}

/// Whether to go on with an approval: `--yes`, or "yes" typed at the terminal. Standard
/// input that is not a terminal, without `--yes`, is a refusal: no one was asked.
fn confirm(yes: bool, decision_id: &str, actor: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    let refused =
        |why: String| anyhow::anyhow!(workflow::Refused::new(workflow::Refusal::NotConfirmed, why));
    if !std::io::stdin().is_terminal() {
        return Err(refused(format!(
            "nothing approved: approve asks for confirmation, and standard input is not a terminal; pass --yes to approve {decision_id} without asking"
        )));
    }
    eprint!("\nApprove {decision_id} as {actor}? Type yes to approve: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" => Ok(()),
        _ => Err(refused(format!(
            "nothing approved: the answer was not yes ({decision_id})"
        ))),
    }
}

pub fn run(cli: Cli) -> Result<u8> {
    if let Some(limit) = cli.max_plan_bytes {
        plan_guard::plan::set_max_plan_bytes(limit);
    }
    if let Some(items) = cli.cel_budget {
        iom_model::budget::set_budget(items);
    }
    match cli.command {
        Command::Check {
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
        } => {
            let actor = actor_or_default(actor)?;
            let workspace = workspace_or_default(workspace)?;
            require_existing_store(store.as_deref(), init_store)?;
            let source_dir =
                existing_source_dir(source_dir)?.unwrap_or_else(|| default_source_dir(&plan));
            let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
            let ssh = sign_with.as_deref().map(SshSigner::from_file).transpose()?;
            let progress = Progress::for_plan(&plan);
            progress.say(|| "reading the plan".into());
            let raw = read_plan(&plan)?;
            progress.say(|| format!("parsing {:.1} MB", raw.text.len() as f64 / 1e6));
            let parsed = raw.parse()?;
            progress.say(|| format!("judging {} changes", parsed.resource_changes.len()));
            let loaded = model_source::load(model.as_deref(), store.as_deref())?;
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
            let color = output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let wants_sources =
                format == Format::Sarif || also.iter().any(|(f, _)| *f == Format::Sarif);
            let locator = wants_sources
                .then(|| plan_guard::plan::sources::Locator::new(&source_dir, &parsed));
            let options = RenderOptions {
                color,
                junit_escalations,
                sources: locator.as_ref(),
            };
            for (extra, path) in &also {
                let text = render(
                    &report,
                    *extra,
                    RenderOptions {
                        color: false,
                        ..options
                    },
                );
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            let text = render(&report, format, options);
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
            Ok(report.exit_code())
        }
        Command::Approve {
            decision_id,
            actor,
            reason,
            store,
            signing_key,
            sign_with,
            yes,
        } => {
            one_line_reason(&reason)?;
            let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
            let ssh = sign_with.as_deref().map(SshSigner::from_file).transpose()?;
            let actor = approver(actor)?;
            let store = Store::open_configured(store.as_deref())?;
            // The approver sees what they approve, from the ledger, before anything is
            // recorded.
            let check = workflow::check_of(&store, &decision_id)?;
            print!(
                "{}",
                plan_guard::render::render_approval_surface(&decision_id, &check.body)
            );
            // Nothing to confirm when no one could approve it (a block, an allow, a change
            // no profile stands behind): refused before asking.
            if let Err(why) = plan_guard::evidence::pending_approval(&check.body, &[]) {
                return Err(anyhow::anyhow!(workflow::Refused::new(
                    workflow::Refusal::MayNotApprove,
                    format!("{actor} cannot approve {decision_id}: {why}")
                )));
            }
            confirm(yes, &decision_id, &actor)?;
            let approved = workflow::approve(
                &store,
                signer.as_ref(),
                ssh.as_ref(),
                &decision_id,
                &actor,
                &reason,
            )?;
            println!(
                "approved {decision_id} by {actor} under profile {} (evidence record {})",
                approved.profiles.join(", "),
                approved.record.seq
            );
            if !approved.pending.is_empty() {
                println!("still to approve: {}", approved.pending);
            }
            Ok(exit::SUCCESS)
        }
        Command::Apply {
            plan,
            decision,
            store,
            model,
            signing_key,
            command,
        } => {
            let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
            let ledger = Store::open_configured(store.as_deref())?;
            let plan = PlanCopy::take(&plan)?;
            let workspace = current_workspace()?;
            let check = workflow::authorize(&ledger, &plan, decision.as_deref(), &workspace)?;
            // The decision's own model, for its contracts' post-verify probes.
            let loaded = workflow::model_for_apply(&check, model.as_deref(), store.as_deref())?;
            eprintln!("plan-guard: applying under decision {}", check.decision_id);
            let applied =
                workflow::apply(&ledger, signer.as_ref(), &plan, &check, &loaded, &command)?;
            for p in &applied.probes {
                let mark = if p.ok { "ok  " } else { "FAIL" };
                eprintln!(
                    "plan-guard: {mark} [contract:{} / {}] {}",
                    p.contract, p.probe, p.message
                );
            }
            Ok(applied.exit_code())
        }
        Command::Evidence { command, store } => evidence_command(store.as_deref(), command),
        Command::Observe {
            state,
            from_plan,
            workspace,
            store,
        } => {
            use plan_guard::living::ObservedFrom;
            let here = std::env::current_dir()?;
            let (doc, source, from) = match (state, from_plan) {
                (_, Some(plan)) => (read_plan(&plan)?.text, plan, ObservedFrom::Plan),
                (Some(state), None) => (
                    std::fs::read_to_string(&state)
                        .with_context(|| format!("cannot read {state}"))?,
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
            let body =
                plan_guard::living::observation_body(&doc, &source, from, Some(&here), None, &key)?;
            let id =
                store.record_observation(&workspace, &plan_guard::ids::now_rfc3339(), &body)?;
            println!(
                "observed {} resources of workspace {workspace} (observation {id}, {})",
                body.get("resources")
                    .and_then(|r| r.as_array())
                    .map_or(0, Vec::len),
                store.url()
            );
            Ok(exit::SUCCESS)
        }
        Command::Reconcile {
            plan,
            workspace,
            model,
            store,
            accept,
            reason,
            actor,
            format,
        } => {
            let workspace = workspace_or_default(workspace)?;
            if let Some(reason) = &reason {
                one_line_reason(reason)?;
            }
            let ledger = Store::open_configured(store.as_deref())?;
            let loaded = model_source::load(model.as_deref(), store.as_deref())?;
            let scratch = std::env::temp_dir()
                .join(format!("plan-guard-refresh-{}.tfplan", std::process::id()));
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
            let built = ledger.latest_observation(&workspace)?.map(|o| o.body);
            let found =
                plan_guard::living::reconcile(&workspace, &loaded.model, &refresh, built.as_ref());
            let now = plan_guard::ids::now_rfc3339();
            let actor = actor_or_default(actor)?;
            let held = !found.drifted.is_empty() && !accept;
            let record = serde_json::json!({
                "actor": actor,
                "accepted": accept,
                "reason": reason,
                "reconciliation": found,
            });
            if held {
                ledger.set_drift(
                    &workspace,
                    &now,
                    Some(&serde_json::json!({ "addresses": found.drifted })),
                )?;
            } else if accept {
                ledger.set_drift(&workspace, &now, None)?;
            }
            ledger.append_evidence(
                &iom_store::NewEvidence {
                    kind: plan_guard::evidence::records::Kind::Reconcile
                        .as_str()
                        .into(),
                    decision_id: format!("reconcile-{workspace}-{now}"),
                    recorded_at: now,
                    plan_sha256: Some(raw.sha256().to_string()),
                    body: record,
                },
                None,
            )?;
            match format {
                ReconcileFormat::Json => println!("{}", serde_json::to_string_pretty(&found)?),
                ReconcileFormat::Text => print!("{}", reconciliation_text(&found, accept)),
            }
            Ok(if held { exit::ESCALATE } else { exit::SUCCESS })
        }
        Command::Insights {
            model,
            store,
            format,
        } => {
            // Read only: a store that does not exist is an error, not a new empty one.
            let ledger = Store::open_configured_existing(store.as_deref())?.evidence()?;
            let loaded = model_source::load(model.as_deref(), store.as_deref())?;
            let found = plan_guard::living::insights::insights(
                &loaded.model,
                &ledger.records,
                iom_model::time::now_unix(),
            );
            let text = match format {
                InsightsFormat::Json => serde_json::to_string_pretty(&found)? + "\n",
                InsightsFormat::Markdown => plan_guard::living::insights::render_markdown(&found),
                InsightsFormat::Text => plan_guard::living::insights::render_text(&found),
            };
            std::io::stdout().write_all(text.as_bytes())?;
            Ok(exit::SUCCESS)
        }
        Command::Test { dir, model } => {
            let summary = plan_guard::decide::govtest::run(&dir, model.as_deref())?;
            std::io::stdout().write_all(summary.text.as_bytes())?;
            Ok(if summary.failed > 0 {
                exit::ERROR
            } else {
                exit::SUCCESS
            })
        }
        Command::Completions { shell } => {
            let mut cli = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cli, "plan-guard", &mut std::io::stdout());
            Ok(exit::SUCCESS)
        }
        Command::Man { command, dir } => {
            man(&command, dir.as_deref())?;
            Ok(exit::SUCCESS)
        }
        Command::Graph { plan, format } => {
            let raw = read_plan(&plan)?;
            let parsed = raw.parse()?;
            let graph = ChangeGraph::build(&parsed);
            std::io::stdout().write_all(render_graph(&graph, format).as_bytes())?;
            Ok(exit::SUCCESS)
        }
    }
}

/// `plan-guard man`: the page of the command named by `path` (the top page when empty) on
/// standard output, or every page into `dir`. The top page lists its commands as
/// `plan-guard-check(1)` and so on; these are those pages.
fn man(path: &[String], dir: Option<&Path>) -> Result<()> {
    let mut top = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    // Building names every subcommand `plan-guard-check`, `plan-guard-evidence-verify`, …
    top.build();
    let page = |cmd: clap::Command| {
        clap_mangen::Man::new(cmd).source(format!("plan-guard {}", env!("CARGO_PKG_VERSION")))
    };
    if let Some(dir) = dir {
        anyhow::ensure!(dir.is_dir(), "{}: no such directory", dir.display());
        let mut pending = vec![top];
        while let Some(cmd) = pending.pop() {
            pending.extend(cmd.get_subcommands().cloned());
            let file = page(cmd)
                .generate_to(dir)
                .with_context(|| format!("writing a manual page into {}", dir.display()))?;
            println!("{}", file.display());
        }
        return Ok(());
    }
    let mut cmd = top;
    let mut within = String::from("plan-guard");
    for name in path {
        let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        let Some(sub) = cmd.find_subcommand(name) else {
            anyhow::bail!(
                "`{within}` has no command `{name}`{}",
                if names.is_empty() {
                    String::new()
                } else {
                    format!("; its commands are {}", names.join(", "))
                }
            );
        };
        cmd = sub.clone();
        within = format!("{within} {name}");
    }
    page(cmd).render(&mut std::io::stdout())?;
    Ok(())
}
