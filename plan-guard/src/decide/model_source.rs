//! Where a check's governance model comes from: `--model DIR` (the `.tf` files, read-only)
//! when given, else the model store (`--store`, `$IOM_STORE`, else the default SQLite file).
//! Either way the model is compiled before any plan is judged, and a model that cannot be
//! read or compiled is an error: a check never runs against half a model.

use std::path::Path;

use anyhow::{Result, anyhow};
use iom_model::{Model, ModelSpec};
use iom_store::{Store, StoreUrl};

/// A compiled model and what the report says about its origin.
pub struct LoadedModel {
    /// The compiled model.
    pub model: Model,
    /// The directory or store URL.
    pub source: String,
    /// The store's model revision; `None` for a directory.
    pub revision: Option<u64>,
}

/// Loads `--model DIR`, else the store's snapshot (`--store` or the default).
pub fn load(dir: Option<&Path>, store: Option<&str>) -> Result<LoadedModel> {
    if let Some(dir) = dir {
        if !dir.is_dir() {
            let what = if dir.exists() {
                "not a directory"
            } else {
                "no such directory"
            };
            return Err(anyhow!("the governance model {}: {what}", dir.display()));
        }
        let spec = iom_model::load_dir(dir).map_err(|errors| {
            anyhow!(
                "the governance model in {} is invalid:\n{}",
                dir.display(),
                bullets(errors)
            )
        })?;
        // Judged against nothing, every change would be ungoverned: a mistyped
        // directory (the workspace instead of its governance) must not look like a model.
        if spec.is_empty() {
            return Err(anyhow!(
                "no governance objects (iom_* resources) in the .tf files of {}: pass the \
                 governance directory to --model",
                dir.display()
            ));
        }
        return compiled(spec, dir.display().to_string(), None);
    }
    // A store that is not there holds no model: say so without creating it.
    let configured = StoreUrl::configured(store);
    if let StoreUrl::Sqlite(path) = StoreUrl::parse(&configured)?
        && !path.exists()
    {
        return Err(anyhow!(
            "the model store {configured} does not exist ({}): apply the governance \
             workspace with terraform-provider-iom first, or pass --model DIR",
            path.display()
        ));
    }
    // Loading a model only reads: a SQLite store is opened read-only (it may be a
    // read-only file); a PostgreSQL one as usual, so a new database says it is empty.
    let store = match StoreUrl::parse(&configured)? {
        StoreUrl::Sqlite(_) => Store::open_existing(&configured)?,
        StoreUrl::Postgres(_) => Store::open(&configured)?,
    };
    let url = store.url().to_string();
    let (spec, revision) = store.load_model()?;
    if revision == 0 {
        return Err(anyhow!(
            "the model store {url} is empty: apply the governance workspace with \
             terraform-provider-iom first, or pass --model DIR"
        ));
    }
    compiled(spec, url, Some(revision))
}

fn compiled(spec: ModelSpec, source: String, revision: Option<u64>) -> Result<LoadedModel> {
    // On stderr: the report on stdout stays the report.
    for warning in iom_model::validate::cost_warnings(&spec) {
        eprintln!("plan-guard: warning: {warning}");
    }
    let model = Model::compile(spec).map_err(|problems| {
        anyhow!(
            "the governance model in {source} is invalid:\n{}",
            bullets(problems)
        )
    })?;
    Ok(LoadedModel {
        model,
        source,
        revision,
    })
}

fn bullets<T: std::fmt::Display>(items: Vec<T>) -> String {
    items
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}
