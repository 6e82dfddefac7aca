//! `plan-guard approve`: show the recorded decision, confirm, record the approval.

use super::args::ApproveArgs;
use super::{
    ACTOR_VARIABLES, actor_or_default, first_env, no_actor, one_line_actor, one_line_reason,
};
use anyhow::Result;
use iom_store::Store;
use plan_guard::evidence::identity::SshSigner;
use plan_guard::evidence::signing::Signer;
use plan_guard::evidence::workflow;
use plan_guard::exit;
use std::io::{IsTerminal, Write};

pub(crate) fn run(args: ApproveArgs) -> Result<u8> {
    let ApproveArgs {
        decision_id,
        actor,
        reason,
        store,
        signing_key,
        sign_with,
        yes,
    } = args;
    one_line_reason(&reason)?;
    let signer = signing_key.as_deref().map(Signer::from_file).transpose()?;
    let ssh = sign_with.as_deref().map(SshSigner::from_file).transpose()?;
    let actor = approver(actor)?;
    let store = Store::open_configured(store.as_deref())?;
    // The approver sees what they approve, from the ledger, before anything is
    // recorded.
    let check = workflow::check_of(&store, &decision_id)?;
    workflow::not_a_plan_of_a_set(&check, &actor)?;
    print!(
        "{}",
        plan_guard::render::render_approval_surface(&decision_id, &check.body)
    );
    // Nothing to confirm when no one could approve it (a block, an allow, a change
    // no profile stands behind): refused before asking.
    let checked = workflow::check_body(&check)?;
    let stored = plan_guard::evidence::records::Stored::new(&checked, &check.body);
    if let Err(why) = plan_guard::evidence::pending_approval(stored, &[]) {
        return Err(anyhow::anyhow!(workflow::Refused::new(
            workflow::Refusal::MayNotApprove,
            format!("{actor} cannot approve {decision_id}: {why}")
        )));
    }
    confirm(yes, &decision_id, &actor)?;
    let approved = workflow::approve(
        &store,
        signer.as_ref(),
        ssh.as_ref(),
        &decision_id,
        &actor,
        &reason,
    )?;
    println!(
        "approved {decision_id} by {actor} under profile {} (evidence record {})",
        approved.profiles.join(", "),
        approved.record.seq
    );
    if !approved.pending.is_empty() {
        println!("still to approve: {}", approved.pending);
    }
    Ok(exit::SUCCESS)
}

/// Who approves: given or from the environment as for [`actor_or_default`], but never
/// `unknown`: an approval has to name the approver its profiles list.
fn approver(actor: Option<String>) -> Result<String> {
    match actor {
        None => {
            let actor =
                first_env(ACTOR_VARIABLES).ok_or_else(|| anyhow::anyhow!("{}", no_actor()))?;
            one_line_actor(&actor)?;
            Ok(actor)
        }
        given => actor_or_default(given),
    }
}

/// Whether to go on with an approval: `--yes`, or "yes" typed at the terminal. Standard
/// input that is not a terminal, without `--yes`, is a refusal: no one was asked.
fn confirm(yes: bool, decision_id: &str, actor: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    let refused =
        |why: String| anyhow::anyhow!(workflow::Refused::new(workflow::Refusal::NotConfirmed, why));
    if !std::io::stdin().is_terminal() {
        return Err(refused(format!(
            "nothing approved: approve asks for confirmation, and standard input is not a terminal; pass --yes to approve {decision_id} without asking"
        )));
    }
    eprint!("\nApprove {decision_id} as {actor}? Type yes to approve: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" => Ok(()),
        _ => Err(refused(format!(
            "nothing approved: the answer was not yes ({decision_id})"
        ))),
    }
}
