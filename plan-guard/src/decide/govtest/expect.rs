//! What a governance test case expects of its report, and how the report differs.
//!
//! Changes are named by address; a deposed object is `ADDRESS (deposed KEY)`, as the
//! report lists it beside the current object; `*` names every change of the report. Every list is compared exactly and in
//! report order, except `messages`, whose fragments each must appear in some finding's
//! message. A finding is written `OUTCOME SOURCE/RULE`, with ` waived by WAIVER` when a
//! waiver settled it.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use iom_model::{ActionClass, Outcome};
use serde::Deserialize;

use super::TestCase;
use crate::decide::report::{ChangeReport, Finding, Report};

/// The name that stands for every change of the report.
const EVERY: &str = "*";

/// A change's expected blast radius: how many objects it reaches, which, or both.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Blast {
    Transitive(usize),
    Addresses(Vec<String>),
    Both {
        addresses: Vec<String>,
        transitive: usize,
    },
}

/// A case's expectations, with its words (verdicts, classes) already read.
pub(super) struct Expectations<'c> {
    case: &'c TestCase,
    verdict: Option<Outcome>,
    changes: Vec<(&'c str, Outcome)>,
    classes: Vec<(&'c str, ActionClass)>,
}

impl<'c> Expectations<'c> {
    /// Reads the case's expectations; a case that expects nothing is an error, since
    /// it could never fail.
    pub(super) fn of(case: &'c TestCase) -> Result<Expectations<'c>> {
        if expects_nothing(case) {
            bail!(
                "the test expects nothing: give verdict, exit_code, every_change, absent, \
                 summary, changes, classes, findings, messages, governed_by or blast_radius"
            );
        }
        let verdict = case.verdict.as_deref().map(parse_outcome).transpose()?;
        let changes = case
            .changes
            .iter()
            .map(|(a, v)| Ok((a.as_str(), parse_outcome(v)?)))
            .collect::<Result<_>>()?;
        let classes = case
            .classes
            .iter()
            .map(|(a, c)| {
                let class = c.parse().map_err(|e: String| anyhow!("classes.{a}: {e}"))?;
                Ok((a.as_str(), class))
            })
            .collect::<Result<_>>()?;
        Ok(Expectations {
            case,
            verdict,
            changes,
            classes,
        })
    }

    /// Each way `report` differs from what the case expects, one line each.
    pub(super) fn differences(&self, report: &Report) -> Vec<String> {
        let mut out = Vec::new();
        self.plan_level(report, &mut out);
        for (address, expected) in &self.changes {
            for c in lookup(report, address, &mut out) {
                if c.verdict != *expected {
                    out.push(format!(
                        "{}: expected {expected}, got {} ({})",
                        key(c),
                        c.verdict,
                        finding_names(&c.findings)
                    ));
                }
            }
        }
        for (address, expected) in &self.classes {
            for c in lookup(report, address, &mut out) {
                if c.action != *expected {
                    out.push(format!(
                        "{}: expected class {expected}, got {}",
                        key(c),
                        c.action
                    ));
                }
            }
        }
        self.per_change(report, &mut out);
        out
    }

    fn plan_level(&self, report: &Report, out: &mut Vec<String>) {
        if let Some(expected) = self.verdict
            && report.verdict != expected
        {
            out.push(format!(
                "verdict: expected {expected}, got {}",
                report.verdict
            ));
        }
        if let Some(expected) = self.case.exit_code {
            let got = report.exit_code();
            if got != expected {
                out.push(format!("exit_code: expected {expected}, got {got}"));
            }
        }
        if let Some(expected) = &self.case.every_change {
            let got: Vec<String> = report.changes.iter().map(key).collect();
            if &got != expected {
                out.push(format!("every_change: expected {expected:?}, got {got:?}"));
            }
        }
        for address in &self.case.absent {
            if report.changes.iter().any(|c| &c.address == address) {
                out.push(format!(
                    "{address}: expected absent, but the report judges it"
                ));
            }
        }
        summary_differences(report, &self.case.summary, out);
    }

    fn per_change(&self, report: &Report, out: &mut Vec<String>) {
        let case = self.case;
        for (address, expected) in &case.findings {
            for c in lookup(report, address, out) {
                let got: Vec<String> = c.findings.iter().map(finding_line).collect();
                if &got != expected {
                    out.push(format!(
                        "{}: expected findings {expected:?}, got {got:?}",
                        key(c)
                    ));
                }
            }
        }
        for (address, fragments) in &case.messages {
            for c in lookup(report, address, out) {
                message_differences(c, fragments, out);
            }
        }
        for (address, expected) in &case.governed_by {
            for c in lookup(report, address, out) {
                if &c.governed_by != expected {
                    out.push(format!(
                        "{}: expected governed_by {expected:?}, got {:?}",
                        key(c),
                        c.governed_by
                    ));
                }
            }
        }
        for (address, expected) in &case.blast_radius {
            for c in lookup(report, address, out) {
                blast_differences(c, expected, out);
            }
        }
    }
}

fn expects_nothing(case: &TestCase) -> bool {
    case.verdict.is_none()
        && case.exit_code.is_none()
        && case.every_change.is_none()
        && case.absent.is_empty()
        && case.summary.is_empty()
        && case.changes.is_empty()
        && case.classes.is_empty()
        && case.findings.is_empty()
        && case.messages.is_empty()
        && case.governed_by.is_empty()
        && case.blast_radius.is_empty()
}

fn parse_outcome(word: &str) -> Result<Outcome> {
    word.parse().map_err(|e: String| anyhow!(e))
}

/// A change's name in expectations: its address, and its deposed key when it has one.
fn key(c: &ChangeReport) -> String {
    match &c.deposed {
        Some(d) => format!("{} (deposed {d})", c.address),
        None => c.address.clone(),
    }
}

/// The changes `name` stands for: the one so named, or with `*` every change. None is
/// a difference of its own, so an expectation never passes for want of a change.
fn lookup<'r>(report: &'r Report, name: &str, out: &mut Vec<String>) -> Vec<&'r ChangeReport> {
    let found: Vec<&ChangeReport> = if name == EVERY {
        report.changes.iter().collect()
    } else {
        report.changes.iter().filter(|c| key(c) == name).collect()
    };
    if found.is_empty() {
        out.push(format!(
            "{name}: expected in the report, but the plan does not change it"
        ));
    }
    found
}

