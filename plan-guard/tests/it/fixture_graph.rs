//! The change graph and blast radius (docs/judging.md) on the plans the real Terraform
//! wrote (tests/fixtures/plans). Each fixture's expected edges are read off its
//! configuration (config/ and scripts/gen-fixtures.sh) and asserted exactly: an edge
//! runs from a dependency to the instance that depends on it.

use crate::fixture_util::*;
use iom_model::{Model, Outcome};
use plan_guard::graph::{BlastRadius, ChangeGraph};
use std::collections::BTreeSet;

fn graph_of(name: &str) -> ChangeGraph {
    let raw = load(name);
    let plan = raw.parse().unwrap();
    ChangeGraph::build(&plan)
}

fn edges(name: &str) -> Vec<(String, String)> {
    graph_of(name).edge_list()
}

fn nodes(name: &str) -> Vec<String> {
    graph_of(name)
        .nodes_sorted()
        .iter()
        .map(|n| n.key())
        .collect()
}

/// The blast radius the report gives a changed instance.
fn blast(name: &str, address: &str) -> BlastRadius {
    let r = judge_model(name, &Model::empty(), "default", Outcome::Allow);
    change(&r, address).blast_radius.clone()
}

fn radius(direct: usize, addresses: &[&str]) -> BlastRadius {
    let mut addresses = strings(addresses);
    addresses.sort();
    BlastRadius {
        direct,
        transitive: addresses.len(),
        addresses,
    }
}

