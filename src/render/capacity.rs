//! EC2 capacity of an environment (`cluster.ec2`): for each named provider a launch template on
//! the ECS-optimized Amazon Linux 2023 AMI (read from its public SSM parameter), an Auto Scaling
//! group in the environment's subnets and security group, and an ECS capacity provider with
//! managed scaling, termination protection and draining; one instance role and profile shared by
//! the providers; and the cluster's capacity provider associations with the default strategy.
//!
//! Workloads name providers as the manifest does (`general`); the ECS name is
//! `<app>-<env>-<name>` ([`provider_name`]), because capacity provider names are unique per
//! account and Region, not per cluster.

use serde_json::{Value, json};

use crate::manifest::decode::Located;
use crate::manifest::load::{Loaded, ResolvedEnvironment};
use crate::manifest::model::environment::Ec2Capacity;
use crate::manifest::names;

// Which providers an environment declares and what they are called are the model's (the
// validation rules read them too).
pub use crate::manifest::capacity::{
    DEFAULT_PROVIDER, default_provider, manifest_name, provider_name, providers,
};

const MIN_INSTANCES: u32 = 1;
const TARGET_CAPACITY: u32 = 100;
const MIN_STEP: u32 = 1;
const MAX_STEP: u32 = 10;
const WARMUP: u32 = 300;

/// Public SSM parameters of the ECS-optimized Amazon Linux 2023 AMI.
const AMI_X86_64: &str = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id";
const AMI_ARM64: &str =
    "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id";

/// The environment named `env` of the workspace.
pub fn environment<'a>(loaded: &'a Loaded, env: &str) -> Option<&'a ResolvedEnvironment> {
    loaded.environments.iter().find(|e| e.name == env)
}

/// Whether a provider's manifest asks for private subnets (behind NAT) explicitly.
pub fn private(p: &Ec2Capacity) -> bool {
    p.placement
        .as_ref()
        .is_some_and(|s| s.value.eq_ignore_ascii_case("private"))
}

/// Whether a provider's instances run in private subnets: when the manifest says so, and when it
/// says nothing but the environment already routes its private subnets through NAT (`nat`),
/// since then an instance there still reaches ECS, ECR and CloudWatch and needs no public IP.
/// Without NAT, a private instance could not register with ECS at all, and turning on NAT
/// gateways (paid per hour and per AZ) only to avoid a public IP is the user's call: such
/// instances stay public, and the security group still admits nothing from the internet.
pub fn placed_private(p: &Ec2Capacity, nat: bool) -> bool {
    match &p.placement {
        Some(s) => s.value.eq_ignore_ascii_case("private"),
        None => nat,
    }
}

fn on(v: Option<&Located<bool>>) -> &'static str {
    if v.is_none_or(|v| v.value) {
        "ENABLED"
    } else {
        "DISABLED"
    }
}

/// The view model of the cluster's capacity: `ec2` (the EC2 providers, or null without any),
/// `associated` (every provider associated with the cluster) and `default_strategy`.
/// `public_subnets` and `private_subnets` are the environment's subnet lists as rendered; `nat`
/// whether the private subnets have NAT egress (see [`placed_private`]).
///
/// Every environment associates its providers through one `ClusterCapacityProviderAssociations`
/// resource, never through the cluster's own properties: adding or removing EC2 providers then
/// updates that one resource, and CloudFormation never deletes it (which would detach FARGATE
/// too).
pub fn context(
    app: &str,
    env: &ResolvedEnvironment,
    public_subnets: &Value,
    private_subnets: &Value,
    fargate_spot: bool,
    nat: bool,
) -> Value {
    let list = providers(env);
    let mut amis: Vec<Value> = Vec::new();
    let mut rendered = Vec::new();
    let mut associated = vec![json!("FARGATE")];
    if fargate_spot {
        associated.push(json!("FARGATE_SPOT"));
    }
    let subnets = Subnets {
        public: public_subnets,
        private: private_subnets,
        nat,
    };
    for p in &list {
        let id = format!("Ec2{}", names::logical_id(manifest_name(p)));
        let ami_id = ami(p, &mut amis);
        associated.push(json!({ "Ref": format!("{id}CapacityProvider") }));
        rendered.push(provider(app, env, p, &id, ami_id, &subnets));
    }
    json!({
        "ec2": if rendered.is_empty() { Value::Null } else { json!({ "amis": amis, "providers": rendered }) },
        "associated": associated,
        "default_strategy": default_strategy(&list),
    })
}

