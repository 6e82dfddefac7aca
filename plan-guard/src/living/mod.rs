//! The living model (docs/living-model.md): `observe` records what a workspace has built,
//! `reconcile` compares intended (the model), built (the last observation) and actual (a
//! refresh-only plan's `resource_drift`), and unreconciled drift on governed resources
//! turns the next checks of the workspace into the profiles' `on_drift` outcome.

// Reading a serde_json::Value by key never panics (a missing key reads as null): the
// observations and configuration read by key here may lack any key.
#![allow(clippy::indexing_slicing)]

pub mod insights;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Result, anyhow};
use iom_model::{CompiledIntent, Model};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::graph::BlastRadius;
use crate::plan::{Plan, State, StateModule, StateValues};

/// Where an observed document comes from: a state (`terraform show -json` of the state,
/// or a state file's `show -json` rendering) or a plan, whose `prior_state` is what was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObservedFrom {
    /// A `terraform show -json` of the state.
    State,
    /// A plan: its `prior_state` is what was built.
    Plan,
}

/// The body of an observation from a `terraform show -json` document (a state, or for
/// [`ObservedFrom::Plan`] a plan's `prior_state`). Attribute values are only digested, so
/// a sensitive value is never stored.
///
/// A document that holds no state is refused, naming `source`: `{}`, the
/// `{"format_version":"1.0"}` Terraform prints in a directory with no state, or a plan
/// given as a state. Recording one would replace what the workspace has built with
/// nothing, and a new observation settles the workspace's drift. An empty but real state
/// (`values.root_module` present, no resources) is a legitimate observation.
///
/// `location` is the workspace's directory when known (observe run there): remote-state
/// reads with a local `path` are resolved against it, and other workspaces find this one
/// by its state file there.
///
/// `configuration` is the workspace's configuration (a plan's `configuration`) when the
/// caller has it; a plan observed with [`ObservedFrom::Plan`] brings its own. With it,
/// each remote-state read records which outputs each of its readers reads.
///
/// `digest_key` keys the attribute digests ([`digest_key`]).
pub fn observation_body(
    doc: &str,
    source: &str,
    from: ObservedFrom,
    location: Option<&Path>,
    configuration: Option<&Value>,
    digest_key: &[u8],
) -> Result<Value> {
    let doc = serde_json::from_str::<Document<'_>>(doc)
        .map_err(|e| anyhow!("{source}: not a `terraform show -json` document: {e}"))?;
    let is_plan =
        doc.prior_state.is_some() || doc.planned_values.is_some() || doc.resource_changes.is_some();
    let own_configuration = match (configuration, doc.configuration) {
        (None, Some(raw)) => Some(
            serde_json::from_str::<Value>(raw.get())
                .map_err(|e| anyhow!("{source}: its `configuration` does not read: {e}"))?,
        ),
        _ => None,
    };
    let configuration = configuration.or(own_configuration.as_ref());
    let state = match from {
        ObservedFrom::State if is_plan => {
            return Err(anyhow!(
                "{source}: this is a plan, not a state: observe it with --from-plan, or give the state (`terraform show -json` with no plan file)"
            ));
        }
        ObservedFrom::State => State {
            terraform_version: doc.terraform_version,
            values: doc.values,
        },
        ObservedFrom::Plan if !is_plan => {
            return Err(anyhow!(
                "{source}: not a plan (it has none of `prior_state`, `planned_values`, `resource_changes`)"
            ));
        }
        ObservedFrom::Plan => match doc.prior_state {
            Some(prior) => State::read(prior.get())
                .map_err(|e| anyhow!("{source}: its `prior_state` is not a state: {e}"))?,
            None => {
                return Err(anyhow!(
                    "{source}: the plan has no `prior_state`: nothing is built yet, so there is nothing to observe"
                ));
            }
        },
    };
    let values = state.values.as_ref();
    let Some(root) = values.and_then(|v| v.root_module.as_ref()) else {
        return Err(anyhow!(
            "{source}: holds no state (no `values.root_module`): is the workspace initialised and applied, and is this its `terraform show -json`? Nothing was recorded"
        ));
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, digest_key);
    let mut resources = Vec::new();
    observe_module(root, &key, &mut resources)?;
    let reads = remote_state_reads(root, &resources, location, configuration);
    let observation = Observation {
        terraform_version: state.terraform_version.clone(),
        resources,
        outputs: values
            .map(|v| v.outputs.keys().cloned().collect())
            .unwrap_or_default(),
        state_file: location.map(|l| l.join("terraform.tfstate").display().to_string()),
        reads,
    };
    Ok(serde_json::to_value(observation)?)
}

