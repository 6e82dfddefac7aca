//! Declared elements in decisions: a change to a resource an element matches counts, in
//! its blast radius, the elements that depend on that one, and `max_blast_radius` sees them.

use crate::support::{check_file, fixture_plan};

use iom_model::{Model, Outcome, load_str};
use plan_guard::decide::CheckOptions;
use plan_guard::decide::report::Report;

fn judge(governance: &str) -> Report {
    let model =
        Model::compile(load_str("gov.tf", governance).unwrap_or_else(|e| panic!("{}", e[0])))
            .unwrap();
    let opts = CheckOptions {
        workspace: "payments-prod".into(),
        actor: "ci".into(),
        ungoverned: Outcome::Allow,
        model_source: "gov".into(),
        model_revision: None,
        source_dir: None,
    };
    check_file(&fixture_plan("example_escalate.json"), &model, &opts)
}

const ELEMENTS: &str = r#"
resource "iom_profile" "p" {
  name             = "prod-safe"
  max_blast_radius = 1
}
resource "iom_intent" "i" {
  name    = "payments"
  profile = "prod-safe"
}
resource "iom_element" "ledger" {
  name    = "payments-ledger"
  kind    = "data"
  matches = ["module.payments.terraform_data.ledger_db*"]
}
resource "iom_element" "reporting" {
  name                = "reporting"
  kind                = "service"
  depends_on_elements = ["payments-ledger"]
}
resource "iom_element" "finance" {
  name                = "finance-portal"
  kind                = "service"
  depends_on_elements = ["reporting"]
}
resource "iom_element" "unrelated" {
  name                = "marketing"
  kind                = "service"
  depends_on_elements = ["core-network"]
}
resource "iom_element" "core" {
  name    = "core-network"
  kind    = "network"
  matches = ["module.network.*"]
}
"#;

#[test]
fn dependent_elements_join_the_blast_radius() {
    let r = judge(ELEMENTS);
    let ledger = r
        .changes
        .iter()
        .find(|c| c.address == "module.payments.terraform_data.ledger_db[0]")
        .unwrap();
    let b = &ledger.blast_radius;
    assert!(
        b.addresses.contains(&"element:reporting".to_string()),
        "{b:?}"
    );
    assert!(
        b.addresses.contains(&"element:finance-portal".to_string()),
        "{b:?}"
    );
    assert!(
        !b.addresses
            .iter()
            .any(|a| a == "element:marketing" || a == "element:payments-ledger")
    );
    let resources = b
        .addresses
        .iter()
        .filter(|a| !a.starts_with("element:"))
        .count();
    assert_eq!(b.transitive, resources + 2);

    // With elements the ledger database's radius exceeds 1 and escalates.
    assert!(
        ledger.findings.iter().any(|f| f.rule == "max_blast_radius"),
        "{:?}",
        ledger.findings
    );
}

#[test]
fn without_elements_the_radius_is_the_graph_alone() {
    let bare = ELEMENTS.split("resource \"iom_element\"").next().unwrap();
    let r = judge(bare);
    let ledger = r
        .changes
        .iter()
        .find(|c| c.address == "module.payments.terraform_data.ledger_db[0]")
        .unwrap();
    assert!(
        ledger
            .blast_radius
            .addresses
            .iter()
            .all(|a| !a.starts_with("element:"))
    );
}
