//! Translation between the crate's Rust types and the generated wire types.
//! Only the gRPC layer uses this; providers never see a wire type.

use crate::diagnostics::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::schema::{
    Attribute, AttributeType, Block, DescriptionKind, Function, Nesting, ObjectNesting, Parameter,
    Schema,
};
use crate::value::{Type, Value};
use crate::wire::tfplugin6 as w;

pub(crate) fn diagnostics(diags: Diagnostics) -> Vec<w::Diagnostic> {
    diags.into_iter().map(diagnostic).collect()
}

fn diagnostic(d: Diagnostic) -> w::Diagnostic {
    let severity = match d.severity {
        Severity::Error => w::diagnostic::Severity::Error,
        Severity::Warning => w::diagnostic::Severity::Warning,
    };
    w::Diagnostic {
        severity: severity as i32,
        summary: d.summary,
        detail: d.detail,
        attribute: d.attribute.as_ref().map(path),
    }
}

pub(crate) fn path(p: &AttributePath) -> w::AttributePath {
    use w::attribute_path::step::Selector;
    let steps = p
        .steps()
        .iter()
        .map(|step| w::attribute_path::Step {
            selector: Some(match step {
                PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                PathStep::Index(i) => Selector::ElementKeyInt(*i),
            }),
        })
        .collect();
    w::AttributePath { steps }
}

/// Decodes a value Terraform sent. An absent value is null: Terraform leaves
/// out, for example, the prior state of a resource being created.
pub(crate) fn decode(value: Option<w::DynamicValue>, ty: &Type) -> Result<Value, Diagnostic> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        Value::from_msgpack(&value.msgpack, ty)
    } else if !value.json.is_empty() {
        Value::from_json(&value.json, ty)
    } else {
        Ok(Value::Null)
    };
    decoded.map_err(|e| {
        Diagnostic::error(
            "Invalid value from Terraform",
            format!("The provider could not read a value Terraform sent: {e}"),
        )
        .at(e.path)
    })
}

/// Encodes a value for Terraform, always as msgpack (what Terraform expects
/// in responses). A value that does not fit the schema is a provider bug.
pub(crate) fn encode(value: &Value, ty: &Type) -> Result<w::DynamicValue, Diagnostic> {
    value
        .to_msgpack(ty)
        .map(|msgpack| w::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Provider returned an invalid value",
                format!("This is a bug in the provider: a value does not fit its schema: {e}"),
            )
            .at(e.path)
        })
}

pub(crate) fn schema(s: &Schema) -> w::Schema {
    w::Schema {
        version: s.version,
        block: Some(block(&s.block, s.version)),
    }
}

fn block(b: &Block, version: i64) -> w::schema::Block {
    w::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b
            .blocks
            .iter()
            .map(|nb| {
                use w::schema::nested_block::NestingMode as M;
                let nesting = match nb.nesting {
                    Nesting::Single => M::Single,
                    Nesting::Group => M::Group,
                    Nesting::List => M::List,
                    Nesting::Set => M::Set,
                    Nesting::Map => M::Map,
                };
                w::schema::NestedBlock {
                    type_name: nb.type_name.clone(),
                    block: Some(block(&nb.block, version)),
                    nesting: nesting as i32,
                    min_items: nb.min_items,
                    max_items: nb.max_items,
                }
            })
            .collect(),
        description: b.description.clone(),
        description_kind: kind(b.description_kind),
        deprecated: b.deprecated,
        deprecation_message: String::new(),
    }
}

fn attribute(a: &Attribute) -> w::schema::Attribute {
    let (ty, nested_type) = match &a.ty {
        AttributeType::Type(ty) => (ty.to_json(), None),
        AttributeType::Nested(nested) => {
            use w::schema::object::NestingMode as M;
            let nesting = match nested.nesting {
                ObjectNesting::Single => M::Single,
                ObjectNesting::List => M::List,
                ObjectNesting::Set => M::Set,
                ObjectNesting::Map => M::Map,
            };
            #[allow(deprecated)] // min/max_items: still read by Terraform 1.0-1.2
            let object = w::schema::Object {
                attributes: nested.attributes.iter().map(attribute).collect(),
                nesting: nesting as i32,
                min_items: 0,
                max_items: 0,
            };
            (Vec::new(), Some(object))
        }
    };
    w::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: kind(a.description_kind),
        deprecated: a.deprecated,
        write_only: a.write_only,
        deprecation_message: String::new(),
    }
}

pub(crate) fn function(f: &Function) -> w::Function {
    w::Function {
        parameters: f.parameters.iter().map(parameter).collect(),
        variadic_parameter: None,
        r#return: Some(w::function::Return {
            r#type: f.return_type.to_json(),
        }),
        summary: f.summary.clone(),
        description: f.description.clone(),
        description_kind: kind(f.description_kind),
        deprecation_message: String::new(),
    }
}

fn parameter(p: &Parameter) -> w::function::Parameter {
    w::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json(),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.clone(),
        description_kind: kind(DescriptionKind::Plain),
    }
}

fn kind(k: DescriptionKind) -> i32 {
    match k {
        DescriptionKind::Plain => w::StringKind::Plain as i32,
        DescriptionKind::Markdown => w::StringKind::Markdown as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NestedBlock;

    #[test]
    fn schema_attributes_carry_type_json() {
        let s = Schema::new(
            Block::new()
                .attribute(Attribute::required("name", Type::String))
                .block(NestedBlock::new("rule", Nesting::List, Block::new())),
        )
        .version(2);
        let wire = schema(&s);
        let b = wire.block.unwrap();
        assert_eq!(b.version, 2);
        assert_eq!(b.attributes[0].r#type, br#""string""#);
        assert!(b.attributes[0].required);
        assert_eq!(
            b.block_types[0].nesting,
            w::schema::nested_block::NestingMode::List as i32
        );
    }

    #[test]
    fn absent_values_decode_as_null() {
        assert_eq!(decode(None, &Type::String).unwrap(), Value::Null);
        let bad = w::DynamicValue {
            msgpack: vec![0xc3],
            json: vec![],
        };
        let err = decode(Some(bad), &Type::String).unwrap_err();
        assert_eq!(err.summary, "Invalid value from Terraform");
    }
}
