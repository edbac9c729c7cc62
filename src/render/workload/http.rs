//! Application Load Balancer routing for a workload: one target group per routing rule
//! (`http` and each of `http.additional_rules`), listener rules on the environment's public or
//! internal load balancer (or an imported one), host aliases with optional Route 53 records
//! (in their `hosted_zone`, or on the public load balancer in the application domain's zone
//! they belong in), and with a domain Copilot's default name `<svc>.<env>.<app>.<domain>`.
//!
//! Rule priorities are derived from the manifests alone, so that adding a service does not
//! move the others: specific paths get lower numbers (evaluated first) than shorter ones, the
//! root path comes last, rules with host aliases come before rules without, and within a band
//! a hash of the workload name and path places the rule. Collisions are resolved in a fixed
//! order over every rule of the environment.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::domain::{AppDomain, Zone};
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::service::{HeaderMatch, HttpHealthCheck, RoutingRule, TestListener};
use crate::manifest::source::Span;
use crate::manifest::union::ScalarOr;
use crate::render::features::{uses_internal_alb, uses_public_alb, workloads_in};
use crate::render::workload::Scope;
use crate::render::workload::strategy::Strategy;
use crate::render::{RenderError, input_error, names};

/// Parameters of a service on an imported load balancer, filled in by `tug deploy`
/// (src/deploy/imported_alb.rs): the listener its rules forward on (HTTPS when there is one),
/// the HTTP listener next to an HTTPS one (or `none`), and the DNS name and canonical hosted
/// zone of the load balancer for alias records.
pub(crate) const IMPORTED_LISTENER: &str = "ImportedALBListenerArn";
pub(crate) const IMPORTED_HTTP_LISTENER: &str = "ImportedALBHTTPListenerArn";
pub(crate) const IMPORTED_DNS: &str = "ImportedALBDNSName";
pub(crate) const IMPORTED_ZONE: &str = "ImportedALBCanonicalHostedZoneID";
/// The condition of the rules on the imported load balancer's second (HTTP) listener.
const IMPORTED_HAS_HTTP_LISTENER: &str = "ImportedALBHasHTTPListener";

/// Which load balancer a workload's rules go to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Balancer {
    Public,
    Internal,
    Imported(String),
}

fn balancer(wl: &ResolvedWorkload) -> Option<Balancer> {
    let rule = wl.manifest.http_rule();
    if let Some(alb) = rule.and_then(|r| r.alb.as_ref()) {
        return Some(Balancer::Imported(alb.value.clone()));
    }
    if uses_public_alb(wl) {
        Some(Balancer::Public)
    } else if uses_internal_alb(wl) {
        Some(Balancer::Internal)
    } else {
        None
    }
}

/// Every routing rule of a workload: the main one, then the additional ones.
fn rules(wl: &ResolvedWorkload) -> Vec<RoutingRule> {
    let main = match wl.manifest.http_rule() {
        Some(r) => r.clone(),
        // `http` absent on a load-balanced web service: Copilot's default rule on `/`.
        None => RoutingRule::default(),
    };
    let mut out = vec![main.clone()];
    out.extend(
        main.additional_rules
            .iter()
            .flat_map(|r| r.iter())
            .map(|r| r.value.clone()),
    );
    out
}

fn path_of(rule: &RoutingRule) -> String {
    rule.path
        .as_ref()
        .map_or("/".to_string(), |p| p.value.clone())
}

/// The rule's host aliases: name, the hosted zone it names (its own or the rule's), and where
/// it is written.
fn aliases(rule: &RoutingRule) -> Vec<(String, Option<String>, Span)> {
    let zone = rule.hosted_zone.as_ref().map(|z| z.value.clone());
    let Some(alias) = rule.alias.as_ref() else {
        return Vec::new();
    };
    alias
        .value
        .items()
        .into_iter()
        .filter_map(|item| match item {
            ScalarOr::Scalar(s) => Some((s.clone(), zone.clone(), alias.span)),
            ScalarOr::Config(c) => {
                let name = c.name.as_ref()?;
                Some((
                    name.value.clone(),
                    c.hosted_zone
                        .as_ref()
                        .map(|z| z.value.clone())
                        .or(zone.clone()),
                    name.span,
                ))
            }
        })
        .collect()
}

