//! The embedded SQLite backend. WAL lets readers (plan-guard) run beside a writer (the
//! provider); `BEGIN IMMEDIATE` takes the write lock before reading the revision, so
//! Terraform's parallel resource operations, in one process or several, each get a
//! revision of their own instead of a lost update.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use iom_model::{Kind, Object};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::ledger::{
    ChainError, ChainWalk, Evidence, GENESIS, Head, Ledger, NewEvidence, RecordRef, SignatureCheck,
    VerifiedChain, hash_with_body_json,
};
use crate::rows::{self, EVIDENCE_COLUMNS, EvidenceRow};
use crate::{ApplyClaim, Drift, Observation, Result, StoreError, Stored};

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 4;

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
    digest   TEXT,
    PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS evidence (
    seq         INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    decision_id TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    plan_sha256 TEXT,
    body        TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    signature   TEXT
);
CREATE INDEX IF NOT EXISTS evidence_by_decision ON evidence (decision_id);
CREATE INDEX IF NOT EXISTS evidence_by_plan ON evidence (plan_sha256, kind);
CREATE TABLE IF NOT EXISTS observations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace   TEXT    NOT NULL,
    observed_at TEXT    NOT NULL,
    body        TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_by_workspace ON observations (workspace, id);
CREATE TABLE IF NOT EXISTS drift (
    workspace   TEXT PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS apply_claims (
    decision_id TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    holder      TEXT NOT NULL,
    claimed_at  TEXT NOT NULL,
    state       TEXT NOT NULL
);
-- Secrets of this store, made once: the key of observations' attribute digests.
CREATE TABLE IF NOT EXISTS secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
";

/// The ledger is append-only as far as SQLite can hold it: a record and an observation
/// cannot be changed or deleted, a record is only added on top of the head, and the head
/// only moves one record forward, onto the record just added. This stops a careless
/// `DELETE` and every tool that goes through SQL; someone who can write the file can
/// still drop the triggers, which is what signed checkpoints (`evidence checkpoint`) find.
const APPEND_ONLY: &str = "
CREATE TRIGGER IF NOT EXISTS evidence_no_update BEFORE UPDATE ON evidence
BEGIN SELECT RAISE(ABORT, 'the evidence ledger is append-only: a record cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS evidence_no_delete BEFORE DELETE ON evidence
BEGIN SELECT RAISE(ABORT, 'the evidence ledger is append-only: a record cannot be deleted'); END;
CREATE TRIGGER IF NOT EXISTS evidence_on_head BEFORE INSERT ON evidence
WHEN NEW.seq IS NOT coalesce((SELECT seq FROM evidence_head WHERE id = 1), 0) + 1
  OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM evidence_head WHERE id = 1), '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN SELECT RAISE(ABORT, 'the evidence ledger is append-only: a record is added only on top of the head'); END;
CREATE TRIGGER IF NOT EXISTS evidence_head_first BEFORE INSERT ON evidence_head
WHEN NEW.seq IS NOT 1 OR NEW.hash IS NOT (SELECT hash FROM evidence WHERE seq = 1)
BEGIN SELECT RAISE(ABORT, 'the evidence head starts at the first record'); END;
CREATE TRIGGER IF NOT EXISTS evidence_head_forward BEFORE UPDATE ON evidence_head
WHEN NEW.seq IS NOT OLD.seq + 1 OR NEW.hash IS NOT (SELECT hash FROM evidence WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the evidence head only moves forward, onto the record just added'); END;
CREATE TRIGGER IF NOT EXISTS evidence_head_no_delete BEFORE DELETE ON evidence_head
BEGIN SELECT RAISE(ABORT, 'the evidence head cannot be deleted'); END;
CREATE TRIGGER IF NOT EXISTS observations_no_update BEFORE UPDATE ON observations
BEGIN SELECT RAISE(ABORT, 'observations are append-only: one cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS observations_no_delete BEFORE DELETE ON observations
BEGIN SELECT RAISE(ABORT, 'observations are append-only: one cannot be deleted'); END;
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
        // Processes opening a new store at once race to switch it to WAL and create the
        // schema; SQLite answers the loser BUSY at once (waiting could deadlock), so the
        // loser starts over after a pause.
        let mut attempt = 0;
        let conn = loop {
            match Self::prepare(path) {
                Ok(conn) => break conn,
                Err(e) if is_busy(&e) && attempt < 100 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(10 + 5 * attempt));
                }
                Err(e) => {
                    return Err(match e {
                        Prepared::Sql(source) => sql(source),
                        Prepared::TooNew(found) => StoreError::TooNew {
                            url: url.to_string(),
                            found,
                            supported: SCHEMA_VERSION,
                        },
                    });
                }
            }
        };
        Ok(SqliteStore {
            url: url.to_string(),
            conn: Mutex::new(conn),
        })
    }

    /// Opens an existing store for reading only: no schema change, no write lock, nothing
    /// created. A WAL database in a directory this user cannot write has no shared-memory
    /// file to read through; when no write-ahead log is there either (no writer can be at
    /// work in such a directory), it is read as immutable.
    pub(crate) fn open_read_only(path: &Path, url: &str) -> Result<SqliteStore> {
        let sql = |source| StoreError::Sqlite {
            url: url.to_string(),
            source,
        };
        let conn = match read_only_connection(path, false) {
            Ok(conn) => conn,
            Err(_) if !wal_of(path).exists() => read_only_connection(path, true).map_err(sql)?,
            Err(e) => return Err(sql(e)),
        };
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                url: url.to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(SqliteStore {
            url: url.to_string(),
            conn: Mutex::new(conn),
        })
    }

    /// Opens the file, switches it to WAL and brings the schema up to date.
    fn prepare(path: &Path) -> std::result::Result<Connection, Prepared> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed revision survives a power cut, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(Prepared::TooNew(found));
        }
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(APPEND_ONLY)?;
        if found < 4 {
            add_object_digests(&tx)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(conn)
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
                    params![kind, object.key()],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if exists {
                return Err(StoreError::AlreadyExists {
                    url: self.url.clone(),
                    kind,
                    name: object.key(),
                });
            }
        }
        let revision = bump_revision(&tx).map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO objects (kind, name, spec, revision, digest) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (kind, name) DO UPDATE SET spec = excluded.spec, revision = excluded.revision, digest = excluded.digest",
            params![kind, object.key(), spec, revision as i64, rows::object_digest(&spec)],
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
                "SELECT spec, revision, digest FROM objects WHERE kind = ?1 AND name = ?2",
                params![kind.resource_type(), name],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|(spec, revision, digest)| {
            rows::object(
                &self.url,
                kind.resource_type(),
                name,
                &spec,
                revision,
                digest.as_deref(),
            )
        })
        .transpose()
    }

    /// Every object and the revision, read in one transaction.
    pub(crate) fn snapshot(&self) -> Result<(Vec<Stored>, u64)> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let revision = read_revision(&tx).map_err(|e| self.err(e))?;
        let mut stmt = tx
            .prepare("SELECT kind, name, spec, revision, digest FROM objects ORDER BY kind, name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut objects = Vec::new();
        for row in rows {
            let (kind, name, spec, revision, digest) = row.map_err(|e| self.err(e))?;
            objects.push(rows::object(
                &self.url,
                &kind,
                &name,
                &spec,
                revision,
                digest.as_deref(),
            )?);
        }
        Ok((objects, revision))
    }
}

