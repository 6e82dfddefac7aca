//! cty's msgpack encoding, the form every value takes on the plugin wire.
//!
//! The rules mirror the cty library's own codec: null is msgpack nil; an
//! unknown value is an extension (type 0 with a one-byte body when it has no
//! refinements, type 12 with a refinement map when it has some); numbers are
//! integers, float64s or decimal strings; lists, sets and tuples are arrays;
//! maps and objects are maps keyed by string, objects with every attribute in
//! name order; a value of type `dynamic` is a pair `[type JSON, value]`.

use rmpv::Value as Mp;

use super::number::Repr;
use super::{Number, Type, Value, ValueError, implied_type};
use crate::diagnostics::AttributePath;

/// Extension type of a plain unknown value.
const UNKNOWN_EXT: i8 = 0;
/// Extension type of an unknown value that carries refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// cty refuses refinement payloads above this size; so do we.
const MAX_REFINEMENT_LEN: usize = 1024;
/// Nesting deeper than this is not a Terraform value; refusing it keeps a
/// malformed message from exhausting the stack.
const MAX_DEPTH: usize = 256;

pub(super) fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mp = to_mp(value, ty, &AttributePath::root())?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp)
        .map_err(|e| ValueError::new(&AttributePath::root(), e.to_string()))?;
    Ok(out)
}

pub(super) fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let root = AttributePath::root();
    let mut reader = bytes;
    let mp = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH)
        .map_err(|e| ValueError::new(&root, format!("invalid msgpack: {e}")))?;
    from_mp(mp, ty, &root)
}

fn to_mp(value: &Value, ty: &Type, path: &AttributePath) -> Result<Mp, ValueError> {
    let mismatch = || ValueError::new(path, format!("a {ty} is required"));
    match (value, ty) {
        // One nul byte as the body: the shortest extension msgpack has.
        (Value::Unknown, _) => Ok(Mp::Ext(UNKNOWN_EXT, vec![0])),
        (Value::Null, _) => Ok(Mp::Nil),
        (_, Type::Dynamic) => {
            let concrete = implied_type(value);
            let inner = to_mp(value, &concrete, path)?;
            Ok(Mp::Array(vec![Mp::Binary(concrete.to_json()), inner]))
        }
        (Value::Bool(b), Type::Bool) => Ok(Mp::Boolean(*b)),
        (Value::String(s), Type::Bool) => match s.as_str() {
            "true" => Ok(Mp::Boolean(true)),
            "false" => Ok(Mp::Boolean(false)),
            _ => Err(mismatch()),
        },
        (Value::Number(n), Type::Number) => Ok(number_to_mp(n)),
        (Value::String(s), Type::Number) => Number::parse(s)
            .map(|n| number_to_mp(&n))
            .ok_or_else(mismatch),
        (Value::String(s), Type::String) => Ok(Mp::String(s.as_str().into())),
        (Value::Number(n), Type::String) => Ok(Mp::String(n.to_string().into())),
        (Value::Bool(b), Type::String) => Ok(Mp::String(b.to_string().into())),
        (
            Value::List(items) | Value::Set(items) | Value::Tuple(items),
            Type::List(element) | Type::Set(element),
        ) => items
            .iter()
            .enumerate()
            .map(|(i, item)| to_mp(item, element, &path.index(i as i64)))
            .collect::<Result<_, _>>()
            .map(Mp::Array),
        (Value::List(items) | Value::Tuple(items), Type::Tuple(elements)) => {
            if items.len() != elements.len() {
                return Err(ValueError::new(
                    path,
                    format!("a tuple of {} elements is required", elements.len()),
                ));
            }
            items
                .iter()
                .zip(elements)
                .enumerate()
                .map(|(i, (item, ety))| to_mp(item, ety, &path.index(i as i64)))
                .collect::<Result<_, _>>()
                .map(Mp::Array)
        }
        (Value::Map(entries) | Value::Object(entries), Type::Map(element)) => entries
            .iter()
            .map(|(k, v)| {
                Ok((
                    Mp::String(k.as_str().into()),
                    to_mp(v, element, &path.key(k))?,
                ))
            })
            .collect::<Result<_, _>>()
            .map(Mp::Map),
        (Value::Object(attrs) | Value::Map(attrs), Type::Object(attr_types)) => {
            if let Some(extra) = attrs.keys().find(|k| !attr_types.contains_key(*k)) {
                return Err(ValueError::new(
                    path,
                    format!("unsupported attribute {extra:?}"),
                ));
            }
            // BTreeMap iteration gives the name order cty writes objects in.
            attr_types
                .iter()
                .map(|(name, aty)| {
                    let v = attrs.get(name).unwrap_or(&Value::Null);
                    Ok((
                        Mp::String(name.as_str().into()),
                        to_mp(v, aty, &path.attr(name))?,
                    ))
                })
                .collect::<Result<_, _>>()
                .map(Mp::Map)
        }
        _ => Err(mismatch()),
    }
}

