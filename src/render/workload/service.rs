//! The ECS service of a long-running workload: count or capacity strategy, networking,
//! deployment configuration (rolling, with circuit breaker and rollback alarms), load balancer
//! attachments, Cloud Map DNS discovery and Service Connect, ECS Exec; EC2 launch, daemon scheduling
//! and placement come from [`ec2`].

use serde_json::{Value, json};

use crate::manifest::model::WorkloadKind;
use crate::manifest::model::service::{Count, Deployment};
use crate::manifest::model::workload::WorkloadManifest;
use crate::manifest::union::{BoolOr, ListOr, ScalarOr};
use crate::render::workload::strategy::{self, Strategy};
use crate::render::workload::{Scope, ec2};
use crate::render::{RenderError, input_error};

/// Subnets and public IP assignment from `network.vpc.placement`.
pub(crate) fn network(scope: &Scope, parameters: &mut Vec<Value>) -> Value {
    let m = &scope.wl.manifest;
    let vpc = m.network.as_ref().and_then(|n| n.vpc.as_ref());
    let (subnets, public_ip) = match vpc.and_then(|v| v.placement.as_ref()).map(|p| &p.value) {
        Some(ScalarOr::Scalar(s)) if s.eq_ignore_ascii_case("private") => {
            (scope.import_list("PrivateSubnets"), "DISABLED")
        }
        Some(ScalarOr::Config(c)) => match c.subnets.as_ref().map(|s| &s.value) {
            Some(ListOr::List(ids)) => (json!(ids), "DISABLED"),
            _ => {
                parameters.push(json!({
                    "name": "Subnets",
                    "type": "CommaDelimitedList",
                    "description": "The subnets selected by `network.vpc.placement.subnets.from_tags`; tug resolves them when it deploys",
                    "default": null,
                    "file_value": "<resolved at deploy time from the subnet tags>",
                }));
                (json!({ "Ref": "Subnets" }), "DISABLED")
            }
        },
        _ => (scope.import_list("PublicSubnets"), "ENABLED"),
    };
    let mut groups = Vec::new();
    let mut deny_default = false;
    if let Some(sgs) = vpc.and_then(|v| v.security_groups.as_ref()) {
        let list = match &sgs.value {
            ListOr::List(l) => l.clone(),
            ListOr::Config(c) => {
                deny_default = c.deny_default.as_ref().is_some_and(|d| d.value);
                c.groups
                    .as_ref()
                    .map(|g| g.value.clone())
                    .unwrap_or_default()
            }
        };
        for g in list {
            groups.push(match &g.value {
                ScalarOr::Scalar(id) => json!(id),
                ScalarOr::Config(c) => json!({ "Fn::ImportValue": c.from_cfn.as_ref().map(|f| f.value.clone()).unwrap_or_default() }),
            });
        }
    }
    if !deny_default {
        groups.insert(0, scope.import("EnvironmentSecurityGroup"));
    }
    // Security groups the addons output, as Copilot added them.
    for output in scope
        .addons
        .iter()
        .flat_map(|a| a.outputs_of(crate::manifest::addons::OutputKind::SecurityGroup))
    {
        groups.push(crate::manifest::addons::Addons::output_value(&output.name));
    }
    json!({ "AwsvpcConfiguration": { "AssignPublicIp": public_ip, "Subnets": subnets, "SecurityGroups": groups } })
}

