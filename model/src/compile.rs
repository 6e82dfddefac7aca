//! Turns a declared [`ModelSpec`] into the compiled [`Model`] decisions run on: words
//! parsed into enums, globs and CEL compiled once, references between objects resolved.
//! Every problem found, in any object, is returned at once.

use crate::Kind;
use crate::condition::Condition;
use crate::glob::{self, GlobList};
use crate::objects::*;
use crate::outcome::{ActionClass, Outcome};
use crate::problem::{AttrPath, Problem, ProblemCode};
use crate::validate::validate_object;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The compiled model decisions run on: globs and CEL compiled once, references resolved.
#[derive(Debug)]
pub struct Model {
    /// The objects as declared, kept for digests, display and the approval profiles.
    pub spec: ModelSpec,
    /// Profiles by name.
    pub profiles: BTreeMap<String, CompiledProfile>,
    /// Sorted by name, so every decision visits intents in one order.
    pub intents: Vec<CompiledIntent>,
    /// Elements, in declaration order.
    pub elements: Vec<CompiledElement>,
    /// Waivers, in declaration order.
    pub waivers: Vec<CompiledWaiver>,
    /// Notifications, in declaration order.
    pub notifications: Vec<CompiledNotification>,
}

/// A notification ready to match events: where it posts, on which events, where.
#[derive(Debug)]
pub struct CompiledNotification {
    /// The notification's name, as errors and reports name it.
    pub name: String,
    /// Where it posts.
    pub target: NotificationTarget,
    /// Words of [`crate::schema::NOTIFICATION_EVENTS`].
    pub on: Vec<String>,
    /// Empty covers every workspace.
    pub workspaces: GlobList,
}

/// Where a notification posts: a URL declared in the model, or the environment
/// variable that holds it where plan-guard runs.
#[derive(Clone, PartialEq)]
pub enum NotificationTarget {
    /// A URL declared in the model.
    Url(String),
    /// The environment variable that holds the URL.
    Env(String),
}

/// Never the URL itself: it is a secret.
impl std::fmt::Debug for NotificationTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotificationTarget::Url(_) => f.write_str("Url(sensitive)"),
            NotificationTarget::Env(var) => write!(f, "Env({var:?})"),
        }
    }
}

impl CompiledNotification {
    /// Whether it is to post `event` (a word of `on`) raised in `workspace`.
    pub fn covers(&self, event: &str, workspace: &str) -> bool {
        self.covers_workspace(workspace) && self.on.iter().any(|e| e == event)
    }

    /// Whether the notification covers `workspace` (no globs cover every workspace).
    pub fn covers_workspace(&self, workspace: &str) -> bool {
        self.workspaces.is_empty() || self.workspaces.is_match(workspace)
    }
}

/// A waiver ready to match findings.
#[derive(Debug)]
pub struct CompiledWaiver {
    /// The waiver's name, as a waived finding names it.
    pub name: String,
    /// The finding source it waives (`profile:P`, `intent:I`, `blueprint:B@V`, `model`, ...).
    pub source: String,
    /// `*` matches every rule of the source.
    pub rule: String,
    /// `None` covers every address / workspace.
    pub addresses: Option<glob::GlobList>,
    /// `None` covers every workspace.
    pub workspaces: Option<glob::GlobList>,
    /// Why the exception is acceptable.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// When it stops applying, as declared (RFC 3339).
    pub expires: String,
    /// `expires` in Unix seconds, compared with the time of the check.
    pub expires_unix: i64,
}

impl CompiledWaiver {
    /// Whether the waiver covers a finding, expired or not.
    pub fn covers(&self, source: &str, rule: &str, address: &str, workspace: &str) -> bool {
        self.source == source
            && (self.rule == "*" || self.rule == rule)
            && self.addresses.as_ref().is_none_or(|g| g.is_match(address))
            && self
                .workspaces
                .as_ref()
                .is_none_or(|g| g.is_match(workspace))
    }
}

