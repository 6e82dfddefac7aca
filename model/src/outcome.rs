//! The two small vocabularies every decision is written in: outcomes and action classes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a finding asks for. Ordered: the verdict of a change is its highest finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Nothing to say: the change may go ahead.
    Allow,
    /// The change may go ahead; the finding is reported.
    Warn,
    /// The change needs an approval before apply.
    Escalate,
    /// The change may not be applied.
    Block,
}

impl Outcome {
    /// Every outcome, mildest first.
    pub const ALL: [Outcome; 4] = [
        Outcome::Allow,
        Outcome::Warn,
        Outcome::Escalate,
        Outcome::Block,
    ];

    /// The outcome's name, as the model and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::Escalate => "escalate",
            Outcome::Block => "block",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| {
                format!("unknown outcome `{s}`: expected one of allow, warn, escalate, block")
            })
    }
}

/// The single class of a planned resource change (docs/judging.md). A replace is
/// its own class, never also a create or a delete; a move that changes nothing else
/// (`no-op` with a `previous_address`) is `move`, while a move that also changes the
/// object keeps the class of that change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ActionClass {
    /// A new object.
    #[serde(rename = "create")]
    Create,
    /// An object changed in place.
    #[serde(rename = "update")]
    Update,
    /// An object destroyed and created again (in either order).
    #[serde(rename = "replace")]
    Replace,
    /// An object destroyed.
    #[serde(rename = "delete")]
    Delete,
    /// A data source read during apply.
    #[serde(rename = "read")]
    Read,
    /// An object removed from state and left standing (`removed` with `destroy = false`).
    #[serde(rename = "forget")]
    Forget,
    /// An action (Terraform 1.14+) the apply runs; never from a resource change's
    /// `actions`, only from the plan's action invocations.
    #[serde(rename = "invoke")]
    Invoke,
    /// An object moved to a new address and not otherwise changed.
    #[serde(rename = "move")]
    Move,
    /// A module call judged by blueprint `module_rule`s; never from a resource change,
    /// only from the configuration's module calls.
    #[serde(rename = "module")]
    Module,
    /// Nothing to do: never judged.
    #[serde(rename = "no-op")]
    NoOp,
}

impl ActionClass {
    /// Every action class.
    pub const ALL: [ActionClass; 10] = [
        ActionClass::Create,
        ActionClass::Update,
        ActionClass::Replace,
        ActionClass::Delete,
        ActionClass::Read,
        ActionClass::Forget,
        ActionClass::Invoke,
        ActionClass::Move,
        ActionClass::Module,
        ActionClass::NoOp,
    ];

    /// The class's name, as the model and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionClass::Create => "create",
            ActionClass::Update => "update",
            ActionClass::Replace => "replace",
            ActionClass::Delete => "delete",
            ActionClass::Read => "read",
            ActionClass::Forget => "forget",
            ActionClass::Invoke => "invoke",
            ActionClass::Move => "move",
            ActionClass::Module => "module",
            ActionClass::NoOp => "no-op",
        }
    }

    /// Classifies Terraform's `actions` list. `None` for a list no Terraform writes.
    pub fn from_actions<S: AsRef<str>>(actions: &[S]) -> Option<ActionClass> {
        let a: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
        Some(match a.as_slice() {
            ["create"] => ActionClass::Create,
            ["update"] => ActionClass::Update,
            ["delete", "create"] | ["create", "delete"] => ActionClass::Replace,
            ["delete"] => ActionClass::Delete,
            ["read"] => ActionClass::Read,
            ["forget"] => ActionClass::Forget,
            // A replacement whose old object is forgotten, not destroyed (`lifecycle {
            // destroy = false }`): nothing is deleted, a new object is created and the old
            // one leaves the state. Its class is create; [`ActionClass::also_forgets`] says
            // it is judged as a forget too.
            ["create", "forget"] | ["forget", "create"] => ActionClass::Create,
            ["no-op"] => ActionClass::NoOp,
            // No Terraform writes an empty list; reading it as no-op would drop the change.
            _ => return None,
        })
    }

    /// The class of a change: [`ActionClass::from_actions`], except that a `no-op` whose
    /// object moved (`moved`: it has a `previous_address` other than its address) is a
    /// `move`, which is judged.
    pub fn of_change<S: AsRef<str>>(actions: &[S], moved: bool) -> Option<ActionClass> {
        match ActionClass::from_actions(actions)? {
            ActionClass::NoOp if moved => Some(ActionClass::Move),
            class => Some(class),
        }
    }
}

impl ActionClass {
    /// Whether a change of this class with these `actions` also forgets an object (removes
    /// it from the state and leaves it running, unmanaged): `["create","forget"]` and
    /// `["forget","create"]`. Such a change is judged under both classes, the stricter
    /// outcome winning, so a profile that escalates or blocks `forget` sees it.
    pub fn also_forgets<S: AsRef<str>>(self, actions: &[S]) -> bool {
        self != ActionClass::Forget && actions.iter().any(|a| a.as_ref() == "forget")
    }
}

impl fmt::Display for ActionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionClass::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            format!("unknown action `{s}`: expected one of create, update, replace, delete, read, forget, invoke, move, module, no-op")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_ordered() {
        assert!(Outcome::Allow < Outcome::Warn);
        assert!(Outcome::Warn < Outcome::Escalate);
        assert!(Outcome::Escalate < Outcome::Block);
        assert_eq!("escalate".parse::<Outcome>(), Ok(Outcome::Escalate));
        assert!("deny".parse::<Outcome>().is_err());
    }

    #[test]
    fn both_replace_orderings_are_one_class() {
        assert_eq!(
            ActionClass::from_actions(&["delete", "create"]),
            Some(ActionClass::Replace)
        );
        assert_eq!(
            ActionClass::from_actions(&["create", "delete"]),
            Some(ActionClass::Replace)
        );
        assert_eq!(
            ActionClass::from_actions(&["no-op"]),
            Some(ActionClass::NoOp)
        );
        assert_eq!(ActionClass::from_actions(&["delete", "update"]), None);
        // A forget beside a create is no replace: nothing is destroyed.
        for actions in [["create", "forget"], ["forget", "create"]] {
            let class = ActionClass::from_actions(&actions);
            assert_eq!(class, Some(ActionClass::Create), "{actions:?}");
            assert!(ActionClass::Create.also_forgets(&actions));
        }
        assert!(!ActionClass::Forget.also_forgets(&["forget"]));
        assert!(!ActionClass::Create.also_forgets(&["create"]));
        assert_eq!(
            ActionClass::of_change(&["no-op"], true),
            Some(ActionClass::Move)
        );
        assert_eq!(
            ActionClass::of_change(&["delete"], true),
            Some(ActionClass::Delete)
        );
        assert_eq!("move".parse::<ActionClass>(), Ok(ActionClass::Move));
        assert_eq!(ActionClass::from_actions::<&str>(&[]), None);
    }
}
