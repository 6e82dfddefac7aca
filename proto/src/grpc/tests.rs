//! The service called directly with wire requests, as Terraform would.

use super::*;
use crate::provider::{ApplyResponse, FunctionResponse, PlanResponse};
use crate::schema::{Attribute, Block, Function, Parameter, ProviderSchema, Schema};
use tokio_stream::StreamExt as _;

struct Echo;

/// A provider with no functions or actions.
struct Bare;

#[async_trait::async_trait]
impl Provider for Bare {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema::default()
    }
    async fn plan_resource_change(&self, r: PlanRequest) -> PlanResponse {
        PlanResponse {
            planned_state: r.proposed_new_state,
            ..PlanResponse::default()
        }
    }
    async fn apply_resource_change(&self, r: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: r.planned_state,
            ..ApplyResponse::default()
        }
    }
}

fn say_type() -> Type {
    Type::object([("message", Type::String)])
}

#[async_trait::async_trait]
impl Provider for Echo {
    fn schema(&self) -> ProviderSchema {
        let block = Block::new()
            .attribute(Attribute::required("name", Type::String))
            .attribute(Attribute::computed("id", Type::String));
        let shout = Function::new(Type::String, "Upper-cases its argument")
            .parameter(Parameter::new("text", Type::String, "What to shout"))
            .parameter(Parameter::new("anything", Type::Dynamic, "Ignored"));
        let say = Block::new().attribute(Attribute::required("message", Type::String));
        ProviderSchema {
            resources: [("echo_thing".to_owned(), Schema::new(block))].into(),
            functions: [("shout".to_owned(), shout)].into(),
            actions: [("echo_say".to_owned(), Schema::new(say))].into(),
            ..ProviderSchema::default()
        }
    }
    async fn call_function(&self, r: FunctionRequest) -> FunctionResponse {
        match r.arguments.first().and_then(Value::as_str) {
            Some("") => FunctionResponse::error("must not be empty", Some(0)),
            Some(text) => FunctionResponse::ok(text.to_uppercase().into()),
            None => FunctionResponse::ok(Value::List(Vec::new())),
        }
    }
    async fn invoke_action(&self, r: ActionRequest, progress: ActionProgress) -> Diagnostics {
        let message = r
            .config
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("");
        progress.report(format!("saying {message}"));
        progress.report("said");
        if message == "fail" {
            Diagnostic::error("Failed", "as asked").into()
        } else {
            Diagnostics::new()
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
    let s = ProviderService::new(Arc::new(Bare), Arc::new(Schemas::new(&Bare.schema())));
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
    assert!(metadata.get_ref().functions.is_empty());
    assert!(metadata.get_ref().actions.is_empty());
}

#[tokio::test]
async fn functions_and_actions_are_declared_in_every_discovery_answer() {
    let s = service();
    let functions = s
        .get_functions(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    let shout = &functions.functions["shout"];
    assert_eq!(shout.parameters[0].name, "text");
    assert_eq!(shout.parameters[1].r#type, br#""dynamic""#);
    assert!(!shout.parameters[0].allow_unknown_values);
    assert_eq!(shout.r#return.as_ref().unwrap().r#type, br#""string""#);
    let schema = s
        .get_provider_schema(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.functions.contains_key("shout"));
    assert!(schema.action_schemas["echo_say"].schema.is_some());
    let metadata = s
        .get_metadata(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metadata.functions[0].name, "shout");
    assert_eq!(metadata.actions[0].type_name, "echo_say");
}

fn argument(value: &Value, ty: &Type) -> w::DynamicValue {
    convert::encode(value, ty).unwrap()
}

async fn call(name: &str, arguments: Vec<w::DynamicValue>) -> w::call_function::Response {
    let request = w::call_function::Request {
        name: name.into(),
        arguments,
    };
    service()
        .call_function(Request::new(request))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn function_calls_decode_arguments_and_name_the_one_at_fault() {
    let any = argument(&Value::from(true), &Type::Dynamic);
    let ok = call(
        "shout",
        vec![argument(&"hi".into(), &Type::String), any.clone()],
    )
    .await;
    assert!(ok.error.is_none(), "{ok:?}");
    assert_eq!(
        convert::decode(ok.result, &Type::String).unwrap(),
        Value::from("HI")
    );
    let empty = call(
        "shout",
        vec![argument(&"".into(), &Type::String), any.clone()],
    )
    .await;
    let error = empty.error.unwrap();
    assert_eq!(
        (error.text.as_str(), error.function_argument),
        ("must not be empty", Some(0))
    );
    // A result that is not of the return type is an error, not a broken answer.
    let number = call(
        "shout",
        vec![argument(&Value::Null, &Type::String), any.clone()],
    )
    .await;
    assert!(number.error.unwrap().text.contains("invalid value"));
    // An argument that does not decode names its index and never its bytes.
    let canary = w::DynamicValue {
        // A dynamic value: [type "bool", the string "s3cr"], which does not fit.
        msgpack: b"\x92\xa6\"bool\"\xa4s3cr".to_vec(),
        json: vec![],
    };
    let bad = call("shout", vec![argument(&"x".into(), &Type::String), canary]).await;
    let error = bad.error.unwrap();
    assert_eq!(error.function_argument, Some(1));
    assert!(!error.text.contains("s3cr"), "{}", error.text);
    let few = call("shout", vec![]).await;
    assert!(few.error.unwrap().text.contains("takes 2 arguments"));
    let none = call("whisper", vec![]).await;
    assert!(none.error.unwrap().text.contains("no function \"whisper\""));
}

async fn invoke(message: &str) -> Vec<w::invoke_action::Event> {
    let config = Value::object([("message", Value::from(message))]);
    let request = w::invoke_action::Request {
        action_type: "echo_say".into(),
        config: Some(convert::encode(&config, &say_type()).unwrap()),
        client_capabilities: None,
    };
    let stream = service()
        .invoke_action(Request::new(request))
        .await
        .unwrap()
        .into_inner();
    stream.map(Result::unwrap).collect().await
}

#[tokio::test]
async fn actions_stream_their_progress_then_complete() {
    use w::invoke_action::event::Type as Kind;
    let events = invoke("hello").await;
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match &e.r#type {
            Some(Kind::Progress(p)) => p.message.clone(),
            Some(Kind::Completed(c)) => format!("completed with {}", c.diagnostics.len()),
            None => "nothing".into(),
        })
        .collect();
    assert_eq!(kinds, ["saying hello", "said", "completed with 0"]);
    let failed = invoke("fail").await;
    match failed.last().and_then(|e| e.r#type.as_ref()) {
        Some(Kind::Completed(c)) => assert_eq!(c.diagnostics[0].summary, "Failed"),
        other => panic!("{other:?}"),
    }
    let unknown = service()
        .validate_action_config(Request::new(w::validate_action_config::Request {
            type_name: "echo_shout".into(),
            config: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unknown.diagnostics[0].summary, "Unknown action");
}
