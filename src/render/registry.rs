//! The handlebars registry: the templates in `templates/`, embedded in the binary and compiled
//! on first use, with strict mode on (a missing value is an error, not an empty string), HTML
//! escaping off, and the helpers that emit values safely.
//!
//! Values reach templates only through `{{json value}}`, which writes JSON: a JSON string,
//! number, list or object is also valid YAML, so no manifest value (quotes, colons, `#`, `{{`,
//! newlines) can change the shape of the rendered document.
//!
//! Compiling is most of what a render costs, so it is kept to what a render uses:
//! - a template or partial is compiled only when a render reaches it (a Backend Service never
//!   compiles the load balancer partials);
//! - each template is compiled in pieces of a few lines, cut where no block is open: handlebars
//!   works out the line and column of every element by counting from the start of its source,
//!   which costs the square of the source's length. A piece compiles to exactly what the same
//!   lines compile to inside the whole template (standalone lines are decided line by line), so
//!   the pieces' elements, put one after the other, are the template.

use std::sync::{OnceLock, RwLock};

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason, Template,
};

/// The environment template and its partials, embedded in the binary: (name, source).
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "environment",
        include_str!("../../templates/environment.yml.hbs"),
    ),
    (
        "partials/vpc",
        include_str!("../../templates/partials/vpc.yml.hbs"),
    ),
    (
        "partials/load-balancers",
        include_str!("../../templates/partials/load-balancers.yml.hbs"),
    ),
    (
        "partials/ec2-capacity",
        include_str!("../../templates/partials/ec2-capacity.yml.hbs"),
    ),
];

/// The workload template and its partials, embedded in the binary: (name, source).
const WORKLOAD: &[(&str, &str)] = &[
    ("workload", include_str!("../../templates/workload.yml.hbs")),
    (
        "partials/task",
        include_str!("../../templates/partials/task.yml.hbs"),
    ),
    (
        "partials/service",
        include_str!("../../templates/partials/service.yml.hbs"),
    ),
    (
        "partials/http",
        include_str!("../../templates/partials/http.yml.hbs"),
    ),
    (
        "partials/strategy",
        include_str!("../../templates/partials/strategy.yml.hbs"),
    ),
    (
        "partials/nlb",
        include_str!("../../templates/partials/nlb.yml.hbs"),
    ),
    (
        "partials/autoscaling",
        include_str!("../../templates/partials/autoscaling.yml.hbs"),
    ),
    (
        "partials/worker",
        include_str!("../../templates/partials/worker.yml.hbs"),
    ),
    (
        "partials/job",
        include_str!("../../templates/partials/job.yml.hbs"),
    ),
];

/// Compiled templates, shared by every render of the process (and every thread).
fn shared() -> &'static RwLock<Handlebars<'static>> {
    static REGISTRY: OnceLock<RwLock<Handlebars<'static>>> = OnceLock::new();
    REGISTRY.get_or_init(|| RwLock::new(empty()))
}

/// A registry with tug's settings and helpers and no templates.
fn empty() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_helper("json", Box::new(json_helper));
    hb
}

/// The embedded source of a template or partial.
fn source(name: &str) -> Option<&'static str> {
    ENVIRONMENT
        .iter()
        .chain(WORKLOAD)
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
}

/// Renders `template` with `context`, compiling the templates and partials it reaches that no
/// render of this process compiled before. A partial that is missing stops the render, is
/// compiled, and the render starts again: rendering is cheap next to compiling, and each
/// partial is compiled once per process.
pub fn render(template: &str, context: &Context) -> Result<String, String> {
    let mut missing: Option<String> = None;
    // Each round compiles one more template; there are only so many.
    for _ in 0..=ENVIRONMENT.len() + WORKLOAD.len() {
        if let Some(name) = missing.take() {
            compile(&name)?;
        }
        let hb = shared().read().unwrap_or_else(|e| e.into_inner());
        if !hb.has_template(template) {
            missing = Some(template.to_string());
            continue;
        }
        match hb.render_with_context(template, context) {
            Ok(text) => return Ok(text),
            Err(e) => match e.reason() {
                RenderErrorReason::PartialNotFound(name) if source(name).is_some() => {
                    missing = Some(name.clone());
                }
                _ => return Err(e.to_string()),
            },
        }
    }
    Err(format!(
        "template `{template}`: its partials could not be compiled"
    ))
}

/// Compiles `name` into the shared registry unless a render did already.
fn compile(name: &str) -> Result<(), String> {
    let mut hb = shared().write().unwrap_or_else(|e| e.into_inner());
    if hb.has_template(name) {
        return Ok(());
    }
    let source = source(name).ok_or_else(|| format!("template `{name}` does not exist"))?;
    register(&mut hb, name, source).map_err(|e| e.to_string())
}

