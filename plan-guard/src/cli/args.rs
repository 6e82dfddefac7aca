//! The command-line arguments, declared once: they drive parsing, `--help`, the shell
//! completions and the man page.

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
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
    /// The list and map items one evaluation of a CEL condition (a rule on one change, a
    /// post-verify `state` condition) may visit; a rule that needs more fails with its
    /// own outcome, naming itself [default: 10000000].
    #[arg(
        long,
        global = true,
        value_name = "ITEMS",
        env = "PLAN_GUARD_CEL_BUDGET"
    )]
    pub cel_budget: Option<u64>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Judge every change of a plan against the governance model.
    ///
    /// Every check records its decision in the evidence ledger of the store (--store,
    /// else $IOM_STORE, else sqlite://.iom/model.db), also when the model comes from
    /// --model, before the report is printed.
    ///
    /// Exit codes: 0 allow or warn, 2 block, 3 escalate, 1 error.
    #[command(after_help = "Example:\n  \
        terraform plan -out=tfplan\n  \
        plan-guard check tfplan --model governance --workspace payments-prod --also junit=junit.xml")]
    Check(CheckArgs),
    /// Approve an escalated decision, as an approver its profiles list.
    ///
    /// Shows the decision first, as the ledger recorded it: each escalated or blocked
    /// change with its findings, blast radius, accountable owners and who may approve it,
    /// and the contract of every governed module call. On a terminal it then asks for
    /// confirmation; elsewhere (scripts, CI) it approves only with --yes.
    #[command(after_help = "Example:\n  \
        plan-guard approve \"$(jq -r .decision_id decision.json)\" --actor alice --reason CHG-42\n  \
        plan-guard approve pg-6b05f3a2-ee93217c7729 --actor alice --reason CHG-42 --yes")]
    Approve(ApproveArgs),
    /// Run the apply command for a checked (and, when it escalates, approved) plan, then
    /// the governing contracts' post-verify probes.
    ///
    /// Exit codes: the command's own when it fails, 4 when a probe fails, 1 when refused.
    #[command(after_help = "Example:\n  \
        plan-guard apply --plan tfplan -- terraform apply tfplan")]
    Apply(ApplyArgs),
    /// Read and verify the evidence ledger.
    #[command(after_help = "Example:\n  \
        plan-guard evidence verify --store sqlite://.iom/model.db")]
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
        /// Model store URL whose ledger is read; it must exist
        /// [default: $IOM_STORE, else sqlite://.iom/model.db].
        #[arg(long, value_name = "URL", global = true)]
        store: Option<String>,
    },
    /// Record in the store what a workspace has built (resources, dependencies, outputs,
    /// attribute digests), keeping history.
    #[command(after_help = "Example:\n  \
        (cd network && plan-guard observe --workspace network)")]
    Observe(ObserveArgs),
    /// Compare intended (model), built (last observation) and actual (a refresh-only plan).
    /// Drift on governed resources is recorded and holds every later check of the workspace
    /// at the profiles' `on_drift` until a new observation or `--accept`.
    ///
    /// Exit codes: 0 nothing governed drifted (or accepted), 3 governed drift recorded, 1 error.
    #[command(after_help = "Example:\n  \
        plan-guard reconcile --workspace payments\n  \
        plan-guard reconcile --workspace payments --accept --reason \"CHG-7 hotfix\"")]
    Reconcile(ReconcileArgs),
    /// Suggested refinements of the model, read from the evidence ledger.
    #[command(after_help = "Example:\n  \
        plan-guard insights --format markdown > insights.md")]
    Insights(InsightsArgs),
    /// Run governance unit tests: every `*.iomtest.hcl` file under DIR.
    ///
    /// Exit codes: 0 every test passed, 1 a test failed or could not run.
    #[command(after_help = "Example:\n  \
        plan-guard test examples/governance/tests")]
    Test {
        /// The directory searched (recursively) for `*.iomtest.hcl` files.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The governance directory, instead of each file's `model` (a test with its own
        /// `governance` keeps it).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Example:\n  \
        plan-guard completions bash > /etc/bash_completion.d/plan-guard")]
    Completions {
        /// The shell the script is for.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of plan-guard or of one of its commands, generated
    /// from these definitions; or write every page into a directory.
    #[command(after_help = "Example:\n  \
        plan-guard man check | man -l -\n  \
        plan-guard man --dir /usr/local/share/man/man1")]
    Man {
        /// The command whose page to print, e.g. `check` or `evidence verify`
        /// [default: the top page].
        #[arg(value_name = "COMMAND", conflicts_with = "dir")]
        command: Vec<String>,
        /// Write every page (plan-guard.1, plan-guard-check.1, …) into this existing
        /// directory instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the dependency graph of a plan's resource instances.
    #[command(after_help = "Example:\n  \
        plan-guard graph plan.json --format dot | dot -Tsvg > graph.svg")]
    Graph {
        /// `terraform show -json` output, `-` for stdin, or a binary plan file.
        plan: String,
        /// The graph's format.
        #[arg(
            long,
            default_value = "dot",
            value_parser = Named::new(&GraphFormat::ALL, GraphFormat::name)
        )]
        format: GraphFormat,
    },
}

