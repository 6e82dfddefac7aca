//! `plan-guard graph`: the change graph as Graphviz DOT, Mermaid or JSON. Edges point
//! from a dependency to what depends on it, the direction a change's blast radius spreads.

use crate::graph::ChangeGraph;
use serde::Serialize;
use std::fmt::Write;

/// The format of `plan-guard graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart, as forges render in Markdown.
    Mermaid,
    /// Nodes and edges as JSON.
    Json,
}

impl GraphFormat {
    /// Every format, in the order help lists them.
    pub const ALL: [GraphFormat; 3] = [GraphFormat::Dot, GraphFormat::Mermaid, GraphFormat::Json];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            GraphFormat::Dot => "dot",
            GraphFormat::Mermaid => "mermaid",
            GraphFormat::Json => "json",
        }
    }
}

/// The change graph in `format`.
// Nodes and edges hold strings and string lists: serializing them cannot fail.
#[allow(clippy::expect_used)]
pub fn render_graph(g: &ChangeGraph, format: GraphFormat) -> String {
    let nodes = g.nodes_sorted();
    let edges = g.edge_list();
    let mut out = String::new();
    match format {
        GraphFormat::Dot => {
            out.push_str(
                "digraph plan {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
            );
            for n in &nodes {
                let (color, label) = match n.action.as_deref() {
                    Some("no-op") | None => ("gray", n.key()),
                    Some(a) => (action_color(a), format!("{}\\n{}", n.key(), a)),
                };
                let _ = writeln!(
                    out,
                    "  {} [label={}, color={color}];",
                    quote(&n.key()),
                    quote_label(&label)
                );
            }
            for (a, b) in &edges {
                let _ = writeln!(out, "  {} -> {};", quote(a), quote(b));
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            let ids: std::collections::HashMap<String, usize> = nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.key(), i))
                .collect();
            for (i, n) in nodes.iter().enumerate() {
                let action = n.action.as_deref().filter(|a| *a != "no-op");
                let label = match action {
                    Some(a) => format!("{} ({a})", n.key()),
                    None => n.key(),
                };
                let _ = writeln!(out, "  n{i}[\"{}\"]", mermaid_escape(&label));
                if let Some(a) = action {
                    let _ = writeln!(out, "  class n{i} {}", a.replace('-', "_"));
                }
            }
            for (a, b) in &edges {
                if let (Some(a), Some(b)) = (ids.get(a), ids.get(b)) {
                    let _ = writeln!(out, "  n{a} --> n{b}");
                }
            }
            out.push_str("  classDef create stroke:#2a2\n  classDef update stroke:#c90\n  classDef replace stroke:#c0c\n  classDef delete stroke:#c22\n");
        }
        GraphFormat::Json => {
            #[derive(Serialize)]
            struct Edge<'a> {
                from: &'a str,
                to: &'a str,
            }
            #[derive(Serialize)]
            struct Doc<'a> {
                edges: Vec<Edge<'a>>,
                nodes: &'a [&'a crate::graph::Node],
            }
            let doc = Doc {
                edges: edges.iter().map(|(a, b)| Edge { from: a, to: b }).collect(),
                nodes: &nodes,
            };
            out = serde_json::to_string_pretty(&doc).expect("graph serializes");
            out.push('\n');
        }
    }
    out
}

fn action_color(action: &str) -> &'static str {
    match action {
        "create" => "darkgreen",
        "update" => "orange",
        "replace" => "purple",
        "delete" => "red",
        _ => "blue",
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Like [`quote`] but keeps the `\n` line breaks a label asks for.
fn quote_label(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
}
