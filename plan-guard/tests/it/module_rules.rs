//! Blueprint `module_rule`s (docs/judging.md, Module calls) on the `module_sources` plan the
//! real Terraform wrote: calls from a local path, the public registry, a private registry
//! (for_each), a git repository (//subdir, ?ref=tag) and a git call nested in the local
//! module (count, ?ref=main). Every call in scope is judged, one finding per offending
//! call, in every output format; the ways around a source rule are tried on crafted
//! copies of the same plan. Scopes, pinned versions and waivers of calls are cases in
//! `tests/fixtures/module_rules.iomtest.hcl`.

use crate::fixture_util::*;
use crate::support::repo;
use iom_model::{ActionClass, Model, Outcome};
use plan_guard::decide::check;
use plan_guard::decide::report::Report;
use plan_guard::plan::read_plan;
use std::path::{Path, PathBuf};
use std::process::Command;

use Outcome::*;

/// Local modules, the company's git repository at a release tag (a subdirectory of it), or
/// the private registry at an exact version. Anchored: a prefix test is the weak spot of a
/// source rule (see the bypass tests).
const APPROVED: &str = r#"module_call.source.startsWith('./') || module_call.source.matches(r'^git::https://git\\.corp\\.example/modules\\.git//[a-z0-9-]+\\?ref=v[0-9]+\\.[0-9]+\\.[0-9]+$') || (module_call.source.startsWith('registry.corp.example/') && module_call.version.matches(r'^[0-9]+\\.[0-9]+\\.[0-9]+$'))"#;

fn governance(condition: &str, scope: &str) -> String {
    format!(
        r#"resource "iom_profile" "p" {{
  name = "p"
}}
resource "iom_blueprint" "modules" {{
  name    = "modules"
  version = "1.0.0"
  module_rule {{
    id        = "approved-source"
    condition = "{condition}"
    outcome   = "block"
    message   = "modules come from this repository, the company's git repository at a release tag, or the private registry at an exact version"
  }}
}}
resource "iom_intent" "i" {{
  name       = "i"
  owner      = "platform-team"
  profile    = "p"
  blueprints = ["modules"]
{scope}
}}
"#
    )
}

fn judged_calls(r: &Report) -> Vec<(String, Outcome)> {
    r.changes
        .iter()
        .filter(|c| c.action == ActionClass::Module)
        .map(|c| (c.address.clone(), c.verdict))
        .collect()
}

fn call(address: &str, verdict: Outcome) -> (String, Outcome) {
    (address.into(), verdict)
}

#[test]
fn every_call_is_judged_once_nested_and_counted_ones_included() {
    let r = judge("module_sources", &governance(APPROVED, ""));
    assert_eq!(
        judged_calls(&r),
        vec![
            call("module.app", Allow),
            call("module.app.module.inner", Block),
            call("module.db", Allow),
            call("module.network", Block),
            call("module.vpc", Allow),
        ]
    );
    let inner = change(&r, "module.app.module.inner");
    assert_eq!(
        findings(&r, "module.app.module.inner"),
        vec![finding("blueprint:modules@1.0.0", "approved-source", Block)]
    );
    assert_eq!(inner.module, "module.app");
    assert_eq!(inner.ty, "module");
    assert_eq!(inner.governed_by, ["i"]);
    assert_eq!(inner.accountable[0].owner.as_deref(), Some("platform-team"));
    let info = inner.module_call.as_ref().unwrap();
    assert_eq!(
        info.source,
        "git::https://git.corp.example/modules.git?ref=main"
    );
    assert_eq!(info.version, "");
    // The version is the constraint as written; the public registry's address as written.
    let network = change(&r, "module.network").module_call.as_ref().unwrap();
    assert_eq!(
        (network.source.as_str(), network.version.as_str()),
        ("corp/network/aws", "~> 1.2")
    );
    assert_eq!(r.summary.module, 5);
    assert_eq!(r.verdict, Block);
    // The resources are judged as before, beside the calls.
    assert_eq!(
        change(&r, "module.network.terraform_data.x").action,
        ActionClass::Create
    );
}

