//! The deploy engine: one stack (wait for the stack to be free, create a change set, show the
//! diff and ask, execute, follow), and `tug deploy` (the environment first, then the workloads
//! concurrently with a bounded pool).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Semaphore, watch};

use crate::deploy::artifacts;
use crate::deploy::aws::Aws;
use crate::deploy::changeset::{self, Prepared};
use crate::deploy::events::{Event, Reporter};
use crate::deploy::images::{self, ImageOptions};
use crate::deploy::imported_alb;
use crate::deploy::lookup;
use crate::deploy::ownership;
use crate::deploy::replacement::{self, Hazard};
use crate::deploy::revisions;
use crate::deploy::rollout::RolloutSource;
use crate::deploy::stack::{self, Phase};
use crate::deploy::watch::{Ending, Target, current_event_ids, follow};
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::load::{Loaded, ResolvedWorkload};
use crate::manifest::union::ScalarOr;
use crate::manifest::workspace::Workspace;
use crate::render::{self, RenderedStack};

/// How a stack's deploy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Deployed,
    NoChanges,
    /// `--detach`: execution started; the deploy goes on in AWS.
    Detached,
    /// `--diff` was declined.
    Declined,
    Failed(String),
    RolledBack(String),
    TimedOut(String),
    Interrupted(String),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Deployed => "deployed",
            Outcome::NoChanges => "no changes",
            Outcome::Detached => "detached",
            Outcome::Declined => "declined",
            Outcome::Failed(_) => "failed",
            Outcome::RolledBack(_) => "rolled back",
            Outcome::TimedOut(_) => "timed out",
            Outcome::Interrupted(_) => "interrupted",
        }
    }

    /// A failure as its whole text (message and help line), as every outcome's detail is.
    pub(crate) fn failed(e: Error) -> Outcome {
        Outcome::Failed(e.to_string())
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            Outcome::Failed(d)
            | Outcome::RolledBack(d)
            | Outcome::TimedOut(d)
            | Outcome::Interrupted(d) => Some(d),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Deployed | Outcome::NoChanges | Outcome::Detached | Outcome::Declined => {
                exit::SUCCESS
            }
            Outcome::Failed(_) | Outcome::TimedOut(_) => exit::FAILURE,
            Outcome::RolledBack(_) => exit::ROLLED_BACK,
            Outcome::Interrupted(_) => exit::INTERRUPTED,
        }
    }

    /// Which of two outcomes decides the exit code: interrupted, then rolled back, then failed.
    fn severity(&self) -> u8 {
        match self.exit_code() {
            exit::INTERRUPTED => 3,
            exit::ROLLED_BACK => 2,
            exit::FAILURE => 1,
            _ => 0,
        }
    }
}

/// The exit code for several outcomes: the worst one.
pub fn worst_exit_code<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> u8 {
    outcomes
        .into_iter()
        .max_by_key(|o| o.severity())
        .map_or(exit::SUCCESS, Outcome::exit_code)
}

/// Options of a deploy.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub timeout: Duration,
    pub detach: bool,
    pub diff: bool,
    pub yes: bool,
    /// Consent to replacing or removing resources that hold state (`--allow-replacements`);
    /// `yes` never gives it.
    pub allow_replacements: bool,
    pub interactive: bool,
    pub images: ImageOptions,
    pub concurrency: usize,
}

/// Fixed parameter values per workload (workload name → parameter → value), used as given:
/// an overridden image is neither built nor looked up. `tug promote` deploys the digests
/// running in another environment this way (see [`deploy_with_overrides`]).
pub type Overrides = BTreeMap<String, BTreeMap<String, String>>;

/// Asks whether to go on after a diff; `None` when no one can be asked.
pub type Confirm = Arc<dyn Fn(&str) -> Option<bool> + Send + Sync>;

/// What a deploy runs with, whatever it deploys: the AWS clients, the options, who approves
/// a diff, where progress goes, and how many times Ctrl-C was pressed. Cheap to clone: each
/// workload of a deploy runs with its own copy.
#[derive(Clone)]
pub struct Session {
    pub aws: Aws,
    pub opts: DeployOptions,
    pub confirm: Confirm,
    pub reporter: Arc<dyn Reporter>,
    pub interrupts: watch::Receiver<u32>,
}

