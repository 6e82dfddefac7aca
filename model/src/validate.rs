//! Checks of one object on its own: words, globs, CEL, required fields. The provider's
//! `ValidateResourceConfig` and the HCL loader both call [`validate_object`]; checks that
//! need the other objects (references, duplicates) live in [`crate::compile`].

use crate::condition::{CHANGE_VARIABLES, Condition, MODULE_VARIABLES, STATE_VARIABLES};

/// Why `module` is no class a profile or a rule's `actions` may name.
const MODULE_CLASS: &str =
    "`module` is the class of judged module calls: blueprint `module_rule` blocks judge them";
use crate::glob;
use crate::objects::*;
use crate::outcome::{ActionClass, Outcome};
use crate::problem::{AttrPath, Problem, ProblemCode};
use crate::schema::NOTIFICATION_EVENTS;

/// Problems of one object, each with the attribute path it concerns.
pub fn validate_object(object: &Object) -> Vec<(AttrPath, String)> {
    let mut v = Validator::default();
    match object {
        Object::Profile(p) => v.profile(p),
        Object::Blueprint(b) => v.blueprint(b),
        Object::Intent(i) => v.intent(i),
        Object::Contract(c) => v.contract(c),
        Object::Element(e) => v.element(e),
        Object::Waiver(w) => v.waiver(w),
        Object::Notification(n) => v.notification(n),
    }
    v.problems
}

/// The checks a contract's `pre_condition` may name.
pub const PRE_CONDITION_CHECKS: &[&str] = &[
    "profile_active",
    "element_exists",
    "no_drift",
    "tcp_reachable",
    "http_ok",
];
/// The probes a contract's `post_verify` may name.
pub const PROBES: &[&str] = &["http", "tcp", "state", "run_record_written"];
/// The kinds an element may be.
pub const ELEMENT_KINDS: &[&str] = &["network", "identity", "service", "cloud", "data", "other"];
/// The types a contract input may declare.
pub const INPUT_TYPES: &[&str] = &["string", "number", "bool", "list", "map", "any"];

#[derive(Default)]
struct Validator {
    problems: Vec<(AttrPath, String)>,
}

impl Validator {
    fn fail(&mut self, path: AttrPath, message: impl Into<String>) {
        self.problems.push((path, message.into()));
    }

    fn name(&mut self, name: &str) {
        if name.trim().is_empty() {
            self.fail(AttrPath::attr("name"), "must not be empty");
        } else if name.chars().any(|c| c.is_whitespace() || c == '@') {
            self.fail(
                AttrPath::attr("name"),
                format!("`{name}` must not contain spaces or `@`"),
            );
        }
    }

    fn outcome(&mut self, path: AttrPath, word: &str, allow_ok: bool) -> Option<Outcome> {
        match word.parse::<Outcome>() {
            Ok(Outcome::Allow) if !allow_ok => {
                self.fail(
                    path,
                    "`allow` is not a failing outcome: use warn, escalate or block",
                );
                None
            }
            Ok(o) => Some(o),
            Err(e) => {
                self.fail(path, e);
                None
            }
        }
    }

    fn actions(&mut self, path: AttrPath, actions: &[String]) {
        for (i, a) in actions.iter().enumerate() {
            match a.parse::<ActionClass>() {
                Ok(ActionClass::NoOp) => self.fail(path.index(i), "`no-op` is never judged"),
                Ok(ActionClass::Module) => self.fail(path.index(i), MODULE_CLASS),
                Ok(_) => {}
                Err(e) => self.fail(path.index(i), e),
            }
        }
    }

    fn plain_globs(&mut self, path: AttrPath, globs: &[String]) {
        if let Err((i, e)) = glob::compile_plain(globs) {
            self.fail(path.index(i), e);
        }
    }

    fn address_globs(&mut self, path: AttrPath, globs: &[String]) {
        if let Err((i, e)) = glob::compile_addresses(globs) {
            self.fail(path.index(i), e);
        }
    }

    /// A condition for a scope that binds `variables` (see [`CHANGE_VARIABLES`]).
    fn condition(&mut self, path: AttrPath, source: &str, variables: &[&str]) {
        if let Err(e) = Condition::compile_for(source, variables) {
            self.fail(path, e);
        }
    }

