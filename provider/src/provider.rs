//! The resources and data sources of terraform-provider-iom over the tfplugin crate:
//! validation with iom-model's rules, plans with computed `id` and `revision` (a new
//! `name` replaces the object), applies that write the store in one transaction each,
//! reads that show out-of-band changes as drift, and import by name.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use iom_model::{Kind, ModelSpec, Object, validate_object};
use iom_store::{Store, StoreError};
use tfplugin::{
    ActionProgress, ActionRequest, ApplyRequest, ApplyResponse, AttributePath, ConfigureRequest,
    Diagnostics, FunctionRequest, FunctionResponse, ImportRequest, ImportResponse,
    ImportedResource, PlanRequest, PlanResponse, Provider, ProviderSchema, ReadDataRequest,
    ReadDataResponse, ReadRequest, ReadResponse, Value, async_trait,
};

use crate::convert::{to_object, to_state};
use crate::{actions, data_sources, paths, schema};

/// The provider: the protocol 6 services, over the model store it opens once configured.
#[derive(Default)]
pub struct IomProvider {
    store: OnceLock<Arc<Store>>,
    /// The store functions read, opened read-only on the first call (see `functions`).
    function_store: OnceLock<Arc<Store>>,
    /// The calling Terraform's version, from `configure`, for the records actions write.
    terraform_version: OnceLock<String>,
}

fn kind_of(type_name: &str) -> Option<Kind> {
    Kind::from_resource_type(type_name)
}

impl IomProvider {
    /// The configured store; opened by `configure` (or on first use when a Terraform
    /// skips it, as it may for a refresh of an empty configuration).
    pub fn store(&self) -> Result<Arc<Store>, String> {
        if let Some(s) = self.store.get() {
            return Ok(Arc::clone(s));
        }
        let store = Store::open_configured(None).map_err(|e| e.to_string())?;
        Ok(Arc::clone(self.store.get_or_init(|| Arc::new(store))))
    }

    /// The store functions read: the configured one if this process was configured (it
    /// never is, under Terraform), else `$IOM_STORE` or the default, read-only and only
    /// if it exists.
    fn function_store(&self) -> Result<Arc<Store>, String> {
        if let Some(s) = self.store.get().or_else(|| self.function_store.get()) {
            return Ok(Arc::clone(s));
        }
        let store = Store::open_configured_existing(None).map_err(|e| e.to_string())?;
        Ok(Arc::clone(
            self.function_store.get_or_init(|| Arc::new(store)),
        ))
    }

    /// Runs a store call off the async runtime (the PostgreSQL client has its own).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, String> {
        self.blocking_typed(f).await?.map_err(|e| e.to_string())
    }

    /// [`Self::blocking`], keeping the store's own error typed for callers that branch on
    /// its kind; the outer error is the store not opening or the task not finishing.
    async fn blocking_typed<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Result<T, StoreError>, String> {
        let store = self.store()?;
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| e.to_string())
    }

    /// Waits (bounded, with backoff) until every reference `object` makes resolves in the
    /// store with `object` written; no wait when they already do. Refuses with the
    /// diagnostic Terraform shows when they do not in time, or on any other problem.
    async fn await_references(&self, type_name: &str, object: &Object) -> Result<(), Diagnostics> {
        let mut backoff = Backoff::new();
        loop {
            let candidate = object.clone();
            let (unresolved, invalid) = self
                .blocking(move |s| Ok(problems_with(s.load_model()?.0, &candidate)))
                .await
                .map_err(|e| error("Cannot read the model store", e))?;
            if !invalid.is_empty() {
                return Err(error("Invalid object", invalid.join("; ")));
            }
            if unresolved.is_empty() {
                return Ok(());
            }
            if !backoff.wait().await {
                return Err(error(
                    "Unresolved reference",
                    format!(
                        "{} (after waiting {:?}). The object named may not exist yet: a \
                         literal name gives Terraform no order between the two writes, so when \
                         it is declared in this configuration, reference it through its \
                         resource instead (e.g. `profile = iom_profile.prod.name`, \
                         `blueprints = [iom_blueprint.storage.id]`) and Terraform writes it \
                         first. Otherwise declare it before applying {} `{}`.",
                        unresolved.join("; "),
                        backoff.waited(),
                        type_name,
                        object.key(),
                    ),
                ));
            }
        }
    }

    /// Waits (bounded, with backoff) until no other stored object references the one of
    /// `kind` keyed `key`, which a full destroy may be deleting beside this delete; refuses
    /// naming the referrers when some are left, as deleting would leave a model every
    /// check rejects.
    async fn await_no_referrers(&self, kind: Kind, key: &str) -> Result<(), Diagnostics> {
        let mut backoff = Backoff::new();
        loop {
            let k = key.to_string();
            let referrers = self
                .blocking(move |s| Ok(referrers(&s.load_model()?.0, kind, &k)))
                .await
                .map_err(|e| error("Cannot read the model store", e))?;
            if referrers.is_empty() {
                return Ok(());
            }
            if !backoff.wait().await {
                return Err(error(
                    "Object still referenced",
                    format!(
                        "{} `{key}` cannot be deleted: {} (still so after waiting {:?}). \
                         Deleting it would leave a model every plan-guard check rejects. \
                         Change or remove the referencing objects first (in the same apply, \
                         reference this object through its resource, e.g. \
                         `{}.<NAME>.{}`, so Terraform orders the writes).",
                        kind.resource_type(),
                        referrers.join("; "),
                        backoff.waited(),
                        kind.resource_type(),
                        if kind == Kind::Blueprint {
                            "id"
                        } else {
                            "name"
                        },
                    ),
                ));
            }
        }
    }
}

