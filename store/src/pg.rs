//! The shared PostgreSQL backend, for many CI runners and workspaces on one model. The
//! same tables as SQLite, prefixed `iom_`. Writes lock one row first (the revision row
//! for objects, the chain head for evidence), so concurrent writers from any host queue
//! instead of interleaving; each write is one transaction.
//!
//! The `postgres` client runs its own small runtime: call this backend from plain
//! threads, or through `spawn_blocking` inside an async runtime.

use std::sync::Mutex;
use std::time::Duration;

use iom_model::{Kind, Object};
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::{Client, Transaction};

use crate::ledger::{
    ChainError, ChainWalk, Evidence, GENESIS, Head, Ledger, NewEvidence, RecordRef, SignatureCheck,
    VerifiedChain, hash_with_body_json,
};
use crate::pg_tls::TlsOptions;
use crate::rows::{self, EVIDENCE_COLUMNS, EvidenceRow};
use crate::{ApplyClaim, Drift, Observation, Result, StoreError, Stored};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS iom_model_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT  NOT NULL
);
INSERT INTO iom_model_revision (id, revision) VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS iom_objects (
    kind     TEXT   NOT NULL,
    name     TEXT   NOT NULL,
    spec     TEXT   NOT NULL,
    revision BIGINT NOT NULL,
    PRIMARY KEY (kind, name)
);
-- Schema 3: the SHA-256 of each object's spec, written with it and checked at every read.
ALTER TABLE iom_objects ADD COLUMN IF NOT EXISTS digest TEXT;
UPDATE iom_objects SET digest = encode(sha256(convert_to(spec, 'UTF8')), 'hex') WHERE digest IS NULL;
CREATE TABLE IF NOT EXISTS iom_evidence (
    seq         BIGINT PRIMARY KEY,
    kind        TEXT   NOT NULL,
    decision_id TEXT   NOT NULL,
    recorded_at TEXT   NOT NULL,
    plan_sha256 TEXT,
    body        TEXT   NOT NULL,
    prev_hash   TEXT   NOT NULL,
    hash        TEXT   NOT NULL,
    signature   TEXT
);
CREATE INDEX IF NOT EXISTS iom_evidence_by_decision ON iom_evidence (decision_id);
CREATE INDEX IF NOT EXISTS iom_evidence_by_plan ON iom_evidence (plan_sha256, kind);
CREATE TABLE IF NOT EXISTS iom_observations (
    id          BIGSERIAL PRIMARY KEY,
    workspace   TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS iom_observations_by_workspace ON iom_observations (workspace, id);
CREATE TABLE IF NOT EXISTS iom_drift (
    workspace   TEXT PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS iom_apply_claims (
    decision_id TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    holder      TEXT NOT NULL,
    claimed_at  TEXT NOT NULL,
    state       TEXT NOT NULL
);
-- Secrets of this store, made once: the key of observations' attribute digests.
CREATE TABLE IF NOT EXISTS iom_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- seq 0 is the empty ledger: the row exists from the start so the first appends lock it too.
CREATE TABLE IF NOT EXISTS iom_evidence_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash TEXT    NOT NULL
);
";

/// The ledger is append-only as far as PostgreSQL can hold it: records and observations
/// cannot be changed, deleted or truncated, a record is only added on top of the head, and
/// the head only moves one record forward, onto the record just added. Triggers bind every
/// role, the tables' owner included (though an owner or superuser can drop or disable
/// them); the role plan-guard and the provider connect as should, besides, hold no UPDATE,
/// DELETE or TRUNCATE on those tables (docs: the writer role), and signed checkpoints
/// (`evidence checkpoint`) find what someone with the owner's rights did.
const APPEND_ONLY: &str = "
CREATE OR REPLACE FUNCTION iom_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the table % is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
CREATE OR REPLACE FUNCTION iom_evidence_on_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE head RECORD;
BEGIN
    SELECT seq, hash INTO head FROM iom_evidence_head WHERE id = 1;
    IF NEW.seq IS DISTINCT FROM head.seq + 1 OR NEW.prev_hash IS DISTINCT FROM head.hash THEN
        RAISE EXCEPTION 'the evidence ledger is append-only: a record is added only on top of the head';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION iom_evidence_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.seq IS DISTINCT FROM OLD.seq + 1
       OR NEW.hash IS DISTINCT FROM (SELECT hash FROM iom_evidence WHERE seq = NEW.seq) THEN
        RAISE EXCEPTION 'the evidence head only moves forward, onto the record just added';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER iom_evidence_no_change BEFORE UPDATE OR DELETE ON iom_evidence
    FOR EACH ROW EXECUTE FUNCTION iom_append_only();
CREATE OR REPLACE TRIGGER iom_evidence_no_truncate BEFORE TRUNCATE ON iom_evidence
    FOR EACH STATEMENT EXECUTE FUNCTION iom_append_only();
CREATE OR REPLACE TRIGGER iom_evidence_on_head BEFORE INSERT ON iom_evidence
    FOR EACH ROW EXECUTE FUNCTION iom_evidence_on_head();
CREATE OR REPLACE TRIGGER iom_evidence_head_forward BEFORE UPDATE ON iom_evidence_head
    FOR EACH ROW EXECUTE FUNCTION iom_evidence_head_forward();
CREATE OR REPLACE TRIGGER iom_evidence_head_no_delete BEFORE DELETE ON iom_evidence_head
    FOR EACH ROW EXECUTE FUNCTION iom_append_only();
CREATE OR REPLACE TRIGGER iom_evidence_head_no_truncate BEFORE TRUNCATE ON iom_evidence_head
    FOR EACH STATEMENT EXECUTE FUNCTION iom_append_only();
CREATE OR REPLACE TRIGGER iom_observations_no_change BEFORE UPDATE OR DELETE ON iom_observations
    FOR EACH ROW EXECUTE FUNCTION iom_append_only();
CREATE OR REPLACE TRIGGER iom_observations_no_truncate BEFORE TRUNCATE ON iom_observations
    FOR EACH STATEMENT EXECUTE FUNCTION iom_append_only();
";

/// The schema version this build creates, kept in `iom_schema` (2: `iom_apply_claims`, 3: object digests, 4: `iom_secrets`). A store already at it is
/// opened without DDL, so a role that owns nothing (the writer role) can use it.
const SCHEMA_VERSION: i64 = 4;

fn tls_err(url: &str, why: String) -> StoreError {
    StoreError::Tls {
        url: url.to_string(),
        why,
    }
}

/// How long connecting may take when neither the URL's `connect_timeout` nor
/// `$PGCONNECT_TIMEOUT` says (libpq waits for ever; a server that accepts and never
/// answers would hang every check).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The statement timeout sessions get unless the URL's `options` set one: a server that
/// stops answering a query fails it instead of holding the check.
const DEFAULT_STATEMENT_TIMEOUT: &str = "-c statement_timeout=60s";

/// Connects (TLS as the URL says) within the connect timeout: libpq's `connect_timeout`
/// covers the whole connection, startup and authentication included, where the client's
/// own covers only the socket's. A connection that misses it is abandoned: its thread
/// stays blocked on the silent socket until the server closes it or the process ends.
fn connect(conninfo: &str, url: &str) -> Result<Client> {
    let err = |e: postgres::Error| StoreError::Postgres {
        url: url.to_string(),
        error: e,
    };
    let (conninfo, tls) = TlsOptions::take_from(conninfo).map_err(|why| tls_err(url, why))?;
    let limit = connect_timeout(&conninfo).map_err(|why| StoreError::BadUrl {
        url: url.to_string(),
        why,
    })?;
    let mut config: postgres::Config = conninfo.parse().map_err(err)?;
    config.ssl_mode(tls.mode);
    let options = with_statement_timeout(config.get_options());
    config.options(&options);
    let connector = tls.connector().map_err(|why| tls_err(url, why))?;
    let Some(limit) = limit else {
        return config.connect(connector).map_err(err);
    };
    config.connect_timeout(limit);
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(config.connect(connector));
    });
    match receive.recv_timeout(limit) {
        Ok(connected) => connected.map_err(err),
        Err(_) => Err(StoreError::Timeout {
            url: url.to_string(),
            secs: limit.as_secs(),
        }),
    }
}

