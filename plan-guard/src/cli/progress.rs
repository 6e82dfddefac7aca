//! Progress of `check` on large plans.

use std::io::IsTerminal;

/// Progress on stderr for large plans, only when stderr is a terminal (never in CI logs
/// or when piped), one line rewritten in place.
pub(crate) struct Progress {
    on: bool,
    start: std::time::Instant,
}

impl Progress {
    /// Plans above this size get progress lines.
    const LARGE: u64 = 20_000_000;

    pub(crate) fn for_plan(plan: &str) -> Progress {
        let large = std::fs::metadata(plan).is_ok_and(|m| m.len() >= Self::LARGE);
        Progress {
            on: large && std::io::stderr().is_terminal(),
            start: std::time::Instant::now(),
        }
    }

    pub(crate) fn say(&self, what: impl FnOnce() -> String) {
        if self.on {
            eprint!(
                "\r\x1b[2Kplan-guard: {} ({:.1}s)",
                what(),
                self.start.elapsed().as_secs_f64()
            );
        }
    }

    pub(crate) fn done(&self) {
        if self.on {
            eprint!("\r\x1b[2K");
        }
    }
}
