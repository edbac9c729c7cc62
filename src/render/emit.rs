//! Writes a JSON value as block-style YAML: the text of patched templates (and of the template
//! a rollback marks). The layout is the one serde_yaml 0.9 (libyaml) wrote before tug stopped
//! depending on it, byte for byte, so that patched templates did not change: two-space
//! indentation, sequences under a key not indented, empty collections as `[]` and `{}`, and each
//! string written plain when YAML reads it back as the same string, else single-quoted, else
//! double-quoted, and as a literal block (`|`) when it holds line breaks.
//!
//! The one deliberate difference: strings holding a carriage return, NEL, or the Unicode line
//! and paragraph separators are always double-quoted with escapes (libyaml's writers handle those
//! in ways that are hard to read back identically; CloudFormation templates do not hold them).

use serde_json::Value;

/// Indentation step, as libyaml's default.
const INDENT: usize = 2;
/// Longest key written as `key: value`; longer keys use the explicit `? key` form (libyaml).
const MAX_SIMPLE_KEY: usize = 128;

/// `value` as a YAML document, ending with a line break.
pub fn to_yaml(value: &Value) -> String {
    let mut w = Writer::default();
    match value {
        Value::Object(map) if !map.is_empty() => w.mapping(map, 0, false),
        Value::Array(items) if !items.is_empty() => w.sequence(items, 0, false),
        other => w.inline(other, 0, false),
    }
    w.end_line();
    w.out
}

#[derive(Default)]
struct Writer {
    out: String,
}

impl Writer {
    /// Starts a new line unless the text already ends with one.
    fn end_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    fn pad(&mut self, indent: usize) {
        self.out.extend(std::iter::repeat_n(' ', indent));
    }

    /// The entries of a non-empty mapping at column `indent`; the first one continues the
    /// current line when `continues` (after `- `).
    fn mapping(&mut self, map: &serde_json::Map<String, Value>, indent: usize, continues: bool) {
        for (i, (key, value)) in map.iter().enumerate() {
            if i > 0 || !continues {
                self.end_line();
                self.pad(indent);
            }
            if !is_simple_key(key) {
                // `? key` then `: value`, a collection continuing the `:` line.
                self.out.push_str("? ");
                self.scalar_str(key, indent, false);
                self.end_line();
                self.pad(indent);
                self.out.push(':');
                match value {
                    Value::Object(m) if !m.is_empty() => {
                        self.out.push(' ');
                        self.mapping(m, indent + INDENT, true);
                    }
                    Value::Array(items) if !items.is_empty() => {
                        self.out.push(' ');
                        self.sequence(items, indent + INDENT, true);
                    }
                    other => {
                        self.out.push(' ');
                        self.inline(other, indent, false);
                    }
                }
                continue;
            }
            self.scalar_str(key, indent, true);
            self.out.push(':');
            match value {
                Value::Object(m) if !m.is_empty() => self.mapping(m, indent + INDENT, false),
                // Sequences in a mapping are not indented.
                Value::Array(items) if !items.is_empty() => self.sequence(items, indent, false),
                other => {
                    self.out.push(' ');
                    self.inline(other, indent, false);
                }
            }
        }
    }

