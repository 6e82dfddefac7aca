//! The `terraform show -json` plan document, typed. Values that only some decisions
//! read (`before`, `after`, unknown and sensitive masks) stay as borrowed raw JSON and
//! are parsed on demand, which keeps reading a large plan close to the cost of
//! scanning it. Every format version Terraform (0.12 to 1.15) and OpenTofu have
//! written deserializes into these types; fields a version lacks default.

pub mod address;
pub mod copy;
mod exprs;
mod load;
pub mod sources;
pub mod state;

pub use exprs::Expr;
pub use load::{
    DEFAULT_MAX_PLAN_BYTES, PlanError, PlanSource, RawPlan, hex_digest, max_plan_bytes, parse_size,
    read_plan, set_max_plan_bytes, terraform_binary, terraform_output,
};
pub use state::{State, StateModule, StateResource, StateValues};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A `terraform show -json` plan document.
#[derive(Debug, Deserialize)]
pub struct Plan<'a> {
    /// The JSON format's version (`1.2`); absent from trimmed documents.
    #[serde(default)]
    pub format_version: Option<String>,
    /// The Terraform that made the plan.
    #[serde(default)]
    pub terraform_version: Option<String>,
    /// Root module variables with their values.
    #[serde(default, borrow)]
    pub variables: BTreeMap<String, Variable<'a>>,
    /// What the plan would leave; read only for whether it has a root module.
    #[serde(default)]
    pub planned_values: Option<PlannedValues>,
    /// Changes made outside Terraform since the last apply.
    #[serde(default, borrow)]
    pub resource_drift: Vec<ResourceChange<'a>>,
    /// What the apply would change.
    #[serde(default, borrow)]
    pub resource_changes: Vec<ResourceChange<'a>>,
    /// Changes Terraform put off to a later plan (a value it needs is not known yet);
    /// with any of them, `complete` is false.
    #[serde(default, borrow)]
    pub deferred_changes: Vec<DeferredChange<'a>>,
    /// Actions (Terraform 1.14+) the apply would run: by `-invoke`, or triggered by a
    /// resource's lifecycle.
    #[serde(default, borrow)]
    pub action_invocations: Vec<ActionInvocation<'a>>,
    /// Action invocations Terraform put off to a later plan.
    #[serde(default, borrow)]
    pub deferred_action_invocations: Vec<DeferredActionInvocation<'a>>,
    /// Root outputs' changes, by name.
    #[serde(default, borrow)]
    pub output_changes: BTreeMap<String, Change<'a>>,
    /// The state the plan starts from.
    #[serde(default, borrow)]
    pub prior_state: Option<State<'a>>,
    /// The configuration the plan was made from.
    #[serde(default)]
    pub configuration: Option<Configuration>,
    /// Whether planning failed (the plan is incomplete and cannot be applied).
    #[serde(default)]
    pub errored: bool,
    /// Whether the plan can be applied.
    #[serde(default)]
    pub applyable: Option<bool>,
    /// Whether the plan holds every change (`false` with `-target` or deferred changes).
    #[serde(default)]
    pub complete: Option<bool>,
    /// When the plan was made.
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// `planned_values`, skipped but for whether it has the `root_module` every writer puts
/// there (a document whose `planned_values` is not an object is not a plan).
#[derive(Debug, Deserialize)]
pub struct PlannedValues {
    /// Present in every plan a Terraform writes.
    #[serde(default)]
    pub root_module: Option<IgnoredAny>,
}

/// A root module variable in a plan.
#[derive(Debug, Deserialize)]
pub struct Variable<'a> {
    /// Its value, unparsed.
    #[serde(default, borrow)]
    pub value: Option<&'a RawValue>,
}

/// How a resource is managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A managed resource (`resource`).
    #[default]
    Managed,
    /// A data source (`data`).
    Data,
    /// OpenTofu's (and Terraform 1.10+'s) ephemeral resources: opened for each run, never
    /// in the state or the changes, but in `configuration`, where others reference them.
    Ephemeral,
}

