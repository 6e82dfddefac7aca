//! Optional ed25519 signatures on evidence records (ring's implementation, already in the
//! build for TLS). Key files hold hex text: a private key is its 32-byte seed, a public key
//! its 32 bytes. What is signed is a record's hash, so a signature vouches for the record
//! and, through the chain, for everything before it.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// An ed25519 key that signs ledger records' hashes.
pub struct Signer(Ed25519KeyPair);

impl Signer {
    /// Reads a private key file `evidence keygen` wrote.
    pub fn from_file(path: &Path) -> Result<Signer> {
        let seed = read_hex(path, "private key")?;
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|_| anyhow!("{}: not an ed25519 private key", path.display()))?;
        Ok(Signer(pair))
    }

    /// The hex signature of a record hash.
    pub fn sign(&self, hash: &str) -> String {
        hex(self.0.sign(hash.as_bytes()).as_ref())
    }
}

/// An ed25519 public key that checks ledger records' signatures.
pub struct Verifier(Vec<u8>);

impl Verifier {
    /// Reads a public key file `evidence keygen` wrote.
    pub fn from_file(path: &Path) -> Result<Verifier> {
        Ok(Verifier(read_hex(path, "public key")?))
    }

    /// Whether `signature` (hex) is this key's signature of `hash`.
    pub fn verify(&self, hash: &str, signature: &str) -> bool {
        let Some(sig) = unhex(signature) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(hash.as_bytes(), &sig)
            .is_ok()
    }
}

/// Writes a new key pair: the private key (mode 0600 on Unix) and the public key.
pub fn generate(private: &Path, public: &Path) -> Result<()> {
    let mut seed = [0u8; 32];
    SystemRandom::new()
        .fill(&mut seed)
        .map_err(|_| anyhow!("the system's random number generator failed"))?;
    let pair =
        Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| anyhow!("key generation failed"))?;
    write_private(private, &format!("{}\n", hex(&seed)))?;
    std::fs::write(public, format!("{}\n", hex(pair.public_key().as_ref())))
        .with_context(|| format!("cannot write {}", public.display()))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot create {} (an existing key is never overwritten)",
            path.display()
        )
    })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn read_hex(path: &Path, what: &str) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?;
    match unhex(text.trim()) {
        Some(bytes) if bytes.len() == 32 => Ok(bytes),
        _ => bail!("{}: a {what} file holds 64 hex digits", path.display()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_with_generated_keys() {
        let dir = std::env::temp_dir().join(format!("pg-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (private, public) = (dir.join("ledger.key"), dir.join("ledger.pub"));
        generate(&private, &public).unwrap();
        assert!(
            generate(&private, &public).is_err(),
            "never overwrites a key"
        );
        let sig = Signer::from_file(&private).unwrap().sign("abc");
        let verifier = Verifier::from_file(&public).unwrap();
        assert!(verifier.verify("abc", &sig));
        assert!(!verifier.verify("abd", &sig));
        assert!(!verifier.verify("abc", "zz"));
        generate(&dir.join("other.key"), &dir.join("other.pub")).unwrap();
        assert!(
            !Verifier::from_file(&dir.join("other.pub"))
                .unwrap()
                .verify("abc", &sig)
        );
        std::fs::write(dir.join("bad.pub"), "xyz").unwrap();
        assert!(Verifier::from_file(&dir.join("bad.pub")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