/// The parts of a `terraform show -json` document an observation reads: a state's own
/// fields, or a plan's `prior_state` and `configuration`. A plan is told from a state by
/// the keys only a plan has (present, whatever their value).
#[derive(serde::Deserialize)]
struct Document<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    prior_state: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    planned_values: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    resource_changes: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    configuration: Option<&'a RawValue>,
    #[serde(default)]
    terraform_version: Option<String>,
    #[serde(default, borrow)]
    values: Option<StateValues<'a>>,
}

/// A key that is there, `null` included.
fn present<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<&'a RawValue>, D::Error> {
    <&'a RawValue>::deserialize(d).map(Some)
}

/// What an observation records of a workspace: each resource by address with a keyed
/// digest of its attributes (never a value), the root outputs' names, where its state
/// file is (others find it there), and its remote-state reads of other workspaces.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Observation {
    /// The Terraform that wrote the state.
    pub terraform_version: Option<String>,
    /// Every resource, with a digest of its attributes.
    pub resources: Vec<ObservedResource>,
    /// The root outputs' names.
    pub outputs: Vec<String>,
    /// Where the workspace keeps its state (local backend), when known.
    pub state_file: Option<String>,
    /// The workspace's remote-state reads of other workspaces.
    pub reads: Vec<RemoteStateRead>,
}

impl Observation {
    /// An observation as the store keeps it, or why it does not read. The commands read
    /// every stored observation through this before judging with it: one that does not
    /// read is an error, not "nothing built" (which would drop readers from a blast
    /// radius, or report a built workspace as empty).
    pub fn parse(body: &Value) -> Result<Observation, serde_json::Error> {
        Observation::deserialize(body)
    }

    /// An observation [`Observation::parse`] has already accepted.
    pub fn read(body: &Value) -> Observation {
        Observation::deserialize(body).unwrap_or_default()
    }
}

/// One resource as an observation keeps it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ObservedResource {
    /// The instance address.
    pub address: String,
    /// The resource type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Its module's address, `""` for the root module.
    pub module: String,
    /// As the state records it (transitive), `null` when it records none.
    pub depends_on: Option<Vec<String>>,
    /// [`DIGEST_VERSION`] and the keyed SHA-256 of its attributes.
    pub digest: String,
}

/// One `terraform_remote_state` data source of the root module.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoteStateRead {
    /// The data source's address.
    pub data: String,
    /// The state file it reads (local backend), resolved against the workspace.
    pub path: Option<String>,
    /// The resources whose state dependencies name it.
    pub dependents: Vec<String>,
    /// With the configuration: each instance that reads it → the outputs it reads (`*`:
    /// all of them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readers: Option<BTreeMap<String, BTreeSet<String>>>,
}