/// A profile with its words parsed: outcomes per action class, thresholds, `on_*` outcomes.
#[derive(Debug)]
pub struct CompiledProfile {
    /// The profile's name, as findings' `profile:NAME` source names it.
    pub name: String,
    /// The outcome of each action class the profile names (others allow).
    pub actions: BTreeMap<ActionClass, Outcome>,
    /// A change whose transitive blast radius exceeds this escalates.
    pub max_blast_radius: Option<u64>,
    /// A plan with more changes in scope of an intent than this escalates.
    pub max_changes: Option<u64>,
    /// The outcome of a condition that reads a value unknown until apply (at least warn).
    pub on_unknown: Outcome,
    /// The outcome of a check while a governed resource has unreconciled drift.
    pub on_drift: Outcome,
}

impl CompiledProfile {
    /// The outcome of an action class; unspecified classes allow.
    pub fn outcome_of(&self, class: ActionClass) -> Outcome {
        self.actions.get(&class).copied().unwrap_or(Outcome::Allow)
    }
}

/// A blueprint rule or an intent constraint, ready to evaluate.
#[derive(Debug)]
pub struct CompiledRule {
    /// The finding source: `blueprint:NAME@VERSION` or `intent:NAME`.
    pub source: String,
    /// The rule's id, the finding's `rule`.
    pub id: String,
    /// Empty means every type.
    pub resource_types: GlobList,
    /// The action classes it applies to; empty means every class.
    pub actions: BTreeSet<ActionClass>,
    /// The CEL condition; true means compliant.
    pub condition: Condition,
    /// The outcome when the condition is false.
    pub outcome: Outcome,
    /// The sentence a failed finding shows instead of the condition's text.
    pub message: Option<String>,
}

impl CompiledRule {
    /// Whether the rule applies to a change of `resource_type` and `class`.
    pub fn applies_to(&self, resource_type: &str, class: ActionClass) -> bool {
        self.actions.contains(&class)
            && (self.resource_types.is_empty() || self.resource_types.is_match(resource_type))
    }
}

/// A blueprint `module_rule`, ready to evaluate against a module call.
#[derive(Debug)]
pub struct CompiledModuleRule {
    /// The finding source: `blueprint:NAME@VERSION`.
    pub source: String,
    /// The rule's id, the finding's `rule`.
    pub id: String,
    /// The CEL condition over `module_call` and `workspace`; true means compliant.
    pub condition: Condition,
    /// The outcome when the condition is false.
    pub outcome: Outcome,
    /// The sentence a failed finding shows instead of the condition's text.
    pub message: Option<String>,
}

/// An intent with its scope compiled and its rules gathered from its blueprints.
#[derive(Debug)]
pub struct CompiledIntent {
    /// The intent's name, as findings' `intent:NAME` source names it.
    pub name: String,
    /// The profile that decides its changes' action outcomes.
    pub profile: String,
    /// Empty means every workspace.
    pub workspaces: GlobList,
    /// Empty means the whole configuration.
    pub modules: Vec<String>,
    /// `None` permits every type.
    pub allowed_resource_types: Option<GlobList>,
    /// Addresses where any change escalates.
    pub critical: GlobList,
    /// Constraints first, then each blueprint's rules in the order listed.
    pub rules: Vec<Arc<CompiledRule>>,
    /// Each blueprint's module rules, in the order the blueprints are listed.
    pub module_rules: Vec<Arc<CompiledModuleRule>>,
}

impl CompiledIntent {
    /// Whether the intent governs workspace `workspace`.
    pub fn governs_workspace(&self, workspace: &str) -> bool {
        self.workspaces.is_empty() || self.workspaces.is_match(workspace)
    }

    /// Whether the intent governs the resource instance at `address` (its module scope).
    pub fn governs_address(&self, address: &str) -> bool {
        self.modules.is_empty()
            || self
                .modules
                .iter()
                .any(|m| glob::module_prefix_matches(m, address))
    }
}

