//! The `plan-guard` command line: parses arguments, runs the library, maps results to
//! exit codes (0 allow/warn, 2 block, 3 escalate, 1 error) and prints errors.

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use iom_model::Outcome;
use iom_store::Store;
use plan_guard::decide::{CheckOptions, check};
use plan_guard::graph::ChangeGraph;
use plan_guard::model_source;
use plan_guard::plan::read_plan;
use plan_guard::render::{
    Escalations, Format, GraphFormat, Options as RenderOptions, render, render_graph,
};
use plan_guard::signing::{Signer, Verifier};
use plan_guard::workflow;
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
        /// Also write the same report in another format: `FORMAT=FILE` (repeatable), e.g.
        /// `--also markdown=comment.md --also junit=junit.xml`. One check, one decision.
        #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_also)]
        also: Vec<(Format, PathBuf)>,
        /// The workspace's configuration, for SARIF's file and line of each resource.
        #[arg(long, value_name = "DIR", default_value = ".")]
        source_dir: PathBuf,
        /// In `--format junit`, report escalations as failures or as errors.
        #[arg(long, value_enum, default_value = "failure")]
        junit_escalations: Escalations,
        /// Sign the evidence record with this ed25519 private key (see `evidence keygen`).
        #[arg(long, value_name = "FILE", env = "IOM_SIGNING_KEY")]
        signing_key: Option<PathBuf>,
    },
    /// Approve an escalated decision, as an approver its profiles list.
    Approve {
        decision_id: String,
        /// Who approves [default: $USER_NAME, $GITHUB_ACTOR, $GITLAB_USER_LOGIN, then $USER].
        #[arg(long, value_name = "A")]
        actor: Option<String>,
        /// Why, for the record.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Model store URL [default: $IOM_STORE, else sqlite://.iom/model.db].
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        #[arg(long, value_name = "FILE", env = "IOM_SIGNING_KEY")]
        signing_key: Option<PathBuf>,
    },
    /// Run the apply command for a checked (and, when it escalates, approved) plan, then
    /// the governing contracts' post-verify probes.
    ///
    /// Exit codes: the command's own when it fails, 4 when a probe fails, 1 when refused.
    Apply {
        /// The saved plan the command applies; it must be the plan that was checked.
        #[arg(long, value_name = "PLANFILE")]
        plan: String,
        /// The decision to apply under [default: the latest check of this plan].
        #[arg(long, value_name = "ID")]
        decision: Option<String>,
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        /// Governance directory for the post-verify probes [default: the store's model].
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        #[arg(long, value_name = "FILE", env = "IOM_SIGNING_KEY")]
        signing_key: Option<PathBuf>,
        /// The apply command, e.g. `terraform apply tfplan`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Read and verify the evidence ledger.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
        #[arg(long, value_name = "URL", global = true)]
        store: Option<String>,
    },
    /// Record in the store what a workspace has built (resources, dependencies, outputs,
    /// attribute digests), keeping history.
    Observe {
        /// `terraform show -json` state output [default: runs `terraform show -json` here].
        state: Option<String>,
        /// Observe the prior state of this plan instead.
        #[arg(long, value_name = "PLAN", conflicts_with = "state")]
        from_plan: Option<String>,
        #[arg(long, value_name = "W")]
        workspace: Option<String>,
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
    /// Compare intended (model), built (last observation) and actual (a refresh-only plan).
    /// Drift on governed resources is recorded and holds every later check of the workspace
    /// at the profiles' `on_drift` until a new observation or `--accept`.
    ///
    /// Exit codes: 0 nothing governed drifted (or accepted), 3 governed drift recorded, 1 error.
    Reconcile {
        /// A refresh-only plan [default: runs `terraform plan -refresh-only` here].
        plan: Option<String>,
        #[arg(long, value_name = "W")]
        workspace: Option<String>,
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        /// Accept the drift found (recorded in the ledger with --reason) instead of holding checks.
        #[arg(long, requires = "reason")]
        accept: bool,
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        #[arg(long, value_name = "A")]
        actor: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Suggested refinements of the model, read from the evidence ledger.
    Insights {
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), generated from these definitions.
    Man,
    /// Print the dependency graph of a plan's resource instances.
    Graph {
        plan: String,
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
    },
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// One line per record, oldest first.
    List,
    /// Every record of one decision, as JSON.
    Show { decision_id: String },
    /// Check the hash chain (and signatures, given a public key); names the first bad record.
    Verify {
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
    /// Every record as JSON Lines, for auditors.
    Export {
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
    },
    /// Write a new ed25519 key pair for signing records.
    Keygen {
        #[arg(long, value_name = "FILE")]
        private_key: PathBuf,
        #[arg(long, value_name = "FILE")]
        public_key: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Jsonl,
}

fn parse_also(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = s.split_once('=').ok_or("expected FORMAT=FILE")?;
    let format = <Format as clap::ValueEnum>::from_str(format, true)?;
    Ok((format, PathBuf::from(file)))
}

fn parse_outcome(s: &str) -> Result<Outcome, String> {
    s.parse()
}

fn first_env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// Progress on stderr for large plans, only when stderr is a terminal (never in CI logs
/// or when piped), one line rewritten in place.
struct Progress {
    on: bool,
    start: std::time::Instant,
}

impl Progress {
    /// Plans above this size get progress lines.
    const LARGE: u64 = 20_000_000;

    fn for_plan(plan: &str) -> Progress {
        let large = std::fs::metadata(plan).is_ok_and(|m| m.len() >= Self::LARGE);
        Progress {
            on: large && std::io::stderr().is_terminal(),
            start: std::time::Instant::now(),
        }
    }

    fn say(&self, what: impl FnOnce() -> String) {
        if self.on {
            eprint!(
                "\r\x1b[2Kplan-guard: {} ({:.1}s)",
                what(),
                self.start.elapsed().as_secs_f64()
            );
        }
    }

    fn done(&self) {
        if self.on {
            eprint!("\r\x1b[2K");
        }
    }
}

fn workspace_or_default(w: Option<String>) -> String {
    w.or_else(|| first_env(&["TF_WORKSPACE", "WORKSPACE"]))
        .unwrap_or_else(|| "default".into())
}

/// Runs Terraform here (`$TERRAFORM_BINARY`, else `terraform`) and returns its stdout.
fn terraform_output(args: &[&str]) -> Result<String> {
    let binary = std::env::var("TERRAFORM_BINARY")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "terraform".into());
    let out = std::process::Command::new(&binary)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {binary}"))?;
    if !out.status.success() {
        anyhow::bail!(
            "{binary} {} failed: {}",
            args[0],
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn reconciliation_text(r: &plan_guard::living::Reconciliation, accepted: bool) -> String {
    let mut out = format!(
        "reconcile workspace {}
",
        r.workspace
    );
    let list = |label: &str, items: &[String], out: &mut String| {
        if !items.is_empty() {
            out.push_str(&format!(
                "  {label} ({}):
",
                items.len()
            ));
            for i in items {
                out.push_str(&format!(
                    "    {i}
"
                ));
            }
        }
    };
    list(
        if accepted {
            "drift accepted"
        } else {
            "DRIFT on governed resources, checks held until reconciled"
        },
        &r.drifted,
        &mut out,
    );
    list(
        "drift on ungoverned resources",
        &r.drifted_ungoverned,
        &mut out,
    );
    list("built but governed by no intent", &r.ungoverned, &mut out);
    list(
        "elements whose matches find nothing built",
        &r.unmatched_elements,
        &mut out,
    );
    if let Some(s) = &r.stale {
        out.push_str(&format!(
            "  stale: {s}
"
        ));
    }
    if r.drifted.is_empty() && r.drifted_ungoverned.is_empty() {
        out.push_str(
            "  no drift
",
        );
    }
    out
}

fn default_actor() -> String {
    first_env(&["USER_NAME", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"])
        .unwrap_or_else(|| "unknown".into())
}

fn evidence_command(store: &Store, command: EvidenceCommand) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    match command {
        EvidenceCommand::List => {
            for e in store.evidence()?.records {
                writeln!(out, "{}", workflow::list_line(&e))?;
            }
        }
        EvidenceCommand::Show { decision_id } => {
            let records: Vec<_> = store
                .evidence_for(&decision_id)?
                .iter()
                .map(workflow::record_json)
                .collect();
            if records.is_empty() {
                anyhow::bail!("no evidence of decision {decision_id} in {}", store.url());
            }
            writeln!(out, "{}", serde_json::to_string_pretty(&records)?)?;
        }
        EvidenceCommand::Verify { public_key } => {
            let verifier = public_key.as_deref().map(Verifier::from_file).transpose()?;
            let check = verifier
                .as_ref()
                .map(|v| move |hash: &str, sig: &str| v.verify(hash, sig));
            let check_ref = check.as_ref().map(|f| f as &dyn Fn(&str, &str) -> bool);
            let ledger = store.evidence()?;
            match ledger.verify(check_ref) {
                Ok(n) => {
                    let signed = if verifier.is_some() {
                        ", every signature good"
                    } else {
                        ""
                    };
                    writeln!(
                        out,
                        "ledger verified: {n} records, chain intact{signed} ({})",
                        store.url()
                    )?;
                }
                Err(e) => {
                    eprintln!("plan-guard: ledger broken at {e}");
                    return Ok(1);
                }
            }
        }
        EvidenceCommand::Export {
            format: ExportFormat::Jsonl,
        } => {
            for e in store.evidence()?.records {
                writeln!(out, "{}", workflow::record_json(&e))?;
            }
        }
        EvidenceCommand::Keygen {
            private_key,
            public_key,
        } => {
            plan_guard::signing::generate(&private_key, &public_key)?;
            writeln!(
                out,
                "wrote {} (keep it secret) and {}",
                private_key.display(),
                public_key.display()
            )?;
        }
    }
    Ok(0)
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
            also,
            source_dir,
            junit_escalations,
            signing_key,
        } => {
            let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
            let progress = Progress::for_plan(&plan);
            progress.say(|| "reading the plan".into());
            let raw = read_plan(&plan)?;
            progress.say(|| format!("parsing {:.1} MB", raw.text.len() as f64 / 1e6));
            let parsed = raw.parse()?;
            progress.say(|| format!("judging {} changes", parsed.resource_changes.len()));
            let loaded = model_source::load(model.as_deref(), store.as_deref())?;
            let opts = CheckOptions {
                workspace: workspace_or_default(workspace),
                actor: actor.unwrap_or_else(default_actor),
                ungoverned,
                model_source: loaded.source,
                model_revision: loaded.revision,
            };
            let mut report = check(&raw, &parsed, &loaded.model, &opts)?;
            progress.done();
            let ledger = Store::open_configured(store.as_deref())?;
            if let Some(drift) = ledger.drift(&report.workspace)? {
                let drifted: Vec<String> = drift["addresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().map(String::from))
                    .collect();
                plan_guard::living::add_drift_findings(&mut report, &loaded.model, &drifted);
            }
            // Other observed workspaces that read this one's state join the blast radius.
            let this = ledger
                .observations(&report.workspace)?
                .pop()
                .map(|o| o.body);
            let mut others = Vec::new();
            for w in ledger.observed_workspaces()? {
                if w != report.workspace
                    && let Some(o) = ledger.observations(&w)?.pop()
                {
                    others.push((w, o.body));
                }
            }
            plan_guard::living::add_cross_workspace(
                &mut report,
                &parsed,
                &loaded.model,
                this.as_ref(),
                &others,
            );
            // Recorded before it is shown: a decision that is not in the ledger cannot be
            // applied, so an unrecordable one is an error, not a report.
            workflow::record_check(&ledger, signer.as_ref(), &report, &loaded.model)?;
            let color = output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let wants_sources =
                format == Format::Sarif || also.iter().any(|(f, _)| *f == Format::Sarif);
            let locator =
                wants_sources.then(|| plan_guard::sources::Locator::new(&source_dir, &parsed));
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
            Ok(report.exit_code() as u8)
        }
        Command::Approve {
            decision_id,
            actor,
            reason,
            store,
            signing_key,
        } => {
            let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
            let store = Store::open_configured(store.as_deref())?;
            let actor = actor.unwrap_or_else(default_actor);
            let record = workflow::approve(&store, signer.as_ref(), &decision_id, &actor, &reason)?;
            println!(
                "approved {decision_id} by {actor} (evidence record {})",
                record.seq
            );
            Ok(0)
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
            let (check, _) = workflow::authorize(&ledger, &plan, decision.as_deref())?;
            let loaded = match model_source::load(model.as_deref(), store.as_deref()) {
                Ok(loaded) => loaded.model,
                // Without a model there are no contracts, so no probes; the apply itself
                // was authorised by the recorded decision.
                Err(e) if model.is_none() => {
                    eprintln!("plan-guard: no model for post-verify probes ({e:#}); running none");
                    iom_model::Model::empty()
                }
                Err(e) => return Err(e),
            };
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
        Command::Evidence { command, store } => {
            let store = Store::open_configured(store.as_deref())?;
            evidence_command(&store, command)
        }
        Command::Observe {
            state,
            from_plan,
            workspace,
            store,
        } => {
            let doc = match (state, from_plan) {
                (_, Some(plan)) => read_plan(&plan)?.text,
                (Some(state), None) => std::fs::read_to_string(&state)
                    .with_context(|| format!("cannot read {state}"))?,
                (None, None) => terraform_output(&["show", "-json"])?,
            };
            let here = std::env::current_dir()?;
            let body = plan_guard::living::observation_body(&doc, Some(&here))?;
            let workspace = workspace_or_default(workspace);
            let store = Store::open_configured(store.as_deref())?;
            let id =
                store.record_observation(&workspace, &plan_guard::ids::now_rfc3339(), &body)?;
            println!(
                "observed {} resources of workspace {workspace} (observation {id}, {})",
                body["resources"].as_array().map_or(0, Vec::len),
                store.url()
            );
            Ok(0)
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
            let workspace = workspace_or_default(workspace);
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
            let built = ledger.observations(&workspace)?.pop().map(|o| o.body);
            let found =
                plan_guard::living::reconcile(&workspace, &loaded.model, &refresh, built.as_ref());
            let now = plan_guard::ids::now_rfc3339();
            let actor = actor.unwrap_or_else(default_actor);
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
                    kind: "reconcile".into(),
                    decision_id: format!("reconcile-{workspace}-{now}"),
                    recorded_at: now,
                    plan_sha256: Some(raw.sha256().to_string()),
                    body: record,
                },
                None,
            )?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&found)?),
                _ => print!("{}", reconciliation_text(&found, accept)),
            }
            Ok(if held { 3 } else { 0 })
        }
        Command::Insights {
            model,
            store,
            format,
        } => {
            let loaded = model_source::load(model.as_deref(), store.as_deref())?;
            let ledger = Store::open_configured(store.as_deref())?.evidence()?;
            let found = plan_guard::insights::insights(
                &loaded.model,
                &ledger.records,
                iom_model::time::now_unix(),
            );
            let text = match format {
                Format::Json => serde_json::to_string_pretty(&found)? + "\n",
                Format::Markdown => plan_guard::insights::render_markdown(&found),
                _ => plan_guard::insights::render_text(&found),
            };
            std::io::stdout().write_all(text.as_bytes())?;
            Ok(0)
        }
        Command::Test { dir, model } => {
            let summary = plan_guard::govtest::run(&dir, model.as_deref())?;
            std::io::stdout().write_all(summary.text.as_bytes())?;
            Ok(u8::from(summary.failed > 0))
        }
        Command::Completions { shell } => {
            let mut cli = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cli, "plan-guard", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            let cli = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cli).render(&mut std::io::stdout())?;
            Ok(0)
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
