//! Step and scheduled scaling of a service (`count.step`, `count.schedule`), next to the
//! target-tracking policies of [`super::scaling`] on the same scalable target.
//!
//! Step scaling: one policy per direction (`scale_out`, `scale_in`), each driven by a CloudWatch
//! alarm on the chosen metric (the service's average CPU or memory, or a named metric) whose
//! action is the policy. Step bounds are relative to the alarm threshold, as Application Auto
//! Scaling defines them. Scheduled scaling: actions on the scalable target that change its
//! minimum and maximum at a cron, rate or at time, in a time zone.

use serde_json::{Value, json};

use crate::manifest::decode::Located;
use crate::manifest::model::service::{AdvancedCount, StepDirection, StepScaling};
use crate::manifest::union::ScalarOr;
use crate::render::workload::Scope;

/// Defaults when the manifest leaves them out: react to one breaching minute when scaling out,
/// wait for three before scaling in (scaling in too eagerly flaps).
const PERIOD_SECS: u64 = 60;
const OUT_PERIODS: u32 = 1;
const IN_PERIODS: u32 = 3;
const COOLDOWN_SECS: u64 = 60;

/// The alarm's metric: namespace, name, statistic and dimensions.
fn metric(scope: &Scope, step: &StepScaling) -> Value {
    let service_dims = json!([
        { "Name": "ClusterName", "Value": scope.import("ClusterId") },
        { "Name": "ServiceName", "Value": { "Fn::GetAtt": ["Service", "Name"] } },
    ]);
    match step.metric.as_ref().map(|m| &m.value) {
        Some(ScalarOr::Config(c)) => {
            let dims: Vec<Value> = c
                .dimensions
                .iter()
                .flat_map(|d| d.iter())
                .map(|(k, v)| json!({ "Name": k.value, "Value": v.value }))
                .collect();
            let mut out = json!({
                "Namespace": c.namespace.as_ref().map_or("", |n| n.value.as_str()),
                "MetricName": c.name.as_ref().map_or("", |n| n.value.as_str()),
                "Statistic": c.statistic.as_ref().map_or("Average", |s| s.value.as_str()),
            });
            if !dims.is_empty() {
                out["Dimensions"] = json!(dims);
            }
            out
        }
        Some(ScalarOr::Scalar(s)) if s.eq_ignore_ascii_case("memory") => json!({
            "Namespace": "AWS/ECS", "MetricName": "MemoryUtilization", "Statistic": "Average", "Dimensions": service_dims,
        }),
        _ => json!({
            "Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "Statistic": "Average", "Dimensions": service_dims,
        }),
    }
}

/// One direction: the policy and the alarm that triggers it.
fn direction(scope: &Scope, step: &StepScaling, dir: &Located<StepDirection>, out: bool) -> Value {
    let full = scope.full_name();
    let suffix = if out { "Out" } else { "In" };
    let id = format!("AutoScalingStep{suffix}");
    let metric = metric(scope, step);
    // Application Auto Scaling aggregates the alarm's data points the same way.
    let aggregation = match metric["Statistic"].as_str() {
        Some("Maximum") => "Maximum",
        Some("Minimum") => "Minimum",
        _ => "Average",
    };
    let adjustments: Vec<Value> = dir
        .steps
        .iter()
        .flat_map(|s| s.iter())
        .map(|s| {
            let mut a = json!({ "ScalingAdjustment": s.change.as_ref().map_or(0, |c| c.value) });
            if let Some(l) = &s.lower {
                a["MetricIntervalLowerBound"] = json!(l.value);
            }
            if let Some(u) = &s.upper {
                a["MetricIntervalUpperBound"] = json!(u.value);
            }
            a
        })
        .collect();
    let cooldown = step
        .cooldown
        .as_ref()
        .map_or(COOLDOWN_SECS, |c| c.value.millis / 1000);
    let mut alarm = metric;
    alarm["AlarmName"] = json!(format!("{full}-{id}"));
    alarm["AlarmDescription"] = json!(format!(
        "Triggers the {} steps of service {}",
        if out { "scale-out" } else { "scale-in" },
        scope.wl.name,
    ));
    alarm["ComparisonOperator"] = json!(if out {
        "GreaterThanOrEqualToThreshold"
    } else {
        "LessThanOrEqualToThreshold"
    });
    alarm["Threshold"] = json!(dir.threshold.as_ref().map_or(0.0, |t| t.value));
    alarm["Period"] = json!(
        dir.period
            .as_ref()
            .map_or(PERIOD_SECS, |p| (p.value.millis / 1000).max(10))
    );
    alarm["EvaluationPeriods"] = json!(
        dir.evaluation_periods
            .as_ref()
            .map_or(if out { OUT_PERIODS } else { IN_PERIODS }, |e| e.value)
    );
    // No data (a custom metric nobody publishes yet) is not a reason to scale.
    alarm["TreatMissingData"] = json!("notBreaching");
    alarm["AlarmActions"] = json!([{ "Ref": id }]);
    json!({
        "id": id,
        "name": format!("{full}-{id}"),
        "config": {
            "AdjustmentType": step.adjustment_type.as_ref().map_or("ChangeInCapacity", |a| a.value.as_str()),
            "Cooldown": cooldown,
            "MetricAggregationType": aggregation,
            "StepAdjustments": adjustments,
        },
        "alarm_id": format!("{id}Alarm"),
        "alarm": alarm,
    })
}

