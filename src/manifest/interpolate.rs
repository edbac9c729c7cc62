//! `${VAR}` interpolation with Copilot's rules, applied to the located YAML tree before it is
//! decoded, so interpolated values keep the position of the text that produced them.
//!
//! - Only scalar values are rewritten, never mapping keys.
//! - `${NAME}` with NAME matching `[_a-zA-Z][_a-zA-Z0-9]*`; `$NAME` without braces is literal.
//! - Predefined names (`COPILOT_APPLICATION_NAME`, `COPILOT_ENVIRONMENT_NAME` and their
//!   `TUG_` twins) come first, then the process environment. An undefined variable is an
//!   error, and so is a predefined name set in the environment to a different value.
//! - `\${X}` produces a literal `${X}`.
//! - A value that becomes a non-empty JSON array of strings turns into a YAML list, unless it
//!   was written as a literal block (`|`).

use std::collections::HashMap;

use crate::manifest::source::Span;
use crate::manifest::yaml::{Node, NodeKind, ScalarStyle};
use crate::validate::codes;
use crate::validate::diagnostic::Diagnostic;

/// Where variables come from.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    predefined: HashMap<String, String>,
    process: HashMap<String, String>,
}

impl Variables {
    /// The predefined variables for `app` and, when given, `env`, over the process environment.
    pub fn new(app: &str, env: Option<&str>, process: &HashMap<String, String>) -> Variables {
        let mut predefined = HashMap::new();
        for prefix in ["COPILOT", "TUG"] {
            predefined.insert(format!("{prefix}_APPLICATION_NAME"), app.to_string());
            if let Some(env) = env {
                predefined.insert(format!("{prefix}_ENVIRONMENT_NAME"), env.to_string());
            }
        }
        Variables {
            predefined,
            process: process.clone(),
        }
    }

    fn lookup(&self, name: &str) -> Result<&str, String> {
        if let Some(value) = self.predefined.get(name) {
            if let Some(os) = self.process.get(name) {
                if os != value {
                    return Err(format!(
                        "`{name}` is predefined as `{value}` but the environment sets it to `{os}`"
                    ));
                }
            }
            return Ok(value);
        }
        if let Some(value) = self.process.get(name) {
            return Ok(value);
        }
        Err(format!("environment variable `{name}` is not defined"))
    }
}

/// Returns `node` with every `${VAR}` replaced, and a diagnostic for each failure.
pub fn interpolate(node: &Node, vars: &Variables, diags: &mut Vec<Diagnostic>) -> Node {
    match &node.kind {
        NodeKind::Scalar(text, style) if text.contains('$') => match substitute(text, vars) {
            Ok(out) => {
                if *style != ScalarStyle::Literal && out != *text {
                    if let Some(list) = as_string_list(&out) {
                        let items = list
                            .into_iter()
                            .map(|s| Node::scalar_quoted(s, node.span))
                            .collect();
                        return Node {
                            kind: NodeKind::Seq(items),
                            span: node.span,
                        };
                    }
                }
                Node {
                    kind: NodeKind::Scalar(out, *style),
                    span: node.span,
                }
            }
            Err(message) => {
                diags.push(undefined(node.span, message));
                node.clone()
            }
        },
        NodeKind::Seq(items) => Node {
            kind: NodeKind::Seq(items.iter().map(|i| interpolate(i, vars, diags)).collect()),
            span: node.span,
        },
        NodeKind::Map(entries) => Node {
            kind: NodeKind::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), interpolate(v, vars, diags)))
                    .collect(),
            ),
            span: node.span,
        },
        _ => node.clone(),
    }
}

fn undefined(span: Span, message: String) -> Diagnostic {
    Diagnostic::error(codes::UNDEFINED_VARIABLE, span, message).with_help(
        "export the variable before running tug, or write \\${NAME} for a literal ${NAME}",
    )
}