    fn profile(&mut self, p: &Profile) {
        self.name(&p.name);
        for (class, word) in &p.actions {
            let path = AttrPath::attr("actions").key(class);
            match class.parse::<ActionClass>() {
                Ok(ActionClass::NoOp) => self.fail(path.clone(), "`no-op` is never judged"),
                Ok(ActionClass::Module) => self.fail(path.clone(), MODULE_CLASS),
                Ok(_) => {}
                Err(e) => self.fail(path.clone(), e),
            }
            self.outcome(path, word, true);
        }
        if let Some(w) = &p.on_unknown {
            self.outcome(AttrPath::attr("on_unknown"), w, true);
        }
        if let Some(w) = &p.on_drift {
            self.outcome(AttrPath::attr("on_drift"), w, true);
        }
        for (i, a) in p.approvers.iter().enumerate() {
            if a.trim().is_empty() {
                self.fail(
                    AttrPath::attr("approvers").index(i),
                    "approver must not be empty",
                );
            }
        }
        for (g, members) in &p.groups {
            if members.iter().any(|m| m.trim().is_empty()) {
                self.fail(
                    AttrPath::attr("groups").key(g),
                    "group members must not be empty",
                );
            }
        }
        for (name, key) in &p.approver_keys {
            if let Err(why) = openssh_ed25519_shape(key) {
                self.fail(AttrPath::attr("approver_keys").key(name), why);
            }
        }
        if p.min_approvals == Some(0) {
            self.fail(
                AttrPath::attr("min_approvals"),
                "min_approvals must be at least 1",
            );
        }
    }

    fn rule_like(&mut self, block: &str, i: usize, r: &Rule) {
        let at = AttrPath::block(block, i);
        if r.id.trim().is_empty() {
            self.fail(at.then("id"), "must not be empty");
        }
        self.plain_globs(at.then("resource_types"), &r.resource_types);
        self.actions(at.then("actions"), &r.actions);
        self.condition(at.then("condition"), &r.condition, CHANGE_VARIABLES);
        self.outcome(at.then("outcome"), &r.outcome, false);
    }