/// The `terraform_remote_state` data sources of the root module: the state file each
/// reads (local backend) and the resources that depend on it (`dependents`: from the
/// state, whose dependencies are transitive). With the configuration, also `readers`:
/// each instance whose configuration reads the data source directly (a root resource, or
/// a resource in a module call whose arguments read it) → the outputs it reads (`*`: the
/// whole `outputs` object or the data source itself).
fn remote_state_reads(
    root: &StateModule<'_>,
    resources: &[ObservedResource],
    location: Option<&Path>,
    configuration: Option<&Value>,
) -> Vec<RemoteStateRead> {
    root.resources
        .iter()
        .filter(|r| r.ty == "terraform_remote_state")
        .map(|r| {
            let address = r.address.as_str();
            let path = r.values.and_then(read_path).map(|p| match location {
                Some(base) => crate::plan::sources::normalize(&base.join(&p))
                    .display()
                    .to_string(),
                None => p,
            });
            let dependents = resources
                .iter()
                .filter(|x| x.depends_on.iter().flatten().any(|d| d == address))
                .map(|x| x.address.clone())
                .collect();
            RemoteStateRead {
                data: address.to_string(),
                path,
                dependents,
                readers: configuration
                    .map(|config| readers_of(address, &config["root_module"], resources)),
            }
        })
        .collect()
}

/// The `config.path` a remote-state data source's attributes name.
fn read_path(values: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Values {
        config: Option<Config>,
    }
    #[derive(serde::Deserialize)]
    struct Config {
        path: Option<Value>,
    }
    let values: Values = serde_json::from_str(values.get()).ok()?;
    values.config?.path?.as_str().map(String::from)
}

/// Instance address → the outputs of remote-state data source `data` its configuration
/// reads, for the root module's resources and the resources of module calls whose
/// arguments read it.
fn readers_of(
    data: &str,
    root: &Value,
    resources: &[ObservedResource],
) -> BTreeMap<String, BTreeSet<String>> {
    let mut readers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |scope: &str, outputs: &BTreeSet<String>| {
        for x in resources {
            let instance = x.address.as_str();
            if instance != data && within(scope, instance) {
                readers
                    .entry(instance.to_string())
                    .or_default()
                    .extend(outputs.iter().cloned());
            }
        }
    };
    for r in root["resources"].as_array().into_iter().flatten() {
        let outputs = outputs_read(data, r);
        if let (false, Some(a)) = (outputs.is_empty(), r["address"].as_str()) {
            add(a, &outputs);
        }
    }
    for (name, call) in root["module_calls"].as_object().into_iter().flatten() {
        let outputs = outputs_read(data, &call["expressions"]);
        if !outputs.is_empty() {
            add(&format!("module.{name}"), &outputs);
        }
    }
    readers
}

/// Whether `instance` is `scope` (a configuration address: a resource, or a module call)
/// or one of its instances or, for a module, inside it.
fn within(scope: &str, instance: &str) -> bool {
    instance == scope
        || instance
            .strip_prefix(scope)
            .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
}

/// The outputs of remote-state data source `data` that the `references` anywhere in a
/// configuration block name: `data.X.outputs.NAME` → NAME, `data.X.outputs["NAME"]` →
/// NAME, a reference to the data source or its whole `outputs` alone → `*`.
fn outputs_read(data: &str, block: &Value) -> BTreeSet<String> {
    let mut refs = Vec::new();
    references_in(block, &mut refs);
    let mut named = BTreeSet::new();
    let mut whole = false;
    let prefix = format!("{data}.outputs");
    for r in refs {
        if let Some(rest) = r.strip_prefix(&prefix) {
            let name = if let Some(n) = rest.strip_prefix('.') {
                n.split(['.', '[']).next()
            } else if let Some(n) = rest.strip_prefix("[\"") {
                n.split('"').next()
            } else if rest.is_empty() {
                None
            } else {
                continue;
            };
            match name.filter(|n| !n.is_empty()) {
                Some(n) => {
                    named.insert(n.to_string());
                }
                None => whole = true,
            }
        } else if within(data, r) {
            whole = true;
        }
    }
    // Terraform lists a reference's containing object too (`data.X.outputs.a` comes with
    // `data.X.outputs` and `data.X`): those alone mean the whole, alongside a name they
    // are only its container.
    if named.is_empty() && whole {
        named.insert("*".into());
    }
    named
}

