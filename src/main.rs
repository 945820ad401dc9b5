//! The airlock binary: parse, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = airlock::cli::Cli::parse();
    match airlock::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`airlock inspect b | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            if let Some(h) = airlock::cli::hint(&err) {
                eprintln!("hint: {h}");
            }
            ExitCode::from(airlock::cli::exit_code(&err))
        }
    }
}
