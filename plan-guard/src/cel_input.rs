//! Plan values as CEL sees them. `after`/`before` are parsed from the plan's raw JSON
//! straight into CEL values (no intermediate JSON tree), only for changes a condition
//! reads them for. Unknown-at-plan-time masks are parsed into a small tree used to
//! tell whether a condition touches an unknown value.

use cel::Value;
use cel::objects::{Key, Map};
use iom_model::PathStep;
use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Parses a raw JSON value into a CEL value; `None` (JSON absent) is CEL null.
pub fn to_cel(raw: Option<&RawValue>) -> Result<Value, serde_json::Error> {
    match raw {
        None => Ok(Value::Null),
        Some(r) => {
            let mut d = serde_json::Deserializer::from_str(r.get());
            CelSeed.deserialize(&mut d)
        }
    }
}

struct CelSeed;

impl<'de> DeserializeSeed<'de> for CelSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(CelVisitor)
    }
}

struct CelVisitor;

impl<'de> Visitor<'de> for CelVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map(Value::Int).unwrap_or(Value::UInt(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(Arc::new(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(Arc::new(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(CelSeed)? {
            items.push(v);
        }
        Ok(Value::List(Arc::new(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out: HashMap<Key, Value> = HashMap::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(CelSeed)?;
            out.insert(Key::String(Arc::new(k)), v);
        }
        Ok(Value::Map(Map { map: Arc::new(out) }))
    }
}

/// Where a value is unknown until apply, from `after_unknown`.
#[derive(Debug, Clone, PartialEq)]
pub enum Unknown {
    /// Known here and everywhere below.
    Known,
    /// Unknown here (and so everywhere below).
    Here,
    /// Known here, with something unknown below.
    Object(HashMap<String, Unknown>),
    List(Vec<Unknown>),
}

impl Unknown {
    pub fn parse(raw: Option<&RawValue>) -> Unknown {
        raw.and_then(|r| serde_json::from_str::<serde_json::Value>(r.get()).ok())
            .map(|v| Unknown::from_json(&v))
            .unwrap_or(Unknown::Known)
    }

    fn from_json(v: &serde_json::Value) -> Unknown {
        match v {
            serde_json::Value::Bool(true) => Unknown::Here,
            serde_json::Value::Object(m) => {
                let inner: HashMap<String, Unknown> = m
                    .iter()
                    .map(|(k, v)| (k.clone(), Unknown::from_json(v)))
                    .filter(|(_, u)| *u != Unknown::Known)
                    .collect();
                if inner.is_empty() {
                    Unknown::Known
                } else {
                    Unknown::Object(inner)
                }
            }
            serde_json::Value::Array(a) => {
                let items: Vec<Unknown> = a.iter().map(Unknown::from_json).collect();
                if items.iter().all(|u| *u == Unknown::Known) {
                    Unknown::Known
                } else {
                    Unknown::List(items)
                }
            }
            _ => Unknown::Known,
        }
    }

    /// Whether reading `path` (and everything under it) meets an unknown value.
    pub fn touches(&self, path: &[PathStep]) -> bool {
        let mut node = self;
        for step in path {
            node = match (node, step) {
                (Unknown::Known, _) => return false,
                (Unknown::Here, _) => return true,
                (Unknown::Object(m), PathStep::Key(k)) => match m.get(k) {
                    Some(n) => n,
                    None => return false,
                },
                (Unknown::List(items), PathStep::Index(i)) => {
                    match usize::try_from(*i).ok().and_then(|i| items.get(i)) {
                        Some(n) => n,
                        None => return false,
                    }
                }
                // A key into a list or an index into an object: the shape is not what the
                // condition expects, so its result depends on the whole value.
                _ => return true,
            };
        }
        *node != Unknown::Known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn json_becomes_cel() {
        let r = raw(r#"{"a":[1,2.5,"x",null,true],"n":18446744073709551615}"#);
        let v = to_cel(Some(&r)).unwrap();
        let Value::Map(m) = v else { panic!("map") };
        let Value::List(a) = &m.map[&Key::String(Arc::new("a".into()))] else {
            panic!("list")
        };
        assert_eq!(a[0], Value::Int(1));
        assert_eq!(a[1], Value::Float(2.5));
        assert_eq!(a[3], Value::Null);
        assert_eq!(
            m.map[&Key::String(Arc::new("n".into()))],
            Value::UInt(u64::MAX)
        );
    }

    #[test]
    fn unknown_paths() {
        let r = raw(r#"{"id":true,"tags":{"env":false,"owner":true},"list":[false,{"x":true}]}"#);
        let u = Unknown::parse(Some(&r));
        let k = |s: &str| PathStep::Key(s.into());
        assert!(u.touches(&[k("id")]));
        assert!(u.touches(&[k("tags")]));
        assert!(!u.touches(&[k("tags"), k("env")]));
        assert!(u.touches(&[k("tags"), k("owner")]));
        assert!(!u.touches(&[k("region")]));
        assert!(!u.touches(&[k("list"), PathStep::Index(0)]));
        assert!(u.touches(&[k("list"), PathStep::Index(1)]));
        assert!(u.touches(&[]));
        assert!(!Unknown::parse(Some(&raw("{}"))).touches(&[]));
        assert!(Unknown::parse(Some(&raw("true"))).touches(&[k("a")]));
    }
}
