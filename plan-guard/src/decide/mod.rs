//! The decision core (docs/judging.md): for every planned change, find the intents that
//! govern it, collect findings from their profiles, permitted types, critical addresses,
//! constraints and blueprint rules, thresholds and the ungoverned policy, and take the
//! highest outcome. One evaluation core; every output format renders its [`Report`].

pub mod cel_input;
pub mod contracts;
pub mod govtest;
pub mod model_source;
pub mod module_calls;
pub mod plan_set;
/// The network probes, shared with the provider's `iom_verify` action.
pub use iom_probe as probes;
pub mod report;
pub mod surface;

use crate::decide::cel_input::{Unknown, check_mask, to_cel};
use crate::decide::contracts::Contracts;
use crate::decide::report::{ChangeReport, Finding, ModelInfo, PlanInfo, Report, Summary};
use crate::decide::surface::natural_cmp;
use crate::graph::{BlastRadius, ChangeGraph, Scratch};
use crate::living::{CrossWorkspace, ElementLinks};
use crate::plan::{Plan, RawPlan, ResourceChange};
use cel::common::types::{CelList, CelString};
use cel::{Context, ExecutionError, Value};
use iom_model::{
    ActionClass, CompiledIntent, CompiledProfile, CompiledRule, Condition, Model, Outcome, Partial,
    PathStep,
};
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

/// What a check is judged with besides the plan and the model.
pub struct CheckOptions {
    /// The Terraform workspace the plan is for (selects intents by their scope).
    pub workspace: String,
    /// Who runs the check (`--actor`).
    pub actor: String,
    /// Outcome for a change no intent governs.
    pub ungoverned: Outcome,
    /// `--model DIR` as given, or the store's URL.
    pub model_source: String,
    /// The store's model revision, when the model came from the store.
    pub model_revision: Option<u64>,
    /// The workspace's configuration (`--source-dir`): arguments that pass a variable
    /// straight into a module call give contracts that variable's value.
    pub source_dir: Option<std::path::PathBuf>,
}

/// What the living model knows around the plan (docs/living-model.md), read from the store:
/// the workspace's unreconciled drift and the latest observations. Its findings and blast
/// radius go through the same judgement as the plan's own.
#[derive(Debug, Default)]
pub struct Observed {
    /// Governed resources of the workspace with unreconciled drift.
    pub drifted: Vec<String>,
    /// The workspace's latest observation.
    pub this: Option<serde_json::Value>,
    /// The latest observation of every other observed workspace.
    pub others: Vec<(String, serde_json::Value)>,
    /// Judged in a set of plans ([`plan_set`]): what this workspace's own plan says is
    /// built, at the directory the set found it in (besides `this`, which the store holds).
    pub this_in_set: Option<serde_json::Value>,
    /// Judged in a set of plans: the other members' workspaces → the addresses their
    /// plans change → the action class. A reader of this workspace among them is
    /// changing in the same set (the `model / set_reader` finding).
    pub set_changes: BTreeMap<String, BTreeMap<String, ActionClass>>,
}

