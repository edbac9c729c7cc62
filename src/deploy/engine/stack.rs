//! One stack's deploy: wait for the stack to be free, refuse it if tug does not own it, stop
//! early when nothing changes, create a change set, have it approved, execute it and follow it
//! to the end, and record the revision it rolled out.

use std::collections::HashSet;
use std::time::Instant;

use super::deployed::{self, Deployed, FRESH};
use super::in_flight::{InFlight, undo_command};
use super::outcome::outcome_of;
use super::review::{self, Review};
use super::{Outcome, Session, StackContext, deployment_strategy, interrupted, workload_args};
use crate::deploy::aws::Aws;
use crate::deploy::changeset::{self, Prepared};
use crate::deploy::events::{Event, Reporter};
use crate::deploy::ownership;
use crate::deploy::revisions;
use crate::deploy::stack::{self, Phase};
use crate::deploy::watch::{Target, current_event_ids, follow};
use crate::error::{Error, Result};
use crate::render::RenderedStack;

/// Deploys one rendered stack with the given parameter values: wait for the stack to be
/// free, refuse it if tug does not own it, stop early when nothing changes, create a change
/// set, have it approved (traffic, destruction, `--diff`), execute it and follow it to the end.
pub async fn deploy_stack(
    session: &Session,
    rendered: &RenderedStack,
    parameters: &[(String, String)],
    context: StackContext,
) -> Outcome {
    let (aws, reporter) = (&session.aws, session.reporter.as_ref());
    let StackContext {
        cluster,
        known,
        topics_ready,
    } = context;
    let name = rendered.stack_name.as_str();
    let deadline = Instant::now() + session.opts.timeout;
    if interrupted(&session.interrupts) {
        return Outcome::Interrupted(format!(
            "not started: interrupted before {name} was touched"
        ));
    }
    let ready = match ready(aws, rendered, known, deadline, reporter).await {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    let adopted = match adoption(aws, rendered, &ready).await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e),
    };
    let run = Run {
        session,
        rendered: adopted.as_ref().unwrap_or(rendered),
        parameters,
        cluster,
        deadline,
        creating: ready.creating,
    };
    // What is deployed already is what would be deployed: no change set (which takes
    // CloudFormation seconds to compute) is needed to know there is nothing to do.
    if !ready.creating
        && let Some(info) = &ready.existing
        && deployed::already_deployed(
            aws,
            run.rendered,
            parameters,
            info,
            ready.template.as_deref(),
        )
        .await
    {
        topics_ready.send(true);
        return run.unchanged(ready.resources).await;
    }
    let seen = current_event_ids(aws, name).await;
    if interrupted(&session.interrupts) {
        return untouched(name, ready.creating, aws, deadline).await;
    }
    let existing = ready.existing.as_ref().filter(|_| !ready.creating);
    match run.approved_change_set(existing).await {
        Ok(Some(id)) => run.execute(&id, seen).await,
        Ok(None) => {
            topics_ready.send(true);
            run.unchanged(ready.resources).await
        }
        Err(outcome) => outcome,
    }
}

/// A stack taken over from Copilot keeps, on every deploy, what its adoption kept; a new one
/// in an adopted environment gets listener rule priorities no Copilot rule holds. `None`:
/// the stack deploys as rendered.
async fn adoption(
    aws: &Aws,
    rendered: &RenderedStack,
    ready: &Ready,
) -> Result<Option<RenderedStack>> {
    Ok(match &ready.existing {
        _ if ready.creating => crate::deploy::adopt::priorities::free(aws, rendered).await?,
        Some(info) => {
            crate::deploy::adopt::keep_adopted(aws, rendered, info, ready.template.as_deref()).await
        }
        None => None,
    })
}

/// One stack's deploy once the stack is ready for a change set.
struct Run<'a> {
    session: &'a Session,
    rendered: &'a RenderedStack,
    parameters: &'a [(String, String)],
    /// The environment's cluster, when known.
    cluster: Option<String>,
    deadline: Instant,
    /// Whether the change set creates the stack.
    creating: bool,
}

