//! Manifest sections of long-running services: count and autoscaling, deployment, the
//! Application Load Balancer (`http`) and the Network Load Balancer (`nlb`).

use crate::manifest::decode::{Decode, DecodeCx, Located};
use crate::manifest::duration::Duration;
use crate::manifest::merge::Merge;
use crate::manifest::union::{BoolOr, ListOr, OneOrMany, ScalarOr};
use crate::manifest::yaml::{Node, NodeKind};
use crate::manifest_struct;

/// `count.range`: `"1-10"` or `{min, max, spot_from}`.
pub type Range = ScalarOr<RangeText, RangeConfig>;

/// `count.range` in its text form, `min-max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeText {
    pub min: u32,
    pub max: u32,
}

impl Decode for RangeText {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let NodeKind::Scalar(text, _) = &node.kind else {
            cx.wrong_type(node, "a range like 1-10, or a mapping with min and max");
            return None;
        };
        let parsed = text.split_once('-').and_then(|(a, b)| {
            Some(RangeText {
                min: a.trim().parse().ok()?,
                max: b.trim().parse().ok()?,
            })
        });
        if parsed.is_none() {
            cx.invalid(
                node.span,
                format!("invalid range `{text}`"),
                Some("write the range as min-max, for example 1-10".into()),
            );
        }
        parsed
    }
}

impl Merge for RangeText {}

manifest_struct! {
    /// `count.range` in its map form.
    pub struct RangeConfig {
        min: u32 = "min",
        max: u32 = "max",
        spot_from: u32 = "spot_from",
    }
}

impl Range {
    /// The minimum and maximum task counts, when both are known.
    pub fn bounds(&self) -> (Option<u32>, Option<u32>) {
        match self {
            ScalarOr::Scalar(r) => (Some(r.min), Some(r.max)),
            ScalarOr::Config(c) => (
                c.min.as_ref().map(|v| v.value),
                c.max.as_ref().map(|v| v.value),
            ),
        }
    }
}

manifest_struct! {
    /// Scale-in and scale-out cooldowns.
    pub struct Cooldown {
        scale_in: Duration = "in",
        scale_out: Duration = "out",
    }
}

manifest_struct! {
    /// A target-tracking metric in its long form.
    pub struct ScalingTarget {
        target: u32 = "value",
        cooldown: Cooldown = "cooldown",
    }
}

/// `count.cpu_percentage`, `count.memory_percentage`, `count.requests`.
pub type ScalingMetric = ScalarOr<u32, ScalingTarget>;

manifest_struct! {
    /// `count.response_time` in its long form.
    pub struct ResponseTimeTarget {
        target: Duration = "value",
        cooldown: Cooldown = "cooldown",
    }
}

/// `count.response_time`.
pub type ResponseTimeMetric = ScalarOr<Duration, ResponseTimeTarget>;

manifest_struct! {
    /// `count.queue_delay` (Worker Service).
    pub struct QueueDelay {
        acceptable_latency: Duration = "acceptable_latency",
        msg_processing_time: Duration = "msg_processing_time",
        cooldown: Cooldown = "cooldown",
    }
}

manifest_struct! {
    /// tug: one scheduled scaling action (`count.schedule[]`).
    pub struct ScheduledAction {
        name: String = "name",
        cron: String = "cron",
        rate: String = "rate",
        at: String = "at",
        min: u32 = "min",
        max: u32 = "max",
        timezone: String = "timezone",
    }
}

manifest_struct! {
    /// tug: one step of a step-scaling policy, relative to the alarm threshold.
    pub struct ScalingStep {
        lower: f64 = "lower",
        upper: f64 = "upper",
        change: i64 = "change",
    }
}

manifest_struct! {
    /// tug: one direction (out or in) of a step-scaling policy.
    pub struct StepDirection {
        threshold: f64 = "threshold",
        steps: Vec<Located<ScalingStep>> = "steps",
        evaluation_periods: u32 = "evaluation_periods",
        period: Duration = "period",
    }
}

manifest_struct! {
    /// tug: a CloudWatch metric to drive step scaling.
    pub struct CustomMetric {
        namespace: String = "namespace",
        name: String = "name",
        statistic: String = "statistic",
        dimensions: crate::manifest::decode::Map<String> = "dimensions",
    }
}