/// The environment's subnet lists as rendered, and whether the private ones have NAT.
struct Subnets<'a> {
    public: &'a Value,
    private: &'a Value,
    nat: bool,
}

/// The AMI parameter a provider's instances boot (x86_64 or arm64), added to `amis` once.
fn ami(p: &Ec2Capacity, amis: &mut Vec<Value>) -> &'static str {
    let arm = p
        .architecture
        .as_ref()
        .is_some_and(|a| a.value.eq_ignore_ascii_case("arm64"));
    let (ami_id, ami_path, ami_arch) = if arm {
        ("EcsAmiArm64", AMI_ARM64, "arm64")
    } else {
        ("EcsAmiX8664", AMI_X86_64, "x86_64")
    };
    if !amis.iter().any(|a| a["id"] == ami_id) {
        amis.push(json!({
            "id": ami_id,
            "default": ami_path,
            "description": format!("The ECS-optimized Amazon Linux 2023 AMI ({ami_arch}), read from its public SSM parameter on every deploy"),
        }));
    }
    ami_id
}

/// One EC2 capacity provider: its launch template, Auto Scaling group and managed scaling.
fn provider(
    app: &str,
    env: &ResolvedEnvironment,
    p: &Ec2Capacity,
    id: &str,
    ami_id: &str,
    subnets: &Subnets,
) -> Value {
    let has = |v: &Value| v.as_array().is_some_and(|a| !a.is_empty());
    let name = manifest_name(p);
    let types: Vec<String> = p
        .instance_types
        .as_ref()
        .map(|t| t.value.items().into_iter().cloned().collect())
        .unwrap_or_default();
    let private = placed_private(p, subnets.nat) && has(subnets.private) || !has(subnets.public);
    let subnet_list = if private {
        subnets.private.clone()
    } else {
        subnets.public.clone()
    };
    let protection = p
        .managed_termination_protection
        .as_ref()
        .is_none_or(|v| v.value);
    let min = p.min.as_ref().map_or(MIN_INSTANCES, |v| v.value);
    let max = p.max.as_ref().map_or(min.max(1), |v| v.value);
    let min_step = p
        .minimum_scaling_step_size
        .as_ref()
        .map_or(MIN_STEP, |v| v.value);
    let max_step = p
        .maximum_scaling_step_size
        .as_ref()
        .map_or(MAX_STEP.max(min_step), |v| v.value);
    let ecs_name = provider_name(app, &env.name, name);
    // Several instance types: a mixed-instances policy overrides the type per choice.
    let mixed = (types.len() > 1).then(|| {
        json!({
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {
                    "LaunchTemplateId": { "Ref": format!("{id}LaunchTemplate") },
                    "Version": { "Fn::GetAtt": [format!("{id}LaunchTemplate"), "LatestVersionNumber"] },
                },
                "Overrides": types.iter().map(|t| json!({ "InstanceType": t })).collect::<Vec<_>>(),
            },
        })
    });
    json!({
        "id": id,
        "name": ecs_name,
        "ami": ami_id,
        "instance_type": (types.len() == 1).then(|| types[0].clone()),
        "mixed": mixed,
        "public_ip": !private,
        "subnets": subnet_list,
        "min": min.to_string(),
        "max": max.to_string(),
        "desired": p.desired.as_ref().map(|d| d.value.to_string()),
        "protect": protection,
        "managed_scaling": {
            "Status": "ENABLED",
            "TargetCapacity": p.target_capacity.as_ref().map_or(TARGET_CAPACITY, |v| v.value),
            "MinimumScalingStepSize": min_step,
            "MaximumScalingStepSize": max_step,
            "InstanceWarmupPeriod": p.instance_warmup_period.as_ref().map_or(WARMUP, |v| v.value),
        },
        "termination_protection": if protection { "ENABLED" } else { "DISABLED" },
        "draining": on(p.managed_draining.as_ref()),
        "instance_tags": [
            { "Key": "Name", "Value": ecs_name },
            { "Key": "tug:app", "Value": app },
            { "Key": "tug:env", "Value": env.name },
        ],
        "group_tags": [
            { "Key": "Name", "Value": ecs_name, "PropagateAtLaunch": true },
            { "Key": "tug:app", "Value": app, "PropagateAtLaunch": true },
            { "Key": "tug:env", "Value": env.name, "PropagateAtLaunch": true },
        ],
    })
}

