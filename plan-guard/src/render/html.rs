//! `--format html`: one self-contained page for a change advisory board — no network, no
//! external assets. The summary, every change with its findings, and an interactive
//! blast-radius view: choosing a change lists what depends on it. The report data rides
//! in the page as JSON (with `<` escaped, so no value can close the script element).

use std::fmt::Write as _;

use iom_model::Outcome;

use crate::decide::plan_set::SetReport;
use crate::decide::report::{ChangeReport, Report};
use crate::decide::surface::{ContractSection, InputStatus, count};

/// Text for HTML: entities for markup, and control and bidi characters from a plan shown
/// as escapes ([`super::printable`]) so an override cannot reorder what a reviewer reads.
fn esc(s: &str) -> String {
    super::printable(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d1d1f}\
h1{font-size:1.4rem}.v{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;font-weight:600}\
.allow{background:#d7f5dd}.warn{background:#fff4c2}.escalate{background:#ffe0b2}.block{background:#ffcdd2}\
table{border-collapse:collapse;width:100%;margin-top:1rem}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}\
tr.change{cursor:pointer}tr.change:hover,tr.selected{background:#eef3ff}code{font-size:.9em}\
#radius{margin-top:1.5rem;padding:1rem;border:1px solid #ccd;border-radius:.4rem}ul.findings{margin:0;padding-left:1.1rem}\
figure{margin:1rem 0;padding:.5rem;border:1px solid #ccd;border-radius:.4rem;overflow-x:auto}figcaption{font-weight:600;margin-bottom:.3rem}\
svg.radius-graph{max-width:100%;height:auto}section.contract{margin-top:1.5rem}section.contract h2{font-size:1.1rem}\
.passed{color:#1b5e20}.failed{color:#b71c1c}.accountable{color:#444}";

const SCRIPT: &str = r#"(function () {
  var report = JSON.parse(document.getElementById('report-data').textContent);
  var panel = document.getElementById('radius');
  function show(i) {
    var c = report.changes[i];
    document.querySelectorAll('tr.change').forEach(function (row) {
      row.classList.toggle('selected', row.dataset.index === String(i));
    });
    panel.textContent = '';
    var h = document.createElement('h2');
    h.textContent = 'Blast radius of ' + c.address + ': ' + c.blast_radius.direct + ' direct, ' +
      c.blast_radius.transitive + ' transitive';
    panel.appendChild(h);
    var list = document.createElement('ul');
    c.blast_radius.addresses.forEach(function (a) {
      var li = document.createElement('li');
      var code = document.createElement('code');
      code.textContent = a;
      li.appendChild(code);
      list.appendChild(li);
    });
    if (!c.blast_radius.addresses.length) {
      var none = document.createElement('p');
      none.textContent = 'Nothing depends on it.';
      panel.appendChild(none);
    }
    panel.appendChild(list);
  }
  document.querySelectorAll('tr.change').forEach(function (row) {
    row.addEventListener('click', function () { show(Number(row.dataset.index)); });
  });
  var first = document.querySelector('tr.change');
  if (first) { show(Number(first.dataset.index)); }
  document.body.dataset.ready = '1';
})();"#;

/// The report as one self-contained HTML page (no external resources, no links).
pub fn render_html(r: &Report) -> String {
    let mut out = page_start(&format!("{} — {}", r.verdict, esc(&r.workspace)));
    let _ = write!(
        out,
        "<h1>plan-guard: <span id=\"verdict\" class=\"v {v}\">{v}</span> — workspace <code>{}</code></h1>",
        esc(&r.workspace),
        v = r.verdict.as_str(),
    );
    counts_html(&mut out, r);
    let mut at = Place {
        row: 0,
        graph: 0,
        suffix: String::new(),
        radius_here: true,
    };
    plan_html(&mut out, r, &mut at);
    page_end(out, &crate::render::render_json(r), SCRIPT)
}

/// `--format html` of a set of plans: one page with the set's verdict and decision, a
/// table of its plans, then a section per plan as the page of that plan alone shows it.
/// Choosing a change in any section shows its blast radius.
pub fn render_set_html(set: &SetReport) -> String {
    let mut out = page_start(&format!(
        "{} — {}",
        set.verdict,
        count(set.plans.len(), "plan", "plans")
    ));
    let _ = write!(
        out,
        "<h1>plan-guard: <span id=\"verdict\" class=\"v {v}\">{v}</span> — set of {}</h1>\
         <p><small>decision <code>{}</code> (the set: approve it as a whole) · model <code>{}</code> · {}</small></p>\
         <table><thead><tr><th>plan</th><th>workspace</th><th>verdict</th><th>changes</th><th>decision</th></tr></thead><tbody>",
        count(set.plans.len(), "plan", "plans"),
        esc(&set.decision_id),
        esc(&set.model.source),
        esc(&set.generated_at),
        v = set.verdict.as_str(),
    );
    for (n, r) in set.plans.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><td>{} <code>{}</code></td><td><code>{}</code></td><td><span class=\"v {v}\">{v}</span></td><td>{}</td><td><code>{}</code></td></tr>",
            n + 1,
            esc(&r.plan.source),
            esc(&r.workspace),
            r.summary.changes,
            esc(&r.decision_id),
            v = r.verdict.as_str(),
        );
    }
    out.push_str("</tbody></table>");
    let mut at = Place {
        row: 0,
        graph: 0,
        suffix: String::new(),
        radius_here: false,
    };
    for (n, r) in set.plans.iter().enumerate() {
        let _ = write!(
            out,
            "<section class=\"plan\" id=\"plan-{}\"><h2>plan {}: <span class=\"v {v}\">{v}</span> — workspace <code>{}</code></h2>",
            n + 1,
            n + 1,
            esc(&r.workspace),
            v = r.verdict.as_str(),
        );
        counts_html(&mut out, r);
        at.suffix = format!("-{}", n + 1);
        plan_html(&mut out, r, &mut at);
        out.push_str("</section>");
    }
    out.push_str("<section id=\"radius\" aria-live=\"polite\"></section>");
    // The page's script finds a change by its row's index among every plan's changes.
    let script = SCRIPT.replacen(
        "report.changes[i]",
        "report.plans.reduce(function (all, p) { return all.concat(p.changes); }, [])[i]",
        1,
    );
    page_end(out, &crate::render::render_set_json(set), &script)
}

