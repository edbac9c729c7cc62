//! Generic union forms ("a boolean or a mapping", "text or a mapping", "one or a list"),
//! decoded by trying the mapping form first, like Copilot does.

use crate::manifest::decode::{Decode, DecodeCx};
use crate::manifest::merge::Merge;
use crate::manifest::yaml::{Node, NodeKind};

/// `true`/`false`, or a mapping with settings (for example `http`, `exec`, `efs`).
#[derive(Debug, Clone, PartialEq)]
pub enum BoolOr<T> {
    Bool(bool),
    Config(T),
}

impl<T> BoolOr<T> {
    /// The settings, when the mapping form is used.
    pub fn config(&self) -> Option<&T> {
        match self {
            BoolOr::Config(c) => Some(c),
            BoolOr::Bool(_) => None,
        }
    }

    /// Whether the feature is on: `true`, or any mapping.
    pub fn enabled(&self) -> bool {
        !matches!(self, BoolOr::Bool(false))
    }
}

impl<T: Decode> Decode for BoolOr<T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match &node.kind {
            NodeKind::Map(_) => T::decode(node, cx).map(BoolOr::Config),
            NodeKind::Scalar(..) => match bool::decode(node, cx) {
                Some(b) => Some(BoolOr::Bool(b)),
                None => {
                    reword_last(cx, "true, false or a mapping");
                    None
                }
            },
            _ => {
                cx.wrong_type(node, "true, false or a mapping");
                None
            }
        }
    }
}

impl<T: Merge + Default + PartialEq> Merge for BoolOr<T> {
    fn merge(base: Self, over: Self) -> Self {
        match (base, over) {
            (BoolOr::Config(b), BoolOr::Config(o)) => BoolOr::Config(T::merge(b, o)),
            // Copilot clears the other form only when the override's mapping sets something
            // (its transformers test `isEmpty()`); an empty mapping changes nothing.
            (b, BoolOr::Config(o)) if o == T::default() => b,
            (_, o) => o,
        }
    }
}

/// A scalar short form, or a mapping with the long form (for example `count: 2` or
/// `count: {range: 1-10}`).
#[derive(Debug, Clone, PartialEq)]
pub enum ScalarOr<S, T> {
    Scalar(S),
    Config(T),
}

impl<S, T> ScalarOr<S, T> {
    pub fn config(&self) -> Option<&T> {
        match self {
            ScalarOr::Config(c) => Some(c),
            ScalarOr::Scalar(_) => None,
        }
    }

    pub fn scalar(&self) -> Option<&S> {
        match self {
            ScalarOr::Scalar(s) => Some(s),
            ScalarOr::Config(_) => None,
        }
    }
}

impl<S: Decode, T: Decode> Decode for ScalarOr<S, T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match &node.kind {
            NodeKind::Map(_) => T::decode(node, cx).map(ScalarOr::Config),
            _ => {
                let before = cx.diags.len();
                let out = S::decode(node, cx).map(ScalarOr::Scalar);
                if cx.diags.len() > before
                    && let Some(d) = cx.diags.last_mut()
                    && d.help.is_none()
                {
                    d.help = Some("this key also takes a mapping with its long form".into());
                }
                out
            }
        }
    }
}

impl<S, T: Merge + Default + PartialEq> Merge for ScalarOr<S, T> {
    fn merge(base: Self, over: Self) -> Self {
        match (base, over) {
            (ScalarOr::Config(b), ScalarOr::Config(o)) => ScalarOr::Config(T::merge(b, o)),
            // As for `BoolOr`: an empty mapping in an override does not clear the scalar form.
            (b, ScalarOr::Config(o)) if o == T::default() => b,
            (_, o) => o,
        }
    }
}

/// One value or a list of them (for example `alias: a.example.com` or a list of aliases).
#[derive(Debug, Clone, PartialEq)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn items(&self) -> Vec<&T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v.iter().collect(),
        }
    }
}

impl<T: Decode> Decode for OneOrMany<T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match &node.kind {
            NodeKind::Seq(_) => Vec::<T>::decode(node, cx).map(OneOrMany::Many),
            _ => T::decode(node, cx).map(OneOrMany::One),
        }
    }
}

impl<T> Merge for OneOrMany<T> {}

/// A list, or a mapping with a richer form (for example `security_groups`,
/// `rollback_alarms`).
#[derive(Debug, Clone, PartialEq)]
pub enum ListOr<L, T> {
    List(Vec<L>),
    Config(T),
}

impl<L: Decode, T: Decode> Decode for ListOr<L, T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match &node.kind {
            NodeKind::Map(_) => T::decode(node, cx).map(ListOr::Config),
            NodeKind::Seq(_) => Vec::<L>::decode(node, cx).map(ListOr::List),
            _ => {
                cx.wrong_type(node, "a list or a mapping");
                None
            }
        }
    }
}

impl<L, T: Merge + Default + PartialEq> Merge for ListOr<L, T> {
    fn merge(base: Self, over: Self) -> Self {
        match (base, over) {
            (ListOr::Config(b), ListOr::Config(o)) => ListOr::Config(T::merge(b, o)),
            // As for `BoolOr`: an empty mapping in an override does not clear the list form.
            (b, ListOr::Config(o)) if o == T::default() => b,
            (_, o) => o,
        }
    }
}

/// A command: a string (split like a shell would) or a list of arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Shell(String),
    Args(Vec<String>),
}

impl Command {
    /// The argument list ECS receives. Returns an error for unbalanced quotes.
    pub fn args(&self) -> Result<Vec<String>, String> {
        match self {
            Command::Args(a) => Ok(a.clone()),
            Command::Shell(s) => shell_split(s),
        }
    }
}

impl Decode for Command {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match &node.kind {
            NodeKind::Seq(_) => Vec::<String>::decode(node, cx).map(Command::Args),
            NodeKind::Scalar(..) => String::decode(node, cx).map(Command::Shell),
            _ => {
                cx.wrong_type(node, "a string or a list of strings");
                None
            }
        }
    }
}

impl Merge for Command {}

/// Splits a command line into words with POSIX-shell quoting rules (no expansion).
pub fn shell_split(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => cur.push(ch),
                            Some(ch) => {
                                cur.push('\\');
                                cur.push(ch);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    cur.push(ch);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Rewrites the "expected" part of the last diagnostic when a union tried a narrower form.
fn reword_last(cx: &mut DecodeCx, expected: &str) {
    if let Some(d) = cx.diags.last_mut()
        && let Some(idx) = d.message.find(" must be ")
        && let Some(found) = d.message[idx..].find(", found")
    {
        let found = d.message[idx + found..].to_string();
        d.message = format!("{} must be {expected}{found}", &d.message[..idx]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(shell_split("a b  c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            shell_split(r#"sh -c "echo 'hi' there""#).unwrap(),
            ["sh", "-c", "echo 'hi' there"]
        );
        assert_eq!(shell_split("a 'b c'").unwrap(), ["a", "b c"]);
        assert!(shell_split("a 'b").is_err());
    }
}