/// `planned_private` of a resource being replaced (see `plan_resource_change`).
const REPLACING: &[u8] = b"iom:replacing";

/// How long an apply waits for the objects it references to be written, or for the objects
/// referencing what it deletes to go: other writes of the same apply run beside it.
/// `IOM_REFERENCE_WAIT_MS` overrides the 20 s.
fn reference_wait() -> Duration {
    std::env::var("IOM_REFERENCE_WAIT_MS")
        .ok()
        .and_then(|ms| ms.trim().parse().ok())
        .map_or(Duration::from_secs(20), Duration::from_millis)
}

/// Exponential backoff (50 ms doubling to 2 s) up to a deadline.
struct Backoff {
    start: Instant,
    deadline: Instant,
    delay: Duration,
}

impl Backoff {
    fn new() -> Self {
        let start = Instant::now();
        Backoff {
            start,
            deadline: start + reference_wait(),
            delay: Duration::from_millis(50),
        }
    }

    /// Sleeps before the next attempt; false when the time is up.
    async fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.delay.min(self.deadline - now)).await;
        self.delay = (self.delay * 2).min(Duration::from_secs(2));
        true
    }

    fn waited(&self) -> Duration {
        Duration::from_millis(self.start.elapsed().as_millis() as u64 / 100 * 100)
    }
}

/// Whether a compile problem is a reference to an object the model does not hold.
fn is_reference(p: &iom_model::Problem) -> bool {
    p.code == iom_model::ProblemCode::UnknownReference
}

/// The problems `candidate` would have in `spec` with it written (replacing its old
/// version): (unresolved references, other problems), each as "path: message".
fn problems_with(mut spec: ModelSpec, candidate: &Object) -> (Vec<String>, Vec<String>) {
    let (kind, name, key) = (
        candidate.kind(),
        candidate.name().to_string(),
        candidate.key(),
    );
    remove(&mut spec, kind, &key);
    spec.push(candidate.clone());
    let mut unresolved = Vec::new();
    let mut invalid = Vec::new();
    if let Err(problems) = iom_model::Model::compile(spec) {
        for p in problems.iter().filter(|p| p.kind == kind && p.name == name) {
            let text = format!("{}: {}", paths::display(&p.path), p.message);
            if is_reference(p) {
                unresolved.push(text);
            } else {
                invalid.push(text);
            }
        }
    }
    (unresolved, invalid)
}

/// The references that removing the object of `kind` keyed `key` from `spec` would break,
/// each as "iom_intent `name` (path: message)". References already broken are not counted.
fn referrers(spec: &ModelSpec, kind: Kind, key: &str) -> Vec<String> {
    let broken = |spec: ModelSpec| -> BTreeSet<(Kind, String, String, String)> {
        match iom_model::Model::compile(spec) {
            Ok(_) => BTreeSet::new(),
            Err(problems) => problems
                .iter()
                .filter(|p| is_reference(p))
                .map(|p| {
                    (
                        p.kind,
                        p.name.clone(),
                        paths::display(&p.path),
                        p.message.clone(),
                    )
                })
                .collect(),
        }
    };
    let mut without = spec.clone();
    remove(&mut without, kind, key);
    if without == *spec {
        return Vec::new();
    }
    let before = broken(spec.clone());
    let cycle = depended_on(spec, kind, key);
    broken(without)
        .difference(&before)
        .filter(|(k, name, _, _)| !(*k == Kind::Element && cycle.contains(name.as_str())))
        .map(|(k, name, path, message)| {
            format!(
                "{} `{name}` references it ({path}: {message})",
                k.resource_type()
            )
        })
        .collect()
}

