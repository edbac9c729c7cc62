//! Reviewing a change set before it runs: the destructive changes it holds (consent needed),
//! the traffic reset of a service that shifts traffic between two target groups, and
//! `--diff`. Whatever is not approved ends the deploy with nothing changed.

use super::deployed::deployed_template_text;
use super::{Confirm, DeployOptions, Outcome};
use crate::deploy::aws::Aws;
use crate::deploy::changeset;
use crate::deploy::events::{Event, Reporter};
use crate::deploy::replacement::{self, Hazard};
use crate::deploy::stack;
use crate::error::Error;
use crate::render::RenderedStack;

/// A computed change set and what it is compared with.
pub(super) struct Review<'a> {
    pub(super) rendered: &'a RenderedStack,
    pub(super) parameters: &'a [(String, String)],
    /// The deployed stack, for an update.
    pub(super) existing: Option<&'a stack::StackInfo>,
    pub(super) changes: &'a [changeset::ResourceChange],
}

/// Reports the change set and has it approved: the traffic-reset question of a traffic
/// shifting service, consent to destructive changes, and `--diff`. `Err` carries how the
/// deploy ends instead (declined or refused); the caller discards the change set.
pub(super) async fn approve(
    aws: &Aws,
    review: &Review<'_>,
    opts: &DeployOptions,
    confirm: &Confirm,
    reporter: &dyn Reporter,
) -> Result<(), Outcome> {
    let name = review.rendered.stack_name.as_str();
    let hazards = match review.existing {
        Some(info) => {
            destructive_changes(
                aws,
                review.rendered,
                review.parameters,
                info,
                review.changes,
            )
            .await
        }
        None => Vec::new(),
    };
    reporter.emit(Event::ChangeSet {
        stack: name.into(),
        changes: review.changes.to_vec(),
        destructive: hazards.clone(),
    });
    if review.existing.is_some()
        && let Some(warning) = traffic_reset_warning(aws, name, review.changes).await
    {
        let go = if opts.yes {
            reporter.emit(Event::Message {
                stack: name.into(),
                text: format!("warning: {warning}"),
            });
            Some(true)
        } else if opts.interactive {
            confirm(&format!("{name}: {warning}"))
        } else {
            None
        };
        match go {
            Some(true) => {}
            Some(false) => return Err(Outcome::Declined),
            None => {
                return Err(Outcome::Failed(Error::failure(warning).help(
                    "deploy when no deployment is in progress and pass --yes to go ahead",
                )));
            }
        }
    }
    if !hazards.is_empty() {
        let env = review
            .rendered
            .tags
            .get("tug:env")
            .map_or("ENV", String::as_str);
        consent_to_destruction(name, env, &hazards, opts, confirm, reporter)?;
    }
    if opts.diff {
        let before = match review.existing {
            Some(_) => deployed_template(aws, name).await,
            None => String::new(),
        };
        let text = diff_text(review, &hazards, &before);
        match if opts.yes { Some(true) } else { confirm(&text) } {
            Some(true) => {}
            Some(false) => return Err(Outcome::Declined),
            None => {
                return Err(Outcome::Failed(
                    Error::usage("--diff needs a terminal to ask")
                        .help("run it on a terminal, or pass --yes to go ahead"),
                ));
            }
        }
    }
    Ok(())
}

/// What `--diff` shows: destructive changes first, every resource change, the template diff.
fn diff_text(review: &Review<'_>, hazards: &[Hazard], before: &str) -> String {
    let name = review.rendered.stack_name.as_str();
    let mut text = String::new();
    if !hazards.is_empty() {
        text.push_str(&format!("Destructive changes to {name}:\n"));
        for h in hazards {
            text.push_str(&format!("  {}\n", h.line()));
        }
        text.push('\n');
    }
    text.push_str(&format!("Changes to {name}:\n"));
    for c in review.changes {
        let replace = match c.replacement.as_deref() {
            Some("True") => " (replacement)",
            Some("Conditional") => " (may be replaced)",
            _ => "",
        };
        text.push_str(&format!(
            "  {:<8} {} ({}){replace}\n",
            c.action, c.logical_id, c.resource_type
        ));
    }
    let lines = crate::deploy::diff::unified(before, &review.rendered.template, 3);
    if !lines.is_empty() {
        text.push_str("\nTemplate:\n");
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
    }
    text
}

