//! The workload manifest: one struct holding every key of the four ECS workload types
//! (Load Balanced Web Service, Backend Service, Worker Service, Scheduled Job), with the list
//! of keys each type accepts so a key of another type gets a precise error.

use std::fmt;

use crate::manifest::decode::{Located, Map};
use crate::manifest::duration::Duration;
use crate::manifest::merge::Merge;
use crate::manifest::model::common::*;
use crate::manifest::model::service::*;
use crate::manifest::union::{BoolOr, Command};
use crate::manifest_struct;

/// The kinds of manifest a workspace can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkloadKind {
    LoadBalancedWebService,
    BackendService,
    WorkerService,
    ScheduledJob,
    /// Parsed and reported as unsupported (App Runner).
    RequestDrivenWebService,
    /// Parsed and reported as unsupported (S3 and CloudFront).
    StaticSite,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 6] = [
        WorkloadKind::LoadBalancedWebService,
        WorkloadKind::BackendService,
        WorkloadKind::WorkerService,
        WorkloadKind::ScheduledJob,
        WorkloadKind::RequestDrivenWebService,
        WorkloadKind::StaticSite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::LoadBalancedWebService => "Load Balanced Web Service",
            WorkloadKind::BackendService => "Backend Service",
            WorkloadKind::WorkerService => "Worker Service",
            WorkloadKind::ScheduledJob => "Scheduled Job",
            WorkloadKind::RequestDrivenWebService => "Request-Driven Web Service",
            WorkloadKind::StaticSite => "Static Site",
        }
    }

    pub fn parse(text: &str) -> Option<WorkloadKind> {
        WorkloadKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Whether tug deploys this kind (the ECS kinds).
    pub fn is_supported(self) -> bool {
        !matches!(
            self,
            WorkloadKind::RequestDrivenWebService | WorkloadKind::StaticSite
        )
    }

    pub fn is_service(self) -> bool {
        matches!(
            self,
            WorkloadKind::LoadBalancedWebService
                | WorkloadKind::BackendService
                | WorkloadKind::WorkerService
        )
    }

    /// The top-level keys a manifest of this kind accepts.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            WorkloadKind::LoadBalancedWebService => LBWS_KEYS,
            WorkloadKind::BackendService => BACKEND_KEYS,
            WorkloadKind::WorkerService => WORKER_KEYS,
            WorkloadKind::ScheduledJob => JOB_KEYS,
            _ => WorkloadManifest::KEYS,
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const COMMON_KEYS_LIST: &[&str] = &[
    "name",
    "type",
    "image",
    "entrypoint",
    "command",
    "cpu",
    "memory",
    "platform",
    "count",
    "exec",
    "variables",
    "secrets",
    "env_file",
    "storage",
    "logging",
    "sidecars",
    "network",
    "publish",
    "taskdef_overrides",
    "environments",
    "launch_type",
    "capacity_providers",
    "network_mode",
    "placement",
];

const LBWS_KEYS: &[&str] = &[
    "name",
    "type",
    "image",
    "entrypoint",
    "command",
    "cpu",
    "memory",
    "platform",
    "count",
    "exec",
    "variables",
    "secrets",
    "env_file",
    "storage",
    "logging",
    "sidecars",
    "network",
    "publish",
    "taskdef_overrides",
    "environments",
    "launch_type",
    "capacity_providers",
    "network_mode",
    "placement",
    "deployment",
    "observability",
    "http",
    "nlb",
    "scheduling",
];
const BACKEND_KEYS: &[&str] = &[
    "name",
    "type",
    "image",
    "entrypoint",
    "command",
    "cpu",
    "memory",
    "platform",
    "count",
    "exec",
    "variables",
    "secrets",
    "env_file",
    "storage",
    "logging",
    "sidecars",
    "network",
    "publish",
    "taskdef_overrides",
    "environments",
    "launch_type",
    "capacity_providers",
    "network_mode",
    "placement",
    "deployment",
    "observability",
    "http",
    "scheduling",
];
const WORKER_KEYS: &[&str] = &[
    "name",
    "type",
    "image",
    "entrypoint",
    "command",
    "cpu",
    "memory",
    "platform",
    "count",
    "exec",
    "variables",
    "secrets",
    "env_file",
    "storage",
    "logging",
    "sidecars",
    "network",
    "publish",
    "taskdef_overrides",
    "environments",
    "launch_type",
    "capacity_providers",
    "network_mode",
    "placement",
    "deployment",
    "observability",
    "subscribe",
    "scheduling",
];
const JOB_KEYS: &[&str] = &[
    "name",
    "type",
    "image",
    "entrypoint",
    "command",
    "cpu",
    "memory",
    "platform",
    "count",
    "exec",
    "variables",
    "secrets",
    "env_file",
    "storage",
    "logging",
    "sidecars",
    "network",
    "publish",
    "taskdef_overrides",
    "environments",
    "launch_type",
    "capacity_providers",
    "network_mode",
    "placement",
    "on",
    "timeout",
    "retries",
];

/// Keys every ECS workload type accepts.
pub fn common_keys() -> &'static [&'static str] {
    COMMON_KEYS_LIST
}

