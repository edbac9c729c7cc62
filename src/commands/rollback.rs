//! Taking a service back, and answering a paused deployment:
//!
//! - `tug svc rollback -e ENV -n NAME [--to REVISION]`: while a deployment runs, stop it with
//!   a rollback (StopServiceDeployment; where ECS keeps no deployment record, cancel the stack
//!   update, which rolls the service back too). Otherwise run an earlier task definition
//!   revision again — the image and the whole container configuration that deployed
//!   successfully before — by updating the service's stack with the same template and the
//!   revision in its `RollbackTaskDefinition` parameter, through the deploy engine (same
//!   progress, summary and exit codes). The next `tug svc deploy` clears the pin.
//! - `tug svc deploy -e ENV -n NAME --continue | --rollback`: answers the PAUSE hook a
//!   blue/green, canary or linear deployment waits on (ContinueServiceDeployment), then
//!   follows the deployment to its end.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::cli::{RollbackArgs, ServiceDeployArgs};
use crate::commands::Context;
use crate::commands::deploy::{confirm, report, reporter, timeout, watch_interrupts};
use crate::commands::history::Subject;
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::engine::{self, DeployOptions, Outcome, SummaryRow};
use crate::deploy::events::{Event, Reporter};
use crate::deploy::images::ImageOptions;
use crate::deploy::lifecycle::{self, Progress};
use crate::deploy::ownership;
use crate::deploy::revisions::{self, ServiceStack};
use crate::deploy::stack;
use crate::error::{Error, Result};
use crate::exit;
use crate::render::RenderedStack;
use crate::render::workload::ROLLBACK_PARAMETER;

/// What both commands of this module need before talking to AWS: the service, how long to
/// follow and the progress reporter.
struct Prelude {
    subject: Subject,
    limit: Duration,
    reporter: std::sync::Arc<dyn Reporter>,
}

fn prelude(
    ctx: &Context,
    env: Option<&str>,
    name: Option<&str>,
    timeout_flag: &str,
) -> Result<Prelude> {
    Ok(Prelude {
        subject: Subject::service(ctx, env, name)?,
        limit: timeout(timeout_flag)?,
        reporter: reporter(ctx),
    })
}

pub(crate) fn run(ctx: &Context, args: &RollbackArgs) -> Result<()> {
    let Prelude {
        subject,
        limit,
        reporter,
    } = prelude(
        ctx,
        args.env.as_deref(),
        args.name.as_deref(),
        &args.timeout,
    )?;
    let settings = crate::commands::remote::settings(ctx);
    let started = Instant::now();
    let stack_name = subject.stack();
    let outcome = ctx.block_on(async {
        let aws = match Aws::connect(&settings).await {
            Ok(a) => a,
            Err(e) => return Outcome::Failed(e),
        };
        let service = match owned_service(&aws, &stack_name, &subject, "roll back").await {
            Ok(s) => s,
            Err(e) => return Outcome::Failed(e),
        };
        let deadline = Instant::now() + limit;
        if let Some(outcome) =
            stop_running_deployment(&aws, &service, deadline, reporter.as_ref()).await
        {
            return outcome;
        }
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(watch_interrupts(tx, ctx.ui.clone()));
        redeploy_earlier_revision(
            ctx,
            &aws,
            Redeploy {
                subject: &subject,
                service: &service,
                to: args.to.as_deref(),
                limit,
                reporter: reporter.clone(),
                interrupts: rx,
            },
        )
        .await
    })?;
    crate::commands::status(conclude(
        ctx,
        reporter.as_ref(),
        stack_name,
        &subject,
        outcome,
        started,
    ))
}

/// The service's stack, provided tug owns it: a stack of another owner is never rolled back
/// or answered for.
async fn owned_service(
    aws: &Aws,
    stack_name: &str,
    subject: &Subject,
    doing: &str,
) -> Result<ServiceStack> {
    // Ownership first: a foreign stack is refused for what it is, whatever it holds.
    if let Some(info) = stack::describe(aws, stack_name).await?
        && let Some(why) = ownership::check(&info, stack_name, &subject.app, doing)
    {
        return Err(why);
    }
    revisions::service_stack(aws, stack_name, &subject.name).await
}

