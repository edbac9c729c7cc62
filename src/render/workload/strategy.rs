//! ECS's native deployment strategies on a service: rolling (the default), blue/green, canary
//! and linear. This module owns the strategy half of `DeploymentConfiguration` (strategy, bake
//! time, traffic steps, lifecycle hooks), the `AdvancedConfiguration` that lets ECS shift
//! traffic between a service's two target groups, and the IAM roles ECS needs for that (the
//! load-balancer infrastructure role and the role that invokes Lambda hooks).
//!
//! The target groups and listener rules themselves are in `http`: with a traffic-shifting
//! strategy each routing rule gets an alternate target group, and its production rule forwards
//! to both with weights 100/0. ECS rewrites those weights during every deployment; the rule is
//! rendered identically on every deploy so that a stack update never touches it (an update
//! would reset the weights to the first target group, which after a deployment is the idle
//! one).

use serde_json::{Value, json};

use crate::manifest::model::service::{Deployment, LifecycleHook};
use crate::render::workload::Scope;

/// ECS's default bake time for blue/green, canary and linear deployments when none is given.
const DEFAULT_BAKE_MINUTES: u64 = 15;
/// ECS's default canary: 5 % of the traffic for 10 minutes.
const DEFAULT_CANARY_PERCENT: f64 = 5.0;
const DEFAULT_CANARY_BAKE_MINUTES: u64 = 10;
/// ECS's default linear steps: 10 % every 6 minutes.
const DEFAULT_LINEAR_STEP_PERCENT: f64 = 10.0;
const DEFAULT_LINEAR_STEP_MINUTES: u64 = 6;
/// ECS's default wait for a hook, and what happens when it runs out.
const DEFAULT_HOOK_TIMEOUT_MINUTES: u64 = 1440;

/// A deployment strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    Rolling,
    BlueGreen,
    Canary,
    Linear,
}

impl Strategy {
    /// The strategy a manifest asks for (validation has rejected unknown names).
    pub(crate) fn of(d: Option<&Deployment>) -> Strategy {
        let name = d
            .and_then(|d| d.strategy.as_ref())
            .map(|s| s.value.to_ascii_lowercase().replace('-', "_"));
        match name.as_deref() {
            Some("blue_green" | "bluegreen") => Strategy::BlueGreen,
            Some("canary") => Strategy::Canary,
            Some("linear") => Strategy::Linear,
            _ => Strategy::Rolling,
        }
    }

    /// Whether ECS moves traffic between two target groups (everything but rolling).
    pub(crate) fn shifts_traffic(self) -> bool {
        self != Strategy::Rolling
    }

    /// The value of `DeploymentConfiguration.Strategy`.
    pub(crate) fn ecs_name(self) -> &'static str {
        match self {
            Strategy::Rolling => "ROLLING",
            Strategy::BlueGreen => "BLUE_GREEN",
            Strategy::Canary => "CANARY",
            Strategy::Linear => "LINEAR",
        }
    }
}

fn whole_minutes(
    d: Option<&crate::manifest::decode::Located<crate::manifest::duration::Duration>>,
) -> Option<u64> {
    d.map(|d| d.value.millis / 60_000)
}

/// Fills the strategy part of `DeploymentConfiguration` for a traffic-shifting strategy. The
/// rolling knobs (percentages, circuit breaker) do not apply and are removed; alarms stay.
pub(crate) fn configure(d: Option<&Deployment>, strategy: Strategy, config: &mut Value) {
    if !strategy.shifts_traffic() {
        return;
    }
    if let Some(obj) = config.as_object_mut() {
        obj.remove("MinimumHealthyPercent");
        obj.remove("MaximumPercent");
        obj.remove("DeploymentCircuitBreaker");
    }
    config["Strategy"] = json!(strategy.ecs_name());
    config["BakeTimeInMinutes"] =
        json!(whole_minutes(d.and_then(|d| d.bake_time.as_ref())).unwrap_or(DEFAULT_BAKE_MINUTES));
    match strategy {
        Strategy::Canary => {
            let c = d.and_then(|d| d.canary.as_ref());
            config["CanaryConfiguration"] = json!({
                "CanaryPercent": c.and_then(|c| c.percent.as_ref()).map_or(DEFAULT_CANARY_PERCENT, |p| p.value),
                "CanaryBakeTimeInMinutes": whole_minutes(c.and_then(|c| c.bake_time.as_ref())).unwrap_or(DEFAULT_CANARY_BAKE_MINUTES),
            });
        }
        Strategy::Linear => {
            let l = d.and_then(|d| d.linear.as_ref());
            config["LinearConfiguration"] = json!({
                "StepPercent": l.and_then(|l| l.step_percent.as_ref()).map_or(DEFAULT_LINEAR_STEP_PERCENT, |p| p.value),
                "StepBakeTimeInMinutes": whole_minutes(l.and_then(|l| l.step_bake_time.as_ref())).unwrap_or(DEFAULT_LINEAR_STEP_MINUTES),
            });
        }
        _ => {}
    }
    let hooks: Vec<Value> = d
        .and_then(|d| d.hooks.as_ref())
        .into_iter()
        .flat_map(|h| h.iter())
        .map(|h| hook(&h.value))
        .collect();
    if !hooks.is_empty() {
        config["LifecycleHooks"] = Value::Array(hooks);
    }
}

