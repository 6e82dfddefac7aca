//! The provider-defined functions (Terraform 1.8+, `provider::iom::NAME(...)`): the
//! governance model answering questions inside a configuration, so a module's
//! `validation`, `precondition` and `check` blocks fail `terraform plan` in the model's own
//! words.
//!
//! Declared once here ([`declarations`]): the declarations drive the protocol answer,
//! `terraform providers schema -json` and the pages in `docs/functions/`.
//!
//! Every function reads the model store. Terraform calls functions on a provider process
//! of their own that it never configures, so the `provider "iom"` block's `store` never
//! reaches them: they open the store `$IOM_STORE` names, else `sqlite://.iom/model.db`
//! in the working directory (the provider's own fallback), read-only, and never create
//! one. No parameter accepts an unknown value: Terraform then answers an unknown result
//! itself, without calling the provider. Terraform removes sensitive marks before the
//! call and cannot tell the provider which arguments had them, so no error quotes an
//! argument's value: errors name the argument and list what the store holds instead.

use std::collections::BTreeMap;

use iom_model::{ActionClass, InputValue, Kind, Model, Object, check_contract_inputs};
use iom_store::Store;
use tfplugin::{Function, FunctionResponse, Parameter, Type, Value};

/// Documentation of one function beyond its declaration: an example for its page.
pub struct FunctionDoc {
    /// Called as `provider::iom::NAME`.
    pub name: &'static str,
    /// The declaration Terraform gets.
    pub function: Function,
    /// HCL for the page's example.
    pub example: &'static str,
}

/// Every function, with its page's example.
pub fn documented() -> Vec<FunctionDoc> {
    vec![
        FunctionDoc {
            name: "contract_violations",
            function: Function::new(
                Type::list(Type::String),
                "Why a module's inputs break a stored contract",
            )
            .description(
                "Checks a module's inputs against the `iom_contract` of that name in the model \
                 store: declared types, allowed values, ranges, patterns and required inputs. \
                 Returns one message per violation, in the contract's words, and an empty \
                 list when the inputs meet it. The messages name the input and the rule, \
                 never the value given.",
            )
            .parameter(Parameter::new(
                "contract",
                Type::String,
                "Name of the iom_contract.",
            ))
            .parameter(Parameter::new(
                "inputs",
                Type::Dynamic,
                "The module's inputs, as an object or map from input name to value.",
            )),
            example: CONTRACT_VIOLATIONS_EXAMPLE,
        },
        FunctionDoc {
            name: "governs",
            function: Function::new(
                Type::Bool,
                "Whether an intent, or any intent of a workspace, governs an address",
            )
            .description(
                "With the name of an `iom_intent` in the model store, true when that intent's \
                 module scope covers the resource address. Any other name is taken as a \
                 Terraform workspace: true when an intent whose workspace scope covers it \
                 governs the address (an intent's name wins over a workspace of the same name).",
            )
            .parameter(Parameter::new(
                "intent_or_workspace",
                Type::String,
                "Name of an iom_intent, or of a Terraform workspace.",
            ))
            .parameter(Parameter::new(
                "address",
                Type::String,
                "A resource (instance) address, such as `module.payments.aws_db_instance.ledger`.",
            )),
            example: GOVERNS_EXAMPLE,
        },
        FunctionDoc {
            name: "profile_outcome",
            function: Function::new(
                Type::String,
                "The outcome a stored profile gives an action class",
            )
            .description(
                "The outcome (`allow`, `warn`, `escalate` or `block`) the `iom_profile` of that \
                 name gives a change of one action class (`create`, `update`, `replace`, \
                 `delete`, `read`, `forget`, `invoke`, `move`); a class the profile does not \
                 list is `allow`, as in plan-guard.",
            )
            .parameter(Parameter::new(
                "profile",
                Type::String,
                "Name of the iom_profile.",
            ))
            .parameter(Parameter::new("action", Type::String, "An action class.")),
            example: PROFILE_OUTCOME_EXAMPLE,
        },
    ]
}

/// The function declarations, by name.
pub fn declarations() -> BTreeMap<String, Function> {
    documented()
        .into_iter()
        .map(|d| (d.name.to_string(), d.function))
        .collect()
}

/// Answers one call against `store`, with `arguments` of the declared types, known and
/// not null (Terraform has seen to that).
pub fn call(store: &Store, name: &str, arguments: &[Value]) -> FunctionResponse {
    let text = |i: usize| arguments.get(i).and_then(Value::as_str).unwrap_or_default();
    let answer = match name {
        "contract_violations" => contract_violations(store, text(0), arguments.get(1)),
        "governs" => governs(store, text(0), text(1)),
        "profile_outcome" => profile_outcome(store, text(0), text(1)),
        other => Err(Failure(
            format!("This provider has no function {other:?}."),
            None,
        )),
    };
    match answer {
        Ok(result) => FunctionResponse::ok(result),
        Err(Failure(text, argument)) => FunctionResponse::error(text, argument),
    }
}

