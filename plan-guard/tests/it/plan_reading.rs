//! What the plan reader refuses and how it reads what it accepts: documents that are not
//! plans, plans over the size limit (endless input included), malformed unknown and
//! sensitive masks, OpenTofu's ephemeral resources. The crafted documents here are minimal
//! on purpose: no Terraform writes them, which is the point of each test.

use plan_guard::plan::read_plan;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn scratch(name: &str) -> PathBuf {
    crate::support::scratch(&format!("reading-{name}"))
}

/// A model that allows everything and governs every address, so any refusal below is the
/// reader's, not a verdict.
fn allow_all_model(dir: &Path) -> PathBuf {
    let gov = dir.join("gov");
    std::fs::create_dir_all(&gov).unwrap();
    std::fs::write(
        gov.join("gov.tf"),
        "resource \"iom_profile\" \"p\" { name = \"p\" }\nresource \"iom_intent\" \"i\" {\n  name    = \"i\"\n  profile = \"p\"\n}\n",
    )
    .unwrap();
    gov
}

fn plan_guard(args: &[&str], stdin: Stdio, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plan-guard"));
    cmd.args(args)
        .stdin(stdin)
        .env_remove("IOM_STORE")
        .env_remove("PLAN_GUARD_MAX_PLAN_BYTES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn corpus(name: &str) -> String {
    format!("{}/tests/corpus/plans/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// JSON objects that carry a plan's member names but no plan are refused with exit 1,
/// never judged as a plan with nothing in it (which would be an allow).
#[test]
fn documents_that_are_not_plans_exit_1() {
    let dir = scratch("not-plans");
    let gov = allow_all_model(&dir);
    for (name, doc) in [
        ("planned-values-0", r#"{"planned_values":0}"#),
        ("prior-state-only", r#"{"prior_state":{}}"#),
        ("configuration-only", r#"{"configuration":{}}"#),
        ("empty-planned-values", r#"{"planned_values":{}}"#),
        ("version-only", r#"{"format_version":"1.2"}"#),
        (
            "version-and-config",
            r#"{"format_version":"1.2","configuration":{"root_module":{}}}"#,
        ),
        ("no-changes-no-version", r#"{"resource_changes":[]}"#),
    ] {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, doc).unwrap();
        let out = plan_guard(
            &[
                "check",
                path.to_str().unwrap(),
                "--model",
                gov.to_str().unwrap(),
                "--ungoverned",
                "allow",
            ],
            Stdio::null(),
            &[],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: no report");
        assert!(
            stderr.contains(&format!("{name}.json")),
            "{name}: the error names the file: {stderr}"
        );
    }
    // What real writers produce still reads: the smallest real plan (no resources), the
    // corpus's trimmed files without `format_version` (one keeps only `resource_changes`,
    // one only `planned_values` and `configuration`).
    for name in [
        "195_tfplanformat_no_resources.json",
        "190_tfvisual_aws_s3.json",
        "089_checkov_plan_vpc_endpoint.json",
        "007_tfjson_actions.json",
    ] {
        let raw = read_plan(&corpus(name)).unwrap();
        raw.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Endless input on standard input is refused once it passes the limit, instead of being
/// read until memory runs out; so is a file over the limit, by flag or environment.
#[test]
fn plans_over_the_size_limit_are_refused_before_they_fill_memory() {
    let dir = scratch("size");
    let gov = allow_all_model(&dir);
    let gov = gov.to_str().unwrap();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let out = plan_guard(
        &["check", "-", "--model", gov, "--max-plan-bytes", "1MiB"],
        Stdio::from(zero),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("<stdin>") && stderr.contains("larger than the limit of 1048576 bytes"),
        "{stderr}"
    );

    let plan = corpus("031_tf_modules.json");
    let size = std::fs::metadata(&plan).unwrap().len();
    let under = (size - 1).to_string();
    let out = plan_guard(
        &["check", &plan, "--model", gov, "--ungoverned", "allow"],
        Stdio::null(),
        &[("PLAN_GUARD_MAX_PLAN_BYTES", under.as_str())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("031_tf_modules.json") && stderr.contains("larger than the limit"),
        "{stderr}"
    );
    // At exactly its size the same plan is read and judged.
    let exact = size.to_string();
    let out = plan_guard(
        &["check", &plan, "--model", gov, "--ungoverned", "allow"],
        Stdio::null(),
        &[("PLAN_GUARD_MAX_PLAN_BYTES", exact.as_str())],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A size that is not one is a usage error.
    let out = plan_guard(
        &["check", &plan, "--model", gov, "--max-plan-bytes", "lots"],
        Stdio::null(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sizes_are_read_with_their_units() {
    use plan_guard::plan::parse_size;
    assert_eq!(parse_size("4GiB"), Ok(4 << 30));
    assert_eq!(parse_size("500MB"), Ok(500_000_000));
    assert_eq!(parse_size("64 KiB"), Ok(65_536));
    assert_eq!(parse_size("1048576"), Ok(1_048_576));
    assert!(parse_size("0").is_err());
    assert!(parse_size("12 parsecs").is_err());
    assert!(parse_size("99999999999999GiB").is_err());
    assert_eq!(plan_guard::plan::DEFAULT_MAX_PLAN_BYTES, 4 << 30);
}

fn options() -> plan_guard::decide::CheckOptions {
    plan_guard::decide::CheckOptions {
        workspace: "w".into(),
        actor: "t".into(),
        ungoverned: iom_model::Outcome::Allow,
        model_source: "empty".into(),
        model_revision: None,
        source_dir: None,
    }
}

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/plans/{name}/plan.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A mask that is not one (a string, a list where the resource's object is due, null,
/// nesting past the limit) stops the check with the address and the mask named; before,
/// it read as "nothing unknown" or "nothing sensitive" and the change was judged on that.
#[test]
fn malformed_unknown_and_sensitive_masks_are_errors_naming_the_address() {
    let dir = scratch("masks");
    let text = std::fs::read_to_string(fixture("unknown")).unwrap();
    let original: serde_json::Value = serde_json::from_str(&text).unwrap();
    let at = original["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|rc| rc["address"] == "terraform_data.uses")
        .unwrap();
    let mut deep = serde_json::json!(true);
    for _ in 0..101 {
        deep = serde_json::json!({ "input": deep });
    }
    for (field, mask, says) in [
        ("after_unknown", serde_json::json!("all"), "found a string"),
        ("after_unknown", serde_json::json!([true]), "list where"),
        ("after_unknown", deep, "deeper than 100"),
        ("after_unknown", serde_json::Value::Null, "found null"),
        (
            "after_sensitive",
            serde_json::json!("yes"),
            "found a string",
        ),
        (
            "before_sensitive",
            serde_json::json!({ "input": 1 }),
            "found a number",
        ),
    ] {
        let mut doc = original.clone();
        doc["resource_changes"][at]["change"][field] = mask;
        let path = dir.join("plan.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        let raw = read_plan(path.to_str().unwrap()).unwrap();
        let plan = raw.parse().unwrap_or_else(|e| panic!("{field}: {e}"));
        let e = plan_guard::decide::check(&raw, &plan, &iom_model::Model::empty(), &options())
            .expect_err(field)
            .to_string();
        assert!(
            e.contains("plan.json")
                && e.contains("terraform_data.uses")
                && e.contains(field)
                && e.contains(says),
            "{field}: {e}"
        );
    }
    // The plan as Terraform wrote it is judged.
    let raw = read_plan(&fixture("unknown")).unwrap();
    let plan = raw.parse().unwrap();
    plan_guard::decide::check(&raw, &plan, &iom_model::Model::empty(), &options()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
