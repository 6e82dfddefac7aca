//! `plan-guard insights` on a real ledger: repeated, always-approved escalations become
//! a suggested waiver (with HCL), rules that never fired and soon-expiring waivers are
//! called out.

use crate::support::repo;
use std::process::Command;

#[test]
fn the_ledger_suggests_refinements() {
    let dir = std::env::temp_dir().join(format!("pg-insights-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let gov = dir.join("governance");
    std::fs::create_dir_all(&gov).unwrap();
    std::fs::copy(
        repo().join("examples/governance/main.tf"),
        gov.join("main.tf"),
    )
    .unwrap();
    let soon = plan_guard::ids::rfc3339(iom_model::time::now_unix() as u64 + 5 * 86_400);
    std::fs::write(
        gov.join("waiver.tf"),
        format!(
            "resource \"iom_waiver\" \"w\" {{\n  name = \"dns-freeze\"\n  source = \"profile:prod-safe\"\n  rule = \"delete\"\n  reason = \"r\"\n  approved_by = \"alice\"\n  expires = \"{soon}\"\n}}\n"
        ),
    )
    .unwrap();
    let store = format!("sqlite://{}/iom.db", dir.display());
    let pg = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .env_remove("IOM_STORE")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let plan = |name: &str| {
        repo()
            .join("plan-guard/tests/fixtures/plans")
            .join(name)
            .display()
            .to_string()
    };
    let gov_s = gov.display().to_string();
    for _ in 0..3 {
        let (code, text) = pg(&[
            "check",
            &plan("example_escalate.json"),
            "--model",
            &gov_s,
            "--store",
            &store,
            "--init-store",
            "--workspace",
            "payments-prod",
            "--actor",
            "alice",
            "--format",
            "json",
        ]);
        assert_eq!(code, 3, "{text}");
        let id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["decision_id"]
            .as_str()
            .unwrap()
            .to_string();
        let (code, text) = pg(&[
            "approve", "--yes", &id, "--actor", "bob", "--reason", "routine", "--store", &store,
        ]);
        assert_eq!(code, 0, "{text}");
    }
    pg(&[
        "check",
        &plan("example_allow.json"),
        "--model",
        &gov_s,
        "--store",
        &store,
        "--workspace",
        "payments-prod",
    ]);

    let (code, text) = pg(&[
        "insights", "--model", &gov_s, "--store", &store, "--format", "json",
    ]);
    assert_eq!(code, 0, "{text}");
    let found: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let of = |kind: &str| {
        found
            .iter()
            .filter(|i| i["kind"] == kind)
            .collect::<Vec<_>>()
    };
    let approved = of("always_approved");
    assert_eq!(approved.len(), 1, "{text}");
    assert_eq!(approved[0]["subject"], "intent:payments-prod / critical");
    let hcl = approved[0]["hcl"].as_str().unwrap();
    assert!(
        hcl.contains("resource \"iom_waiver\"")
            && hcl.contains("module.payments.terraform_data.ledger_db[0]"),
        "{hcl}"
    );
    assert!(
        of("repeated_escalation")
            .iter()
            .any(|i| i["subject"] == "module.payments.terraform_data.ledger_db[0]")
    );
    assert!(
        of("rule_never_fires")
            .iter()
            .any(|i| i["subject"] == "blueprint:encrypted-storage@1.0.0 / encrypted-at-rest"),
        "{text}"
    );
    assert!(
        of("waiver_expiring")
            .iter()
            .any(|i| i["subject"] == "waiver:dns-freeze")
    );
    let (_, md) = pg(&[
        "insights", "--model", &gov_s, "--store", &store, "--format", "markdown",
    ]);
    assert!(
        md.starts_with("### plan-guard insights") && md.contains("```hcl"),
        "{md}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
