//! Decision cases as data: every `*.iomtest.hcl` under `tests/` runs through `plan-guard
//! test`'s harness — the judging rules on the corpus (`corpus/judging.iomtest.hcl`) and on
//! the real Terraform's fixture plans (`fixtures/judging`, `fixtures/elements` and
//! `fixtures/module_rules.iomtest.hcl`) — and any case that fails, errors or expects
//! nothing fails this test. The format is documented in docs/governance-tests.md.

use plan_guard::decide::govtest;
use std::path::PathBuf;

#[test]
fn every_decision_case_passes() {
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
    let summary = govtest::run(&tests, None).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(summary.failed, 0, "{}", summary.text);
    // The case files are found where they live, so one moved away is noticed.
    for file in [
        "corpus/judging.iomtest.hcl",
        "fixtures/judging.iomtest.hcl",
        "fixtures/elements.iomtest.hcl",
        "fixtures/module_rules.iomtest.hcl",
    ] {
        assert!(
            summary.files.contains(&tests.join(file)),
            "{file} did not run: {:?}",
            summary.files
        );
    }
    assert!(summary.passed >= 62, "{}", summary.text);
}
