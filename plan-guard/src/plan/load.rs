//! Reading a plan from a JSON file, standard input, or a binary plan file (rendered with
//! `show -json` by the Terraform or OpenTofu binary at hand). Errors name the file and,
//! for JSON, the line and column; nothing here ever yields a partial plan.

use super::Plan;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a plan came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanSource {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl fmt::Display for PlanSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanSource::Stdin => f.write_str("<stdin>"),
            PlanSource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Why a plan could not be read; each names where it came from.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The input could not be read.
    #[error("{source_name}: cannot read plan: {error}")]
    Io {
        /// Where the plan came from.
        source_name: PlanSource,
        /// The read error.
        error: std::io::Error,
    },
    /// The input is not JSON, at this line and column.
    #[error("{source_name}:{line}:{column}: invalid plan JSON: {message}")]
    Json {
        /// Where the plan came from.
        source_name: PlanSource,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
        /// What serde found wrong.
        message: String,
    },
    /// JSON that is not a Terraform plan.
    #[error("{source_name}: not a Terraform plan: {reason}")]
    NotAPlan {
        /// Where the plan came from.
        source_name: PlanSource,
        /// Why it is not one.
        reason: String,
    },
    /// The input is larger than `--max-plan-bytes`.
    #[error(
        "{source_name}: the plan is larger than the limit of {limit} bytes; raise it with --max-plan-bytes or PLAN_GUARD_MAX_PLAN_BYTES if the plan is genuine"
    )]
    TooLarge {
        /// Where the plan came from.
        source_name: PlanSource,
        /// The limit in bytes.
        limit: u64,
    },
    /// A binary plan that `terraform show -json` could not render.
    #[error("{source_name}: binary plan file, but `{binary} show -json` failed: {message}")]
    Show {
        /// Where the plan came from.
        source_name: PlanSource,
        /// The Terraform binary run.
        binary: String,
        /// What it said.
        message: String,
    },
}

/// The plan document's text, decoded, with the SHA-256 of the bytes as given.
pub struct RawPlan {
    /// Where the plan came from.
    pub source: PlanSource,
    /// The plan document, as JSON text.
    pub text: String,
    /// Hex SHA-256 of the bytes read. Set at once when `text` differs from those bytes
    /// (a binary plan, UTF-16, a byte-order mark); otherwise computed from `text`, on a
    /// second core while [`RawPlan::parse`] runs.
    digest: OnceLock<String>,
}

/// The largest plan document read by default: 4 GiB, far above any real plan (a plan of
/// 50,000 instances is about 100 MB), low enough that endless input such as `/dev/zero`
/// is refused before it exhausts memory.
pub const DEFAULT_MAX_PLAN_BYTES: u64 = 4 << 30;

static MAX_PLAN_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_MAX_PLAN_BYTES);

/// Sets the largest plan [`read_plan`] accepts, in bytes (the text of a binary plan's
/// `show -json` included); for the whole process (`--max-plan-bytes`).
pub fn set_max_plan_bytes(limit: u64) {
    MAX_PLAN_BYTES.store(limit, Ordering::Relaxed);
}

/// The largest plan [`read_plan`] accepts, in bytes.
pub fn max_plan_bytes() -> u64 {
    MAX_PLAN_BYTES.load(Ordering::Relaxed)
}

/// Parses a size such as `4GiB`, `500MB`, `64KiB` or `1048576` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size: expected e.g. 4GiB, 500MB or 1048576"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}`: unknown size unit `{unit}` (B, KB, KiB, MB, MiB, GB, GiB)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{text}` is not a usable size"))
}

enum ReadError {
    Io(std::io::Error),
    TooLarge,
}

impl ReadError {
    fn into_plan_error(self, source: &PlanSource, limit: u64) -> PlanError {
        match self {
            ReadError::Io(error) => PlanError::Io {
                source_name: source.clone(),
                error,
            },
            ReadError::TooLarge => PlanError::TooLarge {
                source_name: source.clone(),
                limit,
            },
        }
    }
}

/// Reads at most `limit` bytes; one byte more means the input is too large, and reading
/// stops there, so memory never holds more than the limit.
fn read_bounded(input: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    input
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(buf)
}

