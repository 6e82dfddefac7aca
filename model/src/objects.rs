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
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub actions: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_blast_radius: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_changes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_unknown: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_drift: Option<String>,
    pub approvers: Vec<String>,
    pub require_distinct_approver: bool,
    pub groups: BTreeMap<String, Vec<String>>,
    /// Name to OpenSSH ed25519 public key (`ssh-ed25519 AAAA… comment`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub approver_keys: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_approvals: Option<u64>,
}

/// A named, versioned rule set that intents reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Blueprint {
    pub name: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
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
    pub id: String,
    pub condition: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub resource_types: Vec<String>,
    pub actions: Vec<String>,
    pub condition: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What an environment is for, who owns it, what it may contain and which rules apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Intent {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub profile: String,
    pub blueprints: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    pub allowed_resource_types: Vec<String>,
    pub critical: Vec<String>,
    pub constraint: Vec<Constraint>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scope {
    pub workspaces: Vec<String>,
    pub modules: Vec<String>,
}

/// An intent constraint: like a blueprint rule, but owned by one intent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Constraint {
    pub id: String,
    pub resource_types: Vec<String>,
    pub actions: Vec<String>,
    pub condition: String,
    pub outcome: String,
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
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub module: String,
    pub input: Vec<ContractInput>,
    pub pre_condition: Vec<PreCondition>,
    pub constraint: Vec<ContractConstraint>,
    pub post_verify: Vec<PostVerify>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractInput {
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    pub required: bool,
    #[serde(rename = "enum")]
    pub allowed: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreCondition {
    pub check: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractConstraint {
    pub profile: String,
    pub forbid_actions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostVerify {
    pub probe: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// A declared part of the estate that plans and states are matched against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Element {
    pub name: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub matches: Vec<String>,
    pub depends_on_elements: Vec<String>,
}

/// A time-boxed exception: findings of one source and rule on matching addresses and
/// workspaces are reported as waived (allowed, with the waiver named) until `expires`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Waiver {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub source: String,
    pub rule: String,
    pub addresses: Vec<String>,
    pub workspaces: Vec<String>,
    pub reason: String,
    pub approved_by: String,
    pub expires: String,
}

/// Where and when to tell people: a webhook plan-guard posts to on the events `on` names
/// (the `event` of the body it sends), in the workspaces `workspaces` covers. The URL is a
/// secret (a webhook's path is its credential): given as `url`, or read from the
/// environment variable `url_env` names, so that no URL sits in state or in the store.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Notification {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    pub on: Vec<String>,
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
    pub profiles: Vec<Profile>,
    pub blueprints: Vec<Blueprint>,
    pub intents: Vec<Intent>,
    pub contracts: Vec<Contract>,
    pub elements: Vec<Element>,
    pub waivers: Vec<Waiver>,
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
    Profile(Profile),
    Blueprint(Blueprint),
    Intent(Intent),
    Contract(Contract),
    Element(Element),
    Waiver(Waiver),
    Notification(Notification),
}

impl Object {
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
