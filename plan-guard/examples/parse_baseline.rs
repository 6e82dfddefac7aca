//! Benchmark baseline: the wall time of a bare `serde_json` parse of a plan into
//! `serde_json::Value`, the yardstick plan-guard's own cost is compared with.
//! Prints the median of N runs in milliseconds.

// Test code: a panic here is a failed test, with its message, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_baseline PLAN.json [RUNS]");
    let runs: usize = args
        .next()
        .map(|n| n.parse().expect("RUNS is a number"))
        .unwrap_or(5);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let bytes = std::fs::read(&path).expect("readable plan");
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
        std::hint::black_box(&value);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!("{:.1}", times[times.len() / 2]);
}
