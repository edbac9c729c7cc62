//! Network Load Balancer of a load-balanced web service (`nlb`): a public NLB of the service's
//! own in the environment's public subnets, with a security group, one listener and one target
//! group per listener (`nlb` and each of `nlb.additional_listeners`), and ingress to the tasks.
//!
//! - Listeners are TCP, UDP or TLS. TLS terminates at the load balancer with the environment's
//!   first `http.public.certificates` ARN, so TLS listeners forward to TCP target groups. An
//!   environment without certificates gets, as with Copilot, a certificate for the NLB's
//!   aliases (`NLBCertificate`) and, with the application's domain, for
//!   `<svc>-nlb.<env>.<app>.<domain>`: Copilot requested it by a Lambda; tug's is validated by
//!   DNS in the zone of each name by CloudFormation itself.
//! - The NLB's security group admits the listener ports from anywhere; the environment's
//!   security group (the one every task joins) admits the NLB's group on the target and
//!   health check ports. With `security_groups.deny_default` the tasks are not in that group,
//!   so no rule is added there and the service's own groups must admit the traffic.
//! - Health checks are TCP (also for UDP target groups, which cannot be checked over UDP),
//!   with Copilot's NLB defaults: 3 healthy, 3 unhealthy, every 30 s, 10 s timeout.
//!
//! - `alias` names get Route 53 alias records to the NLB in their `hosted_zone`, or else in the
//!   zone of the application's domain they belong in (as Copilot's Lambda wrote them); a plain
//!   name outside the domain, or without a domain, is an error. Without aliases, a domain gives
//!   the NLB Copilot's default name `<svc>-nlb.<env>.<app>.<domain>` (`NLBDNSAlias`).
//! - A UDP listener without `target_port` reaches the main container on the listener's port,
//!   which the task definition maps over UDP (as Copilot did).
//!
//! A target port that the task definition does not map for the protocol fails loudly.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::domain::{AppDomain, Zone};
use crate::manifest::load::ResolvedEnvironment;
use crate::manifest::model::service::parse_container_port;
use crate::manifest::model::service::{NlbListener, parse_port_protocol};
use crate::manifest::union::{ListOr, ScalarOr};
use crate::render::workload::Scope;
use crate::render::{RenderError, input_error};

/// Copilot's defaults for NLB target health checks and target groups.
const HEALTHY_THRESHOLD: u32 = 3;
const UNHEALTHY_THRESHOLD: u32 = 3;
const INTERVAL_SECONDS: u64 = 30;
const TIMEOUT_SECONDS: u64 = 10;
const DEREGISTRATION_DELAY_SECONDS: u64 = 60;
/// The most target groups ECS attaches to one service.
const MAX_TARGET_GROUPS: usize = 5;

/// The view model of the service's NLB, or null without `nlb`.
pub(crate) fn context(scope: &Scope) -> Result<Value, RenderError> {
    let Some(nlb) = &scope.wl.manifest.nlb else {
        return Ok(Value::Null);
    };
    let mut diags = Vec::new();
    let env = scope
        .loaded
        .environments
        .iter()
        .find(|e| e.name == scope.env);
    check_public_subnets(scope, env, nlb, &mut diags);
    let mut all: Vec<&Located<NlbListener>> = vec![nlb];
    all.extend(nlb.additional_listeners.iter().flat_map(|l| l.iter()));
    let domain = crate::render::environment::has_domain(scope.loaded, scope.env)
        .then_some(scope.loaded.domain.as_ref())
        .flatten();
    let alias_zones = alias_zones(scope, &all, domain, &mut diags);
    let names = Names::of(scope, env, &all, domain, &alias_zones);
    let mut built = Listeners::default();
    for (i, l) in all.iter().enumerate() {
        listener(
            scope,
            i,
            l,
            names.certificate.as_ref(),
            &mut built,
            &mut diags,
        )?;
    }
    check_target_group_count(scope, nlb, all.len(), &mut diags);
    if !diags.is_empty() {
        return Err(RenderError::Input(diags));
    }
    let grace_period = nlb
        .healthcheck
        .as_ref()
        .and_then(|h| h.grace_period.as_ref())
        .map(|g| g.value.millis / 1000);
    let listener_ids: Vec<Value> = built.listeners.iter().map(|l| l["id"].clone()).collect();
    Ok(json!({
        "subnets": scope.import_list("PublicSubnets"),
        "vpc": scope.import("VpcId"),
        "environment_security_group": scope.import("EnvironmentSecurityGroup"),
        "security_group_description": format!("The Network Load Balancer of {}", scope.full_name()),
        "security_group_ingress": security_group_ingress(&built.listener_ingress),
        "task_ingress": task_ingress(scope, &built.task_ingress),
        "listeners": built.listeners,
        "listener_ids": listener_ids,
        "target_groups": built.target_groups,
        "records": records(&alias_zones),
        "default_record": names.default_record,
        "certificate_request": names.certificate_request,
        "grace_period": grace_period,
        // Not wired into the stack's outputs yet (that list is assembled in mod.rs).
        "outputs": [{
            "id": "PublicNetworkLoadBalancerDNSName",
            "description": "The DNS name of the service's Network Load Balancer",
            "value": { "Fn::GetAtt": ["PublicNetworkLoadBalancer", "DNSName"] },
        }],
        "parameters": [],
    }))
}

