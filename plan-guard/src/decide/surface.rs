//! The approval surface (docs/report.md, Contracts and accountability): what a person who
//! decides on a change sees besides its findings. For every governed module call with a
//! changed resource, the contract that governs it — each input with its value (never a
//! sensitive one) and how it fared, each pre-condition with what it checked and its
//! outcome, the constraints in force under the workspace's profiles, and the post-verify
//! probes a governed apply will run; and for every escalated or blocked change, the
//! owners of the intents whose findings raised it.

use std::collections::{BTreeMap, BTreeSet};

use iom_model::{CompiledIntent, Contract, ContractInput, InputValue, Model, Outcome};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::decide::report::Finding;

/// One contract applied to one module call, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractSection {
    /// `module.a.module.b`, or `""` for the root module.
    pub call: String,
    /// Judged changes of resources in the call (and the calls under it).
    pub changes: usize,
    /// The constraints whose profile governs this workspace.
    pub constraints: Vec<ConstraintInForce>,
    /// The contract's name.
    pub contract: String,
    /// SHA-256 of the contract as declared: the version an approval was given on.
    pub digest: String,
    /// Every input the contract declares, in its order.
    pub inputs: Vec<InputSection>,
    /// Its post-verify probes.
    pub post_verify: Vec<PostVerifySection>,
    /// Its pre-conditions and how each came out.
    pub pre_conditions: Vec<PreConditionSection>,
}

/// One contract input as an approver sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSection {
    /// What the contract checks of it, in words: `type string`, `required`, `one of a, b`.
    pub checks: Vec<String>,
    /// Why it failed or could not be checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The input's name.
    pub name: String,
    /// Declared sensitive by the module or the variable it comes from: never shown.
    pub sensitive: bool,
    /// How its checks came out.
    pub status: InputStatus,
    /// The value the module receives, when it is known and not sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// How a contract input's checks came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputStatus {
    /// Known, and every check passed.
    Passed,
    /// Known, and a check failed.
    Failed,
    /// Unknown until apply; the governing profile's `on_unknown` decided.
    Unknown,
    /// Not set, and not required.
    Unset,
    /// The call is gone from the configuration: its inputs are not checked.
    NotChecked,
}

/// One pre-condition and how it came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreConditionSection {
    /// The check (`profile_active`, `http_ok`, ...).
    pub check: String,
    /// What it checked: `profile prod-safe`, `element ledger`, a `host:port` or a URL
    /// (without credentials); never a sensitive input's value.
    pub checked: String,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `allow` when it passed, else the outcome its failure gave.
    pub outcome: Outcome,
    /// Whether it held.
    pub passed: bool,
}

/// A contract constraint whose profile governs the workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintInForce {
    /// The action classes it forbids.
    pub forbid_actions: Vec<String>,
    /// The outcome of a forbidden action.
    pub outcome: Outcome,
    /// The profile it applies under.
    pub profile: String,
}

/// One post-verify probe as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostVerifySection {
    /// The HTTP status an `http` probe expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    /// The probe (`http`, `tcp`, `state`, `run_record_written`).
    pub probe: String,
    /// Attempts beyond the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// The URL, `host:port` or condition it checks, as far as known before apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The owner of an intent whose finding raised a change's verdict.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Accountable {
    /// The intent whose finding raised the change's verdict.
    pub intent: String,
    /// The intent's `owner`, when it declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// The SHA-256 (hex) of a contract as declared (canonical JSON of its object).
pub fn contract_digest(contract: &Contract) -> String {
    let json = serde_json::to_string(contract).unwrap_or_default();
    crate::plan::hex_digest(&Sha256::digest(json.as_bytes()))
}

/// What a contract checks of one input, in words.
pub fn input_checks(decl: &ContractInput) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(ty) = &decl.ty {
        out.push(format!("type {ty}"));
    }
    if decl.required {
        out.push("required".into());
    }
    if !decl.allowed.is_empty() {
        let allowed: Vec<String> = decl
            .allowed
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        out.push(format!("one of {}", allowed.join(", ")));
    }
    if let Some(min) = decl.min {
        out.push(format!("at least {min}"));
    }
    if let Some(max) = decl.max {
        out.push(format!("at most {max}"));
    }
    if let Some(pattern) = &decl.pattern {
        out.push(format!("matches {pattern}"));
    }
    out
}

