//! Getting IOM: `cargo install --path` of both binaries, and the archives
//! `scripts/release.sh` builds, installed by the real Terraform 1.15 from a filesystem
//! mirror and from a network mirror served over HTTPS on loopback, with their checksums and
//! GPG signature verified as a user would.
//!
//! Each test here needs a release build of plan-guard and the provider (minutes, not
//! seconds), so they are ignored by a plain `cargo test`; `scripts/test.sh` (CI) runs them
//! with `cargo test -p acceptance-tests --test release -- --ignored`. `cargo install` and
//! the release script build into the same target directory, so CI builds each binary once.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

const PROVIDER: &str = "terraform-provider-iom";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const SOURCE: &str = "registry.terraform.io/iom-dev/iom";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn terraform() -> PathBuf {
    let t = std::env::var_os("TERRAFORM_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/terraform"));
    assert!(
        t.exists(),
        "no Terraform at {}: run bash scripts/install-terraform.sh",
        t.display()
    );
    t
}

fn python() -> PathBuf {
    let p = repo().join(".tools/venv/bin/python");
    assert!(
        p.exists(),
        "no {}: run bash scripts/install-terraform.sh",
        p.display()
    );
    p
}

/// A fresh temporary directory for one test.
fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iom-release-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Runs a command that must succeed; returns its output.
fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed:\n{}", text(&out));
    text(&out)
}

/// `cargo` as the test was started by (the same toolchain and target directory).
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(repo());
    cmd
}

/// The release archives, built once for every test of this binary by `scripts/release.sh`
/// with a throwaway signing key.
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let dist = temp("dist");
        let listing = ok(Command::new("bash")
            .arg(repo().join("scripts/release.sh"))
            .current_dir(repo())
            .env("DIST", &dist)
            .env_remove("GPG_KEY_ID")
            .env_remove("TARGETS"));
        assert!(listing.contains("throwaway key"), "{listing}");
        dist
    })
}

