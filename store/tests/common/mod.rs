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

    /// Runs raw SQL behind the store's back with the rights of the database's owner, as
    /// someone tampering with it would: the append-only triggers dropped (SQLite) or
    /// switched off for the session (PostgreSQL) first.
    pub fn sql(&self, statement: &str) {
        match self {
            Db::Sqlite { dir } => {
                let conn = rusqlite::Connection::open(dir.join("nested/model.db")).unwrap();
                let triggers: Vec<String> = conn
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                for t in triggers {
                    conn.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
                }
                conn.execute_batch(statement).unwrap();
            }
            Db::Postgres { .. } => {
                let mut client = postgres::Client::connect(&self.url(), postgres::NoTls).unwrap();
                client
                    .batch_execute(&format!(
                        "SET session_replication_role = replica; {statement}"
                    ))
                    .unwrap();
            }
        }
    }

    /// Runs raw SQL as an ordinary client of the store: the triggers stay in force.
    #[allow(dead_code)] // used by the ledger tests only
    pub fn try_sql(&self, statement: &str) -> Result<(), String> {
        match self {
            Db::Sqlite { dir } => rusqlite::Connection::open(dir.join("nested/model.db"))
                .unwrap()
                .execute_batch(statement)
                .map_err(|e| e.to_string()),
            Db::Postgres { .. } => self.try_sql_as(&self.url(), statement),
        }
    }

    /// Runs raw SQL on PostgreSQL as whoever `url` connects as.
    #[allow(dead_code)] // used by the ledger tests only
    pub fn try_sql_as(&self, url: &str, statement: &str) -> Result<(), String> {
        postgres::Client::connect(url, postgres::NoTls)
            .unwrap()
            .batch_execute(statement)
            .map_err(|e| match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => e.to_string(),
            })
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
