//! Proven identities: SSH signatures (the SSHSIG format `ssh-keygen -Y sign` writes, by the
//! `ssh-key` crate) over approval and check records. A profile binds names to ed25519
//! public keys in OpenSSH form (`approver_keys`); for a name bound there, only a record
//! signed with that key speaks for it. What is signed is the record's body without its
//! `ssh_signature`, as compact JSON with sorted keys ([`signed_message`]), so
//! `ssh-keygen -Y verify -n iom-approval` checks an approval with the allowed_signers file
//! [`allowed_signers`] writes.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use iom_model::ModelSpec;
use serde_json::Value;
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

/// The SSHSIG namespace of approval records.
pub const APPROVAL_NAMESPACE: &str = "iom-approval";
/// The SSHSIG namespace of check records (a check's signature cannot pass for an approval).
pub const CHECK_NAMESPACE: &str = "iom-check";
/// The body field that holds the armored signature.
pub const SIGNATURE_FIELD: &str = "ssh_signature";

/// An OpenSSH ed25519 private key (`~/.ssh/id_ed25519`).
pub struct SshSigner(PrivateKey);

impl SshSigner {
    /// Reads an unencrypted OpenSSH ed25519 private key.
    pub fn from_file(path: &Path) -> Result<SshSigner> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the SSH private key {}", path.display()))?;
        let key = PrivateKey::from_openssh(text.trim())
            .map_err(|e| anyhow!("{}: not an OpenSSH private key ({e})", path.display()))?;
        if key.is_encrypted() {
            bail!(
                "{}: the key is protected by a passphrase, which plan-guard does not read: use a key without one for signing, kept where only its owner reads it",
                path.display()
            );
        }
        if key.algorithm() != ssh_key::Algorithm::Ed25519 {
            bail!(
                "{}: a {} key; approvals are signed with ed25519 keys",
                path.display(),
                key.algorithm()
            );
        }
        Ok(SshSigner(key))
    }

    /// Signs `body` (without its signature field) and stores the armored signature in it.
    pub fn sign_body(&self, namespace: &str, body: &mut Value) -> Result<()> {
        let signature = self
            .0
            .sign(namespace, HashAlg::Sha512, &signed_message(body))
            .map_err(|e| anyhow!("cannot sign: {e}"))?
            .to_pem(LineEnding::LF)
            .map_err(|e| anyhow!("cannot encode the signature: {e}"))?;
        body[SIGNATURE_FIELD] = Value::String(signature);
        Ok(())
    }
}

/// The bytes a record's SSH signature covers: its body without [`SIGNATURE_FIELD`], as
/// compact JSON with sorted keys (serde_json's map keeps keys sorted).
pub fn signed_message(body: &Value) -> Vec<u8> {
    let mut unsigned = body.clone();
    if let Some(map) = unsigned.as_object_mut() {
        map.remove(SIGNATURE_FIELD);
    }
    unsigned.to_string().into_bytes()
}

/// Whether `body` carries a valid signature in `namespace` by `public_key` (OpenSSH form);
/// `Err` says what is wrong, in words for a refusal.
pub fn verify_body(public_key: &str, namespace: &str, body: &Value) -> Result<(), String> {
    let Some(armored) = body[SIGNATURE_FIELD].as_str() else {
        return Err("it is not signed".into());
    };
    let key = PublicKey::from_openssh(public_key)
        .map_err(|e| format!("the bound key is not an OpenSSH public key ({e})"))?;
    let signature =
        SshSig::from_pem(armored).map_err(|e| format!("its signature is unreadable ({e})"))?;
    key.verify(namespace, &signed_message(body), &signature)
        .map_err(|_| "its signature does not verify with the bound key".to_string())
}

/// An allowed_signers file (`ssh-keygen -Y verify -f`): every name a profile binds a key
/// to, with the namespaces its signatures are made in.
pub fn allowed_signers(spec: &ModelSpec) -> String {
    let mut bound: BTreeMap<(&str, &str), ()> = BTreeMap::new();
    for p in &spec.profiles {
        for (name, key) in &p.approver_keys {
            bound.insert((name.as_str(), key.as_str()), ());
        }
    }
    bound
        .keys()
        .map(|(name, key)| {
            format!("{name} namespaces=\"{APPROVAL_NAMESPACE},{CHECK_NAMESPACE}\" {key}\n")
        })
        .collect()
}
