//! Progress lines on a terminal: indicatif spinners in the UI's one set of bars, one for each
//! key the caller names (a stack, a resource of it, its rollout), each with its running clock.
//! What the lines say is the caller's: the UI knows no deploy events (tests/layering.rs), only
//! lines, their indent and the [`Tone`] of a status.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::{Stream, Ui};

/// How a status reads, and the colour it is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Bad,
    Good,
    Busy,
}

/// Spinner lines on stderr, keyed by what they follow: `stack` for a stack's own line,
/// `stack/<anything>` for the lines drawn under it.
pub(crate) struct Board {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    color: bool,
}

impl Board {
    /// Lines drawn in the UI's one set of bars, coloured as stderr takes colours.
    pub(crate) fn new(ui: &Ui) -> Board {
        Board {
            multi: ui.bars.clone(),
            bars: Mutex::new(HashMap::new()),
            color: ui.color(Stream::Stderr),
        }
    }

    /// `text` in the colour of `tone`, when stderr takes colours.
    pub(crate) fn paint(&self, tone: Tone, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match tone {
            Tone::Bad => "31",
            Tone::Good => "32",
            Tone::Busy => "33",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Shows `message` on the line of `key`, `indent` spaces in; `done` ends the line there.
    pub(crate) fn show(&self, key: &str, indent: usize, message: String, done: bool) {
        let bar = self.bar(key, indent);
        bar.set_message(message);
        if done {
            bar.finish();
        }
    }

    /// Ends the line of `stack` with `message` and ends every line under it; `detail` goes on
    /// a line of its own below.
    pub(crate) fn conclude(&self, stack: &str, message: String, detail: Option<&str>) {
        let bar = self.bar(stack, 0);
        // The final line states the duration itself; the spinner's running clock would
        // repeat it ("deployed in 2.7s 1s").
        if let Ok(style) = ProgressStyle::with_template("{msg}") {
            bar.set_style(style);
        }
        bar.finish_with_message(message);
        let under = format!("{stack}/");
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        for (key, b) in bars.iter() {
            if key.starts_with(&under) {
                b.finish();
            }
        }
        bars.retain(|k, _| !k.starts_with(&under));
        if let Some(d) = detail {
            let _ = self.multi.println(format!("  {d}"));
        }
    }

    fn bar(&self, key: &str, indent: usize) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        // A finished line stays as it is (a resource that completed and then rolls back gets
        // a new line): a finished bar no longer redraws, so its message could not change.
        if let Some(bar) = bars.get(key).filter(|b| !b.is_finished()) {
            return bar.clone();
        }
        let bar = self.multi.add(ProgressBar::new_spinner());
        let template = format!("{}{{spinner}} {{msg}} {{elapsed:.dim}}", " ".repeat(indent));
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bars.insert(key.to_string(), bar.clone());
        bar
    }
}
