//! Decision identifiers and timestamps, without a clock or UUID dependency.

use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// A unique, sortable-by-time decision id: `pg-<unix seconds hex>-<12 hex of a digest of
/// the plan hash, the nanosecond clock and the process id>`.
pub fn decision_id(plan_sha256: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(plan_sha256.as_bytes());
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    let digest = crate::plan::hex_digest(&h.finalize());
    format!("pg-{:08x}-{}", now.as_secs(), &digest[..12])
}

/// The decision id of a set of plans: [`decision_id`] of a digest of the plans'
/// digests in order and the model revision they were judged at.
pub fn set_decision_id<'a>(
    plan_sha256s: impl IntoIterator<Item = &'a str>,
    model_revision: Option<u64>,
) -> String {
    let mut h = Sha256::new();
    for sha in plan_sha256s {
        h.update(sha.as_bytes());
        h.update(b"\n");
    }
    if let Some(revision) = model_revision {
        h.update(revision.to_le_bytes());
    }
    decision_id(&crate::plan::hex_digest(&h.finalize()))
}

/// `bytes` random bytes from the system's generator, in hex.
pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    use ring::rand::SecureRandom as _;
    let mut random = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| anyhow::anyhow!("the system's random number generator failed"))?;
    Ok(crate::plan::hex_digest(&random))
}

/// The current time as RFC 3339 in UTC, to the second.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    rfc3339(secs)
}

/// `unix_secs` as an RFC 3339 UTC time (`2026-01-01T00:00:00Z`).
pub fn rfc3339(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn ids_differ() {
        assert_ne!(super::decision_id("a"), super::decision_id("a"));
    }
}
