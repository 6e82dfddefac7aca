//! TLS to the real PostgreSQL server, with libpq's meaning of each `sslmode`.
//!
//! `scripts/pg.sh` starts the server with a certificate for `localhost` (only that name)
//! from a throwaway CA, and lets the role `iom_tls_only` in over TLS only: getting in as
//! that role proves the connection was encrypted.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use iom_store::{Store, StoreError};

/// The server's port and the CA its certificate chains to, or `None` to skip.
fn server() -> Option<(String, String)> {
    let admin = std::env::var("IOM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let ca = std::env::var("IOM_TEST_POSTGRES_CA")
        .ok()
        .filter(|c| !c.is_empty());
    match (admin, ca) {
        (Some(admin), Some(ca)) => {
            let port = admin
                .rsplit_once(':')
                .and_then(|(_, rest)| rest.split('/').next())
                .expect("a URL with a port")
                .to_string();
            Some((port, ca))
        }
        _ if std::env::var("IOM_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!(
            "IOM_REQUIRE_POSTGRES=1 needs IOM_TEST_POSTGRES_URL and IOM_TEST_POSTGRES_CA (scripts/pg.sh start, scripts/pg.sh ca)"
        ),
        _ => {
            eprintln!("note: no PostgreSQL server with TLS, so the TLS tests are skipped");
            None
        }
    }
}

fn open(host: &str, port: &str, query: &str) -> Result<Store, StoreError> {
    Store::open(&format!(
        "postgres://iom_tls_only@{host}:{port}/postgres?{query}"
    ))
}

fn unrelated_ca() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/unrelated-ca.crt"
    )
    .to_string()
}

#[test]
fn verify_full_checks_the_chain_and_the_host_name() {
    let Some((port, ca)) = server() else { return };
    let store = open(
        "localhost",
        &port,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    )
    .expect("the certificate names localhost and chains to the test CA");
    store.revision().unwrap();

    // The certificate names localhost only, so 127.0.0.1 is the wrong host.
    let err = open(
        "127.0.0.1",
        &port,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    )
    .err()
    .expect("a certificate for another name is refused");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(text.to_lowercase().contains("certificate"), "{text}");

    let err = open(
        "localhost",
        &port,
        &format!("sslmode=verify-full&sslrootcert={}", unrelated_ca()),
    )
    .err()
    .expect("a chain to another CA is refused");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[test]
fn verify_ca_checks_the_chain_but_not_the_name() {
    let Some((port, ca)) = server() else { return };
    open(
        "127.0.0.1",
        &port,
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    )
    .expect("the chain is good; verify-ca does not compare names");
    assert!(
        open(
            "127.0.0.1",
            &port,
            &format!("sslmode=verify-ca&sslrootcert={}", unrelated_ca())
        )
        .is_err()
    );
    // libpq: require with a root certificate behaves as verify-ca.
    assert!(
        open(
            "127.0.0.1",
            &port,
            &format!("sslmode=require&sslrootcert={}", unrelated_ca())
        )
        .is_err()
    );
}

#[test]
fn require_and_prefer_encrypt_without_checking() {
    let Some((port, _)) = server() else { return };
    open("127.0.0.1", &port, "sslmode=require").expect("require: any certificate");
    open("127.0.0.1", &port, "").expect("prefer is the default and encrypts when it can");
    // The server refuses this role on a plain connection: the two above were encrypted.
    let err = open("127.0.0.1", &port, "sslmode=disable")
        .err()
        .expect("the role may not log in unencrypted");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(text.contains("no encryption"), "{text}");
}

#[test]
fn a_missing_root_certificate_is_named() {
    let Some((port, _)) = server() else { return };
    let err = open(
        "localhost",
        &port,
        "sslmode=verify-full&sslrootcert=/nonexistent/root.pem",
    )
    .err()
    .expect("no root certificate, no connection");
    let text = err.to_string();
    assert!(text.contains("/nonexistent/root.pem"), "{text}");
    assert!(text.contains("TLS"), "{text}");
}
