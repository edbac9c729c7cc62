//! Count and scaling rules: ranges, target-tracking values, spot versus autoscaling, metrics
//! that need a load balancer or a queue, scheduled and step scaling, daemon services, and the
//! capacity and placement settings that decide where tasks run.

use crate::manifest::codes;
use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::WorkloadKind;
use crate::manifest::model::common::resolve_platform;
use crate::manifest::model::service::{AdvancedCount, Count, ScalingMetric, StepDirection};
use crate::manifest::source::Span;
use crate::manifest::union::ScalarOr;

/// Application Auto Scaling quotas per scalable target.
const MAX_POLICIES: usize = 50;
const MAX_SCHEDULED_ACTIONS: usize = 200;
const MAX_STEPS: usize = 20;

pub(crate) fn check(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    check_capacity(wl, out);
    let m = &wl.manifest;
    let daemon = m
        .scheduling
        .as_ref()
        .is_some_and(|s| s.value.eq_ignore_ascii_case("daemon"));
    let Some(count) = &m.count else { return };
    if daemon {
        out.push(
            Diagnostic::error(
                codes::CAPACITY,
                count.span,
                "a daemon service runs one task per instance and has no `count`",
            )
            .with_help("remove `count`, or use `scheduling: replica`"),
        );
    }
    match &count.value {
        Count::Scalar(_) => {}
        Count::Config(c) => {
            if wl.kind == WorkloadKind::ScheduledJob {
                out.push(
                    Diagnostic::error(codes::SCALING_CONFLICT, count.span, "a Scheduled Job runs one task per run; it has no autoscaling or spot settings")
                        .with_help("remove the map form of `count`"),
                );
                return;
            }
            check_advanced(wl, c, count.span, out);
        }
    }
}

fn percent(out: &mut Vec<Diagnostic>, metric: Option<&Located<ScalingMetric>>, what: &str) {
    let Some(m) = metric else { return };
    let (value, span) = match &m.value {
        ScalarOr::Scalar(v) => (Some(*v), m.span),
        ScalarOr::Config(c) => (
            c.target.as_ref().map(|t| t.value),
            c.target.as_ref().map_or(m.span, |t| t.span),
        ),
    };
    match value {
        None => out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                m.span,
                format!("`{what}` needs a `value`"),
            )
            .with_help("for example {value: 70}"),
        ),
        Some(v) if !(1..=100).contains(&v) => out.push(
            Diagnostic::error(
                codes::SCALING_RANGE,
                span,
                format!("`{what}` target is {v}%, outside 1-100"),
            )
            .with_help("target tracking keeps the metric near this percentage; 50-80 is typical"),
        ),
        _ => {}
    }
}

fn check_advanced(wl: &ResolvedWorkload, c: &AdvancedCount, span: Span, out: &mut Vec<Diagnostic>) {
    if let Some(spot) = &c.spot {
        if c.has_autoscaling() {
            out.push(
                Diagnostic::error(codes::SCALING_CONFLICT, spot.span, "`spot` cannot be combined with autoscaling")
                    .with_help("for autoscaling on Spot use `range: {min, max, spot_from}`; otherwise remove the scaling keys"),
            );
        }
        check_spot_platform(wl, spot.span, out);
    }
    check_range(wl, c, span, out);
    if c.cooldown.is_some() && !c.has_metric() {
        let cd = c.cooldown.as_ref().map_or(span, |c| c.span);
        out.push(
            Diagnostic::error(
                codes::SCALING_CONFLICT,
                cd,
                "`cooldown` needs a scaling metric",
            )
            .with_help("add a metric or remove the cooldown"),
        );
    }
    percent(out, c.cpu_percentage.as_ref(), "cpu_percentage");
    percent(out, c.memory_percentage.as_ref(), "memory_percentage");
    check_target_metrics(wl, c, out);
    check_queue_delay(wl, c, out);
    check_schedule(c, out);
    check_step(c, out);
    check_policy_count(c, span, out);
}