manifest_struct! {
    /// `on` (Scheduled Job).
    pub struct JobTrigger {
        schedule: String = "schedule",
    }
}

manifest_struct! {
    /// A dead-letter queue.
    pub struct DeadLetter {
        tries: u32 = "tries",
    }
}

manifest_struct! {
    /// FIFO settings of a queue.
    pub struct FifoQueueConfig {
        content_based_deduplication: bool = "content_based_deduplication",
        deduplication_scope: String = "deduplication_scope",
        throughput_limit: String = "throughput_limit",
        high_throughput: bool = "high_throughput",
    }
}

manifest_struct! {
    /// An SQS queue (`subscribe.queue`, `subscribe.topics[].queue`).
    pub struct Queue [custom_merge] {
        retention: Duration = "retention",
        delay: Duration = "delay",
        timeout: Duration = "timeout",
        dead_letter: DeadLetter = "dead_letter",
        fifo: BoolOr<FifoQueueConfig> = "fifo",
    }
}

impl Merge for Queue {
    fn merge(base: Self, over: Self) -> Self {
        let fifo = match (base.fifo.clone(), over.fifo.clone()) {
            (Some(b), Some(o)) => Some(Located::new(merge_queue_fifo(b.value, o.value), o.span)),
            (b, o) => o.or(b),
        };
        let mut out = Queue::merge_fields(base, over);
        out.fifo = fifo;
        out
    }
}

/// Merges a queue's `fifo` as Copilot did. Copilot has no override rule for this union (its
/// `FIFOAdvanceConfigOrBool`), so both forms survive a merge side by side, and its template
/// code then reads them in order: `true` makes a plain FIFO queue, otherwise any advanced
/// setting makes a FIFO queue with those settings, otherwise the queue is standard. Hence
/// `fifo: false` over a base mapping keeps the FIFO queue (the loader warns about it), and a
/// mapping over `fifo: true` is ignored. Matching this keeps the queue Copilot deployed: a
/// switch between FIFO and standard replaces the queue and loses its messages.
pub fn merge_queue_fifo(
    base: BoolOr<FifoQueueConfig>,
    over: BoolOr<FifoQueueConfig>,
) -> BoolOr<FifoQueueConfig> {
    fn split(v: BoolOr<FifoQueueConfig>) -> (Option<bool>, FifoQueueConfig) {
        match v {
            BoolOr::Bool(b) => (Some(b), FifoQueueConfig::default()),
            BoolOr::Config(c) => (None, c),
        }
    }
    let (base_on, base_cfg) = split(base);
    let (over_on, over_cfg) = split(over);
    let enabled = over_on.or(base_on);
    let cfg = FifoQueueConfig::merge_fields(base_cfg, over_cfg);
    match enabled {
        Some(true) => BoolOr::Bool(true),
        _ if cfg != FifoQueueConfig::default() => BoolOr::Config(cfg),
        Some(false) => BoolOr::Bool(false),
        None => BoolOr::Config(cfg),
    }
}

