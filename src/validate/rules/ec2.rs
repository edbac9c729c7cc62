//! EC2 rules that look at a workload together with its environment or its network mode:
//! capacity provider names the environment declares, daemon services, the port and network
//! rules of the bridge and host modes, and the ECS names of the environment's providers.

use crate::manifest::capacity;
use crate::manifest::codes;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::load::{Loaded, ResolvedEnvironment, ResolvedWorkload};
use crate::manifest::model::common::resolve_platform;
use crate::manifest::model::service::Count;
use crate::manifest::model::{WorkloadKind, WorkloadManifest};
use crate::manifest::source::Span;

/// Host ports the ECS agent and Docker reserve on every container instance.
const RESERVED_HOST_PORTS: &[u16] = &[22, 2375, 2376, 51678, 51679];

pub(crate) fn check(
    wl: &ResolvedWorkload,
    env: Option<&ResolvedEnvironment>,
    out: &mut Vec<Diagnostic>,
) {
    if !wl.kind.is_service() && wl.kind != WorkloadKind::ScheduledJob {
        return;
    }
    check_providers(wl, env, out);
    check_platform(wl, env, out);
    check_daemon(wl, out);
    check_network_mode(wl, out);
}

/// Provider names in `capacity_providers` exist in the environment; `launch_type: ec2` needs
/// EC2 capacity; FARGATE_SPOT needs the environment to keep Fargate Spot on.
fn check_providers(
    wl: &ResolvedWorkload,
    env: Option<&ResolvedEnvironment>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(env) = env else { return };
    let m = &wl.manifest;
    let declared: Vec<&str> = capacity::providers(env)
        .iter()
        .map(|p| capacity::manifest_name(p))
        .collect();
    let spot = env
        .manifest
        .cluster
        .as_ref()
        .and_then(|c| c.fargate_spot.as_ref())
        .is_none_or(|f| f.value);
    for cp in m.capacity_providers.iter().flat_map(|c| c.iter()) {
        let Some(name) = &cp.name else { continue };
        match name.value.as_str() {
            "FARGATE" => {}
            "FARGATE_SPOT" if !spot => out.push(
                Diagnostic::error(
                    codes::CAPACITY,
                    name.span,
                    format!("environment `{}` turns Fargate Spot off", env.name),
                )
                .with_help("remove `cluster.fargate_spot: false` from the environment, or use FARGATE"),
            ),
            "FARGATE_SPOT" => {}
            n if !declared.contains(&n) => out.push(
                Diagnostic::error(
                    codes::CAPACITY,
                    name.span,
                    format!(
                        "environment `{}` has no capacity provider named `{n}`",
                        env.name
                    ),
                )
                .with_help(if declared.is_empty() {
                    "use FARGATE or FARGATE_SPOT, or add EC2 capacity under `cluster.ec2` in the environment".to_string()
                } else {
                    format!(
                        "the environment's EC2 providers are: {}; FARGATE and FARGATE_SPOT also exist",
                        declared.join(", ")
                    )
                }),
            ),
            _ => {}
        }
    }
    if let Some(lt) = &m.launch_type
        && lt.value.eq_ignore_ascii_case("ec2")
        && declared.is_empty()
    {
        out.push(
            Diagnostic::error(
                codes::CAPACITY,
                lt.span,
                format!("environment `{}` has no EC2 capacity", env.name),
            )
            .with_help(format!(
                "add `cluster.ec2` (instance types, min, max) to the manifest of environment `{}`",
                env.name
            )),
        );
    }
}