/// Schema 4 keeps a digest beside each object: a store from before gets the column, and
/// its objects, as they are at the upgrade, their digests.
fn add_object_digests(conn: &Connection) -> rusqlite::Result<()> {
    let has_column: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('objects') WHERE name = 'digest')",
        [],
        |r| r.get(0),
    )?;
    if !has_column {
        conn.execute_batch("ALTER TABLE objects ADD COLUMN digest TEXT")?;
    }
    let specs: Vec<(String, String, String)> = conn
        .prepare("SELECT kind, name, spec FROM objects WHERE digest IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, name, spec) in specs {
        conn.execute(
            "UPDATE objects SET digest = ?3 WHERE kind = ?1 AND name = ?2",
            params![kind, name, rows::object_digest(&spec)],
        )?;
    }
    Ok(())
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

impl SqliteStore {
    /// Appends one record in one immediate transaction: the chain head is read and moved
    /// under the write lock, so concurrent appends from any process form one chain.
    pub(crate) fn append_evidence(
        &self,
        new: &NewEvidence,
        sign: Option<&dyn Fn(&str) -> String>,
    ) -> Result<Evidence> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let head: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM evidence_head WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let (seq, prev_hash) = match head {
            Some((seq, hash)) => (seq as u64 + 1, hash),
            None => (1, GENESIS.to_string()),
        };
        // Serialised once: the stored text and the hashed record share it.
        let body_json = new.body.to_string();
        let hash = hash_with_body_json(
            seq,
            &new.kind,
            &new.decision_id,
            &new.recorded_at,
            new.plan_sha256.as_deref(),
            &body_json,
            &prev_hash,
        );
        let signature = sign.map(|f| f(&hash));
        tx.execute(
            &format!("INSERT INTO evidence ({EVIDENCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            params![
                seq as i64,
                new.kind,
                new.decision_id,
                new.recorded_at,
                new.plan_sha256,
                body_json,
                prev_hash,
                hash,
                signature
            ],
        )
        .map_err(|e| self.err(e))?;
        // The head's triggers tell a first record (INSERT) from the next one (UPDATE).
        let move_head = if seq == 1 {
            "INSERT INTO evidence_head (id, seq, hash) VALUES (1, ?1, ?2)"
        } else {
            "UPDATE evidence_head SET seq = ?1, hash = ?2 WHERE id = 1"
        };
        tx.execute(move_head, params![seq as i64, hash])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Evidence {
            seq,
            kind: new.kind.clone(),
            decision_id: new.decision_id.clone(),
            recorded_at: new.recorded_at.clone(),
            plan_sha256: new.plan_sha256.clone(),
            body: new.body.clone(),
            prev_hash,
            hash,
            signature,
        })
    }

    /// Records matching `filter` (an SQL condition on the evidence columns), oldest first,
    /// and the chain head, read in one transaction.
    /// The whole ledger checked as it is read, oldest first (see [`ChainWalk`]).
    pub(crate) fn verify_evidence(
        &self,
        verify_signature: Option<SignatureCheck>,
        keep: &[u64],
    ) -> Result<std::result::Result<VerifiedChain, ChainError>> {
        let mut conn = self.lock();
        // One read transaction: the head and the records are of the same moment.
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let head = read_head(&tx).map_err(|e| self.err(e))?;
        let mut walk = ChainWalk::new(verify_signature, keep);
        let mut stmt = tx
            .prepare(&format!(
                "SELECT {EVIDENCE_COLUMNS} FROM evidence ORDER BY seq"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let record = record_ref(row).map_err(|e| self.err(e))?;
            if let Err(bad) = walk.step(&record) {
                return Ok(Err(bad));
            }
        }
        Ok(walk.finish(head.as_ref()))
    }

    pub(crate) fn evidence_where(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Ledger> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let head = read_head(&tx).map_err(|e| self.err(e))?;
        let mut stmt = tx
            .prepare(&format!(
                "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE {filter} ORDER BY seq"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok(EvidenceRow {
                    seq: r.get(0)?,
                    kind: r.get(1)?,
                    decision_id: r.get(2)?,
                    recorded_at: r.get(3)?,
                    plan_sha256: r.get(4)?,
                    body: r.get(5)?,
                    prev_hash: r.get(6)?,
                    hash: r.get(7)?,
                    signature: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(|e| self.err(e))?.into_evidence());
        }
        drop(stmt);
        Ok(Ledger { records: out, head })
    }
}

impl SqliteStore {
    pub(crate) fn secret(&self, name: &str, fresh: &str) -> Result<String> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, fresh],
        )
        .map_err(|e| self.err(e))?;
        let value = tx
            .query_row(
                "SELECT value FROM secrets WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(value)
    }

    pub(crate) fn record_observation(
        &self,
        workspace: &str,
        at: &str,
        body: &serde_json::Value,
    ) -> Result<u64> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO observations (workspace, observed_at, body) VALUES (?1, ?2, ?3)",
            params![workspace, at, body.to_string()],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid() as u64;
        // A new observation is the new truth of what is built: drift found before it is settled.
        tx.execute("DELETE FROM drift WHERE workspace = ?1", params![workspace])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id)
    }

    pub(crate) fn observations(&self, workspace: &str) -> Result<Vec<Observation>> {
        self.query_observations(
            "SELECT id, observed_at, body FROM observations WHERE workspace = ?1 ORDER BY id",
            workspace,
        )
    }

    pub(crate) fn latest_observation(&self, workspace: &str) -> Result<Option<Observation>> {
        Ok(self
            .query_observations(
                "SELECT id, observed_at, body FROM observations WHERE workspace = ?1 \
                 ORDER BY id DESC LIMIT 1",
                workspace,
            )?
            .pop())
    }

    fn query_observations(&self, sql: &str, workspace: &str) -> Result<Vec<Observation>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![workspace], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, observed_at, body) = row.map_err(|e| self.err(e))?;
            out.push(rows::observation(
                &self.url,
                workspace,
                id,
                observed_at,
                &body,
            )?);
        }
        Ok(out)
    }

    pub(crate) fn observed_workspaces(&self) -> Result<Vec<String>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT DISTINCT workspace FROM observations ORDER BY workspace")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    pub(crate) fn set_drift(
        &self,
        workspace: &str,
        at: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<()> {
        let conn = self.lock();
        match body {
            Some(b) => conn.execute(
                "INSERT INTO drift (workspace, recorded_at, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace) DO UPDATE SET recorded_at = excluded.recorded_at, body = excluded.body",
                params![workspace, at, b.to_string()],
            ),
            None => conn.execute("DELETE FROM drift WHERE workspace = ?1", params![workspace]),
        }
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub(crate) fn drift(&self, workspace: &str) -> Result<Option<Drift>> {
        let conn = self.lock();
        let row: Option<(String, String)> = conn
            .query_row(
                "SELECT recorded_at, body FROM drift WHERE workspace = ?1",
                params![workspace],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|(recorded_at, body)| rows::drift(&self.url, workspace, recorded_at, &body))
            .transpose()
    }
}

