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
    if kind == Kind::Contract {
        for_each_enum(&mut json, typed_enum);
    }
    Object::from_json(kind, json).map_err(|e| e.to_string())
}

/// Calls `f` with each contract input's `enum` items and declared `type`.
fn for_each_enum(contract: &mut Json, f: impl Fn(&mut Json, Option<&str>)) {
    let Some(Json::Array(inputs)) = contract.get_mut("input") else {
        return;
    };
    for input in inputs {
        let ty = input.get("type").and_then(Json::as_str).map(String::from);
        if let Some(Json::Array(items)) = input.get_mut("enum") {
            for item in items {
                f(item, ty.as_deref());
            }
        }
    }
}

/// A contract input's `enum` is a list of strings to Terraform (the schema cannot say
/// "list of any" inside a repeated block), so Terraform has turned `enum = [1, 2]` into
/// `["1", "2"]`. The input's declared `type` says what they were: the items of a `number`
/// input's enum are numbers again, of a `bool` input's bools, as the HCL loader
/// (`plan-guard --model`) reads them. Text that is no such literal stays text.
fn typed_enum(item: &mut Json, ty: Option<&str>) {
    let Json::String(text) = item else {
        return;
    };
    let typed = match ty {
        Some("number") => text.parse::<i64>().map(Json::from).ok().or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Json::Number)
        }),
        Some("bool") => match text.as_str() {
            "true" => Some(Json::Bool(true)),
            "false" => Some(Json::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    if let Some(typed) = typed {
        *item = typed;
    }
}

/// The reverse of [`typed_enum`] for state: every enum item as the text Terraform's
/// conversion to string gives it.
fn text_enum(item: &mut Json, _: Option<&str>) {
    match item {
        Json::Number(n) => *item = Json::String(n.to_string()),
        Json::Bool(b) => *item = Json::String(b.to_string()),
        _ => {}
    }
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
    if object.kind() == Kind::Contract {
        for_each_enum(&mut json, text_enum);
    }
    empty_blocks_as_lists(&mut json, object.kind());
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

/// A repeated block the stored JSON leaves out when it has no items (`module_rule`: so the
/// digest of a blueprint stored before the block existed does not change) is an empty list
/// to Terraform, as its configuration is: Terraform 1.0.3 tells an absent block list from
/// an empty one and would plan an update after every apply.
fn empty_blocks_as_lists(json: &mut Json, kind: Kind) {
    let Json::Object(map) = json else {
        return;
    };
    for block in kind.schema().blocks.iter().filter(|b| b.repeated) {
        map.entry(block.name)
            .or_insert_with(|| Json::Array(Vec::new()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract(inputs: Json) -> Value {
        let ty = crate::schema::resource(Kind::Contract).value_type();
        let config = json!({"name": "c", "module": "module.svc", "input": inputs});
        Value::from_json(&serde_json::to_vec(&config).unwrap(), &ty).unwrap()
    }

    fn enums(object: &Object) -> Vec<Vec<Json>> {
        let Object::Contract(c) = object else {
            unreachable!()
        };
        c.input.iter().map(|i| i.allowed.clone()).collect()
    }

    /// What Terraform sends for `enum = [1, 2]` (items converted to strings) is stored with
    /// the input's declared type, as `plan-guard --model` reads the same HCL.
    #[test]
    fn enum_items_keep_the_type_the_input_declares() {
        let config = contract(json!([
            {"name": "n", "type": "number", "enum": ["1", "2.5", "x"]},
            {"name": "b", "type": "bool", "enum": ["true", "false"]},
            {"name": "s", "type": "string", "enum": ["1", "true"]},
            {"name": "u", "enum": ["1", "a"]},
        ]));
        let object = to_object(Kind::Contract, &config).unwrap();
        assert_eq!(
            enums(&object),
            [
                vec![json!(1), json!(2.5), json!("x")],
                vec![json!(true), json!(false)],
                vec![json!("1"), json!("true")],
                vec![json!("1"), json!("a")],
            ]
        );
        // Back to state: the strings Terraform holds, so a refresh shows no drift.
        let ty = crate::schema::resource(Kind::Contract).value_type();
        let state = to_state(&object, 3, &ty, &config).unwrap();
        let enum_of = |i: i64| {
            state
                .at(&tfplugin::AttributePath::new("input").index(i).attr("enum"))
                .cloned()
        };
        assert_eq!(
            enum_of(0),
            Some(Value::List(vec!["1".into(), "2.5".into(), "x".into()]))
        );
        assert_eq!(
            enum_of(1),
            Some(Value::List(vec!["true".into(), "false".into()]))
        );
        assert_eq!(to_object(Kind::Contract, &state).unwrap(), object);
    }
}
