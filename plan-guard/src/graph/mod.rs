//! The change graph: every resource instance of the plan (changed or not, data sources
//! included) as a node, and an edge from each instance to every instance that depends
//! on it. Edges come from the configuration: references resolved through module input
//! variables and outputs, `depends_on` (on resources and module calls), provisioners,
//! module `count`/`for_each`. Terraform records state dependencies transitively and keeps them
//! after the configuration changes, so they are used only where the configuration
//! cannot speak: objects it no longer has (orphans, deposed objects), resources whose
//! references pass through `local` values or `replace_triggered_by` (which the plan
//! does not record), and plans without a configuration.

// Indexes here are proven in bounds: node stamps sized to the graph, maps indexed by
// keys inserted from the same plan, and address segments behind length checks.
#![allow(clippy::indexing_slicing)]

use crate::plan::address::{InstanceAddress, config_module_names, segments};
use crate::plan::{ConfigModule, Expr, ModuleCall, Plan, StateResource, StateValues};
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

/// One resource instance (or deposed object) of the plan or its prior state.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// The instance address.
    pub address: String,
    /// The deposed object's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    /// The resource type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The action class when the plan changes this instance; `None` for unchanged ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip)]
    parsed: Option<InstanceAddress>,
}

impl Node {
    /// The address with its deposed key, unique among nodes.
    pub fn key(&self) -> String {
        match &self.deposed {
            Some(d) => format!("{} (deposed {d})", self.address),
            None => self.address.clone(),
        }
    }
}

/// The plan's instances and what depends on what.
pub struct ChangeGraph {
    /// Edges go from a dependency to its dependent.
    pub graph: DiGraph<Node, ()>,
    /// Current objects by address, and deposed ones by address and deposed key: two maps
    /// so that the common lookup borrows the address instead of building a key.
    current: HashMap<String, NodeIndex>,
    deposed: HashMap<(String, String), NodeIndex>,
}

/// Instances that depend on one changed instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BlastRadius {
    /// Every instance it reaches, sorted.
    pub addresses: Vec<String>,
    /// Instances one edge away.
    pub direct: usize,
    /// Every instance it reaches.
    pub transitive: usize,
}

/// A dependency target found by resolving a reference: a configuration block and,
/// when the reference named one, an instance key; `pins` are module instance keys the
/// reference named on the way (`module.mc[1].out` reaches only what is inside
/// `module.mc[1]`), as (depth of the module call, key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Target {
    config: String,
    key: Option<String>,
    pins: Vec<(usize, String)>,
}

