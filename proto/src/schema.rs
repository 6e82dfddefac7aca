//! Schemas: what a provider tells Terraform about its configuration and
//! every resource and data source type. Terraform derives from them the cty
//! type of each value it sends, so the same schema also drives decoding.

use std::collections::BTreeMap;

use crate::value::Type;

/// Everything Terraform asks for in `GetProviderSchema`.
#[derive(Clone, Debug, Default)]
pub struct ProviderSchema {
    /// The `provider "name" { ... }` block.
    pub provider: Schema,
    /// Resource types by name.
    pub resources: BTreeMap<String, Schema>,
    /// Data source types by name.
    pub data_sources: BTreeMap<String, Schema>,
    /// Provider-defined functions (Terraform 1.8+), called as
    /// `provider::NAME::FUNCTION(...)`. Older clients never ask for them.
    pub functions: BTreeMap<String, Function>,
    /// Actions (Terraform 1.14+) by type name, each with the schema of its
    /// `config` block. Older clients never ask for them.
    pub actions: BTreeMap<String, Schema>,
}

/// The signature and documentation of a provider-defined function.
#[derive(Clone, Debug)]
pub struct Function {
    /// Its parameters, in order.
    pub parameters: Vec<Parameter>,
    /// The type of its result.
    pub return_type: Type,
    /// One line, for the function listing.
    pub summary: String,
    /// Longer documentation.
    pub description: String,
    /// Whether `description` is plain text or Markdown.
    pub description_kind: DescriptionKind,
}

impl Function {
    /// A function returning `return_type`, summarised in one line.
    pub fn new(return_type: Type, summary: impl Into<String>) -> Self {
        Function {
            parameters: Vec::new(),
            return_type,
            summary: summary.into(),
            description: String::new(),
            description_kind: DescriptionKind::Plain,
        }
    }

    /// Adds the next parameter.
    pub fn parameter(mut self, parameter: Parameter) -> Self {
        self.parameters.push(parameter);
        self
    }

    /// Sets the longer documentation.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
}

/// One positional parameter of a function. Unless a parameter allows them,
/// Terraform itself answers a call with a null argument by an error and one
/// with an unknown argument by an unknown result, without calling the
/// provider.
#[derive(Clone, Debug)]
pub struct Parameter {
    /// The parameter's name, shown in errors.
    pub name: String,
    /// The type of the argument.
    pub ty: Type,
    /// What it means.
    pub description: String,
    /// Whether the provider is called with a null argument (else Terraform refuses it).
    pub allow_null: bool,
    /// Whether the provider is called with an unknown argument (else the result is unknown).
    pub allow_unknown: bool,
}

impl Parameter {
    /// A parameter that takes neither null nor unknown values.
    pub fn new(name: impl Into<String>, ty: Type, description: impl Into<String>) -> Self {
        Parameter {
            name: name.into(),
            ty,
            description: description.into(),
            allow_null: false,
            allow_unknown: false,
        }
    }
}

/// The schema of one block type, with the version stored state was written in.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Bump when stored state needs upgrading; Terraform then calls
    /// `upgrade_resource_state` with the old version.
    pub version: i64,
    /// The block's attributes and nested blocks.
    pub block: Block,
}

impl Schema {
    /// The schema of `block` at version 0.
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }

    /// Sets the schema version.
    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The type of values of this schema (an object type).
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// How a description is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DescriptionKind {
    /// Plain text.
    #[default]
    Plain,
    /// Markdown.
    Markdown,
}

/// A configuration block: attributes and nested blocks.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// Its attributes.
    pub attributes: Vec<Attribute>,
    /// Its nested blocks.
    pub blocks: Vec<NestedBlock>,
    /// What the block means.
    pub description: String,
    /// Whether `description` is plain text or Markdown.
    pub description_kind: DescriptionKind,
    /// Whether Terraform warns that it is deprecated.
    pub deprecated: bool,
}