fn is_root(path: &str) -> bool {
    path.trim_matches('/').is_empty()
}

/// The preferred priority of a rule: its band, then a hash slot within the band.
fn preferred_priority(workload: &str, index: usize, rule: &RoutingRule) -> u32 {
    let path = path_of(rule);
    let has_alias = rule.alias.is_some();
    let band = if is_root(&path) {
        if has_alias { 48 } else { 49 }
    } else {
        let segments = path.trim_matches('/').split('/').count() as u32;
        46 - segments.min(45)
    };
    let half = if has_alias { 0 } else { 500 };
    let hash = u32::from_str_radix(
        &names::short_hash(&format!("{workload}/{index}/{path}"), 6),
        16,
    )
    .unwrap_or(0);
    band * 1000 + half + hash % 499 + 1
}

/// Which of a routing rule's listener rules a priority is for. A header-matched test rule
/// shares the production rule's listener and must be evaluated before it, so it takes the
/// nearest free number below the production rule's. Production rules are placed first and
/// exactly as without test rules: adding a test route never moves a production rule (moving
/// one would collide with the rule taking its number while both exist during the update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Test,
    Production,
}

/// The header that selects test traffic on the production listener, for a workload deployed
/// with a traffic-shifting strategy and `deployment.test_listener.header`.
fn test_header(wl: &ResolvedWorkload) -> Option<&HeaderMatch> {
    let d = wl.manifest.deployment.as_ref().map(|d| &d.value);
    if !Strategy::of(d).shifts_traffic() {
        return None;
    }
    d.and_then(|d| d.test_listener.as_ref())
        .filter(|t| t.port.is_none())
        .and_then(|t| t.header.as_ref())
        .map(|h| &h.value)
}

/// Priorities of every rule of the environment on the same load balancer, keyed by
/// (workload, rule index, slot).
fn priorities(scope: &Scope, target: &Balancer) -> BTreeMap<(String, usize, Slot), u32> {
    let mut wanted: Vec<(u32, String, usize, Slot)> = Vec::new();
    for wl in workloads_in(scope.loaded, scope.env) {
        if balancer(wl).as_ref() != Some(target) {
            continue;
        }
        let tested = test_header(wl).is_some();
        for (i, rule) in rules(wl).iter().enumerate() {
            let preferred = preferred_priority(&wl.name, i, rule);
            if tested {
                wanted.push((preferred, wl.name.clone(), i, Slot::Test));
            }
            wanted.push((preferred, wl.name.clone(), i, Slot::Production));
        }
    }
    wanted.sort();
    let mut taken = std::collections::BTreeSet::new();
    let mut out = BTreeMap::new();
    for (mut p, name, i, slot) in wanted.iter().cloned() {
        if slot != Slot::Production {
            continue;
        }
        while taken.contains(&p) {
            p += 1;
        }
        taken.insert(p);
        out.insert((name, i, slot), p);
    }
    for (_, name, i, slot) in wanted {
        if slot != Slot::Test {
            continue;
        }
        let production = out
            .get(&(name.clone(), i, Slot::Production))
            .copied()
            .unwrap_or(1);
        let below = (1..production).rev().find(|p| !taken.contains(p));
        let p = below.unwrap_or_else(|| {
            (production..)
                .find(|p| !taken.contains(p))
                .unwrap_or(production)
        });
        taken.insert(p);
        out.insert((name, i, slot), p);
    }
    out
}

/// A listener rule action forwarding to a target group, or (with a traffic-shifting strategy)
/// to both of the rule's target groups with all traffic on the first.
fn forward(target_group: &str, alternate: Option<&str>) -> Value {
    match alternate {
        None => json!([{ "Type": "forward", "TargetGroupArn": { "Ref": target_group } }]),
        Some(alt) => json!([{
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    { "TargetGroupArn": { "Ref": target_group }, "Weight": 100 },
                    { "TargetGroupArn": { "Ref": alt }, "Weight": 0 },
                ],
            },
        }]),
    }
}

