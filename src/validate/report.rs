//! Diagnostic reporters: text for people (`path:line:col`, the source line and a caret) and
//! JSON for programs, carrying the same fields. The text names which part of a diagnostic is
//! which ([`Part`]); how a part looks on a terminal is the caller's [`Paint`], since
//! validation knows nothing of the terminal (tests/layering.rs).

use serde_json::json;

use crate::manifest::diagnostic::{Diagnostic, Severity};
use crate::manifest::source::SourceMap;

/// The parts of a diagnostic's text that a terminal may colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The `error[…]` label and the carets under an error.
    Error,
    /// The `warning[…]` label and the carets under a warning.
    Warning,
    /// The message and the `help`/`in` labels.
    Emphasis,
    /// The `-->` arrow, the gutter bars and the line number.
    Accent,
}

/// Colours the parts of a diagnostic (the UI does it for stderr; [`Plain`] leaves them be).
pub trait Paint {
    fn paint(&self, part: Part, text: &str) -> String;
}

/// No colours: text for files, tests and programs.
pub struct Plain;

impl Paint for Plain {
    fn paint(&self, _: Part, text: &str) -> String {
        text.to_string()
    }
}

/// Formats one diagnostic for a terminal. `all_envs` are the environments checked: a
/// diagnostic found in all of them does not list them.
pub fn format_text(
    d: &Diagnostic,
    sources: &SourceMap,
    all_envs: &[String],
    colors: &impl Paint,
) -> String {
    let (label, style) = match d.severity {
        Severity::Error => ("error", Part::Error),
        Severity::Warning => ("warning", Part::Warning),
    };
    let head = colors.paint(style, &format!("{label}[{}]", d.code.id));
    let mut out = format!(
        "{head}: {}\n",
        colors.paint(Part::Emphasis, &sanitize(&d.message))
    );
    let path = sources
        .path(d.span.source)
        .map(|p| sanitize(&p.display().to_string()))
        .unwrap_or_default();
    let line_no = d.span.line.to_string();
    let pad = " ".repeat(line_no.len());
    out.push_str(&format!(
        "{pad}{} {path}:{}:{}\n",
        colors.paint(Part::Accent, "-->"),
        d.span.line,
        d.span.col
    ));
    if let Some(text) = sources.line_text(d.span) {
        let bar = colors.paint(Part::Accent, "|");
        let col = (d.span.col.max(1) - 1) as usize;
        let width = token_width(text, col);
        // Escaped control characters widen the line: measure the prefix as it is shown.
        let prefix: String = text.chars().take(col).collect();
        let indent = " ".repeat(sanitize(&prefix).chars().count());
        let text = if d.redact {
            mask_token(text, col, width)
        } else {
            text.to_string()
        };
        let text = sanitize(&text);
        out.push_str(&format!("{pad} {bar}\n"));
        out.push_str(&format!(
            "{} {bar} {text}\n",
            colors.paint(Part::Accent, &line_no)
        ));
        out.push_str(&format!(
            "{pad} {bar} {indent}{}\n",
            colors.paint(style, &"^".repeat(width))
        ));
    }
    if let Some(help) = &d.help {
        out.push_str(&format!(
            "{pad} = {}: {}\n",
            colors.paint(Part::Emphasis, "help"),
            sanitize(help)
        ));
    }
    if !d.environments.is_empty() && d.environments.len() < all_envs.len() {
        let envs = d.environments.join(", ");
        let word = if d.environments.len() == 1 {
            "environment"
        } else {
            "environments"
        };
        out.push_str(&format!(
            "{pad} = {}: {word} {envs}\n",
            colors.paint(Part::Emphasis, "in")
        ));
    }
    out
}

/// The width of the token starting at `col`: a quoted string, a key (up to its `:`), or a
/// plain value (up to a comment, or the end of its flow item).
fn token_width(line: &str, col: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(col).collect();
    match rest.first() {
        None => 1,
        Some(q @ ('"' | '\'')) => rest[1..]
            .iter()
            .position(|c| c == q)
            .map_or(rest.len(), |p| p + 2),
        Some(_) => {
            let is_key_colon =
                |i: usize| rest[i] == ':' && rest.get(i + 1).is_none_or(|c| c.is_whitespace());
            let is_end = |i: usize| {
                matches!(rest[i], ',' | ']' | '}')
                    || (rest[i] == '#' && i > 0 && rest[i - 1].is_whitespace())
            };
            let end = (0..rest.len())
                .find(|&i| is_key_colon(i) || is_end(i))
                .unwrap_or(rest.len());
            let trimmed = rest[..end]
                .iter()
                .rposition(|c| !c.is_whitespace())
                .map_or(0, |p| p + 1);
            trimmed.max(1)
        }
    }
}

