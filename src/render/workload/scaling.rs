//! Service autoscaling: the scalable target and one target-tracking policy per metric (CPU,
//! memory, requests per target, response time, a Worker's queue backlog per task), with
//! Copilot's default cooldowns. Step and scheduled scaling on the same target come from
//! [`step_scaling`].
//!
//! `queue_delay` needs no Lambda (Copilot ran one every minute to publish a backlog metric):
//! the policy tracks a metric-math expression, the messages visible in the worker's queues
//! divided by the service's running tasks. The task count comes from Container Insights
//! (`ECS/ContainerInsights` `RunningTaskCount`), so the environment must have it on.

use serde_json::{Value, json};

use crate::manifest::decode::Located;
use crate::manifest::model::service::{Cooldown, Count, QueueDelay, ScalingMetric};
use crate::manifest::union::ScalarOr;
use crate::render::workload::{Scope, step_scaling, worker};
use crate::render::{RenderError, input_error};

const SCALE_IN_COOLDOWN: u64 = 120;
const SCALE_OUT_COOLDOWN: u64 = 60;

fn cooldowns(own: Option<&Located<Cooldown>>, default: Option<&Located<Cooldown>>) -> (u64, u64) {
    let pick = |f: fn(&Cooldown) -> Option<u64>, fallback: u64| {
        own.and_then(|c| f(c))
            .or(default.and_then(|c| f(c)))
            .unwrap_or(fallback)
    };
    (
        pick(
            |c| c.scale_in.as_ref().map(|d| d.value.millis / 1000),
            SCALE_IN_COOLDOWN,
        ),
        pick(
            |c| c.scale_out.as_ref().map(|d| d.value.millis / 1000),
            SCALE_OUT_COOLDOWN,
        ),
    )
}

fn metric_target(metric: &ScalingMetric) -> (Option<u32>, Option<&Located<Cooldown>>) {
    match metric {
        ScalarOr::Scalar(v) => (Some(*v), None),
        ScalarOr::Config(c) => (c.target.as_ref().map(|t| t.value), c.cooldown.as_ref()),
    }
}

/// Whether the environment's cluster publishes Container Insights metrics (`enabled` or
/// `enhanced`), as the environment stack renders it.
fn container_insights(scope: &Scope) -> Option<bool> {
    let env = scope
        .loaded
        .environments
        .iter()
        .find(|e| e.name == scope.env)?;
    Some(crate::render::environment::container_insights(env) != "disabled")
}

/// Target tracking on backlog per task: ceil(acceptable_latency / msg_processing_time)
/// messages waiting per running task.
fn queue_delay_policy(
    scope: &Scope,
    q: &Located<QueueDelay>,
    default_cooldown: Option<&Located<Cooldown>>,
) -> Result<Value, RenderError> {
    if container_insights(scope) == Some(false) {
        return Err(RenderError::Input(vec![input_error(
            q.span,
            format!(
                "`count.queue_delay` needs Container Insights, which environment `{}` has off",
                scope.env
            ),
            format!(
                "tug scales on messages waiting ÷ ECS/ContainerInsights RunningTaskCount: set `observability.container_insights: true` in the manifest of environment `{}`, or scale on cpu_percentage or memory_percentage",
                scope.env
            ),
        )]));
    }
    let (Some(latency), Some(processing)) = (&q.acceptable_latency, &q.msg_processing_time) else {
        // Validation requires both.
        return Err(RenderError::internal(
            "queue_delay without acceptable_latency and msg_processing_time",
        ));
    };
    let per_message = processing.value.millis.max(1);
    let target = latency.value.millis.div_ceil(per_message).max(1);
    let queues = worker::queue_ids(scope);
    if queues.is_empty() {
        // Validation keeps queue_delay to Worker Services, which always have a queue.
        return Err(RenderError::internal(
            "queue_delay on a workload without queues",
        ));
    }
    let (mut queries, backlog) = worker::backlog_queries(&queues, None);
    queries.push(json!({
        "Id": "tasks",
        "MetricStat": {
            "Metric": {
                "Namespace": "ECS/ContainerInsights",
                "MetricName": "RunningTaskCount",
                "Dimensions": [
                    { "Name": "ClusterName", "Value": scope.import("ClusterId") },
                    { "Name": "ServiceName", "Value": { "Fn::GetAtt": ["Service", "Name"] } },
                ],
            },
            "Stat": "Average",
        },
        "ReturnData": false,
    }));
    // At least one task in the divisor: with none running (or no data point yet), the backlog
    // itself is the backlog per task, so a service scaled to zero still scales out.
    queries.push(json!({
        "Id": "backlog_per_task",
        "Expression": format!("{backlog} / IF(FILL(tasks, 1) > 1, FILL(tasks, 1), 1)"),
        "Label": "Messages waiting per running task",
        "ReturnData": true,
    }));
    let (scale_in, scale_out) = cooldowns(q.cooldown.as_ref(), default_cooldown);
    let full = scope.full_name();
    Ok(json!({
        "id": "AutoScalingPolicyQueueDelay",
        "name": format!("{full}-AutoScalingPolicyQueueDelay"),
        "config": {
            "CustomizedMetricSpecification": { "Metrics": queries },
            "TargetValue": target,
            "ScaleInCooldown": scale_in,
            "ScaleOutCooldown": scale_out,
        },
    }))
}

