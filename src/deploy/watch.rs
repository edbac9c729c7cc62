//! Following a deploy: stack events and the ECS rollout, watched together until the stack is
//! complete and the service's new deployment has rolled out (or failed, or the deadline
//! passed). Polling is adaptive: quick while things change, slower while nothing does.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::events::{Event, Reporter};
use crate::deploy::lifecycle;
use crate::deploy::rollout::{self, Rollout, RolloutSource};
use crate::deploy::stack;
use crate::deploy::stack_events::{self, Digest, Page, StackEvent, StackVerdict};

/// Consecutive failed reads of the stack after which the watcher gives up.
const MAX_READ_FAILURES: u32 = 3;

/// How a watched deploy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Succeeded,
    /// The stack or the rollout failed and nothing was rolled back (or the rollback failed).
    Failed(String),
    /// CloudFormation or ECS rolled back.
    RolledBack(String),
    TimedOut(String),
    /// The user interrupted; the update was cancelled and rolled back.
    Interrupted(String),
}

/// What to watch.
pub struct Target<'a> {
    pub stack: &'a str,
    /// Event ids that existed before this deploy began.
    pub seen: HashSet<String>,
    /// The cluster, when the environment stack's outputs are known (service ARNs carry it too).
    pub cluster: Option<String>,
    /// Whether the stack has an ECS service whose rollout must complete.
    pub has_service: bool,
    pub deadline: Instant,
    /// The task definition revision the service must end on when it is not the stack's own
    /// (a rollback to an earlier revision).
    pub pinned_task_definition: Option<String>,
    /// `-e ENV -n NAME` of the workload, for the commands a paused deployment needs.
    pub workload_args: Option<String>,
    /// Whether the stack is being created: a creation cannot be cancelled, so Ctrl-C stops
    /// watching it and says how to follow and undo it.
    pub creating: bool,
}

/// The ids of the stack's current events. The first page (the newest) is enough: reading new
/// events stops at the first page that reaches one of them.
pub async fn current_event_ids(aws: &Aws, stack: &str) -> HashSet<String> {
    match events_page(aws, stack, None).await {
        Ok(page) => page.stack_events.into_iter().map(|e| e.event_id).collect(),
        Err(_) => HashSet::new(),
    }
}

/// One page of DescribeStackEvents.
async fn events_page(aws: &Aws, stack: &str, token: Option<String>) -> Result<Page, String> {
    let out = aws
        .cfn
        .describe_stack_events()
        .stack_name(stack)
        .set_next_token(token)
        .send()
        .await
        .map_err(|e| format!("cannot read the events of {stack}: {}", describe_error(&e)))?;
    Ok(Page {
        stack_events: out
            .stack_events()
            .iter()
            .filter_map(StackEvent::from_sdk)
            .collect(),
        next_token: out.next_token().map(str::to_string),
    })
}

/// The events of `stack` not in `seen` yet, oldest first, from every page they span.
async fn new_events(
    aws: &Aws,
    stack: &str,
    seen: &mut HashSet<String>,
) -> Result<Vec<StackEvent>, String> {
    stack_events::read_new(|token| events_page(aws, stack, token), seen).await
}

/// The physical id of one resource of a stack, `None` when it (or the stack) cannot be read.
pub(crate) async fn physical_id(aws: &Aws, stack: &str, logical: &str) -> Option<String> {
    stack::resources(aws, stack)
        .await
        .ok()?
        .into_iter()
        .find(|r| r.logical_id == logical)
        .and_then(|r| r.physical_id)
}

/// `arn:aws:ecs:region:account:service/<cluster>/<service>` → (cluster, service).
pub fn split_service_arn(arn: &str) -> Option<(String, String)> {
    let tail = arn.split(":service/").nth(1)?;
    let mut parts = tail.splitn(2, '/');
    let first = parts.next()?;
    parts
        .next()
        .map(|service| (first.to_string(), service.to_string()))
}

