//! Following a deploy: stack events and the ECS rollout, watched together until the stack is
//! complete and the service's new deployment has rolled out (or failed, or the deadline
//! passed). Polling is adaptive: quick while things change, slower while nothing does.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::events::{Event, Reporter};
use crate::deploy::lifecycle;
use crate::deploy::rollout::{self, Rollout, RolloutSource};
use crate::deploy::stack;
use crate::deploy::stack_events::{self, Digest, Page, StackEvent, StackVerdict};
use crate::error::{Error, Result};

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
async fn events_page(aws: &Aws, stack: &str, token: Option<String>) -> Result<Page> {
    let out = aws
        .cfn
        .describe_stack_events()
        .stack_name(stack)
        .set_next_token(token)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot read the events of {stack}: {}",
                describe_error(&e)
            ))
        })?;
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
async fn new_events(aws: &Aws, stack: &str, seen: &mut HashSet<String>) -> Result<Vec<StackEvent>> {
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
    let mut follower = Follower::new(aws, target, reporter, rolled_out);
    let mut delay = Duration::from_millis(300);
    loop {
        let changed = match follower.poll().await {
            ControlFlow::Continue(changed) => changed,
            ControlFlow::Break(ending) => return ending,
        };
        let deadline = follower.deadline;
        if Instant::now() >= deadline {
            return follower.timed_out().await;
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
                let pressed = changed_signal.is_ok() && *interrupts.borrow() >= 1;
                if pressed && let Some(ending) = follower.interrupted().await {
                    return ending;
                }
            }
        }
    }
}

/// One step of following: `Break` with how the deploy ended, or `Continue` (with whether
/// anything new was seen, for the polling rate).
type Step<T = ()> = ControlFlow<Ending, T>;

/// What following a deploy has learnt so far: the stack's events and state, the service once
/// it is known, and its rollout as last seen.
struct Follower<'a> {
    aws: &'a Aws,
    reporter: &'a dyn Reporter,
    stack: &'a str,
    /// Event ids already reported (or there before the deploy).
    seen: HashSet<String>,
    cluster: Option<String>,
    has_service: bool,
    deadline: Instant,
    pinned_task_definition: Option<String>,
    workload_args: Option<String>,
    creating: bool,
    /// The caller's record of the task definition the deploy rolled out, kept current.
    rolled_out: &'a mut Option<String>,
    /// When following began (seconds since the epoch): ECS deployments started since belong
    /// to this deploy.
    started: f64,
    stages: StageTracker,
    digest: Digest,
    stack_done: bool,
    /// (cluster, service name), once the stack has created or named it.
    service: Option<(String, String)>,
    /// The task definition the service must end on, once the stack is complete.
    expected_td: Option<String>,
    last_rollout: Option<(String, i32, i32, i32, i32)>,
    /// The service as last read, for the time-out's account of the rollout.
    last_view: Option<rollout::ServiceView>,
    stall: rollout::Stall,
    cancelled: bool,
    /// The SDK already retries each call; several failed polls in a row mean AWS cannot tell
    /// us how the deploy goes, and waiting for the deadline would only hide that.
    read_failures: u32,
}

impl<'a> Follower<'a> {
    fn new(
        aws: &'a Aws,
        target: Target<'a>,
        reporter: &'a dyn Reporter,
        rolled_out: &'a mut Option<String>,
    ) -> Follower<'a> {
        let Target {
            stack,
            seen,
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
        let digest = Digest {
            rolled_out: rolled_out.clone(),
            ..Digest::default()
        };
        Follower {
            aws,
            reporter,
            stack,
            seen,
            cluster,
            has_service,
            deadline,
            stages: StageTracker::new(stack, workload_args.clone()),
            pinned_task_definition,
            workload_args,
            creating,
            rolled_out,
            started,
            digest,
            stack_done: false,
            service: None,
            expected_td: None,
            last_rollout: None,
            last_view: None,
            stall: rollout::Stall::new(Instant::now()),
            cancelled: false,
            read_failures: 0,
        }
    }

    /// One round of reads: the stack's new events and state, then the service's deployment
    /// and rollout.
    async fn poll(&mut self) -> Step<bool> {
        let mut changed = false;
        if !self.stack_done {
            changed |= self.read_events().await?;
            self.read_stack().await?;
        }
        if self.stack_done && !self.has_service {
            return ControlFlow::Break(Ending::Succeeded);
        }
        self.locate_service().await?;
        let tracked = self.poll_stages().await?;
        if tracked {
            changed |= self.stages.changed;
        }
        changed |= self.poll_rollout(tracked).await?;
        ControlFlow::Continue(changed)
    }

    /// Reports the stack's new events; whether there were any.
    async fn read_events(&mut self) -> Step<bool> {
        match new_events(self.aws, self.stack, &mut self.seen).await {
            Ok(events) => {
                let changed = !events.is_empty();
                for e in events {
                    self.reporter.emit(self.digest.apply(self.stack, e));
                }
                if self.rolled_out.is_none() {
                    self.rolled_out.clone_from(&self.digest.rolled_out);
                }
                ControlFlow::Continue(changed)
            }
            Err(e) => {
                self.failed_read(e)?;
                ControlFlow::Continue(false)
            }
        }
    }

