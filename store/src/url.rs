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
    pub fn parse(url: &str) -> Result<StoreUrl> {
        let bad = |why: &str| StoreError::BadUrl {
            url: url.to_string(),
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
            StoreUrl::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}{path}")
        }
        None => url.to_string(),
    }
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
}