fn number_to_mp(n: &Number) -> Mp {
    match &n.0 {
        Repr::Int(i) => Mp::from(*i),
        Repr::Float(f) => Mp::F64(*f),
        Repr::Decimal(s) => Mp::String(s.as_str().into()),
    }
}

fn from_mp(mp: Mp, ty: &Type, path: &AttributePath) -> Result<Value, ValueError> {
    let mismatch = |got: &str| ValueError::new(path, format!("a {ty} is required, got {got}"));
    match (mp, ty) {
        (Mp::Ext(code, body), _) => unknown_from_ext(code, &body, path),
        (Mp::Nil, _) => Ok(Value::Null),
        (Mp::Array(pair), Type::Dynamic) => {
            let [type_json, inner]: [Mp; 2] = pair
                .try_into()
                .map_err(|_| mismatch("an array that is not a [type, value] pair"))?;
            let type_bytes = match type_json {
                Mp::Binary(b) => b,
                Mp::String(s) => s.into_bytes(),
                _ => return Err(mismatch("a dynamic value without its type")),
            };
            let concrete = Type::from_json(&type_bytes).map_err(|e| ValueError::new(path, e))?;
            from_mp(inner, &concrete, path)
        }
        (Mp::Boolean(b), Type::Bool) => Ok(Value::Bool(b)),
        (Mp::Integer(i), Type::Number) => Ok(Value::Number(match i.as_i64() {
            Some(i) => Number::from(i),
            // Only u64 values above i64::MAX get here; keep them exact.
            None => Number(Repr::Decimal(i.to_string())),
        })),
        (Mp::F64(f), Type::Number) => Ok(Value::Number(Number::from(f))),
        (Mp::F32(f), Type::Number) => Ok(Value::Number(Number::from(f64::from(f)))),
        (Mp::String(s), Type::Number) => {
            let text = s.as_str().ok_or_else(|| mismatch("invalid UTF-8"))?;
            Number::parse(text)
                .map(Value::Number)
                .ok_or_else(|| mismatch(&format!("{text:?}")))
        }
        (Mp::String(s), Type::String) => s
            .into_str()
            .map(Value::String)
            .ok_or_else(|| mismatch("invalid UTF-8")),
        (Mp::Array(items), Type::List(element)) => elements(items, element, path).map(Value::List),
        (Mp::Array(items), Type::Set(element)) => elements(items, element, path).map(Value::Set),
        (Mp::Array(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(mismatch(&format!("{} elements", items.len())));
            }
            items
                .into_iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, ety))| from_mp(item, ety, &path.index(i as i64)))
                .collect::<Result<_, _>>()
                .map(Value::Tuple)
        }
        (Mp::Map(entries), Type::Map(element)) => entries
            .into_iter()
            .map(|(k, v)| {
                let key = map_key(k, path)?;
                let value = from_mp(v, element, &path.key(&key))?;
                Ok((key, value))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (Mp::Map(entries), Type::Object(attr_types)) => {
            let mut attrs = std::collections::BTreeMap::new();
            for (k, v) in entries {
                let name = map_key(k, path)?;
                let aty = attr_types.get(&name).ok_or_else(|| {
                    ValueError::new(path, format!("unsupported attribute {name:?}"))
                })?;
                let value = from_mp(v, aty, &path.attr(&name))?;
                attrs.insert(name, value);
            }
            // An attribute the sender left out is null, as in cty.
            for name in attr_types.keys() {
                attrs.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(attrs))
        }
        (other, _) => Err(mismatch(kind_of(&other))),
    }
}

