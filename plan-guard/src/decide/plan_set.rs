//! Several plans judged as one change set (docs/judging.md, Several plans, one decision):
//! one plan per workspace (a Terragrunt `run-all`, or plans saved per workspace), each
//! judged as a check of its own would judge it, with what the other plans of the set
//! change in view; one decision id and the strictest verdict for the set.
//!
//! Each plan's own plan shows what its workspace has built (`prior_state`), so the set
//! knows which resources of one workspace read another's outputs through
//! `terraform_remote_state` without an `observe` first: those readers join the blast
//! radius of the changes that feed the outputs, and a reader that changes in the same
//! set raises `model / set_reader` (its plan read the outputs as they were before).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use iom_model::{ActionClass, Model, Outcome};
use serde::Serialize;
use serde_json::Value;

use super::report::{Finding, ModelInfo, Report, Summary};
use super::{CheckError, CheckOptions, Observed, check_observed};
use crate::graph::BlastRadius;
use crate::living::{ObservedFrom, observation_body};
use crate::plan::{Plan, RawPlan};

/// One plan of a set: its workspace, and where its configuration is.
pub struct Member<'a, 'p> {
    /// The workspace the plan is for: its intents, observations and apply.
    pub workspace: String,
    /// The plan as read (its digest, its text).
    pub raw: &'a RawPlan,
    /// The plan parsed.
    pub plan: &'a Plan<'p>,
    /// The workspace's `.tf` files (`--source-dir`): contracts read arguments from them,
    /// and the other plans' remote-state reads find this workspace's state file there.
    pub source_dir: Option<PathBuf>,
}

/// The report of a set of plans: a [`Report`] per plan (each with its own decision id,
/// `SET.N`, the one `plan-guard apply` of that plan runs under), and the set's decision.
#[derive(Debug, Clone, Serialize)]
pub struct SetReport {
    /// Who ran the check.
    pub actor: String,
    /// The set's decision id: what `approve` takes for the whole set.
    pub decision_id: String,
    /// When the check ran (every plan's report says the same).
    pub generated_at: String,
    /// The model every plan was judged against.
    pub model: ModelInfo,
    /// In the order the plans were given.
    pub plans: Vec<Report>,
    /// The plans' summaries added up.
    pub summary: Summary,
    /// The strictest of the plans' verdicts.
    pub verdict: Outcome,
}

/// Why a set of plans was not judged.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// Two plans name one workspace.
    #[error(
        "{first} and {second} are both for workspace {workspace}: one plan per workspace (name each plan's workspace with --workspace, once per plan, in plan order)"
    )]
    SameWorkspace {
        /// The workspace both name.
        workspace: String,
        /// The first plan's file.
        first: String,
        /// The second plan's file.
        second: String,
    },
    /// One plan given twice.
    #[error("{first} and {second} are the same plan ({how}): a plan is judged once in a set")]
    SamePlan {
        /// The first plan's file.
        first: String,
        /// The second plan's file.
        second: String,
        /// How they are one plan: the same digest, or the same document.
        how: String,
    },
    /// A plan that cannot be judged (errored, an action list Terraform does not write, a
    /// bad mask or value), naming its file.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// A plan whose prior state shows what its workspace built, but not as an observation.
    #[error(
        "{why}: what its workspace has built cannot be read, so its readers of the other plans cannot be found"
    )]
    Unobservable {
        /// The plan's file and what does not read.
        why: String,
    },
}

impl SetReport {
    /// `plan-guard check`'s exit code for the set's verdict.
    pub fn exit_code(&self) -> u8 {
        crate::exit::of_verdict(self.verdict)
    }
}

/// The decision id of member `n` (from 1) of the set `set_id`.
pub fn member_id(set_id: &str, n: usize) -> String {
    format!("{set_id}.{n}")
}