/// Where a plan's part of a page starts: the index of its first change row and first
/// graph among the page's, the suffix of its element ids, and whether the blast-radius
/// panel follows its table (one plan) or comes at the end (a set).
struct Place {
    row: usize,
    graph: usize,
    suffix: String,
    radius_here: bool,
}

/// The document's head, with `title` (already escaped) after `plan-guard: `.
fn page_start(title: &str) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width\"><title>plan-guard: {title}</title><style>{STYLE}</style></head><body>"
    );
    out
}

/// The report's data (JSON, with `<` escaped so no value can close the element) and the
/// page's script, closing the page.
fn page_end(mut out: String, json: &str, script: &str) -> String {
    let data = json.replace('<', "\\u003c");
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"report-data\">{data}</script><script>{script}</script></body></html>"
    );
    out
}

/// A plan's counts, and its decision, digest, Terraform and model.
fn counts_html(out: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = write!(
        out,
        "<p>{}: {} create, {} update, {} replace, {} delete, {} read, {} forget, {} invoke, {} move, {}{} import. \
         Verdicts: {} allow, {} warn, {} escalate, {} block.</p>\
         <p><small>decision <code>{}</code> · plan sha256 <code>{}</code> · terraform {} · model <code>{}</code> · {}</small></p>",
        count(s.changes, "change", "changes"),
        s.create,
        s.update,
        s.replace,
        s.delete,
        s.read,
        s.forget,
        s.invoke,
        s.moved,
        crate::render::markdown::module_count(s.module),
        s.import,
        s.allow,
        s.warn,
        s.escalate,
        s.block,
        esc(&r.decision_id),
        esc(&r.plan.sha256),
        esc(r.plan.terraform_version.as_deref().unwrap_or("unknown")),
        esc(&r.model.source),
        esc(&r.generated_at),
    );
}

