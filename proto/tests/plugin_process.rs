//! The example provider as a process, driven the way go-plugin's client
//! drives it, without Terraform: environment in, handshake line out, TLS on
//! the advertised socket, signals.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{MAGIC_COOKIE, TempDir, provider_binary};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

struct Plugin {
    child: Child,
    line: String,
    started_in: Duration,
}

impl Plugin {
    fn start(socket_dir: &std::path::Path, client_cert: Option<&str>) -> Plugin {
        let mut cmd = Command::new(provider_binary());
        cmd.env(MAGIC_COOKIE.0, MAGIC_COOKIE.1)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir)
            .env_remove("PLUGIN_CLIENT_CERT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(pem) = client_cert {
            cmd.env("PLUGIN_CLIENT_CERT", pem);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().expect("start provider");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("handshake line within 10s");
        Plugin {
            child,
            line: line.trim_end().to_owned(),
            started_in: started.elapsed(),
        }
    }

    fn fields(&self) -> Vec<&str> {
        self.line.split('|').collect()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn run_by_hand_it_explains_itself_and_exits_1() {
    let output = Command::new(provider_binary())
        .env_remove(MAGIC_COOKIE.0)
        .output()
        .expect("run provider");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Terraform provider plugin"), "{stderr}");
    assert!(stderr.contains("dev_overrides"), "{stderr}");
}

#[test]
fn handshake_line_then_sigterm_stops_it_and_removes_the_socket() {
    let dir = TempDir::new("sock");
    let mut plugin = Plugin::start(dir.path(), None);
    eprintln!(
        "handshake line after {:?}: {}",
        plugin.started_in, plugin.line
    );
    let fields = plugin.fields();
    assert_eq!(fields.len(), 6, "{}", plugin.line);
    assert_eq!(&fields[..3], ["1", "6", "unix"]);
    assert_eq!(fields[4], "grpc");
    assert_eq!(fields[5], "", "no certificate without PLUGIN_CLIENT_CERT");
    let socket = std::path::PathBuf::from(fields[3]);
    assert_eq!(socket.parent(), Some(dir.path()));
    assert!(socket.exists());

    // Ctrl-C in a terminal reaches the plugin too; Terraform handles it.
    plugin.signal("INT");
    assert!(
        plugin.wait(Duration::from_millis(300)).is_none(),
        "SIGINT is ignored"
    );

    plugin.signal("TERM");
    let status = plugin
        .wait(Duration::from_secs(10))
        .expect("exits on SIGTERM");
    assert!(status.success(), "{status}");
    assert!(!socket.exists(), "socket file removed");
}

#[tokio::test]
async fn automtls_advertises_its_certificate_and_pins_the_client() {
    let dir = TempDir::new("mtls");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    // Like Terraform's: a self-signed CA certificate.
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();

    let mut plugin = Plugin::start(dir.path(), Some(&cert.pem()));
    let fields = plugin.fields();
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .expect("certificate in unpadded standard base64");
    assert_eq!(
        server_cert.first(),
        Some(&0x30),
        "DER starts with a SEQUENCE"
    );

    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let alpn = tls_connect(fields[3], &server_cert, cert.der().clone(), key_der)
        .await
        .expect("TLS with the pinned client certificate");
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));

    let stranger = rcgen::KeyPair::generate().unwrap();
    let stranger_cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&stranger)
        .unwrap();
    let stranger_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(stranger.serialize_der()));
    let refused = tls_connect(
        fields[3],
        &server_cert,
        stranger_cert.der().clone(),
        stranger_key,
    )
    .await;
    assert!(refused.is_err(), "another client certificate is refused");

    plugin.signal("TERM");
    assert!(
        plugin
            .wait(Duration::from_secs(10))
            .expect("exits")
            .success()
    );
}

/// Connects like go-plugin's client: trusts exactly the advertised server
/// certificate, presents its own, asks for h2. Returns the negotiated ALPN
/// once the server has accepted the client (it answers an HTTP/2 preface).
async fn tls_connect(
    socket: &str,
    server_cert: &[u8],
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> std::io::Result<Option<Vec<u8>>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Pinned(
        server_cert.to_vec(),
        provider.signature_verification_algorithms,
    );
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let stream = tokio::net::UnixStream::connect(socket).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), stream)
        .await?;
    // With TLS 1.3 the server judges the client certificate after the
    // client thinks it is done; a round trip shows the verdict.
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await?;
    tls.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await?; // empty SETTINGS
    tls.flush().await?;
    let mut header = [0u8; 9];
    tls.read_exact(&mut header).await?;
    assert_eq!(header[3], 4, "server answers with SETTINGS");
    Ok(tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec))
}

#[derive(Debug)]
struct Pinned(Vec<u8>, WebPkiSupportedAlgorithms);

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        assert_eq!(
            end_entity.as_ref(),
            self.0.as_slice(),
            "the advertised certificate"
        );
        assert_eq!(name.to_str(), "localhost");
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(m, c, d, &self.1)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(m, c, d, &self.1)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.1.supported_schemes()
    }
}