fn unknown_from_ext(code: i8, body: &[u8], path: &AttributePath) -> Result<Value, ValueError> {
    // Any extension of length 0 or 1 is a plain unknown, whatever its code;
    // longer ones must be cty's refinement extension. Refinements only narrow
    // what the value may become, so dropping them is always safe.
    if body.len() <= 1 || code == REFINED_UNKNOWN_EXT && body.len() <= MAX_REFINEMENT_LEN {
        Ok(Value::Unknown)
    } else {
        Err(ValueError::new(
            path,
            format!(
                "unsupported msgpack extension type {code} of {} bytes",
                body.len()
            ),
        ))
    }
}

fn elements(
    items: Vec<Mp>,
    element: &Type,
    path: &AttributePath,
) -> Result<Vec<Value>, ValueError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| from_mp(item, element, &path.index(i as i64)))
        .collect()
}

fn map_key(key: Mp, path: &AttributePath) -> Result<String, ValueError> {
    match key {
        Mp::String(s) => s
            .into_str()
            .ok_or_else(|| ValueError::new(path, "map key is not valid UTF-8")),
        other => Err(ValueError::new(
            path,
            format!("map key must be a string, got {}", kind_of(&other)),
        )),
    }
}

fn kind_of(mp: &Mp) -> &'static str {
    match mp {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "a bool",
        Mp::Integer(_) | Mp::F32(_) | Mp::F64(_) => "a number",
        Mp::String(_) => "a string",
        Mp::Binary(_) => "binary data",
        Mp::Array(_) => "an array",
        Mp::Map(_) => "a map",
        Mp::Ext(..) => "an extension",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn round_trip(value: Value, ty: &Type) {
        let bytes = value.to_msgpack(ty).unwrap();
        assert_eq!(
            Value::from_msgpack(&bytes, ty).unwrap(),
            value,
            "{bytes:02x?}"
        );
    }

    fn thing_type() -> Type {
        Type::object([
            ("id", Type::String),
            ("name", Type::String),
            ("size", Type::Number),
            ("enabled", Type::Bool),
            ("tags", Type::map(Type::String)),
            ("ports", Type::list(Type::Number)),
            ("zones", Type::set(Type::String)),
            ("pair", Type::Tuple(vec![Type::String, Type::Bool])),
        ])
    }

    #[test]
    fn round_trips_every_kind() {
        let value = Value::object([
            ("id", Value::Unknown),
            ("name", "alpha".into()),
            ("size", Value::Number(Number::parse("0.1").unwrap())),
            ("enabled", true.into()),
            (
                "tags",
                Value::Map(BTreeMap::from([("env".to_owned(), "prod".into())])),
            ),
            (
                "ports",
                Value::List(vec![80.into(), 443.into(), 1.5.into()]),
            ),
            ("zones", Value::Set(vec!["a".into(), "b".into()])),
            ("pair", Value::Tuple(vec!["x".into(), Value::Null])),
        ]);
        round_trip(value, &thing_type());
        round_trip(Value::Null, &thing_type());
        round_trip(Value::Unknown, &thing_type());
        round_trip(Value::List(vec![]), &Type::list(Type::String));
    }

    #[test]
    fn objects_are_written_with_every_attribute_in_name_order() {
        let ty = Type::object([("b", Type::Bool), ("a", Type::String)]);
        let bytes = Value::object([("b", Value::Bool(true))])
            .to_msgpack(&ty)
            .unwrap();
        // fixmap(2), "a" => nil, "b" => true
        assert_eq!(bytes, [0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xc3]);
    }

    #[test]
    fn unknown_is_extension_zero() {
        let bytes = Value::Unknown.to_msgpack(&Type::String).unwrap();
        assert_eq!(bytes, [0xd4, 0x00, 0x00]);
        // A zero-length extension is also a plain unknown.
        assert_eq!(
            Value::from_msgpack(&[0xc7, 0x00, 0x00], &Type::String).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn refined_unknown_is_extension_twelve() {
        // ext 12 body: fixmap(2) { 1 => false (not null), 2 => "ab" (prefix) }
        let body = [0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'];
        let mut bytes = vec![0xc7, body.len() as u8, 0x0c];
        bytes.extend_from_slice(&body);
        assert_eq!(
            Value::from_msgpack(&bytes, &Type::String).unwrap(),
            Value::Unknown
        );
        // Other long extensions are not cty values.
        bytes[2] = 0x05;
        assert!(Value::from_msgpack(&bytes, &Type::String).is_err());
    }

    #[test]
    fn numbers_arrive_as_ints_floats_or_strings() {
        let decode = |bytes: &[u8]| Value::from_msgpack(bytes, &Type::Number).unwrap();
        assert_eq!(decode(&[0x2a]), Value::from(42));
        assert_eq!(decode(&[0xd0, 0xd6]), Value::from(-42));
        let mut f = vec![0xcb];
        f.extend_from_slice(&0.5f64.to_be_bytes());
        assert_eq!(decode(&f), Value::from(0.5));
        // A decimal that float64 cannot hold exactly travels as text and keeps it.
        let text = "3.14159265358979323846264338327950288";
        let mut s = vec![0xd9, text.len() as u8];
        s.extend_from_slice(text.as_bytes());
        let v = decode(&s);
        assert_eq!(v.as_number().unwrap().to_string(), text);
        assert_eq!(v.to_msgpack(&Type::Number).unwrap(), s);
        // Integers beyond i64 stay exact.
        let big = decode(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(big.as_number().unwrap().to_string(), "18446744073709551615");
        assert!(Value::from_msgpack(&[0xa3, b'a', b'b', b'c'], &Type::Number).is_err());
    }

    #[test]
    fn whole_numbers_are_encoded_compactly() {
        assert_eq!(Value::from(7).to_msgpack(&Type::Number).unwrap(), [0x07]);
        assert_eq!(Value::from(2.0).to_msgpack(&Type::Number).unwrap(), [0x02]);
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let value = Value::List(vec!["a".into()]);
        let bytes = value.to_msgpack(&Type::Dynamic).unwrap();
        let mut expected = vec![0x92, 0xc4, 17];
        expected.extend_from_slice(br#"["list","string"]"#);
        expected.extend_from_slice(&[0x91, 0xa1, b'a']);
        assert_eq!(bytes, expected);
        assert_eq!(Value::from_msgpack(&bytes, &Type::Dynamic).unwrap(), value);
    }

    #[test]
    fn errors_name_the_path() {
        let ty = Type::object([("ports", Type::list(Type::Number))]);
        let value = Value::object([("ports", Value::List(vec!["x".into()]))]);
        let err = value.to_msgpack(&ty).unwrap_err();
        assert_eq!(err.to_string(), "ports[0]: a number is required");
        let extra = Value::object([("nope", Value::Null)]);
        assert!(extra.to_msgpack(&ty).is_err());
    }

    #[test]
    fn primitives_convert_like_cty() {
        let n = Value::from("12").to_msgpack(&Type::Number).unwrap();
        assert_eq!(n, [0x0c]);
        let s = Value::from(12).to_msgpack(&Type::String).unwrap();
        assert_eq!(s, [0xa2, b'1', b'2']);
    }
}
