//! Validation problems: what is wrong, in which object, at which attribute.

use crate::Kind;
use std::fmt;

/// One step of an attribute path: `rule[1].condition` is `[Attr(rule), Index(1), Attr(condition)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An attribute or block.
    Attr(String),
    /// The position of a repeated block or list element.
    Index(usize),
    /// A map key.
    Key(String),
}

/// Where in an object a problem is: attributes, block indexes and keys, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttrPath(pub Vec<Step>);

impl AttrPath {
    /// The path to top-level attribute `name`.
    pub fn attr(name: &str) -> AttrPath {
        AttrPath(vec![Step::Attr(name.to_string())])
    }
    /// The path to the `index`th block `name`.
    pub fn block(name: &str, index: usize) -> AttrPath {
        AttrPath(vec![Step::Attr(name.to_string()), Step::Index(index)])
    }
    /// This path, then attribute `name`.
    pub fn then(&self, name: &str) -> AttrPath {
        let mut p = self.clone();
        p.0.push(Step::Attr(name.to_string()));
        p
    }
    /// This path, then element `i`.
    pub fn index(&self, i: usize) -> AttrPath {
        let mut p = self.clone();
        p.0.push(Step::Index(i));
        p
    }
    /// This path, then map key `k`.
    pub fn key(&self, k: &str) -> AttrPath {
        let mut p = self.clone();
        p.0.push(Step::Key(k.to_string()));
        p
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Attr(a) if i == 0 => write!(f, "{a}")?,
                Step::Attr(a) => write!(f, ".{a}")?,
                Step::Index(n) => write!(f, "[{n}]")?,
                Step::Key(k) => write!(f, "[\"{k}\"]")?,
            }
        }
        Ok(())
    }
}

/// What kind of problem a [`Problem`] is, for callers that treat some differently (the
/// provider waits for a reference to an object another resource is still writing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemCode {
    /// The object is not valid on its own or beside the others (a bad value, a duplicate).
    Invalid,
    /// The object names another object the model does not hold: an unknown profile,
    /// element or blueprint, or a blueprint version that is not declared.
    UnknownReference,
    /// The object is valid but costly to evaluate (a warning, never a refusal).
    Cost,
}

/// A problem with one declared object, found at load or validation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem this is; the message says it in words.
    pub code: ProblemCode,
    /// The kind of the object with the problem.
    pub kind: Kind,
    /// Position of the object among the declared objects of its kind.
    pub index: usize,
    /// The object's name as declared (may be empty when the name itself is the problem).
    pub name: String,
    /// The attribute the problem is at.
    pub path: AttrPath,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind.resource_type(), self.name)?;
        if !self.path.0.is_empty() {
            write!(f, ", attribute `{}`", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}