/// The EC2 providers run the ECS-optimized Amazon Linux AMI of one architecture: a Windows task
/// cannot run on them, and a task built for the other architecture would never be placed.
fn check_platform(
    wl: &ResolvedWorkload,
    env: Option<&ResolvedEnvironment>,
    out: &mut Vec<Diagnostic>,
) {
    let m = &wl.manifest;
    if !m.runs_on_ec2() {
        return;
    }
    let Ok(platform) = resolve_platform(m.platform.as_ref().map(|p| &p.value)) else {
        return;
    };
    let span = m
        .platform
        .as_ref()
        .map(|p| p.span)
        .or(m.launch_type.as_ref().map(|l| l.span))
        .or(m.capacity_providers.as_ref().map(|c| c.span))
        .unwrap_or_default();
    if platform.windows {
        out.push(
            Diagnostic::error(
                codes::PLATFORM,
                span,
                "tug's EC2 capacity runs Amazon Linux; Windows tasks cannot run on it",
            )
            .with_help("run Windows tasks on Fargate (remove `launch_type`/`capacity_providers`)"),
        );
        return;
    }
    let Some(env) = env else { return };
    if m.scheduling
        .as_ref()
        .is_some_and(|s| s.value.eq_ignore_ascii_case("daemon"))
    {
        return;
    }
    let all = capacity::providers(env);
    let used: Vec<_> = match &m.capacity_providers {
        Some(cps) => all
            .iter()
            .filter(|p| {
                cps.iter().any(|cp| {
                    cp.name
                        .as_ref()
                        .is_some_and(|n| n.value == capacity::manifest_name(p))
                })
            })
            .copied()
            .collect(),
        None => capacity::default_provider(env).into_iter().collect(),
    };
    for p in used {
        let arm = p
            .architecture
            .as_ref()
            .is_some_and(|a| a.value.eq_ignore_ascii_case("arm64"));
        if arm != platform.arm {
            let (task, instances) = if platform.arm {
                ("arm64", "x86_64")
            } else {
                ("x86_64", "arm64")
            };
            out.push(
                Diagnostic::error(
                    codes::CAPACITY,
                    span,
                    format!(
                        "the tasks are {task} but capacity provider `{}` runs {instances} instances",
                        capacity::manifest_name(p)
                    ),
                )
                .with_help(if platform.arm {
                    "use a provider with `architecture: arm64`, or `platform: linux/x86_64`"
                } else {
                    "set `platform: linux/arm64`, or use an x86_64 provider"
                }),
            );
        }
    }
}

fn check_daemon(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    if !m
        .scheduling
        .as_ref()
        .is_some_and(|s| s.value.eq_ignore_ascii_case("daemon"))
    {
        return;
    }
    if let Some(cps) = &m.capacity_providers {
        out.push(
            Diagnostic::error(
                codes::CAPACITY,
                cps.span,
                "a daemon service cannot use a capacity provider strategy",
            )
            .with_help("use `launch_type: ec2`: the daemon runs on every instance of the cluster's EC2 providers"),
        );
    }
    if let Some(max) = m.deployment.as_ref().and_then(|d| d.max_percent.as_ref())
        && max.value > 100
    {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                max.span,
                format!(
                    "a daemon service runs one task per instance; `max_percent` {} is above 100",
                    max.value
                ),
            )
            .with_help("remove `max_percent` (daemons default to 100)"),
        );
    }
}

fn check_network_mode(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let Some(mode) = &m.network_mode else { return };
    let mode_name = mode.value.to_ascii_lowercase();
    if !m.runs_on_ec2() || mode_name == "awsvpc" {
        return;
    }
    check_task_network_keys(m, &mode_name, out);
    if mode_name == "bridge" {
        check_bridge_mode(m, out);
    } else {
        check_host_mode(wl, mode.span, out);
    }
}

/// The task's own subnets and security groups mean nothing outside awsvpc mode.
fn check_task_network_keys(m: &WorkloadManifest, mode_name: &str, out: &mut Vec<Diagnostic>) {
    let vpc = m.network.as_ref().and_then(|n| n.vpc.as_ref());
    for (set, key) in [
        (
            vpc.and_then(|v| v.placement.as_ref()).map(|p| p.span),
            "placement",
        ),
        (
            vpc.and_then(|v| v.security_groups.as_ref()).map(|p| p.span),
            "security_groups",
        ),
    ] {
        if let Some(span) = set {
            out.push(
                Diagnostic::warning(
                    codes::NETWORK,
                    span,
                    format!(
                        "`network.vpc.{key}` has no effect in {mode_name} mode: tasks use the network of their instance"
                    ),
                )
                .with_help("set the subnets and security group of the instances in the environment, or use `network_mode: awsvpc`"),
            );
        }
    }
}

