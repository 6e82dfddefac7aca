//! The model store on both backends: objects, revisions, reads of a store that must exist.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use iom_model::{Element, Kind, Notification, Object, Profile};
mod common;

use common::backends;
use iom_store::{Store, StoreError};

fn profile(name: &str, delete: &str) -> Object {
    Object::Profile(Profile {
        name: name.into(),
        actions: [("delete".to_string(), delete.to_string())].into(),
        ..Default::default()
    })
}

#[test]
fn every_write_moves_the_revision_and_stamps_the_object() {
    for db in backends("rev") {
        let url = db.url();
        let store = Store::open(&url).unwrap();
        assert_eq!(store.revision().unwrap(), 0);

        assert_eq!(store.create(&profile("prod-safe", "block")).unwrap(), 1);
        let element = Object::Element(Element {
            name: "core".into(),
            kind: "network".into(),
            ..Default::default()
        });
        assert_eq!(store.create(&element).unwrap(), 2);
        assert_eq!(store.put(&profile("prod-safe", "escalate")).unwrap(), 3);

        let got = store.get(Kind::Profile, "prod-safe").unwrap().unwrap();
        assert_eq!(got.revision, 3);
        assert_eq!(got.object, profile("prod-safe", "escalate"));
        assert_eq!(
            store.get(Kind::Element, "core").unwrap().unwrap().revision,
            2
        );
        assert!(store.get(Kind::Intent, "core").unwrap().is_none());

        assert_eq!(store.delete(Kind::Element, "core").unwrap(), Some(4));
        assert_eq!(store.delete(Kind::Element, "core").unwrap(), None);
        assert_eq!(
            store.revision().unwrap(),
            4,
            "a no-op delete leaves the revision"
        );

        // A second handle (another process, in effect) sees the same model.
        let again = Store::open(&url).unwrap();
        let (spec, revision) = again.load_model().unwrap();
        assert_eq!(revision, 4);
        assert_eq!(spec.profiles.len(), 1);
        assert!(spec.elements.is_empty());
    }
}

/// A notification is stored like any object: by name, stamped, read back whole, and
/// loaded into the model; both forms of its URL survive the round trip.
#[test]
fn notifications_are_stored_and_loaded() {
    for db in backends("notify") {
        let url = db.url();
        let store = Store::open(&url).unwrap();
        let literal = Object::Notification(Notification {
            name: "pager".into(),
            url: Some("https://hooks.example/services/T0/B0/secret".into()),
            on: vec!["block".into()],
            ..Default::default()
        });
        let from_env = Object::Notification(Notification {
            name: "platform-oncall".into(),
            url_env: Some("IOM_NOTIFY_ONCALL".into()),
            on: vec!["escalate".into(), "drift".into()],
            workspaces: vec!["payments-*".into()],
            ..Default::default()
        });
        assert_eq!(store.create(&literal).unwrap(), 1);
        assert_eq!(store.create(&from_env).unwrap(), 2);
        assert!(store.create(&literal).is_err(), "names are unique per kind");
        let got = store.get(Kind::Notification, "pager").unwrap().unwrap();
        assert_eq!((got.revision, &got.object), (1, &literal));
        let (spec, revision) = Store::open(&url).unwrap().load_model().unwrap();
        assert_eq!(revision, 2);
        let names: Vec<&str> = spec.notifications.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["pager", "platform-oncall"]);
        assert_eq!(store.delete(Kind::Notification, "pager").unwrap(), Some(3));
    }
}

#[test]
fn create_refuses_an_existing_name() {
    for db in backends("exists") {
        let url = db.url();
        let store = Store::open(&url).unwrap();
        store.create(&profile("p", "block")).unwrap();
        let err = store.create(&profile("p", "allow")).unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
        assert!(err.to_string().contains("iom_profile \"p\""), "{err}");
        assert_eq!(
            store.revision().unwrap(),
            1,
            "a refused write leaves the revision"
        );
        let kept = store.get(Kind::Profile, "p").unwrap().unwrap().object;
        assert_eq!(kept, profile("p", "block"));
    }
}