/// Replaces every `${NAME}` in `text`.
pub fn substitute(text: &str, vars: &Variables) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("${") {
        let escaped = rest[..pos].ends_with('\\');
        let after = &rest[pos + 2..];
        let name_len = after
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit()))
            })
            .map_or(after.len(), |(i, _)| i);
        let closed = name_len > 0 && after[name_len..].starts_with('}');
        if !closed {
            // Not a variable reference (`${` followed by something else): keep it as written.
            out.push_str(&rest[..pos + 2]);
            rest = after;
            continue;
        }
        let name = &after[..name_len];
        if escaped {
            out.push_str(&rest[..pos - 1]);
            out.push_str("${");
            out.push_str(name);
            out.push('}');
        } else {
            out.push_str(&rest[..pos]);
            out.push_str(vars.lookup(name)?);
        }
        rest = &after[name_len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn as_string_list(text: &str) -> Option<Vec<String>> {
    let trimmed = text.trim();
    if !trimmed.starts_with('[') {
        return None;
    }
    let list: Vec<String> = serde_json::from_str(trimmed).ok()?;
    (!list.is_empty()).then_some(list)
}

impl Node {
    /// A quoted (string) scalar node.
    pub fn scalar_quoted(text: impl Into<String>, span: Span) -> Node {
        Node {
            kind: NodeKind::Scalar(text.into(), ScalarStyle::Quoted),
            span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::SourceId;
    use crate::manifest::yaml;

    fn vars(env: &[(&str, &str)]) -> Variables {
        let process = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Variables::new("shop", Some("prod"), &process)
    }

    #[test]
    fn substitutes_predefined_and_process_variables() {
        let v = vars(&[("TAG", "1.2")]);
        assert_eq!(
            substitute(
                "${COPILOT_APPLICATION_NAME}-${COPILOT_ENVIRONMENT_NAME}",
                &v
            )
            .unwrap(),
            "shop-prod"
        );
        assert_eq!(substitute("${TUG_ENVIRONMENT_NAME}", &v).unwrap(), "prod");
        assert_eq!(substitute("repo:${TAG}", &v).unwrap(), "repo:1.2");
        assert_eq!(
            substitute("$TAG and ${ not}", &v).unwrap(),
            "$TAG and ${ not}"
        );
    }

    #[test]
    fn escapes_and_errors() {
        let v = vars(&[]);
        assert_eq!(substitute(r"\${TAG}", &v).unwrap(), "${TAG}");
        assert!(
            substitute("${MISSING}", &v)
                .unwrap_err()
                .contains("MISSING")
        );
        let clash = vars(&[("COPILOT_ENVIRONMENT_NAME", "test")]);
        assert!(substitute("${COPILOT_ENVIRONMENT_NAME}", &clash).is_err());
    }

    #[test]
    fn json_lists_expand_except_in_literal_blocks() {
        let v = vars(&[("SGS", r#"["sg-1","sg-2"]"#)]);
        let node = yaml::parse(
            SourceId(0),
            "a: ${SGS}\nb: |\n  ${SGS}\nc: ${COPILOT_APPLICATION_NAME}\n",
        )
        .unwrap();
        let mut diags = Vec::new();
        let out = interpolate(&node, &v, &mut diags);
        assert!(diags.is_empty());
        match &out.get("a").unwrap().kind {
            NodeKind::Seq(items) => assert_eq!(items.len(), 2),
            other => panic!("expected a list, got {other:?}"),
        }
        assert!(matches!(out.get("b").unwrap().kind, NodeKind::Scalar(..)));
        assert_eq!(out.get("c").unwrap().as_str(), Some("shop"));
    }

    #[test]
    fn keys_are_not_interpolated_and_errors_have_positions() {
        let v = vars(&[]);
        let node = yaml::parse(SourceId(0), "${KEY}: 1\nimage:\n  location: ${NOPE}\n").unwrap();
        let mut diags = Vec::new();
        interpolate(&node, &v, &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!((diags[0].span.line, diags[0].span.col), (3, 13));
    }
}