fn hook(h: &LifecycleHook) -> Value {
    let stages: Vec<Value> = h
        .stages
        .iter()
        .flat_map(|s| s.iter())
        .map(|s| json!(s.value))
        .collect();
    let timeout = json!({
        "TimeoutInMinutes": whole_minutes(h.timeout.as_ref()).unwrap_or(DEFAULT_HOOK_TIMEOUT_MINUTES),
        "Action": h.timeout_action.as_ref().map_or("ROLLBACK".to_string(), |a| a.value.to_ascii_uppercase()),
    });
    match &h.lambda {
        Some(arn) => {
            let role = match &h.role {
                Some(r) => json!(r.value),
                None => json!({ "Fn::GetAtt": ["LifecycleHookRole", "Arn"] }),
            };
            json!({
                "TargetType": "AWS_LAMBDA",
                "HookTargetArn": arn.value,
                "RoleArn": role,
                "LifecycleStages": stages,
                "TimeoutConfiguration": timeout,
            })
        }
        None => json!({
            "TargetType": "PAUSE",
            "LifecycleStages": stages,
            "TimeoutConfiguration": timeout,
        }),
    }
}

/// The view model of the strategy's IAM roles, or null for rolling.
pub(crate) fn context(scope: &Scope, strategy: Strategy) -> Value {
    if !strategy.shifts_traffic() {
        return Value::Null;
    }
    let d = scope.wl.manifest.deployment.as_ref().map(|d| &d.value);
    // Lambda hooks without their own role are invoked through one role tug creates.
    let lambdas: Vec<Value> = d
        .and_then(|d| d.hooks.as_ref())
        .into_iter()
        .flat_map(|h| h.iter())
        .filter(|h| h.role.is_none())
        .filter_map(|h| h.lambda.as_ref().map(|l| json!(l.value)))
        .collect();
    json!({
        "name": strategy.ecs_name(),
        "hook_lambdas": if lambdas.is_empty() { Value::Null } else { Value::Array(lambdas) },
    })
}

/// Adds `AdvancedConfiguration` to the service's load balancer entries: the alternate target
/// group, the production and test listener rules, and the infrastructure role.
pub(crate) fn attach(http: &Value, load_balancers: &mut [Value]) {
    for tg in http["target_groups"].as_array().into_iter().flatten() {
        let Some(alternate) = tg["alternate"].as_str() else {
            continue;
        };
        let Some(entry) = load_balancers
            .iter_mut()
            .find(|lb| lb["TargetGroupArn"]["Ref"] == tg["id"])
        else {
            continue;
        };
        let mut advanced = json!({
            "AlternateTargetGroupArn": { "Ref": alternate },
            "ProductionListenerRule": { "Ref": tg["production_rule"] },
            "RoleArn": { "Fn::GetAtt": ["LoadBalancerInfrastructureRole", "Arn"] },
        });
        if let Some(test) = tg["test_rule"].as_str() {
            advanced["TestListenerRule"] = json!({ "Ref": test });
        }
        entry["AdvancedConfiguration"] = advanced;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_ecs() {
        assert_eq!(Strategy::of(None), Strategy::Rolling);
        assert_eq!(Strategy::BlueGreen.ecs_name(), "BLUE_GREEN");
        assert!(!Strategy::Rolling.shifts_traffic());
        assert!(Strategy::Linear.shifts_traffic());
    }

    #[test]
    fn rolling_configuration_is_left_alone() {
        let mut config = json!({ "MinimumHealthyPercent": 100 });
        configure(None, Strategy::Rolling, &mut config);
        assert_eq!(config, json!({ "MinimumHealthyPercent": 100 }));
    }

    #[test]
    fn canary_defaults_follow_ecs() {
        let mut config = json!({ "MinimumHealthyPercent": 100, "MaximumPercent": 200, "DeploymentCircuitBreaker": {} });
        configure(None, Strategy::Canary, &mut config);
        assert_eq!(
            config,
            json!({
                "Strategy": "CANARY",
                "BakeTimeInMinutes": 15,
                "CanaryConfiguration": { "CanaryPercent": 5.0, "CanaryBakeTimeInMinutes": 10 },
            })
        );
    }
}