#[test]
fn parallel_writers_never_share_a_revision() {
    for db in backends("parallel") {
        let url = db.url();
        Store::open(&url).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let url = url.clone();
                std::thread::spawn(move || {
                    // A handle per thread: separate connections, as separate processes have.
                    let store = Store::open(&url).unwrap();
                    (0..25)
                        .map(|i| store.put(&profile(&format!("p{t}-{i}"), "block")).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut revisions: Vec<u64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        revisions.sort();
        assert_eq!(revisions, (1..=200).collect::<Vec<_>>());
        let store = Store::open(&url).unwrap();
        assert_eq!(store.list().unwrap().len(), 200, "{}", db.label());
    }
}

#[test]
fn an_unreadable_row_is_an_error_naming_the_object() {
    for db in backends("corrupt") {
        let url = db.url();
        let store = Store::open(&url).unwrap();
        store.create(&profile("p", "block")).unwrap();
        drop(store);
        db.sql(&format!(
            "UPDATE {} SET spec = '{{\"nme\": 1}}'",
            db.table("objects")
        ));
        let err = Store::open(&url)
            .unwrap()
            .load_model()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("iom_profile \"p\"") && err.contains("unreadable"),
            "{err}"
        );
    }
}

#[test]
fn an_unreadable_observation_is_an_error_not_an_empty_one() {
    for db in backends("corrupt-observation") {
        let url = db.url();
        let store = Store::open(&url).unwrap();
        store
            .record_observation("w", "t", &serde_json::json!({ "resources": [] }))
            .unwrap();
        db.sql(&format!(
            "UPDATE {} SET body = '{{\"resources\": ['",
            db.table("observations")
        ));
        let err = store.latest_observation("w").unwrap_err().to_string();
        assert!(
            err.contains("observation \"w#1\"") && err.contains("unreadable"),
            "{} {err}",
            db.label()
        );
        assert!(store.observations("w").is_err());
    }
}

#[test]
fn an_unreadable_drift_record_is_an_error_not_no_drift() {
    for db in backends("corrupt-drift") {
        let store = Store::open(&db.url()).unwrap();
        store
            .set_drift("w", "t", Some(&serde_json::json!({ "addresses": ["a.b"] })))
            .unwrap();
        db.sql(&format!(
            "UPDATE {} SET body = '{{\"addresses\": ['",
            db.table("drift")
        ));
        let err = store.drift("w").unwrap_err().to_string();
        assert!(
            err.contains("drift \"w\"") && err.contains("unreadable"),
            "{} {err}",
            db.label()
        );
    }
}

#[test]
fn observations_keep_history_and_settle_drift() {
    for db in backends("observe") {
        let store = Store::open(&db.url()).unwrap();
        assert!(store.observations("w").unwrap().is_empty());
        assert!(store.latest_observation("w").unwrap().is_none());
        let first = store
            .record_observation(
                "w",
                "2026-11-24T10:00:00Z",
                &serde_json::json!({ "resources": [1] }),
            )
            .unwrap();
        store
            .set_drift(
                "w",
                "2026-11-24T11:00:00Z",
                Some(&serde_json::json!({ "addresses": ["a.b"] })),
            )
            .unwrap();
        assert_eq!(store.drift("w").unwrap().unwrap()["addresses"][0], "a.b");
        let recorded = store.drift_record("w").unwrap().unwrap();
        assert_eq!(
            recorded.recorded_at,
            "2026-11-24T11:00:00Z",
            "{}",
            db.label()
        );
        assert_eq!(recorded.body["addresses"][0], "a.b");
        assert!(
            store.drift("other").unwrap().is_none(),
            "drift is per workspace"
        );
        let second = store
            .record_observation(
                "w",
                "2026-11-24T12:00:00Z",
                &serde_json::json!({ "resources": [1, 2] }),
            )
            .unwrap();
        assert!(second > first);
        assert!(
            store.drift("w").unwrap().is_none(),
            "a new observation settles drift ({})",
            db.label()
        );
        store
            .record_observation("a", "t", &serde_json::json!({}))
            .unwrap();
        assert_eq!(store.observed_workspaces().unwrap(), ["a", "w"]);
        let history = store.observations("w").unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].body["resources"].as_array().unwrap().len(), 2);
        let latest = store.latest_observation("w").unwrap().unwrap();
        assert_eq!(latest, history[1], "latest is the newest ({})", db.label());
        assert_eq!(latest.id, second);
        store
            .set_drift("w", "t", Some(&serde_json::json!({})))
            .unwrap();
        store.set_drift("w", "t", None).unwrap();
        assert!(store.drift("w").unwrap().is_none());
    }
}

