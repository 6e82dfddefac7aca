//! The `plan-guard` command line: parses arguments, runs the library, maps results to
//! exit codes (0 allow/warn, 2 block, 3 escalate, 1 error) and prints errors. The
//! arguments are declared in `cli/args.rs`; each group of commands runs in a module of
//! its own under `cli/`.

mod cli;

use clap::Parser;
use plan_guard::exit;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::args::Cli::try_parse() {
        Ok(args) => args,
        // A usage error exits like every other error: clap's own code, 2, is "block".
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::ERROR
            } else {
                exit::SUCCESS
            });
        }
    };
    match cli::run(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("plan-guard: error: {}", error_text(&e));
            ExitCode::from(exit::ERROR)
        }
    }
}

/// The error and its causes, joined by ": ", leaving out a cause whose text is already
/// there: many errors (PostgreSQL's among them) repeat their source in their own message,
/// and `{:#}` would print it again.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}
