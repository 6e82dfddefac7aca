//! `terraform-provider-iom`: the Terraform/OpenTofu provider with which a platform team
//! declares the IOM governance model (profiles, blueprints, intents, contracts, elements,
//! waivers) in HCL; applying writes the objects into the model store that plan-guard
//! reads. The plugin protocol lives in the `tfplugin` crate; this crate holds only the
//! resources, built from iom-model's schema and validation.

mod convert;
mod data_sources;
mod paths;
mod provider;
mod schema;

#[tokio::main(worker_threads = 2)]
async fn main() {
    tfplugin::serve(provider::IomProvider::default()).await;
}