fn health_check(hc: Option<&HttpHealthCheck>, grpc: bool) -> Value {
    let mut out = json!({
        "HealthCheckPath": "/",
        "HealthyThresholdCount": 5,
        "UnhealthyThresholdCount": 2,
        "HealthCheckIntervalSeconds": 30,
        "HealthCheckTimeoutSeconds": 5,
        "Matcher": if grpc { json!({ "GrpcCode": "0" }) } else { json!({ "HttpCode": "200" }) },
    });
    match hc {
        Some(ScalarOr::Scalar(path)) => out["HealthCheckPath"] = json!(path),
        Some(ScalarOr::Config(c)) => {
            if let Some(p) = &c.path {
                out["HealthCheckPath"] = json!(p.value);
            }
            if let Some(p) = &c.port {
                out["HealthCheckPort"] = json!(p.value.to_string());
            }
            if let Some(v) = &c.success_codes {
                out["Matcher"] = if grpc {
                    json!({ "GrpcCode": v.value })
                } else {
                    json!({ "HttpCode": v.value })
                };
            }
            if let Some(v) = &c.healthy_threshold {
                out["HealthyThresholdCount"] = json!(v.value);
            }
            if let Some(v) = &c.unhealthy_threshold {
                out["UnhealthyThresholdCount"] = json!(v.value);
            }
            if let Some(v) = &c.interval {
                out["HealthCheckIntervalSeconds"] = json!(v.value.millis / 1000);
            }
            if let Some(v) = &c.timeout {
                out["HealthCheckTimeoutSeconds"] = json!(v.value.millis / 1000);
            }
        }
        None => {}
    }
    out
}

/// The protocol of a target group and, where it differs from it, of its health check, as
/// Copilot chose them: HTTPS for targets on port 443; a health check port other than 443 on
/// such a target is checked over HTTP, and a health check on port 443 over HTTPS.
fn target_protocols(port: u16, health: &Value) -> (&'static str, Option<&'static str>) {
    let check_port = health["HealthCheckPort"].as_str();
    let protocol = if port == 443 { "HTTPS" } else { "HTTP" };
    let health = match (port == 443, check_port) {
        (false, Some("443")) => Some("HTTPS"),
        (true, Some(p)) if p != "443" => Some("HTTP"),
        _ => None,
    };
    (protocol, health)
}

/// The health check grace period of the service, from the main rule (default 60 s).
fn grace_period(rule: &RoutingRule) -> u64 {
    match rule.healthcheck.as_ref().map(|h| &h.value) {
        Some(ScalarOr::Config(c)) => c
            .grace_period
            .as_ref()
            .map_or(60, |g| g.value.millis / 1000),
        _ => 60,
    }
}

/// The view model of the workload's ALB routing, or null when it has none.
pub(crate) fn context(scope: &Scope) -> Result<Value, RenderError> {
    let Some(target) = balancer(scope.wl) else {
        return Ok(Value::Null);
    };
    let mut parameters = Vec::new();
    let routing = Routing::new(scope, target, &mut parameters)?;
    let all = rules(scope.wl);
    let mut routed = Routed::default();
    for (i, rule) in all.iter().enumerate() {
        routing.rule(i, rule, &mut routed)?;
    }
    if !routed.diags.is_empty() {
        return Err(RenderError::Input(routed.diags));
    }
    let default_record = routing.default_record(&all);
    if !routed.records.is_empty() {
        routing.imported_record_parameters(&mut parameters);
    }
    let target = &routing.target;
    let lb_full_name = match target {
        Balancer::Public => scope.import("PublicLoadBalancerFullName"),
        Balancer::Internal => scope.import("InternalLoadBalancerFullName"),
        Balancer::Imported(_) => Value::Null,
    };
    let conditions = match target {
        Balancer::Imported(_) => json!([{
            "id": IMPORTED_HAS_HTTP_LISTENER,
            "value": { "Fn::Not": [{ "Fn::Equals": [{ "Ref": IMPORTED_HTTP_LISTENER }, "none"] }] },
        }]),
        _ => json!([]),
    };
    let rule_ids = listener_rules_ids(&routed.listener_rules);
    Ok(json!({
        "target_groups": routed.target_groups,
        "rules": routed.listener_rules,
        "rule_ids": rule_ids,
        "conditions": conditions,
        "records": routed.records,
        "default_record": default_record,
        "grace_period": all.first().map_or(60, grace_period),
        "vpc": scope.import("VpcId"),
        "lb_full_name": lb_full_name,
        "parameters": parameters,
        "test_listener": routing.test_port,
    }))
}