fn finding_line(f: &Finding) -> String {
    let line = format!("{} {}/{}", f.outcome, f.source, f.rule);
    match &f.waived_by {
        Some(w) => format!("{line} waived by {w}"),
        None => line,
    }
}

fn finding_names(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings".into();
    }
    let names: Vec<String> = findings
        .iter()
        .map(|f| format!("{}/{}", f.source, f.rule))
        .collect();
    names.join(", ")
}

/// Compares the counts the case names with the report's summary; a count the summary
/// does not have is a difference too, so a misspelt name cannot pass.
fn summary_differences(report: &Report, expected: &BTreeMap<String, usize>, out: &mut Vec<String>) {
    if expected.is_empty() {
        return;
    }
    let counts = serde_json::to_value(&report.summary).unwrap_or_default();
    for (name, want) in expected {
        match counts.get(name).and_then(serde_json::Value::as_u64) {
            None => out.push(format!("summary.{name}: the summary has no such count")),
            Some(got) if got != *want as u64 => {
                out.push(format!("summary.{name}: expected {want}, got {got}"));
            }
            Some(_) => {}
        }
    }
}

fn message_differences(c: &ChangeReport, fragments: &[String], out: &mut Vec<String>) {
    let address = key(c);
    for fragment in fragments {
        if !c
            .findings
            .iter()
            .any(|f| f.message.contains(fragment.as_str()))
        {
            out.push(format!(
                "{address}: no finding's message contains {fragment:?} ({} findings)",
                c.findings.len()
            ));
        }
    }
}

fn blast_differences(c: &ChangeReport, expected: &Blast, out: &mut Vec<String>) {
    let address = key(c);
    let radius = &c.blast_radius;
    let (count, list) = match expected {
        Blast::Transitive(n) => (Some(n), None),
        Blast::Addresses(list) => (None, Some(list)),
        Blast::Both {
            addresses,
            transitive,
        } => (Some(transitive), Some(addresses)),
    };
    if let Some(n) = count
        && radius.transitive != *n
    {
        out.push(format!(
            "{address}: expected blast radius {n}, got {}",
            radius.transitive
        ));
    }
    if let Some(list) = list
        && &radius.addresses != list
    {
        out.push(format!(
            "{address}: expected blast radius {list:?}, got {:?}",
            radius.addresses
        ));
    }
}