impl Run<'_> {
    fn name(&self) -> &str {
        &self.rendered.stack_name
    }

    /// The ending of a stack with nothing to change (see [`deployed::unchanged`]).
    async fn unchanged(self, resources: Option<Vec<stack::Resource>>) -> Outcome {
        let session = self.session;
        deployed::unchanged(
            &session.aws,
            self.rendered,
            self.cluster,
            resources,
            self.deadline,
            session.reporter.as_ref(),
            session.interrupts.clone(),
        )
        .await
    }

    /// Creates the change set and has it approved: its id, `None` when it holds no change.
    /// `Err` is how the deploy ends instead (the change set discarded, nothing changed).
    async fn approved_change_set(
        &self,
        existing: Option<&stack::StackInfo>,
    ) -> Result<Option<String>, Outcome> {
        let Session {
            aws,
            opts,
            confirm,
            reporter,
            interrupts,
        } = self.session;
        let (name, creating, deadline) = (self.name(), self.creating, self.deadline);
        let prepared = changeset::prepare(aws, self.rendered, self.parameters, creating, deadline)
            .await
            .map_err(Outcome::Failed)?;
        let (id, changes) = match prepared {
            Prepared::Empty => return Ok(None),
            Prepared::Ready { id, changes, .. } => (id, changes),
        };
        let review = Review {
            rendered: self.rendered,
            parameters: self.parameters,
            existing,
            changes: &changes,
        };
        if let Err(outcome) = review::approve(aws, &review, opts, confirm, reporter.as_ref()).await
        {
            discard(aws, name, &id, creating, deadline).await;
            return Err(outcome);
        }
        // The last moment to stop without changing anything.
        if interrupted(interrupts) {
            discard(aws, name, &id, creating, deadline).await;
            return Err(Outcome::Interrupted(format!(
                "interrupted before its change set was executed; {name} is unchanged"
            )));
        }
        Ok(Some(id))
    }

    /// Executes the change set and follows it to its end (unless `--detach`). `seen`: the
    /// stack's events from before this deploy.
    async fn execute(&self, id: &str, seen: HashSet<String>) -> Outcome {
        let Session {
            aws,
            opts,
            reporter,
            interrupts,
            ..
        } = self.session;
        let (name, rendered, creating) = (self.name(), self.rendered, self.creating);
        reporter.emit(Event::Started {
            stack: name.into(),
            action: if creating { "create" } else { "update" }.into(),
        });
        let _in_flight = InFlight::register(rendered, creating);
        if let Err(e) = changeset::execute(aws, name, id).await {
            return Outcome::Failed(e);
        }
        if opts.detach {
            return Outcome::Detached;
        }
        let has_service = rendered.template.contains("AWS::ECS::Service");
        let pinned = self
            .parameters
            .iter()
            .find(|(k, v)| {
                k == crate::render::workload::ROLLBACK_PARAMETER
                    && v != crate::render::workload::NO_ROLLBACK
            })
            .map(|(_, v)| v.clone());
        let mut rolled_out: Option<String> = None;
        let ending = follow(
            aws,
            Target {
                stack: name,
                seen,
                cluster: self.cluster.clone(),
                has_service,
                deadline: self.deadline,
                pinned_task_definition: pinned.clone(),
                workload_args: workload_args(rendered),
                creating,
            },
            reporter.as_ref(),
            interrupts.clone(),
            &mut rolled_out,
        )
        .await;
        let outcome = match outcome_of(ending) {
            // Ctrl-C came too late to cancel: the update went through. Said so, and still
            // exit 130, as for every interrupted deploy.
            Outcome::Deployed if interrupted(interrupts) => Outcome::Interrupted(format!(
                "interrupted, but the update of {name} had gone too far to be cancelled and completed"
            )),
            Outcome::Interrupted(why) if creating => {
                Outcome::Interrupted(format!("{why}; to undo: {}", undo_command(rendered, true)))
            }
            other => other,
        };
        // Without resource events (an emulator), a successful deploy's revision is the
        // stack's.
        if rolled_out.is_none() && outcome == Outcome::Deployed && has_service {
            rolled_out = crate::deploy::watch::physical_id(aws, name, "TaskDefinition").await;
        }
        if let Some(td) = pinned.or(rolled_out) {
            self.record(&td, &outcome).await;
        }
        outcome
    }

    /// The revision this deploy rolled out (a new one, or the one a rollback pins) carries
    /// how the deploy ended, for `tug history` and `tug svc rollback`.
    async fn record(&self, task_definition: &str, outcome: &Outcome) {
        let strategy = deployment_strategy(&self.rendered.template);
        let aws = &self.session.aws;
        if let Err(e) = revisions::record(aws, task_definition, outcome.label(), strategy).await {
            self.session.reporter.emit(Event::Message {
                stack: self.name().into(),
                text: format!("warning: {e}"),
            });
        }
    }
}