/// `range`: min ≤ max and both given, `spot_from` inside it, and a metric to scale on; the
/// scaling keys need a range.
fn check_range(wl: &ResolvedWorkload, c: &AdvancedCount, span: Span, out: &mut Vec<Diagnostic>) {
    if let Some(range) = &c.range {
        let (min, max) = range.value.bounds();
        match (min, max) {
            (Some(min), Some(max)) if min > max => out.push(
                Diagnostic::error(
                    codes::SCALING_RANGE,
                    range.span,
                    format!("the range minimum {min} is greater than its maximum {max}"),
                )
                .with_help("write the range as min-max, e.g. 1-10"),
            ),
            (Some(_), Some(0)) => out.push(
                Diagnostic::error(codes::SCALING_RANGE, range.span, "the range maximum is 0")
                    .with_help("allow at least one task"),
            ),
            (None, _) | (_, None) => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    range.span,
                    "`range` needs both `min` and `max`",
                )
                .with_help("for example {min: 1, max: 10}"),
            ),
            _ => {}
        }
        if let ScalarOr::Config(rc) = &range.value
            && let Some(sf) = &rc.spot_from
        {
            check_spot_platform(wl, sf.span, out);
            if let Some(max) = max
                && (sf.value == 0 || sf.value > max)
            {
                out.push(
                    Diagnostic::error(
                        codes::SCALING_RANGE,
                        sf.span,
                        format!("`spot_from` is {}, outside 1-{max}", sf.value),
                    )
                    .with_help("spot_from is the task number from which tasks run on Fargate Spot"),
                );
            }
        }
        let schedule_only = !c.has_metric() && c.schedule.is_some();
        if !c.has_metric() && !schedule_only {
            out.push(
                Diagnostic::error(codes::SCALING_CONFLICT, range.span, "`range` needs a scaling metric")
                    .with_help("add cpu_percentage, memory_percentage, requests, response_time, queue_delay, step or schedule"),
            );
        }
    } else if c.has_metric() || c.schedule.is_some() {
        out.push(
            Diagnostic::error(
                codes::SCALING_CONFLICT,
                span,
                "scaling settings need `range` (the minimum and maximum task count)",
            )
            .with_help("add for example `range: 1-10`"),
        );
    }
}

/// `requests` and `response_time`: a target above 0, and an Application Load Balancer to
/// measure them.
fn check_target_metrics(wl: &ResolvedWorkload, c: &AdvancedCount, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    if let Some(r) = &c.requests {
        let v = match &r.value {
            ScalarOr::Scalar(v) => Some(*v),
            ScalarOr::Config(t) => t.target.as_ref().map(|t| t.value),
        };
        if v == Some(0) || v.is_none() {
            out.push(
                Diagnostic::error(
                    codes::SCALING_RANGE,
                    r.span,
                    "`requests` needs a target above 0 requests per task",
                )
                .with_help("for example `requests: 1000`"),
            );
        }
    }
    if let Some(rt) = &c.response_time {
        let v = match &rt.value {
            ScalarOr::Scalar(v) => Some(*v),
            ScalarOr::Config(t) => t.target.as_ref().map(|t| t.value),
        };
        if v.is_none_or(|d| d.millis == 0) {
            out.push(
                Diagnostic::error(
                    codes::SCALING_RANGE,
                    rt.span,
                    "`response_time` needs a target above 0",
                )
                .with_help("for example `response_time: 2s`"),
            );
        }
    }
    let alb_metric = c
        .requests
        .as_ref()
        .map(|r| r.span)
        .or(c.response_time.as_ref().map(|r| r.span));
    if let Some(alb_span) = alb_metric {
        let has_alb = match wl.kind {
            WorkloadKind::LoadBalancedWebService => {
                m.http.as_ref().is_none_or(|h| h.value.enabled())
            }
            WorkloadKind::BackendService => m.http_rule().is_some(),
            _ => false,
        };
        if !has_alb {
            out.push(
                Diagnostic::error(
                    codes::SCALING_CONFLICT,
                    alb_span,
                    "`requests` and `response_time` scaling need an Application Load Balancer",
                )
                .with_help("configure `http`, or scale on cpu_percentage or memory_percentage"),
            );
        }
    }
}

