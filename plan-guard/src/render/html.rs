//! `--format html`: one self-contained page for a change advisory board — no network, no
//! external assets. The summary, every change with its findings, and an interactive
//! blast-radius view: choosing a change lists what depends on it. The report data rides
//! in the page as JSON (with `<` escaped, so no value can close the script element).

use std::fmt::Write as _;

use iom_model::Outcome;

use crate::decide::report::Report;

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
#radius{margin-top:1.5rem;padding:1rem;border:1px solid #ccd;border-radius:.4rem}ul.findings{margin:0;padding-left:1.1rem}";

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

pub fn render_html(r: &Report) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width\"><title>plan-guard: {} — {}</title><style>{STYLE}</style></head><body>",
        r.verdict,
        esc(&r.workspace)
    );
    let s = &r.summary;
    let _ = write!(
        out,
        "<h1>plan-guard: <span id=\"verdict\" class=\"v {v}\">{v}</span> — workspace <code>{}</code></h1>\
         <p>{} changes: {} create, {} update, {} replace, {} delete, {} read, {} forget, {} invoke, {} move, {} import. \
         Verdicts: {} allow, {} warn, {} escalate, {} block.</p>\
         <p><small>decision <code>{}</code> · plan sha256 <code>{}</code> · terraform {} · model <code>{}</code> · {}</small></p>",
        esc(&r.workspace),
        s.changes,
        s.create,
        s.update,
        s.replace,
        s.delete,
        s.read,
        s.forget,
        s.invoke,
        s.moved,
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
        v = r.verdict.as_str(),
    );
    if !r.findings.is_empty() {
        out.push_str("<ul class=\"findings\" id=\"plan-findings\">");
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
        let index = r
            .changes
            .iter()
            .position(|x| std::ptr::eq(x, *c))
            .unwrap_or(0);
        let findings: String = c
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
    out.push_str("</tbody></table><section id=\"radius\" aria-live=\"polite\"></section>");
    let data = crate::render::render_json(r).replace('<', "\\u003c");
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"report-data\">{data}</script><script>{SCRIPT}</script></body></html>"
    );
    out
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
