//! The provider's schema, generated from the one in iom-model: every attribute, block and
//! description is declared once there, so `terraform providers schema -json`, validation
//! and the docs cannot disagree.

use iom_model::Kind;
use iom_model::schema::{AttrType, AttributeSchema, BlockSchema, ObjectSchema, Presence};
use tfplugin::{Attribute, Block, NestedBlock, Nesting, Schema, Type};

/// Bumped when a stored state's shape changes; `UpgradeResourceState` carries older ones.
pub const SCHEMA_VERSION: i64 = 1;

/// The Terraform type of an attribute type of the model.
pub fn value_type(ty: AttrType) -> Type {
    match ty {
        AttrType::String => Type::String,
        AttrType::Number => Type::Number,
        AttrType::Bool => Type::Bool,
        AttrType::ListOfString => Type::list(Type::String),
        AttrType::MapOfString => Type::map(Type::String),
        AttrType::MapOfListOfString => Type::map(Type::list(Type::String)),
        // A dynamic type inside a repeated block would make Terraform send the whole block
        // list as one dynamic value, which tfplugin does not decode; Terraform converts the
        // items to strings, and `convert::to_object` gives them back the type the contract
        // input declares (`enum = [1, 2]` of a `number` input is numbers again).
        AttrType::ListOfDynamic => Type::list(Type::String),
    }
}

fn attribute(a: &AttributeSchema) -> Attribute {
    let ty = value_type(a.ty);
    let attr = match a.presence {
        Presence::Required => Attribute::required(a.name, ty),
        Presence::Optional => Attribute::optional(a.name, ty),
        Presence::Computed => Attribute::computed(a.name, ty),
    };
    let attr = attr.description(a.description);
    if a.sensitive { attr.sensitive() } else { attr }
}

fn nested(b: &BlockSchema) -> NestedBlock {
    let block = b
        .attributes
        .iter()
        .fold(Block::new().description(b.description), |block, a| {
            block.attribute(attribute(a))
        });
    let nesting = if b.repeated {
        Nesting::List
    } else {
        Nesting::Single
    };
    NestedBlock::new(b.name, nesting, block)
}

/// The Terraform block of an object schema of the model: its attributes and nested blocks.
pub fn block(schema: &ObjectSchema) -> Block {
    let block = schema
        .attributes
        .iter()
        .fold(Block::new().description(schema.description), |block, a| {
            block.attribute(attribute(a))
        });
    schema
        .blocks
        .iter()
        .fold(block, |block, b| block.block(nested(b)))
}

/// The schema of the resource that declares objects of `kind`.
pub fn resource(kind: Kind) -> Schema {
    Schema::new(block(kind.schema())).version(SCHEMA_VERSION)
}

/// The provider block's own schema.
pub fn provider() -> Schema {
    Schema::new(
        Block::new()
            .description("Declares the IOM governance model; applying it writes the model store.")
            .attribute(
                Attribute::optional("store", Type::String).description(
                    "Model store URL: `sqlite://PATH` or `postgres://…`. Default: `$IOM_STORE`, else `sqlite://.iom/model.db`.",
                ),
            ),
    )
}

/// The schema of the `iom_model` data source.
pub fn model_data_source() -> Schema {
    Schema::new(
        Block::new()
            .description("The model store as it is now: its revision and the objects it holds.")
            .attribute(
                Attribute::computed("revision", Type::Number).description("The model revision."),
            )
            .attribute(
                Attribute::computed("counts", Type::map(Type::Number))
                    .description("Number of objects per resource type (`iom_profile`, ...)."),
            )
            .attribute(
                Attribute::computed("names", Type::map(Type::list(Type::String)))
                    .description("Object names per resource type, sorted."),
            ),
    )
}

/// The schema of the `iom_contract_check` data source.
pub fn contract_check_data_source() -> Schema {
    Schema::new(
        Block::new()
            .description("Checks module inputs against a contract in the store at plan time: every violation is an error.")
            .attribute(Attribute::required("contract", Type::String).description("Name of the iom_contract."))
            .attribute(
                Attribute::required("inputs", Type::map(Type::String))
                    .description("The inputs, as the module call would receive them."),
            )
            .attribute(Attribute::computed("valid", Type::Bool).description("True when every input meets the contract.")),
    )
}
