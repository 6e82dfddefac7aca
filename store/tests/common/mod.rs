//! The backends every store test runs on: SQLite always, and the real PostgreSQL server
//! `scripts/pg.sh` starts when `$IOM_TEST_POSTGRES_URL` names it. Under the project's test
//! script (`$IOM_REQUIRE_POSTGRES=1`) a missing server fails the tests instead of
//! skipping them.

use std::path::PathBuf;

pub enum Db {
    Sqlite { dir: PathBuf },
    Postgres { admin: String, name: String },
}

/// A fresh, empty store on each available backend.
pub fn backends(tag: &str) -> Vec<Db> {
    let dir = std::env::temp_dir().join(format!("iom-store-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![Db::Sqlite { dir }];
    match std::env::var("IOM_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("iom_{tag}_{}", std::process::id()).replace('-', "_");
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("IOM_TEST_POSTGRES_URL={admin}: {e}"));
            // One statement each: a multi-statement string runs as one transaction, which
            // CREATE DATABASE refuses.
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .unwrap();
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            out.push(Db::Postgres { admin, name });
        }
        _ if std::env::var("IOM_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!(
                "IOM_REQUIRE_POSTGRES=1 but IOM_TEST_POSTGRES_URL is not set: start one with scripts/pg.sh"
            )
        }
        _ => eprintln!("note: no IOM_TEST_POSTGRES_URL, so {tag} runs on SQLite only"),
    }
    out
}

impl Db {
    pub fn url(&self) -> String {
        match self {
            Db::Sqlite { dir } => format!("sqlite://{}/nested/model.db", dir.display()),
            Db::Postgres { admin, name } => {
                let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
                format!("{base}/{name}")
            }
        }
    }

    /// A table's name on this backend (PostgreSQL's are prefixed).
    pub fn table(&self, name: &str) -> String {
        match self {
            Db::Sqlite { .. } => name.to_string(),
            Db::Postgres { .. } => format!("iom_{name}"),
        }
    }

    /// Runs raw SQL behind the store's back, as someone tampering with it would.
    pub fn sql(&self, statement: &str) {
        match self {
            Db::Sqlite { dir } => {
                let conn = rusqlite::Connection::open(dir.join("nested/model.db")).unwrap();
                conn.execute_batch(statement).unwrap();
            }
            Db::Postgres { .. } => {
                let mut client = postgres::Client::connect(&self.url(), postgres::NoTls).unwrap();
                client.batch_execute(statement).unwrap();
            }
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres { .. } => "postgres",
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match self {
            Db::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Db::Postgres { admin, name } => {
                if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}
