//! RFC 3339 timestamps as Unix seconds, for waiver expiry. Parsed by the `time` crate
//! (already in the dependency tree through the provider's certificates) rather than by
//! hand: the hand-written parser sliced the offset by byte position and panicked on a
//! multi-byte character there.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds since 1970-01-01T00:00:00Z of an RFC 3339 timestamp: a date, `T` (or `t`, or
/// a space, as RFC 3339 permits), a time with optional fractional seconds, and `Z` or an
/// offset. Fractions are dropped.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "`{}` is not an RFC 3339 timestamp (e.g. 2026-12-31T23:59:59Z)",
            text.escape_debug()
        )
    };
    // `time` accepts any one byte between date and time; RFC 3339 names these three.
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return Err(bad());
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| bad())
}

/// Now, in Unix seconds.
pub fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Ok(951_782_400));
        assert_eq!(parse_rfc3339("2026-11-18T11:06:40Z"), Ok(1_795_000_000));
        assert_eq!(parse_rfc3339("2026-11-18 11:06:40z"), Ok(1_795_000_000));
        assert_eq!(
            parse_rfc3339("2026-11-18T13:06:40.123+02:00"),
            Ok(1_795_000_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-18T06:06:40-05:00"),
            Ok(1_795_000_000)
        );
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for bad in [
            "2026-12-31",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-12-31T24:00:00Z",
            "2026-12-31T23:59:59",
            "soon",
            "2026-12-31T23:59:59+5",
            "2026-12-31X23:59:59Z",
            "2026-12-31T23:59:59+24:00",
            "2026-12-31T23:59:59Z trailing",
        ] {
            let e = parse_rfc3339(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    /// Byte slicing of the offset panicked on these (exit 101 in plan-guard and in the
    /// provider's validation).
    #[test]
    fn non_ascii_anywhere_is_an_error_not_a_panic() {
        for bad in [
            "2026-01-01T00:00:00+0é:00",
            "2026-01-01T00:00:00+0é:0",
            "2026-01-01T00:00:00+é:00",
            "2026-01-01T00:00:0é+00:00",
            "2026-01-01é00:00:00Z",
            "é026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.é",
            "2026-01-01T00:00:00\u{202e}Z",
        ] {
            let e = parse_rfc3339(bad).unwrap_err();
            assert!(e.contains("not an RFC 3339 timestamp"), "{bad}: {e}");
        }
    }
}
