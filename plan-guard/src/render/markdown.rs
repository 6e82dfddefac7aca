//! `--format markdown`: a pull/merge-request comment. The verdict and summary first, a
//! table of every change that is not allowed with its findings, collapsible details with
//! blast radius, and a Mermaid picture of the riskiest changes' blast radius (bounded: a
//! few changes, a few dependents each). The whole comment stays under GitHub's 65,536
//! characters and says what it left out.

use std::fmt::Write as _;

use iom_model::Outcome;

use super::printable;
use crate::decide::plan_set::SetReport;
use crate::decide::report::{ChangeReport, Report, Summary};
use crate::decide::surface::{ContractSection, InputStatus, count};

/// GitHub rejects comments over 65,536 characters; keep a margin for what CI adds.
pub const MAX_CHARS: usize = 60_000;
/// Changes and dependents drawn in the Mermaid graph.
const GRAPH_CHANGES: usize = 5;
const GRAPH_DEPENDENTS: usize = 8;
/// Blast-radius addresses listed per change in the details.
const LISTED_DEPENDENTS: usize = 20;

fn badge(o: Outcome) -> &'static str {
    match o {
        Outcome::Allow => "✅ allow",
        Outcome::Warn => "⚠️ warn",
        Outcome::Escalate => "🟠 escalate",
        Outcome::Block => "⛔ block",
    }
}

