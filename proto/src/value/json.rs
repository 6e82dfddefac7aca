//! cty's JSON encoding. Terraform uses it for stored state handed to
//! `UpgradeResourceState`; a value of type `dynamic` is written as
//! `{"value": ..., "type": ...}`.
//!
//! Decoding goes through `serde_json` without arbitrary precision, so a
//! fractional number is read as the nearest f64 and kept as its shortest
//! decimal text: exact for any number of up to 15 significant digits, which
//! is what stored state holds in practice.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value as Json;

use super::number::Repr;
use super::{Number, Type, Value, ValueError, implied_type};
use crate::diagnostics::AttributePath;

pub(super) fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let root = AttributePath::root();
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| ValueError::new(&root, format!("invalid JSON: {e}")))?;
    from_json(&json, ty, &root)
}

pub(super) fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mut out = String::new();
    write_json(&mut out, value, ty, &AttributePath::root())?;
    Ok(out.into_bytes())
}

fn from_json(json: &Json, ty: &Type, path: &AttributePath) -> Result<Value, ValueError> {
    let mismatch = || ValueError::new(path, format!("a {ty} is required"));
    match (json, ty) {
        (Json::Null, _) => Ok(Value::Null),
        (Json::Object(wrapper), Type::Dynamic) => {
            let type_json = wrapper.get("type").ok_or_else(mismatch)?;
            let concrete =
                Type::from_json_value(type_json).map_err(|e| ValueError::new(path, e))?;
            from_json(wrapper.get("value").unwrap_or(&Json::Null), &concrete, path)
        }
        (Json::Bool(b), Type::Bool) => Ok(Value::Bool(*b)),
        (Json::Number(n), Type::Number) => Ok(Value::Number(if let Some(i) = n.as_i64() {
            Number::from(i)
        } else if let Some(u) = n.as_u64() {
            Number(Repr::Decimal(u.to_string()))
        } else {
            let f = n.as_f64().ok_or_else(mismatch)?;
            Number::parse(&f.to_string()).ok_or_else(mismatch)?
        })),
        (Json::String(s), Type::Number) => Number::parse(s).map(Value::Number).ok_or_else(mismatch),
        (Json::String(s), Type::String) => Ok(Value::String(s.clone())),
        (Json::Array(items), Type::List(element)) => {
            sequence(items, |_| element, path).map(Value::List)
        }
        (Json::Array(items), Type::Set(element)) => {
            sequence(items, |_| element, path).map(Value::Set)
        }
        (Json::Array(items), Type::Tuple(types)) if items.len() == types.len() => {
            // In bounds: the guard above matched the lengths.
            #[allow(clippy::indexing_slicing)]
            sequence(items, |i| &types[i], path).map(Value::Tuple)
        }
        (Json::Object(entries), Type::Map(element)) => entries
            .iter()
            .map(|(k, v)| Ok((k.clone(), from_json(v, element, &path.key(k))?)))
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (Json::Object(entries), Type::Object(attr_types)) => attr_types
            .iter()
            .map(|(name, aty)| {
                let v = entries.get(name).unwrap_or(&Json::Null);
                Ok((name.clone(), from_json(v, aty, &path.attr(name))?))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Value::Object),
        _ => Err(mismatch()),
    }
}

fn sequence<'t>(
    items: &[Json],
    element: impl Fn(usize) -> &'t Type,
    path: &AttributePath,
) -> Result<Vec<Value>, ValueError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| from_json(item, element(i), &path.index(i as i64)))
        .collect()
}

