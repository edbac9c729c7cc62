//! The error every command returns: what went wrong, what to do about it, what it is about,
//! and the exit code it ends the process with. Errors are printed in one place,
//! `commands::run`, through `ui`; code below it returns them and never prints them itself.
//!
//! Manifest diagnostics (`validate`) are not errors: they are findings reported all at once.
//! Refusing to go on because of them is one error (exit 3) after the report.

use std::fmt;

use crate::exit;

/// A failure that ends a command.
///
/// `Display` writes the message and, on the next line, the help (`  help: …`), exactly as it
/// is printed after `error: `; code that still formats errors as strings keeps the whole text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    message: String,
    help: Option<String>,
    subject: Option<String>,
    code: u8,
}

/// The result of anything that can end a command.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An operation failed (exit code 1).
    pub fn failure(message: impl Into<String>) -> Error {
        Error::with_code(exit::FAILURE, message)
    }

    /// The command line or workspace was not usable as given (exit code 2).
    pub fn usage(message: impl Into<String>) -> Error {
        Error::with_code(exit::USAGE, message)
    }

    /// An error that ends the process with `code`.
    pub fn with_code(code: u8, message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            help: None,
            subject: None,
            code,
        }
    }

    /// An outcome already reported to the user (a validation report, a rolled-back deploy's
    /// summary): nothing more is printed, the process only ends with `code`.
    pub fn reported(code: u8) -> Error {
        Error::with_code(code, String::new())
    }

    /// Adds what the user can do about it, printed as `  help: …` under the message.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Error {
        self.help = Some(help.into());
        self
    }

    /// Names the file, stack or resource the error is about (shown with `--verbose`).
    #[must_use]
    pub fn about(mut self, subject: impl Into<String>) -> Error {
        self.subject = Some(subject.into());
        self
    }

    /// The exit code this error ends the process with.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// The message, without the help line.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// Whether there is anything left to print (see [`Error::reported`]).
    pub fn is_reported(&self) -> bool {
        self.message.is_empty() && self.help.is_none()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Code that reports failures as text (and code on other branches that still does) turns
/// into an operation failure, exit code 1.
impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::failure(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::failure(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_prints_on_its_own_line_under_the_message() {
        let e = Error::usage("no workload named `api`").help("workloads: web");
        assert_eq!(
            e.to_string(),
            "no workload named `api`\n  help: workloads: web"
        );
        assert_eq!(e.code(), exit::USAGE);
    }

    #[test]
    fn text_errors_are_failures() {
        let e: Error = "cannot reach AWS".into();
        assert_eq!(e.code(), exit::FAILURE);
        assert_eq!(e.to_string(), "cannot reach AWS");
        let e: Error = String::from("x").into();
        assert_eq!(e.help_text(), None);
    }

    #[test]
    fn a_reported_outcome_has_nothing_left_to_print() {
        let e = Error::reported(exit::ROLLED_BACK);
        assert!(e.is_reported());
        assert!(!Error::failure("x").is_reported());
    }
}
