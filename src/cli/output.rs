//! The printer: stderr for people (quiet/verbose aware), progress bars only on a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::finding::Finding;
use crate::layout::{NoProgress, Progress};

/// Decides what reaches stderr.
pub struct Printer {
    quiet: u8,
    verbose: u8,
    bars: bool,
}

impl Printer {
    /// From the global flags.
    pub fn new(quiet: u8, verbose: u8, no_progress: bool) -> Self {
        Printer {
            quiet,
            verbose,
            bars: quiet == 0 && !no_progress && std::io::stderr().is_terminal(),
        }
    }

    /// True when progress bars are drawn (a terminal, no -q, no --no-progress).
    pub fn bars(&self) -> bool {
        self.bars
    }

    /// A normal line (hidden by -q).
    pub fn info(&self, line: &str) {
        if self.quiet == 0 {
            say(line);
        }
    }

    /// A detail line (only with -v).
    pub fn detail(&self, line: &str) {
        if self.verbose > 0 && self.quiet == 0 {
            say(line);
        }
    }

    /// An important line (hidden only by -qq).
    pub fn important(&self, line: &str) {
        if self.quiet < 2 {
            say(line);
        }
    }

    /// A progress sink: a byte bar on a terminal (and one line per item in flight above it, for
    /// the blobs `export --jobs` fetches at once), nothing otherwise.
    pub fn progress(&self, label: &'static str) -> Arc<dyn ProgressHandle> {
        if !self.bars {
            return Arc::new(Silent);
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let bar = multi.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(label);
        bar.enable_steady_tick(Duration::from_millis(200));
        Arc::new(Bar {
            total: bar,
            multi,
            items: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        })
    }

    /// Prints a finding.
    pub fn finding(&self, kind: &str, f: &Finding) {
        let mut line = format!("  {kind:<4} {}", f.code);
        if let Some(p) = &f.path {
            line.push_str(&format!("  {p}"));
        } else if let Some(d) = &f.digest {
            line.push_str(&format!("  {d}"));
        }
        line.push_str(&format!(": {}", f.message));
        if kind == "FAIL" {
            self.important(&line);
        } else {
            self.info(&line);
        }
    }
}

/// `line` as it may reach a terminal: every control character but the tab (an escape sequence, a
/// carriage return, a newline, a backspace) and every bidirectional override is written as its
/// escape (`\u{1b}`). Names and messages come from bundles and registries: an entry named
/// `\r\e[2K\e[32mPASS...` would otherwise erase the FAIL line before it and draw a pass.
pub fn terminal_safe(line: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
            // LINE SEPARATOR and PARAGRAPH SEPARATOR: line breaks to Python's `splitlines`, JSON
            // readers in JavaScript and others (red team P, P06).
            || matches!(c, '\u{2028}' | '\u{2029}')
    };
    if !line.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One line on stderr, made [`terminal_safe`]. A stderr that cannot be written (a closed pipe, a
/// full disk) loses the line: the outcome is the exit status, never a panic (`eprintln!` panics).
pub fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", terminal_safe(line));
}

/// Lines for people on stdout, each made [`terminal_safe`] whole: a newline inside a line (a
/// bundle's name may hold one) is escaped like any control character, never a line of its own. A
/// closed pipe loses the text, as in [`print_json`]; any other write error is returned, never a
/// panic.
pub fn print_lines(lines: &[String]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let written = lines
        .iter()
        .try_for_each(|line| writeln!(out, "{}", terminal_safe(line)))
        .and_then(|()| out.flush());
    unless_closed(written)
}

/// A progress sink the CLI can finish.
pub trait ProgressHandle: Progress {
    /// Removes the bar.
    fn finish(&self) {}
    /// As a library progress sink.
    fn sink(self: Arc<Self>) -> Arc<dyn Progress>;
}

struct Silent;
impl Progress for Silent {}
impl ProgressHandle for Silent {
    fn sink(self: Arc<Self>) -> Arc<dyn Progress> {
        Arc::new(NoProgress)
    }
}

struct Bar {
    total: ProgressBar,
    multi: MultiProgress,
    items: Mutex<HashMap<u64, ProgressBar>>,
    next: AtomicU64,
}
impl Progress for Bar {
    fn set_total(&self, bytes: Option<u64>) {
        if let Some(b) = bytes {
            self.total.set_length(b);
        }
    }
    fn advance(&self, bytes: u64) {
        self.total.inc(bytes);
    }
    fn item_start(&self, label: &str, size: u64) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let pb = self
            .multi
            .insert_before(&self.total, ProgressBar::new(size));
        pb.set_style(
            ProgressStyle::with_template(
                "  {prefix} {bar:20} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.set_prefix(label.to_owned());
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, pb);
        id
    }
    fn item_advance(&self, id: u64, bytes: u64) {
        if let Some(pb) = self
            .items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            pb.inc(bytes);
        }
    }
    fn item_done(&self, id: u64) {
        let pb = self
            .items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if let Some(pb) = pb {
            pb.finish_and_clear();
            self.multi.remove(&pb);
        }
    }
}
impl ProgressHandle for Bar {
    fn finish(&self) {
        for (_, pb) in self.items.lock().unwrap_or_else(|p| p.into_inner()).drain() {
            pb.finish_and_clear();
        }
        self.total.finish_and_clear();
    }
    fn sink(self: Arc<Self>) -> Arc<dyn Progress> {
        self
    }
}

