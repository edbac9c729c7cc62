//! Asking for one answer: taken from its flag when given, else asked on the terminal with a
//! dialoguer prompt (showing the default, re-asking until the answer is valid), else an error
//! naming the flag. Flag values go through the same validation as typed answers.

use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, Input, Select};

/// Why an answer could not be had; the command exits with a usage error.
#[derive(Debug)]
pub(crate) struct AskError(pub String);

impl std::fmt::Display for AskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates an answer: `Err` says what is wrong, in words that fit after "the name ...".
pub(crate) type Check<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Asks questions on the terminal, or refuses when there is none.
pub(crate) struct Prompter {
    interactive: bool,
    theme: Box<dyn Theme>,
}

impl Prompter {
    pub(crate) fn new(interactive: bool, color: bool) -> Prompter {
        let theme: Box<dyn Theme> = if color {
            Box::new(ColorfulTheme::default())
        } else {
            Box::new(SimpleTheme)
        };
        Prompter { interactive, theme }
    }

    pub(crate) fn interactive(&self) -> bool {
        self.interactive
    }

    fn missing(&self, what: &str, flag: &str) -> AskError {
        AskError(format!(
            "no terminal to ask for {what}: pass {flag} (or run on a terminal without --no-input)"
        ))
    }

    /// A text answer: `given` (from `flag`) when present, else asked.
    pub(crate) fn text(
        &self,
        given: Option<&str>,
        flag: &str,
        question: &str,
        default: Option<&str>,
        check: Check,
    ) -> Result<String, AskError> {
        if let Some(value) = given {
            let value = value.trim();
            let name = flag.split(' ').next().unwrap_or(flag);
            check(value).map_err(|e| AskError(format!("{name} `{value}`: {e}")))?;
            return Ok(value.to_string());
        }
        if !self.interactive {
            return Err(self.missing(&question_subject(question), flag));
        }
        let mut input = Input::<String>::with_theme(self.theme.as_ref()).with_prompt(question);
        if let Some(d) = default {
            input = input.default(d.to_string());
        }
        input
            .validate_with(|v: &String| check(v.trim()))
            .interact_text()
            .map(|v| v.trim().to_string())
            .map_err(|e| AskError(format!("cannot read the answer: {e}")))
    }

    /// One of `items`: `given` when present, else chosen from a list.
    pub(crate) fn select(
        &self,
        given: Option<usize>,
        flag: &str,
        question: &str,
        items: &[String],
        default: usize,
    ) -> Result<usize, AskError> {
        if let Some(i) = given {
            return Ok(i);
        }
        if !self.interactive {
            return Err(self.missing(&question_subject(question), flag));
        }
        Select::with_theme(self.theme.as_ref())
            .with_prompt(question)
            .items(items)
            .default(default)
            .interact()
            .map_err(|e| AskError(format!("cannot read the answer: {e}")))
    }

    /// A yes/no question; without a terminal the answer is `default`.
    pub(crate) fn confirm(&self, question: &str, default: bool) -> Result<bool, AskError> {
        if !self.interactive {
            return Ok(default);
        }
        Confirm::with_theme(self.theme.as_ref())
            .with_prompt(question)
            .default(default)
            .interact()
            .map_err(|e| AskError(format!("cannot read the answer: {e}")))
    }
}

/// "Application name" → "the application name", for error messages.
fn question_subject(question: &str) -> String {
    format!("the {}", question.trim_end_matches('?').to_lowercase())
}
