//! `reconcile --format markdown`: what a reconciliation found, as the body of an issue
//! (or a scheduled job's summary). Addresses only: a reconciliation holds no values.

use std::fmt::Write as _;

use super::markdown::code;
use super::printable;
use crate::living::Reconciliation;

/// The issue body for `found`; `accepted` when the drift was accepted with `--accept`,
/// `record` the id of its ledger record.
pub fn render_reconciliation_markdown(
    found: &Reconciliation,
    accepted: bool,
    record: &str,
) -> String {
    let workspace = code(&found.workspace, false);
    let drifted = found.drifted.len();
    let mut out = if drifted == 0 {
        format!("### plan-guard reconcile: ✅ no governed drift — workspace {workspace}\n\n")
    } else if accepted {
        format!(
            "### plan-guard reconcile: ⚠️ drift accepted — workspace {workspace}\n\n\
             {} accepted: checks of this workspace are no longer held by it.\n\n",
            resources(drifted, "governed resource")
        )
    } else {
        format!(
            "### plan-guard reconcile: 🔴 drift — workspace {workspace}\n\n\
             {} changed outside Terraform. Every check of this workspace is held at its \
             profiles' `on_drift` until the drift is reconciled: restore it and record a \
             new `plan-guard observe`, or accept it with \
             `plan-guard reconcile --accept --reason …`.\n\n",
            resources(drifted, "governed resource")
        )
    };
    let sections: [(&str, &[String]); 4] = [
        ("Drift on governed resources", &found.drifted),
        ("Drift on ungoverned resources", &found.drifted_ungoverned),
        ("Built but governed by no intent", &found.ungoverned),
        (
            "Elements whose matches find nothing built",
            &found.unmatched_elements,
        ),
    ];
    for (title, items) in sections.iter().filter(|(_, items)| !items.is_empty()) {
        let _ = writeln!(out, "**{title}** ({})\n", items.len());
        for item in *items {
            let _ = writeln!(out, "- {}", code(item, false));
        }
        out.push('\n');
    }
    if let Some(stale) = &found.stale {
        let _ = writeln!(out, "> ⚠️ {}\n", printable(stale));
    }
    let _ = writeln!(out, "<sub>ledger record {}</sub>", code(record, false));
    out
}

fn resources(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found() -> Reconciliation {
        Reconciliation {
            workspace: "payments".into(),
            drifted: vec!["null_resource.a".into(), "x[\"`b\nc`\"]".into()],
            drifted_ungoverned: vec!["null_resource.z".into()],
            stale: Some("observed before the last apply".into()),
            ..Reconciliation::default()
        }
    }

    #[test]
    fn held_drift_says_what_holds_and_how_to_release_it() {
        let md = render_reconciliation_markdown(&found(), false, "reconcile-payments-T");
        assert!(
            md.starts_with("### plan-guard reconcile: 🔴 drift — workspace `payments`\n"),
            "{md}"
        );
        assert!(md.contains("2 governed resources changed outside Terraform"));
        assert!(md.contains("**Drift on governed resources** (2)\n\n- `null_resource.a`\n"));
        assert!(md.contains("**Drift on ungoverned resources** (1)"));
        assert!(!md.contains("Built but governed by no intent"), "{md}");
        assert!(md.contains("> ⚠️ observed before the last apply\n"));
        assert!(md.ends_with("<sub>ledger record `reconcile-payments-T`</sub>\n"));
    }

    /// An address with backticks and a line break stays one list item, in one code span.
    #[test]
    fn addresses_cannot_break_out_of_their_item() {
        let md = render_reconciliation_markdown(&found(), false, "r");
        assert!(md.contains("- ``x[\"`b\\nc`\"]``\n"), "{md}");
    }

    #[test]
    fn accepted_and_clean_reconciliations_say_so() {
        let accepted = render_reconciliation_markdown(&found(), true, "r");
        assert!(accepted.contains("⚠️ drift accepted"), "{accepted}");
        assert!(accepted.contains("2 governed resources accepted"));
        let clean = Reconciliation {
            workspace: "payments".into(),
            ..Reconciliation::default()
        };
        let md = render_reconciliation_markdown(&clean, false, "r");
        assert!(
            md.starts_with("### plan-guard reconcile: ✅ no governed drift"),
            "{md}"
        );
    }
}
