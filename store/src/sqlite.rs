//! The embedded SQLite backend. WAL lets readers (plan-guard) run beside a writer (the
//! provider); `BEGIN IMMEDIATE` takes the write lock before reading the revision, so
//! Terraform's parallel resource operations, in one process or several, each get a
//! revision of their own instead of a lost update.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use iom_model::{Kind, Object};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{Result, StoreError, Stored};

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS model_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT OR IGNORE INTO model_revision (id, revision) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS objects (
    kind     TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    spec     TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);
";

pub(crate) struct SqliteStore {
    url: String,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    pub(crate) fn open(path: &Path, url: &str) -> Result<SqliteStore> {
        let sql = |source| StoreError::Sqlite {
            url: url.to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                url: url.to_string(),
                dir: dir.display().to_string(),
                source,
            })?;
        }
        let mut conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        // FULL: a committed revision survives a power cut, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let found: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                url: url.to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        tx.execute_batch(SCHEMA).map_err(sql)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(SqliteStore {
            url: url.to_string(),
            conn: Mutex::new(conn),
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            url: self.url.clone(),
            source,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave a half-done transaction behind (rusqlite rolls
        // back on drop), so a poisoned lock still guards a consistent connection.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn revision(&self) -> Result<u64> {
        let conn = self.lock();
        read_revision(&conn).map_err(|e| self.err(e))
    }

    pub(crate) fn write(&self, object: &Object, replace: bool) -> Result<u64> {
        let kind = object.kind().resource_type();
        let spec = object.to_json().to_string();
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        if !replace {
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM objects WHERE kind = ?1 AND name = ?2)",
                    params![kind, object.name()],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if exists {
                return Err(StoreError::AlreadyExists {
                    url: self.url.clone(),
                    kind,
                    name: object.name().to_string(),
                });
            }
        }
        let revision = bump_revision(&tx).map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO objects (kind, name, spec, revision) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, name) DO UPDATE SET spec = excluded.spec, revision = excluded.revision",
            params![kind, object.name(), spec, revision as i64],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(revision)
    }

    pub(crate) fn delete(&self, kind: Kind, name: &str) -> Result<Option<u64>> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let removed = tx
            .execute(
                "DELETE FROM objects WHERE kind = ?1 AND name = ?2",
                params![kind.resource_type(), name],
            )
            .map_err(|e| self.err(e))?;
        if removed == 0 {
            return Ok(None);
        }
        let revision = bump_revision(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Some(revision))
    }

    pub(crate) fn get(&self, kind: Kind, name: &str) -> Result<Option<Stored>> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT spec, revision FROM objects WHERE kind = ?1 AND name = ?2",
                params![kind.resource_type(), name],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|(spec, revision)| self.decode(kind, name, &spec, revision))
            .transpose()
    }

    /// Every object and the revision, read in one transaction.
    pub(crate) fn snapshot(&self) -> Result<(Vec<Stored>, u64)> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let revision = read_revision(&tx).map_err(|e| self.err(e))?;
        let mut stmt = tx
            .prepare("SELECT kind, name, spec, revision FROM objects ORDER BY kind, name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut objects = Vec::new();
        for row in rows {
            let (kind, name, spec, revision) = row.map_err(|e| self.err(e))?;
            let Some(kind) = Kind::from_resource_type(&kind) else {
                return Err(StoreError::Corrupt {
                    url: self.url.clone(),
                    kind: "object",
                    name,
                    why: format!("unknown kind {kind:?}"),
                });
            };
            objects.push(self.decode(kind, &name, &spec, revision)?);
        }
        Ok((objects, revision))
    }

    fn decode(&self, kind: Kind, name: &str, spec: &str, revision: i64) -> Result<Stored> {
        let corrupt = |why: String| StoreError::Corrupt {
            url: self.url.clone(),
            kind: kind.resource_type(),
            name: name.to_string(),
            why,
        };
        let value = serde_json::from_str(spec).map_err(|e| corrupt(e.to_string()))?;
        let object = Object::from_json(kind, value).map_err(|e| corrupt(e.to_string()))?;
        Ok(Stored {
            object,
            revision: revision as u64,
        })
    }
}

fn read_revision(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT revision FROM model_revision WHERE id = 1",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|r| r as u64)
}

fn bump_revision(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "UPDATE model_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|r| r as u64)
}