/// `queue_delay`: Worker Services only, both durations above 0 and in order.
fn check_queue_delay(wl: &ResolvedWorkload, c: &AdvancedCount, out: &mut Vec<Diagnostic>) {
    if let Some(q) = &c.queue_delay {
        if wl.kind != WorkloadKind::WorkerService {
            out.push(
                Diagnostic::error(
                    codes::SCALING_CONFLICT,
                    q.span,
                    "`queue_delay` scaling is for Worker Services",
                )
                .with_help("remove it"),
            );
        }
        match (&q.acceptable_latency, &q.msg_processing_time) {
            (Some(l), Some(p)) => {
                if l.value.millis == 0 || p.value.millis == 0 {
                    out.push(
                        Diagnostic::error(
                            codes::SCALING_RANGE,
                            q.span,
                            "`queue_delay` durations must be above 0",
                        )
                        .with_help(
                            "for example acceptable_latency: 10m, msg_processing_time: 250ms",
                        ),
                    );
                } else if p.value > l.value {
                    out.push(
                        Diagnostic::error(
                            codes::SCALING_RANGE,
                            p.span,
                            "`msg_processing_time` is longer than `acceptable_latency`",
                        )
                        .with_help("one message must be processed within the acceptable latency"),
                    );
                }
            }
            _ => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    q.span,
                    "`queue_delay` needs `acceptable_latency` and `msg_processing_time`",
                )
                .with_help("for example {acceptable_latency: 10m, msg_processing_time: 250ms}"),
            ),
        }
    }
}

/// No more scaling policies than Application Auto Scaling allows on one target.
fn check_policy_count(c: &AdvancedCount, span: Span, out: &mut Vec<Diagnostic>) {
    let policies = [
        c.cpu_percentage.is_some(),
        c.memory_percentage.is_some(),
        c.requests.is_some(),
        c.response_time.is_some(),
        c.queue_delay.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count()
        + c.step.as_ref().map_or(0, |s| {
            usize::from(s.scale_out.is_some()) + usize::from(s.scale_in.is_some())
        });
    if policies > MAX_POLICIES {
        out.push(
            Diagnostic::error(
                codes::SCALING_RANGE,
                span,
                format!(
                    "{policies} scaling policies; Application Auto Scaling allows {MAX_POLICIES}"
                ),
            )
            .with_help("remove some"),
        );
    }
}

fn check_spot_platform(wl: &ResolvedWorkload, span: Span, out: &mut Vec<Diagnostic>) {
    if let Ok(p) = resolve_platform(wl.manifest.platform.as_ref().map(|p| &p.value))
        && p.windows
    {
        out.push(
            Diagnostic::error(
                codes::PLATFORM,
                span,
                "Fargate Spot does not run Windows tasks",
            )
            .with_help("remove the spot settings or run on Linux"),
        );
    }
    if wl.manifest.runs_on_ec2() {
        out.push(
            Diagnostic::error(
                codes::CAPACITY,
                span,
                "Fargate Spot settings do not apply to tasks on EC2 capacity",
            )
            .with_help("use `capacity_providers` to spread over EC2 providers instead"),
        );
    }
}

// The schedule syntax is the model's (job schedules use the rate form too).
pub(crate) use crate::manifest::schedule::schedule_problem;

fn check_schedule(c: &AdvancedCount, out: &mut Vec<Diagnostic>) {
    let Some(actions) = &c.schedule else { return };
    if actions.len() > MAX_SCHEDULED_ACTIONS {
        out.push(
            Diagnostic::error(
                codes::SCALING_RANGE,
                actions.span,
                format!(
                    "{} scheduled actions; the limit is {MAX_SCHEDULED_ACTIONS}",
                    actions.len()
                ),
            )
            .with_help("remove some"),
        );
    }
    let mut names: Vec<&str> = Vec::new();
    for a in actions.iter() {
        match &a.name {
            None => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    a.span,
                    "a scheduled action needs a `name`",
                )
                .with_help("name it, e.g. `business-hours`"),
            ),
            Some(n) if names.contains(&n.value.as_str()) => out.push(
                Diagnostic::error(
                    codes::SCALING_CONFLICT,
                    n.span,
                    format!("two scheduled actions are named `{}`", n.value),
                )
                .with_help("names must be unique"),
            ),
            Some(n) => names.push(n.value.as_str()),
        }
        let exprs: Vec<(&str, &Located<String>)> =
            [("cron", &a.cron), ("rate", &a.rate), ("at", &a.at)]
                .into_iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
                .collect();
        match exprs.as_slice() {
            [] => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    a.span,
                    "a scheduled action needs one of `cron`, `rate` or `at`",
                )
                .with_help("for example `cron: 0 8 ? * MON-FRI *`"),
            ),
            [(kind, expr)] => {
                if let Some(p) = schedule_problem(kind, &expr.value) {
                    out.push(
                        Diagnostic::error(codes::SCHEDULE, expr.span, p)
                            .with_help("see the Application Auto Scaling scheduled scaling syntax"),
                    );
                }
            }
            [_, (_, second), ..] => out.push(
                Diagnostic::error(
                    codes::MUTUALLY_EXCLUSIVE,
                    second.span,
                    "a scheduled action takes only one of `cron`, `rate` and `at`",
                )
                .with_help("keep one"),
            ),
        }
        if let Some(tz) = &a.timezone
            && let Some(p) = timezone_problem(&tz.value)
        {
            out.push(
                Diagnostic::error(codes::SCHEDULE, tz.span, p).with_help(
                    "use an IANA time zone name; scheduled actions run in UTC without one",
                ),
            );
        }
        match (&a.min, &a.max) {
            (None, None) => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    a.span,
                    "a scheduled action needs `min`, `max` or both",
                )
                .with_help("they set the task range while the action applies"),
            ),
            (Some(min), Some(max)) if min.value > max.value => out.push(
                Diagnostic::error(
                    codes::SCALING_RANGE,
                    min.span,
                    format!("`min` {} is greater than `max` {}", min.value, max.value),
                )
                .with_help("swap them"),
            ),
            _ => {}
        }
    }
}