/// Reads `arg` (`-` is standard input) into a [`RawPlan`]. Binary plan files are rendered
/// with `show -json` using `$TERRAFORM_BINARY`, else `terraform`, else `tofu`.
pub fn read_plan(arg: &str) -> Result<RawPlan, PlanError> {
    let source = if arg == "-" {
        PlanSource::Stdin
    } else {
        PlanSource::File(PathBuf::from(arg))
    };
    let io = |error| PlanError::Io {
        source_name: source.clone(),
        error,
    };
    let limit = max_plan_bytes();
    let bytes = match &source {
        PlanSource::Stdin => read_bounded(std::io::stdin().lock(), limit),
        PlanSource::File(p) => {
            let file = std::fs::File::open(p).map_err(io)?;
            // A regular file says its size: one too large is refused before any of it
            // is read. Pipes and devices are bounded while they are read.
            match file.metadata() {
                Ok(m) if m.is_file() && m.len() > limit => Err(ReadError::TooLarge),
                _ => read_bounded(file, limit),
            }
        }
    }
    .map_err(|e| e.into_plan_error(&source, limit))?;
    let digest = OnceLock::new();
    let plain_utf8 = !bytes.starts_with(b"PK\x03\x04")
        && !bytes.starts_with(&[0xFF, 0xFE])
        && !bytes.starts_with(&[0xFE, 0xFF])
        && !bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
    if !plain_utf8 {
        let _ = digest.set(hex_digest(&Sha256::digest(&bytes)));
    }
    // Saved plans are zip archives; everything else must be JSON text.
    let text = if bytes.starts_with(b"PK\x03\x04") {
        match &source {
            PlanSource::File(p) => show_json(&source, p)?,
            PlanSource::Stdin => {
                return Err(PlanError::NotAPlan {
                    source_name: source,
                    reason: "a binary plan file cannot be read from standard input; pass its path"
                        .into(),
                });
            }
        }
    } else {
        decode_text(&source, bytes)?
    };
    Ok(RawPlan {
        source,
        text,
        digest,
    })
}

impl RawPlan {
    /// The hex SHA-256 of the plan as read: what evidence records and `apply` compares.
    pub fn sha256(&self) -> &str {
        self.digest
            .get_or_init(|| hex_digest(&Sha256::digest(self.text.as_bytes())))
    }

    /// Parses the document. A syntax error, a truncated file or a JSON document that is
    /// not a plan is an error; an `errored` plan parses (the caller refuses to judge it).
    pub fn parse(&self) -> Result<Plan<'_>, PlanError> {
        // Hashing and parsing each read the whole text: side by side they cost one pass.
        std::thread::scope(|s| {
            s.spawn(|| self.sha256());
            self.parse_document()
        })
    }

    fn parse_document(&self) -> Result<Plan<'_>, PlanError> {
        let trimmed = self.text.trim_start();
        if !trimmed.starts_with('{') {
            let reason = if trimmed.is_empty() {
                "the file is empty".to_string()
            } else {
                "the document is not a JSON object".to_string()
            };
            return Err(PlanError::NotAPlan {
                source_name: self.source.clone(),
                reason,
            });
        }
        let mut plan: Plan = serde_json::from_str(&self.text).map_err(|e| PlanError::Json {
            source_name: self.source.clone(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        if let Some(reason) = not_a_plan(&plan) {
            return Err(PlanError::NotAPlan {
                source_name: self.source.clone(),
                reason,
            });
        }
        // Format 1.x is what Terraform 1.x and OpenTofu write, 0.x what 0.12–0.15 wrote; a
        // new major version may change meanings this reader relies on, so it is refused.
        if let Some(version) = &plan.format_version
            && !matches!(version.split('.').next(), Some("0" | "1"))
        {
            return Err(PlanError::NotAPlan {
                source_name: self.source.clone(),
                reason: format!(
                    "plan format_version {version:?} is not supported (this plan-guard reads 0.x and 1.x)"
                ),
            });
        }
        plan.fill_addresses();
        Ok(plan)
    }
}

/// Why a JSON object is not a plan, if it is not. Every `show -json` plan Terraform (from
/// 0.12, format 0.1) and OpenTofu write has `format_version` and `planned_values` with its
/// `root_module`, whatever the plan holds. Plans trimmed by other tools for their test
/// fixtures keep `planned_values.root_module` or, when they drop even `format_version`,
/// at least the `resource_changes` they are about; both kinds appear in the corpus of real
/// plans. Anything else (`{"prior_state":{}}`, `{"configuration":{}}`, a state file, an
/// empty object) says nothing about what would change and is refused, never read as a
/// plan with nothing to judge. A `planned_values` that is not an object fails earlier, as
/// JSON of the wrong type.
fn not_a_plan(plan: &Plan) -> Option<String> {
    let has_root_module = plan
        .planned_values
        .as_ref()
        .is_some_and(|p| p.root_module.is_some());
    if has_root_module {
        return None;
    }
    if plan.format_version.is_none() && !plan.resource_changes.is_empty() {
        return None;
    }
    let what = if plan.format_version.is_some() {
        "it has `format_version` but no `planned_values.root_module`, which every plan has"
    } else {
        "it has neither `planned_values.root_module` nor any `resource_changes`"
    };
    Some(format!(
        "{what} (is it a state file or another document? use `terraform show -json PLANFILE`)"
    ))
}

/// Plans written on Windows may be UTF-16 with a byte order mark.
fn decode_text(source: &PlanSource, bytes: Vec<u8>) -> Result<String, PlanError> {
    let not_text = |reason: &str| PlanError::NotAPlan {
        source_name: source.clone(),
        reason: reason.to_string(),
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .filter_map(|c| <[u8; 2]>::try_from(c).ok())
            .map(u16::from_le_bytes)
            .collect();
        return String::from_utf16(&units).map_err(|_| not_text("invalid UTF-16 text"));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .filter_map(|c| <[u8; 2]>::try_from(c).ok())
            .map(u16::from_be_bytes)
            .collect();
        return String::from_utf16(&units).map_err(|_| not_text("invalid UTF-16 text"));
    }
    let bytes = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        not_text(&format!(
            "invalid UTF-8 at byte {offset}; is it a binary file?"
        ))
    })
}

