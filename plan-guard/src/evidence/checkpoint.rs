//! Signed checkpoints of the evidence ledger, as Certificate Transparency signs tree heads.
//! The hash chain finds an edited or removed record in the middle, and the stored head
//! finds records cut from the end, but someone who can write the store can cut the newest
//! records and move the head back with them (dropping the append-only triggers first):
//! what is left is a shorter, valid chain. A checkpoint is the head (sequence number and
//! hash) at a moment, signed with the ledger key and kept outside the store (committed to a
//! repository, uploaded as a CI artifact). `evidence verify --checkpoint` then requires the
//! ledger to still hold that record with that hash: since every record chains to the one
//! before it, that vouches for the whole prefix.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use iom_store::VerifiedChain;
use serde::{Deserialize, Serialize};

use crate::evidence::signing::{Signer, Verifier};

/// What a checkpoint file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`FORMAT`].
    pub format: String,
    /// The newest record's sequence number (0: an empty ledger).
    pub seq: u64,
    /// That record's hash ([`iom_store::ledger::GENESIS`] for an empty ledger).
    pub hash: String,
    /// When the checkpoint was made (RFC 3339).
    pub time: String,
    /// Hex ed25519 signature of [`Checkpoint::signed_text`].
    pub signature: String,
}

/// The `format` a checkpoint file carries, so another format is refused.
pub const FORMAT: &str = "iom-ledger-checkpoint/1";

impl Checkpoint {
    /// The text the signature covers: every field but the signature, one per line, under
    /// a tag no record hash can be confused with.
    fn signed_text(&self) -> String {
        format!(
            "{}\nseq {}\nhash {}\ntime {}\n",
            self.format, self.seq, self.hash, self.time
        )
    }

    /// The signed head of a ledger that verified (a broken ledger is not vouched for: the
    /// caller has a [`VerifiedChain`] only for a chain that holds).
    pub fn of(chain: &VerifiedChain, signer: &Signer, time: String) -> Result<Checkpoint> {
        let (seq, hash) = (chain.records, chain.last_hash.clone());
        let mut checkpoint = Checkpoint {
            format: FORMAT.into(),
            seq,
            hash,
            time,
            signature: String::new(),
        };
        checkpoint.signature = signer.sign(&checkpoint.signed_text());
        Ok(checkpoint)
    }

    /// Reads a checkpoint file; an unreadable one or another format is an error.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the checkpoint {}", path.display()))?;
        let checkpoint: Checkpoint = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a ledger checkpoint", path.display()))?;
        if checkpoint.format != FORMAT {
            bail!(
                "{}: checkpoint format {:?}, this build reads {FORMAT:?}",
                path.display(),
                checkpoint.format
            );
        }
        Ok(checkpoint)
    }

    /// Whether `ledger` still holds this checkpoint's head: `Err` says how it does not.
    /// The signature is checked first, so a forged or edited checkpoint proves nothing.
    /// `chain` must have kept this checkpoint's record (`Store::verify_evidence`'s `keep`).
    pub fn holds(&self, chain: &VerifiedChain, verifier: &Verifier) -> Result<(), String> {
        if !verifier.verify(&self.signed_text(), &self.signature) {
            return Err(
                "its signature does not verify with this public key: it was not made with the ledger key, or was edited"
                    .into(),
            );
        }
        let held = chain.records;
        if self.seq > held {
            return Err(format!(
                "it vouches for {} records at {}, but the ledger holds {held}: the records after {held} were cut and the head moved back",
                self.seq, self.time
            ));
        }
        if self.seq == 0 {
            return Ok(());
        }
        let Some(hash) = chain.kept.get(&self.seq) else {
            return Err(format!("the ledger has no record {}", self.seq));
        };
        if *hash != self.hash {
            return Err(format!(
                "record {} is not the one it vouched for at {} (hash {}…, now {}…): the ledger up to it was rewritten",
                self.seq,
                self.time,
                self.hash.get(..12).unwrap_or(&self.hash),
                hash.get(..12).unwrap_or(hash)
            ));
        }
        Ok(())
    }

    /// The checkpoint as its file holds it.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}
