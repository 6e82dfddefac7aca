//! Compiles the protocol definitions with protox, a pure-Rust protobuf
//! compiler, so that building needs no `protoc` on the machine.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/tfplugin6.proto", "proto/goplugin.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    // protox ships the google/protobuf well-known types itself.
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        // Only the server side is generated: Terraform is the client.
        .build_client(false)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