/// Follows the stack and its service until the deploy ends.
pub async fn follow(
    aws: &Aws,
    target: Target<'_>,
    reporter: &dyn Reporter,
    mut interrupts: watch::Receiver<u32>,
    rolled_out: &mut Option<String>,
) -> Ending {
    let Target {
        stack,
        mut seen,
        cluster,
        has_service,
        deadline,
        pinned_task_definition,
        workload_args,
        creating,
    } = target;
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut stages = StageTracker::new(stack, workload_args.clone());
    let mut digest = Digest {
        rolled_out: rolled_out.clone(),
        ..Digest::default()
    };
    let mut delay = Duration::from_millis(300);
    let mut stack_done = false;
    let mut service: Option<(String, String)> = None;
    let mut expected_td: Option<String> = None;
    let mut last_rollout: Option<(String, i32, i32, i32, i32)> = None;
    // The service as last read, for the time-out's account of the rollout.
    let mut last_view: Option<rollout::ServiceView> = None;
    let mut stall = rollout::Stall::new(Instant::now());
    let mut cancelled = false;
    // The SDK already retries each call; several failed polls in a row mean AWS cannot tell
    // us how the deploy goes, and waiting for the deadline would only hide that.
    let mut read_failures = 0u32;
    loop {
        let mut changed = false;
        if !stack_done {
            match new_events(aws, stack, &mut seen).await {
                Ok(events) => {
                    for e in events {
                        changed = true;
                        reporter.emit(digest.apply(stack, e));
                    }
                    if rolled_out.is_none() {
                        rolled_out.clone_from(&digest.rolled_out);
                    }
                }
                Err(msg) => {
                    if let Some(ending) = failed_read(&mut read_failures, msg, stack, reporter) {
                        return ending;
                    }
                }
            }
            match stack::describe(aws, stack).await {
                Ok(Some(info)) => {
                    read_failures = 0;
                    let failures = &digest.failures;
                    match stack_events::stack_verdict(&info.status) {
                        StackVerdict::Succeeded => stack_done = true,
                        StackVerdict::RolledBack => {
                            let cause = root_cause(failures, info.reason.as_deref());
                            if cancelled {
                                return Ending::Interrupted(format!(
                                    "the update was cancelled and {stack} rolled back"
                                ));
                            }
                            return Ending::RolledBack(cause);
                        }
                        StackVerdict::Failed => {
                            return Ending::Failed(format!(
                                "{stack} is {}: {}",
                                info.status,
                                root_cause(failures, info.reason.as_deref())
                            ));
                        }
                        StackVerdict::Deleted => {
                            return Ending::Failed(format!(
                                "{stack} was deleted while deploying: {}",
                                root_cause(failures, info.reason.as_deref())
                            ));
                        }
                        StackVerdict::Running => {}
                    }
                }
                Ok(None) => {
                    return Ending::Failed(format!(
                        "{stack} disappeared while deploying: {}",
                        root_cause(&digest.failures, None)
                    ));
                }
                Err(msg) => {
                    if let Some(ending) = failed_read(&mut read_failures, msg, stack, reporter) {
                        return ending;
                    }
                }
            }
        }
        if stack_done && !has_service {
            return Ending::Succeeded;
        }
        // Blue/green, canary and linear deployments run while the stack is still updating
        // (CloudFormation waits for them), so the service is looked up early.
        if has_service && service.is_none() {
            if let Some(arn) = physical_id(aws, stack, "Service").await {
                service =
                    split_service_arn(&arn).or_else(|| cluster.clone().map(|c| (c, arn.clone())));
            }
            if stack_done && service.is_none() {
                return Ending::Failed(format!(
                    "{stack} completed but its ECS service could not be found"
                ));
            }
        }
        if stack_done && expected_td.is_none() {
            expected_td = match &pinned_task_definition {
                Some(td) => Some(td.clone()),
                None => physical_id(aws, stack, "TaskDefinition").await,
            };
        }
        let mut tracked = false;
        if let Some((cluster, name)) = &service {
            match stages.poll(aws, cluster, name, started, reporter).await {
                Some(lifecycle::Progress::Succeeded) if stack_done => return Ending::Succeeded,
                Some(lifecycle::Progress::RolledBack(why)) => {
                    return Ending::RolledBack(ecs_cause_for(aws, cluster, name, &why).await);
                }
                Some(lifecycle::Progress::Failed(why)) => {
                    return Ending::Failed(ecs_cause_for(aws, cluster, name, &why).await);
                }
                Some(_) => {
                    tracked = true;
                    changed |= stages.changed;
                }
                None => {}
            }
        }
        // The revision this deploy rolls out, as soon as it is known: while CloudFormation
        // waits for the service to stabilize (a rolling update keeps the stack updating until
        // ECS is done), the rollout is followed and reported too, though only a complete stack
        // can end the deploy.
        let ours = expected_td
            .clone()
            .or_else(|| pinned_task_definition.clone())
            .or_else(|| digest.rolled_out.clone());
        if let Some((cluster, name)) = service.as_ref().filter(|_| stack_done || ours.is_some()) {
            match aws.ecs.service(cluster, name).await {
                Ok(view) => {
                    let primary = view.primary().filter(|p| {
                        stack_done
                            || ours.as_deref().is_some_and(|td| {
                                rollout::same_task_definition(&p.task_definition, td)
                            })
                    });
                    if let Some(p) = primary {
                        let state = p
                            .rollout_state
                            .clone()
                            .unwrap_or_else(|| "IN_PROGRESS".into());
                        let now = (state.clone(), p.desired, p.running, p.pending, p.failed);
                        if last_rollout.as_ref() != Some(&now) {
                            changed = true;
                            stall.progressed(Instant::now());
                            reporter.emit(Event::Rollout {
                                stack: stack.to_string(),
                                service: view.name.clone(),
                                state,
                                desired: p.desired,
                                running: p.running,
                                pending: p.pending,
                                failed: p.failed,
                            });
                            last_rollout = Some(now);
                        } else if let Some(stalled) = stall.due(Instant::now()) {
                            let latest = if p.failed > 0 {
                                aws.ecs
                                    .stopped_reasons(cluster, name)
                                    .await
                                    .into_iter()
                                    .next()
                                    .map(|r| format!("; a stopped task: {r}"))
                                    .unwrap_or_default()
                            } else {
                                String::new()
                            };
                            reporter.emit(Event::Message {
                                stack: stack.to_string(),
                                text: format!(
                                    "ECS service {}: no progress for {}: {} so far{latest}",
                                    view.name,
                                    rollout::duration_words(stalled),
                                    rollout::progress_words(&view)
                                ),
                            });
                        }
                    }
                    let assessed =
                        stack_done.then(|| rollout::assess(&view, expected_td.as_deref()));
                    last_view = Some(view.clone());
                    match assessed {
                        // ECS's own deployment record decides when there is one.
                        _ if tracked => {}
                        None | Some(Rollout::InProgress) => {}
                        Some(Rollout::Completed) => return Ending::Succeeded,
                        Some(Rollout::Failed(reason)) => {
                            return Ending::Failed(
                                ecs_cause(aws, cluster, name, &view, &reason).await,
                            );
                        }
                        Some(Rollout::RolledBack(reason)) => {
                            return Ending::RolledBack(
                                ecs_cause(aws, cluster, name, &view, &reason).await,
                            );
                        }
                    }
                }
                Err(msg) => reporter.emit(Event::Message {
                    stack: stack.to_string(),
                    text: msg.to_string(),
                }),
            }
        }
        if Instant::now() >= deadline {
            // A rollout under way is followed with tug's own commands (stack events cannot
            // show it); a stack that never got to its service, with its events.
            let rolling = last_view
                .as_ref()
                .filter(|_| stack_done || last_rollout.is_some());
            return Ending::TimedOut(match (rolling, &service, &workload_args) {
                (Some(view), Some((cluster, name)), Some(args)) => {
                    let what = if stack_done {
                        "the ECS service had not finished rolling out when the deadline passed"
                    } else {
                        "the ECS service had not finished rolling out (and the stack waits for it) when the deadline passed"
                    };
                    let stopped = aws.ecs.stopped_reasons(cluster, name).await;
                    rollout::timeout_report(what, Some(view), &stopped, args)
                }
                _ => format!(
                    "the stack had not finished when the deadline passed; it goes on in AWS: follow it with `aws cloudformation describe-stack-events --stack-name {stack}`"
                ),
            });
        }
        if changed {
            delay = Duration::from_millis(500);
        } else {
            delay = (delay.mul_f32(1.5)).min(Duration::from_secs(5));
        }
        let sleep = delay
            .min(deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(10));
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            changed_signal = interrupts.changed() => {
                if changed_signal.is_ok() && *interrupts.borrow() >= 1 && creating && !stack_done {
                    return Ending::Interrupted(format!(
                        "interrupted while {stack} was being created; CloudFormation goes on creating it (a creation cannot be cancelled): follow it with `aws cloudformation describe-stack-events --stack-name {stack}`"
                    ));
                } else if changed_signal.is_ok() && *interrupts.borrow() >= 1 && !cancelled && !stack_done {
                    cancelled = true;
                    match aws
                        .cfn
                        .cancel_update_stack()
                        .stack_name(stack)
                        .client_request_token(crate::deploy::aws::request_token())
                        .send()
                        .await
                    {
                        Ok(_) => reporter.emit(Event::Message { stack: stack.to_string(), text: "interrupted: cancelling the update; following the rollback (Ctrl-C again to stop watching)".into() }),
                        Err(e) => reporter.emit(Event::Message { stack: stack.to_string(), text: format!("interrupted, but the update could not be cancelled ({}); it goes on in AWS (Ctrl-C again to stop watching)", describe_error(&e)) }),
                    }
                } else if changed_signal.is_ok() && *interrupts.borrow() >= 1 && stack_done {
                    return Ending::Interrupted(format!("stopped watching; the ECS rollout of {stack} goes on in AWS"));
                }
            }
        }
    }
}

