//! `plan-guard test DIR`: governance unit tests. Every `*.iomtest.hcl` file under DIR holds
//! `test "NAME"` blocks, each a plan and what the governance must decide about it:
//!
//! ```hcl
//! model = "../"                     # the governance directory, relative to this file
//!
//! test "a critical database escalates" {
//!   terraform_dir = "../../workspace" # planned with the real Terraform, in a scratch copy
//!   vars          = { enable_ledger_db = true }
//!   # plan      = "plans/escalate.json" (a `show -json` file or a binary plan) instead
//!   workspace     = "payments-prod"
//!   verdict       = "escalate"
//!   changes = {
//!     "module.payments.terraform_data.ledger_db[0]" = "escalate"
//!   }
//!   findings = {
//!     "module.payments.terraform_data.ledger_db[0]" = ["escalate intent:payments-prod/critical"]
//!   }
//! }
//! ```
//!
//! A test may carry its own `governance` (HCL text) instead of the file's model, to try a
//! rule on its own. Each case runs the same decision core as `check`; what it expects is
//! in [`expect`], and a case that expects nothing is an error, not a pass.

mod expect;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, anyhow, bail};
use iom_model::{Model, Outcome};
use serde::Deserialize;

use crate::decide::{CheckOptions, check};
use crate::plan::read_plan;
use expect::Expectations;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    model: Option<String>,
    #[serde(default)]
    test: BTreeMap<String, TestCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestCase {
    plan: Option<String>,
    terraform_dir: Option<String>,
    #[serde(default)]
    vars: BTreeMap<String, serde_json::Value>,
    workspace: Option<String>,
    actor: Option<String>,
    ungoverned: Option<String>,
    /// The test's own governance, in place of the file's model.
    governance: Option<String>,
    verdict: Option<String>,
    exit_code: Option<u8>,
    every_change: Option<Vec<String>>,
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    summary: BTreeMap<String, usize>,
    #[serde(default)]
    changes: BTreeMap<String, String>,
    #[serde(default)]
    classes: BTreeMap<String, String>,
    #[serde(default)]
    findings: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    messages: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    governed_by: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    blast_radius: BTreeMap<String, expect::Blast>,
}

/// What a run found, for printing and the exit code.
#[derive(Debug, Default)]
pub struct Summary {
    /// How many cases passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// The test files read, in the order they ran.
    pub files: Vec<PathBuf>,
    /// What to print.
    pub text: String,
}

/// Runs every test file under `dir`. `model_override` replaces the files' `model`.
pub fn run(dir: &Path, model_override: Option<&Path>) -> Result<Summary> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    if files.is_empty() {
        bail!("no *.iomtest.hcl files under {}", dir.display());
    }
    files.sort();
    let mut summary = Summary::default();
    for file in files {
        run_file(&file, model_override, &mut summary)?;
        summary.files.push(file);
    }
    let _ = writeln!(
        summary.text,
        "\n{} passed, {} failed",
        summary.passed, summary.failed
    );
    Ok(summary)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != ".terraform") {
                collect(&path, out)?;
            }
        } else if path.to_string_lossy().ends_with(".iomtest.hcl") {
            out.push(path);
        }
    }
    Ok(())
}

fn run_file(file: &Path, model_override: Option<&Path>, summary: &mut Summary) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (parsed, order) = parse_file(&text).map_err(|e| anyhow!("{}: {e:#}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let model_dir = match (model_override, &parsed.model) {
        (Some(m), _) => Some(m.to_path_buf()),
        (None, Some(m)) => Some(base.join(m)),
        (None, None) => None,
    };
    let model = model_dir
        .map(|dir| load_model_dir(file, &dir))
        .transpose()?;
    let _ = writeln!(summary.text, "{}", file.display());
    if parsed.test.is_empty() {
        bail!("{}: no `test` blocks", file.display());
    }
    for (name, case) in order.iter().filter_map(|n| parsed.test.get_key_value(n)) {
        let outcome = own_governance(file, name, case).and_then(|own| {
            let model = own.as_ref().or(model.as_ref()).ok_or_else(|| {
                anyhow!("no model: give `model` in the file, --model, or `governance` in the test")
            })?;
            run_case(base, model, case)
        });
        record(summary, file, name, outcome);
    }
    Ok(())
}

/// The file's contents, and its test names in the order the file gives them. A name
/// given twice is an error: one of the two cases would never run.
fn parse_file(text: &str) -> Result<(TestFile, Vec<String>)> {
    let body = hcl::parse(text)?;
    let mut order: Vec<String> = Vec::new();
    for block in body.blocks().filter(|b| b.identifier() == "test") {
        let name = match block.labels() {
            [label] => label.as_str().to_string(),
            _ => bail!("a `test` block has one name: test \"NAME\" {{ … }}"),
        };
        if order.contains(&name) {
            bail!("test \"{name}\" is declared twice");
        }
        order.push(name);
    }
    Ok((hcl::from_body(body)?, order))
}