/// `line` with the value from `col` to the end of the line replaced by `*`, so that a value
/// that may be a secret is never shown, whole or in part (a comment after it may repeat it),
/// and the caret under it still lines up. When the span is on a key (`key: value`), the key
/// stays and what follows it is masked. `${VAR}` references stay visible: they name where an
/// interpolated value came from, not the value.
fn mask_token(line: &str, col: usize, width: usize) -> String {
    let chars: Vec<char> = line.chars().collect();
    let start = if chars.get(col + width) == Some(&':') {
        col + width + 1
    } else {
        col
    };
    let mut out = String::with_capacity(line.len());
    let mut in_reference = false;
    for (i, &c) in chars.iter().enumerate() {
        if i < start || c.is_whitespace() {
            out.push(c);
            continue;
        }
        if c == '$' && chars.get(i + 1) == Some(&'{') {
            in_reference = true;
        }
        out.push(if in_reference { c } else { '*' });
        if in_reference && c == '}' {
            in_reference = false;
        }
    }
    out
}

/// Replaces control characters so that file contents cannot drive the terminal.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The JSON form of one diagnostic.
pub fn to_json(d: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    json!({
        "code": d.code.id,
        "name": d.code.name,
        "severity": d.severity.as_str(),
        "file": sources.path(d.span.source).map(|p| p.display().to_string()),
        "line": d.span.line,
        "column": d.span.col,
        "message": d.message,
        "help": d.help,
        "environments": d.environments,
    })
}

/// "2 errors, 1 warning".
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::codes;
    use crate::manifest::source::Span;

    #[test]
    fn text_shows_location_source_and_caret() {
        let mut sources = SourceMap::default();
        let id = sources.add(
            "copilot/web/manifest.yml".into(),
            "name: web\nimage:\n  prot: 80\n".into(),
        );
        let d = Diagnostic::error(
            codes::UNKNOWN_KEY,
            Span::new(id, 3, 3),
            "unknown key `prot` in `image`",
        )
        .with_help("did you mean `port`?");
        let text = format_text(&d, &sources, &[], &Plain);
        assert_eq!(
            text,
            "error[TUG103]: unknown key `prot` in `image`\n --> copilot/web/manifest.yml:3:3\n  |\n3 |   prot: 80\n  |   ^^^^\n  = help: did you mean `port`?\n"
        );
    }

    #[test]
    fn redacted_values_are_masked_in_the_source_line() {
        let mut sources = SourceMap::default();
        let id = sources.add(
            "copilot/api/manifest.yml".into(),
            "secrets:\n  API_KEY: sk_live_51Hx # pasted\n".into(),
        );
        let d = Diagnostic::error(codes::SECRET_REFERENCE, Span::new(id, 2, 12), "bad").redacted();
        let text = format_text(&d, &sources, &[], &Plain);
        assert!(!text.contains("sk_live"), "{text}");
        // Spaces stay (the shape states them anyway); a comment after the value may repeat it
        // and is masked too.
        assert!(
            text.contains("2 |   API_KEY: ************ * ******\n"),
            "{text}"
        );
        assert!(text.contains("  |            ^^^^^^^^^^^^\n"), "{text}");
    }

    #[test]
    fn variable_references_stay_visible_in_masked_values() {
        assert_eq!(mask_token("  K: ${TOKEN}x", 5, 8), "  K: ${TOKEN}*");
        assert_eq!(mask_token("  K: ab${T}cd", 5, 8), "  K: **${T}**");
        // A span on a key: the key stays, its value goes.
        assert_eq!(
            mask_token("    secretsmanager: [hunter2]", 4, 14),
            "    secretsmanager: *********"
        );
    }

    #[test]
    fn token_widths() {
        assert_eq!(token_width("  prot: 80", 2), 4);
        assert_eq!(token_width("a: \"x y\"", 3), 5);
        assert_eq!(token_width("", 0), 1);
        assert_eq!(token_width("type: Load Balanced Web Servce # typo", 6), 24);
        assert_eq!(token_width("  schedule: every day", 12), 9);
        assert_eq!(token_width("certs: [arn:aws:acm:x, b]", 8), 13);
        assert_eq!(token_width("  location: x", 2), 8);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(sanitize("a\u{1b}]0;x\u{7}b\tc"), "a\\u{1b}]0;x\\u{7}b c");
    }
}
