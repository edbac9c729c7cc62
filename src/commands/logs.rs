//! `tug svc logs` / `tug job logs`: a workload's CloudWatch Logs, oldest first, as
//! `<time> <container>/<task> <message>` lines or one JSON object per line. `--follow` polls
//! for new events until Ctrl-C, which ends it normally (exit 0).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::cli::LogsArgs;
use crate::commands::Context;
use crate::commands::remote;
use crate::deploy::inventory;
use crate::deploy::logs::{self, LogFilter, LogLine};
use crate::error::{Error, Result};
use crate::manifest::duration;
use crate::manifest::names;
use crate::ui::Style;

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_secs(2);

/// `--since`: a duration such as `30m` or `2h`, or whole days such as `3d`.
pub(crate) fn parse_since(text: &str) -> Result<u64, String> {
    let bad = || format!("--since `{text}` is not a duration; write for example 10m, 2h or 1d");
    if let Some(days) = text.strip_suffix('d') {
        let n: u64 = days.parse().map_err(|_| bad())?;
        return n.checked_mul(86_400_000).ok_or_else(bad);
    }
    duration::Duration::parse(text)
        .map(|d| d.millis)
        .map_err(|_| bad())
}

pub(crate) fn run(ctx: &Context, args: &LogsArgs, kind: &str) -> Result<()> {
    let name = remote::required(args.name.as_deref(), kind, "-n NAME")?;
    let env = remote::required(args.env.as_deref(), "environment", "-e ENV")?;
    let since = parse_since(&args.since).map_err(Error::usage)?;
    let (_, loaded) = remote::workspace(ctx)?;
    let stack = names::workload_stack(&loaded.app, env, name);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut filter = LogFilter {
        start: now
            .saturating_sub(i64::try_from(since).unwrap_or(i64::MAX))
            .max(0),
        containers: args.containers.clone(),
        tasks: args.tasks.clone(),
        copilot_streams: false,
    };
    let result = remote::with_aws(ctx, |aws| async move {
        match inventory::stack(&aws, &stack).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Error::failure(format!(
                    "{kind} {name} is not deployed in environment {env} (no stack {stack})"
                )));
            }
            Err(e) => return Err(e),
        }
        // An adopted workload's group also holds what its Copilot tasks wrote.
        filter.copilot_streams = crate::deploy::stack::describe(&aws, &stack)
            .await?
            .is_some_and(|info| {
                info.tag(crate::deploy::adopt::copilot::ADOPTED_TAG)
                    .is_some()
            });
        let group = logs::group_of(&aws, &stack).await?;
        let mut seen = HashSet::new();
        let mut lines = logs::read(&aws, &group, &filter, &mut seen).await?;
        if let Some(limit) = args.limit {
            let skip = lines.len().saturating_sub(limit);
            lines.drain(..skip);
        }
        for l in &lines {
            print_line(ctx, l);
        }
        if !args.follow {
            return Ok(());
        }
        let mut last = lines.last().map_or(filter.start, |l| l.timestamp);
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = tokio::time::sleep(POLL) => {}
            }
            // Events can arrive late with an older timestamp: look back a little, and
            // let `seen` drop what was printed.
            filter.start = last - 5_000;
            for l in logs::read(&aws, &group, &filter, &mut seen).await? {
                last = last.max(l.timestamp);
                print_line(ctx, &l);
            }
        }
    });
    result?
}

fn print_line(ctx: &Context, l: &LogLine) {
    if ctx.ui.json {
        ctx.ui.out(
            &json!({
                "time": l.time,
                "timestamp": l.timestamp,
                "container": l.container,
                "task": l.task,
                "stream": l.stream,
                "message": l.message,
            })
            .to_string(),
        );
    } else {
        let task: String = l.task.chars().take(8).collect();
        let source = ctx
            .ui
            .paint_out(Style::Dim, &format!("{}/{task}", l.container));
        ctx.ui.out(&format!("{} {source} {}", l.time, l.message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_days() {
        assert_eq!(parse_since("10m"), Ok(600_000));
        assert_eq!(parse_since("2d"), Ok(2 * 86_400_000));
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("99999999999999999999d").is_err());
        assert!(parse_since("999999999999999d").is_err());
    }
}
