//! Terminal output: the one place that decides colours, verbosity and whether a terminal is
//! attached. Results go to stdout; progress, warnings and errors go to stderr.

use std::io::{IsTerminal, Write};

use crate::cli::{ColorChoice, GlobalArgs, OutputFormat};

pub mod progress;

/// How output should look for this run.
#[derive(Debug, Clone)]
pub struct Ui {
    pub color: bool,
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// Prompts are allowed: stdin and stderr are terminals and `--no-input` is not set.
    pub interactive: bool,
    /// stderr is a terminal (progress bars instead of plain lines).
    pub terminal: bool,
}

impl Ui {
    pub fn from_args(g: &GlobalArgs) -> Ui {
        let stderr_tty = std::io::stderr().is_terminal();
        let color = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stderr_tty
                    && std::env::var_os("NO_COLOR").is_none()
                    && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        Ui {
            color,
            json: g.output == OutputFormat::Json,
            quiet: g.quiet,
            verbose: g.verbose,
            interactive: !g.no_input && stderr_tty && std::io::stdin().is_terminal(),
            terminal: stderr_tty,
        }
    }

    /// Wraps `text` in an ANSI style when colours are on.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match style {
            Style::Error => "1;31",
            Style::Warning => "1;33",
            Style::Success => "1;32",
            Style::Emphasis => "1",
            Style::Dim => "2",
            Style::Accent => "1;34",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Prints a result line to stdout.
    pub fn out(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (e.g. `| head`) is not an error worth a panic.
        let _ = writeln!(out, "{text}");
    }

    /// Prints a message to stderr unless `--quiet`.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }

    /// Prints an error to stderr.
    pub fn error(&self, text: &str) {
        let prefix = self.paint(Style::Error, "error");
        let _ = writeln!(std::io::stderr().lock(), "{prefix}: {text}");
    }

    /// Prints a formatted diagnostic (see `validate::report`) to stderr, whatever the
    /// verbosity: callers decide which diagnostics `--quiet` hides.
    pub fn diagnostic(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// Prints a JSON document to stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        self.out(&text);
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Style {
    Error,
    Warning,
    Success,
    Emphasis,
    Dim,
    Accent,
}