/// An element with its address globs compiled.
#[derive(Debug)]
pub struct CompiledElement {
    /// The element's name, as `element:NAME` in a blast radius.
    pub name: String,
    /// `network`, `identity`, `service`, `cloud`, `data` or `other`.
    pub kind: String,
    /// The resource addresses that make it up (`W:GLOB` for another workspace's).
    pub matches: GlobList,
    /// The elements it depends on, whose blast radius it joins.
    pub depends_on_elements: Vec<String>,
}

/// Rule `actions` left empty cover the classes that produce an object to judge.
const DEFAULT_RULE_ACTIONS: [ActionClass; 3] = [
    ActionClass::Create,
    ActionClass::Update,
    ActionClass::Replace,
];

impl Model {
    /// Compiles a model: every object validated, names unique, references resolved,
    /// globs and CEL conditions compiled once. Any problem fails the whole model, with
    /// every problem found (in the order of the objects).
    pub fn compile(spec: ModelSpec) -> Result<Model, Vec<Problem>> {
        let mut problems = Problems::default();
        validate_each(&spec, &mut problems);
        unique_names(&spec, &mut problems);
        let blueprints = compile_blueprints(&spec);
        let intents = compile_intents(&spec, &blueprints, &mut problems);
        check_contract_profiles(&spec, &mut problems);
        let elements = compile_elements(&spec, &mut problems);
        if !problems.0.is_empty() {
            return Err(problems.0);
        }
        Ok(Model {
            profiles: compile_profiles(&spec),
            waivers: compile_waivers(&spec),
            notifications: compile_notifications(&spec),
            spec,
            intents,
            elements,
        })
    }

    /// The elements that depend, through `depends_on_elements`, on an element whose
    /// `matches` cover `address`: those one link away, and all of them (sorted names).
    pub fn element_dependents(&self, address: &str) -> (Vec<&str>, Vec<&str>) {
        let matched: BTreeSet<&str> = self
            .elements
            .iter()
            .filter(|e| e.matches.is_match(address))
            .map(|e| e.name.as_str())
            .collect();
        if matched.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let dependents_of = |names: &BTreeSet<&str>| -> BTreeSet<&str> {
            self.elements
                .iter()
                .filter(|e| {
                    e.depends_on_elements
                        .iter()
                        .any(|d| names.contains(d.as_str()))
                })
                .map(|e| e.name.as_str())
                .collect()
        };
        let direct: BTreeSet<&str> = dependents_of(&matched);
        let mut all = direct.clone();
        let mut frontier = direct.clone();
        while !frontier.is_empty() {
            frontier = dependents_of(&frontier)
                .into_iter()
                .filter(|n| all.insert(n))
                .collect();
        }
        let direct = direct
            .into_iter()
            .filter(|n| !matched.contains(n))
            .collect();
        let all = all.into_iter().filter(|n| !matched.contains(n)).collect();
        (direct, all)
    }

    /// The model with no objects: every change is ungoverned.
    // The empty spec has nothing to be invalid: compiling it cannot fail.
    #[allow(clippy::expect_used)]
    pub fn empty() -> Model {
        Model::compile(ModelSpec::default()).expect("the empty model is valid")
    }
}

/// The problems a compile finds, in the order it finds them.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(
        &mut self,
        code: ProblemCode,
        (kind, index, name): (Kind, usize, &str),
        path: AttrPath,
        message: String,
    ) {
        self.0.push(Problem {
            code,
            kind,
            index,
            name: name.to_string(),
            path,
            message,
        });
    }
}

/// Every object validated on its own.
fn validate_each(spec: &ModelSpec, problems: &mut Problems) {
    for kind in Kind::ALL {
        for (index, object) in objects_of(spec, kind).into_iter().enumerate() {
            for (path, message) in validate_object(&object) {
                problems.add(
                    ProblemCode::Invalid,
                    (kind, index, object.name()),
                    path,
                    message,
                );
            }
        }
    }
}

