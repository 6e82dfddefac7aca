//! Registry-layout docs (`docs/index.md`, `docs/resources/*.md`, `docs/data-sources/*.md`,
//! `docs/functions/*.md`, `docs/actions/*.md`)
//! rendered from the schema, so what `terraform providers schema -json` says and what the
//! pages say cannot drift apart. `provider/tests/docs.rs` checks the committed pages.

use std::fmt::Write as _;

use iom_model::Kind;
use iom_model::schema::{AttributeSchema, Presence};
use tfplugin::{Block, Schema, Type};

/// Every page: (path under `docs/`, text).
pub fn pages() -> Vec<(String, String)> {
    let mut out = vec![("index.md".to_string(), index())];
    for kind in Kind::ALL {
        let s = kind.schema();
        let name = s.resource_type.trim_start_matches("iom_");
        let mut page = header(s.resource_type, "Resource", s.description);
        let _ = writeln!(page, "## Example Usage\n\n```hcl\n{}```\n", example(kind));
        page.push_str("## Argument Reference\n\n");
        for a in s
            .attributes
            .iter()
            .filter(|a| a.presence != Presence::Computed)
        {
            page.push_str(&argument(a));
        }
        for b in s.blocks {
            let _ = writeln!(
                page,
                "* `{}` ({}) {}\n",
                b.name,
                if b.repeated {
                    "Block, repeatable"
                } else {
                    "Block, at most one"
                },
                b.description
            );
            for a in b.attributes {
                let _ = write!(page, "  {}", argument(a));
            }
            page.push('\n');
        }
        page.push_str("\n## Attribute Reference\n\n");
        for a in s
            .attributes
            .iter()
            .filter(|a| a.presence == Presence::Computed)
        {
            let _ = writeln!(page, "* `{}` {}", a.name, a.description);
        }
        let (how, id) = if kind == Kind::Blueprint {
            (
                "By `name@version`, or by bare name for the highest version",
                "NAME@VERSION",
            )
        } else {
            ("By name", "NAME")
        };
        let _ = writeln!(
            page,
            "\n## Import\n\n{how}:\n\n```sh\nterraform import {}.example {id}\n```",
            s.resource_type
        );
        out.push((format!("resources/{name}.md"), page));
    }
    for (type_name, schema, example) in [
        (
            "iom_model",
            crate::schema::model_data_source(),
            MODEL_EXAMPLE,
        ),
        (
            "iom_contract_check",
            crate::schema::contract_check_data_source(),
            CONTRACT_CHECK_EXAMPLE,
        ),
    ] {
        let block = &schema.block;
        let mut page = header(type_name, "Data Source", &block.description);
        let _ = writeln!(page, "## Example Usage\n\n```hcl\n{example}```\n");
        page.push_str(&block_reference(&schema));
        out.push((
            format!("data-sources/{}.md", type_name.trim_start_matches("iom_")),
            page,
        ));
    }
    for f in crate::functions::documented() {
        out.push((format!("functions/{}.md", f.name), function_page(&f)));
    }
    for (type_name, schema, example) in crate::actions::schemas() {
        let block = &schema.block;
        let mut page = header(type_name, "Action", &block.description);
        let _ = writeln!(page, "## Example Usage\n\n```hcl\n{example}```\n");
        page.push_str(&block_reference(&schema).replacen(
            "## Argument Reference",
            "## Argument Reference (in `config`)",
            1,
        ));
        page.push_str(ACTION_STORE);
        out.push((
            format!("actions/{}.md", type_name.trim_start_matches("iom_")),
            page,
        ));
    }
    out
}

const ACTION_STORE: &str = "
## Store

Actions run on the configured provider: they read the contract from, and record into, the \
store of the `provider \"iom\"` block (`store`, else `$IOM_STORE`, else \
`sqlite://.iom/model.db`). Actions need Terraform 1.14 or newer; older versions do not know \
the `action` block.
";

const FUNCTION_STORE: &str = "
## Store

Terraform calls provider functions on a provider process of their own that it never \
configures, so the `store` of the `provider \"iom\"` block does not reach them: a function \
reads the store `$IOM_STORE` names, else `sqlite://.iom/model.db` in the working directory, \
read-only (a store that does not exist is an error, never created). Set `IOM_STORE` when the \
provider block names another store. An unknown argument makes the result unknown (Terraform \
does not call the provider until it is known); errors name the argument at fault but never \
quote its value, which may be sensitive. Terraform checks at apply that each call returns \
what it returned at plan: a store changed in between fails the apply. Functions need \
Terraform 1.8 or newer (OpenTofu 1.7 or newer).
";

