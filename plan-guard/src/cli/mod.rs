//! Running the parsed command line: the dispatch, and what the commands share (the
//! defaults the CI systems provide, running Terraform here).

mod apply;
mod approve;
mod check;
mod check_set;
mod insights;
mod ledger;
mod living;
mod observe;
mod progress;
mod reconcile;

pub mod args;

use anyhow::{Context as _, Result};
use args::{Cli, Command};
use ledger::evidence_command;
use plan_guard::exit;
use plan_guard::graph::ChangeGraph;
use plan_guard::plan::read_plan;
use plan_guard::render::render_graph;
use std::io::Write;
use std::path::Path;

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

/// Where this command may notify in `workspace`: every `--notify` URL and every
/// `iom_notification` of `model` covering it, resolved now (an unset `url_env` is an
/// error before anything is judged or applied, not a silent gap after).
pub(crate) fn notify_targets(
    args: &args::NotifyArgs,
    model: &iom_model::Model,
    workspace: &str,
) -> Result<plan_guard::notify::Targets> {
    plan_guard::notify::Targets::resolve(&args.urls, model, workspace).map_err(anyhow::Error::msg)
}

/// Sends the notification, if there is one, to every target its event goes to; what
/// could not be sent is said on standard error and changes nothing else.
pub(crate) fn notify(
    args: &args::NotifyArgs,
    targets: &plan_guard::notify::Targets,
    notification: Option<plan_guard::notify::Notification>,
) {
    let Some(notification) = notification.filter(|_| !targets.is_empty()) else {
        return;
    };
    let timeout = std::time::Duration::from_millis(args.notify_timeout_ms);
    for failure in plan_guard::notify::send(targets, timeout, &notification) {
        eprintln!("plan-guard: {failure}");
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

fn no_actor() -> String {
    format!(
        "no actor known: pass --actor NAME (none of ${} is set)",
        ACTOR_VARIABLES.join(", $")
    )
}

/// Where the CI systems (Atlantis, GitHub, GitLab) and a login shell name who is running.
const ACTOR_VARIABLES: &[&str] = &["USER_NAME", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"];

pub fn run(cli: Cli) -> Result<u8> {
    if let Some(limit) = cli.max_plan_bytes {
        plan_guard::plan::set_max_plan_bytes(limit);
    }
    if let Some(items) = cli.cel_budget {
        iom_model::budget::set_budget(items);
    }
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Approve(args) => approve::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Evidence { command, store } => evidence_command(store.as_deref(), command),
        Command::Observe(args) => observe::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Insights(args) => insights::run(args),
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
