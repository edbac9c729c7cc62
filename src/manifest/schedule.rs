//! Copilot job schedules (`@daily`, `@every 1h30m`, five-field cron) and their EventBridge
//! expressions, and Application Auto Scaling schedules: the validation rules report a
//! schedule that does not translate or parse, rendering writes the translation.

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
        return match schedule_problem("rate", inner) {
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

/// Checks an Application Auto Scaling schedule: `cron(...)` with 6 fields, `rate(n unit)` or
/// `at(yyyy-mm-ddThh:mm:ss)`; the wrapper may be omitted.
pub fn schedule_problem(kind: &str, text: &str) -> Option<String> {
    let inner = text.trim();
    let inner = inner
        .strip_prefix(&format!("{kind}("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(inner);
    match kind {
        "cron" => {
            let fields = inner.split_whitespace().count();
            (fields != 6).then(|| format!("`{text}` has {fields} fields; Application Auto Scaling cron has 6 (minutes hours day-of-month month day-of-week year)"))
        }
        "rate" => {
            let mut parts = inner.split_whitespace();
            let n = parts.next().and_then(|n| n.parse::<u32>().ok());
            let unit = parts.next();
            let ok = match (n, unit, parts.next()) {
                (Some(1), Some("minute" | "hour" | "day"), None) => true,
                (Some(n), Some("minutes" | "hours" | "days"), None) => n > 1,
                _ => false,
            };
            (!ok).then(|| format!("`{text}` is not a rate like `5 minutes`, `1 hour` or `2 days`"))
        }
        "at" => {
            let b = inner.as_bytes();
            let ok = inner.len() == 19
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b'T'
                && b[13] == b':'
                && b[16] == b':'
                && inner
                    .chars()
                    .enumerate()
                    .all(|(i, c)| [4, 7, 10, 13, 16].contains(&i) || c.is_ascii_digit());
            (!ok).then(|| format!("`{text}` is not a time like 2026-12-24T08:00:00"))
        }
        _ => None,
    }
}