/// Why a plan cannot be judged.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Terraform marked the plan errored.
    #[error(
        "{source_name}: the plan is marked errored: Terraform could not finish planning, so it cannot be judged"
    )]
    Errored {
        /// Where the plan came from.
        source_name: String,
    },
    /// A change's action list is none Terraform writes.
    #[error("{source_name}: {address}: unsupported action list {actions:?}")]
    UnsupportedActions {
        /// Where the plan came from.
        source_name: String,
        /// The change's address.
        address: String,
        /// Its actions.
        actions: Vec<String>,
    },
    /// A change's unknown or sensitive mask does not read.
    #[error("{source_name}: {address}: `{field}` is not a valid mask: {message}")]
    BadMask {
        /// Where the plan came from.
        source_name: String,
        /// The change's address.
        address: String,
        /// `after_unknown`, `before_sensitive` or `after_sensitive`.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A change's `before` or `after` is not valid JSON.
    #[error("{source_name}: {address}: `{field}` is not valid JSON: {message}")]
    BadValue {
        /// Where the plan came from.
        source_name: String,
        /// The change's address.
        address: String,
        /// `before` or `after`.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// Judges every change of `plan` against `model`.
pub fn check(
    raw: &RawPlan,
    plan: &Plan<'_>,
    model: &Model,
    opts: &CheckOptions,
) -> Result<Report, CheckError> {
    check_observed(raw, plan, model, opts, &Observed::default())
}

/// Judges every change of `plan` against `model`, with what the living model observed:
/// drift findings, and readers in other workspaces in the blast radius, are judged with
/// the plan's own findings (waivers, maxima) in one step.
pub fn check_observed(
    raw: &RawPlan,
    plan: &Plan<'_>,
    model: &Model,
    opts: &CheckOptions,
    observed: &Observed,
) -> Result<Report, CheckError> {
    let source_name = raw.source.to_string();
    if plan.errored {
        return Err(CheckError::Errored { source_name });
    }
    let graph = ChangeGraph::build(plan);
    let intents: Vec<&CompiledIntent> = model
        .intents
        .iter()
        .filter(|i| i.governs_workspace(&opts.workspace))
        .collect();

    // Action invocations are judged as changes of class `invoke`: made into changes here,
    // and kept alive for the whole check.
    let invocations = Invocations::of(plan);
    let (judged, unjudged_imports) = classify(invocations.entries(plan), &intents, &source_name)?;
    let in_scope = changes_in_scope(&judged);

    let targets: Vec<&ResourceChange> = judged.iter().map(|j| j.rc).collect();
    // The source is read only when a contract may need it.
    let sources = match &opts.source_dir {
        Some(dir) if !model.spec.contracts.is_empty() => {
            Some(crate::plan::sources::Locator::new(dir, plan))
        }
        _ => None,
    };
    let contracts = Contracts::evaluate(plan, model, &intents, &targets, sources.as_ref());

    let judge = Judge {
        graph: &graph,
        model,
        opts,
        in_scope: &in_scope,
        contracts: &contracts,
        cross_workspace: CrossWorkspace::new(
            plan,
            observed.this.iter().chain(&observed.this_in_set),
            &observed.others,
        ),
        element_links: ElementLinks::new(model, &opts.workspace, &observed.others),
        drift: crate::living::drift_message(&opts.workspace, &observed.drifted),
        set_changes: &observed.set_changes,
        source_name: &source_name,
        now: iom_model::time::now_unix(),
    };
    let mut changes = judge.all(&judged)?;
    changes.extend(judge.module_calls(plan, &intents));
    changes.sort_by(|a, b| natural_cmp(&a.address, &b.address).then(a.deposed.cmp(&b.deposed)));
    let sections = contract_sections(&contracts, &targets, &intents);

    let mut report = Report {
        actor: opts.actor.clone(),
        changes,
        contracts: sections,
        decision_id: crate::ids::decision_id(raw.sha256()),
        generated_at: crate::ids::now_rfc3339(),
        model: ModelInfo {
            revision: opts.model_revision,
            source: opts.model_source.clone(),
        },
        plan: PlanInfo {
            format_version: plan.format_version.clone(),
            sha256: raw.sha256().to_string(),
            source: raw.source.to_string(),
            terraform_version: plan.terraform_version.clone(),
        },
        findings: incomplete_plan_findings(plan, &intents, model, opts),
        summary: Summary {
            unjudged_imports,
            ..Summary::default()
        },
        verdict: Outcome::Allow,
        workspace: opts.workspace.clone(),
    };
    report.recount();
    Ok(report)
}

/// A plan's action invocations made into changes of class `invoke`, and the deferred
/// ones with Terraform's reason.
struct Invocations<'p> {
    now: Vec<(ResourceChange<'p>, String)>,
    deferred: Vec<(ResourceChange<'p>, String, &'p str)>,
}

impl<'p> Invocations<'p> {
    fn of(plan: &'p Plan<'_>) -> Invocations<'p> {
        Invocations {
            now: plan
                .action_invocations
                .iter()
                .map(|a| (a.as_change(), a.trigger()))
                .collect(),
            deferred: plan
                .deferred_action_invocations
                .iter()
                .map(|d| {
                    let a = &d.action_invocation;
                    (
                        a.as_change(),
                        a.trigger(),
                        d.reason.as_deref().unwrap_or(""),
                    )
                })
                .collect(),
        }
    }

    /// Every change the plan asks for, with where it comes from: resource changes, the
    /// changes Terraform deferred, and these invocations.
    fn entries(&'p self, plan: &'p Plan<'p>) -> Vec<(&'p ResourceChange<'p>, Origin<'p>)> {
        plan.resource_changes
            .iter()
            .map(|rc| (rc, Origin::default()))
            .chain(plan.deferred_changes.iter().map(|d| {
                let deferred = Some(d.reason.as_deref().unwrap_or(""));
                (
                    &d.resource_change,
                    Origin {
                        deferred,
                        ..Origin::default()
                    },
                )
            }))
            .chain(self.now.iter().map(|(rc, trigger)| {
                (
                    rc,
                    Origin {
                        trigger: Some(trigger),
                        ..Origin::default()
                    },
                )
            }))
            .chain(self.deferred.iter().map(|(rc, trigger, reason)| {
                let (trigger, deferred) = (Some(trigger.as_str()), Some(*reason));
                (rc, Origin { trigger, deferred })
            }))
            .collect()
    }
}

/// Each entry's action class and the places it is judged at, with the intents governing
/// each; no-op changes are left out (the imports among them counted). An action list no
/// Terraform writes stops the check.
fn classify<'p, 'm>(
    entries: Vec<(&'p ResourceChange<'p>, Origin<'p>)>,
    intents: &[&'m CompiledIntent],
    source_name: &str,
) -> Result<(Vec<Judged<'p, 'm>>, usize), CheckError> {
    let mut judged: Vec<Judged> = Vec::new();
    let mut unjudged_imports = 0;
    for (rc, origin) in entries {
        let moved_from = rc.previous_address.as_deref().filter(|p| *p != rc.address);
        let class = match origin.trigger {
            Some(_) => Some(ActionClass::Invoke),
            None => ActionClass::of_change(&rc.change.actions, moved_from.is_some()),
        };
        let class = class.ok_or_else(|| CheckError::UnsupportedActions {
            source_name: source_name.to_string(),
            address: rc.address.clone(),
            actions: rc.change.actions.clone(),
        })?;
        if class == ActionClass::NoOp {
            unjudged_imports += usize::from(rc.change.importing.is_some());
            continue;
        }
        // A moved object is judged at its new address and at the one it leaves.
        let places = std::iter::once(rc.address.as_str())
            .chain(moved_from)
            .map(|address| Place {
                address,
                governing: intents
                    .iter()
                    .copied()
                    .filter(|i| i.governs_address(address))
                    .collect(),
            })
            .collect();
        judged.push(Judged {
            rc,
            class,
            places,
            origin,
        });
    }
    Ok((judged, unjudged_imports))
}

/// Intent name → how many judged changes it governs.
fn changes_in_scope<'m>(judged: &[Judged<'_, 'm>]) -> BTreeMap<&'m str, usize> {
    let mut in_scope: BTreeMap<&str, usize> = BTreeMap::new();
    for j in judged {
        for name in j.governed_by() {
            *in_scope.entry(name).or_default() += 1;
        }
    }
    in_scope
}

/// The contract section of every governed call, with the number of judged changes in
/// it, sorted by call and contract.
fn contract_sections(
    contracts: &Contracts<'_>,
    targets: &[&ResourceChange<'_>],
    intents: &[&CompiledIntent],
) -> Vec<crate::decide::surface::ContractSection> {
    let calls = contracts.calls();
    let mut changes = vec![0; calls.len()];
    for rc in targets {
        for gi in contracts.indexes_for(rc) {
            if let Some(count) = changes.get_mut(gi) {
                *count += 1;
            }
        }
    }
    let profiles: BTreeSet<&str> = intents.iter().map(|i| i.profile.as_str()).collect();
    let mut sections: Vec<_> = calls
        .iter()
        .zip(changes)
        .map(|(g, n)| g.section(n, &profiles))
        .collect();
    sections.sort_by(|a, b| (&a.call, &a.contract).cmp(&(&b.call, &b.contract)));
    sections
}

/// One change to judge, with the places it is judged at.
struct Judged<'p, 'm> {
    rc: &'p ResourceChange<'p>,
    class: ActionClass,
    /// Its address and, for a moved object, its previous address: the change is judged
    /// at each under the intents that govern there, and the stricter outcome wins.
    places: Vec<Place<'p, 'm>>,
    origin: Origin<'p>,
}

/// An address a change is judged at, and the intents that govern it there.
struct Place<'p, 'm> {
    address: &'p str,
    governing: Vec<&'m CompiledIntent>,
}

impl<'m> Judged<'_, 'm> {
    /// The names of the intents governing any of its places, each once, sorted.
    fn governed_by(&self) -> BTreeSet<&'m str> {
        self.places
            .iter()
            .flat_map(|p| p.governing.iter().map(|i| i.name.as_str()))
            .collect()
    }

    /// The intents governing any of its places, each once, in model order.
    fn governing(&self) -> Vec<&'m CompiledIntent> {
        let mut all: Vec<&CompiledIntent> = Vec::new();
        for i in self.places.iter().flat_map(|p| p.governing.iter().copied()) {
            if !all.iter().any(|a| a.name == i.name) {
                all.push(i);
            }
        }
        all
    }
}

/// Where a judged change comes from, besides the plan's resource changes.
#[derive(Debug, Clone, Copy, Default)]
struct Origin<'p> {
    /// Deferred by Terraform to a later plan, for this reason.
    deferred: Option<&'p str>,
    /// An action invocation, and what triggers it.
    trigger: Option<&'p str>,
}