/// Names are unique per kind; blueprints per name and version.
fn unique_names(spec: &ModelSpec, problems: &mut Problems) {
    let mut seen: BTreeSet<(Kind, String)> = BTreeSet::new();
    for kind in Kind::ALL {
        for (index, object) in objects_of(spec, kind).into_iter().enumerate() {
            let key = match &object {
                Object::Blueprint(b) => format!("{}@{}", b.name, b.version),
                o => o.name().to_string(),
            };
            if !object.name().is_empty() && !seen.insert((kind, key.clone())) {
                problems.add(
                    ProblemCode::Invalid,
                    (kind, index, object.name()),
                    AttrPath::attr("name"),
                    format!(
                        "duplicate name `{key}`: another {} has it",
                        kind.resource_type()
                    ),
                );
            }
        }
    }
}

/// Each blueprint's rules and module rules, by name and version. They compile once and
/// are shared by every intent that lists them.
type Blueprints = BTreeMap<(String, String), BlueprintRules>;

#[derive(Debug, Default)]
struct BlueprintRules {
    rules: Vec<Arc<CompiledRule>>,
    module_rules: Vec<Arc<CompiledModuleRule>>,
}

fn compile_blueprints(spec: &ModelSpec) -> Blueprints {
    let mut blueprints = Blueprints::new();
    for b in &spec.blueprints {
        let source = format!("blueprint:{}@{}", b.name, b.version);
        let rules = b
            .rule
            .iter()
            .filter_map(|r| {
                compile_rule(
                    &source,
                    &r.id,
                    &r.resource_types,
                    &r.actions,
                    &r.condition,
                    &r.outcome,
                    &r.message,
                )
            })
            .map(Arc::new)
            .collect();
        let module_rules = b
            .module_rule
            .iter()
            .filter_map(|r| {
                // Validation has already reported anything that fails here.
                Some(Arc::new(CompiledModuleRule {
                    source: source.clone(),
                    id: r.id.clone(),
                    condition: Condition::compile(&r.condition).ok()?,
                    outcome: r.outcome.parse().ok()?,
                    message: r.message.clone(),
                }))
            })
            .collect();
        let compiled = BlueprintRules {
            rules,
            module_rules,
        };
        blueprints.insert((b.name.clone(), b.version.clone()), compiled);
    }
    blueprints
}

fn profile_names(spec: &ModelSpec) -> BTreeSet<&str> {
    spec.profiles.iter().map(|p| p.name.as_str()).collect()
}

/// The intents, sorted by name, with their own constraints and their blueprints' rules;
/// an unknown profile or blueprint is a problem.
fn compile_intents(
    spec: &ModelSpec,
    blueprints: &Blueprints,
    problems: &mut Problems,
) -> Vec<CompiledIntent> {
    let profile_names = profile_names(spec);
    let mut intents = Vec::new();
    for (index, it) in spec.intents.iter().enumerate() {
        let at = (Kind::Intent, index, it.name.as_str());
        if !it.profile.is_empty() && !profile_names.contains(it.profile.as_str()) {
            problems.add(
                ProblemCode::UnknownReference,
                at,
                AttrPath::attr("profile"),
                format!("no iom_profile is named `{}`", it.profile),
            );
        }
        let source = format!("intent:{}", it.name);
        let mut rules: Vec<Arc<CompiledRule>> = it
            .constraint
            .iter()
            .filter_map(|c| {
                compile_rule(
                    &source,
                    &c.id,
                    &c.resource_types,
                    &c.actions,
                    &c.condition,
                    &c.outcome,
                    &c.message,
                )
            })
            .map(Arc::new)
            .collect();
        let mut module_rules = Vec::new();
        for (i, reference) in it.blueprints.iter().enumerate() {
            match resolve_blueprint(blueprints, reference) {
                Ok(found) => {
                    rules.extend(found.rules.iter().cloned());
                    module_rules.extend(found.module_rules.iter().cloned());
                }
                Err(message) => problems.add(
                    ProblemCode::UnknownReference,
                    at,
                    AttrPath::attr("blueprints").index(i),
                    message,
                ),
            }
        }
        let scope = it.scope.clone().unwrap_or_default();
        intents.push(CompiledIntent {
            name: it.name.clone(),
            profile: it.profile.clone(),
            workspaces: glob::compile_plain(&scope.workspaces).unwrap_or_default(),
            modules: scope
                .modules
                .iter()
                .map(|m| m.trim_end_matches('.').to_string())
                .collect(),
            allowed_resource_types: (!it.allowed_resource_types.is_empty())
                .then(|| glob::compile_plain(&it.allowed_resource_types).unwrap_or_default()),
            critical: glob::compile_instance_addresses(&it.critical).unwrap_or_default(),
            rules,
            module_rules,
        });
    }
    intents.sort_by(|a, b| a.name.cmp(&b.name));
    intents
}