fn write_json(
    out: &mut String,
    value: &Value,
    ty: &Type,
    path: &AttributePath,
) -> Result<(), ValueError> {
    let mismatch = || ValueError::new(path, format!("a {ty} is required"));
    match (value, ty) {
        (Value::Unknown, _) => {
            return Err(ValueError::new(path, "unknown values have no JSON form"));
        }
        (Value::Null, _) => out.push_str("null"),
        (_, Type::Dynamic) => {
            let concrete = implied_type(value);
            out.push_str("{\"value\":");
            write_json(out, value, &concrete, path)?;
            let _ = write!(out, ",\"type\":{}}}", concrete.to_json_value());
        }
        (Value::Bool(b), Type::Bool) => {
            let _ = write!(out, "{b}");
        }
        (Value::Number(n), Type::Number) => write_number(out, n, path)?,
        (Value::String(s), Type::String) => out.push_str(&Json::from(s.as_str()).to_string()),
        (
            Value::List(items) | Value::Set(items) | Value::Tuple(items),
            Type::List(e) | Type::Set(e),
        ) => {
            write_array(out, items, |_| e, path)?;
        }
        (Value::List(items) | Value::Tuple(items), Type::Tuple(types))
            if items.len() == types.len() =>
        {
            // In bounds: the guard above matched the lengths.
            #[allow(clippy::indexing_slicing)]
            write_array(out, items, |i| &types[i], path)?;
        }
        (Value::Map(entries) | Value::Object(entries), Type::Map(e)) => {
            write_object(out, entries.iter().map(|(k, v)| (k, v, &**e)), path)?;
        }
        (Value::Object(attrs) | Value::Map(attrs), Type::Object(types)) => {
            if let Some(extra) = attrs.keys().find(|k| !types.contains_key(*k)) {
                return Err(ValueError::new(
                    path,
                    format!("unsupported attribute {extra:?}"),
                ));
            }
            let entries = types
                .iter()
                .map(|(k, t)| (k, attrs.get(k).unwrap_or(&Value::Null), t));
            write_object(out, entries, path)?;
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

fn write_number(out: &mut String, n: &Number, path: &AttributePath) -> Result<(), ValueError> {
    match &n.0 {
        Repr::Float(f) if !f.is_finite() => {
            return Err(ValueError::new(path, "infinity has no JSON form"));
        }
        // Decimal text in a form JSON forbids (leading zeros) goes as a
        // string, which cty's JSON decoder also reads as a number.
        Repr::Decimal(s) if serde_json::from_str::<Json>(s).is_err() => {
            out.push_str(&Json::from(s.as_str()).to_string());
        }
        _ => {
            let _ = write!(out, "{n}");
        }
    }
    Ok(())
}

fn write_array<'t>(
    out: &mut String,
    items: &[Value],
    element: impl Fn(usize) -> &'t Type,
    path: &AttributePath,
) -> Result<(), ValueError> {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json(out, item, element(i), &path.index(i as i64))?;
    }
    out.push(']');
    Ok(())
}

fn write_object<'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a String, &'a Value, &'a Type)>,
    path: &AttributePath,
) -> Result<(), ValueError> {
    out.push('{');
    for (i, (k, v, t)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Json::from(k.as_str()).to_string());
        out.push(':');
        write_json(out, v, t, &path.attr(k))?;
    }
    out.push('}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_stored_state_leniently() {
        let ty = Type::object([
            ("id", Type::String),
            ("name", Type::String),
            ("count", Type::Number),
        ]);
        // "legacy" is no longer in the schema; "count" is new.
        let state = br#"{"id":"t-1","name":"alpha","legacy":true}"#;
        let value = Value::from_json(state, &ty).unwrap();
        assert_eq!(
            value,
            Value::object([
                ("id", "t-1".into()),
                ("name", "alpha".into()),
                ("count", Value::Null)
            ])
        );
    }

    #[test]
    fn numbers_keep_their_decimal_text() {
        let v = Value::from_json(b"0.1", &Type::Number).unwrap();
        assert_eq!(v.as_number().unwrap().to_string(), "0.1");
        let big = Value::from_json(b"18446744073709551615", &Type::Number).unwrap();
        assert_eq!(big.as_number().unwrap().to_string(), "18446744073709551615");
        assert_eq!(
            Value::from_json(b"\"12\"", &Type::Number).unwrap(),
            Value::from(12)
        );
    }

    #[test]
    fn round_trips_including_dynamic() {
        let ty = Type::object([
            ("any", Type::Dynamic),
            ("list", Type::list(Type::Number)),
            ("map", Type::map(Type::Bool)),
        ]);
        let value = Value::object([
            ("any", Value::Tuple(vec!["a".into(), 1.into()])),
            ("list", Value::List(vec![1.into(), 2.5.into()])),
            (
                "map",
                Value::Map(BTreeMap::from([("k".to_owned(), true.into())])),
            ),
        ]);
        let bytes = value.to_json(&ty).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"any":{"value":["a",1],"type":["tuple",["string","number"]]},"list":[1,2.5],"map":{"k":true}}"#
        );
        assert_eq!(Value::from_json(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn unknown_has_no_json_form() {
        assert!(Value::Unknown.to_json(&Type::String).is_err());
    }
}