/// What every routing rule of a workload shares: the load balancer and its listeners, the
/// priorities of the environment's rules, and how a deployment shifts traffic.
struct Routing<'a> {
    scope: &'a Scope<'a>,
    target: Balancer,
    /// The application's domain, when the environment uses it.
    domain: Option<&'a AppDomain>,
    http_listener: Value,
    https_listener: Option<Value>,
    main_port: Option<u16>,
    priorities: BTreeMap<(String, usize, Slot), u32>,
    /// A traffic-shifting strategy (blue/green, canary, linear): every target group has an
    /// alternate.
    shifting: bool,
    strategy_span: Span,
    test_listener: Option<&'a TestListener>,
    /// The listener a test port adds, or null.
    test_port: Value,
}

/// What the routing rules add up to.
#[derive(Default)]
struct Routed {
    target_groups: Vec<Value>,
    listener_rules: Vec<Value>,
    records: Vec<Value>,
    diags: Vec<Diagnostic>,
}

/// One routing rule's match: its conditions and host aliases.
struct Match {
    conditions: Vec<Value>,
    hosts: Vec<(String, Option<String>, Span)>,
}

/// The production listener rule of routing rule `index`, which the rules beside it (the
/// HTTP redirect, the test rule) copy: its id suffix, priority, conditions and actions.
struct ProductionRule<'r> {
    index: usize,
    suffix: &'r str,
    priority: u32,
    matched: &'r Match,
    actions: &'r Value,
}