/// One input of a governed call as the section shows it: `problem` is the contract's
/// verdict on it (`Some((message, unknown))` when it failed or could not be checked),
/// `checked` false when the call's inputs were not checked at all.
pub fn input_section(
    decl: &ContractInput,
    value: Option<&InputValue>,
    sensitive: bool,
    problem: Option<(&str, bool)>,
    checked: bool,
) -> InputSection {
    let status = match (checked, problem, value) {
        (false, _, _) => InputStatus::NotChecked,
        (_, Some((_, true)), _) | (_, None, Some(InputValue::Unknown)) => InputStatus::Unknown,
        (_, Some((_, false)), _) => InputStatus::Failed,
        (_, None, None | Some(InputValue::Known(serde_json::Value::Null))) => InputStatus::Unset,
        (_, None, Some(InputValue::Known(_))) => InputStatus::Passed,
    };
    let shown = match value {
        Some(InputValue::Known(v)) if !sensitive && !v.is_null() => Some(v.clone()),
        _ => None,
    };
    InputSection {
        checks: input_checks(decl),
        message: problem.map(|(m, _)| m.to_string()),
        name: decl.name.clone(),
        sensitive,
        status,
        value: shown,
    }
}

/// A URL as shown to people: any `user:password@` taken out.
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// The owners of the intents whose findings raised a change to escalate or block: the
/// intent a finding names, the governing intents under the profile a finding names, the
/// governing intents that carry the blueprint rule, or for any other source (contracts,
/// drift, other workspaces) every governing intent. A change no intent governs has none.
pub fn accountable(
    findings: &[Finding],
    verdict: Outcome,
    governing: &[&CompiledIntent],
    model: &Model,
) -> Vec<Accountable> {
    if verdict < Outcome::Escalate {
        return Vec::new();
    }
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for f in findings.iter().filter(|f| f.outcome >= Outcome::Escalate) {
        let named: Vec<&str> = if let Some(i) = f.source.strip_prefix("intent:") {
            governing
                .iter()
                .filter(|it| it.name == i)
                .map(|it| it.name.as_str())
                .collect()
        } else if let Some(p) = f.source.strip_prefix("profile:") {
            governing
                .iter()
                .filter(|it| it.profile == p)
                .map(|it| it.name.as_str())
                .collect()
        } else {
            let carrying: Vec<&str> = governing
                .iter()
                .filter(|it| it.rules.iter().any(|r| r.source == f.source))
                .map(|it| it.name.as_str())
                .collect();
            if carrying.is_empty() {
                governing.iter().map(|it| it.name.as_str()).collect()
            } else {
                carrying
            }
        };
        names.extend(named);
    }
    let owners: BTreeMap<&str, Option<&String>> = model
        .spec
        .intents
        .iter()
        .map(|i| (i.name.as_str(), i.owner.as_ref()))
        .collect();
    names
        .into_iter()
        .map(|name| Accountable {
            intent: name.to_string(),
            owner: owners.get(name).copied().flatten().cloned(),
        })
        .collect()
}

/// Compares addresses as people read them: runs of digits by their number, so
/// `spoke[2]` sorts before `spoke[10]`; everything else character by character. Equal
/// numbers written differently (`01`, `1`) fall back to their text, so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.chars().next(), y.chars().next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let (dx, rx) = split_digits(x);
                let (dy, ry) = split_digits(y);
                let (nx, ny) = (dx.trim_start_matches('0'), dy.trim_start_matches('0'));
                let by_number = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
                if by_number.is_ne() {
                    return by_number;
                }
                (x, y) = (rx, ry);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                (x, y) = (
                    x.strip_prefix(c).unwrap_or_default(),
                    y.strip_prefix(d).unwrap_or_default(),
                );
            }
        }
    }
}

/// The leading ASCII digits of `s`, and the rest.
fn split_digits(s: &str) -> (&str, &str) {
    s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()))
}

/// "1 change", "2 changes": a count with its noun in the right number (`plural` is the
/// noun's plural form).
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_in_a_url() {
        assert_eq!(
            without_credentials("https://u:p@svc.internal:8443/health?x=1"),
            "https://svc.internal:8443/health?x=1"
        );
        assert_eq!(
            without_credentials("http://svc/a@b"),
            "http://svc/a@b",
            "an @ in the path is not userinfo"
        );
        assert_eq!(without_credentials("10.0.0.1:5432"), "10.0.0.1:5432");
    }

    #[test]
    fn instance_keys_sort_naturally() {
        let mut v = vec![
            "hub.spoke[10]",
            "hub.spoke[2]",
            "hub.spoke[1]",
            "a[\"b10\"]",
            "a[\"b9\"]",
            "hub.spoke[02]",
            "hub",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "a[\"b9\"]",
                "a[\"b10\"]",
                "hub",
                "hub.spoke[1]",
                "hub.spoke[02]",
                "hub.spoke[2]",
                "hub.spoke[10]",
            ]
        );
    }

    #[test]
    fn counts_are_grammatical() {
        assert_eq!(count(1, "change", "changes"), "1 change");
        assert_eq!(count(0, "change", "changes"), "0 changes");
        assert_eq!(count(2, "dependency", "dependencies"), "2 dependencies");
    }
}