manifest_struct! {
    /// `subscribe.topics[]`.
    pub struct TopicSubscription {
        name: String = "name",
        service: String = "service",
        filter_policy: serde_json::Value = "filter_policy",
        queue: BoolOr<Queue> = "queue",
    }
}

manifest_struct! {
    /// `subscribe` (Worker Service).
    pub struct Subscribe {
        topics: Vec<Located<TopicSubscription>> = "topics",
        queue: Queue = "queue",
    }
}

manifest_struct! {
    /// A workload manifest: every key of every ECS workload type. Which keys a given type
    /// accepts is [`WorkloadKind::keys`].
    pub struct WorkloadManifest {
        name: String = "name",
        kind: String = "type",
        image: Image = "image",
        entrypoint: Command = "entrypoint",
        command: Command = "command",
        cpu: u32 = "cpu",
        memory: u32 = "memory",
        platform: Platform = "platform",
        count: Count = "count",
        exec: Exec = "exec",
        deployment: Deployment = "deployment",
        variables: Map<Variable> = "variables",
        secrets: Map<Secret> = "secrets",
        env_file: String = "env_file",
        storage: Storage = "storage",
        logging: Logging = "logging",
        sidecars: Map<Sidecar> = "sidecars",
        network: Network = "network",
        publish: Publish = "publish",
        subscribe: Subscribe = "subscribe",
        taskdef_overrides: Vec<Located<TaskDefOverride>> = "taskdef_overrides",
        observability: Observability = "observability",
        http: Http = "http",
        nlb: NlbListener = "nlb",
        on: JobTrigger = "on",
        timeout: Duration = "timeout",
        retries: u32 = "retries",
        /// tug: `fargate` (default) or `ec2`.
        launch_type: String = "launch_type",
        /// tug: an explicit capacity provider strategy.
        capacity_providers: Vec<Located<CapacityProviderItem>> = "capacity_providers",
        /// tug: `awsvpc` (default), `bridge` or `host`.
        network_mode: String = "network_mode",
        /// tug: task placement strategies and constraints (EC2 only).
        placement: TaskPlacement = "placement",
        /// tug: `replica` (default) or `daemon` (EC2 only).
        scheduling: String = "scheduling",
        environments: Map<WorkloadManifest> = "environments",
    }
}

/// Defaults Copilot applies when a key is absent.
pub mod defaults {
    pub const CPU: u32 = 256;
    pub const MEMORY: u32 = 512;
    pub const COUNT: u32 = 1;
    pub const LOG_RETENTION_DAYS: u32 = 30;
    pub const WINDOWS_CPU: u32 = 1024;
    pub const WINDOWS_MEMORY: u32 = 2048;
}

impl WorkloadManifest {
    /// Task-level cpu units, with the default.
    pub fn task_cpu(&self) -> u32 {
        self.cpu.as_ref().map_or(defaults::CPU, |c| c.value)
    }

    /// Task-level memory in MiB, with the default.
    pub fn task_memory(&self) -> u32 {
        self.memory.as_ref().map_or(defaults::MEMORY, |m| m.value)
    }

    /// Whether tasks run on EC2 capacity (`launch_type: ec2` or an EC2 capacity provider).
    pub fn runs_on_ec2(&self) -> bool {
        if let Some(lt) = &self.launch_type {
            return lt.value.eq_ignore_ascii_case("ec2");
        }
        if let Some(cps) = &self.capacity_providers {
            return cps.iter().any(|cp| {
                cp.name.as_ref().is_some_and(|n| {
                    !n.value.eq_ignore_ascii_case("FARGATE")
                        && !n.value.eq_ignore_ascii_case("FARGATE_SPOT")
                })
            });
        }
        false
    }

    /// The network mode, with the default.
    pub fn network_mode(&self) -> &str {
        self.network_mode
            .as_ref()
            .map_or("awsvpc", |m| m.value.as_str())
    }

    /// The routing rule of `http`, when the load balancer is on and configured.
    pub fn http_rule(&self) -> Option<&RoutingRule> {
        self.http.as_ref().and_then(|h| h.value.config())
    }
}
