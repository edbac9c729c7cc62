//! The values AWS Copilot's custom resources computed, read where they live now, so that
//! adoption pins them instead of letting tug's own choices change a running application:
//!
//! - listener rule priorities (`HTTPRulePriorityAction` and friends chose them: 1, 2, ... for
//!   paths, 50000 downwards for the root path), read with ELBv2 DescribeRules. tug's own
//!   choice could clash with a rule a Copilot service not yet adopted holds on the same
//!   listener, and a clash fails the update;
//! - ECS services' desired counts (`DynamicDesiredCountAction` returned the running count),
//!   read with ECS DescribeServices, so that adoption scales nothing up or down;
//! - the environment's feature parameters (`ALBWorkloads`, `NATWorkloads`, `EFSWorkloads`,
//!   ...), which every workload's `EnvControllerAction` rewrites: [`pin_features`] writes
//!   their values into the environment template's conditions, so that no such rewrite (a
//!   Copilot command run while the environment is half adopted) can delete the load balancer,
//!   NAT gateways or file system.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::deploy::adopt::template::{self, Known};
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::service_arn;
use crate::deploy::stack::Resource;
use crate::deploy::watch::split_service_arn;
use crate::error::{Error, Result};

/// What Copilot's custom resources computed for one stack, by logical id.
#[derive(Debug, Clone, Default)]
pub struct Computed {
    /// Listener rules: the priority each holds.
    pub priorities: BTreeMap<String, i32>,
    /// ECS services: the desired count each runs with.
    pub desired_counts: BTreeMap<String, i32>,
    /// The environment's certificate: the physical id of `HTTPSCert`, the ARN of the ACM
    /// certificate its Lambda requested (see `certificate`).
    pub certificate: Option<String>,
}

const LISTENER_RULE: &str = "AWS::ElasticLoadBalancingV2::ListenerRule";
const SERVICE: &str = "AWS::ECS::Service";

/// Reads the priorities of a stack's listener rules and the desired counts of its services.
/// `deployed` is the stack's template and `known` its parameters: a service whose ARN is in
/// ECS's old format (`service/<name>`, no cluster) is found in the cluster its template names.
pub async fn read(
    aws: &Aws,
    stack: &str,
    resources: &[Resource],
    deployed: &Value,
    known: &Known<'_>,
) -> Result<Computed> {
    let mut out = Computed {
        certificate: resources
            .iter()
            .find(|r| r.logical_id == "HTTPSCert")
            .and_then(|r| r.physical_id.clone()),
        ..Computed::default()
    };
    let of_type = |t: &str| -> Vec<(String, String)> {
        resources
            .iter()
            .filter(|r| r.resource_type == t)
            .filter_map(|r| Some((r.logical_id.clone(), r.physical_id.clone()?)))
            .collect()
    };
    let rules = of_type(LISTENER_RULE);
    // DescribeRules takes up to 20 ARNs a call.
    for chunk in rules.chunks(20) {
        let answer = aws
            .elb
            .describe_rules()
            .set_rule_arns(Some(chunk.iter().map(|(_, arn)| arn.clone()).collect()))
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot read the listener rules of {stack} (their priorities are kept): {}",
                    describe_error(&e)
                ))
                .about(stack)
            })?;
        for rule in answer.rules() {
            let Some((id, _)) = chunk
                .iter()
                .find(|(_, arn)| Some(arn.as_str()) == rule.rule_arn())
            else {
                continue;
            };
            if let Some(p) = rule.priority().and_then(|p| p.parse::<i32>().ok()) {
                out.priorities.insert(id.clone(), p);
            }
        }
    }
    for (id, arn) in of_type(SERVICE) {
        let found = match split_service_arn(&arn) {
            Some(both) => Some(both),
            None => service_arn::old_format(aws, &arn, &id, resources, deployed, known).await?,
        };
        let Some((cluster, service)) = found else {
            continue;
        };
        let answer = aws
            .ecs
            .describe_services()
            .cluster(&cluster)
            .services(&service)
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot read ECS service {service} of {stack} (its desired count is kept): {}",
                    describe_error(&e)
                ))
                .about(&service)
            })?;
        if let Some(s) = answer.services().first() {
            out.desired_counts.insert(id, s.desired_count());
        }
    }
    Ok(out)
}

/// The parameters of Copilot's environment stack that its workloads' `EnvControllerAction`
/// rewrites (a workload added to or taken out of a feature). The environment's own settings
/// (`Aliases`, `CreateHTTPSListener`, ...) come from its manifest and are not among them.
pub const FEATURE_PARAMETERS: &[&str] = &[
    "ALBWorkloads",
    "InternalALBWorkloads",
    "EFSWorkloads",
    "NATWorkloads",
    "AppRunnerPrivateWorkloads",
];

/// The deployed template's `Conditions` with every feature parameter written in as the value
/// it has (`CreateALB: !Not [!Equals [!Ref ALBWorkloads, ""]]` becomes
/// `!Not [!Equals [web, ""]]`): the parameters stay declared, so an `UpdateStack` that
/// passes them still succeeds, but their values no longer decide what exists. Returns the
/// names of the conditions that changed.
pub fn pin_features(
    template: &mut Value,
    parameters: &BTreeMap<String, String>,
    stack_name: &str,
) -> Vec<String> {
    let features: BTreeMap<String, String> = parameters
        .iter()
        .filter(|(k, _)| FEATURE_PARAMETERS.contains(&k.as_str()))
        .filter(|(k, _)| template.pointer(&format!("/Parameters/{k}")).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let known = Known {
        parameters: &features,
        stack_name,
    };
    let mut changed = Vec::new();
    let Some(conditions) = template
        .get_mut("Conditions")
        .and_then(Value::as_object_mut)
    else {
        return changed;
    };
    for (name, def) in conditions.iter_mut() {
        if !template::references(def)
            .iter()
            .any(|r| features.contains_key(r))
        {
            continue;
        }
        *def = template::evaluate(def, &known);
        changed.push(name.clone());
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn feature_parameters_are_written_into_conditions() {
        let mut t = json!({
            "Parameters": {"ALBWorkloads": {"Type": "String"}, "Aliases": {"Type": "String"}},
            "Conditions": {
                "CreateALB": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ALBWorkloads"}, ""]}]},
                "HasAliases": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Aliases"}, ""]}]},
            },
        });
        let params = BTreeMap::from([
            ("ALBWorkloads".to_string(), "web,api".to_string()),
            ("Aliases".to_string(), String::new()),
        ]);
        assert_eq!(
            pin_features(&mut t, &params, "demo-test"),
            vec!["CreateALB"]
        );
        assert_eq!(
            t["Conditions"]["CreateALB"],
            json!({"Fn::Not": [{"Fn::Equals": ["web,api", ""]}]})
        );
        // Not a feature parameter: left to the environment's manifest.
        assert_eq!(
            t["Conditions"]["HasAliases"],
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "Aliases"}, ""]}]})
        );
    }
}