/// A failed call: the text and the index of the argument at fault.
struct Failure(String, Option<usize>);

fn store_error(store: &Store, e: impl std::fmt::Display) -> Failure {
    Failure(
        format!("cannot read the model store {}: {e}", store.url()),
        None,
    )
}

fn contract_violations(
    store: &Store,
    contract: &str,
    inputs: Option<&Value>,
) -> Result<Value, Failure> {
    let found = store
        .get(Kind::Contract, contract)
        .map_err(|e| store_error(store, e))?;
    let Some(Object::Contract(contract)) = found.map(|s| s.object) else {
        return Err(missing(store, Kind::Contract, 0));
    };
    let inputs = match inputs {
        Some(Value::Object(m) | Value::Map(m)) => m,
        _ => {
            return Err(Failure(
                "must be an object or a map of the module's inputs by name".into(),
                Some(1),
            ));
        }
    };
    let inputs: BTreeMap<String, InputValue> = inputs
        .iter()
        .map(|(name, v)| (name.clone(), InputValue::Known(json_of(v))))
        .collect();
    let messages = check_contract_inputs(&contract, &inputs)
        .into_iter()
        .map(|v| Value::from(format!("contract {}: {}", contract.name, v.message)))
        .collect();
    Ok(Value::List(messages))
}

fn governs(store: &Store, intent_or_workspace: &str, address: &str) -> Result<Value, Failure> {
    let model = compiled(store)?;
    let named = model.intents.iter().find(|i| i.name == intent_or_workspace);
    let governed = match named {
        Some(intent) => intent.governs_address(address),
        None => model
            .intents
            .iter()
            .filter(|i| i.governs_workspace(intent_or_workspace))
            .any(|i| i.governs_address(address)),
    };
    Ok(Value::from(governed))
}

fn profile_outcome(store: &Store, profile: &str, action: &str) -> Result<Value, Failure> {
    let model = compiled(store)?;
    let profile = model
        .profiles
        .get(profile)
        .ok_or_else(|| missing(store, Kind::Profile, 0))?;
    let class: ActionClass = action.parse().map_err(|_| {
        let classes: Vec<&str> = ActionClass::ALL.iter().map(|c| c.as_str()).collect();
        Failure(
            format!(
                "is not an action class: expected one of {}",
                classes.join(", ")
            ),
            Some(1),
        )
    })?;
    Ok(Value::from(profile.outcome_of(class).as_str()))
}

fn compiled(store: &Store) -> Result<Model, Failure> {
    let (spec, _) = store.load_model().map_err(|e| store_error(store, e))?;
    Model::compile(spec).map_err(|problems| {
        let first = problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        store_error(store, format!("the stored model does not compile: {first}"))
    })
}

/// The error for a name the store does not hold, listing the names it does.
fn missing(store: &Store, kind: Kind, argument: usize) -> Failure {
    let names: Vec<String> = store
        .list()
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.object.kind() == kind)
        .map(|s| s.object.key())
        .collect();
    let held = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    Failure(
        format!(
            "the model store {} holds no {} of that name (it holds: {held})",
            store.url(),
            kind.resource_type()
        ),
        Some(argument),
    )
}

/// A Terraform value as the JSON the contract checks read.
fn json_of(v: &Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match v {
        Value::Null | Value::Unknown => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => n.as_i64().map_or_else(
            || serde_json::Number::from_f64(n.as_f64()).map_or(Json::Null, Json::Number),
            Json::from,
        ),
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            Json::Array(items.iter().map(json_of).collect())
        }
        Value::Map(m) | Value::Object(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), json_of(v))).collect())
        }
    }
}

const CONTRACT_VIOLATIONS_EXAMPLE: &str = r#"variable "instance_class" {
  type = string
}

variable "storage_gb" {
  type = number
}

resource "terraform_data" "db" {
  input = { class = var.instance_class, storage_gb = var.storage_gb }

  lifecycle {
    precondition {
      condition = length(provider::iom::contract_violations("postgres-db", {
        instance_class = var.instance_class
        storage_gb     = var.storage_gb
      })) == 0
      error_message = join("\n", provider::iom::contract_violations("postgres-db", {
        instance_class = var.instance_class
        storage_gb     = var.storage_gb
      }))
    }
  }
}
"#;

const GOVERNS_EXAMPLE: &str = r#"check "ledger_is_governed" {
  assert {
    condition     = provider::iom::governs(terraform.workspace, "module.payments.aws_db_instance.ledger")
    error_message = "No IOM intent governs the ledger database in this workspace."
  }
}
"#;