/// ECS rewrites the production listener rules of a blue/green, canary or linear service
/// during each deployment, and afterwards may serve from the alternate target group. A stack
/// update that changes such a rule (a new path or priority, or a switch to rolling) puts all
/// traffic back on the first target group, which may have no tasks until the service's own
/// deployment completes. tug renders those rules identically on every deploy, so this only
/// happens on such changes; it says so and asks.
async fn traffic_reset_warning(
    aws: &Aws,
    name: &str,
    changes: &[changeset::ResourceChange],
) -> Option<String> {
    let rules: Vec<&str> = changes
        .iter()
        .filter(|c| {
            c.resource_type == "AWS::ElasticLoadBalancingV2::ListenerRule"
                && (c.logical_id.starts_with("HTTPListenerRule")
                    || c.logical_id.starts_with("HTTPSListenerRule"))
                && c.action != "Add"
        })
        .map(|c| c.logical_id.as_str())
        .collect();
    if rules.is_empty()
        || !deployed_template(aws, name)
            .await
            .contains("AlternateTargetGroup")
    {
        return None;
    }
    Some(format!(
        "this update changes the production listener rule{} {} of a service that shifts traffic between two target groups; CloudFormation resets the rule to send all traffic to the first target group, while ECS may be serving from the other since the last deployment, so requests can fail until the new deployment has started tasks",
        if rules.len() == 1 { "" } else { "s" },
        rules.join(", ")
    ))
}

/// The replacements and removals of stateful resources among a change set's changes.
async fn destructive_changes(
    aws: &Aws,
    rendered: &RenderedStack,
    parameters: &[(String, String)],
    deployed: &stack::StackInfo,
    changes: &[changeset::ResourceChange],
) -> Vec<Hazard> {
    // Unread, the deployed template compares as nothing: CloudFormation's own answers still
    // count, and every other change of a stateful resource is a possible replacement rather
    // than a silent one.
    let before = deployed_template_text(aws, &rendered.stack_name).await;
    replacement::assess_update(
        changes,
        before.as_deref(),
        &rendered.template,
        &deployed.parameters,
        parameters,
    )
}

/// Destruction needs consent: asked on a terminal (default no); without one, or with `--yes`
/// alone, refused unless `--allow-replacements` was given.
fn consent_to_destruction(
    name: &str,
    env: &str,
    hazards: &[Hazard],
    opts: &DeployOptions,
    confirm: &Confirm,
    reporter: &dyn Reporter,
) -> Result<(), Outcome> {
    let listing = replacement::listing(
        &format!("DESTRUCTIVE: this update of {name} replaces or removes"),
        "data or that other resources point at",
        ":",
        hazards,
    );
    if opts.allow_replacements {
        reporter.emit(Event::Message {
            stack: name.into(),
            text: format!("{listing}\ngoing ahead: --allow-replacements was given"),
        });
        return Ok(());
    }
    if opts.interactive && !opts.yes {
        return match confirm(&listing) {
            Some(true) => Ok(()),
            _ => Err(Outcome::Declined),
        };
    }
    reporter.emit(Event::Message {
        stack: name.into(),
        text: listing,
    });
    Err(Outcome::Failed(
        Error::failure(format!(
            "refusing to replace or remove {} resource{} of {name} without consent (listed above); nothing was changed",
            hazards.len(),
            if hazards.len() == 1 { "" } else { "s" },
        ))
        .help(format!(
            "review them with `tug diff -e {env}`; to go ahead, deploy again with --allow-replacements (--yes alone never consents to this)"
        )),
    ))
}

/// The deployed template for a diff; a comment line in its place when it cannot be read.
async fn deployed_template(aws: &Aws, name: &str) -> String {
    deployed_template_text(aws, name)
        .await
        .unwrap_or_else(|| "# could not read the deployed template".to_string())
}