/// Every string of every `references` list in a configuration block.
fn references_in<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "references" {
                    out.extend(x.as_array().into_iter().flatten().filter_map(Value::as_str));
                } else {
                    references_in(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references_in(x, out)),
        _ => {}
    }
}

/// The resources of other observed workspaces that read this workspace's state, as the
/// decision core adds them to the blast radius of each change that feeds a root output
/// (prefixed `W:`), before `max_blast_radius` is judged.
///
/// `direct` counts the readers one edge away: those whose configuration reads the remote
/// state. `transitive` adds everything in the reader's workspace that depends on them.
/// When the reader's observation records which outputs each reader reads (observed from a
/// plan, or by a governed apply), only readers of the outputs this change feeds count.
/// Otherwise (observed from state alone) every resource depending on the remote state
/// counts, and those that depend on no other such resource are taken as the direct
/// readers: an over-approximation, since the state does not say which output is read.
/// The remote-state data source itself is the edge, not counted.
pub struct CrossWorkspace<'a> {
    /// (reader's workspace, its observed resources, the read of this workspace's state).
    reads: Vec<(&'a str, Vec<ObservedResource>, RemoteStateRead)>,
    /// Each root output and the references its value expression makes.
    outputs: Vec<(&'a str, Vec<&'a str>)>,
}

