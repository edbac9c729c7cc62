//! Scheduled Job rules: the schedule expression, timeout and retries.

use crate::manifest::codes;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::WorkloadKind;
use crate::manifest::source::Span;

pub fn check(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    if wl.kind != WorkloadKind::ScheduledJob {
        return;
    }
    let m = &wl.manifest;
    let whole = m.name.as_ref().map_or(Span::default(), |n| n.span);
    match m.on.as_ref().and_then(|o| o.schedule.as_ref()) {
        None => out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                m.on.as_ref().map_or(whole, |o| o.span),
                "a Scheduled Job needs `on.schedule`",
            )
            .with_help("for example `on: {schedule: \"@daily\"}` or a cron expression"),
        ),
        Some(s) => {
            if let Err(e) = schedule_expression(&s.value) {
                out.push(
                    Diagnostic::error(codes::SCHEDULE, s.span, e)
                        .with_help("use @hourly, @daily, @weekly, @monthly, @yearly, @every 30m, a 5-field cron (\"0 9 * * MON\"), rate(...), cron(...) or none"),
                );
            }
        }
    }
    if let Some(t) = &m.timeout
        && (t.value.millis < 1000 || t.value.millis % 1000 != 0)
    {
        out.push(
            Diagnostic::error(
                codes::JOB_LIMITS,
                t.span,
                format!("timeout {} must be whole seconds, at least 1s", t.value),
            )
            .with_help("for example 1h or 90m"),
        );
    }
    if let Some(r) = &m.retries
        && r.value > 10
    {
        out.push(
            Diagnostic::error(
                codes::JOB_LIMITS,
                r.span,
                format!("{} retries is more than tug's limit of 10", r.value),
            )
            .with_help("a job that fails this often needs fixing, not retrying"),
        );
    }
}

// Translating a schedule is the model's; rendering writes the translation.
pub use crate::manifest::schedule::schedule_expression;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert_eq!(schedule_expression("@daily").unwrap(), "cron(0 0 * * ? *)");
        assert_eq!(
            schedule_expression("@every 1h30m").unwrap(),
            "rate(90 minutes)"
        );
        assert_eq!(schedule_expression("@every 2h").unwrap(), "rate(2 hours)");
        assert_eq!(
            schedule_expression("0 9 * * 1").unwrap(),
            "cron(0 9 ? * 2 *)"
        );
        assert_eq!(
            schedule_expression("*/15 * * * *").unwrap(),
            "cron(*/15 * * * ? *)"
        );
        assert_eq!(
            schedule_expression("rate(5 minutes)").unwrap(),
            "rate(5 minutes)"
        );
        assert!(schedule_expression("@every 30s").is_err());
        assert!(schedule_expression("61 * * * *").is_err());
        assert!(schedule_expression("daily").is_err());
        assert!(schedule_expression("cron(0 9 * *)").is_err());
        assert!(schedule_expression("rate(5 minute)").is_err());
        assert!(
            schedule_expression("0 0 1 * MON")
                .unwrap_err()
                .contains("both")
        );
    }
}
