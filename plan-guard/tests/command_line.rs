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

/// A scratch directory of this test's own, empty.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pg-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
        stderr(&bad).contains("its commands are list, show, verify, checkpoint, export, keygen"),
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