/// One planned change of a resource instance (or deposed object).
#[derive(Debug, Deserialize)]
pub struct ResourceChange<'a> {
    /// Some trimmed plans omit it; [`Plan::fill_addresses`] rebuilds it from the parts.
    #[serde(default)]
    pub address: String,
    /// The address it had before a `moved` block.
    #[serde(default)]
    pub previous_address: Option<String>,
    /// The module instance it is in; absent for the root module.
    #[serde(default)]
    pub module_address: Option<String>,
    /// Managed resource or data source.
    #[serde(default)]
    pub mode: Mode,
    /// The resource type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The resource name.
    #[serde(default)]
    pub name: String,
    /// The `count` index or `for_each` key.
    #[serde(default)]
    pub index: Option<serde_json::Value>,
    /// The provider's address.
    #[serde(default)]
    pub provider_name: Option<String>,
    /// The deposed object's key.
    #[serde(default)]
    pub deposed: Option<String>,
    /// What changes.
    #[serde(borrow)]
    pub change: Change<'a>,
    /// Why Terraform chose the action (`replace_because_tainted`, ...).
    #[serde(default)]
    pub action_reason: Option<String>,
}

/// A change Terraform put off to a later plan.
#[derive(Debug, Deserialize)]
pub struct DeferredChange<'a> {
    /// Why Terraform deferred it.
    #[serde(default)]
    pub reason: Option<String>,
    /// The change as far as it is planned.
    #[serde(borrow)]
    pub resource_change: ResourceChange<'a>,
}

/// An action invocation Terraform put off to a later plan.
#[derive(Debug, Deserialize)]
pub struct DeferredActionInvocation<'a> {
    /// Why Terraform deferred it.
    #[serde(default)]
    pub reason: Option<String>,
    /// The invocation.
    #[serde(borrow)]
    pub action_invocation: ActionInvocation<'a>,
}

/// One action the apply would run. Its configuration values are what rules read as
/// `after` (with `config_unknown` and `config_sensitive` as its masks).
#[derive(Debug, Deserialize)]
pub struct ActionInvocation<'a> {
    /// The action's address.
    pub address: String,
    /// The action type.
    #[serde(rename = "type", default)]
    pub ty: String,
    /// The action's name.
    #[serde(default)]
    pub name: String,
    /// The provider's address.
    #[serde(default)]
    pub provider_name: Option<String>,
    /// The action's `config` values, unparsed.
    #[serde(default, borrow)]
    pub config_values: Option<&'a RawValue>,
    /// Which of them are unknown until apply.
    #[serde(default, borrow, deserialize_with = "keep_null")]
    pub config_unknown: Option<&'a RawValue>,
    /// Which of them are sensitive.
    #[serde(default, borrow, deserialize_with = "keep_null")]
    pub config_sensitive: Option<&'a RawValue>,
    /// The resource event that triggers it, when its lifecycle does.
    #[serde(default)]
    pub lifecycle_action_trigger: Option<LifecycleActionTrigger>,
    /// Present when `-invoke` asked for it.
    #[serde(default)]
    pub invoke_action_trigger: Option<IgnoredAny>,
}

/// The resource event that triggers an action.
#[derive(Debug, Deserialize)]
pub struct LifecycleActionTrigger {
    /// The resource whose change triggers it.
    #[serde(default)]
    pub triggering_resource_address: String,
    /// The event (`after_create`, `before_update`, ...).
    #[serde(default)]
    pub action_trigger_event: String,
}

/// The provider source addresses IOM's own provider is installed under.
const IOM_PROVIDERS: [&str; 2] = [
    "registry.terraform.io/iom-dev/iom",
    "registry.opentofu.org/iom-dev/iom",
];

/// Whether an action is one of IOM's own (`iom_verify`, `iom_record` of
/// terraform-provider-iom): recognised by its type and its provider's full source
/// address, so a look-alike action of another provider is not.
pub fn is_iom_action(ty: &str, provider_name: Option<&str>) -> bool {
    matches!(ty, "iom_verify" | "iom_record")
        && provider_name.is_some_and(|p| IOM_PROVIDERS.contains(&p))
}

