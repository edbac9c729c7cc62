//! The handlebars registry: the templates in `templates/`, embedded in the binary and compiled
//! on first use, with strict mode on (a missing value is an error, not an empty string), HTML
//! escaping off, and the helpers that emit values safely.
//!
//! Values reach templates only through `{{json value}}`, which writes JSON: a JSON string,
//! number, list or object is also valid YAML, so no manifest value (quotes, colons, `#`, `{{`,
//! newlines) can change the shape of the rendered document.
//!
//! Templates are parsed at build time (build.rs, `prebuilt`), their partials written into
//! them: a render builds the parsed template of its set (the environment template or the
//! workload template) once per process, parses no handlebars source and includes no partial.

use std::sync::OnceLock;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};

use crate::render::prebuilt;

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

/// The registry of one set of templates, built on first use and shared by every render of
/// the process (and every thread).
fn registry(
    cell: &'static OnceLock<Handlebars<'static>>,
    set: &[(&str, &str)],
) -> &'static Handlebars<'static> {
    cell.get_or_init(|| {
        let mut hb = empty();
        for (name, _) in set {
            if let Some(template) = prebuilt::by_name(name) {
                hb.register_template(name, template);
            }
        }
        hb
    })
}

/// A registry with tug's settings and helpers and no templates.
fn empty() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_helper("json", Box::new(json_helper));
    hb
}

/// Every embedded template and partial: (name, source).
#[cfg(test)]
pub(crate) fn sources() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    ENVIRONMENT.iter().chain(WORKLOAD)
}

/// Renders `template` (`environment` or `workload`) with `context`.
pub fn render(template: &str, context: &Context) -> Result<String, String> {
    static ENVIRONMENT_SET: OnceLock<Handlebars<'static>> = OnceLock::new();
    static WORKLOAD_SET: OnceLock<Handlebars<'static>> = OnceLock::new();
    let hb = if ENVIRONMENT.iter().any(|(n, _)| *n == template) {
        registry(&ENVIRONMENT_SET, ENVIRONMENT)
    } else if WORKLOAD.iter().any(|(n, _)| *n == template) {
        registry(&WORKLOAD_SET, WORKLOAD)
    } else {
        return Err(format!("template `{template}` does not exist"));
    };
    hb.render_with_context(template, context)
        .map_err(|e| e.to_string())
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

    /// Every partial a template names is embedded in the same set (build.rs inlines it), and
    /// every template a render starts from is prebuilt.
    #[test]
    fn every_partial_exists_in_its_set() {
        for set in [ENVIRONMENT, WORKLOAD] {
            for (name, text) in set {
                if !name.starts_with("partials/") {
                    assert!(prebuilt::by_name(name).is_some(), "{name} is not prebuilt");
                }
                for used in text.split("{{> ").skip(1) {
                    let partial = used.split("}}").next().unwrap_or_default().trim();
                    assert!(
                        set.iter().any(|(n, _)| *n == partial),
                        "{name} uses {partial}, not in its set"
                    );
                }
            }
        }
    }

    #[test]
    fn strict_mode_rejects_missing_values() {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_template_string("t", "{{missing}}").unwrap();
        assert!(hb.render("t", &json!({})).is_err());
    }
}
