//! The service called directly with wire requests, as Terraform would.

use super::*;
use crate::provider::{ApplyResponse, PlanResponse};
use crate::schema::{Attribute, Block, ProviderSchema, Schema};

struct Echo;

#[async_trait::async_trait]
impl Provider for Echo {
    fn schema(&self) -> ProviderSchema {
        let block = Block::new()
            .attribute(Attribute::required("name", Type::String))
            .attribute(Attribute::computed("id", Type::String));
        ProviderSchema {
            resources: [("echo_thing".to_owned(), Schema::new(block))].into(),
            ..ProviderSchema::default()
        }
    }
    async fn plan_resource_change(&self, r: PlanRequest) -> PlanResponse {
        PlanResponse {
            planned_state: r.proposed_new_state,
            ..PlanResponse::default()
        }
    }
    async fn apply_resource_change(&self, _: ApplyRequest) -> ApplyResponse {
        // Not the schema's shape: the service must report it, not panic.
        ApplyResponse {
            new_state: Value::object([("nope", Value::from(1))]),
            ..ApplyResponse::default()
        }
    }
}

fn service() -> ProviderService<Echo> {
    let schemas = Arc::new(Schemas::new(&Echo.schema()));
    ProviderService::new(Arc::new(Echo), schemas)
}

fn thing_type() -> Type {
    Type::object([("name", Type::String), ("id", Type::String)])
}

fn msgpack(value: &Value) -> Option<w::DynamicValue> {
    Some(convert::encode(value, &thing_type()).unwrap())
}

#[tokio::test]
async fn unknown_resource_types_get_a_diagnostic() {
    let request = w::validate_resource_config::Request {
        type_name: "echo_nothing".into(),
        ..Default::default()
    };
    let response = service()
        .validate_resource_config(Request::new(request))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.diagnostics[0].summary, "Unknown resource type");
}

#[tokio::test]
async fn plan_passes_values_through_the_codec() {
    let proposed = Value::object([("name", "a".into()), ("id", Value::Unknown)]);
    let request = w::plan_resource_change::Request {
        type_name: "echo_thing".into(),
        proposed_new_state: msgpack(&proposed),
        config: msgpack(&proposed),
        ..Default::default()
    };
    let response = service()
        .plan_resource_change(Request::new(request))
        .await
        .unwrap()
        .into_inner();
    assert!(response.diagnostics.is_empty());
    let planned = convert::decode(response.planned_state, &thing_type()).unwrap();
    assert_eq!(planned, proposed);
}

#[tokio::test]
async fn values_that_do_not_fit_the_schema_become_errors() {
    let request = w::apply_resource_change::Request {
        type_name: "echo_thing".into(),
        ..Default::default()
    };
    let response = service()
        .apply_resource_change(Request::new(request))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        response.diagnostics[0].summary,
        "Provider returned an invalid value"
    );
}

#[tokio::test]
async fn stored_json_state_is_upgraded_to_msgpack() {
    let request = w::upgrade_resource_state::Request {
        type_name: "echo_thing".into(),
        version: 0,
        raw_state: Some(w::RawState {
            json: br#"{"id":"x","name":"a","gone":1}"#.to_vec(),
            flatmap: Default::default(),
        }),
    };
    let response = service()
        .upgrade_resource_state(Request::new(request))
        .await
        .unwrap()
        .into_inner();
    assert!(response.diagnostics.is_empty());
    let state = convert::decode(response.upgraded_state, &thing_type()).unwrap();
    assert_eq!(
        state,
        Value::object([("id", "x".into()), ("name", "a".into())])
    );
}

#[tokio::test]
async fn calls_newer_terraform_makes_of_every_provider_answer_empty() {
    let s = service();
    let functions = s
        .get_functions(Request::new(Default::default()))
        .await
        .unwrap();
    assert!(functions.get_ref().functions.is_empty());
    assert!(functions.get_ref().diagnostics.is_empty());
    let identities = s
        .get_resource_identity_schemas(Request::new(Default::default()))
        .await
        .unwrap();
    assert!(identities.get_ref().identity_schemas.is_empty());
    let metadata = s
        .get_metadata(Request::new(Default::default()))
        .await
        .unwrap();
    assert_eq!(metadata.get_ref().resources[0].type_name, "echo_thing");
}
