//! Contract inputs: checking the values a module call receives against a contract's
//! `input` blocks, and expanding `{{ inputs.NAME }}` in contract strings. Shared by
//! plan-guard (inputs from the plan) and the provider's `iom_contract_check` data source
//! (inputs from configuration). Messages name inputs and the contract's own limits, never
//! the value received: a module input may be sensitive.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::objects::{Contract, ContractInput};

/// An input value as a plan or a configuration gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum InputValue {
    /// Known at plan time.
    Known(Value),
    /// Known only after apply.
    Unknown,
}

/// Why one input breaks its contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputViolation {
    /// The input's name.
    pub input: String,
    /// What is wrong with its value, without the value.
    pub message: String,
    /// The value is unknown until apply, so the input could not be checked: the caller
    /// decides with `on_unknown` instead.
    pub unknown: bool,
}

/// Checks every declared input of `contract` against `inputs`. Inputs the contract does
/// not declare are not its business and are ignored.
pub fn check_contract_inputs(
    contract: &Contract,
    inputs: &BTreeMap<String, InputValue>,
) -> Vec<InputViolation> {
    let mut out = Vec::new();
    for decl in &contract.input {
        let violation = |message: String, unknown: bool| InputViolation {
            input: decl.name.clone(),
            message,
            unknown,
        };
        match inputs.get(&decl.name) {
            None | Some(InputValue::Known(Value::Null)) => {
                if decl.required {
                    out.push(violation(
                        format!("required input `{}` is missing", decl.name),
                        false,
                    ));
                }
            }
            Some(InputValue::Unknown) => {
                if checks_anything(decl) {
                    out.push(violation(
                        format!("input `{}` is unknown until apply", decl.name),
                        true,
                    ));
                }
            }
            Some(InputValue::Known(v)) => {
                if let Some(message) = problem(decl, v) {
                    out.push(violation(message, false));
                }
            }
        }
    }
    out
}

fn checks_anything(decl: &ContractInput) -> bool {
    decl.ty.as_deref().is_some_and(|t| t != "any")
        || !decl.allowed.is_empty()
        || decl.min.is_some()
        || decl.max.is_some()
        || decl.pattern.is_some()
}

fn problem(decl: &ContractInput, v: &Value) -> Option<String> {
    let name = &decl.name;
    if let Some(ty) = decl.ty.as_deref() {
        let ok = match ty {
            "string" => v.is_string(),
            "number" => v.is_number(),
            "bool" => v.is_boolean(),
            "list" => v.is_array(),
            "map" => v.is_object(),
            _ => true,
        };
        if !ok {
            return Some(format!("input `{name}` must be a {ty}, got a {}", kind(v)));
        }
    }
    // Without a declared type, Terraform converts between primitives (1 and "1" are the
    // same value to a module variable with no type), and so do we; a provider-written
    // enum, which Terraform hands over as strings, then means what the HCL said.
    let matches = |a: &Value| {
        same(a, v)
            || (decl.ty.is_none() && is_primitive(a) && is_primitive(v) && display(a) == display(v))
    };
    if !decl.allowed.is_empty() && !decl.allowed.iter().any(matches) {
        let allowed: Vec<String> = decl.allowed.iter().map(display).collect();
        return Some(format!(
            "input `{name}` must be one of {}",
            allowed.join(", ")
        ));
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = decl.min.filter(|&m| n < m) {
            return Some(format!("input `{name}` is below its minimum {min}"));
        }
        if let Some(max) = decl.max.filter(|&m| n > m) {
            return Some(format!("input `{name}` is above its maximum {max}"));
        }
    }
    if let (Some(pattern), Some(s)) = (&decl.pattern, v.as_str()) {
        // A pattern must match the whole value (as the docs say): "[a-z]+" is not met by
        // "Bad Name". Validation guarantees the pattern compiles; a model built by hand may not.
        let matched = regex::Regex::new(&format!("^(?:{pattern})$")).map(|re| re.is_match(s));
        if !matched.unwrap_or(false) {
            return Some(format!(
                "input `{name}` does not match the pattern `{pattern}`"
            ));
        }
    }
    None
}