/// The arguments of `plan-guard check`.
#[derive(Args)]
pub struct CheckArgs {
    /// `terraform show -json` output, `-` for stdin, or a binary plan file. Several plans
    /// (one per workspace) are judged as one set: one decision, a report section per plan.
    #[arg(required = true, num_args = 1.., value_name = "PLAN")]
    pub plan: Vec<String>,
    /// Read the governance objects from the .tf files of this directory.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Model store URL (sqlite://PATH or postgres://…): the model when --model is not
    /// given, and the ledger every check records to; a SQLite file given here must
    /// exist unless --init-store [default: $IOM_STORE, else sqlite://.iom/model.db].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Create the SQLite store --store names when it does not exist yet (without it, a
    /// mistyped --store is refused rather than starting a ledger no apply reads).
    #[arg(long)]
    pub init_store: bool,
    /// Workspace name [default: $TF_WORKSPACE, then $WORKSPACE, then `default`]. With
    /// several plans: once per plan, in plan order [default: each plan file's name
    /// without its extension].
    #[arg(long, value_name = "W")]
    pub workspace: Vec<String>,
    /// Who runs the check [default: $USER_NAME, $GITHUB_ACTOR, $GITLAB_USER_LOGIN, then $USER].
    #[arg(long, value_name = "A")]
    pub actor: Option<String>,
    /// The report's format (colour in text only on a terminal without NO_COLOR).
    #[arg(long, default_value = "text", value_parser = Named::new(&Format::ALL, Format::name))]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Outcome for changes no intent governs.
    #[arg(
        long,
        value_name = "OUTCOME",
        default_value = "escalate",
        value_parser = Named::new(&Outcome::ALL, Outcome::as_str)
    )]
    pub ungoverned: Outcome,
    /// Also write the same report in another format: `FORMAT=FILE` (repeatable), e.g.
    /// `--also markdown=comment.md --also junit=junit.xml`. One check, one decision.
    /// FORMAT is one of text, json, markdown, junit, html, sarif.
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_also)]
    pub also: Vec<(Format, PathBuf)>,
    /// The workspace's configuration: SARIF's file and line of each resource, and
    /// contract inputs passed straight from a variable (`env = var.env`)
    /// [default: the current directory when it holds `.tf` files, else the plan's]. With
    /// several plans: once per plan, in plan order [default: each plan's directory when it
    /// holds `.tf` files, else the current directory].
    #[arg(long, value_name = "DIR")]
    pub source_dir: Vec<PathBuf>,
    /// In `--format junit`, report escalations as failures or as errors.
    #[arg(
        long,
        default_value = "failure",
        value_parser = Named::new(&Escalations::ALL, Escalations::name)
    )]
    pub junit_escalations: Escalations,
    /// Sign the evidence record with this ed25519 private key (see `evidence keygen`).
    #[arg(long, value_name = "FILE", env = "IOM_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// Prove who runs the check: sign its record with this OpenSSH ed25519 private key
    /// (the CI identity's), which a profile's `approver_keys` binds to --actor.
    #[arg(long, value_name = "FILE", env = "IOM_CHECK_SSH_KEY")]
    pub sign_with: Option<PathBuf>,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// `--notify`, shared by the commands that can need a person: check (escalate, block),
