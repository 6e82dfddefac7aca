//! plan-guard's library: everything between a `terraform show -json` document and a
//! verdict, and what follows a verdict. Its folders follow the flow. It owns reading plans
//! ([`plan`], with the configuration's `.tf` [`plan::sources`] and the [`plan::copy`] a
//! governed apply runs), the change graph and blast radius ([`graph`]), the decision core
//! ([`decide`], with [`decide::contracts`] and their network [`decide::probes`]) that judges
//! each change against the compiled governance model from `iom-model` (read from a
//! directory or the store, [`decide::model_source`]), the [`decide::report`] every output
//! format renders and the renderers ([`render`]); then the evidence it records
//! ([`evidence`]), approvals and the governed apply ([`evidence::workflow`],
//! [`evidence::verify`], [`evidence::signing`], [`evidence::identity`],
//! [`evidence::checkpoint`]; the records typed in [`evidence::records`]), the living model
//! ([`living`]: observe, reconcile, drift, cross-workspace edges), [`living::insights`] and
//! governance unit tests ([`decide::govtest`]); decision ids and times ([`ids`]) and the
//! exit codes ([`exit`]). The binary (`main.rs`, `cli/`, behind the `cli` feature) is a
//! thin CLI over it.

pub mod decide;
pub mod evidence;
pub mod exit;
pub mod graph;
pub mod ids;
pub mod living;
pub mod notify;
pub mod plan;
pub mod render;

#[cfg(test)]
pub(crate) mod testing;