/// A client error as one line a user can act on: the server's own message (and its detail
/// and hint) when the server refused, else the client's text and its causes.
pub(crate) fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut text = db.message().to_string();
        for (label, extra) in [("detail", db.detail()), ("hint", db.hint())] {
            if let Some(extra) = extra {
                text.push_str(&format!(" ({label}: {extra})"));
            }
        }
        return text;
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

/// The session options the URL gave, with [`DEFAULT_STATEMENT_TIMEOUT`] added unless
/// they set a statement timeout of their own.
fn with_statement_timeout(given: Option<&str>) -> String {
    match given {
        Some(given) if given.contains("statement_timeout") => given.to_string(),
        Some(given) if !given.trim().is_empty() => format!("{given} {DEFAULT_STATEMENT_TIMEOUT}"),
        _ => DEFAULT_STATEMENT_TIMEOUT.to_string(),
    }
}

/// The connect timeout with libpq's meaning: the URL's `connect_timeout`, else
/// `$PGCONNECT_TIMEOUT`, in seconds; zero or less waits for ever, 1 means 2 (libpq's
/// minimum). Neither given: [`DEFAULT_CONNECT_TIMEOUT`].
fn connect_timeout(conninfo: &str) -> std::result::Result<Option<Duration>, String> {
    let given = conninfo
        .split_once('?')
        .into_iter()
        .flat_map(|(_, query)| query.split('&'))
        .find_map(|pair| pair.strip_prefix("connect_timeout="))
        .map(str::to_string)
        .or_else(|| std::env::var("PGCONNECT_TIMEOUT").ok());
    let Some(given) = given else {
        return Ok(Some(DEFAULT_CONNECT_TIMEOUT));
    };
    let secs: i64 = given
        .trim()
        .parse()
        .map_err(|_| format!("connect_timeout must be a whole number of seconds, not {given:?}"))?;
    Ok(match secs {
        ..=0 => None,
        1 => Some(Duration::from_secs(2)),
        n => Some(Duration::from_secs(n as u64)),
    })
}