impl<'a> Routing<'a> {
    fn new(
        scope: &'a Scope<'a>,
        target: Balancer,
        parameters: &mut Vec<Value>,
    ) -> Result<Routing<'a>, RenderError> {
        // The application's domain gives the public load balancer an HTTPS listener too.
        let domain = crate::render::environment::has_domain(scope.loaded, scope.env)
            .then_some(scope.loaded.domain.as_ref())
            .flatten();
        let (http_listener, https_listener) = listeners(scope, &target, domain, parameters);
        let wl = scope.wl;
        let main_port = wl
            .manifest
            .image
            .as_ref()
            .and_then(|i| i.port.as_ref())
            .map(|p| p.value);
        let deployment = wl.manifest.deployment.as_ref();
        let shifting = Strategy::of(deployment.map(|d| &d.value)).shifts_traffic();
        let strategy_span = deployment.and_then(|d| d.strategy.as_ref()).map_or_else(
            || deployment.map(|d| d.span).unwrap_or_default(),
            |s| s.span,
        );
        let test_listener = deployment
            .and_then(|d| d.test_listener.as_ref())
            .map(|t| &t.value);
        let test_port = if shifting {
            test_listener_port(scope, &target, test_listener)?
        } else {
            Value::Null
        };
        Ok(Routing {
            priorities: priorities(scope, &target),
            scope,
            target,
            domain,
            http_listener,
            https_listener,
            main_port,
            shifting,
            strategy_span,
            test_listener,
            test_port,
        })
    }

    /// The target group(s), listener rules and alias records of routing rule `i`.
    fn rule(&self, i: usize, rule: &RoutingRule, out: &mut Routed) -> Result<(), RenderError> {
        let wl = self.scope.wl;
        let suffix = if i == 0 { String::new() } else { i.to_string() };
        let tg_id = format!("TargetGroup{suffix}");
        let version = rule
            .version
            .as_ref()
            .map(|v| v.value.to_ascii_uppercase())
            .unwrap_or_else(|| {
                if self.main_port == Some(50051) {
                    "GRPC".into()
                } else {
                    "HTTP1".into()
                }
            });
        let (container, container_port) = self.container_target(rule)?;
        let alternate = self
            .shifting
            .then(|| format!("AlternateTargetGroup{suffix}"));
        let matched = match_of(rule);
        let priority = self
            .priorities
            .get(&(wl.name.clone(), i, Slot::Production))
            .copied()
            .unwrap_or(50000);
        let redirect = rule.redirect_to_https.as_ref().is_none_or(|r| r.value);
        let listeners = self.production_listeners(rule, redirect)?;
        let actions = forward(&tg_id, alternate.as_deref());
        let mut production_rule = String::new();
        for (proto, listener) in &listeners {
            production_rule = format!("{proto}ListenerRule{suffix}");
            out.listener_rules.push(json!({
                "id": production_rule,
                "listener": listener,
                "priority": priority,
                "conditions": matched.conditions,
                "actions": actions,
            }));
        }
        let production = ProductionRule {
            index: i,
            suffix: &suffix,
            priority,
            matched: &matched,
            actions: &actions,
        };
        self.redirect_rules(&production, redirect, out);
        let test_rule = self.test_rule(&production, &listeners[0].1, out);
        let health = health_check(
            rule.healthcheck.as_ref().map(|h| &h.value),
            version == "GRPC",
        );
        // Copilot's target groups speak HTTPS to a container on port 443, and check its
        // health over HTTPS unless the health check goes to another port.
        let (protocol, health_protocol) = target_protocols(container_port, &health);
        let group = json!({
            "id": tg_id,
            "protocol": protocol,
            "health_protocol": health_protocol,
            "port": container_port,
            "protocol_version": version,
            "health": health,
            "attributes": target_group_attributes(rule),
            "container": container,
            "container_port": container_port,
            "target_type": crate::render::workload::ec2::target_type(&wl.manifest),
        });
        // The alternate is the same target group under another name, attached by ECS alone.
        if let Some(alt) = &alternate {
            let mut twin = group.clone();
            twin["id"] = json!(alt);
            twin["alternate_of"] = json!(tg_id);
            let mut main = group;
            main["alternate"] = json!(alt);
            main["production_rule"] = json!(production_rule);
            main["test_rule"] = test_rule;
            out.target_groups.push(main);
            out.target_groups.push(twin);
        } else {
            out.target_groups.push(group);
        }
        self.alias_records(matched.hosts, out);
        Ok(())
    }

    /// The container a rule routes to and its port: `target_container` (the main container
    /// by default) on `target_port`, else on the port that container exposes.
    fn container_target(&self, rule: &RoutingRule) -> Result<(String, u16), RenderError> {
        let wl = self.scope.wl;
        let container = rule
            .target_container
            .as_ref()
            .or(rule.target_container_camel.as_ref())
            .map_or(wl.name.clone(), |c| c.value.clone());
        let container_port = rule.target_port.as_ref().map(|p| p.value).or_else(|| {
            if container == wl.name {
                self.main_port
            } else {
                wl.manifest
                    .sidecars
                    .as_ref()
                    .and_then(|s| s.value.get(container.as_str()))
                    .and_then(|s| s.port.as_ref())
                    .and_then(|p| {
                        crate::manifest::model::service::parse_container_port(&p.value).ok()
                    })
                    .map(|(p, _)| p)
            }
        });
        match container_port {
            Some(port) => Ok((container, port)),
            None => Err(RenderError::internal(format!(
                "{}: a routing rule without a container port passed validation",
                wl.name
            ))),
        }
    }

    /// The listeners the rule forwards production traffic on: HTTPS when the load balancer
    /// has it (and HTTP too with `redirect_to_https: false`), else HTTP.
    fn production_listeners(
        &self,
        rule: &RoutingRule,
        redirect: bool,
    ) -> Result<Vec<(&'static str, Value)>, RenderError> {
        let mut listeners: Vec<(&str, Value)> = Vec::new();
        match &self.https_listener {
            Some(https) => {
                listeners.push(("HTTPS", https.clone()));
                if !redirect {
                    listeners.push(("HTTP", self.http_listener.clone()));
                }
            }
            None => listeners.push(("HTTP", self.http_listener.clone())),
        }
        // An imported load balancer with HTTP and HTTPS listeners forwards on the second one
        // too when the rule does not redirect; whether it has both is known at deploy time.
        let imported_forwards_twice = matches!(self.target, Balancer::Imported(_)) && !redirect;
        if self.shifting && (listeners.len() > 1 || imported_forwards_twice) {
            let span = rule
                .redirect_to_https
                .as_ref()
                .map_or(self.strategy_span, |r| r.span);
            return Err(RenderError::Input(vec![input_error(
                span,
                "with `redirect_to_https: false` the service has two production listener rules (HTTP and HTTPS), and ECS shifts traffic on one",
                "keep the default redirect to HTTPS, or use `strategy: rolling`",
            )]));
        }
        Ok(listeners)
    }

    /// The rules on the HTTP listener next to the production rule on HTTPS.
    ///
    /// Copilot's HTTP rule of the same conditions next to an HTTPS rule: a redirect to
    /// HTTPS (`redirect_to_https`, the default), so that `http://<alias>/<path>` reaches the
    /// service also where the listener's own default does not redirect (the internal load
    /// balancer, an imported one). The forwarding variant shares its id, so turning the
    /// redirect off or on updates the rule in place.
    fn redirect_rules(&self, production: &ProductionRule, redirect: bool, out: &mut Routed) {
        let ProductionRule {
            suffix,
            priority,
            matched,
            actions,
            ..
        } = *production;
        if self.https_listener.is_some() && redirect {
            out.listener_rules.push(json!({
                "id": format!("HTTPListenerRule{suffix}"),
                "listener": self.http_listener,
                "priority": priority,
                "conditions": matched.conditions,
                "actions": redirect_action(),
            }));
        }
        if let Balancer::Imported(_) = &self.target {
            out.listener_rules.push(json!({
                "id": format!("ImportedHTTPListenerRule{suffix}"),
                "condition": IMPORTED_HAS_HTTP_LISTENER,
                "listener": { "Ref": IMPORTED_HTTP_LISTENER },
                "priority": priority,
                "conditions": matched.conditions,
                "actions": if redirect { redirect_action() } else { actions.clone() },
            }));
        }
    }

    /// The listener rule that sends test traffic to the alternate target group during a
    /// traffic-shifting deployment (on the test port, or on the production listener for the
    /// test header): its id, or null without one.
    fn test_rule(
        &self,
        production: &ProductionRule,
        production_listener: &Value,
        out: &mut Routed,
    ) -> Value {
        let ProductionRule {
            index: i,
            suffix,
            priority,
            matched,
            actions,
        } = *production;
        let Some(t) = self.test_listener.filter(|_| self.shifting) else {
            return Value::Null;
        };
        let id = format!("TestListenerRule{suffix}");
        let mut test_conditions = matched.conditions.clone();
        let (listener, priority) = match (&t.port, &t.header) {
            (Some(_), _) => (json!({ "Ref": "TestListener" }), priority),
            (None, Some(h)) => {
                test_conditions.push(json!({
                    "Field": "http-header",
                    "HttpHeaderConfig": {
                        "HttpHeaderName": h.name.as_ref().map(|n| n.value.clone()).unwrap_or_default(),
                        "Values": h.values.as_ref().map(|v| v.value.clone()).unwrap_or_default(),
                    },
                }));
                let test_priority = self
                    .priorities
                    .get(&(self.scope.wl.name.clone(), i, Slot::Test))
                    .copied()
                    .unwrap_or(priority.saturating_sub(1));
                (production_listener.clone(), test_priority)
            }
            (None, None) => return Value::Null,
        };
        out.listener_rules.push(json!({
            "id": id,
            "listener": listener,
            "priority": priority,
            "conditions": test_conditions,
            "actions": actions,
        }));
        json!(id)
    }

    /// Alias records to the load balancer the rule is on, for names with a hosted zone (their
    /// own, or the application domain's zone they belong in on the public load balancer).
    fn alias_records(&self, hosts: Vec<(String, Option<String>, Span)>, out: &mut Routed) {
        let scope = self.scope;
        let (dns, dns_zone) = match &self.target {
            Balancer::Public => (
                scope.import("PublicLoadBalancerDNS"),
                scope.import("PublicLoadBalancerCanonicalHostedZoneID"),
            ),
            Balancer::Internal => (
                scope.import("InternalLoadBalancerDNS"),
                scope.import("InternalLoadBalancerCanonicalHostedZoneID"),
            ),
            Balancer::Imported(_) => (
                json!({ "Ref": IMPORTED_DNS }),
                json!({ "Ref": IMPORTED_ZONE }),
            ),
        };
        for (host, zone, span) in hosts {
            // Copilot's names in the application's domain went in the environment's, the
            // application's or the domain's zone (its `CustomDomainAction` Lambda wrote them).
            let domain = self.domain.filter(|_| self.target == Balancer::Public);
            let zone = match (zone, domain) {
                (Some(zone), _) => json!(zone),
                (None, Some(d)) => match d.zone_of(&scope.loaded.app, scope.env, &host) {
                    Some(Zone::Environment) => scope.import("HostedZone"),
                    Some(Zone::Application(z) | Zone::Domain(z)) => json!(z),
                    None => {
                        out.diags.push(input_error(
                            span,
                            format!("alias `{host}` is not in the application's domain `{}`, so there is no hosted zone to create its record in", d.name),
                            format!("use {}, or give the alias its own `hosted_zone`", d.allowed(&scope.loaded.app, scope.env)),
                        ));
                        continue;
                    }
                },
                (None, None) => continue,
            };
            let id = format!("AliasRecord{}", names::logical_id(&host));
            // The same name in two rules is one record.
            if out.records.iter().any(|r: &Value| r["id"] == json!(id)) {
                continue;
            }
            out.records.push(json!({
                "id": id,
                "zone": zone,
                "name": host,
                "dns": dns,
                "dns_zone": dns_zone,
            }));
        }
    }

    /// Copilot's default name of a public service without aliases in the application's
    /// domain, `<svc>.<env>.<app>.<domain>`, in the environment's zone, with its logical id and
    /// type.
    fn default_record(&self, all: &[RoutingRule]) -> Option<Value> {
        let scope = self.scope;
        let domain = self.domain?;
        if self.target != Balancer::Public || all.iter().any(|r| r.alias.is_some()) {
            return None;
        }
        let d = domain.environment(&scope.loaded.app, scope.env);
        Some(json!({
            "zone": scope.import("HostedZone"),
            "name": format!("{}.{}.", scope.wl.name, d),
            "dns": scope.import("PublicLoadBalancerDNS"),
            "dns_zone": scope.import("PublicLoadBalancerCanonicalHostedZoneID"),
        }))
    }

    /// The parameters the alias records on an imported load balancer need, looked up by
    /// `tug deploy`.
    fn imported_record_parameters(&self, parameters: &mut Vec<Value>) {
        let Balancer::Imported(alb) = &self.target else {
            return;
        };
        parameters.push(json!({
            "name": IMPORTED_DNS,
            "description": format!("The DNS name of the imported load balancer {alb}, for the alias records; tug looks it up when it deploys"),
            "default": null,
            "file_value": format!("<resolved at deploy time: the DNS name of {alb}>"),
        }));
        parameters.push(json!({
            "name": IMPORTED_ZONE,
            "description": format!("The canonical hosted zone of the imported load balancer {alb}, for the alias records; tug looks it up when it deploys"),
            "default": null,
            "file_value": format!("<resolved at deploy time: the canonical hosted zone of {alb}>"),
        }));
    }
}