/// Follows ECS's record of the deployment a deploy started (see `lifecycle`): reports stage
/// and traffic changes and PAUSE hooks once each. Where ECS (or the emulator) has no such
/// record, it turns itself off and the rollout is judged from the service alone.
struct StageTracker {
    stack: String,
    workload_args: Option<String>,
    available: bool,
    last: Option<String>,
    hooks_reported: HashSet<String>,
    /// Whether the last poll saw something new.
    changed: bool,
}

impl StageTracker {
    fn new(stack: &str, workload_args: Option<String>) -> StageTracker {
        StageTracker {
            stack: stack.to_string(),
            workload_args,
            available: true,
            last: None,
            hooks_reported: HashSet::new(),
            changed: false,
        }
    }

    async fn poll(
        &mut self,
        aws: &Aws,
        cluster: &str,
        service: &str,
        since: f64,
        reporter: &dyn Reporter,
    ) -> Option<lifecycle::Progress> {
        self.changed = false;
        if !self.available {
            return None;
        }
        let d = match lifecycle::started_since(&aws.ecs, cluster, service, since).await {
            Ok(Some(d)) => d,
            Ok(None) => return None,
            Err(_) => {
                self.available = false;
                return None;
            }
        };
        let text = lifecycle::describe_stage(&d);
        if self.last.as_ref() != Some(&text) {
            self.changed = true;
            reporter.emit(Event::Stage {
                stack: self.stack.clone(),
                service: service.to_string(),
                stage: d.stage.clone(),
                production_weight: d.production_weight,
                test_weight: d.test_weight,
                text: text.clone(),
            });
            self.last = Some(text);
        }
        let args = self
            .workload_args
            .clone()
            .unwrap_or_else(|| "-e ENV -n NAME".into());
        for hook in lifecycle::awaiting(&d) {
            if self.hooks_reported.insert(hook.id.clone()) {
                self.changed = true;
                reporter.emit(Event::HookWaiting {
                    stack: self.stack.clone(),
                    service: service.to_string(),
                    hook_id: hook.id.clone(),
                    expires_at: hook.expires_at.clone(),
                    timeout_action: hook.timeout_action.clone(),
                    continue_command: format!("tug svc deploy {args} --continue"),
                    rollback_command: format!("tug svc deploy {args} --rollback"),
                });
            }
        }
        Some(lifecycle::assess(&d))
    }
}