    /// Reads the stack's status: complete, still running, or how it ended.
    async fn read_stack(&mut self) -> Step {
        let stack = self.stack;
        match stack::describe(self.aws, stack).await {
            Ok(Some(info)) => {
                self.read_failures = 0;
                self.judge_stack(&info)
            }
            Ok(None) => ControlFlow::Break(Ending::Failed(format!(
                "{stack} disappeared while deploying: {}",
                root_cause(&self.digest.failures, None)
            ))),
            Err(e) => self.failed_read(e),
        }
    }

    fn judge_stack(&mut self, info: &stack::StackInfo) -> Step {
        let stack = self.stack;
        let cause = || root_cause(&self.digest.failures, info.reason.as_deref());
        match stack_events::stack_verdict(&info.status) {
            StackVerdict::Succeeded => {
                self.stack_done = true;
                ControlFlow::Continue(())
            }
            StackVerdict::RolledBack if self.cancelled => ControlFlow::Break(Ending::Interrupted(
                format!("the update was cancelled and {stack} rolled back"),
            )),
            StackVerdict::RolledBack => ControlFlow::Break(Ending::RolledBack(cause())),
            StackVerdict::Failed => ControlFlow::Break(Ending::Failed(format!(
                "{stack} is {}: {}",
                info.status,
                cause()
            ))),
            StackVerdict::Deleted => ControlFlow::Break(Ending::Failed(format!(
                "{stack} was deleted while deploying: {}",
                cause()
            ))),
            StackVerdict::Running => ControlFlow::Continue(()),
        }
    }

    /// Counts a failed read of the stack: reports it, or gives up after too many in a row.
    fn failed_read(&mut self, e: Error) -> Step {
        match failed_read(
            &mut self.read_failures,
            e.to_string(),
            self.stack,
            self.reporter,
        ) {
            Some(ending) => ControlFlow::Break(ending),
            None => ControlFlow::Continue(()),
        }
    }

    /// Finds the service and, once the stack is complete, the task definition it must end
    /// on. Blue/green, canary and linear deployments run while the stack is still updating
    /// (CloudFormation waits for them), so the service is looked up early.
    async fn locate_service(&mut self) -> Step {
        let stack = self.stack;
        if self.has_service && self.service.is_none() {
            if let Some(arn) = physical_id(self.aws, stack, "Service").await {
                self.service = split_service_arn(&arn)
                    .or_else(|| self.cluster.clone().map(|c| (c, arn.clone())));
            }
            if self.stack_done && self.service.is_none() {
                return ControlFlow::Break(Ending::Failed(format!(
                    "{stack} completed but its ECS service could not be found"
                )));
            }
        }
        if self.stack_done && self.expected_td.is_none() {
            self.expected_td = match &self.pinned_task_definition {
                Some(td) => Some(td.clone()),
                None => physical_id(self.aws, stack, "TaskDefinition").await,
            };
        }
        ControlFlow::Continue(())
    }

    /// Follows ECS's own record of the deployment; whether there is one (it then decides
    /// how the rollout ends).
    async fn poll_stages(&mut self) -> Step<bool> {
        let Some((cluster, name)) = &self.service else {
            return ControlFlow::Continue(false);
        };
        let progress = self
            .stages
            .poll(self.aws, cluster, name, self.started, self.reporter)
            .await;
        match progress {
            Some(lifecycle::Progress::Succeeded) if self.stack_done => {
                ControlFlow::Break(Ending::Succeeded)
            }
            Some(lifecycle::Progress::RolledBack(why)) => ControlFlow::Break(Ending::RolledBack(
                ecs_cause_for(self.aws, cluster, name, &why).await,
            )),
            Some(lifecycle::Progress::Failed(why)) => ControlFlow::Break(Ending::Failed(
                ecs_cause_for(self.aws, cluster, name, &why).await,
            )),
            Some(_) => ControlFlow::Continue(true),
            None => ControlFlow::Continue(false),
        }
    }

    /// Reads the service and reports its rollout of the revision this deploy rolls out, as
    /// soon as that is known: while CloudFormation waits for the service to stabilize (a
    /// rolling update keeps the stack updating until ECS is done), the rollout is followed and
    /// reported too, though only a complete stack can end the deploy. Whether it changed.
    async fn poll_rollout(&mut self, tracked: bool) -> Step<bool> {
        let ours = self
            .expected_td
            .clone()
            .or_else(|| self.pinned_task_definition.clone())
            .or_else(|| self.digest.rolled_out.clone());
        let Some((cluster, name)) = self
            .service
            .clone()
            .filter(|_| self.stack_done || ours.is_some())
        else {
            return ControlFlow::Continue(false);
        };
        let view = match self.aws.ecs.service(&cluster, &name).await {
            Ok(view) => view,
            Err(msg) => {
                self.reporter.emit(Event::Message {
                    stack: self.stack.to_string(),
                    text: msg.to_string(),
                });
                return ControlFlow::Continue(false);
            }
        };
        let changed = self
            .report_rollout(&cluster, &name, &view, ours.as_deref())
            .await;
        let assessed = self
            .stack_done
            .then(|| rollout::assess(&view, self.expected_td.as_deref()));
        self.last_view = Some(view.clone());
        let ending = match assessed {
            // ECS's own deployment record decides when there is one.
            _ if tracked => None,
            None | Some(Rollout::InProgress) => None,
            Some(Rollout::Completed) => Some(Ending::Succeeded),
            Some(Rollout::Failed(reason)) => Some(Ending::Failed(
                ecs_cause(self.aws, &cluster, &name, &view, &reason).await,
            )),
            Some(Rollout::RolledBack(reason)) => Some(Ending::RolledBack(
                ecs_cause(self.aws, &cluster, &name, &view, &reason).await,
            )),
        };
        match ending {
            Some(ending) => ControlFlow::Break(ending),
            None => ControlFlow::Continue(changed),
        }
    }