fn check_step(c: &AdvancedCount, out: &mut Vec<Diagnostic>) {
    let Some(step) = &c.step else { return };
    if let Some(metric) = &step.metric {
        match &metric.value {
            ScalarOr::Scalar(s) if s != "cpu" && s != "memory" => out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    metric.span,
                    format!(
                        "step scaling metric `{s}` must be `cpu`, `memory` or a custom metric map"
                    ),
                )
                .with_help("for a custom metric write {namespace, name, statistic, dimensions}"),
            ),
            ScalarOr::Config(m) if m.namespace.is_none() || m.name.is_none() => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    metric.span,
                    "a custom metric needs `namespace` and `name`",
                )
                .with_help("name the CloudWatch metric"),
            ),
            _ => {}
        }
    } else {
        out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                step.span,
                "step scaling needs a `metric`",
            )
            .with_help("use `metric: cpu`, `metric: memory` or a custom metric"),
        );
    }
    if let Some(t) = &step.adjustment_type
        && ![
            "ChangeInCapacity",
            "ExactCapacity",
            "PercentChangeInCapacity",
        ]
        .contains(&t.value.as_str())
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                t.span,
                format!("adjustment type `{}` is not valid", t.value),
            )
            .with_help("use ChangeInCapacity, ExactCapacity or PercentChangeInCapacity"),
        );
    }
    if step.scale_out.is_none() && step.scale_in.is_none() {
        out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                step.span,
                "step scaling needs `scale_out`, `scale_in` or both",
            )
            .with_help("each has a threshold and steps"),
        );
    }
    let exact = step
        .adjustment_type
        .as_ref()
        .is_some_and(|t| t.value == "ExactCapacity");
    if let Some(dir) = &step.scale_out {
        check_direction(dir, out);
        check_step_bounds(dir, true, exact, out);
    }
    if let Some(dir) = &step.scale_in {
        check_direction(dir, out);
        check_step_bounds(dir, false, exact, out);
    }
}

fn check_direction(dir: &Located<StepDirection>, out: &mut Vec<Diagnostic>) {
    if dir.threshold.is_none() {
        out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                dir.span,
                "a step direction needs a `threshold`",
            )
            .with_help("the alarm threshold the steps are relative to"),
        );
    }
    let Some(steps) = &dir.steps else {
        out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                dir.span,
                "a step direction needs `steps`",
            )
            .with_help("for example [{lower: 0, change: 1}]"),
        );
        return;
    };
    if steps.is_empty() || steps.len() > MAX_STEPS {
        out.push(
            Diagnostic::error(
                codes::SCALING_RANGE,
                steps.span,
                format!("{} steps; a policy has 1 to {MAX_STEPS}", steps.len()),
            )
            .with_help("adjust the steps"),
        );
    }
    let mut intervals: Vec<(f64, f64, Span)> = Vec::new();
    for s in steps.iter() {
        let lower = s.lower.as_ref().map_or(f64::NEG_INFINITY, |l| l.value);
        let upper = s.upper.as_ref().map_or(f64::INFINITY, |u| u.value);
        if s.change.is_none() {
            out.push(
                Diagnostic::error(codes::MISSING_KEY, s.span, "a step needs `change`")
                    .with_help("how many tasks to add (or remove, negative)"),
            );
        }
        if lower >= upper {
            out.push(
                Diagnostic::error(
                    codes::SCALING_RANGE,
                    s.span,
                    "a step's `lower` bound must be below its `upper` bound",
                )
                .with_help("bounds are relative to the threshold"),
            );
            continue;
        }
        for (l, u, _) in &intervals {
            if lower < *u && *l < upper {
                out.push(
                    Diagnostic::error(
                        codes::SCALING_CONFLICT,
                        s.span,
                        "this step overlaps another step",
                    )
                    .with_help("step intervals must not overlap"),
                );
                break;
            }
        }
        intervals.push((lower, upper, s.span));
    }
}

