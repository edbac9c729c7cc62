//! Partials written into the templates that include them, at build time: handlebars renders
//! `{{> partial}}` by copying the whole view model into a new context (most of a 50-service
//! render went there, issue 17). Inlined, the partial's elements render in the caller's
//! context, which is what a partial without parameters, hash or indentation, included
//! where the context is the caller's own, renders against anyway. Shared by build.rs (which
//! inlines) and `prebuilt`'s test (which checks the result against handlebars' compile).

use std::collections::HashMap;

use handlebars::template::{Parameter, Template, TemplateElement};

/// `template` with every plain `{{> name}}` of `partials` replaced by that partial's
/// elements (themselves inlined). Partials with parameters, a hash, an indentation or a
/// block are left to handlebars.
pub(crate) fn inline_partials(template: &mut Template, partials: &HashMap<String, Template>) {
    let elements = std::mem::take(&mut template.elements);
    let mapping = std::mem::take(&mut template.mapping);
    let aligned = mapping.len() == elements.len();
    let mut mapping = mapping.into_iter();
    for mut element in elements {
        let m = if aligned { mapping.next() } else { None };
        if let TemplateElement::PartialExpression(d) = &element
            && let Parameter::Name(name) = &d.name
            && d.params.is_empty()
            && d.hash.is_empty()
            && d.indent.is_none()
            && d.template.is_none()
            && let Some(partial) = partials.get(name)
        {
            let mut partial = partial.clone();
            inline_partials(&mut partial, partials);
            if aligned && partial.mapping.len() == partial.elements.len() {
                template.mapping.append(&mut partial.mapping);
            } else if aligned {
                // Keep mappings one per element: the call's position stands for each.
                let call = m.clone().expect("aligned mappings");
                template
                    .mapping
                    .extend(std::iter::repeat_n(call, partial.elements.len()));
            }
            template.elements.append(&mut partial.elements);
            continue;
        }
        if let TemplateElement::HelperBlock(h) = &mut element {
            if let Some(t) = &mut h.template {
                inline_partials(t, partials);
            }
            if let Some(t) = &mut h.inverse {
                inline_partials(t, partials);
            }
        }
        template.elements.push(element);
        if let Some(m) = m {
            template.mapping.push(m);
        }
    }
    if !aligned {
        template.mapping.extend(mapping);
    }
}
