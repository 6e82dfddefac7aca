//! iom-model's attribute paths as Terraform's, so a diagnostic points at the attribute.

use iom_model::{AttrPath, Step};
use tfplugin::AttributePath;

pub fn to_attribute_path(path: &AttrPath) -> AttributePath {
    path.0
        .iter()
        .fold(AttributePath::root(), |at, step| match step {
            Step::Attr(name) => at.attr(name),
            Step::Index(i) => at.index(*i as i64),
            Step::Key(k) => at.key(k),
        })
}

/// `rule[0].condition`, for a diagnostic's summary.
pub fn display(path: &AttrPath) -> String {
    let mut out = String::new();
    for step in &path.0 {
        match step {
            Step::Attr(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Key(k) => out.push_str(&format!("[{k:?}]")),
        }
    }
    out
}
