//! Carrying out an adoption plan, stack by stack (the environment first):
//!
//! 1. **Retain**: the deployed template, unchanged but for `DeletionPolicy` and
//!    `UpdateReplacePolicy: Retain` on Copilot's custom resources, their Lambda functions and
//!    roles. CloudFormation does not call a retained custom resource's Delete handler, so
//!    dropping `EnvControllerAction` later cannot take the workload out of the environment
//!    (which, for the last user, deletes the load balancer or NAT gateways).
//! 2. **Switch**: tug's adoption render, through a change set reviewed against the plan
//!    (no stateful resource replaced or removed) before it runs.
//! 3. **Left behind**: the retained Lambda functions, roles and log groups, listed with the
//!    commands that delete them.
//!
//! Ctrl-C is looked at between phases and stacks: a stack is always left either Copilot's,
//! retained (phase 1 done) or adopted, and re-running `tug adopt` goes on from there.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::deploy::adopt::computed;
use crate::deploy::adopt::plan::{Plan, StackPlan, State, Work};
use crate::deploy::adopt::template::{self, Known};
use crate::deploy::aws::Aws;
use crate::deploy::changeset::{self, Prepared, ResourceChange};
use crate::deploy::events::{Event, Reporter};
use crate::deploy::replacement::{self, Hazard, Sides};
use crate::deploy::stack;
use crate::deploy::watch::{Ending, Target, current_event_ids, follow};
use crate::error::Error;
use crate::render::RenderedStack;

/// How one stack's adoption ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Outcome {
    /// Adopted by this run.
    Adopted,
    /// Adopted before: skipped.
    AlreadyAdopted,
    /// The plan or the change set would replace or remove a stateful resource.
    Stopped(#[serde(serialize_with = "as_text")] Error),
    Failed(#[serde(serialize_with = "as_text")] Error),
    /// Ctrl-C: where the stack was left.
    Interrupted(String),
    /// Not started because an earlier stack did not get adopted.
    NotStarted(String),
}

/// An error in JSON: its whole text, message and help line, as every outcome's detail.
fn as_text<S: serde::Serializer>(e: &Error, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}

/// The result of one stack.
#[derive(Debug, Clone, Serialize)]
pub struct StackResult {
    pub stack: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Retained Lambda functions, roles and log groups to delete: (what, physical id).
    pub left_behind: Vec<(String, String)>,
}

/// Adopts every stack of the plan in order. The environment comes first; when it is not
/// adopted, no workload is started.
pub async fn run(
    aws: &Aws,
    plan: &Plan,
    timeout: Duration,
    reporter: &dyn Reporter,
    interrupts: watch::Receiver<u32>,
) -> Vec<StackResult> {
    let mut results: Vec<StackResult> = Vec::new();
    let mut cluster: Option<String> = None;
    for sp in &plan.stacks {
        let blocked = results
            .first()
            .filter(|r| !matches!(r.outcome, Outcome::Adopted | Outcome::AlreadyAdopted))
            .map(|r| r.stack.clone());
        let outcome = if let Some(env) = blocked.filter(|_| sp.workload.is_some()) {
            (
                Outcome::NotStarted(format!(
                    "not started: the environment stack {env} was not adopted"
                )),
                Vec::new(),
            )
        } else if *interrupts.borrow() >= 1 {
            (
                Outcome::Interrupted(format!(
                    "not started: interrupted before {} was touched; it is still Copilot's",
                    sp.stack
                )),
                Vec::new(),
            )
        } else {
            if sp.workload.is_some() && cluster.is_none() {
                cluster = environment_cluster(aws, plan).await;
            }
            let stage = Stage {
                aws,
                deadline: Instant::now() + timeout,
                reporter,
                interrupts: interrupts.clone(),
                cluster: cluster.clone(),
            };
            adopt_stack(&stage, sp).await
        };
        reporter.emit(Event::Finished {
            stack: sp.stack.clone(),
            outcome: label(&outcome.0).into(),
            seconds: 0.0,
            detail: detail(&outcome.0),
        });
        results.push(StackResult {
            stack: sp.stack.clone(),
            outcome: outcome.0,
            left_behind: outcome.1,
        });
    }
    results
}

/// The environment's cluster (its `ClusterId` output, Copilot's and tug's): where a workload's
/// service is looked for when its ARN is in ECS's old format, which names no cluster.
async fn environment_cluster(aws: &Aws, plan: &Plan) -> Option<String> {
    let env = plan.stacks.iter().find(|s| s.workload.is_none())?;
    let info = stack::describe(aws, &env.stack).await.ok()??;
    info.output("ClusterId").map(str::to_string)
}

/// What every step of one stack's adoption works with.
struct Stage<'a> {
    aws: &'a Aws,
    deadline: Instant,
    reporter: &'a dyn Reporter,
    interrupts: watch::Receiver<u32>,
    /// The environment's cluster, for a workload stack.
    cluster: Option<String>,
}

