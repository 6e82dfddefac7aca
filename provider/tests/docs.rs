//! The committed `docs/` pages are exactly what the schema renders. After a schema change:
//! `UPDATE_DOCS=1 cargo test -p terraform-provider-iom --test docs`.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;

#[test]
fn docs_match_the_schema() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let update = std::env::var("UPDATE_DOCS").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for (path, text) in terraform_provider_iom::docs::pages() {
        let file = docs.join(&path);
        if update {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &text).unwrap();
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "docs/ is out of date with the schema ({stale:?}): UPDATE_DOCS=1 cargo test -p terraform-provider-iom --test docs"
    );
}

#[test]
fn every_attribute_is_documented() {
    for (path, text) in terraform_provider_iom::docs::pages() {
        assert!(
            !text.contains("`  \n") && !text.contains("` (Optional) \n"),
            "{path} has an undescribed attribute"
        );
    }
}