async fn ecs_cause_for(aws: &Aws, cluster: &str, service: &str, reason: &str) -> String {
    match aws.ecs.service(cluster, service).await {
        Ok(view) => ecs_cause(aws, cluster, service, &view, reason).await,
        Err(_) => reason.to_string(),
    }
}

/// Counts a failed read of the stack: reports it, or gives up after too many in a row.
fn failed_read(
    count: &mut u32,
    msg: String,
    stack: &str,
    reporter: &dyn Reporter,
) -> Option<Ending> {
    *count += 1;
    if *count >= MAX_READ_FAILURES {
        return Some(Ending::Failed(format!(
            "{msg}; gave up after {MAX_READ_FAILURES} failed reads in a row"
        )));
    }
    reporter.emit(Event::Message {
        stack: stack.to_string(),
        text: msg,
    });
    None
}

fn root_cause(failures: &[String], stack_reason: Option<&str>) -> String {
    match failures.first() {
        Some(first) => {
            let mut out = first.clone();
            if failures.len() > 1 {
                out.push_str(&format!(
                    " (and {} more failed resources)",
                    failures.len() - 1
                ));
            }
            out
        }
        None => stack_reason
            .unwrap_or("CloudFormation gave no reason")
            .to_string(),
    }
}

async fn ecs_cause(
    aws: &Aws,
    cluster: &str,
    service: &str,
    view: &rollout::ServiceView,
    reason: &str,
) -> String {
    let mut out = reason.to_string();
    let stopped = aws.ecs.stopped_reasons(cluster, service).await;
    if !stopped.is_empty() {
        out.push_str(&format!("\n  stopped tasks: {}", stopped.join("; ")));
    }
    let events = rollout::failure_events(view, 5);
    if !events.is_empty() {
        out.push_str(&format!(
            "\n  service events:\n    {}",
            events.join("\n    ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_arns() {
        assert_eq!(
            split_service_arn(
                "arn:aws:ecs:us-east-1:123456789012:service/demo-test-Cluster-X/demo-test-web-Service-Y"
            ),
            Some((
                "demo-test-Cluster-X".into(),
                "demo-test-web-Service-Y".into()
            ))
        );
        assert_eq!(
            split_service_arn("arn:aws:ecs:us-east-1:123456789012:service/old-style"),
            None
        );
    }

    #[test]
    fn root_causes() {
        assert_eq!(root_cause(&[], Some("x")), "x");
        assert_eq!(
            root_cause(&["A: b".into(), "C: d".into()], None),
            "A: b (and 1 more failed resources)"
        );
    }
}
