//! The JSON report matches its published JSON Schema (`docs/report.schema.json`,
//! described in docs/report.md): every corpus and fixture plan's report, judged against
//! models that make every kind of finding, and what the binary writes, validate; reports
//! broken in ways the schema forbids do not. Checked with Python's `jsonschema` from the
//! project's venv (scripts/install-test-tools.sh), as the SARIF schema is.

use crate::fixture_util::{FIXTURES, fixtures_dir, options, plan_path};
use crate::support::{repo, scratch};
use iom_model::{Model, Outcome, load_str};
use plan_guard::decide::{CheckError, check};
use plan_guard::plan::read_plan;
use plan_guard::render::render_json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A model that makes findings of every source: profile outcomes and thresholds, an
/// intent's types, critical globs and constraints, a blueprint rule and module rule, an element in the
/// blast radius, a live waiver (`waived_by`) and an expired one (`waiver_expired`).
const EVERY_FINDING: &str = r#"
resource "iom_profile" "p" {
  name             = "p"
  actions          = { update = "warn", replace = "escalate", delete = "block", read = "warn", forget = "escalate" }
  max_blast_radius = 2
  max_changes      = 3
  on_unknown       = "warn"
}
resource "iom_blueprint" "b" {
  name    = "b"
  version = "1.0.0"
  rule {
    id        = "named"
    condition = "name != 'main'"
    outcome   = "warn"
    message   = "resources are not called main"
  }
  module_rule {
    id        = "local-modules"
    condition = "module_call.source.startsWith('./')"
    outcome   = "escalate"
    message   = "modules are local"
  }
}
resource "iom_intent" "i" {
  name                   = "i"
  profile                = "p"
  blueprints             = ["b"]
  scope { workspaces = ["governed"] }
  allowed_resource_types = ["terraform_data", "null_resource"]
  critical               = ["*db*"]
  constraint {
    id        = "short-address"
    condition = "size(address) < 40"
    outcome   = "escalate"
    message   = "addresses stay short"
  }
}
resource "iom_element" "e" {
  name    = "e"
  kind    = "data"
  matches = ["*"]
}
resource "iom_element" "downstream" {
  name                = "downstream"
  kind                = "service"
  depends_on_elements = ["e"]
}
resource "iom_waiver" "live" {
  name        = "live"
  source      = "model"
  rule        = "ungoverned"
  addresses   = ["*a*"]
  reason      = "reviewed"
  approved_by = "tester"
  expires     = "2999-01-01T00:00:00Z"
}
resource "iom_waiver" "old" {
  name        = "old"
  source      = "profile:p"
  rule        = "*"
  reason      = "long gone"
  approved_by = "tester"
  expires     = "2001-01-01T00:00:00Z"
}
"#;

fn models() -> Vec<(&'static str, Model)> {
    let every = load_str("every.tf", EVERY_FINDING).unwrap_or_else(|e| panic!("{}", e[0]));
    let example = iom_model::load_dir(&repo().join("examples/governance"))
        .unwrap_or_else(|e| panic!("{}", e[0]));
    vec![
        ("empty", Model::empty()),
        (
            "every",
            Model::compile(every).unwrap_or_else(|e| panic!("{e:?}")),
        ),
        (
            "example",
            Model::compile(example).unwrap_or_else(|e| panic!("{e:?}")),
        ),
    ]
}

fn corpus_and_fixture_plans() -> Vec<PathBuf> {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/plans");
    let mut plans: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    plans.sort();
    assert!(plans.len() >= 150, "corpus has {} plans", plans.len());
    plans.extend(FIXTURES.iter().map(|name| PathBuf::from(plan_path(name))));
    // Module calls from every kind of source, judged as changes of class `module`.
    plans.push(PathBuf::from(plan_path("module_sources")));
    for example in [
        "example_allow.json",
        "example_escalate.json",
        "example_block.json",
    ] {
        plans.push(fixtures_dir().join(example));
    }
    plans
}

