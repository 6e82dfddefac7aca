//! plan-guard's integration tests, in one test binary (`autotests = false` in
//! Cargo.toml): each module here was a test binary of its own, and each of those linked the
//! whole crate again. Helpers the modules share are modules too (`support`, `fixture_util`).
//! `test_hygiene` fails when a `.rs` file under `tests/` is not part of this binary, so no
//! test is left out silently.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod budget;
mod command_line;
mod contracts;
mod corpus;
mod cross_workspace;
mod decision_cases;
mod decisions;
mod drift_schedule;
mod fixture_decisions;
mod fixture_graph;
mod fixture_plans;
mod fixture_util;
mod governed_apply;
mod govtest;
mod html;
mod insights;
mod integrations;
mod junit;
mod ledger_compat;
mod living_model;
mod module_rules;
mod notify;
mod plan_parts;
mod plan_reading;
mod plan_set;
mod printable;
mod real_terraform;
mod report_schema;
mod sarif;
mod snapshots;
mod store_model;
mod support;
mod test_hygiene;
mod waivers;