/// The elements an element depends on, directly or not. Elements in a dependency cycle
/// with the one being deleted cannot be deleted before it (each would wait for the
/// other), so they do not hold its delete back.
fn depended_on<'a>(spec: &'a ModelSpec, kind: Kind, key: &str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    if kind != Kind::Element {
        return seen;
    }
    let mut next = vec![key];
    while let Some(name) = next.pop() {
        for e in spec.elements.iter().filter(|e| e.name == name) {
            for d in &e.depends_on_elements {
                if seen.insert(d.as_str()) {
                    next.push(d.as_str());
                }
            }
        }
    }
    seen
}

fn error(summary: &str, detail: impl Into<String>) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(summary, detail);
    d
}

#[async_trait]
impl Provider for IomProvider {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            provider: schema::provider(),
            resources: Kind::ALL
                .iter()
                .map(|k| (k.resource_type().to_string(), schema::resource(*k)))
                .collect(),
            data_sources: [
                ("iom_model".to_string(), schema::model_data_source()),
                (
                    "iom_contract_check".to_string(),
                    schema::contract_check_data_source(),
                ),
            ]
            .into(),
            functions: crate::functions::declarations(),
            actions: actions::schemas()
                .into_iter()
                .map(|(name, schema, _)| (name.to_string(), schema))
                .collect(),
        }
    }

    async fn call_function(&self, request: FunctionRequest) -> FunctionResponse {
        let store = match self.function_store() {
            Ok(store) => store,
            Err(e) => {
                return FunctionResponse::error(
                    format!(
                        "cannot open the model store (functions read $IOM_STORE, else \
                         sqlite://.iom/model.db; the provider block's store does not reach \
                         them): {e}"
                    ),
                    None,
                );
            }
        };
        let answered = tokio::task::spawn_blocking(move || {
            crate::functions::call(&store, &request.name, &request.arguments)
        })
        .await;
        answered.unwrap_or_else(|e| FunctionResponse::error(e.to_string(), None))
    }

    async fn validate_action_config(&self, type_name: &str, config: Value) -> Diagnostics {
        actions::validate(type_name, &config)
    }

    async fn plan_action(&self, request: ActionRequest) -> Diagnostics {
        let store = match self.store() {
            Ok(store) => store,
            Err(e) => return error("Cannot open the model store", e),
        };
        let planned = tokio::task::spawn_blocking(move || {
            actions::plan(&store, &request.type_name, &request.config)
        })
        .await;
        planned.unwrap_or_else(|e| error("Cannot plan the action", e.to_string()))
    }

    async fn invoke_action(&self, request: ActionRequest, progress: ActionProgress) -> Diagnostics {
        let store = match self.store() {
            Ok(store) => store,
            Err(e) => return error("Cannot open the model store", e),
        };
        let version = self.terraform_version.get().cloned().unwrap_or_default();
        let ran = tokio::task::spawn_blocking(move || {
            actions::invoke(
                &store,
                &request.type_name,
                &request.config,
                &version,
                &progress,
            )
        })
        .await;
        ran.unwrap_or_else(|e| error("The action did not finish", e.to_string()))
    }

    async fn configure(&self, request: ConfigureRequest) -> Diagnostics {
        let _ = self
            .terraform_version
            .set(request.terraform_version.clone());
        let explicit = request
            .config
            .get("store")
            .and_then(Value::as_str)
            .map(String::from);
        let opened =
            tokio::task::spawn_blocking(move || Store::open_configured(explicit.as_deref())).await;
        match opened {
            Ok(Ok(store)) => {
                let _ = self.store.set(Arc::new(store));
                Diagnostics::new()
            }
            Ok(Err(e)) => {
                let mut d = Diagnostics::new();
                d.error_at(
                    AttributePath::new("store"),
                    "Cannot open the model store",
                    e.to_string(),
                );
                d
            }
            Err(e) => error("Cannot open the model store", e.to_string()),
        }
    }

    async fn validate_resource_config(&self, type_name: &str, config: Value) -> Diagnostics {
        let Some(kind) = kind_of(type_name) else {
            return error("Unknown resource type", type_name.to_string());
        };
        let mut diags = Diagnostics::new();
        let object = match to_object(kind, &config) {
            Ok(o) => o,
            // Unknown values can leave a required attribute absent until apply.
            Err(_) if !config.is_wholly_known() => return diags,
            Err(e) => return error("Invalid configuration", e),
        };
        for (path, message) in validate_object(&object) {
            let at = paths::to_attribute_path(&path);
            // A problem under a value not yet known is not a problem yet.
            if config.at(&at).is_some_and(|v| !v.is_wholly_known()) {
                continue;
            }
            diags.error_at(at, format!("Invalid {}", paths::display(&path)), message);
        }
        // A rule whose cost grows faster than the data it reads is valid, but may run out
        // of plan-guard's evaluation budget on a large plan: said now, as a warning.
        for (path, message) in iom_model::validate::cost_warnings_of(&object) {
            let at = paths::to_attribute_path(&path);
            let summary = format!("Costly {}", paths::display(&path));
            diags.push(tfplugin::Diagnostic::warning(summary, message).at(at));
        }
        diags
    }

    async fn plan_resource_change(&self, request: PlanRequest) -> PlanResponse {
        if request.proposed_new_state.is_null() {
            return PlanResponse::default();
        }
        let mut planned = request.proposed_new_state.clone();
        let name = planned.get("name").cloned().unwrap_or_default();
        let version = planned.get("version").cloned().unwrap_or_default();
        let blueprint = request.type_name == "iom_blueprint";
        let existed = !request.prior_state.is_null();
        let renamed = existed && request.prior_state.get("name") != Some(&name);
        // A blueprint's version is part of its identity: a new version is a new object.
        let reversioned =
            existed && blueprint && request.prior_state.get("version") != Some(&version);
        let unchanged = existed && {
            let mut prior = request.prior_state.clone();
            prior.set("revision", Value::Null);
            let mut next = planned.clone();
            next.set("revision", Value::Null);
            next.set("id", prior.get("id").cloned().unwrap_or_default());
            prior == next
        };
        if unchanged {
            planned = request.prior_state.clone();
        } else {
            // The id is the store key; the revision is whatever the write gets.
            let id = match (&name, &version) {
                (Value::String(n), Value::String(v)) if blueprint => {
                    Value::from(format!("{n}@{v}"))
                }
                (Value::String(n), _) if !blueprint => Value::from(n.as_str()),
                _ => Value::Unknown,
            };
            planned.set("id", id);
            planned.set("revision", Value::Unknown);
        }
        let requires_replace: Vec<AttributePath> = [(renamed, "name"), (reversioned, "version")]
            .into_iter()
            .filter(|(changed, _)| *changed)
            .map(|(_, attr)| AttributePath::new(attr))
            .collect();
        // A replace is planned twice (then with a null prior state, given this plan's
        // private data) and applied as a delete and a create that both receive it: the
        // delete half must not wait for referrers Terraform updates only after the create.
        let replacing =
            !requires_replace.is_empty() || (!existed && request.prior_private == REPLACING);
        PlanResponse {
            planned_state: planned,
            requires_replace,
            planned_private: if replacing {
                REPLACING.to_vec()
            } else {
                Vec::new()
            },
            ..PlanResponse::default()
        }
    }

    async fn apply_resource_change(&self, request: ApplyRequest) -> ApplyResponse {
        let Some(kind) = kind_of(&request.type_name) else {
            return ApplyResponse {
                diagnostics: error("Unknown resource type", request.type_name),
                ..ApplyResponse::default()
            };
        };
        let fail = |summary: &str, detail: String| ApplyResponse {
            diagnostics: error(summary, detail),
            ..ApplyResponse::default()
        };
        if request.planned_state.is_null() {
            let name = state_key(kind, &request.prior_state);
            // The delete half of a replace: Terraform updates the referrers only after
            // the create half, so waiting for them here would wait for nothing.
            if request.planned_private != REPLACING
                && let Err(refused) = self.await_no_referrers(kind, &name).await
            {
                return ApplyResponse {
                    new_state: request.prior_state,
                    diagnostics: refused,
                    ..ApplyResponse::default()
                };
            }
            return match self.blocking(move |s| s.delete(kind, &name)).await {
                Ok(_) => ApplyResponse::default(),
                Err(e) => ApplyResponse {
                    new_state: request.prior_state,
                    diagnostics: error("Cannot delete from the model store", e),
                    ..ApplyResponse::default()
                },
            };
        }
        let object = match to_object(kind, &request.planned_state) {
            Ok(o) => o,
            Err(e) => return fail("Invalid object", e),
        };
        // References to other objects (an intent's profile and blueprints, a contract's
        // profiles) must resolve in the store as it will be after this write. A reference
        // through another resource's attribute makes Terraform write its target first; a
        // literal name gives Terraform no such edge, so the target may be written by a
        // create running beside this one: wait for it, within a bound.
        if let Err(refused) = self.await_references(&request.type_name, &object).await {
            return ApplyResponse {
                diagnostics: refused,
                ..ApplyResponse::default()
            };
        }
        let creating = request.prior_state.is_null();
        let write = object.clone();
        let written = self
            .blocking_typed(move |s| {
                if !creating {
                    return s.put(&write);
                }
                match s.create(&write) {
                    // Already there exactly as planned: a create whose store commit
                    // happened but whose result never reached Terraform's state (a
                    // crash, a kill). Adopting it makes the retry idempotent.
                    Err(e @ StoreError::AlreadyExists { .. }) => {
                        match s.get(write.kind(), &write.key())? {
                            Some(stored) if stored.object == write => Ok(stored.revision),
                            _ => Err(e),
                        }
                    }
                    other => other,
                }
            })
            .await;
        let title = if creating {
            "Cannot create the object"
        } else {
            "Cannot update the object"
        };
        match written {
            Ok(Ok(revision)) => {
                let mut new_state = request.planned_state;
                new_state.set("id", Value::from(object.key()));
                new_state.set("revision", Value::from(revision as i64));
                ApplyResponse {
                    new_state,
                    ..ApplyResponse::default()
                }
            }
            Ok(Err(e @ StoreError::AlreadyExists { .. })) => fail(
                title,
                format!(
                    "{e}, and differs from this configuration. To manage it here, run: \
                     terraform import {}.<NAME> {}",
                    request.type_name,
                    object.key()
                ),
            ),
            Ok(Err(e)) => fail(title, e.to_string()),
            Err(e) => fail(title, e),
        }
    }

    async fn read_resource(&self, request: ReadRequest) -> ReadResponse {
        let Some(kind) = kind_of(&request.type_name) else {
            return ReadResponse {
                new_state: request.current_state,
                diagnostics: error("Unknown resource type", request.type_name),
                ..ReadResponse::default()
            };
        };
        let name = state_key(kind, &request.current_state);
        match self.blocking(move |s| s.get(kind, &name)).await {
            // Gone from the store: Terraform plans to create it again.
            Ok(None) => ReadResponse::default(),
            Ok(Some(stored)) => {
                let ty = schema::resource(kind).value_type();
                match to_state(&stored.object, stored.revision, &ty, &request.current_state) {
                    Ok(new_state) => ReadResponse {
                        new_state,
                        private: request.private,
                        ..ReadResponse::default()
                    },
                    Err(e) => ReadResponse {
                        new_state: request.current_state,
                        diagnostics: error("Unreadable object in the model store", e),
                        ..ReadResponse::default()
                    },
                }
            }
            Err(e) => ReadResponse {
                new_state: request.current_state,
                diagnostics: error("Cannot read the model store", e),
                ..ReadResponse::default()
            },
        }
    }

    async fn import_resource_state(&self, request: ImportRequest) -> ImportResponse {
        let Some(kind) = kind_of(&request.type_name) else {
            return ImportResponse {
                imported: Vec::new(),
                diagnostics: error("Unknown resource type", request.type_name),
            };
        };
        let name = request.id.clone();
        let found = self
            .blocking(move |s| {
                // A blueprint imported by bare name is its highest version.
                if kind == Kind::Blueprint && !name.contains('@') {
                    let mut versions: Vec<iom_store::Stored> = s
                        .list()?
                        .into_iter()
                        .filter(|x| matches!(&x.object, iom_model::Object::Blueprint(b) if b.name == name))
                        .collect();
                    versions.sort_by(|a, b| match (&a.object, &b.object) {
                        (iom_model::Object::Blueprint(x), iom_model::Object::Blueprint(y)) => {
                            iom_model::compile::compare_versions(&x.version, &y.version)
                        }
                        _ => std::cmp::Ordering::Equal,
                    });
                    return Ok(versions.pop());
                }
                s.get(kind, &name)
            })
            .await;
        let stored = match found {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                return ImportResponse {
                    imported: Vec::new(),
                    diagnostics: error(
                        "Cannot import",
                        format!(
                            "the model store holds no {} named {:?}",
                            request.type_name, request.id
                        ),
                    ),
                };
            }
            Err(e) => {
                return ImportResponse {
                    imported: Vec::new(),
                    diagnostics: error("Cannot read the model store", e),
                };
            }
        };
        let ty = schema::resource(kind).value_type();
        match to_state(&stored.object, stored.revision, &ty, &Value::Null) {
            Ok(state) => ImportResponse {
                imported: vec![ImportedResource {
                    type_name: request.type_name,
                    state,
                    private: Vec::new(),
                }],
                diagnostics: Diagnostics::new(),
            },
            Err(e) => ImportResponse {
                imported: Vec::new(),
                diagnostics: error("Unreadable object in the model store", e),
            },
        }
    }

    async fn read_data_source(&self, request: ReadDataRequest) -> ReadDataResponse {
        let store = match self.store() {
            Ok(s) => s,
            Err(e) => {
                return ReadDataResponse {
                    state: request.config,
                    diagnostics: error("Cannot open the model store", e),
                };
            }
        };
        let (state, diagnostics) = tokio::task::spawn_blocking(move || {
            data_sources::read(&store, &request.type_name, request.config)
        })
        .await
        .unwrap_or_else(|e| (Value::Null, error("Data source failed", e.to_string())));
        ReadDataResponse { state, diagnostics }
    }
}