impl ChangeGraph {
    /// The graph of `plan`: every change and prior-state instance, linked by references.
    pub fn build(plan: &Plan<'_>) -> ChangeGraph {
        let mut g = ChangeGraph {
            graph: DiGraph::new(),
            current: HashMap::new(),
            deposed: HashMap::new(),
        };
        // `replace_triggered_by` is not in the plan's configuration, but a replace it
        // triggered says so in its reason, and Terraform records its references as state
        // dependencies: those changes take their state dependencies too, so what triggers
        // a replace has it in its blast radius.
        let mut triggered: HashSet<(&str, Option<&str>)> = HashSet::new();
        // Moved objects and the configuration address each left.
        let mut moved: Vec<(&str, String)> = Vec::new();
        for rc in &plan.resource_changes {
            let moved_from = rc
                .previous_address
                .as_deref()
                .filter(|p| *p != rc.address && rc.deposed.is_none());
            let class = model_class(&rc.change.actions, moved_from.is_some());
            g.add_node(&rc.address, rc.deposed.clone(), &rc.ty, class);
            if rc.action_reason.as_deref() == Some("replace_by_triggers") {
                triggered.insert((rc.address.as_str(), rc.deposed.as_deref()));
            }
            if let Some(from) = moved_from.and_then(InstanceAddress::parse) {
                moved.push((rc.address.as_str(), from.config_address()));
            }
        }
        let state_resources = plan
            .prior_state
            .as_ref()
            .and_then(|s| s.values.as_ref())
            .map(StateValues::resources)
            .unwrap_or_default();
        for sr in &state_resources {
            g.add_node(&sr.address, sr.deposed_key.clone(), &sr.ty, None);
        }

        // Instances grouped by the configuration block they come from.
        let mut by_config: HashMap<String, Vec<NodeIndex>> = HashMap::new();
        for idx in g.graph.node_indices() {
            if let Some(parsed) = &g.graph[idx].parsed {
                by_config
                    .entry(parsed.config_address())
                    .or_default()
                    .push(idx);
            }
        }

        let mut edges: Vec<(NodeIndex, NodeIndex)> = Vec::new();
        let mut configured: HashSet<String> = HashSet::new();
        let mut via_state: HashSet<String> = HashSet::new();
        let mut matcher = InstanceMatcher::default();

        if let Some(config) = &plan.configuration {
            let mut resolver = Resolver::new(&config.root_module);
            let blocks = resolver.blocks.clone();
            for (config_address, module_path) in blocks {
                configured.insert(config_address.clone());
                let (targets, through_locals) =
                    resolver.dependencies_of(&config_address, &module_path);
                if through_locals {
                    via_state.insert(config_address.clone());
                }
                let Some(dependents) = by_config.get(&config_address) else {
                    continue;
                };
                for target in &targets {
                    matcher.link(&g, &by_config, dependents, &module_path, target, &mut edges);
                }
            }
        }

        // State dependencies, for what the configuration cannot describe: objects the
        // configuration no longer has (orphans, deposed), replaces triggered by
        // `replace_triggered_by`, and references through locals.
        let mut needing = Vec::new();
        for idx in g.graph.node_indices() {
            let node = &g.graph[idx];
            let Some(parsed) = &node.parsed else {
                continue;
            };
            let config_address = parsed.config_address();
            let orphan = !configured.contains(&config_address) || node.deposed.is_some();
            let triggered = triggered.contains(&(node.address.as_str(), node.deposed.as_deref()));
            if orphan || triggered || via_state.contains(&config_address) {
                needing.push((idx, config_address, orphan));
            }
        }
        if !needing.is_empty() || !moved.is_empty() {
            g.link_state_dependencies(
                &state_resources,
                &needing,
                &moved,
                &by_config,
                &mut matcher,
                &mut edges,
            );
        }

        edges.retain(|(a, b)| a != b);
        edges.sort_unstable();
        edges.dedup();
        g.graph.reserve_edges(edges.len());
        for (from, to) in edges {
            g.graph.add_edge(from, to, ());
        }
        g
    }

    /// Edges from the state's recorded dependencies for the nodes in `needing` (with
    /// their config address and whether they are orphans). Terraform records them
    /// transitively (what depends on B, which depends on A, lists A and B); they are
    /// reduced to the direct ones, so `direct` counts one edge as one edge. A moved
    /// object (`moved`: its address and the configuration address it left) keeps the
    /// dependents whose state still records its previous address.
    fn link_state_dependencies(
        &self,
        state_resources: &[&StateResource<'_>],
        needing: &[(NodeIndex, String, bool)],
        moved: &[(&str, String)],
        by_config: &HashMap<String, Vec<NodeIndex>>,
        matcher: &mut InstanceMatcher,
        edges: &mut Vec<(NodeIndex, NodeIndex)>,
    ) {
        let mut recorded: HashMap<String, HashSet<&str>> = HashMap::new();
        for sr in state_resources {
            if let Some(parsed) = InstanceAddress::parse(&sr.address) {
                recorded
                    .entry(parsed.config_address())
                    .or_default()
                    .extend(sr.dependencies().iter().map(String::as_str));
            }
        }
        let direct_deps = |deps: &'_ [String]| -> Vec<String> {
            deps.iter()
                .filter(|d| {
                    !deps.iter().any(|other| {
                        other != *d
                            && recorded
                                .get(other.as_str())
                                .is_some_and(|r| r.contains(d.as_str()))
                    })
                })
                .cloned()
                .collect()
        };
        let state_deps: HashMap<(&str, Option<&str>), Vec<String>> = state_resources
            .iter()
            .map(|sr| {
                (
                    (sr.address.as_str(), sr.deposed_key.as_deref()),
                    direct_deps(sr.dependencies()),
                )
            })
            .collect();
        let mut dependents_by_state: HashMap<&str, Vec<NodeIndex>> = HashMap::new();
        if !moved.is_empty() || needing.iter().any(|(_, _, orphan)| *orphan) {
            for sr in state_resources {
                if let Some(idx) = self.node(&sr.address, sr.deposed_key.as_deref()) {
                    for dep in &state_deps[&(sr.address.as_str(), sr.deposed_key.as_deref())] {
                        dependents_by_state
                            .entry(dep.as_str())
                            .or_default()
                            .push(idx);
                    }
                }
            }
        }
        for (idx, config_address, orphan) in needing {
            let node = &self.graph[*idx];
            let Some(parsed) = &node.parsed else {
                continue;
            };
            let deps = state_deps.get(&(node.address.as_str(), node.deposed.as_deref()));
            let module_path = parsed.module_names();
            for dep in deps.into_iter().flat_map(|d| d.iter()) {
                let target = Target {
                    config: dep.clone(),
                    key: None,
                    pins: Vec::new(),
                };
                matcher.link(self, by_config, &[*idx], &module_path, &target, edges);
            }
            if *orphan {
                // Whatever recorded a dependency on the orphan depends on it still.
                for &dependent in dependents_by_state
                    .get(config_address.as_str())
                    .into_iter()
                    .flatten()
                {
                    edges.push((*idx, dependent));
                }
            }
        }
        for (address, previous) in moved {
            let Some(idx) = self.node(address, None) else {
                continue;
            };
            for &dependent in dependents_by_state
                .get(previous.as_str())
                .into_iter()
                .flatten()
            {
                edges.push((idx, dependent));
            }
        }
    }