    /// Reports the primary deployment's counts when they changed, or that they have not
    /// changed for a while; whether they changed.
    async fn report_rollout(
        &mut self,
        cluster: &str,
        name: &str,
        view: &rollout::ServiceView,
        ours: Option<&str>,
    ) -> bool {
        let stack_done = self.stack_done;
        let primary = view.primary().filter(|p| {
            stack_done
                || ours.is_some_and(|td| rollout::same_task_definition(&p.task_definition, td))
        });
        let Some(p) = primary else {
            return false;
        };
        let state = p
            .rollout_state
            .clone()
            .unwrap_or_else(|| "IN_PROGRESS".into());
        let now = (state.clone(), p.desired, p.running, p.pending, p.failed);
        if self.last_rollout.as_ref() != Some(&now) {
            self.stall.progressed(Instant::now());
            self.reporter.emit(Event::Rollout {
                stack: self.stack.to_string(),
                service: view.name.clone(),
                state,
                desired: p.desired,
                running: p.running,
                pending: p.pending,
                failed: p.failed,
            });
            self.last_rollout = Some(now);
            return true;
        }
        if let Some(stalled) = self.stall.due(Instant::now()) {
            let latest = if p.failed > 0 {
                self.aws
                    .ecs
                    .stopped_reasons(cluster, name)
                    .await
                    .into_iter()
                    .next()
                    .map(|r| format!("; a stopped task: {r}"))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            self.reporter.emit(Event::Message {
                stack: self.stack.to_string(),
                text: format!(
                    "ECS service {}: no progress for {}: {} so far{latest}",
                    view.name,
                    rollout::duration_words(stalled),
                    rollout::progress_words(view)
                ),
            });
        }
        false
    }

    /// The deadline passed. A rollout under way is followed with tug's own commands (stack
    /// events cannot show it); a stack that never got to its service, with its events.
    async fn timed_out(&self) -> Ending {
        let stack = self.stack;
        let rolling = self
            .last_view
            .as_ref()
            .filter(|_| self.stack_done || self.last_rollout.is_some());
        Ending::TimedOut(match (rolling, &self.service, &self.workload_args) {
            (Some(view), Some((cluster, name)), Some(args)) => {
                let what = if self.stack_done {
                    "the ECS service had not finished rolling out when the deadline passed"
                } else {
                    "the ECS service had not finished rolling out (and the stack waits for it) when the deadline passed"
                };
                let stopped = self.aws.ecs.stopped_reasons(cluster, name).await;
                rollout::timeout_report(what, Some(view), &stopped, args)
            }
            _ => format!(
                "the stack had not finished when the deadline passed; it goes on in AWS: follow it with `aws cloudformation describe-stack-events --stack-name {stack}`"
            ),
        })
    }

    /// Ctrl-C: a creation is left to go on (it cannot be cancelled); an update is cancelled
    /// once, and its rollback followed; a complete stack's rollout is left to go on.
    async fn interrupted(&mut self) -> Option<Ending> {
        let stack = self.stack;
        if self.creating && !self.stack_done {
            return Some(Ending::Interrupted(format!(
                "interrupted while {stack} was being created; CloudFormation goes on creating it (a creation cannot be cancelled): follow it with `aws cloudformation describe-stack-events --stack-name {stack}`"
            )));
        }
        if self.stack_done {
            return Some(Ending::Interrupted(format!(
                "stopped watching; the ECS rollout of {stack} goes on in AWS"
            )));
        }
        if !self.cancelled {
            self.cancelled = true;
            let text = match self
                .aws
                .cfn
                .cancel_update_stack()
                .stack_name(stack)
                .client_request_token(crate::deploy::aws::request_token())
                .send()
                .await
            {
                Ok(_) => "interrupted: cancelling the update; following the rollback (Ctrl-C again to stop watching)".to_string(),
                Err(e) => format!(
                    "interrupted, but the update could not be cancelled ({}); it goes on in AWS (Ctrl-C again to stop watching)",
                    describe_error(&e)
                ),
            };
            self.reporter.emit(Event::Message {
                stack: stack.to_string(),
                text,
            });
        }
        None
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
