//! Deployment rules: the rolling knobs (`rolling`, percentages, circuit breaker, rollback
//! alarms) and tug's native ECS strategies (blue/green, canary, linear) with their bake
//! times, traffic steps, test listener and lifecycle hooks.

use crate::manifest::codes;
use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::duration::Duration;
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::WorkloadKind;
use crate::manifest::model::service::Deployment;
use crate::manifest::union::ListOr;

/// CloudFormation rejects canary and linear deployments computed to last longer than this.
const MAX_DURATION_MINUTES: f64 = 33.0 * 60.0;
/// Longer deployments are allowed but usually a mistake.
const WARN_DURATION_MINUTES: f64 = 6.0 * 60.0;

const LIFECYCLE_STAGES: &[&str] = &[
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    Rolling,
    BlueGreen,
    Canary,
    Linear,
}

pub(crate) fn check(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let Some(d) = &wl.manifest.deployment else {
        return;
    };
    let Some(strategy) = strategy_of(d, out) else {
        return;
    };
    if let Some(r) = &d.rolling
        && !["default", "recreate"].contains(&r.value.to_ascii_lowercase().as_str())
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                r.span,
                format!("invalid rolling deployment strategy `{}`", r.value),
            )
            .with_help("use `default` or `recreate`"),
        );
    }
    if strategy != Strategy::Rolling {
        check_needs_load_balancer(wl, d, out);
        check_no_rolling_keys(d, out);
    } else {
        check_no_traffic_shift_keys(d, out);
        check_rolling_percents(d, out);
    }
    check_canary(d, strategy, out);
    check_linear(d, strategy, out);
    minutes(out, d.bake_time.as_ref(), "the bake time");
    check_duration(d, strategy, out);
    check_alarms(wl, d, out);
    check_hooks(d, out);
    check_test_listener(d, out);
}

/// The strategy the manifest names (rolling when it names none); `None` when it is not one.
fn strategy_of(d: &Located<Deployment>, out: &mut Vec<Diagnostic>) -> Option<Strategy> {
    let Some(s) = &d.strategy else {
        return Some(Strategy::Rolling);
    };
    match s.value.to_ascii_lowercase().replace('-', "_").as_str() {
        "rolling" => Some(Strategy::Rolling),
        "blue_green" | "bluegreen" => Some(Strategy::BlueGreen),
        "canary" => Some(Strategy::Canary),
        "linear" => Some(Strategy::Linear),
        _ => {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    s.span,
                    format!("deployment strategy `{}` is not known", s.value),
                )
                .with_help("strategies: rolling (default), blue_green, canary, linear"),
            );
            None
        }
    }
}

/// Blue/green, canary and linear deployments take none of the rolling strategy's keys.
fn check_no_rolling_keys(d: &Located<Deployment>, out: &mut Vec<Diagnostic>) {
    for (set, key) in [
        (d.rolling.as_ref().map(|v| v.span), "rolling"),
        (
            d.circuit_breaker.as_ref().map(|v| v.span),
            "circuit_breaker",
        ),
        (
            d.min_healthy_percent.as_ref().map(|v| v.span),
            "min_healthy_percent",
        ),
        (d.max_percent.as_ref().map(|v| v.span), "max_percent"),
    ] {
        if let Some(span) = set {
            out.push(
                Diagnostic::error(codes::DEPLOYMENT, span, format!("`{key}` applies to the rolling strategy only"))
                    .with_help("blue/green, canary and linear roll back with deployment alarms; remove this key"),
            );
        }
    }
}

/// A rolling deployment takes none of the keys of the strategies that shift traffic.
fn check_no_traffic_shift_keys(d: &Located<Deployment>, out: &mut Vec<Diagnostic>) {
    for (set, key) in [
        (d.bake_time.as_ref().map(|v| v.span), "bake_time"),
        (d.test_listener.as_ref().map(|v| v.span), "test_listener"),
        (d.hooks.as_ref().map(|v| v.span), "hooks"),
    ] {
        if let Some(span) = set {
            out.push(
                Diagnostic::error(
                    codes::DEPLOYMENT,
                    span,
                    format!("`{key}` needs `strategy: blue_green`, `canary` or `linear`"),
                )
                .with_help("set the strategy, or remove this key"),
            );
        }
    }
}