/// The NLB is internet-facing: an environment in an existing VPC must list public subnets.
fn check_public_subnets(
    scope: &Scope,
    env: Option<&ResolvedEnvironment>,
    nlb: &Located<NlbListener>,
    diags: &mut Vec<Diagnostic>,
) {
    let vpc = env
        .and_then(|e| e.manifest.network.as_ref())
        .and_then(|n| n.vpc.as_ref());
    if vpc.is_none_or(|v| v.id.is_none()) {
        return;
    }
    let public = vpc
        .and_then(|v| v.subnets.as_ref())
        .and_then(|s| s.public.as_ref())
        .is_some_and(|p| p.iter().any(|s| s.id.is_some()));
    if !public {
        diags.push(input_error(
            nlb.span,
            format!(
                "the Network Load Balancer is internet-facing, but environment `{}` has no public subnets",
                scope.env
            ),
            "list public subnets under `network.vpc.subnets.public` in the environment manifest",
        ));
    }
}

/// Every alias of every listener, once, with the zone its record goes in: the one it names,
/// else (with the application's domain) the environment's, the application's or the
/// domain's zone, as Copilot's `NLBCustomDomainAction` Lambda chose it.
fn alias_zones(
    scope: &Scope,
    all: &[&Located<NlbListener>],
    domain: Option<&AppDomain>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, Value)> {
    let app = &scope.loaded.app;
    let mut alias_zones: Vec<(String, Value)> = Vec::new();
    for alias in all.iter().filter_map(|l| l.alias.as_ref()) {
        for item in alias.value.items() {
            let (name, zone, span) = match item {
                ScalarOr::Scalar(s) => (s.clone(), None, alias.span),
                ScalarOr::Config(c) => (
                    c.name.as_ref().map(|n| n.value.clone()).unwrap_or_default(),
                    c.hosted_zone.as_ref().map(|z| z.value.clone()),
                    c.name.as_ref().map_or(alias.span, |n| n.span),
                ),
            };
            let zone = match (zone, domain) {
                (Some(zone), _) => json!(zone),
                (None, Some(d)) => match d.zone_of(app, scope.env, &name) {
                    Some(Zone::Environment) => scope.import("HostedZone"),
                    Some(Zone::Application(z) | Zone::Domain(z)) => json!(z),
                    None => {
                        diags.push(input_error(
                            span,
                            format!("NLB alias `{name}` is not in the application's domain `{}`, so there is no hosted zone to create its record in", d.name),
                            format!("use {}, or give the alias its own `hosted_zone`", d.allowed(app, scope.env)),
                        ));
                        continue;
                    }
                },
                (None, None) => {
                    diags.push(input_error(
                        span,
                        format!("NLB alias `{name}` names no hosted zone to create its record in, and the application has no domain"),
                        format!("write it as `alias: [{{name: {name}, hosted_zone: Z0123456789ABC}}]` with the Route 53 hosted zone of the name, or give the application a domain with `tug app init --domain <domain>` (as Copilot's `app init --domain`)"),
                    ));
                    continue;
                }
            };
            if !alias_zones.iter().any(|(n, _)| *n == name) {
                alias_zones.push((name, zone));
            }
        }
    }
    alias_zones
}

/// The NLB's DNS names and the certificate of its TLS listeners.
struct Names {
    /// The certificate TLS listeners use: the environment's first public certificate, else
    /// the one requested for the NLB's names.
    certificate: Option<Value>,
    /// The certificate tug requests for the NLB's names, when it needs one.
    certificate_request: Option<Value>,
    /// Copilot's default name `<svc>-nlb.<env>.<app>.<domain>`, without aliases.
    default_record: Option<Value>,
}

