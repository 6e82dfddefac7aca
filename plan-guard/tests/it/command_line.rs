//! The command line as a user meets it: manual pages for every command, and errors that
//! say what is wrong (a missing directory, a format that does not exist, a store that is
//! not there) instead of something misleading or a silent default.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn governance() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/governance")
        .to_string_lossy()
        .into_owned()
}

/// The example workspace's `.tf` files, which the example plans were made from: the
/// example contract's inputs pass its variables straight through.
fn workspace_source() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/workspace")
        .to_string_lossy()
        .into_owned()
}

/// A scratch directory of this test's own, empty.
fn scratch(name: &str) -> PathBuf {
    crate::support::scratch(&format!("cli-{name}"))
}

/// plan-guard run in `dir`, with no store or signing key from the environment.
fn plan_guard(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .args(args)
        .current_dir(dir)
        .env_remove("IOM_STORE")
        .env_remove("IOM_SIGNING_KEY")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The top page lists `plan-guard-check(1)` and the others; `man COMMAND` prints that
/// page, `man --dir DIR` writes them all, and an unknown command names the real ones.
#[test]
fn man_prints_a_page_per_command() {
    let dir = scratch("man");
    let top = plan_guard(&dir, &["man"]);
    let top = String::from_utf8_lossy(&top.stdout).replace("\\-", "-");
    assert!(top.contains("plan-guard-check(1)"), "{top}");

    let check = plan_guard(&dir, &["man", "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let page = String::from_utf8_lossy(&check.stdout).replace("\\-", "-");
    assert!(
        page.starts_with(".ie") && page.contains(".TH plan-guard-check 1"),
        "{page}"
    );
    assert!(
        page.contains("records its decision in the evidence ledger"),
        "{page}"
    );
    assert!(page.contains("Example:"), "{page}");

    let verify = plan_guard(&dir, &["man", "evidence", "verify"]);
    let page = String::from_utf8_lossy(&verify.stdout).replace("\\-", "-");
    assert!(page.contains(".TH plan-guard-evidence-verify 1"), "{page}");

    let bad = plan_guard(&dir, &["man", "evidence", "bogus"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains(
            "its commands are list, show, verify, checkpoint, export, keygen, allowed-signers"
        ),
        "{}",
        stderr(&bad)
    );

    let pages = dir.join("man1");
    std::fs::create_dir(&pages).unwrap();
    let all = plan_guard(&dir, &["man", "--dir", pages.to_str().unwrap()]);
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    for name in [
        "plan-guard",
        "plan-guard-check",
        "plan-guard-evidence-verify",
        "plan-guard-man",
    ] {
        assert!(pages.join(format!("{name}.1")).is_file(), "no {name}.1");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--also` with a format that does not exist lists the ones that do.
#[test]
fn an_unknown_also_format_lists_the_formats() {
    let dir = scratch("also");
    let plan = fixture("example_allow.json");
    for also in ["yaml=x", "x.yaml"] {
        let out = plan_guard(
            &dir,
            &["check", &plan, "--model", &governance(), "--also", also],
        );
        assert_eq!(out.status.code(), Some(1), "{also}");
        assert!(
            stderr(&out).contains("text, json, markdown, junit, html, sarif"),
            "{also}: {}",
            stderr(&out)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `--model` directory that is not there is named as such, not as an invalid model at
/// line 0; a file is not a directory.
#[test]
fn a_missing_model_directory_says_no_such_directory() {
    let dir = scratch("model");
    let plan = fixture("example_allow.json");
    let store = format!("sqlite://{}/iom.db", dir.display());
    std::fs::write(dir.join("file.tf"), "").unwrap();
    for (model, says) in [
        (
            "./governance",
            "the governance model ./governance: no such directory",
        ),
        ("file.tf", "the governance model file.tf: not a directory"),
    ] {
        let out = plan_guard(
            &dir,
            &[
                "check",
                &plan,
                "--model",
                model,
                "--store",
                &store,
                "--init-store",
            ],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert!(!stderr(&out).contains(":0:0"), "{}", stderr(&out));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check --store` naming a SQLite file that does not exist is refused, creating nothing,
/// unless `--init-store` asks for a new store; a store read for its model is never created.
#[test]
fn a_mistyped_store_is_refused_unless_init_store() {
    let dir = scratch("store");
    let plan = fixture("example_allow.json");
    let db = dir.join("typo/iom.db");
    let store = format!("sqlite://{}", db.display());
    let args = [
        "check",
        &plan,
        "--model",
        &governance(),
        "--store",
        &store,
        "--actor",
        "t",
        "--source-dir",
        &workspace_source(),
    ];

    let refused = plan_guard(&dir, &args);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("does not exist; pass --init-store"),
        "{}",
        stderr(&refused)
    );
    assert!(
        !dir.join("typo").exists(),
        "a refused check created the store's directory"
    );

    // Without --model the store is the model: one that is not there is not created.
    let no_model = plan_guard(&dir, &["check", &plan, "--store", &store, "--init-store"]);
    assert_eq!(no_model.status.code(), Some(1));
    assert!(
        stderr(&no_model).contains("does not exist"),
        "{}",
        stderr(&no_model)
    );
    assert!(
        !dir.join("typo").exists(),
        "reading the model created the store"
    );

    let created = plan_guard(&dir, &[&args[..], &["--init-store"]].concat());
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    assert!(db.is_file());
    // Once it exists, the same command needs no flag.
    let again = plan_guard(&dir, &args);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `--source-dir` that is not there is an error, not a silent loss of SARIF locations
/// and configuration-read contract inputs.
#[test]
fn a_missing_source_dir_is_an_error() {
    let dir = scratch("source");
    let plan = fixture("example_allow.json");
    let store = format!("sqlite://{}/iom.db", dir.display());
    let out = plan_guard(
        &dir,
        &[
            "check",
            &plan,
            "--model",
            &governance(),
            "--store",
            &store,
            "--init-store",
            "--source-dir",
            "no-such-dir",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--source-dir no-such-dir: no such directory"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// With no `--actor` and none of the variables that name one, a check says so (and
/// records `unknown`); an approval, which must name its approver, is refused.
#[test]
fn no_known_actor_is_said() {
    let dir = scratch("actor");
    let plan = fixture("example_escalate.json");
    let store = format!("sqlite://{}/iom.db", dir.display());
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plan-guard"));
        for var in [
            "USER_NAME",
            "GITHUB_ACTOR",
            "GITLAB_USER_LOGIN",
            "USER",
            "IOM_STORE",
        ] {
            cmd.env_remove(var);
        }
        cmd.args(args).current_dir(&dir).output().unwrap()
    };
    let check = run(&[
        "check",
        &plan,
        "--model",
        &governance(),
        "--store",
        &store,
        "--init-store",
        "--workspace",
        "payments-prod",
        "--format",
        "json",
    ]);
    assert_eq!(check.status.code(), Some(3), "{}", stderr(&check));
    assert!(
        stderr(&check).contains("no actor known: pass --actor NAME"),
        "{}",
        stderr(&check)
    );
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["actor"], "unknown");

    let id = report["decision_id"].as_str().unwrap();
    let approve = run(&["approve", "--yes", id, "--reason", "r", "--store", &store]);
    assert_eq!(approve.status.code(), Some(1));
    assert!(
        stderr(&approve).contains("no actor known: pass --actor NAME (none of $USER_NAME"),
        "{}",
        stderr(&approve)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An unreachable PostgreSQL store is reported once, not with its cause repeated.
#[test]
fn a_postgres_error_does_not_repeat_itself() {
    let dir = scratch("pg");
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    let out = plan_guard(
        &dir,
        &[
            "check",
            &fixture("example_allow.json"),
            "--model",
            &governance(),
            "--store",
            "postgres://iom@127.0.0.1:1/iom",
            "--actor",
            "t",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("error connecting to server").count(),
        1,
        "{err}"
    );
    assert_eq!(err.matches("Connection refused").count(), 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
