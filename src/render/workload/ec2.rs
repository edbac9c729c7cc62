//! Where a service's tasks run when EC2 capacity is involved: the capacity provider strategy
//! (`launch_type: ec2` means the environment's default EC2 provider), daemon scheduling,
//! placement strategies and constraints, and what the network mode changes (target type,
//! service discovery records, no awsvpc configuration in bridge or host mode).

use serde_json::{Value, json};

use crate::manifest::model::workload::WorkloadManifest;
use crate::render::capacity;
use crate::render::workload::Scope;
use crate::render::{RenderError, input_error};

/// Whether the service runs one task per container instance.
pub(crate) fn daemon(m: &WorkloadManifest) -> bool {
    m.scheduling
        .as_ref()
        .is_some_and(|s| s.value.eq_ignore_ascii_case("daemon"))
}

/// Whether tasks have their own network interface (awsvpc, the default).
pub(crate) fn awsvpc(m: &WorkloadManifest) -> bool {
    m.network_mode().eq_ignore_ascii_case("awsvpc")
}

/// The target type of the workload's load balancer target groups: tasks by IP in awsvpc
/// mode, container instances (with the task's host port) in bridge and host mode.
pub(crate) fn target_type(m: &WorkloadManifest) -> &'static str {
    if awsvpc(m) { "ip" } else { "instance" }
}

/// How an EC2 service is launched: `(launch_type, capacity_provider_strategy)`.
///
/// A daemon runs with launch type EC2 (ECS does not take a capacity provider strategy for
/// daemons; its tasks follow the instances the providers start). A replica service always
/// gets a strategy, so that ECS managed scaling sees its tasks and starts instances for them:
/// the manifest's `capacity_providers`, or the environment's default EC2 provider.
pub(crate) fn launch(scope: &Scope) -> Result<(Option<&'static str>, Option<Value>), RenderError> {
    let m = &scope.wl.manifest;
    if daemon(m) {
        return Ok((Some("EC2"), None));
    }
    let app = &scope.loaded.app;
    if let Some(items) = m.capacity_providers.as_ref().filter(|c| !c.is_empty()) {
        let strategy = items
            .iter()
            .map(|cp| {
                let name = cp.name.as_ref().map_or("", |n| n.value.as_str());
                let mut item =
                    json!({ "CapacityProvider": capacity::provider_name(app, scope.env, name) });
                if let Some(b) = &cp.base {
                    item["Base"] = json!(b.value);
                }
                item["Weight"] = json!(
                    cp.weight
                        .as_ref()
                        .map_or(if items.len() == 1 { 1 } else { 0 }, |w| w.value)
                );
                item
            })
            .collect();
        return Ok((None, Some(Value::Array(strategy))));
    }
    let provider =
        capacity::environment(scope.loaded, scope.env).and_then(capacity::default_provider);
    let Some(provider) = provider else {
        let span = m.launch_type.as_ref().map(|l| l.span).unwrap_or_default();
        return Err(RenderError::Input(vec![input_error(
            span,
            format!(
                "`launch_type: ec2` needs EC2 capacity, and environment `{}` has none",
                scope.env
            ),
            format!(
                "add `cluster.ec2` to the manifest of environment `{}` (see docs/ec2-and-scaling.md)",
                scope.env
            ),
        )]));
    };
    let name = capacity::manifest_name(provider);
    Ok((
        None,
        Some(
            json!([{ "CapacityProvider": capacity::provider_name(app, scope.env, name), "Weight": 1 }]),
        ),
    ))
}