/// The step policies (with their alarms) of `count.step`.
pub(crate) fn step_policies(scope: &Scope, c: &AdvancedCount) -> Vec<Value> {
    let Some(step) = &c.step else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(d) = &step.scale_out {
        out.push(direction(scope, step, d, true));
    }
    if let Some(d) = &step.scale_in {
        out.push(direction(scope, step, d, false));
    }
    out
}

/// `ScheduledActions` of the scalable target, from `count.schedule`.
pub(crate) fn scheduled_actions(c: &AdvancedCount) -> Value {
    let Some(actions) = &c.schedule else {
        return Value::Null;
    };
    let list: Vec<Value> = actions
        .iter()
        .map(|a| {
            let (kind, expr) = [("cron", &a.cron), ("rate", &a.rate), ("at", &a.at)]
                .into_iter()
                .find_map(|(k, v)| v.as_ref().map(|v| (k, v.value.trim())))
                .unwrap_or(("cron", ""));
            // The manifest may write the bare expression or the wrapped form.
            let schedule = if expr.starts_with(&format!("{kind}(")) {
                expr.to_string()
            } else {
                format!("{kind}({expr})")
            };
            let mut target = json!({});
            if let Some(min) = &a.min {
                target["MinCapacity"] = json!(min.value);
            }
            if let Some(max) = &a.max {
                target["MaxCapacity"] = json!(max.value);
            }
            let name = a.name.as_ref().map_or("", |n| n.value.as_str());
            let mut action = json!({
                "ScheduledActionName": name,
                "Schedule": schedule,
                "ScalableTargetAction": target,
            });
            if let Some(tz) = &a.timezone {
                action["Timezone"] = json!(tz.value);
            }
            action
        })
        .collect();
    json!(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::service::Count;
    use crate::render::workload::fixture::Fixture;

    const API: &str = "name: api\ntype: Backend Service\nimage:\n  location: nginx\ncount:\n  range: 1-6\n  cpu_percentage: 60\n  step:\n    metric: memory\n    cooldown: 2m\n    scale_out:\n      threshold: 80\n      steps:\n        - lower: 0\n          upper: 10\n          change: 1\n        - lower: 10\n          change: 3\n    scale_in:\n      threshold: 20\n      steps:\n        - upper: 0\n          change: -1\n  schedule:\n    - name: mornings\n      cron: \"0 8 ? * MON-FRI *\"\n      timezone: Europe/Paris\n      min: 2\n    - name: once\n      at: \"at(2030-01-01T00:00:00)\"\n      max: 3\n";

    #[test]
    fn step_policies_with_alarms_and_scheduled_actions() {
        let f = Fixture::new("name: test\ntype: Environment\n", &[("api", API)]);
        let scope = f.scope("api");
        let Some(Count::Config(c)) = scope.wl.manifest.count.as_ref().map(|c| &c.value) else {
            panic!("count");
        };
        let steps = step_policies(&scope, c);
        assert_eq!(steps.len(), 2);
        let out = &steps[0];
        assert_eq!(out["id"], "AutoScalingStepOut");
        assert_eq!(out["config"]["Cooldown"], 120);
        assert_eq!(
            out["config"]["StepAdjustments"],
            json!([
                { "ScalingAdjustment": 1, "MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0 },
                { "ScalingAdjustment": 3, "MetricIntervalLowerBound": 10.0 },
            ])
        );
        assert_eq!(out["alarm"]["MetricName"], "MemoryUtilization");
        assert_eq!(
            out["alarm"]["ComparisonOperator"],
            "GreaterThanOrEqualToThreshold"
        );
        assert_eq!(out["alarm"]["EvaluationPeriods"], 1);
        assert_eq!(
            out["alarm"]["AlarmActions"],
            json!([{ "Ref": "AutoScalingStepOut" }])
        );
        let scale_in = &steps[1];
        assert_eq!(
            scale_in["alarm"]["ComparisonOperator"],
            "LessThanOrEqualToThreshold"
        );
        assert_eq!(scale_in["alarm"]["EvaluationPeriods"], 3);
        let actions = scheduled_actions(c);
        assert_eq!(
            actions,
            json!([
                { "ScheduledActionName": "mornings", "Schedule": "cron(0 8 ? * MON-FRI *)", "Timezone": "Europe/Paris", "ScalableTargetAction": { "MinCapacity": 2 } },
                { "ScheduledActionName": "once", "Schedule": "at(2030-01-01T00:00:00)", "ScalableTargetAction": { "MaxCapacity": 3 } },
            ])
        );
        // The rendered stack holds target tracking and step policies on one target.
        let stack = f.stack("api").expect("renders");
        let r = &stack["Resources"];
        assert_eq!(
            r["AutoScalingStepInAlarm"]["Type"],
            serde_yaml::Value::from("AWS::CloudWatch::Alarm")
        );
        assert_eq!(
            r["AutoScalingStepOut"]["Properties"]["PolicyType"],
            serde_yaml::Value::from("StepScaling")
        );
        assert_eq!(
            r["AutoScalingPolicyCPU"]["Properties"]["PolicyType"],
            serde_yaml::Value::from("TargetTrackingScaling")
        );
        assert_eq!(
            r["AutoScalingTarget"]["Properties"]["ScheduledActions"][0]["Timezone"],
            serde_yaml::Value::from("Europe/Paris")
        );
    }
}