/// Judges `members` as one set. `observed[i]` is what the store observed around member
/// i's workspace; the set adds what the members' own plans show.
pub fn check_set(
    members: &[Member<'_, '_>],
    observed: Vec<Observed>,
    model: &Model,
    opts: &CheckOptions,
) -> Result<SetReport, SetError> {
    refuse_ambiguity(members)?;
    let built = members
        .iter()
        .map(built_by)
        .collect::<Result<Vec<_>, _>>()?;
    let changing: BTreeMap<String, BTreeMap<String, ActionClass>> = members
        .iter()
        .map(|m| (m.workspace.clone(), changes_of(m.plan)))
        .collect();
    let set_id =
        crate::ids::set_decision_id(members.iter().map(|m| m.raw.sha256()), opts.model_revision);
    let generated_at = crate::ids::now_rfc3339();
    let mut plans = Vec::with_capacity(members.len());
    for (n, (m, mut seen)) in members.iter().zip(observed).enumerate() {
        // What the set's plans show replaces what the store observed of those workspaces.
        let from_set = |w: &str| {
            members
                .iter()
                .zip(&built)
                .any(|(o, b)| o.workspace == w && b.is_some())
        };
        seen.others.retain(|(w, _)| !from_set(w));
        for (other, body) in members.iter().zip(&built) {
            if let (false, Some(body)) = (other.workspace == m.workspace, body) {
                seen.others.push((other.workspace.clone(), body.clone()));
            }
        }
        seen.this_in_set = built.get(n).cloned().flatten();
        seen.set_changes = changing
            .iter()
            .filter(|(w, _)| **w != m.workspace)
            .map(|(w, c)| (w.clone(), c.clone()))
            .collect();
        let member_opts = CheckOptions {
            workspace: m.workspace.clone(),
            actor: opts.actor.clone(),
            ungoverned: opts.ungoverned,
            model_source: opts.model_source.clone(),
            model_revision: opts.model_revision,
            source_dir: m.source_dir.clone(),
        };
        let mut report = check_observed(m.raw, m.plan, model, &member_opts, &seen)?;
        report.decision_id = member_id(&set_id, n + 1);
        report.generated_at.clone_from(&generated_at);
        plans.push(report);
    }
    let mut summary = Summary::default();
    plans.iter().for_each(|p| summary.add(&p.summary));
    Ok(SetReport {
        actor: opts.actor.clone(),
        decision_id: set_id,
        generated_at,
        model: ModelInfo {
            revision: opts.model_revision,
            source: opts.model_source.clone(),
        },
        verdict: plans
            .iter()
            .map(|p| p.verdict)
            .max()
            .unwrap_or(Outcome::Allow),
        plans,
        summary,
    })
}