/// Drops the object of `kind` whose store key is `key` from a model spec.
fn remove(spec: &mut iom_model::ModelSpec, kind: Kind, key: &str) {
    let name = key;
    match kind {
        Kind::Profile => spec.profiles.retain(|o| o.name != name),
        Kind::Blueprint => spec
            .blueprints
            .retain(|o| format!("{}@{}", o.name, o.version) != key),
        Kind::Intent => spec.intents.retain(|o| o.name != name),
        Kind::Contract => spec.contracts.retain(|o| o.name != name),
        Kind::Element => spec.elements.retain(|o| o.name != name),
        Kind::Waiver => spec.waivers.retain(|o| o.name != name),
        Kind::Notification => spec.notifications.retain(|o| o.name != name),
    }
}

/// The store key of the object a state describes: its name, `name@version` for a blueprint.
fn state_key(kind: Kind, state: &Value) -> String {
    let name = state.get("name").and_then(Value::as_str).unwrap_or("");
    match (kind, state.get("version").and_then(Value::as_str)) {
        (Kind::Blueprint, Some(version)) => format!("{name}@{version}"),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iom_model::{Blueprint, Intent, Profile};

    fn profile(name: &str) -> Object {
        Object::Profile(Profile {
            name: name.into(),
            ..Profile::default()
        })
    }

    fn blueprint(name: &str, version: &str) -> Object {
        Object::Blueprint(Blueprint {
            name: name.into(),
            version: version.into(),
            ..Blueprint::default()
        })
    }

    fn intent(name: &str, profile: &str, blueprints: &[&str]) -> Object {
        Object::Intent(Intent {
            name: name.into(),
            profile: profile.into(),
            blueprints: blueprints.iter().map(|b| b.to_string()).collect(),
            ..Intent::default()
        })
    }

    fn spec(objects: &[Object]) -> ModelSpec {
        let mut spec = ModelSpec::default();
        for o in objects {
            spec.push(o.clone());
        }
        spec
    }

    #[test]
    fn unresolved_references_are_told_apart_from_other_problems() {
        let i = intent("i", "p", &["b"]);
        let (unresolved, invalid) = problems_with(ModelSpec::default(), &i);
        assert_eq!(
            unresolved,
            [
                "profile: no iom_profile is named `p`",
                "blueprints[0]: no iom_blueprint is named `b`"
            ]
        );
        assert!(invalid.is_empty());
        let (unresolved, invalid) =
            problems_with(spec(&[profile("p"), blueprint("b", "1.0.0")]), &i);
        assert!(unresolved.is_empty() && invalid.is_empty());
        let (unresolved, _) = problems_with(
            spec(&[profile("p"), blueprint("b", "1.0.0")]),
            &intent("i", "p", &["b@2.0.0"]),
        );
        assert_eq!(
            unresolved,
            ["blueprints[0]: iom_blueprint `b` has no version `2.0.0` (declared: 1.0.0)"]
        );
    }

    #[test]
    fn referrers_are_the_references_a_delete_would_break() {
        let model = spec(&[
            profile("p"),
            profile("unused"),
            blueprint("b", "1.0.0"),
            blueprint("b", "1.1.0"),
            intent("i", "p", &["b", "b@1.0.0"]),
            // Already broken: not this delete's doing.
            intent("j", "gone", &[]),
        ]);
        assert_eq!(
            referrers(&model, Kind::Profile, "p"),
            ["iom_intent `i` references it (profile: no iom_profile is named `p`)"]
        );
        assert!(referrers(&model, Kind::Profile, "unused").is_empty());
        assert!(referrers(&model, Kind::Profile, "not-there").is_empty());
        // The bare name still resolves to 1.0.0; the pinned reference does not.
        assert_eq!(
            referrers(&model, Kind::Blueprint, "b@1.0.0"),
            [
                "iom_intent `i` references it (blueprints[1]: iom_blueprint `b` has no version \
                 `1.0.0` (declared: 1.1.0))"
            ]
        );
        assert!(referrers(&model, Kind::Blueprint, "b@1.1.0").is_empty());
    }

    #[test]
    fn elements_in_a_dependency_cycle_do_not_hold_each_others_delete() {
        let element = |name: &str, deps: &[&str]| {
            Object::Element(iom_model::Element {
                name: name.into(),
                kind: "service".into(),
                depends_on_elements: deps.iter().map(|d| d.to_string()).collect(),
                ..iom_model::Element::default()
            })
        };
        let model = spec(&[
            element("a", &["b"]),
            element("b", &["c"]),
            element("c", &["a"]),
            element("d", &["a"]),
        ]);
        assert_eq!(
            referrers(&model, Kind::Element, "a"),
            ["iom_element `d` references it (depends_on_elements[0]: no iom_element is named `a`)"]
        );
        let model = spec(&[element("a", &["b"]), element("b", &["a"])]);
        assert!(referrers(&model, Kind::Element, "a").is_empty());
        assert!(referrers(&model, Kind::Element, "b").is_empty());
    }

    fn provider(dir: &std::path::Path) -> IomProvider {
        let p = IomProvider::default();
        let url = format!("sqlite://{}/model.db", dir.display());
        let _ = p.store.set(Arc::new(Store::open(&url).unwrap()));
        p
    }

    fn temp(label: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("iom-provider-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn create(object: &Object) -> ApplyRequest {
        let ty = schema::resource(object.kind()).value_type();
        ApplyRequest {
            type_name: object.kind().resource_type().into(),
            prior_state: Value::Null,
            planned_state: to_state(object, 0, &ty, &Value::Null).unwrap(),
            config: Value::Null,
            planned_private: Vec::new(),
        }
    }

    fn errors(d: &Diagnostics) -> String {
        format!("{d:?}")
    }

    /// `terraform validate` warns about a rule whose cost grows with the square of the
    /// data, and refuses nothing for it; a malformed waiver expiry is an error at
    /// `expires`, never a panic of the provider.
    #[tokio::test]
    async fn validation_warns_about_costly_rules_and_refuses_bad_expiry() {
        let p = IomProvider::default();
        let config = |object: &Object| {
            let ty = schema::resource(object.kind()).value_type();
            to_state(object, 0, &ty, &Value::Null).unwrap()
        };
        let costly = Object::Blueprint(Blueprint {
            name: "b".into(),
            version: "1.0.0".into(),
            rule: vec![iom_model::Rule {
                id: "unique".into(),
                condition: "after.items.all(a, after.items.exists_one(b, b == a))".into(),
                outcome: "block".into(),
                ..iom_model::Rule::default()
            }],
            ..Blueprint::default()
        });
        let d = p
            .validate_resource_config("iom_blueprint", config(&costly))
            .await;
        assert!(!d.has_errors(), "{d:?}");
        let warning = d.iter().next().expect("one warning");
        assert_eq!(warning.severity, tfplugin::Severity::Warning);
        assert!(
            warning.summary.contains("rule[0].condition") && warning.detail.contains("square"),
            "{warning}"
        );

        let waiver = Object::Waiver(iom_model::Waiver {
            name: "w".into(),
            source: "intent:x".into(),
            rule: "*".into(),
            reason: "r".into(),
            approved_by: "a".into(),
            expires: "2026-01-01T00:00:00+0é:0".into(),
            ..iom_model::Waiver::default()
        });
        let d = p
            .validate_resource_config("iom_waiver", config(&waiver))
            .await;
        assert!(d.has_errors(), "{d:?}");
        assert!(format!("{d:?}").contains("RFC 3339"), "{d:?}");
    }

    /// A blueprint's `module_rule` blocks go through the provider's schema and validation
    /// like its `rule` blocks: a costly condition warns at its path, a condition reading a
    /// change's names (`after`) is an error there, and the block survives the state round trip.
    #[tokio::test]
    async fn module_rules_validate_and_warn_at_their_path() {
        let p = IomProvider::default();
        let config = |object: &Object| {
            let ty = schema::resource(object.kind()).value_type();
            to_state(object, 0, &ty, &Value::Null).unwrap()
        };
        let blueprint = |condition: &str| {
            Object::Blueprint(Blueprint {
                name: "b".into(),
                version: "1.0.0".into(),
                module_rule: vec![iom_model::ModuleRule {
                    id: "pinned".into(),
                    condition: condition.into(),
                    outcome: "block".into(),
                    message: None,
                }],
                ..Blueprint::default()
            })
        };
        let good = blueprint("module_call.version != ''");
        let d = p
            .validate_resource_config("iom_blueprint", config(&good))
            .await;
        assert!(d.iter().next().is_none(), "{d:?}");
        let state = config(&good);
        assert!(
            format!("{state:?}").contains("module_call.version"),
            "{state:?}"
        );

        let d = p
            .validate_resource_config("iom_blueprint", config(&blueprint("after.x == 1")))
            .await;
        assert!(d.has_errors(), "{d:?}");
        assert!(
            format!("{d:?}").contains("undeclared reference `after`"),
            "{d:?}"
        );

        let costly =
            blueprint("[module_call.source].all(a, [module_call.source].exists_one(b, b == a))");
        let d = p
            .validate_resource_config("iom_blueprint", config(&costly))
            .await;
        assert!(!d.has_errors(), "{d:?}");
        let warning = d.iter().next().expect("one warning");
        assert!(
            warning.summary.contains("module_rule[0].condition")
                && warning.detail.contains("square"),
            "{warning}"
        );
    }

    /// A create whose store commit happened but whose result never reached Terraform's
    /// state is retried: the identical object is adopted, a different one still refused.
    #[tokio::test]
    async fn create_adopts_an_identical_object_and_refuses_a_different_one() {
        let dir = temp("adopt");
        let p = provider(&dir);
        let first = p.apply_resource_change(create(&profile("p"))).await;
        assert!(
            !first.diagnostics.has_errors(),
            "{}",
            errors(&first.diagnostics)
        );
        let again = p.apply_resource_change(create(&profile("p"))).await;
        assert!(
            !again.diagnostics.has_errors(),
            "{}",
            errors(&again.diagnostics)
        );
        assert_eq!(again.new_state.get("revision"), Some(&Value::from(1i64)));
        assert_eq!(
            p.store().unwrap().revision().unwrap(),
            1,
            "nothing rewritten"
        );

        let Object::Profile(mut other) = profile("p") else {
            unreachable!()
        };
        other.max_changes = Some(3);
        let refused = p
            .apply_resource_change(create(&Object::Profile(other)))
            .await;
        let text = errors(&refused.diagnostics);
        assert!(
            text.contains("already exists") && text.contains("terraform import"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An intent naming a profile by a literal name waits for the create running beside it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn create_waits_for_a_reference_written_beside_it() {
        let dir = temp("wait");
        let p = provider(&dir);
        let store = p.store().unwrap();
        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            store.create(&profile("p")).unwrap();
        });
        let started = Instant::now();
        let done = p
            .apply_resource_change(create(&intent("i", "p", &[])))
            .await;
        assert!(
            !done.diagnostics.has_errors(),
            "{}",
            errors(&done.diagnostics)
        );
        assert!(started.elapsed() >= Duration::from_millis(400));
        late.await.unwrap();

        // Once it resolves, no wait at all.
        let started = Instant::now();
        let done = p
            .apply_resource_change(create(&intent("k", "p", &[])))
            .await;
        assert!(!done.diagnostics.has_errors());
        assert!(started.elapsed() < Duration::from_millis(50));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