/// The view model of autoscaling, or null when the service has a fixed count.
pub(crate) fn context(scope: &Scope, http: &Value) -> Result<Value, RenderError> {
    let m = &scope.wl.manifest;
    let Some(count) = m.count.as_ref() else {
        return Ok(Value::Null);
    };
    let Count::Config(c) = &count.value else {
        return Ok(Value::Null);
    };
    let Some(range) = &c.range else {
        return Ok(Value::Null);
    };
    let (Some(min), Some(max)) = range.value.bounds() else {
        return Ok(Value::Null);
    };
    let default_cooldown = c.cooldown.as_ref();
    let mut policies = Vec::new();
    let full = scope.full_name();
    for (metric, id, predefined) in [
        (
            c.cpu_percentage.as_ref(),
            "AutoScalingPolicyCPU",
            "ECSServiceAverageCPUUtilization",
        ),
        (
            c.memory_percentage.as_ref(),
            "AutoScalingPolicyMemory",
            "ECSServiceAverageMemoryUtilization",
        ),
    ] {
        if let Some(m) = metric {
            let (target, own) = metric_target(&m.value);
            let (scale_in, scale_out) = cooldowns(own, default_cooldown);
            policies.push(json!({
                "id": id,
                "name": format!("{full}-{id}"),
                "config": {
                    "PredefinedMetricSpecification": { "PredefinedMetricType": predefined },
                    "TargetValue": target.unwrap_or(70),
                    "ScaleInCooldown": scale_in,
                    "ScaleOutCooldown": scale_out,
                },
            }));
        }
    }
    let tg_full_name = json!({ "Fn::GetAtt": ["TargetGroup", "TargetGroupFullName"] });
    if let Some(r) = &c.requests {
        let (target, own) = metric_target(&r.value);
        let (scale_in, scale_out) = cooldowns(own, default_cooldown);
        policies.push(json!({
            "id": "AutoScalingPolicyRequests",
            "name": format!("{full}-AutoScalingPolicyRequests"),
            "config": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ALBRequestCountPerTarget",
                    "ResourceLabel": { "Fn::Join": ["/", [http["lb_full_name"], tg_full_name]] },
                },
                "TargetValue": target.unwrap_or(1000),
                "ScaleInCooldown": scale_in,
                "ScaleOutCooldown": scale_out,
            },
        }));
    }
    if let Some(rt) = &c.response_time {
        let (target, own) = match &rt.value {
            ScalarOr::Scalar(d) => (Some(*d), None),
            ScalarOr::Config(t) => (t.target.as_ref().map(|t| t.value), t.cooldown.as_ref()),
        };
        let (scale_in, scale_out) = cooldowns(own, default_cooldown);
        policies.push(json!({
            "id": "AutoScalingPolicyResponseTime",
            "name": format!("{full}-AutoScalingPolicyResponseTime"),
            "config": {
                "CustomizedMetricSpecification": {
                    "MetricName": "TargetResponseTime",
                    "Namespace": "AWS/ApplicationELB",
                    "Statistic": "Average",
                    "Unit": "Seconds",
                    "Dimensions": [
                        { "Name": "LoadBalancer", "Value": http["lb_full_name"] },
                        { "Name": "TargetGroup", "Value": tg_full_name },
                    ],
                },
                "TargetValue": target.map_or(1.0, |d| d.as_secs_f64()),
                "ScaleInCooldown": scale_in,
                "ScaleOutCooldown": scale_out,
            },
        }));
    }
    if let Some(q) = &c.queue_delay {
        policies.push(queue_delay_policy(scope, q, default_cooldown)?);
    }
    Ok(json!({
        "min": min,
        "max": max,
        "resource_id": { "Fn::Join": ["/", ["service", scope.import("ClusterId"), { "Fn::GetAtt": ["Service", "Name"] }]] },
        "policies": policies,
        "step_policies": step_scaling::step_policies(scope, c),
        "scheduled_actions": step_scaling::scheduled_actions(c),
    }))
}

