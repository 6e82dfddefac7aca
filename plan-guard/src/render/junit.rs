//! `--format junit`: JUnit XML for CI test tabs. One test suite per governing intent (and
//! one for ungoverned changes), one test case per change it governs; a block is a
//! failure, an escalation a failure or an error (`--junit-escalations`), a warning passes
//! with its findings in `system-out`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use iom_model::Outcome;

use crate::decide::plan_set::SetReport;
use crate::decide::report::{ChangeReport, Report};

/// How an escalated change shows in JUnit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escalations {
    /// A failed test case, as a block is.
    #[default]
    Failure,
    /// An errored test case, for CI that tells errors from failures.
    Error,
}

impl Escalations {
    /// Both, in the order help lists them.
    pub const ALL: [Escalations; 2] = [Escalations::Failure, Escalations::Error];

    /// The name `--junit-escalations` takes.
    pub fn name(self) -> &'static str {
        match self {
            Escalations::Failure => "failure",
            Escalations::Error => "error",
        }
    }
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The report as JUnit XML: a test suite of the plan, a test case per change.
pub fn render_junit(r: &Report, escalations: Escalations) -> String {
    let suites = suites_of(r, escalations, None);
    document(&format!("plan-guard {}", r.workspace), &[suites])
}

/// `--format junit` of a set of plans: every plan's suites in one document, each named
/// `WORKSPACE / SUITE` and carrying its plan's decision and workspace.
pub fn render_set_junit(set: &SetReport, escalations: Escalations) -> String {
    let suites: Vec<Suites> = set
        .plans
        .iter()
        .map(|r| suites_of(r, escalations, Some(&r.workspace)))
        .collect();
    let name = format!(
        "plan-guard {} ({})",
        set.decision_id,
        crate::decide::surface::count(set.plans.len(), "plan", "plans")
    );
    document(&name, &suites)
}

/// The `testsuite` elements of one plan, and their totals.
struct Suites {
    xml: String,
    tests: usize,
    failures: usize,
    errors: usize,
}

/// The `testsuites` document around `suites`.
fn document(name: &str, suites: &[Suites]) -> String {
    let (tests, failures, errors) = suites.iter().fold((0, 0, 0), |(t, f, e), s| {
        (t + s.tests, f + s.failures, e + s.errors)
    });
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">",
        xml(name)
    );
    suites.iter().for_each(|s| out.push_str(&s.xml));
    out.push_str("</testsuites>\n");
    out
}

/// One suite per governing intent (and `ungoverned`), and `plan` for findings about the
/// whole plan; in a set, each named after its plan's `workspace` too.
fn suites_of(r: &Report, escalations: Escalations, workspace: Option<&str>) -> Suites {
    let mut suites: BTreeMap<String, Vec<&ChangeReport>> = BTreeMap::new();
    for c in &r.changes {
        if c.governed_by.is_empty() {
            suites.entry("ungoverned".into()).or_default().push(c);
        }
        for intent in &c.governed_by {
            suites
                .entry(format!("intent:{intent}"))
                .or_default()
                .push(c);
        }
    }
    let count = |cs: &[&ChangeReport], o: Outcome| cs.iter().filter(|c| c.verdict == o).count();
    let (total_fail, total_err) = suites.values().fold((0, 0), |(f, e), cs| {
        let (bf, be) = split(cs, escalations, count);
        (f + bf, e + be)
    });
    let plan_verdict = r.findings.iter().map(|f| f.outcome).max();
    let plan_tag = plan_verdict.and_then(|v| tag_of(v, escalations));
    let named = |name: &str| match workspace {
        Some(w) => format!("{w} / {name}"),
        None => name.to_string(),
    };
    let mut out = String::new();
    if let Some(verdict) = plan_verdict {
        plan_suite(&mut out, r, verdict, plan_tag, &named("plan"));
    }
    for (name, cases) in &suites {
        let (failures, errors) = split(cases, escalations, count);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" timestamp=\"{}\">",
            xml(&named(name)),
            cases.len(),
            xml(&r.generated_at)
        );
        let workspace_property = workspace
            .map(|w| format!("<property name=\"workspace\" value=\"{}\"/>", xml(w)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    <properties><property name=\"decision_id\" value=\"{}\"/><property name=\"plan_sha256\" value=\"{}\"/>{workspace_property}</properties>",
            xml(&r.decision_id),
            xml(&r.plan.sha256)
        );
        for c in cases {
            case(&mut out, c, escalations);
        }
        out.push_str("  </testsuite>\n");
    }
    Suites {
        xml: out,
        tests: suites.values().map(Vec::len).sum::<usize>() + usize::from(plan_verdict.is_some()),
        failures: total_fail + usize::from(plan_tag == Some("failure")),
        errors: total_err + usize::from(plan_tag == Some("error")),
    }
}

