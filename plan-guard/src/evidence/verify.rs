//! Post-verify probes: after a governed apply, each contract that governed a changed
//! module call checks the result. `http` (status, with retries), `tcp`, and `state` — a
//! CEL condition over the state `terraform show -json` reads afterwards, with variables
//! `state` (its `values`) and `resources` (address → attributes). `run_record_written` is
//! answered by the caller, which owns the ledger.

use iom_model::Condition;
use serde_json::value::RawValue;

use crate::decide::cel_input::to_cel;
use crate::decide::contracts::Governed;
use crate::decide::probes;
use crate::plan::StateValues;

pub use iom_probe::ProbeResult;

/// Runs every post-verify probe of `calls` except `run_record_written`, which is listed
/// (with `ok` false) for the caller to settle. Network probes run concurrently; `state`
/// probes read `state_json`, the output of `terraform show -json` after the apply.
pub fn post_verify(calls: &[Governed<'_>], state_json: Option<&str>) -> Vec<ProbeResult> {
    let mut results = Vec::new();
    let mut network = Vec::new();
    for g in calls {
        for pv in &g.contract.post_verify {
            let mut result = ProbeResult {
                contract: g.contract.name.clone(),
                probe: format!("post_verify.{}", pv.probe),
                ok: false,
                message: String::new(),
            };
            let expand = |s: &str| {
                g.expand(s)
                    .map_err(|input| format!("input `{input}` has no known value"))
            };
            match (probes::network_probe(pv, expand), pv.probe.as_str()) {
                (Some(Ok(probe)), _) => network.push((results.len(), probe)),
                (Some(Err(why)), _) => result.message = why,
                (None, "state") => {
                    let verdict =
                        state_condition(pv.condition.as_deref().unwrap_or(""), state_json);
                    result.ok = verdict.is_ok();
                    result.message = verdict.err().unwrap_or_else(|| "condition holds".into());
                }
                (None, "run_record_written") => result.message = "not yet settled".into(),
                (None, other) => result.message = format!("unknown probe {other}"),
            }
            results.push(result);
        }
    }
    let runs: Vec<_> = network.iter().map(|(_, run)| run.clone()).collect();
    let outcomes = probes::run_with_retries(&runs);
    for ((at, (probe, _)), outcome) in network.iter().zip(outcomes) {
        if let Some(r) = results.get_mut(*at) {
            r.ok = outcome.is_ok();
            r.message = match outcome {
                Ok(()) => probes::success_message(probe),
                Err(why) => why,
            };
        }
    }
    results
}

/// Evaluates a `state` condition. The error names what went wrong, never a state value.
fn state_condition(source: &str, state_json: Option<&str>) -> Result<(), String> {
    let Some(state_json) = state_json else {
        return Err("the state after apply could not be read".into());
    };
    let condition = Condition::compile(source)?;
    let doc: StateDoc = serde_json::from_str(state_json)
        .map_err(|e| format!("the state after apply is not valid JSON: {e}"))?;
    let resources = resources_object(doc.values)?;
    let resources = RawValue::from_string(resources).map_err(|e| e.to_string())?;
    let root = iom_model::root_context();
    let mut ctx = root.new_inner_scope();
    ctx.add_variable_as_val("state", to_cel(doc.values).map_err(|e| e.to_string())?);
    ctx.add_variable_as_val(
        "resources",
        to_cel(Some(&resources)).map_err(|e| e.to_string())?,
    );
    match condition.evaluate(&ctx) {
        Ok(cel::Value::Bool(true)) => Ok(()),
        Ok(cel::Value::Bool(false)) => Err(format!("condition `{source}` is false")),
        Ok(other) => Err(format!(
            "condition `{source}` returned a {} instead of a bool",
            other.type_of()
        )),
        Err(_) => Err(format!(
            "condition `{source}` could not be evaluated (details withheld: they may quote state values)"
        )),
    }
}

/// A state document split at `values`: the probe binds that object whole as `state`,
/// and reads its resources through the typed state ([`StateValues`]).
#[derive(serde::Deserialize)]
struct StateDoc<'a> {
    #[serde(borrow, default)]
    values: Option<&'a RawValue>,
}

/// The `resources` variable: every resource's address → its attributes (`null` when the
/// state holds none), as one JSON object.
fn resources_object(values: Option<&RawValue>) -> Result<String, String> {
    let mut out = String::from("{");
    if let Some(values) = values {
        let typed = StateValues::read(values.get())
            .map_err(|e| format!("unexpected state document: {e}"))?;
        if typed.root_module.is_none() {
            return Err("unexpected state document: missing field `root_module`".into());
        }
        for r in typed.resources() {
            out.push_str(&serde_json::to_string(&r.address).unwrap_or_default());
            out.push(':');
            out.push_str(r.values.map_or("null", |v| v.get()));
            out.push(',');
        }
    }
    if out.ends_with(',') {
        out.pop();
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use iom_model::{Contract, PostVerify};
    use std::collections::BTreeMap;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An HTTP server answering 503 to its first `failures` requests, then 200.
    fn flaky_server(failures: usize) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut s = stream.unwrap();
                let _ = s.read(&mut [0u8; 1024]);
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let status = if n < failures { 503 } else { 200 };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        (url, seen)
    }

    fn probe(kind: &str) -> PostVerify {
        PostVerify {
            probe: kind.into(),
            timeout_ms: Some(1000),
            ..Default::default()
        }
    }

    #[test]
    fn probes_after_apply() {
        let (flaky, seen) = flaky_server(2);
        let (down, _) = flaky_server(usize::MAX);
        let contract = Contract {
            name: "svc".into(),
            post_verify: vec![
                PostVerify {
                    url: Some(flaky),
                    retries: Some(3),
                    ..probe("http")
                },
                PostVerify {
                    url: Some("{{ inputs.health }}".into()),
                    retries: Some(1),
                    ..probe("http")
                },
                PostVerify {
                    condition: Some("resources['terraform_data.x'].output.ready && size(state.root_module.resources) == 1".into()),
                    ..probe("state")
                },
                PostVerify {
                    condition: Some("resources['terraform_data.x'].output.token == 'guess'".into()),
                    ..probe("state")
                },
                probe("run_record_written"),
            ],
            ..Default::default()
        };
        let inputs: BTreeMap<_, _> = [(
            "health".to_string(),
            iom_model::InputValue::Known(serde_json::json!(down)),
        )]
        .into();
        let calls = [Governed {
            contract: &contract,
            call: "module.svc".into(),
            inputs,
            sensitive: Default::default(),
            unconfirmed: Default::default(),
            findings: Vec::new(),
            unknown: Vec::new(),
            problems: Default::default(),
            inputs_checked: true,
            pre_conditions: Vec::new(),
        }];
        let state = r#"{"format_version":"1.0","values":{"root_module":{"resources":[
            {"address":"terraform_data.x","values":{"output":{"ready":true,"token":"s3cret-canary"}}}]}}}"#;
        let r = post_verify(&calls, Some(state));
        let ok: Vec<bool> = r.iter().map(|p| p.ok).collect();
        assert_eq!(ok, [true, false, true, false, false], "{r:#?}");
        assert_eq!(seen.load(Ordering::SeqCst), 3, "two 503s, then the 200");
        assert!(
            r[1].message.contains("answered 503, expected 200"),
            "{}",
            r[1].message
        );
        assert_eq!(r[3].probe, "post_verify.state");
        assert!(r.iter().all(|p| !p.message.contains("s3cret-canary")));
        assert!(!post_verify(&calls[..], None)[2].ok, "no state, no verdict");
    }
}