/// An incomplete plan (`complete: false`: `-target`, or changes deferred) leaves out
/// changes the apply after it will need, so it is never a plain allow: each profile of
/// the intents governing the workspace gives its `on_unknown`, at least warn; with no
/// intent, the `--ungoverned` outcome, at least warn.
fn incomplete_plan_findings(
    plan: &Plan<'_>,
    intents: &[&CompiledIntent],
    model: &Model,
    opts: &CheckOptions,
) -> Vec<Finding> {
    if plan.complete != Some(false) {
        return Vec::new();
    }
    let message = "the plan is incomplete (complete: false, from -target or changes Terraform deferred): what it leaves out is not judged".to_string();
    let mut profiles: Vec<&CompiledProfile> = intents
        .iter()
        .filter_map(|i| model.profiles.get(&i.profile))
        .collect();
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    profiles.dedup_by(|a, b| a.name == b.name);
    if profiles.is_empty() {
        return vec![Finding {
            message,
            outcome: opts.ungoverned.max(Outcome::Warn),
            rule: "incomplete".into(),
            source: "model".into(),
            waived_by: None,
        }];
    }
    profiles
        .into_iter()
        .map(|p| Finding {
            message: message.clone(),
            outcome: p.on_unknown.max(Outcome::Warn),
            rule: "incomplete".into(),
            source: format!("profile:{}", p.name),
            waived_by: None,
        })
        .collect()
}

