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

/// Where a plan came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanSource {
    Stdin,
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

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{source_name}: cannot read plan: {error}")]
    Io {
        source_name: PlanSource,
        error: std::io::Error,
    },
    #[error("{source_name}:{line}:{column}: invalid plan JSON: {message}")]
    Json {
        source_name: PlanSource,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{source_name}: not a Terraform plan: {reason}")]
    NotAPlan {
        source_name: PlanSource,
        reason: String,
    },
    #[error("{source_name}: binary plan file, but `{binary} show -json` failed: {message}")]
    Show {
        source_name: PlanSource,
        binary: String,
        message: String,
    },
}

/// The plan document's text, decoded, with the SHA-256 of the bytes as given.
pub struct RawPlan {
    pub source: PlanSource,
    pub text: String,
    /// Hex SHA-256 of the bytes read. Set at once when `text` differs from those bytes
    /// (a binary plan, UTF-16, a byte-order mark); otherwise computed from `text`, on a
    /// second core while [`RawPlan::parse`] runs.
    digest: OnceLock<String>,
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
    let bytes = match &source {
        PlanSource::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(io)?;
            buf
        }
        PlanSource::File(p) => std::fs::read(p).map_err(io)?,
    };
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
        if plan.planned_values.is_none()
            && plan.resource_changes.is_empty()
            && plan.configuration.is_none()
            && plan.prior_state.is_none()
        {
            return Err(PlanError::NotAPlan {
                source_name: self.source.clone(),
                reason: "it has none of `planned_values`, `resource_changes`, `configuration` or `prior_state` (is it a state file? use `terraform show -json PLANFILE`)".into(),
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

/// Plans written on Windows may be UTF-16 with a byte order mark.
fn decode_text(source: &PlanSource, bytes: Vec<u8>) -> Result<String, PlanError> {
    let not_text = |reason: &str| PlanError::NotAPlan {
        source_name: source.clone(),
        reason: reason.to_string(),
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).map_err(|_| not_text("invalid UTF-16 text"));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
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
        match Command::new(binary)
            .args(["show", "-json", "-no-color"])
            .arg(path)
            .output()
        {
            Ok(out) if out.status.success() => {
                return String::from_utf8(out.stdout).map_err(|_| PlanError::Show {
                    source_name: source.clone(),
                    binary: binary.clone(),
                    message: "output is not UTF-8".into(),
                });
            }
            Ok(out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                return Err(PlanError::Show {
                    source_name: source.clone(),
                    binary: binary.clone(),
                    message: format!(
                        "exit {}: {}",
                        out.status.code().unwrap_or(-1),
                        stderr.trim()
                    ),
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
        let quote = rest.as_bytes()[open] as char;
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
