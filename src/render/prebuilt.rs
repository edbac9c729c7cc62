//! The templates of `templates/`, parsed at build time (build.rs) and built here as
//! handlebars `Template` values without parsing their source: parsing was three quarters of
//! what a render cost (issue 17). Only `environment` and `workload` are built, each with its
//! partials written into it (`inline`). This module owns the small constructors the generated code
//! calls; which templates exist and how they render is `registry`'s.

use std::collections::HashMap;
use std::sync::OnceLock;

use handlebars::template::{
    BlockParam, ExpressionSpec, ExpressionSpecBuilder, HelperTemplate, Parameter, Template,
    TemplateElement, TemplateMapping,
};
use handlebars::{Path, PathSeg};

include!(concat!(env!("OUT_DIR"), "/prebuilt_templates.rs"));

/// A helper call as the generated code writes it (handlebars' own struct cannot be written
/// outside the crate: it is non-exhaustive).
struct Helper {
    name: Parameter,
    params: Vec<Parameter>,
    hash: Vec<(&'static str, Parameter)>,
    block_param: Option<BlockParam>,
    block: bool,
    chain: bool,
    indent_before_write: bool,
    template: Option<Template>,
    inverse: Option<Template>,
}

fn template(elements: Vec<TemplateElement>, mapping: &[(usize, usize)]) -> Template {
    let mut t = Template::default();
    t.elements = elements;
    t.mapping = mapping
        .iter()
        .map(|&(line, column)| {
            let mut m = mapping_prototype().clone();
            m.0 = line;
            m.1 = column;
            m
        })
        .collect();
    t
}

/// A `TemplateMapping` to copy: the type is non-exhaustive, so one is taken from a compiled
/// one-element template (a few hundred instructions, once per process).
fn mapping_prototype() -> &'static TemplateMapping {
    static PROTOTYPE: OnceLock<TemplateMapping> = OnceLock::new();
    PROTOTYPE.get_or_init(|| {
        Template::compile("{{x}}")
            .ok()
            .and_then(|t| t.mapping.into_iter().next())
            .expect("a one-element template has one mapping")
    })
}

fn raw(text: &str) -> TemplateElement {
    TemplateElement::RawString(text.to_string())
}

fn comment(text: &str) -> TemplateElement {
    TemplateElement::Comment(text.to_string())
}

fn hash(entries: Vec<(&'static str, Parameter)>) -> HashMap<String, Parameter> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn spec(
    name: Parameter,
    params: Vec<Parameter>,
    entries: Vec<(&'static str, Parameter)>,
    block_param: Option<BlockParam>,
) -> ExpressionSpec {
    let mut spec = ExpressionSpecBuilder::default();
    spec.name(name)
        .params(params)
        .hash(hash(entries))
        .omit_pre_ws(false)
        .omit_pro_ws(false);
    if let Some(b) = block_param {
        spec.block_param(b);
    }
    spec.build()
        .expect("every field of the expression is set above")
}

fn helper(h: Helper) -> Box<HelperTemplate> {
    let spec = spec(h.name, h.params, h.hash, h.block_param);
    let mut built = if h.chain {
        HelperTemplate::new_chain(spec, h.block, h.indent_before_write)
    } else {
        HelperTemplate::new(spec, h.block, h.indent_before_write)
    };
    built.template = h.template;
    built.inverse = h.inverse;
    Box::new(built)
}

fn expression(h: Helper) -> TemplateElement {
    TemplateElement::Expression(helper(h))
}

fn helper_block(h: Helper) -> TemplateElement {
    TemplateElement::HelperBlock(helper(h))
}

/// A path of plain names (`a.b.c`).
fn named(raw: &str, names: &[&str]) -> Parameter {
    Parameter::Path(Path::Relative((
        names
            .iter()
            .map(|n| PathSeg::Named(n.to_string()))
            .collect(),
        raw.to_string(),
    )))
}

/// A path with handlebars' own segments (`this`, `..`, `@index`), parsed from its text: the
/// segment type is private to handlebars. build.rs checked that this parse gives the path it
/// found in the template.
fn parsed(raw: &str) -> Parameter {
    Parameter::Path(Path::parse(raw).expect("build.rs parsed this path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every prebuilt template is exactly what handlebars compiles from its source now, with
    /// its partials inlined (the check that build.rs and the constructors above miss
    /// nothing).
    #[test]
    fn prebuilt_templates_equal_their_compiled_sources() {
        let compile = |name: &str, source: &str| {
            Template::compile_with_name(source, name.to_string())
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let partials: HashMap<String, Template> = crate::render::registry::sources()
            .filter(|(name, _)| name.starts_with("partials/"))
            .map(|(name, source)| (name.to_string(), compile(name, source)))
            .collect();
        let roots = crate::render::registry::sources().filter(|(n, _)| !n.starts_with("partials/"));
        for (name, source) in roots {
            let mut compiled = compile(name, source);
            crate::render::inline::inline_partials(&mut compiled, &partials);
            assert!(
                !format!("{compiled:?}").contains("PartialExpression"),
                "{name} still includes a partial"
            );
            let prebuilt = by_name(name).unwrap_or_else(|| panic!("{name} is not prebuilt"));
            assert_eq!(prebuilt, compiled, "{name}");
        }
        assert!(by_name("partials/task").is_none(), "partials are inlined");
        assert!(by_name("no-such-template").is_none());
    }
}
