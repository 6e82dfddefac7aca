//! The actions (Terraform 1.14+): `iom_verify` runs a stored contract's `post_verify`
//! probes inside `terraform apply` and records the outcome in the evidence ledger of the
//! provider's store, failing the apply when a probe fails; `iom_record` records a run
//! record. Both run on the configured provider, so they use the store of the
//! `provider "iom"` block.
//!
//! Records (kinds `verification` and `run`) carry the decision id `contract:NAME` when
//! they are about a contract, so `plan-guard evidence show contract:NAME` lists a
//! contract's verifications and runs in order; a run record about no contract gets
//! `run:RANDOM`. The probes are those a governed apply runs (`iom-probe`), recorded in the
//! same shape (`contract`, `probe`, `ok`, `message`).

use std::sync::Arc;

use iom_model::{Contract, InputValue, Kind, Object, PostVerify, expand_inputs};
use iom_probe::ProbeResult;
use iom_store::{Evidence, NewEvidence, Store};
use serde_json::json;
use tfplugin::{
    ActionProgress, Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Value,
};

/// The action that runs a contract's post-verify probes.
pub const VERIFY: &str = "iom_verify";
/// The action that records a run.
pub const RECORD: &str = "iom_record";
/// The ledger record kind `iom_verify` writes.
pub const VERIFICATION_KIND: &str = "verification";
/// The ledger record kind `iom_record` writes.
pub const RUN_KIND: &str = "run";

/// Every action with its `config` schema; the docs pages are rendered from these.
pub fn schemas() -> Vec<(&'static str, Schema, &'static str)> {
    vec![
        (VERIFY, verify_schema(), VERIFY_EXAMPLE),
        (RECORD, record_schema(), RECORD_EXAMPLE),
    ]
}

fn verify_schema() -> Schema {
    Schema::new(
        Block::new()
            .description(
                "Runs the `post_verify` probes of a stored contract and records the outcome in \
                 the evidence ledger (record kind `verification`); a failed probe fails the \
                 apply. `http` and `tcp` probes run as after `plan-guard apply`; a `state` \
                 probe fails (the state after the whole apply does not exist while Terraform \
                 is applying: run it under `plan-guard apply`); `run_record_written` holds \
                 when an `iom_record` action recorded a run for the contract since its last \
                 verification.",
            )
            .attribute(
                Attribute::required("contract", Type::String)
                    .description("Name of the iom_contract whose post_verify probes run."),
            )
            .attribute(
                Attribute::optional("inputs", Type::map(Type::String)).description(
                    "Values for the `{{ inputs.NAME }}` placeholders of the probes' targets. They \
                 appear in the recorded probe messages: pass no secret.",
                ),
            ),
    )
}

fn record_schema() -> Schema {
    Schema::new(
        Block::new()
            .description(
                "Records a run record (record kind `run`) in the evidence ledger, which a \
                 contract's `run_record_written` probe finds.",
            )
            .attribute(
                Attribute::required("kind", Type::String)
                    .description("What ran, in a word or two: `deploy`, `migration`, ..."),
            )
            .attribute(
                Attribute::required("message", Type::String)
                    .description("What happened, for the ledger."),
            )
            .attribute(Attribute::optional("contract", Type::String).description(
                "The iom_contract the run is about; its `run_record_written` probe then finds it.",
            )),
    )
}

fn text<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config.get(name).and_then(Value::as_str)
}

/// Checks a configuration: required texts not empty (unknown ones are checked later).
pub fn validate(type_name: &str, config: &Value) -> Diagnostics {
    let required: &[&str] = match type_name {
        VERIFY => &["contract"],
        RECORD => &["kind", "message"],
        _ => &[],
    };
    let mut diags = Diagnostics::new();
    for name in required {
        if text(config, name).is_some_and(|t| t.trim().is_empty()) {
            diags.error_at(
                AttributePath::new(*name),
                format!("Invalid {name}"),
                format!("{name} must not be empty"),
            );
        }
    }
    diags
}

/// At plan time: the contract an `iom_verify` names must be in the store now, so a typo
/// fails the plan rather than the apply.
pub fn plan(store: &Store, type_name: &str, config: &Value) -> Diagnostics {
    let mut diags = validate(type_name, config);
    if type_name != VERIFY || diags.has_errors() {
        return diags;
    }
    if let Some(Err(d)) = text(config, "contract").map(|name| contract(store, name)) {
        diags.push(d);
    }
    diags
}