    fn unique_ids<'a>(&mut self, block: &str, field: &str, ids: impl Iterator<Item = &'a str>) {
        let mut seen = std::collections::BTreeSet::new();
        for (i, id) in ids.enumerate() {
            if !id.is_empty() && !seen.insert(id) {
                self.fail(
                    AttrPath::block(block, i).then(field),
                    format!("duplicate {field} `{id}`"),
                );
            }
        }
    }

    fn blueprint(&mut self, b: &Blueprint) {
        self.name(&b.name);
        if !is_version(&b.version) {
            self.fail(
                AttrPath::attr("version"),
                "must be a semantic version such as `1.0.0` (or `1.0.0-rc.1`): a bare name picks the highest",
            );
        }
        for (i, r) in b.rule.iter().enumerate() {
            self.rule_like("rule", i, r);
        }
        self.unique_ids("rule", "id", b.rule.iter().map(|r| r.id.as_str()));
        for (i, r) in b.module_rule.iter().enumerate() {
            let at = AttrPath::block("module_rule", i);
            if r.id.trim().is_empty() {
                self.fail(at.then("id"), "must not be empty");
            }
            self.condition(at.then("condition"), &r.condition, MODULE_VARIABLES);
            self.outcome(at.then("outcome"), &r.outcome, false);
        }
        self.unique_ids(
            "module_rule",
            "id",
            b.module_rule.iter().map(|r| r.id.as_str()),
        );
    }

    fn intent(&mut self, it: &Intent) {
        self.name(&it.name);
        if it.profile.trim().is_empty() {
            self.fail(AttrPath::attr("profile"), "must name an iom_profile");
        }
        if let Some(scope) = &it.scope {
            let at = AttrPath::block("scope", 0);
            self.plain_globs(at.then("workspaces"), &scope.workspaces);
            for (i, m) in scope.modules.iter().enumerate() {
                if !(m.starts_with("module.") && m.len() > "module.".len()) {
                    self.fail(
                        at.then("modules").index(i),
                        format!("`{m}` is not a module address such as `module.payments`"),
                    );
                }
            }
        }
        self.plain_globs(
            AttrPath::attr("allowed_resource_types"),
            &it.allowed_resource_types,
        );
        self.address_globs(AttrPath::attr("critical"), &it.critical);
        for (i, b) in it.blueprints.iter().enumerate() {
            if b.trim().is_empty() || b.ends_with('@') || b.starts_with('@') {
                self.fail(
                    AttrPath::attr("blueprints").index(i),
                    format!("`{b}` is not `name` or `name@version`"),
                );
            }
        }
        for (i, c) in it.constraint.iter().enumerate() {
            self.rule_like("constraint", i, &Rule::from(c));
        }
        self.unique_ids(
            "constraint",
            "id",
            it.constraint.iter().map(|c| c.id.as_str()),
        );
    }

    fn contract(&mut self, c: &Contract) {
        self.name(&c.name);
        if !c.module.is_empty() {
            self.address_globs(AttrPath::attr("module"), std::slice::from_ref(&c.module));
            // A contract governs module calls, whose inputs every instance shares: an
            // instance key would match nothing, silently.
            if c.module.replace("[*]", "").contains('[') {
                self.fail(
                    AttrPath::attr("module"),
                    format!(
                        "`{}` names module instances; a contract governs module calls (write `module.NAME`, or `[*]` for every instance)",
                        c.module
                    ),
                );
            }
        }
        for (i, input) in c.input.iter().enumerate() {
            self.contract_input(AttrPath::block("input", i), input);
        }
        self.unique_ids("input", "name", c.input.iter().map(|x| x.name.as_str()));
        for (i, pc) in c.pre_condition.iter().enumerate() {
            self.pre_condition(AttrPath::block("pre_condition", i), pc);
        }
        for (i, k) in c.constraint.iter().enumerate() {
            self.contract_constraint(AttrPath::block("constraint", i), k);
        }
        for (i, p) in c.post_verify.iter().enumerate() {
            self.post_verify(AttrPath::block("post_verify", i), p);
        }
    }

    /// A contract input: its name, type, bounds and pattern.
    fn contract_input(&mut self, at: AttrPath, input: &ContractInput) {
        if input.name.trim().is_empty() {
            self.fail(at.then("name"), "must not be empty");
        }
        if let Some(t) = &input.ty
            && !INPUT_TYPES.contains(&t.as_str())
        {
            self.fail(
                at.then("type"),
                format!(
                    "unknown type `{t}`: expected one of {}",
                    INPUT_TYPES.join(", ")
                ),
            );
        }
        if let (Some(lo), Some(hi)) = (input.min, input.max)
            && lo > hi
        {
            self.fail(at.then("min"), format!("min {lo} is greater than max {hi}"));
        }
        if let Some(p) = &input.pattern
            && let Err(e) = regex::Regex::new(p)
        {
            let first = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            self.fail(
                at.then("pattern"),
                format!("invalid regular expression: {first}"),
            );
        }
    }

    /// A pre-condition: a known check, with the attribute that check needs.
    fn pre_condition(&mut self, at: AttrPath, pc: &PreCondition) {
        let needs: &[(&str, bool)] = match pc.check.as_str() {
            "profile_active" => &[("profile", pc.profile.is_some())],
            "element_exists" => &[("element", pc.element.is_some())],
            "tcp_reachable" => &[("target", pc.target.is_some())],
            "http_ok" => &[("url", pc.url.is_some())],
            "no_drift" => &[],
            other => {
                self.fail(
                    at.then("check"),
                    format!(
                        "unknown check `{other}`: expected one of {}",
                        PRE_CONDITION_CHECKS.join(", ")
                    ),
                );
                &[]
            }
        };
        for (attr, present) in needs {
            if !present {
                self.fail(
                    at.then(attr),
                    format!("check `{}` needs `{attr}`", pc.check),
                );
            }
        }
        if let Some(o) = &pc.outcome {
            self.outcome(at.then("outcome"), o, false);
        }
    }

    /// A constraint: the profile it applies under, the actions it forbids.
    fn contract_constraint(&mut self, at: AttrPath, k: &ContractConstraint) {
        if k.profile.trim().is_empty() {
            self.fail(at.then("profile"), "must name an iom_profile");
        }
        self.actions(at.then("forbid_actions"), &k.forbid_actions);
        if let Some(o) = &k.outcome {
            self.outcome(at.then("outcome"), o, false);
        }
    }

    /// A post-verify probe: a known probe, with the attribute it needs; a `state`
    /// condition reads only the state's variables.
    fn post_verify(&mut self, at: AttrPath, p: &PostVerify) {
        let needs: &[(&str, bool)] = match p.probe.as_str() {
            "http" => &[("url", p.url.is_some())],
            "tcp" => &[("target", p.target.is_some())],
            "state" => &[("condition", p.condition.is_some())],
            "run_record_written" => &[],
            other => {
                self.fail(
                    at.then("probe"),
                    format!(
                        "unknown probe `{other}`: expected one of {}",
                        PROBES.join(", ")
                    ),
                );
                &[]
            }
        };
        for (attr, present) in needs {
            if !present {
                self.fail(at.then(attr), format!("probe `{}` needs `{attr}`", p.probe));
            }
        }
        if let Some(cond) = &p.condition {
            self.condition(at.then("condition"), cond, STATE_VARIABLES);
        }
    }

    fn element(&mut self, e: &Element) {
        self.name(&e.name);
        if !ELEMENT_KINDS.contains(&e.kind.as_str()) {
            self.fail(
                AttrPath::attr("kind"),
                format!(
                    "unknown kind `{}`: expected one of {}",
                    e.kind,
                    ELEMENT_KINDS.join(", ")
                ),
            );
        }
        self.address_globs(AttrPath::attr("matches"), &e.matches);
    }

    fn waiver(&mut self, w: &Waiver) {
        self.name(&w.name);
        for (attr, value) in [
            ("source", &w.source),
            ("rule", &w.rule),
            ("reason", &w.reason),
            ("approved_by", &w.approved_by),
        ] {
            if value.trim().is_empty() {
                self.fail(AttrPath::attr(attr), "must not be empty");
            }
        }
        self.address_globs(AttrPath::attr("addresses"), &w.addresses);
        if let Err((i, e)) = crate::glob::compile_plain(&w.workspaces) {
            self.fail(AttrPath::attr("workspaces").index(i), e);
        }
        if let Err(e) = crate::time::parse_rfc3339(&w.expires) {
            self.fail(AttrPath::attr("expires"), e);
        }
    }

    /// A notification that could not be delivered would be silence, not a
    /// notification: where it goes and when must be right at load, never skipped.
    fn notification(&mut self, n: &Notification) {
        self.name(&n.name);
        match (&n.url, &n.url_env) {
            (Some(_), Some(_)) => self.fail(
                AttrPath::attr("url_env"),
                "give `url` or `url_env`, not both",
            ),
            (None, None) => self.fail(
                AttrPath::attr("url"),
                "needs `url`, or `url_env` naming the environment variable that holds it",
            ),
            (Some(url), None) => {
                if let Err(e) = webhook_url(url) {
                    self.fail(AttrPath::attr("url"), e);
                }
            }
            (None, Some(var)) => {
                if !is_env_name(var) {
                    self.fail(
                        AttrPath::attr("url_env"),
                        format!("`{var}` is not an environment variable name (letters, digits and `_`, not starting with a digit)"),
                    );
                }
            }
        }
        if n.on.is_empty() {
            self.fail(
                AttrPath::attr("on"),
                format!(
                    "must list at least one of {}",
                    NOTIFICATION_EVENTS.join(", ")
                ),
            );
        }
        for (i, event) in n.on.iter().enumerate() {
            if !NOTIFICATION_EVENTS.contains(&event.as_str()) {
                self.fail(
                    AttrPath::attr("on").index(i),
                    format!(
                        "unknown event `{event}`: expected one of {}",
                        NOTIFICATION_EVENTS.join(", ")
                    ),
                );
            }
        }
        self.plain_globs(AttrPath::attr("workspaces"), &n.workspaces);
    }
}