#[cfg(test)]
mod tests {

    use super::*;

    const WORKER: &str = "name: worker\ntype: Worker Service\nimage:\n  location: python\ncount:\n  range: 0-10\n  queue_delay:\n    acceptable_latency: 10m\n    msg_processing_time: 250ms\n    cooldown:\n      in: 5m\ndeployment:\n  rollback_alarms:\n    messages_delayed: 50\nsubscribe:\n  topics:\n    - name: orders\n      service: api\n      queue: true\n";

    /// Autoscaling of `worker` in environment `test`, and the rendered stack when it renders.
    fn scaling(env: &str) -> (Result<Value, RenderError>, Option<serde_yaml::Value>) {
        let f = crate::render::workload::fixture::Fixture::new(env, &[("worker", WORKER)]);
        (context(&f.scope("worker"), &Value::Null), f.stack("worker"))
    }

    #[test]
    fn queue_delay_tracks_backlog_per_task() {
        let (v, stack) =
            scaling("name: test\ntype: Environment\nobservability:\n  container_insights: true\n");
        let v = v.unwrap();
        assert_eq!(v["min"], 0);
        let p = &v["policies"][0];
        assert_eq!(p["id"], "AutoScalingPolicyQueueDelay");
        let config = &p["config"];
        // 10m / 250ms = 2400 messages per task.
        assert_eq!(config["TargetValue"], 2400);
        assert_eq!(config["ScaleInCooldown"], 300);
        assert_eq!(config["ScaleOutCooldown"], 60);
        let metrics = config["CustomizedMetricSpecification"]["Metrics"]
            .as_array()
            .unwrap();
        let ids: Vec<&str> = metrics.iter().map(|m| m["Id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["q0", "q1", "backlog", "tasks", "backlog_per_task"]);
        assert_eq!(
            metrics[1]["MetricStat"]["Metric"]["Dimensions"][0]["Value"],
            json!({ "Fn::GetAtt": ["ApiOrdersEventsQueue", "QueueName"] })
        );
        assert_eq!(
            metrics[3]["MetricStat"]["Metric"]["Namespace"],
            "ECS/ContainerInsights"
        );
        assert_eq!(
            metrics[4]["Expression"],
            "backlog / IF(FILL(tasks, 1) > 1, FILL(tasks, 1), 1)"
        );
        let returned: Vec<&Value> = metrics.iter().filter(|m| m["ReturnData"] == true).collect();
        assert_eq!(returned.len(), 1);

        // The rendered stack: the rollback alarm watches the worker's queues.
        let stack = stack.expect("renders");
        let alarm = &stack["Resources"]["RollbackMessagesDelayedAlarm"]["Properties"];
        assert_eq!(alarm["Threshold"], serde_yaml::Value::from(50));
        assert_eq!(
            alarm["TreatMissingData"],
            serde_yaml::Value::from("notBreaching")
        );
        let queries = alarm["Metrics"].as_sequence().unwrap();
        assert_eq!(queries.len(), 3);
        assert_eq!(
            queries[0]["MetricStat"]["Metric"]["MetricName"],
            serde_yaml::Value::from("ApproximateNumberOfMessagesVisible")
        );
        assert_eq!(
            queries[0]["MetricStat"]["Period"],
            serde_yaml::Value::from(60)
        );
        assert_eq!(queries[2]["ReturnData"], serde_yaml::Value::from(true));
        assert!(alarm.get("MetricName").is_none());
        for id in [
            "EventsQueue",
            "ApiOrdersEventsQueue",
            "ApiOrdersEventsQueuePolicy",
            "ApiOrdersSubscription",
            "AutoScalingPolicyQueueDelay",
        ] {
            assert!(stack["Resources"].get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn queue_delay_needs_container_insights() {
        let (v, _) = scaling("name: test\ntype: Environment\n");
        let RenderError::Input(d) = v.unwrap_err() else {
            panic!("not an input error");
        };
        assert!(
            d[0].message
                .contains("needs Container Insights, which environment `test` has off"),
            "{}",
            d[0].message
        );
    }
}
