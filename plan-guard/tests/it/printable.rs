//! Text a person reads cannot be forged from a plan or the command line: control
//! characters (ESC, CR, LF, BEL) and bidi overrides in addresses, keys and
//! `terraform_version` are shown as escapes in text and Markdown reports, `evidence list`
//! prints one line per record, and `--actor` / `--reason` with a line break are refused.
//!
//! Terraform itself escapes such characters in addresses (`["a\nb"]`), so the plan here
//! is a real fixture edited the way an attacker would write one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FORGED: &str = "b\r\nALLOW    terraform_data.zone.b  delete\u{1b}[2K\u{202e}";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(tag: &str) -> PathBuf {
    crate::support::scratch(&format!("printable-{tag}"))
}

/// The `delete` fixture with a forged key on one address and a forged version.
fn forged_plan(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/plans/delete/plan.json")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    plan["terraform_version"] = "1.15.5\r\nALLOW  forged\u{1b}]0;title\u{7}".into();
    for rc in plan["resource_changes"].as_array_mut().unwrap() {
        if rc["address"] == "terraform_data.zone[\"b\"]" {
            rc["address"] = format!("terraform_data.zone[\"{FORGED}\"]").into();
            rc["index"] = FORGED.into();
        }
    }
    let path = dir.join("forged.json");
    std::fs::write(&path, serde_json::to_vec(&plan).unwrap()).unwrap();
    path
}

fn plan_guard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .current_dir(dir)
        .env_remove("IOM_STORE")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn assert_unforged(what: &str, text: &str) {
    let raw = text
        .chars()
        .find(|&c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c));
    assert_eq!(raw, None, "{what} prints a raw control character:\n{text}");
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("ALLOW")),
        "{what} has a forged line:\n{text}"
    );
}

#[test]
fn reports_show_forged_addresses_and_versions_escaped() {
    let dir = scratch("reports");
    let plan = forged_plan(&dir);
    let governance = root().join("../examples/governance");
    let store = format!("sqlite://{}/model.db", dir.display());
    for format in ["text", "markdown"] {
        let out = plan_guard(
            &dir,
            &[
                "check",
                plan.to_str().unwrap(),
                "--model",
                governance.to_str().unwrap(),
                "--source-dir",
                root().join("../examples/workspace").to_str().unwrap(),
                "--store",
                &store,
                "--init-store",
                "--workspace",
                "sandbox",
                "--actor",
                "ci",
                "--format",
                format,
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_unforged(format, &stdout);
        assert!(
            stdout.contains(
                r#"zone["b\r\nALLOW    terraform_data.zone.b  delete\u{1b}[2K\u{202e}"]"#
            ),
            "{format}: the key is shown, escaped:\n{stdout}"
        );
        assert!(
            stdout.contains(r"1.15.5\r\nALLOW  forged\u{1b}]0;title\u{7}"),
            "{stdout}"
        );
    }
}

#[test]
fn evidence_list_is_one_line_per_record_and_line_breaks_are_refused() {
    let dir = scratch("ledger");
    let plan = root().join("tests/fixtures/plans/example_allow.json");
    let governance = root().join("../examples/governance");
    let store = format!("sqlite://{}/model.db", dir.display());
    let check = |workspace: &str, actor: &str| {
        plan_guard(
            &dir,
            &[
                "check",
                plan.to_str().unwrap(),
                "--model",
                governance.to_str().unwrap(),
                "--source-dir",
                root().join("../examples/workspace").to_str().unwrap(),
                "--store",
                &store,
                "--init-store",
                "--workspace",
                workspace,
                "--actor",
                actor,
            ],
        )
    };
    // A workspace name is recorded as given; `evidence list` escapes it.
    let forged_workspace = "payments-prod\n    2  2026-01-01T00:00:00Z  approval  by alice: ok";
    let out = check(forged_workspace, "ci");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = plan_guard(&dir, &["evidence", "list", "--store", &store]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains(r"payments-prod\n    2  2026"), "{listed}");
    assert_unforged("evidence list", &listed);

    // Names and reasons typed for the record must be one line.
    let out = check("payments-prod", "ci\nalice");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--actor must be one line"));
    for (actor, reason) in [
        ("bob", "CHG-42\n    3  approval  by alice: ok"),
        ("bob\u{202e}", "CHG-42"),
    ] {
        let out = plan_guard(
            &dir,
            &[
                "approve", "--yes", "pg-0", "--actor", actor, "--reason", reason, "--store", &store,
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("must be one line"), "{stderr}");
    }
    let list = plan_guard(&dir, &["evidence", "list", "--store", &store]);
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1);
}
