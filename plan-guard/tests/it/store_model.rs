//! `check` reads the model from the store when no `--model` is given, and decides from it
//! exactly as from the same objects declared in `.tf` files.

use std::path::{Path, PathBuf};
use std::process::Command;

use iom_model::{Object, load_dir};
use iom_store::Store;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(tag: &str) -> PathBuf {
    crate::support::scratch(&format!("store-{tag}"))
}

/// Runs `check` on an example plan from `cwd` with the given model arguments and no
/// `$IOM_STORE` from the caller's environment.
fn check(cwd: &Path, plan: &str, model_args: &[&str]) -> (i32, serde_json::Value, String) {
    let plan = root().join("tests/fixtures/plans").join(plan);
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .current_dir(cwd)
        .env_remove("IOM_STORE")
        .args(["check", plan.to_str().unwrap(), "--format", "json"])
        .args(["--workspace", "payments-prod", "--actor", "ci"])
        .arg("--source-dir")
        .arg(root().join("../examples/workspace"))
        .args(model_args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), json, stderr)
}

/// The parts of a report that depend on the model's content, not on the run or origin.
fn verdicts(report: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "verdict": report["verdict"], "summary": report["summary"], "changes": report["changes"] })
}

fn fill_store(url: &str) -> u64 {
    let spec = load_dir(&root().join("../examples/governance")).unwrap();
    let store = Store::open(url).unwrap();
    let objects = (spec.profiles.into_iter().map(Object::Profile))
        .chain(spec.blueprints.into_iter().map(Object::Blueprint))
        .chain(spec.intents.into_iter().map(Object::Intent))
        .chain(spec.contracts.into_iter().map(Object::Contract))
        .chain(spec.elements.into_iter().map(Object::Element));
    objects.map(|o| store.create(&o).unwrap()).last().unwrap()
}

#[test]
fn store_and_directory_give_the_same_decisions() {
    let dir = scratch("same");
    let mut urls = vec![format!("sqlite://{}/model.db", dir.display())];
    // And on the real PostgreSQL server, when the test script started one.
    let pg = std::env::var("IOM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let db = format!("pg_store_model_{}", std::process::id());
    if let Some(admin) = &pg {
        let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
        urls.push(format!("{}/{db}", admin.rsplit_once('/').unwrap().0));
    }
    let governance = root().join("../examples/governance");
    for url in &urls {
        let revision = fill_store(url);
        for (plan, exit) in [
            ("example_allow.json", 0),
            ("example_escalate.json", 3),
            ("example_block.json", 2),
        ] {
            let (code_dir, from_dir, _) = check(
                &dir,
                plan,
                &["--model", governance.to_str().unwrap(), "--store", url],
            );
            let (code_store, from_store, err) = check(&dir, plan, &["--store", url]);
            assert_eq!((code_dir, code_store), (exit, exit), "{url} {plan}: {err}");
            assert_eq!(verdicts(&from_dir), verdicts(&from_store), "{url} {plan}");
            assert_eq!(from_store["model"]["source"], url.as_str());
            assert_eq!(from_store["model"]["revision"], revision);
        }
    }
    if let Some(admin) = &pg {
        let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_default_store_is_the_sqlite_file_under_dot_iom() {
    let dir = scratch("default");
    fill_store(&format!("sqlite://{}/.iom/model.db", dir.display()));
    let (code, report, err) = check(&dir, "example_block.json", &[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(report["model"]["source"], "sqlite://.iom/model.db");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_or_unreadable_store_is_an_error_never_a_verdict() {
    let dir = scratch("empty");
    let (code, report, err) = check(&dir, "example_allow.json", &[]);
    assert_eq!(code, 1);
    assert!(report.is_null(), "no report on stdout");
    assert!(
        err.contains("the model store sqlite://.iom/model.db does not exist"),
        "{err}"
    );
    assert!(
        !dir.join(".iom").exists(),
        "reading the model created a store"
    );

    let empty = format!("sqlite://{}/empty.db", dir.display());
    Store::open(&empty).unwrap();
    let (code, report, err) = check(&dir, "example_allow.json", &["--store", &empty]);
    assert_eq!(code, 1);
    assert!(report.is_null(), "no report on stdout");
    assert!(err.contains(&format!("{empty} is empty")), "{err}");

    let (code, _, err) = check(&dir, "example_allow.json", &["--store", "mysql://db"]);
    assert_eq!(code, 1);
    assert!(err.contains("mysql://db"), "{err}");

    std::fs::write(
        dir.join("garbage.db"),
        b"not a database at all, not even close",
    )
    .unwrap();
    let url = format!("sqlite://{}/garbage.db", dir.display());
    let (code, _, err) = check(&dir, "example_allow.json", &["--store", &url]);
    assert_eq!(code, 1);
    assert!(err.contains("garbage.db"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `--model` directory whose `.tf` files declare no `iom_*` object (the workspace
/// passed instead of its governance) is an error, as an empty store is: judged against
/// nothing, every change would only be "ungoverned".
#[test]
fn a_model_directory_without_governance_is_an_error_never_a_verdict() {
    let dir = scratch("no-governance");
    std::fs::write(
        dir.join("main.tf"),
        "variable \"env\" { default = \"prod\" }\nresource \"terraform_data\" \"x\" {}\n",
    )
    .unwrap();
    let model = dir.to_str().unwrap();
    for ungoverned in ["escalate", "allow"] {
        let (code, report, err) = check(
            &dir,
            "example_allow.json",
            &["--model", model, "--ungoverned", ungoverned],
        );
        assert_eq!(code, 1, "{err}");
        assert!(report.is_null(), "no report on stdout");
        assert!(
            err.contains("no governance objects") && err.contains(model),
            "{err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