/// The cluster's default strategy: an EC2 provider marked `default`, else Fargate.
fn default_strategy(list: &[&Located<Ec2Capacity>]) -> Value {
    match list
        .iter()
        .find(|p| p.default.as_ref().is_some_and(|d| d.value))
    {
        Some(p) => {
            let mut item = json!({
                "CapacityProvider": { "Ref": format!("Ec2{}CapacityProvider", names::logical_id(manifest_name(p))) },
                "Weight": p.weight.as_ref().map_or(1, |w| w.value),
            });
            if let Some(b) = &p.base {
                item["Base"] = json!(b.value);
            }
            json!([item])
        }
        None => json!([{ "CapacityProvider": "FARGATE", "Weight": 1 }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::workload::fixture::Fixture;

    const TWO: &str = "name: test\ntype: Environment\ncluster:\n  ec2:\n    - name: general\n      instance_types: [t3.medium, t3a.medium]\n      min: 0\n      max: 4\n      default: true\n      base: 1\n    - name: graviton\n      instance_types: t4g.small\n      architecture: arm64\n      max: 2\n      managed_termination_protection: false\n      placement: private\n";

    #[test]
    fn two_providers_with_a_default() {
        let f = Fixture::new(TWO, &[]);
        let env = &f.loaded.environments[0];
        let v = context(
            "demo",
            env,
            &json!([{ "Ref": "PublicSubnet1" }]),
            &json!([{ "Ref": "PrivateSubnet1" }]),
            true,
            false,
        );
        let p = &v["ec2"]["providers"];
        assert_eq!(p[0]["name"], "demo-test-general");
        assert_eq!(p[0]["instance_type"], Value::Null);
        assert_eq!(
            p[0]["mixed"]["LaunchTemplate"]["Overrides"][1]["InstanceType"],
            "t3a.medium"
        );
        assert_eq!(p[0]["protect"], true);
        assert_eq!(p[0]["public_ip"], true);
        assert_eq!(p[0]["min"], "0");
        assert_eq!(p[1]["ami"], "EcsAmiArm64");
        assert_eq!(p[1]["termination_protection"], "DISABLED");
        assert_eq!(p[1]["subnets"], json!([{ "Ref": "PrivateSubnet1" }]));
        assert_eq!(p[1]["min"], "1");
        assert_eq!(v["ec2"]["amis"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            v["associated"],
            json!(["FARGATE", "FARGATE_SPOT", { "Ref": "Ec2GeneralCapacityProvider" }, { "Ref": "Ec2GravitonCapacityProvider" }])
        );
        assert_eq!(
            v["default_strategy"],
            json!([{ "CapacityProvider": { "Ref": "Ec2GeneralCapacityProvider" }, "Weight": 1, "Base": 1 }])
        );
    }

    #[test]
    fn instances_default_to_private_subnets_when_nat_is_there() {
        let f = Fixture::new(TWO, &[]);
        let env = &f.loaded.environments[0];
        let public = json!([{ "Ref": "PublicSubnet1" }]);
        let private = json!([{ "Ref": "PrivateSubnet1" }]);
        let with_nat = context("demo", env, &public, &private, true, true);
        // `general` says nothing: private once NAT exists, public without it.
        let general = &with_nat["ec2"]["providers"][0];
        assert_eq!(general["public_ip"], false);
        assert_eq!(general["subnets"], private);
        let without = context("demo", env, &public, &private, true, false);
        assert_eq!(without["ec2"]["providers"][0]["public_ip"], true);
        assert_eq!(without["ec2"]["providers"][0]["subnets"], public);
        // An explicit `placement: public` stays public even with NAT.
        let explicit = TWO.replace(
            "      default: true\n",
            "      default: true\n      placement: public\n",
        );
        let f = Fixture::new(&explicit, &[]);
        let v = context(
            "demo",
            &f.loaded.environments[0],
            &public,
            &private,
            true,
            true,
        );
        assert_eq!(v["ec2"]["providers"][0]["public_ip"], true);
    }

    #[test]
    fn fargate_only() {
        let f = Fixture::new("name: test\ntype: Environment\n", &[]);
        let env = &f.loaded.environments[0];
        let v = context("demo", env, &json!([]), &json!([]), false, false);
        assert!(v["ec2"].is_null());
        assert_eq!(v["associated"], json!(["FARGATE"]));
        assert_eq!(
            v["default_strategy"],
            json!([{ "CapacityProvider": "FARGATE", "Weight": 1 }])
        );
    }
}
