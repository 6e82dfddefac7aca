//! Module calls judged by blueprint `module_rule`s (docs/judging.md, Module calls). The
//! calls come from the plan's `configuration`, not from its changes: a call is judged
//! whether or not anything in it changes, nested calls included, and a call with `count`
//! or `for_each` once at its call address (`module.a.module.b`), since every instance
//! shares its source and version. A module a change is in whose call the configuration
//! does not declare (a plan without `configuration`, or one edited to drop a call) is
//! judged too, as a call whose source is unknown: every module rule fails for it.

use crate::decide::report::{ChangeReport, Finding, ModuleCallInfo};
use crate::graph::BlastRadius;
use crate::plan::address::InstanceAddress;
use crate::plan::{ConfigModule, Plan};
use cel::Context;
use cel::common::types::{CelMap, CelMapKey, CelString};
use cel::common::value::Val;
use iom_model::{ActionClass, CompiledIntent, CompiledModuleRule, Outcome};
use std::collections::{BTreeSet, HashMap};

/// One module call of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call<'p> {
    /// `module.NAME`, nested calls under their parent's address.
    pub address: String,
    /// The module address the call is declared in, `""` for the root module.
    pub parent: String,
    /// The source as written in the configuration.
    pub source: &'p str,
    /// The version constraint, `""` when there is none.
    pub version: &'p str,
    /// Whether the configuration declares the call; when not, its source and version are
    /// unknown (`""`) and no rule can hold for it.
    pub declared: bool,
}

/// Every module call of the plan's configuration, parents before their children, then
/// the calls of changed resources that the configuration does not declare.
pub fn calls<'p>(plan: &'p Plan<'_>) -> Vec<Call<'p>> {
    let mut out = Vec::new();
    if let Some(config) = &plan.configuration {
        walk(&config.root_module, "", &mut out);
    }
    let declared: BTreeSet<String> = out.iter().map(|c| c.address.clone()).collect();
    let changed = plan
        .resource_changes
        .iter()
        .chain(plan.deferred_changes.iter().map(|d| &d.resource_change));
    let mut undeclared = BTreeSet::new();
    for rc in changed {
        let Some(parsed) = InstanceAddress::parse(&rc.address) else {
            continue;
        };
        let mut address = String::new();
        for name in parsed.module_names() {
            let parent = address.clone();
            if !address.is_empty() {
                address.push('.');
            }
            address.push_str(&format!("module.{name}"));
            if !declared.contains(&address) && undeclared.insert(address.clone()) {
                out.push(Call {
                    address: address.clone(),
                    parent,
                    source: "",
                    version: "",
                    declared: false,
                });
            }
        }
    }
    out
}

fn walk<'p>(module: &'p ConfigModule, parent: &str, out: &mut Vec<Call<'p>>) {
    for (name, call) in &module.module_calls {
        let address = if parent.is_empty() {
            format!("module.{name}")
        } else {
            format!("{parent}.module.{name}")
        };
        out.push(Call {
            address: address.clone(),
            parent: parent.to_string(),
            source: call.source.as_deref().unwrap_or(""),
            version: call.version_constraint.as_deref().unwrap_or(""),
            declared: true,
        });
        walk(&call.module, &address, out);
    }
}

/// The findings of one call under the module rules of the intents that govern it. A
/// condition that cannot be evaluated fails with its rule's outcome.
pub fn findings(
    call: &Call<'_>,
    governing: &[&CompiledIntent],
    workspace: &str,
    root: &Context<'_, '_>,
) -> Vec<Finding> {
    let mut ctx = root.new_inner_scope();
    bind(&mut ctx, call, workspace);
    let mut out = Vec::new();
    for rule in governing.iter().flat_map(|i| i.module_rules.iter()) {
        if let Some(f) = judge(rule, call, &ctx) {
            out.push(f);
        }
    }
    out
}

fn bind<'a>(ctx: &mut Context<'a, 'a>, call: &'a Call<'_>, workspace: &'a str) {
    let text = |s: &'a str| -> Box<dyn Val + 'a> { Box::new(CelString::from(s)) };
    let fields: HashMap<CelMapKey<'a>, Box<dyn Val + 'a>> = [
        ("address", call.address.as_str()),
        ("source", call.source),
        ("version", call.version),
    ]
    .into_iter()
    .map(|(k, v)| (CelMapKey::from(k), text(v)))
    .collect();
    ctx.add_variable_as_val("module_call", Box::new(CelMap::from(fields)));
    ctx.add_variable_as_val("workspace", text(workspace));
}

fn judge(rule: &CompiledModuleRule, call: &Call<'_>, ctx: &Context<'_, '_>) -> Option<Finding> {
    let failed = |message: String| Finding {
        waived_by: None,
        source: rule.source.clone(),
        rule: rule.id.clone(),
        outcome: rule.outcome,
        message,
    };
    if !call.declared {
        return Some(failed(
            "the plan's configuration does not declare this module call, so its source and \
             version cannot be judged"
                .to_string(),
        ));
    }
    match super::judged(rule.condition.evaluate(ctx), &rule.condition) {
        Ok(true) => None,
        Ok(false) => Some(failed(rule.message.clone().unwrap_or_else(|| {
            format!("condition `{}` is false", rule.condition.source())
        }))),
        Err(why) => Some(failed(format!(
            "condition `{}` could not be evaluated: {why}",
            rule.condition.source()
        ))),
    }
}

/// The report's entry for a judged call: a change of class `module`.
pub fn change_report(
    call: &Call<'_>,
    governing: &[&CompiledIntent],
    findings: Vec<Finding>,
    verdict: Outcome,
) -> ChangeReport {
    let mut governed_by: Vec<String> = governing.iter().map(|i| i.name.clone()).collect();
    governed_by.sort();
    ChangeReport {
        accountable: Vec::new(),
        action: ActionClass::Module,
        actions: vec!["module".to_string()],
        address: call.address.clone(),
        blast_radius: BlastRadius::default(),
        contracts: Vec::new(),
        deferred: None,
        deposed: None,
        findings,
        governed_by,
        importing: false,
        module: call.parent.clone(),
        module_call: Some(ModuleCallInfo {
            source: call.source.to_string(),
            version: call.version.to_string(),
        }),
        previous_address: None,
        trigger: None,
        ty: "module".to_string(),
        verdict,
    }
}