/// A contract constraint's profile must exist (unless it is a template, `{{...}}`).
fn check_contract_profiles(spec: &ModelSpec, problems: &mut Problems) {
    let profile_names = profile_names(spec);
    for (index, c) in spec.contracts.iter().enumerate() {
        for (i, k) in c.constraint.iter().enumerate() {
            if !k.profile.is_empty()
                && !k.profile.contains("{{")
                && !profile_names.contains(k.profile.as_str())
            {
                problems.add(
                    ProblemCode::UnknownReference,
                    (Kind::Contract, index, c.name.as_str()),
                    AttrPath::block("constraint", i).then("profile"),
                    format!("no iom_profile is named `{}`", k.profile),
                );
            }
        }
    }
}

/// The elements; one that depends on an unknown element is a problem.
fn compile_elements(spec: &ModelSpec, problems: &mut Problems) -> Vec<CompiledElement> {
    let element_names: BTreeSet<&str> = spec.elements.iter().map(|e| e.name.as_str()).collect();
    let mut elements = Vec::new();
    for (index, e) in spec.elements.iter().enumerate() {
        for (i, d) in e.depends_on_elements.iter().enumerate() {
            if !element_names.contains(d.as_str()) {
                problems.add(
                    ProblemCode::UnknownReference,
                    (Kind::Element, index, e.name.as_str()),
                    AttrPath::attr("depends_on_elements").index(i),
                    format!("no iom_element is named `{d}`"),
                );
            }
        }
        elements.push(CompiledElement {
            name: e.name.clone(),
            kind: e.kind.clone(),
            matches: glob::compile_instance_addresses(&e.matches).unwrap_or_default(),
            depends_on_elements: e.depends_on_elements.clone(),
        });
    }
    elements
}

fn compile_profiles(spec: &ModelSpec) -> BTreeMap<String, CompiledProfile> {
    spec.profiles
        .iter()
        .map(|p| {
            let compiled = CompiledProfile {
                name: p.name.clone(),
                actions: p
                    .actions
                    .iter()
                    .filter_map(|(k, v)| Some((k.parse().ok()?, v.parse().ok()?)))
                    .collect(),
                max_blast_radius: p.max_blast_radius,
                max_changes: p.max_changes,
                on_unknown: word_or(&p.on_unknown, Outcome::Escalate),
                on_drift: word_or(&p.on_drift, Outcome::Escalate),
            };
            (p.name.clone(), compiled)
        })
        .collect()
}