impl SqliteStore {
    pub(crate) fn claim_apply(&self, claim: &ApplyClaim) -> Result<Option<ApplyClaim>> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let granted = tx
            .query_row(
                "INSERT INTO apply_claims (decision_id, run_id, holder, claimed_at, state)
                 VALUES (?1, ?2, ?3, ?4, 'running')
                 ON CONFLICT (decision_id) DO UPDATE SET run_id = excluded.run_id,
                     holder = excluded.holder, claimed_at = excluded.claimed_at, state = 'running'
                 WHERE apply_claims.state = 'failed'
                 RETURNING run_id",
                params![
                    claim.decision_id,
                    claim.run_id,
                    claim.holder,
                    claim.claimed_at
                ],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let held = match granted {
            Some(_) => None,
            None => Some(
                tx.query_row(
                    "SELECT run_id, holder, claimed_at, state FROM apply_claims WHERE decision_id = ?1",
                    params![claim.decision_id],
                    |r| {
                        Ok(ApplyClaim {
                            decision_id: claim.decision_id.clone(),
                            run_id: r.get(0)?,
                            holder: r.get(1)?,
                            claimed_at: r.get(2)?,
                            state: r.get(3)?,
                        })
                    },
                )
                .map_err(|e| self.err(e))?,
            ),
        };
        tx.commit().map_err(|e| self.err(e))?;
        Ok(held)
    }

