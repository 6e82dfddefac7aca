//! The provider's schemas in the forms the service needs, computed once at
//! start-up: value types for decoding, and the two discovery responses.

use std::collections::BTreeMap;

use crate::convert;
use crate::diagnostics::Diagnostic;
use crate::schema::{Function, ProviderSchema};
use crate::value::Type;
use crate::wire::tfplugin6 as w;

pub(crate) struct Schemas {
    pub(super) provider: Type,
    pub(super) resources: BTreeMap<String, Type>,
    pub(super) data_sources: BTreeMap<String, Type>,
    pub(super) actions: BTreeMap<String, Type>,
    /// Each function's parameter types, in order.
    pub(super) functions: BTreeMap<String, FunctionTypes>,
    pub(super) functions_response: w::get_functions::Response,
    pub(super) schema_response: w::get_provider_schema::Response,
    pub(super) metadata_response: w::get_metadata::Response,
}

impl Schemas {
    pub(crate) fn new(schema: &ProviderSchema) -> Self {
        let capabilities = w::ServerCapabilities {
            // Destroy plans need no provider input: Terraform plans a null.
            plan_destroy: false,
            // Terraform 1.6+ may then reuse a cached schema instead of asking
            // every provider process for it: the schema is static here.
            get_provider_schema_optional: true,
            move_resource_state: false,
            generate_resource_config: false,
        };
        let schema_response = w::get_provider_schema::Response {
            provider: Some(convert::schema(&schema.provider)),
            resource_schemas: schema
                .resources
                .iter()
                .map(|(name, s)| (name.clone(), convert::schema(s)))
                .collect(),
            data_source_schemas: schema
                .data_sources
                .iter()
                .map(|(name, s)| (name.clone(), convert::schema(s)))
                .collect(),
            server_capabilities: Some(capabilities),
            functions: functions_of(schema),
            action_schemas: schema
                .actions
                .iter()
                .map(|(name, s)| {
                    let action = w::ActionSchema {
                        schema: Some(convert::schema(s)),
                    };
                    (name.clone(), action)
                })
                .collect(),
            ..Default::default()
        };
        let metadata_response = w::get_metadata::Response {
            server_capabilities: Some(capabilities),
            resources: schema
                .resources
                .keys()
                .map(|name| w::get_metadata::ResourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            data_sources: schema
                .data_sources
                .keys()
                .map(|name| w::get_metadata::DataSourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            functions: schema
                .functions
                .keys()
                .map(|name| w::get_metadata::FunctionMetadata { name: name.clone() })
                .collect(),
            actions: schema
                .actions
                .keys()
                .map(|name| w::get_metadata::ActionMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            ..Default::default()
        };
        Schemas {
            provider: schema.provider.value_type(),
            resources: types_of(&schema.resources),
            data_sources: types_of(&schema.data_sources),
            actions: types_of(&schema.actions),
            functions: schema
                .functions
                .iter()
                .map(|(name, f)| (name.clone(), FunctionTypes::of(f)))
                .collect(),
            functions_response: w::get_functions::Response {
                functions: functions_of(schema),
                diagnostics: Vec::new(),
            },
            schema_response,
            metadata_response,
        }
    }

    pub(super) fn resource(&self, type_name: &str) -> Result<&Type, Diagnostic> {
        self.resources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("This provider has no resource type {type_name:?}."),
            )
        })
    }

    pub(super) fn data_source(&self, type_name: &str) -> Result<&Type, Diagnostic> {
        self.data_sources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown data source",
                format!("This provider has no data source {type_name:?}."),
            )
        })
    }

    pub(super) fn action(&self, type_name: &str) -> Result<&Type, Diagnostic> {
        self.actions.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown action",
                format!("This provider has no action {type_name:?}."),
            )
        })
    }
}

/// What decoding a function's arguments and encoding its result need.
pub(crate) struct FunctionTypes {
    pub(super) parameters: Vec<Type>,
    pub(super) result: Type,
}

impl FunctionTypes {
    fn of(f: &Function) -> Self {
        FunctionTypes {
            parameters: f.parameters.iter().map(|p| p.ty.clone()).collect(),
            result: f.return_type.clone(),
        }
    }
}

fn functions_of(schema: &ProviderSchema) -> std::collections::HashMap<String, w::Function> {
    schema
        .functions
        .iter()
        .map(|(name, f)| (name.clone(), convert::function(f)))
        .collect()
}

fn types_of(schemas: &BTreeMap<String, crate::schema::Schema>) -> BTreeMap<String, Type> {
    schemas
        .iter()
        .map(|(name, s)| (name.clone(), s.value_type()))
        .collect()
}