/// Two plans for one workspace, or one plan twice, would each be authorised by the other's
/// judgement: refused.
fn refuse_ambiguity(members: &[Member<'_, '_>]) -> Result<(), SetError> {
    for (i, a) in members.iter().enumerate() {
        for b in members.iter().skip(i + 1) {
            if let Some(how) = same_plan(a.raw, b.raw) {
                return Err(SetError::SamePlan {
                    first: a.raw.source.to_string(),
                    second: b.raw.source.to_string(),
                    how,
                });
            }
            if a.workspace == b.workspace {
                return Err(SetError::SameWorkspace {
                    workspace: a.workspace.clone(),
                    first: a.raw.source.to_string(),
                    second: b.raw.source.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// How `a` and `b` are one plan, if they are: the same bytes, or the same document (a
/// binary plan and its `terraform show -json`, which `apply` takes for one another).
fn same_plan(a: &RawPlan, b: &RawPlan) -> Option<String> {
    if a.sha256() == b.sha256() {
        let short: String = a.sha256().chars().take(12).collect();
        Some(format!("sha256 {short}…"))
    } else if a.text == b.text {
        Some("the same `terraform show -json` document".into())
    } else {
        None
    }
}

/// The HMAC key of the attribute digests of the observations a set makes from its plans:
/// they are compared with nothing and never stored, so no secret is needed.
const UNSTORED_DIGEST_KEY: &[u8] = b"plan-guard plan set: digests never stored";

/// What a member's plan says its workspace has built (its `prior_state`), as an
/// observation made at its configuration's directory; `None` when nothing is built yet.
/// A built workspace whose observation cannot be made fails the set: read as "nothing
/// built", its readers would drop out of the other plans' blast radii.
fn built_by(m: &Member<'_, '_>) -> Result<Option<Value>, SetError> {
    let nothing_built = m
        .plan
        .prior_state
        .as_ref()
        .and_then(|s| s.values.as_ref())
        .and_then(|v| v.root_module.as_ref())
        .is_none();
    if nothing_built {
        return Ok(None);
    }
    let location = m.source_dir.as_deref().map(absolute);
    let mut body = observation_body(
        &m.raw.text,
        &m.raw.source.to_string(),
        ObservedFrom::Plan,
        location.as_deref(),
        None,
        UNSTORED_DIGEST_KEY,
    )
    .map_err(|why| SetError::Unobservable {
        why: format!("{why:#}"),
    })?;
    // In a Terraform workspace of that name, the local backend keeps the state apart.
    let own = location.map(|l| {
        l.join("terraform.tfstate.d")
            .join(&m.workspace)
            .join("terraform.tfstate")
    });
    if let (Some(state_file), Some(fields)) = (own.filter(|f| f.is_file()), body.as_object_mut()) {
        let state_file = state_file.display().to_string();
        fields.insert("state_file".into(), Value::String(state_file));
    }
    Ok(Some(body))
}

/// `dir` made absolute and normalised as `observe` records locations, so that a
/// relative remote-state path resolves to the same file from either workspace.
fn absolute(dir: &Path) -> PathBuf {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    crate::plan::sources::normalize(&dir)
}

/// Every address a plan changes (no-ops left out), with its action class.
fn changes_of(plan: &Plan<'_>) -> BTreeMap<String, ActionClass> {
    plan.resource_changes
        .iter()
        .filter_map(|rc| {
            let moved = rc
                .previous_address
                .as_deref()
                .is_some_and(|p| p != rc.address);
            let class = ActionClass::of_change(&rc.change.actions, moved)?;
            (class != ActionClass::NoOp).then(|| (rc.address.clone(), class))
        })
        .collect()
}

/// The `model / set_reader` finding of a change whose blast radius holds readers in
/// another workspace of the set that its plan changes too (`W:ADDRESS`): that plan was
/// made against the outputs as they are before this change, so it must be planned again
/// once this one is applied. A warning, waivable like any finding.
pub(crate) fn reader_finding(
    blast: &BlastRadius,
    set_changes: &BTreeMap<String, BTreeMap<String, ActionClass>>,
) -> Option<Finding> {
    let mut workspaces: Vec<&str> = Vec::new();
    let readers: Vec<String> = blast
        .addresses
        .iter()
        .filter_map(|a| {
            let (w, address) = a.split_once(':')?;
            let (w, _) = set_changes.get_key_value(w)?;
            let class = set_changes.get(w)?.get(address)?;
            if !workspaces.contains(&w.as_str()) {
                workspaces.push(w.as_str());
            }
            Some(format!("{a} ({class})"))
        })
        .collect();
    if readers.is_empty() {
        return None;
    }
    let (they, plans) = match (readers.len(), workspaces.len()) {
        (1, _) => ("reads what this change feeds and changes", "its plan was"),
        (_, 1) => ("read what this change feeds and change", "their plan was"),
        _ => ("read what this change feeds and change", "their plans were"),
    };
    Some(Finding {
        message: format!(
            "{} {they} in the same set: {plans} made against the outputs before this change; apply this plan first, then plan and check {} {} again",
            readers.join(", "),
            if workspaces.len() == 1 {
                "workspace"
            } else {
                "workspaces"
            },
            workspaces.join(", ")
        ),
        outcome: Outcome::Warn,
        rule: "set_reader".into(),
        source: "model".into(),
        waived_by: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radius(addresses: &[&str]) -> BlastRadius {
        BlastRadius {
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            ..BlastRadius::default()
        }
    }

    fn changing(
        of: &[(&str, &str, ActionClass)],
    ) -> BTreeMap<String, BTreeMap<String, ActionClass>> {
        let mut out: BTreeMap<String, BTreeMap<String, ActionClass>> = BTreeMap::new();
        for (w, a, c) in of {
            out.entry(w.to_string())
                .or_default()
                .insert(a.to_string(), *c);
        }
        out
    }

    #[test]
    fn only_readers_that_change_in_the_set_are_named() {
        let set = changing(&[
            ("app", "aws_instance.a", ActionClass::Update),
            ("web", "aws_lb.w", ActionClass::Replace),
        ]);
        // A reader that does not change, an element, and a workspace not in the set.
        let quiet = radius(&["app:aws_instance.b", "element:db", "other:aws_instance.a"]);
        assert_eq!(reader_finding(&quiet, &set), None);

        let one =
            reader_finding(&radius(&["app:aws_instance.a", "app:aws_instance.b"]), &set).unwrap();
        assert_eq!(
            one.message,
            "app:aws_instance.a (update) reads what this change feeds and changes in the same set: its plan was made against the outputs before this change; apply this plan first, then plan and check workspace app again"
        );
        assert_eq!(
            (one.outcome, one.source.as_str(), one.rule.as_str()),
            (Outcome::Warn, "model", "set_reader")
        );

        let two = reader_finding(&radius(&["app:aws_instance.a", "web:aws_lb.w"]), &set).unwrap();
        assert!(
            two.message.starts_with("app:aws_instance.a (update), web:aws_lb.w (replace) read what this change feeds and change in the same set: their plans were made")
                && two.message.ends_with("plan and check workspaces app, web again"),
            "{}",
            two.message
        );
    }
}