/// Deploys one rendered stack with the given parameter values: wait for the stack to be
/// free, refuse it if tug does not own it, stop early when nothing changes, create a change
/// set, have it approved (traffic, destruction, `--diff`), execute it and follow it to the end.
pub async fn deploy_stack(
    session: &Session,
    rendered: &RenderedStack,
    parameters: &[(String, String)],
    context: StackContext,
) -> Outcome {
    let Session {
        aws,
        opts,
        confirm,
        reporter,
        interrupts,
    } = session;
    let (reporter, interrupts) = (reporter.as_ref(), interrupts.clone());
    let StackContext {
        cluster,
        known,
        topics_ready,
    } = context;
    let name = rendered.stack_name.as_str();
    let deadline = Instant::now() + opts.timeout;
    if interrupted(&interrupts) {
        return Outcome::Interrupted(format!(
            "not started: interrupted before {name} was touched"
        ));
    }
    let Ready {
        existing,
        creating,
        template,
        resources,
    } = match ready(aws, rendered, known, deadline, reporter).await {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    // A stack taken over from Copilot keeps, on every deploy, what its adoption kept; a new
    // one in an adopted environment gets listener rule priorities no Copilot rule holds.
    let adopted = match &existing {
        _ if creating => match crate::deploy::adopt::priorities::free(aws, rendered).await {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(e.to_string()),
        },
        Some(info) => {
            crate::deploy::adopt::keep_adopted(aws, rendered, info, template.as_deref()).await
        }
        None => None,
    };
    let rendered = adopted.as_ref().unwrap_or(rendered);
    // What is deployed already is what would be deployed: no change set (which takes
    // CloudFormation seconds to compute) is needed to know there is nothing to do.
    if !creating
        && let Some(info) = &existing
        && already_deployed(aws, rendered, parameters, info, template.as_deref()).await
    {
        topics_ready.send(true);
        return unchanged(
            aws, rendered, cluster, resources, deadline, reporter, interrupts,
        )
        .await;
    }
    let seen = current_event_ids(aws, name).await;
    if interrupted(&interrupts) {
        return untouched(name, creating, aws, deadline).await;
    }
    let prepared = match changeset::prepare(aws, rendered, parameters, creating, deadline).await {
        Ok(p) => p,
        Err(e) => return Outcome::failed(e),
    };
    let (id, changes) = match prepared {
        Prepared::Empty => {
            topics_ready.send(true);
            return unchanged(
                aws, rendered, cluster, resources, deadline, reporter, interrupts,
            )
            .await;
        }
        Prepared::Ready { id, changes, .. } => (id, changes),
    };
    let review = Review {
        rendered,
        parameters,
        existing: existing.as_ref().filter(|_| !creating),
        changes: &changes,
    };
    if let Err(outcome) = approve(aws, &review, opts, confirm, reporter).await {
        discard(aws, name, &id, creating, deadline).await;
        return outcome;
    }
    // The last moment to stop without changing anything.
    if interrupted(&interrupts) {
        discard(aws, name, &id, creating, deadline).await;
        return Outcome::Interrupted(format!(
            "interrupted before its change set was executed; {name} is unchanged"
        ));
    }
    reporter.emit(Event::Started {
        stack: name.into(),
        action: if creating { "create" } else { "update" }.into(),
    });
    let _in_flight = InFlight::register(rendered, creating);
    if let Err(e) = changeset::execute(aws, name, &id).await {
        return Outcome::failed(e);
    }
    if opts.detach {
        return Outcome::Detached;
    }
    let has_service = rendered.template.contains("AWS::ECS::Service");
    let pinned = parameters
        .iter()
        .find(|(k, v)| {
            k == crate::render::workload::ROLLBACK_PARAMETER
                && v != crate::render::workload::NO_ROLLBACK
        })
        .map(|(_, v)| v.clone());
    let mut rolled_out: Option<String> = None;
    let interrupts_seen = interrupts.clone();
    let ending = follow(
        aws,
        Target {
            stack: name,
            seen,
            cluster,
            has_service,
            deadline,
            pinned_task_definition: pinned.clone(),
            workload_args: workload_args(rendered),
            creating,
        },
        reporter,
        interrupts,
        &mut rolled_out,
    )
    .await;
    let outcome = match outcome_of(ending) {
        // Ctrl-C came too late to cancel: the update went through. Said so, and still exit
        // 130, as for every interrupted deploy.
        Outcome::Deployed if interrupted(&interrupts_seen) => Outcome::Interrupted(format!(
            "interrupted, but the update of {name} had gone too far to be cancelled and completed"
        )),
        Outcome::Interrupted(why) if creating => {
            Outcome::Interrupted(format!("{why}; to undo: {}", undo_command(rendered, true)))
        }
        other => other,
    };
    // The revision this deploy rolled out (a new one, or the one a rollback pins) carries
    // how the deploy ended, for `tug history` and `tug svc rollback`.
    // Without resource events (an emulator), a successful deploy's revision is the stack's.
    if rolled_out.is_none() && outcome == Outcome::Deployed && has_service {
        rolled_out = crate::deploy::watch::physical_id(aws, name, "TaskDefinition").await;
    }
    if let Some(td) = pinned.or(rolled_out) {
        let strategy = deployment_strategy(&rendered.template);
        if let Err(e) = revisions::record(aws, &td, outcome.label(), strategy).await {
            reporter.emit(Event::Message {
                stack: name.into(),
                text: format!("warning: {e}"),
            });
        }
    }
    outcome
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
        .map_err(Outcome::failed)?,
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
        return Err(Outcome::failed(why));
    }
    let status = existing.as_ref().map_or("", |s| s.status.as_str());
    let creating = match existing.as_ref().map(|s| stack::phase(&s.status)) {
        None | Some(Phase::Missing) => true,
        Some(Phase::Review) => {
            // A change set was created and never executed: the stack holds nothing. Start
            // over rather than stack a second change set on it.
            stack::delete_and_wait(aws, name, deadline)
                .await
                .map_err(Outcome::failed)?;
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
                .map_err(Outcome::failed)?;
            true
        }
        Some(Phase::Stuck) => {
            return Err(Outcome::Failed(format!(
                "stack {name} is {status} and needs a person: continue or skip the rollback in the CloudFormation console (or `aws cloudformation continue-update-rollback --stack-name {name}`), then deploy again"
            )));
        }
        Some(Phase::Busy) => return Err(Outcome::Failed(format!("stack {name} is still busy"))),
        Some(Phase::Stable) | Some(Phase::RolledBack) => false,
    };
    Ok(Ready {
        existing,
        creating,
        template,
        resources,
    })
}