impl Stage<'_> {
    fn interrupted(&self) -> bool {
        *self.interrupts.borrow() >= 1
    }
}

pub fn label(o: &Outcome) -> &'static str {
    match o {
        Outcome::Adopted => "adopted",
        Outcome::AlreadyAdopted => "already adopted",
        Outcome::Stopped(_) => "stopped",
        Outcome::Failed(_) => "failed",
        Outcome::Interrupted(_) => "interrupted",
        Outcome::NotStarted(_) => "not started",
    }
}

/// The error a stack's adoption ended with (`None`: adopted, or not tried).
pub fn error(o: &Outcome) -> Option<&Error> {
    match o {
        Outcome::Stopped(e) | Outcome::Failed(e) => Some(e),
        _ => None,
    }
}

/// What there is to say about an outcome, as one text (message and help line).
pub fn detail(o: &Outcome) -> Option<String> {
    match o {
        Outcome::Interrupted(d) | Outcome::NotStarted(d) => Some(d.clone()),
        other => error(other).map(Error::to_string),
    }
}

type Left = Vec<(String, String)>;

async fn adopt_stack(stage: &Stage<'_>, sp: &StackPlan) -> (Outcome, Left) {
    let Stage { aws, reporter, .. } = *stage;
    let name = sp.stack.as_str();
    let Some(work) = sp.work.as_ref().filter(|_| sp.state != State::Adopted) else {
        return (Outcome::AlreadyAdopted, Vec::new());
    };
    if !sp.stops.is_empty() {
        return (Outcome::Stopped(stop_error(name, &sp.stops)), Vec::new());
    }
    // The physical ids of what is left behind, read while the stack still names them.
    let physical: BTreeMap<String, String> = match stack::resources(aws, name).await {
        Ok(r) => r
            .into_iter()
            .filter_map(|r| r.physical_id.map(|p| (r.logical_id, p)))
            .collect(),
        Err(e) => return (Outcome::Failed(e), Vec::new()),
    };
    if sp.state == State::Copilot && (!sp.retained.is_empty() || !sp.pinned.is_empty()) {
        reporter.emit(Event::Started {
            stack: name.into(),
            action: "retain Copilot's custom resources (adoption phase 1)".into(),
        });
        if let Err(o) = retain(stage, sp, work).await {
            return (o, Vec::new());
        }
        if stage.interrupted() {
            return (
                Outcome::Interrupted(format!(
                    "interrupted after phase 1: {name} is still Copilot's, half adopted (custom resources retained, feature parameters pinned); run `tug adopt` again to finish"
                )),
                Vec::new(),
            );
        }
    }
    reporter.emit(Event::Started {
        stack: name.into(),
        action: "switch to tug's template (adoption phase 2)".into(),
    });
    if let Err(o) = switch(stage, sp, work).await {
        return (o, Vec::new());
    }
    (Outcome::Adopted, left_behind(sp, work, &physical))
}

/// Phase 1: the deployed template with the custom resources retained.
async fn retain(stage: &Stage<'_>, sp: &StackPlan, work: &Work) -> Result<(), Outcome> {
    let Stage { aws, deadline, .. } = *stage;
    let name = sp.stack.as_str();
    let (t, _) = phase_one(
        &work.deployed,
        &sp.retained,
        &work.deployed_parameters,
        name,
    );
    let stack = RenderedStack {
        stack_name: name.to_string(),
        workload: sp.workload.clone(),
        template: serde_json::to_string(&t).unwrap_or_default(),
        parameters: BTreeMap::new(),
        // Copilot's tags, unchanged: the stack stays Copilot's until phase 2.
        tags: work.info.tags.iter().cloned().collect(),
    };
    let params: Vec<(String, String)> = work.info.parameters.clone();
    let (id, changes) = match changeset::prepare(aws, &stack, &params, false, deadline).await {
        Ok(Prepared::Ready { id, changes, .. }) => (id, changes),
        Ok(Prepared::Empty) => {
            return Err(Outcome::Failed(Error::failure(format!(
                "CloudFormation saw no change in retaining the custom resources of {name}; nothing was changed"
            ))));
        }
        Err(e) => return Err(Outcome::Failed(e)),
    };
    // Reviewed against the plan: only the retained resources may change, and none of them
    // may be replaced.
    let unexpected: Vec<&ResourceChange> = changes
        .iter()
        .filter(|c| {
            let marker = c.logical_id == PHASE_ONE_RESOURCE && c.action == "Add";
            !marker
                && (!sp.retained.contains(&c.logical_id)
                    || c.action != "Modify"
                    || c.replacement.as_deref() == Some("True"))
        })
        .collect();
    if !unexpected.is_empty() {
        changeset::discard(aws, name, &id).await;
        return Err(Outcome::Stopped(Error::failure(format!(
            "retaining the custom resources of {name} would also change {}; nothing was changed",
            unexpected
                .iter()
                .map(|c| format!("{} ({} {})", c.logical_id, c.action, c.resource_type))
                .collect::<Vec<_>>()
                .join(", ")
        ))));
    }
    if stage.interrupted() {
        changeset::discard(aws, name, &id).await;
        return Err(Outcome::Interrupted(format!(
            "interrupted before phase 1: {name} is still Copilot's, unchanged; run `tug adopt` again to adopt it"
        )));
    }
    execute_and_follow(stage, name, &id, false).await
}