impl<'a> CrossWorkspace<'a> {
    /// `None` when this workspace was never observed or no other one reads its state.
    /// `this`: the workspace's observations (the store's latest, and in a set of plans
    /// the one its plan gives); a read of the state file of any of them counts.
    pub fn new(
        plan: &'a Plan<'_>,
        this: impl IntoIterator<Item = &'a Value>,
        others: &'a [(String, Value)],
    ) -> Option<CrossWorkspace<'a>> {
        let state_files: Vec<String> = this
            .into_iter()
            .filter_map(|o| Observation::read(o).state_file)
            .collect();
        if state_files.is_empty() {
            return None;
        }
        let mut reads = Vec::new();
        for (w, o) in others {
            let observation = Observation::read(o);
            for read in observation.reads {
                if read.path.as_ref().is_some_and(|p| state_files.contains(p)) {
                    reads.push((w.as_str(), observation.resources.clone(), read));
                }
            }
        }
        if reads.is_empty() {
            return None;
        }
        let outputs = plan
            .configuration
            .as_ref()
            .map(|c| {
                c.root_module
                    .outputs
                    .iter()
                    .filter_map(|(name, o)| {
                        o.expression.as_ref().map(|e| {
                            (
                                name.as_str(),
                                e.references.iter().map(String::as_str).collect(),
                            )
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(CrossWorkspace { reads, outputs })
    }

    /// Adds to `blast` the readers in other workspaces of the outputs the change at
    /// `address` feeds.
    pub fn extend(&self, address: &str, blast: &mut BlastRadius) {
        let feeds = |p: &str| {
            address == p
                || address.starts_with(&format!("{p}["))
                || p.starts_with(&format!("{address}."))
        };
        let fed: BTreeSet<&str> = self
            .outputs
            .iter()
            .filter(|(_, refs)| refs.iter().any(|p| feeds(p)))
            .map(|(name, _)| *name)
            .collect();
        if fed.is_empty() {
            return;
        }
        let mut direct = BTreeSet::new();
        let mut reached = BTreeSet::new();
        for (w, resources, read) in &self.reads {
            let (d, t) = readers_reached(resources, read, &fed);
            direct.extend(d.into_iter().map(|a| format!("{w}:{a}")));
            reached.extend(t.into_iter().map(|a| format!("{w}:{a}")));
        }
        let before: BTreeSet<&String> = blast.addresses.iter().collect();
        let new_direct = direct.iter().filter(|a| !before.contains(a)).count();
        let new: Vec<String> = reached
            .into_iter()
            .filter(|a| !before.contains(a))
            .collect();
        blast.direct += new_direct;
        add_addresses(blast, new);
    }
}

/// Elements link workspaces too (docs/judging.md, Elements): an element whose `matches` names
/// resources of another workspace as `W:GLOB` brings the resources of W's latest
/// observation that GLOB matches into the blast radius of every change its element
/// dependencies reach (the `element:NAME` entries already there), as `W:ADDRESS`.
pub struct ElementLinks<'a> {
    /// Per element: the addresses of other observed workspaces it matches, as `W:ADDRESS`.
    remote: BTreeMap<&'a str, BTreeSet<String>>,
}

impl<'a> ElementLinks<'a> {
    /// `None` when no element names another observed workspace.
    pub fn new(
        model: &'a Model,
        workspace: &str,
        others: &'a [(String, Value)],
    ) -> Option<ElementLinks<'a>> {
        let observed = |w: &str| -> Vec<String> {
            others
                .iter()
                .filter(|(o, _)| o == w)
                .flat_map(|(_, body)| Observation::read(body).resources)
                .map(|r| r.address)
                .collect()
        };
        let mut remote: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for e in &model.spec.elements {
            for pattern in &e.matches {
                let Some((w, glob)) = pattern.split_once(':') else {
                    continue;
                };
                if w == workspace || !others.iter().any(|(o, _)| o == w) {
                    continue;
                }
                let Ok(g) = iom_model::glob::compile_instance_addresses(&[glob.to_string()]) else {
                    continue;
                };
                let found = observed(w)
                    .into_iter()
                    .filter(|a| g.is_match(a))
                    .map(|a| format!("{w}:{a}"));
                remote.entry(e.name.as_str()).or_default().extend(found);
            }
        }
        (!remote.is_empty()).then_some(ElementLinks { remote })
    }

    /// Adds to `blast` what the elements already in it match in other workspaces.
    pub fn extend(&self, blast: &mut BlastRadius) {
        let reached: BTreeSet<&String> = blast
            .addresses
            .iter()
            .filter_map(|a| a.strip_prefix("element:"))
            .filter_map(|name| self.remote.get(name))
            .flatten()
            .collect();
        let before: BTreeSet<&String> = blast.addresses.iter().collect();
        let new: Vec<String> = reached
            .into_iter()
            .filter(|a| !before.contains(a))
            .cloned()
            .collect();
        add_addresses(blast, new);
    }
}

/// Adds addresses not yet in `blast` to it, keeping it sorted and its count true.
fn add_addresses(blast: &mut BlastRadius, new: Vec<String>) {
    if new.is_empty() {
        return;
    }
    blast.addresses.extend(new);
    blast.addresses.sort();
    blast.transitive = blast.addresses.len();
}

/// The direct readers of remote-state read `read` (of `observation`'s workspace) that a
/// change feeding outputs `fed` reaches, and everything it reaches there (direct ones
/// included), as instance addresses of that workspace.
fn readers_reached(
    observed: &[ObservedResource],
    read: &RemoteStateRead,
    fed: &BTreeSet<&str>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let resources: Vec<(&str, Vec<&str>)> = observed
        .iter()
        .map(|x| {
            let deps = x.depends_on.iter().flatten().map(String::as_str).collect();
            (x.address.as_str(), deps)
        })
        .collect();
    let depends_on = |a: &str| -> &[&str] {
        resources
            .iter()
            .find(|(x, _)| *x == a)
            .map_or(&[], |(_, d)| d.as_slice())
    };
    let dependents: Vec<&str> = read.dependents.iter().map(String::as_str).collect();
    let direct: BTreeSet<String> = match &read.readers {
        Some(readers) => readers
            .iter()
            .filter(|(_, outs)| outs.iter().any(|o| o == "*" || fed.contains(o.as_str())))
            .map(|(a, _)| a.clone())
            .collect(),
        None => dependents
            .iter()
            .filter(|a| {
                !depends_on(a)
                    .iter()
                    .any(|d| dependents.iter().any(|o| o != *a && within(d, o)))
            })
            .map(|a| a.to_string())
            .collect(),
    };
    // Everything depending on a reached resource is reached (state dependencies name
    // configuration addresses: a resource, or a module).
    let mut reached = direct.clone();
    loop {
        let more: Vec<String> = resources
            .iter()
            .filter(|(a, deps)| {
                !reached.contains(*a) && deps.iter().any(|d| reached.iter().any(|r| within(d, r)))
            })
            .map(|(a, _)| a.to_string())
            .collect();
        if more.is_empty() {
            break;
        }
        reached.extend(more);
    }
    (direct, reached)
}

/// Each resource of `module` and its descendants, its attributes digested with `key`
/// (the digest covers them as canonical JSON: sorted keys, compact).
fn observe_module(
    module: &StateModule<'_>,
    key: &ring::hmac::Key,
    out: &mut Vec<ObservedResource>,
) -> Result<()> {
    for r in &module.resources {
        let values: Value = match r.values {
            Some(raw) => serde_json::from_str(raw.get())?,
            None => Value::Null,
        };
        let digest = ring::hmac::sign(key, values.to_string().as_bytes());
        out.push(ObservedResource {
            address: r.address.clone(),
            ty: r.ty.clone(),
            module: module.address.clone().unwrap_or_default(),
            depends_on: r.depends_on.clone(),
            digest: format!(
                "{DIGEST_VERSION}{}",
                crate::plan::hex_digest(digest.as_ref())
            ),
        });
    }
    for child in &module.child_modules {
        observe_module(child, key, out)?;
    }
    Ok(())
}

/// The prefix of a keyed attribute digest. Observations written before it hold a plain
/// SHA-256 in hex (no prefix); they stay readable, since nothing compares digests across
/// observations of different versions.
pub const DIGEST_VERSION: &str = "hmac-sha256:";

/// The key of a store's attribute digests: a random secret the store makes once and
/// keeps. A plain SHA-256 of a low-entropy value (a PIN, a short password) is found by
/// hashing guesses; keyed, the digests in observations, exports and backups of them
/// reveal nothing without the secret. Whoever can read the store's secrets table can
/// still guess: it protects the digests wherever they travel without the store.
pub fn digest_key(store: &iom_store::Store) -> Result<Vec<u8>> {
    use ring::rand::SecureRandom as _;
    let mut fresh = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut fresh)
        .map_err(|_| anyhow!("the system's random number generator failed"))?;
    let hex = store.secret("observation-digest", &crate::plan::hex_digest(&fresh))?;
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map_err(|_| anyhow!("{}: the observation digest key is not hex", store.url()))
}

/// What `reconcile` found, as its record in the ledger keeps it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Reconciliation {
    /// The workspace reconciled.
    pub workspace: String,
    /// Governed resources that changed outside Terraform.
    pub drifted: Vec<String>,
    /// Drifted resources no intent governs.
    pub drifted_ungoverned: Vec<String>,
    /// Built resources (last observation) no intent governs.
    pub ungoverned: Vec<String>,
    /// Elements whose `matches` find nothing built.
    pub unmatched_elements: Vec<String>,
    /// Why the last observation cannot be trusted, when it cannot.
    pub stale: Option<String>,
}

/// Compares the model, the workspace's last observation (`built`) and a refresh-only plan's drift.
pub fn reconcile(
    workspace: &str,
    model: &Model,
    refresh: &Plan<'_>,
    built: Option<&Value>,
) -> Reconciliation {
    let intents: Vec<&CompiledIntent> = model
        .intents
        .iter()
        .filter(|i| i.governs_workspace(workspace))
        .collect();
    let governed = |a: &str| intents.iter().any(|i| i.governs_address(a));
    let mut r = Reconciliation {
        workspace: workspace.into(),
        ..Reconciliation::default()
    };
    for d in &refresh.resource_drift {
        if governed(&d.address) {
            r.drifted.push(d.address.clone());
        } else {
            r.drifted_ungoverned.push(d.address.clone());
        }
    }
    let addresses: BTreeSet<String> = built
        .map(Observation::read)
        .into_iter()
        .flat_map(|b| b.resources)
        .map(|x| x.address)
        .collect();
    r.ungoverned = addresses.iter().filter(|a| !governed(a)).cloned().collect();
    r.unmatched_elements = model
        .elements
        .iter()
        .filter(|e| !addresses.iter().any(|a| e.matches.is_match(a)))
        .map(|e| e.name.clone())
        .collect();
    r.stale = match built {
        None => Some(format!(
            "workspace {workspace} has never been observed: run plan-guard observe"
        )),
        Some(_) if !r.drifted.is_empty() || !r.drifted_ungoverned.is_empty() => {
            Some(
                "the resources as they are now (refresh) differ from what was observed: the observation is stale until the drift is reconciled".into(),
            )
        }
        Some(_) => None,
    };
    r.drifted.sort();
    r.drifted_ungoverned.sort();
    r
}

/// The message of the `model / drift` finding every governed change of the workspace
/// gets while `drifted` (its unreconciled drift) is recorded; `None` without drift.
/// Waivers apply to it as to any finding (`source = "model"`, `rule = "drift"`).
pub fn drift_message(workspace: &str, drifted: &[String]) -> Option<String> {
    if drifted.is_empty() {
        return None;
    }
    let shown: Vec<&str> = drifted.iter().take(5).map(String::as_str).collect();
    Some(format!(
        "workspace {workspace} has unreconciled drift on {} governed resource(s) ({}{}): run plan-guard reconcile",
        drifted.len(),
        shown.join(", "),
        if drifted.len() > shown.len() {
            ", …"
        } else {
            ""
        }
    ))
}

#[cfg(test)]
mod observation_tests {
    use super::*;

