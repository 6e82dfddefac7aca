//! The steps around a check that go through the evidence ledger: recording a decision,
//! approving an escalation, and the governed apply (refuse, run, verify, record). Each
//! refusal is an [`Refused`] error with a message that says what to do next.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, anyhow};
use iom_model::{Model, Outcome};
use iom_store::{ApplyClaim, Evidence, NewEvidence, Store};
use serde::Serialize;
use serde_json::Value;

use crate::decide::contracts::Contracts;
use crate::decide::plan_set::SetReport;
use crate::decide::report::Report;
use crate::evidence::identity::{self, SshSigner};
use crate::evidence::records::{
    ApplyRecord, ApprovalRecord, CheckRecord, DriftHold, Record, SetMember, Stored,
};
use crate::evidence::signing::Signer;
use crate::evidence::verify::{ProbeResult, post_verify};
use crate::evidence::{self, APPLY, APPROVAL, CHECK};
use crate::exit;
use crate::plan::copy::PlanCopy;
use serde::Deserialize as _;

/// A step plan-guard will not take; nothing was executed or recorded. `kind` says which
/// rule refused it (callers and tests branch on it), `message` says what to do next.
#[derive(Debug, thiserror::Error)]
#[error("refused: {message}")]
pub struct Refused {
    /// Which rule refused.
    pub kind: Refusal,
    /// What to do next.
    pub message: String,
}

impl Refused {
    /// A refusal of `kind`, with the message that says what to do next.
    pub fn new(kind: Refusal, message: impl Into<String>) -> Refused {
        Refused {
            kind,
            message: message.into(),
        }
    }

