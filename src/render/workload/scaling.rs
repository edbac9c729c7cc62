//! Service autoscaling: the scalable target and one target-tracking policy per metric (CPU,
//! memory, requests per target, response time), with Copilot's default cooldowns.

use serde_json::{Value, json};

use crate::manifest::decode::Located;
use crate::manifest::model::service::{Cooldown, Count, ScalingMetric};
use crate::manifest::union::ScalarOr;
use crate::render::workload::Scope;
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
    for (set, key) in [
        (c.schedule.as_ref().map(|s| s.span), "schedule"),
        (c.step.as_ref().map(|s| s.span), "step"),
        (c.queue_delay.as_ref().map(|q| q.span), "queue_delay"),
    ] {
        if let Some(span) = set {
            return Err(RenderError::Input(vec![input_error(
                span,
                format!("rendering `count.{key}` is not available yet"),
                "scale with cpu_percentage, memory_percentage, requests or response_time for now",
            )]));
        }
    }
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
    Ok(json!({
        "min": min,
        "max": max,
        "resource_id": { "Fn::Join": ["/", ["service", scope.import("ClusterId"), { "Fn::GetAtt": ["Service", "Name"] }]] },
        "policies": policies,
    }))
}
