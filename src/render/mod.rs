//! Rendering: validated manifests in, CloudFormation templates and parameters out. Pure and
//! deterministic: the same manifests give the same bytes, with no AWS calls.
//!
//! Each stack is rendered in two or three steps: a view model (plain JSON computed in Rust from
//! the typed manifests), a handlebars template from `templates/` that lays out the resources
//! (values inside it are written as JSON, which is YAML too; `walk` renders it), and, only when the workload has
//! `taskdef_overrides` or `overrides/cfn.patches.yml`, a pass that parses the result, applies
//! them and writes canonical YAML. Parsing and re-writing every template would cost more than
//! half of the rendering time, so unpatched templates are used as rendered; the tests parse
//! every one of them.

pub mod capacity;
pub mod emit;
pub mod environment;
pub mod features;
#[cfg(test)]
mod inline;
pub mod names;
pub mod patch;
pub mod prebuilt;
pub mod registry;
mod walk;
pub mod workload;

use std::collections::BTreeMap;

use serde_json::json;

use crate::manifest::decode::node_to_json;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::source::{SourceId, Span};

/// The TLS policy of every HTTPS and TLS listener whose manifest names none: TLS 1.3 and 1.2
/// only, forward-secret ciphers (what Copilot used). Without it Elastic Load Balancing picks
/// `ELBSecurityPolicy-2016-08`, which still accepts TLS 1.0 and 1.1. docs/security.md.
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// A rendered stack: its name, template and the values a deploy passes with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedStack {
    pub stack_name: String,
    /// The workload name, or `None` for the environment stack.
    pub workload: Option<String>,
    pub template: String,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

impl RenderedStack {
    /// The parameters file: CloudFormation's template configuration format, which CodePipeline
    /// and `tug deploy` read.
    pub fn parameters_file(&self) -> String {
        let doc = json!({ "Parameters": self.parameters, "Tags": self.tags });
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Why a stack could not be rendered.
#[derive(Debug, Clone)]
pub enum RenderError {
    /// A problem in the user's input that validation cannot see (e.g. a patch path that does
    /// not exist in the template).
    Input(Vec<Diagnostic>),
    /// A template produced invalid output: a bug in tug.
    Internal(String),
}

impl RenderError {
    pub fn internal(what: impl std::fmt::Display) -> RenderError {
        RenderError::Internal(what.to_string())
    }
}

/// The tug version recorded in every stack.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Renders `template` with `context`, applies the patches, and returns canonical YAML.
pub(crate) fn finish(
    template: &str,
    mut context: serde_json::Value,
    patches: &[patch::Patch],
) -> Result<String, RenderError> {
    // Absent sections are `false`, which `{{#if}}` and `{{#with}}` skip (and which the
    // templates were written against when handlebars' strict mode took null for missing).
    nulls_to_false(&mut context);
    let text = registry::render(template, &context)
        .map_err(|e| RenderError::internal(format!("template `{template}`: {e}")))?;
    if patches.is_empty() {
        return Ok(text);
    }
    // The template is read with the manifest reader (bounded, positions unused) and written
    // back by `emit` in the layout patched templates always had.
    let node = crate::manifest::yaml::parse(SourceId(u32::MAX), &text).map_err(|e| {
        RenderError::internal(format!(
            "template `{template}` produced invalid YAML: {}\n{text}",
            e.message
        ))
    })?;
    let mut doc = node_to_json(&node);
    let mut diags = Vec::new();
    for p in patches {
        if let Err(d) = p.apply(&mut doc) {
            diags.push(d);
        }
    }
    if !diags.is_empty() {
        return Err(RenderError::Input(diags));
    }
    Ok(emit::to_yaml(&doc))
}

fn nulls_to_false(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Null => *v = serde_json::Value::Bool(false),
        serde_json::Value::Array(items) => items.iter_mut().for_each(nulls_to_false),
        serde_json::Value::Object(map) => map.values_mut().for_each(nulls_to_false),
        _ => {}
    }
}

/// A diagnostic for a render-time input problem.
pub(crate) fn input_error(
    span: Span,
    message: impl Into<String>,
    help: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(crate::manifest::codes::RENDER, span, message).with_help(help)
}
