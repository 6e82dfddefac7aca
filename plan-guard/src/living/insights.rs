//! `plan-guard insights`: the ledger read back as suggested refinements of the model, each
//! with its evidence: rules that never fire, findings that are always approved (waiver or
//! looser-profile candidates, with an HCL snippet), addresses that escalate again and
//! again, intents that govern nothing, waivers about to expire.

// Reading a serde_json::Value by key never panics (a missing key reads as null).
#![allow(clippy::indexing_slicing)]

use crate::evidence::records::{CheckRecord, Kind};
use serde::Deserialize as _;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use iom_model::Model;
use iom_store::Evidence;
use serde::Serialize;

use crate::render::printable;

/// How often an address must escalate to be called out.
const REPEATED: usize = 3;
/// Waivers expiring within this many days are called out.
const EXPIRY_DAYS: i64 = 14;

/// The escalations one finding source and rule caused, across the ledger.
#[derive(Default)]
struct Escalations {
    decisions: BTreeSet<String>,
    approved: BTreeSet<String>,
    workspaces: BTreeSet<String>,
    addresses: BTreeSet<String>,
}

/// One suggested refinement of the model, with the ledger's evidence for it.
#[derive(Debug, Serialize)]
pub struct Insight {
    /// What kind: `rule_never_fires`, `always_approved`, `repeated_escalation`, ...
    pub kind: &'static str,
    /// What it is about: a rule, an intent, an address or a waiver.
    pub subject: String,
    /// What the ledger shows.
    pub evidence: String,
    /// What to do about it.
    pub suggestion: String,
    /// HCL to start from, when there is some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hcl: Option<String>,
}

/// What the ledger's check records say, tallied once for every kind of insight.
#[derive(Default)]
struct Tally {
    /// How many check records there are (readable or not).
    checks: usize,
    /// Every (source, rule) that made a finding.
    fired: BTreeSet<(String, String)>,
    /// Every intent that governed a change.
    governing: BTreeSet<String>,
    escalations: BTreeMap<(String, String), Escalations>,
    /// Address → the decisions that escalated it.
    escalated_addresses: BTreeMap<String, BTreeSet<String>>,
}

impl Tally {
    fn read(ledger: &[Evidence]) -> Tally {
        let approved: BTreeSet<&str> = ledger
            .iter()
            .filter(|e| e.kind == Kind::Approval.as_str())
            .map(|e| e.decision_id.as_str())
            .collect();
        let mut tally = Tally::default();
        for c in ledger.iter().filter(|e| e.kind == Kind::Check.as_str()) {
            // A body that does not read suggests nothing (`evidence verify` reports it).
            let body = CheckRecord::deserialize(&c.body).ok();
            // A set of plans is counted through its plans' own records, each approved
            // when the set is.
            if body.as_ref().is_some_and(|b| !b.members.is_empty()) {
                continue;
            }
            tally.checks += 1;
            if let Some(body) = body {
                let set = body.set.as_ref().map(|s| s.decision_id.as_str());
                let approved_here = approved.contains(c.decision_id.as_str())
                    || set.is_some_and(|s| approved.contains(s));
                tally.add(&c.decision_id, body, approved_here);
            }
        }
        tally
    }

    /// Counts one check record of decision `id`, `approved` or not.
    fn add(&mut self, id: &str, body: CheckRecord, approved: bool) {
        let workspace = body.workspace.unwrap_or_default();
        for change in body.changes {
            let address = change.address;
            self.governing.extend(change.governed_by);
            if change.verdict.as_deref() == Some("escalate") {
                self.escalated_addresses
                    .entry(address.clone())
                    .or_default()
                    .insert(id.to_string());
            }
            for f in change.findings {
                let key = (f.source, f.rule);
                self.fired.insert(key.clone());
                if f.outcome.as_deref() == Some("escalate") {
                    let e = self.escalations.entry(key).or_default();
                    e.decisions.insert(id.to_string());
                    if approved {
                        e.approved.insert(id.to_string());
                    }
                    e.workspaces.insert(workspace.clone());
                    e.addresses.insert(address.clone());
                }
            }
        }
    }
}

/// The refinements `ledger` suggests for `model`, at `now_unix`.
pub fn insights(model: &Model, ledger: &[Evidence], now_unix: i64) -> Vec<Insight> {
    let tally = Tally::read(ledger);
    let mut out = Vec::new();
    if tally.checks > 0 {
        unused_rules_and_intents(model, &tally, &mut out);
    }
    always_approved(&tally, &mut out);
    repeated_escalations(&tally, &mut out);
    expiring_waivers(model, now_unix, &mut out);
    out
}

/// Rules that never made a finding and intents that never governed a change.
fn unused_rules_and_intents(model: &Model, tally: &Tally, out: &mut Vec<Insight>) {
    let checks = tally.checks;
    for intent in &model.intents {
        for rule in &intent.rules {
            let key = (rule.source.clone(), rule.id.clone());
            if !tally.fired.contains(&key)
                && out
                    .iter()
                    .all(|i: &Insight| i.subject != format!("{} / {}", key.0, key.1))
            {
                out.push(Insight {
                    kind: "rule_never_fires",
                    subject: format!("{} / {}", key.0, key.1),
                    evidence: format!("no finding in {checks} recorded checks"),
                    suggestion: "check that its resource_types and actions still match what is planned, or retire it".into(),
                    hcl: None,
                });
            }
        }
        if !tally.governing.contains(&intent.name) {
            out.push(Insight {
                kind: "intent_governs_nothing",
                subject: format!("intent:{}", intent.name),
                evidence: format!("it governed no change in {checks} recorded checks"),
                suggestion:
                    "its scope (workspaces, modules) matches nothing planned: fix or remove it"
                        .into(),
                hcl: None,
            });
        }
    }
}

