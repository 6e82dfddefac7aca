//! The tests themselves never write into a user's store: every plan-guard a test spawns
//! names a store of the test's own (`--store`) or has `$IOM_STORE` cleared or replaced,
//! so a developer's `IOM_STORE` never receives a test's decisions. (A spawn without
//! either would record into whatever store the environment names.)

use std::path::{Path, PathBuf};

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
        manifest.join("tests/it"),
        manifest.join("../acceptance-tests/tests"),
    ] {
        for path in rust_files(&dir) {
            // This file names the patterns; it spawns nothing.
            if !path.ends_with(file!()) {
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

/// Every `.rs` file under `dir` (subdirectories included), sorted; the corpus and the
/// fixtures hold plans and configuration, not tests.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() && name != "corpus" && name != "fixtures" {
                todo.push(path);
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// With `autotests = false`, a test file Cargo is not told about is never built, and its
/// tests never run, without a word. Every `.rs` file under `tests/` must be the one test
/// target (`tests/it/main.rs`) or a module of it: `mod NAME;` in `main.rs` (or in the
/// `mod.rs` of the directory it is in).
#[test]
fn every_test_file_is_part_of_the_test_binary() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::fs::read_to_string(manifest.join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains("autotests = false") && cargo.contains("path = \"tests/it/main.rs\""),
        "the integration tests are one binary, tests/it/main.rs"
    );
    let root = manifest.join("tests/it/main.rs");
    let mut left_out = Vec::new();
    for file in rust_files(&manifest.join("tests")) {
        if file == root {
            continue;
        }
        let dir = file.parent().unwrap();
        let (declaring, name) = if file.ends_with("mod.rs") {
            let parent = dir.parent().unwrap();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            (module_file(parent), name)
        } else {
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            (module_file(dir), stem)
        };
        let declared = declaring
            .and_then(|d| std::fs::read_to_string(d).ok())
            .is_some_and(|text| {
                text.lines().any(|l| {
                    l.trim() == format!("mod {name};") || l.trim() == format!("pub mod {name};")
                })
            });
        if !declared {
            left_out.push(file.display().to_string());
        }
    }
    assert!(
        left_out.is_empty(),
        "not part of the test binary (declare it with `mod NAME;` in tests/it/main.rs, or move it under tests/it/): {left_out:#?}"
    );
}

/// The file that declares the modules of directory `dir`: `main.rs` for `tests/it`, else
/// the directory's `mod.rs`. None outside `tests/it` (a file there is no test's module).
fn module_file(dir: &Path) -> Option<PathBuf> {
    if dir.ends_with("tests/it") {
        return Some(dir.join("main.rs"));
    }
    dir.ancestors()
        .any(|a| a.ends_with("tests/it"))
        .then(|| dir.join("mod.rs"))
}
