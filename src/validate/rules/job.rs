//! Scheduled Job rules: the schedule expression, timeout and retries.

use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::WorkloadKind;
use crate::manifest::source::Span;
use crate::validate::codes;
use crate::validate::diagnostic::Diagnostic;

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

/// Converts a Copilot schedule to an EventBridge expression, or says why it cannot.
pub fn schedule_expression(s: &str) -> Result<String, String> {
    let s = s.trim();
    let every = |minutes: u64| -> String {
        if minutes.is_multiple_of(1440) {
            let d = minutes / 1440;
            format!("rate({d} day{})", if d == 1 { "" } else { "s" })
        } else if minutes.is_multiple_of(60) {
            let h = minutes / 60;
            format!("rate({h} hour{})", if h == 1 { "" } else { "s" })
        } else {
            format!(
                "rate({minutes} minute{})",
                if minutes == 1 { "" } else { "s" }
            )
        }
    };
    match s {
        "none" => return Ok("none".into()),
        "@yearly" | "@annually" => return Ok("cron(0 0 1 1 ? *)".into()),
        "@monthly" => return Ok("cron(0 0 1 * ? *)".into()),
        "@weekly" => return Ok("cron(0 0 ? * 1 *)".into()),
        "@daily" | "@midnight" => return Ok("cron(0 0 * * ? *)".into()),
        "@hourly" => return Ok("cron(0 * * * ? *)".into()),
        _ => {}
    }
    if let Some(d) = s.strip_prefix("@every ") {
        let dur = crate::manifest::duration::Duration::parse(d)?;
        if dur.millis < 60_000 || dur.millis % 60_000 != 0 {
            return Err(format!("`{s}` must be whole minutes, at least 1m"));
        }
        return Ok(every(dur.millis / 60_000));
    }
    if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return match crate::validate::rules::scaling::schedule_problem("rate", inner) {
            None => Ok(s.to_string()),
            Some(p) => Err(p),
        };
    }
    if let Some(inner) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        let n = inner.split_whitespace().count();
        return if n == 6 {
            Ok(s.to_string())
        } else {
            Err(format!("`{s}` has {n} fields; EventBridge cron has 6"))
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("`{s}` is not a schedule"));
    }
    let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    for (field, (lo, hi)) in fields.iter().zip(ranges) {
        if !cron_field_ok(field, lo, hi) {
            return Err(format!("`{field}` is not a valid cron field in `{s}`"));
        }
    }
    // Unix cron → EventBridge: one of day-of-month/day-of-week must be `?`, and day-of-week is
    // 1-based (1 = Sunday).
    let (dom, dow) = match (fields[2], fields[4]) {
        (dom, "*") => (dom.to_string(), "?".to_string()),
        ("*", dow) => ("?".to_string(), shift_dow(dow)),
        _ => {
            return Err(format!(
                "`{s}` restricts both the day of the month and the day of the week, which EventBridge cannot express; keep one and write `*` for the other"
            ));
        }
    };
    Ok(format!(
        "cron({} {} {} {} {} *)",
        fields[0], fields[1], dom, fields[3], dow
    ))
}

fn shift_dow(dow: &str) -> String {
    dow.split(',')
        .map(|part| {
            part.split('-')
                .map(|p| match p.parse::<u8>() {
                    Ok(n) => ((n % 7) + 1).to_string(),
                    Err(_) => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn cron_field_ok(field: &str, lo: u32, hi: u32) -> bool {
    const NAMES: &[&str] = &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", "SUN",
        "MON", "TUE", "WED", "THU", "FRI", "SAT",
    ];
    field.split(',').all(|part| {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if step.is_some_and(|s| s.parse::<u32>().map_or(true, |n| n == 0)) {
            return false;
        }
        if range == "*" || range == "?" {
            return true;
        }
        range.split('-').all(|v| {
            v.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
                || NAMES.contains(&v.to_ascii_uppercase().as_str())
        })
    })
}

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
