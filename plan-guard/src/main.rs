//! The `plan-guard` command line: parses arguments, runs the library, maps results to
//! exit codes (0 allow/warn, 2 block, 3 escalate, 1 error) and prints errors.

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use iom_model::Outcome;
use plan_guard::decide::{CheckOptions, check};
use plan_guard::graph::ChangeGraph;
use plan_guard::model_source;
use plan_guard::plan::read_plan;
use plan_guard::render::{Format, GraphFormat, render, render_graph};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "plan-guard",
    version,
    about = "Decide whether a Terraform or OpenTofu plan is legitimate before it is applied"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Judge every change of a plan against the governance model.
    ///
    /// Exit codes: 0 allow or warn, 2 block, 3 escalate, 1 error.
    Check {
        /// `terraform show -json` output, `-` for stdin, or a binary plan file.
        plan: String,
        /// Read the governance objects from the .tf files of this directory.
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Model store URL: the model when --model is not given
        /// [default: $IOM_STORE, else sqlite://.iom/model.db].
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        /// Workspace name [default: $TF_WORKSPACE, then $WORKSPACE, then `default`].
        #[arg(long, value_name = "W")]
        workspace: Option<String>,
        /// Who runs the check [default: $USER_NAME, $GITHUB_ACTOR, $GITLAB_USER_LOGIN, then $USER].
        #[arg(long, value_name = "A")]
        actor: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Write the report here instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Outcome for changes no intent governs.
        #[arg(long, value_name = "OUTCOME", default_value = "escalate", value_parser = parse_outcome)]
        ungoverned: Outcome,
    },
    /// Run governance unit tests: every `*.iomtest.hcl` file under DIR.
    ///
    /// Exit codes: 0 every test passed, 1 a test failed or could not run.
    Test {
        dir: PathBuf,
        /// The governance directory, instead of each file's `model`.
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
    },
    /// Print the dependency graph of a plan's resource instances.
    Graph {
        plan: String,
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
    },
}

fn parse_outcome(s: &str) -> Result<Outcome, String> {
    s.parse()
}

fn first_env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("plan-guard: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Check {
            plan,
            model,
            store,
            workspace,
            actor,
            format,
            output,
            ungoverned,
        } => {
            let raw = read_plan(&plan)?;
            let parsed = raw.parse()?;
            let loaded = model_source::load(model.as_deref(), store.as_deref())?;
            let opts = CheckOptions {
                workspace: workspace
                    .or_else(|| first_env(&["TF_WORKSPACE", "WORKSPACE"]))
                    .unwrap_or_else(|| "default".into()),
                actor: actor
                    .or_else(|| {
                        first_env(&["USER_NAME", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"])
                    })
                    .unwrap_or_else(|| "unknown".into()),
                ungoverned,
                model_source: loaded.source,
                model_revision: loaded.revision,
            };
            let report = check(&raw, &parsed, &loaded.model, &opts)?;
            let color = output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let text = render(&report, format, color);
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
            Ok(report.exit_code() as u8)
        }
        Command::Test { dir, model } => {
            let summary = plan_guard::govtest::run(&dir, model.as_deref())?;
            std::io::stdout().write_all(summary.text.as_bytes())?;
            Ok(u8::from(summary.failed > 0))
        }
        Command::Graph { plan, format } => {
            let raw = read_plan(&plan)?;
            let parsed = raw.parse()?;
            let graph = ChangeGraph::build(&parsed);
            std::io::stdout().write_all(render_graph(&graph, format).as_bytes())?;
            Ok(0)
        }
    }
}