manifest_struct! {
    /// tug: `count.step`, step scaling driven by CloudWatch alarms.
    pub struct StepScaling {
        metric: ScalarOr<String, CustomMetric> = "metric",
        adjustment_type: String = "adjustment_type",
        scale_out: StepDirection = "scale_out",
        scale_in: StepDirection = "scale_in",
        cooldown: Duration = "cooldown",
    }
}

manifest_struct! {
    /// `count` in its map form: autoscaling or Fargate Spot.
    pub struct AdvancedCount [custom_merge] {
        range: Range = "range",
        cooldown: Cooldown = "cooldown",
        cpu_percentage: ScalingMetric = "cpu_percentage",
        memory_percentage: ScalingMetric = "memory_percentage",
        requests: ScalingMetric = "requests",
        response_time: ResponseTimeMetric = "response_time",
        queue_delay: QueueDelay = "queue_delay",
        spot: u32 = "spot",
        /// tug: scheduled scaling actions.
        schedule: Vec<Located<ScheduledAction>> = "schedule",
        /// tug: step scaling.
        step: StepScaling = "step",
    }
}

impl AdvancedCount {
    /// Whether any autoscaling setting is present.
    pub fn has_autoscaling(&self) -> bool {
        self.range.is_some()
            || self.cpu_percentage.is_some()
            || self.memory_percentage.is_some()
            || self.requests.is_some()
            || self.response_time.is_some()
            || self.queue_delay.is_some()
            || self.schedule.is_some()
            || self.step.is_some()
    }

    /// Whether a scaling metric (target tracking or step) is configured.
    pub fn has_metric(&self) -> bool {
        self.cpu_percentage.is_some()
            || self.memory_percentage.is_some()
            || self.requests.is_some()
            || self.response_time.is_some()
            || self.queue_delay.is_some()
            || self.step.is_some()
    }
}

impl Merge for AdvancedCount {
    /// `spot` and autoscaling exclude each other: an override that sets one clears the other.
    fn merge(mut base: Self, over: Self) -> Self {
        if over.spot.is_some() {
            let spot_only = AdvancedCount {
                spot: base.spot.take(),
                ..Default::default()
            };
            base = spot_only;
        }
        if over.has_autoscaling() {
            base.spot = None;
        }
        AdvancedCount::merge_fields(base, over)
    }
}

/// `count`: a number of tasks or the map form.
pub type Count = ScalarOr<u32, AdvancedCount>;

manifest_struct! {
    /// `deployment.rollback_alarms` in its map form: alarms tug creates.
    pub struct AlarmThresholds {
        cpu_utilization: f64 = "cpu_utilization",
        memory_utilization: f64 = "memory_utilization",
        messages_delayed: u32 = "messages_delayed",
    }
}

manifest_struct! {
    /// tug: `deployment.canary`.
    pub struct CanaryConfig {
        percent: f64 = "percent",
        bake_time: Duration = "bake_time",
    }
}

manifest_struct! {
    /// tug: `deployment.linear`.
    pub struct LinearConfig {
        step_percent: f64 = "step_percent",
        step_bake_time: Duration = "step_bake_time",
    }
}

manifest_struct! {
    /// tug: a header condition for test traffic.
    pub struct HeaderMatch {
        name: String = "name",
        values: Vec<String> = "values",
    }
}

manifest_struct! {
    /// tug: `deployment.test_listener`, how test traffic reaches the new revision.
    pub struct TestListener {
        port: u16 = "port",
        header: HeaderMatch = "header",
    }
}

manifest_struct! {
    /// tug: `deployment.hooks[]`, a lifecycle hook.
    pub struct LifecycleHook {
        stages: Vec<Located<String>> = "stages",
        lambda: String = "lambda",
        role: String = "role",
        pause: bool = "pause",
        timeout: Duration = "timeout",
        timeout_action: String = "timeout_action",
    }
}