/// Registers `name`, compiled piece by piece and put back together into one template: it
/// renders exactly as the whole source compiled at once would (pieces end where no block is
/// open), without the cost of counting lines from the start of the whole source.
fn register(
    hb: &mut Handlebars<'static>,
    name: &str,
    source: &'static str,
) -> Result<(), handlebars::TemplateError> {
    let mut whole: Option<Template> = None;
    let mut lines_before = 0;
    for piece in pieces(source) {
        let mut compiled = Template::compile(piece)?;
        // Error messages keep naming lines of the whole template.
        for mapping in &mut compiled.mapping {
            mapping.0 += lines_before;
        }
        lines_before += piece.matches('\n').count();
        match &mut whole {
            None => whole = Some(compiled),
            Some(t) => {
                t.elements.append(&mut compiled.elements);
                t.mapping.append(&mut compiled.mapping);
            }
        }
    }
    let mut template = whole.unwrap_or_default();
    template.name = Some(name.to_string());
    hb.register_template(name, template);
    Ok(())
}

/// Pieces of at least this many bytes (when the template allows): small enough that counting
/// lines stays cheap, large enough that the pieces do not add up to much work of their own.
const PIECE_BYTES: usize = 256;

/// `source` cut into pieces of whole lines, each ending where no block (`{{#...}}`) and no
/// comment is open; concatenated, they are `source`.
fn pieces(source: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut in_comment = false;
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        offset += line.len();
        let mut rest = line;
        loop {
            if in_comment {
                match rest.find("--}}") {
                    Some(i) => {
                        in_comment = false;
                        rest = &rest[i + 4..];
                    }
                    None => break,
                }
                continue;
            }
            let Some(i) = rest.find("{{") else { break };
            rest = &rest[i + 2..];
            if let Some(after) = rest.strip_prefix("!--") {
                in_comment = true;
                rest = after;
            } else if rest.starts_with('#') {
                depth += 1;
            } else if rest.starts_with('/') {
                depth = depth.saturating_sub(1);
            }
        }
        if depth == 0 && !in_comment && offset - start >= PIECE_BYTES {
            out.push(&source[start..offset]);
            start = offset;
        }
    }
    if start < source.len() {
        out.push(&source[start..]);
    }
    out
}

/// Every embedded template compiles (a test; renders compile only what they use).
pub fn build_all() -> Result<(), handlebars::TemplateError> {
    let mut hb = empty();
    for (name, source) in ENVIRONMENT.iter().chain(WORKLOAD) {
        register(&mut hb, name, source)?;
    }
    Ok(())
}

/// `{{json value}}`: the value as compact JSON.
fn json_helper(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let param = h
        .param(0)
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("json", 0))?;
    let text = serde_json::to_string(param.value())
        .map_err(|e| RenderErrorReason::Other(format!("json: {e}")))?;
    out.write(&text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_keeps_hostile_values_inside_one_scalar() {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_helper("json", Box::new(json_helper));
        hb.register_template_string("t", "Value: {{json v}}\n")
            .unwrap();
        let hostile = "a: b\n# c\n{{resolve:ssm:/x}} \"q\" 'r' <&>";
        let out = hb.render("t", &json!({ "v": hostile })).unwrap();
        let parsed: serde_yaml::Value = serde_yaml::from_str(&out).unwrap();
        assert_eq!(parsed["Value"].as_str(), Some(hostile));
    }

    /// Every partial a template names is embedded: a missing one would fail only when
    /// rendered.
    #[test]
    fn every_template_compiles_and_every_partial_exists() {
        build_all().expect("every embedded template compiles");
        for (name, text) in ENVIRONMENT.iter().chain(WORKLOAD) {
            for used in text.split("{{> ").skip(1) {
                let partial = used.split("}}").next().unwrap_or_default().trim();
                assert!(
                    super::source(partial).is_some(),
                    "{name} uses {partial}, not embedded"
                );
            }
        }
    }

    /// The pieces of every template are whole lines that put back together give the template,
    /// and each ends where no block is open (the golden files check that they render the same).
    #[test]
    fn pieces_are_whole_lines_outside_blocks() {
        for (name, source) in ENVIRONMENT.iter().chain(WORKLOAD) {
            let pieces = pieces(source);
            assert_eq!(pieces.concat(), *source, "{name}");
            for piece in &pieces {
                assert!(piece.ends_with('\n') || std::ptr::eq(piece, pieces.last().unwrap()));
                assert_eq!(
                    piece.matches("{{#").count(),
                    piece.matches("{{/").count(),
                    "{name}: {piece}"
                );
            }
        }
        assert_eq!(
            pieces("{{#if a}}\nx\n{{/if}}\ny\n"),
            vec!["{{#if a}}\nx\n{{/if}}\ny\n"],
            "small templates stay whole"
        );
    }

    #[test]
    fn strict_mode_rejects_missing_values() {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_template_string("t", "{{missing}}").unwrap();
        assert!(hb.render("t", &json!({})).is_err());
    }
}