impl Names {
    fn of(
        scope: &Scope,
        env: Option<&ResolvedEnvironment>,
        all: &[&Located<NlbListener>],
        domain: Option<&AppDomain>,
        alias_zones: &[(String, Value)],
    ) -> Names {
        let app = &scope.loaded.app;
        let environment_certificate = env
            .and_then(|e| e.manifest.http.as_ref())
            .and_then(|h| h.public.as_ref())
            .and_then(|p| p.certificates.as_ref())
            .and_then(|c| c.first())
            .map(|c| c.value.clone());
        // Copilot's default name of an NLB without aliases, `<svc>-nlb.<env>.<app>.<domain>`.
        let default_name = domain
            .filter(|_| alias_zones.is_empty())
            .map(|d| format!("{}-nlb.{}", scope.wl.name, d.environment(app, scope.env)));
        let has_tls = all.iter().any(|l| {
            l.port
                .as_ref()
                .and_then(|p| parse_port_protocol(&p.value).ok())
                .is_some_and(|(_, proto)| proto == "tls")
        });
        // Without an environment certificate, TLS listeners use one requested for the NLB's
        // names (with a domain, Copilot's: `<svc>-nlb.<env>.<app>.<domain>` and the aliases).
        let mut cert_names: Vec<(String, Value)> = Vec::new();
        if let Some(d) = domain {
            cert_names.push((
                format!("{}-nlb.{}", scope.wl.name, d.environment(app, scope.env)),
                scope.import("HostedZone"),
            ));
        }
        cert_names.extend(alias_zones.iter().cloned());
        let certificate_request = (environment_certificate.is_none()
            && has_tls
            && !cert_names.is_empty())
        .then(|| {
            json!({
                "domain": cert_names[0].0,
                "alternative_names": cert_names[1..].iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
                "validation": cert_names.iter().map(|(n, z)| json!({ "DomainName": n, "HostedZoneId": z })).collect::<Vec<_>>(),
            })
        });
        let certificate = match (&environment_certificate, &certificate_request) {
            (Some(arn), _) => Some(json!(arn)),
            (None, Some(_)) => Some(json!({ "Ref": "NLBCertificate" })),
            (None, None) => None,
        };
        Names {
            certificate,
            certificate_request,
            default_record: default_name.map(
                |name| json!({ "zone": scope.import("HostedZone"), "name": format!("{name}.") }),
            ),
        }
    }
}

/// The alias records, one per logical id.
fn records(alias_zones: &[(String, Value)]) -> Vec<Value> {
    let mut records: Vec<Value> = Vec::new();
    for (name, zone) in alias_zones {
        let record = json!({
            "id": format!("NLBAliasRecord{}", crate::render::names::logical_id(name)),
            "zone": zone,
            "name": name,
        });
        if !records.iter().any(|a| a["id"] == record["id"]) {
            records.push(record);
        }
    }
    records
}

/// The listeners, their target groups, and the ports the NLB and the tasks admit.
#[derive(Default)]
struct Listeners {
    listeners: Vec<Value>,
    target_groups: Vec<Value>,
    listener_ingress: BTreeSet<(&'static str, u16)>,
    task_ingress: BTreeSet<(&'static str, u16)>,
    used_ports: Vec<u16>,
}

/// Listener `i` (`nlb`, then each of `nlb.additional_listeners`) and its target group.
fn listener(
    scope: &Scope,
    i: usize,
    l: &Located<NlbListener>,
    certificate: Option<&Value>,
    out: &mut Listeners,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), RenderError> {
    let suffix = if i == 0 { String::new() } else { i.to_string() };
    let Some(port_text) = &l.port else {
        return Err(RenderError::internal(format!(
            "{}: an NLB listener without a port passed validation",
            scope.wl.name
        )));
    };
    let (port, proto) = parse_port_protocol(&port_text.value).map_err(|e| {
        RenderError::internal(format!(
            "{}: an invalid NLB port passed validation: {e}",
            scope.wl.name
        ))
    })?;
    let (listener_protocol, target_protocol) = match proto.as_str() {
        "tcp" => ("TCP", "TCP"),
        "udp" => ("UDP", "UDP"),
        "tls" => ("TLS", "TCP"),
        other => {
            return Err(RenderError::internal(format!(
                "{}: NLB protocol `{other}` passed validation",
                scope.wl.name
            )));
        }
    };
    if out.used_ports.contains(&port) {
        diags.push(input_error(
            port_text.span,
            format!("the Network Load Balancer already has a listener on port {port}"),
            "give each NLB listener its own port",
        ));
    }
    out.used_ports.push(port);
    let listener_certificate = if listener_protocol == "TLS" {
        if certificate.is_none() {
            diags.push(input_error(
                port_text.span,
                format!(
                    "a TLS listener needs a certificate: environment `{}` lists none in `http.public.certificates`, the application has no domain, and no NLB alias names a `hosted_zone` to request one for",
                    scope.env
                ),
                "add the certificate's ARN to `http.public.certificates` in the environment manifest, give the application a domain (`tug app init --domain <domain>`), or give the NLB an alias with its zone (`alias: [{name: api.example.com, hosted_zone: Z0123456789ABC}]`) and tug requests a certificate for it, as Copilot did for its application domain; or use a TCP listener",
            ));
        }
        certificate.cloned()
    } else {
        None
    };
    let (container, container_port) = match target(scope, l, target_protocol) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return Ok(());
        }
    };
    let tg_id = format!("NLBTargetGroup{suffix}");
    let (group, health_port) = target_group(
        scope,
        l,
        &tg_id,
        target_protocol,
        &container,
        container_port,
        diags,
    );
    out.target_groups.push(group);
    out.listeners.push(json!({
        "id": format!("NLBListener{suffix}"),
        "port": port,
        "protocol": listener_protocol,
        "certificate": listener_certificate,
        "ssl_policy": (listener_protocol == "TLS").then(|| l.ssl_policy.as_ref().map_or(crate::render::DEFAULT_SSL_POLICY.to_string(), |p| p.value.clone())),
        "target_group": tg_id,
    }));
    let ip_protocol = if target_protocol == "UDP" {
        "udp"
    } else {
        "tcp"
    };
    out.listener_ingress.insert((ip_protocol, port));
    out.task_ingress.insert((ip_protocol, container_port));
    // Health checks are TCP, on the traffic port unless `healthcheck.port` says otherwise.
    out.task_ingress
        .insert(("tcp", health_port.unwrap_or(container_port)));
    Ok(())
}

