//! `plan-guard insights`: refinements of the model read from the ledger.

use super::args::{InsightsArgs, InsightsFormat};
use anyhow::Result;
use iom_store::Store;
use plan_guard::decide::model_source;
use plan_guard::exit;
use std::io::Write;

pub(crate) fn run(args: InsightsArgs) -> Result<u8> {
    let InsightsArgs {
        model,
        store,
        format,
    } = args;
    // Read only: a store that does not exist is an error, not a new empty one.
    let ledger = Store::open_configured_existing(store.as_deref())?.evidence()?;
    let loaded = model_source::load(model.as_deref(), store.as_deref())?;
    let found = plan_guard::living::insights::insights(
        &loaded.model,
        &ledger.records,
        iom_model::time::now_unix(),
    );
    let text = match format {
        InsightsFormat::Json => serde_json::to_string_pretty(&found)? + "\n",
        InsightsFormat::Markdown => plan_guard::living::insights::render_markdown(&found),
        InsightsFormat::Text => plan_guard::living::insights::render_text(&found),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(exit::SUCCESS)
}
