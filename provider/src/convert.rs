//! Between Terraform values and governance objects. Configuration becomes an object's JSON
//! (unset attributes and unknown values left out); an object read from the store becomes
//! state shaped like the prior state, so an attribute the configuration leaves unset does
//! not show as a difference just because the store holds its empty default.

use iom_model::{Kind, Object};
use serde_json::{Map, Value as Json};
use tfplugin::{Type, Value};

/// The JSON of a configuration or state value, without nulls and unknowns.
pub fn to_json(value: &Value) -> Option<Json> {
    match value {
        Value::Null | Value::Unknown => None,
        Value::Bool(b) => Some(Json::Bool(*b)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Json::from(i),
            None => serde_json::Number::from_f64(n.as_f64()).map_or(Json::Null, Json::Number),
        }),
        Value::String(s) => Some(Json::String(s.clone())),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            Some(Json::Array(items.iter().filter_map(to_json).collect()))
        }
        Value::Map(entries) | Value::Object(entries) => Some(Json::Object(
            entries
                .iter()
                .filter_map(|(k, v)| to_json(v).map(|j| (k.clone(), j)))
                .collect::<Map<_, _>>(),
        )),
    }
}

/// The governance object a resource's configuration (or planned state) declares.
pub fn to_object(kind: Kind, value: &Value) -> Result<Object, String> {
    let mut json = to_json(value).unwrap_or_else(|| Json::Object(Map::new()));
    if let Json::Object(map) = &mut json {
        // Computed by the provider, not part of the object.
        map.remove("id");
        map.remove("revision");
    }
    Object::from_json(kind, json).map_err(|e| e.to_string())
}

/// The state of a stored object: `id` is its key (name, `name@version` for a blueprint), `revision` the revision that last
/// wrote it. Where `shape` (the prior state or configuration) has null and the store has
/// an empty default (no items, false, empty text), the state keeps the null.
pub fn to_state(object: &Object, revision: u64, ty: &Type, shape: &Value) -> Result<Value, String> {
    let mut json = object.to_json();
    if let Json::Object(map) = &mut json {
        map.insert("id".into(), Json::String(object.key()));
        map.insert("revision".into(), Json::from(revision));
    }
    let bytes = serde_json::to_vec(&json).map_err(|e| e.to_string())?;
    let mut state = Value::from_json(&bytes, ty).map_err(|e| e.to_string())?;
    if shape.is_null() {
        // Nothing to follow (an import): unset attributes are null in configuration, so
        // empty defaults become null too.
        null_defaults(&mut state);
    } else {
        keep_nulls(&mut state, shape);
    }
    Ok(state)
}

fn is_empty_default(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => items.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

fn null_defaults(state: &mut Value) {
    match state {
        Value::Object(attrs) => {
            for v in attrs.values_mut() {
                if is_empty_default(v) {
                    *v = Value::Null;
                } else {
                    null_defaults(v);
                }
            }
        }
        Value::List(items) => items.iter_mut().for_each(null_defaults),
        _ => {}
    }
}

fn keep_nulls(state: &mut Value, shape: &Value) {
    match (state, shape) {
        (Value::Object(attrs), Value::Object(shape_attrs)) => {
            for (name, v) in attrs.iter_mut() {
                match shape_attrs.get(name) {
                    Some(Value::Null) | None if is_empty_default(v) => *v = Value::Null,
                    Some(s) => keep_nulls(v, s),
                    None => {}
                }
            }
        }
        (Value::List(items), Value::List(shape_items)) => {
            for (v, s) in items.iter_mut().zip(shape_items) {
                keep_nulls(v, s);
            }
        }
        _ => {}
    }
}
