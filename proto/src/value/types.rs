//! cty types and their JSON form, which is what a schema attribute's `type`
//! bytes contain: `"string"`, `["list","string"]`, `["object",{"a":"bool"}]`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

/// A cty type, as Terraform's type system spells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// `bool`.
    Bool,
    /// `number`.
    Number,
    /// `string`.
    String,
    /// "Any type": the value carries its own type on the wire.
    Dynamic,
    /// A list of one element type.
    List(Box<Type>),
    /// A set of one element type.
    Set(Box<Type>),
    /// A map of one element type.
    Map(Box<Type>),
    /// Attribute types by name. cty's optional-attribute markers are accepted
    /// when parsing but not kept: they do not change how values are encoded.
    Object(BTreeMap<String, Type>),
    /// Element types by position.
    Tuple(Vec<Type>),
}

impl Type {
    /// A list of `element`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// A set of `element`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// A map of `element`.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// An object of `(attribute, type)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// The JSON form as a `serde_json` value.
    pub fn to_json_value(&self) -> Json {
        match self {
            Type::Bool => Json::from("bool"),
            Type::Number => Json::from("number"),
            Type::String => Json::from("string"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(e) => Json::Array(vec!["list".into(), e.to_json_value()]),
            Type::Set(e) => Json::Array(vec!["set".into(), e.to_json_value()]),
            Type::Map(e) => Json::Array(vec!["map".into(), e.to_json_value()]),
            Type::Object(attrs) => {
                let attrs = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json_value()))
                    .collect();
                Json::Array(vec!["object".into(), Json::Object(attrs)])
            }
            Type::Tuple(elems) => Json::Array(vec![
                "tuple".into(),
                Json::Array(elems.iter().map(Type::to_json_value).collect()),
            ]),
        }
    }

    /// The JSON form as bytes, as a schema attribute carries it.
    pub fn to_json(&self) -> Vec<u8> {
        self.to_json_value().to_string().into_bytes()
    }

    /// Parses a type from its JSON form (`"string"`, `["list","number"]`, ...).
    pub fn from_json(bytes: &[u8]) -> Result<Type, String> {
        let json: Json =
            serde_json::from_slice(bytes).map_err(|e| format!("invalid type JSON: {e}"))?;
        Type::from_json_value(&json)
    }

    /// Reads a type from its parsed JSON form.
    pub fn from_json_value(json: &Json) -> Result<Type, String> {
        let bad = || format!("not a cty type: {json}");
        match json {
            Json::String(name) => match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            Json::Array(parts) => {
                let (kind, rest) = parts.split_first().ok_or_else(bad)?;
                match (kind.as_str().ok_or_else(bad)?, rest) {
                    ("list", [e]) => Ok(Type::list(Type::from_json_value(e)?)),
                    ("set", [e]) => Ok(Type::set(Type::from_json_value(e)?)),
                    ("map", [e]) => Ok(Type::map(Type::from_json_value(e)?)),
                    ("object", [Json::Object(attrs), optional @ ..]) if optional.len() <= 1 => {
                        let attrs = attrs
                            .iter()
                            .map(|(k, t)| Ok((k.clone(), Type::from_json_value(t)?)))
                            .collect::<Result<_, String>>()?;
                        Ok(Type::Object(attrs))
                    }
                    ("tuple", [Json::Array(elems)]) => Ok(Type::Tuple(
                        elems
                            .iter()
                            .map(Type::from_json_value)
                            .collect::<Result<_, _>>()?,
                    )),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("any type"),
            Type::List(e) => write!(f, "list of {e}"),
            Type::Set(e) => write!(f, "set of {e}"),
            Type::Map(e) => write!(f, "map of {e}"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str, ty: Type) {
        assert_eq!(Type::from_json(text.as_bytes()).unwrap(), ty, "{text}");
        assert_eq!(String::from_utf8(ty.to_json()).unwrap(), text);
    }

    #[test]
    fn primitives() {
        round_trip(r#""string""#, Type::String);
        round_trip(r#""number""#, Type::Number);
        round_trip(r#""bool""#, Type::Bool);
        round_trip(r#""dynamic""#, Type::Dynamic);
    }

    #[test]
    fn collections_and_structures() {
        round_trip(r#"["list","string"]"#, Type::list(Type::String));
        round_trip(
            r#"["set",["map","number"]]"#,
            Type::set(Type::map(Type::Number)),
        );
        round_trip(
            r#"["object",{"a":"bool","b":["list","string"]}]"#,
            Type::object([("a", Type::Bool), ("b", Type::list(Type::String))]),
        );
        round_trip(
            r#"["tuple",["string","number"]]"#,
            Type::Tuple(vec![Type::String, Type::Number]),
        );
        round_trip(r#"["object",{}]"#, Type::object::<String>([]));
    }

    #[test]
    fn optional_attribute_markers_are_accepted() {
        let ty = Type::from_json(br#"["object",{"a":"string"},["a"]]"#).unwrap();
        assert_eq!(ty, Type::object([("a", Type::String)]));
    }

    #[test]
    fn rejects_malformed_types() {
        for bad in [
            r#""text""#,
            r#"["list"]"#,
            r#"["list","string","x"]"#,
            r#"["object",[]]"#,
            r#"42"#,
            r#"[]"#,
        ] {
            assert!(Type::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
