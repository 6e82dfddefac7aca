//! Terraform state as `terraform show -json` prints it, typed once for every reader: a
//! plan's `prior_state` (the graph's orphans and deposed objects), an observation of
//! what a workspace has built (`living`), and the post-verify `state` probes after a
//! governed apply (`evidence::verify`). Attribute values stay borrowed raw JSON: the
//! graph never reads them, observations only digest them, probes hand them to CEL.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::Mode;

/// A state document (or a plan's `prior_state`).
#[derive(Debug, Default, Deserialize)]
pub struct State<'a> {
    /// The Terraform that wrote it.
    #[serde(default)]
    pub terraform_version: Option<String>,
    /// Absent when nothing was ever applied (`{"format_version":"1.0"}`).
    #[serde(default, borrow)]
    pub values: Option<StateValues<'a>>,
}

impl<'a> State<'a> {
    /// Parses `terraform show -json` output; the error is serde's, with line and column.
    pub fn read(text: &'a str) -> Result<State<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A state's `values`: its root module and root outputs.
#[derive(Debug, Default, Deserialize)]
pub struct StateValues<'a> {
    /// Absent in a document that holds no state; present (maybe empty) in one that does.
    /// `null` is refused, as a module that is not an object.
    #[serde(default, borrow, deserialize_with = "present")]
    pub root_module: Option<StateModule<'a>>,
    /// Root outputs by name; only their names are read.
    #[serde(default)]
    pub outputs: BTreeMap<String, IgnoredAny>,
}

impl<'a> StateValues<'a> {
    /// Parses a state's `values` object on its own (a probe keeps the raw object too).
    pub fn read(text: &'a str) -> Result<StateValues<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Every resource of every module, depth first.
    pub fn resources(&self) -> Vec<&StateResource<'a>> {
        let mut out = Vec::new();
        if let Some(root) = &self.root_module {
            root.walk(&mut out);
        }
        out
    }
}

/// A field that, when present, must hold a module.
fn present<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<StateModule<'a>>, D::Error> {
    StateModule::deserialize(d).map(Some)
}

/// One module of a state, with its child modules.
#[derive(Debug, Default, Deserialize)]
pub struct StateModule<'a> {
    /// `module.a["k"]`; absent for the root module.
    #[serde(default)]
    pub address: Option<String>,
    /// Its resources.
    #[serde(default, borrow)]
    pub resources: Vec<StateResource<'a>>,
    /// Its child modules.
    #[serde(default, borrow)]
    pub child_modules: Vec<StateModule<'a>>,
}

impl<'a> StateModule<'a> {
    /// Every resource of this module and its descendants, depth first.
    pub fn walk<'s>(&'s self, out: &mut Vec<&'s StateResource<'a>>) {
        out.extend(self.resources.iter());
        for child in &self.child_modules {
            child.walk(out);
        }
    }
}

/// One resource instance (or deposed object) in a state.
#[derive(Debug, Deserialize)]
pub struct StateResource<'a> {
    /// The instance address.
    pub address: String,
    /// Managed resource or data source.
    #[serde(default)]
    pub mode: Mode,
    /// The resource type.
    #[serde(rename = "type", default)]
    pub ty: String,
    /// The deposed object's key, for a deposed object.
    #[serde(default)]
    pub deposed_key: Option<String>,
    /// Its dependencies as the state records them (transitive); absent in some writers'
    /// output, which observations keep as they found it.
    #[serde(default)]
    pub depends_on: Option<Vec<String>>,
    /// Its attributes, unparsed.
    #[serde(default, borrow)]
    pub values: Option<&'a RawValue>,
}

impl StateResource<'_> {
    /// Its dependencies (none when the state records none).
    pub fn dependencies(&self) -> &[String] {
        self.depends_on.as_deref().unwrap_or_default()
    }
}
