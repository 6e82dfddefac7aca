//! Governance inside Terraform (issue 15), on the real Terraform: the provider's functions
//! fail a plan in the contract's words and answer `check` blocks and outputs; its actions,
//! triggered after a create or by `-invoke`, run the contract's post-verify probes and
//! record the outcome, which `plan-guard evidence list` shows; `TF_LOG_PROVIDER` shows
//! every RPC; Terraform 1.0.3 runs the same provider with neither functions nor actions.
//! The workspace is `examples/inside-terraform`, over `examples/governance`.

// Test helpers: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use acceptance_tests::built;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn terraform(variable: &str, file: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin").join(file));
    assert!(path.exists(), "no Terraform at {}", path.display());
    path
}

/// A directory with the provider under `dev_overrides`, a store, and a copy of the example
/// governance and of the inside-terraform workspace.
struct Site {
    root: PathBuf,
    terraform: PathBuf,
    store: String,
}

impl Site {
    fn new(label: &str, terraform: PathBuf) -> Site {
        let root = std::env::temp_dir().join(format!("iom-inside-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("plugins")).unwrap();
        std::fs::copy(
            built("terraform-provider-iom"),
            root.join("plugins/terraform-provider-iom"),
        )
        .unwrap();
        std::fs::write(
            root.join("cli.tfrc"),
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/iom-dev/iom\" = {:?}\n  }}\n  direct {{}}\n}}\n",
                root.join("plugins").display().to_string()
            ),
        )
        .unwrap();
        copy_dir(
            &repo().join("examples/governance"),
            &root.join("governance"),
        );
        copy_dir(&repo().join("examples/inside-terraform"), &root.join("ws"));
        let store = format!("sqlite://{}/model.db", root.display());
        Site {
            root,
            terraform,
            store,
        }
    }

    /// Terraform in `dir` (under the site), with the store in `IOM_STORE` for functions
    /// and the unconfigured provider block alike; `env` adds variables, or removes those
    /// it gives an empty value.
    fn tf(&self, dir: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let mut command = Command::new(&self.terraform);
        command
            .args(args)
            .current_dir(self.root.join(dir))
            .env("TF_CLI_CONFIG_FILE", self.root.join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("IOM_STORE", &self.store);
        for (name, value) in env {
            if value.is_empty() {
                command.env_remove(name);
            } else {
                command.env(name, value);
            }
        }
        let out: Output = command.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    fn ok(&self, dir: &str, args: &[&str]) -> String {
        let (ok, text) = self.tf(dir, args, &[]);
        assert!(ok, "terraform {args:?} in {dir} failed:\n{text}");
        text
    }

    /// The example governance applied, its payments contract probing `health_url`.
    fn governance(&self, health_url: &str) {
        self.ok(
            "governance",
            &[
                "apply",
                "-no-color",
                "-input=false",
                "-auto-approve",
                &format!("-var=payments_health_url={health_url}"),
            ],
        );
    }

    fn evidence_list(&self) -> String {
        let out = Command::new(built("plan-guard"))
            .args(["evidence", "list", "--store", &self.store])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.path().extension().is_some_and(|e| e == "tf") {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Terraform wraps diagnostics to the terminal width: the text with single spaces.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A health endpoint answering `status` to every request, for as long as the test runs.
fn health_server(status: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.read(&mut [0u8; 1024]);
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    url
}

const CANARY: &str = "short-Secret-canary";

#[test]
fn a_precondition_fails_the_plan_in_the_contracts_words() {
    let site = Site::new("functions", terraform("TERRAFORM_BINARY", "terraform"));
    site.governance(&health_server(200));
    site.ok("ws", &["init", "-no-color", "-input=false"]);
    let (ok, text) = site.tf(
        "ws",
        &[
            "plan",
            "-no-color",
            "-input=false",
            "-var=region=us-east-1",
            &format!("-var=api_token={CANARY}"),
        ],
        &[],
    );
    let text = words(&text);
    assert!(!ok, "{text}");
    assert!(text.contains("Resource precondition failed"), "{text}");
    assert!(
        text.contains(
            "contract payments-service: input `region` must be one of eu-west-1, eu-central-1"
        ),
        "{text}"
    );
    assert!(
        text.contains("contract payments-service: input `api_token` does not match the pattern"),
        "{text}"
    );
    assert!(
        !text.contains(CANARY),
        "the sensitive input was shown:\n{text}"
    );

    // Good inputs plan; the output and the check block are answered from the store.
    let text = site.ok("ws", &["plan", "-no-color", "-input=false"]);
    assert!(text.contains("deleting_payments = \"block\""), "{text}");
    assert!(
        !text.contains("ledger_is_governed"),
        "the check failed:\n{text}"
    );

    // An unknown contract names the argument, not the value given.
    std::fs::write(
        site.root.join("ws/probe.tf"),
        "output \"missing\" {\n  value = provider::iom::profile_outcome(\"no-such-profile\", \"delete\")\n}\n",
    )
    .unwrap();
    let (ok, text) = site.tf("ws", &["plan", "-no-color", "-input=false"], &[]);
    let text = words(&text);
    assert!(!ok);
    assert!(
        text.contains("holds no iom_profile of that name (it holds: prod-safe, shared-services)"),
        "{text}"
    );
    assert!(!text.contains("no-such-profile\" "), "{text}");

    // Functions read IOM_STORE, not the provider block (Terraform never configures the
    // process it calls them on): a provider block naming the store is not enough.
    let bare = site.root.join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    std::fs::write(
        bare.join("main.tf"),
        format!(
            "terraform {{\n  required_providers {{\n    iom = {{ source = \"iom-dev/iom\" }}\n  }}\n}}\n\nprovider \"iom\" {{\n  store = {:?}\n}}\n\noutput \"delete\" {{\n  value = provider::iom::profile_outcome(\"prod-safe\", \"delete\")\n}}\n",
            site.store
        ),
    )
    .unwrap();
    let (ok, text) = site.tf(
        "bare",
        &["plan", "-no-color", "-input=false"],
        &[("IOM_STORE", "")],
    );
    assert!(!ok, "{text}");
    assert!(
        words(&text).contains("the provider block's store does not reach them"),
        "{text}"
    );
    assert!(!bare.join(".iom").exists(), "a function created a store");
    let text = site.ok("bare", &["plan", "-no-color", "-input=false"]);
    assert!(text.contains("delete = \"block\""), "{text}");

    // An argument known only after apply makes the result unknown until then.
    std::fs::write(
        bare.join("later.tf"),
        "resource \"terraform_data\" \"x\" {}\n\noutput \"later\" {\n  value = provider::iom::governs(\"payments-prod\", terraform_data.x.id)\n}\n",
    )
    .unwrap();
    let text = site.ok("bare", &["plan", "-no-color", "-input=false"]);
    assert!(text.contains("later  = (known after apply)"), "{text}");
}

#[test]
fn actions_verify_after_create_and_record_in_the_ledger() {
    let site = Site::new("actions", terraform("TERRAFORM_BINARY", "terraform"));
    site.governance(&health_server(200));
    site.ok("ws", &["init", "-no-color", "-input=false"]);
    let text = site.ok(
        "ws",
        &["apply", "-no-color", "-input=false", "-auto-approve"],
    );
    assert!(text.contains("Actions: 2 invoked"), "{text}");
    assert!(
        text.contains("post_verify.http ok: GET http://127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains("post_verify.run_record_written ok: run record 1 is in the ledger"),
        "{text}"
    );
    let listed = site.evidence_list();
    assert!(
        listed.contains(
            "run       contract:payments-service  release by iom_record: payments API released"
        ),
        "{listed}"
    );
    assert!(
        listed.contains("verification  contract:payments-service  payments-service by iom_verify: 2 of 2 probes held"),
        "{listed}"
    );

    // Invoked alone, no run record precedes it: the verification is recorded, failed,
    // and fails the apply.
    let (ok, text) = site.tf(
        "ws",
        &[
            "apply",
            "-no-color",
            "-input=false",
            "-auto-approve",
            "-invoke=action.iom_verify.payments",
        ],
        &[],
    );
    let text = words(&text);
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "Contract payments-service not verified: post_verify.run_record_written failed"
        ),
        "{text}"
    );
    assert!(site.evidence_list().contains("1 of 2 probes held"));

    // A service that answers 503 fails the probe, and so the apply that triggered it.
    site.governance(&health_server(503));
    std::fs::write(site.root.join("ws/terraform.tfvars"), "release = \"v2\"\n").unwrap();
    let (ok, text) = site.tf(
        "ws",
        &["apply", "-no-color", "-input=false", "-auto-approve"],
        &[],
    );
    let text = words(&text);
    assert!(!ok, "{text}");
    assert!(text.contains("answered 503, expected 200"), "{text}");
    let out = Command::new(built("plan-guard"))
        .args(["evidence", "verify", "--store", &site.store])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn the_provider_logs_every_rpc_under_tf_log_provider() {
    let site = Site::new("logs", terraform("TERRAFORM_BINARY", "terraform"));
    site.governance(&health_server(200));
    let log = site.root.join("tf.log");
    let (ok, text) = site.tf(
        "governance",
        &["plan", "-no-color", "-input=false"],
        &[
            ("TF_LOG_PROVIDER", "DEBUG"),
            ("TF_LOG_PATH", log.to_str().unwrap()),
        ],
    );
    assert!(ok, "{text}");
    let log = std::fs::read_to_string(&log).unwrap();
    for rpc in [
        "GetProviderSchema",
        "ConfigureProvider",
        "PlanResourceChange",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("received request") && l.contains(&format!("tf_rpc={rpc}"))),
            "no {rpc} in the provider log"
        );
    }
}

#[test]
fn functions_and_actions_are_in_the_schema_and_absent_on_terraform_1_0() {
    let site = Site::new("schema", terraform("TERRAFORM_BINARY", "terraform"));
    site.ok("ws", &["init", "-no-color", "-input=false"]);
    let text = site.ok("ws", &["providers", "schema", "-json"]);
    let schema: serde_json::Value =
        serde_json::from_str(text.lines().find(|l| l.starts_with('{')).unwrap_or("{}")).unwrap();
    let provider = &schema["provider_schemas"]["registry.terraform.io/iom-dev/iom"];
    let functions = provider["functions"].as_object().expect("functions");
    let mut names: Vec<&String> = functions.keys().collect();
    names.sort();
    assert_eq!(names, ["contract_violations", "governs", "profile_outcome"]);
    for (name, f) in functions {
        assert!(
            f["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}"
        );
        for p in f["parameters"].as_array().unwrap() {
            assert!(
                p["description"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}"
            );
        }
    }
    assert_eq!(functions["governs"]["return_type"], "bool");
    let actions = provider["action_schemas"]
        .as_object()
        .expect("action schemas");
    assert!(actions.contains_key("iom_verify") && actions.contains_key("iom_record"));

    // Terraform 1.0.3 applies governance with the same provider and knows of neither.
    let old = Site::new(
        "schema-1.0",
        terraform("TERRAFORM_1_0_BINARY", "terraform-1.0.3"),
    );
    old.governance(&health_server(200));
    let text = old.ok("governance", &["providers", "schema", "-json"]);
    let schema: serde_json::Value =
        serde_json::from_str(text.lines().find(|l| l.starts_with('{')).unwrap_or("{}")).unwrap();
    let provider = &schema["provider_schemas"]["registry.terraform.io/iom-dev/iom"];
    assert!(provider["resource_schemas"]["iom_contract"].is_object());
    assert!(provider.get("functions").is_none() && provider.get("action_schemas").is_none());
}

#[test]
fn plan_guard_recognises_iom_actions_and_no_look_alike() {
    let site = Site::new("recognise", terraform("TERRAFORM_BINARY", "terraform"));
    site.governance(&health_server(200));
    site.ok("ws", &["init", "-no-color", "-input=false"]);
    site.ok("ws", &["plan", "-no-color", "-input=false", "-out=tfplan"]);
    let shown = Command::new(&site.terraform)
        .args(["show", "-json", "tfplan"])
        .current_dir(site.root.join("ws"))
        .env("TF_CLI_CONFIG_FILE", site.root.join("cli.tfrc"))
        .env("IOM_STORE", &site.store)
        .output()
        .unwrap();
    assert!(shown.status.success(), "{shown:?}");
    let json = String::from_utf8(shown.stdout).unwrap();
    let check = |plan: &str| {
        let path = site.root.join("ws/plan.json");
        std::fs::write(&path, plan).unwrap();
        let out = Command::new(built("plan-guard"))
            .args([
                "check",
                "plan.json",
                "--workspace",
                "default",
                "--actor",
                "ci",
            ])
            .args(["--store", &site.store])
            .current_dir(site.root.join("ws"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // The root intent permits only terraform_data: IOM's own actions are governance, not
    // infrastructure, and are not held to it; they are listed with what they do.
    let (code, text) = check(&json);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(
            "(AfterCreate of terraform_data.release; IOM verification of contract payments-service)"
        ),
        "{text}"
    );
    assert!(text.contains("IOM run record"), "{text}");
    // The same actions from another provider are judged as any action: blocked.
    let forged = json.replace(
        "registry.terraform.io/iom-dev/iom",
        "registry.terraform.io/evil/iom",
    );
    let (code, text) = check(&forged);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("type iom_verify is not among the types intent platform-root permits"),
        "{text}"
    );
    assert!(!text.contains("IOM verification"), "{text}");
}

#[test]
fn action_records_are_signed_with_the_ledger_key() {
    let site = Site::new("signed", terraform("TERRAFORM_BINARY", "terraform"));
    site.governance(&health_server(200));
    let (private, public) = (site.root.join("ledger.key"), site.root.join("ledger.pub"));
    let keygen = Command::new(built("plan-guard"))
        .env_remove("IOM_STORE")
        .args(["evidence", "keygen", "--private-key"])
        .arg(&private)
        .arg("--public-key")
        .arg(&public)
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{keygen:?}");
    site.ok("ws", &["init", "-no-color", "-input=false"]);
    let (ok, text) = site.tf(
        "ws",
        &["apply", "-no-color", "-input=false", "-auto-approve"],
        &[("IOM_SIGNING_KEY", private.to_str().unwrap())],
    );
    assert!(ok, "{text}");
    let verify = Command::new(built("plan-guard"))
        .args(["evidence", "verify", "--store", &site.store, "--public-key"])
        .arg(&public)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{verify:?}");
    assert!(said.contains("2 records"), "{said}");
}