/// A listener's target group, with Copilot's NLB health check defaults, and the health
/// check port when it is not the traffic port.
fn target_group(
    scope: &Scope,
    l: &Located<NlbListener>,
    tg_id: &str,
    protocol: &str,
    container: &str,
    container_port: u16,
    diags: &mut Vec<Diagnostic>,
) -> (Value, Option<u16>) {
    let hc = l.healthcheck.as_ref();
    let health_port = hc.and_then(|h| h.port.as_ref()).map(|p| p.value);
    let interval = hc
        .and_then(|h| h.interval.as_ref())
        .map_or(INTERVAL_SECONDS, |v| v.value.millis / 1000);
    let timeout = hc
        .and_then(|h| h.timeout.as_ref())
        .map_or(TIMEOUT_SECONDS, |v| v.value.millis / 1000);
    if timeout > interval {
        let span = hc
            .and_then(|h| h.timeout.as_ref().or(h.interval.as_ref()).map(|t| t.span))
            .unwrap_or(l.span);
        diags.push(input_error(
            span,
            format!(
                "the NLB health check timeout ({timeout}s) is longer than its interval ({interval}s)"
            ),
            "Elastic Load Balancing needs the timeout to be at most the interval; lower `healthcheck.timeout` or use `interval: 30s`",
        ));
    }
    let sticky = l.stickiness.as_ref().is_some_and(|s| s.value);
    let mut attributes = vec![
        json!({
            "Key": "deregistration_delay.timeout_seconds",
            "Value": l.deregistration_delay.as_ref().map_or(DEREGISTRATION_DELAY_SECONDS, |d| d.value.millis / 1000).to_string(),
        }),
        json!({
            "Key": "stickiness.enabled",
            "Value": sticky.to_string(),
        }),
    ];
    if sticky {
        attributes.push(json!({ "Key": "stickiness.type", "Value": "source_ip" }));
    }
    let group = json!({
        "id": tg_id,
        "protocol": protocol,
        "port": container_port,
        "health": {
            "protocol": "TCP",
            "port": health_port.map_or("traffic-port".to_string(), |p| p.to_string()),
            "healthy": hc.and_then(|h| h.healthy_threshold.as_ref()).map_or(HEALTHY_THRESHOLD, |v| v.value),
            "unhealthy": hc.and_then(|h| h.unhealthy_threshold.as_ref()).map_or(UNHEALTHY_THRESHOLD, |v| v.value),
            "interval": interval,
            "timeout": timeout,
        },
        "attributes": attributes,
        "container": container,
        "container_port": container_port,
        "target_type": crate::render::workload::ec2::target_type(&scope.wl.manifest),
    });
    (group, health_port)
}

/// ECS attaches at most 5 target groups to a service, counting the ALB's.
fn check_target_group_count(
    scope: &Scope,
    nlb: &Located<NlbListener>,
    listeners: usize,
    diags: &mut Vec<Diagnostic>,
) {
    let manifest = &scope.wl.manifest;
    let http_groups = if manifest.http.as_ref().is_none_or(|h| h.value.enabled()) {
        1 + manifest
            .http_rule()
            .and_then(|r| r.additional_rules.as_ref())
            .map_or(0, |r| r.len())
    } else {
        0
    };
    if http_groups + listeners > MAX_TARGET_GROUPS {
        diags.push(input_error(
            nlb.span,
            format!(
                "the service would have {} target groups ({http_groups} for `http`, {listeners} for `nlb`), and ECS allows {MAX_TARGET_GROUPS}",
                http_groups + listeners,
            ),
            "use fewer NLB listeners or `http.additional_rules`",
        ));
    }
}