fn deployment(scope: &Scope, d: Option<&Deployment>) -> (Value, Vec<Value>) {
    let (mut min, mut max) = (100, 200);
    if d.and_then(|d| d.rolling.as_ref())
        .is_some_and(|r| r.value.eq_ignore_ascii_case("recreate"))
    {
        (min, max) = (0, 100);
    }
    if let Some(v) = d.and_then(|d| d.min_healthy_percent.as_ref()) {
        min = v.value;
    }
    if let Some(v) = d.and_then(|d| d.max_percent.as_ref()) {
        max = v.value;
    }
    let breaker = d
        .and_then(|d| d.circuit_breaker.as_ref())
        .is_none_or(|c| c.value);
    let mut config = json!({
        "MinimumHealthyPercent": min,
        "MaximumPercent": max,
        "DeploymentCircuitBreaker": { "Enable": breaker, "Rollback": breaker },
    });
    let mut alarms = Vec::new();
    let mut names: Vec<Value> = Vec::new();
    match d.and_then(|d| d.rollback_alarms.as_ref()).map(|a| &a.value) {
        Some(ListOr::List(list)) => names.extend(list.iter().map(|n| json!(n.value))),
        Some(ListOr::Config(c)) => {
            let full = scope.full_name();
            for (value, id, metric, namespace) in [
                (
                    c.cpu_utilization.as_ref(),
                    "RollbackCPUAlarm",
                    "CPUUtilization",
                    "AWS/ECS",
                ),
                (
                    c.memory_utilization.as_ref(),
                    "RollbackMemoryAlarm",
                    "MemoryUtilization",
                    "AWS/ECS",
                ),
            ] {
                if let Some(v) = value {
                    let name = format!("{full}-{id}");
                    names.push(json!(name));
                    alarms.push(json!({ "id": id, "name": name, "metric": metric, "namespace": namespace, "threshold": v.value }));
                }
            }
            if let Some(v) = &c.messages_delayed {
                let name = format!("{full}-RollbackMessagesDelayedAlarm");
                names.push(json!(name));
                alarms.push(json!({ "id": "RollbackMessagesDelayedAlarm", "name": name, "queue": true, "threshold": v.value }));
            }
        }
        None => {}
    }
    if !names.is_empty() {
        config["Alarms"] = json!({ "AlarmNames": names, "Enable": true, "Rollback": true });
    }
    (config, alarms)
}

/// The view model of the ECS service, or null for a Scheduled Job.
pub(crate) fn context(scope: &Scope, http: &Value, nlb: &Value) -> Result<Value, RenderError> {
    let wl = scope.wl;
    if wl.kind == WorkloadKind::ScheduledJob {
        return Ok(Value::Null);
    }
    let m = &wl.manifest;
    let strategy = Strategy::of(m.deployment.as_ref().map(|d| &d.value));
    if strategy.shifts_traffic()
        && let Some(nlb) = &m.nlb
    {
        return Err(RenderError::Input(vec![input_error(
            nlb.span,
            "tug shifts blue/green, canary and linear traffic on the Application Load Balancer only",
            "use `strategy: rolling` for a service with `nlb`, or remove `nlb`",
        )]));
    }
    let mut parameters = Vec::new();
    let on_ec2 = m.runs_on_ec2();
    let daemon = ec2::daemon(m);
    // Only awsvpc tasks have a network configuration; on EC2 they get no public IP (ECS
    // assigns those to Fargate tasks only).
    let network = if ec2::awsvpc(m) {
        let mut n = network(scope, &mut parameters);
        if on_ec2 {
            n["AwsvpcConfiguration"]["AssignPublicIp"] = json!("DISABLED");
        }
        n
    } else {
        Value::Null
    };
    let (deployment, alarms) = deployment_configuration(scope, strategy, daemon);
    let placement = Placement::of(scope, on_ec2, daemon)?;
    let (placement_strategies, placement_constraints) = ec2::placement(m);
    let attached = Attachments::of(http, nlb);
    let exec = m.exec.as_ref().is_some_and(|e| match &e.value {
        BoolOr::Bool(b) => *b,
        BoolOr::Config(c) => c.enable.as_ref().is_none_or(|e| e.value),
    });
    let port = m
        .image
        .as_ref()
        .and_then(|i| i.port.as_ref())
        .map(|p| p.value);
    let discovery_srv = (!ec2::awsvpc(m))
        .then(|| port.map(|p| json!({ "ContainerName": wl.name, "ContainerPort": p })));
    // A worker takes no requests; a bridge or host task without a port cannot be found.
    // Service Connect does not replace the DNS name: applications call
    // `<name>.<env>.<app>.local` (COPILOT_SERVICE_DISCOVERY_ENDPOINT), as with Copilot.
    let discovery = wl.kind != WorkloadKind::WorkerService
        && discovery_srv.as_ref().is_none_or(|p| p.is_some());
    let discovery_srv = discovery_srv.flatten();
    Ok(json!({
        "desired_count": placement.desired,
        "launch_type": placement.launch_type,
        "capacity_provider_strategy": placement.strategy,
        // Platform versions are a Fargate setting.
        "fargate": !on_ec2,
        "daemon": daemon,
        "placement_strategies": placement_strategies,
        "placement_constraints": placement_constraints,
        // Bridge and host tasks share the instance's address: Cloud Map needs SRV records
        // that carry the container's host port.
        "discovery_srv": discovery_srv,
        "network": network,
        "exec": exec,
        "deployment": deployment,
        "alarms": alarms,
        "grace_period": attached.grace_period,
        "load_balancers": attached.load_balancers,
        "depends_on": attached.depends_on,
        // Cloud Map names for services others call.
        "discovery": discovery,
        "service_connect": service_connect(scope, port),
        "parameters": parameters,
    }))
}

