//! Output policy in one place (uv's Printer): results on stdout, progress and logs on
//! stderr, text or JSON, colour only for a terminal without NO_COLOR. Renderers for plans,
//! doctor checklists and errors live next to it.

pub mod doctor;
pub mod downloads;
pub mod error;
pub mod events;
pub mod junit;
pub mod matrix;
pub mod plan;
pub mod progress;
pub mod prompt;
pub mod style;
pub mod verify;

use std::io::{IsTerminal, Write};

use crate::cli::GlobalArgs;

/// What a command prints on stdout: human text, or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Printer {
    pub format: OutputFormat,
    /// -1 quiet, 0 default, 1.. verbose.
    pub verbosity: i8,
    /// Colour on stdout / stderr.
    pub color: bool,
    /// Spinners allowed (a terminal, not --ci, not --no-progress, not JSON).
    pub progress: bool,
    /// Prompts allowed (a terminal on stdin and stderr, not --ci).
    pub interactive: bool,
    pub ci: bool,
    pub yes: bool,
}

impl Printer {
    pub fn from_args(g: &GlobalArgs) -> Printer {
        let ci = g.ci || ci_from_env();
        let tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Printer {
            format: g.output,
            verbosity: if g.quiet > 0 {
                -1
            } else {
                g.verbose.min(3) as i8
            },
            color: tty && std::io::stdout().is_terminal() && !no_color,
            progress: tty
                && !ci
                && !g.no_progress
                && g.output == OutputFormat::Text
                && g.verbose == 0,
            interactive: tty && std::io::stdin().is_terminal() && !ci,
            ci,
            yes: g.yes,
        }
    }

    pub fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// A result, on stdout (always printed, even with -q).
    pub fn out(&self, text: &str) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = o.write_all(b"\n");
        }
        let _ = o.flush();
    }

    /// A JSON document on stdout.
    pub fn out_json(&self, value: &impl serde::Serialize, pretty: bool) {
        let text = if pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        }
        .expect("plain data serializes");
        self.out(&text);
    }

    /// Commentary for people, on stderr; silent with -q and in JSON mode.
    pub fn note(&self, text: &str) {
        if self.verbosity >= 0 && !self.json() {
            let mut e = std::io::stderr().lock();
            let _ = writeln!(e, "{text}");
        }
    }

    pub fn style(&self) -> style::Style {
        style::Style { color: self.color }
    }
}

/// Before there is a printer (the command line did not parse, the runtime did not start): an
/// error line on stderr, and a JSON document on stdout.
pub fn early_error(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "error: {text}");
}

pub fn early_json(value: &serde_json::Value) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{value}");
    let _ = o.flush();
}

/// A line on stderr from outside any command's printer (the signal thread).
pub fn signal_notice(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{text}");
}

/// CI=true (or 1, or any non-empty value but false/0) implies --ci.
pub fn ci_from_env() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}
