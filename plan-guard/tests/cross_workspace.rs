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
    let store = format!("sqlite://{}/iom.db", root.display());
    let (code, text) = pg(
        &up,
        &["observe", "--workspace", "upstream", "--store", &store],
    );
    assert_eq!(code, 0, "{text}");
    let (code, text) = pg(
        &down,
        &["observe", "--workspace", "downstream", "--store", &store],
    );
    assert_eq!(code, 0, "{text}");

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
    assert_eq!(code, 3, "{text}");
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
        ]
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
