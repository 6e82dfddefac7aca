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
            return Err(bad("PostgreSQL stores are not supported by this build yet"));
        }
        Err(bad("expected sqlite://PATH"))
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
        }
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
}