/// Serialises schema creation across processes (an arbitrary, fixed advisory lock key).
const SCHEMA_LOCK: i64 = 0x10_4d5f_5343;

pub(crate) struct PgStore {
    url: String,
    client: Mutex<Client>,
}

impl PgStore {
    /// Opens an existing store for reading only: no schema is created or upgraded, so a
    /// role that may only read, or a read-only server, serves the read-only commands.
    pub(crate) fn open_read_only(conninfo: &str, url: &str) -> Result<PgStore> {
        let err = |e: postgres::Error| StoreError::Postgres {
            url: url.to_string(),
            error: e,
        };
        let mut client = connect(conninfo, url)?;
        // Two statements: PostgreSQL resolves every table a statement names before it
        // runs, so a CASE around a missing iom_schema still fails.
        let versioned: bool = client
            .query_one("SELECT to_regclass('iom_schema') IS NOT NULL", &[])
            .map_err(err)?
            .get(0);
        let found: i64 = if versioned {
            client
                .query_one("SELECT coalesce(max(version), 0) FROM iom_schema", &[])
                .map_err(err)?
                .get(0)
        } else {
            0
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                url: url.to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(PgStore {
            url: url.to_string(),
            client: Mutex::new(client),
        })
    }

    pub(crate) fn open(conninfo: &str, url: &str) -> Result<PgStore> {
        let err = |e: postgres::Error| StoreError::Postgres {
            url: url.to_string(),
            error: e,
        };
        let mut client = connect(conninfo, url)?;
        let mut tx = client.transaction().map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .map_err(err)?;
        let versioned: bool = tx
            .query_one("SELECT to_regclass('iom_schema') IS NOT NULL", &[])
            .map_err(err)?
            .get(0);
        let found: i64 = if versioned {
            tx.query_one("SELECT coalesce(max(version), 0) FROM iom_schema", &[])
                .map_err(err)?
                .get(0)
        } else {
            0
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                url: url.to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            tx.batch_execute(SCHEMA).map_err(err)?;
            tx.execute(
                "INSERT INTO iom_evidence_head (id, seq, hash) VALUES (1, 0, $1) ON CONFLICT DO NOTHING",
                &[&GENESIS],
            )
            .map_err(err)?;
            tx.batch_execute(APPEND_ONLY).map_err(err)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS iom_schema (version BIGINT NOT NULL);
                 DELETE FROM iom_schema;",
            )
            .map_err(err)?;
            tx.execute(
                "INSERT INTO iom_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(PgStore {
            url: url.to_string(),
            client: Mutex::new(client),
        })
    }

    fn err(&self, error: postgres::Error) -> StoreError {
        StoreError::Postgres {
            url: self.url.clone(),
            error,
        }
    }

