//! `iom_model` (the store's revision, counts and names) and `iom_contract_check` (module
//! inputs checked against a stored contract at plan time, one error per violation).

use std::collections::BTreeMap;

use iom_model::{InputValue, Kind, Object, check_contract_inputs};
use iom_store::Store;
use tfplugin::{AttributePath, Diagnostics, Value};

pub fn read(store: &Store, type_name: &str, mut config: Value) -> (Value, Diagnostics) {
    let mut diags = Diagnostics::new();
    match type_name {
        "iom_model" => match store.load_model() {
            Ok((_, revision)) => {
                let listed = store.list().unwrap_or_default();
                let mut names: BTreeMap<String, Vec<Value>> = Kind::ALL
                    .iter()
                    .map(|k| (k.resource_type().to_string(), Vec::new()))
                    .collect();
                for s in &listed {
                    names
                        .entry(s.object.kind().resource_type().to_string())
                        .or_default()
                        .push(Value::from(s.object.key()));
                }
                let counts = names
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.len() as i64)))
                    .collect();
                config.set("revision", Value::from(revision as i64));
                config.set("counts", Value::Map(counts));
                config.set(
                    "names",
                    Value::Map(
                        names
                            .into_iter()
                            .map(|(k, v)| (k, Value::List(v)))
                            .collect(),
                    ),
                );
            }
            Err(e) => diags.error("Cannot read the model store", e.to_string()),
        },
        "iom_contract_check" => {
            let name = config
                .get("contract")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let contract = match store.get(Kind::Contract, &name) {
                Ok(Some(stored)) => match stored.object {
                    Object::Contract(c) => c,
                    _ => unreachable!("the store returns the kind asked for"),
                },
                Ok(None) => {
                    diags.error_at(
                        AttributePath::new("contract"),
                        "Unknown contract",
                        format!("the model store holds no iom_contract named {name:?}"),
                    );
                    return (config, diags);
                }
                Err(e) => {
                    diags.error("Cannot read the model store", e.to_string());
                    return (config, diags);
                }
            };
            let inputs: BTreeMap<String, InputValue> = config
                .get("inputs")
                .and_then(Value::as_map)
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let value = match v {
                        Value::Unknown => InputValue::Unknown,
                        other => InputValue::Known(input_json(other)),
                    };
                    (k.clone(), value)
                })
                .collect();
            let violations = check_contract_inputs(&contract, &inputs);
            for v in &violations {
                diags.error_at(
                    AttributePath::new("inputs").key(&v.input),
                    format!("Contract {name} violated"),
                    v.message.clone(),
                );
            }
            config.set("valid", Value::from(violations.is_empty()));
        }
        other => diags.error("Unknown data source", other.to_string()),
    }
    (config, diags)
}

/// A map(string) input as the JSON the contract checks: text that reads as a number or a
/// bool is taken as one, as HCL converted it to text on the way in.
fn input_json(v: &Value) -> serde_json::Value {
    match v.as_str() {
        Some(s) => match s {
            "true" => serde_json::Value::Bool(true),
            "false" => serde_json::Value::Bool(false),
            _ => s
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(
                    || serde_json::Value::String(s.to_string()),
                    serde_json::Value::Number,
                ),
        },
        None => serde_json::Value::Null,
    }
}