/// What judging one change needs from the whole check; shared by the worker threads.
struct Judge<'a, 'm> {
    graph: &'a ChangeGraph,
    model: &'m Model,
    opts: &'a CheckOptions,
    in_scope: &'a BTreeMap<&'m str, usize>,
    contracts: &'a Contracts<'m>,
    /// Readers of this workspace's outputs in other observed workspaces.
    cross_workspace: Option<CrossWorkspace<'a>>,
    /// Resources of other workspaces that elements bring into a blast radius.
    element_links: Option<ElementLinks<'a>>,
    /// The message of the drift finding, while the workspace has unreconciled drift.
    drift: Option<String>,
    /// What the other plans of a set change, by workspace ([`Observed::set_changes`]).
    set_changes: &'a BTreeMap<String, BTreeMap<String, ActionClass>>,
    source_name: &'a str,
    /// Unix seconds waivers expire against, read once so every change sees one instant.
    now: i64,
}

/// Below this many changes per thread, starting a thread costs more than it saves.
const CHANGES_PER_THREAD: usize = 64;

/// The most threads a check may use: `$PLAN_GUARD_THREADS`, else one per core.
fn max_threads() -> usize {
    std::env::var("PLAN_GUARD_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

impl<'m> Judge<'_, 'm> {
    /// Judges every change, on as many threads as the machine has cores (each with its own
    /// CEL context and scratch space); the reports come back in plan order, and the first
    /// error in plan order wins, so the result does not depend on the threads.
    fn all(&self, judged: &[Judged<'_, 'm>]) -> Result<Vec<ChangeReport>, CheckError> {
        let threads = max_threads()
            .min(judged.len().div_ceil(CHANGES_PER_THREAD))
            .max(1);
        let chunk = judged.len().div_ceil(threads).max(1);
        let run = |part: &[Judged<'_, 'm>]| -> Result<Vec<ChangeReport>, CheckError> {
            let root = iom_model::root_context();
            let mut scratch = Scratch::default();
            part.iter()
                .map(|j| self.change(j, &root, &mut scratch))
                .collect()
        };
        if threads == 1 {
            return run(judged);
        }
        let parts: Vec<Result<Vec<ChangeReport>, CheckError>> = std::thread::scope(|s| {
            let handles: Vec<_> = judged
                .chunks(chunk)
                .map(|part| s.spawn(move || run(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut out = Vec::with_capacity(judged.len());
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// Every module call of the configuration that the module rules of an intent in its
    /// scope judge, as a change of class `module` whose findings settle as any change's.
    fn module_calls(&self, plan: &Plan<'_>, intents: &[&'m CompiledIntent]) -> Vec<ChangeReport> {
        let root = iom_model::root_context();
        let mut out = Vec::new();
        for call in module_calls::calls(plan) {
            let governing: Vec<&CompiledIntent> = intents
                .iter()
                .copied()
                .filter(|i| !i.module_rules.is_empty() && i.governs_address(&call.address))
                .collect();
            if governing.is_empty() {
                continue;
            }
            let raised = module_calls::findings(&call, &governing, &self.opts.workspace, &root);
            let at = call.address.as_str();
            let (findings, verdict) = self.settle(raised.into_iter().map(|f| (at, f)).collect());
            let mut change = module_calls::change_report(&call, &governing, findings, verdict);
            change.accountable = crate::decide::surface::accountable(
                &change.findings,
                verdict,
                &governing,
                self.model,
            );
            out.push(change);
        }
        out
    }

    /// The one step every finding of a change goes through, wherever it was raised
    /// (rules, contracts, drift, the blast radius across workspaces): a live waiver that
    /// covers the finding at the address it was raised at turns it into an allow naming
    /// the waiver; one only an expired waiver covers stands, with a `model /
    /// waiver_expired` warning. Returns the findings, sorted, and the verdict: their
    /// highest outcome.
    fn settle(&self, raised: Vec<(&str, Finding)>) -> (Vec<Finding>, Outcome) {
        let workspace = self.opts.workspace.as_str();
        let mut findings = Vec::with_capacity(raised.len());
        for (address, mut f) in raised {
            if f.outcome > Outcome::Allow {
                let (live, dead): (Vec<_>, Vec<_>) = self
                    .model
                    .waivers
                    .iter()
                    .filter(|w| w.covers(&f.source, &f.rule, address, workspace))
                    .partition(|w| w.expires_unix > self.now);
                if let Some(w) = live.first() {
                    f.message = format!(
                        "{} (waived by {} until {}, approved by {}: {})",
                        f.message, w.name, w.expires, w.approved_by, w.reason
                    );
                    f.outcome = Outcome::Allow;
                    f.waived_by = Some(w.name.clone());
                } else if let Some(w) = dead.first() {
                    findings.push(Finding {
                        message: format!(
                            "waiver {} expired at {}: it no longer waives {} / {}",
                            w.name, w.expires, f.source, f.rule
                        ),
                        outcome: Outcome::Warn,
                        rule: "waiver_expired".into(),
                        source: "model".into(),
                        waived_by: None,
                    });
                }
            }
            findings.push(f);
        }
        findings.sort_by(|a, b| {
            (&a.source, &a.rule, &a.message).cmp(&(&b.source, &b.rule, &b.message))
        });
        findings.dedup();
        let verdict = findings
            .iter()
            .map(|f| f.outcome)
            .max()
            .unwrap_or(Outcome::Allow);
        (findings, verdict)
    }

    /// A mask that is not one would read as "nothing unknown" or "nothing sensitive":
    /// the check stops, naming the change and the mask.
    fn check_masks(&self, rc: &ResourceChange<'_>) -> Result<(), CheckError> {
        let change = &rc.change;
        for (field, mask) in [
            ("after_unknown", change.after_unknown),
            ("before_sensitive", change.before_sensitive),
            ("after_sensitive", change.after_sensitive),
        ] {
            check_mask(mask).map_err(|message| CheckError::BadMask {
                source_name: self.source_name.to_string(),
                address: rc.address.clone(),
                field,
                message,
            })?;
        }
        Ok(())
    }

    /// Everything that depends on the change: in the plan's graph (at either address of a
    /// moved object), through declared elements, in other observed workspaces.
    fn blast_radius(&self, j: &Judged<'_, 'm>, scratch: &mut Scratch) -> BlastRadius {
        let rc = j.rc;
        let mut blast = match self.graph.node(&rc.address, rc.deposed.as_deref()) {
            Some(n) => self.graph.blast_radius(n, scratch),
            None => BlastRadius::default(),
        };
        // Declared elements that depend on one this instance belongs to are in its blast
        // radius too (docs/judging.md, Elements), named `element:NAME`.
        let mut direct = BTreeSet::new();
        let mut all = BTreeSet::new();
        for place in &j.places {
            let (d, a) = self.model.element_dependents(place.address);
            direct.extend(d);
            all.extend(a);
        }
        if !all.is_empty() {
            blast.direct += direct.len();
            blast.transitive += all.len();
            blast
                .addresses
                .extend(all.iter().map(|n| format!("element:{n}")));
            blast.addresses.sort_unstable();
        }
        if let Some(cross) = &self.cross_workspace {
            cross.extend(&rc.address, &mut blast);
        }
        if let Some(links) = &self.element_links {
            links.extend(&mut blast);
        }
        // As people read them: `spoke[2]` before `spoke[10]`.
        blast.addresses.sort_by(|a, b| natural_cmp(a, b));
        blast
    }

    fn change(
        &self,
        j: &Judged<'_, 'm>,
        root: &Context<'_, '_>,
        scratch: &mut Scratch,
    ) -> Result<ChangeReport, CheckError> {
        let (rc, class) = (j.rc, j.class);
        self.check_masks(rc)?;
        let blast = self.blast_radius(j, scratch);
        let mut raised: Vec<(&str, Finding)> = Vec::new();
        for place in &j.places {
            self.judge_at(j, place, &blast, root, &mut raised)?;
        }
        let governing = j.governing();
        let here = rc.address.as_str();
        let classes: Vec<ActionClass> = judged_classes(class, &rc.change.actions).collect();
        raised.extend(
            self.contracts
                .findings_for(rc, &classes, &governing, self.model)
                .into_iter()
                .map(|f| (here, f)),
        );
        if let Some(finding) = self.drift_finding(&governing) {
            raised.push((here, finding));
        }
        if let Some(finding) = plan_set::reader_finding(&blast, self.set_changes) {
            raised.push((here, finding));
        }
        let (findings, verdict) = self.settle(raised);
        let mut contracts: Vec<String> = self
            .contracts
            .indexes_for(rc)
            .iter()
            .filter_map(|&gi| self.contracts.calls().get(gi))
            .map(|call| call.contract.name.clone())
            .collect();
        contracts.sort();
        contracts.dedup();
        Ok(ChangeReport {
            accountable: crate::decide::surface::accountable(
                &findings, verdict, &governing, self.model,
            ),
            action: class,
            actions: rc.change.actions.clone(),
            address: rc.address.clone(),
            blast_radius: blast,
            contracts,
            deferred: j.origin.deferred.map(str::to_string),
            deposed: rc.deposed.clone(),
            findings,
            governed_by: j.governed_by().into_iter().map(String::from).collect(),
            importing: rc.change.importing.is_some(),
            module: module_of(rc),
            module_call: None,
            previous_address: rc.previous_address.clone(),
            trigger: j.origin.trigger.map(str::to_string),
            ty: rc.ty.clone(),
            verdict,
        })
    }

    /// The findings of change `j` as if it were at `place` (its address, or the one a
    /// moved object left), under the intents that govern there, each with that address.
    fn judge_at<'p>(
        &self,
        j: &Judged<'p, 'm>,
        place: &Place<'p, 'm>,
        blast: &BlastRadius,
        root: &Context<'_, '_>,
        raised: &mut Vec<(&'p str, Finding)>,
    ) -> Result<(), CheckError> {
        let (model, opts, rc) = (self.model, self.opts, j.rc);
        let at = At::of(rc, place.address);
        let values = ChangeValues {
            rc,
            class: j.class,
            at: &at,
            workspace: &opts.workspace,
            governing: &place.governing,
            deferred: j.origin.deferred,
            root,
            ctx: OnceCell::new(),
            unknown: OnceCell::new(),
        };
        let mut findings = Vec::new();
        for intent in &place.governing {
            let Some(profile) = model.profiles.get(&intent.profile) else {
                continue;
            };
            judge(
                intent,
                profile,
                &values,
                blast,
                self.in_scope[intent.name.as_str()],
                &mut findings,
            )
            .map_err(|(field, message)| CheckError::BadValue {
                source_name: self.source_name.to_string(),
                address: rc.address.clone(),
                field,
                message,
            })?;
        }
        if place.governing.is_empty() && opts.ungoverned > Outcome::Allow {
            findings.push(Finding {
                waived_by: None,
                source: "model".into(),
                rule: "ungoverned".into(),
                outcome: opts.ungoverned,
                message: format!(
                    "no intent governs {} in workspace {}",
                    place.address, opts.workspace
                ),
            });
        }
        raised.extend(findings.into_iter().map(|f| (place.address, f)));
        Ok(())
    }

    /// The `model / drift` finding of a governed change while the workspace has
    /// unreconciled drift: the strictest `on_drift` of the governing profiles.
    fn drift_finding(&self, governing: &[&CompiledIntent]) -> Option<Finding> {
        let message = self.drift.as_ref()?;
        let outcome = governing
            .iter()
            .filter_map(|i| self.model.profiles.get(&i.profile))
            .map(|p| p.on_drift)
            .max()?;
        Some(Finding {
            message: message.clone(),
            outcome,
            rule: "drift".into(),
            source: "model".into(),
            waived_by: None,
        })
    }
}

/// The classes a change is judged under: its own, and `forget` too for a create that also
/// forgets the object it replaces (see [`ActionClass::also_forgets`]).
fn judged_classes(class: ActionClass, actions: &[String]) -> impl Iterator<Item = ActionClass> {
    std::iter::once(class).chain(class.also_forgets(actions).then_some(ActionClass::Forget))
}

/// The names an address gives a change's conditions: `address`, `module`, `name`.
struct At<'a> {
    address: &'a str,
    module: String,
    name: &'a str,
}

impl<'a> At<'a> {
    /// `rc` as seen at `address` (its own, or the previous address of a moved object).
    fn of(rc: &'a ResourceChange<'a>, address: &'a str) -> At<'a> {
        if address == rc.address {
            return At {
                address,
                module: module_of(rc),
                name: &rc.name,
            };
        }
        let parsed = crate::plan::address::InstanceAddress::parse(address);
        At {
            address,
            module: parsed
                .as_ref()
                .map(|a| a.module_address())
                .unwrap_or_default(),
            name: resource_name(address).unwrap_or(&rc.name),
        }
    }
}

/// The name part of a resource instance address (`y` of `module.a.x.y[0]`).
fn resource_name(address: &str) -> Option<&str> {
    let without_key = match address.strip_suffix(']') {
        Some(_) => &address[..address.rfind('[')?],
        None => address,
    };
    without_key.rsplit('.').next()
}

fn module_of(rc: &ResourceChange) -> String {
    match &rc.module_address {
        Some(m) => m.clone(),
        None => crate::plan::address::InstanceAddress::parse(&rc.address)
            .map(|a| a.module_address())
            .unwrap_or_default(),
    }
}

/// One change as conditions see it. Its CEL variables are bound once, when the first
/// condition runs, and shared by every rule of every governing intent: binding converts
/// `after`/`before` into CEL values, the costliest step of a check.
struct ChangeValues<'a> {
    rc: &'a ResourceChange<'a>,
    class: ActionClass,
    /// The address the change is judged at, with its module and name.
    at: &'a At<'a>,
    workspace: &'a str,
    governing: &'a [&'a CompiledIntent],
    /// Why Terraform deferred the change, when it did.
    deferred: Option<&'a str>,
    root: &'a Context<'a, 'a>,
    ctx: OnceCell<Result<Context<'a, 'a>, (&'static str, String)>>,
    unknown: OnceCell<Unknown>,
}

impl<'a> ChangeValues<'a> {
    /// Whether any rule that applies to this change reads `variable`.
    fn read_by_a_rule(&self, variable: &str) -> bool {
        self.governing.iter().any(|i| {
            i.rules
                .iter()
                .any(|r| self.rule_applies(r) && r.condition.mentions(variable))
        })
    }

    /// Whether `rule` is about this change's type and one of its classes.
    fn rule_applies(&self, rule: &CompiledRule) -> bool {
        judged_classes(self.class, &self.rc.change.actions).any(|c| rule.applies_to(&self.rc.ty, c))
    }

    fn context(&self) -> Result<&Context<'a, 'a>, (&'static str, String)> {
        self.ctx
            .get_or_init(|| self.bind())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn bind(&self) -> Result<Context<'a, 'a>, (&'static str, String)> {
        let rc = self.rc;
        let mut ctx = self.root.new_inner_scope();
        for (name, raw) in [("after", rc.change.after), ("before", rc.change.before)] {
            if self.read_by_a_rule(name) {
                let value = to_cel(raw).map_err(|e| (name, e.to_string()))?;
                ctx.add_variable_as_val(name, value);
            }
        }
        let text = |s: &'a str| Box::new(CelString::from(s));
        ctx.add_variable_as_val("address", text(self.at.address));
        ctx.add_variable_as_val("type", text(&rc.ty));
        ctx.add_variable_as_val("name", text(self.at.name));
        ctx.add_variable_as_val("module", text(&self.at.module));
        ctx.add_variable_as_val("provider", text(rc.provider_name.as_deref().unwrap_or("")));
        ctx.add_variable_as_val("workspace", text(self.workspace));
        ctx.add_variable_as_val("action", text(self.class.as_str()));
        let actions: Vec<Box<dyn cel::common::value::Val + 'a>> = rc
            .change
            .actions
            .iter()
            .map(|a| text(a) as Box<dyn cel::common::value::Val + 'a>)
            .collect();
        ctx.add_variable_as_val("actions", Box::new(CelList::from(actions)));
        Ok(ctx)
    }
}

type Judgement = Result<(), (&'static str, String)>;

/// Every finding intent `intent` (under its profile `profile`) makes about one change:
/// the profile's outcome for its actions, the intent's permitted types and critical
/// addresses, the profile's thresholds, then the intent's rules.
fn judge(
    intent: &CompiledIntent,
    profile: &CompiledProfile,
    v: &ChangeValues,
    blast: &BlastRadius,
    changes_in_scope: usize,
    out: &mut Vec<Finding>,
) -> Judgement {
    action_findings(profile, v, out);
    intent_findings(intent, v, out);
    threshold_findings(intent, profile, blast, changes_in_scope, out);
    rule_findings(intent, profile, v, out)
}

/// The profile's outcome for each class of the change, and `deferred` for a change
/// Terraform put off.
fn action_findings(profile: &CompiledProfile, v: &ChangeValues, out: &mut Vec<Finding>) {
    let profile_source = format!("profile:{}", profile.name);
    let rc = v.rc;
    for class in judged_classes(v.class, &rc.change.actions) {
        let action_outcome = profile.outcome_of(class);
        if action_outcome > Outcome::Allow {
            out.push(Finding {
                waived_by: None,
                source: profile_source.clone(),
                rule: class.as_str().into(),
                outcome: action_outcome,
                message: format!(
                    "profile {} maps {} to {}",
                    profile.name, class, action_outcome
                ),
            });
        }
    }
    if let Some(reason) = v.deferred {
        out.push(Finding {
            waived_by: None,
            source: profile_source.clone(),
            rule: "deferred".into(),
            outcome: profile.on_unknown,
            message: format!(
                "Terraform deferred this change to a later plan ({}): what it will do is not known yet",
                if reason.is_empty() { "no reason given" } else { reason }
            ),
        });
    }
}

/// The intent's permitted resource types and critical addresses.
fn intent_findings(intent: &CompiledIntent, v: &ChangeValues, out: &mut Vec<Finding>) {
    let intent_source = format!("intent:{}", intent.name);
    let rc = v.rc;
    // IOM's own actions probe and record; they change no infrastructure, so a list of
    // the infrastructure types an intent permits does not apply to them (every other
    // rule does: the profile's invoke outcome, critical, rules on invoke).
    let iom_action = v.class == ActionClass::Invoke
        && crate::plan::is_iom_action(&rc.ty, rc.provider_name.as_deref());
    if let Some(allowed) = &intent.allowed_resource_types
        && !allowed.is_match(&rc.ty)
        && !iom_action
    {
        out.push(Finding {
            waived_by: None,
            source: intent_source.clone(),
            rule: "allowed_resource_types".into(),
            outcome: Outcome::Block,
            message: format!(
                "type {} is not among the types intent {} permits",
                rc.ty, intent.name
            ),
        });
    }
    if intent.critical.is_match(v.at.address) {
        out.push(Finding {
            waived_by: None,
            source: intent_source.clone(),
            rule: "critical".into(),
            outcome: Outcome::Escalate,
            message: format!(
                "{} is critical to intent {}: any change escalates",
                v.at.address, intent.name
            ),
        });
    }
}

/// The profile's `max_blast_radius` and `max_changes`.
fn threshold_findings(
    intent: &CompiledIntent,
    profile: &CompiledProfile,
    blast: &BlastRadius,
    changes_in_scope: usize,
    out: &mut Vec<Finding>,
) {
    let profile_source = format!("profile:{}", profile.name);
    if let Some(max) = profile.max_blast_radius
        && blast.transitive as u64 > max
    {
        out.push(Finding {
            waived_by: None,
            source: profile_source.clone(),
            rule: "max_blast_radius".into(),
            outcome: Outcome::Escalate,
            message: format!(
                "blast radius {} exceeds max_blast_radius {} of profile {}",
                blast.transitive, max, profile.name
            ),
        });
    }
    if let Some(max) = profile.max_changes
        && changes_in_scope as u64 > max
    {
        out.push(Finding {
 waived_by: None,
                source: profile_source.clone(),
                rule: "max_changes".into(),
                outcome: Outcome::Escalate,
                message: format!("{changes_in_scope} changes in scope of intent {} exceed max_changes {} of profile {}", intent.name, max, profile.name),
            });
    }
}

/// The intent's CEL rules that apply to the change; a rule that reads an unknown value
/// is decided by its known parts when they can, else it takes the profile's `on_unknown`.
fn rule_findings(
    intent: &CompiledIntent,
    profile: &CompiledProfile,
    v: &ChangeValues,
    out: &mut Vec<Finding>,
) -> Judgement {
    let profile_source = format!("profile:{}", profile.name);
    for rule in &intent.rules {
        if !v.rule_applies(rule) {
            continue;
        }
        let result = if unknown_read(rule, v).is_some() {
            // Some of what it reads is unknown: decide what the known parts decide.
            let unknown = v
                .unknown
                .get_or_init(|| Unknown::parse(v.rc.change.after_unknown));
            let touches = |p: &[PathStep]| unknown.touches(p);
            // Binding the change's values costs more than the rule: only when the known
            // parts could decide it.
            let partial = match rule.condition.undecided_by(&touches) {
                Some(path) => Partial::Unknown(path),
                None => rule.condition.evaluate_partial(v.context()?, &touches),
            };
            match partial {
                Partial::Decided(value) => judged(value, &rule.condition),
                Partial::Unknown(path) => {
                    out.push(Finding {
                        waived_by: None,
                        source: profile_source.clone(),
                        rule: "on_unknown".into(),
                        outcome: profile.on_unknown,
                        message: format!(
                            "{} rule {} reads {}, which is unknown until apply",
                            rule.source,
                            rule.id,
                            after_path(&path)
                        ),
                    });
                    continue;
                }
            }
        } else {
            evaluate(rule, v)?
        };
        let failed = |message: String| Finding {
            waived_by: None,
            source: rule.source.clone(),
            rule: rule.id.clone(),
            outcome: rule.outcome,
            message,
        };
        match result {
            Ok(true) => {}
            Ok(false) => out.push(failed(rule.message.clone().unwrap_or_else(|| {
                format!("condition `{}` is false", rule.condition.source())
            }))),
            Err(why) => out.push(failed(format!(
                "condition `{}` could not be evaluated: {why}",
                rule.condition.source()
            ))),
        }
    }
    Ok(())
}

/// The first path a rule reads that is unknown until apply.
fn unknown_read(rule: &CompiledRule, v: &ChangeValues) -> Option<Vec<PathStep>> {
    if rule.condition.reads_after.is_empty() {
        return None;
    }
    let unknown = v
        .unknown
        .get_or_init(|| Unknown::parse(v.rc.change.after_unknown));
    rule.condition
        .reads_after
        .iter()
        .find(|p| unknown.touches(p))
        .cloned()
}

/// `after.a.b[0]`, as a condition would spell the path.
fn after_path(path: &[PathStep]) -> String {
    let mut s = String::from("after");
    for step in path {
        match step {
            PathStep::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            PathStep::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Runs a condition. The outer error is a plan value that is not JSON (stops the check);
/// the inner one is a condition that could not be evaluated (a failed rule).
fn evaluate(
    rule: &CompiledRule,
    v: &ChangeValues,
) -> Result<Result<bool, String>, (&'static str, String)> {
    let cond = &rule.condition;
    Ok(judged(cond.evaluate(v.context()?), cond))
}

/// A condition's value as a verdict: true, false, or why it could not be had.
fn judged(value: Result<Value, ExecutionError>, cond: &Condition) -> Result<bool, String> {
    match value {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!(
            "it returned a {} instead of a bool",
            other.type_of()
        )),
        Err(e) => Err(describe_error(&e, cond.source())),
    }
}

/// CEL's own error text can quote the values involved, which may be sensitive. Only
/// names that appear in the condition's source, and type names, are shown.
fn describe_error(e: &ExecutionError, source: &str) -> String {
    let named = |what: &str, name: &str| {
        if source.contains(name) {
            format!("{what} `{name}`")
        } else {
            what.to_string()
        }
    };
    match e {
        ExecutionError::NoSuchKey(k) => named("no such key", k),
        ExecutionError::UndeclaredReference(r) => named("undeclared reference", r),
        ExecutionError::NoSuchOverload(o) => {
            format!(
                "no overload of `{}` takes ({})",
                o.function(),
                o.argument_types().join(", ")
            )
        }
        ExecutionError::UnexpectedType { got, want } => format!("expected {want}, got {got}"),
        ExecutionError::InvalidArgumentCount { expected, actual } => {
            format!("expected {expected} arguments, got {actual}")
        }
        // The budget's message names the budget, never a value.
        ExecutionError::FunctionError { message, .. } if iom_model::budget::is_exceeded(e) => {
            message.clone()
        }
        ExecutionError::FunctionError { function, .. } => format!("function `{function}` failed"),
        ExecutionError::ValuesNotComparable(a, b) => {
            format!("a {} cannot be compared to a {}", a.type_of(), b.type_of())
        }
        ExecutionError::DivisionByZero(_) | ExecutionError::RemainderByZero(_) => {
            "division by zero".into()
        }
        ExecutionError::IndexOutOfBounds(_) => "index out of bounds".into(),
        ExecutionError::UnsupportedIndex(_, target) => {
            format!("a {} cannot be indexed that way", target.type_of())
        }
        ExecutionError::UnsupportedBinaryOperator(op, a, b) => format!(
            "operator {op} does not apply to {} and {}",
            a.type_of(),
            b.type_of()
        ),
        _ => "evaluation error (details withheld: they may quote plan values)".into(),
    }
}
