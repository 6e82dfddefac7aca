//! Output formats. Each renders the one [`Report`] value (or, for `graph`, the change
//! graph) and decides nothing itself.

mod approval;
mod blast_svg;
mod contract;
mod graph;
mod html;
mod json;
mod junit;
mod markdown;
mod printable;
mod reconcile;
mod sarif;
mod text;

pub use approval::render_approval_surface;
pub use contract::contract_text;
pub use graph::{GraphFormat, render_graph};
pub use html::{render_html, render_set_html};
pub use json::{render_json, render_set_json};
pub use junit::{Escalations, render_junit, render_set_junit};
pub use markdown::{render_markdown, render_set_markdown};
pub use printable::{is_layout_control, one_line, printable};
pub use reconcile::render_reconciliation_markdown;
pub use sarif::{SetPlanSources, render_sarif, render_set_sarif};
pub use text::{render_set_text, render_text};

use crate::decide::plan_set::SetReport;
use crate::decide::report::Report;

/// A report's output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For a terminal or a CI log: one line per judged change, findings beneath.
    Text,
    /// The report as data, as docs/report.schema.json describes it.
    Json,
    /// A pull or merge request comment, kept under the forges' comment size.
    Markdown,
    /// JUnit XML: one test case per change, for CI test tabs.
    Junit,
    /// One self-contained page for the approver, with blast-radius graphs.
    Html,
    /// SARIF 2.1.0 for code scanning, results placed at the `.tf` source lines.
    Sarif,
}

impl Format {
    /// Every format, in the order help lists them.
    pub const ALL: [Format; 6] = [
        Format::Text,
        Format::Json,
        Format::Markdown,
        Format::Junit,
        Format::Html,
        Format::Sarif,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Junit => "junit",
            Format::Html => "html",
            Format::Sarif => "sarif",
        }
    }
}

/// How a renderer may be asked to vary: colour for text, escalations for JUnit, the
/// workspace's sources for SARIF locations.
#[derive(Clone, Copy, Default)]
pub struct Options<'a> {
    /// Whether text may carry ANSI colour (a terminal, and no `NO_COLOR`).
    pub color: bool,
    /// Whether JUnit shows an escalation as a failure or as an error.
    pub junit_escalations: Escalations,
    /// The workspace's `.tf` files, for SARIF's file and line of each finding.
    pub sources: Option<&'a crate::plan::sources::Locator>,
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format, options: Options<'_>) -> String {
    let color = options.color;
    match format {
        Format::Text => render_text(report, color),
        Format::Json => render_json(report),
        Format::Markdown => render_markdown(report),
        Format::Junit => render_junit(report, options.junit_escalations),
        Format::Html => render_html(report),
        Format::Sarif => render_sarif(report, options.sources),
    }
}

/// Renders the report of a set of plans in `format`; `sources` holds each plan's
/// workspace files for SARIF, in plan order (`options.sources` is not read).
pub fn render_set(
    set: &SetReport,
    format: Format,
    options: Options<'_>,
    sources: &[SetPlanSources<'_>],
) -> String {
    match format {
        Format::Text => render_set_text(set, options.color),
        Format::Json => render_set_json(set),
        Format::Markdown => render_set_markdown(set),
        Format::Junit => render_set_junit(set, options.junit_escalations),
        Format::Html => render_set_html(set),
        Format::Sarif => render_set_sarif(set, sources),
    }
}
