//! Diagnostics: what every check reports, with a stable code, a severity, a position, a
//! message and a help line. Rules produce them; reporters print them.

use serde::Serialize;

use crate::manifest::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A stable diagnostic code: the id never changes meaning once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code {
    pub id: &'static str,
    pub name: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    /// The environments whose merged manifest shows the problem; empty when it does not
    /// depend on an environment.
    pub environments: Vec<String>,
    /// The value at the span may be a secret (it sits where a secret reference belongs): the
    /// text reporter masks it in the source line it shows. The message never quotes it.
    pub redact: bool,
}

impl Diagnostic {
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            span,
            message: message.into(),
            help: None,
            environments: Vec::new(),
            redact: false,
        }
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Marks the value at the span as possibly secret (see [`Diagnostic::redact`]).
    pub fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How many characters of a masked value are shown as `*`: enough to see that something is
/// there, never its length (which [`secret_shape`] states).
const MASK: &str = "****";

/// The shape of a value that may be a secret, for messages: its length and the kinds of
/// characters in it, never a character of it. `xK9#...` (40 characters) becomes
/// "`****` (40 characters: letters, digits, symbols)".
pub fn secret_shape(value: &str) -> String {
    let count = value.chars().count();
    let mut kinds = Vec::new();
    if value.chars().any(|c| c.is_alphabetic()) {
        kinds.push("letters");
    }
    if value.chars().any(|c| c.is_ascii_digit()) {
        kinds.push("digits");
    }
    if value.chars().any(char::is_whitespace) {
        kinds.push("spaces");
    }
    if value
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
    {
        kinds.push("symbols");
    }
    let plural = if count == 1 { "" } else { "s" };
    if kinds.is_empty() {
        format!("`{MASK}` ({count} character{plural})")
    } else {
        format!("`{MASK}` ({count} character{plural}: {})", kinds.join(", "))
    }
}

/// Sorts diagnostics by position and folds the copies that checking one manifest against
/// several environments produces into one diagnostic that lists those environments.
pub fn normalize(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| {
        (a.span, a.code, &a.message, a.severity).cmp(&(b.span, b.code, &b.message, b.severity))
    });
    let mut out: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    for d in diags {
        if let Some(last) = out.last_mut()
            && last.span == d.span
            && last.code == d.code
            && last.message == d.message
            && last.severity == d.severity
        {
            last.redact |= d.redact;
            for env in d.environments {
                if !last.environments.contains(&env) {
                    last.environments.push(env);
                }
            }
            continue;
        }
        out.push(d);
    }
    out
}
