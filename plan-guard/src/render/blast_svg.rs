//! A flagged change's blast radius drawn as a graph for the HTML report: the change on
//! the left, an arrow to each resource in its blast radius (the report keeps what a change
//! reaches, not the edges between them). Laid out by `layout-rs` into inline SVG: no
//! script, no external asset, ids made unique per graph so several can share a page.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::printable;
use crate::decide::report::ChangeReport;
use iom_model::Outcome;

/// Dependents drawn per change; the rest are one "… N more" node.
pub const DRAWN_DEPENDENTS: usize = 12;
const FONT: usize = 12;
/// Longest label drawn; longer addresses are cut in the middle.
const LABEL_CHARS: usize = 64;

/// The SVG of `c`'s blast radius, or `None` when nothing depends on it. `n` makes its ids
/// unique in the page.
pub fn blast_svg(c: &ChangeReport, n: usize) -> Option<String> {
    if c.blast_radius.addresses.is_empty() {
        return None;
    }
    let mut graph = VisualGraph::new(Orientation::LeftToRight);
    let root = graph.add_node(node(&c.address, fill(c.verdict)));
    for dep in c.blast_radius.addresses.iter().take(DRAWN_DEPENDENTS) {
        let to = graph.add_node(node(dep, "#eef3ff"));
        graph.add_edge(Arrow::simple(""), root, to);
    }
    let more = c
        .blast_radius
        .addresses
        .len()
        .saturating_sub(DRAWN_DEPENDENTS);
    if more > 0 {
        let to = graph.add_node(node(&format!("… {more} more"), "#ffffff"));
        graph.add_edge(Arrow::simple(""), root, to);
    }
    let mut svg = SVGWriter::new();
    graph.do_it(false, false, false, &mut svg);
    Some(inline(&svg.finalize(), n))
}

fn fill(verdict: Outcome) -> &'static str {
    match verdict {
        Outcome::Allow => "#d7f5dd",
        Outcome::Warn => "#fff4c2",
        Outcome::Escalate => "#ffe0b2",
        Outcome::Block => "#ffcdd2",
    }
}

/// A box for `label` (escaped for display, cut when long), filled with `color`.
fn node(label: &str, color: &str) -> Element {
    let text = short(&printable(label));
    let look = StyleAttr::new(Color::fast("#555555"), 1, Some(Color::fast(color)), 4, FONT);
    // Wide enough for the label in the writer's font, with a margin.
    let width = text.chars().count() as f64 * FONT as f64 * 0.62 + 24.0;
    Element::create(
        ShapeKind::new_box(&text),
        look,
        Orientation::LeftToRight,
        Point::new(width, 30.0),
    )
}

fn short(text: &str) -> String {
    let count = text.chars().count();
    if count <= LABEL_CHARS {
        return text.to_string();
    }
    let half = LABEL_CHARS / 2;
    let head: String = text.chars().take(half).collect();
    let tail: String = text.chars().skip(count - half).collect();
    format!("{head}…{tail}")
}

/// The writer's SVG made fit for a page with several: no XML declaration, no empty edge
/// labels, and its ids (arrows, markers) prefixed with `g{n}-`.
fn inline(svg: &str, n: usize) -> String {
    let mut out = svg.trim_start_matches(|c| c != '<').to_string();
    if out.starts_with("<?xml") {
        out = out
            .split_once("?>")
            .map_or(String::new(), |(_, rest)| rest.to_string());
    }
    // Edges carry no label: drop the empty text paths that would name them.
    while let Some(start) = out.find("<text><textPath") {
        let Some(len) = out[start..].find("</text>") else {
            break;
        };
        out.replace_range(start..start + len + "</text>".len(), "");
    }
    out = fit_height(&sorted_styles(&out));
    let prefix = format!("g{n}-");
    out.replace("id=\"", &format!("id=\"{prefix}"))
        .replace("url(#", &format!("url(#{prefix}"))
        .replace("<svg ", "<svg class=\"radius-graph\" role=\"img\" ")
}

/// The writer emits its font classes in hash-map order: sorted here, so the same graph
/// is always the same bytes.
fn sorted_styles(svg: &str) -> String {
    let (Some(start), Some(end)) = (svg.find("<style>\n"), svg.find("</style>")) else {
        return svg.to_string();
    };
    let inner_start = start + "<style>\n".len();
    let Some(inner) = svg.get(inner_start..end) else {
        return svg.to_string();
    };
    let mut lines: Vec<&str> = inner.lines().collect();
    lines.sort_unstable();
    let (Some(head), Some(tail)) = (svg.get(..inner_start), svg.get(end..)) else {
        return svg.to_string();
    };
    format!("{head}{}\n{tail}", lines.join("\n"))
}

/// The writer leaves room below the boxes for labels these graphs do not have: the
/// height and view box are cut to the lowest box, with a margin.
fn fit_height(svg: &str) -> String {
    let attr = |text: &str, name: &str| -> Option<f64> {
        let start = text.find(&format!("{name}=\""))? + name.len() + 2;
        let rest = text.get(start..)?;
        rest.get(..rest.find('"')?)?.parse().ok()
    };
    let bottom = svg
        .split("<rect ")
        .skip(1)
        .filter_map(|r| Some(attr(r, "y")? + attr(r, "height")?))
        .fold(0.0_f64, f64::max);
    let Some(head_end) = svg.find('>') else {
        return svg.to_string();
    };
    let (head, body) = svg.split_at(head_end);
    let (Some(width), Some(height)) = (attr(head, "width"), attr(head, "height")) else {
        return svg.to_string();
    };
    let fitted = (bottom + 30.0).min(height);
    let head = head
        .replace(
            &format!("height=\"{height}\""),
            &format!("height=\"{fitted}\""),
        )
        .replace(
            &format!("viewBox=\"0 0 {width} {height}\""),
            &format!("viewBox=\"0 0 {width} {fitted}\""),
        );
    format!("{head}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graph_is_inline_svg_with_ids_of_its_own() {
        let mut c = crate::testing::sample_report().changes.remove(0);
        c.blast_radius.addresses = (0..15).map(|i| format!("aws_instance.app[{i}]")).collect();
        let svg = blast_svg(&c, 3).unwrap();
        assert!(svg.starts_with("<svg class=\"radius-graph\""), "{svg}");
        assert!(!svg.contains("<?xml") && !svg.contains("<textPath") && !svg.contains("<script"));
        assert!(svg.contains("id=\"g3-") && !svg.contains("id=\"arrow"));
        assert!(svg.contains("module.payments.aws_db_instance.main"));
        assert!(svg.contains("aws_instance.app[11]") && !svg.contains("aws_instance.app[12]"));
        assert!(svg.contains("… 3 more"));
        // The same graph is the same bytes (the writer's font classes come from a hash map).
        for _ in 0..8 {
            assert_eq!(blast_svg(&c, 3).as_deref(), Some(svg.as_str()));
        }
        let mut none = c.clone();
        none.blast_radius.addresses.clear();
        assert!(blast_svg(&none, 0).is_none());
    }

    #[test]
    fn labels_are_escaped() {
        let mut c = crate::testing::sample_report().changes.remove(0);
        c.blast_radius.addresses = vec!["x.k[\"<script>\u{202e}\"]".into()];
        let svg = blast_svg(&c, 0).unwrap();
        assert!(
            !svg.contains("<script>") && !svg.contains('\u{202e}'),
            "{svg}"
        );
    }
}