/// Reports the end of a rollback or an answered pause like a deploy's: the finished event, the
/// summary, and the exit code.
fn conclude(
    ctx: &Context,
    reporter: &dyn Reporter,
    stack: String,
    subject: &Subject,
    outcome: Outcome,
    started: Instant,
) -> u8 {
    engine::finished(reporter, &stack, &outcome, started);
    let code = outcome.exit_code();
    report(
        ctx,
        &[SummaryRow {
            stack,
            workload: Some(subject.name.clone()),
            outcome: outcome.label().into(),
            seconds: started.elapsed().as_secs_f64(),
            image: None,
            detail: outcome.detail(),
            result: outcome,
        }],
        code,
    );
    code
}

/// A deployment in progress is stopped with a rollback and followed; `None` when nothing is
/// in progress.
async fn stop_running_deployment(
    aws: &Aws,
    service: &ServiceStack,
    deadline: Instant,
    reporter: &dyn Reporter,
) -> Option<Outcome> {
    let say = |text: String| {
        reporter.emit(Event::Message {
            stack: service.stack.clone(),
            text,
        })
    };
    if let Ok(Some(d)) = lifecycle::in_progress(&aws.ecs, &service.cluster, &service.service).await
    {
        say(format!("stopping deployment {} with a rollback", d.arn));
        if let Err(e) = lifecycle::stop_with_rollback(&aws.ecs, &d.arn).await {
            return Some(Outcome::Failed(e));
        }
        return Some(
            match follow_deployment(aws, service, &d.arn, deadline, reporter).await {
                // The rollback asked for is what success looks like here.
                Progress::RolledBack(_) => Outcome::Deployed,
                Progress::Succeeded => Outcome::Failed(
                    Error::failure("the deployment finished before it could be stopped")
                        .help("run `tug svc rollback` again to go back to the previous revision"),
                ),
                Progress::Failed(why) => Outcome::failure(why),
                Progress::InProgress => Outcome::TimedOut(Error::failure(
                    "the rollback had not finished when the deadline passed; it goes on in ECS",
                )),
            },
        );
    }
    if stack::phase(&service.status) != stack::Phase::Busy {
        return None;
    }
    // No deployment record (older ECS behaviour, or an emulator): CloudFormation is still
    // updating, and cancelling the update rolls the service back with the stack.
    say(format!(
        "{} is {}; cancelling the update rolls it back",
        service.stack, service.status
    ));
    if let Err(e) = aws
        .cfn
        .cancel_update_stack()
        .stack_name(&service.stack)
        .client_request_token(crate::deploy::aws::request_token())
        .send()
        .await
    {
        return Some(Outcome::failure(format!(
            "cannot cancel the update of {}: {}",
            service.stack,
            describe_error(&e)
        )));
    }
    Some(
        match stack::wait_until_idle(aws, &service.stack, deadline, |status| {
            say(format!("{} is {status}", service.stack))
        })
        .await
        {
            Ok(Some(info)) if info.status == "UPDATE_ROLLBACK_COMPLETE" => Outcome::Deployed,
            Ok(Some(info)) => Outcome::failure(format!(
                "{} ended {} instead of rolling back",
                service.stack, info.status
            )),
            Ok(None) => Outcome::failure(format!("{} disappeared", service.stack)),
            Err(e) => Outcome::Failed(e),
        },
    )
}

/// Which revision of which service to run again, and how to follow it.
struct Redeploy<'a> {
    subject: &'a Subject,
    service: &'a ServiceStack,
    /// The revision asked for (`--to`); the one before the current when `None`.
    to: Option<&'a str>,
    limit: Duration,
    reporter: std::sync::Arc<dyn Reporter>,
    interrupts: watch::Receiver<u32>,
}

