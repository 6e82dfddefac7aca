//! The [`Provider`] trait: the calls Terraform makes, in Rust types.
//!
//! Each call takes a request struct and returns a response struct carrying
//! its diagnostics, so fields can be added later without breaking providers.
//! A state value of [`Value::Null`] means "no object" (a read that finds the
//! object gone, an apply that destroyed it or failed to create it).

use async_trait::async_trait;

use crate::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::{Block, ProviderSchema};
use crate::value::{Type, Value};

/// A Terraform provider. The server calls these concurrently from several
/// tasks, hence `Send + Sync`; a provider keeps its configured state behind
/// its own lock or `OnceLock`.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The schemas of the provider, its resources and data sources. Called
    /// once when the server starts.
    fn schema(&self) -> ProviderSchema;

    /// Checks the provider block before it is configured. Values may be unknown.
    async fn validate_provider_config(&self, _config: Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Checks a resource block. Values may be unknown.
    async fn validate_resource_config(&self, _type_name: &str, _config: Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Checks a data block. Values may be unknown.
    async fn validate_data_source_config(&self, _type_name: &str, _config: Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Receives the provider block's values before any resource call.
    async fn configure(&self, _request: ConfigureRequest) -> Diagnostics {
        Diagnostics::new()
    }

    /// Brings state stored under an older schema version (or by an older
    /// provider) to the current schema. The default reads the stored JSON
    /// with the current type, dropping attributes the schema no longer has
    /// and leaving new ones null: right whenever the schema only grew.
    async fn upgrade_resource_state(&self, request: UpgradeRequest) -> UpgradeResponse {
        let mut response = UpgradeResponse::default();
        match request.raw_json.as_deref() {
            Some(json) => match Value::from_json(json, &request.current_type) {
                Ok(state) => response.upgraded_state = state,
                Err(e) => response.diagnostics.error(
                    "Cannot read stored state",
                    format!(
                        "The state of this {} does not fit its schema: {e}",
                        request.type_name
                    ),
                ),
            },
            None => response.diagnostics.error(
                "Unsupported state format",
                "This provider only reads state in JSON form; state this old must first be \
                 refreshed with the provider version that wrote it.",
            ),
        }
        response
    }

    /// Refreshes state from the real object. The default returns the state
    /// unchanged, which suits objects that live only in state.
    async fn read_resource(&self, request: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: request.current_state,
            private: request.private,
            diagnostics: Diagnostics::new(),
        }
    }

    /// Plans a create (`prior_state` null) or update. Not called for destroys.
    /// [`plan_computed`] is the usual starting point.
    async fn plan_resource_change(&self, request: PlanRequest) -> PlanResponse;

    /// Carries out a planned create, update (`prior_state` and
    /// `planned_state` both set) or destroy (`planned_state` null).
    async fn apply_resource_change(&self, request: ApplyRequest) -> ApplyResponse;

    /// Turns an import ID into state; Terraform then calls `read_resource`.
    async fn import_resource_state(&self, request: ImportRequest) -> ImportResponse {
        ImportResponse {
            imported: Vec::new(),
            diagnostics: Diagnostic::error(
                "Resource import not supported",
                format!("{} cannot be imported.", request.type_name),
            )
            .into(),
        }
    }

    /// Reads a data source.
    async fn read_data_source(&self, request: ReadDataRequest) -> ReadDataResponse {
        ReadDataResponse {
            state: Value::Null,
            diagnostics: Diagnostic::error(
                "Unknown data source",
                format!("This provider has no data source {}.", request.type_name),
            )
            .into(),
        }
    }

    /// Calls a provider-defined function. Terraform calls functions on a
    /// provider process of their own that it never configures, so a function
    /// cannot depend on `configure`. The arguments have been checked against
    /// the parameters' types, nulls and unknowns (see [`crate::Parameter`]).
    async fn call_function(&self, request: FunctionRequest) -> FunctionResponse {
        FunctionResponse::error(
            format!("This provider has no function {:?}.", request.name),
            None,
        )
    }

    /// Checks an action's `config` block. Values may be unknown.
    async fn validate_action_config(&self, _type_name: &str, _config: Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Plans an invocation: the last chance to refuse it before the apply.
    /// Values may be unknown.
    async fn plan_action(&self, _request: ActionRequest) -> Diagnostics {
        Diagnostics::new()
    }

    /// Runs an action on the configured provider, with a wholly known
    /// `config`. Messages sent through `progress` are shown as it runs; an
    /// error diagnostic fails the apply.
    async fn invoke_action(
        &self,
        request: ActionRequest,
        _progress: ActionProgress,
    ) -> Diagnostics {
        Diagnostic::error(
            "Unknown action",
            format!("This provider has no action {}.", request.type_name),
        )
        .into()
    }

    /// Terraform was interrupted: abandon long-running work soon. The
    /// process keeps serving; Terraform ends it later with a shutdown.
    async fn stop(&self) -> Result<(), String> {
        Ok(())
    }
}

/// `ConfigureProvider`: the provider block's configuration.
#[derive(Clone, Debug, Default)]
pub struct ConfigureRequest {
    /// Version of the Terraform (or OpenTofu) binary calling.
    pub terraform_version: String,
    /// The `provider` block's values.
    pub config: Value,
}

/// `UpgradeResourceState`: state stored by an older schema version, to bring up to date.
#[derive(Clone, Debug)]
pub struct UpgradeRequest {
    /// The resource type.
    pub type_name: String,
    /// Schema version the state was stored with.
    pub version: i64,
    /// Stored state as JSON; `None` for state from Terraform 0.11 and older,
    /// which only had a flat string map (`raw_flatmap`).
    pub raw_json: Option<Vec<u8>>,
    /// The state of Terraform 0.11 and older, as a flat string map.
    pub raw_flatmap: std::collections::BTreeMap<String, String>,
    /// Type of the current schema, which the result must have.
    pub current_type: Type,
}

/// The state in the current schema's type.
#[derive(Clone, Debug, Default)]
pub struct UpgradeResponse {
    /// The stored state, upgraded.
    pub upgraded_state: Value,
    /// Problems found while upgrading.
    pub diagnostics: Diagnostics,
}

/// `ReadResource`: refresh one object from where it is kept.
#[derive(Clone, Debug, Default)]
pub struct ReadRequest {
    /// The resource type.
    pub type_name: String,
    /// The object as Terraform last stored it.
    pub current_state: Value,
    /// Opaque bytes the provider returned with this state last time.
    pub private: Vec<u8>,
}

/// The object as it is now.
#[derive(Clone, Debug, Default)]
pub struct ReadResponse {
    /// Null when the object no longer exists: Terraform then plans to create it.
    pub new_state: Value,
    /// Opaque bytes Terraform keeps with the new state and gives back next time.
    pub private: Vec<u8>,
    /// Problems found while reading.
    pub diagnostics: Diagnostics,
}

/// `PlanResourceChange`: what applying the configuration would make of one object.
#[derive(Clone, Debug, Default)]
pub struct PlanRequest {
    /// The resource type.
    pub type_name: String,
    /// Null when creating.
    pub prior_state: Value,
    /// Terraform's merge of configuration over prior state: configured
    /// values, and for computed attributes left unset, their prior values
    /// (null on create).
    pub proposed_new_state: Value,
    /// The configuration as written (unknown where it is not known yet).
    pub config: Value,
    /// Opaque bytes returned with the prior state.
    pub prior_private: Vec<u8>,
}

/// The planned object.
#[derive(Clone, Debug, Default)]
pub struct PlanResponse {
    /// Unknown where the value will only be known after apply.
    pub planned_state: Value,
    /// Attributes whose change forces replacing the object.
    pub requires_replace: Vec<AttributePath>,
    /// Opaque bytes Terraform hands to the apply of this plan.
    pub planned_private: Vec<u8>,
    /// Problems found while planning.
    pub diagnostics: Diagnostics,
}

/// `ApplyResourceChange`: make the planned change.
#[derive(Clone, Debug, Default)]
pub struct ApplyRequest {
    /// The resource type.
    pub type_name: String,
    /// Null when creating.
    pub prior_state: Value,
    /// Null when destroying.
    pub planned_state: Value,
    /// The configuration as written.
    pub config: Value,
    /// The bytes the plan returned.
    pub planned_private: Vec<u8>,
}

/// The object after the change.
#[derive(Clone, Debug, Default)]
pub struct ApplyResponse {
    /// Must be wholly known and agree with every known planned value.
    pub new_state: Value,
    /// Opaque bytes Terraform keeps with the new state.
    pub private: Vec<u8>,
    /// Problems found while applying.
    pub diagnostics: Diagnostics,
}

/// `ImportResourceState`: find an existing object by the ID a user gave.
#[derive(Clone, Debug, Default)]
pub struct ImportRequest {
    /// The resource type.
    pub type_name: String,
    /// The ID the user gave to `terraform import` or an `import` block.
    pub id: String,
}

/// One object an import found.
#[derive(Clone, Debug, Default)]
pub struct ImportedResource {
    /// Its resource type.
    pub type_name: String,
    /// Its state, as a read would return it.
    pub state: Value,
    /// Opaque bytes kept with that state.
    pub private: Vec<u8>,
}

/// What an import found.
#[derive(Clone, Debug, Default)]
pub struct ImportResponse {
    /// The objects, usually one.
    pub imported: Vec<ImportedResource>,
    /// Problems found while importing.
    pub diagnostics: Diagnostics,
}

/// `ReadDataSource`: read a data source.
#[derive(Clone, Debug, Default)]
pub struct ReadDataRequest {
    /// The data source type.
    pub type_name: String,
    /// The data source's configuration.
    pub config: Value,
}

/// What a data source read.
#[derive(Clone, Debug, Default)]
pub struct ReadDataResponse {
    /// Its configuration with computed attributes filled in.
    pub state: Value,
    /// Problems found while reading.
    pub diagnostics: Diagnostics,
}

/// `CallFunction`: one call of a provider-defined function.
#[derive(Clone, Debug, Default)]
pub struct FunctionRequest {
    /// The function's name, without `provider::NAME::`.
    pub name: String,
    /// One value per parameter, in order.
    pub arguments: Vec<Value>,
}

/// A function's result, or why it failed.
#[derive(Clone, Debug, Default)]
pub struct FunctionResponse {
    /// Of the function's return type; ignored when `error` is set.
    pub result: Value,
    /// Why the call failed, if it did.
    pub error: Option<FunctionError>,
}

impl FunctionResponse {
    /// A call that returned `result`.
    pub fn ok(result: Value) -> Self {
        FunctionResponse {
            result,
            error: None,
        }
    }

    /// A failed call; `argument` is the 0-based index of the argument at fault.
    pub fn error(text: impl Into<String>, argument: Option<usize>) -> Self {
        FunctionResponse {
            result: Value::Null,
            error: Some(FunctionError {
                text: text.into(),
                argument,
            }),
        }
    }
}

/// Why a function call failed. Terraform shows `text` after the name of the
/// argument at fault, when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    /// What is wrong, in words.
    pub text: String,
    /// The 0-based index of the argument at fault, if one is.
    pub argument: Option<usize>,
}

/// `InvokeAction`: run an action.
#[derive(Clone, Debug, Default)]
pub struct ActionRequest {
    /// The action type.
    pub type_name: String,
    /// Its `config` block's values.
    pub config: Value,
}

/// Where a running action reports progress: each message is one line of
/// Terraform's output for the action.
#[derive(Clone, Debug)]
pub struct ActionProgress(tokio::sync::mpsc::UnboundedSender<String>);

impl ActionProgress {
    pub(crate) fn new(sender: tokio::sync::mpsc::UnboundedSender<String>) -> Self {
        ActionProgress(sender)
    }

    /// A progress line that goes nowhere, for calling an action outside Terraform.
    pub fn discard() -> Self {
        ActionProgress(tokio::sync::mpsc::unbounded_channel().0)
    }

    /// Sends one line of progress; lost when Terraform stopped listening.
    pub fn report(&self, message: impl Into<String>) {
        // Terraform went away: the action still finishes its work.
        let _ = self.0.send(message.into());
    }
}

/// The plan most resources want: the proposed state, with every computed
/// attribute that configuration leaves unset marked unknown on create (its
/// prior value is kept on update). Nested blocks are taken as proposed.
pub fn plan_computed(block: &Block, request: &PlanRequest) -> Value {
    let mut planned = request.proposed_new_state.clone();
    if !request.prior_state.is_null() || planned.is_null() {
        return planned;
    }
    for attribute in block.attributes.iter().filter(|a| a.computed) {
        let configured = request
            .config
            .get(&attribute.name)
            .is_some_and(|v| !v.is_null());
        if !configured {
            planned.set(attribute.name.clone(), Value::Unknown);
        }
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;

    #[test]
    fn plan_computed_marks_unset_computed_attributes_unknown_on_create() {
        let block = Block::new()
            .attribute(Attribute::required("name", Type::String))
            .attribute(Attribute::computed("id", Type::String))
            .attribute(Attribute::optional_computed("zone", Type::String));
        let config = Value::object([
            ("name", "a".into()),
            ("id", Value::Null),
            ("zone", "z1".into()),
        ]);
        let create = PlanRequest {
            proposed_new_state: config.clone(),
            config: config.clone(),
            ..PlanRequest::default()
        };
        let planned = plan_computed(&block, &create);
        assert_eq!(planned.get("id"), Some(&Value::Unknown));
        assert_eq!(planned.get("zone"), Some(&Value::from("z1")));

        let prior = Value::object([
            ("name", "a".into()),
            ("id", "x-1".into()),
            ("zone", "z1".into()),
        ]);
        let update = PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: prior.clone(),
            config,
            ..PlanRequest::default()
        };
        assert_eq!(plan_computed(&block, &update), prior);
    }
}
