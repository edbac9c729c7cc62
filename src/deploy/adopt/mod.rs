//! `tug adopt`: take over, in place, an application AWS Copilot deployed.
//!
//! - [`discover`] reads what Copilot recorded (Parameter Store) and deployed (stacks) for the
//!   workspace's application and one environment;
//! - [`plan`] computes, per stack, the adoption render ([`transform`]) and what happens to
//!   each resource, and stops a stack whose adoption would replace or remove a stateful one;
//! - [`phases`] carries the plan out: retain Copilot's custom resources, switch to tug's
//!   template, list the Lambda functions left behind;
//! - [`keep_adopted`] makes every later deploy of an adopted stack keep what adoption kept;
//! - [`leftovers`] lists and deletes, with an adopted environment, the Route 53 records
//!   Copilot's Lambdas wrote outside its stacks;
//! - [`priorities`] gives a workload tug deploys for the first time into an adopted
//!   environment listener rule priorities no Copilot service holds, and keeps them.
//!
//! Choices (docs/migrating-from-copilot.md says them to users): the environment stack goes
//! first, then its workloads one at a time; a stack is adopted through two change sets, each
//! reviewed before it runs; the running image is kept (Copilot's `ContainerImage` value);
//! what Copilot's custom resources computed is pinned ([`computed`]): listener rule
//! priorities (in the adoption and, recorded in the template, on every later deploy), the
//! services' desired counts (in the adoption), and the environment's feature parameters
//! (written into its conditions by the first update); anything else tug keeps that still
//! needs a custom resource's value stops the adoption instead.

pub mod aliases;
pub mod certificate;
pub mod computed;
pub mod copilot;
pub mod discover;
pub mod leftovers;
pub mod phases;
pub mod plan;
pub mod priorities;
pub mod template;
pub mod transform;

use serde_json::Value;

use crate::deploy::aws::Aws;
use crate::deploy::stack::StackInfo;
use crate::render::RenderedStack;

/// A later render of an adopted stack: the rendered template with what adoption kept
/// (Copilot's logical ids, create-only values, carried resources and exports), and the
/// stack's Copilot and adoption tags, so that no later deploy replaces what adoption kept.
/// For a stack whose first deploy chose free listener rule priorities ([`priorities::free`]),
/// the render with those priorities. `None` for any other stack (or one whose template
/// cannot be read).
pub async fn keep_adopted(
    aws: &Aws,
    rendered: &RenderedStack,
    info: &StackInfo,
    deployed_template: Option<&str>,
) -> Option<RenderedStack> {
    let adopted = info.tag(copilot::ADOPTED_TAG).is_some();
    if !adopted && info.tag(priorities::TAG).is_none() {
        return None;
    }
    let read;
    let text = match deployed_template {
        Some(t) => t,
        None => {
            read = plan::deployed_template(aws, &rendered.stack_name)
                .await
                .ok()?;
            read.as_str()
        }
    };
    let deployed = template::parse(text).ok()?;
    if !adopted {
        return priorities::keep(rendered, info, &deployed);
    }
    let new: Value = template::parse(&rendered.template).ok()?;
    let kept = transform::keep(&deployed, &new)?;
    let mut out = rendered.clone();
    // Compact, as tug renders: smaller, and read by `deployment_strategy` as rendered.
    out.template = serde_json::to_string(&kept).ok()?;
    for (k, v) in &info.tags {
        if copilot::TAGS.contains(&k.as_str()) || k == copilot::ADOPTED_TAG {
            out.tags.insert(k.clone(), v.clone());
        }
    }
    Some(out)
}
