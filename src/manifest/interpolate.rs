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
//! - Checking a workspace that has no environments, the environment-name variables have no
//!   value: references to them are left as written and their positions reported as
//!   unresolved, so that no rule judges the placeholder text.

use std::collections::HashMap;

use crate::manifest::codes;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::source::Span;
use crate::manifest::yaml::{Node, NodeKind, ScalarStyle};

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

    /// `Ok(None)`: a predefined environment-name variable while no environment is targeted;
    /// the reference stays as written.
    fn lookup(&self, name: &str) -> Result<Option<&str>, String> {
        if let Some(value) = self.predefined.get(name) {
            if let Some(os) = self.process.get(name)
                && os != value
            {
                return Err(format!(
                    "`{name}` is predefined as `{value}` but the environment sets it to `{os}`"
                ));
            }
            return Ok(Some(value));
        }
        if name == "COPILOT_ENVIRONMENT_NAME" || name == "TUG_ENVIRONMENT_NAME" {
            return Ok(None);
        }
        if let Some(value) = self.process.get(name) {
            return Ok(Some(value));
        }
        Err(format!("environment variable `{name}` is not defined"))
    }
}

/// The outcome of interpolating a tree.
#[derive(Debug, Default)]
pub struct Interpolation {
    /// Undefined variables and other failures.
    pub diags: Vec<Diagnostic>,
    /// Positions of values that could not be fully resolved (a diagnostic explains why, or no
    /// environment is targeted): rules must not judge the text left there.
    pub unresolved: Vec<Span>,
}

/// Returns `node` with every `${VAR}` replaced, recording failures in `result`.
pub fn interpolate(node: &Node, vars: &Variables, result: &mut Interpolation) -> Node {
    match &node.kind {
        NodeKind::Scalar(text, style) if text.contains('$') => match substitute(text, vars) {
            Ok((out, complete)) => {
                if !complete {
                    result.unresolved.push(node.span);
                }
                if *style != ScalarStyle::Literal
                    && out != *text
                    && let Some(list) = as_string_list(&out)
                {
                    let items = list
                        .into_iter()
                        .map(|s| Node::scalar_quoted(s, node.span))
                        .collect();
                    return Node {
                        kind: NodeKind::Seq(items),
                        span: node.span,
                    };
                }
                Node {
                    kind: NodeKind::Scalar(out, *style),
                    span: node.span,
                }
            }
            Err(message) => {
                result.diags.push(undefined(node.span, message));
                result.unresolved.push(node.span);
                node.clone()
            }
        },
        NodeKind::Seq(items) => Node {
            kind: NodeKind::Seq(items.iter().map(|i| interpolate(i, vars, result)).collect()),
            span: node.span,
        },
        NodeKind::Map(entries) => Node {
            kind: NodeKind::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), interpolate(v, vars, result)))
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

/// Replaces every `${NAME}` in `text`; the flag is false when a reference was left as written.
pub fn substitute(text: &str, vars: &Variables) -> Result<(String, bool), String> {
    let mut out = String::with_capacity(text.len());
    let mut complete = true;
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
            match vars.lookup(name)? {
                Some(value) => out.push_str(value),
                None => {
                    complete = false;
                    out.push_str(&rest[pos..pos + 3 + name_len]);
                }
            }
        }
        rest = &after[name_len + 1..];
    }
    out.push_str(rest);
    Ok((out, complete))
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
            .unwrap()
            .0,
            "shop-prod"
        );
        assert_eq!(substitute("${TUG_ENVIRONMENT_NAME}", &v).unwrap().0, "prod");
        assert_eq!(substitute("repo:${TAG}", &v).unwrap().0, "repo:1.2");
        assert_eq!(
            substitute("$TAG and ${ not}", &v).unwrap().0,
            "$TAG and ${ not}"
        );
    }

    #[test]
    fn escapes_and_errors() {
        let v = vars(&[]);
        assert_eq!(substitute(r"\${TAG}", &v).unwrap().0, "${TAG}");
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
        let mut result = Interpolation::default();
        let out = interpolate(&node, &v, &mut result);
        assert!(result.diags.is_empty());
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
        let mut result = Interpolation::default();
        interpolate(&node, &v, &mut result);
        assert_eq!(result.diags.len(), 1);
        assert_eq!(
            (result.diags[0].span.line, result.diags[0].span.col),
            (3, 13)
        );
        assert_eq!(result.unresolved, [result.diags[0].span]);
    }

    #[test]
    fn without_an_environment_its_name_stays_unresolved() {
        let v = Variables::new("shop", None, &HashMap::new());
        assert_eq!(
            substitute(
                "/${COPILOT_APPLICATION_NAME}/${COPILOT_ENVIRONMENT_NAME}/x",
                &v
            )
            .unwrap(),
            ("/shop/${COPILOT_ENVIRONMENT_NAME}/x".to_string(), false)
        );
    }
}