/// The HTTP listener the workload's rules go on and, when the load balancer has one, the
/// HTTPS listener. An imported load balancer's are parameters `tug deploy` fills in.
fn listeners(
    scope: &Scope,
    target: &Balancer,
    domain: Option<&AppDomain>,
    parameters: &mut Vec<Value>,
) -> (Value, Option<Value>) {
    let (public_https, internal_https) = environment_https(scope);
    match target {
        Balancer::Public => (
            scope.import("HTTPListenerArn"),
            (public_https || domain.is_some()).then(|| scope.import("HTTPSListenerArn")),
        ),
        Balancer::Internal => (
            scope.import("InternalHTTPListenerArn"),
            internal_https.then(|| scope.import("InternalHTTPSListenerArn")),
        ),
        Balancer::Imported(alb) => {
            parameters.push(json!({
                "name": IMPORTED_LISTENER,
                "description": format!("The listener of the imported load balancer {alb} that routes to this service; tug looks it up when it deploys (HTTPS when the load balancer has one, else HTTP)"),
                "default": null,
                "file_value": format!("<resolved at deploy time: a listener of {alb}>"),
            }));
            parameters.push(json!({
                "name": IMPORTED_HTTP_LISTENER,
                "description": format!("The HTTP listener of the imported load balancer {alb} when it also has an HTTPS one (its rules redirect to HTTPS), else `none`; tug looks it up when it deploys"),
                "default": null,
                "file_value": format!("<resolved at deploy time: the HTTP listener of {alb} next to its HTTPS one, or none>"),
            }));
            (json!({ "Ref": IMPORTED_LISTENER }), None)
        }
    }
}