/// Equality as Terraform sees it: numbers compare by value, `"3"` is not `3`.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn is_primitive(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Expands `{{ inputs.NAME }}` (spaces optional) with the known string, number or bool
/// value of input NAME. Returns the name of the first input that cannot be expanded.
pub fn expand_inputs(text: &str, inputs: &BTreeMap<String, InputValue>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + len].trim();
        let Some(name) = inner.strip_prefix("inputs.") else {
            out.push_str(&rest[..start + len + 2]);
            rest = &rest[start + len + 2..];
            continue;
        };
        let value = match inputs.get(name) {
            Some(InputValue::Known(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_)))) => {
                display(v)
            }
            _ => return Err(name.to_string()),
        };
        out.push_str(&rest[..start]);
        out.push_str(&value);
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        let input = |name: &str, ty: &str| ContractInput {
            name: name.into(),
            ty: Some(ty.into()),
            ..Default::default()
        };
        Contract {
            name: "deploy".into(),
            input: vec![
                ContractInput {
                    required: true,
                    allowed: vec![json!("lab"), json!("prod")],
                    ..input("env", "string")
                },
                ContractInput {
                    min: Some(1.0),
                    max: Some(10.0),
                    ..input("replicas", "number")
                },
                ContractInput {
                    pattern: Some("^[a-z]+-[0-9]+$".into()),
                    ..input("ticket", "string")
                },
            ],
            ..Default::default()
        }
    }

    fn inputs(pairs: &[(&str, InputValue)]) -> BTreeMap<String, InputValue> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn messages(pairs: &[(&str, InputValue)]) -> Vec<String> {
        check_contract_inputs(&contract(), &inputs(pairs))
            .into_iter()
            .map(|v| v.message)
            .collect()
    }

    use InputValue::{Known, Unknown};

    #[test]
    fn good_inputs_pass_and_undeclared_ones_are_ignored() {
        let ok = messages(&[
            ("env", Known(json!("prod"))),
            ("replicas", Known(json!(3))),
            ("ticket", Known(json!("chg-42"))),
            ("other", Known(json!({"x": 1}))),
        ]);
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn each_limit_is_named() {
        assert_eq!(messages(&[]), ["required input `env` is missing"]);
        assert_eq!(
            messages(&[("env", Known(json!("dev")))]),
            ["input `env` must be one of lab, prod"]
        );
        assert_eq!(
            messages(&[("env", Known(json!(5)))]),
            ["input `env` must be a string, got a number"]
        );
        let m = messages(&[
            ("env", Known(json!("lab"))),
            ("replicas", Known(json!(11))),
            ("ticket", Known(json!("CHG 1"))),
        ]);
        assert_eq!(
            m,
            [
                "input `replicas` is above its maximum 10",
                "input `ticket` does not match the pattern `^[a-z]+-[0-9]+$`"
            ]
        );
        assert_eq!(
            messages(&[("env", Known(json!("lab"))), ("replicas", Known(json!(0)))]),
            ["input `replicas` is below its minimum 1"]
        );
    }

    #[test]
    fn an_untyped_input_compares_primitives_as_terraform_converts_them() {
        let c = Contract {
            name: "c".into(),
            input: vec![ContractInput {
                name: "n".into(),
                allowed: vec![json!("1"), json!("true")],
                ..Default::default()
            }],
            ..Default::default()
        };
        let judge = |v: Value| check_contract_inputs(&c, &inputs(&[("n", Known(v))])).len();
        assert_eq!(judge(json!(1)), 0);
        assert_eq!(judge(json!(true)), 0);
        assert_eq!(judge(json!(2)), 1);
        // A typed input stays strict: "3" is not 3.
        assert_eq!(
            messages(&[
                ("env", Known(json!("lab"))),
                ("replicas", Known(json!("3")))
            ])
            .len(),
            1
        );
    }

    #[test]
    fn a_pattern_must_match_the_whole_value() {
        let mut c = contract();
        c.input[2].pattern = Some("[a-z]+".into());
        let judge = |v: &str| {
            check_contract_inputs(
                &c,
                &inputs(&[("env", Known(json!("lab"))), ("ticket", Known(json!(v)))]),
            )
            .len()
        };
        assert_eq!(judge("abc"), 0);
        assert_eq!(judge("Bad Name"), 1, "a substring match is not enough");
        assert_eq!(judge("abc1"), 1);
    }

    #[test]
    fn unknown_values_are_flagged_not_judged() {
        let v = check_contract_inputs(
            &contract(),
            &inputs(&[("env", Unknown), ("replicas", Known(json!(2)))]),
        );
        assert_eq!(v.len(), 1);
        assert!(v[0].unknown && v[0].input == "env");
    }

    #[test]
    fn messages_never_quote_the_value() {
        let v = messages(&[("env", Known(json!("s3cr3t-canary")))]);
        assert!(v.iter().all(|m| !m.contains("s3cr3t")), "{v:?}");
    }

    #[test]
    fn templates_expand_known_scalars() {
        let i = inputs(&[("env", Known(json!("prod"))), ("n", Known(json!(2)))]);
        assert_eq!(
            expand_inputs("{{ inputs.env }}-safe", &i).unwrap(),
            "prod-safe"
        );
        assert_eq!(
            expand_inputs("x{{inputs.n}}y{{ other }}", &i).unwrap(),
            "x2y{{ other }}"
        );
        assert_eq!(
            expand_inputs("{{ inputs.missing }}", &i).unwrap_err(),
            "missing"
        );
        let u = inputs(&[("env", Unknown)]);
        assert_eq!(expand_inputs("{{ inputs.env }}", &u).unwrap_err(), "env");
    }
}