/// Text safe in a table cell: no pipes, no HTML, and line breaks, other controls and
/// bidi overrides shown as escapes ([`printable`]).
pub(super) fn cell(s: &str) -> String {
    printable(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// An inline code span of `s`, shown exactly as written: code spans do not interpret
/// HTML, so nothing is entity-escaped; the fence is longer than any run of backticks
/// inside. In a table cell (`in_table`) pipes are escaped, which GitHub undoes.
pub(super) fn code(s: &str, in_table: bool) -> String {
    let mut text = printable(s).into_owned();
    if in_table {
        text = text.replace('|', "\\|");
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The report as a pull or merge request comment, cut to fit a forge's comment limit.
pub fn render_markdown(r: &Report) -> String {
    markdown_within(r, "###", MAX_CHARS)
}

/// The comment of one plan under a heading of level `heading` (`###`), in at most about
/// `max_chars` characters.
fn markdown_within(r: &Report, heading: &str, max_chars: usize) -> String {
    let mut out = String::new();
    summary_markdown(&mut out, r, heading);
    plan_level_lines(&mut out, r);
    let flagged: Vec<&ChangeReport> = r
        .riskiest()
        .into_iter()
        .filter(|c| c.verdict > Outcome::Allow)
        .collect();
    let contracts = contracts_markdown(&r.contracts, max_chars / 3);
    if flagged.is_empty() && r.verdict == Outcome::Allow {
        out.push_str("Every change is allowed.\n");
        out.push_str(&contracts);
        return out;
    }

    let graph = mermaid(&flagged);
    // Room for the table and details: the graph, the contracts and a closing note are
    // always kept.
    let budget = max_chars.saturating_sub(out.len() + graph.len() + contracts.len() + 400);
    let mut body = String::from("| verdict | change | action | findings |\n|---|---|---|---|\n");
    let mut details = String::from("\n<details><summary>Blast radius of each change</summary>\n\n");
    let mut shown = 0;
    for c in &flagged {
        let row = format!(
            "| {} | {} | {} | {} |\n",
            badge(c.verdict),
            code(&c.address, true),
            action_cell(c),
            finding_cells(c).join("<br>")
        );
        let detail = blast_detail(c);
        if body.len() + details.len() + row.len() + detail.len() > budget {
            break;
        }
        body.push_str(&row);
        details.push_str(&detail);
        shown += 1;
    }
    details.push_str("\n</details>\n");
    out.push_str(&body);
    if shown < flagged.len() {
        let _ = writeln!(
            out,
            "\n_{} left out to stay under GitHub's comment limit; the JSON report (`--format json`) has them all._",
            count(
                flagged.len() - shown,
                "more flagged change is",
                "more flagged changes are"
            )
        );
    }
    out.push_str(&details);
    out.push_str(&graph);
    out.push_str(&contracts);
    out
}

/// The heading with the verdict and workspace, the counts, and the decision line.
fn summary_markdown(out: &mut String, r: &Report, heading: &str) {
    let s = &r.summary;
    let _ = writeln!(
        out,
        "{heading} plan-guard: {} — workspace {}\n",
        badge(r.verdict),
        code(&r.workspace, false)
    );
    let _ = writeln!(
        out,
        "**{}**: {}  \nVerdicts: {} allow · {} warn · {} escalate · {} block\n",
        count(s.changes, "change", "changes"),
        action_counts(s),
        s.allow,
        s.warn,
        s.escalate,
        s.block
    );
    let revision = r
        .model
        .revision
        .map(|n| format!(" (revision {n})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<sub>decision `{}` · plan sha256 `{}` · terraform {} · model {}{revision}</sub>\n",
        r.decision_id,
        &r.plan.sha256[..r.plan.sha256.len().min(12)],
        cell(r.plan.terraform_version.as_deref().unwrap_or("unknown")),
        code(&r.model.source, false)
    );
}

/// "1 create, 0 update, …": every action class, each counted.
fn action_counts(s: &Summary) -> String {
    format!(
        "{} create, {} update, {} replace, {} delete, {} read, {} forget, {} invoke, {} move, {}{} import",
        s.create,
        s.update,
        s.replace,
        s.delete,
        s.read,
        s.forget,
        s.invoke,
        s.moved,
        module_count(s.module),
        s.import,
    )
}

/// A flagged change's findings that are not allowed, then who is accountable.
fn finding_cells(c: &ChangeReport) -> Vec<String> {
    c.findings
        .iter()
        .filter(|f| f.outcome > Outcome::Allow)
        .map(|f| {
            format!(
                "**{}** {}: {}",
                f.outcome,
                code(&format!("{} / {}", f.source, f.rule), true),
                cell(&f.message)
            )
        })
        .chain((!c.accountable.is_empty()).then(|| {
            format!(
                "accountable: {}",
                cell(&super::contract::accountable_text(&c.accountable))
            )
        }))
        .collect()
}

/// The action cell: the class, with a module call's source and version, or where a
/// moved object comes from.
fn action_cell(c: &ChangeReport) -> String {
    match (&c.module_call, c.previous_address.as_ref()) {
        (Some(call), _) if call.version.is_empty() => {
            format!("{} {}", c.action, code(&call.source, true))
        }
        (Some(call), _) => format!(
            "{} {} {}",
            c.action,
            code(&call.source, true),
            code(&call.version, true)
        ),
        (None, Some(from)) if *from != c.address => {
            format!("{} (moved from {})", c.action, code(from, true))
        }
        (None, _) => c.action.to_string(),
    }
}

/// A flagged change's line in the blast-radius details: its counts and the first
/// addresses.
fn blast_detail(c: &ChangeReport) -> String {
    let mut detail = format!(
        "* {}: {} direct, {} transitive",
        code(&c.address, false),
        c.blast_radius.direct,
        c.blast_radius.transitive
    );
    if !c.blast_radius.addresses.is_empty() {
        let listed: Vec<String> = c
            .blast_radius
            .addresses
            .iter()
            .take(LISTED_DEPENDENTS)
            .map(|a| code(a, false))
            .collect();
        let more = c
            .blast_radius
            .addresses
            .len()
            .saturating_sub(LISTED_DEPENDENTS);
        let _ = write!(detail, " — {}", listed.join(", "));
        if more > 0 {
            let _ = write!(detail, " and {more} more");
        }
    }
    detail.push('\n');
    detail
}

/// `--format markdown` of a set of plans: one comment with the set's verdict and
/// decision, a table of the plans, then each plan's section (under a smaller heading,
/// each within its share of the comment limit).
pub fn render_set_markdown(set: &SetReport) -> String {
    let mut out = String::new();
    let s = &set.summary;
    let _ = writeln!(
        out,
        "### plan-guard: {} — set of {}\n",
        badge(set.verdict),
        count(set.plans.len(), "plan", "plans")
    );
    let _ = writeln!(
        out,
        "**{}**: {}  \nVerdicts: {} allow · {} warn · {} escalate · {} block\n",
        count(s.changes, "change", "changes"),
        action_counts(s),
        s.allow,
        s.warn,
        s.escalate,
        s.block
    );
    out.push_str("| plan | workspace | verdict | changes | decision |\n|---|---|---|---|---|\n");
    for (n, r) in set.plans.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | `{}` |",
            n + 1,
            code(&r.plan.source, true),
            code(&r.workspace, true),
            badge(r.verdict),
            r.summary.changes,
            r.decision_id
        );
    }
    let revision = set
        .model
        .revision
        .map(|n| format!(" (revision {n})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\n<sub>decision `{}` (the set: approve it as a whole) · model {}{revision}</sub>\n",
        set.decision_id,
        code(&set.model.source, false)
    );
    let share = MAX_CHARS.saturating_sub(out.len()) / set.plans.len().max(1);
    for r in &set.plans {
        out.push_str(&markdown_within(r, "####", share));
        out.push('\n');
    }
    out
}

/// The contract of every governed call with a change, as a heading and a table of its
/// inputs each, then its pre-conditions, constraints and post-verify probes; at most
/// `budget` characters (what does not fit is counted, not cut mid-table).
fn contracts_markdown(sections: &[ContractSection], budget: usize) -> String {
    let mut out = String::new();
    for (i, s) in sections.iter().enumerate() {
        let one = contract_markdown(s);
        if out.len() + one.len() > budget {
            let _ = writeln!(
                out,
                "\n_{} not shown here; the JSON report has every one._",
                count(
                    sections.len() - i,
                    "more contract section is",
                    "more contract sections are"
                )
            );
            break;
        }
        out.push_str(&one);
    }
    out
}

fn contract_markdown(s: &ContractSection) -> String {
    let mut out = String::new();
    let call = if s.call.is_empty() {
        "the root module".to_string()
    } else {
        code(&s.call, false)
    };
    let _ = writeln!(
        out,
        "\n#### Contract {} on {call} ({}, version `{}`)\n",
        code(&s.contract, false),
        count(s.changes, "change", "changes"),
        &s.digest[..s.digest.len().min(12)]
    );
    if !s.inputs.is_empty() {
        out.push_str("| input | value | checks | outcome |\n|---|---|---|---|\n");
        for i in &s.inputs {
            let value = match (&i.value, i.sensitive) {
                (_, true) => "_sensitive, not shown_".to_string(),
                (Some(v), _) => code(&super::contract::shown_value(v), true),
                (None, _) if i.status == InputStatus::Unknown => "_known after apply_".into(),
                (None, _) => "_not set_".into(),
            };
            let outcome = match (i.status, &i.message) {
                (InputStatus::Passed, _) => "✅ passed".to_string(),
                (InputStatus::Unset, _) => "unset".to_string(),
                (InputStatus::NotChecked, _) => "not checked".to_string(),
                (InputStatus::Unknown, _) => "❔ unknown until apply".to_string(),
                (InputStatus::Failed, Some(m)) => format!("⛔ {}", cell(m)),
                (InputStatus::Failed, None) => "⛔ failed".to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {value} | {} | {outcome} |",
                code(&i.name, true),
                cell(&i.checks.join("; "))
            );
        }
        out.push('\n');
    }
    let items = |v: Vec<String>| v.join(" · ");
    if !s.pre_conditions.is_empty() {
        let list: Vec<String> = s
            .pre_conditions
            .iter()
            .map(|p| {
                let mark = if p.passed {
                    "✅".to_string()
                } else {
                    format!("{}:", badge(p.outcome))
                };
                let mut text = format!("{mark} {} {}", code(&p.check, false), cell(&p.checked));
                if let Some(m) = p.message.as_ref().filter(|_| !p.passed) {
                    let _ = write!(text, " ({})", cell(m));
                }
                text
            })
            .collect();
        let _ = writeln!(out, "Pre-conditions: {}  ", items(list));
    }
    if !s.constraints.is_empty() {
        let list: Vec<String> = s
            .constraints
            .iter()
            .map(|k| {
                format!(
                    "profile {} forbids {} ({})",
                    code(&k.profile, false),
                    cell(&k.forbid_actions.join(", ")),
                    k.outcome
                )
            })
            .collect();
        let _ = writeln!(out, "Constraints in force: {}  ", items(list));
    }
    if !s.post_verify.is_empty() {
        let list: Vec<String> = s
            .post_verify
            .iter()
            .map(|p| code(&super::contract::probe_line(p), false))
            .collect();
        let _ = writeln!(out, "Verified after apply: {}", items(list));
    }
    out
}

/// What is always listed, allowed or not: findings about the whole plan, the actions the
/// apply would invoke, and the changes Terraform deferred.
fn plan_level_lines(out: &mut String, r: &Report) {
    let before = out.len();
    for f in &r.findings {
        let _ = writeln!(
            out,
            "- **{}** {}: {}",
            f.outcome,
            code(&format!("{} / {}", f.source, f.rule), false),
            cell(&f.message)
        );
    }
    for c in &r.changes {
        if let Some(trigger) = &c.trigger {
            let _ = writeln!(
                out,
                "- invokes {} ({})",
                code(&c.address, false),
                cell(trigger)
            );
        }
        if let Some(reason) = &c.deferred {
            let _ = writeln!(
                out,
                "- deferred {} {} ({})",
                c.action,
                code(&c.address, false),
                cell(reason)
            );
        }
    }
    if out.len() > before {
        out.push('\n');
    }
}

/// The riskiest flagged changes and what depends on them, as a Mermaid flowchart.
fn mermaid(flagged: &[&ChangeReport]) -> String {
    let drawn: Vec<&&ChangeReport> = flagged
        .iter()
        .filter(|c| !c.blast_radius.addresses.is_empty())
        .take(GRAPH_CHANGES)
        .collect();
    if drawn.is_empty() {
        return String::new();
    }
    let mut g = String::from(
        "\n<details><summary>Blast radius graph (an arrow: in the change's blast radius, directly or through others)</summary>\n\n```mermaid\nflowchart LR\n",
    );
    let mut ids: Vec<String> = Vec::new();
    let mut id_of = |address: &str, g: &mut String| -> usize {
        if let Some(i) = ids.iter().position(|a| a == address) {
            return i;
        }
        ids.push(address.to_string());
        let _ = writeln!(
            g,
            "  n{}[\"{}\"]",
            ids.len() - 1,
            printable(address).replace('"', "#quot;")
        );
        ids.len() - 1
    };
    for c in &drawn {
        let from = id_of(&c.address, &mut g);
        let _ = writeln!(g, "  class n{from} {}", c.verdict.as_str());
        for dep in c.blast_radius.addresses.iter().take(GRAPH_DEPENDENTS) {
            let to = id_of(dep, &mut g);
            // Dotted: the report lists what a change reaches, not the edges between.
            let _ = writeln!(g, "  n{from} -.-> n{to}");
        }
        let more = c
            .blast_radius
            .addresses
            .len()
            .saturating_sub(GRAPH_DEPENDENTS);
        if more > 0 {
            let _ = writeln!(g, "  n{from} -.-> m{from}[\"… {more} more\"]");
        }
    }
    g.push_str("  classDef escalate fill:#ffe0b2,stroke:#e65100\n  classDef block fill:#ffcdd2,stroke:#b71c1c\n  classDef warn fill:#fff9c4,stroke:#f9a825\n");
    let left = flagged
        .iter()
        .filter(|c| !c.blast_radius.addresses.is_empty())
        .count()
        .saturating_sub(drawn.len());
    g.push_str("```\n");
    if left > 0 {
        let _ = writeln!(
            g,
            "\n_{} not drawn._",
            count(
                left,
                "more change with a blast radius is",
                "more changes with a blast radius are"
            )
        );
    }
    g.push_str("\n</details>\n");
    g
}

/// The count of judged module calls, only when there are some (a model without module
/// rules reports as it did before them).
pub(crate) fn module_count(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("{n} module, ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_reports_stay_under_the_comment_limit_and_say_so() {
        let mut r = crate::testing::sample_report();
        let template = r.changes[0].clone();
        r.changes = (0..5000)
            .map(|i| {
                let mut c = template.clone();
                c.address = format!("module.m[{i}].aws_db_instance.main");
                c.blast_radius.addresses = (0..50)
                    .map(|j| format!("module.m[{i}].aws_instance.app[{j}]"))
                    .collect();
                c.blast_radius.transitive = 50;
                c
            })
            .collect();
        let md = render_markdown(&r);
        assert!(md.len() <= MAX_CHARS, "{} chars", md.len());
        assert!(
            md.contains("more flagged changes are left out"),
            "says what it left out"
        );
        assert!(md.contains("```mermaid") && md.contains("… 42 more"));
        assert!(md.contains("more changes with a blast radius are not drawn"));
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc<d>"), "a\\|b\\nc&lt;d&gt;");
    }

    #[test]
    fn code_spans_show_addresses_as_written() {
        // No entities inside code (GitHub would show `&lt;` literally), and a backtick
        // in a for_each key cannot end the span.
        assert_eq!(code(r#"x.k["<img>"]"#, false), r#"`x.k["<img>"]`"#);
        assert_eq!(code("x.k[\"a`b\"]", false), "``x.k[\"a`b\"]``");
        assert_eq!(code("`k`", false), "`` `k` ``");
        assert_eq!(code("a|b", true), "`a\\|b`");
    }
}