    /// The items of a non-empty sequence, their `-` at column `indent`.
    fn sequence(&mut self, items: &[Value], indent: usize, continues: bool) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !continues {
                self.end_line();
                self.pad(indent);
            }
            self.out.push_str("- ");
            match item {
                Value::Object(m) if !m.is_empty() => self.mapping(m, indent + INDENT, true),
                Value::Array(list) if !list.is_empty() => {
                    self.sequence(list, indent + INDENT, true)
                }
                other => self.inline(other, indent, false),
            }
        }
    }

    /// A scalar or an empty collection, on the current line; a literal block's lines are
    /// indented one step deeper than `indent`, the column of the collection holding it.
    fn inline(&mut self, value: &Value, indent: usize, key: bool) {
        match value {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.out.push_str(&n.to_string()),
            Value::String(s) => self.scalar_str(s, indent, key),
            Value::Array(_) => self.out.push_str("[]"),
            Value::Object(_) => self.out.push_str("{}"),
        }
    }

    /// A string, in the style libyaml picks for it (see the module header).
    fn scalar_str(&mut self, s: &str, indent: usize, simple_key: bool) {
        let a = analyze(s);
        let exotic_breaks = s.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']);
        let style = if exotic_breaks {
            Style::Double
        } else if s.contains('\n') {
            if simple_key || !a.block_allowed {
                Style::Double
            } else {
                Style::Literal
            }
        } else if looks_like_other_type(s) {
            if a.single_quoted_allowed {
                Style::Single
            } else {
                Style::Double
            }
        } else if a.block_plain_allowed && !(s.is_empty() && simple_key) {
            Style::Plain
        } else if a.single_quoted_allowed {
            Style::Single
        } else {
            Style::Double
        };
        match style {
            Style::Plain => self.out.push_str(s),
            Style::Single => {
                self.out.push('\'');
                self.out.push_str(&s.replace('\'', "''"));
                self.out.push('\'');
            }
            Style::Double => write_double_quoted(&mut self.out, s),
            Style::Literal => self.literal(s, indent + INDENT),
        }
    }

    /// A literal block (`|`), with libyaml's indentation and chomping indicators.
    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with([' ', '\n']) {
            self.out.push_str(&INDENT.to_string());
        }
        if !s.ends_with('\n') {
            self.out.push('-');
        } else if s == "\n" || s.ends_with("\n\n") {
            self.out.push('+');
        }
        self.out.push('\n');
        let mut at_line_start = true;
        for c in s.chars() {
            if c == '\n' {
                self.out.push('\n');
                at_line_start = true;
            } else {
                if at_line_start {
                    self.pad(indent);
                    at_line_start = false;
                }
                self.out.push(c);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// Whether libyaml writes `key` as `key: value` (short, on one line).
fn is_simple_key(key: &str) -> bool {
    key.len() <= MAX_SIMPLE_KEY && !key.chars().any(is_break)
}

/// Strings that YAML would read back as null, a boolean or a number when written plain
/// (serde_yaml's resolution rules), or digits with a leading zero: these are quoted.
fn looks_like_other_type(s: &str) -> bool {
    if s.is_empty() || matches!(s, "null" | "Null" | "NULL" | "~") {
        return true;
    }
    if matches!(s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") {
        return true;
    }
    if digits_but_not_number(s) {
        return true;
    }
    is_integer(s) || parse_float(s)
}

fn digits_but_not_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// serde_yaml's integer resolution: decimal, `0x`, `0o` and `0b`, an optional sign.
fn is_integer(s: &str) -> bool {
    fn radix(s: &str) -> Option<(&str, u32)> {
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
            if let Some(rest) = s.strip_prefix(prefix) {
                return Some((rest, radix));
            }
        }
        None
    }
    let unsigned = |s: &str| -> bool {
        let unpositive = s.strip_prefix('+').unwrap_or(s);
        if let Some((rest, r)) = radix(unpositive) {
            if rest.starts_with(['+', '-']) {
                return false;
            }
            if u128::from_str_radix(rest, r).is_ok() {
                return true;
            }
        }
        if unpositive.starts_with(['+', '-']) || digits_but_not_number(s) {
            return false;
        }
        unpositive.parse::<u128>().is_ok()
    };
    let negative = |s: &str| -> bool {
        for (prefix, r) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
            if let Some(rest) = s.strip_prefix(prefix)
                && i128::from_str_radix(&format!("-{rest}"), r).is_ok()
            {
                return true;
            }
        }
        !digits_but_not_number(s) && s.parse::<i128>().is_ok()
    };
    unsigned(s) || negative(s)
}

/// serde_yaml's float resolution: what Rust parses as a finite float, or a YAML infinity or
/// NaN.
fn parse_float(s: &str) -> bool {
    let unpositive = match s.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return false,
        Some(rest) => rest,
        None => s,
    };
    if matches!(unpositive, ".inf" | ".Inf" | ".INF")
        || matches!(s, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
    {
        return true;
    }
    unpositive.parse::<f64>().is_ok_and(f64::is_finite)
}

/// What libyaml's scalar analysis allows for a string.
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || c == '\0' || is_break(c),
    }
}

/// Printable for libyaml with Unicode output on.
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~')
        || (c >= '\u{A0}' && !matches!(c, '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'))
}