/// Whether `url` is a webhook URL plan-guard can post to: `http://` or `https://` and a
/// host. The error never quotes the URL: its path is usually the webhook's secret.
pub fn webhook_url(url: &str) -> Result<(), String> {
    let rest = ["http://", "https://"].iter().find_map(|p| {
        url.get(..p.len())
            .filter(|s| s.eq_ignore_ascii_case(p))
            .and_then(|_| url.get(p.len()..))
    });
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next());
    match host {
        Some(h) if !h.is_empty() && !h.ends_with('@') => {
            if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Err("must not contain spaces or control characters".into())
            } else {
                Ok(())
            }
        }
        _ => Err("must be an http:// or https:// URL with a host".into()),
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what a shell can export.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Conditions whose cost grows faster than the data they read: a comprehension inside
/// a comprehension (`after.items.all(a, after.items.exists_one(b, b == a))`), or `in` a
/// computed list inside one. Not errors: over small values they are fine, but over a
/// large one they may run out of the evaluation budget and fail with their outcome, so
/// the model's author hears of them when the model loads (plan-guard) or validates
/// (the provider) rather than from a check.
pub fn cost_warnings_of(object: &Object) -> Vec<(AttrPath, String)> {
    let mut conditions: Vec<(AttrPath, &str, &[&str])> = Vec::new();
    match object {
        Object::Blueprint(b) => {
            for (j, r) in b.rule.iter().enumerate() {
                let at = AttrPath::block("rule", j).then("condition");
                conditions.push((at, &r.condition, CHANGE_VARIABLES));
            }
            for (j, r) in b.module_rule.iter().enumerate() {
                let at = AttrPath::block("module_rule", j).then("condition");
                conditions.push((at, &r.condition, MODULE_VARIABLES));
            }
        }
        Object::Intent(it) => {
            for (j, c) in it.constraint.iter().enumerate() {
                let at = AttrPath::block("constraint", j).then("condition");
                conditions.push((at, &c.condition, CHANGE_VARIABLES));
            }
        }
        Object::Contract(c) => {
            for (j, p) in c.post_verify.iter().enumerate() {
                if let Some(cond) = &p.condition {
                    let at = AttrPath::block("post_verify", j).then("condition");
                    conditions.push((at, cond, STATE_VARIABLES));
                }
            }
        }
        Object::Profile(_) | Object::Element(_) | Object::Waiver(_) | Object::Notification(_) => {}
    }
    conditions
        .into_iter()
        .filter_map(|(at, source, scope)| Some((at, growth_warning(source, scope)?)))
        .collect()
}