fn load_model_dir(file: &Path, model_dir: &Path) -> Result<Model> {
    let spec = iom_model::load_dir(model_dir).map_err(|errors| {
        anyhow!(
            "{}: the model in {} is invalid: {}",
            file.display(),
            model_dir.display(),
            errors.first().map(ToString::to_string).unwrap_or_default()
        )
    })?;
    Model::compile(spec).map_err(|p| {
        let first = p.first().map(ToString::to_string).unwrap_or_default();
        anyhow!("{}: the model is invalid: {first}", file.display())
    })
}

/// The model of a case's own `governance`, when it has one.
fn own_governance(file: &Path, name: &str, case: &TestCase) -> Result<Option<Model>> {
    let Some(text) = &case.governance else {
        return Ok(None);
    };
    let origin = format!("{} (test \"{name}\")", file.display());
    let spec = iom_model::load_str(&origin, text).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        anyhow!("the test's governance is invalid: {first}")
    })?;
    let model = Model::compile(spec).map_err(|p| {
        let first = p.first().map(ToString::to_string).unwrap_or_default();
        anyhow!("the test's governance is invalid: {first}")
    })?;
    Ok(Some(model))
}

/// Counts a case and writes its line: ok, FAIL with what differed, or ERROR.
fn record(summary: &mut Summary, file: &Path, name: &str, outcome: Result<Vec<String>>) {
    match outcome {
        Ok(failures) if failures.is_empty() => {
            summary.passed += 1;
            let _ = writeln!(summary.text, "  ok    {name}");
        }
        Ok(failures) => {
            summary.failed += 1;
            let _ = writeln!(summary.text, "  FAIL  {name}  ({})", file.display());
            for f in failures {
                let _ = writeln!(summary.text, "        {f}");
            }
        }
        Err(e) => {
            summary.failed += 1;
            let _ = writeln!(
                summary.text,
                "  ERROR {name}  ({})\n        {e:#}",
                file.display()
            );
        }
    }
}

/// The ways a case's expectations were not met; empty when it passes.
fn run_case(base: &Path, model: &Model, case: &TestCase) -> Result<Vec<String>> {
    let expectations = Expectations::of(case)?;
    let scratch;
    let plan_path = match (&case.plan, &case.terraform_dir) {
        (Some(p), None) => base.join(p),
        (None, Some(dir)) => {
            scratch = Scratch::new()?;
            plan_workspace(&base.join(dir), &case.vars, &scratch.0)?
        }
        _ => bail!("a test needs exactly one of `plan` and `terraform_dir`"),
    };
    let raw = read_plan(&plan_path.to_string_lossy())?;
    let plan = raw.parse()?;
    let word = |w: &Option<String>, default: Outcome| -> Result<Outcome> {
        w.as_deref()
            .map_or(Ok(default), |w| w.parse().map_err(|e: String| anyhow!(e)))
    };
    let opts = CheckOptions {
        workspace: case.workspace.clone().unwrap_or_else(|| "default".into()),
        actor: case.actor.clone().unwrap_or_else(|| "test".into()),
        ungoverned: word(&case.ungoverned, Outcome::Escalate)?,
        model_source: "test".into(),
        model_revision: None,
        source_dir: case.terraform_dir.as_ref().map(|d| base.join(d)),
    };
    let report = check(&raw, &plan, model, &opts)?;
    Ok(expectations.differences(&report))
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("plan-guard-test-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies `dir` into `scratch` and plans it with the real Terraform, returning the path
/// of the saved plan.
fn plan_workspace(
    dir: &Path,
    vars: &BTreeMap<String, serde_json::Value>,
    scratch: &Path,
) -> Result<PathBuf> {
    let work = scratch.join("workspace");
    copy_tree(dir, &work).with_context(|| format!("cannot copy {}", dir.display()))?;
    std::fs::write(
        work.join("zz-iomtest.auto.tfvars.json"),
        serde_json::to_vec(vars)?,
    )?;
    let binary = crate::plan::terraform_binary();
    for args in [
        vec!["init", "-input=false", "-no-color"],
        vec!["plan", "-input=false", "-no-color", "-out=tfplan"],
    ] {
        let out = Command::new(&binary)
            .arg(format!("-chdir={}", work.display()))
            .args(&args)
            .output()
            .with_context(|| format!("cannot run {binary}"))?;
        if !out.status.success() {
            bail!(
                "{binary} {} failed in a copy of {}:\n{}",
                args.first().copied().unwrap_or_default(),
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    Ok(work.join("tfplan"))
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".terraform" || name == "tfplan" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
