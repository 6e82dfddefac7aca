//! TLS for the PostgreSQL store, with libpq's meaning of `sslmode`, over rustls.
//!
//! The `postgres` client knows only `disable`, `prefer` and `require`, and refuses the
//! other libpq parameters a production URL carries (`sslmode=verify-full`,
//! `sslrootcert=…`). So the TLS parameters are taken out of the URL here, the rest goes to
//! the client as before, and the certificate check follows what libpq does for each mode:
//!
//! | sslmode             | encrypted            | certificate checked                 |
//! |---------------------|----------------------|-------------------------------------|
//! | `disable`           | never                | —                                   |
//! | `allow`, `prefer`   | when the server can  | no                                  |
//! | `require`           | always               | chain only when `sslrootcert` given |
//! | `verify-ca`         | always               | chain to the root certificate       |
//! | `verify-full`       | always               | chain and host name                 |
//!
//! `prefer` is the default, as in libpq. `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT` and
//! `PGSSLKEY` stand in for parameters the URL does not give. The root certificate defaults
//! to `~/.postgresql/root.crt`, as libpq's does, for the two verify modes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};

mod connect;
pub(crate) use connect::RustlsConnector;

/// How far the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Encryption against passive eavesdropping only (libpq's `prefer` and `require`).
    Nothing,
    /// The chain ends at the given root certificate; any host name.
    Chain,
    /// The chain, and the certificate names the host connected to.
    ChainAndName,
}

/// The TLS parameters of a connection URL, taken out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    pub(crate) mode: SslMode,
    check: Check,
    root_cert: Option<PathBuf>,
    client_cert: Option<(PathBuf, PathBuf)>,
}

/// What a URL's query holds that the TLS layer reads.
#[derive(Default)]
struct TlsParams {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    sslcert: Option<String>,
    sslkey: Option<String>,
}

impl TlsOptions {
    /// Splits `conninfo` into the URL the `postgres` client is given and the TLS options.
    /// Errors are plain sentences: the caller names the store (without its credentials).
    pub(crate) fn take_from(conninfo: &str) -> Result<(String, TlsOptions), String> {
        let (rest, params) = split_tls_params(conninfo);
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let sslmode = params.sslmode.or_else(|| env("PGSSLMODE"));
        let root_cert = params.sslrootcert.or_else(|| env("PGSSLROOTCERT"));
        let cert = params.sslcert.or_else(|| env("PGSSLCERT"));
        let key = params.sslkey.or_else(|| env("PGSSLKEY"));
        let (mode, check) = match sslmode.as_deref().unwrap_or("prefer") {
            "disable" => (SslMode::Disable, Check::Nothing),
            "allow" | "prefer" => (SslMode::Prefer, Check::Nothing),
            // libpq: "if a root CA file exists, require behaves as verify-ca".
            "require" if root_cert.is_some() => (SslMode::Require, Check::Chain),
            "require" => (SslMode::Require, Check::Nothing),
            "verify-ca" => (SslMode::Require, Check::Chain),
            "verify-full" => (SslMode::Require, Check::ChainAndName),
            other => {
                return Err(format!(
                    "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        };
        let root_cert = match (check, root_cert) {
            (Check::Nothing, _) => None,
            (_, Some(path)) if path == "system" => {
                return Err("sslrootcert=system is not supported: name a PEM file".into());
            }
            (_, Some(path)) => Some(PathBuf::from(path)),
            (_, None) => Some(default_root_cert()?),
        };
        let client_cert = match (cert, key) {
            (Some(cert), Some(key)) => Some((PathBuf::from(cert), PathBuf::from(key))),
            (None, None) => None,
            _ => return Err("sslcert and sslkey must be given together".into()),
        };
        let options = TlsOptions {
            mode,
            check,
            root_cert,
            client_cert,
        };
        Ok((rest, options))
    }

    /// The connector the `postgres` client negotiates TLS with (unused under `disable`).
    pub(crate) fn connector(&self) -> Result<RustlsConnector, String> {
        // ring, the provider reqwest already brings: the build carries one crypto library.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let verifier: Arc<dyn ServerCertVerifier> = match (&self.root_cert, self.check) {
            (Some(path), Check::Chain | Check::ChainAndName) => {
                let roots = Arc::new(read_roots(path)?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| format!("TLS: {e}"))?;
                if self.check == Check::ChainAndName {
                    webpki
                } else {
                    Arc::new(AnyHostName(webpki))
                }
            }
            _ => Arc::new(EncryptOnly(provider.signature_verification_algorithms)),
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = read_certs(cert)?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| format!("sslkey {}: {e}", key.display()))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("sslcert {}: {e}", cert.display()))?
            }
        };
        Ok(RustlsConnector(Arc::new(config)))
    }
}

