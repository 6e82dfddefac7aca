//! The `plan-guard` command line: parses arguments, runs the library, maps results to
//! exit codes (0 allow/warn, 2 block, 3 escalate, 1 error) and prints errors. The
//! arguments are declared in `cli/args.rs`; each group of commands runs in a module of
//! its own under `cli/`.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    match cli::run(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("plan-guard: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
