//! `iom-probe` owns IOM's network probes: a TCP connect and an HTTP GET, each with a
//! deadline, run all at once (`net`), and the network half of a contract's
//! `post_verify` (`http` with `expect_status` and `retries`, `tcp`): building the
//! probe from the declaration, retrying, and the outcome record both callers write.
//!
//! Two programs run post-verify probes: plan-guard after a governed apply, and the
//! provider's `iom_verify` action inside `terraform apply`. This crate is what they
//! share, so the provider need not depend on plan-guard (nor plan-guard on the
//! provider); it has no CLI and no store.

mod net;

use std::time::Duration;

use iom_model::PostVerify;

pub use net::{DEFAULT_TIMEOUT_MS, PostFailure, Probe, post_json, run_all};

/// The outcome of one post-verify probe, as the evidence ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProbeResult {
    /// The contract that declares the probe.
    pub contract: String,
    /// `post_verify.PROBE`, the rule name of a post-verify probe's finding.
    pub probe: String,
    /// Whether the probe held.
    pub ok: bool,
    /// What it found: why it failed, or what answered.
    pub message: String,
}

/// How long an `http` probe waits between attempts.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// The network probe a `post_verify` block declares, with its `retries`: `None` for a
/// probe that is not `http` or `tcp`. `expand` fills in `{{ inputs.NAME }}`
/// placeholders of the target; its error says why a target has no value.
pub fn network_probe(
    pv: &PostVerify,
    expand: impl Fn(&str) -> Result<String, String>,
) -> Option<Result<(Probe, u32), String>> {
    let timeout = Duration::from_millis(pv.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS));
    let retries = pv.retries.unwrap_or(0);
    let target = |s: &Option<String>| expand(s.as_deref().unwrap_or(""));
    match pv.probe.as_str() {
        "http" => Some(target(&pv.url).map(|url| {
            let probe = Probe::Http {
                url,
                expect_status: pv.expect_status.unwrap_or(200),
                timeout,
            };
            (probe, retries)
        })),
        "tcp" => Some(target(&pv.target).map(|t| (Probe::Tcp { target: t, timeout }, retries))),
        _ => None,
    }
}

/// What a probe that held says, for the record.
pub fn success_message(probe: &Probe) -> String {
    match probe {
        Probe::Http {
            url, expect_status, ..
        } => format!("GET {url} answered {expect_status}"),
        Probe::Tcp { target, .. } => format!("{target} accepts connections"),
    }
}

/// Runs the probes concurrently, each attempt of a round together; a failed probe with
/// retries left is tried again after a second. Results in the order given. Blocking:
/// call it off an async runtime.
pub fn run_with_retries(probes: &[(Probe, u32)]) -> Vec<Result<(), String>> {
    let mut outcomes: Vec<Option<Result<(), String>>> = vec![None; probes.len()];
    let mut attempt = 0;
    loop {
        let pending: Vec<usize> = outcomes
            .iter()
            .zip(probes)
            .enumerate()
            .filter(|(_, (outcome, (_, retries)))| match outcome {
                None => true,
                Some(Err(_)) => attempt <= *retries,
                Some(Ok(())) => false,
            })
            .map(|(i, _)| i)
            .collect();
        if pending.is_empty() {
            break;
        }
        if attempt > 0 {
            std::thread::sleep(RETRY_DELAY);
        }
        let round: Vec<Probe> = pending
            .iter()
            .filter_map(|&i| probes.get(i).map(|(p, _)| p.clone()))
            .collect();
        for (i, outcome) in pending.into_iter().zip(run_all(&round)) {
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(outcome);
            }
        }
        attempt += 1;
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err("the probe did not run".into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_probes_come_from_their_declaration() {
        let http = PostVerify {
            probe: "http".into(),
            url: Some("http://{{ inputs.host }}/health".into()),
            retries: Some(2),
            ..Default::default()
        };
        let expand = |s: &str| Ok(s.replace("{{ inputs.host }}", "db"));
        let Some(Ok((
            Probe::Http {
                url, expect_status, ..
            },
            2,
        ))) = network_probe(&http, expand)
        else {
            panic!("an http probe with two retries");
        };
        assert_eq!((url.as_str(), expect_status), ("http://db/health", 200));
        let unknown = network_probe(&http, |_| Err("input `host` has no known value".into()));
        assert!(matches!(unknown, Some(Err(why)) if why.contains("host")));
        let state = PostVerify {
            probe: "state".into(),
            ..Default::default()
        };
        assert!(network_probe(&state, expand).is_none());
    }
}
