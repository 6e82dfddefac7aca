//! Plan values as CEL sees them. `after`/`before` are parsed from the plan's raw JSON
//! straight into CEL values (no intermediate JSON tree), only for changes a condition
//! reads them for. Unknown-at-plan-time masks are parsed into a small tree used to
//! tell whether a condition touches an unknown value.

use cel::common::types::{CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull};
use cel::common::types::{CelString, CelUInt};
use cel::common::value::Val;
use iom_model::PathStep;
use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;

/// A CEL value that may borrow strings from the plan text it was parsed from.
pub type CelVal<'p> = Box<dyn Val + 'p>;

/// Parses a raw JSON value into a CEL value; `None` (JSON absent) is CEL null. Strings
/// without escapes are borrowed from the plan, not copied.
pub fn to_cel<'p>(raw: Option<&'p RawValue>) -> Result<CelVal<'p>, serde_json::Error> {
    match raw {
        None => Ok(Box::new(CelNull)),
        Some(r) => {
            let mut d = serde_json::Deserializer::from_str(r.get());
            CelSeed.deserialize(&mut d)
        }
    }
}

struct CelSeed;

impl<'de> DeserializeSeed<'de> for CelSeed {
    type Value = CelVal<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<CelVal<'de>, D::Error> {
        d.deserialize_any(CelVisitor)
    }
}

struct CelVisitor;

impl<'de> Visitor<'de> for CelVisitor {
    type Value = CelVal<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Box::new(CelBool::from(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Box::new(CelInt::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Box::new(CelInt::from(i)),
            Err(_) => Box::new(CelUInt::from(v)),
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Box::new(CelDouble::from(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Box::new(CelString::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Box::new(CelString::from(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Box::new(CelString::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Box::new(CelNull))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Box::new(CelNull))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(CelSeed)? {
            items.push(v);
        }
        Ok(Box::new(CelList::from(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: HashMap<CelMapKey<'de>, CelVal<'de>> =
            HashMap::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(k) = map.next_key_seed(KeySeed)? {
            let v = map.next_value_seed(CelSeed)?;
            out.insert(k, v);
        }
        Ok(Box::new(CelMap::from(out)))
    }
}

/// Object keys, borrowed from the plan when they need no unescaping.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = CelMapKey<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<CelMapKey<'de>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = CelMapKey<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(CelMapKey::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(CelMapKey::from(v.to_string()))
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
    /// A list, each element's mask in its place.
    List(Vec<Unknown>),
}

impl Unknown {
    /// The mask as a tree. Callers check its shape first ([`check_mask`]); a mask that
    /// still cannot be read is unknown everywhere, never known.
    pub fn parse(raw: Option<&RawValue>) -> Unknown {
        match raw.map(|r| serde_json::from_str::<serde_json::Value>(r.get())) {
            None => Unknown::Known,
            Some(Ok(v)) => Unknown::from_json(&v),
            Some(Err(_)) => Unknown::Here,
        }
    }

    fn from_json(v: &serde_json::Value) -> Unknown {
        match v {
            serde_json::Value::Bool(false) => Unknown::Known,
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
            // `true`, or a leaf no mask has (a string, a number, null): unknown.
            _ => Unknown::Here,
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

/// How deep a mask may nest: far deeper than any provider schema, shallow enough that a
/// crafted mask cannot exhaust the stack of whatever reads it.
pub const MAX_MASK_DEPTH: usize = 100;

/// Checks the shape of an unknown or sensitive mask (`after_unknown`, `before_sensitive`,
/// `after_sensitive`): `true`, `false`, or an object or list whose members are masks, at
/// most [`MAX_MASK_DEPTH`] deep. Absent is fine (older plans omit masks). Anything else
/// would otherwise read as "nothing unknown" or "nothing sensitive", so it is refused;
/// the message names no key or value, only what is wrong.
pub fn check_mask(raw: Option<&RawValue>) -> Result<(), String> {
    let Some(raw) = raw else { return Ok(()) };
    // A resource's value is an object, so its mask is one too (or a bare true or false).
    if raw.get().starts_with('[') {
        return Err("it is a list where the resource's object is due".into());
    }
    let mut d = serde_json::Deserializer::from_str(raw.get());
    MaskShape { depth: 0 }
        .deserialize(&mut d)
        .map_err(|e| match e.classify() {
            serde_json::error::Category::Data => strip_position(&e.to_string()),
            _ => format!("it nests deeper than {MAX_MASK_DEPTH} levels"),
        })
}

/// serde_json appends " at line L column C" (of the mask, not of the plan).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

struct MaskShape {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for MaskShape {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl MaskShape {
    fn nested<E: de::Error>(&self) -> Result<MaskShape, E> {
        if self.depth >= MAX_MASK_DEPTH {
            return Err(E::custom(format!(
                "it nests deeper than {MAX_MASK_DEPTH} levels"
            )));
        }
        Ok(MaskShape {
            depth: self.depth + 1,
        })
    }

    fn wrong<E: de::Error>(found: &str) -> Result<(), E> {
        Err(E::custom(format!(
            "it must be true, false, or an object or list of such masks; found {found}"
        )))
    }
}

impl<'de> Visitor<'de> for MaskShape {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true, false, or an object or list of such masks")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Self::wrong("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Self::wrong("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Self::wrong("a number")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Self::wrong("a string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Self::wrong("null")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.nested()?)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<de::IgnoredAny>()?.is_some() {
            map.next_value_seed(self.nested()?)?;
        }
        Ok(())
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
        use cel::Context;
        let r = raw(r#"{"a":[1,2.5,"x\u0041",null,true],"n":18446744073709551615,"k\u0042":1}"#);
        let mut ctx = Context::default();
        ctx.add_variable_as_val("v", to_cel(Some(&r)).unwrap());
        let eval = |src: &str| cel::Program::compile(src).unwrap().execute(&ctx).unwrap();
        assert_eq!(
            eval("v.a[0] == 1 && v.a[1] == 2.5 && v.a[3] == null && v.a[4]"),
            true.into()
        );
        assert_eq!(
            eval("v.a[2] == 'x\\u0041'"),
            true.into(),
            "escapes are decoded"
        );
        assert_eq!(eval("v.n == 18446744073709551615u"), true.into());
        assert_eq!(eval("has(v.kB) && size(v) == 3"), true.into());
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
        // What no mask holds reads as unknown, never as known.
        assert!(Unknown::parse(Some(&raw(r#""x""#))).touches(&[k("a")]));
        assert!(Unknown::parse(Some(&raw(r#"{"a":"yes"}"#))).touches(&[k("a")]));
    }

    #[test]
    fn mask_shapes() {
        for good in ["true", "false", "{}", r#"{"a":[false,{"b":true}],"c":{}}"#] {
            assert_eq!(check_mask(Some(&raw(good))), Ok(()), "{good}");
        }
        assert_eq!(check_mask(None), Ok(()));
        for (bad, says) in [
            (r#""all""#, "found a string"),
            ("1", "found a number"),
            ("null", "found null"),
            (r#"{"a":{"b":"x"}}"#, "found a string"),
            (r#"{"a":[true,null]}"#, "found null"),
        ] {
            let e = check_mask(Some(&raw(bad))).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let e = check_mask(Some(&raw("[true]"))).unwrap_err();
        assert!(e.contains("list where the resource's object is due"), "{e}");
        let nest = |n: usize| format!("{}true{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        let e = check_mask(Some(&raw(&nest(101)))).unwrap_err();
        assert!(e.contains("deeper than 100"), "{e}");
        assert_eq!(check_mask(Some(&raw(&nest(100)))), Ok(()));
    }
}
