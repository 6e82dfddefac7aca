//! The plan reader on the plans the real Terraform wrote (tests/fixtures/plans, made by
//! scripts/gen-fixtures.sh): every fixture loads, every change has exactly the action
//! class, actions, reason, deposed key, previous address and import the configuration
//! asks for, sensitive masks and unknown values are read, and the errored plan is an
//! error that is never an allow.

use crate::fixture_util::*;
use iom_model::{ActionClass, Model, Outcome, PathStep};
use plan_guard::decide::cel_input::Unknown;
use plan_guard::decide::{CheckError, check};
use plan_guard::plan::{Mode, Plan};
use serde_json::Value;

/// One expected change: address, deposed key, class, Terraform's actions, action_reason.
type Row = (
    &'static str,
    Option<&'static str>,
    ActionClass,
    &'static [&'static str],
    Option<&'static str>,
);

use ActionClass::*;
const C: &[&str] = &["create"];
const U: &[&str] = &["update"];
const D: &[&str] = &["delete"];
const R: &[&str] = &["read"];
const F: &[&str] = &["forget"];
const N: &[&str] = &["no-op"];
const DC: &[&str] = &["delete", "create"];
const CD: &[&str] = &["create", "delete"];
const CANNOT_UPDATE: Option<&str> = Some("replace_because_cannot_update");
const NO_CONFIG: Option<&str> = Some("delete_because_no_resource_config");

/// The comparable form of a [`Row`].
type Owned = (
    String,
    Option<String>,
    ActionClass,
    Vec<String>,
    Option<String>,
);

fn own(rows: Vec<Row>) -> Vec<Owned> {
    rows.into_iter()
        .map(|(a, d, c, x, r)| {
            (
                a.to_string(),
                d.map(str::to_string),
                c,
                strings(x),
                r.map(str::to_string),
            )
        })
        .collect()
}