#[test]
#[ignore = "a release build: scripts/test.sh runs it"]
fn cargo_install_puts_working_binaries_in_the_root() {
    let root = temp("install");
    for (path, bin) in [("plan-guard", "plan-guard"), ("provider", PROVIDER)] {
        ok(cargo()
            .args(["install", "--locked", "--quiet", "--path", path, "--root"])
            .arg(&root));
        let out = ok(Command::new(root.join("bin").join(bin)).arg("--version"));
        assert_eq!(out.trim(), format!("{bin} {VERSION}"));
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
#[ignore = "a release build: scripts/test.sh runs it"]
fn the_release_is_named_for_the_registries_checksummed_and_signed() {
    let dist = dist();
    let mut names: Vec<String> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let p = format!("{PROVIDER}_{VERSION}");
    let g = format!("plan-guard_{VERSION}");
    assert_eq!(
        names,
        [
            format!("{g}_SHA256SUMS"),
            format!("{g}_SHA256SUMS.sig"),
            format!("{g}_linux_amd64.tar.gz"),
            format!("{p}_SHA256SUMS"),
            format!("{p}_SHA256SUMS.sig"),
            format!("{p}_linux_amd64.zip"),
            format!("{p}_manifest.json"),
            format!("{p}_signing-key.asc"),
        ]
    );

    // The zip holds the binary alone, under the name the registries expect.
    let listing = ok(Command::new("unzip")
        .arg("-Z1")
        .arg(dist.join(format!("{p}_linux_amd64.zip"))));
    assert_eq!(listing.trim(), format!("{PROVIDER}_v{VERSION}"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist.join(format!("{p}_manifest.json"))).unwrap())
            .unwrap();
    assert_eq!(manifest["version"], 1);
    assert_eq!(
        manifest["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );

    // Checksums: every archive is listed and matches.
    let sums = std::fs::read_to_string(dist.join(format!("{p}_SHA256SUMS"))).unwrap();
    for f in [format!("{p}_linux_amd64.zip"), format!("{p}_manifest.json")] {
        assert!(sums.contains(&format!("  {f}\n")), "{f} not in:\n{sums}");
    }
    for s in [format!("{p}_SHA256SUMS"), format!("{g}_SHA256SUMS")] {
        ok(Command::new("sha256sum")
            .args(["--check", "--strict", &s])
            .current_dir(dist));
    }

    // The signatures verify with the exported public key, and not over altered sums.
    let home = temp("gnupg");
    let gpg = |args: &[&str]| {
        let mut cmd = Command::new("gpg");
        cmd.arg("--batch").env("GNUPGHOME", &home).args(args);
        cmd.current_dir(dist);
        cmd
    };
    ok(&mut gpg(&["--import", &format!("{p}_signing-key.asc")]));
    for s in [format!("{p}_SHA256SUMS"), format!("{g}_SHA256SUMS")] {
        let out = ok(&mut gpg(&["--verify", &format!("{s}.sig"), &s]));
        assert!(out.contains("Good signature"), "{out}");
        let altered = home.join("altered");
        let mut bytes = std::fs::read(dist.join(&s)).unwrap();
        bytes[0] ^= 1;
        std::fs::write(&altered, bytes).unwrap();
        let out = gpg(&["--verify", &format!("{s}.sig"), altered.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "altered {s} verified:\n{}",
            text(&out)
        );
    }
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", &home)
        .status();
    let _ = std::fs::remove_dir_all(&home);

    // plan-guard's archive unpacks to a binary that runs.
    let unpacked = temp("plan-guard-tar");
    ok(Command::new("tar")
        .arg("-xzf")
        .arg(dist.join(format!("{g}_linux_amd64.tar.gz")))
        .arg("-C")
        .arg(&unpacked));
    let out = ok(Command::new(unpacked.join("plan-guard")).arg("--version"));
    assert_eq!(out.trim(), format!("plan-guard {VERSION}"));
    let _ = std::fs::remove_dir_all(&unpacked);
}

/// The release laid out as a mirror by `scripts/provider-mirror.sh`; returns the
/// directory of the provider's files and the hashes its VERSION.json lists.
fn mirror(root: &Path) -> (PathBuf, Vec<String>) {
    ok(Command::new("bash")
        .arg(repo().join("scripts/provider-mirror.sh"))
        .arg(dist())
        .arg(root));
    let dir = root.join(SOURCE);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index, serde_json::json!({ "versions": { VERSION: {} } }));
    let listing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{VERSION}.json"))).unwrap())
            .unwrap();
    let archive = &listing["archives"]["linux_amd64"];
    let zip = format!("{PROVIDER}_{VERSION}_linux_amd64.zip");
    assert_eq!(archive["url"], zip.as_str());
    let hashes: Vec<String> = archive["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    // zh: is the SHA-256 of the zip that SHA256SUMS lists.
    let sums =
        std::fs::read_to_string(dist().join(format!("{PROVIDER}_{VERSION}_SHA256SUMS"))).unwrap();
    let zip_sum = sums
        .lines()
        .find_map(|l| l.strip_suffix(&format!("  {zip}")))
        .unwrap();
    assert!(hashes.contains(&format!("zh:{zip_sum}")), "{hashes:?}");
    assert!(hashes.iter().any(|h| h.starts_with("h1:")), "{hashes:?}");
    (dir, hashes)
}

/// A Terraform working directory with the example governance and a CLI configuration
/// whose `provider_installation` is `installation`.
struct Workspace {
    root: PathBuf,
}

impl Workspace {
    fn new(tag: &str, installation: &str) -> Workspace {
        let root = temp(tag);
        std::fs::create_dir_all(root.join("work")).unwrap();
        for f in ["main.tf", "versions.tf"] {
            std::fs::copy(
                repo().join("examples/governance").join(f),
                root.join("work").join(f),
            )
            .unwrap();
        }
        std::fs::write(
            root.join("cli.tfrc"),
            format!("provider_installation {{\n{installation}\n}}\n"),
        )
        .unwrap();
        Workspace { root }
    }

    fn terraform(&self, args: &[&str], env: &[(&str, &Path)]) -> Output {
        Command::new(terraform())
            .args(args)
            .current_dir(self.root.join("work"))
            .env("TF_CLI_CONFIG_FILE", self.root.join("cli.tfrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("IOM_STORE")
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .output()
            .unwrap()
    }

    /// `terraform init`, then an apply of the example governance with the installed
    /// provider: the binary from the archive really serves Terraform.
    fn init_and_apply(&self, env: &[(&str, &Path)]) -> String {
        let out = self.terraform(&["init", "-input=false", "-no-color"], env);
        assert!(out.status.success(), "init:\n{}", text(&out));
        let store = format!("-var=store=sqlite://{}/model.db", self.root.display());
        let out = self.terraform(
            &[
                "apply",
                "-input=false",
                "-no-color",
                "-auto-approve",
                &store,
            ],
            env,
        );
        assert!(
            text(&out).contains("Apply complete! Resources: 9 added"),
            "apply:\n{}",
            text(&out)
        );
        std::fs::read_to_string(self.root.join("work/.terraform.lock.hcl")).unwrap()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
#[ignore = "a release build: scripts/test.sh runs it"]
fn terraform_installs_the_release_from_a_filesystem_mirror() {
    let root = temp("fs-mirror");
    let (_, hashes) = mirror(&root);
    let ws = Workspace::new(
        "fs-mirror-ws",
        &format!(
            "  filesystem_mirror {{\n    path    = {:?}\n    include = [\"{SOURCE}\"]\n  }}",
            root.display().to_string()
        ),
    );
    let lock = ws.init_and_apply(&[]);
    // The lock file records the h1: hash the mirror publishes: Terraform computes it alike.
    let h1 = hashes.iter().find(|h| h.starts_with("h1:")).unwrap();
    assert!(lock.contains(&format!("version = \"{VERSION}\"")), "{lock}");
    assert!(lock.contains(h1.as_str()), "{h1} not in\n{lock}");
    let _ = std::fs::remove_dir_all(&root);
}

/// A static HTTPS server on loopback (Python's http.server with a test certificate),
/// logging the path of every request it answers.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, cert: &Path, key: &Path, log: &Path) -> Server {
        const SERVE: &str = r#"
import functools, http.server, ssl, sys
root, cert, key, log = sys.argv[1:5]
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_request(self, code="-", size="-"):
        with open(log, "a") as f:
            f.write("%s %s\n" % (code, self.path))
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
        let mut child = Command::new(python())
            .args(["-c", SERVE])
            .args([dir, cert, key, log])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the mirror server did not start: {line:?}")
        });
        Server {
            child,
            port,
            log: log.to_path_buf(),
        }
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost: (cert, key).
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    ok(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    (cert, key)
}

fn network_mirror(port: u16) -> String {
    format!(
        "  network_mirror {{\n    url     = \"https://127.0.0.1:{port}/\"\n    include = [\"{SOURCE}\"]\n  }}"
    )
}

#[test]
#[ignore = "a release build: scripts/test.sh runs it"]
fn terraform_installs_the_release_from_a_network_mirror_over_https() {
    let root = temp("net-mirror");
    let site = root.join("site");
    let (dir, hashes) = mirror(&site);
    let (cert, key) = certificate(&root);
    let server = Server::start(&site, &cert, &key, &root.join("requests.log"));

    let ws = Workspace::new("net-mirror-ws", &network_mirror(server.port));
    let lock = ws.init_and_apply(&[("SSL_CERT_FILE", &cert)]);
    let requests = server.requests();
    let base = format!("/{SOURCE}");
    for path in [
        format!("{base}/index.json"),
        format!("{base}/{VERSION}.json"),
        format!("{base}/{PROVIDER}_{VERSION}_linux_amd64.zip"),
    ] {
        assert!(
            requests.contains(&format!("200 {path}\n")),
            "no {path} in\n{requests}"
        );
    }
    // Terraform checked the archive against the listing and locks the h1: hash it lists.
    let h1 = hashes.iter().find(|h| h.starts_with("h1:")).unwrap();
    assert!(lock.contains(h1.as_str()), "{h1} not in\n{lock}");

    // Without the test certificate trusted, Terraform refuses the mirror.
    let untrusted = Workspace::new("net-mirror-untrusted", &network_mirror(server.port));
    let out = untrusted.terraform(&["init", "-input=false", "-no-color"], &[]);
    let said = text(&out).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("certificate") || said.contains("x509"),
        "{said}"
    );

    // An archive that is not the one the listing's hashes name is refused.
    let zip = dir.join(format!("{PROVIDER}_{VERSION}_linux_amd64.zip"));
    let swapped = root.join(format!("{PROVIDER}_v{VERSION}"));
    std::fs::write(&swapped, "#!/bin/sh\necho not the provider\n").unwrap();
    std::fs::remove_file(&zip).unwrap();
    ok(Command::new("zip")
        .arg("-q")
        .arg("-j")
        .arg(&zip)
        .arg(&swapped));
    let tampered = Workspace::new("net-mirror-tampered", &network_mirror(server.port));
    let out = tampered.terraform(
        &["init", "-input=false", "-no-color"],
        &[("SSL_CERT_FILE", &cert)],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("checksum"), "{}", text(&out));
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

/// The PATH without any plan-guard (or `gh`, which would try to reach GitHub), with the
/// cargo that runs these tests.
fn path_without_plan_guard() -> String {
    let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    let dirs = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|d| !d.join("plan-guard").exists() && !d.join("gh").exists())
        .collect::<Vec<_>>();
    let dirs = cargo
        .parent()
        .map(Path::to_path_buf)
        .into_iter()
        .chain(dirs);
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

/// Runs action.yml's first step (installing plan-guard) as Actions would, with `inputs`
/// over the action's defaults; returns (exit code, output, the directories the step added
/// to `$GITHUB_PATH`).
fn run_action_install(tag: &str, inputs: &[(&str, &str)]) -> (i32, String, Vec<PathBuf>) {
    const STEP: &str = r#"
import json, sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
step = action["runs"]["steps"][0]
defaults = {k: v.get("default", "") for k, v in action["inputs"].items()}
print(json.dumps({"name": step["name"], "run": step["run"], "env": step["env"], "defaults": defaults}))
"#;
    let out = ok(Command::new(python())
        .args(["-c", STEP])
        .arg(repo().join("action.yml")));
    let step: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(step["name"], "install plan-guard");
    let runner = temp(tag);
    let github_path = runner.join("github_path");
    std::fs::write(&github_path, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["-c", step["run"].as_str().unwrap()])
        .current_dir(&runner)
        .env("PATH", path_without_plan_guard())
        .env("GITHUB_ACTION_PATH", repo())
        .env("GITHUB_PATH", &github_path)
        .env("RUNNER_TEMP", &runner)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64");
    for (name, expr) in step["env"].as_object().unwrap() {
        let expr = expr.as_str().unwrap();
        let value = match expr.strip_prefix("${{ inputs.") {
            Some(rest) => {
                let input = rest.trim_end_matches(" }}");
                inputs
                    .iter()
                    .find(|(k, _)| *k == input)
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_else(|| step["defaults"][input].as_str().unwrap().to_string())
            }
            None if expr == "${{ github.token }}" => String::new(),
            None => panic!("unexpected expression {expr}"),
        };
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    let added = std::fs::read_to_string(&github_path)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .collect();
    (out.status.code().unwrap_or(-1), text(&out), added)
}

#[test]
#[ignore = "a release build: scripts/test.sh runs it"]
fn the_github_action_installs_plan_guard_from_the_release_archive() {
    let dist = dist().display().to_string();
    let (code, log, added) =
        run_action_install("action-archive", &[("plan-guard-archives", dist.as_str())]);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains(": OK"), "the archive was checked:\n{log}");
    assert_eq!(added.len(), 1, "{log}");
    let out = ok(Command::new(added[0].join("plan-guard")).arg("--version"));
    assert_eq!(out.trim(), format!("plan-guard {VERSION}"));
    // A version the folder has no archive of is an error, not another version installed.
    let (code, log, added) = run_action_install(
        "action-archive-other",
        &[
            ("plan-guard-archives", dist.as_str()),
            ("plan-guard-version", "9.9.9"),
        ],
    );
    assert_ne!(code, 0, "{log}");
    assert!(added.is_empty(), "{log}");
}

#[test]
#[ignore = "a release build: scripts/test.sh runs it"]
fn the_github_action_builds_plan_guard_with_cargo_without_a_release_archive() {
    let (code, log, added) = run_action_install("action-cargo", &[]);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("cargo install from the action's source"),
        "{log}"
    );
    assert_eq!(added.len(), 1, "{log}");
    let out = ok(Command::new(added[0].join("plan-guard")).arg("--version"));
    assert_eq!(out.trim(), format!("plan-guard {VERSION}"));
}
