//! The IOM model store. It owns where the canonical model lives between runs: the
//! governance objects the provider writes and plan-guard reads, each stamped with the
//! model revision that last wrote it, and the revision itself, which increases by one
//! on every write. A write is one transaction, so a crash leaves the previous revision
//! whole. It also holds the evidence ledger: append-only, hash-chained records of what
//! plan-guard decided and did ([`ledger`]), the observations of what each workspace has
//! built, and unreconciled drift. The URL forms are stable (docs/store.md): `sqlite://PATH`
//! embedded, the default being `sqlite://.iom/model.db` unless `$IOM_STORE` says otherwise;
//! `postgres://…` with the default-on `postgres` feature.

pub mod ledger;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
mod pg_tls;
mod rows;
mod sqlite;
mod url;

use iom_model::{Kind, ModelSpec, Object};

pub use ledger::{
    ChainError, Evidence, Head, Ledger, NewEvidence, SignatureCheck, VerifiedChain, verify_chain,
};
pub use url::{DEFAULT_STORE, StoreUrl};

/// What a workspace had built at one moment (`plan-guard observe`), kept with its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The observation's number in the store.
    pub id: u64,
    /// The workspace observed.
    pub workspace: String,
    /// RFC 3339, as the recorder gave it.
    pub observed_at: String,
    /// Resources (address, type, module, dependencies, attribute digest) and output names.
    pub body: serde_json::Value,
}

/// Unreconciled drift of a workspace (`plan-guard reconcile`), until a new observation
/// or an accepted reconciliation settles it.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// RFC 3339, as the recorder gave it.
    pub recorded_at: String,
    /// What the recorder stored: plan-guard writes `{"addresses": [...]}`.
    pub body: serde_json::Value,
}

/// Who may run the apply of a decision: claimed in the store before the command starts,
/// so of concurrent `apply` runs of one decision only one runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyClaim {
    /// The decision whose apply is claimed.
    pub decision_id: String,
    /// The run that holds the claim.
    pub run_id: String,
    /// Where that run is (process and host), for the message of the runs refused.
    pub holder: String,
    /// RFC 3339, as the claimant gave it.
    pub claimed_at: String,
    /// `running`, `done`, or `failed` (which a new run may claim again).
    pub state: String,
}

/// An object as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The object.
    pub object: Object,
    /// The model revision of the write that last changed this object.
    pub revision: u64,
}

/// Why a store call failed. Every message names the store (its URL without credentials);
/// callers branch on the variant (the provider adopts an object on [`StoreError::AlreadyExists`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A URL that names no store this build opens.
    #[error("invalid store URL {url:?}: {why}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// SQLite refused a read or write.
    #[error("store {url}: {source}")]
    Sqlite {
        /// The store.
        url: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// PostgreSQL refused a read or write, or the connection.
    #[cfg(feature = "postgres")]
    #[error("store {url}: {}", pg::describe(error))]
    Postgres {
        /// The store.
        url: String,
        /// The client's error. Not the error's `source`: its text is already in this
        /// error's own, which says what the server said, where the client's own text for a
        /// server's refusal is a bare "db error".
        error: postgres::Error,
    },
    /// The TLS settings of a PostgreSQL URL cannot be used.
    #[error("store {url}: TLS: {why}")]
    Tls {
        /// The store.
        url: String,
        /// What is wrong with them.
        why: String,
    },
    /// The PostgreSQL server did not answer within the connect timeout.
    #[cfg(feature = "postgres")]
    #[error(
        "store {url}: the server did not answer within {secs} s while connecting, so nothing was read or written (connect_timeout in the URL, or $PGCONNECT_TIMEOUT, sets the limit; default {default} s)",
        default = pg::DEFAULT_CONNECT_TIMEOUT.as_secs()
    )]
    Timeout {
        /// The store.
        url: String,
        /// The timeout, in seconds.
        secs: u64,
    },
    /// The directory of a new SQLite store cannot be created.
    #[error("store {url}: cannot create {dir}: {source}")]
    CreateDir {
        /// The store.
        url: String,
        /// The directory.
        dir: String,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// A store opened for reading only is not there ([`Store::open_existing`]).
    #[error(
        "store {url}: {path} does not exist (this command only reads a store and never creates one: check --store or $IOM_STORE)"
    )]
    Missing {
        /// The store.
        url: String,
        /// The file that is not there.
        path: String,
    },
    /// [`Store::create`] of an object whose kind and name the store holds already.
    #[error("store {url}: {kind} {name:?} already exists (import it instead)")]
    AlreadyExists {
        /// The store.
        url: String,
        /// The object's resource type (`iom_profile`, ...).
        kind: &'static str,
        /// The object's key.
        name: String,
    },
    /// A stored object that no longer reads, or whose digest does not match.
    #[error("store {url}: {kind} {name:?} holds an unreadable object: {why}")]
    Corrupt {
        /// The store.
        url: String,
        /// The object's resource type.
        kind: &'static str,
        /// The object's key.
        name: String,
        /// What does not read.
        why: String,
    },
    /// The store's schema is newer than this build reads.
    #[error(
        "store {url}: written by a newer IOM (schema {found}, this build reads up to {supported})"
    )]
    TooNew {
        /// The store.
        url: String,
        /// The schema version found.
        found: i64,
        /// The newest schema version this build reads.
        supported: i64,
    },
}