/// The template marker of a stack whose phase 1 is done.
pub const PHASE_ONE_MARKER: &str = "tug:adoption-phase";

/// The resource phase 1 adds (a wait condition handle: nothing runs, nothing is billed).
pub const PHASE_ONE_RESOURCE: &str = "TugAdoptionPhaseOne";

/// Phase 1's template: the deployed one with `DeletionPolicy` and `UpdateReplacePolicy:
/// Retain` on the custom resources, functions and roles of `retained`, and the environment's
/// feature parameters written into its conditions (see `computed::pin_features`), marked as
/// half adopted (template metadata and [`PHASE_ONE_RESOURCE`]). Also returns the conditions
/// pinned.
pub fn phase_one(
    deployed: &Value,
    retained: &[String],
    parameters: &BTreeMap<String, String>,
    stack_name: &str,
) -> (Value, Vec<String>) {
    let mut t = deployed.clone();
    for id in retained {
        if let Some(r) = t
            .pointer_mut(&format!("/Resources/{id}"))
            .and_then(Value::as_object_mut)
        {
            r.insert("DeletionPolicy".into(), json!("Retain"));
            r.insert("UpdateReplacePolicy".into(), json!("Retain"));
        }
    }
    let pinned = computed::pin_features(&mut t, parameters, stack_name);
    // CloudFormation does not run an update that only changes policies, conditions or
    // metadata ("No updates are to be performed"): a resource that does nothing is added,
    // and goes again with the switch.
    if let Some(resources) = t.get_mut("Resources").and_then(Value::as_object_mut) {
        resources.insert(
            PHASE_ONE_RESOURCE.into(),
            json!({
                "Type": "AWS::CloudFormation::WaitConditionHandle",
                "Metadata": {"tug:adoption": "marks phase 1 of tug adopt; removed by phase 2"},
            }),
        );
    }
    if let Some(top) = t.as_object_mut() {
        let meta = top.entry("Metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert(
                PHASE_ONE_MARKER.into(),
                json!("half adopted by tug: custom resources retained, feature parameters pinned; `tug adopt` finishes it"),
            );
        }
    }
    (t, pinned)
}

/// Phase 2: tug's adoption render.
async fn switch(stage: &Stage<'_>, sp: &StackPlan, work: &Work) -> Result<(), Outcome> {
    let Stage {
        aws,
        deadline,
        reporter,
        ..
    } = *stage;
    let name = sp.stack.as_str();
    let (id, changes) =
        match changeset::prepare(aws, &work.adopted, &work.parameters, false, deadline).await {
            Ok(Prepared::Ready { id, changes, .. }) => (id, changes),
            Ok(Prepared::Empty) => return Ok(()),
            Err(e) => return Err(Outcome::Failed(e)),
        };
    reporter.emit(Event::ChangeSet {
        stack: name.into(),
        changes: changes.clone(),
        destructive: Vec::new(),
    });
    // Reviewed against the plan: CloudFormation's answer (or the schema where it gives none)
    // must replace or remove no stateful resource.
    let hazards = review(work, name, &changes);
    if !hazards.is_empty() {
        changeset::discard(aws, name, &id).await;
        return Err(Outcome::Stopped(stop_error(name, &hazards)));
    }
    if stage.interrupted() {
        changeset::discard(aws, name, &id).await;
        let half = sp.state == State::Retained || !sp.retained.is_empty() || !sp.pinned.is_empty();
        return Err(Outcome::Interrupted(format!(
            "interrupted before the switch: {name} is still Copilot's{}; run `tug adopt` again to finish",
            if half {
                ", half adopted (phase 1 done: custom resources retained, feature parameters pinned)"
            } else {
                ", unchanged"
            }
        )));
    }
    let has_service = work.adopted.template.contains("AWS::ECS::Service");
    execute_and_follow(stage, name, &id, has_service).await?;
    if has_service {
        record_revision(aws, name, &work.adopted.template, reporter).await;
    }
    Ok(())
}