/// Every change of every fixture, as its configuration (scripts/gen-fixtures.sh) makes it.
fn expected(name: &str) -> Vec<Owned> {
    if name == "nested_modules" {
        let mut rows = Vec::new();
        let create = |a: String| (a, None, Create, strings(C), None);
        for r in ["eu-central-1", "eu-west-1"] {
            let region = format!(r#"module.region["{r}"]"#);
            rows.push(create(format!("{region}.terraform_data.network")));
            for c in 0..2 {
                let cluster = format!("{region}.module.cluster[{c}]");
                rows.push(create(format!("{cluster}.terraform_data.control")));
                for n in ["blue", "green"] {
                    for i in 0..2 {
                        rows.push(create(format!(
                            r#"{cluster}.module.node["{n}"].terraform_data.vm[{i}]"#
                        )));
                    }
                }
            }
        }
        return rows;
    }
    own(match name {
        "checks" => vec![("terraform_data.app", None, Create, C, None)],
        "create" => vec![
            (r#"terraform_data.bucket["assets"]"#, None, Create, C, None),
            (r#"terraform_data.bucket["logs"]"#, None, Create, C, None),
            ("terraform_data.subnet[0]", None, Create, C, None),
            ("terraform_data.subnet[1]", None, Create, C, None),
            ("terraform_data.vpc", None, Create, C, None),
        ],
        "data_source" => vec![
            (
                "data.terraform_remote_state.after_seed",
                None,
                Read,
                R,
                Some("read_because_dependency_pending"),
            ),
            (
                "data.terraform_remote_state.deferred",
                None,
                Read,
                R,
                Some("read_because_config_unknown"),
            ),
            ("terraform_data.app", None, Create, C, None),
            ("terraform_data.consumer", None, Create, C, None),
            ("terraform_data.seed", None, Create, C, None),
        ],
        "delete" => vec![
            ("terraform_data.a", None, Delete, D, NO_CONFIG),
            ("terraform_data.b", None, Delete, D, NO_CONFIG),
            ("terraform_data.c", None, NoOp, N, None),
            ("terraform_data.pool[0]", None, NoOp, N, None),
            (
                "terraform_data.pool[1]",
                None,
                Delete,
                D,
                Some("delete_because_count_index"),
            ),
            (
                "terraform_data.pool[2]",
                None,
                Delete,
                D,
                Some("delete_because_count_index"),
            ),
            (
                "terraform_data.single",
                None,
                Delete,
                D,
                Some("delete_because_wrong_repetition"),
            ),
            (r#"terraform_data.single["x"]"#, None, Create, C, None),
            (r#"terraform_data.zone["a"]"#, None, NoOp, N, None),
            (
                r#"terraform_data.zone["b"]"#,
                None,
                Delete,
                D,
                Some("delete_because_each_key"),
            ),
            (
                r#"terraform_data.zone["c"]"#,
                None,
                Delete,
                D,
                Some("delete_because_each_key"),
            ),
            ("module.gone.terraform_data.svc", None, Delete, D, NO_CONFIG),
            ("module.legacy[0].terraform_data.svc", None, Update, U, None),
            (
                "module.legacy[1].terraform_data.svc",
                None,
                Delete,
                D,
                Some("delete_because_no_module"),
            ),
        ],
        "depends_on" => vec![
            ("terraform_data.app", None, Create, C, None),
            ("terraform_data.iam", None, Create, C, None),
            (
                "module.jobs.data.terraform_remote_state.settings",
                None,
                Read,
                R,
                Some("read_because_dependency_pending"),
            ),
            ("module.jobs.terraform_data.job", None, Create, C, None),
            (
                "module.storage.terraform_data.bucket[0]",
                None,
                Create,
                C,
                None,
            ),
            (
                "module.storage.terraform_data.bucket[1]",
                None,
                Create,
                C,
                None,
            ),
        ],
        "deposed" => vec![
            ("terraform_data.db", None, Replace, CD, CANNOT_UPDATE),
            ("terraform_data.db", Some("5e1f0c2a"), Delete, D, None),
        ],
        "destroy" => vec![
            ("terraform_data.network", None, Delete, D, None),
            (r#"terraform_data.service["api"]"#, None, Delete, D, None),
            (r#"terraform_data.service["web"]"#, None, Delete, D, None),
            (
                "module.worker[0].terraform_data.node",
                None,
                Delete,
                D,
                None,
            ),
            (
                "module.worker[1].terraform_data.node",
                None,
                Delete,
                D,
                None,
            ),
        ],
        // The precondition of terraform_data.bucket failed: it has no change at all.
        "errored" => vec![("terraform_data.fine", None, Create, C, None)],
        "forget" => vec![
            ("terraform_data.destroyed", None, Delete, D, NO_CONFIG),
            ("terraform_data.forgotten", None, Forget, F, NO_CONFIG),
            ("terraform_data.keep", None, NoOp, N, None),
            (
                "module.legacy.terraform_data.item[0]",
                None,
                Forget,
                F,
                NO_CONFIG,
            ),
            (
                "module.legacy.terraform_data.item[1]",
                None,
                Forget,
                F,
                NO_CONFIG,
            ),
        ],
        "import" => vec![
            ("terraform_data.adopted", None, NoOp, N, None),
            ("terraform_data.adopted_changed", None, Update, U, None),
            ("terraform_data.generated", None, NoOp, N, None),
            (
                r#"module.legacy.terraform_data.item["a"]"#,
                None,
                NoOp,
                N,
                None,
            ),
            (
                r#"module.legacy.terraform_data.item["b"]"#,
                None,
                NoOp,
                N,
                None,
            ),
        ],
        "mixed" => vec![
            (
                "data.terraform_remote_state.settings",
                None,
                Read,
                R,
                Some("read_because_config_unknown"),
            ),
            ("terraform_data.audit", None, Create, C, None),
            ("terraform_data.dns", None, NoOp, N, None),
            ("terraform_data.handed_over", None, Forget, F, NO_CONFIG),
            ("terraform_data.network", None, NoOp, N, None),
            ("terraform_data.retired", None, Delete, D, NO_CONFIG),
            (
                "module.payments.terraform_data.api[0]",
                None,
                Update,
                U,
                None,
            ),
            (
                "module.payments.terraform_data.api[1]",
                None,
                Update,
                U,
                None,
            ),
            (
                "module.payments.terraform_data.cache",
                None,
                Replace,
                CD,
                CANNOT_UPDATE,
            ),
            (
                "module.payments.terraform_data.db",
                None,
                Replace,
                DC,
                CANNOT_UPDATE,
            ),
        ],
        "module_refs" => vec![
            ("terraform_data.db", None, Create, C, None),
            ("terraform_data.dns", None, Create, C, None),
            ("module.app.terraform_data.lb", None, Create, C, None),
            ("module.app.terraform_data.server[0]", None, Create, C, None),
            ("module.app.terraform_data.server[1]", None, Create, C, None),
            ("module.monitor.terraform_data.check", None, Create, C, None),
        ],
        "moved" => vec![
            ("terraform_data.multi[0]", None, NoOp, N, None),
            ("terraform_data.multi[1]", None, Create, C, None),
            ("terraform_data.new_name", None, NoOp, N, None),
            ("terraform_data.renamed_and_changed", None, Update, U, None),
            ("module.box.terraform_data.item", None, NoOp, N, None),
            ("module.svc.terraform_data.x", None, NoOp, N, None),
        ],
        "noop" => vec![
            ("terraform_data.a", None, NoOp, N, None),
            ("terraform_data.b[0]", None, NoOp, N, None),
            ("terraform_data.b[1]", None, NoOp, N, None),
        ],
        "refresh_only" => vec![],
        "replace" => vec![
            ("terraform_data.app", None, Update, U, None),
            ("terraform_data.db", None, Replace, DC, CANNOT_UPDATE),
        ],
        "replace_cbd" => vec![
            ("terraform_data.app", None, Update, U, None),
            ("terraform_data.db", None, Replace, CD, CANNOT_UPDATE),
        ],
        "replace_reasons" => vec![
            ("terraform_data.config", None, Update, U, None),
            (
                "terraform_data.follower",
                None,
                Replace,
                DC,
                Some("replace_by_triggers"),
            ),
            (
                "terraform_data.requested",
                None,
                Replace,
                DC,
                Some("replace_by_request"),
            ),
            (
                "terraform_data.tainted",
                None,
                Replace,
                DC,
                Some("replace_because_tainted"),
            ),
        ],
        "sensitive" | "sensitive_update" => {
            let (class, actions) = if name == "sensitive" {
                (Create, C)
            } else {
                (Update, U)
            };
            [
                "terraform_data.db",
                "terraform_data.derived",
                "terraform_data.marked",
                "terraform_data.whole",
                "module.vault.terraform_data.entry",
            ]
            .into_iter()
            .map(|a| (a, None, class, actions, None))
            .collect()
        }
        "tf103_modules" => vec![
            ("data.terraform_remote_state.settings", None, Read, R, None),
            (
                r#"module.region["eu-central-1"].module.zone[0].module.leaf.null_resource.leaf"#,
                None,
                Create,
                C,
                None,
            ),
            (
                r#"module.region["eu-central-1"].null_resource.node[0]"#,
                None,
                Create,
                C,
                None,
            ),
            (
                r#"module.region["eu-central-1"].null_resource.node[1]"#,
                None,
                Create,
                C,
                None,
            ),
            (
                r#"module.region["eu-west-1"].module.zone[0].module.leaf.null_resource.leaf"#,
                None,
                Replace,
                DC,
                CANNOT_UPDATE,
            ),
            (
                r#"module.region["eu-west-1"].null_resource.node[0]"#,
                None,
                NoOp,
                N,
                None,
            ),
            (
                r#"module.region["eu-west-1"].null_resource.node[1]"#,
                None,
                NoOp,
                N,
                None,
            ),
            (
                r#"module.region["eu-west-1"].null_resource.node[2]"#,
                None,
                Delete,
                D,
                None,
            ),
            (
                r#"module.region["us-east-1"].module.zone[0].module.leaf.null_resource.leaf"#,
                None,
                Delete,
                D,
                None,
            ),
            (
                r#"module.region["us-east-1"].null_resource.node[0]"#,
                None,
                Delete,
                D,
                None,
            ),
            (
                r#"module.region["us-east-1"].null_resource.node[1]"#,
                None,
                Delete,
                D,
                None,
            ),
            (
                r#"module.region["us-east-1"].null_resource.node[2]"#,
                None,
                Delete,
                D,
                None,
            ),
            ("null_resource.blue_green", None, Replace, CD, CANNOT_UPDATE),
            ("null_resource.root", None, Replace, DC, CANNOT_UPDATE),
        ],
        "unknown" => vec![
            (r#"terraform_data.per_item["a"]"#, None, Create, C, None),
            (r#"terraform_data.per_item["b"]"#, None, Create, C, None),
            ("terraform_data.seed", None, Create, C, None),
            ("terraform_data.uses", None, Create, C, None),
            ("terraform_data.whole", None, Create, C, None),
        ],
        "update" => vec![
            ("terraform_data.app", None, Update, U, None),
            ("terraform_data.unchanged", None, NoOp, N, None),
            ("terraform_data.watcher", None, Update, U, None),
        ],
        other => panic!("no expectations for fixture {other}"),
    })
}

fn rows_of(plan: &Plan) -> Vec<Owned> {
    plan.resource_changes
        .iter()
        .map(|rc| {
            let class = ActionClass::from_actions(&rc.change.actions)
                .unwrap_or_else(|| panic!("{}: {:?}", rc.address, rc.change.actions));
            (
                rc.address.clone(),
                rc.deposed.clone(),
                class,
                rc.change.actions.clone(),
                rc.action_reason.clone(),
            )
        })
        .collect()
}

fn sorted(mut rows: Vec<Owned>) -> Vec<Owned> {
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    rows
}

#[test]
fn every_fixture_directory_is_a_loadable_plan_with_its_config() {
    let mut dirs: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    for name in FIXTURES {
        assert!(dirs.iter().any(|d| d == name), "fixture {name} is missing");
    }
    // Fixtures added later (not yet in FIXTURES) are held to the same layout.
    for name in &dirs {
        let dir = fixtures_dir().join(name);
        let about = std::fs::read_to_string(dir.join("ABOUT")).unwrap();
        assert_eq!(about.lines().count(), 1, "{name}: ABOUT is one line");
        assert!(
            dir.join("config/main.tf").is_file(),
            "{name}: the configuration that was planned is committed"
        );
        let raw = load(name);
        raw.parse().unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn every_change_has_exactly_the_class_the_configuration_asks_for() {
    for name in FIXTURES {
        let raw = load(name);
        let plan = raw.parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sorted(rows_of(&plan)),
            sorted(expected(name)),
            "fixture {name}"
        );
        let (format, terraform) = if name == "tf103_modules" {
            ("0.2", "1.0.3")
        } else {
            ("1.2", "1.15.5")
        };
        assert_eq!(plan.format_version.as_deref(), Some(format), "{name}");
        assert_eq!(plan.terraform_version.as_deref(), Some(terraform), "{name}");
        assert_eq!(plan.errored, name == "errored", "{name}");
        assert!(plan.configuration.is_some(), "{name}");
        for rc in &plan.resource_changes {
            let data = rc.address.starts_with("data.") || rc.address.contains(".data.");
            assert_eq!(rc.mode == Mode::Data, data, "{name} {}", rc.address);
            // The parts the reader keeps agree with the address.
            let module = rc.module_address.as_deref().unwrap_or("");
            let expected_module = plan_guard::plan::address::InstanceAddress::parse(&rc.address)
                .unwrap()
                .module_address();
            assert_eq!(module, expected_module, "{name} {}", rc.address);
        }
    }
}

#[test]
fn judged_changes_are_every_change_but_no_op_counted_per_class() {
    // (fixture, changes, create, update, replace, delete, read, forget, import, move)
    let table: [(&str, [usize; 9]); 23] = [
        ("checks", [1, 1, 0, 0, 0, 0, 0, 0, 0]),
        ("create", [5, 5, 0, 0, 0, 0, 0, 0, 0]),
        ("data_source", [5, 3, 0, 0, 0, 2, 0, 0, 0]),
        ("delete", [11, 1, 1, 0, 9, 0, 0, 0, 0]),
        ("depends_on", [6, 5, 0, 0, 0, 1, 0, 0, 0]),
        ("deposed", [2, 0, 0, 1, 1, 0, 0, 0, 0]),
        ("destroy", [5, 0, 0, 0, 5, 0, 0, 0, 0]),
        ("forget", [4, 0, 0, 0, 1, 0, 3, 0, 0]),
        // Imports without a change are no-ops, which are never judged, but every one of
        // the five imports is counted.
        ("import", [1, 0, 1, 0, 0, 0, 0, 5, 0]),
        ("mixed", [9, 1, 2, 2, 1, 1, 1, 0, 1]),
        ("module_refs", [6, 6, 0, 0, 0, 0, 0, 0, 0]),
        ("moved", [6, 1, 1, 0, 0, 0, 0, 0, 4]),
        ("nested_modules", [22, 22, 0, 0, 0, 0, 0, 0, 0]),
        ("noop", [0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("refresh_only", [0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("replace", [2, 0, 1, 1, 0, 0, 0, 0, 0]),
        ("replace_cbd", [2, 0, 1, 1, 0, 0, 0, 0, 0]),
        ("replace_reasons", [4, 0, 1, 3, 0, 0, 0, 0, 0]),
        ("sensitive", [5, 5, 0, 0, 0, 0, 0, 0, 0]),
        ("sensitive_update", [5, 0, 5, 0, 0, 0, 0, 0, 0]),
        ("tf103_modules", [12, 3, 0, 3, 5, 1, 0, 0, 0]),
        ("unknown", [5, 5, 0, 0, 0, 0, 0, 0, 0]),
        ("update", [2, 0, 2, 0, 0, 0, 0, 0, 0]),
    ];
    for (name, counts) in table {
        let r = judge_model(name, &Model::empty(), "default", Outcome::Allow);
        let s = &r.summary;
        assert_eq!(
            [
                s.changes, s.create, s.update, s.replace, s.delete, s.read, s.forget, s.import,
                s.moved
            ],
            counts,
            "{name}"
        );
        assert_eq!(r.changes.len(), s.changes, "{name}");
        // A replace is never also a create or a delete, and no-ops are not in the report
        // (a no-op that moves its object is a move).
        for c in &r.changes {
            assert_ne!(c.action, NoOp, "{name} {}", c.address);
            let moved = c.previous_address.as_ref().is_some_and(|p| *p != c.address);
            assert_eq!(
                ActionClass::of_change(&c.actions, moved),
                Some(c.action),
                "{name} {}",
                c.address
            );
        }
        // With an empty model every judged change is ungoverned: escalate, never allow.
        let r = judge_model(name, &Model::empty(), "default", Outcome::Escalate);
        let expected = if s.changes == 0 { 0 } else { 3 };
        assert_eq!(r.exit_code(), expected, "{name}");
    }
}

#[test]
fn the_errored_plan_is_an_error_naming_the_file_never_an_allow() {
    let raw = load("errored");
    let plan = raw.parse().unwrap();
    assert!(plan.errored);
    assert_eq!(plan.applyable, Some(false));
    assert_eq!(plan.complete, Some(false));
    let e = check(&raw, &plan, &Model::empty(), &options("w", Outcome::Allow)).unwrap_err();
    assert!(matches!(e, CheckError::Errored { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with(&plan_path("errored")) && text.contains("errored"),
        "{text}"
    );
    // The binary: exit 1 (an error), though the model allows every change there is.
    let gov = std::env::temp_dir().join(format!("pg-fx-errored-{}", std::process::id()));
    std::fs::create_dir_all(&gov).unwrap();
    std::fs::write(
        gov.join("gov.tf"),
        "resource \"iom_profile\" \"p\" { name = \"p\" }\nresource \"iom_intent\" \"i\" {\n  name    = \"i\"\n  profile = \"p\"\n}\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .env_remove("IOM_STORE")
        .args(["check", &plan_path("errored"), "--ungoverned", "allow"])
        .args(["--model", gov.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&gov);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "no report for an errored plan");
    assert!(
        stderr.contains(&plan_path("errored")) && stderr.contains("errored"),
        "{stderr}"
    );
}

/// A mistyped command line is an error (exit 1), never the block code (2) a CI gate
/// would read as a policy verdict; `--help` still exits 0.
#[test]
fn usage_errors_exit_1_not_the_block_code() {
    let plan = plan_path("create");
    for args in [
        vec!["check"],
        vec!["check", plan.as_str(), "--ungoverned", "bogus"],
        vec!["check", plan.as_str(), "--format", "xml"],
        vec!["check", plan.as_str(), "--no-such-flag"],
        vec!["reconcile", "--workspace", "w", "--accept"],
        // Formats a command does not have are refused, not printed as plain text.
        vec!["reconcile", "--workspace", "w", "--format", "sarif"],
        vec!["insights", "--format", "junit"],
        // An empty actor would make every approver "distinct" from it.
        vec!["check", plan.as_str(), "--actor", ""],
        // An empty workspace (an unset CI variable) would be one no governance scopes.
        vec!["check", plan.as_str(), "--workspace", ""],
        vec!["check", plan.as_str(), "--workspace", " "],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_plan-guard"))
            .env_remove("IOM_STORE")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .env_remove("IOM_STORE")
        .args(["check", "--help"])
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
}

#[test]
fn the_failed_check_block_does_not_make_a_plan_errored() {
    let raw = load("checks");
    let plan = raw.parse().unwrap();
    assert!(!plan.errored);
    assert_eq!(plan.applyable, Some(true));
    let r = check(&raw, &plan, &Model::empty(), &options("w", Outcome::Allow)).unwrap();
    assert_eq!(r.verdict, Outcome::Allow);
    assert_eq!(r.changes.len(), 1);
}

#[test]
fn moved_changes_keep_their_previous_address() {
    let raw = load("moved");
    let plan = raw.parse().unwrap();
    let moved: Vec<(String, Option<String>)> = plan
        .resource_changes
        .iter()
        .map(|rc| (rc.address.clone(), rc.previous_address.clone()))
        .collect();
    let want = |a: &str, p: Option<&str>| (a.to_string(), p.map(str::to_string));
    let mut expected = vec![
        want("terraform_data.multi[0]", Some("terraform_data.single")),
        want("terraform_data.multi[1]", None),
        want("terraform_data.new_name", Some("terraform_data.old_name")),
        want(
            "terraform_data.renamed_and_changed",
            Some("terraform_data.renamed_changed"),
        ),
        want(
            "module.box.terraform_data.item",
            Some("terraform_data.to_module"),
        ),
        want(
            "module.svc.terraform_data.x",
            Some("module.old_mod.terraform_data.x"),
        ),
    ];
    let mut moved_sorted = moved;
    moved_sorted.sort();
    expected.sort();
    assert_eq!(moved_sorted, expected);
    // The report carries it for the judged (non-no-op) moved change.
    let r = judge_model("moved", &Model::empty(), "default", Outcome::Allow);
    let c = change(&r, "terraform_data.renamed_and_changed");
    assert_eq!(
        c.previous_address.as_deref(),
        Some("terraform_data.renamed_changed")
    );
    assert_eq!(change(&r, "terraform_data.multi[1]").previous_address, None);
    // A moved instance that is otherwise a no-op is judged as a move.
    let c = change(&r, "module.svc.terraform_data.x");
    assert_eq!(c.action, ActionClass::Move);
    assert_eq!(
        c.previous_address.as_deref(),
        Some("module.old_mod.terraform_data.x")
    );
    let r = judge_model("mixed", &Model::empty(), "default", Outcome::Allow);
    let moved: Vec<(&str, ActionClass)> = r
        .changes
        .iter()
        .filter(|c| c.previous_address.is_some())
        .map(|c| (c.address.as_str(), c.action))
        .collect();
    assert_eq!(moved, [("terraform_data.dns", ActionClass::Move)]);
}

#[test]
fn imports_carry_their_ids() {
    let raw = load("import");
    let plan = raw.parse().unwrap();
    let mut ids: Vec<(String, String)> = plan
        .resource_changes
        .iter()
        .map(|rc| {
            let id = rc.change.importing.as_ref().and_then(|i| i.id.clone());
            (rc.address.clone(), id.expect("every change imports"))
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        pairs(&[
            (
                r#"module.legacy.terraform_data.item["a"]"#,
                "0d9e1f2a-3b4c-4d5e-8f60-718293a4b5c6"
            ),
            (
                r#"module.legacy.terraform_data.item["b"]"#,
                "1e0f2a3b-4c5d-4e6f-9071-8293a4b5c6d7"
            ),
            (
                "terraform_data.adopted",
                "3f0e1c52-4b1d-4a8e-9a61-1c0d2b7e5a10"
            ),
            (
                "terraform_data.adopted_changed",
                "8b7d2a40-95c3-4f0b-b1e2-6a9c0d3e4f21"
            ),
            (
                "terraform_data.generated",
                "2f1a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
            ),
        ])
    );
    let r = judge_model("import", &Model::empty(), "default", Outcome::Allow);
    let c = change(&r, "terraform_data.adopted_changed");
    assert!(c.importing);
    assert_eq!(c.action, Update);
    // Other fixtures import nothing.
    let r = judge_model("mixed", &Model::empty(), "default", Outcome::Allow);
    assert!(r.changes.iter().all(|c| !c.importing));
}

#[test]
fn deposed_objects_are_changes_of_their_own() {
    let r = judge_model("deposed", &Model::empty(), "default", Outcome::Allow);
    let keys: Vec<(String, Option<String>, ActionClass)> = r
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.deposed.clone(), c.action))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("terraform_data.db".into(), None, Replace),
            ("terraform_data.db".into(), Some("5e1f0c2a".into()), Delete),
        ]
    );
    let json: Value =
        serde_json::from_str(&plan_guard::render::render_json(&r)).expect("the report is JSON");
    assert_eq!(json["changes"][1]["deposed"], "5e1f0c2a");
    assert!(json["changes"][0].get("deposed").is_none());
    // The prior state holds both objects.
    let raw = load("deposed");
    let plan = raw.parse().unwrap();
    let state = plan
        .prior_state
        .as_ref()
        .unwrap()
        .values
        .as_ref()
        .unwrap()
        .resources();
    let objects: Vec<(&str, Option<&str>)> = state
        .iter()
        .map(|s| (s.address.as_str(), s.deposed_key.as_deref()))
        .collect();
    assert_eq!(
        objects,
        vec![
            ("terraform_data.db", None),
            ("terraform_data.db", Some("5e1f0c2a"))
        ]
    );
}

#[test]
fn refresh_only_has_no_resource_change_and_no_drift_for_terraform_data() {
    // terraform_data reads back what the state holds, so Terraform reports no drift
    // (see the fixture's ABOUT); only the root output reading the edited input changes.
    let raw = load("refresh_only");
    let plan = raw.parse().unwrap();
    assert!(plan.resource_changes.is_empty());
    assert!(plan.resource_drift.is_empty());
    assert_eq!(
        plan.output_changes
            .iter()
            .map(|(k, v)| (k.as_str(), v.actions.clone()))
            .collect::<Vec<_>>(),
        vec![("bucket_region", strings(&["update"]))]
    );
    let after: Value =
        serde_json::from_str(plan.output_changes["bucket_region"].after.unwrap().get()).unwrap();
    assert_eq!(
        after, "us-east-1",
        "the edited state is what the plan shows"
    );
    let r = judge_model("refresh_only", &Model::empty(), "default", Outcome::Block);
    assert_eq!((r.changes.len(), r.verdict), (0, Outcome::Allow));
}

#[test]
fn drift_entries_are_read_when_terraform_writes_them() {
    // No fixture provider can drift (see refresh_only), so take the corpus's real
    // refresh-only plans that report drift: every entry is read, classed and addressed.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/plans");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        // read_plan decodes UTF-16 plans too; a plain JSON tree is the second opinion.
        let raw = plan_guard::plan::read_plan(path.to_str().unwrap()).unwrap();
        let Ok(v) = serde_json::from_str::<Value>(&raw.text) else {
            continue;
        };
        let Some(drift) = v["resource_drift"].as_array().filter(|d| !d.is_empty()) else {
            continue;
        };
        let plan = raw.parse().unwrap();
        assert_eq!(plan.resource_drift.len(), drift.len(), "{}", path.display());
        for (rc, json) in plan.resource_drift.iter().zip(drift) {
            // Trimmed plans omit the address; the reader rebuilds it from the parts.
            match json["address"].as_str() {
                Some(a) => assert_eq!(rc.address, a),
                None => assert!(
                    rc.address.ends_with(json["name"].as_str().unwrap())
                        || rc.address.ends_with(']'),
                    "{}",
                    rc.address
                ),
            }
            assert_eq!(rc.change.actions, strings_of(&json["change"]["actions"]));
            assert!(ActionClass::from_actions(&rc.change.actions).is_some());
        }
        seen += 1;
    }
    assert!(seen > 0, "the corpus holds plans with resource_drift");
}

fn strings_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn mask(raw: Option<&serde_json::value::RawValue>) -> Value {
    raw.map(|r| serde_json::from_str(r.get()).unwrap())
        .unwrap_or(Value::Null)
}

#[test]
fn sensitive_masks_variables_and_outputs_are_read() {
    let raw = load("sensitive");
    let plan = raw.parse().unwrap();
    assert_eq!(plan.sensitive_variables(), vec!["db_password"]);
    let masks: Vec<(&str, Value)> = plan
        .resource_changes
        .iter()
        .map(|rc| (rc.address.as_str(), mask(rc.change.after_sensitive)))
        .collect();
    use serde_json::json;
    assert_eq!(
        masks,
        vec![
            (
                "terraform_data.db",
                json!({"input": {"password": true}, "output": {}})
            ),
            (
                "terraform_data.derived",
                json!({"input": {"dsn": true}, "output": {}})
            ),
            (
                "terraform_data.marked",
                json!({"input": {"api_key": true}, "output": {}})
            ),
            ("terraform_data.whole", json!({"input": true})),
            (
                "module.vault.terraform_data.entry",
                json!({"input": {"value": true}, "output": {}})
            ),
        ]
    );
    let outputs = &plan.configuration.as_ref().unwrap().root_module.outputs;
    assert!(outputs["dsn"].sensitive && outputs["vault_secret"].sensitive);
    for name in ["dsn", "vault_secret"] {
        assert_eq!(
            mask(plan.output_changes[name].after_sensitive),
            Value::Bool(true)
        );
    }
    // The update: before and after masks both mark the inputs; the echoed output is not.
    let raw = load("sensitive_update");
    let plan = raw.parse().unwrap();
    let db = &plan.resource_changes[0];
    assert_eq!(db.address, "terraform_data.db");
    assert_eq!(
        mask(db.change.before_sensitive),
        json!({"input": {"password": true}, "output": {}})
    );
    assert_eq!(
        mask(db.change.after_sensitive),
        json!({"input": {"password": true}, "output": {}})
    );
    // Terraform 1.0.3 marks the variable and the output too.
    let raw = load("tf103_modules");
    let plan = raw.parse().unwrap();
    assert_eq!(plan.sensitive_variables(), vec!["token"]);
    assert!(
        plan.configuration.as_ref().unwrap().root_module.outputs["token"].sensitive,
        "tf103 output token"
    );
}

#[test]
fn unknown_values_are_read_path_by_path() {
    let raw = load("unknown");
    let plan = raw.parse().unwrap();
    let unknown = |address: &str| {
        let rc = plan
            .resource_changes
            .iter()
            .find(|rc| rc.address == address)
            .unwrap();
        Unknown::parse(rc.change.after_unknown)
    };
    let k = |s: &str| PathStep::Key(s.into());
    let i = PathStep::Index;
    let uses = unknown("terraform_data.uses");
    for (path, is_unknown) in [
        (vec![k("id")], true),
        (vec![k("output")], true),
        (vec![k("input"), k("name")], false),
        (vec![k("input"), k("seed_id")], true),
        (vec![k("input"), k("created")], true),
        (vec![k("input"), k("token")], true),
        (vec![k("input"), k("ids")], true),
        (vec![k("input"), k("ids"), i(0)], true),
        (vec![k("input"), k("ids"), i(1)], false),
        (vec![k("input"), k("nested"), k("deep"), k("value")], true),
        (vec![k("input"), k("nested"), k("deep"), k("fixed")], false),
        (vec![k("input"), k("nested")], true),
        (vec![k("triggers_replace")], false),
    ] {
        assert_eq!(uses.touches(&path), is_unknown, "uses {path:?}");
    }
    // The whole input of `whole` is unknown, so is every path under it.
    let whole = unknown("terraform_data.whole");
    assert!(whole.touches(&[k("input")]));
    assert!(whole.touches(&[k("input"), k("anything")]));
    for key in ["a", "b"] {
        let item = unknown(&format!(r#"terraform_data.per_item["{key}"]"#));
        assert!(item.touches(&[k("input"), k("parent")]));
        assert!(!item.touches(&[k("input"), k("name")]));
    }
    // Only the seed's own id and output are unknown.
    let seed = unknown("terraform_data.seed");
    assert!(!seed.touches(&[k("input")]));
    assert!(seed.touches(&[k("id")]));
    assert_eq!(
        mask(plan.output_changes["seed_id"].after_unknown),
        Value::Bool(true)
    );
}