/// Bridge tasks get a dynamic host port, so the target group must check the port the task
/// was registered with.
fn check_bridge_mode(m: &WorkloadManifest, out: &mut Vec<Diagnostic>) {
    let port = m
        .http_rule()
        .and_then(|r| r.healthcheck.as_ref())
        .and_then(|h| h.value.config())
        .and_then(|h| h.port.as_ref());
    if let Some(p) = port {
        out.push(
            Diagnostic::error(
                codes::LOAD_BALANCER,
                p.span,
                "in bridge mode tasks get dynamic host ports, so the health check cannot use a fixed port",
            )
            .with_help("remove `http.healthcheck.port`: the load balancer checks each task on its own port"),
        );
    }
    let nlb_port = m
        .nlb
        .as_ref()
        .and_then(|n| n.healthcheck.as_ref())
        .and_then(|h| h.port.as_ref());
    if let Some(p) = nlb_port {
        out.push(
            Diagnostic::error(
                codes::LOAD_BALANCER,
                p.span,
                "in bridge mode tasks get dynamic host ports, so the health check cannot use a fixed port",
            )
            .with_help("remove `nlb.healthcheck.port`"),
        );
    }
}

/// Host mode: container ports are host ports, shared with the agent, SSH and the other tasks
/// on the instance; Service Connect needs a network of the task's own.
fn check_host_mode(wl: &ResolvedWorkload, mode_span: Span, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    if let Some(c) = m
        .network
        .as_ref()
        .and_then(|n| n.connect.as_ref())
        .filter(|c| c.value.enabled())
    {
        out.push(
            Diagnostic::error(
                codes::NETWORK,
                c.span,
                "Service Connect does not work in host mode",
            )
            .with_help("use `network_mode: bridge` or `awsvpc`"),
        );
    }
    let mut ignored = Vec::new();
    for (container, port, _, span) in super::task::exposed_ports(wl, &mut ignored) {
        if RESERVED_HOST_PORTS.contains(&port) {
            out.push(
                Diagnostic::error(
                    codes::PORT_CONFLICT,
                    span,
                    format!(
                        "container `{container}` listens on port {port}, which the ECS agent or SSH holds on every instance"
                    ),
                )
                .with_help("in host mode container ports are host ports; choose another port or use bridge mode"),
            );
        }
    }
    let daemon = m
        .scheduling
        .as_ref()
        .is_some_and(|s| s.value.eq_ignore_ascii_case("daemon"));
    let distinct = m
        .placement
        .as_ref()
        .and_then(|p| p.constraints.as_ref())
        .is_some_and(|c| {
            c.iter().any(|c| {
                c.kind
                    .as_ref()
                    .is_some_and(|k| k.value == "distinctInstance")
            })
        });
    let has_port = m.image.as_ref().and_then(|i| i.port.as_ref()).is_some();
    let several = match m.count.as_ref().map(|c| &c.value) {
        Some(Count::Scalar(n)) => *n > 1,
        Some(Count::Config(_)) => true,
        None => false,
    };
    if has_port && several && !daemon && !distinct {
        out.push(
            Diagnostic::warning(
                codes::PORT_CONFLICT,
                mode_span,
                "in host mode two tasks of this service cannot share an instance (they would need the same port)",
            )
            .with_help("add `placement.constraints: [{type: distinctInstance}]`, or use bridge mode for dynamic ports"),
        );
    }
}

/// The ECS names of the environments' EC2 providers (`<app>-<env>-<name>`) must follow the
/// capacity provider naming rules, which the application name takes part in.
pub(crate) fn check_workspace(loaded: &Loaded, out: &mut Vec<Diagnostic>) {
    for env in &loaded.environments {
        for p in capacity::providers(env) {
            let name = capacity::provider_name(&loaded.app, &env.name, capacity::manifest_name(p));
            let lower = name.to_ascii_lowercase();
            let span = p.name.as_ref().map_or(p.span, |n| n.span);
            if ["aws", "ecs", "fargate"]
                .iter()
                .any(|x| lower.starts_with(x))
            {
                out.push(
                    Diagnostic::error(
                        codes::INVALID_NAME,
                        span,
                        format!("the capacity provider would be named `{name}`, and ECS rejects names starting with aws, ecs or fargate"),
                    )
                    .with_help("tug names providers <app>-<env>-<name>; rename the application"),
                );
            }
            if name.len() > 255 {
                out.push(
                    Diagnostic::error(
                        codes::INVALID_NAME,
                        span,
                        format!(
                            "the capacity provider name `{name}` is longer than 255 characters"
                        ),
                    )
                    .with_help("shorten the provider name"),
                );
            }
        }
    }
}
