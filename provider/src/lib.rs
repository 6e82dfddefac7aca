//! terraform-provider-iom: the Terraform/OpenTofu provider with which a platform team
//! declares the IOM governance model (profiles, blueprints, intents, contracts, elements,
//! waivers) in HCL; applying writes the objects into the model store that plan-guard
//! reads. The plugin protocol lives in the `tfplugin` crate; this crate holds only the
//! resources and data sources, built from iom-model's schema and validation, the
//! provider-defined functions (`functions`) and actions (`actions`: `iom_verify` runs a
//! contract's post-verify probes through `iom-probe`, `iom_record` writes a run record),
//! and the registry docs generated from the same schema (`docs`).

pub mod actions;
mod convert;
mod data_sources;
pub mod docs;
pub mod functions;
mod paths;
pub mod provider;
pub mod schema;
