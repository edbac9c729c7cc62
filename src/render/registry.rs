//! The templates in `templates/`, embedded in the binary, and the entry point that renders
//! one of them.
//!
//! Values reach templates only through `{{json value}}`, which writes JSON: a JSON string,
//! number, list or object is also valid YAML, so no manifest value (quotes, colons, `#`, `{{`,
//! newlines) can change the shape of the rendered document.
//!
//! Templates are parsed at build time (build.rs, `prebuilt`), their partials written into
//! them; a render lowers the template of its set (the environment template or the workload
//! template) once per process and walks it (`walk`): no handlebars source is parsed and no
//! handlebars registry is built at run time.

use std::sync::OnceLock;

use serde_json::Value;

use crate::render::prebuilt;
use crate::render::walk::{self, Node};

/// The environment template and its partials: (name, source). The binary holds them prebuilt;
/// the sources are for the tests that check the prebuilt ones.
#[cfg(test)]
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

/// The workload template and its partials: (name, source).
#[cfg(test)]
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

/// The lowered template `name`, built on first use and shared by every render of the
/// process (and every thread).
fn lowered(
    cell: &'static OnceLock<Result<Vec<Node>, String>>,
    name: &str,
) -> Result<&'static [Node], String> {
    let nodes = cell.get_or_init(|| {
        let template =
            prebuilt::by_name(name).ok_or_else(|| format!("template `{name}` is not prebuilt"))?;
        walk::lower(&template)
    });
    nodes
        .as_deref()
        .map_err(|e| format!("template `{name}`: {e}"))
}

/// Every embedded template and partial: (name, source).
#[cfg(test)]
pub(crate) fn sources() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    ENVIRONMENT.iter().chain(WORKLOAD)
}

/// Renders `template` (`environment` or `workload`) with `context`.
pub fn render(template: &str, context: &Value) -> Result<String, String> {
    static ENVIRONMENT_NODES: OnceLock<Result<Vec<Node>, String>> = OnceLock::new();
    static WORKLOAD_NODES: OnceLock<Result<Vec<Node>, String>> = OnceLock::new();
    let nodes = match template {
        "environment" => lowered(&ENVIRONMENT_NODES, template)?,
        "workload" => lowered(&WORKLOAD_NODES, template)?,
        _ => return Err(format!("template `{template}` does not exist")),
    };
    walk::render(nodes, context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_keeps_hostile_values_inside_one_scalar() {
        let template = handlebars::Template::compile("Value: {{json v}}\n").unwrap();
        let nodes = walk::lower(&template).unwrap();
        let hostile = "a: b\n# c\n{{resolve:ssm:/x}} \"q\" 'r' <&>";
        let out = walk::render(&nodes, &json!({ "v": hostile })).unwrap();
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
    fn unknown_templates_are_errors() {
        assert!(render("partials/task", &json!({})).is_err());
        assert!(render("no-such-template", &json!({})).is_err());
    }
}
