//! Load balancer rules for `http` (Application Load Balancer listener rules and target
//! groups) and `nlb` (Network Load Balancer listeners): required keys, ranges, condition
//! counts, target containers and grace periods.

use crate::manifest::codes;
use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::duration::Duration;
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::WorkloadKind;
use crate::manifest::model::service::{
    NlbListener, RoutingRule, TargetHealthCheck, parse_port_protocol,
};
use crate::manifest::source::Span;
use crate::manifest::union::{BoolOr, ScalarOr};
use crate::validate::rules::network::Cidr;
use crate::validate::rules::task::container_names;

/// Elastic Load Balancing allows 5 condition values per listener rule.
const MAX_CONDITION_VALUES: usize = 5;

pub(crate) fn check(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let whole = m.name.as_ref().map_or(Span::default(), |n| n.span);
    let mut grace_periods: Vec<Span> = Vec::new();
    match (wl.kind, m.http.as_ref()) {
        (WorkloadKind::LoadBalancedWebService, Some(h)) if !h.value.enabled() && m.nlb.is_none() => out.push(
            Diagnostic::error(codes::LOAD_BALANCER, h.span, "with `http: false` a Load Balanced Web Service needs `nlb`")
                .with_help("configure `nlb`, or use a Backend Service for a service without a load balancer"),
        ),
        (WorkloadKind::BackendService, Some(h)) if matches!(h.value, BoolOr::Bool(true)) => out.push(
            Diagnostic::error(codes::LOAD_BALANCER, h.span, "a Backend Service's `http` needs a `path`")
                .with_help("write `http: {path: /api}` to put the service behind the internal load balancer"),
        ),
        _ => {}
    }
    if let Some(rule) = m.http_rule() {
        let span = m.http.as_ref().map_or(whole, |h| h.span);
        check_rule(wl, rule, span, true, &mut grace_periods, out);
        for extra in rule.additional_rules.iter().flat_map(|r| r.iter()) {
            check_rule(wl, extra, extra.span, false, &mut grace_periods, out);
        }
    }
    if let Some(nlb) = &m.nlb {
        check_listener(wl, nlb, true, &mut grace_periods, out);
        for extra in nlb.additional_listeners.iter().flat_map(|l| l.iter()) {
            check_listener(wl, extra, false, &mut grace_periods, out);
        }
    }
    if grace_periods.len() > 1 {
        out.push(
            Diagnostic::error(
                codes::LOAD_BALANCER,
                grace_periods[1],
                "`grace_period` is set in both `http` and `nlb`",
            )
            .with_help("the health check grace period belongs to the service; set it once"),
        );
    }
}

fn secs_range(
    out: &mut Vec<Diagnostic>,
    v: Option<&Located<Duration>>,
    what: &str,
    min: u64,
    max: u64,
) {
    let Some(v) = v else { return };
    if v.value.millis % 1000 != 0 || v.value.millis < min * 1000 || v.value.millis > max * 1000 {
        out.push(
            Diagnostic::error(
                codes::HEALTHCHECK_RANGE,
                v.span,
                format!("{what} is {}, outside {min}s-{max}s", v.value),
            )
            .with_help(format!(
                "Elastic Load Balancing accepts whole seconds from {min}s to {max}s"
            )),
        );
    }
}

fn threshold(out: &mut Vec<Diagnostic>, v: Option<&Located<u32>>, what: &str) {
    if let Some(v) = v
        && !(2..=10).contains(&v.value)
    {
        out.push(
            Diagnostic::error(
                codes::HEALTHCHECK_RANGE,
                v.span,
                format!("{what} is {}, outside 2-10", v.value),
            )
            .with_help("Elastic Load Balancing accepts 2 to 10"),
        );
    }
}

fn check_target_health(
    hc: &Located<TargetHealthCheck>,
    main: bool,
    grace: &mut Vec<Span>,
    out: &mut Vec<Diagnostic>,
) {
    threshold(out, hc.healthy_threshold.as_ref(), "the healthy threshold");
    threshold(
        out,
        hc.unhealthy_threshold.as_ref(),
        "the unhealthy threshold",
    );
    secs_range(
        out,
        hc.interval.as_ref(),
        "the target health check interval",
        5,
        300,
    );
    secs_range(
        out,
        hc.timeout.as_ref(),
        "the target health check timeout",
        2,
        120,
    );
    if let (Some(i), Some(t)) = (&hc.interval, &hc.timeout)
        && t.value >= i.value
    {
        out.push(
            Diagnostic::error(
                codes::HEALTHCHECK_RANGE,
                t.span,
                format!(
                    "the target health check timeout ({}) must be shorter than its interval ({})",
                    t.value, i.value
                ),
            )
            .with_help("Elastic Load Balancing rejects a timeout that is not below the interval"),
        );
    }
    if let Some(codes_v) = &hc.success_codes
        && !valid_success_codes(&codes_v.value)
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                codes_v.span,
                format!("success codes `{}` are not valid", codes_v.value),
            )
            .with_help("write HTTP codes 200-499 as `200`, `200,202` or `200-299`"),
        );
    }
    if let Some(p) = &hc.path
        && !p.value.starts_with('/')
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                p.span,
                format!("health check path `{}` must start with `/`", p.value),
            )
            .with_help("for example /healthz"),
        );
    }
    if let Some(g) = &hc.grace_period {
        if main {
            grace.push(g.span);
            secs_range(
                out,
                Some(g),
                "the health check grace period",
                0,
                2_147_483_647,
            );
        } else {
            out.push(
                Diagnostic::error(
                    codes::LOAD_BALANCER,
                    g.span,
                    "`grace_period` can be set only on the main rule",
                )
                .with_help("move it to `http.healthcheck`"),
            );
        }
    }
}

