//! Diagnostics: how a provider tells Terraform about problems. Terraform shows
//! them to the user, pointing at the configuration when a diagnostic carries
//! an attribute path; any error diagnostic fails the operation.

use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Fails the operation.
    Error,
    /// Shown; the operation goes on.
    Warning,
}

/// One problem reported to Terraform.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Whether it fails the operation.
    pub severity: Severity,
    /// One line, shown as the headline.
    pub summary: String,
    /// Longer explanation; may be empty.
    pub detail: String,
    /// The attribute the problem is about, if any.
    pub attribute: Option<AttributePath>,
}

impl Diagnostic {
    /// An error with no attribute.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// A warning with no attribute.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }

    /// The same diagnostic, pointed at `path`.
    pub fn at(mut self, path: AttributePath) -> Self {
        self.attribute = Some(path);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}", self.summary)?;
        if let Some(path) = &self.attribute {
            write!(f, " (at {path})")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// The diagnostics of one operation, in the order they were raised.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Self {
        Diagnostics::default()
    }

    /// Adds `diagnostic`.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds an error with no attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    /// Adds an error about the attribute at `path`.
    pub fn error_at(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).at(path));
    }

    /// Adds a warning with no attribute.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Each diagnostic, in the order raised.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(v: Vec<Diagnostic>) -> Self {
        Diagnostics(v)
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<I: IntoIterator<Item = Diagnostic>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Self {
        Diagnostics(iter.into_iter().collect())
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One step into a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object attribute or a nested block, by name.
    Attribute(String),
    /// A map element, by key.
    Key(String),
    /// A list or tuple element, by position.
    Index(i64),
}

/// A path into a value, outermost step first; the empty path is the whole value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AttributePath(Vec<PathStep>);

impl AttributePath {
    /// The empty path: the whole value.
    pub fn root() -> Self {
        AttributePath::default()
    }

    /// The path of a top-level attribute.
    pub fn new(attribute: impl Into<String>) -> Self {
        AttributePath::root().attr(attribute)
    }

    /// This path, then attribute `name`.
    pub fn attr(&self, name: impl Into<String>) -> Self {
        self.with(PathStep::Attribute(name.into()))
    }

    /// This path, then map key `key`.
    pub fn key(&self, key: impl Into<String>) -> Self {
        self.with(PathStep::Key(key.into()))
    }

    /// This path, then list or tuple element `index`.
    pub fn index(&self, index: i64) -> Self {
        self.with(PathStep::Index(index))
    }

    /// The steps, outermost first.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// Whether this is the whole value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn with(&self, step: PathStep) -> Self {
        let mut steps = self.0.clone();
        steps.push(step);
        AttributePath(steps)
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> Self {
        AttributePath(steps)
    }
}

/// Written the way Terraform configuration would address it: `a.b[0]["k"]`.
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_configuration() {
        let path = AttributePath::new("rule").index(0).attr("tags").key("env");
        assert_eq!(path.to_string(), r#"rule[0].tags["env"]"#);
    }

    #[test]
    fn only_errors_count_as_errors() {
        let mut diags = Diagnostics::new();
        diags.warning("careful", "");
        assert!(!diags.has_errors());
        diags.error_at(AttributePath::new("name"), "bad name", "must not be empty");
        assert!(diags.has_errors());
        assert_eq!(
            diags.iter().last().unwrap().to_string(),
            "error: bad name (at name): must not be empty"
        );
    }
}
