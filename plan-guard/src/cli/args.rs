//! The command-line arguments, declared once: they drive parsing, `--help`, the shell
//! completions and the man page.

use anyhow::Result;
use clap::{Parser, Subcommand};
use iom_model::Outcome;
use plan_guard::render::{Escalations, Format, GraphFormat};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "plan-guard",
    version,
    about = "Decide whether a Terraform or OpenTofu plan is legitimate before it is applied"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The largest plan read, e.g. `4GiB`, `500MB`, `1048576` (bytes); a larger one, or
    /// endless input on stdin, is refused before it fills memory [default: 4GiB].
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        env = "PLAN_GUARD_MAX_PLAN_BYTES",
        value_parser = plan_guard::plan::parse_size
    )]
    pub max_plan_bytes: Option<u64>,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// The workspace's configuration: SARIF's file and line of each resource, and
        /// contract inputs passed straight from a variable (`env = var.env`)
        /// [default: the current directory when it holds `.tf` files, else the plan's].
        #[arg(long, value_name = "DIR")]
        source_dir: Option<PathBuf>,
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
        /// The saved (binary) plan to apply: the plan that was checked, or whose
        /// `terraform show -json` rendering was. A JSON document is refused.
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
        /// The apply command, naming the plan file as one argument, e.g. `terraform
        /// apply -input=false tfplan`; it runs on plan-guard's private copy of the plan
        /// [default: `terraform apply -input=false` on that copy].
        #[arg(last = true, value_name = "COMMAND")]
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
        format: ReconcileFormat,
    },
    /// Suggested refinements of the model, read from the evidence ledger.
    Insights {
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: InsightsFormat,
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
pub enum EvidenceCommand {
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
pub enum ExportFormat {
    Jsonl,
}

/// What `reconcile` prints: a format it does not have is a usage error, not plain text.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReconcileFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InsightsFormat {
    Text,
    Json,
    Markdown,
}

fn parse_also(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = s.split_once('=').ok_or("expected FORMAT=FILE")?;
    let format = <Format as clap::ValueEnum>::from_str(format, true)?;
    Ok((format, PathBuf::from(file)))
}

fn parse_outcome(s: &str) -> Result<Outcome, String> {
    s.parse()
}
