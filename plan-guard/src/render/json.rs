//! `--format json`: the report as docs/report.md describes it (its JSON Schema is
//! docs/report.schema.json), keys sorted.

use crate::decide::plan_set::SetReport;
use crate::decide::report::Report;

/// The report as pretty-printed JSON with a final newline (docs/report.schema.json).
// A report holds strings, numbers, lists and string-keyed maps: serializing it cannot fail.
#[allow(clippy::expect_used)]
pub fn render_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("reports always serialize");
    s.push('\n');
    s
}

/// `--format json` of a set of plans: the set's decision with every plan's report
/// (`plans`), keys sorted.
// As for one report: strings, numbers, lists and string-keyed maps only.
#[allow(clippy::expect_used)]
pub fn render_set_json(set: &SetReport) -> String {
    let mut s = serde_json::to_string_pretty(set).expect("reports always serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    /// Keys must come out sorted: serializing through `serde_json::Value` (whose maps
    /// sort) must give the same text as serializing the structs directly.
    #[test]
    fn keys_are_sorted() {
        let report = crate::testing::sample_report();
        let direct = serde_json::to_string(&report).unwrap();
        let via_value = serde_json::to_string(&serde_json::to_value(&report).unwrap()).unwrap();
        assert_eq!(direct, via_value);
    }
}
