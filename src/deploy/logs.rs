//! A workload's logs from CloudWatch Logs. Every container of a tug task logs with the
//! `awslogs` driver to the workload's log group (the stack's `LogGroup`) under the stream
//! prefix `tug`, so a stream is named `tug/<container>/<task id>`: containers and tasks are
//! filtered by stream name. A workload adopted from AWS Copilot also has the streams its
//! Copilot tasks wrote, `copilot/<container>/<task id>`.

use std::collections::HashSet;

use serde::Serialize;

use crate::deploy::aws::{Aws, describe_error};
use crate::error::{Error, Result};

/// One log event.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub timestamp: i64,
    pub container: String,
    pub task: String,
    pub stream: String,
    pub message: String,
    #[serde(skip)]
    pub id: String,
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Milliseconds since the epoch.
    pub start: i64,
    /// Only these containers (all when empty).
    pub containers: Vec<String>,
    /// Only these task ids (all when empty); a full task ARN works too.
    pub tasks: Vec<String>,
    /// The workload was adopted from AWS Copilot, whose tasks logged to the same group under
    /// the stream prefix `copilot/`: the streams are then not narrowed to `tug/` on the
    /// server (the container and task filters still apply).
    pub copilot_streams: bool,
}

/// `tug/<container>/<task>` → (container, task).
pub fn split_stream(stream: &str) -> (String, String) {
    let mut parts = stream.splitn(3, '/');
    let _prefix = parts.next();
    let container = parts.next().unwrap_or_default().to_string();
    let task = parts.next().unwrap_or_default().to_string();
    (container, task)
}

impl LogFilter {
    pub fn keeps(&self, stream: &str) -> bool {
        let (container, task) = split_stream(stream);
        (self.containers.is_empty() || self.containers.contains(&container))
            && (self.tasks.is_empty()
                || self
                    .tasks
                    .iter()
                    .any(|t| t.rsplit('/').next() == Some(task.as_str())))
    }

    /// A stream-name prefix that narrows the query on the server, when there is one.
    fn prefix(&self) -> Option<String> {
        if self.copilot_streams {
            return None;
        }
        match (self.containers.as_slice(), self.tasks.as_slice()) {
            ([c], [t]) => Some(format!("tug/{c}/{}", t.rsplit('/').next().unwrap_or(t))),
            ([c], []) => Some(format!("tug/{c}/")),
            _ => None,
        }
    }
}

/// At most this many pages (of up to 10,000 events or 1 MB each) per read.
const MAX_PAGES: usize = 200;

/// The log group of workload stack `stack` (its `LogGroup` resource).
pub async fn group_of(aws: &Aws, stack: &str) -> Result<String> {
    crate::deploy::stack::resources(aws, stack)
        .await?
        .into_iter()
        .find(|r| r.logical_id == "LogGroup")
        .and_then(|r| r.physical_id)
        .ok_or_else(|| Error::failure(format!("stack {stack} has no log group")))
}

/// Formats milliseconds since the epoch as RFC 3339.
pub fn format_millis(ms: i64) -> String {
    aws_sdk_cloudwatchlogs::primitives::DateTime::from_millis(ms)
        .fmt(aws_sdk_cloudwatchlogs::primitives::DateTimeFormat::DateTime)
        .unwrap_or_else(|_| ms.to_string())
}

/// Reads every event of `group` from `filter.start` on, oldest first, skipping ids in `seen`
/// (and adding the new ones).
pub async fn read(
    aws: &Aws,
    group: &str,
    filter: &LogFilter,
    seen: &mut HashSet<String>,
) -> Result<Vec<LogLine>> {
    let mut lines = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(filter.start)
            .set_next_token(token.clone());
        if let Some(prefix) = filter.prefix() {
            req = req.log_stream_name_prefix(prefix);
        }
        let out = match req.send().await {
            Ok(out) => out,
            Err(e) => {
                let text = describe_error(&e);
                if text.contains("ResourceNotFound") {
                    return Err(Error::failure(format!(
                        "log group {group} does not exist: the workload has not been deployed, or its stack was deleted"
                    )));
                }
                return Err(Error::failure(format!(
                    "cannot read log group {group}: {text}"
                )));
            }
        };
        for e in out.events() {
            let stream = e.log_stream_name().unwrap_or_default();
            if !filter.keeps(stream) {
                continue;
            }
            let timestamp = e.timestamp().unwrap_or_default();
            let id = e.event_id().map(str::to_string).unwrap_or_else(|| {
                format!("{stream}/{timestamp}/{}", e.message().unwrap_or_default())
            });
            if !seen.insert(id.clone()) {
                continue;
            }
            let (container, task) = split_stream(stream);
            lines.push(LogLine {
                time: format_millis(timestamp),
                timestamp,
                container,
                task,
                stream: stream.to_string(),
                message: e.message().unwrap_or_default().trim_end().to_string(),
                id,
            });
        }
        token = out.next_token().map(str::to_string);
        pages += 1;
        // The page cap guards against an endpoint that keeps handing out tokens.
        if token.is_none() || pages >= MAX_PAGES {
            break;
        }
    }
    lines.sort_by_key(|l| l.timestamp);
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_name_container_and_task() {
        assert_eq!(
            split_stream("tug/web/0123abcd"),
            ("web".to_string(), "0123abcd".to_string())
        );
        let f = LogFilter {
            start: 0,
            containers: vec!["web".into()],
            tasks: vec!["arn:aws:ecs:us-east-1:1:task/c/0123abcd".into()],
            copilot_streams: false,
        };
        assert!(f.keeps("tug/web/0123abcd"));
        assert!(!f.keeps("tug/otel/0123abcd"));
        assert!(!f.keeps("tug/web/ffff"));
        assert_eq!(f.prefix().as_deref(), Some("tug/web/0123abcd"));
        assert!(LogFilter::default().keeps("anything"));
        // An adopted workload: Copilot's tasks wrote `copilot/<container>/<task>`.
        let adopted = LogFilter {
            copilot_streams: true,
            ..f
        };
        assert!(adopted.keeps("copilot/web/0123abcd"));
        assert_eq!(adopted.prefix(), None);
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00Z");
    }
}
