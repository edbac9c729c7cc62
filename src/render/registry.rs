//! The handlebars registry: every template in `templates/` compiled once per process, with
//! strict mode on (a missing value is an error, not an empty string), HTML escaping off, and
//! the helpers that emit values safely.
//!
//! Values reach templates only through `{{json value}}`, which writes JSON: a JSON string,
//! number, list or object is also valid YAML, so no manifest value (quotes, colons, `#`, `{{`,
//! newlines) can change the shape of the rendered document.

use std::sync::OnceLock;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
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

/// The registry holding `template` (`environment` or `workload`) and its partials, built on
/// first use. Compiling templates is most of what a render costs (handlebars' parser works
/// out a line and column for every element), so each render compiles only the set it needs:
/// rendering one workload never compiles the environment's templates, and the reverse.
pub fn registry(template: &str) -> &'static Handlebars<'static> {
    static ENVIRONMENT_REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    static WORKLOAD_REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    let (cell, set) = if template == "environment" {
        (&ENVIRONMENT_REGISTRY, ENVIRONMENT)
    } else {
        (&WORKLOAD_REGISTRY, WORKLOAD)
    };
    cell.get_or_init(|| build(set).unwrap_or_else(|e| panic!("embedded template is invalid: {e}")))
}

/// Builds a registry from embedded templates. The templates are compiled into the binary
/// and covered by tests, so a failure here is a bug in tug, never in user input.
fn build(set: &[(&str, &'static str)]) -> Result<Handlebars<'static>, handlebars::TemplateError> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_helper("json", Box::new(json_helper));
    for (name, source) in set {
        hb.register_template_string(name, *source)?;
    }
    Ok(hb)
}

/// Every embedded template compiles (a test; renders compile only what they use).
pub fn build_all() -> Result<(), handlebars::TemplateError> {
    build(ENVIRONMENT)?;
    build(WORKLOAD)?;
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

    /// Each registry holds every partial its templates name: a partial used from the other
    /// set would fail only when rendered.
    #[test]
    fn each_set_compiles_and_holds_the_partials_it_uses() {
        build_all().expect("every embedded template compiles");
        for set in [ENVIRONMENT, WORKLOAD] {
            let names: Vec<&str> = set.iter().map(|(n, _)| *n).collect();
            for (name, source) in set {
                for used in source.split("{{> ").skip(1) {
                    let partial = used.split("}}").next().unwrap_or_default().trim();
                    assert!(
                        names.contains(&partial),
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