/// What Application Auto Scaling requires of the steps of one direction, whose bounds are
/// relative to the alarm threshold: scale-out steps lie at or above it (the alarm fires at or
/// above the threshold) and the highest is open-ended; scale-in steps lie at or below it and
/// the lowest is open-ended; no gaps between steps; adjustments point the right way.
fn check_step_bounds(
    dir: &Located<StepDirection>,
    out_dir: bool,
    exact: bool,
    out: &mut Vec<Diagnostic>,
) {
    let Some(steps) = &dir.steps else { return };
    let name = if out_dir { "scale_out" } else { "scale_in" };
    let mut intervals: Vec<(f64, f64)> = Vec::new();
    for s in steps.iter() {
        let lower = s.lower.as_ref().map_or(f64::NEG_INFINITY, |l| l.value);
        let upper = s.upper.as_ref().map_or(f64::INFINITY, |u| u.value);
        if lower >= upper {
            return; // reported by check_direction
        }
        let wrong_side = if out_dir { lower < 0.0 } else { upper > 0.0 };
        if wrong_side {
            out.push(
                Diagnostic::error(
                    codes::SCALING_RANGE,
                    s.span,
                    if out_dir {
                        "a scale-out step reaches below the threshold, where its alarm is not firing"
                    } else {
                        "a scale-in step reaches above the threshold, where its alarm is not firing"
                    },
                )
                .with_help(if out_dir {
                    "bounds are relative to the threshold: scale-out steps start at `lower: 0` or above"
                } else {
                    "bounds are relative to the threshold: scale-in steps end at `upper: 0` or below"
                }),
            );
        }
        if let Some(change) = &s.change
            && !exact
            && ((out_dir && change.value <= 0) || (!out_dir && change.value >= 0))
        {
            out.push(
                Diagnostic::error(
                    codes::SCALING_RANGE,
                    change.span,
                    format!(
                        "a {name} step must {} tasks, not change them by {}",
                        if out_dir { "add" } else { "remove" },
                        change.value
                    ),
                )
                .with_help(if out_dir {
                    "use a positive `change`"
                } else {
                    "use a negative `change`, e.g. -1"
                }),
            );
        }
        intervals.push((lower, upper));
    }
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in intervals.windows(2) {
        if pair[0].1 < pair[1].0 {
            out.push(
                Diagnostic::error(
                    codes::SCALING_CONFLICT,
                    steps.span,
                    format!(
                        "the {name} steps leave a gap between {} and {}",
                        pair[0].1, pair[1].0
                    ),
                )
                .with_help("each step's `lower` must be the previous step's `upper`"),
            );
        }
    }
    let open = if out_dir {
        intervals.last().is_some_and(|i| i.1 == f64::INFINITY)
    } else {
        intervals.first().is_some_and(|i| i.0 == f64::NEG_INFINITY)
    };
    if !intervals.is_empty() && !open {
        out.push(
            Diagnostic::error(
                codes::SCALING_RANGE,
                steps.span,
                if out_dir {
                    "the highest scale-out step needs no `upper` bound, so every value above the threshold has a step"
                } else {
                    "the lowest scale-in step needs no `lower` bound, so every value below the threshold has a step"
                },
            )
            .with_help(if out_dir { "remove `upper` from the last step" } else { "remove `lower` from the first step" }),
        );
    }
}

