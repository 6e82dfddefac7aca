//! `--format sarif` on real plans: rules with help, one result per finding, the resource
//! address as logical location and the declaring file and line (read from the workspace's
//! `.tf` files, modules included) as physical location.

use crate::support::{check_command, repo};
use std::process::Command;

fn sarif(plan: &str) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!("pg-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = check_command(plan, &repo().join("examples/governance"))
        .args(["--format", "sarif"])
        .env("IOM_STORE", format!("sqlite://{}/iom.db", dir.display()))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("demo-secret-canary-7f3a"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// The line of `resource "terraform_data" "NAME"` in a file of the example workspace.
fn line_of(file: &str, name: &str) -> u64 {
    let text = std::fs::read_to_string(repo().join("examples/workspace").join(file)).unwrap();
    let needle = format!("resource \"terraform_data\" \"{name}\"");
    text.lines().position(|l| l.starts_with(&needle)).unwrap() as u64 + 1
}

#[test]
fn findings_point_at_the_declaring_block() {
    let s = sarif("example_block.json");
    assert_eq!(s["version"], "2.1.0");
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    // Each of the three payments resources breaks the intent's eu-only constraint and the
    // payments contract's `region` input.
    assert_eq!(results.len(), 6, "{s}");
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at its rule"
        );
        assert!(rules[index]["help"]["text"].as_str().unwrap().len() > 20);
        assert_eq!(r["level"], "error");
    }
    let api0 = results
        .iter()
        .find(|r| {
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                == "module.payments.terraform_data.api[0]"
                && r["ruleId"] == "intent:payments-prod/eu-only"
        })
        .unwrap();
    assert_eq!(api0["ruleId"], "intent:payments-prod/eu-only");
    let physical = &api0["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "modules/payments/main.tf"
    );
    assert_eq!(
        physical["region"]["startLine"],
        line_of("modules/payments/main.tf", "api")
    );
}

#[test]
fn escalations_are_warnings() {
    let s = sarif("example_escalate.json");
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["level"], "warning");
    assert_eq!(results[0]["ruleId"], "intent:payments-prod/critical");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        line_of("modules/payments/main.tf", "ledger_db")
    );
}

/// A typed SARIF 2.1.0 consumer (sarif-pydantic, in the project's venv) accepts the
/// report, and rejects it once a result's level is not one SARIF defines.
#[test]
fn a_sarif_consumer_accepts_the_report() {
    let python = repo().join(".tools/venv/bin/python");
    assert!(
        python.exists(),
        "no {}: run bash scripts/install-test-tools.sh",
        python.display()
    );
    let report = sarif("example_block.json");
    let mut broken = report.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    for (doc, valid) in [(report, true), (broken, false)] {
        let file = std::env::temp_dir().join(format!(
            "pg-sarif-check-{}-{valid}.json",
            std::process::id()
        ));
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = Command::new(&python)
            .arg("-c")
            .arg("import json, sys\nfrom sarif_pydantic import Sarif\nSarif.model_validate(json.load(open(sys.argv[1])))")
            .arg(&file)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        assert_eq!(
            out.status.success(),
            valid,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The report validates against the official OASIS SARIF 2.1.0 JSON schema (fetched by
/// install-test-tools.sh, checked with Python's jsonschema), on every example verdict and
/// on a plan with every kind of action; a report broken in ways the schema forbids fails.
#[test]
fn reports_validate_against_the_oasis_sarif_schema() {
    let python = repo().join(".tools/venv/bin/python");
    let schema = repo().join(".tools/schemas/sarif-schema-2.1.0.json");
    assert!(
        python.exists() && schema.exists(),
        "no {} or {}: run bash scripts/install-test-tools.sh",
        python.display(),
        schema.display()
    );
    let mut documents = Vec::new();
    for plan in [
        "example_allow.json",
        "example_escalate.json",
        "example_block.json",
        "mixed/plan.json",
    ] {
        documents.push((plan.to_string(), sarif(plan), true));
    }
    let block = sarif("example_block.json");
    type Breakage = (&'static str, fn(&mut serde_json::Value));
    let breakages: [Breakage; 3] = [
        ("a level SARIF does not define", |d| {
            d["runs"][0]["results"][0]["level"] = "fatal".into()
        }),
        ("a property SARIF does not define", |d| {
            d["runs"][0]["verdict"] = "block".into()
        }),
        ("a line number below 1", |d| {
            d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
                0.into()
        }),
    ];
    for (what, breaks) in breakages {
        let mut broken = block.clone();
        breaks(&mut broken);
        documents.push((what.to_string(), broken, false));
    }
    for (i, (what, doc, valid)) in documents.into_iter().enumerate() {
        let file =
            std::env::temp_dir().join(format!("pg-sarif-schema-{}-{i}.json", std::process::id()));
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = Command::new(&python)
            .arg("-c")
            .arg(
                "import json, sys, jsonschema\n\
                 schema = json.load(open(sys.argv[1]))\n\
                 jsonschema.Draft7Validator.check_schema(schema)\n\
                 jsonschema.Draft7Validator(schema).validate(json.load(open(sys.argv[2])))",
            )
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        assert_eq!(
            out.status.success(),
            valid,
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