/// Whether the environment's public and internal load balancers have certificates (and so
/// HTTPS listeners).
fn environment_https(scope: &Scope) -> (bool, bool) {
    scope
        .loaded
        .environments
        .iter()
        .find(|e| e.name == scope.env)
        .and_then(|e| e.manifest.http.as_ref())
        .map(|h| {
            let certs =
                |c: Option<&Located<Vec<Located<String>>>>| c.is_some_and(|c| !c.is_empty());
            (
                certs(h.public.as_ref().and_then(|p| p.certificates.as_ref())),
                certs(h.private.as_ref().and_then(|p| p.certificates.as_ref())),
            )
        })
        .unwrap_or((false, false))
}

/// A rule's listener rule conditions (path, host aliases, source addresses) and its aliases.
fn match_of(rule: &RoutingRule) -> Match {
    let path = path_of(rule);
    let patterns = if is_root(&path) {
        json!(["/*"])
    } else {
        let p = format!("/{}", path.trim_matches('/'));
        json!([p.clone(), format!("{p}/*")])
    };
    let mut conditions =
        vec![json!({ "Field": "path-pattern", "PathPatternConfig": { "Values": patterns } })];
    let hosts = aliases(rule);
    if !hosts.is_empty() {
        conditions.push(json!({ "Field": "host-header", "HostHeaderConfig": { "Values": hosts.iter().map(|(h, _, _)| h.clone()).collect::<Vec<_>>() } }));
    }
    if let Some(ips) = rule
        .allowed_source_ips
        .as_ref()
        .filter(|ips| !ips.is_empty())
    {
        conditions.push(json!({ "Field": "source-ip", "SourceIpConfig": { "Values": ips.iter().map(|i| i.value.clone()).collect::<Vec<_>>() } }));
    }
    Match { conditions, hosts }
}