fn valid_success_codes(s: &str) -> bool {
    let ok = |c: &str| {
        c.trim()
            .parse::<u16>()
            .is_ok_and(|n| (200..=499).contains(&n))
    };
    s.split(',').all(|part| match part.split_once('-') {
        Some((a, b)) => {
            ok(a) && ok(b) && a.trim().parse::<u16>().ok() <= b.trim().parse::<u16>().ok()
        }
        None => ok(part),
    })
}

fn check_rule(
    wl: &ResolvedWorkload,
    rule: &RoutingRule,
    span: Span,
    main: bool,
    grace: &mut Vec<Span>,
    out: &mut Vec<Diagnostic>,
) {
    if rule.path.is_none() {
        out.push(
            Diagnostic::error(codes::MISSING_KEY, span, "a listener rule needs a `path`")
                .with_help("for example `path: /` to receive all traffic"),
        );
    }
    if let Some(alb) = &rule.alb
        && !main
    {
        out.push(
            Diagnostic::error(
                codes::LOAD_BALANCER,
                alb.span,
                "`alb` can be set only on the main rule",
            )
            .with_help("move it to `http.alb`"),
        );
    }
    if let Some(hc) = &rule.healthcheck {
        match &hc.value {
            ScalarOr::Scalar(path) if !path.starts_with('/') => out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    hc.span,
                    format!("health check path `{path}` must start with `/`"),
                )
                .with_help("for example /healthz"),
            ),
            ScalarOr::Config(c) => {
                check_target_health(&Located::new(c.clone(), hc.span), main, grace, out)
            }
            _ => {}
        }
    }
    secs_range(
        out,
        rule.deregistration_delay.as_ref(),
        "the deregistration delay",
        0,
        3600,
    );
    if let Some(v) = &rule.version
        && !["http1", "http2", "grpc"].contains(&v.value.to_ascii_lowercase().as_str())
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                v.span,
                format!(
                    "protocol version `{}` must be HTTP1, HTTP2 or gRPC",
                    v.value
                ),
            )
            .with_help("HTTP1 is the default"),
        );
    }
    check_rule_conditions(rule, span, out);
    check_rule_target(wl, rule, out);
}

/// What a rule matches on: source IPs that are CIDR blocks, aliases for a hosted zone, and no
/// more condition values than a listener rule takes.
fn check_rule_conditions(rule: &RoutingRule, span: Span, out: &mut Vec<Diagnostic>) {
    for ip in rule.allowed_source_ips.iter().flat_map(|l| l.iter()) {
        if let Err(e) = Cidr::parse(&ip.value) {
            out.push(
                Diagnostic::error(codes::CIDR, ip.span, e)
                    .with_help("allowed_source_ips takes CIDR blocks such as 203.0.113.0/24"),
            );
        }
    }
    if rule.hosted_zone.is_some() && rule.alias.is_none() {
        let hz = rule.hosted_zone.as_ref().map_or(span, |h| h.span);
        out.push(
            Diagnostic::error(codes::LOAD_BALANCER, hz, "`hosted_zone` needs `alias`")
                .with_help("add the alias to create in the hosted zone"),
        );
    }
    let aliases = rule.alias.as_ref().map_or(0, |a| a.value.items().len());
    let ips = rule.allowed_source_ips.as_ref().map_or(0, |l| l.len());
    let conditions = usize::from(rule.path.is_some()) + aliases + ips;
    if conditions > MAX_CONDITION_VALUES {
        out.push(
            Diagnostic::error(
                codes::TOO_MANY_CONDITIONS,
                rule.alias.as_ref().map(|a| a.span).or(rule.allowed_source_ips.as_ref().map(|a| a.span)).unwrap_or(span),
                format!("this listener rule has {conditions} condition values (path, aliases and source IPs); a rule allows {MAX_CONDITION_VALUES}"),
            )
            .with_help("split the aliases or source IPs over `additional_rules` with the same path"),
        );
    }
}

