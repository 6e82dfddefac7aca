//! The provider binary: serves [`terraform_provider_iom::provider::IomProvider`] over the
//! plugin protocol to the Terraform or OpenTofu that started it.

#[tokio::main(worker_threads = 2)]
async fn main() {
    // `--version` answers without the plugin handshake, so an installed binary can be
    // identified (and an install checked) by hand; Terraform never passes arguments.
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("terraform-provider-iom {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    tfplugin::serve(terraform_provider_iom::provider::IomProvider::default()).await;
}