fn contract(store: &Store, name: &str) -> Result<Contract, Diagnostic> {
    match store.get(Kind::Contract, name) {
        Ok(Some(stored)) => match stored.object {
            Object::Contract(c) => Ok(c),
            _ => Err(Diagnostic::error("Unknown contract", "not a contract")),
        },
        Ok(None) => Err(Diagnostic::error(
            "Unknown contract",
            format!(
                "the model store {} holds no iom_contract named {name:?}",
                store.url()
            ),
        )
        .at(AttributePath::new("contract"))),
        Err(e) => Err(Diagnostic::error(
            "Cannot read the model store",
            e.to_string(),
        )),
    }
}

/// Runs an action with a wholly known configuration. Blocking (probes, store): call it
/// off the async runtime.
pub fn invoke(
    store: &Arc<Store>,
    type_name: &str,
    config: &Value,
    terraform_version: &str,
    progress: &ActionProgress,
) -> Diagnostics {
    let run = match type_name {
        VERIFY => verify(store, config, terraform_version, progress),
        RECORD => record(store, config, terraform_version, progress),
        other => Err(Diagnostic::error(
            "Unknown action",
            format!("This provider has no action {other}."),
        )),
    };
    match run {
        Ok(diags) => diags,
        Err(d) => d.into(),
    }
}

fn verify(
    store: &Store,
    config: &Value,
    terraform_version: &str,
    progress: &ActionProgress,
) -> Result<Diagnostics, Diagnostic> {
    let name = text(config, "contract").unwrap_or_default();
    let contract = contract(store, name)?;
    let inputs = inputs_of(config);
    let mut results = run_probes(&contract, &inputs);
    settle_run_records(store, &contract.name, &mut results)?;
    for r in &results {
        let status = if r.ok { "ok" } else { "FAILED" };
        progress.report(format!("{} {status}: {}", r.probe, r.message));
    }
    let ok = results.iter().all(|r| r.ok);
    let body = json!({
        "action": VERIFY,
        "contract": contract.name,
        "ok": ok,
        "probes": results,
        "terraform_version": terraform_version,
    });
    let written = append(store, VERIFICATION_KIND, contract_id(&contract.name), body)?;
    progress.report(format!(
        "verification recorded as ledger record {}",
        written.seq
    ));
    let mut diags = Diagnostics::new();
    if results.is_empty() {
        diags.push(Diagnostic::warning(
            "Nothing to verify",
            format!(
                "iom_contract {} declares no post_verify probe; the verification is recorded \
                 with none.",
                contract.name
            ),
        ));
    }
    for failed in results.iter().filter(|r| !r.ok) {
        diags.error(
            format!("Contract {} not verified", contract.name),
            format!("{} failed: {}", failed.probe, failed.message),
        );
    }
    Ok(diags)
}

fn inputs_of(config: &Value) -> std::collections::BTreeMap<String, InputValue> {
    config
        .get("inputs")
        .and_then(Value::as_map)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = v.as_str().map_or(serde_json::Value::Null, |s| {
                serde_json::Value::String(s.to_string())
            });
            (k.clone(), InputValue::Known(value))
        })
        .collect()
}

/// Every probe of the contract; network probes concurrently, with their retries.
fn run_probes(
    contract: &Contract,
    inputs: &std::collections::BTreeMap<String, InputValue>,
) -> Vec<ProbeResult> {
    let mut results: Vec<ProbeResult> = Vec::new();
    let mut network = Vec::new();
    for pv in &contract.post_verify {
        let mut result = ProbeResult {
            contract: contract.name.clone(),
            probe: format!("post_verify.{}", pv.probe),
            ok: false,
            message: String::new(),
        };
        let expand = |s: &str| {
            expand_inputs(s, inputs).map_err(|input| {
                format!("input `{input}` has no value: give it in the action's inputs")
            })
        };
        match iom_probe::network_probe(pv, expand) {
            Some(Ok(probe)) => network.push((results.len(), probe)),
            Some(Err(why)) => result.message = why,
            None => result.message = not_networked(pv),
        }
        results.push(result);
    }
    let runs: Vec<_> = network.iter().map(|(_, run)| run.clone()).collect();
    let outcomes = iom_probe::run_with_retries(&runs);
    for ((at, (probe, _)), outcome) in network.iter().zip(outcomes) {
        if let Some(r) = results.get_mut(*at) {
            r.ok = outcome.is_ok();
            r.message = match outcome {
                Ok(()) => iom_probe::success_message(probe),
                Err(why) => why,
            };
        }
    }
    results
}

/// The message of a probe that is not a network probe, before it is settled.
fn not_networked(pv: &PostVerify) -> String {
    match pv.probe.as_str() {
        "state" => "a state probe reads the state after the whole apply, which does not exist \
                    while Terraform is applying: run this contract's state probes under \
                    plan-guard apply"
            .into(),
        "run_record_written" => "not yet settled".into(),
        other => format!("unknown probe {other}"),
    }
}