manifest_struct! {
    /// `deployment`.
    pub struct Deployment {
        rolling: String = "rolling",
        rollback_alarms: ListOr<Located<String>, AlarmThresholds> = "rollback_alarms",
        /// tug: rolling (default), blue_green, canary or linear.
        strategy: String = "strategy",
        /// tug: minutes both revisions run after traffic has moved.
        bake_time: Duration = "bake_time",
        canary: CanaryConfig = "canary",
        linear: LinearConfig = "linear",
        test_listener: TestListener = "test_listener",
        min_healthy_percent: u32 = "min_healthy_percent",
        max_percent: u32 = "max_percent",
        circuit_breaker: bool = "circuit_breaker",
        hooks: Vec<Located<LifecycleHook>> = "hooks",
    }
}

manifest_struct! {
    /// Target group health check in its long form.
    pub struct TargetHealthCheck {
        path: String = "path",
        port: u16 = "port",
        success_codes: String = "success_codes",
        healthy_threshold: u32 = "healthy_threshold",
        unhealthy_threshold: u32 = "unhealthy_threshold",
        interval: Duration = "interval",
        timeout: Duration = "timeout",
        grace_period: Duration = "grace_period",
    }
}

/// `http.healthcheck`: a path or the long form.
pub type HttpHealthCheck = ScalarOr<String, TargetHealthCheck>;

manifest_struct! {
    /// An alias with its hosted zone.
    pub struct AdvancedAlias {
        name: String = "name",
        hosted_zone: String = "hosted_zone",
    }
}

/// `http.alias`: one name, a list of names, or a list of `{name, hosted_zone}`.
pub type Alias = OneOrMany<ScalarOr<String, AdvancedAlias>>;

manifest_struct! {
    /// A listener rule: the main `http` block and each of `http.additional_rules`.
    pub struct RoutingRule {
        path: String = "path",
        alb: String = "alb",
        healthcheck: HttpHealthCheck = "healthcheck",
        deregistration_delay: Duration = "deregistration_delay",
        target_container: String = "target_container",
        target_container_camel: String = "targetContainer",
        target_port: u16 = "target_port",
        stickiness: bool = "stickiness",
        allowed_source_ips: Vec<Located<String>> = "allowed_source_ips",
        alias: Alias = "alias",
        hosted_zone: String = "hosted_zone",
        redirect_to_https: bool = "redirect_to_https",
        version: String = "version",
        additional_rules: Vec<Located<RoutingRule>> = "additional_rules",
    }
}

/// `http`: `false` to turn the load balancer off, or the routing rule.
pub type Http = BoolOr<RoutingRule>;

manifest_struct! {
    /// Network Load Balancer target health check.
    pub struct NlbHealthCheck {
        port: u16 = "port",
        healthy_threshold: u32 = "healthy_threshold",
        unhealthy_threshold: u32 = "unhealthy_threshold",
        interval: Duration = "interval",
        timeout: Duration = "timeout",
        grace_period: Duration = "grace_period",
    }
}

manifest_struct! {
    /// `nlb`, and each of `nlb.additional_listeners`.
    pub struct NlbListener {
        port: String = "port",
        healthcheck: NlbHealthCheck = "healthcheck",
        target_container: String = "target_container",
        target_port: u16 = "target_port",
        ssl_policy: String = "ssl_policy",
        stickiness: bool = "stickiness",
        deregistration_delay: Duration = "deregistration_delay",
        alias: Alias = "alias",
        additional_listeners: Vec<Located<NlbListener>> = "additional_listeners",
    }
}

/// The listener port and protocol of `nlb.port` (`443/tls`, `53/udp`, `80`).
pub fn parse_port_protocol(text: &str) -> Result<(u16, String), String> {
    let (port, proto) = match text.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (text, "tcp".to_string()),
    };
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a port; write it as 80, 443/tls or 53/udp"))?;
    if port == 0 {
        return Err("port 0 is not a valid port".into());
    }
    Ok((port, proto))
}

/// A container port as written: `8080`, `8080/tcp`, `53/udp`.
pub fn parse_container_port(text: &str) -> Result<(u16, String), String> {
    let (port, proto) = match text.split_once('/') {
        Some((p, proto)) => (p.trim(), proto.trim().to_ascii_lowercase()),
        None => (text.trim(), "tcp".to_string()),
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("`{text}` is not a port number"))?;
    if port == 0 {
        return Err("port 0 is not a valid container port".into());
    }
    if proto != "tcp" && proto != "udp" {
        return Err(format!(
            "protocol `{proto}` is not supported for a container port; use tcp or udp"
        ));
    }
    Ok((port, proto))
}
