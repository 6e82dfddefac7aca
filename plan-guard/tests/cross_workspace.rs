//! Two real workspaces on the local backend: `downstream` reads `upstream`'s outputs
//! through terraform_remote_state. Once both are observed, a plan that replaces what
//! produces upstream's output counts downstream's dependent resources in its blast radius
//! (prefixed `downstream:`), and max_blast_radius sees them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn terraform() -> PathBuf {
    std::env::var_os("TERRAFORM_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/terraform"))
}

fn tf(dir: &Path, args: &[&str]) {
    let out = Command::new(terraform())
        .arg(format!("-chdir={}", dir.display()))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pg(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .args(args)
        .current_dir(dir)
        .env("TERRAFORM_BINARY", terraform())
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
        "data \"terraform_remote_state\" \"up\" {\n  backend = \"local\"\n  config = {\n    path = \"../upstream/terraform.tfstate\"\n  }\n}\nresource \"terraform_data\" \"app\" {\n  count = 3\n  input = { vpc = data.terraform_remote_state.up.outputs.vpc_id }\n}\n",
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
    let _ = std::fs::remove_dir_all(&root);
}
