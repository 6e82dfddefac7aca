//! `--format html` in a real headless Chromium (Debian's, installed by
//! scripts/install-chromium.sh): the page loads with no console errors, its script runs
//! and shows the verdict and a blast radius, and a screenshot is kept for CI artifacts.

use crate::support::{check_command, repo, scratch};
use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_report_page_loads_cleanly_in_chromium() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("no chromium: run bash scripts/install-chromium.sh");
    let dir = scratch("html");
    let page = dir.join("report.html");
    let out = check_command("example_escalate.json", &repo().join("examples/governance"))
        .args(["--format", "html", "--output"])
        .arg(&page)
        .env("IOM_STORE", format!("sqlite://{}/iom.db", dir.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("demo-secret-canary-7f3a"));
    // Self-contained: nothing is loaded from anywhere. (URLs appear as text: the
    // contract's post-verify probe names the health URL it will request.)
    for load in [
        "src=", "href=", "url(http", "url(//", "@import", "<link", "<iframe", "<img",
    ] {
        assert!(
            !html.contains(load),
            "self-contained: no {load} in the page"
        );
    }

    let headless = |extra: &[&str]| {
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .args(["--virtual-time-budget=3000"])
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap()
    };
    let dom = headless(&["--dump-dom"]);
    let text = String::from_utf8_lossy(&dom.stdout);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        text.contains("data-ready=\"1\""),
        "the page's script ran:\n{text}\n{log}"
    );
    assert!(
        text.contains("id=\"verdict\" class=\"v escalate\""),
        "{text}"
    );
    assert!(
        text.contains("Blast radius of module.payments.terraform_data.ledger_db[0]"),
        "{text}"
    );
    // The contract governing the escalated change, and who is accountable for it.
    for shown in [
        "Contract <code>payments-service</code> on <code>module.payments</code>",
        "<i>sensitive, not shown</i>",
        "accountable: intent payments-prod (owner team-payments)",
        "run_record_written",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    for line in log.lines() {
        assert!(
            !(line.contains("CONSOLE") && (line.contains("Uncaught") || line.contains("Error"))),
            "console error: {line}"
        );
    }
    // Kept for a human to look at, in Cargo's scratch directory for tests (under the
    // target directory wherever CARGO_TARGET_DIR puts it), not in the source tree.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plan-guard-report.png");
    let out = headless(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1280,900",
    ]);
    assert!(
        shot.exists(),
        "screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
