use std::fmt;
use std::path::PathBuf;

use crate::{Result, StoreError};

/// Where the model lives when nothing else is said.
pub const DEFAULT_STORE: &str = "sqlite://.iom/model.db";

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite://PATH`: a relative PATH is taken from the working directory,
    /// `sqlite:///abs/path` is absolute.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, a libpq connection URL.
    Postgres(String),
}

impl StoreUrl {
    /// Reads a store URL: `sqlite://PATH` or `postgres://…` (docs/store.md).
    pub fn parse(url: &str) -> Result<StoreUrl> {
        let bad = |why: &str| StoreError::BadUrl {
            url: redacted(url),
            why: why.to_string(),
        };
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(bad("no database path after sqlite://"));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url.to_string()));
        }
        Err(bad("expected sqlite://PATH or postgres://…"))
    }

    /// The explicit URL if given, else `$IOM_STORE` when set and non-empty, else the default.
    pub fn configured(explicit: Option<&str>) -> String {
        if let Some(url) = explicit.filter(|u| !u.is_empty()) {
            return url.to_string();
        }
        match std::env::var("IOM_STORE") {
            Ok(url) if !url.is_empty() => url,
            _ => DEFAULT_STORE.to_string(),
        }
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            // Never the password: the URL is printed in reports and errors.
            StoreUrl::Postgres(url) => f.write_str(&redacted(url)),
        }
    }
}

/// A URL as it may be shown: `scheme://user:secret@host/db?password=secret&x=1` as
/// `scheme://user@host/db?x=1`. Every credential form goes: the password of the user part
/// (found at the last `@`, so a password holding `/`, `?` or `@` goes whole) and every
/// parameter whose name ends in `password` (`password`, `sslpassword`, percent-encoded or
/// not). What cannot be told apart from a credential is left out rather than shown.
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return without_secret_params(url);
    };
    let shown = match rest.rfind('@') {
        Some(at) => {
            // The user name ends at `:` (then the password), or at `/` or `?` when this
            // `@` is not in the user part at all; either way nothing after it is shown.
            let user = rest[..at].split([':', '/', '?']).next().unwrap_or("");
            format!("{user}@{}", &rest[at + 1..])
        }
        None => rest.to_string(),
    };
    format!("{scheme}://{}", without_secret_params(&shown))
}

/// `host/db?password=s&x=1` as `host/db?x=1`; parameters are split at `?` and `&` alike.
fn without_secret_params(text: &str) -> String {
    let mut parts = text.split(['?', '&']);
    let base = parts.next().unwrap_or("");
    let kept: Vec<&str> = parts.filter(|p| !is_secret_param(p)).collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

fn is_secret_param(pair: &str) -> bool {
    let key = pair.split('=').next().unwrap_or(pair);
    percent_encoding::percent_decode_str(key)
        .decode_utf8_lossy()
        .to_ascii_lowercase()
        .trim()
        .ends_with("password")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_relative_and_absolute() {
        assert_eq!(
            StoreUrl::parse("sqlite://.iom/model.db").unwrap(),
            StoreUrl::Sqlite(PathBuf::from(".iom/model.db"))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/iom.db").unwrap(),
            StoreUrl::Sqlite(PathBuf::from("/var/iom.db"))
        );
    }

    #[test]
    fn unknown_schemes_are_named_in_the_error() {
        let err = StoreUrl::parse("mysql://x").unwrap_err().to_string();
        assert!(
            err.contains("mysql://x") && err.contains("sqlite://"),
            "{err}"
        );
        assert!(StoreUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn postgres_urls_print_without_their_password() {
        let url =
            StoreUrl::parse("postgres://iom:hunter2@db.internal:5432/iom?sslmode=disable").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://iom@db.internal:5432/iom?sslmode=disable"
        );
        let plain = StoreUrl::parse("postgresql://127.0.0.1/iom").unwrap();
        assert_eq!(plain.to_string(), "postgresql://127.0.0.1/iom");
    }

    /// Issue 12, item 11: no credential in any URL form is shown.
    #[test]
    fn no_credential_form_is_shown() {
        for (url, shown) in [
            (
                "postgres://iom@db:5432/iom?password=hunter2&sslmode=require",
                "postgres://iom@db:5432/iom?sslmode=require",
            ),
            (
                "postgres://iom:hunter2@db/iom?sslmode=require&password=hunter2",
                "postgres://iom@db/iom?sslmode=require",
            ),
            ("postgres://db/iom?%70assword=hunter2", "postgres://db/iom"),
            (
                "postgres://db/iom?PASSWORD=hunter2&sslpassword=hunter2&user=iom",
                "postgres://db/iom?user=iom",
            ),
            ("postgres://iom:hun/ter?2@db/iom", "postgres://iom@db/iom"),
            ("postgres://iom:hun@ter2@db/iom", "postgres://iom@db/iom"),
            (
                "postgres://db/iom?application_name=a@b&password=hunter2",
                "postgres://db@b",
            ),
            ("postgres://:hunter2@db/iom", "postgres://@db/iom"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
            assert!(
                !StoreUrl::parse(url)
                    .unwrap()
                    .to_string()
                    .contains("hunter2")
            );
        }
        let err = StoreUrl::parse("postgress://iom:hunter2@db/iom?password=hunter2")
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("hunter2") && err.contains("postgress://iom@db/iom"),
            "{err}"
        );
    }
}