    pub(crate) fn finish_apply(&self, decision_id: &str, run_id: &str, state: &str) -> Result<()> {
        self.lock()
            .execute(
                "UPDATE apply_claims SET state = ?3 WHERE decision_id = ?1 AND run_id = ?2",
                params![decision_id, run_id, state],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

/// A read-only connection to `path`, read once so a file that cannot be read fails here.
fn read_only_connection(path: &Path, immutable: bool) -> rusqlite::Result<Connection> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
        | rusqlite::OpenFlags::SQLITE_OPEN_URI
        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        let escaped = path
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23");
        Connection::open_with_flags(format!("file:{escaped}?immutable=1"), flags)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    Ok(conn)
}

/// The write-ahead log beside a database file.
fn wal_of(path: &Path) -> std::path::PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// Why a store could not be prepared.
enum Prepared {
    Sql(rusqlite::Error),
    TooNew(i64),
}

impl From<rusqlite::Error> for Prepared {
    fn from(e: rusqlite::Error) -> Prepared {
        Prepared::Sql(e)
    }
}

fn is_busy(e: &Prepared) -> bool {
    matches!(
        e,
        Prepared::Sql(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn read_head(tx: &rusqlite::Transaction) -> rusqlite::Result<Option<Head>> {
    tx.query_row(
        "SELECT seq, hash FROM evidence_head WHERE id = 1",
        [],
        |r| {
            Ok(Head {
                seq: r.get::<_, i64>(0)? as u64,
                hash: r.get(1)?,
            })
        },
    )
    .optional()
}

/// A row of [`EVIDENCE_COLUMNS`] borrowed from SQLite's buffers: nothing is copied.
fn record_ref<'r>(row: &'r rusqlite::Row) -> rusqlite::Result<RecordRef<'r>> {
    let text = |i: usize| -> rusqlite::Result<Option<&'r str>> {
        row.get_ref(i)?.as_str_or_null().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let required = |i: usize| -> rusqlite::Result<&'r str> {
        text(i)?.ok_or(rusqlite::Error::InvalidColumnType(
            i,
            "NULL".into(),
            rusqlite::types::Type::Null,
        ))
    };
    Ok(RecordRef {
        seq: row.get::<_, i64>(0)? as u64,
        kind: required(1)?,
        decision_id: required(2)?,
        recorded_at: required(3)?,
        plan_sha256: text(4)?,
        body_json: required(5)?,
        prev_hash: required(6)?,
        hash: required(7)?,
        signature: text(8)?,
    })
}