const PROFILE_OUTCOME_EXAMPLE: &str = r#"output "deleting_in_prod" {
  # "block" with the example governance
  value = provider::iom::profile_outcome("prod-safe", "delete")
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_declared_with_described_parameters() {
        let declared = declarations();
        assert_eq!(
            declared.keys().collect::<Vec<_>>(),
            ["contract_violations", "governs", "profile_outcome"]
        );
        for (name, f) in &declared {
            assert!(!f.summary.is_empty() && !f.description.is_empty(), "{name}");
            for p in &f.parameters {
                assert!(!p.description.is_empty(), "{name}.{}", p.name);
                assert!(!p.allow_unknown && !p.allow_null, "{name}.{}", p.name);
            }
        }
    }

    /// A SQLite store holding a small model.
    fn store(label: &str) -> Store {
        let dir = std::env::temp_dir().join(format!("iom-fn-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&format!("sqlite://{}/model.db", dir.display())).unwrap();
        let spec = iom_model::load_str(
            "model.tf",
            r#"
resource "iom_profile" "prod" {
  name    = "prod-safe"
  actions = { delete = "block", replace = "escalate" }
}
resource "iom_intent" "payments" {
  name    = "payments-prod"
  profile = "prod-safe"
  scope {
    workspaces = ["payments-*"]
    modules    = ["module.payments"]
  }
}
resource "iom_contract" "svc" {
  name   = "svc"
  module = "module.payments"
  input {
    name     = "env"
    type     = "string"
    required = true
    enum     = ["lab", "prod"]
  }
  input {
    name = "replicas"
    type = "number"
    max  = 10
  }
}
"#,
        )
        .unwrap();
        for p in spec.profiles {
            store.put(&Object::Profile(p)).unwrap();
        }
        for i in spec.intents {
            store.put(&Object::Intent(i)).unwrap();
        }
        for c in spec.contracts {
            store.put(&Object::Contract(c)).unwrap();
        }
        store
    }

    fn answer(
        store: &Store,
        name: &str,
        arguments: &[Value],
    ) -> Result<Value, (String, Option<usize>)> {
        let out = call(store, name, arguments);
        match out.error {
            Some(e) => Err((e.text, e.argument)),
            None => Ok(out.result),
        }
    }

    #[test]
    fn functions_answer_from_the_store_and_name_the_argument_at_fault() {
        let store = store("answers");
        let inputs = |env: &str, replicas: i64| {
            Value::object([
                ("env", Value::from(env)),
                ("replicas", Value::from(replicas)),
            ])
        };
        let bad = answer(
            &store,
            "contract_violations",
            &["svc".into(), inputs("qa-s3cret", 12)],
        );
        assert_eq!(
            bad,
            Ok(Value::List(vec![
                "contract svc: input `env` must be one of lab, prod".into(),
                "contract svc: input `replicas` is above its maximum 10".into(),
            ]))
        );
        let good = answer(
            &store,
            "contract_violations",
            &["svc".into(), inputs("prod", 3)],
        );
        assert_eq!(good, Ok(Value::List(Vec::new())));
        let missing = Value::object::<String>([]);
        let Ok(Value::List(required)) =
            answer(&store, "contract_violations", &["svc".into(), missing])
        else {
            panic!("a list");
        };
        assert_eq!(required.len(), 1);
        let (text, argument) = answer(
            &store,
            "contract_violations",
            &["s3cret-name".into(), inputs("prod", 1)],
        )
        .unwrap_err();
        assert_eq!(argument, Some(0));
        assert!(
            text.contains("holds no iom_contract of that name (it holds: svc)"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
        let (_, argument) = answer(
            &store,
            "contract_violations",
            &["svc".into(), "text".into()],
        )
        .unwrap_err();
        assert_eq!(argument, Some(1));

        let governs =
            |who: &str, address: &str| answer(&store, "governs", &[who.into(), address.into()]);
        assert_eq!(
            governs("payments-prod", "module.payments.aws_db.x"),
            Ok(true.into())
        );
        assert_eq!(
            governs("payments-prod", "module.network.aws_vpc.x"),
            Ok(false.into())
        );
        assert_eq!(
            governs("payments-eu", "module.payments.aws_db.x"),
            Ok(true.into())
        );
        assert_eq!(
            governs("staging", "module.payments.aws_db.x"),
            Ok(false.into())
        );

        let outcome = |profile: &str, action: &str| {
            answer(&store, "profile_outcome", &[profile.into(), action.into()])
        };
        assert_eq!(outcome("prod-safe", "delete"), Ok("block".into()));
        assert_eq!(outcome("prod-safe", "create"), Ok("allow".into()));
        assert_eq!(outcome("prod-safe", "explode").unwrap_err().1, Some(1));
        assert_eq!(outcome("dev", "delete").unwrap_err().1, Some(0));
    }

    #[test]
    fn values_become_the_json_contracts_read() {
        let v = Value::object([
            ("n", Value::from(3)),
            ("s", Value::from("x")),
            ("l", Value::Tuple(vec![Value::from(true), Value::Null])),
        ]);
        assert_eq!(
            json_of(&v),
            serde_json::json!({"n": 3, "s": "x", "l": [true, null]})
        );
    }
}
