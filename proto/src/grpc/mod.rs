//! The tfplugin6 gRPC service: decodes each request with the schema, calls
//! the [`Provider`], encodes the answer. This is the only place where wire
//! types and provider types meet.
//!
//! Functions and actions are served when the provider declares them (in
//! [`crate::ProviderSchema`]). Features a provider built on this crate does not
//! offer (ephemeral, list and identity resources, state stores, moves) are
//! never advertised, so Terraform does not call them; the one it asks about
//! regardless (identity schemas) gets an empty answer, and the rest an error
//! diagnostic rather than a gRPC error, which Terraform would report as a
//! broken plugin. Every RPC is logged (`crate::log`).

mod schemas;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::Once;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::convert;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::log::Call;
use crate::provider::{
    ActionProgress, ActionRequest, ApplyRequest, ConfigureRequest, FunctionRequest, ImportRequest,
    PlanRequest, Provider, ReadDataRequest, ReadRequest, UpgradeRequest,
};
use crate::value::{Type, Value};
use crate::wire::tfplugin6 as w;
use crate::wire::tfplugin6::provider_server::Provider as Rpc;

pub(crate) use schemas::Schemas;

pub(crate) struct ProviderService<P> {
    provider: Arc<P>,
    schemas: Arc<Schemas>,
}

impl<P: Provider> ProviderService<P> {
    pub(crate) fn new(provider: Arc<P>, schemas: Arc<Schemas>) -> Self {
        ProviderService { provider, schemas }
    }
}