/// A stack ready for a change set: as deployed (`None`: not yet), whether the change set
/// creates it, and its deployed template when already read.
struct Ready {
    existing: Option<stack::StackInfo>,
    creating: bool,
    template: Option<String>,
    resources: Option<Vec<stack::Resource>>,
}

/// Reads the stack (or takes the read made with every stack of the deploy), waits while
/// another operation runs on it, refuses it when tug does not own it, and clears what a
/// failed first deploy left (a stack that never got created).
async fn ready(
    aws: &Aws,
    rendered: &RenderedStack,
    known: Option<Deployed>,
    deadline: Instant,
    reporter: &dyn Reporter,
) -> Result<Ready, Outcome> {
    let name = rendered.stack_name.as_str();
    let (known_info, template, resources) = match known {
        Some(Deployed {
            info,
            template,
            resources,
            read_at,
        }) if read_at.elapsed() < FRESH
            && info
                .as_ref()
                .is_none_or(|i| stack::phase(&i.status) != Phase::Busy) =>
        {
            (Some(info), template, resources)
        }
        _ => (None, None, None),
    };
    let existing = match known_info {
        Some(info) => info,
        None => stack::wait_until_idle(aws, name, deadline, |status| {
            reporter.emit(Event::Waiting {
                stack: name.into(),
                reason: format!("the stack is {status}; waiting for that operation to finish"),
            })
        })
        .await
        .map_err(Outcome::Failed)?,
    };
    // Before anything else touches the stack (even deleting a failed create): a stack of this
    // name that tug does not own is never changed.
    let app = rendered
        .tags
        .get(ownership::APP_TAG)
        .map_or("", String::as_str);
    if let Some(info) = &existing
        && let Some(why) = ownership::check(info, name, app, "deploy to")
    {
        return Err(Outcome::Failed(why));
    }
    let status = existing.as_ref().map_or("", |s| s.status.as_str());
    let creating = match existing.as_ref().map(|s| stack::phase(&s.status)) {
        None | Some(Phase::Missing) => true,
        Some(Phase::Review) => {
            // A change set was created and never executed: the stack holds nothing. Start
            // over rather than stack a second change set on it.
            stack::delete_and_wait(aws, name, deadline)
                .await
                .map_err(Outcome::Failed)?;
            true
        }
        Some(Phase::FailedCreate) => {
            reporter.emit(Event::Message {
                stack: name.into(),
                text: format!(
                    "the stack never finished creating ({status}); deleting it to start over"
                ),
            });
            stack::delete_and_wait(aws, name, deadline)
                .await
                .map_err(Outcome::Failed)?;
            true
        }
        Some(Phase::Stuck) => {
            return Err(Outcome::Failed(
                Error::failure(format!("stack {name} is {status} and needs a person"))
                    .help(format!("continue or skip the rollback in the CloudFormation console (or `aws cloudformation continue-update-rollback --stack-name {name}`), then deploy again"))
                    .about(name),
            ));
        }
        Some(Phase::Busy) => return Err(Outcome::failure(format!("stack {name} is still busy"))),
        Some(Phase::Stable) | Some(Phase::RolledBack) => false,
    };
    Ok(Ready {
        existing,
        creating,
        template,
        resources,
    })
}

/// The end of a deploy interrupted before its change set existed. A stack that only existed
/// for this deploy (`REVIEW_IN_PROGRESS` after a failed create was cleaned up) holds nothing.
async fn untouched(name: &str, creating: bool, aws: &Aws, deadline: Instant) -> Outcome {
    if creating
        && let Ok(Some(info)) = stack::describe(aws, name).await
        && stack::phase(&info.status) == Phase::Review
    {
        let _ = stack::delete_and_wait(aws, name, deadline).await;
    }
    Outcome::Interrupted(format!(
        "interrupted before its change set was created; {name} is unchanged"
    ))
}

/// Drops a change set that will not run; for a stack that only existed for it, the stack too.
async fn discard(aws: &Aws, name: &str, id: &str, creating: bool, deadline: Instant) {
    changeset::discard(aws, name, id).await;
    if creating {
        let _ = stack::delete_and_wait(aws, name, deadline).await;
    }
}