fn compile_waivers(spec: &ModelSpec) -> Vec<CompiledWaiver> {
    spec.waivers
        .iter()
        .map(|w| CompiledWaiver {
            name: w.name.clone(),
            source: w.source.clone(),
            rule: w.rule.clone(),
            addresses: (!w.addresses.is_empty())
                .then(|| glob::compile_addresses(&w.addresses).unwrap_or_default()),
            workspaces: (!w.workspaces.is_empty())
                .then(|| glob::compile_plain(&w.workspaces).unwrap_or_default()),
            reason: w.reason.clone(),
            approved_by: w.approved_by.clone(),
            expires: w.expires.clone(),
            // Validation guarantees it parses; a hand-built model that does not
            // has a waiver that never applies.
            expires_unix: crate::time::parse_rfc3339(&w.expires).unwrap_or(i64::MIN),
        })
        .collect()
}

fn compile_notifications(spec: &ModelSpec) -> Vec<CompiledNotification> {
    spec.notifications
        .iter()
        .map(|n| CompiledNotification {
            name: n.name.clone(),
            // Validation guarantees exactly one of the two.
            target: match (&n.url, &n.url_env) {
                (Some(url), _) => NotificationTarget::Url(url.clone()),
                (None, var) => NotificationTarget::Env(var.clone().unwrap_or_default()),
            },
            on: n.on.clone(),
            workspaces: glob::compile_plain(&n.workspaces).unwrap_or_default(),
        })
        .collect()
}

fn word_or(word: &Option<String>, default: Outcome) -> Outcome {
    word.as_deref()
        .and_then(|w| w.parse().ok())
        .unwrap_or(default)
}

fn compile_rule(
    source: &str,
    id: &str,
    types: &[String],
    actions: &[String],
    condition: &str,
    outcome: &str,
    message: &Option<String>,
) -> Option<CompiledRule> {
    // Validation has already reported anything that fails here.
    let actions: BTreeSet<ActionClass> = if actions.is_empty() {
        DEFAULT_RULE_ACTIONS.into_iter().collect()
    } else {
        actions.iter().filter_map(|a| a.parse().ok()).collect()
    };
    Some(CompiledRule {
        source: source.to_string(),
        id: id.to_string(),
        resource_types: glob::compile_plain(types).ok()?,
        actions,
        condition: Condition::compile(condition).ok()?,
        outcome: outcome.parse().ok()?,
        message: message.clone(),
    })
}

/// `name@version` must exist; a bare `name` takes the highest declared version.
fn resolve_blueprint<'a>(
    blueprints: &'a Blueprints,
    reference: &str,
) -> Result<&'a BlueprintRules, String> {
    match reference.split_once('@') {
        Some((name, version)) => blueprints
            .get(&(name.to_string(), version.to_string()))
            .ok_or_else(|| {
                let known: Vec<&str> = blueprints
                    .keys()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                if known.is_empty() {
                    format!("no iom_blueprint is named `{name}`")
                } else {
                    format!(
                        "iom_blueprint `{name}` has no version `{version}` (declared: {})",
                        known.join(", ")
                    )
                }
            }),
        None => blueprints
            .iter()
            .filter(|((n, _), _)| n == reference)
            .max_by(|((_, a), _), ((_, b), _)| compare_versions(a, b))
            .map(|(_, rules)| rules)
            .ok_or_else(|| format!("no iom_blueprint is named `{reference}`")),
    }
}

/// Orders versions by Semantic Versioning 2.0 precedence (numeric parts as numbers, a
/// pre-release before its release, build metadata ignored); other strings compare part
/// by part, numbers before words. A bare blueprint name picks the greatest.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    // Build metadata (`+...`) never affects precedence.
    let strip = |v: &str| v.split_once('+').map_or(v, |(v, _)| v).to_string();
    let (a, b) = (strip(a), strip(b));
    let split = |v: &str| -> (Vec<String>, Option<String>) {
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p.to_string())),
            None => (v, None),
        };
        (core.split('.').map(String::from).collect(), pre)
    };
    let ((core_a, pre_a), (core_b, pre_b)) = (split(&a), split(&b));
    let ident = |x: &str, y: &str| match (x.parse::<u64>(), y.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        // Numeric identifiers sort before alphanumeric ones.
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        _ => x.cmp(y),
    };
    for i in 0..core_a.len().max(core_b.len()) {
        let x = core_a.get(i).map_or("0", String::as_str);
        let y = core_b.get(i).map_or("0", String::as_str);
        let ord = ident(x, y);
        if ord.is_ne() {
            return ord;
        }
    }
    match (pre_a, pre_b) {
        (None, None) => Ordering::Equal,
        // A pre-release comes before its release: 1.10.0-rc.1 < 1.10.0.
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(x), Some(y)) => {
            let (xs, ys): (Vec<&str>, Vec<&str>) = (x.split('.').collect(), y.split('.').collect());
            for (p, q) in xs.iter().zip(&ys) {
                let ord = ident(p, q);
                if ord.is_ne() {
                    return ord;
                }
            }
            xs.len().cmp(&ys.len())
        }
    }
}