/// The target group attributes of a rule: deregistration delay and stickiness.
fn target_group_attributes(rule: &RoutingRule) -> Vec<Value> {
    let mut attributes = vec![json!({
        "Key": "deregistration_delay.timeout_seconds",
        "Value": rule.deregistration_delay.as_ref().map_or(60, |d| d.value.millis / 1000).to_string(),
    })];
    if rule.stickiness.as_ref().is_some_and(|s| s.value) {
        attributes.push(json!({ "Key": "stickiness.enabled", "Value": "true" }));
        attributes.push(json!({ "Key": "stickiness.type", "Value": "lb_cookie" }));
    }
    attributes
}

/// The listener a `deployment.test_listener.port` adds to the environment's load balancer:
/// plain HTTP on that port, reachable from the environment's security group only (test traffic
/// comes from inside: smoke-test tasks, hooks in the VPC), so an untested revision is never
/// exposed to the internet. Null without a test port.
fn test_listener_port(
    scope: &Scope,
    target: &Balancer,
    test: Option<&TestListener>,
) -> Result<Value, RenderError> {
    let Some(port) = test.and_then(|t| t.port.as_ref()) else {
        return Ok(Value::Null);
    };
    let (lb, group) = match target {
        Balancer::Public => ("PublicLoadBalancerArn", "PublicLoadBalancerSecurityGroup"),
        Balancer::Internal => (
            "InternalLoadBalancerArn",
            "InternalLoadBalancerSecurityGroup",
        ),
        Balancer::Imported(alb) => {
            return Err(RenderError::Input(vec![input_error(
                port.span,
                format!(
                    "a test listener port needs a load balancer tug manages, and {alb} is imported"
                ),
                "use `test_listener: {header: {name: ..., values: [...]}}` to select test traffic on the imported load balancer",
            )]));
        }
    };
    Ok(json!({
        "port": port.value,
        "load_balancer": scope.import(lb),
        "security_group": scope.import(group),
        "source": scope.import("EnvironmentSecurityGroup"),
    }))
}

/// The ids of the rules the service waits for: those that always exist (a resource with a
/// condition cannot be named in `DependsOn`).
fn listener_rules_ids(rules: &[Value]) -> Vec<Value> {
    rules
        .iter()
        .filter(|r| r.get("condition").is_none())
        .map(|r| r["id"].clone())
        .collect()
}

/// Copilot's HTTP to HTTPS redirect: same host, path and query, permanent.
fn redirect_action() -> Value {
    json!([{
        "Type": "redirect",
        "RedirectConfig": {
            "Protocol": "HTTPS",
            "Port": "443",
            "Host": "#{host}",
            "Path": "/#{path}",
            "Query": "#{query}",
            "StatusCode": "HTTP_301",
        },
    }])
}