/// Encodes a result value, turning a value that does not fit into a diagnostic.
fn encode(value: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<w::DynamicValue> {
    match convert::encode(value, ty) {
        Ok(v) => Some(v),
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

fn unsupported(what: &str) -> Vec<w::Diagnostic> {
    convert::diagnostics(
        Diagnostic::error(
            "Not supported by this provider",
            format!("This provider does not offer {what}."),
        )
        .into(),
    )
}

fn function_error(text: String, argument: Option<usize>) -> w::call_function::Response {
    w::call_function::Response {
        result: None,
        error: Some(w::FunctionError {
            text,
            function_argument: argument.and_then(|i| i64::try_from(i).ok()),
        }),
    }
}

/// Decodes each argument with its parameter's type; the error names the argument.
fn decode_arguments(
    arguments: Vec<w::DynamicValue>,
    parameters: &[Type],
) -> Result<Vec<Value>, w::FunctionError> {
    if arguments.len() != parameters.len() {
        return Err(w::FunctionError {
            text: format!(
                "The function takes {} arguments; Terraform sent {}.",
                parameters.len(),
                arguments.len()
            ),
            function_argument: None,
        });
    }
    arguments
        .into_iter()
        .zip(parameters)
        .enumerate()
        .map(|(i, (argument, ty))| {
            // The value itself is never quoted: it may be sensitive.
            convert::decode(Some(argument), ty).map_err(|d| w::FunctionError {
                text: d.summary,
                function_argument: i64::try_from(i).ok(),
            })
        })
        .collect()
}

impl<P: Provider> ProviderService<P> {
    /// Decodes an action's configuration with its schema.
    fn action_request(
        &self,
        type_name: String,
        config: Option<w::DynamicValue>,
    ) -> Result<ActionRequest, Diagnostic> {
        let ty = self.schemas.action(&type_name)?;
        let config = convert::decode(config, ty)?;
        Ok(ActionRequest { type_name, config })
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn reply<T>(message: T) -> Reply<T> {
    Ok(Response::new(message))
}

#[tonic::async_trait]
impl<P: Provider> Rpc for ProviderService<P> {
    async fn get_metadata(
        &self,
        _: Request<w::get_metadata::Request>,
    ) -> Reply<w::get_metadata::Response> {
        let _call = Call::start("GetMetadata", "");
        reply(self.schemas.metadata_response.clone())
    }

    async fn get_provider_schema(
        &self,
        _: Request<w::get_provider_schema::Request>,
    ) -> Reply<w::get_provider_schema::Response> {
        let _call = Call::start("GetProviderSchema", "");
        reply(self.schemas.schema_response.clone())
    }

    async fn validate_provider_config(
        &self,
        request: Request<w::validate_provider_config::Request>,
    ) -> Reply<w::validate_provider_config::Response> {
        let _call = Call::start("ValidateProviderConfig", "");
        let config = request.into_inner().config;
        let diags = match convert::decode(config, &self.schemas.provider) {
            Ok(config) => self.provider.validate_provider_config(config).await,
            Err(d) => d.into(),
        };
        reply(w::validate_provider_config::Response {
            diagnostics: convert::diagnostics(diags),
        })
    }

    async fn validate_resource_config(
        &self,
        request: Request<w::validate_resource_config::Request>,
    ) -> Reply<w::validate_resource_config::Response> {
        let r = request.into_inner();
        let _call = Call::start("ValidateResourceConfig", &r.type_name);
        let decoded = self
            .schemas
            .resource(&r.type_name)
            .and_then(|ty| convert::decode(r.config, ty));
        let diags = match decoded {
            Ok(config) => {
                self.provider
                    .validate_resource_config(&r.type_name, config)
                    .await
            }
            Err(d) => d.into(),
        };
        reply(w::validate_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        })
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<w::validate_data_resource_config::Request>,
    ) -> Reply<w::validate_data_resource_config::Response> {
        let r = request.into_inner();
        let _call = Call::start("ValidateDataResourceConfig", &r.type_name);
        let decoded = self
            .schemas
            .data_source(&r.type_name)
            .and_then(|ty| convert::decode(r.config, ty));
        let diags = match decoded {
            Ok(config) => {
                self.provider
                    .validate_data_source_config(&r.type_name, config)
                    .await
            }
            Err(d) => d.into(),
        };
        reply(w::validate_data_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        })
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<w::upgrade_resource_state::Request>,
    ) -> Reply<w::upgrade_resource_state::Response> {
        let r = request.into_inner();
        let _call = Call::start("UpgradeResourceState", &r.type_name);
        let ty = match self.schemas.resource(&r.type_name) {
            Ok(ty) => ty.clone(),
            Err(d) => {
                return reply(w::upgrade_resource_state::Response {
                    upgraded_state: None,
                    diagnostics: convert::diagnostics(d.into()),
                });
            }
        };
        let raw = r.raw_state.unwrap_or_default();
        let upgrade = UpgradeRequest {
            type_name: r.type_name,
            version: r.version,
            raw_json: (!raw.json.is_empty()).then_some(raw.json),
            raw_flatmap: raw.flatmap.into_iter().collect(),
            current_type: ty.clone(),
        };
        let mut out = self.provider.upgrade_resource_state(upgrade).await;
        let upgraded_state = encode(&out.upgraded_state, &ty, &mut out.diagnostics);
        reply(w::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: convert::diagnostics(out.diagnostics),
        })
    }

    async fn configure_provider(
        &self,
        request: Request<w::configure_provider::Request>,
    ) -> Reply<w::configure_provider::Response> {
        let _call = Call::start("ConfigureProvider", "");
        let r = request.into_inner();
        let diags = match convert::decode(r.config, &self.schemas.provider) {
            Ok(config) => {
                let configure = ConfigureRequest {
                    terraform_version: r.terraform_version,
                    config,
                };
                self.provider.configure(configure).await
            }
            Err(d) => d.into(),
        };
        reply(w::configure_provider::Response {
            diagnostics: convert::diagnostics(diags),
        })
    }

    async fn read_resource(
        &self,
        request: Request<w::read_resource::Request>,
    ) -> Reply<w::read_resource::Response> {
        let r = request.into_inner();
        let _call = Call::start("ReadResource", &r.type_name);
        let decoded = self
            .schemas
            .resource(&r.type_name)
            .and_then(|ty| Ok((ty, convert::decode(r.current_state, ty)?)));
        let (ty, current_state) = match decoded {
            Ok(ok) => ok,
            Err(d) => {
                return reply(w::read_resource::Response {
                    diagnostics: convert::diagnostics(d.into()),
                    ..Default::default()
                });
            }
        };
        let read = ReadRequest {
            type_name: r.type_name,
            current_state,
            private: r.private,
        };
        let mut out = self.provider.read_resource(read).await;
        let new_state = encode(&out.new_state, ty, &mut out.diagnostics);
        reply(w::read_resource::Response {
            new_state,
            diagnostics: convert::diagnostics(out.diagnostics),
            private: out.private,
            ..Default::default()
        })
    }

    async fn plan_resource_change(
        &self,
        request: Request<w::plan_resource_change::Request>,
    ) -> Reply<w::plan_resource_change::Response> {
        let r = request.into_inner();
        let _call = Call::start("PlanResourceChange", &r.type_name);
        let decoded = self.schemas.resource(&r.type_name).and_then(|ty| {
            let prior = convert::decode(r.prior_state, ty)?;
            let proposed = convert::decode(r.proposed_new_state, ty)?;
            let config = convert::decode(r.config, ty)?;
            Ok((ty, prior, proposed, config))
        });
        let (ty, prior_state, proposed_new_state, config) = match decoded {
            Ok(ok) => ok,
            Err(d) => {
                return reply(w::plan_resource_change::Response {
                    diagnostics: convert::diagnostics(d.into()),
                    ..Default::default()
                });
            }
        };
        let plan = PlanRequest {
            type_name: r.type_name,
            prior_state,
            proposed_new_state,
            config,
            prior_private: r.prior_private,
        };
        let mut out = self.provider.plan_resource_change(plan).await;
        let planned_state = encode(&out.planned_state, ty, &mut out.diagnostics);
        reply(w::plan_resource_change::Response {
            planned_state,
            requires_replace: out.requires_replace.iter().map(convert::path).collect(),
            planned_private: out.planned_private,
            diagnostics: convert::diagnostics(out.diagnostics),
            ..Default::default()
        })
    }

    async fn apply_resource_change(
        &self,
        request: Request<w::apply_resource_change::Request>,
    ) -> Reply<w::apply_resource_change::Response> {
        let r = request.into_inner();
        let _call = Call::start("ApplyResourceChange", &r.type_name);
        let decoded = self.schemas.resource(&r.type_name).and_then(|ty| {
            let prior = convert::decode(r.prior_state, ty)?;
            let planned = convert::decode(r.planned_state, ty)?;
            let config = convert::decode(r.config, ty)?;
            Ok((ty, prior, planned, config))
        });
        let (ty, prior_state, planned_state, config) = match decoded {
            Ok(ok) => ok,
            Err(d) => {
                return reply(w::apply_resource_change::Response {
                    diagnostics: convert::diagnostics(d.into()),
                    ..Default::default()
                });
            }
        };
        let apply = ApplyRequest {
            type_name: r.type_name,
            prior_state,
            planned_state,
            config,
            planned_private: r.planned_private,
        };
        let mut out = self.provider.apply_resource_change(apply).await;
        let new_state = encode(&out.new_state, ty, &mut out.diagnostics);
        reply(w::apply_resource_change::Response {
            new_state,
            private: out.private,
            diagnostics: convert::diagnostics(out.diagnostics),
            ..Default::default()
        })
    }

    async fn import_resource_state(
        &self,
        request: Request<w::import_resource_state::Request>,
    ) -> Reply<w::import_resource_state::Response> {
        let r = request.into_inner();
        let _call = Call::start("ImportResourceState", &r.type_name);
        if let Err(d) = self.schemas.resource(&r.type_name) {
            return reply(w::import_resource_state::Response {
                diagnostics: convert::diagnostics(d.into()),
                ..Default::default()
            });
        }
        let import = ImportRequest {
            type_name: r.type_name,
            id: r.id,
        };
        let mut out = self.provider.import_resource_state(import).await;
        let mut imported_resources = Vec::new();
        for item in out.imported {
            let state = match self.schemas.resource(&item.type_name) {
                Ok(ty) => encode(&item.state, ty, &mut out.diagnostics),
                Err(d) => {
                    out.diagnostics.push(d);
                    None
                }
            };
            imported_resources.push(w::import_resource_state::ImportedResource {
                type_name: item.type_name,
                state,
                private: item.private,
                identity: None,
            });
        }
        reply(w::import_resource_state::Response {
            imported_resources,
            diagnostics: convert::diagnostics(out.diagnostics),
            deferred: None,
        })
    }

    async fn read_data_source(
        &self,
        request: Request<w::read_data_source::Request>,
    ) -> Reply<w::read_data_source::Response> {
        let r = request.into_inner();
        let _call = Call::start("ReadDataSource", &r.type_name);
        let decoded = self
            .schemas
            .data_source(&r.type_name)
            .and_then(|ty| Ok((ty, convert::decode(r.config, ty)?)));
        let (ty, config) = match decoded {
            Ok(ok) => ok,
            Err(d) => {
                return reply(w::read_data_source::Response {
                    diagnostics: convert::diagnostics(d.into()),
                    ..Default::default()
                });
            }
        };
        let read = ReadDataRequest {
            type_name: r.type_name,
            config,
        };
        let mut out = self.provider.read_data_source(read).await;
        let state = encode(&out.state, ty, &mut out.diagnostics);
        reply(w::read_data_source::Response {
            state,
            diagnostics: convert::diagnostics(out.diagnostics),
            deferred: None,
        })
    }

    /// Interrupts in-flight work; the process keeps serving until Terraform
    /// shuts it down through the controller.
    async fn stop_provider(
        &self,
        _: Request<w::stop_provider::Request>,
    ) -> Reply<w::stop_provider::Response> {
        let _call = Call::start("StopProvider", "");
        let error = self.provider.stop().await.err().unwrap_or_default();
        reply(w::stop_provider::Response { error })
    }

    // Terraform 1.12+ asks every provider for identity schemas; none is an answer.
    async fn get_resource_identity_schemas(
        &self,
        _: Request<w::get_resource_identity_schemas::Request>,
    ) -> Reply<w::get_resource_identity_schemas::Response> {
        reply(Default::default())
    }

    async fn upgrade_resource_identity(
        &self,
        _: Request<w::upgrade_resource_identity::Request>,
    ) -> Reply<w::upgrade_resource_identity::Response> {
        reply(w::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: unsupported("resource identities"),
        })
    }

    async fn move_resource_state(
        &self,
        request: Request<w::move_resource_state::Request>,
    ) -> Reply<w::move_resource_state::Response> {
        let r = request.into_inner();
        reply(w::move_resource_state::Response {
            diagnostics: unsupported(&format!(
                "moving state from {} {} to {}",
                r.source_provider_address, r.source_type_name, r.target_type_name
            )),
            ..Default::default()
        })
    }

    async fn generate_resource_config(
        &self,
        _: Request<w::generate_resource_config::Request>,
    ) -> Reply<w::generate_resource_config::Response> {
        reply(w::generate_resource_config::Response {
            config: None,
            diagnostics: unsupported("configuration generation"),
        })
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _: Request<w::validate_ephemeral_resource_config::Request>,
    ) -> Reply<w::validate_ephemeral_resource_config::Response> {
        reply(w::validate_ephemeral_resource_config::Response {
            diagnostics: unsupported("ephemeral resources"),
        })
    }

    async fn open_ephemeral_resource(
        &self,
        _: Request<w::open_ephemeral_resource::Request>,
    ) -> Reply<w::open_ephemeral_resource::Response> {
        reply(w::open_ephemeral_resource::Response {
            diagnostics: unsupported("ephemeral resources"),
            ..Default::default()
        })
    }

    async fn renew_ephemeral_resource(
        &self,
        _: Request<w::renew_ephemeral_resource::Request>,
    ) -> Reply<w::renew_ephemeral_resource::Response> {
        reply(w::renew_ephemeral_resource::Response {
            diagnostics: unsupported("ephemeral resources"),
            ..Default::default()
        })
    }

    async fn close_ephemeral_resource(
        &self,
        _: Request<w::close_ephemeral_resource::Request>,
    ) -> Reply<w::close_ephemeral_resource::Response> {
        reply(w::close_ephemeral_resource::Response {
            diagnostics: unsupported("ephemeral resources"),
        })
    }

    type ListResourceStream = Once<Result<w::list_resource::Event, Status>>;

    async fn list_resource(
        &self,
        _: Request<w::list_resource::Request>,
    ) -> Reply<Self::ListResourceStream> {
        let event = w::list_resource::Event {
            diagnostic: unsupported("list resources"),
            ..Default::default()
        };
        reply(tokio_stream::once(Ok(event)))
    }

    async fn validate_list_resource_config(
        &self,
        _: Request<w::validate_list_resource_config::Request>,
    ) -> Reply<w::validate_list_resource_config::Response> {
        reply(w::validate_list_resource_config::Response {
            diagnostics: unsupported("list resources"),
        })
    }

    // Terraform 1.8+ asks every provider for its functions, also when it has none.
    async fn get_functions(
        &self,
        _: Request<w::get_functions::Request>,
    ) -> Reply<w::get_functions::Response> {
        let _call = Call::start("GetFunctions", "");
        reply(self.schemas.functions_response.clone())
    }

    async fn call_function(
        &self,
        request: Request<w::call_function::Request>,
    ) -> Reply<w::call_function::Response> {
        let r = request.into_inner();
        let _call = Call::start("CallFunction", &r.name);
        let Some(types) = self.schemas.functions.get(&r.name) else {
            return reply(function_error(
                format!("This provider has no function {:?}.", r.name),
                None,
            ));
        };
        let arguments = match decode_arguments(r.arguments, &types.parameters) {
            Ok(arguments) => arguments,
            Err(error) => {
                return reply(w::call_function::Response {
                    result: None,
                    error: Some(error),
                });
            }
        };
        let call = FunctionRequest {
            name: r.name,
            arguments,
        };
        let out = self.provider.call_function(call).await;
        if let Some(e) = out.error {
            return reply(function_error(e.text, e.argument));
        }
        match convert::encode(&out.result, &types.result) {
            Ok(result) => reply(w::call_function::Response {
                result: Some(result),
                error: None,
            }),
            Err(d) => reply(function_error(format!("{}: {}", d.summary, d.detail), None)),
        }
    }

    async fn validate_state_store_config(
        &self,
        _: Request<w::validate_state_store::Request>,
    ) -> Reply<w::validate_state_store::Response> {
        reply(w::validate_state_store::Response {
            diagnostics: unsupported("state stores"),
        })
    }

    async fn configure_state_store(
        &self,
        _: Request<w::configure_state_store::Request>,
    ) -> Reply<w::configure_state_store::Response> {
        reply(w::configure_state_store::Response {
            diagnostics: unsupported("state stores"),
            capabilities: None,
        })
    }

    type ReadStateBytesStream = Once<Result<w::read_state_bytes::Response, Status>>;

    async fn read_state_bytes(
        &self,
        _: Request<w::read_state_bytes::Request>,
    ) -> Reply<Self::ReadStateBytesStream> {
        let chunk = w::read_state_bytes::Response {
            diagnostics: unsupported("state stores"),
            ..Default::default()
        };
        reply(tokio_stream::once(Ok(chunk)))
    }

    async fn write_state_bytes(
        &self,
        _: Request<Streaming<w::write_state_bytes::RequestChunk>>,
    ) -> Reply<w::write_state_bytes::Response> {
        reply(w::write_state_bytes::Response {
            diagnostics: unsupported("state stores"),
        })
    }

    async fn lock_state(
        &self,
        _: Request<w::lock_state::Request>,
    ) -> Reply<w::lock_state::Response> {
        reply(w::lock_state::Response {
            lock_id: String::new(),
            diagnostics: unsupported("state stores"),
        })
    }

    async fn unlock_state(
        &self,
        _: Request<w::unlock_state::Request>,
    ) -> Reply<w::unlock_state::Response> {
        reply(w::unlock_state::Response {
            diagnostics: unsupported("state stores"),
        })
    }

    async fn get_states(
        &self,
        _: Request<w::get_states::Request>,
    ) -> Reply<w::get_states::Response> {
        reply(w::get_states::Response {
            state_id: Vec::new(),
            diagnostics: unsupported("state stores"),
        })
    }

    async fn delete_state(
        &self,
        _: Request<w::delete_state::Request>,
    ) -> Reply<w::delete_state::Response> {
        reply(w::delete_state::Response {
            diagnostics: unsupported("state stores"),
        })
    }

    async fn plan_action(
        &self,
        request: Request<w::plan_action::Request>,
    ) -> Reply<w::plan_action::Response> {
        let r = request.into_inner();
        let _call = Call::start("PlanAction", &r.action_type);
        let diags = match self.action_request(r.action_type, r.config) {
            Ok(action) => self.provider.plan_action(action).await,
            Err(d) => d.into(),
        };
        reply(w::plan_action::Response {
            diagnostics: convert::diagnostics(diags),
            deferred: None,
        })
    }

    type InvokeActionStream = ReceiverStream<Result<w::invoke_action::Event, Status>>;

    /// Streams the action's progress lines as they come, then one `Completed` event
    /// with its diagnostics.
    async fn invoke_action(
        &self,
        request: Request<w::invoke_action::Request>,
    ) -> Reply<Self::InvokeActionStream> {
        use w::invoke_action::event::{Completed, Progress, Type as Kind};
        let r = request.into_inner();
        let call = Call::start("InvokeAction", &r.action_type);
        let (events, stream) = mpsc::channel(16);
        let action = self.action_request(r.action_type, r.config);
        let provider = Arc::clone(&self.provider);
        tokio::spawn(async move {
            let _call = call;
            let (progress, mut lines) = mpsc::unbounded_channel();
            let forward = {
                let events = events.clone();
                tokio::spawn(async move {
                    while let Some(message) = lines.recv().await {
                        let event = w::invoke_action::Event {
                            r#type: Some(Kind::Progress(Progress { message })),
                        };
                        if events.send(Ok(event)).await.is_err() {
                            break;
                        }
                    }
                })
            };
            let diags = match action {
                Ok(action) => {
                    provider
                        .invoke_action(action, ActionProgress::new(progress))
                        .await
                }
                Err(d) => {
                    drop(progress);
                    d.into()
                }
            };
            // Every progress line goes out before the completion.
            let _ = forward.await;
            let completed = w::invoke_action::Event {
                r#type: Some(Kind::Completed(Completed {
                    diagnostics: convert::diagnostics(diags),
                })),
            };
            let _ = events.send(Ok(completed)).await;
        });
        reply(ReceiverStream::new(stream))
    }

    async fn validate_action_config(
        &self,
        request: Request<w::validate_action_config::Request>,
    ) -> Reply<w::validate_action_config::Response> {
        let r = request.into_inner();
        let _call = Call::start("ValidateActionConfig", &r.type_name);
        let diags = match self.action_request(r.type_name, r.config) {
            Ok(action) => {
                self.provider
                    .validate_action_config(&action.type_name, action.config)
                    .await
            }
            Err(d) => d.into(),
        };
        reply(w::validate_action_config::Response {
            diagnostics: convert::diagnostics(diags),
        })
    }
}
