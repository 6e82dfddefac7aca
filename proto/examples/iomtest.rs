//! `terraform-provider-iomtest`: the smallest provider that exercises the whole
//! protocol, used by the real-Terraform integration test.
//!
//! * provider block: optional `prefix` (string), prepended to ids.
//! * resource `iomtest_thing`: `name` (required, replaces on change),
//!   `size` (optional number), `tags` (optional map of strings), `id` (computed).
//!   Its "remote object" is the state itself, so read returns it unchanged.
//! * data source `iomtest_echo`: `input` (required) copied to `output`.
//!
//! With `IOMTEST_TRACE` set to a file path, every call appends one line there,
//! so a test can see what Terraform asked for.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write as _;
use std::sync::Mutex;

use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, ConfigureRequest, Diagnostics,
    ImportRequest, ImportResponse, ImportedResource, PlanRequest, PlanResponse, Provider,
    ProviderSchema, ReadDataRequest, ReadDataResponse, Schema, Type, Value, async_trait,
    plan_computed,
};

#[derive(Default)]
struct IomTest {
    prefix: Mutex<String>,
}

fn trace(line: impl AsRef<str>) {
    let Ok(path) = std::env::var("IOMTEST_TRACE") else {
        return;
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{}", line.as_ref());
    }
}

fn thing_block() -> Block {
    Block::new()
        .description("A thing that exists only in Terraform state.")
        .attribute(
            Attribute::required("name", Type::String)
                .description("Name; changing it replaces the thing."),
        )
        .attribute(Attribute::optional("size", Type::Number))
        .attribute(Attribute::optional("tags", Type::map(Type::String)))
        .attribute(Attribute::computed("id", Type::String))
}

#[async_trait]
impl Provider for IomTest {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            provider: Schema::new(
                Block::new().attribute(Attribute::optional("prefix", Type::String)),
            ),
            resources: [("iomtest_thing".to_owned(), Schema::new(thing_block()))].into(),
            data_sources: [(
                "iomtest_echo".to_owned(),
                Schema::new(
                    Block::new()
                        .attribute(Attribute::required("input", Type::String))
                        .attribute(Attribute::computed("output", Type::String)),
                ),
            )]
            .into(),
            ..ProviderSchema::default()
        }
    }

    async fn validate_resource_config(&self, type_name: &str, config: Value) -> Diagnostics {
        trace(format!("validate {type_name}"));
        let mut diags = Diagnostics::new();
        if config.get("name").and_then(Value::as_str) == Some("") {
            diags.error_at(
                AttributePath::new("name"),
                "Empty name",
                "A thing needs a name.",
            );
        }
        diags
    }

    async fn configure(&self, request: ConfigureRequest) -> Diagnostics {
        trace(format!(
            "configure terraform_version={}",
            request.terraform_version
        ));
        let prefix = request
            .config
            .get("prefix")
            .and_then(Value::as_str)
            .unwrap_or("thing");
        *self.prefix.lock().unwrap() = prefix.to_owned();
        Diagnostics::new()
    }

    async fn plan_resource_change(&self, request: PlanRequest) -> PlanResponse {
        trace(format!("plan {}", request.type_name));
        let planned_state = plan_computed(&thing_block(), &request);
        let mut requires_replace = Vec::new();
        if !request.prior_state.is_null()
            && request.prior_state.get("name") != planned_state.get("name")
        {
            requires_replace.push(AttributePath::new("name"));
        }
        PlanResponse {
            planned_state,
            requires_replace,
            ..PlanResponse::default()
        }
    }

    async fn apply_resource_change(&self, request: ApplyRequest) -> ApplyResponse {
        let mut new_state = request.planned_state;
        if new_state.is_null() {
            trace("apply destroy");
            return ApplyResponse::default();
        }
        trace(format!(
            "apply {}",
            if request.prior_state.is_null() {
                "create"
            } else {
                "update"
            }
        ));
        if !new_state.get("id").is_some_and(Value::is_known) {
            let name = new_state
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let prefix = self.prefix.lock().unwrap().clone();
            new_state.set("id", Value::from(format!("{prefix}-{name}")));
        }
        ApplyResponse {
            new_state,
            ..ApplyResponse::default()
        }
    }

    async fn import_resource_state(&self, request: ImportRequest) -> ImportResponse {
        trace(format!("import {}", request.id));
        let name = request
            .id
            .rsplit_once('-')
            .map_or(request.id.as_str(), |(_, n)| n);
        ImportResponse {
            imported: vec![ImportedResource {
                type_name: request.type_name,
                state: Value::object([
                    ("id", Value::from(request.id.as_str())),
                    ("name", Value::from(name)),
                ]),
                private: Vec::new(),
            }],
            diagnostics: Diagnostics::new(),
        }
    }

    async fn read_data_source(&self, request: ReadDataRequest) -> ReadDataResponse {
        trace(format!("read {}", request.type_name));
        let mut state = request.config;
        let input = state.get("input").cloned().unwrap_or_default();
        state.set("output", input);
        ReadDataResponse {
            state,
            diagnostics: Diagnostics::new(),
        }
    }
}

#[tokio::main(worker_threads = 2)]
async fn main() {
    tfplugin::serve(IomTest::default()).await;
}
