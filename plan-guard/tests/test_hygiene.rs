//! The tests themselves never write into a user's store: every plan-guard a test spawns
//! names a store of the test's own (`--store`) or has `$IOM_STORE` cleared or replaced,
//! so a developer's `IOM_STORE` never receives a test's decisions. (A spawn without
//! either would record into whatever store the environment names.)

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;

/// The ways a test starts the plan-guard binary.
const SPAWNS: [&str; 3] = [
    r#"Command::new(env!("CARGO_BIN_EXE_plan-guard"))"#,
    r#"Command::new(built("plan-guard"))"#,
    "Command::new(&plan_guard)",
];

#[test]
fn every_spawned_plan_guard_keeps_away_from_the_users_store() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        manifest.join("tests"),
        manifest.join("../acceptance-tests/tests"),
    ] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            // This file names the patterns; it spawns nothing.
            if path.extension().is_some_and(|x| x == "rs") && !path.ends_with(file!()) {
                files.push(path);
            }
        }
    }
    let mut spawns = 0;
    let mut careless = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if !SPAWNS.iter().any(|s| line.contains(s)) {
                continue;
            }
            spawns += 1;
            // The builder, up to the call that runs it.
            let builder: Vec<&str> = lines[n..]
                .iter()
                .take(30)
                .take_while(|l| !l.contains(".output()") && !l.contains(".spawn()"))
                .copied()
                .collect();
            let builder = builder.join("\n");
            if !builder.contains("IOM_STORE") && !builder.contains("--store") {
                careless.push(format!("{}:{}", file.display(), n + 1));
            }
        }
    }
    assert!(
        spawns >= 20,
        "found only {spawns} spawns: has the pattern changed?"
    );
    assert!(
        careless.is_empty(),
        "these spawn plan-guard with the environment's store (clear IOM_STORE or pass --store): {careless:#?}"
    );
}
