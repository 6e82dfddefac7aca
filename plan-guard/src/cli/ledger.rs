//! The `evidence` commands.

use anyhow::{Context as _, Result};
use iom_store::Store;
use plan_guard::evidence::checkpoint::Checkpoint;
use plan_guard::evidence::signing::Verifier;
use plan_guard::evidence::workflow;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::args::{EvidenceCommand, ExportFormat};
use plan_guard::exit;

/// Runs an `evidence` command. Those that read the ledger open an existing store only
/// (`store`, else `$IOM_STORE`, else the default): a missing SQLite file is an error
/// naming it, not a new empty ledger that verifies.
pub(crate) fn evidence_command(store: Option<&str>, command: EvidenceCommand) -> Result<u8> {
    match run(store, command) {
        // The reader went away (`evidence export | head -1`): nothing more to say.
        Err(e) if broken_pipe(&e) => Ok(exit::SUCCESS),
        other => other,
    }
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(store: Option<&str>, command: EvidenceCommand) -> Result<u8> {
    let open = || Store::open_configured_existing(store);
    let mut out = std::io::stdout().lock();
    match command {
        EvidenceCommand::List => {
            for e in open()?.evidence()?.records {
                // Actors, reasons and workspaces were typed by people: one record, one line.
                let line = workflow::list_line(&e);
                writeln!(out, "{}", plan_guard::render::printable(&line))?;
            }
        }
        EvidenceCommand::Show { decision_id } => {
            let store = open()?;
            let records: Vec<_> = store
                .evidence_for(&decision_id)?
                .iter()
                .map(workflow::record_json)
                .collect();
            if records.is_empty() {
                anyhow::bail!("no evidence of decision {decision_id} in {}", store.url());
            }
            writeln!(out, "{}", serde_json::to_string_pretty(&records)?)?;
        }
        EvidenceCommand::Checkpoint {
            signing_key,
            output,
        } => {
            let signer = plan_guard::evidence::signing::Signer::from_file(&signing_key)?;
            let chain = open()?
                .verify_evidence(None, &[])?
                .map_err(|e| anyhow::anyhow!("the ledger is broken at {e}: no checkpoint made"))?;
            let checkpoint = Checkpoint::of(&chain, &signer, plan_guard::ids::now_rfc3339())?;
            std::fs::write(&output, checkpoint.to_json())
                .with_context(|| format!("cannot write {}", output.display()))?;
            writeln!(
                out,
                "checkpoint of record {} (hash {}…) written to {}",
                checkpoint.seq,
                &checkpoint.hash[..12],
                output.display()
            )?;
        }
        EvidenceCommand::Verify {
            public_key,
            checkpoint,
        } => return verify(store, &mut out, public_key.as_deref(), &checkpoint),
        EvidenceCommand::Export {
            format: ExportFormat::Jsonl,
        } => {
            for e in open()?.evidence()?.records {
                writeln!(out, "{}", workflow::record_json(&e))?;
            }
        }
        EvidenceCommand::AllowedSigners { model } => {
            let loaded = plan_guard::decide::model_source::load(model.as_deref(), store)?;
            write!(
                out,
                "{}",
                plan_guard::evidence::identity::allowed_signers(&loaded.model.spec)
            )?;
        }
        EvidenceCommand::Keygen {
            private_key,
            public_key,
        } => {
            plan_guard::evidence::signing::generate(&private_key, &public_key)?;
            writeln!(
                out,
                "wrote {} (keep it secret) and {}",
                private_key.display(),
                public_key.display()
            )?;
        }
    }
    Ok(exit::SUCCESS)
}

/// `evidence verify`: the hash chain streamed (and the signatures, given a public key),
/// then each checkpoint held against it. A broken ledger prints where and exits 1.
fn verify(
    store: Option<&str>,
    out: &mut impl Write,
    public_key: Option<&Path>,
    checkpoint: &[PathBuf],
) -> Result<u8> {
    let checkpoints = checkpoint
        .iter()
        .map(|path| Checkpoint::read(path).map(|c| (path, c)))
        .collect::<Result<Vec<_>>>()?;
    let verifier = public_key.map(Verifier::from_file).transpose()?;
    let check = verifier
        .as_ref()
        .map(|v| move |hash: &str, sig: &str| v.verify(hash, sig));
    let check_ref = check
        .as_ref()
        .map(|f| f as &(dyn Fn(&str, &str) -> bool + Sync));
    let store = Store::open_configured_existing(store)?;
    // Streamed, not loaded: a ledger of millions of records verifies in the memory
    // of one. The checkpointed records' hashes are kept on the way.
    let keep: Vec<u64> = checkpoints.iter().map(|(_, c)| c.seq).collect();
    let verified = store
        .verify_evidence(check_ref, &keep)?
        .map_err(|e| e.to_string());
    let held = verified.and_then(|chain| {
        for (path, c) in &checkpoints {
            let Some(verifier) = verifier.as_ref() else {
                return Err("--checkpoint needs --public-key".to_string());
            };
            c.holds(&chain, verifier).map_err(|why| {
                format!("checkpoint {} (record {}): {why}", path.display(), c.seq)
            })?;
        }
        Ok(chain.records as usize)
    });
    match held {
        Ok(n) => {
            let signed = if verifier.is_some() {
                ", every signature good"
            } else {
                ""
            };
            let anchored = match checkpoints.iter().map(|(_, c)| c.seq).max() {
                Some(seq) => format!(", holds checkpointed record {seq}"),
                None => String::new(),
            };
            writeln!(
                out,
                "ledger verified: {n} records, chain intact{signed}{anchored} ({})",
                store.url()
            )?;
            if n == 0 {
                eprintln!(
                    "plan-guard: warning: the ledger of {} is empty: nothing was recorded here, or every record and the chain head were deleted",
                    store.url()
                );
            }
        }
        Err(e) => {
            eprintln!("plan-guard: ledger broken at {e}");
            return Ok(exit::ERROR);
        }
    }
    Ok(exit::SUCCESS)
}
