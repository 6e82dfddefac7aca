//! Output formats. Each renders the one [`Report`] value (or, for `graph`, the change
//! graph) and decides nothing itself.

mod graph;
mod json;
mod markdown;
mod text;

pub use graph::{GraphFormat, render_graph};
pub use json::render_json;
pub use markdown::render_markdown;
pub use text::render_text;

use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// Renders `report` in `format`. `color` applies to text only.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => render_text(report, color),
        Format::Json => render_json(report),
        Format::Markdown => render_markdown(report),
    }
}
