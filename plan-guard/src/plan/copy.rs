//! The binary plan a governed apply runs. `apply --plan FILE` takes the saved plan that
//! will be applied, copies it into a directory only this user can write, and from then
//! on compares, renders and applies only that copy: the file named on the command line
//! can change after the comparison, the copy cannot (short of this user's own processes).

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use sha2::{Digest as _, Sha256};

use crate::evidence::workflow::{Refusal, Refused};
use crate::plan::{RawPlan, hex_digest, read_plan};

/// A private copy of a saved plan, removed when dropped.
pub struct PlanCopy {
    /// The path as given on the command line.
    pub given: String,
    _dir: PrivateDir,
    path: PathBuf,
    /// The copy as read: SHA-256 of its bytes, and its `show -json` rendering.
    pub raw: RawPlan,
}

impl PlanCopy {
    /// Copies the binary plan `given` into a new private directory and renders the copy.
    /// A JSON document is refused: it can be checked, never applied.
    pub fn take(given: &str) -> Result<PlanCopy> {
        let bytes = std::fs::read(given).with_context(|| format!("cannot read {given}"))?;
        if !bytes.starts_with(b"PK\x03\x04") {
            return Err(anyhow!(Refused::new(
                Refusal::NotABinaryPlan,
                format!(
                    "{given} is not a binary plan: apply --plan takes the saved plan that will be applied (terraform plan -out=FILE); a JSON document can be checked but never applied (check `terraform show -json FILE` or FILE itself, then apply --plan FILE)"
                )
            )));
        }
        let dir = PrivateDir::new()?;
        let path = dir.0.join("plan.tfplan");
        let failed = || format!("cannot copy {given} to {}", path.display());
        // Read-only from the start: nothing should change the copy, this process included.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(&path)
            .with_context(failed)?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .with_context(failed)?;
        drop(file);
        let raw = read_plan(&path.display().to_string())?;
        if raw.sha256() != hex_digest(&Sha256::digest(&bytes)) {
            return Err(anyhow!(
                "the copy of {given} in {} changed while it was read",
                dir.0.display()
            ));
        }
        Ok(PlanCopy {
            given: given.to_string(),
            _dir: dir,
            path,
            raw,
        })
    }

    /// Where the copy is: what the apply command is given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SHA-256 digests a decision for this plan may be recorded under: the saved
    /// plan's own, and that of its `show -json` rendering, which is what
    /// `terraform show -json tfplan > plan.json` writes (Terraform renders the same plan
    /// the same way every time), so a check of that file judged this very plan.
    pub fn hashes(&self) -> Vec<String> {
        let rendered = hex_digest(&Sha256::digest(self.raw.text.as_bytes()));
        vec![self.raw.sha256().to_string(), rendered]
    }

    /// The command to run: `terraform apply` of the copy when none is given; otherwise the
    /// command given, whose argument naming the plan file is replaced by the copy's path.
    /// Also returns the command as it is recorded (naming the plan as given).
    pub fn command(&self, given: &[String]) -> Result<(Vec<String>, Vec<String>)> {
        let copy = self.path.display().to_string();
        if given.is_empty() {
            let binary = crate::plan::terraform_binary();
            let with = |plan: &str| {
                vec![
                    binary.clone(),
                    "apply".into(),
                    "-input=false".into(),
                    plan.into(),
                ]
            };
            return Ok((with(&copy), with(&self.given)));
        }
        let names_plan = |arg: &str| same_file(arg, &self.given);
        if !given.iter().any(|a| names_plan(a)) {
            return Err(anyhow!(Refused::new(
                Refusal::PlanNotInCommand,
                format!(
                    "the command does not name the plan file {}: it must apply the plan that was checked, so it names it as one argument (e.g. -- terraform apply -input=false {0}) and plan-guard runs it on its private copy; or give no command and plan-guard runs terraform apply on it",
                    self.given
                )
            )));
        }
        let run = given
            .iter()
            .map(|a| {
                if names_plan(a) {
                    copy.clone()
                } else {
                    a.clone()
                }
            })
            .collect();
        Ok((run, given.to_vec()))
    }
}

/// Whether `arg` names the file `plan` (the same text, or the same file on disk).
fn same_file(arg: &str, plan: &str) -> bool {
    if arg == plan {
        return true;
    }
    match (std::fs::canonicalize(arg), std::fs::canonicalize(plan)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A new directory under the system's temporary directory that only this user can enter;
/// its random name is created, never reused (creation fails if it exists). Removed with
/// what it holds when dropped.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> Result<PrivateDir> {
        let dir =
            std::env::temp_dir().join(format!("plan-guard-apply-{}", crate::ids::random_hex(12)?));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create the private directory {}", dir.display()))?;
        Ok(PrivateDir(dir))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
