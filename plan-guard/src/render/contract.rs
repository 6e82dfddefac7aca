//! The contract sections of a report as plain text (docs/report.md, Contracts and
//! accountability): shared by `--format text` and what `plan-guard approve` shows.

use std::fmt::Write as _;

use crate::decide::surface::{Accountable, ContractSection, InputSection, InputStatus, count};

use super::printable;

/// Longest value shown for an input; longer ones are cut, saying so.
const VALUE_CHARS: usize = 60;

/// Every section, one block each, indented by two spaces.
pub fn contract_text(sections: &[ContractSection]) -> String {
    let mut out = String::new();
    for s in sections {
        section_text(&mut out, s);
    }
    out
}

fn section_text(out: &mut String, s: &ContractSection) {
    let call = if s.call.is_empty() {
        "the root module".to_string()
    } else {
        printable(&s.call).into_owned()
    };
    let _ = writeln!(
        out,
        "Contract {} on {call} ({}, version {}…)",
        printable(&s.contract),
        count(s.changes, "change", "changes"),
        &s.digest[..s.digest.len().min(12)]
    );
    if !s.inputs.is_empty() {
        let _ = writeln!(out, "  inputs");
        for i in &s.inputs {
            let _ = writeln!(out, "    {:<8} {}", status_word(i.status), input_line(i));
        }
    }
    if !s.pre_conditions.is_empty() {
        let _ = writeln!(out, "  pre-conditions");
        for p in &s.pre_conditions {
            let word = if p.passed {
                "passed".to_string()
            } else {
                p.outcome.as_str().to_uppercase()
            };
            let mut line = format!(
                "    {word:<8} {}: {}",
                printable(&p.check),
                printable(&p.checked)
            );
            if let Some(m) = p.message.as_ref().filter(|_| !p.passed) {
                let _ = write!(line, " — {}", printable(m));
            }
            let _ = writeln!(out, "{line}");
        }
    }
    if !s.constraints.is_empty() {
        let _ = writeln!(out, "  constraints in force");
        for k in &s.constraints {
            let _ = writeln!(
                out,
                "    profile {} forbids {} ({})",
                printable(&k.profile),
                printable(&k.forbid_actions.join(", ")),
                k.outcome
            );
        }
    }
    if !s.post_verify.is_empty() {
        let _ = writeln!(out, "  verified after apply");
        for p in &s.post_verify {
            let _ = writeln!(out, "    {}", probe_line(p));
        }
    }
}

fn status_word(status: InputStatus) -> &'static str {
    match status {
        InputStatus::Passed => "ok",
        InputStatus::Failed => "FAILED",
        InputStatus::Unknown => "unknown",
        InputStatus::Unset => "unset",
        InputStatus::NotChecked => "-",
    }
}

/// `name = value  [checks]  — why`, the value never shown for a sensitive input.
pub fn input_line(i: &InputSection) -> String {
    let value = match (&i.value, i.sensitive, i.status) {
        (_, true, _) => "(sensitive, not shown)".to_string(),
        (Some(v), _, _) => shown_value(v),
        (None, _, InputStatus::Unknown) => "(known after apply)".to_string(),
        (None, _, _) => "(not set)".to_string(),
    };
    let mut line = format!("{} = {value}", printable(&i.name));
    if !i.checks.is_empty() {
        let _ = write!(line, "  [{}]", printable(&i.checks.join("; ")));
    }
    if let Some(m) = i
        .message
        .as_ref()
        .filter(|_| i.status != InputStatus::Passed)
    {
        let _ = write!(line, " — {}", printable(m));
    }
    line
}

/// A value as compact JSON, cut to [`VALUE_CHARS`] characters.
pub fn shown_value(v: &serde_json::Value) -> String {
    let text = v.to_string();
    let shown = printable(&text);
    if shown.chars().count() <= VALUE_CHARS {
        return shown.into_owned();
    }
    let cut: String = shown.chars().take(VALUE_CHARS).collect();
    format!("{cut}…")
}

/// `http GET URL expects 200 (2 retries)`, `run_record_written`, …
pub fn probe_line(p: &crate::decide::surface::PostVerifySection) -> String {
    let mut line = printable(&p.probe).into_owned();
    match (p.probe.as_str(), &p.target) {
        ("http", Some(url)) => {
            let _ = write!(line, " GET {}", printable(url));
        }
        ("state", Some(condition)) => {
            let _ = write!(line, " {}", printable(condition));
        }
        (_, Some(target)) => {
            let _ = write!(line, " {}", printable(target));
        }
        (_, None) => {}
    }
    if let Some(status) = p.expect_status {
        let _ = write!(line, " expects {status}");
    }
    if let Some(n) = p.retries.filter(|n| *n > 0) {
        let _ = write!(line, " ({})", count(n as usize, "retry", "retries"));
    }
    line
}

/// `intent payments-prod (owner team-payments)`, one per intent, comma-separated.
pub fn accountable_text(accountable: &[Accountable]) -> String {
    accountable
        .iter()
        .map(|a| match &a.owner {
            Some(owner) => format!(
                "intent {} (owner {})",
                printable(&a.intent),
                printable(owner)
            ),
            None => format!("intent {} (no owner declared)", printable(&a.intent)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
