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
            airlock::cli::say(&format!("error: {}", error_line(&err)));
            if let Some(h) = airlock::cli::hint(&err) {
                airlock::cli::say(&format!("hint: {h}"));
            }
            ExitCode::from(airlock::cli::exit_code(&err))
        }
    }
}

/// The error and its causes on one line (`a: b: c`), each said once: a cause whose text the
/// messages before it already hold is left out. An error that prints its source in its own message
/// (`{path}: {source}`) and also returns it from `source()` would otherwise repeat it
/// (`...: No such file or directory (os error 2): No such file or directory (os error 2)`), as
/// anyhow's `{:#}` does.
fn error_line(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let m = cause.to_string();
        if out.contains(m.as_str()) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::error_line;

    #[derive(Debug, thiserror::Error)]
    #[error("output {path}: {source}")]
    struct Repeats {
        path: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once() {
        let os = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = os.to_string();
        let err = anyhow::Error::new(Repeats {
            path: "x.tar",
            source: os,
        });
        assert_eq!(
            format!("{err:#}").matches(&text).count(),
            2,
            "anyhow repeats it"
        );
        let line = error_line(&err.context("exporting"));
        assert_eq!(line, format!("exporting: output x.tar: {text}"));
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_line(&plain), "outer: inner");
    }
}