/// The bundle's identity, printed the same way by `export`, `verify`, `inspect` and `import`:
/// `bundle sha256:...` (the digest of `index.json`, the same for every form of one bundle) and,
/// for a tarball, `file sha256:...` (the file's own bytes, as stored).
pub fn identity_lines(bundle: Option<&str>, file: Option<&str>) -> Vec<String> {
    let mut out = vec![format!("bundle {}", bundle.unwrap_or("(no index.json)"))];
    if let Some(f) = file {
        out.push(format!("file {f}"));
    }
    out
}

/// The `bundle` object of the JSON outputs of `export`, `inspect` and `import` (`verify`'s report
/// has the same keys in its own `bundle`).
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleIdentity {
    /// sha256 of `index.json`.
    pub digest: Option<String>,
    /// sha256 of the tarball file, for a tarball.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_digest: Option<String>,
}

/// Writes JSON to stdout with a trailing newline. A stdout nobody reads any more (a closed pipe)
/// loses the text, not the outcome: the command goes on to its own exit status (a failed
/// verification must not exit 0 because `| head` stopped reading). Any other write error (a full
/// disk) is an error.
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, v)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    Ok(unless_closed(written)?)
}

/// `Ok` for a closed pipe (the reader is gone), the error otherwise.
fn unless_closed(r: std::io::Result<()>) -> std::io::Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `1.5 GiB`-style sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    // Shown to one decimal: a byte count past 2^53 losing precision in f64 is harmless here.
    #[allow(clippy::as_conversions)]
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS.get(u).copied().unwrap_or("B"))
    }
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    /// Controls, bidi overrides and the Unicode line and paragraph separators are escaped
    /// (red team P, P06: a signer name with U+2028 split a summary for line-splitting readers).
    #[test]
    fn what_could_break_or_reorder_a_line_is_escaped() {
        for (raw, want) in [
            ("a\nb", "a\\u{a}b"),
            ("a\u{1b}[2Kb", "a\\u{1b}[2Kb"),
            ("a\u{202e}b", "a\\u{202e}b"),
            ("a\u{2028}PASS", "a\\u{2028}PASS"),
            ("a\u{2029}b", "a\\u{2029}b"),
            ("a\u{85}b", "a\\u{85}b"),
        ] {
            assert_eq!(terminal_safe(raw), want, "{raw:?}");
        }
        assert_eq!(
            terminal_safe("tab\there, é, 署名者"),
            "tab\there, é, 署名者"
        );
    }
}