/// reconcile (drift), apply (a failed post-verify).
#[derive(Args)]
pub struct NotifyArgs {
    /// POST a JSON notification (a Slack-compatible `text` and the decision's structure,
    /// never a value) to this webhook on escalate, block, drift or a failed post-verify
    /// (repeatable). Each URL gets 3 attempts with backoff; a failure is reported on
    /// standard error and never changes the verdict or the exit code.
    #[arg(long = "notify", value_name = "URL", value_parser = plan_guard::notify::parse_url)]
    pub urls: Vec<String>,
    /// How long one attempt to notify may take, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub notify_timeout_ms: u64,
}

/// The arguments of `plan-guard approve`.
#[derive(Args)]
pub struct ApproveArgs {
    /// The decision to approve: `decision_id` of the check's JSON report, or of
    /// `plan-guard evidence list`.
    #[arg(value_name = "DECISION_ID")]
    pub decision_id: String,
    /// Who approves [default: $USER_NAME, $GITHUB_ACTOR, $GITLAB_USER_LOGIN, then $USER].
    #[arg(long, value_name = "A")]
    pub actor: Option<String>,
    /// Why, for the record.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Model store URL: the ledger holding the decision
    /// [default: $IOM_STORE, else sqlite://.iom/model.db].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Sign the approval record with this ed25519 private key (see `evidence keygen`).
    #[arg(long, value_name = "FILE", env = "IOM_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// Prove who approves: sign the approval with this OpenSSH ed25519 private key
    /// (e.g. ~/.ssh/id_ed25519; SSHSIG, namespace iom-approval). Required when a
    /// profile binds a key to --actor (`approver_keys`).
    #[arg(long, value_name = "FILE")]
    pub sign_with: Option<PathBuf>,
    /// Approve without asking (still shows the decision). Without it, approve asks on
    /// a terminal and refuses when standard input is not one.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// The arguments of `plan-guard apply`.
#[derive(Args)]
pub struct ApplyArgs {
    /// The saved (binary) plan to apply: the plan that was checked, or whose
    /// `terraform show -json` rendering was. A JSON document is refused.
    #[arg(long, value_name = "PLANFILE")]
    pub plan: String,
    /// The decision to apply under [default: the latest check of this plan].
    #[arg(long, value_name = "ID")]
    pub decision: Option<String>,
    /// Model store URL: the ledger holding the check; the same store the check used
    /// [default: $IOM_STORE, else sqlite://.iom/model.db].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Governance directory for the post-verify probes; the same --model the check
    /// used [default: the store's model].
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Sign the apply records with this ed25519 private key (see `evidence keygen`).
    #[arg(long, value_name = "FILE", env = "IOM_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// The apply command, naming the plan file as one argument, e.g. `terraform
    /// apply -input=false tfplan`; it runs on plan-guard's private copy of the plan
    /// [default: `terraform apply -input=false` on that copy].
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// The arguments of `plan-guard observe`.
#[derive(Args)]
pub struct ObserveArgs {
    /// `terraform show -json` state output [default: runs `terraform show -json` here].
    pub state: Option<String>,
    /// Observe the prior state of this plan instead.
    #[arg(long, value_name = "PLAN", conflicts_with = "state")]
    pub from_plan: Option<String>,
    /// Workspace name [default: $TF_WORKSPACE, then $WORKSPACE, then `default`].
    #[arg(long, value_name = "W")]
    pub workspace: Option<String>,
    /// Model store URL the observation is recorded in
    /// [default: $IOM_STORE, else sqlite://.iom/model.db].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

/// The arguments of `plan-guard reconcile`.
#[derive(Args)]
pub struct ReconcileArgs {
    /// A refresh-only plan [default: runs `terraform plan -refresh-only` here].
    pub plan: Option<String>,
    /// Workspace name [default: $TF_WORKSPACE, then $WORKSPACE, then `default`].
    #[arg(long, value_name = "W")]
    pub workspace: Option<String>,
    /// Read the governance objects from the .tf files of this directory
    /// [default: the store's model].
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Model store URL: the model when --model is not given, the observations, and the
    /// ledger drift is recorded in [default: $IOM_STORE, else sqlite://.iom/model.db].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Accept the drift found (recorded in the ledger with --reason) instead of holding checks.
    #[arg(long, requires = "reason")]
    pub accept: bool,
    /// Why the drift is accepted, for the record (with --accept).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Who accepts [default: $USER_NAME, $GITHUB_ACTOR, $GITLAB_USER_LOGIN, then $USER].
    #[arg(long, value_name = "A")]
    pub actor: Option<String>,
    /// What to print.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReconcileFormat,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// The arguments of `plan-guard insights`.
#[derive(Args)]
pub struct InsightsArgs {
    /// Read the governance objects from the .tf files of this directory
    /// [default: the store's model].
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Model store URL whose ledger is read; it must exist
    /// [default: $IOM_STORE, else sqlite://.iom/model.db].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// What to print.
    #[arg(long, value_enum, default_value = "text")]
    pub format: InsightsFormat,
}

#[derive(Subcommand)]
pub enum EvidenceCommand {
    /// One line per record, oldest first.
    #[command(after_help = "Example:\n  plan-guard evidence list")]
    List,
    /// Every record of one decision, as JSON.
    #[command(after_help = "Example:\n  plan-guard evidence show pg-6b05f3a2-ee93217c7729")]
    Show {
        /// The decision whose records to show (as `evidence list` prints it).
        #[arg(value_name = "DECISION_ID")]
        decision_id: String,
    },
    /// Check the hash chain (and signatures, given a public key); names the first bad record.
    ///
    /// With --checkpoint, the ledger must also still hold the head each checkpoint signed:
    /// cutting the newest records and moving the head back is found.
    #[command(
        after_help = "Example:\n  plan-guard evidence verify --public-key ledger.pub --checkpoint checkpoints/latest.json"
    )]
    Verify {
        /// Also check every record's signature with this ed25519 public key.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// A checkpoint `evidence checkpoint` wrote (repeatable); needs --public-key.
        #[arg(long, value_name = "FILE", requires = "public_key")]
        checkpoint: Vec<PathBuf>,
    },
    /// Write the signed head of the ledger (sequence number, hash, time) to keep outside
    /// the store: a CI job commits or uploads each one, and `evidence verify --checkpoint`
    /// later proves the ledger was not cut back or rewritten up to it.
    #[command(
        after_help = "Example:\n  plan-guard evidence checkpoint --signing-key ledger.key --output checkpoints/$(date -u +%Y%m%dT%H%M%SZ).json"
    )]
    Checkpoint {
        /// The ledger's ed25519 private key (see `evidence keygen`).
        #[arg(long, value_name = "FILE", env = "IOM_SIGNING_KEY")]
        signing_key: PathBuf,
        /// Where to write the checkpoint (an existing file is replaced).
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Every record as JSON Lines, for auditors.
    #[command(after_help = "Example:\n  plan-guard evidence export > ledger.jsonl")]
    Export {
        /// The export's format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
    },
    /// Write a new ed25519 key pair for signing records.
    #[command(
        after_help = "Example:\n  plan-guard evidence keygen --private-key ledger.key --public-key ledger.pub"
    )]
    Keygen {
        /// Where the private key goes (pass it to --signing-key; keep it secret).
        #[arg(long, value_name = "FILE")]
        private_key: PathBuf,
        /// Where the public key goes (pass it to `evidence verify --public-key`).
        #[arg(long, value_name = "FILE")]
        public_key: PathBuf,
    },
    /// Print an allowed_signers file for `ssh-keygen -Y verify`: every name the model's
    /// profiles bind a key to (`approver_keys`), for the namespaces iom-approval and iom-check.
    #[command(
        after_help = "Example:\n  plan-guard evidence allowed-signers --model governance > allowed_signers"
    )]
    AllowedSigners {
        /// Read the profiles from the .tf files of this directory [default: the store's model].
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
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
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InsightsFormat {
    Text,
    Json,
    Markdown,
}

/// The formats `--format` takes, for messages.
fn format_names() -> String {
    Format::ALL.map(Format::name).join(", ")
}

fn parse_also(s: &str) -> Result<(Format, PathBuf), String> {
    let (name, file) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE, FORMAT one of {}", format_names()))?;
    let format = Format::ALL
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("no format `{name}`: FORMAT is one of {}", format_names()))?;
    if file.is_empty() {
        return Err(format!("no file after `{name}=`"));
    }
    Ok((format, PathBuf::from(file)))
}