impl ActionInvocation<'_> {
    /// What runs the action, for reports: `before_create of aws_x.y`, or `by -invoke`;
    /// for IOM's own actions, also what they do (`IOM verification of contract NAME`).
    pub fn trigger(&self) -> String {
        let by = match &self.lifecycle_action_trigger {
            Some(t) => format!(
                "{} of {}",
                t.action_trigger_event, t.triggering_resource_address
            ),
            None => "by -invoke".into(),
        };
        match self.iom_purpose() {
            Some(purpose) => format!("{by}; {purpose}"),
            None => by,
        }
    }

    /// What one of IOM's own actions does; the contract is named only when its value is
    /// known and not sensitive.
    fn iom_purpose(&self) -> Option<String> {
        if !is_iom_action(&self.ty, self.provider_name.as_deref()) {
            return None;
        }
        if self.ty == "iom_record" {
            return Some("IOM run record".into());
        }
        let field = |doc: Option<&RawValue>| {
            doc.and_then(|d| serde_json::from_str::<serde_json::Value>(d.get()).ok())
                .and_then(|v| v.get("contract").cloned())
        };
        let hidden = field(self.config_sensitive).is_some_and(|v| v == true)
            || field(self.config_unknown).is_some_and(|v| v == true);
        let contract = field(self.config_values);
        Some(match contract.as_ref().and_then(|c| c.as_str()) {
            Some(name) if !hidden => format!("IOM verification of contract {name}"),
            _ => "IOM verification of a contract".into(),
        })
    }

    /// The invocation as a change of class `invoke`, so that it is judged by the same
    /// core as resource changes: its address and type, its configuration as `after`.
    pub fn as_change<'a>(&'a self) -> ResourceChange<'a> {
        ResourceChange {
            address: self.address.clone(),
            previous_address: None,
            module_address: None,
            mode: Mode::Managed,
            ty: self.ty.clone(),
            name: self.name.clone(),
            index: None,
            provider_name: self.provider_name.clone(),
            deposed: None,
            change: Change {
                actions: vec!["invoke".into()],
                before: None,
                after: self.config_values,
                after_unknown: self.config_unknown,
                before_sensitive: None,
                after_sensitive: self.config_sensitive,
                replace_paths: None,
                importing: None,
                generated_config: None,
            },
            action_reason: None,
        }
    }
}

/// What a change does: its actions, and the object before and after, unparsed.
#[derive(Debug, Deserialize)]
pub struct Change<'a> {
    /// Terraform's actions (`create`, `delete`, `update`, `read`, `no-op`, `forget`).
    pub actions: Vec<String>,
    /// The object before, unparsed.
    #[serde(default, borrow)]
    pub before: Option<&'a RawValue>,
    /// The object after, as far as known, unparsed.
    #[serde(default, borrow)]
    pub after: Option<&'a RawValue>,
    /// The masks keep an explicit `null` (as `Some`), which no writer puts there, so that
    /// it is refused as a malformed mask instead of read as an absent one.
    #[serde(default, borrow, deserialize_with = "keep_null")]
    pub after_unknown: Option<&'a RawValue>,
    /// Which values before are sensitive.
    #[serde(default, borrow, deserialize_with = "keep_null")]
    pub before_sensitive: Option<&'a RawValue>,
    /// Which values after are sensitive.
    #[serde(default, borrow, deserialize_with = "keep_null")]
    pub after_sensitive: Option<&'a RawValue>,
    /// Which attributes force the replace.
    #[serde(default)]
    pub replace_paths: Option<IgnoredAny>,
    /// Present when the change imports the object.
    #[serde(default)]
    pub importing: Option<Importing>,
    /// HCL Terraform generated for an imported object (`-generate-config-out`).
    #[serde(default)]
    pub generated_config: Option<IgnoredAny>,
}

fn keep_null<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<&'a RawValue>, D::Error> {
    <&'a RawValue>::deserialize(d).map(Some)
}

/// An import in a plan.
#[derive(Debug, Deserialize)]
pub struct Importing {
    /// The ID imported, when the import names one.
    #[serde(default)]
    pub id: Option<String>,
}

/// The configuration part of a plan.
#[derive(Debug, Default, Deserialize)]
pub struct Configuration {
    /// The root module.
    #[serde(default)]
    pub root_module: ConfigModule,
}

/// One module of the configuration.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigModule {
    /// Outputs by name.
    #[serde(default)]
    pub outputs: BTreeMap<String, ConfigOutput>,
    /// Resource blocks.
    #[serde(default)]
    pub resources: Vec<ConfigResource>,
    /// Module calls by name.
    #[serde(default)]
    pub module_calls: BTreeMap<String, ModuleCall>,
    /// Variable declarations by name.
    #[serde(default)]
    pub variables: BTreeMap<String, ConfigVariable>,
}

/// A `resource` or `data` block of the configuration.
#[derive(Debug, Deserialize)]
pub struct ConfigResource {
    /// Relative to its module: `aws_instance.web` or `data.aws_ami.x`.
    pub address: String,
    /// Managed resource or data source.
    #[serde(default)]
    pub mode: Mode,
    /// The resource type.
    #[serde(rename = "type", default)]
    pub ty: String,
    /// Its arguments' expressions.
    #[serde(default)]
    pub expressions: Expr,
    /// Its `count` expression.
    #[serde(default)]
    pub count_expression: Option<Expr>,
    /// Its `for_each` expression.
    #[serde(default)]
    pub for_each_expression: Option<Expr>,
    /// Its `depends_on`, as written.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Provisioners (`local-exec`, `remote-exec`, ...): what they reference is a
    /// dependency of the resource, as Terraform orders it.
    #[serde(default)]
    pub provisioners: Vec<Provisioner>,
}

