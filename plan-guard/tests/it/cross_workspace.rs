//! Two real workspaces on the local backend: `downstream` reads `upstream`'s outputs
//! through terraform_remote_state. Once both are observed, a plan that replaces what
//! produces upstream's output counts downstream's dependent resources in its blast radius
//! (prefixed `downstream:`), and max_blast_radius sees them.

use crate::support::{terraform, tf};
use std::path::Path;
use std::process::Command;

fn pg(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .args(args)
        .current_dir(dir)
        .env("TERRAFORM_BINARY", terraform())
        .env_remove("IOM_STORE")
        // An actor, so the output (stdout and stderr together) is only the report.
        .env("USER_NAME", "cross-workspace-test")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_change_upstream_reaches_the_readers_downstream() {
    let root = std::env::temp_dir().join(format!("pg-xws-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (up, down, gov) = (
        root.join("upstream"),
        root.join("downstream"),
        root.join("governance"),
    );
    for d in [&up, &down, &gov] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(
        up.join("main.tf"),
        "variable \"gen\" {\n  default = 1\n}\nresource \"terraform_data\" \"vpc\" {\n  input            = { name = \"vpc\" }\n  triggers_replace = [var.gen]\n}\noutput \"vpc_id\" {\n  value = terraform_data.vpc.id\n}\n",
    )
    .unwrap();
    std::fs::write(
        down.join("main.tf"),
        "data \"terraform_remote_state\" \"up\" {\n  backend = \"local\"\n  config = {\n    path = \"../upstream/terraform.tfstate\"\n  }\n}\nresource \"terraform_data\" \"app\" {\n  count = 3\n  input = { vpc = data.terraform_remote_state.up.outputs.vpc_id }\n}\nresource \"terraform_data\" \"cache\" {\n  input = { name = \"cache\" }\n}\n",
    )
    .unwrap();
    std::fs::write(
        gov.join("main.tf"),
        "resource \"iom_profile\" \"p\" {\n  name             = \"shared\"\n  max_blast_radius = 2\n}\nresource \"iom_intent\" \"i\" {\n  name    = \"everything\"\n  profile = \"shared\"\n}\n",
    )
    .unwrap();
    for d in [&up, &down] {
        tf(d, &["init", "-input=false", "-no-color"]);
        tf(d, &["apply", "-input=false", "-no-color", "-auto-approve"]);
    }
    // On SQLite, and on the real PostgreSQL server when the test script started one.
    let mut stores = vec![format!("sqlite://{}/iom.db", root.display())];
    let pg_db = format!("pg_xws_{}", std::process::id());
    let admin = std::env::var("IOM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if let Some(admin) = &admin {
        let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {pg_db}"))
            .unwrap();
        stores.push(format!("{}/{pg_db}", admin.rsplit_once('/').unwrap().0));
    } else {
        assert_ne!(
            std::env::var("IOM_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "no IOM_TEST_POSTGRES_URL"
        );
    }
    tf(
        &up,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=tfplan",
            "-var",
            "gen=2",
        ],
    );
    let gov_s = gov.display().to_string();
    for store in &stores {
        let store = store.as_str();
        let (code, text) = pg(
            &up,
            &["observe", "--workspace", "upstream", "--store", store],
        );
        assert_eq!(code, 0, "{text}");
        let (code, text) = pg(
            &down,
            &["observe", "--workspace", "downstream", "--store", store],
        );
        assert_eq!(code, 0, "{text}");
        let (code, text) = pg(
            &up,
            &[
                "check",
                "tfplan",
                "--model",
                &gov_s,
                "--store",
                store,
                "--workspace",
                "upstream",
                "--format",
                "json",
            ],
        );
        assert_eq!(code, 3, "{store}: {text}");
        let report: serde_json::Value = serde_json::from_str(&text).unwrap();
        let vpc = report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == "terraform_data.vpc")
            .unwrap();
        let radius: Vec<&str> = vpc["blast_radius"]["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            radius,
            [
                "downstream:terraform_data.app[0]",
                "downstream:terraform_data.app[1]",
                "downstream:terraform_data.app[2]"
            ],
            "{store}"
        );
        assert_eq!(vpc["blast_radius"]["transitive"], 3);
        assert_eq!(
            vpc["blast_radius"]["direct"], 3,
            "each reads the output directly"
        );
        assert!(
            vpc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "max_blast_radius"),
            "{vpc}"
        );
    }
    if let Some(admin) = &admin {
        let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"));
    }

    // A waiver on max_blast_radius covers the limit however it is passed: here only the
    // readers downstream pass it, and the finding is waived as a local one would be.
    let waived = root.join("waived");
    std::fs::create_dir_all(&waived).unwrap();
    std::fs::write(
        waived.join("main.tf"),
        std::fs::read_to_string(gov.join("main.tf")).unwrap()
            + "resource \"iom_waiver\" \"w\" {\n  name        = \"vpc-readers\"\n  source      = \"profile:shared\"\n  rule        = \"max_blast_radius\"\n  addresses   = [\"terraform_data.vpc\"]\n  reason      = \"CHG-9: the readers follow the vpc\"\n  approved_by = \"alice\"\n  expires     = \"2999-01-01T00:00:00Z\"\n}\n",
    )
    .unwrap();
    let (code, text) = pg(
        &up,
        &[
            "check",
            "tfplan",
            "--model",
            &waived.display().to_string(),
            "--store",
            &stores[0],
            "--workspace",
            "upstream",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (_, transitive, _) = radius(&report, "terraform_data.vpc");
    assert_eq!(transitive, 3);
    let vpc = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "terraform_data.vpc")
        .unwrap();
    assert_eq!(vpc["verdict"], "allow", "{vpc}");
    let limit: Vec<&serde_json::Value> = vpc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "max_blast_radius")
        .collect();
    assert_eq!(limit.len(), 1, "{vpc}");
    assert_eq!(limit[0]["waived_by"], "vpc-readers", "{vpc}");

    // Without the downstream observation the radius is upstream's own.
    let lone = format!("sqlite://{}/lone.db", root.display());
    pg(
        &up,
        &["observe", "--workspace", "upstream", "--store", &lone],
    );
    let (code, text) = pg(
        &up,
        &[
            "check",
            "tfplan",
            "--model",
            &gov_s,
            "--store",
            &lone,
            "--workspace",
            "upstream",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{text}");

    // An element link reaches what the other workspace is made of: `cache` reads nothing
    // of upstream, but element `caching` (downstream's cache) depends on element
    // `network` (upstream's vpc).
    let linked = root.join("linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::fs::write(
        linked.join("main.tf"),
        "resource \"iom_profile\" \"p\" { name = \"shared\" }\nresource \"iom_intent\" \"i\" {\n  name    = \"everything\"\n  profile = \"shared\"\n}\nresource \"iom_element\" \"net\" {\n  name    = \"network\"\n  kind    = \"network\"\n  matches = [\"terraform_data.vpc\"]\n}\nresource \"iom_element\" \"cache\" {\n  name                = \"caching\"\n  kind                = \"service\"\n  matches             = [\"downstream:terraform_data.cache\"]\n  depends_on_elements = [\"network\"]\n}\n",
    )
    .unwrap();
    let both = format!("sqlite://{}/both.db", root.display());
    pg(
        &up,
        &["observe", "--workspace", "upstream", "--store", &both],
    );
    pg(
        &down,
        &["observe", "--workspace", "downstream", "--store", &both],
    );
    let (_, text) = pg(
        &up,
        &[
            "check",
            "tfplan",
            "--model",
            &linked.display().to_string(),
            "--store",
            &both,
            "--workspace",
            "upstream",
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let (_, transitive, addresses) = radius(&report, "terraform_data.vpc");
    assert!(
        addresses.contains(&"downstream:terraform_data.cache".to_string())
            && addresses.contains(&"element:caching".to_string()),
        "{addresses:?}"
    );
    assert_eq!(transitive as usize, addresses.len());
    let _ = std::fs::remove_dir_all(&root);
}

fn radius(report: &serde_json::Value, address: &str) -> (u64, u64, Vec<String>) {
    let change = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change {address}: {report}"));
    let b = &change["blast_radius"];
    (
        b["direct"].as_u64().unwrap(),
        b["transitive"].as_u64().unwrap(),
        b["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect(),
    )
}

/// Readers one edge away count in `direct` (and `transitive` includes them); when the
/// reader's observation knows which output each resource reads (observed from a plan),
/// only readers of the outputs the changed resource feeds count. Observed from state
/// alone, every resource depending on the remote state counts (an over-approximation).
#[test]
fn readers_are_direct_and_only_of_the_outputs_they_read() {
    let root = std::env::temp_dir().join(format!("pg-xws-outputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (up, down, gov) = (
        root.join("upstream"),
        root.join("downstream"),
        root.join("governance"),
    );
    for d in [&up, &down, &gov] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(
        up.join("main.tf"),
        r#"
variable "gen" {
  default = 1
}
resource "terraform_data" "vpc" {
  triggers_replace = [var.gen]
}
resource "terraform_data" "other" {
  triggers_replace = [var.gen]
}
output "vpc_id" {
  value = terraform_data.vpc.id
}
output "other_id" {
  value = terraform_data.other.id
}
"#,
    )
    .unwrap();
    std::fs::write(
        down.join("main.tf"),
        r#"
data "terraform_remote_state" "up" {
  backend = "local"
  config = {
    path = "../upstream/terraform.tfstate"
  }
}
resource "terraform_data" "app" {
  count = 2
  input = data.terraform_remote_state.up.outputs.vpc_id
}
resource "terraform_data" "indirect" {
  input = terraform_data.app[0].id
}
resource "terraform_data" "side" {
  input = data.terraform_remote_state.up.outputs["other_id"]
}
"#,
    )
    .unwrap();
    std::fs::write(
        gov.join("main.tf"),
        "resource \"iom_profile\" \"p\" {\n  name = \"shared\"\n}\nresource \"iom_intent\" \"i\" {\n  name    = \"everything\"\n  profile = \"shared\"\n}\n",
    )
    .unwrap();
    for d in [&up, &down] {
        tf(d, &["init", "-input=false", "-no-color"]);
        tf(d, &["apply", "-input=false", "-no-color", "-auto-approve"]);
    }
    let store = format!("sqlite://{}/iom.db", root.display());
    let gov_s = gov.display().to_string();
    tf(
        &up,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-out=tfplan",
            "-var",
            "gen=2",
        ],
    );
    let check = || {
        let (code, text) = pg(
            &up,
            &[
                "check",
                "tfplan",
                "--model",
                &gov_s,
                "--store",
                &store,
                "--workspace",
                "upstream",
                "--format",
                "json",
            ],
        );
        assert_eq!(code, 0, "{text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let observe = |dir: &Path, workspace: &str, extra: &[&str]| {
        let mut args = vec!["observe", "--workspace", workspace, "--store", &store];
        args.extend_from_slice(extra);
        let (code, text) = pg(dir, &args);
        assert_eq!(code, 0, "{text}");
    };
    observe(&up, "upstream", &[]);

    // Downstream observed from its state: which output is read is unknown.
    observe(&down, "downstream", &[]);
    let report = check();
    let (direct, transitive, addresses) = radius(&report, "terraform_data.vpc");
    assert_eq!(
        addresses,
        [
            "downstream:terraform_data.app[0]",
            "downstream:terraform_data.app[1]",
            "downstream:terraform_data.indirect",
            "downstream:terraform_data.side"
        ]
    );
    assert_eq!(
        (direct, transitive),
        (3, 4),
        "app[0], app[1], side are one edge away"
    );

    // Observed from a plan, the configuration says who reads which output.
    tf(&down, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
    observe(&down, "downstream", &["--from-plan", "tfplan"]);
    let report = check();
    let (direct, transitive, addresses) = radius(&report, "terraform_data.vpc");
    assert_eq!(
        addresses,
        [
            "downstream:terraform_data.app[0]",
            "downstream:terraform_data.app[1]",
            "downstream:terraform_data.indirect"
        ]
    );
    assert_eq!((direct, transitive), (2, 3));
    let (direct, transitive, addresses) = radius(&report, "terraform_data.other");
    assert_eq!(addresses, ["downstream:terraform_data.side"]);
    assert_eq!((direct, transitive), (1, 1));
    let _ = std::fs::remove_dir_all(&root);
}