/// A time zone as Application Auto Scaling takes it: `UTC` or an IANA name like Europe/Paris.
fn timezone_problem(tz: &str) -> Option<String> {
    let ok = !tz.is_empty()
        && (tz == "UTC"
            || tz == "GMT"
            || (tz.contains('/')
                && tz.split('/').all(|part| {
                    !part.is_empty()
                        && part
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
                })));
    (!ok).then(|| format!("`{tz}` is not a time zone name like UTC or Europe/Paris"))
}

fn check_capacity(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    check_launch_type(wl, out);
    check_capacity_providers(wl, out);
    check_network_mode_value(wl, out);
    check_scheduling(wl, out);
    check_placement(wl, out);
}

/// `launch_type`: fargate or ec2, and not with `capacity_providers`.
fn check_launch_type(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    if let Some(lt) = &m.launch_type {
        let v = lt.value.to_ascii_lowercase();
        if v != "fargate" && v != "ec2" {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    lt.span,
                    format!("launch type `{}` must be `fargate` or `ec2`", lt.value),
                )
                .with_help("fargate is the default"),
            );
        }
        if m.capacity_providers.is_some() {
            out.push(
                Diagnostic::error(codes::MUTUALLY_EXCLUSIVE, lt.span, "`launch_type` and `capacity_providers` exclude each other")
                    .with_help("a capacity provider strategy already says where tasks run; remove `launch_type`"),
            );
        }
    }
}

/// `capacity_providers`: named, within ECS's limits, one kind of capacity, one base, some
/// weight.
fn check_capacity_providers(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    if let Some(cps) = &m.capacity_providers {
        let mut fargate = false;
        let mut other = false;
        let mut with_base = 0;
        let mut any_weight = false;
        for cp in cps.iter() {
            let Some(name) = &cp.name else {
                out.push(
                    Diagnostic::error(
                        codes::MISSING_KEY,
                        cp.span,
                        "a capacity provider item needs a `name`",
                    )
                    .with_help(
                        "FARGATE, FARGATE_SPOT or an EC2 provider name from the environment",
                    ),
                );
                continue;
            };
            if matches!(name.value.as_str(), "FARGATE" | "FARGATE_SPOT") {
                fargate = true;
            } else {
                other = true;
            }
            if cp.base.as_ref().is_some_and(|b| b.value > 100_000) {
                out.push(
                    Diagnostic::error(codes::CAPACITY, cp.span, "`base` is at most 100000")
                        .with_help("lower it"),
                );
            }
            if cp.base.as_ref().is_some_and(|b| b.value > 0) {
                with_base += 1;
            }
            if let Some(w) = &cp.weight {
                if w.value > 1000 {
                    out.push(
                        Diagnostic::error(codes::CAPACITY, w.span, "`weight` is at most 1000")
                            .with_help("lower it"),
                    );
                }
                any_weight |= w.value > 0;
            }
        }
        if fargate && other {
            out.push(
                Diagnostic::error(
                    codes::CAPACITY,
                    cps.span,
                    "a capacity provider strategy cannot mix Fargate and EC2 providers",
                )
                .with_help("use FARGATE/FARGATE_SPOT or the environment's EC2 providers, not both"),
            );
        }
        if with_base > 1 {
            out.push(
                Diagnostic::error(
                    codes::CAPACITY,
                    cps.span,
                    "only one capacity provider may have a `base` above 0",
                )
                .with_help("keep the base on one provider"),
            );
        }
        if cps.len() > 1 && !any_weight {
            out.push(
                Diagnostic::error(
                    codes::CAPACITY,
                    cps.span,
                    "at least one capacity provider needs a `weight` above 0",
                )
                .with_help("weights split the tasks beyond the base"),
            );
        }
        if cps.is_empty() {
            out.push(
                Diagnostic::error(codes::CAPACITY, cps.span, "`capacity_providers` is empty")
                    .with_help("list at least one provider or remove the key"),
            );
        }
    }
}

/// `network_mode`: one ECS knows.
fn check_network_mode_value(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    if let Some(mode) = &m.network_mode {
        let v = mode.value.to_ascii_lowercase();
        if !["awsvpc", "bridge", "host"].contains(&v.as_str()) {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    mode.span,
                    format!(
                        "network mode `{}` must be awsvpc, bridge or host",
                        mode.value
                    ),
                )
                .with_help("awsvpc is the default"),
            );
        }
    }
}