/// A provisioner of a resource block.
#[derive(Debug, Deserialize)]
pub struct Provisioner {
    /// The provisioner type (`local-exec`, ...).
    #[serde(rename = "type", default)]
    pub ty: String,
    /// Its arguments' expressions.
    #[serde(default)]
    pub expressions: Expr,
}

/// A `module` block of the configuration.
#[derive(Debug, Deserialize)]
pub struct ModuleCall {
    /// The `source` as written.
    #[serde(default)]
    pub source: Option<String>,
    /// The `version` argument as written (registry sources only).
    #[serde(default)]
    pub version_constraint: Option<String>,
    /// Its arguments' expressions, by input name.
    #[serde(default)]
    pub expressions: BTreeMap<String, Expr>,
    /// Its `count` expression.
    #[serde(default)]
    pub count_expression: Option<Expr>,
    /// Its `for_each` expression.
    #[serde(default)]
    pub for_each_expression: Option<Expr>,
    /// The called module's configuration.
    #[serde(default)]
    pub module: ConfigModule,
    /// Its `depends_on`, as written.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// An `output` block.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigOutput {
    /// Its value expression.
    #[serde(default)]
    pub expression: Option<Expr>,
    /// Whether it is declared sensitive.
    #[serde(default)]
    pub sensitive: bool,
    /// Its `depends_on`, as written.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// A `variable` block.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigVariable {
    /// Whether it is declared sensitive.
    #[serde(default)]
    pub sensitive: bool,
}

impl Plan<'_> {
    /// Rebuilds missing change addresses from module address, mode, type, name and index.
    pub fn fill_addresses(&mut self) {
        for rc in self
            .resource_changes
            .iter_mut()
            .chain(self.resource_drift.iter_mut())
        {
            if !rc.address.is_empty() {
                continue;
            }
            let mut a = String::new();
            if let Some(m) = rc.module_address.as_deref().filter(|m| !m.is_empty()) {
                a.push_str(m);
                a.push('.');
            }
            match rc.mode {
                Mode::Data => a.push_str("data."),
                Mode::Ephemeral => a.push_str("ephemeral."),
                Mode::Managed => {}
            }
            a.push_str(&rc.ty);
            a.push('.');
            a.push_str(&rc.name);
            match &rc.index {
                Some(serde_json::Value::Number(n)) => a.push_str(&format!("[{n}]")),
                Some(serde_json::Value::String(k)) => {
                    a.push_str(&format!("[{}]", serde_json::Value::String(k.clone())))
                }
                _ => {}
            }
            rc.address = a;
        }
    }

    /// Names of root variables declared sensitive; their values are never shown.
    pub fn sensitive_variables(&self) -> Vec<&str> {
        match &self.configuration {
            Some(c) => c
                .root_module
                .variables
                .iter()
                .filter(|(_, v)| v.sensitive)
                .map(|(k, _)| k.as_str())
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(json: &str) -> ActionInvocation<'_> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn iom_actions_are_recognised_by_type_and_provider_and_keep_a_sensitive_contract_hidden() {
        let verify = |provider: &str, sensitive: &str| {
            format!(
                r#"{{"address":"action.iom_verify.v","type":"iom_verify","name":"v",
                "provider_name":"{provider}","config_values":{{"contract":"svc-canary"}},
                "config_sensitive":{sensitive},"config_unknown":{{}}}}"#
            )
        };
        let own = verify("registry.terraform.io/iom-dev/iom", "{}");
        assert_eq!(
            invocation(&own).trigger(),
            "by -invoke; IOM verification of contract svc-canary"
        );
        let hidden = verify("registry.opentofu.org/iom-dev/iom", r#"{"contract":true}"#);
        assert_eq!(
            invocation(&hidden).trigger(),
            "by -invoke; IOM verification of a contract"
        );
        let other = verify("registry.terraform.io/someone/iom", "{}");
        assert_eq!(invocation(&other).trigger(), "by -invoke");
        assert!(!is_iom_action(
            "iom_verify",
            Some("example.com/iom-dev/iom")
        ));
        assert!(!is_iom_action(
            "iom_profile",
            Some("registry.terraform.io/iom-dev/iom")
        ));
        assert!(!is_iom_action("iom_record", None));
    }
}
