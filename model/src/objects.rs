//! The governance objects as declared (docs/model.md, docs/resources). These are the *spec* forms:
//! plain data as written in HCL or stored, with words kept as strings so that
//! validation can point at the attribute that is wrong. [`crate::compile`] turns a
//! validated set of them into the typed, compiled model that decisions run on.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What each class of action yields in an environment, its thresholds and approvers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// Unique name of the object, used in references and for `terraform import`.
    pub name: String,
    /// Free text for people reading the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Outcome per action class (`create`, `update`, `replace`, `delete`, `read`,
    /// `forget`, `invoke`, `move`).
    pub actions: BTreeMap<String, String>,
    /// A change whose transitive blast radius exceeds this escalates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_blast_radius: Option<u64>,
    /// A plan with more changes in scope than this escalates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_changes: Option<u64>,
    /// Outcome when a condition cannot be decided at plan time because it reads an unknown value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_unknown: Option<String>,
    /// Outcome of a check while a governed resource has unreconciled drift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_drift: Option<String>,
    /// Actors allowed to approve escalations.
    pub approvers: Vec<String>,
    /// When true, the actor who ran the check may not approve it.
    pub require_distinct_approver: bool,
    /// Approver groups.
    pub groups: BTreeMap<String, Vec<String>>,
    /// Name to OpenSSH ed25519 public key (`ssh-ed25519 AAAA… comment`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub approver_keys: BTreeMap<String, String>,
    /// How many distinct approvers must approve an escalation under this profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_approvals: Option<u64>,
}

/// A named, versioned rule set that intents reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Blueprint {
    /// Unique name of the object, used in references and for `terraform import`.
    pub name: String,
    /// Version of the rule set (semantic version).
    pub version: String,
    /// Free text for people reading the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Rules every governed change they apply to must satisfy.
    pub rule: Vec<Rule>,
    /// Rules over the module calls of a governed configuration (docs/judging.md).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub module_rule: Vec<ModuleRule>,
}

/// A rule every module call in a governed scope must satisfy; its condition reads
/// `module_call` (`address`, `source`, `version`) and `workspace`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModuleRule {
    /// Identifier of the rule, unique among the blueprint's module rules.
    pub id: String,
    /// CEL expression over `module_call` (`address`, `source`, `version`) and
    /// `workspace`; true means compliant.
    pub condition: String,
    /// Outcome when the condition is false: `warn`, `escalate` or `block`.
    pub outcome: String,
    /// One sentence shown when the rule fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A blueprint rule: a CEL condition every governed change of its types and actions
/// must satisfy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    /// Identifier of the rule, unique within its blueprint.
    pub id: String,
    /// Resource type globs the rule applies to.
    pub resource_types: Vec<String>,
    /// Action classes the rule applies to.
    pub actions: Vec<String>,
    /// CEL expression over the change (`after`, `before`, `address`, `type`, …); true
    /// means compliant.
    pub condition: String,
    /// Outcome when the condition is false: `warn`, `escalate` or `block`.
    pub outcome: String,
    /// One sentence shown when the rule fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What an environment is for, who owns it, what it may contain and which rules apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Intent {
    /// Unique name of the object, used in references and for `terraform import`.
    pub name: String,
    /// What the governed infrastructure is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Environment name, such as `prod`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Owning team or person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Name of the `iom_profile` that decides action outcomes.
    pub profile: String,
    /// Blueprints that apply, as `name` or `name@version`.
    pub blueprints: Vec<String>,
    /// Where the intent applies; none governs everywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// Resource type globs permitted.
    pub allowed_resource_types: Vec<String>,
    /// Resource address globs.
    pub critical: Vec<String>,
    /// Conditions every governed change must satisfy, owned by this intent.
    pub constraint: Vec<Constraint>,
}

/// Where an intent applies: workspaces and modules; empty lists govern everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    /// Workspace name globs.
    pub workspaces: Vec<String>,
    /// Module address prefixes, such as `module.payments`.
    pub modules: Vec<String>,
}

/// An intent constraint: like a blueprint rule, but owned by one intent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Constraint {
    /// Identifier, unique within its intent.
    pub id: String,
    /// Resource type globs it applies to.
    pub resource_types: Vec<String>,
    /// Action classes it applies to.
    pub actions: Vec<String>,
    /// CEL expression over the change; true means compliant.
    pub condition: String,
    /// Outcome when the condition is false.
    pub outcome: String,
    /// One sentence shown when it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<&Constraint> for Rule {
    fn from(c: &Constraint) -> Rule {
        Rule {
            id: c.id.clone(),
            resource_types: c.resource_types.clone(),
            actions: c.actions.clone(),
            condition: c.condition.clone(),
            outcome: c.outcome.clone(),
            message: c.message.clone(),
        }
    }
}

