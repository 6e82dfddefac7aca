//! Several plans, one decision (docs/judging.md): the `plan_set` fixture's two real
//! workspaces — `upstream` (network: replaces the vpc whose id it outputs) and `config`
//! (app: reads that output through terraform_remote_state and updates its readers) —
//! judged as one set; the ways a destructive change could slip past a set; and the
//! governed apply of each plan of a set with the real Terraform.

use std::path::{Path, PathBuf};
use std::process::Command;

use iom_model::{Model, Outcome};
use plan_guard::decide::plan_set::{Member, SetReport, check_set};
use plan_guard::decide::{CheckOptions, Observed};
use plan_guard::plan::read_plan;
use plan_guard::plan::sources::Locator;
use plan_guard::render::{Format, Options, SetPlanSources, render_set};
use serde_json::Value;

const CANARY: &str = "CANARY-SENSITIVE-41c9";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/plan_set")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn terraform() -> PathBuf {
    std::env::var_os("TERRAFORM_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/terraform"))
}

/// Replacing the network escalates (alice approves); the app's updates are allowed,
/// unless `app_update` says otherwise.
fn governance(dir: &Path, app_update: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"
resource "iom_profile" "network" {{
  name      = "network"
  actions   = {{ replace = "escalate" }}
  approvers = ["alice"]
}}
resource "iom_profile" "app" {{
  name      = "app"
  actions   = {{ update = "{app_update}" }}
  approvers = ["alice"]
}}
resource "iom_intent" "network" {{
  name    = "network"
  owner   = "team-network"
  profile = iom_profile.network.name
  scope {{
    workspaces = ["network"]
  }}
}}
resource "iom_intent" "app" {{
  name    = "app"
  owner   = "team-app"
  profile = iom_profile.app.name
  scope {{
    workspaces = ["app"]
  }}
}}
"#
        ),
    )
    .unwrap();
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn pg(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .args(args)
        .current_dir(dir)
        .env("TERRAFORM_BINARY", terraform())
        .env("USER_NAME", "ci")
        .env_remove("IOM_STORE")
        .env_remove("IOM_SIGNING_KEY")
        .env_remove("TF_WORKSPACE")
        .env_remove("WORKSPACE")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn scratch(tag: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("pg-set-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root
}

/// `check` of the fixture's two plans as network and app, with `extra` arguments.
fn check_fixture(root: &Path, gov: &Path, extra: &[&str]) -> Run {
    let store = format!("sqlite://{}/ledger.db", root.display());
    let mut args = vec![
        "check",
        "upstream.json",
        "plan.json",
        "--workspace",
        "network",
        "--workspace",
        "app",
        "--source-dir",
        "upstream",
        "--source-dir",
        "config",
        "--model",
        gov.to_str().unwrap(),
        "--store",
        &store,
        "--init-store",
    ];
    args.extend_from_slice(extra);
    pg(&fixture(), &args)
}

fn addresses(change: &Value) -> Vec<&str> {
    change["blast_radius"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no {address} in {plan}"))
}

fn ledger_lines(root: &Path) -> Vec<String> {
    let store = format!("sqlite://{}/ledger.db", root.display());
    let run = pg(root, &["evidence", "list", "--store", &store]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.lines().map(String::from).collect()
}

#[test]
fn two_workspaces_are_one_decision_with_readers_across_them() {
    let root = scratch("one");
    governance(&root.join("gov"), "allow");
    let run = check_fixture(&root, &root.join("gov"), &["--format", "json"]);
    assert_eq!(run.code, 3, "the set escalates: {}", run.stderr);
    let set: Value = serde_json::from_str(&run.stdout).unwrap();
    let id = set["decision_id"].as_str().unwrap();
    assert!(id.starts_with("pg-"), "{id}");
    assert_eq!(set["verdict"], "escalate");
    let plans = set["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 2);
    let (network, app) = (&plans[0], &plans[1]);
    assert_eq!(
        (&network["workspace"], &network["decision_id"]),
        (&Value::from("network"), &Value::from(format!("{id}.1")))
    );
    assert_eq!(
        (&app["workspace"], &app["decision_id"]),
        (&Value::from("app"), &Value::from(format!("{id}.2")))
    );
    assert_eq!(
        (&network["verdict"], &app["verdict"]),
        (&Value::from("escalate"), &Value::from("allow"))
    );
    assert_eq!(set["summary"]["changes"], 4);
    assert_eq!(set["summary"]["replace"], 1);
    assert_eq!(set["summary"]["update"], 3);

    // The app's readers of vpc_id are in the vpc's blast radius, from the plans alone
    // (nothing was observed), and the finding says they change in this set too.
    let vpc = change(network, "terraform_data.vpc");
    assert_eq!(
        addresses(vpc),
        ["app:terraform_data.app[0]", "app:terraform_data.app[1]"]
    );
    assert_eq!(vpc["blast_radius"]["direct"], 2);
    let reader = vpc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "set_reader")
        .unwrap_or_else(|| panic!("{vpc}"));
    assert_eq!(
        (&reader["source"], &reader["outcome"]),
        (&"model".into(), &"warn".into())
    );
    let message = reader["message"].as_str().unwrap();
    assert!(
        message.contains("app:terraform_data.app[0] (update)")
            && message.contains("in the same set")
            && message.contains("plan and check workspace app again"),
        "{message}"
    );
    // The app's own changes read nothing the network plan changes.
    assert!(addresses(change(app, "terraform_data.token")).is_empty());

    // The ledger holds the set's record and one per plan, each under its own id.
    let lines = ledger_lines(&root);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].contains(&format!("check     {id} ")), "{lines:?}");
    assert!(lines[1].contains(&format!("{id}.1  escalate")), "{lines:?}");
    assert!(lines[2].contains(&format!("{id}.2  allow")), "{lines:?}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_reader_in_the_set_is_not_a_reader_of_an_unrelated_change() {
    // Judged alone, the network plan sees no reader: nothing was observed.
    let root = scratch("alone");
    governance(&root.join("gov"), "allow");
    let store = format!("sqlite://{}/ledger.db", root.display());
    let run = pg(
        &fixture(),
        &[
            "check",
            "upstream.json",
            "--workspace",
            "network",
            "--model",
            root.join("gov").to_str().unwrap(),
            "--store",
            &store,
            "--init-store",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(report.get("plans").is_none(), "one plan renders as before");
    assert!(addresses(change(&report, "terraform_data.vpc")).is_empty());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn ambiguous_sets_are_refused_before_anything_is_recorded() {
    let root = scratch("refused");
    let gov = root.join("gov");
    governance(&gov, "allow");
    let gov_s = gov.to_str().unwrap();
    let store = format!("sqlite://{}/ledger.db", root.display());
    let fx = fixture();
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "upstream.json",
                "upstream.json",
                "--workspace",
                "a",
                "--workspace",
                "b",
            ],
            "upstream.json and upstream.json are the same plan",
        ),
        (
            &[
                "upstream.json",
                "plan.json",
                "--workspace",
                "net",
                "--workspace",
                "net",
            ],
            "are both for workspace net",
        ),
        (
            &["upstream.json", "plan.json", "--workspace", "network"],
            "2 plans but 1 --workspace",
        ),
        (
            &["upstream.json", "plan.json", "--source-dir", "upstream"],
            "2 plans but 1 --source-dir",
        ),
        (
            &["upstream.json", "--workspace", "a", "--workspace", "b"],
            "--workspace is given 2 times for one plan",
        ),
        (
            &["upstream.json", "-"],
            "`-` (standard input) names no workspace",
        ),
        (&["upstream.json", "config/main.tf"], "config/main.tf"),
    ];
    for (args, says) in cases {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--model", gov_s, "--store", &store, "--init-store"]);
        let run = pg(&fx, &all);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: no report: {}", run.stdout);
    }
    // A plan copied under another name is still the same plan.
    std::fs::copy(fx.join("upstream.json"), root.join("again.json")).unwrap();
    let again = root.join("again.json");
    let run = pg(
        &fx,
        &[
            "check",
            "upstream.json",
            again.to_str().unwrap(),
            "--model",
            gov_s,
            "--store",
            &store,
            "--init-store",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("are the same plan"), "{}", run.stderr);
    // A truncated plan among good ones fails the whole set, naming its file and place.
    let text = std::fs::read_to_string(fx.join("plan.json")).unwrap();
    let truncated = root.join("truncated.json");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let run = pg(
        &fx,
        &[
            "check",
            "upstream.json",
            truncated.to_str().unwrap(),
            "--model",
            gov_s,
            "--store",
            &store,
            "--init-store",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!("{}:1:", truncated.display()))
            && run.stderr.contains("invalid plan JSON"),
        "{}",
        run.stderr
    );
    // Nothing judged, nothing recorded.
    let listed = pg(&root, &["evidence", "list", "--store", &store]);
    assert!(listed.stdout.trim().is_empty(), "{}", listed.stdout);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_blocked_plan_blocks_the_set() {
    let root = scratch("block");
    governance(&root.join("gov"), "block");
    let run = check_fixture(&root, &root.join("gov"), &["--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let set: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(set["verdict"], "block");
    assert_eq!(set["plans"][0]["verdict"], "escalate");
    assert_eq!(set["plans"][1]["verdict"], "block");
    // Every format says block for the set.
    for (format, says) in [
        ("text", "BLOCK  set of 2 plans"),
        ("markdown", "### plan-guard: ⛔ block — set of 2 plans"),
        (
            "html",
            "<span id=\"verdict\" class=\"v block\">block</span>",
        ),
    ] {
        let run = check_fixture(&root, &root.join("gov"), &["--format", format]);
        assert_eq!(run.code, 2);
        assert!(run.stdout.contains(says), "{format}: {}", run.stdout);
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// The fixture's set judged in the library, with run-specific values masked.
fn fixture_set() -> (SetReport, Vec<(Locator, String)>) {
    let fx = fixture();
    let root = scratch("snap");
    governance(&root, "allow");
    let model = Model::compile(iom_model::load_dir(&root).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&root);
    let raws = [
        read_plan(fx.join("upstream.json").to_str().unwrap()).unwrap(),
        read_plan(fx.join("plan.json").to_str().unwrap()).unwrap(),
    ];
    let plans: Vec<_> = raws.iter().map(|r| r.parse().unwrap()).collect();
    let members: Vec<Member<'_, '_>> = ["network", "app"]
        .iter()
        .zip(["upstream", "config"])
        .enumerate()
        .map(|(i, (w, dir))| Member {
            workspace: (*w).into(),
            raw: &raws[i],
            plan: &plans[i],
            source_dir: Some(fx.join(dir)),
        })
        .collect();
    let opts = CheckOptions {
        workspace: String::new(),
        actor: "snapshot".into(),
        ungoverned: Outcome::Escalate,
        model_source: "governance".into(),
        model_revision: None,
        source_dir: None,
    };
    let observed = vec![Observed::default(), Observed::default()];
    let mut set = check_set(&members, observed, &model, &opts).unwrap();
    let locators = members
        .iter()
        .zip(["upstream", "config"])
        .map(|(m, dir)| {
            (
                Locator::new(m.source_dir.as_ref().unwrap(), m.plan),
                dir.to_string(),
            )
        })
        .collect();
    set.decision_id = "[set-id]".into();
    set.generated_at = "[time]".into();
    for (n, (p, name)) in set
        .plans
        .iter_mut()
        .zip(["upstream.json", "plan.json"])
        .enumerate()
    {
        p.decision_id = format!("[set-id].{}", n + 1);
        p.generated_at = "[time]".into();
        p.plan.source = name.into();
    }
    (set, locators)
}

#[test]
fn the_set_report_in_every_format() {
    let (set, locators) = fixture_set();
    let sources: Vec<SetPlanSources<'_>> = locators
        .iter()
        .map(|(l, dir)| SetPlanSources {
            sources: Some(l),
            dir,
        })
        .collect();
    for format in Format::ALL {
        let out = render_set(&set, format, Options::default(), &sources);
        assert!(
            !out.contains(CANARY),
            "{}: the sensitive canary",
            format.name()
        );
        assert!(
            out.contains("[set-id]"),
            "{}: the set's decision",
            format.name()
        );
        // SARIF names a plan's decision only on its results (the app has none).
        let members: &[&str] = match format {
            Format::Sarif => &["[set-id].1"],
            _ => &["[set-id].1", "[set-id].2"],
        };
        for member in members {
            assert!(out.contains(member), "{}: {member}", format.name());
        }
        insta::assert_snapshot!(format!("plan_set_{}", format.name()), out);
    }
    // SARIF: each result in its own workspace's file, named by workspace.
    let sarif: Value = serde_json::from_str(&render_set(
        &set,
        Format::Sarif,
        Options::default(),
        &sources,
    ))
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let vpc = results
        .iter()
        .find(|r| r["ruleId"] == "profile:network/replace")
        .unwrap();
    let at = &vpc["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "upstream/main.tf");
    assert_eq!(at["region"]["startLine"], 5);
    assert_eq!(vpc["properties"]["workspace"], "network");
    assert_eq!(vpc["properties"]["decision_id"], "[set-id].1");
    assert!(
        vpc["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("network: terraform_data.vpc: ")
    );
}

fn tf(dir: &Path, args: &[&str]) {
    let out = Command::new(terraform())
        .arg(format!("-chdir={}", dir.display()))
        .args(args)
        .env("TF_CLI_CONFIG_FILE", repo().join(".tools/terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_WORKSPACE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fixture's two workspaces, applied for real in Terraform workspaces `network` and
/// `app` (apply refuses to run in another than the one checked), then planned to binary
/// plans: the network's vpc replaced, the app's readers updated.
fn applied_workspaces(root: &Path) -> (PathBuf, PathBuf) {
    let (net, app) = (root.join("upstream"), root.join("config"));
    for (from, to) in [("upstream", &net), ("config", &app)] {
        std::fs::create_dir_all(to).unwrap();
        let text = std::fs::read_to_string(fixture().join(from).join("main.tf")).unwrap();
        // The network's state, in its Terraform workspace's directory.
        let text = text.replace(
            "../upstream/terraform.tfstate",
            "../upstream/terraform.tfstate.d/network/terraform.tfstate",
        );
        std::fs::write(to.join("main.tf"), text).unwrap();
    }
    for (dir, workspace) in [(&net, "network"), (&app, "app")] {
        tf(dir, &["init", "-input=false", "-no-color"]);
        tf(dir, &["workspace", "new", "-no-color", workspace]);
        tf(
            dir,
            &["apply", "-input=false", "-no-color", "-auto-approve"],
        );
    }
    let plan = ["plan", "-input=false", "-no-color", "-out=tfplan"];
    tf(&net, &[&plan[..], &["-var", "generation=2"]].concat());
    tf(&app, &[&plan[..], &["-var", "revision=2"]].concat());
    (net, app)
}

/// `plan-guard apply` of the binary plan in `dir` with the real Terraform, under
/// `decision` when given.
fn apply(dir: &Path, store: &str, gov: &str, decision: Option<&str>) -> Run {
    let terraform = terraform();
    let mut args = vec![
        "apply", "--plan", "tfplan", "--store", store, "--model", gov,
    ];
    if let Some(id) = decision {
        args.extend_from_slice(&["--decision", id]);
    }
    let tf_s = terraform.to_str().unwrap();
    args.extend_from_slice(&["--", tf_s, "apply", "-input=false", "-no-color", "tfplan"]);
    pg(dir, &args)
}

#[test]
fn each_plan_of_a_set_is_applied_under_its_own_decision_once_the_set_is_approved() {
    let root = scratch("apply");
    let (net, app) = applied_workspaces(&root);
    let gov = root.join("gov");
    governance(&gov, "allow");
    let gov_s = gov.to_str().unwrap();
    let store = format!("sqlite://{}/ledger.db", root.display());
    // Each plan's workspace from --workspace; its configuration from the plan's directory.
    let run = pg(
        &root,
        &[
            "check",
            "upstream/tfplan",
            "config/tfplan",
            "--workspace",
            "network",
            "--workspace",
            "app",
            "--model",
            gov_s,
            "--store",
            &store,
            "--init-store",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let set: Value = serde_json::from_str(&run.stdout).unwrap();
    let id = set["decision_id"].as_str().unwrap().to_string();
    let (net_id, app_id) = (format!("{id}.1"), format!("{id}.2"));
    // Read from the binary plans, in the network's Terraform workspace's state.
    assert_eq!(
        addresses(change(&set["plans"][0], "terraform_data.vpc")),
        ["app:terraform_data.app[0]", "app:terraform_data.app[1]"]
    );
    assert_eq!(set["plans"][1]["verdict"], "allow");
    // A binary plan and its own JSON rendering are one plan, whatever their digests.
    let rendered = Command::new(terraform())
        .args(["show", "-json", "tfplan"])
        .current_dir(&net)
        .env("TF_CLI_CONFIG_FILE", repo().join(".tools/terraformrc"))
        .output()
        .unwrap();
    std::fs::write(net.join("plan.json"), &rendered.stdout).unwrap();
    let run = pg(
        &root,
        &[
            "check",
            "upstream/tfplan",
            "upstream/plan.json",
            "--workspace",
            "network",
            "--workspace",
            "network-again",
            "--model",
            gov_s,
            "--store",
            &store,
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("upstream/tfplan and upstream/plan.json are the same plan (the same `terraform show -json` document)"),
        "{}",
        run.stderr
    );

    // The app's plan is allowed, but the set escalated: it waits for the set's approval.
    let run = apply(&app, &store, gov_s, None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "set {id} (decision {app_id} was checked in it) escalates"
        )) && run.stderr.contains(&format!("plan-guard approve {id} ")),
        "{}",
        run.stderr
    );
    // Another plan's decision does not authorise this plan, nor does the set's name it.
    let run = apply(&app, &store, gov_s, Some(&net_id));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&format!("is not the plan decision {net_id} judged")),
        "{}",
        run.stderr
    );
    // A plan of the set's workspace that is not in the set: the set names its plans.
    tf(
        &app,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=other.tfplan",
            "-var",
            "revision=3",
        ],
    );
    std::fs::rename(app.join("tfplan"), app.join("set.tfplan")).unwrap();
    std::fs::rename(app.join("other.tfplan"), app.join("tfplan")).unwrap();
    let run = apply(&app, &store, gov_s, Some(&id));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "is none of the plans of set {id}: {net_id} for network"
        )),
        "{}",
        run.stderr
    );
    std::fs::rename(app.join("set.tfplan"), app.join("tfplan")).unwrap();

    // A plan of the set is approved only with the set.
    let approve = |decision: &str| {
        pg(
            &root,
            &[
                "approve", decision, "--store", &store, "--actor", "alice", "--reason", "CHG-1",
                "--yes",
            ],
        )
    };
    let run = approve(&app_id);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "it is one plan of set {id}, approved as a whole: plan-guard approve {id}"
        )),
        "{}",
        run.stderr
    );
    let run = approve(&id);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // Now each plan applies under its own decision, once; the set's id picks the plan.
    let run = apply(&app, &store, gov_s, Some(&id));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("applying under decision {app_id}")),
        "{}",
        run.stderr
    );
    let run = apply(&app, &store, gov_s, None);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&format!("decision {app_id} was already applied")),
        "{}",
        run.stderr
    );
    let run = apply(&net, &store, gov_s, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("applying under decision {net_id}")),
        "{}",
        run.stderr
    );
    let verified = pg(&root, &["evidence", "verify", "--store", &store]);
    assert_eq!(verified.code, 0, "{}", verified.stderr);

    // The next change, where the app's updates block: the network's plan is allowed
    // (after an approval) on its own, but the set blocks, so neither plan runs.
    tf(
        &net,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=tfplan",
            "-var",
            "generation=3",
        ],
    );
    tf(
        &app,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=tfplan",
            "-var",
            "revision=3",
        ],
    );
    let blocking = root.join("blocking");
    governance(&blocking, "block");
    let blocking_s = blocking.to_str().unwrap();
    let run = pg(
        &root,
        &[
            "check",
            "upstream/tfplan",
            "config/tfplan",
            "--workspace",
            "network",
            "--workspace",
            "app",
            "--model",
            blocking_s,
            "--store",
            &store,
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let blocked: Value = serde_json::from_str(&run.stdout).unwrap();
    let blocked_id = blocked["decision_id"].as_str().unwrap();
    assert_eq!(blocked["plans"][0]["verdict"], "escalate");
    let run = approve(blocked_id);
    assert_eq!(run.code, 1, "a blocked set cannot be approved");
    assert!(
        run.stderr.contains("a blocked plan cannot be approved"),
        "{}",
        run.stderr
    );
    for dir in [&net, &app] {
        let run = apply(dir, &store, blocking_s, None);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("set {blocked_id} (decision {blocked_id}."))
                && run.stderr.contains("was checked in it) blocks this plan"),
            "{}",
            run.stderr
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// The set's page in a real headless Chromium (scripts/install-chromium.sh): it loads
/// with no console errors, and its script finds the first plan's change among every
/// plan's and shows its blast radius across the set.
#[test]
fn the_set_page_loads_cleanly_in_chromium() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("no chromium: run bash scripts/install-chromium.sh");
    let root = scratch("html");
    governance(&root.join("gov"), "allow");
    let page = root.join("set.html");
    let run = check_fixture(
        &root,
        &root.join("gov"),
        &["--format", "html", "--output", page.to_str().unwrap()],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains(CANARY));
    for load in [
        "src=", "href=", "url(http", "@import", "<link", "<iframe", "<img",
    ] {
        assert!(
            !html.contains(load),
            "self-contained: no {load} in the page"
        );
    }
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            root.join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let (dom, log) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script ran:\n{dom}\n{log}"
    );
    assert!(dom.contains("id=\"verdict\" class=\"v escalate\""), "{dom}");
    assert!(
        dom.contains("Blast radius of terraform_data.vpc: 2 direct, 2 transitive"),
        "{dom}"
    );
    assert!(
        dom.contains("<code>app:terraform_data.app[1]</code>"),
        "{dom}"
    );
    for line in log.lines() {
        assert!(
            !(line.contains("CONSOLE") && (line.contains("Uncaught") || line.contains("Error"))),
            "console error: {line}"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// `insights` reads each plan's own record once, approved when its set was approved; the
/// set's record (its changes named `WORKSPACE:ADDRESS`) is not counted again.
#[test]
fn insights_count_the_plans_of_an_approved_set_as_approved() {
    let root = scratch("insights");
    let gov = root.join("gov");
    governance(&gov, "allow");
    let store = format!("sqlite://{}/ledger.db", root.display());
    for _ in 0..2 {
        let run = check_fixture(&root, &gov, &["--format", "json"]);
        assert_eq!(run.code, 3, "{}", run.stderr);
        let set: Value = serde_json::from_str(&run.stdout).unwrap();
        let id = set["decision_id"].as_str().unwrap();
        let approved = pg(
            &root,
            &[
                "approve", id, "--store", &store, "--actor", "alice", "--reason", "CHG-2", "--yes",
            ],
        );
        assert_eq!(approved.code, 0, "{}", approved.stderr);
    }
    let run = pg(
        &root,
        &[
            "insights",
            "--store",
            &store,
            "--model",
            gov.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let insights: Value = serde_json::from_str(&run.stdout).unwrap();
    let approved = insights
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "always_approved")
        .unwrap_or_else(|| panic!("{insights}"));
    assert_eq!(
        approved["subject"], "profile:network / replace",
        "{approved}"
    );
    assert_eq!(
        approved["evidence"], "escalated 2 decisions, every one approved",
        "{approved}"
    );
    assert!(
        !run.stdout.contains("network:terraform_data"),
        "{}",
        run.stdout
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// Runs a Python snippet of the project's venv (scripts/install-test-tools.sh) on `args`;
/// its standard output, or a failure with what it said.
fn python(code: &str, args: &[&Path]) -> String {
    let python = repo().join(".tools/venv/bin/python");
    assert!(
        python.exists(),
        "no {}: run bash scripts/install-test-tools.sh",
        python.display()
    );
    let out = Command::new(python)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One check writes the set in several formats (`--also`), and their consumers read
/// them: SARIF against the OASIS 2.1.0 schema and by a typed SARIF reader, JUnit by
/// junitparser, with a suite per plan and intent.
#[test]
fn the_sets_sarif_and_junit_are_read_by_their_consumers() {
    let root = scratch("consumers");
    governance(&root.join("gov"), "block");
    let (sarif, junit) = (root.join("set.sarif"), root.join("set.xml"));
    let run = check_fixture(
        &root,
        &root.join("gov"),
        &[
            "--format",
            "json",
            "--also",
            &format!("sarif={}", sarif.display()),
            "--also",
            &format!("junit={}", junit.display()),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let set: Value = serde_json::from_str(&run.stdout).unwrap();
    let id = set["decision_id"].as_str().unwrap();
    for file in [&sarif, &junit] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(!text.contains(CANARY), "{}", file.display());
        assert!(
            text.contains(id),
            "one check, one decision: {}",
            file.display()
        );
    }
    let schema = repo().join(".tools/schemas/sarif-schema-2.1.0.json");
    python(
        "import json, sys, jsonschema\n\
         jsonschema.Draft7Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))\n\
         from sarif_pydantic import Sarif\n\
         Sarif.model_validate(json.load(open(sys.argv[2])))",
        &[&schema, &sarif],
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let files: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        files.contains(&"upstream/main.tf") && files.contains(&"config/main.tf"),
        "{files:?}"
    );
    let suites = python(
        "import sys\nfrom junitparser import JUnitXml\n\
         for s in JUnitXml.fromfile(sys.argv[1]): print(s.name, s.tests, s.failures, s.errors)",
        &[&junit],
    );
    assert_eq!(
        suites.lines().collect::<Vec<_>>(),
        ["network / intent:network 1 1 0", "app / intent:app 3 3 0"],
        "{suites}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// A webhook on loopback that answers 200 and keeps the bodies it was sent.
fn webhook() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let (mut line, mut length) = (String::new(), 0);
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                line.clear();
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            kept.lock().unwrap().push(String::from_utf8(body).unwrap());
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (url, bodies)
}

/// `--notify` on a set: each plan that escalates or blocks is posted with its own
/// workspace and decision; an allowed plan is not.
#[test]
fn each_flagged_plan_of_a_set_is_notified() {
    for (app_update, posted) in [
        ("allow", vec!["network"]),
        ("block", vec!["network", "app"]),
    ] {
        let root = scratch(&format!("notify-{app_update}"));
        governance(&root.join("gov"), app_update);
        let (url, bodies) = webhook();
        let run = check_fixture(
            &root,
            &root.join("gov"),
            &["--format", "json", "--notify", &url],
        );
        let set: Value = serde_json::from_str(&run.stdout).unwrap();
        let id = set["decision_id"].as_str().unwrap();
        let bodies = bodies.lock().unwrap().clone();
        let mut seen: Vec<(String, String)> = bodies
            .iter()
            .map(|b| {
                assert!(!b.contains(CANARY), "{b}");
                let v: Value = serde_json::from_str(b).unwrap();
                (
                    v["workspace"].as_str().unwrap_or("").to_string(),
                    v["decision_id"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        seen.sort();
        let mut expected: Vec<(String, String)> = posted
            .iter()
            .map(|w| {
                let n = if *w == "network" { 1 } else { 2 };
                (w.to_string(), format!("{id}.{n}"))
            })
            .collect();
        expected.sort();
        assert_eq!(seen, expected, "{app_update}: {bodies:?}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