impl Block {
    /// A block with nothing in it.
    pub fn new() -> Self {
        Block::default()
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Marks the description as Markdown.
    pub fn markdown(mut self) -> Self {
        self.description_kind = DescriptionKind::Markdown;
        self
    }

    /// An object type with one attribute per attribute and nested block.
    pub fn value_type(&self) -> Type {
        let attrs = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()));
        let blocks = self.blocks.iter().map(|b| {
            let object = b.block.value_type();
            let ty = match b.nesting {
                Nesting::Single | Nesting::Group => object,
                Nesting::List => Type::list(object),
                Nesting::Set => Type::set(object),
                Nesting::Map => Type::map(object),
            };
            (b.type_name.clone(), ty)
        });
        Type::Object(attrs.chain(blocks).collect())
    }

    /// The attribute called `name`, if there is one.
    pub fn attribute_named(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// What an attribute holds: a plain type, or (protocol 6 only) nested
/// attributes with their own required/optional/computed flags.
#[derive(Clone, Debug)]
pub enum AttributeType {
    /// A plain type.
    Type(Type),
    /// Nested attributes.
    Nested(NestedAttributes),
}

/// Attributes nested in an attribute (protocol 6).
#[derive(Clone, Debug)]
pub struct NestedAttributes {
    /// How the nested object repeats.
    pub nesting: ObjectNesting,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

/// How nested attributes repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectNesting {
    /// One object.
    Single,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects.
    Map,
}

/// One attribute of a block.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub ty: AttributeType,
    /// What it means.
    pub description: String,
    /// Whether `description` is plain text or Markdown.
    pub description_kind: DescriptionKind,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (alone) or defaulted by it (with `optional`).
    pub computed: bool,
    /// Redacted in Terraform's output.
    pub sensitive: bool,
    /// Whether Terraform warns that it is deprecated.
    pub deprecated: bool,
    /// Never stored in state or plan (Terraform 1.11+).
    pub write_only: bool,
}

impl Attribute {
    fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty: AttributeType::Type(ty),
            description: String::new(),
            description_kind: DescriptionKind::Plain,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            write_only: false,
        }
    }

    /// An attribute that must be set in configuration.
    pub fn required(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            required: true,
            ..Attribute::new(name, ty)
        }
    }

    /// An attribute that may be set in configuration.
    pub fn optional(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            optional: true,
            ..Attribute::new(name, ty)
        }
    }

    /// An attribute only the provider sets.
    pub fn computed(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            computed: true,
            ..Attribute::new(name, ty)
        }
    }

    /// Optional in configuration, filled in by the provider when absent.
    pub fn optional_computed(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            optional: true,
            computed: true,
            ..Attribute::new(name, ty)
        }
    }

    /// Replaces the type with nested attributes.
    pub fn nested(mut self, nesting: ObjectNesting, attributes: Vec<Attribute>) -> Self {
        self.ty = AttributeType::Nested(NestedAttributes {
            nesting,
            attributes,
        });
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Marks the description as Markdown.
    pub fn markdown(mut self) -> Self {
        self.description_kind = DescriptionKind::Markdown;
        self
    }

    /// Marks it sensitive: redacted in Terraform's output.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks it deprecated.
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Marks it write-only: never stored in state or plan.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// The type of its values.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttributeType::Type(ty) => ty.clone(),
            AttributeType::Nested(nested) => {
                let object = Type::Object(
                    nested
                        .attributes
                        .iter()
                        .map(|a| (a.name.clone(), a.value_type()))
                        .collect(),
                );
                match nested.nesting {
                    ObjectNesting::Single => object,
                    ObjectNesting::List => Type::list(object),
                    ObjectNesting::Set => Type::set(object),
                    ObjectNesting::Map => Type::map(object),
                }
            }
        }
    }
}

/// How a nested block may repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one; absent is null.
    Single,
    /// Exactly one, never null: absent means all attributes null.
    Group,
    /// Any number of blocks, in order.
    List,
    /// Any number of blocks, unordered, no two the same.
    Set,
    /// Labelled blocks, by label.
    Map,
}

/// A block nested in a block.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    /// Its name in configuration.
    pub type_name: String,
    /// What it holds.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
    /// Fewest blocks allowed (0: no minimum).
    pub min_items: i64,
    /// Most blocks allowed (0: no maximum).
    pub max_items: i64,
}

impl NestedBlock {
    /// A nested block `type_name` with no item limits.
    pub fn new(type_name: impl Into<String>, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    /// Bounds on the number of blocks (0 = no bound).
    pub fn items(mut self, min: i64, max: i64) -> Self {
        self.min_items = min;
        self.max_items = max;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_type_includes_nested_blocks_and_attributes() {
        let block = Block::new()
            .attribute(Attribute::required("name", Type::String))
            .attribute(Attribute::computed("id", Type::String))
            .attribute(Attribute::optional("input", Type::Dynamic).nested(
                ObjectNesting::List,
                vec![Attribute::required("n", Type::Number)],
            ))
            .block(NestedBlock::new(
                "rule",
                Nesting::List,
                Block::new().attribute(Attribute::optional("tags", Type::set(Type::String))),
            ))
            .block(NestedBlock::new("scope", Nesting::Single, Block::new()));
        assert_eq!(
            block.value_type(),
            Type::object([
                ("name", Type::String),
                ("id", Type::String),
                ("input", Type::list(Type::object([("n", Type::Number)]))),
                (
                    "rule",
                    Type::list(Type::object([("tags", Type::set(Type::String))]))
                ),
                ("scope", Type::object::<String>([])),
            ])
        );
    }
}