/// The deployment configuration and its rollback alarms, with the defaults of a daemon and
/// the settings of the deployment strategy.
fn deployment_configuration(
    scope: &Scope,
    strategy: Strategy,
    daemon: bool,
) -> (Value, Vec<Value>) {
    let d = scope.wl.manifest.deployment.as_ref();
    let (mut deployment, alarms) = deployment(scope, d.map(|d| &d.value));
    // A daemon replaces its one task per instance: stop the old one first unless the manifest
    // says otherwise (ECS does not run two daemon tasks on an instance).
    if daemon {
        if d.and_then(|d| d.min_healthy_percent.as_ref()).is_none() {
            deployment["MinimumHealthyPercent"] = json!(0);
        }
        if d.and_then(|d| d.max_percent.as_ref()).is_none() {
            deployment["MaximumPercent"] = json!(100);
        }
    }
    strategy::configure(d.map(|d| &d.value), strategy, &mut deployment);
    (deployment, alarms)
}

/// How many tasks run and where: the desired count, and a launch type or a capacity provider
/// strategy.
struct Placement {
    desired: Option<u32>,
    launch_type: Option<&'static str>,
    strategy: Option<Value>,
}

impl Placement {
    fn of(scope: &Scope, on_ec2: bool, daemon: bool) -> Result<Placement, RenderError> {
        let m = &scope.wl.manifest;
        let (desired, spot) = count(m);
        // An explicit strategy (`capacity_providers`) wins over the spot shorthands.
        let strategy = match &m.capacity_providers {
            Some(items) => Some(Value::Array(
                items
                    .iter()
                    .map(|cp| {
                        let mut item = json!({ "CapacityProvider": cp.name.as_ref().map(|n| n.value.clone()).unwrap_or_default() });
                        if let Some(b) = &cp.base {
                            item["Base"] = json!(b.value);
                        }
                        item["Weight"] = json!(cp.weight.as_ref().map_or(if items.len() == 1 { 1 } else { 0 }, |w| w.value));
                        item
                    })
                    .collect(),
            )),
            None => spot,
        };
        if on_ec2 {
            let (launch_type, strategy) = ec2::launch(scope)?;
            return Ok(Placement {
                desired: if daemon { None } else { desired },
                launch_type,
                strategy,
            });
        }
        Ok(Placement {
            desired,
            launch_type: strategy.is_none().then_some("FARGATE"),
            strategy,
        })
    }
}