/// A store call's result.
pub type Result<T> = std::result::Result<T, StoreError>;

/// A handle on one store. Cheap to share between threads: every call takes the
/// connection for the length of one transaction.
pub struct Store {
    url: StoreUrl,
    backend: Backend,
}

enum Backend {
    Sqlite(sqlite::SqliteStore),
    #[cfg(feature = "postgres")]
    Postgres(pg::PgStore),
}

/// A PostgreSQL URL given to a build without the `postgres` feature.
#[cfg(not(feature = "postgres"))]
fn without_postgres(url: &StoreUrl) -> StoreError {
    StoreError::BadUrl {
        url: url.to_string(),
        why: "this build has no PostgreSQL support (built without the `postgres` feature)".into(),
    }
}

/// Calls the same method on whichever backend the store has.
macro_rules! each {
    ($store:expr, $b:ident => $call:expr) => {
        match &$store.backend {
            Backend::Sqlite($b) => $call,
            #[cfg(feature = "postgres")]
            Backend::Postgres($b) => $call,
        }
    };
}

impl Store {
    /// Opens (creating when needed) the store a URL names.
    pub fn open(url: &str) -> Result<Store> {
        let url = StoreUrl::parse(url)?;
        let backend = match &url {
            StoreUrl::Sqlite(path) => {
                Backend::Sqlite(sqlite::SqliteStore::open(path, &url.to_string())?)
            }
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(conninfo) => {
                Backend::Postgres(pg::PgStore::open(conninfo, &url.to_string())?)
            }
            #[cfg(not(feature = "postgres"))]
            StoreUrl::Postgres(_) => return Err(without_postgres(&url)),
        };
        Ok(Store { url, backend })
    }

    /// The store `--store`/the provider's `store` names, else `$IOM_STORE`, else the default.
    pub fn open_configured(explicit: Option<&str>) -> Result<Store> {
        Store::open(&StoreUrl::configured(explicit))
    }

    /// Opens a store that must already exist, for commands that only read: a SQLite file
    /// that is not there is [`StoreError::Missing`], never created (a mistyped path would
    /// otherwise read as an empty ledger).
    ///
    /// The store is opened for reading only: no schema is created or upgraded and no
    /// write lock is taken, so a read-only SQLite file (or directory) and a PostgreSQL
    /// role or server that only reads serve these commands. Writes through it fail.
    pub fn open_existing(url: &str) -> Result<Store> {
        let parsed = StoreUrl::parse(url)?;
        let shown = parsed.to_string();
        let backend = match &parsed {
            StoreUrl::Sqlite(path) if !path.exists() => {
                return Err(StoreError::Missing {
                    url: shown,
                    path: path.display().to_string(),
                });
            }
            StoreUrl::Sqlite(path) => {
                Backend::Sqlite(sqlite::SqliteStore::open_read_only(path, &shown)?)
            }
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(conninfo) => {
                Backend::Postgres(pg::PgStore::open_read_only(conninfo, &shown)?)
            }
            #[cfg(not(feature = "postgres"))]
            StoreUrl::Postgres(_) => return Err(without_postgres(&parsed)),
        };
        Ok(Store {
            url: parsed,
            backend,
        })
    }

    /// [`Store::open_existing`] on the store `--store` names, else `$IOM_STORE`, else the default.
    pub fn open_configured_existing(explicit: Option<&str>) -> Result<Store> {
        Store::open_existing(&StoreUrl::configured(explicit))
    }

    /// The URL the store was opened with (shown without credentials).
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// The current model revision: 0 for a store nothing has been written to.
    pub fn revision(&self) -> Result<u64> {
        each!(self, b => b.revision())
    }

    /// Writes a new object; fails when one of the same kind and name exists.
    /// Returns the new model revision, which is also the object's.
    pub fn create(&self, object: &Object) -> Result<u64> {
        each!(self, b => b.write(object, false))
    }

    /// Writes an object whether or not it exists. Returns the new model revision.
    pub fn put(&self, object: &Object) -> Result<u64> {
        each!(self, b => b.write(object, true))
    }

    /// Removes an object by its key ([`Object::key`]: the name, `name@version` for a
    /// blueprint). Returns the new model revision, or `None` when it was not there
    /// (and the revision did not move).
    pub fn delete(&self, kind: Kind, name: &str) -> Result<Option<u64>> {
        each!(self, b => b.delete(kind, name))
    }

    /// An object by its key ([`Object::key`]).
    pub fn get(&self, kind: Kind, name: &str) -> Result<Option<Stored>> {
        each!(self, b => b.get(kind, name))
    }

    /// Every object, ordered by kind then name.
    pub fn list(&self) -> Result<Vec<Stored>> {
        Ok(each!(self, b => b.snapshot())?.0)
    }

