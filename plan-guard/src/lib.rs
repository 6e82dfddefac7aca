//! plan-guard's library: everything between a `terraform show -json` document and a
//! verdict, and what follows a verdict. It owns reading plans ([`plan`]), the change graph
//! and blast radius ([`graph`]), the decision core ([`decide`], with [`contracts`] and their
//! network [`probes`]) that judges each change against the compiled governance model from
//! `iom-model` (read from a directory or the store, [`model_source`]), the [`report`] every
//! output format renders and the renderers ([`render`]); then the evidence it records
//! ([`evidence`]), approvals and the governed apply ([`workflow`], [`verify`], [`signing`]),
//! the living model ([`living`]: observe, reconcile, drift, cross-workspace edges),
//! [`insights`] and governance unit tests ([`govtest`]). The binary (`main.rs`, `cli/`) is a thin
//! CLI over it.

pub mod address;
pub mod cel_input;
pub mod checkpoint;
pub mod contracts;
pub mod decide;
pub mod evidence;
pub mod govtest;
pub mod graph;
pub mod identity;
pub mod ids;
pub mod insights;
pub mod living;
pub mod model_source;
pub mod plan;
pub mod plan_copy;
pub mod probes;
pub mod render;
pub mod report;
pub mod signing;
pub mod sources;
pub mod verify;
pub mod workflow;

#[cfg(test)]
pub(crate) mod testing;