/// The NLB security group's ingress: each listener port from anywhere.
fn security_group_ingress(listener_ingress: &BTreeSet<(&str, u16)>) -> Vec<Value> {
    listener_ingress
        .iter()
        .map(|(proto, port)| {
            json!({
                "IpProtocol": proto,
                "FromPort": port,
                "ToPort": port,
                "CidrIp": "0.0.0.0/0",
                "Description": format!("Clients of the {} listener on port {port}", proto.to_ascii_uppercase()),
            })
        })
        .collect()
}

/// The environment security group's ingress from the NLB on the target and health check
/// ports, when the tasks join that group.
fn task_ingress(scope: &Scope, task_ingress: &BTreeSet<(&str, u16)>) -> Vec<Value> {
    if !joins_environment_group(scope) {
        return Vec::new();
    }
    task_ingress
        .iter()
        .map(|(proto, port)| {
            json!({
                "id": format!("EnvironmentSecurityGroupIngressFromNLB{}{port}", if *proto == "udp" { "Udp" } else { "Tcp" }),
                "protocol": proto,
                "port": port,
                "description": format!("The Network Load Balancer of {} to its tasks ({} {port})", scope.wl.name, proto.to_ascii_uppercase()),
            })
        })
        .collect()
}

/// The container a listener routes to and its port. The target group's port must be a port
/// the task definition maps for that container with the target protocol; today the main
/// container maps only `image.port` over TCP and a sidecar only its `port`.
fn target(
    scope: &Scope,
    l: &Located<NlbListener>,
    protocol: &str,
) -> Result<(String, u16), Diagnostic> {
    let wl = scope.wl;
    let container = l
        .target_container
        .as_ref()
        .map_or(wl.name.clone(), |c| c.value.clone());
    let mapped: Option<(u16, String)> = if container == wl.name {
        wl.manifest
            .image
            .as_ref()
            .and_then(|i| i.port.as_ref())
            .map(|p| (p.value, "tcp".to_string()))
    } else {
        wl.manifest
            .sidecars
            .as_ref()
            .and_then(|s| s.value.get(container.as_str()))
            .and_then(|s| s.port.as_ref())
            .and_then(|p| parse_container_port(&p.value).ok())
    };
    // UDP to the main container without `target_port`: the listener's port, mapped over UDP
    // (`main_target_ports`), as Copilot did; TCP and TLS keep `image.port`.
    let udp_listener_port = (container == wl.name && protocol == "UDP")
        .then(|| {
            l.port
                .as_ref()
                .and_then(|p| crate::manifest::model::service::parse_port_protocol(&p.value).ok())
                .map(|(p, _)| p)
        })
        .flatten();
    let port = l
        .target_port
        .as_ref()
        .map(|p| p.value)
        .or(udp_listener_port)
        .or(mapped.as_ref().map(|m| m.0));
    let span = l
        .target_port
        .as_ref()
        .map(|p| p.span)
        .or(l.target_container.as_ref().map(|c| c.span))
        .or(l.port.as_ref().map(|p| p.span))
        .unwrap_or(l.span);
    let Some(port) = port else {
        return Err(input_error(
            span,
            format!("container `{container}` exposes no port for the NLB listener"),
            "set the container's `port`, or `target_port`",
        ));
    };
    let wanted = protocol.to_ascii_lowercase();
    if container == wl.name
        && crate::render::workload::containers::main_target_ports(wl)
            .contains(&(port, wanted.clone()))
    {
        // The task definition maps this target port on the main container.
        return Ok((container, port));
    }
    match mapped {
        Some((p, proto)) if p == port && proto == wanted => Ok((container, port)),
        Some((p, proto)) => Err(input_error(
            span,
            format!(
                "the NLB listener targets {port}/{wanted} on container `{container}`, which maps only {p}/{proto}"
            ),
            if container == wl.name {
                format!(
                    "set `target_port` to the port the main container listens on over {wanted}, or target a sidecar whose `port` is {port}/{wanted}"
                )
            } else {
                format!(
                    "set sidecar `{container}`'s `port` to {port}/{wanted}, or drop `target_port`"
                )
            },
        )),
        None => Err(input_error(
            span,
            format!("container `{container}` maps no port for the NLB listener"),
            "set the container's `port`",
        )),
    }
}