    fn add_node(
        &mut self,
        address: &str,
        deposed: Option<String>,
        ty: &str,
        action: Option<String>,
    ) {
        if let Some(existing) = self.node(address, deposed.as_deref()) {
            if action.is_some() && self.graph[existing].action.is_none() {
                self.graph[existing].action = action;
            }
            return;
        }
        let parsed = InstanceAddress::parse(address);
        let idx = self.graph.add_node(Node {
            address: address.to_string(),
            deposed: deposed.clone(),
            ty: ty.to_string(),
            action,
            parsed,
        });
        match deposed {
            Some(key) => self.deposed.insert((address.to_string(), key), idx),
            None => self.current.insert(address.to_string(), idx),
        };
    }

    /// The node of the instance at `address` (a deposed object by its key).
    pub fn node(&self, address: &str, deposed: Option<&str>) -> Option<NodeIndex> {
        match deposed {
            None => self.current.get(address).copied(),
            Some(key) => self
                .deposed
                .get(&(address.to_string(), key.to_string()))
                .copied(),
        }
    }

    /// Everything that depends on `start`, directly or transitively. `seen` is scratch
    /// space reused across calls, so a plan with many changes allocates once.
    pub fn blast_radius(&self, start: NodeIndex, scratch: &mut Scratch) -> BlastRadius {
        scratch.prepare(self.graph.node_count());
        let mut direct = 0;
        scratch.stack.clear();
        scratch.reached.clear();
        scratch.mark(start);
        for n in self.graph.neighbors_directed(start, Direction::Outgoing) {
            if scratch.mark(n) {
                direct += 1;
                scratch.stack.push(n);
                scratch.reached.push(n);
            }
        }
        while let Some(n) = scratch.stack.pop() {
            for m in self.graph.neighbors_directed(n, Direction::Outgoing) {
                if scratch.mark(m) {
                    scratch.stack.push(m);
                    scratch.reached.push(m);
                }
            }
        }
        let mut addresses: Vec<String> = scratch
            .reached
            .iter()
            .map(|&n| self.graph[n].key())
            .collect();
        addresses.sort_unstable();
        BlastRadius {
            direct,
            transitive: addresses.len(),
            addresses,
        }
    }

    /// Edges as (dependency, dependent) keys, sorted: the printable form of the graph.
    pub fn edge_list(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a].key(), self.graph[b].key()))
            .collect();
        out.sort();
        out
    }

    /// Every node, in the natural order of addresses.
    pub fn nodes_sorted(&self) -> Vec<&Node> {
        let mut nodes: Vec<&Node> = self.graph.node_weights().collect();
        nodes.sort_by_key(|n| n.key());
        nodes
    }
}

/// Visit marks that need no clearing between searches: a node is marked when its
/// stamp equals the current epoch.
#[derive(Default)]
pub struct Scratch {
    stamps: Vec<u32>,
    epoch: u32,
    stack: Vec<NodeIndex>,
    reached: Vec<NodeIndex>,
}

