//! The deploy engine: one stack (wait for the stack to be free, create a change set, show the
//! diff and ask, execute, follow), and `tug deploy` (the environment first, then the workloads
//! concurrently with a bounded pool). What every deploy runs with is here; the steps are in:
//!
//! - `stack`: one stack's deploy, from reading it to following its change set;
//! - `review`: what a change set is checked against and who approves it;
//! - `deployed`: the stacks as read before a deploy, and the no-change check;
//! - `in_flight`: the stacks changing in AWS right now, for a second Ctrl-C;
//! - `outcome`: how a stack's deploy ended, and the exit code of several;
//! - `parameters`: the values only a deploy knows (images, uploads, lookups);
//! - `plan`: `tug deploy` of an environment and its workloads;
//! - `topics`: publishers before their subscribers;
//! - `summary`: the summary's rows.

mod deployed;
mod in_flight;
mod outcome;
mod parameters;
mod plan;
mod review;
mod stack;
mod summary;
mod topics;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::deploy::aws::Aws;
use crate::deploy::events::Reporter;
use crate::deploy::images::ImageOptions;
use crate::render::RenderedStack;

pub use in_flight::{InFlightStack, in_flight};
pub use outcome::{Outcome, worst_exit_code};
pub use plan::{Plan, deploy_environment_and_workloads, deploy_with_overrides};
pub use stack::deploy_stack;
pub use summary::{SummaryRow, finished};

use deployed::Deployed;
use topics::TopicsReady;

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

/// What a deploy knows of a stack before it starts: its environment's cluster, and the stack
/// as read with every other stack of the deploy (`None`: read it now).
#[derive(Debug, Clone, Default)]
pub struct StackContext {
    cluster: Option<String>,
    known: Option<Deployed>,
    /// Told when the stack's topics are in place, for the workloads subscribed to them.
    topics_ready: TopicsReady,
}

impl StackContext {
    /// A stack in `cluster`, read when its deploy starts.
    pub fn in_cluster(cluster: String) -> StackContext {
        StackContext {
            cluster: Some(cluster),
            ..StackContext::default()
        }
    }
}

/// Whether Ctrl-C was pressed: no change set is created or executed after it.
fn interrupted(interrupts: &watch::Receiver<u32>) -> bool {
    *interrupts.borrow() >= 1
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