fn objects_of(spec: &ModelSpec, kind: Kind) -> Vec<Object> {
    match kind {
        Kind::Profile => spec.profiles.iter().cloned().map(Object::Profile).collect(),
        Kind::Blueprint => spec
            .blueprints
            .iter()
            .cloned()
            .map(Object::Blueprint)
            .collect(),
        Kind::Intent => spec.intents.iter().cloned().map(Object::Intent).collect(),
        Kind::Contract => spec
            .contracts
            .iter()
            .cloned()
            .map(Object::Contract)
            .collect(),
        Kind::Element => spec.elements.iter().cloned().map(Object::Element).collect(),
        Kind::Waiver => spec.waivers.iter().cloned().map(Object::Waiver).collect(),
        Kind::Notification => spec
            .notifications
            .iter()
            .cloned()
            .map(Object::Notification)
            .collect(),
    }
}

#[cfg(test)]
mod version_tests {
    use crate::objects::{Blueprint, Intent, ModelSpec, Profile};
    use crate::problem::ProblemCode;

    /// Callers branch on the code, not on the message's words: every missing reference
    /// (profile, blueprint, blueprint version) is `UnknownReference`, a duplicate name is not.
    #[test]
    fn problems_say_which_are_references() {
        let intent = |name: &str, profile: &str, blueprint: &str| Intent {
            name: name.into(),
            profile: profile.into(),
            blueprints: vec![blueprint.into()],
            ..Intent::default()
        };
        let profile = Profile {
            name: "p".into(),
            ..Profile::default()
        };
        let spec = ModelSpec {
            profiles: vec![profile.clone(), profile],
            blueprints: vec![Blueprint {
                name: "b".into(),
                version: "1.0.0".into(),
                ..Blueprint::default()
            }],
            intents: vec![intent("i", "nope", "b"), intent("j", "p", "b@2.0.0")],
            ..ModelSpec::default()
        };
        let problems = super::Model::compile(spec).err().unwrap_or_default();
        let codes: Vec<(String, ProblemCode)> = problems
            .iter()
            .map(|p| (p.path.to_string(), p.code))
            .collect();
        assert_eq!(
            codes,
            [
                ("name".to_string(), ProblemCode::Invalid),
                ("profile".to_string(), ProblemCode::UnknownReference),
                ("blueprints[0]".to_string(), ProblemCode::UnknownReference),
            ],
            "{problems:?}"
        );
    }

    use super::compare_versions;

    #[test]
    fn versions_order_by_semver_precedence() {
        use std::cmp::Ordering::*;
        for (a, b, want) in [
            ("1.9.0", "1.10.0", Less),
            ("1.10.0-rc.1", "1.10.0", Less),
            ("1.10.0-rc.2", "1.10.0-rc.10", Less),
            ("1.0.0-alpha", "1.0.0-alpha.1", Less),
            ("1.0.0-1", "1.0.0-alpha", Less),
            ("1.0.0+build.5", "1.0.0", Equal),
            ("2.1", "2.1.0", Equal),
            ("2.0.0", "1.99.99", Greater),
        ] {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
        }
    }
}