/// `PlacementStrategies` and `PlacementConstraints` of the service, in manifest order
/// (ECS applies the strategies in that order).
pub(crate) fn placement(m: &WorkloadManifest) -> (Value, Value) {
    let Some(p) = &m.placement else {
        return (Value::Null, Value::Null);
    };
    let strategies: Vec<Value> = p
        .strategies
        .iter()
        .flat_map(|s| s.iter())
        .map(|s| {
            let kind = s
                .kind
                .as_ref()
                .map_or(String::new(), |k| k.value.to_ascii_lowercase());
            let mut item = json!({ "Type": kind });
            if kind != "random" {
                let field = s.field.as_ref().map_or("", |f| f.value.as_str());
                // ECS spells the binpack fields in lower case; `host` is `instanceId`.
                let field = match field.to_ascii_lowercase().as_str() {
                    "cpu" => "cpu".to_string(),
                    "memory" => "memory".to_string(),
                    "host" | "instanceid" => "instanceId".to_string(),
                    _ => field.to_string(),
                };
                item["Field"] = json!(field);
            }
            item
        })
        .collect();
    let constraints: Vec<Value> = p
        .constraints
        .iter()
        .flat_map(|c| c.iter())
        .map(|c| {
            let mut item = json!({ "Type": c.kind.as_ref().map_or("", |k| k.value.as_str()) });
            if let Some(e) = &c.expression {
                item["Expression"] = json!(e.value);
            }
            item
        })
        .collect();
    let or_null = |v: Vec<Value>| {
        if v.is_empty() {
            Value::Null
        } else {
            Value::Array(v)
        }
    };
    (or_null(strategies), or_null(constraints))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::workload::fixture::Fixture;

    const ENV: &str = "name: test\ntype: Environment\ncluster:\n  ec2:\n    - name: general\n      instance_types: t3.small\n      max: 2\n    - name: big\n      instance_types: m5.large\n      max: 2\n      default: true\n";

    fn service(manifest: &str) -> (Result<Value, RenderError>, Option<serde_yaml::Value>) {
        let f = Fixture::new(ENV, &[("api", manifest)]);
        let scope = f.scope("api");
        let http = crate::render::workload::http::context(&scope).unwrap();
        let nlb = crate::render::workload::nlb::context(&scope).unwrap();
        (
            crate::render::workload::service::context(&scope, &http, &nlb),
            f.stack("api"),
        )
    }

    const HEAD: &str = "name: api\ntype: Backend Service\nimage:\n  location: nginx\n  port: 80\n";

    #[test]
    fn launch_type_ec2_uses_the_default_provider() {
        let (v, stack) = service(&format!("{HEAD}launch_type: ec2\nnetwork_mode: bridge\n"));
        let v = v.unwrap();
        assert_eq!(
            v["capacity_provider_strategy"],
            json!([{ "CapacityProvider": "shop-test-big", "Weight": 1 }])
        );
        assert_eq!(v["launch_type"], Value::Null);
        assert_eq!(v["network"], Value::Null);
        let stack = stack.expect("renders");
        let svc = &stack["Resources"]["Service"]["Properties"];
        assert!(svc.get("NetworkConfiguration").is_none());
        assert!(svc.get("PlatformVersion").is_none());
        let td = &stack["Resources"]["TaskDefinition"]["Properties"];
        assert_eq!(td["NetworkMode"], serde_yaml::Value::from("bridge"));
        assert_eq!(
            td["RequiresCompatibilities"][0],
            serde_yaml::Value::from("EC2")
        );
        // Bridge tasks are found through SRV records naming the container and port.
        let registry = &svc["ServiceRegistries"][0];
        assert_eq!(registry["ContainerName"], serde_yaml::Value::from("api"));
        assert_eq!(registry["ContainerPort"], serde_yaml::Value::from(80));
        let dns = &stack["Resources"]["DiscoveryService"]["Properties"]["DnsConfig"];
        assert_eq!(dns["DnsRecords"][0]["Type"], serde_yaml::Value::from("SRV"));
    }

    #[test]
    fn daemon_with_placement_constraints() {
        let (v, stack) = service(&format!(
            "{HEAD}launch_type: ec2\nscheduling: daemon\nplacement:\n  constraints:\n    - type: memberOf\n      expression: attribute:ecs.instance-type =~ m5.*\n"
        ));
        let v = v.unwrap();
        assert_eq!(v["launch_type"], "EC2");
        assert_eq!(v["daemon"], true);
        assert_eq!(v["desired_count"], Value::Null);
        let stack = stack.expect("renders");
        let svc = &stack["Resources"]["Service"]["Properties"];
        assert_eq!(svc["SchedulingStrategy"], serde_yaml::Value::from("DAEMON"));
        assert!(svc.get("DesiredCount").is_none());
        assert!(svc.get("CapacityProviderStrategy").is_none());
        assert_eq!(
            svc["DeploymentConfiguration"]["MaximumPercent"],
            serde_yaml::Value::from(100)
        );
        assert_eq!(
            svc["PlacementConstraints"][0]["Expression"],
            serde_yaml::Value::from("attribute:ecs.instance-type =~ m5.*")
        );
        // awsvpc on EC2: no public IP (ECS only gives those to Fargate tasks).
        assert_eq!(
            svc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"],
            serde_yaml::Value::from("DISABLED")
        );
    }

    #[test]
    fn explicit_strategy_and_placement_order() {
        let (v, _) = service(&format!(
            "{HEAD}capacity_providers:\n  - name: general\n    base: 1\n    weight: 1\n  - name: big\n    weight: 3\nplacement:\n  strategies:\n    - type: spread\n      field: attribute:ecs.availability-zone\n    - type: binpack\n      field: Memory\n    - type: random\n"
        ));
        let v = v.unwrap();
        assert_eq!(
            v["capacity_provider_strategy"],
            json!([
                { "CapacityProvider": "shop-test-general", "Base": 1, "Weight": 1 },
                { "CapacityProvider": "shop-test-big", "Weight": 3 },
            ])
        );
        assert_eq!(
            v["placement_strategies"],
            json!([
                { "Type": "spread", "Field": "attribute:ecs.availability-zone" },
                { "Type": "binpack", "Field": "memory" },
                { "Type": "random" },
            ])
        );
    }

    #[test]
    fn scheduled_job_runs_on_ec2_with_placement() {
        let job = "name: api\ntype: Scheduled Job\nimage:\n  location: busybox\non:\n  schedule: \"@daily\"\ncapacity_providers:\n  - name: general\nnetwork_mode: bridge\nplacement:\n  strategies:\n    - type: binpack\n      field: cpu\n";
        let f = Fixture::new(ENV, &[("api", job)]);
        let v = crate::render::workload::job::context(&f.scope("api")).unwrap();
        let def = &v["state_machine"]["definition"];
        let params = &def["States"]["RunTask"]["Parameters"];
        assert_eq!(
            params["CapacityProviderStrategy"],
            json!([{ "CapacityProvider": "shop-test-general", "Weight": 1 }])
        );
        assert_eq!(
            params["PlacementStrategy"],
            json!([{ "Type": "binpack", "Field": "cpu" }])
        );
        assert!(params.get("NetworkConfiguration").is_none());
        assert!(params.get("PlatformVersion").is_none());
        assert!(v["state_machine"]["substitutions"].get("Subnets").is_none());
        assert!(f.stack("api").is_some());
    }

    #[test]
    fn target_type_follows_the_network_mode() {
        for (mode, expected) in [
            ("awsvpc", "ip"),
            ("bridge", "instance"),
            ("host", "instance"),
        ] {
            let web = format!(
                "name: api\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 80\nhttp:\n  path: /\nlaunch_type: ec2\nnetwork_mode: {mode}\n"
            );
            let f = Fixture::new(ENV, &[("api", &web)]);
            let stack = f.stack("api").expect("renders");
            assert_eq!(
                stack["Resources"]["TargetGroup"]["Properties"]["TargetType"],
                serde_yaml::Value::from(expected),
                "{mode}"
            );
            assert_eq!(
                stack["Resources"]["Service"]["Properties"]
                    .get("NetworkConfiguration")
                    .is_some(),
                mode == "awsvpc",
                "{mode}"
            );
        }
    }
}