/// A function's page in the registry layout: signature, then arguments in order.
fn function_page(f: &crate::functions::FunctionDoc) -> String {
    let d = &f.function;
    let mut page = format!(
        "---\npage_title: \"{name} function - iom\"\nsubcategory: \"\"\ndescription: |-\n  {summary}\n---\n\n# function: {name}\n\n{description}\n\n",
        name = f.name,
        summary = d.summary,
        description = d.description
    );
    let _ = writeln!(page, "## Example Usage\n\n```hcl\n{}```\n", f.example);
    let params: Vec<String> = d
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, type_words(&p.ty)))
        .collect();
    let _ = writeln!(
        page,
        "## Signature\n\n```text\n{}({}) {}\n```\n",
        f.name,
        params.join(", "),
        type_words(&d.return_type)
    );
    page.push_str("## Arguments\n\n");
    for (i, p) in d.parameters.iter().enumerate() {
        let _ = writeln!(
            page,
            "{}. `{}` ({}) {}",
            i + 1,
            p.name,
            capitalised(&type_words(&p.ty)),
            p.description
        );
    }
    page.push_str(FUNCTION_STORE);
    page
}

/// A type as the registry's function pages write it: `string`, `list of string`.
fn type_words(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Number => "number".into(),
        Type::String => "string".into(),
        Type::Dynamic => "dynamic".into(),
        Type::List(t) => format!("list of {}", type_words(t)),
        Type::Set(t) => format!("set of {}", type_words(t)),
        Type::Map(t) => format!("map of {}", type_words(t)),
        Type::Object(_) => "object".into(),
        Type::Tuple(_) => "tuple".into(),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn header(type_name: &str, category: &str, description: &str) -> String {
    format!(
        "---\npage_title: \"{type_name} {category} - iom\"\nsubcategory: \"\"\ndescription: |-\n  {description}\n---\n\n# {type_name} ({category})\n\n{description}\n\n"
    )
}

fn argument(a: &AttributeSchema) -> String {
    let presence = match a.presence {
        Presence::Required => "Required",
        Presence::Optional => "Optional",
        Presence::Computed => "Computed",
    };
    let sensitive = if a.sensitive { ", Sensitive" } else { "" };
    format!("* `{}` ({presence}{sensitive}) {}\n", a.name, a.description)
}

fn block_reference(schema: &Schema) -> String {
    let block: &Block = &schema.block;
    let mut args = String::from("## Argument Reference\n\n");
    let mut attrs = String::from("\n## Attribute Reference\n\n");
    for a in &block.attributes {
        let line = format!("* `{}` {}\n", a.name, a.description);
        if a.required {
            args.push_str(&line.replacen("` ", "` (Required) ", 1));
        } else if a.optional {
            args.push_str(&line.replacen("` ", "` (Optional) ", 1));
        } else {
            attrs.push_str(&line);
        }
    }
    args + &attrs
}

fn index() -> String {
    let mut page = String::from(
        "---\npage_title: \"iom Provider\"\ndescription: |-\n  Declares the IOM governance model; applying it writes the model store plan-guard reads.\n---\n\n# iom Provider\n\n",
    );
    page.push_str(
        "The iom provider declares an Infrastructure Operating Model — profiles, blueprints, \
intents, contracts, elements, waivers and notifications — in HCL. Applying the configuration writes each \
object into the model store, under a model revision that grows with every change; \
`plan-guard check --store URL` then judges Terraform plans against it.\n\n",
    );
    page.push_str("## Example Usage\n\n```hcl\nterraform {\n  required_providers {\n    iom = {\n      source = \"iom-dev/iom\"\n    }\n  }\n}\n\nprovider \"iom\" {\n  store = \"sqlite://.iom/model.db\"\n}\n```\n\n");
    page.push_str(&block_reference(&crate::schema::provider()).replacen(
        "## Argument Reference",
        "## Schema",
        1,
    ));
    page.push_str(REFERENCES);
    page.push_str("\n## Resources\n\n");
    for kind in Kind::ALL {
        let t = kind.resource_type();
        let _ = writeln!(
            page,
            "* [`{t}`](resources/{}.md)",
            t.trim_start_matches("iom_")
        );
    }
    page.push_str("\n## Data Sources\n\n* [`iom_model`](data-sources/model.md)\n* [`iom_contract_check`](data-sources/contract_check.md)\n");
    page.push_str("\n## Functions (Terraform 1.8+)\n\n");
    for f in crate::functions::documented() {
        let _ = writeln!(
            page,
            "* [`provider::iom::{name}`](functions/{name}.md): {}",
            f.function.summary,
            name = f.name
        );
    }
    page.push_str("\n## Actions (Terraform 1.14+)\n\n");
    for (type_name, _, _) in crate::actions::schemas() {
        let _ = writeln!(
            page,
            "* [`{type_name}`](actions/{}.md)",
            type_name.trim_start_matches("iom_")
        );
    }
    page
}

const REFERENCES: &str = "
## References Between Objects

Objects name each other (an intent its `profile` and `blueprints`, a contract constraint its \
`profile`, an element its `depends_on_elements`). Every reference must resolve in the model \
store when the object is written, and an object still referenced cannot be deleted (the \
error names the referrers): an apply does not leave references to nothing, which every \
`plan-guard check` would reject.

A reference through the other resource (`profile = iom_profile.prod.name`, \
`blueprints = [iom_blueprint.storage.id]`) makes Terraform order the writes. A literal name \
(`profile = \"prod-safe\"`) gives Terraform no order: an apply then waits for the object \
named to be written by the creates running beside it, and a delete for its referrers to be \
deleted, up to 20 seconds (`IOM_REFERENCE_WAIT_MS` in the provider's environment changes \
the bound) before it fails. Renaming an object, or a new blueprint `version`, replaces it: \
Terraform deletes the old one, writes the new one, then updates the referrers, so between \
those writes the references name an object that is gone (declare the referenced resource \
with `lifecycle { create_before_destroy = true }` to close that window).
";

fn example(kind: Kind) -> &'static str {
    match kind {
        Kind::Profile => PROFILE_EXAMPLE,
        Kind::Blueprint => BLUEPRINT_EXAMPLE,
        Kind::Intent => INTENT_EXAMPLE,
        Kind::Contract => CONTRACT_EXAMPLE,
        Kind::Element => ELEMENT_EXAMPLE,
        Kind::Waiver => WAIVER_EXAMPLE,
        Kind::Notification => NOTIFICATION_EXAMPLE,
    }
}

const PROFILE_EXAMPLE: &str = r#"resource "iom_profile" "prod" {
  name             = "prod-safe"
  actions          = { create = "allow", update = "allow", replace = "escalate", delete = "block" }
  max_blast_radius = 20
  max_changes      = 100
  on_unknown       = "escalate"
  approvers        = ["alice", "group:platform"]
  groups           = { platform = ["bob", "carol"] }

  require_distinct_approver = true
}
"#;