/// `run_record_written` holds when a `run` record about the contract was written after
/// the contract's last verification (or at all, before its first).
fn settle_run_records(
    store: &Store,
    contract: &str,
    results: &mut [ProbeResult],
) -> Result<(), Diagnostic> {
    let wanted = "post_verify.run_record_written";
    if !results.iter().any(|r| r.probe == wanted) {
        return Ok(());
    }
    let records = store
        .evidence_for(&contract_id(contract))
        .map_err(|e| Diagnostic::error("Cannot read the evidence ledger", e.to_string()))?;
    let since_last_verification = records
        .iter()
        .rev()
        .take_while(|r| r.kind != VERIFICATION_KIND)
        .find(|r| r.kind == RUN_KIND);
    for r in results.iter_mut().filter(|r| r.probe == wanted) {
        (r.ok, r.message) = match since_last_verification {
            Some(run) => (true, format!("run record {} is in the ledger", run.seq)),
            None => (
                false,
                format!(
                    "no run record about contract {contract} since its last verification: \
                     record one with an iom_record action (contract = {contract:?}) before \
                     this one"
                ),
            ),
        };
    }
    Ok(())
}

fn record(
    store: &Store,
    config: &Value,
    terraform_version: &str,
    progress: &ActionProgress,
) -> Result<Diagnostics, Diagnostic> {
    let contract = text(config, "contract");
    if let Some(name) = contract {
        self::contract(store, name)?;
    }
    let decision_id = match contract {
        Some(name) => contract_id(name),
        None => format!("run:{}", random_hex()?),
    };
    let body = json!({
        "action": RECORD,
        "contract": contract,
        "kind": text(config, "kind").unwrap_or_default(),
        "message": text(config, "message").unwrap_or_default(),
        "terraform_version": terraform_version,
    });
    let written = append(store, RUN_KIND, decision_id, body)?;
    progress.report(format!("run recorded as ledger record {}", written.seq));
    Ok(Diagnostics::new())
}

fn contract_id(contract: &str) -> String {
    format!("contract:{contract}")
}

fn append(
    store: &Store,
    kind: &str,
    decision_id: String,
    body: serde_json::Value,
) -> Result<Evidence, Diagnostic> {
    let new = NewEvidence {
        kind: kind.into(),
        decision_id,
        recorded_at: now_rfc3339(),
        plan_sha256: None,
        body,
    };
    let key = signing_key()?;
    let sign = key.as_ref().map(|k| {
        move |hash: &str| -> String {
            k.sign(hash.as_bytes())
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        }
    });
    let sign: Option<&dyn Fn(&str) -> String> = sign.as_ref().map(|f| f as &dyn Fn(&str) -> String);
    store.append_evidence(&new, sign).map_err(|e| {
        Diagnostic::error(
            "Cannot record in the evidence ledger",
            format!("{}: {e}", store.url()),
        )
    })
}

/// The ledger signing key `$IOM_SIGNING_KEY` names (the hex ed25519 seed file of
/// `plan-guard evidence keygen`), so the actions' records verify with
/// `evidence verify --public-key` like plan-guard's. Set but unreadable is an error: an
/// unsigned record in a signed ledger would fail that verification.
fn signing_key() -> Result<Option<ring::signature::Ed25519KeyPair>, Diagnostic> {
    let Some(path) = std::env::var_os("IOM_SIGNING_KEY").filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let shown = std::path::Path::new(&path).display().to_string();
    let refuse = |why: &str| {
        Diagnostic::error(
            "Cannot sign the ledger record",
            format!("IOM_SIGNING_KEY {shown}: {why}"),
        )
    };
    let text = std::fs::read_to_string(&path).map_err(|e| refuse(&e.to_string()))?;
    let text = text.trim();
    let seed: Option<Vec<u8>> = (text.len() == 64)
        .then(|| {
            (0..32)
                .map(|i| {
                    text.get(2 * i..2 * i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect()
        })
        .flatten();
    let seed = seed.ok_or_else(|| refuse("a private key file holds 64 hex digits"))?;
    ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed)
        .map(Some)
        .map_err(|_| refuse("not an ed25519 private key"))
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

fn random_hex() -> Result<String, Diagnostic> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 6];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Diagnostic::error("No randomness", "the system's random source failed"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

const VERIFY_EXAMPLE: &str = r#"action "iom_verify" "ledger" {
  config {
    contract = "postgres-db"
    inputs   = { health_url = "https://ledger.internal/health" }
  }
}

resource "terraform_data" "ledger" {
  input = "v2"

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.iom_verify.ledger]
    }
  }
}
"#;

const RECORD_EXAMPLE: &str = r#"action "iom_record" "deployed" {
  config {
    kind     = "deploy"
    message  = "ledger schema v2 deployed"
    contract = "postgres-db"
  }
}
"#;