/// Tags the task definition revision the switch rolled out as deployed, as every deploy does,
/// so that `tug svc rollback` after the next deploy goes back to it (rollback picks the newest
/// earlier revision recorded as deployed).
async fn record_revision(aws: &Aws, name: &str, template: &str, reporter: &dyn Reporter) {
    let Some(td) = crate::deploy::watch::physical_id(aws, name, "TaskDefinition").await else {
        return;
    };
    let strategy = crate::deploy::engine::deployment_strategy(template);
    if let Err(e) = crate::deploy::revisions::record(
        aws,
        &td,
        crate::deploy::engine::Outcome::Deployed.label(),
        strategy,
    )
    .await
    {
        reporter.emit(Event::Message {
            stack: name.into(),
            text: format!("warning: {e}"),
        });
    }
}

/// The destructive changes of the switch's change set.
fn review(work: &Work, name: &str, changes: &[ResourceChange]) -> Vec<Hazard> {
    let before = template::evaluate(
        &work.deployed,
        &Known {
            parameters: &work.deployed_parameters,
            stack_name: name,
        },
    );
    let new_params: BTreeMap<String, String> = work.parameters.iter().cloned().collect();
    let after = template::parse(&work.adopted.template)
        .map(|t| {
            template::evaluate(
                &t,
                &Known {
                    parameters: &new_params,
                    stack_name: name,
                },
            )
        })
        .unwrap_or_default();
    let empty = BTreeMap::new();
    replacement::assess(
        changes,
        &Sides {
            before: &before,
            after: &after,
            old_parameters: &empty,
            new_parameters: &empty,
        },
    )
    .into_iter()
    // Removing what a false condition never created destroys nothing (an emulator lists it).
    .filter(|h| h.harm != replacement::Harm::Remove || work.existing.contains(&h.logical_id))
    .collect()
}

async fn execute_and_follow(
    stage: &Stage<'_>,
    name: &str,
    id: &str,
    has_service: bool,
) -> Result<(), Outcome> {
    let Stage {
        aws,
        deadline,
        reporter,
        ..
    } = *stage;
    let seen = current_event_ids(aws, name).await;
    changeset::execute(aws, name, id)
        .await
        .map_err(Outcome::Failed)?;
    let ending = follow(
        aws,
        Target {
            stack: name,
            seen,
            cluster: stage.cluster.clone(),
            has_service,
            deadline,
            pinned_task_definition: None,
            workload_args: None,
            creating: false,
        },
        reporter,
        stage.interrupts.clone(),
        &mut None,
    )
    .await;
    match ending {
        Ending::Succeeded => Ok(()),
        Ending::Failed(d) | Ending::TimedOut(d) => Err(Outcome::Failed(Error::failure(d))),
        Ending::RolledBack(d) => Err(Outcome::Failed(Error::failure(format!(
            "{d}; the update was rolled back and {name} is as it was"
        )))),
        Ending::Interrupted(d) => {
            // Ctrl-C after CloudFormation had finished (only an ECS rollout was being
            // watched) leaves the update done; otherwise it was cancelled and rolled back.
            let done = matches!(
                stack::describe(aws, name).await,
                Ok(Some(info)) if info.status == "UPDATE_COMPLETE"
            );
            Err(Outcome::Interrupted(if done {
                format!("{d}; this update of {name} had completed; run `tug adopt` again to go on")
            } else {
                format!(
                    "{d}; {name} is as it was before this update; run `tug adopt` again to go on"
                )
            }))
        }
    }
}

fn stop_error(name: &str, hazards: &[Hazard]) -> Error {
    Error::failure(replacement::listing(
        &format!("adoption of {name} stopped: it would replace or remove"),
        "state",
        "; nothing was changed",
        hazards,
    ))
}

/// The retained Lambda functions and roles (and the functions' log groups), by physical id.
fn left_behind(sp: &StackPlan, work: &Work, physical: &BTreeMap<String, String>) -> Left {
    let mut out = Vec::new();
    for id in &sp.retained {
        let t = work
            .deployed
            .pointer(&format!("/Resources/{id}/Type"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(p) = physical.get(id) else { continue };
        match t {
            "AWS::Lambda::Function" => {
                out.push(("Lambda function".to_string(), p.clone()));
                out.push(("log group".to_string(), format!("/aws/lambda/{p}")));
            }
            "AWS::IAM::Role" => out.push(("IAM role".to_string(), p.clone())),
            _ => {}
        }
    }
    out
}
