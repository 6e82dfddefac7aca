//! Where a check's time goes: prints the median wall time of each stage (read and hash,
//! parse, graph, decide, render) over N runs. A companion to `bench/run.sh`.
//!
//!     cargo run --release -p plan-guard --example stages -- PLAN.json MODEL_DIR [RUNS]

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Instant;

use iom_model::{Model, Outcome, load_dir};
use plan_guard::decide::{CheckOptions, check};
use plan_guard::graph::ChangeGraph;
use plan_guard::plan::read_plan;
use plan_guard::render::render_json;

fn main() {
    let mut args = std::env::args().skip(1);
    let (plan, model) = match (args.next(), args.next()) {
        (Some(p), Some(m)) => (p, m),
        _ => panic!("usage: stages PLAN.json MODEL_DIR [RUNS]"),
    };
    let runs: usize = args
        .next()
        .map_or(5, |n| n.parse().expect("RUNS is a number"));
    let stages = ["read+hash", "parse", "graph", "check", "render"];
    let mut times = vec![Vec::new(); stages.len()];
    let opts = CheckOptions {
        workspace: "bench-estate".into(),
        actor: "bench".into(),
        ungoverned: Outcome::Escalate,
        model_source: model.clone(),
        model_revision: None,
        source_dir: None,
    };
    let model = Model::compile(load_dir(model.as_ref()).expect("model loads")).expect("compiles");
    for _ in 0..runs {
        let mut lap = Instant::now();
        let mut record = |i: usize| {
            times[i].push(lap.elapsed().as_secs_f64() * 1000.0);
            lap = Instant::now();
        };
        let raw = read_plan(&plan).expect("readable plan");
        record(0);
        let parsed = raw.parse().expect("a plan");
        record(1);
        std::hint::black_box(ChangeGraph::build(&parsed));
        record(2);
        // `check` builds the graph again: its own figure includes it.
        let report = check(&raw, &parsed, &model, &opts).expect("checked");
        record(3);
        std::hint::black_box(render_json(&report));
        record(4);
    }
    for (name, mut t) in stages.iter().zip(times) {
        t.sort_by(f64::total_cmp);
        println!("{name:<10} {:>9.1} ms", t[t.len() / 2]);
    }
}