fn check_canary(d: &Located<Deployment>, strategy: Strategy, out: &mut Vec<Diagnostic>) {
    let Some(c) = &d.canary else {
        return;
    };
    if strategy != Strategy::Canary {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                c.span,
                "`canary` settings need `strategy: canary`",
            )
            .with_help("set the strategy, or remove `canary`"),
        );
    }
    if let Some(p) = &c.percent
        && !(0.1..=100.0).contains(&p.value)
    {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                p.span,
                format!("canary percent {} is outside 0.1-100", p.value),
            )
            .with_help("the share of traffic sent to the new revision first"),
        );
    }
    minutes(out, c.bake_time.as_ref(), "the canary bake time");
}

fn check_linear(d: &Located<Deployment>, strategy: Strategy, out: &mut Vec<Diagnostic>) {
    let Some(l) = &d.linear else {
        return;
    };
    if strategy != Strategy::Linear {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                l.span,
                "`linear` settings need `strategy: linear`",
            )
            .with_help("set the strategy, or remove `linear`"),
        );
    }
    if let Some(p) = &l.step_percent
        && !(3.0..=100.0).contains(&p.value)
    {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                p.span,
                format!("linear step percent {} is outside 3-100", p.value),
            )
            .with_help("the share of traffic moved at each step"),
        );
    }
    minutes(out, l.step_bake_time.as_ref(), "the linear step bake time");
}

/// The test listener: a port of its own or a header, complete.
fn check_test_listener(d: &Located<Deployment>, out: &mut Vec<Diagnostic>) {
    let Some(t) = &d.test_listener else {
        return;
    };
    if t.port.is_none() && t.header.is_none() {
        out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                t.span,
                "`test_listener` needs `port` or `header`",
            )
            .with_help("for example {port: 8443}"),
        );
    }
    if let Some(p) = &t.port
        && (p.value == 0 || p.value == 80 || p.value == 443)
    {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                p.span,
                format!(
                    "test listener port {} is invalid or taken by the production listeners",
                    p.value
                ),
            )
            .with_help("use a separate port such as 8080 or 8443"),
        );
    }
    if let Some(h) = &t.header
        && (h.name.is_none() || h.values.as_ref().is_none_or(|v| v.is_empty()))
    {
        out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                h.span,
                "a test header needs `name` and `values`",
            )
            .with_help("for example {name: x-test, values: [\"true\"]}"),
        );
    }
}

fn check_needs_load_balancer(
    wl: &ResolvedWorkload,
    d: &Located<Deployment>,
    out: &mut Vec<Diagnostic>,
) {
    let m = &wl.manifest;
    let has_lb = match wl.kind {
        WorkloadKind::LoadBalancedWebService => {
            m.http.as_ref().is_none_or(|h| h.value.enabled()) || m.nlb.is_some()
        }
        WorkloadKind::BackendService => m.http_rule().is_some(),
        _ => false,
    };
    if !has_lb {
        let span = d.strategy.as_ref().map_or(d.span, |s| s.span);
        out.push(
            Diagnostic::error(
                codes::STRATEGY_NEEDS_LOAD_BALANCER,
                span,
                format!(
                    "this strategy shifts traffic through a load balancer, and this {} has none",
                    wl.kind
                ),
            )
            .with_help(match wl.kind {
                WorkloadKind::LoadBalancedWebService => "turn `http` back on (or configure `nlb`), or use `strategy: rolling`",
                WorkloadKind::BackendService => "give the service `http: {path: ...}` behind the internal load balancer, or use `strategy: rolling`",
                _ => "a service without a load balancer deploys with `strategy: rolling`",
            }),
        );
    }
}

fn check_rolling_percents(d: &Located<Deployment>, out: &mut Vec<Diagnostic>) {
    if let Some(min) = &d.min_healthy_percent
        && min.value > 100
    {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                min.span,
                format!("`min_healthy_percent` {} is above 100", min.value),
            )
            .with_help("0-100"),
        );
    }
    if let Some(max) = &d.max_percent {
        if max.value < 100 {
            out.push(
                Diagnostic::error(
                    codes::DEPLOYMENT,
                    max.span,
                    format!("`max_percent` {} is below 100", max.value),
                )
                .with_help("ECS needs room for at least the desired count, 100-200 is typical"),
            );
        }
        if let Some(min) = &d.min_healthy_percent
            && min.value > max.value
        {
            out.push(
                Diagnostic::error(
                    codes::DEPLOYMENT,
                    min.span,
                    "`min_healthy_percent` is above `max_percent`",
                )
                .with_help("lower the minimum"),
            );
        }
    }
    if let Some(r) = &d.rolling
        && (d.min_healthy_percent.is_some() || d.max_percent.is_some())
    {
        out.push(
                Diagnostic::error(codes::MUTUALLY_EXCLUSIVE, r.span, "`rolling` and `min_healthy_percent`/`max_percent` both set the rollout percentages")
                    .with_help("keep `rolling` (default or recreate) or the explicit percentages"),
            );
    }
}