    /// A state with a nested module, a resource the state records no dependencies of,
    /// and a remote-state read, observed with a configuration that reads one output.
    const STATE: &str = r#"{"format_version":"1.0","terraform_version":"1.15.5","values":{
      "outputs":{"b":{"value":1},"a":{"value":"x","sensitive":true}},
      "root_module":{"resources":[
        {"address":"data.terraform_remote_state.net","mode":"data","type":"terraform_remote_state",
         "values":{"backend":"local","config":{"path":"../net/terraform.tfstate"},"outputs":{"id":"n"}}},
        {"address":"null_resource.app","mode":"managed","type":"null_resource",
         "values":{"triggers":{"z":"1","a":"2"}},"depends_on":["data.terraform_remote_state.net"]},
        {"address":"null_resource.lone","mode":"managed","type":"null_resource","values":null}],
       "child_modules":[{"address":"module.m","resources":[
        {"address":"module.m.null_resource.x[0]","mode":"managed","type":"null_resource",
         "values":{"id":"1"},"depends_on":["null_resource.app"]}]}]}}}"#;

    const CONFIGURATION: &str = r#"{"root_module":{"resources":[
      {"address":"null_resource.app","expressions":{"triggers":{"references":["data.terraform_remote_state.net.outputs.id","data.terraform_remote_state.net.outputs","data.terraform_remote_state.net"]}}}]}}"#;

    /// What the observation holds, as the `json!` builder before the typed state wrote it.
    #[test]
    fn an_observation_keeps_its_shape() {
        let configuration: Value = serde_json::from_str(CONFIGURATION).unwrap();
        let body = observation_body(
            STATE,
            "state.json",
            ObservedFrom::State,
            Some(Path::new("/w/app")),
            Some(&configuration),
            b"key",
        )
        .unwrap();
        let expected: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/records/observation.json"
        ))
        .unwrap();
        assert_eq!(body, expected);
    }
}
