//! `tfplugin` owns the Terraform plugin protocol for IOM: everything between a
//! provider's resource logic and the Terraform (or OpenTofu) process that runs
//! it. That is the go-plugin handshake and AutoMTLS, the tfplugin6 gRPC
//! service with go-plugin's side services, and the cty value and type
//! encodings. Above it sits a [`Provider`] trait in plain Rust types (values,
//! schemas, diagnostics), so resource code never touches a wire type; the
//! layering is that of terraform-plugin-go beneath terraform-plugin-framework.
//!
//! A provider binary is a `main` that calls [`serve`]:
//!
//! ```no_run
//! # use tfplugin::*;
//! # struct MyProvider;
//! # #[async_trait::async_trait]
//! # impl Provider for MyProvider {
//! #     fn schema(&self) -> ProviderSchema { ProviderSchema::default() }
//! #     async fn plan_resource_change(&self, r: PlanRequest) -> PlanResponse { unimplemented!() }
//! #     async fn apply_resource_change(&self, r: ApplyRequest) -> ApplyResponse { unimplemented!() }
//! # }
//! #[tokio::main]
//! async fn main() {
//!     tfplugin::serve(MyProvider).await;
//! }
//! ```

mod convert;
mod diagnostics;
mod goplugin;
mod grpc;
pub mod handshake;
mod log;
mod provider;
mod schema;
mod server;
mod tls;
mod transport;
mod value;

/// Code generated from `proto/*.proto` at build time. Private: the wire
/// format is this crate's business alone.
#[allow(clippy::all, clippy::pedantic, dead_code, missing_docs)]
mod wire {
    pub(crate) mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub(crate) mod plugin {
        tonic::include_proto!("plugin");
    }
}

pub use async_trait::async_trait;
pub use diagnostics::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
pub use provider::{
    ActionProgress, ActionRequest, ApplyRequest, ApplyResponse, ConfigureRequest, FunctionError,
    FunctionRequest, FunctionResponse, ImportRequest, ImportResponse, ImportedResource,
    PlanRequest, PlanResponse, Provider, ReadDataRequest, ReadDataResponse, ReadRequest,
    ReadResponse, UpgradeRequest, UpgradeResponse, plan_computed,
};
pub use schema::{
    Attribute, AttributeType, Block, DescriptionKind, Function, NestedAttributes, NestedBlock,
    Nesting, ObjectNesting, Parameter, ProviderSchema, Schema,
};
pub use server::{ServeError, ServeOptions, serve, try_serve};
pub use value::{Number, Type, Value, ValueError};