/// `scheduling`: replica, or daemon on EC2 without placement strategies or another deployment
/// strategy.
fn check_scheduling(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let ec2 = m.runs_on_ec2();
    if let Some(s) = &m.scheduling {
        let v = s.value.to_ascii_lowercase();
        if v != "replica" && v != "daemon" {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    s.span,
                    format!("scheduling `{}` must be `replica` or `daemon`", s.value),
                )
                .with_help("replica is the default"),
            );
        } else if v == "daemon" && !ec2 {
            out.push(
                Diagnostic::error(
                    codes::EC2_ONLY,
                    s.span,
                    "daemon services need EC2 capacity; Fargate runs replica services only",
                )
                .with_help("set `launch_type: ec2`, or remove `scheduling: daemon`"),
            );
        }
        if v == "daemon" {
            if let Some(p) = m.placement.as_ref().and_then(|p| p.strategies.as_ref()) {
                out.push(
                    Diagnostic::error(
                        codes::CAPACITY,
                        p.span,
                        "daemon services take no placement strategy",
                    )
                    .with_help("ECS places one task on every instance"),
                );
            }
            if let Some(d) = m.deployment.as_ref().and_then(|d| d.strategy.as_ref())
                && !d.value.eq_ignore_ascii_case("rolling")
            {
                out.push(
                    Diagnostic::error(
                        codes::DEPLOYMENT,
                        d.span,
                        "daemon services deploy with the rolling strategy only",
                    )
                    .with_help("remove `deployment.strategy`"),
                );
            }
        }
    }
}

/// `placement`: EC2 only, strategies with valid fields, constraints of known types.
fn check_placement(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let ec2 = m.runs_on_ec2();
    if let Some(p) = &m.placement {
        if !ec2 {
            out.push(
                Diagnostic::error(codes::EC2_ONLY, p.span, "task placement strategies and constraints need EC2 capacity; Fargate spreads tasks itself")
                    .with_help("remove `placement`, or set `launch_type: ec2`"),
            );
        }
        for s in p.strategies.iter().flat_map(|s| s.iter()) {
            let kind = s.kind.as_ref().map(|k| k.value.to_ascii_lowercase());
            match kind.as_deref() {
                Some("random") => {}
                Some("spread") | Some("binpack") => {
                    let field = s.field.as_ref().map(|f| f.value.to_ascii_lowercase());
                    let ok = match (kind.as_deref(), field.as_deref()) {
                        (Some("binpack"), Some("cpu" | "memory")) => true,
                        (Some("spread"), Some(f)) => {
                            f == "instanceid" || f == "host" || f.starts_with("attribute:")
                        }
                        _ => false,
                    };
                    if !ok {
                        out.push(
                            Diagnostic::error(codes::CAPACITY, s.span, "placement strategy needs a valid `field`")
                                .with_help("binpack on cpu or memory; spread on instanceId, host or attribute:ecs.availability-zone"),
                        );
                    }
                }
                _ => out.push(
                    Diagnostic::error(
                        codes::CAPACITY,
                        s.span,
                        "placement strategy `type` must be spread, binpack or random",
                    )
                    .with_help(
                        "for example {type: spread, field: attribute:ecs.availability-zone}",
                    ),
                ),
            }
        }
        for c in p.constraints.iter().flat_map(|c| c.iter()) {
            match c.kind.as_ref().map(|k| k.value.as_str()) {
                Some("distinctInstance") => {
                    if c.expression.is_some() {
                        out.push(
                            Diagnostic::error(
                                codes::CAPACITY,
                                c.span,
                                "`distinctInstance` takes no expression",
                            )
                            .with_help("remove `expression`"),
                        );
                    }
                }
                Some("memberOf") => {
                    if c.expression
                        .as_ref()
                        .is_none_or(|e| e.value.trim().is_empty())
                    {
                        out.push(
                            Diagnostic::error(
                                codes::CAPACITY,
                                c.span,
                                "`memberOf` needs an `expression`",
                            )
                            .with_help("for example attribute:ecs.instance-type =~ t3.*"),
                        );
                    }
                }
                _ => out.push(
                    Diagnostic::error(
                        codes::CAPACITY,
                        c.span,
                        "placement constraint `type` must be distinctInstance or memberOf",
                    )
                    .with_help("check the spelling (case matters)"),
                ),
            }
        }
    }
}