/// Every plan judged against every model in a governed and an ungoverned workspace,
/// written to `dir` as `valid-N.json`; returns how many, and which sources and rules
/// appeared (to show the reports exercise the whole schema).
fn write_library_reports(dir: &Path) -> (usize, std::collections::BTreeSet<String>) {
    let mut written = 0;
    let mut seen = std::collections::BTreeSet::new();
    let models = models();
    for path in corpus_and_fixture_plans() {
        let raw = read_plan(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
        let plan = raw.parse().unwrap_or_else(|e| panic!("{e}"));
        for (_, model) in &models {
            for workspace in ["governed", "payments-prod", "elsewhere"] {
                let opts = options(workspace, Outcome::Escalate);
                let report = match check(&raw, &plan, model, &opts) {
                    Ok(report) => report,
                    Err(CheckError::Errored { .. }) => continue,
                    Err(e) => panic!("{}: {e}", path.display()),
                };
                for c in &report.changes {
                    for f in &c.findings {
                        let source = f.source.split(':').next().unwrap();
                        seen.insert(format!("{source} {}", f.rule));
                        if f.waived_by.is_some() {
                            seen.insert("waived".into());
                        }
                    }
                }
                written += 1;
                std::fs::write(
                    dir.join(format!("valid-{written}.json")),
                    render_json(&report),
                )
                .unwrap();
            }
        }
    }
    (written, seen)
}

/// What the binary itself writes with `--format json` and `--also json=FILE`, recorded
/// in a store of its own.
fn write_binary_reports(dir: &Path) {
    let store = format!("sqlite://{}/store/model.db", dir.display());
    let also = dir.join("valid-also.json");
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .env_remove("IOM_STORE")
        .args([
            "check",
            fixtures_dir()
                .join("example_escalate.json")
                .to_str()
                .unwrap(),
        ])
        .args([
            "--model",
            repo().join("examples/governance").to_str().unwrap(),
        ])
        .args([
            "--store",
            &store,
            "--init-store",
            "--workspace",
            "payments-prod",
            "--actor",
            "tester",
        ])
        .args([
            "--format",
            "json",
            "--also",
            &format!("json={}", also.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("valid-stdout.json"), &out.stdout).unwrap();
    assert!(also.exists());
}

/// Reports broken in ways the schema must refuse, each named for the failure message.
fn write_broken_reports(dir: &Path) {
    let good: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("valid-stdout.json")).unwrap()).unwrap();
    type Breakage = (&'static str, fn(&mut serde_json::Value));
    let breakages: [Breakage; 7] = [
        ("a-verdict-it-does-not-define", |r| {
            r["verdict"] = "deny".into()
        }),
        ("a-key-it-does-not-define", |r| r["score"] = 1.into()),
        ("no-decision-id", |r| {
            r.as_object_mut().unwrap().remove("decision_id");
        }),
        ("a-negative-count", |r| r["summary"]["block"] = (-1).into()),
        ("a-no-op-change", |r| {
            r["changes"][0]["action"] = "no-op".into()
        }),
        ("a-finding-source-it-does-not-define", |r| {
            r["changes"][0]["findings"] = serde_json::json!([
                {"message": "m", "outcome": "warn", "rule": "r", "source": "opa"}
            ])
        }),
        ("a-short-plan-hash", |r| r["plan"]["sha256"] = "abc".into()),
    ];
    for (name, breaks) in breakages {
        let mut broken = good.clone();
        breaks(&mut broken);
        std::fs::write(dir.join(format!("invalid-{name}.json")), broken.to_string()).unwrap();
    }
}

/// The report of the `plan_set` fixture's two plans judged as one set, and sets broken in
/// ways the schema must refuse.
fn write_set_reports(dir: &Path) {
    let set_dir = fixtures_dir().join("plan_set");
    let store = format!("sqlite://{}/store/set.db", dir.display());
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .env_remove("IOM_STORE")
        .current_dir(&set_dir)
        .args([
            "check",
            "upstream.json",
            "plan.json",
            "--workspace",
            "network",
        ])
        .args(["--workspace", "payments-prod", "--source-dir", "upstream"])
        .args(["--source-dir", "config", "--store", &store, "--init-store"])
        .args([
            "--model",
            repo().join("examples/governance").to_str().unwrap(),
        ])
        .args(["--actor", "tester", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 2 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("valid-set.json"), &out.stdout).unwrap();
    let good: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(good["plans"].as_array().map(Vec::len), Some(2));
    type Breakage = (&'static str, fn(&mut serde_json::Value));
    let breakages: [Breakage; 4] = [
        ("set-a-plan-verdict-it-does-not-define", |r| {
            r["plans"][1]["verdict"] = "deny".into()
        }),
        ("set-with-changes-of-its-own", |r| {
            r["changes"] = serde_json::json!([])
        }),
        ("set-of-one-plan", |r| {
            r["plans"].as_array_mut().unwrap().pop();
        }),
        ("set-id-of-a-plan", |r| {
            r["decision_id"] = format!("{}.1", r["decision_id"].as_str().unwrap()).into()
        }),
    ];
    for (name, breaks) in breakages {
        let mut broken = good.clone();
        breaks(&mut broken);
        std::fs::write(dir.join(format!("invalid-{name}.json")), broken.to_string()).unwrap();
    }
}

const VALIDATE: &str = r#"
import json, os, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
wrong = []
for name in sorted(os.listdir(sys.argv[2])):
    if not name.endswith(".json"):
        continue
    errors = list(validator.iter_errors(json.load(open(os.path.join(sys.argv[2], name)))))
    if name.startswith("valid-") and errors:
        wrong.append(f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}")
    if name.startswith("invalid-") and not errors:
        wrong.append(f"{name}: accepted")
print(f"{len(wrong)} wrong:", *wrong[:20], sep="\n")
sys.exit(1 if wrong else 0)
"#;

#[test]
fn every_report_validates_against_the_published_schema() {
    let python = repo().join(".tools/venv/bin/python");
    assert!(
        python.exists(),
        "no {}: run bash scripts/install-test-tools.sh",
        python.display()
    );
    let dir = scratch("report-schema");
    let (written, seen) = write_library_reports(&dir);
    write_binary_reports(&dir);
    write_broken_reports(&dir);
    write_set_reports(&dir);
    for expected in [
        "blueprint named",
        "intent allowed_resource_types",
        "intent critical",
        "intent short-address",
        "intent eu-only",
        "model ungoverned",
        "model waiver_expired",
        "profile delete",
        "profile max_blast_radius",
        "profile max_changes",
        "waived",
    ] {
        assert!(
            seen.contains(expected),
            "no report has {expected}: {seen:?}"
        );
    }
    let out = Command::new(&python)
        .arg("-c")
        .arg(VALIDATE)
        .arg(repo().join("docs/report.schema.json"))
        .arg(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{written} reports: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