/// The Terraform plan-guard runs: `$TERRAFORM_BINARY`, else `terraform` on the PATH.
pub fn terraform_binary() -> String {
    std::env::var("TERRAFORM_BINARY")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "terraform".into())
}

/// Runs [`terraform_binary`] in the current directory; its stdout, or why it failed.
pub fn terraform_output(args: &[&str]) -> Result<String, String> {
    let binary = terraform_binary();
    let out = Command::new(&binary)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {binary}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{binary} {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn show_json(source: &PlanSource, path: &Path) -> Result<String, PlanError> {
    let candidates: Vec<String> = match std::env::var("TERRAFORM_BINARY") {
        Ok(b) if !b.is_empty() => vec![b],
        _ => vec!["terraform".into(), "tofu".into()],
    };
    let mut last = String::new();
    for binary in &candidates {
        match run_show(binary, path) {
            Ok(Shown {
                stdout: Ok(stdout),
                success: true,
                ..
            }) => {
                return String::from_utf8(stdout).map_err(|_| PlanError::Show {
                    source_name: source.clone(),
                    binary: binary.clone(),
                    message: "output is not UTF-8".into(),
                });
            }
            Ok(Shown {
                stdout: Err(ReadError::TooLarge),
                ..
            }) => {
                return Err(PlanError::TooLarge {
                    source_name: source.clone(),
                    limit: max_plan_bytes(),
                });
            }
            Ok(shown) => {
                return Err(PlanError::Show {
                    source_name: source.clone(),
                    binary: binary.clone(),
                    message: format!("exit {}: {}", shown.code, shown.stderr.trim()),
                });
            }
            Err(e) => last = format!("{binary}: {e}"),
        }
    }
    Err(PlanError::Show {
        source_name: source.clone(),
        binary: candidates.join(" or "),
        message: format!(
            "no Terraform or OpenTofu binary could be run ({last}); set TERRAFORM_BINARY"
        ),
    })
}

struct Shown {
    stdout: Result<Vec<u8>, ReadError>,
    stderr: String,
    success: bool,
    code: i32,
}

/// `BINARY show -json PATH`, its output read under the plan size limit: a small binary
/// plan can hold a large document.
fn run_show(binary: &str, path: &Path) -> std::io::Result<Shown> {
    use std::process::Stdio;
    let mut child = Command::new(binary)
        .args(["show", "-json", "-no-color"])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take();
    // Read on its own thread, so a full stderr pipe cannot stall the child.
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(e) = stderr {
            let _ = e.take(1 << 20).read_to_string(&mut text);
        }
        text
    });
    let stdout = match child.stdout.take() {
        Some(out) => read_bounded(out, max_plan_bytes()),
        None => Ok(Vec::new()),
    };
    if matches!(stdout, Err(ReadError::TooLarge)) {
        let _ = child.kill();
    }
    let status = child.wait()?;
    Ok(Shown {
        stdout,
        stderr: stderr.join().unwrap_or_default(),
        success: status.success(),
        code: status.code().unwrap_or(-1),
    })
}

/// serde_json appends " at line L column C"; we print the position first instead.
fn strip_position(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    without_values(message)
}

/// serde quotes the value it rejected (`invalid type: string "s3cr3t", expected ...`); a
/// malformed plan may put a sensitive value just there, so the value is left out and the
/// line and column say where it is.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = ["invalid type: ", "invalid value: ", "unknown variant "]
        .iter()
        .filter_map(|m| rest.find(m).map(|i| i + m.len()))
        .min()
    {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // Keep the kind of value (`string`, `integer`, ...), drop the literal after it.
        let literal = rest.find(['"', '`']).filter(|&i| {
            rest[..i]
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == ' ')
        });
        let Some(open) = literal else { continue };
        let Some(&quote) = rest.as_bytes().get(open) else {
            continue;
        };
        let quote = quote as char;
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest[open + 1..].char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quote == '"' => escaped = true,
                c if c == quote => {
                    end = Some(open + 1 + i + 1);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else { continue };
        out.push_str(&rest[..open]);
        out.truncate(out.trim_end().len());
        out.push_str(" (value not shown)");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Lower-case hex of `bytes`.
pub fn hex_digest(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod value_tests {
    use super::without_values;

    #[test]
    fn rejected_values_are_not_repeated() {
        assert_eq!(
            without_values(r#"invalid type: string "CANARY\"x", expected struct Variable"#),
            "invalid type: string (value not shown), expected struct Variable"
        );
        assert_eq!(
            without_values("unknown variant `CANARY`, expected `managed` or `data`"),
            "unknown variant (value not shown), expected `managed` or `data`"
        );
        assert_eq!(
            without_values("invalid type: integer `42`, expected a string"),
            "invalid type: integer (value not shown), expected a string"
        );
        assert_eq!(
            without_values("missing field `change`"),
            "missing field `change`"
        );
        assert_eq!(
            without_values("EOF while parsing a string"),
            "EOF while parsing a string"
        );
    }
}