/// A computed change set and what it is compared with.
struct Review<'a> {
    rendered: &'a RenderedStack,
    parameters: &'a [(String, String)],
    /// The deployed stack, for an update.
    existing: Option<&'a stack::StackInfo>,
    changes: &'a [changeset::ResourceChange],
}

/// Reports the change set and has it approved: the traffic-reset question of a traffic
/// shifting service, consent to destructive changes, and `--diff`. `Err` carries how the
/// deploy ends instead (declined or refused); the caller discards the change set.
async fn approve(
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
                return Err(Outcome::failed(Error::failure(warning).help(
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
                    "--diff needs a terminal to ask, or --yes to go ahead".into(),
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

/// An unchanged stack is "no changes" only when its ECS service (if any) has finished rolling
/// out at its desired count; a rollout that never finished (tasks failing, a deadline reached
/// by an earlier deploy) is followed to its end like a deploy, so that a CI retry cannot turn
/// a broken service green.
async fn unchanged(
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

/// Whether the stack already runs the rendered template with these parameter values and
/// tags. Templates compare as data (CloudFormation may hand a template back reformatted).
/// A template with SSM-typed parameters is never called unchanged here: CloudFormation
/// resolves those values itself and only a change set sees that one changed (a new AMI).
async fn already_deployed(
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

/// The template a stack was deployed with, as submitted; `None` when it cannot be read.
async fn deployed_template_text(aws: &Aws, name: &str) -> Option<String> {
    aws.cfn
        .get_template()
        .stack_name(name)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
        .send()
        .await
        .ok()
        .map(|out| out.template_body().unwrap_or_default().to_string())
}

/// A stack as read before its deploy: its description (`None`: it does not exist) and its
/// template, when it has one.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub info: Option<stack::StackInfo>,
    pub template: Option<String>,
    /// Its resources (which name its ECS service and task definition).
    pub resources: Option<Vec<stack::Resource>>,
    /// When it was read: an old read (a workload waiting for its publishers) is read again.
    pub read_at: Instant,
}

/// How long a read made at the start of a deploy stands in for reading a stack again.
const FRESH: Duration = Duration::from_secs(30);

/// What a deploy knows of a stack before it starts: its environment's cluster, and the stack
/// as read with every other stack of the deploy (`None`: read it now).
#[derive(Debug, Clone, Default)]
pub struct StackContext {
    pub cluster: Option<String>,
    pub known: Option<Deployed>,
    /// Told when the stack's topics are in place, for the workloads subscribed to them.
    pub topics_ready: TopicsReady,
}

/// Tells the workloads that subscribe to a workload's topics when they may go on: `true` once
/// its stack is in place, `false` when its deploy did not succeed. An unchanged stack says so
/// before its ECS rollout check, which its subscribers need not wait for (its topics exist),
/// so that an unchanged deploy is two rounds of calls instead of one more per subscriber level.
#[derive(Debug, Clone, Default)]
pub struct TopicsReady(Option<Arc<watch::Sender<Option<bool>>>>);

impl TopicsReady {
    /// A signal, and what the subscribers wait on.
    fn channel() -> (TopicsReady, watch::Receiver<Option<bool>>) {
        let (tx, rx) = watch::channel(None);
        (TopicsReady(Some(Arc::new(tx))), rx)
    }

    /// Says whether the topics are ready; only the first word counts.
    fn send(&self, ready: bool) {
        if let Some(tx) = &self.0 {
            tx.send_if_modified(|v| {
                let first = v.is_none();
                if first {
                    *v = Some(ready);
                }
                first
            });
        }
    }
}

/// Waits for a publisher's word; a publisher that ended without one did not succeed.
async fn topics_ready(mut rx: watch::Receiver<Option<bool>>) -> bool {
    match rx.wait_for(Option::is_some).await {
        Ok(ready) => ready.unwrap_or(false),
        Err(_) => false,
    }
}

/// Reads every named stack (description and template) at once: an unchanged deploy of an
/// environment and its workloads then needs one concurrent round of reads. Stacks that could
/// not be read are left out, and read again when their turn comes.
async fn read_all(aws: &Aws, names: Vec<String>) -> BTreeMap<String, Deployed> {
    let mut tasks = tokio::task::JoinSet::new();
    for name in names {
        let aws = aws.clone();
        tasks.spawn(async move {
            let (info, template, resources) = tokio::join!(
                stack::describe(&aws, &name),
                deployed_template_text(&aws, &name),
                stack::resources(&aws, &name)
            );
            let read_at = Instant::now();
            (
                name,
                info.ok().map(|info| Deployed {
                    info,
                    template,
                    resources: resources.ok(),
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

/// Whether Ctrl-C was pressed: no change set is created or executed after it.
fn interrupted(interrupts: &watch::Receiver<u32>) -> bool {
    *interrupts.borrow() >= 1
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

/// A stack whose change set is executing: what a second Ctrl-C, which leaves at once, must
/// name, with the commands to follow and undo what goes on in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlightStack {
    pub stack: String,
    /// `create` or `update`.
    pub action: &'static str,
    /// How to undo it once it ends (an update is being cancelled and rolled back already).
    pub undo: String,
}

static IN_FLIGHT: std::sync::Mutex<Vec<InFlightStack>> = std::sync::Mutex::new(Vec::new());

/// The stacks changing in AWS right now because of this process.
pub fn in_flight() -> Vec<InFlightStack> {
    IN_FLIGHT.lock().map(|v| v.clone()).unwrap_or_default()
}

/// How to undo a stack's create or update that goes on in AWS after tug stopped watching.
fn undo_command(rendered: &RenderedStack, creating: bool) -> String {
    let stack = &rendered.stack_name;
    let env = rendered.tags.get("tug:env").map_or("ENV", String::as_str);
    match (&rendered.workload, creating) {
        (_, false) => format!(
            "the update is rolled back by `aws cloudformation cancel-update-stack --stack-name {stack}` if it is still in progress"
        ),
        (None, true) => format!("`tug env delete -n {env}` once the creation has ended"),
        (Some(w), true) => format!(
            "`tug {} delete -e {env} -n {w}` once the creation has ended",
            if rendered.template.contains("AWS::ECS::Service") {
                "svc"
            } else {
                "job"
            }
        ),
    }
}

/// Registers a stack as changing for as long as it lives.
struct InFlight(String);

impl InFlight {
    fn register(rendered: &RenderedStack, creating: bool) -> InFlight {
        let stack = rendered.stack_name.clone();
        let undo = undo_command(rendered, creating);
        if let Ok(mut v) = IN_FLIGHT.lock() {
            v.push(InFlightStack {
                stack: stack.clone(),
                action: if creating { "create" } else { "update" },
                undo,
            });
        }
        InFlight(stack)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut v) = IN_FLIGHT.lock() {
            v.retain(|s| s.stack != self.0);
        }
    }
}

fn outcome_of(ending: Ending) -> Outcome {
    match ending {
        Ending::Succeeded => Outcome::Deployed,
        Ending::Failed(d) => Outcome::Failed(d),
        Ending::RolledBack(d) => Outcome::RolledBack(d),
        Ending::TimedOut(d) => Outcome::TimedOut(d),
        Ending::Interrupted(d) => Outcome::Interrupted(d),
    }
}

/// `-e ENV -n NAME` of a workload stack, for the commands tug suggests.
fn workload_args(rendered: &RenderedStack) -> Option<String> {
    rendered.workload.as_ref().map(|w| {
        format!(
            "-e {} -n {w}",
            rendered.tags.get("tug:env").map_or("ENV", String::as_str)
        )
    })
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

/// The ECS deployment strategy a rendered workload template asks for.
pub(crate) fn deployment_strategy(template: &str) -> &'static str {
    for s in ["BLUE_GREEN", "CANARY", "LINEAR"] {
        if template.contains(&format!("\"Strategy\":\"{s}\""))
            || template.contains(&format!("Strategy: {s}"))
        {
            return s;
        }
    }
    "ROLLING"
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
    Err(Outcome::failed(
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

/// Drops a change set that will not run; for a stack that only existed for it, the stack too.
async fn discard(aws: &Aws, name: &str, id: &str, creating: bool, deadline: Instant) {
    changeset::discard(aws, name, id).await;
    if creating {
        let _ = stack::delete_and_wait(aws, name, deadline).await;
    }
}

/// The deployed template for a diff; a comment line in its place when it cannot be read.
async fn deployed_template(aws: &Aws, name: &str) -> String {
    deployed_template_text(aws, name)
        .await
        .unwrap_or_else(|| "# could not read the deployed template".to_string())
}

/// Values for the stack's parameters: the rendered ones, with what only a deploy knows filled
/// in (the image digest, built images). `fixed` values are used as given, and nothing is
/// built or looked up for them. Placeholders tug cannot fill yet are an error.
pub async fn workload_parameters(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    wl: &ResolvedWorkload,
    rendered: &RenderedStack,
    fixed: Option<&BTreeMap<String, String>>,
) -> Result<(Vec<(String, String)>, String)> {
    let (aws, opts, reporter) = (
        &session.aws,
        &session.opts.images,
        session.reporter.as_ref(),
    );
    let empty = BTreeMap::new();
    let fixed = fixed.unwrap_or(&empty);
    if let Some(unknown) = fixed.keys().find(|k| !rendered.parameters.contains_key(*k)) {
        return Err(Error::failure(format!(
            "{} has no parameter {unknown} to set",
            rendered.stack_name
        )));
    }
    let mut params: Vec<(String, String)> = rendered
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let m = &wl.manifest;
    let mut image = String::new();
    // Only images not given in `fixed` are built (or looked up).
    let builds = images::builds(wl)
        && params
            .iter()
            .any(|(k, _)| k.ends_with("Image") && !fixed.contains_key(k));
    let repo_uri = if builds {
        Some(images::ensure_repository(aws, &images::repository_name(&loaded.app, &wl.name)).await?)
    } else {
        None
    };
    let tag = match &opts.tag {
        Some(t) => Some(t.clone()),
        None if builds => images::git_tag(ws.project_root())
            .await
            .or(Some("latest".into())),
        None => None,
    };
    if builds
        && !opts.no_build
        && let Some(uri) = &repo_uri
    {
        let registry = uri.split('/').next().unwrap_or_default();
        images::docker_login(aws, registry).await?;
    }
    for (key, value) in params.iter_mut() {
        if let Some(given) = fixed.get(key) {
            *value = given.clone();
            if key == "ContainerImage" {
                image = given.clone();
            }
        } else if key == "ContainerImage" {
            let location = m
                .image
                .as_ref()
                .and_then(|i| i.location.as_ref())
                .map(|l| l.value.clone());
            *value = match (location, m.image.as_ref().and_then(|i| i.build.as_ref())) {
                (Some(loc), _) => images::resolve_location(aws, &loc).await?,
                (None, Some(build)) => {
                    let uri = format!(
                        "{}:{}",
                        repo_uri.clone().unwrap_or_default(),
                        tag.clone().unwrap_or_default()
                    );
                    if opts.no_build {
                        images::resolve_location(aws, &uri).await?
                    } else {
                        reporter.emit(Event::Message {
                            stack: rendered.stack_name.clone(),
                            text: format!("building {uri}"),
                        });
                        let platform = m.platform.as_ref().and_then(|p| p.value.scalar().cloned());
                        images::build_and_push(
                            ws.project_root(),
                            &build.value,
                            &uri,
                            platform.as_deref(),
                        )
                        .await?
                    }
                }
                (None, None) => {
                    return Err(Error::failure(format!("{} has no image", wl.name)));
                }
            };
            image = value.clone();
        } else if let Some(sidecar) = key.strip_suffix("Image") {
            let found = m
                .sidecars
                .iter()
                .flat_map(|s| s.iter())
                .find(|(n, _)| render::names::logical_id(&n.value) == sidecar);
            if let Some((n, s)) = found
                && let Some(ScalarOr::Config(c)) = s.image.as_ref().map(|i| &i.value)
                && let Some(build) = &c.build
            {
                let uri = format!(
                    "{}:{}-{}",
                    repo_uri.clone().unwrap_or_default(),
                    n.value,
                    tag.clone().unwrap_or_default()
                );
                *value = if opts.no_build {
                    images::resolve_location(aws, &uri).await?
                } else {
                    reporter.emit(Event::Message {
                        stack: rendered.stack_name.clone(),
                        text: format!("building {uri}"),
                    });
                    images::build_and_push(ws.project_root(), &build.value, &uri, None).await?
                };
            }
        }
    }
    // A service on an imported load balancer: its listeners, DNS name and zone.
    if let Some(alb) = m.http_rule().and_then(|r| r.alb.as_ref())
        && params
            .iter()
            .any(|(k, v)| k.starts_with("ImportedALB") && v.starts_with('<'))
    {
        let found = imported_alb::parameters(aws, &alb.value).await?;
        for (key, value) in params.iter_mut() {
            if let Some(v) = found.get(key.as_str())
                && value.starts_with('<')
            {
                *value = v.clone();
            }
        }
    }
    // The env files: uploaded to the application's artifacts bucket, named by their content.
    // A value given in `fixed` (a promotion or rollback) is the object deployed before, kept.
    let env_files = env_file_parameters(wl);
    if params
        .iter()
        .any(|(k, v)| env_files.iter().any(|(p, _)| p == k) && v.starts_with('<'))
    {
        let env = wl.environment.as_deref().unwrap_or_default();
        let bucket = artifacts::Bucket::of(aws, &loaded.app).await?;
        for (key, value) in params.iter_mut() {
            let Some((_, path)) = env_files.iter().find(|(p, _)| p == key) else {
                continue;
            };
            if !value.starts_with('<') {
                continue;
            }
            let file = ws.project_root().join(path);
            let content = std::fs::read(&file).map_err(|e| {
                Error::failure(format!(
                    "{} cannot read env file {}: {e}",
                    rendered.stack_name,
                    file.display(),
                ))
                .help(format!(
                    "`env_file` is a path relative to the workspace root ({})",
                    ws.project_root().display()
                ))
            })?;
            let object = artifacts::env_file_key(env, &wl.name, &content);
            artifacts::put_once(aws, &bucket, &loaded.app, &object, content, "text/plain").await?;
            *value = bucket.object_arn(&object);
        }
    }
    // The addons: the merged template uploaded, its URL the nested stack's TemplateURL.
    if let Some((_, value)) = params
        .iter_mut()
        .find(|(k, _)| k == crate::manifest::addons::TEMPLATE_URL_PARAMETER)
        && value.starts_with('<')
        && let Some(addons) = ws.workload_addons.get(&wl.name)
    {
        *value = upload_addons(aws, &loaded.app, &rendered.stack_name, addons).await?;
    }
    // Subnets chosen by tags, looked up in the environment's VPC.
    lookup::fill_workload(aws, &loaded.app, wl, &mut params).await?;
    let unresolved: Vec<String> = params
        .iter()
        .filter(|(_, v)| v.starts_with('<'))
        .map(|(k, v)| format!("{k} ({v})"))
        .collect();
    if !unresolved.is_empty() {
        return Err(Error::failure(format!(
            "{} needs values that tug deploy does not look up: {}",
            rendered.stack_name,
            unresolved.join(", ")
        ))
        .help("name them in the manifest instead, or deploy the template and parameters file `tug render -e ENV -n NAME --output-dir DIR` writes, with those values filled in"));
    }
    Ok((params, image))
}

/// Uploads a stack's merged addons template, and the assets it names, to the artifacts bucket
/// (keyed by their content, so an unchanged template is an unchanged parameter) and returns
/// its URL, the nested stack's `TemplateURL`.
async fn upload_addons(
    aws: &Aws,
    app: &str,
    stack_name: &str,
    addons: &crate::manifest::addons::Addons,
) -> Result<String> {
    let bucket = artifacts::Bucket::of(aws, app).await?;
    // Local files and folders the template names are uploaded first (content-addressed, so an
    // unchanged folder gives the same key and the same template).
    let (template, assets) = addons.packaged(&bucket.name, &|key| bucket.object_url(key))?;
    for asset in assets {
        artifacts::put_once(
            aws,
            &bucket,
            app,
            &asset.key,
            asset.body,
            asset.content_type,
        )
        .await?;
    }
    let key = artifacts::template_key(&format!("{stack_name}-addons"), &template);
    artifacts::put_once(
        aws,
        &bucket,
        app,
        &key,
        template.into_bytes(),
        "application/json",
    )
    .await?;
    Ok(bucket.object_url(&key))
}

/// The env-file parameters of a workload's template and the file each one names (relative to
/// the workspace root).
fn env_file_parameters(wl: &ResolvedWorkload) -> Vec<(String, String)> {
    render::workload::env_files(wl)
        .into_iter()
        .map(|f| (f.parameter, f.path))
        .collect()
}

/// One line of the `tug deploy` summary.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub stack: String,
    pub workload: Option<String>,
    pub outcome: String,
    pub seconds: f64,
    pub image: Option<String>,
    pub detail: Option<String>,
    #[serde(skip)]
    pub result: Outcome,
}

/// What a deploy covers.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Deploy the environment stack first.
    pub environment: bool,
    /// The workloads to deploy: `None` for none, an empty list for all.
    pub workloads: Option<Vec<String>>,
}

/// Deploys the environment stack (when planned), then the planned workloads concurrently.
pub async fn deploy_environment_and_workloads(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    env_name: &str,
    plan: &Plan,
) -> Vec<SummaryRow> {
    deploy_with_overrides(session, loaded, ws, env_name, plan, &Overrides::new()).await
}

/// [`deploy_environment_and_workloads`], with fixed parameter values for some workloads.
pub async fn deploy_with_overrides(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    env_name: &str,
    plan: &Plan,
    overrides: &Overrides,
) -> Vec<SummaryRow> {
    let Session {
        aws,
        opts,
        reporter,
        ..
    } = session;
    let mut rows = Vec::new();
    let Some(env) = loaded.environments.iter().find(|e| e.name == env_name) else {
        return rows;
    };
    let env_stack = render::names::env_stack(&loaded.app, env_name);
    let mut stack_names = vec![env_stack.clone()];
    if let Some(names) = &plan.workloads {
        stack_names.extend(
            loaded
                .workloads
                .iter()
                .filter(|w| w.environment.as_deref() == Some(env_name))
                .filter(|w| names.is_empty() || names.contains(&w.name))
                .map(|w| render::names::workload_stack(&loaded.app, env_name, &w.name)),
        );
    }
    let mut known = read_all(aws, stack_names).await;
    let mut env_unchanged = !plan.environment;
    if plan.environment {
        let started = Instant::now();
        let row = match render::environment::render(loaded, env) {
            Ok(rendered) => {
                let mut params: Vec<(String, String)> = rendered
                    .parameters
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let mut uploaded = Ok(());
                if let Some(addons) = &loaded.environment_addons
                    && let Some((_, value)) = params
                        .iter_mut()
                        .find(|(k, _)| k == crate::manifest::addons::TEMPLATE_URL_PARAMETER)
                {
                    match upload_addons(aws, &loaded.app, &rendered.stack_name, addons).await {
                        Ok(url) => *value = url,
                        Err(e) => uploaded = Err(e),
                    }
                }
                // The CloudFront prefix list of `http.public.ingress.cdn`.
                if uploaded.is_ok() {
                    uploaded = lookup::fill_environment(aws, &mut params).await;
                }
                let outcome = if let Err(e) = uploaded {
                    Outcome::failed(e)
                } else if let Some((k, v)) = params.iter().find(|(_, v)| v.starts_with('<')) {
                    // Every placeholder of the environment is filled above; this guards a
                    // new one from reaching CloudFormation as `<...>`.
                    Outcome::Failed(format!(
                        "{} needs {k}, which tug deploy does not look up ({v})",
                        rendered.stack_name
                    ))
                } else {
                    deploy_stack(
                        session,
                        &rendered,
                        &params,
                        StackContext {
                            known: known.get(&env_stack).cloned(),
                            ..StackContext::default()
                        },
                    )
                    .await
                };
                env_unchanged = outcome == Outcome::NoChanges;
                finished(reporter.as_ref(), &rendered.stack_name, &outcome, started);
                SummaryRow {
                    stack: rendered.stack_name.clone(),
                    workload: None,
                    outcome: outcome.label().into(),
                    seconds: started.elapsed().as_secs_f64(),
                    image: None,
                    detail: outcome.detail().map(str::to_string),
                    result: outcome,
                }
            }
            Err(e) => internal_row(render::names::env_stack(&loaded.app, env_name), None, e),
        };
        let failed = row.result.exit_code() != exit::SUCCESS;
        rows.push(row);
        if failed {
            return rows;
        }
    }
    let Some(names) = &plan.workloads else {
        return rows;
    };
    // The environment as read at the start, unless this deploy changed it.
    let read_now = match known.get(&env_stack) {
        Some(d) if env_unchanged => Ok(d.info.clone()),
        _ => stack::describe(aws, &env_stack).await,
    };
    let env_info = match read_now {
        Ok(info) => info.filter(|i| stack::phase(&i.status) != Phase::FailedCreate),
        Err(e) => {
            rows.push(failed_row(env_stack, e.to_string()));
            return rows;
        }
    };
    let Some(env_info) = env_info else {
        let detail = Error::failure(format!(
            "environment {env_name} is not deployed (no stack {env_stack})"
        ))
        .help(format!(
            "run `tug env deploy -n {env_name}` first, or `tug deploy -e {env_name}`"
        ))
        .to_string();
        rows.push(failed_row(env_stack, detail));
        return rows;
    };
    // Workloads import the environment's exports: deploying them into an environment tug
    // does not own would tie them to a stack tug must never change.
    if let Some(why) = ownership::check(
        &env_info,
        &env_stack,
        &loaded.app,
        "deploy workloads into the environment of",
    ) {
        rows.push(failed_row(env_stack, why.to_string()));
        return rows;
    }
    let cluster = env_info.output("ClusterId").map(str::to_string);
    let selected: Vec<&ResolvedWorkload> = loaded
        .workloads
        .iter()
        .filter(|w| w.environment.as_deref() == Some(env_name))
        .filter(|w| names.is_empty() || names.contains(&w.name))
        .collect();
    // Subscribers wait for the publishers of their topics (a subscription to a topic that
    // does not exist yet fails), but only until the publisher's stack is in place: every
    // workload starts at once and waits for its word, not for its whole deploy.
    let wave_of = wave_numbers(&selected);
    let (signals, receivers): (Vec<TopicsReady>, Vec<_>) =
        selected.iter().map(|_| TopicsReady::channel()).unzip();
    let pool = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, wl) in selected.iter().enumerate() {
        // Publishers in the same wave are in a subscription cycle with it: not waited for.
        let publishers: Vec<(String, watch::Receiver<Option<bool>>)> = publishers_of(wl, &selected)
            .into_iter()
            .filter_map(|p| selected.iter().position(|w| w.name == p))
            .filter(|&k| wave_of[k] < wave_of[index])
            .map(|k| (selected[k].name.clone(), receivers[k].clone()))
            .collect();
        let (session, loaded, ws, wl) =
            (session.clone(), loaded.clone(), ws.clone(), (*wl).clone());
        let (pool, signal) = (pool.clone(), signals[index].clone());
        let fixed = overrides.get(&wl.name).cloned();
        let stack = render::names::workload_stack(&loaded.app, env_name, &wl.name);
        let context = StackContext {
            cluster: cluster.clone(),
            known: known.remove(&stack),
            topics_ready: signal.clone(),
        };
        tasks.spawn(async move {
            let mut blocked = Vec::new();
            for (name, rx) in publishers {
                if !topics_ready(rx).await {
                    blocked.push(name);
                }
            }
            let row = if blocked.is_empty() {
                // Waiting for publishers holds no place in the pool: they need one.
                let _permit = pool.acquire_owned().await;
                deploy_workload(&session, &loaded, &ws, &wl, fixed.as_ref(), context).await
            } else {
                blocked_row(stack, &wl.name, &blocked, &session.interrupts)
            };
            signal.send(row.result.exit_code() == exit::SUCCESS);
            (index, row)
        });
    }
    let mut done: Vec<(usize, SummaryRow)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(row) => done.push(row),
            Err(e) => rows.push(failed_row("?".into(), format!("internal error: {e}"))),
        }
    }
    done.sort_by_key(|(i, _)| *i);
    rows.extend(done.into_iter().map(|(_, r)| r));
    rows
}

/// The workloads of `selected` whose topics `wl` subscribes to.
fn publishers_of<'a>(wl: &ResolvedWorkload, selected: &[&'a ResolvedWorkload]) -> Vec<&'a str> {
    let topics = wl
        .manifest
        .subscribe
        .as_ref()
        .and_then(|s| s.topics.as_ref());
    let mut out: Vec<&str> = topics
        .into_iter()
        .flat_map(|t| t.iter())
        .filter_map(|t| t.service.as_ref().map(|s| s.value.as_str()))
        .filter_map(|name| {
            selected
                .iter()
                .find(|w| w.name == name && w.name != wl.name)
                .map(|w| w.name.as_str())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The wave of each selected workload: 0 for those that subscribe to no selected publisher,
/// then each one wave after the publishers it subscribes to. Workloads caught in a
/// subscription cycle share the last wave (and do not wait for each other).
fn wave_numbers(selected: &[&ResolvedWorkload]) -> Vec<usize> {
    let mut wave_of: Vec<Option<usize>> = vec![None; selected.len()];
    let mut wave = 0;
    loop {
        let next: Vec<usize> = (0..selected.len())
            .filter(|&i| wave_of[i].is_none())
            .filter(|&i| {
                publishers_of(selected[i], selected).iter().all(|p| {
                    selected
                        .iter()
                        .position(|w| w.name == *p)
                        .is_some_and(|k| wave_of[k].is_some_and(|w| w < wave))
                })
            })
            .collect();
        if next.is_empty() {
            return wave_of.into_iter().map(|w| w.unwrap_or(wave)).collect();
        }
        for i in next {
            wave_of[i] = Some(wave);
        }
        wave += 1;
    }
}

/// Renders, resolves images and deploys one workload.
async fn deploy_workload(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    wl: &ResolvedWorkload,
    fixed: Option<&BTreeMap<String, String>>,
    context: StackContext,
) -> SummaryRow {
    let (reporter, interrupts) = (session.reporter.as_ref(), &session.interrupts);
    let started = Instant::now();
    // Nothing (not even an image build) starts after Ctrl-C.
    if interrupted(interrupts) {
        let mut row = interrupted_row(render::names::workload_stack(
            &loaded.app,
            wl.environment.as_deref().unwrap_or(""),
            &wl.name,
        ));
        row.workload = Some(wl.name.clone());
        return row;
    }
    let rendered = match render::workload::render(loaded, ws, wl) {
        Ok(r) => r,
        Err(e) => {
            let stack = render::names::workload_stack(
                &loaded.app,
                wl.environment.as_deref().unwrap_or(""),
                &wl.name,
            );
            return internal_row(stack, Some(wl.name.clone()), e);
        }
    };
    let (outcome, image) =
        match workload_parameters(session, loaded, ws, wl, &rendered, fixed).await {
            Ok((params, image)) => (
                deploy_stack(session, &rendered, &params, context).await,
                Some(image),
            ),
            Err(e) => (Outcome::Failed(e.to_string()), None),
        };
    finished(reporter, &rendered.stack_name, &outcome, started);
    SummaryRow {
        stack: rendered.stack_name.clone(),
        workload: Some(wl.name.clone()),
        outcome: outcome.label().into(),
        seconds: started.elapsed().as_secs_f64(),
        image,
        detail: outcome.detail().map(str::to_string),
        result: outcome,
    }
}

/// A workload not deployed because a publisher it subscribes to did not succeed.
fn blocked_row(
    stack: String,
    workload: &str,
    blocked: &[String],
    interrupts: &watch::Receiver<u32>,
) -> SummaryRow {
    let mut row = if interrupted(interrupts) {
        interrupted_row(stack)
    } else {
        failed_row(
            stack,
            format!(
                "not deployed: it subscribes to topics of {}, whose deploy did not succeed",
                blocked.join(", ")
            ),
        )
    };
    row.workload = Some(workload.to_string());
    row
}

/// A stack not started because of Ctrl-C.
fn interrupted_row(stack: String) -> SummaryRow {
    let outcome = Outcome::Interrupted(format!(
        "not started: interrupted before {stack} was touched"
    ));
    SummaryRow {
        stack,
        workload: None,
        outcome: outcome.label().into(),
        seconds: 0.0,
        image: None,
        detail: outcome.detail().map(str::to_string),
        result: outcome,
    }
}

fn failed_row(stack: String, detail: String) -> SummaryRow {
    SummaryRow {
        stack,
        workload: None,
        outcome: "failed".into(),
        seconds: 0.0,
        image: None,
        detail: Some(detail.clone()),
        result: Outcome::Failed(detail),
    }
}

fn internal_row(stack: String, workload: Option<String>, e: render::RenderError) -> SummaryRow {
    let detail = match e {
        render::RenderError::Input(d) => d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        render::RenderError::Internal(m) => {
            format!("internal error while rendering (please report it): {m}")
        }
    };
    SummaryRow {
        stack,
        workload,
        outcome: "failed".into(),
        seconds: 0.0,
        image: None,
        detail: Some(detail.clone()),
        result: Outcome::Failed(detail),
    }
}

/// Reports the end of a stack's deploy.
pub fn finished(reporter: &dyn Reporter, stack: &str, outcome: &Outcome, started: Instant) {
    reporter.emit(Event::Finished {
        stack: stack.to_string(),
        outcome: outcome.label().to_string(),
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        detail: outcome.detail().map(str::to_string),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_outcome_decides() {
        let all = [
            Outcome::Deployed,
            Outcome::Failed("x".into()),
            Outcome::RolledBack("y".into()),
            Outcome::NoChanges,
        ];
        assert_eq!(worst_exit_code(&all), exit::ROLLED_BACK);
        assert_eq!(
            worst_exit_code(&[Outcome::NoChanges, Outcome::Deployed]),
            exit::SUCCESS
        );
        assert_eq!(
            worst_exit_code(&[Outcome::Failed("x".into())]),
            exit::FAILURE
        );
        assert_eq!(
            worst_exit_code(&[
                Outcome::TimedOut("x".into()),
                Outcome::Interrupted("y".into())
            ]),
            exit::INTERRUPTED
        );
    }
}
