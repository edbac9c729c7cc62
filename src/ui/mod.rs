//! Terminal output: the one place that decides colours, verbosity and whether a terminal is
//! attached, and the only module that writes to stdout and stderr (clippy's `print_stdout`
//! and `print_stderr` lints, denied in `lib.rs`, keep it so). Results go to stdout;
//! progress, warnings, errors and prompts go to stderr.
//!
//! Colour is decided for each stream on its own: `tug svc logs > file` run from a terminal
//! writes plain text to the file and still colours its messages on stderr.

use std::io::{IsTerminal, Write};

use indicatif::MultiProgress;

use crate::cli::{ColorChoice, GlobalArgs, OutputFormat};

pub(crate) mod progress;

/// How output should look for this run, and the handle every line is written through.
///
/// Cloning is cheap (flags and a shared handle on the progress bars), so a task that must
/// print, such as the Ctrl-C watcher, takes a clone instead of writing to the terminal
/// itself.
#[derive(Debug, Clone)]
pub(crate) struct Ui {
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// Prompts are allowed: stdin and stderr are terminals and `--no-input` is not set.
    pub interactive: bool,
    /// stderr is a terminal (progress bars instead of plain lines).
    pub terminal: bool,
    /// Colours on stdout and on stderr, each decided from its own stream.
    out_color: bool,
    err_color: bool,
    /// The progress bars of this process (drawn on stderr by `progress::Board`):
    /// one set, so that a line printed while they are up can hide them first.
    bars: MultiProgress,
}

/// Which stream a piece of text is meant for: colour is decided per stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    // Stdout text is painted through `paint_out`; only the tests ask by stream today.
    #[cfg_attr(not(test), allow(dead_code))]
    Stdout,
    Stderr,
}

impl Ui {
    pub(crate) fn from_args(g: &GlobalArgs) -> Ui {
        let stderr_tty = std::io::stderr().is_terminal();
        Ui {
            json: g.output == OutputFormat::Json,
            quiet: g.quiet,
            verbose: g.verbose,
            interactive: !g.no_input && stderr_tty && std::io::stdin().is_terminal(),
            terminal: stderr_tty,
            out_color: stream_color(g.color, &std::io::stdout()),
            err_color: stream_color(g.color, &std::io::stderr()),
            bars: MultiProgress::new(),
        }
    }

    /// A UI that never colours, prompts or draws bars: for tests of formatted text.
    #[cfg(test)]
    pub(crate) fn plain() -> Ui {
        Ui {
            json: false,
            quiet: false,
            verbose: false,
            interactive: false,
            terminal: false,
            out_color: false,
            err_color: false,
            bars: MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden()),
        }
    }

    /// Whether text for `stream` is coloured.
    pub(crate) fn color(&self, stream: Stream) -> bool {
        match stream {
            Stream::Stdout => self.out_color,
            Stream::Stderr => self.err_color,
        }
    }

    /// Wraps `text`, to be printed on stdout (`out`, `json`), in an ANSI style when stdout
    /// takes colours.
    pub(crate) fn paint_out(&self, style: Style, text: &str) -> String {
        paint(self.out_color, style, text)
    }

    /// Wraps `text`, to be printed on stderr (`info`, `error`, `diagnostic`, `notice`), in
    /// an ANSI style when stderr takes colours.
    pub(crate) fn paint_err(&self, style: Style, text: &str) -> String {
        paint(self.err_color, style, text)
    }

    /// Prints a result line to stdout.
    pub(crate) fn out(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (e.g. `| head`) is not an error worth a panic.
        let _ = writeln!(out, "{text}");
    }

    /// Writes `bytes` to stdout as they are, without adding a newline: rendered templates,
    /// completion scripts and manual pages.
    pub(crate) fn out_raw(&self, bytes: &[u8]) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }

    /// Prints a message to stderr unless `--quiet`.
    pub(crate) fn info(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }

    /// Prints an error to stderr.
    pub(crate) fn error(&self, text: &str) {
        let prefix = self.paint_err(Style::Error, "error");
        let _ = writeln!(std::io::stderr().lock(), "{prefix}: {text}");
    }

    /// Prints the error that ended a command: `error: message`, its help line, and with
    /// `--verbose` what it is about. An outcome already reported prints nothing.
    pub(crate) fn report_error(&self, e: &crate::error::Error) {
        if e.is_reported() {
            return;
        }
        self.error(&e.to_string());
        self.about(e);
    }

    /// Prints the error one part of a command's work ended with (a stack of a deploy), as
    /// [`Ui::report_error`] does, the part named first: `error: PART: message`.
    pub(crate) fn report_error_in(&self, part: &str, e: &crate::error::Error) {
        self.error(&format!("{part}: {e}"));
        self.about(e);
    }

    /// With `--verbose`, what an error is about, under it.
    fn about(&self, e: &crate::error::Error) {
        if self.verbose
            && let Some(subject) = e.subject()
        {
            let _ = writeln!(std::io::stderr().lock(), "  about: {subject}");
        }
    }

    /// Prints a formatted diagnostic (see `validate::report`) to stderr, whatever the
    /// verbosity: callers decide which diagnostics `--quiet` hides.
    pub(crate) fn diagnostic(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// Prints a line to stderr that `--quiet` does not hide and that may come while progress
    /// bars are drawn (what Ctrl-C does, the changes a prompt asks about): the bars are
    /// cleared first and redrawn below it, instead of drawing over it.
    pub(crate) fn notice(&self, text: &str) {
        self.bars.suspend(|| {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        });
    }

    /// Asks a yes/no `question` on the terminal (stderr); `Err` says why it could not ask.
    /// Callers check `interactive` first.
    pub(crate) fn confirm(&self, question: &str, default: bool) -> crate::error::Result<bool> {
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(default)
            .interact()
            .map_err(|e| crate::error::Error::failure(format!("cannot ask: {e}")))
    }

    /// Prints a JSON document to stdout.
    pub(crate) fn json(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        self.out(&text);
    }
}

/// Whether one stream takes colours: `--color always` and `--color never` decide alone (a
/// flag on the command line outranks the environment); with `auto`, anstream decides from
/// the stream's own terminal-ness, `NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR` and `TERM`.
fn stream_color<S: anstream::stream::RawStream>(flag: ColorChoice, stream: &S) -> bool {
    match flag {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never,
    }
}

fn paint(color: bool, style: Style, text: &str) -> String {
    if !color {
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

#[derive(Debug, Clone, Copy)]
pub(crate) enum Style {
    Error,
    Warning,
    Success,
    Emphasis,
    Dim,
    Accent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_outranks_the_stream() {
        // A Vec is never a terminal: `always` colours it anyway, `never` never does.
        assert!(stream_color(ColorChoice::Always, &Vec::<u8>::new()));
        assert!(!stream_color(ColorChoice::Never, &Vec::<u8>::new()));
    }

    #[test]
    fn each_stream_is_painted_from_its_own_decision() {
        let ui = Ui {
            out_color: false,
            err_color: true,
            ..Ui::plain()
        };
        assert_eq!(ui.paint_out(Style::Emphasis, "Workloads"), "Workloads");
        assert_eq!(
            ui.paint_err(Style::Error, "error"),
            "\x1b[1;31merror\x1b[0m"
        );
        assert!(!ui.color(Stream::Stdout) && ui.color(Stream::Stderr));
    }
}
