//! `--format text`: a one-screen summary first, then every change that is not allowed
//! with each finding, its source and reason. Colour only when asked (a TTY without
//! `NO_COLOR`).

use super::contract::{accountable_text, contract_text};
use super::printable;
use crate::decide::plan_set::SetReport;
use crate::decide::report::{ChangeReport, Report, Summary};
use crate::decide::surface::count;
use anstyle::{AnsiColor, Style};
use iom_model::Outcome;
use std::fmt::Write;

fn style(outcome: Outcome) -> Style {
    let color = match outcome {
        Outcome::Allow => AnsiColor::Green,
        Outcome::Warn => AnsiColor::Yellow,
        Outcome::Escalate => AnsiColor::Magenta,
        Outcome::Block => AnsiColor::Red,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, s: &str, style: Style) -> String {
        if self.color {
            format!("{style}{s}{style:#}")
        } else {
            s.to_string()
        }
    }
    fn outcome(&self, o: Outcome, width: usize) -> String {
        let label = format!("{:<width$}", o.as_str().to_uppercase());
        self.paint(&label, style(o))
    }
    fn dim(&self, s: &str) -> String {
        self.paint(s, Style::new().dimmed())
    }
}

/// The report for a terminal or a log; `color` adds ANSI styles.
pub fn render_text(r: &Report, color: bool) -> String {
    let p = Painter { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  workspace {}  ({})",
        p.outcome(r.verdict, 0),
        printable(&r.workspace),
        count(r.summary.changes, "change", "changes")
    );
    action_lines(&mut out, &r.summary);
    plan_lines(&mut out, &p, r);
    let flagged: Vec<&ChangeReport> = r
        .riskiest()
        .into_iter()
        .filter(|c| c.verdict > Outcome::Allow)
        .collect();
    let waived: Vec<(&str, &crate::decide::report::Finding)> = r
        .changes
        .iter()
        .flat_map(|c| {
            c.findings
                .iter()
                .filter(|f| f.waived_by.is_some())
                .map(move |f| (c.address.as_str(), f))
        })
        .collect();
    if flagged.is_empty() && r.verdict == Outcome::Allow {
        let _ = writeln!(out, "\nEvery change is allowed.");
        contract_lines(&mut out, r);
        waived_lines(&mut out, &p, &waived);
        return out;
    }
    let _ = writeln!(out);
    for c in flagged {
        change_lines(&mut out, &p, c);
    }
    contract_lines(&mut out, r);
    waived_lines(&mut out, &p, &waived);
    out
}

/// The summary's counts: the actions (those that occur) and the verdicts.
fn action_lines(out: &mut String, s: &Summary) {
    let mut actions = Vec::new();
    for (n, label) in [
        (s.create, "create"),
        (s.update, "update"),
        (s.replace, "replace"),
        (s.delete, "delete"),
        (s.read, "read"),
        (s.forget, "forget"),
        (s.invoke, "invoke"),
        (s.moved, "move"),
        (s.module, "module"),
        (s.import, "import"),
    ] {
        if n > 0 {
            actions.push(format!("{n} {label}"));
        }
    }
    if !actions.is_empty() {
        let _ = writeln!(out, "  actions   {}", actions.join(", "));
    }
    let _ = writeln!(
        out,
        "  verdicts  {} allow, {} warn, {} escalate, {} block",
        s.allow, s.warn, s.escalate, s.block
    );
}

/// The plan, model and decision lines; what the apply would invoke and what Terraform
/// deferred; the findings about the plan as a whole.
fn plan_lines(out: &mut String, p: &Painter, r: &Report) {
    let tf = printable(r.plan.terraform_version.as_deref().unwrap_or("unknown"));
    let _ = writeln!(
        out,
        "  plan      {} {}",
        printable(&r.plan.source),
        p.dim(&format!(
            "(sha256 {}…, terraform {tf})",
            &r.plan.sha256[..12]
        ))
    );
    let revision = r
        .model
        .revision
        .map(|n| format!(" revision {n}"))
        .unwrap_or_default();
    let _ = writeln!(out, "  model     {}{revision}", printable(&r.model.source));
    let _ = writeln!(out, "  decision  {}", printable(&r.decision_id));
    // Actions run code and deferred changes are not final: both are always listed.
    for c in &r.changes {
        if let Some(trigger) = &c.trigger {
            let _ = writeln!(
                out,
                "  invokes   {} {}",
                printable(&c.address),
                p.dim(&format!("({})", printable(trigger)))
            );
        }
    }
    for c in r.changes.iter().filter(|c| c.deferred.is_some()) {
        let _ = writeln!(out, "  deferred  {} {}", printable(&c.address), c.action);
    }
    for f in &r.findings {
        let _ = writeln!(
            out,
            "  {} {} {}",
            p.outcome(f.outcome, 8),
            p.dim(&format!(
                "[{} / {}]",
                printable(&f.source),
                printable(&f.rule)
            )),
            printable(&f.message)
        );
    }
}