#[test]
fn create_count_and_for_each_instances_each_get_their_edge() {
    assert_eq!(
        edges("create"),
        pairs(&[
            ("terraform_data.vpc", "terraform_data.subnet[0]"),
            ("terraform_data.vpc", "terraform_data.subnet[1]"),
        ])
    );
    assert_eq!(
        nodes("create"),
        strings(&[
            r#"terraform_data.bucket["assets"]"#,
            r#"terraform_data.bucket["logs"]"#,
            "terraform_data.subnet[0]",
            "terraform_data.subnet[1]",
            "terraform_data.vpc",
        ])
    );
    assert_eq!(
        blast("create", "terraform_data.vpc"),
        radius(2, &["terraform_data.subnet[0]", "terraform_data.subnet[1]"])
    );
    assert_eq!(
        blast("create", r#"terraform_data.bucket["logs"]"#),
        radius(0, &[])
    );
}

#[test]
fn update_replace_and_noop_plans_follow_the_configuration() {
    for name in ["update", "replace", "replace_cbd"] {
        let (from, to) = if name == "update" {
            ("terraform_data.app", "terraform_data.watcher")
        } else {
            ("terraform_data.db", "terraform_data.app")
        };
        assert_eq!(edges(name), pairs(&[(from, to)]), "{name}");
        assert_eq!(blast(name, from), radius(1, &[to]), "{name}");
    }
    // Nothing changes, but the graph still holds every instance and its edges.
    assert_eq!(
        edges("noop"),
        pairs(&[
            ("terraform_data.a", "terraform_data.b[0]"),
            ("terraform_data.a", "terraform_data.b[1]"),
        ])
    );
    // The refresh-only plan's one resource, from the prior state, with no action.
    let g = graph_of("refresh_only");
    let n = g.nodes_sorted();
    assert_eq!(n.len(), 1);
    assert_eq!(
        (n[0].address.as_str(), n[0].action.as_deref()),
        ("terraform_data.bucket", None)
    );
    assert_eq!(g.graph.edge_count(), 0);
}

#[test]
fn replace_triggered_by_is_a_dependency() {
    // The plan's configuration does not record `replace_triggered_by`; Terraform records
    // it in the follower's state dependencies and gives the follower's replace the reason
    // replace_by_triggers. Changing terraform_data.config replaces the follower: it is in
    // the config's blast radius.
    assert_eq!(
        edges("replace_reasons"),
        pairs(&[("terraform_data.config", "terraform_data.follower")])
    );
    assert_eq!(
        blast("replace_reasons", "terraform_data.config"),
        radius(1, &["terraform_data.follower"])
    );
}

#[test]
fn module_inputs_and_outputs_resolve_to_the_resources_behind_them() {
    // server reads var.db_id = terraform_data.db.id; lb reads server[*].id; the root dns
    // reads module.app.endpoint = lb.id (and a local); monitor's var.target is
    // module.app.endpoint. module.app.name is a constant, so the local adds nothing.
    assert_eq!(
        edges("module_refs"),
        pairs(&[
            ("terraform_data.db", "module.app.terraform_data.server[0]"),
            ("terraform_data.db", "module.app.terraform_data.server[1]"),
            (
                "module.app.terraform_data.server[0]",
                "module.app.terraform_data.lb"
            ),
            (
                "module.app.terraform_data.server[1]",
                "module.app.terraform_data.lb"
            ),
            ("module.app.terraform_data.lb", "terraform_data.dns"),
            (
                "module.app.terraform_data.lb",
                "module.monitor.terraform_data.check"
            ),
        ])
    );
    assert_eq!(
        blast("module_refs", "terraform_data.db"),
        radius(
            2,
            &[
                "module.app.terraform_data.lb",
                "module.app.terraform_data.server[0]",
                "module.app.terraform_data.server[1]",
                "module.monitor.terraform_data.check",
                "terraform_data.dns",
            ]
        )
    );
    assert_eq!(
        blast("module_refs", "module.app.terraform_data.server[1]"),
        radius(
            1,
            &[
                "module.app.terraform_data.lb",
                "module.monitor.terraform_data.check",
                "terraform_data.dns",
            ]
        )
    );
    assert_eq!(blast("module_refs", "terraform_data.dns"), radius(0, &[]));
}

#[test]
fn depends_on_on_resources_and_module_calls() {
    let bucket = |i: usize| format!("module.storage.terraform_data.bucket[{i}]");
    let settings = "module.jobs.data.terraform_remote_state.settings";
    let job = "module.jobs.terraform_data.job";
    let mut expected = vec![
        // module "storage" depends_on terraform_data.iam: every instance inside it.
        ("terraform_data.iam".to_string(), bucket(0)),
        ("terraform_data.iam".to_string(), bucket(1)),
        // app depends_on [terraform_data.iam, module.storage].
        (
            "terraform_data.iam".to_string(),
            "terraform_data.app".to_string(),
        ),
        (bucket(0), "terraform_data.app".to_string()),
        (bucket(1), "terraform_data.app".to_string()),
        // module "jobs" depends_on module.storage: its data source and its resource.
        (bucket(0), settings.to_string()),
        (bucket(1), settings.to_string()),
        (bucket(0), job.to_string()),
        (bucket(1), job.to_string()),
        // job reads the data source.
        (settings.to_string(), job.to_string()),
    ];
    expected.sort();
    assert_eq!(edges("depends_on"), expected);
    assert_eq!(
        blast("depends_on", "terraform_data.iam"),
        radius(
            3,
            &[&bucket(0), &bucket(1), "terraform_data.app", settings, job]
        )
    );
    assert_eq!(blast("depends_on", settings), radius(1, &[job]));
}

#[test]
fn data_sources_read_now_and_at_apply_are_nodes_with_edges() {
    // `network` was read at plan time: it is in the prior state, not among the changes.
    assert_eq!(
        edges("data_source"),
        pairs(&[
            ("data.terraform_remote_state.network", "terraform_data.app"),
            (
                "terraform_data.seed",
                "data.terraform_remote_state.deferred"
            ),
            (
                "terraform_data.seed",
                "data.terraform_remote_state.after_seed"
            ),
            (
                "data.terraform_remote_state.deferred",
                "terraform_data.consumer"
            ),
            (
                "data.terraform_remote_state.after_seed",
                "terraform_data.consumer"
            ),
        ])
    );
    assert_eq!(
        blast("data_source", "terraform_data.seed"),
        radius(
            2,
            &[
                "data.terraform_remote_state.after_seed",
                "data.terraform_remote_state.deferred",
                "terraform_data.consumer",
            ]
        )
    );
    assert_eq!(
        blast("data_source", "data.terraform_remote_state.deferred"),
        radius(1, &["terraform_data.consumer"])
    );
}

#[test]
fn nested_module_instances_link_only_within_their_own_module_instances() {
    let mut expected = Vec::new();
    for r in ["eu-central-1", "eu-west-1"] {
        let region = format!(r#"module.region["{r}"]"#);
        let network = format!("{region}.terraform_data.network");
        for c in 0..2 {
            let cluster = format!("{region}.module.cluster[{c}]");
            for n in ["blue", "green"] {
                for i in 0..2 {
                    let vm = format!(r#"{cluster}.module.node["{n}"].terraform_data.vm[{i}]"#);
                    // var.network_id, passed down two module levels.
                    expected.push((network.clone(), vm.clone()));
                    // control reads module.node's `id` output: vm[0] of each node instance.
                    if i == 0 {
                        expected.push((vm, format!("{cluster}.terraform_data.control")));
                    }
                }
            }
        }
    }
    expected.sort();
    assert_eq!(expected.len(), 24);
    assert_eq!(edges("nested_modules"), expected);

    let region = r#"module.region["eu-west-1"]"#;
    let mut reached: Vec<String> = Vec::new();
    for c in 0..2 {
        reached.push(format!(
            "{region}.module.cluster[{c}].terraform_data.control"
        ));
        for n in ["blue", "green"] {
            for i in 0..2 {
                reached.push(format!(
                    r#"{region}.module.cluster[{c}].module.node["{n}"].terraform_data.vm[{i}]"#
                ));
            }
        }
    }
    let reached: Vec<&str> = reached.iter().map(String::as_str).collect();
    assert_eq!(
        blast(
            "nested_modules",
            &format!("{region}.terraform_data.network")
        ),
        radius(8, &reached)
    );
    assert_eq!(
        blast(
            "nested_modules",
            &format!(r#"{region}.module.cluster[1].module.node["green"].terraform_data.vm[0]"#)
        ),
        radius(
            1,
            &[&format!(
                "{region}.module.cluster[1].terraform_data.control"
            )]
        )
    );
    assert_eq!(
        blast(
            "nested_modules",
            &format!(r#"{region}.module.cluster[1].module.node["green"].terraform_data.vm[1]"#)
        ),
        radius(0, &[])
    );
}

#[test]
fn a_reference_to_one_module_instance_reaches_only_that_instance() {
    // one_of reads module.mc[1].out (y, which reads x): mc[0]'s resources are not in
    // its way.
    assert_eq!(
        blast("module_instance_refs", "module.mc[0].terraform_data.x"),
        radius(1, &["module.mc[0].terraform_data.y"])
    );
    assert_eq!(
        blast("module_instance_refs", "module.mc[1].terraform_data.x"),
        radius(
            1,
            &["module.mc[1].terraform_data.y", "terraform_data.one_of"]
        )
    );
    assert_eq!(
        blast("module_instance_refs", "module.mc[0].terraform_data.y"),
        radius(0, &[])
    );
}

#[test]
fn recorded_state_dependencies_are_reduced_to_direct_ones() {
    // dep3 records old and dep2 (Terraform stores the closure), but only dep2[0] and
    // dep2[1] read old: they are one edge away, dep3 two.
    assert_eq!(
        blast("delete_chain", "terraform_data.old"),
        radius(
            2,
            &[
                "terraform_data.dep2[0]",
                "terraform_data.dep2[1]",
                "terraform_data.dep3",
            ]
        )
    );
    assert_eq!(
        blast("delete_chain", "terraform_data.dep2[0]"),
        radius(1, &["terraform_data.dep3"])
    );
}

#[test]
fn orphans_use_their_recorded_state_dependencies_and_configured_objects_do_not() {
    // terraform_data.a, b and module.gone are gone from the configuration: what their
    // state records is all there is. module.legacy[0] is configured and no longer reads
    // a (a_id = "none"), but its state, written before this change, still records a.
    assert_eq!(
        edges("delete"),
        pairs(&[
            ("terraform_data.a", "terraform_data.b"),
            ("terraform_data.a", "module.gone.terraform_data.svc"),
            ("terraform_data.a", "module.legacy[0].terraform_data.svc"),
            ("terraform_data.a", "module.legacy[1].terraform_data.svc"),
        ])
    );
    assert_eq!(
        blast("delete", "terraform_data.a"),
        radius(
            4,
            &[
                "module.gone.terraform_data.svc",
                "module.legacy[0].terraform_data.svc",
                "module.legacy[1].terraform_data.svc",
                "terraform_data.b",
            ]
        )
    );
    // Every instance, changed or not, count and for_each ones included, is a node.
    assert_eq!(nodes("delete").len(), 14);

    // In the destroy plan the configuration still holds every reference.
    assert_eq!(
        edges("destroy"),
        pairs(&[
            ("terraform_data.network", r#"terraform_data.service["api"]"#),
            ("terraform_data.network", r#"terraform_data.service["web"]"#),
            (
                "terraform_data.network",
                "module.worker[0].terraform_data.node"
            ),
            (
                "terraform_data.network",
                "module.worker[1].terraform_data.node"
            ),
        ])
    );
    assert_eq!(blast("destroy", "terraform_data.network").transitive, 4);

    // Forgotten and removed objects have no dependencies at all.
    assert_eq!(edges("forget"), vec![]);
    assert_eq!(nodes("forget").len(), 5);
}

#[test]
fn the_mixed_plan() {
    assert_eq!(
        edges("mixed"),
        pairs(&[
            (
                "terraform_data.network",
                "module.payments.terraform_data.api[0]"
            ),
            (
                "terraform_data.network",
                "module.payments.terraform_data.api[1]"
            ),
            (
                "module.payments.terraform_data.api[0]",
                "terraform_data.audit"
            ),
            (
                "module.payments.terraform_data.api[1]",
                "terraform_data.audit"
            ),
            (
                "terraform_data.audit",
                "data.terraform_remote_state.settings"
            ),
        ])
    );
    assert_eq!(
        blast("mixed", "module.payments.terraform_data.api[0]"),
        radius(
            1,
            &[
                "data.terraform_remote_state.settings",
                "terraform_data.audit"
            ]
        )
    );
    // The moved dns is known by its new address only; db and cache have no dependents.
    let n = nodes("mixed");
    assert!(n.contains(&"terraform_data.dns".to_string()));
    assert!(!n.iter().any(|a| a.contains("old_dns")));
    assert_eq!(
        blast("mixed", "module.payments.terraform_data.db"),
        radius(0, &[])
    );
}

#[test]
fn deposed_objects_are_nodes_of_their_own() {
    let g = graph_of("deposed");
    let keys: Vec<(String, Option<String>)> = g
        .nodes_sorted()
        .iter()
        .map(|n| (n.key(), n.action.clone()))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("terraform_data.db".into(), Some("replace".into())),
            (
                "terraform_data.db (deposed 5e1f0c2a)".into(),
                Some("delete".into())
            ),
        ]
    );
    assert_eq!(g.graph.edge_count(), 0);
}

#[test]
fn unknown_sensitive_moved_and_imported_plans() {
    let seed = "terraform_data.seed";
    assert_eq!(
        edges("unknown"),
        pairs(&[
            (seed, r#"terraform_data.per_item["a"]"#),
            (seed, r#"terraform_data.per_item["b"]"#),
            (seed, "terraform_data.uses"),
            (seed, "terraform_data.whole"),
        ])
    );
    assert_eq!(blast("unknown", seed).direct, 4);
    // Only variables feed these resources.
    for name in ["sensitive", "sensitive_update", "moved", "import", "checks"] {
        assert_eq!(edges(name), vec![], "{name}");
    }
    assert_eq!(nodes("import").len(), 5);
    assert_eq!(nodes("moved").len(), 6);
}

#[test]
fn terraform_1_0_plans_build_the_same_graph() {
    // format 0.2: the root_id input reaches no resource; leaf reads var.nodes, which is
    // zone's var.nodes, which is region's null_resource.node[*].id — in its own region.
    let mut expected = vec![(
        "null_resource.root".to_string(),
        "data.terraform_remote_state.settings".to_string(),
    )];
    for (region, count) in [("eu-central-1", 2), ("eu-west-1", 3), ("us-east-1", 3)] {
        for i in 0..count {
            expected.push((
                format!(r#"module.region["{region}"].null_resource.node[{i}]"#),
                format!(
                    r#"module.region["{region}"].module.zone[0].module.leaf.null_resource.leaf"#
                ),
            ));
        }
    }
    expected.sort();
    assert_eq!(edges("tf103_modules"), expected);
    assert_eq!(
        blast(
            "tf103_modules",
            r#"module.region["eu-west-1"].null_resource.node[2]"#
        ),
        radius(
            1,
            &[r#"module.region["eu-west-1"].module.zone[0].module.leaf.null_resource.leaf"#]
        )
    );
    assert_eq!(
        blast("tf103_modules", "null_resource.root"),
        radius(1, &["data.terraform_remote_state.settings"])
    );
}

#[test]
fn blast_radius_counts_every_reachable_instance_once() {
    // On every fixture, for every judged change: the addresses are the nodes reachable
    // over the graph's edges (computed here independently), sorted, without the change.
    for name in FIXTURES {
        if name == "errored" {
            continue;
        }
        let g = graph_of(name);
        let list = g.edge_list();
        let r = judge_model(name, &Model::empty(), "default", Outcome::Allow);
        for c in &r.changes {
            let start = match &c.deposed {
                Some(d) => format!("{} (deposed {d})", c.address),
                None => c.address.clone(),
            };
            let direct: BTreeSet<&String> = list
                .iter()
                .filter(|(a, _)| *a == start)
                .map(|(_, b)| b)
                .collect();
            let mut reached: BTreeSet<String> = BTreeSet::new();
            let mut todo = vec![start.clone()];
            while let Some(n) = todo.pop() {
                for (a, b) in &list {
                    if *a == n && *b != start && reached.insert(b.clone()) {
                        todo.push(b.clone());
                    }
                }
            }
            assert_eq!(c.blast_radius.direct, direct.len(), "{name} {start}");
            assert_eq!(
                c.blast_radius.addresses,
                reached.into_iter().collect::<Vec<_>>(),
                "{name} {start}"
            );
            assert_eq!(c.blast_radius.transitive, c.blast_radius.addresses.len());
        }
    }
}

fn cli_graph(name: &str, format: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plan-guard"))
        .env_remove("IOM_STORE")
        .args(["graph", &plan_path(name), "--format", format])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_graph_command_prints_dot_mermaid_and_json() {
    for name in ["module_refs", "nested_modules", "deposed", "depends_on"] {
        let expected = edges(name);
        let node_keys = nodes(name);

        let json: serde_json::Value = serde_json::from_str(&cli_graph(name, "json")).unwrap();
        let got: Vec<(String, String)> = json["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["from"].as_str().unwrap().to_string(),
                    e["to"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{name} json");
        let got_nodes: Vec<String> = json["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| match n["deposed"].as_str() {
                Some(d) => format!("{} (deposed {d})", n["address"].as_str().unwrap()),
                None => n["address"].as_str().unwrap().to_string(),
            })
            .collect();
        assert_eq!(got_nodes, node_keys, "{name} json nodes");

        let dot = cli_graph(name, "dot");
        assert!(dot.starts_with("digraph plan {") && dot.ends_with("}\n"));
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let dot_edges: Vec<&str> = dot.lines().filter(|l| l.contains(" -> ")).collect();
        assert_eq!(dot_edges.len(), expected.len(), "{name} dot");
        for (a, b) in &expected {
            let line = format!("  {} -> {};", quote(a), quote(b));
            assert!(dot_edges.contains(&line.as_str()), "{name}: {line}\n{dot}");
        }

        let mermaid = cli_graph(name, "mermaid");
        assert!(mermaid.starts_with("flowchart LR\n"));
        // Node ids follow the sorted node order; every edge is printed once.
        let id = |k: &str| format!("n{}", node_keys.iter().position(|n| n == k).unwrap());
        let arrows: Vec<&str> = mermaid.lines().filter(|l| l.contains(" --> ")).collect();
        assert_eq!(arrows.len(), expected.len(), "{name} mermaid");
        for (a, b) in &expected {
            let line = format!("  {} --> {}", id(a), id(b));
            assert!(arrows.contains(&line.as_str()), "{name}: {line}\n{mermaid}");
        }
        for (i, k) in node_keys.iter().enumerate() {
            assert!(
                mermaid.contains(&format!("  n{i}[\"{}", k.replace('"', "#quot;"))),
                "{name}: node {k}\n{mermaid}"
            );
        }
    }
    // Actions are on the nodes: the deposed object is a delete, the current one a replace.
    let dot = cli_graph("deposed", "dot");
    assert!(
        dot.contains(r#""terraform_data.db (deposed 5e1f0c2a)" [label="terraform_data.db (deposed 5e1f0c2a)\ndelete", color=red];"#),
        "{dot}"
    );
    assert!(
        dot.contains(r#""terraform_data.db" [label="terraform_data.db\nreplace", color=purple];"#),
        "{dot}"
    );
    let mermaid = cli_graph("deposed", "mermaid");
    assert!(mermaid.contains("  class n0 replace\n") && mermaid.contains("  class n1 delete\n"));
}

#[test]
fn a_moved_object_keeps_the_dependents_of_the_address_it_left() {
    // module.db's object moved to (undeclared) module.scratch and is destroyed there;
    // reader's state still records module.db.terraform_data.main. cfg moved into
    // module.app, and cfg_reader reads it there through the module's output.
    assert_eq!(
        edges("moved_across_modules"),
        pairs(&[
            ("module.app.terraform_data.cfg", "terraform_data.cfg_reader"),
            (
                "module.scratch.terraform_data.main",
                "terraform_data.reader"
            ),
        ])
    );
    assert_eq!(
        blast("moved_across_modules", "module.scratch.terraform_data.main"),
        radius(1, &["terraform_data.reader"])
    );
    // A move that changes nothing else is a node of class `move`.
    let classes: Vec<(String, Option<String>)> = graph_of("moved_across_modules")
        .nodes_sorted()
        .iter()
        .map(|n| (n.key(), n.action.clone()))
        .collect();
    let class_of = |a: &str| {
        classes
            .iter()
            .find(|(k, _)| k == a)
            .and_then(|(_, c)| c.clone())
    };
    assert_eq!(
        class_of("module.app.terraform_data.cfg").as_deref(),
        Some("move")
    );
    assert_eq!(
        class_of("module.scratch.terraform_data.main").as_deref(),
        Some("delete")
    );
}