/// Findings that escalated at least twice and were approved every time, with a waiver
/// that would record the same judgement.
fn always_approved(tally: &Tally, out: &mut Vec<Insight>) {
    for ((source, rule), e) in &tally.escalations {
        let (decisions, approvals, workspaces, addresses) =
            (&e.decisions, &e.approved, &e.workspaces, &e.addresses);
        if decisions.len() >= 2 && approvals.len() == decisions.len() {
            let addresses: Vec<&String> = addresses.iter().collect();
            let workspaces: Vec<&String> = workspaces.iter().collect();
            out.push(Insight {
                kind: "always_approved",
                subject: format!("{source} / {rule}"),
                evidence: format!("escalated {} decisions, every one approved", decisions.len()),
                suggestion: "a waiver (time-boxed) or a looser profile would record the same judgement without a human each time".into(),
                hcl: Some(format!(
                    "resource \"iom_waiver\" \"suggested\" {{\n  name        = \"{}\"\n  source      = \"{source}\"\n  rule        = \"{rule}\"\n  addresses   = {}\n  workspaces  = {}\n  reason      = \"approved {} times in a row\"\n  approved_by = \"TODO\"\n  expires     = \"TODO (RFC 3339)\"\n}}\n",
                    format!("{source}-{rule}").replace([':', '/', '@', '.'], "-"),
                    serde_json::to_string(&addresses).unwrap_or_default(),
                    serde_json::to_string(&workspaces).unwrap_or_default(),
                    decisions.len()
                )),
            });
        }
    }
}

/// Addresses escalated in [`REPEATED`] decisions or more.
fn repeated_escalations(tally: &Tally, out: &mut Vec<Insight>) {
    for (address, decisions) in &tally.escalated_addresses {
        if decisions.len() >= REPEATED {
            out.push(Insight {
                kind: "repeated_escalation",
                subject: address.clone(),
                evidence: format!("escalated in {} decisions", decisions.len()),
                suggestion: "a change this routine may deserve its own intent or a waiver".into(),
                hcl: None,
            });
        }
    }
}

/// Waivers that expire within [`EXPIRY_DAYS`].
fn expiring_waivers(model: &Model, now_unix: i64, out: &mut Vec<Insight>) {
    for w in &model.waivers {
        let days = (w.expires_unix - now_unix) / 86_400;
        if w.expires_unix > now_unix && days <= EXPIRY_DAYS {
            out.push(Insight {
                kind: "waiver_expiring",
                subject: format!("waiver:{}", w.name),
                evidence: format!("expires {} ({days} days)", w.expires),
                suggestion: "renew it with a new reason, or fix what it waives".into(),
                hcl: None,
            });
        }
    }
}

/// Insights as lines of text.
pub fn render_text(items: &[Insight]) -> String {
    if items.is_empty() {
        return "No suggestions: the ledger shows nothing to refine.\n".into();
    }
    let mut out = String::new();
    for i in items {
        // Subjects are addresses and names from recorded plans: one line each.
        let _ = writeln!(
            out,
            "{:<22} {}\n  evidence:   {}\n  suggestion: {}",
            i.kind,
            printable(&i.subject),
            printable(&i.evidence),
            printable(&i.suggestion)
        );
        if let Some(hcl) = &i.hcl {
            for line in hcl.lines() {
                let _ = writeln!(out, "    {}", printable(line));
            }
        }
    }
    out
}

/// Insights as Markdown.
pub fn render_markdown(items: &[Insight]) -> String {
    let mut out = String::from(
        "### plan-guard insights\n\n| kind | subject | evidence | suggestion |\n|---|---|---|---|\n",
    );
    for i in items {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            i.kind,
            printable(&i.subject).replace('|', "\\|"),
            printable(&i.evidence),
            printable(&i.suggestion)
        );
    }
    for i in items.iter().filter(|i| i.hcl.is_some()) {
        let _ = writeln!(
            out,
            "\n`{}`:\n\n```hcl\n{}```",
            printable(&i.subject),
            i.hcl
                .as_deref()
                .unwrap_or("")
                .lines()
                .map(|l| format!("{}\n", printable(l)))
                .collect::<String>()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An address recorded from a forged plan stays one line in every insights format.
    #[test]
    fn subjects_from_the_ledger_cannot_forge_lines() {
        let items = [Insight {
            kind: "always-approved",
            subject: "x[\"a\nalways-approved  y\u{1b}[2K\"]".into(),
            evidence: "3 of 3 approved".into(),
            suggestion: "waive it".into(),
            hcl: Some("addresses = [\"x[\\\"a\nb\\\"]\"]\n".into()),
        }];
        for out in [render_text(&items), render_markdown(&items)] {
            assert!(!out.contains('\u{1b}'), "{out}");
            assert!(
                !out.lines().any(|l| l.starts_with("always-approved  y")),
                "{out}"
            );
            assert!(out.contains("x[\"a\\nalways-approved"), "{out}");
        }
    }
}
