//! AutoMTLS, go-plugin's way of securing the plugin connection.
//!
//! When Terraform sets `PLUGIN_CLIENT_CERT`, it holds a fresh self-signed
//! certificate and expects the same from the plugin: the plugin makes its own
//! certificate, advertises it in the handshake line, and accepts exactly the
//! client certificate it was given. Terraform's certificates are marked as CAs
//! and use P-521 keys, so neither ordinary WebPKI path validation (which
//! refuses a CA as an end entity) nor `ring` (which has no P-521) will do:
//! the client certificate is pinned by its bytes, and P-521 handshake
//! signatures are checked with the pure-Rust `p521` crate.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, PrivateKeyDer, PrivatePkcs8KeyDer,
    SignatureVerificationAlgorithm, UnixTime, alg_id,
};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, ServerConfig,
    SignatureScheme,
};
use tokio_rustls::TlsAcceptor;

/// The server side of AutoMTLS, ready to accept connections.
pub(crate) struct AutoTls {
    pub(crate) acceptor: TlsAcceptor,
    /// DER of the server certificate, for the handshake line.
    pub(crate) server_cert: Vec<u8>,
}

/// Builds the TLS server for a client that sent `client_cert_pem`.
pub(crate) fn auto_mtls(client_cert_pem: &str) -> Result<AutoTls, String> {
    let pinned = CertificateDer::pem_slice_iter(client_cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("PLUGIN_CLIENT_CERT is not a PEM certificate: {e}"))?;
    if pinned.is_empty() {
        return Err("PLUGIN_CLIENT_CERT holds no certificate".into());
    }
    let (server_cert, server_key) = self_signed_certificate()?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinnedClientCert {
        pinned,
        others: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![server_cert.clone()], server_key)
        .map_err(|e| format!("server certificate rejected: {e}"))?;
    // gRPC clients (grpc-go among them) insist on negotiating HTTP/2 by ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(AutoTls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        server_cert: server_cert.to_vec(),
    })
}

/// A certificate shaped like go-plugin's own: for "localhost", usable for
/// both client and server authentication, self-signed as a CA so that the
/// client can trust it by adding it to its root pool.
fn self_signed_certificate() -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let fail = |e: rcgen::Error| format!("cannot generate the server certificate: {e}");
    // ECDSA P-256: fast to generate, and every Go and rustls version accepts it.
    let key = KeyPair::generate().map_err(fail)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(fail)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "IOM");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).map_err(fail)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().clone(), key))
}

/// Accepts exactly the pinned certificates, and still checks that the peer
/// proved possession of the key by verifying its handshake signature.
#[derive(Debug)]
struct PinnedClientCert {
    pinned: Vec<CertificateDer<'static>>,
    /// The crypto provider's algorithms, for every key type but P-521.
    others: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    fn algorithms(&self, scheme: SignatureScheme) -> &WebPkiSupportedAlgorithms {
        if scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            &P521_ALGORITHMS
        } else {
            &self.others
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    // No CA names are hinted: a hint would make Go's client check the
    // certificate's issuer against it, and there is nothing to gain.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, self.algorithms(dss.scheme))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, self.algorithms(dss.scheme))
    }

    /// P-521 first: in TLS 1.2 Go signs with the first scheme the server
    /// lists that its key can use.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = vec![SignatureScheme::ECDSA_NISTP521_SHA512];
        schemes.extend(self.others.supported_schemes());
        schemes
    }
}

static P521_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[&EcdsaP521Sha512],
    mapping: &[(SignatureScheme::ECDSA_NISTP521_SHA512, &[&EcdsaP521Sha512])],
};

/// ECDSA over P-521 with SHA-512, the signature of a go-plugin client key.
#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        use p521::ecdsa::{Signature, VerifyingKey};
        let key = VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let signature = Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn p521_signatures_verify_and_forgeries_do_not() {
        use p521::ecdsa::SigningKey;
        use p521::ecdsa::signature::Signer;
        // A scalar below the curve order: P-521's top byte holds one bit.
        let mut secret = [7u8; 66];
        secret[0] = 1;
        let signing = SigningKey::from_slice(&secret).unwrap();
        let point = signing.verifying_key().to_sec1_point(false);
        let sig: p521::ecdsa::Signature = signing.sign(b"handshake");
        let der = sig.to_der();
        let alg = EcdsaP521Sha512;
        assert!(
            alg.verify_signature(point.as_ref(), b"handshake", der.as_ref())
                .is_ok()
        );
        assert!(
            alg.verify_signature(point.as_ref(), b"tampered", der.as_ref())
                .is_err()
        );
    }

    /// A client certificate like Terraform's (self-signed, CA-flagged), on
    /// P-256 since the test's rustls client cannot sign with P-521.
    fn client_identity() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (cert.pem(), cert.der().clone(), der)
    }

    /// Trusts exactly the advertised server certificate, as go-plugin does.
    #[derive(Debug)]
    struct PinnedServer(Vec<u8>, WebPkiSupportedAlgorithms);

    impl ServerCertVerifier for PinnedServer {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            assert_eq!(end_entity.as_ref(), self.0.as_slice());
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls12_signature(m, c, d, &self.1)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls13_signature(m, c, d, &self.1)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.1.supported_schemes()
        }
    }

    async fn handshake(
        server: &AutoTls,
        cert: CertificateDer<'static>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Vec<u8>, std::io::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = PinnedServer(
            server.server_cert.clone(),
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
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let (client_io, server_io) = tokio::io::duplex(1 << 16);
        let acceptor = server.acceptor.clone();
        let server_task = tokio::spawn(async move {
            let mut tls = acceptor.accept(server_io).await?;
            tls.write_all(b"ok").await?;
            tls.flush().await?;
            Ok::<_, std::io::Error>(tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec))
        });
        let name = ServerName::try_from("localhost").unwrap();
        let mut client = connector.connect(name, client_io).await?;
        let mut buf = [0u8; 2];
        client.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ok");
        let alpn = server_task.await.unwrap()?;
        Ok(alpn.unwrap_or_default())
    }

    #[tokio::test]
    async fn accepts_the_pinned_client_and_negotiates_h2() {
        let (pem, cert, key) = client_identity();
        let server = auto_mtls(&pem).unwrap();
        assert_eq!(handshake(&server, cert, key).await.unwrap(), b"h2");
    }

    #[tokio::test]
    async fn refuses_any_other_client_certificate() {
        let (pem, _, _) = client_identity();
        let (_, other_cert, other_key) = client_identity();
        let server = auto_mtls(&pem).unwrap();
        assert!(handshake(&server, other_cert, other_key).await.is_err());
    }

    #[test]
    fn rejects_garbage_client_cert() {
        assert!(auto_mtls("not a certificate").is_err());
    }
}