/// Why a condition's cost grows faster than linearly, if it does (see [`cost_warnings_of`]).
fn growth_warning(source: &str, scope: &[&str]) -> Option<String> {
    let growth = Condition::compile_for(source, scope).ok()?.growth();
    let power = match growth {
        0 | 1 => return None,
        2 => "the square".to_string(),
        3 => "the cube".to_string(),
        n => format!("the power {n}"),
    };
    Some(format!(
        "the cost of this condition grows as {power} of the size of the lists and maps it \
         walks (comprehensions nested {growth} deep, or `in` a computed list inside a \
         comprehension); over a large value it may exceed the evaluation budget \
         (--cel-budget) and fail with its outcome"
    ))
}

/// [`cost_warnings_of`] every object of a model, as problems naming the object.
pub fn cost_warnings(spec: &ModelSpec) -> Vec<Problem> {
    let objects = (spec
        .blueprints
        .iter()
        .cloned()
        .map(Object::Blueprint)
        .enumerate())
    .chain(spec.intents.iter().cloned().map(Object::Intent).enumerate())
    .chain(
        spec.contracts
            .iter()
            .cloned()
            .map(Object::Contract)
            .enumerate(),
    );
    let mut out = Vec::new();
    for (index, object) in objects {
        for (path, message) in cost_warnings_of(&object) {
            out.push(Problem {
                code: ProblemCode::Cost,
                kind: object.kind(),
                index,
                name: object.name().to_string(),
                path,
                message,
            });
        }
    }
    out
}

/// `MAJOR[.MINOR[.PATCH]]`, each a number, then an optional `-pre.release` and
/// `+build`: what [`crate::compile::compare_versions`] orders by SemVer precedence.
fn is_version(v: &str) -> bool {
    let v = v
        .split_once('+')
        .map_or(v, |(core, build)| if build.is_empty() { "" } else { core });
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && pre.is_none_or(|p| p.split('.').all(ident))
}

