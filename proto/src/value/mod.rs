//! cty values as Rust data, and their two wire encodings.
//!
//! A [`Value`] does not carry its type: Terraform always knows the type from
//! the schema, so the codecs take a [`Type`] alongside (as cty's own codecs do).

mod json;
mod msgpack;
mod number;
mod types;

use std::collections::BTreeMap;
use std::fmt;

use crate::diagnostics::AttributePath;

pub use number::Number;
pub use types::Type;

/// A value of Terraform's type system (cty).
///
/// `Null` and `Unknown` can stand for a value of any type. Unknown values
/// arrive during planning for anything not yet known (for example another
/// resource's computed `id`); refinements Terraform may attach to them (prefix,
/// bounds, not-null) are dropped on decoding, which only makes the value less
/// specific and is always accepted back.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// Null.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A bool.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A set.
    Set(Vec<Value>),
    /// A map.
    Map(BTreeMap<String, Value>),
    /// An object.
    Object(BTreeMap<String, Value>),
    /// A tuple.
    Tuple(Vec<Value>),
}

impl Value {
    /// An object value from `(attribute, value)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// False only for an unknown value itself; see [`Value::is_wholly_known`].
    pub fn is_known(&self) -> bool {
        !matches!(self, Value::Unknown)
    }

    /// True when neither the value nor anything nested in it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().all(Value::is_wholly_known)
            }
            _ => true,
        }
    }

    /// An attribute of an object (or an entry of a map); `None` otherwise.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(attrs) | Value::Map(attrs) => attrs.get(name),
            _ => None,
        }
    }

    /// Mutable access to an attribute of an object or entry of a map.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(attrs) | Value::Map(attrs) => attrs.get_mut(name),
            _ => None,
        }
    }

    /// Sets an attribute; a null value first becomes an empty object.
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        if self.is_null() {
            *self = Value::Object(BTreeMap::new());
        }
        if let Value::Object(attrs) | Value::Map(attrs) = self {
            attrs.insert(name.into(), value);
        }
    }

    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if the value is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if the value is one.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements of a list, set or tuple.
    pub fn as_slice(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a map or the attributes of an object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(entries) | Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value at `path`, when every step exists.
    pub fn at(&self, path: &AttributePath) -> Option<&Value> {
        use crate::diagnostics::PathStep;
        path.steps().iter().try_fold(self, |v, step| match step {
            PathStep::Attribute(name) | PathStep::Key(name) => v.get(name),
            PathStep::Index(i) => v.as_slice()?.get(usize::try_from(*i).ok()?),
        })
    }

    /// Encodes as cty msgpack, the encoding Terraform uses on the wire.
    pub fn to_msgpack(&self, ty: &Type) -> Result<Vec<u8>, ValueError> {
        msgpack::encode(self, ty)
    }

    /// Decodes cty msgpack of type `ty`.
    pub fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        msgpack::decode(bytes, ty)
    }

    /// Decodes cty JSON of type `ty`, as found in stored state. Object
    /// attributes that the type does not have are dropped (state written under
    /// an older schema may still carry them) and missing ones become null.
    pub fn from_json(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        json::decode(bytes, ty)
    }

    /// Encodes as cty JSON. Unknown values have no JSON form and are an error.
    pub fn to_json(&self, ty: &Type) -> Result<Vec<u8>, ValueError> {
        json::encode(self, ty)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(Number::from(n))
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(Number::from(n))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A value that does not fit its type or encoding, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueError {
    /// Where in the value.
    pub path: AttributePath,
    /// What is wrong.
    pub message: String,
}

impl ValueError {
    pub(crate) fn new(path: &AttributePath, message: impl Into<String>) -> Self {
        ValueError {
            path: path.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValueError {}

/// The type a value would have if nothing else were known: used only where
/// the schema says `dynamic` and the encoding must name a concrete type.
pub(crate) fn implied_type(value: &Value) -> Type {
    match value {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::List(Box::new(common_element_type(items))),
        Value::Set(items) => Type::Set(Box::new(common_element_type(items))),
        Value::Map(entries) => Type::Map(Box::new(common_element_type(entries.values()))),
        Value::Object(attrs) => Type::Object(
            attrs
                .iter()
                .map(|(k, v)| (k.clone(), implied_type(v)))
                .collect(),
        ),
        Value::Tuple(items) => Type::Tuple(items.iter().map(implied_type).collect()),
    }
}

fn common_element_type<'a>(items: impl IntoIterator<Item = &'a Value>) -> Type {
    items
        .into_iter()
        .map(implied_type)
        .find(|t| *t != Type::Dynamic)
        .unwrap_or(Type::Dynamic)
}