fn minutes(out: &mut Vec<Diagnostic>, v: Option<&Located<Duration>>, what: &str) {
    let Some(v) = v else { return };
    if v.value.millis % 60_000 != 0 || v.value.millis > 1440 * 60_000 {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                v.span,
                format!(
                    "{what} is {}; ECS takes whole minutes from 0 to 1440 (24h)",
                    v.value
                ),
            )
            .with_help("for example 10m"),
        );
    }
}

fn mins(v: Option<&Located<Duration>>) -> f64 {
    v.map_or(0.0, |d| d.value.millis as f64 / 60_000.0)
}

fn check_duration(d: &Located<Deployment>, strategy: Strategy, out: &mut Vec<Diagnostic>) {
    let bake = mins(d.bake_time.as_ref());
    let (total, span) = match strategy {
        Strategy::Canary => {
            let c = d.canary.as_ref();
            (
                mins(c.and_then(|c| c.bake_time.as_ref())) + bake,
                c.map_or(d.span, |c| c.span),
            )
        }
        Strategy::Linear => {
            let l = d.linear.as_ref();
            let step = l
                .and_then(|l| l.step_percent.as_ref())
                .map_or(10.0, |p| p.value);
            if !(3.0..=100.0).contains(&step) {
                return;
            }
            let steps = (100.0 / step).ceil() - 1.0;
            (
                steps * mins(l.and_then(|l| l.step_bake_time.as_ref())) + bake,
                l.map_or(d.span, |l| l.span),
            )
        }
        _ => return,
    };
    let hours = total / 60.0;
    if total > MAX_DURATION_MINUTES {
        out.push(
            Diagnostic::error(
                codes::DEPLOYMENT,
                span,
                format!(
                    "this rollout would take {hours:.1}h; CloudFormation rejects more than 33h"
                ),
            )
            .with_help("use fewer or shorter steps"),
        );
    } else if total > WARN_DURATION_MINUTES {
        out.push(
            Diagnostic::warning(
                codes::DEPLOYMENT,
                span,
                format!("this rollout would take {hours:.1}h"),
            )
            .with_help(
                "a deploy this long blocks other changes to the stack; consider shorter bake times",
            ),
        );
    }
}

fn check_alarms(wl: &ResolvedWorkload, d: &Located<Deployment>, out: &mut Vec<Diagnostic>) {
    let Some(alarms) = &d.rollback_alarms else {
        return;
    };
    match &alarms.value {
        ListOr::List(names) => {
            for n in names {
                if n.value.trim().is_empty() {
                    out.push(
                        Diagnostic::error(codes::DEPLOYMENT, n.span, "an alarm name is empty")
                            .with_help("name an existing CloudWatch alarm"),
                    );
                }
            }
        }
        ListOr::Config(c) => {
            for (v, what) in [
                (&c.cpu_utilization, "cpu_utilization"),
                (&c.memory_utilization, "memory_utilization"),
            ] {
                if let Some(v) = v
                    && !(0.0..=100.0).contains(&v.value)
                {
                    out.push(
                        Diagnostic::error(
                            codes::DEPLOYMENT,
                            v.span,
                            format!("`{what}` threshold {} is outside 0-100", v.value),
                        )
                        .with_help("a percentage"),
                    );
                }
            }
            if let Some(m) = &c.messages_delayed
                && wl.kind != WorkloadKind::WorkerService
            {
                out.push(
                    Diagnostic::error(
                        codes::DEPLOYMENT,
                        m.span,
                        "`messages_delayed` is for Worker Services",
                    )
                    .with_help("remove it"),
                );
            }
        }
    }
}