/// Whether `key` looks like an OpenSSH ed25519 public key line (`ssh-ed25519 BASE64
/// [comment]`). plan-guard decodes it fully when it checks a signature; this catches the
/// usual mistakes (a private key, another algorithm, a truncated paste) at validate time.
fn openssh_ed25519_shape(key: &str) -> Result<(), String> {
    let mut parts = key.split_whitespace();
    if parts.next() != Some("ssh-ed25519") {
        return Err(
            "expected an ed25519 public key in OpenSSH form: ssh-ed25519 AAAA… comment".into(),
        );
    }
    // 32 key bytes behind the algorithm name: 68 base64 characters.
    match parts.next() {
        Some(b64)
            if b64.len() == 68
                && b64.starts_with("AAAAC3NzaC1lZDI1NTE5")
                && b64
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=')) =>
        {
            Ok(())
        }
        _ => Err("the key after ssh-ed25519 is not a whole ed25519 public key".into()),
    }
}

#[cfg(test)]
mod version_tests {
    use super::is_version;

    #[test]
    fn versions() {
        for good in [
            "1.0.0",
            "2.1",
            "3",
            "1.10.0-rc.1",
            "1.0.0+build.5",
            "1.0.0-alpha-1",
        ] {
            assert!(is_version(good), "{good}");
        }
        for bad in [
            "latest", "", "1.0.0 ", "v1.0.0", "1..0", "1.0.0.0", "1.0.0-", "1.0.0+",
        ] {
            assert!(!is_version(bad), "{bad}");
        }
    }
}

#[cfg(test)]
mod waiver_tests {
    use super::validate_object;
    use crate::objects::{Object, Waiver};

    /// The provider's `ValidateResourceConfig` runs exactly this: a malformed `expires`
    /// is a problem at that attribute, never a panic of the provider process.
    #[test]
    fn a_non_ascii_expiry_is_a_problem_at_expires() {
        for expires in ["2026-01-01T00:00:00+0é:0", "2026-01-01T00:00:00+0é:00"] {
            let waiver = Object::Waiver(Waiver {
                name: "w".into(),
                source: "intent:x".into(),
                rule: "*".into(),
                reason: "r".into(),
                approved_by: "a".into(),
                expires: expires.into(),
                ..Waiver::default()
            });
            let problems = validate_object(&waiver);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].0.to_string(), "expires");
            assert!(problems[0].1.contains("RFC 3339"), "{}", problems[0].1);
        }
    }
}

#[cfg(test)]
mod notification_tests {
    use crate::objects::{Notification, Object};

    /// Debug output reaches logs and panic messages: it says a URL is set, never which.
    #[test]
    fn debug_never_shows_the_url() {
        let n = Notification {
            name: "pager".into(),
            url: Some("https://hooks.example/services/DEBUG-CANARY".into()),
            on: vec!["block".into()],
            ..Notification::default()
        };
        let spec = crate::ModelSpec {
            notifications: vec![n.clone()],
            ..crate::ModelSpec::default()
        };
        let model = crate::Model::compile(spec).unwrap();
        for shown in [
            format!("{:?}", Object::Notification(n)),
            format!("{model:?}"),
        ] {
            assert!(shown.contains("pager"), "{shown}");
            assert!(!shown.contains("DEBUG-CANARY"), "{shown}");
        }
    }
}

#[cfg(test)]
mod cost_tests {
    use crate::hcl_load::load_str;

    #[test]
    fn nested_comprehensions_are_warned_about_naming_the_rule() {
        let spec = load_str(
            "gov.tf",
            r#"
resource "iom_blueprint" "b" {
  name    = "b"
  version = "1.0.0"
  rule {
    id        = "linear"
    condition = "after.items.all(a, a > 0)"
    outcome   = "warn"
  }
  rule {
    id        = "unique"
    condition = "after.items.all(a, after.items.exists_one(b, b == a))"
    outcome   = "block"
  }
}
"#,
        )
        .unwrap();
        let warnings: Vec<String> = super::cost_warnings(&spec)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("iom_blueprint `b`, attribute `rule[1].condition`")
                && warnings[0].contains("square"),
            "{}",
            warnings[0]
        );
    }
}