/// Takes `sslmode`, `sslrootcert`, `sslcert` and `sslkey` out of a URL's query, keeping
/// every other parameter in its place for the `postgres` client to read.
fn split_tls_params(conninfo: &str) -> (String, TlsParams) {
    let mut params = TlsParams::default();
    let Some((base, query)) = conninfo.split_once('?') else {
        return (conninfo.to_string(), params);
    };
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8_lossy()
            .into_owned();
        match key {
            "sslmode" => params.sslmode = Some(value),
            "sslrootcert" => params.sslrootcert = Some(value),
            "sslcert" => params.sslcert = Some(value),
            "sslkey" => params.sslkey = Some(value),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, params)
}

fn default_root_cert() -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME")
        .ok_or("no sslrootcert given and no $HOME to find ~/.postgresql/root.crt")?;
    Ok(Path::new(&home).join(".postgresql/root.crt"))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

fn read_roots(path: &Path) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(path).map_err(|e| format!("sslrootcert {e}"))? {
        roots
            .add(cert)
            .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
    }
    Ok(roots)
}

/// `verify-ca`: the chain must end at a trusted root, whatever host name it carries.
#[derive(Debug)]
struct AnyHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict =
            self.0
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match verdict {
            // The chain was checked before the name: a name error means the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require` without a root certificate: any certificate is taken (libpq's
/// meaning: encryption, no authentication of the server), but the handshake's signatures
/// are still checked so the session keys belong to whoever holds that certificate.
#[derive(Debug)]
struct EncryptOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(url: &str) -> (String, TlsOptions) {
        TlsOptions::take_from(url).unwrap()
    }

    #[test]
    fn tls_parameters_leave_the_url_and_others_stay() {
        let (rest, tls) = take(
            "postgres://u@db:5432/iom?application_name=pg&sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&connect_timeout=5",
        );
        assert_eq!(
            rest,
            "postgres://u@db:5432/iom?application_name=pg&connect_timeout=5"
        );
        assert_eq!(tls.mode, SslMode::Require);
        assert_eq!(tls.check, Check::ChainAndName);
        assert_eq!(tls.root_cert.as_deref(), Some(Path::new("/tmp/ca.pem")));
    }

    #[test]
    fn modes_mean_what_libpq_says() {
        let mode = |q: &str| {
            let (_, t) = take(&format!("postgres://u@db/iom?{q}"));
            (t.mode, t.check)
        };
        assert_eq!(mode("sslmode=disable"), (SslMode::Disable, Check::Nothing));
        assert_eq!(mode("sslmode=prefer"), (SslMode::Prefer, Check::Nothing));
        assert_eq!(mode("sslmode=require"), (SslMode::Require, Check::Nothing));
        assert_eq!(
            mode("sslmode=require&sslrootcert=/ca.pem"),
            (SslMode::Require, Check::Chain)
        );
        assert_eq!(
            mode("sslmode=verify-ca&sslrootcert=/ca.pem"),
            (SslMode::Require, Check::Chain)
        );
        let err = TlsOptions::take_from("postgres://u@db/iom?sslmode=strict").unwrap_err();
        assert!(err.contains("sslmode=strict"), "{err}");
        let err = TlsOptions::take_from("postgres://u@db/iom?sslcert=/c.pem").unwrap_err();
        assert!(err.contains("together"), "{err}");
    }
}