/// One of a closed set of named values the library defines (outcomes, formats): listed
/// in help, completions and the error for an unknown name, as `value_enum` lists them.
/// The library does not depend on clap, so its enums cannot derive `ValueEnum`.
#[derive(Clone)]
struct Named<T: 'static> {
    all: &'static [T],
    name: fn(T) -> &'static str,
}

impl<T: Copy> Named<T> {
    fn new(all: &'static [T], name: fn(T) -> &'static str) -> Self {
        Named { all, name }
    }
}

impl<T: Copy + Send + Sync + 'static> clap::builder::TypedValueParser for Named<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let names: Vec<&'static str> = self.all.iter().map(|v| (self.name)(*v)).collect();
        // The standard parser gives the standard error, with the names and a suggestion.
        let given = clap::builder::PossibleValuesParser::new(names).parse_ref(cmd, arg, value)?;
        self.all
            .iter()
            .copied()
            .find(|v| (self.name)(*v) == given)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.all
                .iter()
                .map(|v| clap::builder::PossibleValue::new((self.name)(*v))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command, its path from the top (`evidence verify`), depth first.
    fn commands(cmd: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
        for sub in cmd.get_subcommands() {
            let path = format!("{path} {}", sub.get_name()).trim().to_string();
            commands(sub, path.clone(), out);
            out.push((path, sub.clone()));
        }
    }

    /// Every option and argument of every command says what it is for, and every command
    /// says what it does and shows an example: `--help` answers without the docs.
    #[test]
    fn every_command_and_argument_has_help() {
        let mut top = Cli::command().disable_help_subcommand(true);
        top.build();
        let mut all = Vec::new();
        commands(&top, String::new(), &mut all);
        assert!(all.len() >= 16, "{} commands", all.len());
        let mut missing = Vec::new();
        for arg in top.get_arguments() {
            if arg.get_help().is_none() && !matches!(arg.get_id().as_str(), "help" | "version") {
                missing.push(format!("plan-guard {}", arg.get_id()));
            }
        }
        for (path, cmd) in &all {
            if cmd.get_about().is_none() {
                missing.push(format!("{path}: no description"));
            }
            let example = cmd.get_after_help().map(|h| h.to_string());
            let shows_it =
                |h: &String| h.starts_with("Example:") && h.contains(&format!("plan-guard {path}"));
            if !example.as_ref().is_some_and(shows_it) {
                missing.push(format!("{path}: no example"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.get_help().is_none() && id != "help" && !arg.is_global_set() {
                    missing.push(format!("{path} {id}"));
                }
            }
        }
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }

    /// `--ungoverned` lists the outcomes it takes, in help and in completions.
    #[test]
    fn ungoverned_lists_its_values() {
        let cmd = Cli::command();
        let check = cmd.find_subcommand("check").unwrap();
        let arg = check
            .get_arguments()
            .find(|a| a.get_id() == "ungoverned")
            .unwrap();
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(values, ["allow", "warn", "escalate", "block"]);
    }
}