/// Runs an earlier revision again through the engine.
async fn redeploy_earlier_revision(ctx: &Context, aws: &Aws, request: Redeploy<'_>) -> Outcome {
    let Redeploy {
        subject,
        service,
        to,
        limit,
        reporter,
        interrupts,
    } = request;
    let target = match earlier_revision(aws, subject, service, to).await {
        Ok(t) => t,
        Err(e) => return Outcome::Failed(e),
    };
    reporter.emit(Event::Message {
        stack: service.stack.clone(),
        text: format!(
            "rolling back to revision {} ({})",
            target.revision,
            target.image.as_deref().unwrap_or("image unknown")
        ),
    });
    let (rendered, parameters) = match pinned_stack(aws, subject, service, &target.arn).await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e),
    };
    let opts = DeployOptions {
        timeout: limit,
        detach: false,
        diff: false,
        yes: ctx.global.yes,
        allow_replacements: false,
        interactive: ctx.ui.interactive,
        images: ImageOptions {
            no_build: true,
            tag: None,
        },
        concurrency: 1,
    };
    let session = engine::Session {
        aws: aws.clone(),
        opts,
        confirm: confirm(ctx),
        reporter: reporter.clone(),
        interrupts,
    };
    engine::deploy_stack(
        &session,
        &rendered,
        &parameters,
        engine::StackContext::in_cluster(service.cluster.clone()),
    )
    .await
}

/// The revision to run again: `to`, or the one deployed before the current.
async fn earlier_revision(
    aws: &Aws,
    subject: &Subject,
    service: &ServiceStack,
    to: Option<&str>,
) -> Result<revisions::Revision> {
    if !service
        .parameters
        .iter()
        .any(|(k, _)| k == ROLLBACK_PARAMETER)
    {
        return Err(Error::failure(format!(
            "{} was deployed by a tug without rollback support",
            service.stack
        ))
        .help(format!(
            "deploy it once with this version (`tug svc deploy -e {} -n {}`), then roll back",
            subject.env, subject.name
        )));
    }
    let Some(family) = service.family() else {
        return Err(Error::failure(format!(
            "{} records no task definition",
            service.stack
        )));
    };
    let revs = revisions::list(
        aws,
        &family,
        &subject.name,
        service.task_definition.as_deref(),
        50,
    )
    .await?;
    let target = revisions::rollback_target(&revs, to)?;
    if target.current {
        return Err(Error::failure(format!(
            "{} already runs revision {}",
            subject.name, target.revision
        )));
    }
    Ok(target.clone())
}