#[test]
fn many_processes_may_create_a_new_store_at_once() {
    for round in 0..5 {
        let dbs = backends(&format!("first-open-{round}"));
        let url = dbs[0].url();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (url, barrier) = (url.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&url).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), Ok(()));
        }
    }
}

/// Issue 12: one changed character of a stored `critical` glob turned an escalation into
/// an allow, and the store served the edited model as if the provider had written it.
/// Every object carries the SHA-256 of its spec, written with it and checked at load.
#[test]
fn an_object_edited_in_the_database_is_refused_at_load() {
    for db in backends("object-digest") {
        let url = db.url();
        let store = Store::open(&url).unwrap();
        let intent = iom_model::Intent {
            name: "payments".into(),
            profile: "p".into(),
            critical: vec!["module.payments.aws_db_instance.*".into()],
            ..Default::default()
        };
        store.create(&profile("p", "escalate")).unwrap();
        store.create(&Object::Intent(intent)).unwrap();
        assert_eq!(store.load_model().unwrap().0.intents.len(), 1);
        // One character of the glob: it no longer matches the database.
        db.sql(&format!(
            "UPDATE {} SET spec = replace(spec, 'aws_db_instance', 'aws_db_instancf') WHERE kind = 'iom_intent'",
            db.table("objects")
        ));
        let err = store.load_model().unwrap_err().to_string();
        assert!(
            err.contains("iom_intent \"payments\"")
                && err.contains("does not match the digest written with it"),
            "{}: {err}",
            db.label()
        );
        assert!(store.get(Kind::Intent, "payments").is_err());
        assert!(store.get(Kind::Profile, "p").unwrap().is_some());
    }
}

/// A SQLite store from before object digests gets them when a new build opens it.
#[test]
fn a_store_without_digests_is_given_them_on_upgrade() {
    for db in backends("digest-upgrade") {
        let common::Db::Sqlite { .. } = db else {
            continue;
        };
        let url = db.url();
        Store::open(&url)
            .unwrap()
            .create(&profile("p", "block"))
            .unwrap();
        db.sql("ALTER TABLE objects DROP COLUMN digest; PRAGMA user_version = 3;");
        let (spec, _) = Store::open(&url).unwrap().load_model().unwrap();
        assert_eq!(spec.profiles.len(), 1);
    }
}

/// A store's secret is made once: whoever asks first sets it, everyone later reads it.
#[test]
fn a_secret_is_made_once() {
    for db in backends("secret") {
        let store = Store::open(&db.url()).unwrap();
        assert_eq!(store.secret("k", "first").unwrap(), "first");
        let other = Store::open(&db.url()).unwrap();
        assert_eq!(
            other.secret("k", "second").unwrap(),
            "first",
            "{}",
            db.label()
        );
        assert_eq!(other.secret("j", "second").unwrap(), "second");
    }
}

/// A PostgreSQL server that stops answering must fail the statement, not hold the check
/// for ever: a write queued behind a lock nobody releases ends at the session's statement
/// timeout (the URL's here; 60 s by default) with an error naming the store.
#[test]
fn a_postgres_write_stuck_behind_a_lock_ends_at_the_statement_timeout() {
    for db in backends("statement-timeout") {
        let common::Db::Postgres { .. } = db else {
            continue;
        };
        let url = db.url();
        Store::open(&url)
            .unwrap()
            .put(&profile("held", "block"))
            .unwrap();
        let mut holder = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = holder.transaction().unwrap();
        tx.batch_execute("SELECT revision FROM iom_model_revision WHERE id = 1 FOR UPDATE")
            .unwrap();
        let impatient = format!("{url}?options=-c%20statement_timeout%3D1s");
        let err = Store::open(&impatient)
            .unwrap()
            .put(&profile("queued", "block"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("canceling statement due to statement timeout"),
            "{err}"
        );
        assert!(!err.contains("password"), "{err}");
        tx.rollback().unwrap();
        let store = Store::open(&url).unwrap();
        assert_eq!(
            store.list().unwrap().len(),
            1,
            "the stuck write left nothing"
        );
    }
}
