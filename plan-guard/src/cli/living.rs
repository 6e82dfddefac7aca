//! How `reconcile` reads in a terminal.

pub(crate) fn reconciliation_text(
    r: &plan_guard::living::Reconciliation,
    accepted: bool,
) -> String {
    use plan_guard::render::printable;
    let mut out = format!("reconcile workspace {}\n", printable(&r.workspace));
    let list = |label: &str, items: &[String], out: &mut String| {
        if !items.is_empty() {
            out.push_str(&format!("  {label} ({}):\n", items.len()));
            for i in items {
                out.push_str(&format!("    {}\n", printable(i)));
            }
        }
    };
    list(
        if accepted {
            "drift accepted"
        } else {
            "DRIFT on governed resources, checks held until reconciled"
        },
        &r.drifted,
        &mut out,
    );
    list(
        "drift on ungoverned resources",
        &r.drifted_ungoverned,
        &mut out,
    );
    list("built but governed by no intent", &r.ungoverned, &mut out);
    list(
        "elements whose matches find nothing built",
        &r.unmatched_elements,
        &mut out,
    );
    if let Some(s) = &r.stale {
        out.push_str(&format!("  stale: {}\n", printable(s)));
    }
    if r.drifted.is_empty() && r.drifted_ungoverned.is_empty() {
        out.push_str("  no drift\n");
    }
    out
}
