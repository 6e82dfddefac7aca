//! The IOM governance model, shared by the provider and plan-guard (which never depend
//! on each other). It owns the seven object kinds as declared (profiles, blueprints,
//! intents, contracts, elements, waivers, notifications), their schema (declared once, for the loader, the
//! provider and the docs), validation that points at the offending attribute, the
//! compiled form decisions run on (globs and CEL conditions compiled once per model),
//! and loading a model straight from the `.tf` files of a directory.

pub mod budget;
pub mod compile;
pub mod condition;
pub mod contract;
pub mod glob;
pub mod hcl_load;
pub mod objects;
pub mod outcome;
pub mod problem;
pub mod schema;
pub mod time;
pub mod validate;

pub use compile::{
    CompiledIntent, CompiledModuleRule, CompiledNotification, CompiledProfile, CompiledRule,
    CompiledWaiver, Model, NotificationTarget,
};
pub use condition::{
    CHANGE_VARIABLES, Condition, MODULE_VARIABLES, Partial, PathStep, STATE_VARIABLES, root_context,
};
pub use contract::{InputValue, InputViolation, check_contract_inputs, expand_inputs};
pub use hcl_load::{LoadError, load_dir, load_str};
pub use objects::*;
pub use outcome::{ActionClass, Outcome};
pub use problem::{AttrPath, Problem, ProblemCode, Step};
pub use schema::{Kind, ObjectSchema};
pub use validate::validate_object;