/// A change that is not allowed: its head line, blast radius, findings (strictest
/// first), who is accountable and the contracts it is under.
fn change_lines(out: &mut String, p: &Painter, c: &ChangeReport) {
    let mut head = format!(
        "{} {}  {}",
        p.outcome(c.verdict, 8),
        printable(&c.address),
        c.action
    );
    if let Some(d) = &c.deposed {
        head.push_str(&format!(" (deposed {})", printable(d)));
    }
    if let Some(from) = c.previous_address.as_ref().filter(|p| **p != c.address) {
        head.push_str(&format!(" (moved from {})", printable(from)));
    }
    if let Some(call) = &c.module_call {
        head.push_str(&format!(" (source {}", printable(&call.source)));
        if !call.version.is_empty() {
            head.push_str(&format!(", version {}", printable(&call.version)));
        }
        head.push(')');
    }
    let _ = writeln!(out, "{head}");
    if c.blast_radius.transitive > 0 {
        let _ = writeln!(
            out,
            "         {}",
            p.dim(&format!(
                "blast radius: {} direct, {} transitive",
                c.blast_radius.direct, c.blast_radius.transitive
            ))
        );
    }
    for f in c
        .findings
        .iter()
        .rev()
        .filter(|f| f.outcome > Outcome::Allow)
    {
        let _ = writeln!(
            out,
            "  {} {} {}",
            p.outcome(f.outcome, 8),
            p.dim(&source_rule(f)),
            printable(&f.message)
        );
    }
    if !c.accountable.is_empty() {
        let _ = writeln!(
            out,
            "         accountable: {}",
            accountable_text(&c.accountable)
        );
    }
    if !c.contracts.is_empty() {
        let _ = writeln!(
            out,
            "         {}",
            p.dim(&format!(
                "under contract {} (below)",
                printable(&c.contracts.join(", "))
            ))
        );
    }
}

/// The contract of every governed call with a change, passing or not.
fn contract_lines(out: &mut String, r: &Report) {
    if !r.contracts.is_empty() {
        out.push('\n');
        out.push_str(&contract_text(&r.contracts));
    }
}

/// Findings a waiver turned into allows: listed, so an exception is never silent.
fn waived_lines(out: &mut String, p: &Painter, waived: &[(&str, &crate::decide::report::Finding)]) {
    if waived.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nWaived ({}):",
        count(waived.len(), "finding", "findings")
    );
    for (address, f) in waived {
        let _ = writeln!(
            out,
            "  {} {} {}",
            printable(address),
            p.dim(&source_rule(f)),
            printable(&f.message)
        );
    }
}

/// `[source / rule]` of a finding; a rule can be named after a contract input or a
/// workspace, so both are escaped.
fn source_rule(f: &crate::decide::report::Finding) -> String {
    format!("[{} / {}]", printable(&f.source), printable(&f.rule))
}

/// `--format text` of a set of plans: the set's verdict, counts and decision, a line per
/// plan, then each plan's report as a check of it alone would print it.
pub fn render_set_text(set: &SetReport, color: bool) -> String {
    let p = Painter { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  set of {}  ({})",
        p.outcome(set.verdict, 0),
        count(set.plans.len(), "plan", "plans"),
        count(set.summary.changes, "change", "changes")
    );
    action_lines(&mut out, &set.summary);
    let revision = set
        .model
        .revision
        .map(|n| format!(" revision {n}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  model     {}{revision}",
        printable(&set.model.source)
    );
    let _ = writeln!(out, "  decision  {}", printable(&set.decision_id));
    for (n, r) in set.plans.iter().enumerate() {
        let _ = writeln!(
            out,
            "  plan {}    {} workspace {}  {} {}",
            n + 1,
            p.outcome(r.verdict, 8),
            printable(&r.workspace),
            printable(&r.plan.source),
            p.dim(&format!("(decision {})", printable(&r.decision_id)))
        );
    }
    for (n, r) in set.plans.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n=== plan {} of {}: workspace {}\n",
            n + 1,
            set.plans.len(),
            printable(&r.workspace)
        );
        out.push_str(&render_text(r, color));
    }
    out
}