    /// The whole model as one consistent snapshot, with the revision it was read at.
    pub fn load_model(&self) -> Result<(ModelSpec, u64)> {
        let (objects, revision) = each!(self, b => b.snapshot())?;
        let mut spec = ModelSpec::default();
        for stored in objects {
            spec.push(stored.object);
        }
        Ok((spec, revision))
    }

    /// Appends a record to the evidence ledger; `sign` (given the record's hash) returns
    /// its signature when the writer signs.
    pub fn append_evidence(
        &self,
        new: &NewEvidence,
        sign: Option<&dyn Fn(&str) -> String>,
    ) -> Result<Evidence> {
        each!(self, b => b.append_evidence(new, sign))
    }

    /// Verifies the whole ledger as it streams from the store, without holding it: the
    /// same checks as [`Ledger::verify`], in the memory of one record. `keep` names
    /// records whose hash the answer should carry (a checkpoint's). The outer error is the
    /// store failing; the inner one, the first record where the chain breaks.
    pub fn verify_evidence(
        &self,
        verify_signature: Option<SignatureCheck>,
        keep: &[u64],
    ) -> Result<std::result::Result<VerifiedChain, ChainError>> {
        each!(self, b => b.verify_evidence(verify_signature, keep))
    }

    /// The whole ledger, oldest first, with its head (last sequence number and hash).
    pub fn evidence(&self) -> Result<Ledger> {
        match &self.backend {
            Backend::Sqlite(b) => b.evidence_where("1 = 1", &[]),
            #[cfg(feature = "postgres")]
            Backend::Postgres(b) => b.evidence_where("TRUE", None),
        }
    }

    /// The records of one decision, oldest first.
    pub fn evidence_for(&self, decision_id: &str) -> Result<Vec<Evidence>> {
        let ledger = match &self.backend {
            Backend::Sqlite(b) => b.evidence_where("decision_id = ?1", &[&decision_id])?,
            #[cfg(feature = "postgres")]
            Backend::Postgres(b) => b.evidence_where("decision_id = $1", Some(decision_id))?,
        };
        Ok(ledger.records)
    }

    /// The newest `check` record of a plan, by its SHA-256.
    pub fn latest_check_for_plan(&self, plan_sha256: &str) -> Result<Option<Evidence>> {
        let ledger = match &self.backend {
            Backend::Sqlite(b) => {
                b.evidence_where("plan_sha256 = ?1 AND kind = 'check'", &[&plan_sha256])?
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(b) => {
                b.evidence_where("plan_sha256 = $1 AND kind = 'check'", Some(plan_sha256))?
            }
        };
        Ok(ledger.records.into_iter().last())
    }

    /// Claims the apply of `claim.decision_id` for `claim.run_id`, atomically: granted
    /// (`None`) when no run claimed it or the last one failed; otherwise the claim that
    /// holds it, running or done.
    pub fn claim_apply(&self, claim: &ApplyClaim) -> Result<Option<ApplyClaim>> {
        each!(self, b => b.claim_apply(claim))
    }

    /// Ends run `run_id`'s claim on `decision_id` as `done` or `failed`.
    pub fn finish_apply(&self, decision_id: &str, run_id: &str, state: &str) -> Result<()> {
        each!(self, b => b.finish_apply(decision_id, run_id, state))
    }

    /// The store's secret `name`, made from `fresh` the first time it is asked for (by
    /// whichever process asks first; every later caller gets that one).
    pub fn secret(&self, name: &str, fresh: &str) -> Result<String> {
        each!(self, b => b.secret(name, fresh))
    }

    /// Records a new observation of `workspace`; drift recorded before it is settled.
    pub fn record_observation(
        &self,
        workspace: &str,
        observed_at: &str,
        body: &serde_json::Value,
    ) -> Result<u64> {
        each!(self, b => b.record_observation(workspace, observed_at, body))
    }

    /// Every observation of `workspace`, oldest first.
    pub fn observations(&self, workspace: &str) -> Result<Vec<Observation>> {
        each!(self, b => b.observations(workspace))
    }

    /// The newest observation of `workspace`: what it has built now, as far as the store knows.
    pub fn latest_observation(&self, workspace: &str) -> Result<Option<Observation>> {
        each!(self, b => b.latest_observation(workspace))
    }

    /// Every workspace that has been observed, sorted.
    pub fn observed_workspaces(&self) -> Result<Vec<String>> {
        each!(self, b => b.observed_workspaces())
    }

    /// Records (or, with `None`, clears) unreconciled drift on a workspace.
    pub fn set_drift(
        &self,
        workspace: &str,
        recorded_at: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<()> {
        each!(self, b => b.set_drift(workspace, recorded_at, body))
    }

    /// The unreconciled drift recorded for `workspace`, if any.
    pub fn drift(&self, workspace: &str) -> Result<Option<serde_json::Value>> {
        Ok(each!(self, b => b.drift(workspace))?.map(|d| d.body))
    }

    /// The unreconciled drift recorded for `workspace`, with when it was recorded.
    pub fn drift_record(&self, workspace: &str) -> Result<Option<Drift>> {
        each!(self, b => b.drift(workspace))
    }
}