const BLUEPRINT_EXAMPLE: &str = r#"resource "iom_blueprint" "storage" {
  name    = "encrypted-storage"
  version = "1.0.0"

  rule {
    id             = "sse-required"
    resource_types = ["aws_s3_bucket*"]
    actions        = ["create", "update", "replace"]
    condition      = "has(after.server_side_encryption_configuration)"
    outcome        = "block"
    message        = "buckets must be encrypted at rest"
  }

  module_rule {
    id        = "approved-sources"
    condition = "module_call.source.startsWith('./') || module_call.source.matches(r'^git::https://git\\.corp\\.example/modules\\.git//[a-z0-9-]+\\?ref=v[0-9]+\\.[0-9]+\\.[0-9]+$')"
    outcome   = "block"
    message   = "modules come from this repository or the company's module repository, at a release tag"
  }
}
"#;

const INTENT_EXAMPLE: &str = r#"resource "iom_intent" "payments" {
  name        = "payments-prod"
  purpose     = "customer payments, PCI scope"
  environment = "prod"
  owner       = "team-payments"
  profile     = iom_profile.prod.name
  blueprints  = ["encrypted-storage@1.0.0"]

  scope {
    workspaces = ["payments-*"]
    modules    = ["module.payments"]
  }

  allowed_resource_types = ["aws_*"]
  critical               = ["aws_db_instance.*"]

  constraint {
    id        = "eu-only"
    condition = "after.region in ['eu-west-1']"
    outcome   = "block"
  }
}
"#;

const CONTRACT_EXAMPLE: &str = r#"resource "iom_contract" "deploy_service" {
  name   = "deploy-service"
  module = "module.service*"

  input {
    name     = "env"
    type     = "string"
    required = true
    enum     = ["lab", "staging", "prod"]
  }

  pre_condition {
    check   = "profile_active"
    profile = "{{ inputs.env }}-safe"
  }

  constraint {
    profile        = "prod-safe"
    forbid_actions = ["delete", "replace"]
  }

  post_verify {
    probe         = "http"
    url           = "https://svc.internal/health"
    expect_status = 200
    retries       = 3
  }
}
"#;

const ELEMENT_EXAMPLE: &str = r#"resource "iom_element" "core_network" {
  name                = "core-network"
  kind                = "network"
  matches             = ["aws_vpc.main", "module.net.aws_vpc.*"]
  depends_on_elements = ["identity-provider"]
}
"#;

const WAIVER_EXAMPLE: &str = r#"resource "iom_waiver" "ledger_migration" {
  name        = "ledger-migration"
  source      = "intent:payments-prod"
  rule        = "critical"
  addresses   = ["module.payments.aws_db_instance.ledger*"]
  workspaces  = ["payments-*"]
  reason      = "CHG-1234: planned ledger migration"
  approved_by = "alice"
  expires     = "2026-12-31T23:59:59Z"
}
"#;

const NOTIFICATION_EXAMPLE: &str = r#"resource "iom_notification" "platform_oncall" {
  name       = "platform-oncall"
  url_env    = "IOM_NOTIFY_ONCALL" # the webhook URL, set where plan-guard runs
  on         = ["escalate", "block", "drift", "post_verify_failed"]
  workspaces = ["payments-*"]
}
"#;

const MODEL_EXAMPLE: &str = r#"data "iom_model" "current" {}

output "model_revision" {
  value = data.iom_model.current.revision
}
"#;

const CONTRACT_CHECK_EXAMPLE: &str = r#"data "iom_contract_check" "service" {
  contract = "deploy-service"
  inputs   = { env = var.env, replicas = tostring(var.replicas) }
}
"#;