/// The plan with the source of call `path` (`app.inner`) replaced, written to a file.
fn with_source(path: &str, source: &str, version: Option<&str>, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(plan_path("module_sources")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut at = &mut plan["configuration"]["root_module"];
    for step in path.split('.') {
        at = &mut at["module_calls"][step];
    }
    at["source"] = source.into();
    match version {
        Some(v) => at["version_constraint"] = v.into(),
        None => {
            at.as_object_mut().unwrap().remove("version_constraint");
        }
    }
    let dir = std::env::temp_dir().join(format!("pg-module-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_string(&plan).unwrap()).unwrap();
    file
}

fn verdict_of(file: &Path, model: &Model, address: &str) -> Outcome {
    let raw = read_plan(file.to_str().unwrap()).unwrap();
    let plan = raw.parse().unwrap();
    let r = check(&raw, &plan, model, &options("default", Escalate)).unwrap();
    change(&r, address).verdict
}

/// How someone gets an unapproved module past a source rule: a look-alike host, a second
/// `ref`, a ref that is a branch, a subdirectory that climbs out, a registry address that
/// only starts like the private one. The anchored rule blocks each; a prefix rule
/// (`startsWith`) lets most of them through (a forked repository, any ref, a climbing
/// subdirectory), which is why the docs anchor theirs.
#[test]
fn tricks_with_refs_subdirectories_and_look_alike_hosts_are_blocked() {
    let anchored = model(&governance(APPROVED, ""));
    let prefix = model(&governance(
        "module_call.source.startsWith('./') || module_call.source.startsWith('git::https://git.corp.example/modules')",
        "",
    ));
    let tricks = [
        (
            "lookalike-host",
            "git::https://git.corp.example.evil.test/modules.git//vpc?ref=v1.2.0",
            false,
        ),
        (
            "lookalike-repo",
            "git::https://git.corp.example/modules-fork.git//vpc?ref=v1.2.0",
            true,
        ),
        (
            "second-ref",
            "git::https://git.corp.example/modules.git//vpc?ref=v1.2.0&ref=main",
            true,
        ),
        (
            "branch-ref",
            "git::https://git.corp.example/modules.git//vpc?ref=main",
            true,
        ),
        (
            "no-ref",
            "git::https://git.corp.example/modules.git//vpc",
            true,
        ),
        (
            "climbing-subdir",
            "git::https://git.corp.example/modules.git//../other?ref=v1.2.0",
            true,
        ),
        (
            "userinfo-host",
            "git::https://git.corp.example@evil.test/modules.git//vpc?ref=v1.2.0",
            false,
        ),
        (
            "fragment",
            "git::https://git.corp.example/modules.git//vpc?ref=v1.2.0#main",
            true,
        ),
    ];
    for (name, source, prefix_passes) in tricks {
        let file = with_source("vpc", source, None, name);
        assert_eq!(
            verdict_of(&file, &anchored, "module.vpc"),
            Block,
            "{name}: {source}"
        );
        let expected = if prefix_passes { Allow } else { Block };
        assert_eq!(
            verdict_of(&file, &prefix, "module.vpc"),
            expected,
            "{name} under a prefix rule"
        );
    }
    // The private registry only at an exact version; a look-alike registry host is not it.
    for (name, source, version, verdict) in [
        (
            "range",
            "registry.corp.example/team/db/aws",
            Some(">= 1.0.0"),
            Block,
        ),
        ("unpinned", "registry.corp.example/team/db/aws", None, Block),
        (
            "lookalike-registry",
            "registry.corp.example.evil.test/team/db/aws",
            Some("1.0.0"),
            Block,
        ),
        (
            "exact",
            "registry.corp.example/team/db/aws",
            Some("2.3.4"),
            Allow,
        ),
    ] {
        let file = with_source("db", source, version, name);
        assert_eq!(verdict_of(&file, &anchored, "module.db"), verdict, "{name}");
    }
    // A bad call nested in an approved local module is judged on its own.
    let file = with_source(
        "app.inner",
        "git::https://evil.test/x.git?ref=v1.0.0",
        None,
        "nested",
    );
    assert_eq!(
        verdict_of(&file, &anchored, "module.app.module.inner"),
        Block
    );
    assert_eq!(verdict_of(&file, &anchored, "module.app"), Allow);
}

/// The plan edited by `edit`, written to a file.
fn edited(name: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let text = std::fs::read_to_string(plan_path("module_sources")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut plan);
    let dir = std::env::temp_dir().join(format!("pg-module-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_string(&plan).unwrap()).unwrap();
    file
}

/// A call taken out of the configuration (or the whole configuration taken out) cannot
/// slip past the module rules: the modules the changes are in are judged as calls whose
/// source is unknown, and no rule holds for them.
#[test]
fn a_call_missing_from_the_configuration_fails_every_module_rule() {
    let m = model(&governance(APPROVED, ""));
    let judged = |file: &Path| {
        let raw = read_plan(file.to_str().unwrap()).unwrap();
        let plan = raw.parse().unwrap();
        check(&raw, &plan, &m, &options("default", Escalate)).unwrap()
    };
    let dropped = edited("dropped-call", |p| {
        p["configuration"]["root_module"]["module_calls"]
            .as_object_mut()
            .unwrap()
            .remove("vpc");
    });
    let r = judged(&dropped);
    let vpc = change(&r, "module.vpc");
    assert_eq!(vpc.verdict, Block);
    assert!(
        vpc.findings[0]
            .message
            .contains("does not declare this module call"),
        "{}",
        vpc.findings[0].message
    );
    assert_eq!(judged_calls(&r).len(), 5);

    let bare = edited("no-configuration", |p| {
        p.as_object_mut().unwrap().remove("configuration");
    });
    let r = judged(&bare);
    assert_eq!(
        judged_calls(&r),
        vec![
            call("module.app", Block),
            call("module.app.module.inner", Block),
            call("module.db", Block),
            call("module.network", Block),
            call("module.vpc", Block),
        ]
    );
}

#[test]
fn a_condition_that_cannot_be_evaluated_fails_with_its_outcome() {
    // `version` is a string; comparing it to a number is an evaluation error, not a pass.
    let r = judge("module_sources", &governance("module_call.version > 1", ""));
    let inner = change(&r, "module.app.module.inner");
    assert_eq!(inner.verdict, Block);
    assert!(
        inner.findings[0].message.contains("could not be evaluated"),
        "{}",
        inner.findings[0].message
    );
}

/// `plan-guard check` of the fixture against the source rule, in `format`.
fn cli(format: &str) -> String {
    let dir = std::env::temp_dir().join(format!("pg-module-cli-{}", std::process::id()));
    let gov = dir.join("governance");
    std::fs::create_dir_all(&gov).unwrap();
    std::fs::write(gov.join("main.tf"), governance(APPROVED, "")).unwrap();
    let fixture = repo().join("plan-guard/tests/fixtures/plans/module_sources");
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .arg("check")
        .arg(fixture.join("plan.json"))
        .arg("--model")
        .arg(&gov)
        .arg("--source-dir")
        .arg(fixture.join("config"))
        .args(["--workspace", "default", "--format", format])
        .env("IOM_STORE", format!("sqlite://{}/iom.db", dir.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_format_shows_the_judged_calls() {
    for format in ["text", "json", "markdown", "junit", "html", "sarif"] {
        let text = cli(format);
        for needle in [
            "module.app.module.inner",
            "module.network",
            "approved-source",
        ] {
            assert!(text.contains(needle), "{format} lacks {needle}:\n{text}");
        }
    }
    let json: serde_json::Value = serde_json::from_str(&cli("json")).unwrap();
    assert_eq!(json["summary"]["module"], 5);
    let inner = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "module.app.module.inner")
        .unwrap();
    assert_eq!(inner["action"], "module");
    assert_eq!(inner["module_call"]["version"], "");
    // What a reader sees of a flagged call: its source as written, escaped like any
    // address.
    let text = cli("text");
    assert!(text.contains("5 module"), "{text}");
    assert!(
        text.contains("module.network  module (source corp/network/aws, version ~> 1.2)"),
        "{text}"
    );
    let markdown = cli("markdown");
    assert!(markdown.contains("5 module, "), "{markdown}");
    assert!(
        markdown.contains("| module `git::https://git.corp.example/modules.git?ref=main` |"),
        "{markdown}"
    );
}

/// SARIF results point at the `module` block: in the root module's file, and for the
/// nested call in the local module's file.
#[test]
fn sarif_locates_each_offending_call_block() {
    let sarif: serde_json::Value = serde_json::from_str(&cli("sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let place = |address: &str| {
        let r = results
            .iter()
            .find(|r| {
                r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == address
                    && r["ruleId"] == "blueprint:modules@1.0.0/approved-source"
            })
            .unwrap_or_else(|| panic!("no result for {address}"));
        let at = &r["locations"][0];
        assert_eq!(at["logicalLocations"][0]["kind"], "module");
        (
            at["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string(),
            at["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap(),
        )
    };
    assert_eq!(place("module.network"), ("main.tf".to_string(), 5));
    assert_eq!(
        place("module.app.module.inner"),
        ("modules/app/main.tf".to_string(), 1)
    );
    let flagged = results
        .iter()
        .filter(|r| r["ruleId"] == "blueprint:modules@1.0.0/approved-source")
        .count();
    assert_eq!(flagged, 2, "one result per offending call");
}

/// An escalated module call goes through the approval like any change: `approve` shows
/// the call, its finding and who is accountable, from the check record.
#[test]
fn an_escalated_call_is_approved_from_the_check_record() {
    let dir = std::env::temp_dir().join(format!("pg-module-approve-{}", std::process::id()));
    let gov = dir.join("governance");
    std::fs::create_dir_all(&gov).unwrap();
    let escalating = governance(APPROVED, "")
        .replace("outcome   = \"block\"", "outcome   = \"escalate\"")
        .replace(
            "name = \"p\"\n",
            "name = \"p\"\n  approvers = [\"alice\"]\n",
        );
    std::fs::write(gov.join("main.tf"), escalating).unwrap();
    let store = format!("sqlite://{}/iom.db", dir.display());
    let plan_guard = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .args(args)
            .env("IOM_STORE", &store)
            .output()
            .unwrap()
    };
    let plan = plan_path("module_sources");
    let gov_dir = gov.to_str().unwrap();
    let check = plan_guard(&[
        "check", &plan, "--model", gov_dir, "--actor", "bob", "--format", "json",
    ]);
    assert_eq!(
        check.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let id = report["decision_id"].as_str().unwrap();
    let approve = plan_guard(&[
        "approve", id, "--actor", "alice", "--reason", "reviewed", "--yes",
    ]);
    let shown = String::from_utf8_lossy(&approve.stdout);
    assert!(
        approve.status.success(),
        "{shown}{}",
        String::from_utf8_lossy(&approve.stderr)
    );
    for needle in [
        "ESCALATE module.network  module",
        "[blueprint:modules@1.0.0 / approved-source]",
        "accountable: intent i (owner platform-team)",
        "approved",
    ] {
        assert!(shown.contains(needle), "{needle} not in:\n{shown}");
    }
}
