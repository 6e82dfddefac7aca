//! The decision core (docs/judging.md): for every planned change, find the intents that
//! govern it, collect findings from their profiles, permitted types, critical addresses,
//! constraints and blueprint rules, thresholds and the ungoverned policy, and take the
//! highest outcome. One evaluation core; every output format renders its [`Report`].

use crate::cel_input::{Unknown, check_mask, to_cel};
use crate::contracts::Contracts;
use crate::graph::{BlastRadius, ChangeGraph, Scratch};
use crate::plan::{Plan, RawPlan, ResourceChange};
use crate::report::{ChangeReport, Finding, ModelInfo, PlanInfo, Report, Summary};
use cel::common::types::{CelList, CelString};
use cel::{Context, ExecutionError, Value};
use iom_model::{
    ActionClass, CompiledIntent, CompiledProfile, CompiledRule, Condition, Model, Outcome, Partial,
    PathStep,
};
use std::cell::OnceCell;
use std::collections::BTreeMap;

pub struct CheckOptions {
    pub workspace: String,
    pub actor: String,
    /// Outcome for a change no intent governs.
    pub ungoverned: Outcome,
    pub model_source: String,
    pub model_revision: Option<u64>,
    /// The workspace's configuration (`--source-dir`): arguments that pass a variable
    /// straight into a module call give contracts that variable's value.
    pub source_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(
        "{source_name}: the plan is marked errored: Terraform could not finish planning, so it cannot be judged"
    )]
    Errored { source_name: String },
    #[error("{source_name}: {address}: unsupported action list {actions:?}")]
    UnsupportedActions {
        source_name: String,
        address: String,
        actions: Vec<String>,
    },
    #[error("{source_name}: {address}: `{field}` is not a valid mask: {message}")]
    BadMask {
        source_name: String,
        address: String,
        field: &'static str,
        message: String,
    },
    #[error("{source_name}: {address}: `{field}` is not valid JSON: {message}")]
    BadValue {
        source_name: String,
        address: String,
        field: &'static str,
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
    let invocations: Vec<(ResourceChange, String)> = plan
        .action_invocations
        .iter()
        .map(|a| (a.as_change(), a.trigger()))
        .collect();
    let deferred_invocations: Vec<(ResourceChange, String, &str)> = plan
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
        .collect();
    let entries = plan
        .resource_changes
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
        .chain(invocations.iter().map(|(rc, trigger)| {
            (
                rc,
                Origin {
                    trigger: Some(trigger),
                    ..Origin::default()
                },
            )
        }))
        .chain(deferred_invocations.iter().map(|(rc, trigger, reason)| {
            let (trigger, deferred) = (Some(trigger.as_str()), Some(*reason));
            (rc, Origin { trigger, deferred })
        }));

    // Classify first: an action list no Terraform writes stops the check.
    let mut judged: Vec<Judged> = Vec::new();
    let mut unjudged_imports = 0;
    for (rc, origin) in entries {
        let class = match origin.trigger {
            Some(_) => Some(ActionClass::Invoke),
            None => ActionClass::from_actions(&rc.change.actions),
        };
        let class = class.ok_or_else(|| CheckError::UnsupportedActions {
            source_name: source_name.clone(),
            address: rc.address.clone(),
            actions: rc.change.actions.clone(),
        })?;
        if class == ActionClass::NoOp {
            unjudged_imports += usize::from(rc.change.importing.is_some());
            continue;
        }
        let governing = intents
            .iter()
            .copied()
            .filter(|i| i.governs_address(&rc.address))
            .collect();
        judged.push((rc, class, governing, origin));
    }

    let mut in_scope: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, _, governing, _) in &judged {
        for i in governing {
            *in_scope.entry(i.name.as_str()).or_default() += 1;
        }
    }

    let targets: Vec<&ResourceChange> = judged.iter().map(|(rc, _, _, _)| *rc).collect();
    // The source is read only when a contract may need it.
    let sources = match &opts.source_dir {
        Some(dir) if !model.spec.contracts.is_empty() => {
            Some(crate::sources::Locator::new(dir, plan))
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
        source_name: &source_name,
        now: iom_model::time::now_unix(),
    };
    let mut changes = judge.all(&judged)?;
    changes.sort_by(|a, b| (&a.address, &a.deposed).cmp(&(&b.address, &b.deposed)));

    let mut report = Report {
        actor: opts.actor.clone(),
        changes,
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

/// What judging one change needs from the whole check; shared by the worker threads.
struct Judge<'a, 'm> {
    graph: &'a ChangeGraph,
    model: &'m Model,
    opts: &'a CheckOptions,
    in_scope: &'a BTreeMap<&'m str, usize>,
    contracts: &'a Contracts<'m>,
    source_name: &'a str,
    /// Unix seconds waivers expire against, read once so every change sees one instant.
    now: i64,
}

type Judged<'p, 'm> = (
    &'p ResourceChange<'p>,
    ActionClass,
    Vec<&'m CompiledIntent>,
    Origin<'p>,
);

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
                .map(|(rc, class, governing, origin)| {
                    self.change(rc, *class, governing, *origin, &root, &mut scratch)
                })
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

    /// Turns findings a live waiver covers into allows that name it; a finding only an
    /// expired waiver covers stands, with a warning that the waiver expired.
    fn apply_waivers(&self, address: &str, findings: &mut Vec<Finding>) {
        let workspace = self.opts.workspace.as_str();
        let mut expired = Vec::new();
        for f in findings.iter_mut().filter(|f| f.outcome > Outcome::Allow) {
            let mut covering = self
                .model
                .waivers
                .iter()
                .filter(|w| w.covers(&f.source, &f.rule, address, workspace));
            let (live, dead): (Vec<_>, Vec<_>) =
                covering.by_ref().partition(|w| w.expires_unix > self.now);
            if let Some(w) = live.first() {
                f.message = format!(
                    "{} (waived by {} until {}, approved by {}: {})",
                    f.message, w.name, w.expires, w.approved_by, w.reason
                );
                f.outcome = Outcome::Allow;
                f.waived_by = Some(w.name.clone());
            } else if let Some(w) = dead.first() {
                expired.push(Finding {
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
        findings.extend(expired);
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

    fn change(
        &self,
        rc: &ResourceChange<'_>,
        class: ActionClass,
        governing: &[&CompiledIntent],
        origin: Origin<'_>,
        root: &Context<'_, '_>,
        scratch: &mut Scratch,
    ) -> Result<ChangeReport, CheckError> {
        let (graph, model, opts) = (self.graph, self.model, self.opts);
        self.check_masks(rc)?;
        let mut blast = match graph.node(&rc.address, rc.deposed.as_deref()) {
            Some(n) => graph.blast_radius(n, scratch),
            None => BlastRadius::default(),
        };
        // Declared elements that depend on one this instance belongs to are in its blast
        // radius too (docs/judging.md, Elements), named `element:NAME`.
        let (direct, all) = model.element_dependents(&rc.address);
        if !all.is_empty() {
            blast.direct += direct.len();
            blast.transitive += all.len();
            blast
                .addresses
                .extend(all.iter().map(|n| format!("element:{n}")));
            blast.addresses.sort_unstable();
        }
        let module = module_of(rc);
        let values = ChangeValues {
            rc,
            class,
            workspace: &opts.workspace,
            module: &module,
            governing,
            deferred: origin.deferred,
            root,
            ctx: OnceCell::new(),
            unknown: OnceCell::new(),
        };
        let mut findings = Vec::new();
        for intent in governing {
            let Some(profile) = model.profiles.get(&intent.profile) else {
                continue;
            };
            judge(
                intent,
                profile,
                &values,
                &blast,
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
        drop(values); // releases its borrow of `module`, which the report takes
        let classes: Vec<ActionClass> = judged_classes(class, &rc.change.actions).collect();
        findings.extend(self.contracts.findings_for(rc, &classes, governing, model));
        if governing.is_empty() && opts.ungoverned > Outcome::Allow {
            findings.push(Finding {
                waived_by: None,
                source: "model".into(),
                rule: "ungoverned".into(),
                outcome: opts.ungoverned,
                message: format!(
                    "no intent governs {} in workspace {}",
                    rc.address, opts.workspace
                ),
            });
        }
        self.apply_waivers(&rc.address, &mut findings);
        findings.sort_by(|a, b| {
            (&a.source, &a.rule, &a.message).cmp(&(&b.source, &b.rule, &b.message))
        });
        findings.dedup();
        let verdict = findings
            .iter()
            .map(|f| f.outcome)
            .max()
            .unwrap_or(Outcome::Allow);
        let mut governed_by: Vec<String> = governing.iter().map(|i| i.name.clone()).collect();
        governed_by.sort();
        Ok(ChangeReport {
            action: class,
            actions: rc.change.actions.clone(),
            address: rc.address.clone(),
            blast_radius: blast,
            deferred: origin.deferred.map(str::to_string),
            deposed: rc.deposed.clone(),
            findings,
            governed_by,
            importing: rc.change.importing.is_some(),
            module,
            previous_address: rc.previous_address.clone(),
            trigger: origin.trigger.map(str::to_string),
            ty: rc.ty.clone(),
            verdict,
        })
    }
}

/// The classes a change is judged under: its own, and `forget` too for a create that also
/// forgets the object it replaces (see [`ActionClass::also_forgets`]).
fn judged_classes(class: ActionClass, actions: &[String]) -> impl Iterator<Item = ActionClass> {
    std::iter::once(class).chain(class.also_forgets(actions).then_some(ActionClass::Forget))
}

fn module_of(rc: &ResourceChange) -> String {
    match &rc.module_address {
        Some(m) => m.clone(),
        None => crate::address::InstanceAddress::parse(&rc.address)
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
    workspace: &'a str,
    module: &'a str,
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
        ctx.add_variable_as_val("address", text(&rc.address));
        ctx.add_variable_as_val("type", text(&rc.ty));
        ctx.add_variable_as_val("name", text(&rc.name));
        ctx.add_variable_as_val("module", text(self.module));
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

fn judge(
    intent: &CompiledIntent,
    profile: &CompiledProfile,
    v: &ChangeValues,
    blast: &BlastRadius,
    changes_in_scope: usize,
    out: &mut Vec<Finding>,
) -> Judgement {
    let profile_source = format!("profile:{}", profile.name);
    let intent_source = format!("intent:{}", intent.name);
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
    if let Some(allowed) = &intent.allowed_resource_types
        && !allowed.is_match(&rc.ty)
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
    if intent.critical.is_match(&rc.address) {
        out.push(Finding {
            waived_by: None,
            source: intent_source.clone(),
            rule: "critical".into(),
            outcome: Outcome::Escalate,
            message: format!(
                "{} is critical to intent {}: any change escalates",
                rc.address, intent.name
            ),
        });
    }
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
