//! The provider binary: serves [`terraform_provider_iom::provider::IomProvider`] over the
//! plugin protocol to the Terraform or OpenTofu that started it.

#[tokio::main(worker_threads = 2)]
async fn main() {
    tfplugin::serve(terraform_provider_iom::provider::IomProvider::default()).await;
}
