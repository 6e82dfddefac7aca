//! What `plan-guard approve` shows before it asks (docs/cli.md, approve): the decision as
//! the ledger's `check` record holds it — each escalated or blocked change with its
//! findings, blast radius, accountable owners and who may approve it, then the contract
//! sections the decision was given on. Drawn from the record, not from a new check, so
//! the approver sees exactly what is being approved; text a person typed or a plan named
//! is escaped ([`printable`]).

use std::fmt::Write as _;

use iom_model::Outcome;
use serde::Deserialize;
use serde_json::Value;

use super::contract::{accountable_text, contract_text};
use super::printable;
use crate::decide::surface::{Accountable, ContractSection, count};
use crate::evidence::ProfileApprovers;

/// Blast-radius addresses listed per change; the rest are counted.
const LISTED_DEPENDENTS: usize = 20;

/// What the surface reads of a `check` record. Fields an older plan-guard did not write
/// read as empty.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Recorded {
    actor: String,
    approvers: Vec<ProfileApprovers>,
    changes: Vec<RecordedChange>,
    contracts: Vec<ContractSection>,
    findings: Vec<RecordedFinding>,
    model: Pin,
    plan: Pin,
    verdict: Option<Outcome>,
    workspace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Pin {
    digest: String,
    sha256: String,
    source: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordedChange {
    accountable: Vec<Accountable>,
    action: String,
    address: String,
    /// Absent for a change no profile entitles anyone to approve.
    approval_profiles: Option<Vec<String>>,
    blast_radius: Radius,
    findings: Vec<RecordedFinding>,
    verdict: Option<Outcome>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Radius {
    addresses: Vec<String>,
    direct: usize,
    transitive: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordedFinding {
    message: String,
    outcome: Option<Outcome>,
    rule: String,
    source: String,
}

/// The approval surface of the `check` record `check` of `decision_id`.
pub fn render_approval_surface(decision_id: &str, check: &Value) -> String {
    let r = match Recorded::deserialize(check) {
        Ok(r) => r,
        Err(e) => return format!("The check record of {decision_id} is unreadable: {e}\n"),
    };
    let mut out = String::new();
    let verdict = r.verdict.map_or("?".into(), |v| v.as_str().to_uppercase());
    let _ = writeln!(
        out,
        "Decision {} in workspace {}: {verdict}, checked by {}",
        printable(decision_id),
        printable(&r.workspace),
        printable(&r.actor),
    );
    let _ = writeln!(
        out,
        "  plan      {} (sha256 {}…)",
        printable(r.plan.source.as_deref().unwrap_or("?")),
        printable(&short(&r.plan.sha256))
    );
    let _ = writeln!(
        out,
        "  model     {} (digest {}…)",
        printable(r.model.source.as_deref().unwrap_or("?")),
        printable(&short(&r.model.digest))
    );
    for f in &r.findings {
        let _ = writeln!(out, "  {}", finding_line(f));
    }
    let flagged: Vec<&RecordedChange> = r
        .changes
        .iter()
        .filter(|c| c.verdict >= Some(Outcome::Escalate))
        .collect();
    let _ = writeln!(
        out,
        "  changes   {}, {} to decide on",
        count(r.changes.len(), "change", "changes"),
        flagged.len()
    );
    for c in flagged {
        change_lines(&mut out, c, &r.approvers, &r.actor);
    }
    if !r.contracts.is_empty() {
        out.push('\n');
        out.push_str(&contract_text(&r.contracts));
    }
    out
}

/// The first 12 characters of a hex digest.
fn short(hex: &str) -> String {
    hex.chars().take(12).collect()
}

fn finding_line(f: &RecordedFinding) -> String {
    format!(
        "{:<8} [{} / {}] {}",
        f.outcome.map_or("?".into(), |o| o.as_str().to_uppercase()),
        printable(&f.source),
        printable(&f.rule),
        printable(&f.message)
    )
}

fn change_lines(
    out: &mut String,
    c: &RecordedChange,
    approvers: &[ProfileApprovers],
    author: &str,
) {
    let verdict = c.verdict.map_or("?".into(), |v| v.as_str().to_uppercase());
    let _ = writeln!(
        out,
        "\n{verdict:<8} {}  {}",
        printable(&c.address),
        printable(&c.action)
    );
    let radius = &c.blast_radius;
    let mut line = format!(
        "  blast radius: {} direct, {} transitive",
        radius.direct, radius.transitive
    );
    if !radius.addresses.is_empty() {
        let listed: Vec<String> = radius
            .addresses
            .iter()
            .take(LISTED_DEPENDENTS)
            .map(|a| printable(a).into_owned())
            .collect();
        let _ = write!(line, ": {}", listed.join(", "));
        let more = radius.addresses.len().saturating_sub(LISTED_DEPENDENTS);
        if more > 0 {
            let _ = write!(line, " and {more} more");
        }
    }
    let _ = writeln!(out, "{line}");
    for f in c
        .findings
        .iter()
        .filter(|f| f.outcome > Some(Outcome::Allow))
    {
        let _ = writeln!(out, "  {}", finding_line(f));
    }
    if !c.accountable.is_empty() {
        let _ = writeln!(out, "  accountable: {}", accountable_text(&c.accountable));
    }
    if c.verdict == Some(Outcome::Block) {
        let _ = writeln!(
            out,
            "  may approve: nobody (a blocked change is never approved)"
        );
        return;
    }
    let profiles = c.approval_profiles.as_deref().unwrap_or_default();
    if profiles.is_empty() {
        let _ = writeln!(
            out,
            "  may approve: nobody (no profile stands behind its escalation)"
        );
    }
    for p in approvers.iter().filter(|p| profiles.contains(&p.profile)) {
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