impl Scratch {
    fn prepare(&mut self, n: usize) {
        if self.stamps.len() < n {
            self.stamps.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamps.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
    }
    fn mark(&mut self, n: NodeIndex) -> bool {
        let s = &mut self.stamps[n.index()];
        if *s == self.epoch {
            false
        } else {
            *s = self.epoch;
            true
        }
    }
}

fn model_class(actions: &[String], moved: bool) -> Option<String> {
    iom_model::ActionClass::of_change(actions, moved).map(|c| c.as_str().to_string())
}

/// Links dependents to the instances of a target that sit in the same module instances
/// as far as their module paths agree: inside `module.a["x"]`, a reference to a sibling
/// resource means the sibling in `module.a["x"]`, not in `module.a["y"]`.
#[derive(Default)]
struct InstanceMatcher {
    /// (target config, shared depth) → module key prefix → instances.
    groups: HashMap<(String, usize), ByModuleKeys>,
}

impl InstanceMatcher {
    fn link(
        &mut self,
        g: &ChangeGraph,
        by_config: &HashMap<String, Vec<NodeIndex>>,
        dependents: &[NodeIndex],
        dependent_modules: &[String],
        target: &Target,
        edges: &mut Vec<(NodeIndex, NodeIndex)>,
    ) {
        let Some(instances) = by_config.get(&target.config) else {
            return;
        };
        let target_modules = config_module_names(&target.config);
        let shared = dependent_modules
            .iter()
            .zip(&target_modules)
            .take_while(|(a, b)| a == b)
            .count();
        let groups = self
            .groups
            .entry((target.config.clone(), shared))
            .or_insert_with(|| {
                let mut m = ByModuleKeys::new();
                for &i in instances {
                    if let Some(p) = &g.graph[i].parsed {
                        m.entry(module_keys(p, shared)).or_default().push(i);
                    }
                }
                m
            });
        for &d in dependents {
            let Some(p) = &g.graph[d].parsed else {
                continue;
            };
            let Some(candidates) = groups.get(&module_keys(p, shared)) else {
                continue;
            };
            for &t in candidates {
                let Some(tp) = &g.graph[t].parsed else {
                    continue;
                };
                let key_matches = target
                    .key
                    .as_ref()
                    .is_none_or(|k| tp.key.as_ref() == Some(k));
                let pins_match = target.pins.iter().all(|(depth, k)| {
                    tp.modules.get(*depth).and_then(|m| m.key.as_ref()) == Some(k)
                });
                if key_matches && pins_match {
                    edges.push((t, d));
                }
            }
        }
    }
}

/// Instances grouped by the instance keys of their first module calls.
type ByModuleKeys = HashMap<Vec<Option<String>>, Vec<NodeIndex>>;

fn module_keys(a: &InstanceAddress, depth: usize) -> Vec<Option<String>> {
    a.modules
        .iter()
        .take(depth)
        .map(|m| m.key.clone())
        .collect()
}

/// Resolves configuration references into dependency targets, through module input
/// variables and outputs, memoising per module.
struct Resolver<'c> {
    modules: HashMap<Vec<String>, &'c ConfigModule>,
    calls: HashMap<Vec<String>, &'c ModuleCall>,
    /// Every configuration block as (absolute config address, module path).
    blocks: Vec<(String, Vec<String>)>,
    known: HashSet<String>,
    memo: HashMap<(Vec<String>, String), (BTreeSet<Target>, bool)>,
    inherited: HashMap<Vec<String>, (BTreeSet<Target>, bool)>,
    resources: HashMap<String, &'c crate::plan::ConfigResource>,
}

const MAX_DEPTH: usize = 128;

