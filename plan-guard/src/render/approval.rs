//! What `plan-guard approve` shows before it asks (docs/cli.md, approve): the decision as
//! the ledger's `check` record holds it — each escalated or blocked change with its
//! findings, blast radius, accountable owners and who may approve it, then the contract
//! sections the decision was given on. Drawn from the record, not from a new check, so
//! the approver sees exactly what is being approved; text a person typed or a plan named
//! is escaped ([`printable`]).

// Indexing a `serde_json::Value` by key or position never panics (a missing key reads
// as null), and every string cut here is cut at `min(len, n)` of ASCII hex.
#![allow(clippy::indexing_slicing)]

use std::fmt::Write as _;

use serde_json::Value;

use super::contract::{accountable_text, contract_text};
use super::printable;
use crate::decide::surface::{Accountable, ContractSection, count};
use crate::evidence::ProfileApprovers;

/// Blast-radius addresses listed per change; the rest are counted.
const LISTED_DEPENDENTS: usize = 20;

/// The approval surface of the `check` record `check` of `decision_id`.
pub fn render_approval_surface(decision_id: &str, check: &Value) -> String {
    let mut out = String::new();
    let text = |v: &Value| printable(v.as_str().unwrap_or("?")).into_owned();
    let _ = writeln!(
        out,
        "Decision {} in workspace {}: {}, checked by {}",
        printable(decision_id),
        text(&check["workspace"]),
        text(&check["verdict"]).to_uppercase(),
        text(&check["actor"]),
    );
    let sha = check["plan"]["sha256"].as_str().unwrap_or("");
    let _ = writeln!(
        out,
        "  plan      {} (sha256 {}…)",
        text(&check["plan"]["source"]),
        printable(&sha[..sha.len().min(12)])
    );
    let digest = check["model"]["digest"].as_str().unwrap_or("");
    let _ = writeln!(
        out,
        "  model     {} (digest {}…)",
        text(&check["model"]["source"]),
        printable(&digest[..digest.len().min(12)])
    );
    let approvers: Vec<ProfileApprovers> =
        serde_json::from_value(check["approvers"].clone()).unwrap_or_default();
    let author = check["actor"].as_str().unwrap_or("");
    for f in check["findings"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  {}", finding_line(f));
    }
    let changes: Vec<&Value> = check["changes"].as_array().into_iter().flatten().collect();
    let flagged: Vec<&&Value> = changes
        .iter()
        .filter(|c| matches!(c["verdict"].as_str(), Some("escalate" | "block")))
        .collect();
    let _ = writeln!(
        out,
        "  changes   {}, {} to decide on",
        count(changes.len(), "change", "changes"),
        flagged.len()
    );
    for c in flagged {
        change_lines(&mut out, c, &approvers, author);
    }
    let sections: Vec<ContractSection> =
        serde_json::from_value(check["contracts"].clone()).unwrap_or_default();
    if !sections.is_empty() {
        out.push('\n');
        out.push_str(&contract_text(&sections));
    }
    out
}

fn finding_line(f: &Value) -> String {
    let s = |k: &str| printable(f[k].as_str().unwrap_or("")).into_owned();
    format!(
        "{:<8} [{} / {}] {}",
        s("outcome").to_uppercase(),
        s("source"),
        s("rule"),
        s("message")
    )
}

fn change_lines(out: &mut String, c: &Value, approvers: &[ProfileApprovers], author: &str) {
    let s = |v: &Value| printable(v.as_str().unwrap_or("?")).into_owned();
    let _ = writeln!(
        out,
        "\n{:<8} {}  {}",
        s(&c["verdict"]).to_uppercase(),
        s(&c["address"]),
        s(&c["action"])
    );
    let radius = &c["blast_radius"];
    let addresses: Vec<String> = radius["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| printable(a.as_str().unwrap_or("?")).into_owned())
        .collect();
    let mut line = format!(
        "  blast radius: {} direct, {} transitive",
        radius["direct"], radius["transitive"]
    );
    if !addresses.is_empty() {
        let listed = addresses.iter().take(LISTED_DEPENDENTS).cloned();
        let _ = write!(line, ": {}", listed.collect::<Vec<_>>().join(", "));
        let more = addresses.len().saturating_sub(LISTED_DEPENDENTS);
        if more > 0 {
            let _ = write!(line, " and {more} more");
        }
    }
    let _ = writeln!(out, "{line}");
    for f in c["findings"].as_array().into_iter().flatten() {
        if f["outcome"] != "allow" {
            let _ = writeln!(out, "  {}", finding_line(f));
        }
    }
    let accountable: Vec<Accountable> =
        serde_json::from_value(c["accountable"].clone()).unwrap_or_default();
    if !accountable.is_empty() {
        let _ = writeln!(out, "  accountable: {}", accountable_text(&accountable));
    }
    if c["verdict"] == "block" {
        let _ = writeln!(
            out,
            "  may approve: nobody (a blocked change is never approved)"
        );
        return;
    }
    let profiles: Vec<&str> = c["approval_profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if profiles.is_empty() {
        let _ = writeln!(
            out,
            "  may approve: nobody (no profile stands behind its escalation)"
        );
    }
    for p in approvers
        .iter()
        .filter(|p| profiles.contains(&p.profile.as_str()))
    {
        let _ = writeln!(
            out,
            "  may approve: profile {}: {}",
            printable(&p.profile),
            printable(&who_may(p, author))
        );
    }
}

/// "one of alice, bob, carol (group platform: bob, carol)": the people, and the groups
/// they come from as the profile names them.
fn who_may(p: &ProfileApprovers, author: &str) -> String {
    let mut text = p.who(author, 0);
    if !p.groups.is_empty() {
        let groups: Vec<String> = p
            .groups
            .iter()
            .map(|(g, members)| format!("group {g}: {}", members.join(", ")))
            .collect();
        let _ = write!(text, " ({})", groups.join("; "));
    }
    if p.require_distinct_approver && p.approvers.iter().any(|a| a == author) {
        let _ = write!(text, "; not {author}, who ran the check");
    }
    text
}