/// A plan's findings about the whole plan, its table of changes (riskiest first), the
/// blast-radius graphs of flagged changes and its contracts.
fn plan_html(out: &mut String, r: &Report, at: &mut Place) {
    if !r.findings.is_empty() {
        let _ = write!(
            out,
            "<ul class=\"findings\" id=\"plan-findings{}\">",
            at.suffix
        );
        for f in &r.findings {
            let _ = write!(
                out,
                "<li><b>{}</b> <code>{} / {}</code> {}</li>",
                f.outcome,
                esc(&f.source),
                esc(&f.rule),
                esc(&f.message)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("<table><thead><tr><th>verdict</th><th>change</th><th>action</th><th>findings</th><th>blast radius</th></tr></thead><tbody>");
    let changes = r.riskiest();
    for c in &changes {
        let index = at.row
            + r.changes
                .iter()
                .position(|x| std::ptr::eq(x, *c))
                .unwrap_or(0);
        change_row(out, c, index);
    }
    at.row += r.changes.len();
    out.push_str("</tbody></table>");
    if at.radius_here {
        out.push_str("<section id=\"radius\" aria-live=\"polite\"></section>");
    }
    at.graph += graphs(out, &changes, at.graph, &at.suffix);
    for s in &r.contracts {
        contract_html(out, s);
    }
}

/// A change's row: verdict, address, action, findings that are not allowed (or were
/// waived) and who is accountable, and its blast radius's counts.
fn change_row(out: &mut String, c: &ChangeReport, index: usize) {
    let mut findings: String = c
        .findings
        .iter()
        .filter(|f| f.outcome > Outcome::Allow || f.waived_by.is_some())
        .map(|f| {
            format!(
                "<li><b>{}</b> <code>{} / {}</code> {}</li>",
                f.outcome,
                esc(&f.source),
                esc(&f.rule),
                esc(&f.message)
            )
        })
        .collect();
    if !c.accountable.is_empty() {
        let _ = write!(
            findings,
            "<li class=\"accountable\">accountable: {}</li>",
            esc(&super::contract::accountable_text(&c.accountable))
        );
    }
    let _ = write!(
        out,
        "<tr class=\"change\" data-index=\"{index}\"><td><span class=\"v {v}\">{v}</span></td><td><code>{}</code></td><td>{}</td><td><ul class=\"findings\">{findings}</ul></td><td>{} / {}</td></tr>",
        esc(&c.address),
        action_cell(c),
        c.blast_radius.direct,
        c.blast_radius.transitive,
        v = c.verdict.as_str(),
    );
}

/// Each flagged change's blast radius as a graph (inline SVG, drawn without the script),
/// numbered from `first` in the page; returns how many were numbered.
fn graphs(out: &mut String, riskiest: &[&ChangeReport], first: usize, suffix: &str) -> usize {
    let drawn: Vec<(usize, &&ChangeReport)> = riskiest
        .iter()
        .filter(|c| c.verdict > Outcome::Allow && !c.blast_radius.addresses.is_empty())
        .enumerate()
        .collect();
    if drawn.is_empty() {
        return 0;
    }
    let _ = write!(
        out,
        "<section id=\"graphs{suffix}\"><h2>Blast radius graphs</h2>"
    );
    for (n, c) in &drawn {
        let Some(svg) = super::blast_svg::blast_svg(c, first + n) else {
            continue;
        };
        let _ = write!(
            out,
            "<figure><figcaption><span class=\"v {v}\">{v}</span> <code>{}</code>: {} direct, {} transitive</figcaption>{svg}</figure>",
            esc(&c.address),
            c.blast_radius.direct,
            c.blast_radius.transitive,
            v = c.verdict.as_str(),
        );
    }
    out.push_str("</section>");
    drawn.len()
}

/// One contract section: its inputs as a table, then pre-conditions, constraints in
/// force and post-verify probes as lists.
fn contract_html(out: &mut String, s: &ContractSection) {
    let call = if s.call.is_empty() {
        "the root module".to_string()
    } else {
        format!("<code>{}</code>", esc(&s.call))
    };
    let _ = write!(
        out,
        "<section class=\"contract\"><h2>Contract <code>{}</code> on {call} <small>({}, version <code>{}</code>)</small></h2>",
        esc(&s.contract),
        count(s.changes, "change", "changes"),
        esc(&s.digest[..s.digest.len().min(12)])
    );
    if !s.inputs.is_empty() {
        out.push_str("<table><thead><tr><th>input</th><th>value</th><th>checks</th><th>outcome</th></tr></thead><tbody>");
        for i in &s.inputs {
            let value = match (&i.value, i.sensitive) {
                (_, true) => "<i>sensitive, not shown</i>".to_string(),
                (Some(v), _) => format!("<code>{}</code>", esc(&super::contract::shown_value(v))),
                (None, _) if i.status == InputStatus::Unknown => "<i>known after apply</i>".into(),
                (None, _) => "<i>not set</i>".into(),
            };
            let outcome = match i.status {
                InputStatus::Passed => "<span class=\"passed\">passed</span>".to_string(),
                InputStatus::Failed => format!(
                    "<span class=\"failed\">failed</span> {}",
                    esc(i.message.as_deref().unwrap_or(""))
                ),
                InputStatus::Unknown => "unknown until apply".to_string(),
                InputStatus::Unset => "unset".to_string(),
                InputStatus::NotChecked => "not checked".to_string(),
            };
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{value}</td><td>{}</td><td>{outcome}</td></tr>",
                esc(&i.name),
                esc(&i.checks.join("; "))
            );
        }
        out.push_str("</tbody></table>");
    }
    if !s.pre_conditions.is_empty() {
        out.push_str("<p>Pre-conditions:</p><ul class=\"findings\">");
        for p in &s.pre_conditions {
            let mark = if p.passed {
                "<span class=\"passed\">passed</span>".to_string()
            } else {
                format!("<span class=\"v {v}\">{v}</span>", v = p.outcome.as_str())
            };
            let why = p
                .message
                .as_ref()
                .filter(|_| !p.passed)
                .map(|m| format!(" — {}", esc(m)))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<li>{mark} <code>{}</code> {}{why}</li>",
                esc(&p.check),
                esc(&p.checked)
            );
        }
        out.push_str("</ul>");
    }
    if !s.constraints.is_empty() {
        out.push_str("<p>Constraints in force:</p><ul class=\"findings\">");
        for k in &s.constraints {
            let _ = write!(
                out,
                "<li>profile <code>{}</code> forbids {} ({})</li>",
                esc(&k.profile),
                esc(&k.forbid_actions.join(", ")),
                k.outcome
            );
        }
        out.push_str("</ul>");
    }
    if !s.post_verify.is_empty() {
        out.push_str("<p>Verified after apply:</p><ul class=\"findings\">");
        for p in &s.post_verify {
            let _ = write!(
                out,
                "<li><code>{}</code></li>",
                esc(&super::contract::probe_line(p))
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
}

/// The action class, with what triggers an invocation and why a change was deferred.
fn action_cell(c: &crate::decide::report::ChangeReport) -> String {
    let mut cell = c.action.to_string();
    if let Some(from) = c.previous_address.as_ref().filter(|p| **p != c.address) {
        cell.push_str(&format!(" (moved from <code>{}</code>)", esc(from)));
    }
    if let Some(trigger) = &c.trigger {
        cell.push_str(&format!(" <small>({})</small>", esc(trigger)));
    }
    if let Some(reason) = &c.deferred {
        cell.push_str(&format!(" <small>(deferred: {})</small>", esc(reason)));
    }
    cell
}

#[cfg(test)]
mod tests {
    #[test]
    fn bidi_overrides_and_controls_are_shown_escaped() {
        assert_eq!(
            super::esc("x[\"\u{202e}a\"]\n<b>"),
            "x[&quot;\\u{202e}a&quot;]\\n&lt;b&gt;"
        );
    }
}