/// An operational contract over the module calls its `module` glob matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Contract {
    /// Unique name of the object, used in references and for `terraform import`.
    pub name: String,
    /// Free text for people reading the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Glob over module call addresses governed, such as `module.service*`.
    pub module: String,
    /// Typed inputs of the module call.
    pub input: Vec<ContractInput>,
    /// Conditions checked before apply.
    pub pre_condition: Vec<PreCondition>,
    /// Actions forbidden under a profile.
    pub constraint: Vec<ContractConstraint>,
    /// Probes run after a governed apply.
    pub post_verify: Vec<PostVerify>,
}

/// A typed input of a governed module call, with the values it may take.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractInput {
    /// Input variable name.
    pub name: String,
    /// `string`, `number`, `bool`, `list`, `map` or `any`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// A missing input is a violation.
    pub required: bool,
    /// The values allowed (`enum`); empty allows any.
    #[serde(rename = "enum")]
    pub allowed: Vec<serde_json::Value>,
    /// Smallest allowed number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Regular expression a string must match in full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Free text for people reading the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A condition a contract checks before apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreCondition {
    /// `profile_active`, `element_exists`, `no_drift`, `tcp_reachable` or `http_ok`.
    pub check: String,
    /// For `profile_active`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// For `element_exists`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// For `tcp_reachable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// For `http_ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For `http_ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    /// Time limit of a network check (default 2000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Outcome when the check fails (default `block`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// Actions a contract forbids under one profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractConstraint {
    /// Profile name the constraint applies under.
    pub profile: String,
    /// Action classes forbidden.
    pub forbid_actions: Vec<String>,
    /// Outcome of a forbidden action (default `block`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// A probe a contract runs after a governed apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostVerify {
    /// `http`, `tcp`, `state` or `run_record_written`.
    pub probe: String,
    /// For `http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For `tcp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// For `http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    /// Attempts beyond the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Time limit of each attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// For `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// A declared part of the estate that plans and states are matched against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Element {
    /// Unique name of the object, used in references and for `terraform import`.
    pub name: String,
    /// `network`, `identity`, `service`, `cloud`, `data` or `other`.
    pub kind: String,
    /// Free text for people reading the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Owning team or person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Resource address globs that make up the element.
    pub matches: Vec<String>,
    /// Names of elements this one depends on.
    pub depends_on_elements: Vec<String>,
}

/// A time-boxed exception: findings of one source and rule on matching addresses and
/// workspaces are reported as waived (allowed, with the waiver named) until `expires`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Waiver {
    /// Unique name of the object, used in references and for `terraform import`.
    pub name: String,
    /// Free text for people reading the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Finding source it waives, as reports show it.
    pub source: String,
    /// Rule of that source it waives (`critical`, `replace`, a rule or constraint id, ...).
    pub rule: String,
    /// Resource address globs it covers.
    pub addresses: Vec<String>,
    /// Workspace name globs it covers.
    pub workspaces: Vec<String>,
    /// Why the exception is acceptable, for the record.
    pub reason: String,
    /// Who approved the exception.
    pub approved_by: String,
    /// When it stops applying, RFC 3339 (`2026-12-31T23:59:59Z`).
    pub expires: String,
}

/// Where and when to tell people: a webhook plan-guard posts to on the events `on` names
/// (the `event` of the body it sends), in the workspaces `workspaces` covers. The URL is a
/// secret (a webhook's path is its credential): given as `url`, or read from the
/// environment variable `url_env` names, so that no URL sits in state or in the store.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Notification {
    /// Unique name of the object, used in references and for `terraform import`.
    pub name: String,
    /// Free text for people reading the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The webhook's `http://` or `https://` URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable that holds the webhook URL where plan-guard runs, so no
    /// URL sits in state or in the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// The events to post.
    pub on: Vec<String>,
    /// Workspace name globs it covers.
    pub workspaces: Vec<String>,
}

/// Debug output shows whether a URL is set, never the URL: debug lines end up in logs.
impl std::fmt::Debug for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notification")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("url", &self.url.as_ref().map(|_| "(sensitive)"))
            .field("url_env", &self.url_env)
            .field("on", &self.on)
            .field("workspaces", &self.workspaces)
            .finish()
    }
}

