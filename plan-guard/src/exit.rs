//! The exit codes of `plan-guard`, defined once (docs/cli.md, Exit codes). A check exits
//! with its verdict's code; every other command exits [`SUCCESS`] or [`ERROR`], but for
//! `apply` (the applied command's own code, [`VERIFY_FAILED`]) and `reconcile`
//! ([`ESCALATE`] when governed drift was recorded).

use iom_model::Outcome;

/// Allow, warn, or a command that did what it was asked.
pub const SUCCESS: u8 = 0;
/// An error or a refusal: nothing was judged allowed. Usage errors exit with it too
/// (clap's own code, 2, would read as "block").
pub const ERROR: u8 = 1;
/// The plan is blocked.
pub const BLOCK: u8 = 2;
/// The plan escalates (or, for `reconcile`, governed drift was recorded).
pub const ESCALATE: u8 = 3;
/// A governed apply ran and succeeded, but a post-verify probe failed.
pub const VERIFY_FAILED: u8 = 4;

/// The exit code of a verdict.
pub fn of_verdict(verdict: Outcome) -> u8 {
    match verdict {
        Outcome::Allow | Outcome::Warn => SUCCESS,
        Outcome::Block => BLOCK,
        Outcome::Escalate => ESCALATE,
    }
}