/// The container and port a rule sends traffic to, under `target_container` or its
/// deprecated spelling `targetContainer`.
fn check_rule_target(wl: &ResolvedWorkload, rule: &RoutingRule, out: &mut Vec<Diagnostic>) {
    check_target(
        wl,
        rule.target_container
            .as_ref()
            .or(rule.target_container_camel.as_ref()),
        rule.target_port.as_ref(),
        out,
    );
    if let (Some(a), Some(b)) = (&rule.target_container, &rule.target_container_camel) {
        out.push(
            Diagnostic::error(
                codes::MUTUALLY_EXCLUSIVE,
                b.span,
                format!(
                    "`targetContainer` and `target_container` are both set (`{}`, `{}`)",
                    b.value, a.value
                ),
            )
            .with_help("keep `target_container`"),
        );
    } else if let Some(b) = &rule.target_container_camel {
        out.push(
            Diagnostic::warning(
                codes::DEPRECATED_KEY,
                b.span,
                "`targetContainer` is deprecated",
            )
            .with_help("rename it to `target_container`"),
        );
    }
}

fn check_target(
    wl: &ResolvedWorkload,
    container: Option<&Located<String>>,
    port: Option<&Located<u16>>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(c) = container else { return };
    let names = container_names(wl);
    if !names.contains(&c.value) {
        out.push(
            Diagnostic::error(
                codes::LOAD_BALANCER,
                c.span,
                format!(
                    "target container `{}` is not a container of this task",
                    c.value
                ),
            )
            .with_help(format!("containers: {}", names.join(", "))),
        );
        return;
    }
    let exposes = if c.value == wl.name {
        wl.manifest
            .image
            .as_ref()
            .and_then(|i| i.port.as_ref())
            .is_some()
    } else {
        wl.manifest
            .sidecars
            .as_ref()
            .and_then(|s| s.value.get(c.value.as_str()))
            .is_some_and(|s| s.port.is_some())
    };
    if !exposes && port.is_none() {
        out.push(
            Diagnostic::error(
                codes::LOAD_BALANCER,
                c.span,
                format!("target container `{}` exposes no port", c.value),
            )
            .with_help("set the container's `port`, or `target_port`"),
        );
    }
}

fn check_listener(
    wl: &ResolvedWorkload,
    l: &Located<NlbListener>,
    main: bool,
    grace: &mut Vec<Span>,
    out: &mut Vec<Diagnostic>,
) {
    match &l.port {
        None => out.push(
            Diagnostic::error(codes::MISSING_KEY, l.span, "an NLB listener needs a `port`")
                .with_help("for example `port: 443/tls` or `port: 80`"),
        ),
        Some(p) => match parse_port_protocol(&p.value) {
            Err(e) => out.push(
                Diagnostic::error(codes::INVALID_VALUE, p.span, e)
                    .with_help("protocols: tcp (default), udp, tls"),
            ),
            Ok((_, proto)) if !["tcp", "udp", "tls"].contains(&proto.as_str()) => out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    p.span,
                    format!("NLB protocol `{proto}` must be tcp, udp or tls"),
                )
                .with_help("for example 443/tls"),
            ),
            _ => {}
        },
    }
    if let Some(hc) = &l.healthcheck {
        threshold(
            out,
            hc.healthy_threshold.as_ref(),
            "the NLB healthy threshold",
        );
        threshold(
            out,
            hc.unhealthy_threshold.as_ref(),
            "the NLB unhealthy threshold",
        );
        if let Some(i) = &hc.interval
            && i.value.millis != 10_000
            && i.value.millis != 30_000
        {
            out.push(
                Diagnostic::error(
                    codes::HEALTHCHECK_RANGE,
                    i.span,
                    format!(
                        "an NLB health check interval must be 10s or 30s, not {}",
                        i.value
                    ),
                )
                .with_help("use 10s or 30s"),
            );
        }
        secs_range(
            out,
            hc.timeout.as_ref(),
            "the NLB health check timeout",
            2,
            120,
        );
        if let Some(g) = &hc.grace_period {
            if main {
                grace.push(g.span);
            } else {
                out.push(
                    Diagnostic::error(
                        codes::LOAD_BALANCER,
                        g.span,
                        "`grace_period` can be set only on the main NLB listener",
                    )
                    .with_help("move it to `nlb.healthcheck`"),
                );
            }
        }
    }
    secs_range(
        out,
        l.deregistration_delay.as_ref(),
        "the deregistration delay",
        0,
        3600,
    );
    // NLB aliases may name their `hosted_zone` (a tug extension); a plain name goes into the
    // zone of the application's domain (`.workspace` `domain:`), which rendering checks.
    if !main && l.additional_listeners.is_some() {
        out.push(
            Diagnostic::error(
                codes::LOAD_BALANCER,
                l.span,
                "additional listeners cannot have their own `additional_listeners`",
            )
            .with_help("list them all under `nlb.additional_listeners`"),
        );
    }
    check_target(wl, l.target_container.as_ref(), l.target_port.as_ref(), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_codes() {
        assert!(valid_success_codes("200"));
        assert!(valid_success_codes("200,202"));
        assert!(valid_success_codes("200-299"));
        assert!(!valid_success_codes("600"));
        assert!(!valid_success_codes("ok"));
        assert!(!valid_success_codes("299-200"));
    }
}