/// The desired count of `count`, and the Fargate Spot strategy its `spot` or
/// `range.spot_from` asks for.
fn count(m: &WorkloadManifest) -> (Option<u32>, Option<Value>) {
    let autoscaling =
        matches!(m.count.as_ref().map(|c| &c.value), Some(Count::Config(c)) if c.range.is_some());
    match m.count.as_ref().map(|c| &c.value) {
        None => (Some(1), None),
        Some(Count::Scalar(n)) => (Some(*n), None),
        Some(Count::Config(c)) => {
            if let Some(spot) = &c.spot {
                return (
                    Some(spot.value),
                    Some(json!([{ "CapacityProvider": "FARGATE_SPOT", "Weight": 1 }])),
                );
            }
            let spot_from = c
                .range
                .as_ref()
                .and_then(|r| r.value.config())
                .and_then(|r| r.spot_from.as_ref())
                .map(|s| s.value);
            let strategy = spot_from.map(|from| {
                json!([
                    { "CapacityProvider": "FARGATE", "Base": from.saturating_sub(1), "Weight": 0 },
                    { "CapacityProvider": "FARGATE_SPOT", "Weight": 1 },
                ])
            });
            // Autoscaling owns the count: leaving DesiredCount out keeps a deploy from
            // resetting it (a new service starts with one task, then autoscaling brings it
            // into the range).
            let desired = if autoscaling { None } else { Some(1) };
            (desired, strategy)
        }
    }
}

/// The service's target groups (ALB and NLB), the listener rules and listeners it waits for,
/// and its health check grace period.
struct Attachments {
    load_balancers: Vec<Value>,
    depends_on: Vec<Value>,
    grace_period: Option<u64>,
}

impl Attachments {
    fn of(http: &Value, nlb: &Value) -> Attachments {
        let mut load_balancers = Vec::new();
        // Alternate target groups are not attached: ECS swaps them in during deployments.
        for tg in http["target_groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|tg| tg.get("alternate_of").is_none())
        {
            load_balancers.push(json!({ "ContainerName": tg["container"], "ContainerPort": tg["container_port"], "TargetGroupArn": { "Ref": tg["id"] } }));
        }
        for tg in nlb["target_groups"].as_array().into_iter().flatten() {
            load_balancers.push(json!({ "ContainerName": tg["container"], "ContainerPort": tg["container_port"], "TargetGroupArn": { "Ref": tg["id"] } }));
        }
        strategy::attach(http, &mut load_balancers);
        let mut depends_on: Vec<Value> = http["rule_ids"].as_array().cloned().unwrap_or_default();
        depends_on.extend(nlb["listener_ids"].as_array().cloned().unwrap_or_default());
        // Rules the service names in `AdvancedConfiguration` are dependencies already.
        let referenced: Vec<&Value> = load_balancers
            .iter()
            .flat_map(|lb| {
                let a = &lb["AdvancedConfiguration"];
                [
                    &a["ProductionListenerRule"]["Ref"],
                    &a["TestListenerRule"]["Ref"],
                ]
            })
            .collect();
        depends_on.retain(|id| !referenced.contains(&id));
        let grace_period = (!load_balancers.is_empty()).then(|| {
            nlb["grace_period"]
                .as_u64()
                .or(http["grace_period"].as_u64())
                .unwrap_or(60)
        });
        Attachments {
            load_balancers,
            depends_on,
            grace_period,
        }
    }
}

/// The Service Connect configuration (`network.connect`), or null.
fn service_connect(scope: &Scope, port: Option<u16>) -> Option<Value> {
    let wl = scope.wl;
    let connect = wl
        .manifest
        .network
        .as_ref()
        .and_then(|n| n.connect.as_ref())
        .filter(|c| c.value.enabled())?;
    let alias = connect
        .value
        .config()
        .and_then(|c| c.alias.as_ref())
        .map_or(wl.name.clone(), |a| a.value.clone());
    let mut cfg =
        json!({ "Enabled": true, "Namespace": scope.import("ServiceDiscoveryNamespaceArn") });
    if let Some(port) = port {
        cfg["Services"] = json!([{
            "PortName": format!("{}-{port}", wl.name),
            // Cloud Map service names are unique in a namespace, and `<name>` is the DNS
            // service below (`<name>.<env>.<app>.local`): Copilot's `-sc` keeps both.
            "DiscoveryName": format!("{}-sc", wl.name),
            "ClientAliases": [{ "Port": port, "DnsName": alias }],
        }]);
    }
    Some(cfg)
}