/// libyaml's `yaml_emitter_analyze_scalar`, for block context.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut special = false;
    let mut line_breaks = false;
    let (mut leading, mut trailing_space, mut trailing_break) = (false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = is_blankz(chars.get(i + 1).copied());
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                block_indicators = true;
            }
            if (c == '?' || c == ':' || c == '-') && followed_by_whitespace {
                block_indicators = true;
            }
        } else if (c == ':' && followed_by_whitespace) || (c == '#' && preceded_by_whitespace) {
            block_indicators = true;
        }
        if !is_printable(c) {
            special = true;
        }
        let last = i + 1 == chars.len();
        if c == ' ' {
            leading |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(c));
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading || trailing_space || trailing_break || line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    a
}

/// A double-quoted string with libyaml's escapes.
fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        let escape = !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\';
        if !escape {
            out.push(c);
            continue;
        }
        out.push('\\');
        match c {
            '\0' => out.push('0'),
            '\u{7}' => out.push('a'),
            '\u{8}' => out.push('b'),
            '\t' => out.push('t'),
            '\n' => out.push('n'),
            '\u{b}' => out.push('v'),
            '\u{c}' => out.push('f'),
            '\r' => out.push('r'),
            '\u{1b}' => out.push('e'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '\u{85}' => out.push('N'),
            '\u{a0}' => out.push('_'),
            '\u{2028}' => out.push('L'),
            '\u{2029}' => out.push('P'),
            c if (c as u32) <= 0xFF => out.push_str(&format!("x{:02X}", c as u32)),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("u{:04X}", c as u32)),
            c => out.push_str(&format!("U{:08X}", c as u32)),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// What serde_yaml 0.9 wrote for the same value (a dev-dependency only).
    fn serde_yaml_text(v: &Value) -> String {
        serde_yaml::to_string(v).unwrap()
    }

    #[test]
    fn writes_what_serde_yaml_wrote() {
        let v = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "Empty": {}, "List": [], "Nested": [[1, 2], [], {"a": null}],
                "Seq": [{"Name": "web", "Ports": [80, 443]}, "x", true, 1.5],
                "Text": "first\nsecond\n", "Kept": "a\n\n", "Stripped": "a\nb",
                "Indented": "  a\nb", "Break": "\nlead",
                "Strings": ["", "0123", "true", "null", "~", "1e3", "0x1F", "-.inf", "inf",
                    "a: b", "a:b", "x #y", "x#y", "*", "- x", "-x", "? x", "it's", " lead",
                    "trail ", "a\tb", "café ☃", "\u{7f}", "---", "...x", "%x", "@x", "`x",
                    "a\"b", "back\\slash", "\u{feff}", "line\r", "a,b", "[x]", "{x}"]
            },
            "": "empty key", "multi\nline key": 1, "k".repeat(130): "long"
        });
        assert_eq!(to_yaml(&v), serde_yaml_text(&v));
    }

    #[test]
    fn scalar_documents_match_serde_yaml() {
        for v in [
            json!(null),
            json!(1),
            json!("x"),
            json!([]),
            json!({}),
            json!("a\n"),
        ] {
            assert_eq!(to_yaml(&v), serde_yaml_text(&v), "{v}");
        }
    }

    fn scalar_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9 :#\\-?'\"*&!|>%@`,\\[\\]{}.~\\n\\t]{0,12}",
            "(true|null|0[0-9]{1,3}|[+-]?[0-9]{1,4}(\\.[0-9]{1,2})?(e[0-9])?|0x[0-9A-F]{1,3})",
            "\\PC{0,6}",
        ]
        .prop_filter("no breaks other than \\n", |s| {
            !s.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}'])
        })
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            scalar_text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((scalar_text(), inner), 0..4)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Same bytes as serde_yaml for any value without the line breaks the module header
        /// excludes, read back as the same value.
        #[test]
        fn matches_serde_yaml_and_reads_back(v in value()) {
            let text = to_yaml(&v);
            prop_assert_eq!(&text, &serde_yaml_text(&v));
            let back: Value = serde_yaml::from_str(&text).unwrap();
            prop_assert_eq!(back, v);
        }
    }
}