fn check_hooks(d: &Located<Deployment>, out: &mut Vec<Diagnostic>) {
    for h in d.hooks.iter().flat_map(|h| h.iter()) {
        match &h.stages {
            None => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    h.span,
                    "a lifecycle hook needs `stages`",
                )
                .with_help("for example [POST_TEST_TRAFFIC_SHIFT]"),
            ),
            Some(stages) => {
                for s in stages.iter() {
                    if !LIFECYCLE_STAGES.contains(&s.value.as_str()) {
                        out.push(
                            Diagnostic::error(
                                codes::DEPLOYMENT,
                                s.span,
                                format!("`{}` is not a lifecycle stage", s.value),
                            )
                            .with_help(format!("stages: {}", LIFECYCLE_STAGES.join(", "))),
                        );
                    }
                    let pause = h.pause.as_ref().is_some_and(|p| p.value);
                    if pause
                        && (s.value == "TEST_TRAFFIC_SHIFT"
                            || s.value == "PRODUCTION_TRAFFIC_SHIFT")
                    {
                        out.push(
                            Diagnostic::error(
                                codes::DEPLOYMENT,
                                s.span,
                                format!("a PAUSE hook cannot run at {}", s.value),
                            )
                            .with_help("pause before or after a traffic shift instead"),
                        );
                    }
                }
            }
        }
        let pause = h.pause.as_ref().is_some_and(|p| p.value);
        match (&h.lambda, pause) {
            (Some(l), true) => out.push(
                Diagnostic::error(
                    codes::MUTUALLY_EXCLUSIVE,
                    l.span,
                    "a hook is either a Lambda function or a pause, not both",
                )
                .with_help("remove `lambda` or `pause`"),
            ),
            (None, false) => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    h.span,
                    "a lifecycle hook needs `lambda` (a function ARN) or `pause: true`",
                )
                .with_help("choose one"),
            ),
            (Some(l), false) if !l.value.starts_with("arn:") || !l.value.contains(":lambda:") => {
                out.push(
                    Diagnostic::error(
                        codes::DEPLOYMENT,
                        l.span,
                        format!("`{}` is not a Lambda function ARN", l.value),
                    )
                    .with_help("arn:aws:lambda:<region>:<account>:function:<name>"),
                )
            }
            _ => {}
        }
        if let Some(t) = &h.timeout {
            let m = t.value.millis;
            if m % 60_000 != 0 || !(60_000..=20160 * 60_000).contains(&m) {
                out.push(
                    Diagnostic::error(
                        codes::DEPLOYMENT,
                        t.span,
                        format!(
                            "hook timeout {} is outside 1m-336h in whole minutes",
                            t.value
                        ),
                    )
                    .with_help("for example 60m"),
                );
            }
        }
        if let Some(a) = &h.timeout_action
            && !["ROLLBACK", "CONTINUE"].contains(&a.value.to_ascii_uppercase().as_str())
        {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    a.span,
                    format!("timeout action `{}` must be ROLLBACK or CONTINUE", a.value),
                )
                .with_help("ROLLBACK is the default"),
            );
        }
    }
}

/// Test listener ports across the services of each environment: each port opens one listener
/// on the load balancer, so two services on the same load balancer cannot share one.
pub(crate) fn check_workspace(loaded: &crate::manifest::load::Loaded, out: &mut Vec<Diagnostic>) {
    for env in &loaded.environment_names {
        let mut seen: std::collections::BTreeMap<(bool, u16), &str> = Default::default();
        for wl in loaded
            .workloads
            .iter()
            .filter(|w| w.environment.as_ref() == Some(env))
        {
            let Some(d) = &wl.manifest.deployment else {
                continue;
            };
            let shifting = d
                .strategy
                .as_ref()
                .is_some_and(|s| !s.value.eq_ignore_ascii_case("rolling"));
            let Some(port) = d.test_listener.as_ref().and_then(|t| t.port.as_ref()) else {
                continue;
            };
            if !shifting {
                continue;
            }
            let public = wl.kind == WorkloadKind::LoadBalancedWebService;
            match seen.get(&(public, port.value)) {
                Some(other) => {
                    let mut diag = Diagnostic::error(
                        codes::DEPLOYMENT,
                        port.span,
                        format!(
                            "`{}` and `{other}` both want test listener port {} on the same load balancer",
                            wl.name, port.value
                        ),
                    )
                    .with_help("give each service its own test port, or select test traffic with a header");
                    diag.environments.push(env.clone());
                    out.push(diag);
                }
                None => {
                    seen.insert((public, port.value), wl.name.as_str());
                }
            }
        }
    }
}