impl<'c> Resolver<'c> {
    fn new(root: &'c ConfigModule) -> Resolver<'c> {
        let mut r = Resolver {
            modules: HashMap::new(),
            calls: HashMap::new(),
            blocks: Vec::new(),
            known: HashSet::new(),
            memo: HashMap::new(),
            inherited: HashMap::new(),
            resources: HashMap::new(),
        };
        r.index(Vec::new(), root);
        r
    }

    fn index(&mut self, path: Vec<String>, module: &'c ConfigModule) {
        for res in &module.resources {
            let address = absolute(&path, &res.address);
            self.known.insert(address.clone());
            self.resources.insert(address.clone(), res);
            self.blocks.push((address, path.clone()));
        }
        for (name, call) in &module.module_calls {
            let mut child = path.clone();
            child.push(name.clone());
            self.calls.insert(child.clone(), call);
            self.index(child, &call.module);
        }
        self.modules.insert(path, module);
    }

    /// Targets a configuration block depends on, and whether a `local` value was on the way.
    fn dependencies_of(&mut self, address: &str, path: &[String]) -> (BTreeSet<Target>, bool) {
        let res = self.resources[address];
        let mut out = BTreeSet::new();
        let locals = self.resolve_block(path, res, &mut out, 0);
        let (inherited, inherited_locals) = self.inherited_by(path);
        out.extend(inherited);
        (out, locals || inherited_locals)
    }

    /// What one block's own expressions and `depends_on` reference, in module `scope`.
    fn resolve_block(
        &mut self,
        scope: &[String],
        res: &'c crate::plan::ConfigResource,
        out: &mut BTreeSet<Target>,
        depth: usize,
    ) -> bool {
        let mut locals = false;
        let provisioners = res.provisioners.iter().map(|p| &p.expressions);
        for expr in [
            Some(&res.expressions),
            res.count_expression.as_ref(),
            res.for_each_expression.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(provisioners)
        {
            locals |= self.resolve_expr(scope, expr, out, depth);
        }
        for dep in &res.depends_on {
            locals |= self.resolve_depends_on(scope, dep, out);
        }
        locals
    }

    /// What every block inside a module depends on through its calls' `depends_on`,
    /// `count` and `for_each`, all the way up.
    fn inherited_by(&mut self, path: &[String]) -> (BTreeSet<Target>, bool) {
        if path.is_empty() {
            return (BTreeSet::new(), false);
        }
        if let Some(hit) = self.inherited.get(path) {
            return hit.clone();
        }
        let (mut out, mut locals) = self.inherited_by(&path[..path.len() - 1]);
        if let Some(call) = self.calls.get(path).copied() {
            let parent = &path[..path.len() - 1];
            for expr in [
                call.count_expression.as_ref(),
                call.for_each_expression.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                locals |= self.resolve_expr(parent, expr, &mut out, 0);
            }
            for dep in &call.depends_on {
                locals |= self.resolve_depends_on(parent, dep, &mut out);
            }
        }
        self.inherited.insert(path.to_vec(), (out.clone(), locals));
        (out, locals)
    }

    fn resolve_expr(
        &mut self,
        scope: &[String],
        expr: &Expr,
        out: &mut BTreeSet<Target>,
        depth: usize,
    ) -> bool {
        // `module.m.out` comes listed with a bare `module.m`; the bare one would mean every output.
        let specific: HashSet<&str> = expr
            .references
            .iter()
            .filter_map(|r| {
                let mut it = r.splitn(3, '.');
                match (it.next(), it.next(), it.next()) {
                    (Some("module"), Some(m), Some(_)) => Some(m.split('[').next().unwrap_or(m)),
                    _ => None,
                }
            })
            .collect();
        // Likewise `aws_x.y[0].id` comes with a bare `aws_x.y`, which would mean every instance.
        let keyed: HashSet<String> = expr
            .references
            .iter()
            .filter_map(|r| {
                let segs = segments(r)?;
                let at = if segs[0].name == "data" { 2 } else { 1 };
                segs.get(at)?.key.as_ref()?;
                Some(
                    segs[..=at]
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join("."),
                )
            })
            .collect();
        let mut locals = false;
        for reference in &expr.references {
            if let Some(m) = reference.strip_prefix("module.")
                && !m.contains('.')
                && specific.contains(m.split('[').next().unwrap_or(m))
            {
                continue;
            }
            if keyed.contains(reference.as_str()) {
                continue;
            }
            locals |= self.resolve(scope, reference, out, depth);
        }
        locals
    }

    /// Resolves one reference made in module `scope`. Returns whether a local was met.
    fn resolve(
        &mut self,
        scope: &[String],
        reference: &str,
        out: &mut BTreeSet<Target>,
        depth: usize,
    ) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let memo_key = (scope.to_vec(), reference.to_string());
        if let Some((targets, locals)) = self.memo.get(&memo_key) {
            out.extend(targets.iter().cloned());
            return *locals;
        }
        let mut found = BTreeSet::new();
        let locals = self.resolve_uncached(scope, reference, &mut found, depth);
        out.extend(found.iter().cloned());
        self.memo.insert(memo_key, (found, locals));
        locals
    }

    fn resolve_uncached(
        &mut self,
        scope: &[String],
        reference: &str,
        out: &mut BTreeSet<Target>,
        depth: usize,
    ) -> bool {
        let Some(segs) = segments(reference) else {
            return false;
        };
        match segs[0].name.as_str() {
            "local" => true,
            "var" => {
                let (Some(var), false) = (segs.get(1), scope.is_empty()) else {
                    return false;
                };
                let Some(call) = self.calls.get(scope).copied() else {
                    return false;
                };
                let parent = &scope[..scope.len() - 1];
                match call.expressions.get(&var.name) {
                    Some(expr) => self.resolve_expr(parent, expr, out, depth + 1),
                    None => false,
                }
            }
            "module" => {
                let Some(call) = segs.get(1) else {
                    return false;
                };
                let mut child = scope.to_vec();
                child.push(call.name.clone());
                let Some(module) = self.modules.get(&child).copied() else {
                    return false;
                };
                let outputs: Vec<&crate::plan::ConfigOutput> = match segs.get(2) {
                    Some(output) => module.outputs.get(&output.name).into_iter().collect(),
                    None => module.outputs.values().collect(),
                };
                let mut locals = false;
                let mut found = BTreeSet::new();
                for o in outputs {
                    if let Some(expr) = &o.expression {
                        locals |= self.resolve_expr(&child, expr, &mut found, depth + 1);
                    }
                    for dep in &o.depends_on {
                        locals |= self.resolve_depends_on(&child, dep, &mut found);
                    }
                }
                // `module.m[k].out` reads the output of that one instance of the call.
                out.extend(found.into_iter().map(|mut t| {
                    if let Some(k) = &call.key
                        && t.config.starts_with(&absolute(&child, ""))
                    {
                        t.pins.push((scope.len(), k.clone()));
                    }
                    t
                }));
                locals
            }
            "data" => {
                let (Some(t), Some(n)) = (segs.get(1), segs.get(2)) else {
                    return false;
                };
                self.push_known(
                    absolute(scope, &format!("data.{}.{}", t.name, n.name)),
                    n.key.clone(),
                    out,
                );
                false
            }
            // An ephemeral resource has no instance to depend on, but it is opened from
            // what it reads: whatever reads it depends on that.
            "ephemeral" => {
                let (Some(t), Some(n)) = (segs.get(1), segs.get(2)) else {
                    return false;
                };
                let address = absolute(scope, &format!("ephemeral.{}.{}", t.name, n.name));
                match self.resources.get(&address).copied() {
                    Some(res) => self.resolve_block(scope, res, out, depth + 1),
                    None => false,
                }
            }
            "count" | "each" | "path" | "terraform" | "self" | "provider" => false,
            _ => {
                let Some(n) = segs.get(1) else { return false };
                self.push_known(
                    absolute(scope, &format!("{}.{}", segs[0].name, n.name)),
                    n.key.clone(),
                    out,
                );
                false
            }
        }
    }

    /// `depends_on` names resources (`aws_x.y`, `data.a.b`) or whole modules (`module.m`).
    fn resolve_depends_on(
        &mut self,
        scope: &[String],
        dep: &str,
        out: &mut BTreeSet<Target>,
    ) -> bool {
        let Some(segs) = segments(dep) else {
            return false;
        };
        if segs[0].name == "module" && segs.len() == 2 {
            let prefix = absolute(scope, &format!("module.{}.", segs[1].name));
            for known in &self.known {
                if known.starts_with(&prefix) {
                    out.insert(Target {
                        config: known.clone(),
                        key: None,
                        pins: Vec::new(),
                    });
                }
            }
            return false;
        }
        self.resolve(scope, dep, out, 0)
    }

    fn push_known(&self, config: String, key: Option<String>, out: &mut BTreeSet<Target>) {
        if self.known.contains(&config) {
            out.insert(Target {
                config,
                key,
                pins: Vec::new(),
            });
        }
    }
}

fn absolute(path: &[String], relative: &str) -> String {
    let mut s = String::new();
    for m in path {
        s.push_str("module.");
        s.push_str(m);
        s.push('.');
    }
    s.push_str(relative);
    s
}