    fn client(&self) -> std::sync::MutexGuard<'_, Client> {
        // A transaction a panic left open is rolled back when it is dropped.
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn revision(&self) -> Result<u64> {
        let row = self
            .client()
            .query_one("SELECT revision FROM iom_model_revision WHERE id = 1", &[])
            .map_err(|e| self.err(e))?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    fn bump(&self, tx: &mut Transaction<'_>) -> Result<i64> {
        let row = tx
            .query_one(
                "UPDATE iom_model_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision",
                &[],
            )
            .map_err(|e| self.err(e))?;
        Ok(row.get(0))
    }

    pub(crate) fn write(&self, object: &Object, replace: bool) -> Result<u64> {
        let kind = object.kind().resource_type();
        let spec = object.to_json().to_string();
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "SELECT revision FROM iom_model_revision WHERE id = 1 FOR UPDATE",
            &[],
        )
        .map_err(|e| self.err(e))?;
        if !replace {
            let exists = tx
                .query_opt(
                    "SELECT 1 FROM iom_objects WHERE kind = $1 AND name = $2",
                    &[&kind, &object.key()],
                )
                .map_err(|e| self.err(e))?
                .is_some();
            if exists {
                return Err(StoreError::AlreadyExists {
                    url: self.url.clone(),
                    kind,
                    name: object.key(),
                });
            }
        }
        let revision = self.bump(&mut tx)?;
        tx.execute(
            "INSERT INTO iom_objects (kind, name, spec, revision, digest) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, name) DO UPDATE SET spec = excluded.spec, revision = excluded.revision, digest = excluded.digest",
            &[&kind, &object.key(), &spec, &revision, &rows::object_digest(&spec)],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(revision as u64)
    }

    pub(crate) fn delete(&self, kind: Kind, name: &str) -> Result<Option<u64>> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "SELECT revision FROM iom_model_revision WHERE id = 1 FOR UPDATE",
            &[],
        )
        .map_err(|e| self.err(e))?;
        let removed = tx
            .execute(
                "DELETE FROM iom_objects WHERE kind = $1 AND name = $2",
                &[&kind.resource_type(), &name],
            )
            .map_err(|e| self.err(e))?;
        if removed == 0 {
            return Ok(None);
        }
        let revision = self.bump(&mut tx)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Some(revision as u64))
    }

    pub(crate) fn get(&self, kind: Kind, name: &str) -> Result<Option<Stored>> {
        let row = self
            .client()
            .query_opt(
                "SELECT spec, revision, digest FROM iom_objects WHERE kind = $1 AND name = $2",
                &[&kind.resource_type(), &name],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| {
            rows::object(
                &self.url,
                kind.resource_type(),
                name,
                r.get(0),
                r.get(1),
                r.get(2),
            )
        })
        .transpose()
    }

    pub(crate) fn snapshot(&self) -> Result<(Vec<Stored>, u64)> {
        let mut client = self.client();
        // One snapshot for the revision and the objects.
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| self.err(e))?;
        let revision: i64 = tx
            .query_one("SELECT revision FROM iom_model_revision WHERE id = 1", &[])
            .map_err(|e| self.err(e))?
            .get(0);
        let found = tx
            .query(
                "SELECT kind, name, spec, revision, digest FROM iom_objects ORDER BY kind, name",
                &[],
            )
            .map_err(|e| self.err(e))?;
        let objects = found
            .iter()
            .map(|r| rows::object(&self.url, r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect::<Result<Vec<_>>>()?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok((objects, revision as u64))
    }

    pub(crate) fn append_evidence(
        &self,
        new: &NewEvidence,
        sign: Option<&dyn Fn(&str) -> String>,
    ) -> Result<Evidence> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let head = tx
            .query_one(
                "SELECT seq, hash FROM iom_evidence_head WHERE id = 1 FOR UPDATE",
                &[],
            )
            .map_err(|e| self.err(e))?;
        let seq = head.get::<_, i64>(0) as u64 + 1;
        let prev_hash: String = head.get(1);
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
            &format!("INSERT INTO iom_evidence ({EVIDENCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            &[
                &(seq as i64),
                &new.kind,
                &new.decision_id,
                &new.recorded_at,
                &new.plan_sha256,
                &body_json,
                &prev_hash,
                &hash,
                &signature,
            ],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE iom_evidence_head SET seq = $1, hash = $2 WHERE id = 1",
            &[&(seq as i64), &hash],
        )
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

    /// Records matching `filter` (with `$1` for `arg` when given), oldest first, and the
    /// head, in one snapshot.
    /// The whole ledger checked as it is read, oldest first (see [`ChainWalk`]): the rows
    /// stream from the server, so memory does not grow with the ledger.
    pub(crate) fn verify_evidence(
        &self,
        verify_signature: Option<SignatureCheck>,
        keep: &[u64],
    ) -> Result<std::result::Result<VerifiedChain, ChainError>> {
        let mut client = self.client();
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| self.err(e))?;
        let head = read_head(&mut tx).map_err(|e| self.err(e))?;
        let mut walk = ChainWalk::new(verify_signature, keep);
        let sql = format!("SELECT {EVIDENCE_COLUMNS} FROM iom_evidence ORDER BY seq");
        let mut rows = tx
            .query_raw(&sql, std::iter::empty::<&str>())
            .map_err(|e| self.err(e))?;
        let mut outcome = None;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let record = RecordRef {
                seq: row.try_get::<_, i64>(0).map_err(|e| self.err(e))? as u64,
                kind: row.try_get(1).map_err(|e| self.err(e))?,
                decision_id: row.try_get(2).map_err(|e| self.err(e))?,
                recorded_at: row.try_get(3).map_err(|e| self.err(e))?,
                plan_sha256: row.try_get(4).map_err(|e| self.err(e))?,
                body_json: row.try_get(5).map_err(|e| self.err(e))?,
                prev_hash: row.try_get(6).map_err(|e| self.err(e))?,
                hash: row.try_get(7).map_err(|e| self.err(e))?,
                signature: row.try_get(8).map_err(|e| self.err(e))?,
            };
            if let Err(bad) = walk.step(&record) {
                outcome = Some(Err(bad));
                break;
            }
        }
        drop(rows);
        tx.commit().map_err(|e| self.err(e))?;
        Ok(outcome.unwrap_or_else(|| walk.finish(head.as_ref())))
    }

    pub(crate) fn evidence_where(&self, filter: &str, arg: Option<&str>) -> Result<Ledger> {
        let mut client = self.client();
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| self.err(e))?;
        let head = read_head(&mut tx).map_err(|e| self.err(e))?;
        let sql =
            format!("SELECT {EVIDENCE_COLUMNS} FROM iom_evidence WHERE {filter} ORDER BY seq");
        let found = match arg {
            Some(a) => tx.query(&sql, &[&a]),
            None => tx.query(&sql, &[]),
        }
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        let records = found
            .into_iter()
            .map(|r| {
                EvidenceRow {
                    seq: r.get(0),
                    kind: r.get(1),
                    decision_id: r.get(2),
                    recorded_at: r.get(3),
                    plan_sha256: r.get(4),
                    body: r.get(5),
                    prev_hash: r.get(6),
                    hash: r.get(7),
                    signature: r.get(8),
                }
                .into_evidence()
            })
            .collect();
        Ok(Ledger { records, head })
    }

    pub(crate) fn secret(&self, name: &str, fresh: &str) -> Result<String> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO iom_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &fresh],
        )
        .map_err(|e| self.err(e))?;
        let value: String = tx
            .query_one("SELECT value FROM iom_secrets WHERE name = $1", &[&name])
            .map_err(|e| self.err(e))?
            .get(0);
        tx.commit().map_err(|e| self.err(e))?;
        Ok(value)
    }

    pub(crate) fn record_observation(
        &self,
        workspace: &str,
        at: &str,
        body: &serde_json::Value,
    ) -> Result<u64> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO iom_observations (workspace, observed_at, body) VALUES ($1, $2, $3) RETURNING id",
                &[&workspace, &at, &body.to_string()],
            )
            .map_err(|e| self.err(e))?
            .get(0);
        tx.execute("DELETE FROM iom_drift WHERE workspace = $1", &[&workspace])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id as u64)
    }

    pub(crate) fn observations(&self, workspace: &str) -> Result<Vec<Observation>> {
        self.query_observations(
            "SELECT id, observed_at, body FROM iom_observations WHERE workspace = $1 ORDER BY id",
            workspace,
        )
    }

    pub(crate) fn latest_observation(&self, workspace: &str) -> Result<Option<Observation>> {
        Ok(self
            .query_observations(
                "SELECT id, observed_at, body FROM iom_observations WHERE workspace = $1 \
                 ORDER BY id DESC LIMIT 1",
                workspace,
            )?
            .pop())
    }

    fn query_observations(&self, sql: &str, workspace: &str) -> Result<Vec<Observation>> {
        let rows = self
            .client()
            .query(sql, &[&workspace])
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                rows::observation(
                    &self.url,
                    workspace,
                    r.get(0),
                    r.get(1),
                    r.get::<_, &str>(2),
                )
            })
            .collect()
    }

    pub(crate) fn observed_workspaces(&self) -> Result<Vec<String>> {
        let rows = self
            .client()
            .query(
                "SELECT DISTINCT workspace FROM iom_observations ORDER BY workspace",
                &[],
            )
            .map_err(|e| self.err(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(crate) fn set_drift(
        &self,
        workspace: &str,
        at: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<()> {
        let mut client = self.client();
        match body {
            Some(b) => client.execute(
                "INSERT INTO iom_drift (workspace, recorded_at, body) VALUES ($1, $2, $3)
                 ON CONFLICT (workspace) DO UPDATE SET recorded_at = excluded.recorded_at, body = excluded.body",
                &[&workspace, &at, &b.to_string()],
            ),
            None => client.execute("DELETE FROM iom_drift WHERE workspace = $1", &[&workspace]),
        }
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// One statement: the upsert locks the decision's row, so concurrent claimants queue
    /// and each sees the state the one before it left.
    pub(crate) fn claim_apply(&self, claim: &ApplyClaim) -> Result<Option<ApplyClaim>> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let granted = tx
            .query_opt(
                "INSERT INTO iom_apply_claims (decision_id, run_id, holder, claimed_at, state)
                 VALUES ($1, $2, $3, $4, 'running')
                 ON CONFLICT (decision_id) DO UPDATE SET run_id = excluded.run_id,
                     holder = excluded.holder, claimed_at = excluded.claimed_at, state = 'running'
                 WHERE iom_apply_claims.state = 'failed'
                 RETURNING run_id",
                &[
                    &claim.decision_id,
                    &claim.run_id,
                    &claim.holder,
                    &claim.claimed_at,
                ],
            )
            .map_err(|e| self.err(e))?;
        let held = match granted {
            Some(_) => None,
            None => {
                let r = tx
                    .query_one(
                        "SELECT run_id, holder, claimed_at, state FROM iom_apply_claims WHERE decision_id = $1",
                        &[&claim.decision_id],
                    )
                    .map_err(|e| self.err(e))?;
                Some(ApplyClaim {
                    decision_id: claim.decision_id.clone(),
                    run_id: r.get(0),
                    holder: r.get(1),
                    claimed_at: r.get(2),
                    state: r.get(3),
                })
            }
        };
        tx.commit().map_err(|e| self.err(e))?;
        Ok(held)
    }

    pub(crate) fn finish_apply(&self, decision_id: &str, run_id: &str, state: &str) -> Result<()> {
        self.client()
            .execute(
                "UPDATE iom_apply_claims SET state = $3 WHERE decision_id = $1 AND run_id = $2",
                &[&decision_id, &run_id, &state],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub(crate) fn drift(&self, workspace: &str) -> Result<Option<Drift>> {
        let row = self
            .client()
            .query_opt(
                "SELECT recorded_at, body FROM iom_drift WHERE workspace = $1",
                &[&workspace],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| rows::drift(&self.url, workspace, r.get(0), r.get::<_, &str>(1)))
            .transpose()
    }
}

fn read_head(tx: &mut Transaction) -> std::result::Result<Option<Head>, postgres::Error> {
    let head = tx
        .query_opt("SELECT seq, hash FROM iom_evidence_head WHERE id = 1", &[])?
        .map(|r| Head {
            seq: r.get::<_, i64>(0) as u64,
            hash: r.get(1),
        });
    // seq 0 is the empty ledger's head, not a record's.
    Ok(head.filter(|h| h.seq > 0 || h.hash != GENESIS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_get_the_default_statement_timeout_unless_the_url_sets_one() {
        assert_eq!(with_statement_timeout(None), DEFAULT_STATEMENT_TIMEOUT);
        assert_eq!(with_statement_timeout(Some(" ")), DEFAULT_STATEMENT_TIMEOUT);
        assert_eq!(
            with_statement_timeout(Some("-c search_path=iom")),
            format!("-c search_path=iom {DEFAULT_STATEMENT_TIMEOUT}")
        );
        assert_eq!(
            with_statement_timeout(Some("-c statement_timeout=5min")),
            "-c statement_timeout=5min"
        );
    }
}