fn split(
    cases: &[&ChangeReport],
    escalations: Escalations,
    count: impl Fn(&[&ChangeReport], Outcome) -> usize,
) -> (usize, usize) {
    let (block, escalate) = (
        count(cases, Outcome::Block),
        count(cases, Outcome::Escalate),
    );
    match escalations {
        Escalations::Failure => (block + escalate, 0),
        Escalations::Error => (block, escalate),
    }
}

fn case(out: &mut String, c: &ChangeReport, escalations: Escalations) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{} {}\"",
        xml(&c.ty),
        xml(&c.address),
        c.action
    );
    let mut findings: Vec<String> = c
        .findings
        .iter()
        .filter(|f| f.outcome > Outcome::Allow || f.waived_by.is_some())
        .map(|f| format!("{} [{} / {}] {}", f.outcome, f.source, f.rule, f.message))
        .collect();
    if findings.is_empty() {
        out.push_str("/>\n");
        return;
    }
    // Who is accountable for a flagged change, for whoever reads the failed case.
    if !c.accountable.is_empty() {
        findings.push(format!(
            "accountable: {}",
            super::contract::accountable_text(&c.accountable)
        ));
    }
    out.push_str(">\n");
    let text = xml(&findings.join("\n"));
    let first = c
        .findings
        .iter()
        .find(|f| f.outcome == c.verdict)
        .map(|f| f.message.as_str())
        .unwrap_or("");
    match tag_of(c.verdict, escalations) {
        Some(tag) => {
            let _ = writeln!(
                out,
                "      <{tag} type=\"{}\" message=\"{}\">{text}</{tag}>",
                c.verdict.as_str(),
                xml(first)
            );
        }
        None => {
            let _ = writeln!(out, "      <system-out>{text}</system-out>");
        }
    }
    out.push_str("    </testcase>\n");
}

/// A block fails; an escalation fails or errs as `--junit-escalations` says.
fn tag_of(verdict: Outcome, escalations: Escalations) -> Option<&'static str> {
    match (verdict, escalations) {
        (Outcome::Block, _) | (Outcome::Escalate, Escalations::Failure) => Some("failure"),
        (Outcome::Escalate, Escalations::Error) => Some("error"),
        _ => None,
    }
}

/// Findings about the plan as a whole (an incomplete plan): a suite `plan` of one case.
fn plan_suite(out: &mut String, r: &Report, verdict: Outcome, tag: Option<&str>, name: &str) {
    let (failures, errors) = (
        usize::from(tag == Some("failure")),
        usize::from(tag == Some("error")),
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"1\" failures=\"{failures}\" errors=\"{errors}\" timestamp=\"{}\">",
        xml(name),
        xml(&r.generated_at)
    );
    let text: Vec<String> = r
        .findings
        .iter()
        .map(|f| format!("{} [{} / {}] {}", f.outcome, f.source, f.rule, f.message))
        .collect();
    let text = xml(&text.join("\n"));
    let _ = writeln!(
        out,
        "    <testcase classname=\"plan\" name=\"the plan as a whole\">"
    );
    match tag {
        Some(tag) => {
            let _ = writeln!(
                out,
                "      <{tag} type=\"{}\" message=\"{}\">{text}</{tag}>",
                verdict.as_str(),
                xml(r.findings.first().map(|f| f.message.as_str()).unwrap_or(""))
            );
        }
        None => {
            let _ = writeln!(out, "      <system-out>{text}</system-out>");
        }
    }
    out.push_str("    </testcase>\n  </testsuite>\n");
}