/// Every governance object of one model, as declared. Lists keep declaration order;
/// validation guarantees unique names within each kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelSpec {
    /// `iom_profile` objects.
    pub profiles: Vec<Profile>,
    /// `iom_blueprint` objects.
    pub blueprints: Vec<Blueprint>,
    /// `iom_intent` objects.
    pub intents: Vec<Intent>,
    /// `iom_contract` objects.
    pub contracts: Vec<Contract>,
    /// `iom_element` objects.
    pub elements: Vec<Element>,
    /// `iom_waiver` objects.
    pub waivers: Vec<Waiver>,
    /// `iom_notification` objects.
    pub notifications: Vec<Notification>,
}

impl ModelSpec {
    /// No object that governs a change: a directory or store that governs nothing.
    /// Notifications alone govern nothing (they only say whom to tell).
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
            && self.blueprints.is_empty()
            && self.intents.is_empty()
            && self.contracts.is_empty()
            && self.elements.is_empty()
            && self.waivers.is_empty()
    }
}

/// One governance object of any kind: what a provider resource or an HCL block holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// An `iom_profile`.
    Profile(Profile),
    /// An `iom_blueprint`.
    Blueprint(Blueprint),
    /// An `iom_intent`.
    Intent(Intent),
    /// An `iom_contract`.
    Contract(Contract),
    /// An `iom_element`.
    Element(Element),
    /// An `iom_waiver`.
    Waiver(Waiver),
    /// An `iom_notification`.
    Notification(Notification),
}

impl Object {
    /// The object's name (a blueprint's, without its version).
    pub fn name(&self) -> &str {
        match self {
            Object::Profile(o) => &o.name,
            Object::Blueprint(o) => &o.name,
            Object::Intent(o) => &o.name,
            Object::Contract(o) => &o.name,
            Object::Element(o) => &o.name,
            Object::Waiver(o) => &o.name,
            Object::Notification(o) => &o.name,
        }
    }

    /// What identifies the object in the store and for `terraform import`: its name, and
    /// for a blueprint `name@version`, so versions of one blueprint live side by side.
    pub fn key(&self) -> String {
        match self {
            Object::Blueprint(b) => format!("{}@{}", b.name, b.version),
            other => other.name().to_string(),
        }
    }

    /// The kind of object, and so its resource type.
    pub fn kind(&self) -> crate::Kind {
        match self {
            Object::Profile(_) => crate::Kind::Profile,
            Object::Blueprint(_) => crate::Kind::Blueprint,
            Object::Intent(_) => crate::Kind::Intent,
            Object::Contract(_) => crate::Kind::Contract,
            Object::Element(_) => crate::Kind::Element,
            Object::Waiver(_) => crate::Kind::Waiver,
            Object::Notification(_) => crate::Kind::Notification,
        }
    }

    /// Builds an object of `kind` from its JSON form (attributes, nested blocks as arrays).
    pub fn from_json(
        kind: crate::Kind,
        value: serde_json::Value,
    ) -> Result<Object, serde_json::Error> {
        use crate::Kind;
        Ok(match kind {
            Kind::Profile => Object::Profile(serde_json::from_value(value)?),
            Kind::Blueprint => Object::Blueprint(serde_json::from_value(value)?),
            Kind::Intent => Object::Intent(serde_json::from_value(value)?),
            Kind::Contract => Object::Contract(serde_json::from_value(value)?),
            Kind::Element => Object::Element(serde_json::from_value(value)?),
            Kind::Waiver => Object::Waiver(serde_json::from_value(value)?),
            Kind::Notification => Object::Notification(serde_json::from_value(value)?),
        })
    }

    // Every field of a governance object is a string, number, list or string-keyed map:
    // serializing one cannot fail.
    /// The object as the JSON the store keeps.
    #[allow(clippy::expect_used)]
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            Object::Profile(o) => serde_json::to_value(o),
            Object::Blueprint(o) => serde_json::to_value(o),
            Object::Intent(o) => serde_json::to_value(o),
            Object::Contract(o) => serde_json::to_value(o),
            Object::Element(o) => serde_json::to_value(o),
            Object::Waiver(o) => serde_json::to_value(o),
            Object::Notification(o) => serde_json::to_value(o),
        };
        v.expect("governance objects always serialize")
    }
}

impl ModelSpec {
    /// Adds `object` to the list of its kind.
    pub fn push(&mut self, object: Object) {
        match object {
            Object::Profile(o) => self.profiles.push(o),
            Object::Blueprint(o) => self.blueprints.push(o),
            Object::Intent(o) => self.intents.push(o),
            Object::Contract(o) => self.contracts.push(o),
            Object::Element(o) => self.elements.push(o),
            Object::Waiver(o) => self.waivers.push(o),
            Object::Notification(o) => self.notifications.push(o),
        }
    }
}