/// The service's stack as deployed, with `revision` pinned in its rollback parameter (and
/// recorded on its service), and the parameter values to deploy it with.
async fn pinned_stack(
    aws: &Aws,
    subject: &Subject,
    service: &ServiceStack,
    revision: &str,
) -> Result<(RenderedStack, Vec<(String, String)>)> {
    let template = aws
        .cfn
        .get_template()
        .stack_name(&service.stack)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot read the template of {}: {}",
                service.stack,
                describe_error(&e)
            ))
        })?
        .template_body()
        .unwrap_or_default()
        .to_string();
    let template = mark_rollback(&template, revision)
        .map_err(|e| Error::failure(format!("{}: {e}", service.stack)))?;
    let parameters: Vec<(String, String)> = service
        .parameters
        .iter()
        .map(|(k, v)| {
            if k == ROLLBACK_PARAMETER {
                (k.clone(), revision.to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let tags: BTreeMap<String, String> = [
        ("tug:app", &subject.app),
        ("tug:env", &subject.env),
        ("tug:workload", &subject.name),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect();
    let rendered = RenderedStack {
        stack_name: service.stack.clone(),
        workload: Some(subject.name.clone()),
        template,
        parameters: parameters.iter().cloned().collect(),
        tags,
    };
    Ok((rendered, parameters))
}

/// The deployed template with the rollback recorded on the service (`Metadata.tug:rollback`):
/// visible to whoever reads the stack, and a template change even for CloudFormation
/// implementations that ignore parameter-only changes when computing a change set. The next
/// normal deploy renders the template without it.
fn mark_rollback(template: &str, revision: &str) -> Result<String> {
    let mut doc = crate::deploy::replacement::parse_template(template);
    if doc.is_null() {
        return Err(Error::failure("cannot read the deployed template"));
    }
    let service = doc
        .get_mut("Resources")
        .and_then(|r| r.get_mut("Service"))
        .and_then(|s| s.as_object_mut())
        .ok_or_else(|| Error::failure("the deployed template has no ECS service"))?;
    service.insert(
        "Metadata".into(),
        serde_json::json!({ "tug:rollback": revision }),
    );
    Ok(crate::render::emit::to_yaml(&doc))
}

/// Polls ECS's record of a deployment until it ends or the deadline passes, reporting stages.
async fn follow_deployment(
    aws: &Aws,
    service: &ServiceStack,
    arn: &str,
    deadline: Instant,
    reporter: &dyn Reporter,
) -> Progress {
    let mut last = String::new();
    loop {
        let current = lifecycle::list(&aws.ecs, &service.cluster, &service.service, None, 10)
            .await
            .ok()
            .and_then(|all| all.into_iter().find(|d| d.arn == arn));
        if let Some(d) = current {
            let text = lifecycle::describe_stage(&d);
            if text != last {
                reporter.emit(Event::Stage {
                    stack: service.stack.clone(),
                    service: service.service.clone(),
                    stage: d.stage.clone(),
                    production_weight: d.production_weight,
                    test_weight: d.test_weight,
                    text: text.clone(),
                });
                last = text;
            }
            let progress = lifecycle::assess(&d);
            if progress != Progress::InProgress {
                return progress;
            }
        }
        if Instant::now() >= deadline {
            return Progress::InProgress;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// `tug svc deploy --continue | --rollback`.
pub(crate) fn answer_pause(ctx: &Context, args: &ServiceDeployArgs) -> Result<()> {
    let d = &args.deploy;
    let Prelude {
        subject,
        limit,
        reporter,
    } = prelude(ctx, d.env.as_deref(), d.name.as_deref(), &d.flags.timeout)?;
    let settings = crate::commands::remote::settings(ctx);
    let started = Instant::now();
    let stack_name = subject.stack();
    let rollback = args.rollback;
    let detach = d.flags.detach;
    let outcome = ctx.block_on(async {
        let aws = match Aws::connect(&settings).await {
            Ok(a) => a,
            Err(e) => return Outcome::Failed(e),
        };
        let service = match owned_service(
            &aws,
            &stack_name,
            &subject,
            "answer the paused deployment of",
        )
        .await
        {
            Ok(s) => s,
            Err(e) => return Outcome::Failed(e),
        };
        let deployment =
            match lifecycle::in_progress(&aws.ecs, &service.cluster, &service.service).await {
                Ok(Some(dep)) => dep,
                Ok(None) => {
                    return Outcome::failure(format!(
                        "no deployment of {} is in progress, so nothing waits to be continued",
                        subject.name
                    ));
                }
                Err(e) => return Outcome::Failed(e),
            };
        let waiting: Vec<String> = lifecycle::awaiting(&deployment)
            .into_iter()
            .map(|h| h.id.clone())
            .collect();
        if waiting.is_empty() {
            return Outcome::failure(format!(
                "the deployment of {} is not paused (it is at {}); nothing to answer",
                subject.name,
                lifecycle::describe_stage(&deployment)
            ));
        }
        for hook in &waiting {
            if let Err(e) = lifecycle::answer_hook(&aws.ecs, &deployment.arn, hook, rollback).await
            {
                return Outcome::Failed(e);
            }
            reporter.emit(Event::Message {
                stack: stack_name.clone(),
                text: format!(
                    "{} the deployment (hook {hook})",
                    if rollback {
                        "rolling back"
                    } else {
                        "continuing"
                    }
                ),
            });
        }
        if detach {
            return Outcome::Detached;
        }
        let deadline = Instant::now() + limit;
        match follow_deployment(&aws, &service, &deployment.arn, deadline, reporter.as_ref()).await
        {
            Progress::Succeeded => Outcome::Deployed,
            Progress::RolledBack(_) if rollback => Outcome::Deployed,
            Progress::RolledBack(why) => {
                Outcome::RolledBack(Error::with_code(exit::ROLLED_BACK, why))
            }
            Progress::Failed(why) => Outcome::failure(why),
            Progress::InProgress => Outcome::TimedOut(Error::failure(
                "the deployment had not finished when the deadline passed; it goes on in ECS",
            )),
        }
    })?;
    crate::commands::status(conclude(
        ctx,
        reporter.as_ref(),
        stack_name,
        &subject,
        outcome,
        started,
    ))
}