/// Whether the tasks join the environment's security group (not with `deny_default`).
fn joins_environment_group(scope: &Scope) -> bool {
    let groups = scope
        .wl
        .manifest
        .network
        .as_ref()
        .and_then(|n| n.vpc.as_ref())
        .and_then(|v| v.security_groups.as_ref());
    match groups.map(|g| &g.value) {
        Some(ListOr::Config(c)) => !c.deny_default.as_ref().is_some_and(|d| d.value),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fs;

    use super::*;
    use crate::manifest::load::{LoadOptions, load};
    use crate::manifest::workspace::Workspace;

    /// Loads a workspace with environment `test` and workload `web` (which must load without
    /// errors), and returns the view model of web's NLB.
    fn nlb_context(env: &str, web: &str) -> Result<Value, RenderError> {
        let f = crate::render::workload::fixture::Fixture::new(env, &[("web", web)]);
        context(&f.scope("web"))
    }

    const ENV: &str = "name: test\ntype: Environment\n";
    const ENV_CERT: &str = "name: test\ntype: Environment\nhttp:\n  public:\n    certificates:\n      - arn:aws:acm:us-east-1:123456789012:certificate/abc\n      - arn:aws:acm:us-east-1:123456789012:certificate/def\n";
    const WEB_HEAD: &str =
        "name: web\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\n";

    fn messages(e: RenderError) -> Vec<String> {
        match e {
            RenderError::Input(d) => d.into_iter().map(|d| d.message).collect(),
            RenderError::Internal(m) => panic!("internal error: {m}"),
        }
    }

    #[test]
    fn no_nlb_is_null() {
        let v = nlb_context(ENV, WEB_HEAD).unwrap();
        assert!(v.is_null());
    }

    #[test]
    fn tcp_listener_with_defaults() {
        let web = format!("{WEB_HEAD}http: false\nnlb:\n  port: 80\n");
        let v = nlb_context(ENV, &web).unwrap();
        assert_eq!(v["listener_ids"], json!(["NLBListener"]));
        let l = &v["listeners"][0];
        assert_eq!(l["port"], 80);
        assert_eq!(l["protocol"], "TCP");
        assert!(l["certificate"].is_null());
        let tg = &v["target_groups"][0];
        assert_eq!(tg["id"], "NLBTargetGroup");
        assert_eq!(tg["protocol"], "TCP");
        assert_eq!(tg["port"], 8080);
        assert_eq!(tg["container"], "web");
        assert_eq!(tg["container_port"], 8080);
        assert_eq!(
            tg["health"],
            json!({ "protocol": "TCP", "port": "traffic-port", "healthy": 3, "unhealthy": 3, "interval": 30, "timeout": 10 })
        );
        assert_eq!(
            tg["attributes"],
            json!([
                { "Key": "deregistration_delay.timeout_seconds", "Value": "60" },
                { "Key": "stickiness.enabled", "Value": "false" },
            ])
        );
        assert!(v["grace_period"].is_null());
        assert_eq!(
            v["security_group_ingress"],
            json!([{ "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0", "Description": "Clients of the TCP listener on port 80" }])
        );
        let ids: Vec<&str> = v["task_ingress"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["EnvironmentSecurityGroupIngressFromNLBTcp8080"]);
        assert_eq!(
            v["subnets"],
            json!({ "Fn::Split": [",", { "Fn::ImportValue": "shop-test-PublicSubnets" }] })
        );
        assert_eq!(v["parameters"], json!([]));
    }

    #[test]
    fn tls_listener_without_a_policy_gets_the_tls12_default() {
        let web = format!("{WEB_HEAD}nlb:\n  port: 443/tls\n");
        let v = nlb_context(ENV_CERT, &web).unwrap();
        assert_eq!(v["listeners"][0]["protocol"], "TLS");
        assert_eq!(
            v["listeners"][0]["ssl_policy"],
            crate::render::DEFAULT_SSL_POLICY
        );
    }

    #[test]
    fn tls_and_udp_listeners() {
        let web = format!(
            "{WEB_HEAD}sidecars:\n  dns:\n    image: coredns/coredns\n    port: 5353/udp\n\
             nlb:\n  port: 443/tls\n  ssl_policy: ELBSecurityPolicy-TLS13-1-3-2021-06\n  stickiness: true\n  deregistration_delay: 10s\n\
             \x20 healthcheck:\n    healthy_threshold: 2\n    interval: 10s\n    timeout: 5s\n    grace_period: 90s\n\
             \x20 additional_listeners:\n    - port: 53/udp\n      target_container: dns\n      target_port: 5353\n      healthcheck:\n        port: 8053\n"
        );
        let v = nlb_context(ENV_CERT, &web).unwrap();
        assert_eq!(v["listener_ids"], json!(["NLBListener", "NLBListener1"]));
        let tls = &v["listeners"][0];
        assert_eq!(tls["protocol"], "TLS");
        assert_eq!(
            tls["certificate"],
            "arn:aws:acm:us-east-1:123456789012:certificate/abc"
        );
        // The manifest's policy wins over the default.
        assert_eq!(tls["ssl_policy"], "ELBSecurityPolicy-TLS13-1-3-2021-06");
        assert_eq!(tls["target_group"], "NLBTargetGroup");
        let udp = &v["listeners"][1];
        assert_eq!(udp["protocol"], "UDP");
        assert_eq!(udp["port"], 53);
        assert!(udp["certificate"].is_null());
        assert!(udp["ssl_policy"].is_null());

        let tls_tg = &v["target_groups"][0];
        assert_eq!(tls_tg["protocol"], "TCP");
        assert_eq!(tls_tg["port"], 8080);
        assert_eq!(tls_tg["health"]["healthy"], 2);
        assert_eq!(tls_tg["health"]["unhealthy"], 3);
        assert_eq!(tls_tg["health"]["interval"], 10);
        assert_eq!(tls_tg["health"]["timeout"], 5);
        assert_eq!(
            tls_tg["attributes"],
            json!([
                { "Key": "deregistration_delay.timeout_seconds", "Value": "10" },
                { "Key": "stickiness.enabled", "Value": "true" },
                { "Key": "stickiness.type", "Value": "source_ip" },
            ])
        );
        let udp_tg = &v["target_groups"][1];
        assert_eq!(udp_tg["id"], "NLBTargetGroup1");
        assert_eq!(udp_tg["protocol"], "UDP");
        assert_eq!(udp_tg["port"], 5353);
        assert_eq!(udp_tg["container"], "dns");
        assert_eq!(udp_tg["container_port"], 5353);
        assert_eq!(udp_tg["health"]["port"], "8053");
        assert_eq!(v["grace_period"], 90);

        let listener_rules: Vec<(String, u64)> = v["security_group_ingress"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["IpProtocol"].as_str().unwrap().to_string(),
                    r["FromPort"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            listener_rules,
            [("tcp".to_string(), 443), ("udp".to_string(), 53)]
        );
        let task_rules: Vec<(String, u64)> = v["task_ingress"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["protocol"].as_str().unwrap().to_string(),
                    r["port"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            task_rules,
            [
                ("tcp".to_string(), 8053),
                ("tcp".to_string(), 8080),
                ("udp".to_string(), 5353)
            ]
        );
    }

    #[test]
    fn tls_without_certificate_is_an_input_error() {
        let web = format!("{WEB_HEAD}nlb:\n  port: 443/tls\n");
        let m = messages(nlb_context(ENV, &web).unwrap_err());
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("TLS listener needs a certificate"), "{m:?}");
    }

    /// Copilot requested the TLS certificate for the NLB's aliases (in its application
    /// domain's zone); tug requests it for the aliases that name their zone.
    #[test]
    fn tls_without_environment_certificate_uses_one_for_the_aliases() {
        let web = format!(
            "{WEB_HEAD}nlb:\n  port: 443/tls\n  alias:\n    - name: api.example.com\n      hosted_zone: Z111\n  additional_listeners:\n    - port: 8443/tls\n      alias:\n        - name: api.example.org\n          hosted_zone: Z222\n"
        );
        let f = crate::render::workload::fixture::Fixture::new(ENV, &[("web", web.as_str())]);
        let stack = f.stack("web").expect("renders");
        let cert = &stack["Resources"]["NLBCertificate"];
        assert_eq!(cert["Type"], "AWS::CertificateManager::Certificate");
        assert_eq!(cert["Properties"]["DomainName"], "api.example.com");
        assert_eq!(cert["Properties"]["ValidationMethod"], "DNS");
        let expected: serde_yaml::Value = serde_yaml::from_str(
            "[{DomainName: api.example.com, HostedZoneId: Z111}, {DomainName: api.example.org, HostedZoneId: Z222}]",
        )
        .unwrap();
        assert_eq!(cert["Properties"]["DomainValidationOptions"], expected);
        for id in ["NLBListener", "NLBListener1"] {
            assert_eq!(
                stack["Resources"][id]["Properties"]["Certificates"][0]["CertificateArn"]["Ref"],
                "NLBCertificate",
                "{id}"
            );
        }
        // The environment's certificate wins when it has one; then no certificate is requested.
        let f = crate::render::workload::fixture::Fixture::new(ENV_CERT, &[("web", web.as_str())]);
        let stack = f.stack("web").expect("renders");
        assert!(stack["Resources"]["NLBCertificate"].is_null());
        // A name without its zone cannot be validated: still the error naming what to add.
        let plain = format!("{WEB_HEAD}nlb:\n  port: 443/tls\n  alias: api.example.com\n");
        let m = messages(nlb_context(ENV, &plain).unwrap_err());
        assert!(
            m.iter()
                .any(|m| m.contains("no NLB alias names a `hosted_zone`")),
            "{m:?}"
        );
    }

    #[test]
    fn alias_without_hosted_zone_is_an_input_error() {
        let web = format!("{WEB_HEAD}nlb:\n  port: 80\n  alias: api.example.com\n");
        let m = messages(nlb_context(ENV, &web).unwrap_err());
        assert!(
            m.iter().any(|m| m.contains("names no hosted zone")),
            "{m:?}"
        );
    }

    #[test]
    fn target_port_on_the_main_container_is_mapped() {
        let web = format!(
            "{WEB_HEAD}nlb:\n  port: 80\n  additional_listeners:\n    - port: 53/udp\n      target_port: 5353\n"
        );
        let v = nlb_context(ENV, &web).unwrap();
        assert_eq!(v["target_groups"][1]["container_port"], 5353);
        let f = crate::render::workload::fixture::Fixture::new(ENV, &[("web", web.as_str())]);
        let stack = f.stack("web").expect("renders");
        let mappings = &stack["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
            [0]["PortMappings"];
        let udp = mappings.as_sequence().unwrap().iter().any(|m| {
            m["ContainerPort"].as_u64() == Some(5353) && m["Protocol"].as_str() == Some("udp")
        });
        assert!(udp, "{mappings:?}");
    }

    #[test]
    fn duplicate_listener_port_fails() {
        let web =
            format!("{WEB_HEAD}nlb:\n  port: 80\n  additional_listeners:\n    - port: 80/udp\n");
        let m = messages(nlb_context(ENV, &web).unwrap_err());
        assert!(m.iter().any(|m| m.contains("port 80")), "{m:?}");
    }

    #[test]
    fn timeout_longer_than_interval_fails() {
        let web = format!("{WEB_HEAD}nlb:\n  port: 80\n  healthcheck:\n    interval: 10s\n");
        let v = nlb_context(ENV, &web).unwrap();
        assert_eq!(v["target_groups"][0]["health"]["timeout"], 10);
        let web = format!(
            "{WEB_HEAD}nlb:\n  port: 80\n  healthcheck:\n    interval: 10s\n    timeout: 20s\n"
        );
        let m = messages(nlb_context(ENV, &web).unwrap_err());
        assert!(
            m[0].contains("timeout (20s) is longer than its interval (10s)"),
            "{m:?}"
        );
    }

    #[test]
    fn too_many_target_groups_fail() {
        let extra: String = (1..=4)
            .map(|i| format!("    - port: {}\n", 8000 + i))
            .collect();
        let web = format!("{WEB_HEAD}nlb:\n  port: 80\n  additional_listeners:\n{extra}");
        let m = messages(nlb_context(ENV, &web).unwrap_err());
        assert!(m[0].contains("6 target groups"), "{m:?}");
        let web =
            format!("{WEB_HEAD}http: false\nnlb:\n  port: 80\n  additional_listeners:\n{extra}");
        assert_eq!(
            nlb_context(ENV, &web).unwrap()["target_groups"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
    }

    #[test]
    fn deny_default_adds_no_environment_ingress() {
        let web = format!(
            "{WEB_HEAD}nlb:\n  port: 80\nnetwork:\n  vpc:\n    security_groups:\n      groups: [sg-0123456789abcdef0]\n      deny_default: true\n"
        );
        let v = nlb_context(ENV, &web).unwrap();
        assert_eq!(v["task_ingress"], json!([]));
    }

    #[test]
    fn imported_vpc_without_public_subnets_fails() {
        let env = "name: test\ntype: Environment\nnetwork:\n  vpc:\n    id: vpc-0123456789abcdef0\n    subnets:\n      private:\n        - id: subnet-0123456789abcdef0\n        - id: subnet-0123456789abcdef1\n";
        let web = format!(
            "{WEB_HEAD}http: false\nnlb:\n  port: 80\nnetwork:\n  vpc:\n    placement: private\n"
        );
        // Validation refuses this before rendering (TUG308, tests/invalid/
        // imported-vpc-without-public-subnets); rendering refuses it too.
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("copilot");
        fs::create_dir_all(dir.join("environments/test")).unwrap();
        fs::create_dir_all(dir.join("web")).unwrap();
        fs::write(dir.join(".workspace"), "application: shop\n").unwrap();
        fs::write(dir.join("environments/test/manifest.yml"), env).unwrap();
        fs::write(dir.join("web/manifest.yml"), &web).unwrap();
        let ws = Workspace::open(&dir);
        let opts = LoadOptions {
            lenient: false,
            environment: None,
            variables: HashMap::new(),
        };
        let loaded = load(&ws, &opts).unwrap();
        let wl = loaded.workloads.iter().find(|w| w.name == "web").unwrap();
        let scope = Scope {
            loaded: &loaded,
            wl,
            env: "test",
            addons: None,
        };
        let m = messages(context(&scope).unwrap_err());
        assert!(m[0].contains("no public subnets"), "{m:?}");
    }
}
