//! Configuration expressions as the plan records them: every `references` list found
//! anywhere inside (attributes, nested blocks, dynamic blocks), and the top-level
//! `constant_value` when there is one. Collected by a serde visitor while parsing,
//! so no JSON tree is built for configuration bodies.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A configuration expression reduced to what judging needs: its references and constant.
#[derive(Debug, Default, Clone)]
pub struct Expr {
    /// References such as `aws_instance.web`, `var.x`, `module.m.out`, in order found.
    pub references: Vec<String>,
    /// The literal value, when the expression is a constant.
    pub constant: Option<serde_json::Value>,
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Expr, D::Error> {
        let mut expr = Expr::default();
        d.deserialize_any(Collect {
            out: &mut expr,
            depth: 0,
        })?;
        Ok(expr)
    }
}

struct Collect<'o> {
    out: &'o mut Expr,
    depth: usize,
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a configuration expression")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "constant_value" if self.depth == 0 => self.out.constant = Some(map.next_value()?),
                "constant_value" => {
                    map.next_value::<IgnoredAny>()?;
                }
                // A provider attribute may itself be named `references`, so accept both shapes.
                "references" => map.next_value_seed(References {
                    out: self.out,
                    depth: self.depth + 1,
                })?,
                _ => map.next_value_seed(Collect {
                    out: self.out,
                    depth: self.depth + 1,
                })?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Collect {
                out: self.out,
                depth: self.depth + 1,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

impl<'de> de::DeserializeSeed<'de> for Collect<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// The value under a `references` key: normally a list of strings.
struct References<'o> {
    out: &'o mut Expr,
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for References<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for References<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of references")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<RefItem>()? {
            if let RefItem::Text(s) = item {
                self.out.references.push(s);
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        Collect {
            out: self.out,
            depth: self.depth,
        }
        .visit_map(map)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RefItem {
    Text(String),
    #[allow(dead_code)]
    Other(IgnoredAny),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_nested_references_and_constants() {
        let e: Expr = serde_json::from_str(
            r#"{"ami":{"constant_value":"x"},"tags":{"references":["var.t","local.x"]},
                "ebs":[{"size":{"references":["aws_x.y.size","aws_x.y"]}}],
                "references":{"references":["data.z.w"]}}"#,
        )
        .unwrap();
        assert_eq!(
            e.references,
            vec!["var.t", "local.x", "aws_x.y.size", "aws_x.y", "data.z.w"]
        );
        assert!(e.constant.is_none());
        let c: Expr = serde_json::from_str(r#"{"constant_value":{"a":[1,2]}}"#).unwrap();
        assert_eq!(c.constant.unwrap()["a"][1], 2);
    }
}