    /// The refusal `error` is, if it is one (anywhere in its chain of causes).
    pub fn of(error: &anyhow::Error) -> Option<Refusal> {
        error
            .chain()
            .find_map(|e| e.downcast_ref::<Refused>())
            .map(|r| r.kind)
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// No check of the decision, or of the plan, is recorded in the ledger.
    NoCheck,
    /// An approval without a reason.
    NoReason,
    /// An approval no one confirmed (no `--yes`, no "yes" at a terminal).
    NotConfirmed,
    /// The actor may not approve the decision (not listed, self-approval, signature).
    MayNotApprove,
    /// The plan is not the one the decision judged.
    PlanMismatch,
    /// A later check of the same plan superseded the decision.
    Superseded,
    /// The decision escalates and lacks a valid approval.
    NotApproved,
    /// The decision blocks the plan.
    Blocked,
    /// The check record's verdict cannot be read.
    UnreadableVerdict,
    /// The check record's body cannot be read.
    UnreadableRecord,
    /// The decision was applied already.
    AlreadyApplied,
    /// The current Terraform workspace is not the one the decision was checked for.
    WrongWorkspace,
    /// Governed drift was recorded after the check.
    Drift,
    /// The check record does not say which model judged it, or that model is not here.
    ModelUnavailable,
    /// The model here is not the one the decision was judged against.
    ModelChanged,
    /// Another run holds (or finished) the apply of the decision.
    Claimed,
    /// `apply --plan` was not given a binary plan.
    NotABinaryPlan,
    /// The apply command does not name the plan file that was checked.
    PlanNotInCommand,
}

fn append(store: &Store, signer: Option<&Signer>, new: NewEvidence) -> Result<Evidence> {
    let sign = signer.map(|s| move |hash: &str| s.sign(hash));
    let sign_ref: Option<&dyn Fn(&str) -> String> =
        sign.as_ref().map(|f| f as &dyn Fn(&str) -> String);
    store
        .append_evidence(&new, sign_ref)
        .with_context(|| format!("cannot record {} evidence in {}", new.kind, store.url()))
}

/// `record` as the JSON body the ledger stores.
fn body_of<T: Serialize>(record: &T) -> Result<Value> {
    serde_json::to_value(record).context("cannot write the record as JSON")
}

/// `record`'s body, signed (SSHSIG in `namespace`) when `ssh` is given.
fn signed_body<T: Serialize>(
    record: &T,
    ssh: Option<&SshSigner>,
    namespace: &str,
) -> Result<Value> {
    let mut body = body_of(record)?;
    if let Some(ssh) = ssh {
        ssh.sign_body(namespace, &mut body)?;
    }
    Ok(body)
}

/// Appends the `check` record of a report judged against `model`, with `ungoverned` the
/// outcome the check gave ungoverned changes.
pub fn record_check(
    store: &Store,
    signer: Option<&Signer>,
    ssh: Option<&SshSigner>,
    report: &Report,
    model: &Model,
    ungoverned: Outcome,
) -> Result<Evidence> {
    let record = evidence::check_record(report, model, ungoverned);
    let at = (report.decision_id.as_str(), report.generated_at.as_str());
    append_check(store, (signer, ssh), at, Some(&report.plan.sha256), record)
}

/// Appends a `check` record, signed by `ssh` when given: with a key a profile binds to
/// the actor, the check proves who ran it.
fn append_check(
    store: &Store,
    (signer, ssh): (Option<&Signer>, Option<&SshSigner>),
    (decision_id, recorded_at): (&str, &str),
    plan_sha256: Option<&str>,
    record: CheckRecord,
) -> Result<Evidence> {
    let body = signed_body(&record, ssh, identity::CHECK_NAMESPACE)?;
    // Gone before the store writes the body out as text: for a large plan the typed
    // record, its JSON and that text would otherwise be in memory at once.
    drop(record);
    append(
        store,
        signer,
        NewEvidence {
            kind: CHECK.into(),
            decision_id: decision_id.into(),
            recorded_at: recorded_at.into(),
            plan_sha256: plan_sha256.map(String::from),
            body,
        },
    )
}

/// Appends the records of a set of plans ([`evidence::plan_set`]): the set's own first,
/// then each plan's, linked to it. A plan whose record is missing cannot be applied, so
/// a failure part way fails closed.
pub fn record_set(
    store: &Store,
    signer: Option<&Signer>,
    ssh: Option<&SshSigner>,
    set: &SetReport,
    model: &Model,
    ungoverned: Outcome,
) -> Result<()> {
    let record = evidence::plan_set::set_check_record(set, model, ungoverned);
    let at = (set.decision_id.as_str(), set.generated_at.as_str());
    append_check(store, (signer, ssh), at, None, record)?;
    for plan in &set.plans {
        let mut record = evidence::check_record(plan, model, ungoverned);
        record.set = Some(evidence::plan_set::set_link(set));
        let at = (plan.decision_id.as_str(), plan.generated_at.as_str());
        append_check(store, (signer, ssh), at, Some(&plan.plan.sha256), record)?;
    }
    Ok(())
}

/// The `check` record of `decision_id`; refused when the ledger has none.
pub fn check_of(store: &Store, decision_id: &str) -> Result<Evidence> {
    store
        .evidence_for(decision_id)?
        .into_iter()
        .find(|e| e.kind == CHECK)
        .ok_or_else(|| {
            anyhow!(Refused::new(
                Refusal::NoCheck,
                format!(
                    "no check of decision {decision_id} is recorded in {}",
                    store.url()
                )
            ))
        })
}

/// Refuses to approve one plan of a set: the set is approved as a whole, and its verdict
/// stands for each of its plans.
pub fn not_a_plan_of_a_set(check: &Evidence, actor: &str) -> Result<()> {
    match check_body(check).ok().and_then(|b| b.set) {
        None => Ok(()),
        Some(set) => Err(anyhow!(Refused::new(
            Refusal::MayNotApprove,
            format!(
                "{actor} cannot approve {}: it is one plan of set {set}, approved as a whole: plan-guard approve {set}",
                check.decision_id,
                set = set.decision_id
            )
        ))),
    }
}

/// An approval recorded by [`approve`].
pub struct Approved {
    /// The approval record appended.
    pub record: Evidence,
    /// The escalating profiles this approval is under.
    pub profiles: Vec<String>,
    /// "profile P by one of a, b; …": who must still approve; empty when the decision is
    /// now fully approved.
    pub pending: String,
}

/// A decision's approval records, each read beside the body it was read from (their
/// signatures cover that body); one that does not read counts for no one.
fn approvals_of(records: &[Evidence]) -> Vec<(ApprovalRecord, &Value)> {
    records
        .iter()
        .filter(|e| e.kind == APPROVAL)
        .filter_map(|e| Some((ApprovalRecord::deserialize(&e.body).ok()?, &e.body)))
        .collect()
}

/// The approvals of [`approvals_of`] as the approval rules take them.
fn stored<'a>(approvals: &'a [(ApprovalRecord, &'a Value)]) -> Vec<Stored<'a, ApprovalRecord>> {
    approvals
        .iter()
        .map(|(record, json)| Stored::new(record, json))
        .collect()
}

/// Records an approval when it counts under at least one of the decision's escalating
/// profiles; `ssh` signs it (SSHSIG, namespace `iom-approval`), which a profile that
/// binds a key to `actor` requires.
pub fn approve(
    store: &Store,
    signer: Option<&Signer>,
    ssh: Option<&SshSigner>,
    decision_id: &str,
    actor: &str,
    reason: &str,
) -> Result<Approved> {
    if reason.trim().is_empty() {
        return Err(anyhow!(Refused::new(
            Refusal::NoReason,
            "an approval needs a --reason"
        )));
    }
    let check = check_of(store, decision_id)?;
    let refused = |why: String| {
        anyhow!(Refused::new(
            Refusal::MayNotApprove,
            format!("{actor} cannot approve {decision_id}: {why}")
        ))
    };
    not_a_plan_of_a_set(&check, actor)?;
    let checked = check_body(&check)?;
    let mut approval = evidence::approval_record(&checked, decision_id, actor, reason);
    let body = signed_body(&approval, ssh, identity::APPROVAL_NAMESPACE)?;
    let profiles = evidence::may_approve(
        Stored::new(&checked, &check.body),
        Stored::new(&approval, &body),
    )
    .map_err(refused)?;
    // The profiles it counts under are part of what is signed.
    approval.profiles = Some(profiles.clone());
    let body = signed_body(&approval, ssh, identity::APPROVAL_NAMESPACE)?;
    let record = append(
        store,
        signer,
        NewEvidence {
            kind: APPROVAL.into(),
            decision_id: decision_id.into(),
            recorded_at: crate::ids::now_rfc3339(),
            plan_sha256: check.plan_sha256.clone(),
            body,
        },
    )?;
    let records = store.evidence_for(decision_id)?;
    let approvals = approvals_of(&records);
    let pending =
        evidence::pending_approval(Stored::new(&checked, &check.body), &stored(&approvals))
            .map(|p| evidence::describe_pending(&checked, &p))
            .unwrap_or_default();
    Ok(Approved {
        record,
        profiles,
        pending,
    })
}

/// What a governed apply did.
pub struct Applied {
    /// The decision applied.
    pub decision_id: String,
    /// The command's exit code (`None` when a signal ended it).
    pub exit_code: Option<i32>,
    /// The signal that ended the command, if one did.
    pub signal: Option<i32>,
    /// The post-verify probes and their outcomes.
    pub probes: Vec<ProbeResult>,
}

impl Applied {
    /// The command's code when it failed (128 + N when signal N ended it), else 4 when a
    /// probe failed, else 0.
    pub fn exit_code(&self) -> u8 {
        match self.exit_code {
            Some(0) if self.probes.iter().all(|p| p.ok) => exit::SUCCESS,
            Some(0) => exit::VERIFY_FAILED,
            Some(code) => u8::try_from(code).unwrap_or(exit::ERROR),
            // A shell's convention: 128 + the signal that ended the command.
            None => self
                .signal
                .and_then(|s| u8::try_from(128 + s).ok())
                .unwrap_or(exit::ERROR),
        }
    }
}

/// The body of a check record, read once. A body that does not read is refused: what
/// the decision rests on (its verdict, workspace, model) cannot be told.
pub fn check_body(check: &Evidence) -> Result<CheckRecord> {
    CheckRecord::deserialize(&check.body).map_err(|why| {
        anyhow!(Refused::new(
            Refusal::UnreadableRecord,
            format!(
                "decision {} holds an unreadable check record: {why}",
                check.decision_id
            )
        ))
    })
}

/// The first 12 hex digits of a digest, as messages show it.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// The newest `check` record of any of `hashes`.
fn latest_check(store: &Store, hashes: &[String]) -> Result<Option<Evidence>> {
    let mut newest: Option<Evidence> = None;
    for h in hashes {
        if let Some(e) = store.latest_check_for_plan(h)?
            && newest.as_ref().is_none_or(|n| e.seq > n.seq)
        {
            newest = Some(e);
        }
    }
    Ok(newest)
}

/// The decision the saved plan `plan` may be applied under in Terraform workspace
/// `workspace`, or why not.
pub fn authorize(
    store: &Store,
    plan: &PlanCopy,
    decision: Option<&str>,
    workspace: &str,
) -> Result<Evidence> {
    let plan_file = &plan.given;
    let hashes = plan.hashes();
    // The plan's digest as read, and as `terraform show -json` renders it.
    let sha = hashes.first().map_or("", |h| short(h));
    let rendered = hashes.get(1).map_or("", |h| short(h));
    let newest = latest_check(store, &hashes)?;
    let check = match decision {
        Some(id) => member_for(store, check_of(store, id)?, &hashes, plan_file)?,
        None => newest.clone().ok_or_else(|| {
            anyhow!(Refused::new(Refusal::NoCheck, format!(
                "no decision is recorded for {plan_file} (sha256 {}…, or {}… as terraform show -json renders it) in {}: run plan-guard check on it first",
                sha,
                rendered,
                store.url()
            )))
        })?,
    };
    let id = check.decision_id.clone();
    let checked = check.plan_sha256.clone().unwrap_or_default();
    if !hashes.contains(&checked) {
        return Err(anyhow!(Refused::new(
            Refusal::PlanMismatch,
            format!(
                "{plan_file} is not the plan decision {id} judged (checked sha256 {}…; this plan {}…, its terraform show -json {}…): check this plan",
                checked.get(..12).unwrap_or(""),
                sha,
                rendered
            )
        )));
    }
    let body = check_body(&check)?;
    same_workspace(&id, &body, workspace)?;
    // A later check of the same plan (a tightened model, another --ungoverned) is the
    // decision that stands; an older one cannot be picked instead.
    if let Some(newer) = newest.filter(|n| n.seq > check.seq) {
        return Err(anyhow!(Refused::new(
            Refusal::Superseded,
            format!(
                "decision {id} is superseded by decision {} (a later check of the same plan, verdict {}): apply under that one (plan-guard apply without --decision)",
                newer.decision_id,
                check_body(&newer)
                    .ok()
                    .and_then(|b| b.verdict)
                    .unwrap_or_else(|| "?".into())
            )
        )));
    }
    // The decision's own records: its approvals, and whether it was applied already.
    let records = store.evidence_for(&id)?;
    match &body.set {
        Some(set) => set_permits(store, (&id, &checked), &set.decision_id)?,
        None => verdict_permits(&format!("decision {id}"), &id, (&check, &body), &records)?,
    }
    drift_since(store, &check, &body)?;
    not_applied_yet(&id, &records)?;
    Ok(check)
}

/// A decision authorises one successful run; a failed one may be retried. An apply
/// record that does not read is refused too: it may be the successful run.
fn not_applied_yet(id: &str, records: &[Evidence]) -> Result<()> {
    for e in records.iter().filter(|e| e.kind == APPLY) {
        match Record::read(&e.kind, &e.body) {
            Ok(Record::Apply(a)) if !a.succeeded() => {}
            Ok(_) => {
                return Err(anyhow!(Refused::new(
                    Refusal::AlreadyApplied,
                    format!(
                        "decision {id} was already applied (evidence record {} at {}, exit 0): plan again and check the new plan",
                        e.seq, e.recorded_at
                    )
                )));
            }
            Err(why) => {
                return Err(anyhow!(Refused::new(
                    Refusal::UnreadableRecord,
                    format!(
                        "decision {id} has an apply record that does not read (evidence record {}: {why}), so whether it was applied cannot be told: plan again and check the new plan",
                        e.seq
                    )
                )));
            }
        }
    }
    Ok(())
}

/// Whether the verdict of decision `id` (`what`, as messages name it), with its approval
/// `records`, lets a plan be applied.
fn verdict_permits(
    what: &str,
    id: &str,
    (check, body): (&Evidence, &CheckRecord),
    records: &[Evidence],
) -> Result<()> {
    match body.verdict.as_deref() {
        Some("allow" | "warn") => {}
        Some("escalate") => {
            let approvals = approvals_of(records);
            let pending =
                evidence::pending_approval(Stored::new(body, &check.body), &stored(&approvals))
                    .map_err(|why| {
                        anyhow!(Refused::new(
                            Refusal::NotApproved,
                            format!("{what} escalates and cannot be approved: {why}")
                        ))
                    })?;
            if !pending.is_empty() {
                return Err(anyhow!(Refused::new(
                    Refusal::NotApproved,
                    format!(
                        "{what} escalates and has no valid approval under {}: plan-guard approve {id} --actor NAME --reason TEXT, for {}",
                        match pending.as_slice() {
                            [one] => format!("profile {}", one.profile.profile),
                            _ => format!("{} of its profiles", pending.len()),
                        },
                        evidence::describe_pending(body, &pending)
                    )
                )));
            }
        }
        Some("block") => {
            return Err(anyhow!(Refused::new(
                Refusal::Blocked,
                format!("{what} blocks this plan")
            )));
        }
        other => {
            return Err(anyhow!(Refused::new(
                Refusal::UnreadableVerdict,
                format!("{what} holds an unreadable verdict {other:?}")
            )));
        }
    }
    Ok(())
}

/// A plan checked in a set stands or falls with the set: the set's verdict and the
/// approvals of the set, never a verdict of the plan alone.
fn set_permits(store: &Store, (id, sha256): (&str, &str), set_id: &str) -> Result<()> {
    let set = check_of(store, set_id)?;
    let body = check_body(&set)?;
    let listed = |m: &&SetMember| m.decision_id == id && m.plan_sha256 == sha256;
    if !body.members.iter().any(|m| listed(&m)) {
        return Err(anyhow!(Refused::new(
            Refusal::UnreadableRecord,
            format!("decision {id} names set {set_id}, whose record does not list it")
        )));
    }
    let records = store.evidence_for(set_id)?;
    let what = format!("set {set_id} (decision {id} was checked in it)");
    verdict_permits(&what, set_id, (&set, &body), &records)
}

/// `--decision` naming a set: the decision of the set's plan that `hashes` is, or a
/// refusal naming the set's plans. Any other decision is returned as it is.
fn member_for(
    store: &Store,
    check: Evidence,
    hashes: &[String],
    plan_file: &str,
) -> Result<Evidence> {
    let body = check_body(&check)?;
    if body.members.is_empty() {
        return Ok(check);
    }
    if let Some(m) = body
        .members
        .iter()
        .find(|m| hashes.contains(&m.plan_sha256))
    {
        return check_of(store, &m.decision_id);
    }
    let plans: Vec<String> = body
        .members
        .iter()
        .map(|m| {
            format!(
                "{} for {} (sha256 {}…)",
                m.decision_id,
                m.workspace,
                short(&m.plan_sha256)
            )
        })
        .collect();
    Err(anyhow!(Refused::new(
        Refusal::PlanMismatch,
        format!(
            "{plan_file} is none of the plans of set {}: {}; check this plan",
            check.decision_id,
            plans.join(", ")
        )
    )))
}

/// Refuses a decision checked for another workspace than the one Terraform is in: the
/// intents that judged it were chosen by that workspace.
fn same_workspace(id: &str, check: &CheckRecord, current: &str) -> Result<()> {
    let checked = check.workspace.as_deref().unwrap_or("default");
    if checked == current {
        return Ok(());
    }
    Err(anyhow!(Refused::new(
        Refusal::WrongWorkspace,
        format!(
            "decision {id} was checked for workspace {checked}, but the current Terraform workspace is {current}: select workspace {checked} (terraform workspace select, or $TF_WORKSPACE), or check the plan for {current}"
        )
    )))
}

/// Refuses when governed drift of the decision's workspace was recorded after the check
/// and is not reconciled (docs/living-model.md: drift holds the next apply until
/// reconciled). Drift recorded before the check is already in the decision (its
/// `model / drift` findings); in the same second, a check without such a finding did not
/// see it.
fn drift_since(store: &Store, check: &Evidence, body: &CheckRecord) -> Result<()> {
    let workspace = body.workspace.as_deref().unwrap_or("default");
    let Some(drift) = store.drift_record(workspace)? else {
        return Ok(());
    };
    let at = |t: &str| iom_model::time::parse_rfc3339(t).ok();
    let saw_drift = body.saw_drift();
    let newer = match (at(&drift.recorded_at), at(&check.recorded_at)) {
        (Some(d), Some(c)) => d > c || (d == c && !saw_drift),
        // An unreadable time cannot show the check saw the drift.
        _ => true,
    };
    if !newer {
        return Ok(());
    }
    let addresses = DriftHold::read(&drift.body).addresses;
    Err(anyhow!(Refused::new(
        Refusal::Drift,
        format!(
            "workspace {workspace} has unreconciled drift on governed resources ({}) recorded at {}, after decision {} was checked: reconcile it first (plan-guard reconcile --accept --reason TEXT, or a new plan-guard observe of what is built)",
            if addresses.is_empty() {
                "addresses unknown".to_string()
            } else {
                addresses.join(", ")
            },
            drift.recorded_at,
            check.decision_id
        )
    )))
}

/// The model a governed apply runs the post-verify probes of: the one decision `check`
/// was judged against, from `--model DIR` when given, else from the store. A model that
/// cannot be loaded, or whose digest differs from the recorded one, is refused: without
/// the decision's own contracts the probes would silently be others, or none.
pub fn model_for_apply(check: &Evidence, dir: Option<&Path>, store: Option<&str>) -> Result<Model> {
    let id = &check.decision_id;
    let recorded = check_body(check)?.model;
    let source = recorded.source.as_deref().unwrap_or("?");
    let how = match recorded.revision {
        Some(revision) => format!("the store {source} (model revision {revision})"),
        None => format!("--model {source}"),
    };
    let hint = match recorded.revision {
        Some(_) => format!("pass --store {source} (with no --model) as the check did"),
        None => format!("pass the same --model {source} as the check did"),
    };
    let Some(digest) = recorded.digest.as_deref() else {
        return Err(anyhow!(Refused::new(
            Refusal::ModelUnavailable,
            format!(
                "decision {id} does not record which model it was judged against (an older plan-guard wrote it): check the plan again"
            )
        )));
    };
    let loaded = crate::decide::model_source::load(dir, store).map_err(|e| {
        anyhow!(Refused::new(Refusal::ModelUnavailable, format!(
            "decision {id} was judged against {how}, and that model is not available here ({e:#}): {hint}, so apply runs its post-verify probes"
        )))
    })?;
    let here = evidence::model_digest(&loaded.model.spec);
    if here != digest {
        return Err(anyhow!(Refused::new(
            Refusal::ModelChanged,
            format!(
                "the model here ({}, digest {}…) is not the one decision {id} was judged against ({how}, digest {}…): {hint}, or check the plan again against this model",
                loaded.source,
                short(&here),
                digest.get(..12).unwrap_or(digest)
            )
        )));
    }
    Ok(loaded.model)
}

/// Runs `command` (see [`PlanCopy::command`]) on the private copy of the plan under
/// decision `check`, then the post-verify probes of the contracts governing the plan's
/// changes, and records the outcome.
pub fn apply(
    store: &Store,
    signer: Option<&Signer>,
    plan: &PlanCopy,
    check: &Evidence,
    model: &Model,
    command: &[String],
) -> Result<Applied> {
    let (run, command) = plan.command(command)?;
    let command = &command;
    let (program, args) = run
        .split_first()
        .ok_or_else(|| anyhow!("no command to run after --"))?;
    let run_id = claim(store, check)?;
    let finish = |succeeded: bool| {
        let state = if succeeded { "done" } else { "failed" };
        store
            .finish_apply(&check.decision_id, &run_id, state)
            .with_context(|| format!("cannot record that run {run_id} is {state}"))
    };
    let status = match Command::new(program).args(args).status() {
        Ok(status) => status,
        Err(e) => {
            // Authorised but not run: the ledger says so, and another run may try.
            let why = format!("cannot run {program}: {e}");
            append(
                store,
                signer,
                NewEvidence {
                    kind: APPLY.into(),
                    decision_id: check.decision_id.clone(),
                    recorded_at: crate::ids::now_rfc3339(),
                    plan_sha256: check.plan_sha256.clone(),
                    body: body_of(&ApplyRecord {
                        version: 1,
                        command: command.clone(),
                        error: Some(why.clone()),
                        exit_code: None,
                        plan_sha256: check.plan_sha256.clone(),
                        probes: Vec::new(),
                        run: Some(run_id.clone()),
                        signal: None,
                    })?,
                },
            )?;
            finish(false)?;
            return Err(anyhow!(why));
        }
    };
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    let mut probes = if status.success() {
        after_success(store, plan, check, model)?
    } else {
        Vec::new()
    };
    let body = body_of(&ApplyRecord {
        version: 1,
        command: command.clone(),
        error: None,
        exit_code: status.code().map(i64::from),
        plan_sha256: check.plan_sha256.clone(),
        // Whether this record is written is confirmed after it is, not in it.
        probes: probes
            .iter()
            .filter(|p| p.probe != "post_verify.run_record_written")
            .map(Into::into)
            .collect(),
        run: Some(run_id.clone()),
        signal: Some(signal.map(i64::from)),
    })?;
    let written = append(
        store,
        signer,
        NewEvidence {
            kind: APPLY.into(),
            decision_id: check.decision_id.clone(),
            recorded_at: crate::ids::now_rfc3339(),
            plan_sha256: check.plan_sha256.clone(),
            body,
        },
    );
    confirm_run_record(store, check, &written, &mut probes);
    written?;
    // Recorded before the claim ends, so no run finds the claim free and the record absent.
    finish(status.success())?;
    Ok(Applied {
        decision_id: check.decision_id.clone(),
        exit_code: status.code(),
        signal,
        probes,
    })
}

/// After a successful apply: the governing contracts' post-verify probes on the state it
/// left, and that state recorded as the workspace's new observation (docs/living-model.md).
fn after_success(
    store: &Store,
    plan: &PlanCopy,
    check: &Evidence,
    model: &Model,
) -> Result<Vec<ProbeResult>> {
    let raw = &plan.raw;
    let plan = raw.parse()?;
    let changes: Vec<_> = plan
        .resource_changes
        .iter()
        .filter(|rc| rc.change.actions != ["no-op"])
        .collect();
    // Run where the plan was made, so pass-through arguments resolve from the source.
    let sources = crate::plan::sources::Locator::new(std::path::Path::new("."), &plan);
    let contracts = Contracts::governing(&plan, model, &changes, Some(&sources));
    let state = state_after_apply();
    // The plan's configuration says which outputs of other workspaces each resource
    // reads; a plan that leaves nothing (a destroy) has nothing left to show after it.
    // Both are read without building a tree of the whole plan.
    let parts = serde_json::from_str::<AfterApply>(&raw.text).ok();
    let configuration = parts
        .as_ref()
        .and_then(|p| p.configuration)
        .and_then(|c| serde_json::from_str::<Value>(c.get()).ok());
    let leaves_nothing = parts.as_ref().is_some_and(|p| {
        p.planned_values
            .as_ref()
            .is_some_and(|v| !v.root_module.has_resources())
    });
    let probes = post_verify(contracts.calls(), state.as_deref());
    // What the apply built is the workspace's new observation (docs/living-model.md).
    if let Some(state) = &state {
        let body = check_body(check)?;
        let workspace = body.workspace.as_deref().unwrap_or("default");
        let here = std::env::current_dir().ok();
        let key = crate::living::digest_key(store)?;
        let observe = |doc: &str| {
            crate::living::observation_body(
                doc,
                "the state after apply",
                crate::living::ObservedFrom::State,
                here.as_deref(),
                configuration.as_ref(),
                &key,
            )
        };
        // No state where one should be (the command ran elsewhere): no observation.
        let body = observe(state).or_else(|e| {
            if leaves_nothing {
                observe(r#"{"values":{"root_module":{}}}"#)
            } else {
                Err(e)
            }
        });
        if let Ok(body) = body {
            store.record_observation(workspace, &crate::ids::now_rfc3339(), &body)?;
        }
    }
    Ok(probes)
}

/// `run_record_written` holds when this run's apply record reads back from the ledger
/// intact.
fn confirm_run_record(
    store: &Store,
    check: &Evidence,
    written: &Result<Evidence>,
    probes: &mut [ProbeResult],
) {
    for p in probes
        .iter_mut()
        .filter(|p| p.probe == "post_verify.run_record_written")
    {
        (p.ok, p.message) = match &written {
            Ok(e) => match store.evidence_for(&check.decision_id) {
                Ok(records) if records.iter().any(|r| r.hash == e.hash) => {
                    (true, format!("apply record {} is in the ledger", e.seq))
                }
                Ok(_) => (false, "the apply record does not read back".into()),
                Err(err) => (false, format!("the ledger cannot be read: {err}")),
            },
            Err(err) => (false, format!("{err:#}")),
        };
    }
}

/// Claims decision `check` for a new run of its command; refused when another run holds
/// it (running now, or done). Returns the run's id.
fn claim(store: &Store, check: &Evidence) -> Result<String> {
    let id = &check.decision_id;
    let run_id = format!("run-{}", crate::ids::random_hex(6)?);
    let claim = ApplyClaim {
        decision_id: id.clone(),
        run_id: run_id.clone(),
        holder: format!("pid {} on {}", std::process::id(), host_name()),
        claimed_at: crate::ids::now_rfc3339(),
        state: "running".into(),
    };
    let Some(held) = store.claim_apply(&claim)? else {
        return Ok(run_id);
    };
    let by = format!(
        "run {} ({}, claimed {})",
        held.run_id, held.holder, held.claimed_at
    );
    Err(anyhow!(Refused::new(
        Refusal::Claimed,
        if held.state == "running" {
            format!(
                "decision {id} is being applied by {by}: a decision runs once; wait for that run (if it died before recording its outcome, plan again and check the new plan)"
            )
        } else {
            format!("decision {id} was already applied by {by}: plan again and check the new plan")
        }
    )))
}

/// This machine's name, for the claim's holder.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unnamed host".into())
}

/// What the observation after a governed apply needs from the plan document.
#[derive(serde::Deserialize)]
struct AfterApply<'a> {
    #[serde(borrow, default)]
    configuration: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    planned_values: Option<PlannedValues>,
}

#[derive(serde::Deserialize)]
struct PlannedValues {
    #[serde(default)]
    root_module: ModuleShape,
}

/// A `planned_values` module reduced to whether it holds resources.
#[derive(serde::Deserialize, Default)]
struct ModuleShape {
    #[serde(default)]
    resources: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    child_modules: Vec<ModuleShape>,
}

impl ModuleShape {
    /// Whether it holds a resource, here or in a child module.
    fn has_resources(&self) -> bool {
        !self.resources.is_empty() || self.child_modules.iter().any(ModuleShape::has_resources)
    }
}

/// The state `terraform show -json` reports in the working directory after the apply.
fn state_after_apply() -> Option<String> {
    crate::plan::terraform_output(&["show", "-json"]).ok()
}

/// One ledger line for `evidence list`.
pub fn list_line(e: &Evidence) -> String {
    let or = |v: &Option<String>, missing: &'static str| v.clone().unwrap_or(missing.into());
    let detail = match Record::read(&e.kind, &e.body) {
        Ok(Record::Check(c)) => format!(
            "{} by {} in {}",
            or(&c.verdict, "?"),
            or(&c.actor, "?"),
            or(&c.workspace, "?")
        ),
        Ok(Record::Approval(a)) => format!("by {}: {}", or(&a.actor, "?"), or(&a.reason, "")),
        // Written by the provider's iom_verify and iom_record actions inside Terraform.
        Ok(Record::Verification(v)) => format!(
            "{} by iom_verify: {} of {} probes held",
            or(&v.contract, "?"),
            v.probes.iter().filter(|p| p.ok).count(),
            v.probes.len()
        ),
        Ok(Record::Run(r)) => format!("{} by iom_record: {}", or(&r.kind, "?"), or(&r.message, "")),
        Ok(Record::Apply(a)) => match (a.ended_by(), &a.error) {
            (_, Some(error)) => format!("not run: {error}"),
            (Some(n), _) => format!("ended by signal {n}"),
            _ => match &a.exit_code {
                Some(code) => format!("exit {code}"),
                None => "exit null".into(),
            },
        },
        Ok(Record::Reconcile(r)) => {
            let drifted = r.reconciliation.drifted.len();
            let what = if r.accepted {
                format!(
                    "drift on {drifted} governed resource(s) accepted: {}",
                    or(&r.reason, "")
                )
            } else if drifted > 0 {
                format!("drift on {drifted} governed resource(s) held")
            } else {
                "no governed drift".into()
            };
            format!(
                "by {} in {}: {what}",
                or(&r.actor, "?"),
                Some(r.reconciliation.workspace.as_str())
                    .filter(|w| !w.is_empty())
                    .unwrap_or("?")
            )
        }
        Ok(Record::Other) => String::new(),
        Err(why) => format!("unreadable {} record: {why}", e.kind),
    };
    format!(
        "{:>5}  {}  {:<8}  {}  {detail}",
        e.seq, e.recorded_at, e.kind, e.decision_id
    )
}

/// A record as exported and shown: every stored field.
pub fn record_json(e: &Evidence) -> Value {
    serde_json::json!({
        "seq": e.seq,
        "kind": e.kind,
        "decision_id": e.decision_id,
        "recorded_at": e.recorded_at,
        "plan_sha256": e.plan_sha256,
        "body": e.body,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "signature": e.signature,
    })
}

#[cfg(test)]
mod refusal_tests {
    use super::{Refusal, Refused, approve};
    use iom_store::Store;

    fn fresh_store() -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "plan-guard-refusal-{}-{}",
            std::process::id(),
            crate::ids::random_hex(6).unwrap()
        ));
        let store = Store::open(&format!("sqlite://{}/model.db", dir.display())).unwrap();
        (store, dir)
    }

    /// Callers tell refusals apart by kind, not by the message's words.
    #[test]
    fn approvals_are_refused_by_kind() {
        let (store, dir) = fresh_store();
        let no_reason = approve(&store, None, None, "d-1", "alice", " ")
            .err()
            .unwrap();
        assert_eq!(Refused::of(&no_reason), Some(Refusal::NoReason));
        let unknown = approve(&store, None, None, "d-1", "alice", "ok")
            .err()
            .unwrap();
        assert_eq!(Refused::of(&unknown), Some(Refusal::NoCheck), "{unknown:#}");
        assert!(store.evidence().unwrap().records.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Whether a decision was applied is read from its apply records; one that does not
    /// read may be the successful run, so it refuses as surely as a success does.
    #[test]
    fn an_unreadable_apply_record_refuses_like_a_successful_one() {
        let apply = |seq: u64, body: serde_json::Value| iom_store::Evidence {
            seq,
            kind: super::APPLY.into(),
            decision_id: "d-1".into(),
            recorded_at: "2026-12-03T10:00:00Z".into(),
            plan_sha256: None,
            body,
            prev_hash: String::new(),
            hash: String::new(),
            signature: None,
        };
        let failed = apply(
            1,
            serde_json::json!({ "command": ["terraform"], "exit_code": 1 }),
        );
        assert!(super::not_applied_yet("d-1", std::slice::from_ref(&failed)).is_ok());
        let done = apply(
            2,
            serde_json::json!({ "command": ["terraform"], "exit_code": 0 }),
        );
        let refused = super::not_applied_yet("d-1", &[failed.clone(), done]).unwrap_err();
        assert_eq!(Refused::of(&refused), Some(Refusal::AlreadyApplied));
        let garbled = apply(2, serde_json::json!({ "exit_code": "zero" }));
        let refused = super::not_applied_yet("d-1", &[failed, garbled]).unwrap_err();
        assert_eq!(Refused::of(&refused), Some(Refusal::UnreadableRecord));
        assert!(
            refused.to_string().contains("evidence record 2"),
            "{refused}"
        );
    }
}
