//! What is deployed already: every stack of a deploy read at once before it starts, the check
//! that a stack already runs what would be deployed (no change set needed), and whether an
//! unchanged service has finished rolling out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::outcome::outcome_of;
use super::{Outcome, workload_args};
use crate::deploy::aws::Aws;
use crate::deploy::events::{Event, Reporter};
use crate::deploy::replacement;
use crate::deploy::rollout::RolloutSource;
use crate::deploy::stack;
use crate::deploy::watch::{Ending, Target, current_event_ids, follow};
use crate::render::RenderedStack;

/// A stack as read before its deploy: its description (`None`: it does not exist) and its
/// template, when it has one.
#[derive(Debug, Clone)]
pub(super) struct Deployed {
    pub(super) info: Option<stack::StackInfo>,
    pub(super) template: Option<String>,
    /// Its resources (which name its ECS service and task definition), when it has a service.
    pub(super) resources: Option<Vec<stack::Resource>>,
    /// When it was read: an old read (a workload waiting for its publishers) is read again.
    pub(super) read_at: Instant,
}

/// How long a read made at the start of a deploy stands in for reading a stack again.
pub(super) const FRESH: Duration = Duration::from_secs(30);

/// A stack to read before a deploy, and whether it has an ECS service.
pub(super) struct ToRead {
    pub(super) name: String,
    /// Its resources are read too: they name the service and task definition the rollout
    /// check of an unchanged stack looks at. Nothing else of a deploy needs them read early
    /// (a stack without a service, such as the environment's or a job's, is never checked).
    pub(super) service: bool,
}

/// Reads every stack (description and template, resources of those with a service) at once:
/// an unchanged deploy of an environment and its workloads then needs one concurrent round of
/// reads. Stacks that could not be read are left out, and read again when their turn comes.
pub(super) async fn read_all(aws: &Aws, stacks: Vec<ToRead>) -> BTreeMap<String, Deployed> {
    let mut tasks = tokio::task::JoinSet::new();
    for ToRead { name, service } in stacks {
        let aws = aws.clone();
        tasks.spawn(async move {
            let resources = async {
                match service {
                    true => stack::resources(&aws, &name).await.ok(),
                    false => None,
                }
            };
            let (info, template, resources) = tokio::join!(
                stack::describe(&aws, &name),
                deployed_template_text(&aws, &name),
                resources
            );
            let read_at = Instant::now();
            (
                name,
                info.ok().map(|info| Deployed {
                    info,
                    template,
                    resources,
                    read_at,
                }),
            )
        });
    }
    let mut out = BTreeMap::new();
    while let Some(Ok((name, read))) = tasks.join_next().await {
        if let Some(d) = read {
            out.insert(name, d);
        }
    }
    out
}

/// The template a stack was deployed with, as submitted; `None` when it cannot be read.
pub(super) async fn deployed_template_text(aws: &Aws, name: &str) -> Option<String> {
    aws.cfn
        .get_template()
        .stack_name(name)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
        .send()
        .await
        .ok()
        .map(|out| out.template_body().unwrap_or_default().to_string())
}

/// Whether the stack already runs the rendered template with these parameter values and
/// tags. Templates compare as data (CloudFormation may hand a template back reformatted).
/// A template with SSM-typed parameters is never called unchanged here: CloudFormation
/// resolves those values itself and only a change set sees that one changed (a new AMI).
pub(super) async fn already_deployed(
    aws: &Aws,
    rendered: &RenderedStack,
    parameters: &[(String, String)],
    deployed: &stack::StackInfo,
    template: Option<&str>,
) -> bool {
    if rendered.template.contains("AWS::SSM::Parameter::Value") {
        return false;
    }
    let mut want: Vec<(&str, &str)> = parameters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut have: Vec<(&str, &str)> = deployed
        .parameters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    want.sort_unstable();
    have.sort_unstable();
    if want != have {
        return false;
    }
    if rendered
        .tags
        .iter()
        .any(|(k, v)| deployed.tag(k) != Some(v.as_str()))
    {
        return false;
    }
    let read;
    let body = match template {
        Some(t) => t,
        None => {
            read = deployed_template_text(aws, &rendered.stack_name).await;
            match read.as_deref() {
                Some(t) => t,
                None => return false,
            }
        }
    };
    if body == rendered.template {
        return true;
    }
    let (before, after) = (
        replacement::parse_template(body),
        replacement::parse_template(&rendered.template),
    );
    // Two unreadable templates are not the same template.
    !after.is_null() && before == after
}

/// An unchanged stack is "no changes" only when its ECS service (if any) has finished rolling
/// out at its desired count; a rollout that never finished (tasks failing, a deadline reached
/// by an earlier deploy) is followed to its end like a deploy, so that a CI retry cannot turn
/// a broken service green.
pub(super) async fn unchanged(
    aws: &Aws,
    rendered: &RenderedStack,
    cluster: Option<String>,
    resources: Option<Vec<stack::Resource>>,
    deadline: Instant,
    reporter: &dyn Reporter,
    interrupts: watch::Receiver<u32>,
) -> Outcome {
    let name = rendered.stack_name.as_str();
    if !rendered.template.contains("AWS::ECS::Service") {
        return Outcome::NoChanges;
    }
    let Some(state) = unfinished_rollout(aws, name, cluster.as_deref(), resources).await else {
        return Outcome::NoChanges;
    };
    reporter.emit(Event::Message {
        stack: name.into(),
        text: format!(
            "the stack has no changes, but its ECS service has not finished rolling out ({state}); following the rollout"
        ),
    });
    let seen = current_event_ids(aws, name).await;
    let ending = follow(
        aws,
        Target {
            stack: name,
            seen,
            cluster,
            has_service: true,
            deadline,
            pinned_task_definition: None,
            workload_args: workload_args(rendered),
            creating: false,
        },
        reporter,
        interrupts,
        &mut None,
    )
    .await;
    match ending {
        Ending::Succeeded => Outcome::NoChanges,
        other => outcome_of(other),
    }
}

/// Where the ECS service of an unchanged stack stands, when its primary deployment has not
/// completed at its desired count (`None`: settled, or no service to look at).
async fn unfinished_rollout(
    aws: &Aws,
    stack: &str,
    cluster: Option<&str>,
    known: Option<Vec<stack::Resource>>,
) -> Option<String> {
    // One read of the stack's resources (or the one made with every stack of the deploy)
    // gives both the service and its task definition.
    let resources = match known {
        Some(r) => r,
        None => match stack::resources(aws, stack).await {
            Ok(r) => r,
            // Unreadable, the service cannot be called settled; following it says why.
            Err(e) => return Some(e.to_string()),
        },
    };
    let physical = |logical: &str| {
        resources
            .iter()
            .find(|r| r.logical_id == logical)
            .and_then(|r| r.physical_id.clone())
    };
    let arn = physical("Service")?;
    let (cluster, service) = crate::deploy::watch::split_service_arn(&arn)
        .or_else(|| cluster.map(|c| (c.to_string(), arn.clone())))?;
    let expected = physical("TaskDefinition");
    let view = match aws.ecs.service(&cluster, &service).await {
        Ok(v) => v,
        // Unreadable, the service cannot be called settled; following it says why.
        Err(e) => return Some(e.to_string()),
    };
    match crate::deploy::rollout::assess(&view, expected.as_deref()) {
        crate::deploy::rollout::Rollout::Completed => None,
        _ => Some(view.primary().map_or_else(
            || "no primary deployment".to_string(),
            |p| {
                format!(
                    "{} of {} tasks running, {} failed",
                    p.running, p.desired, p.failed
                )
            },
        )),
    }
}
