//! What a deploy reports as it goes: one event type, rendered by the UI as progress bars, plain
//! timestamped lines or NDJSON (see `ui::progress`).

use serde::Serialize;

use crate::deploy::changeset::ResourceChange;
use crate::deploy::replacement::Hazard;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A stack operation begins (`action`: create or update).
    Started { stack: String, action: String },
    /// Waiting for something outside tug (another operation on the stack).
    Waiting { stack: String, reason: String },
    /// The change set is ready.
    ChangeSet {
        stack: String,
        changes: Vec<ResourceChange>,
        /// The replacements and removals of stateful resources among them.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        destructive: Vec<Hazard>,
    },
    /// A resource changed state.
    Resource {
        stack: String,
        logical_id: String,
        resource_type: String,
        status: String,
        reason: Option<String>,
        /// CloudFormation's detailed status (`CONFIGURATION_COMPLETE`: configured, still
        /// being checked for stability).
        #[serde(skip_serializing_if = "Option::is_none")]
        detailed_status: Option<String>,
    },
    /// The ECS service's rollout progressed.
    Rollout {
        stack: String,
        service: String,
        state: String,
        desired: i32,
        running: i32,
        pending: i32,
        failed: i32,
    },
    /// A blue/green, canary or linear deployment moved to another lifecycle stage or traffic
    /// split (`text` says both).
    Stage {
        stack: String,
        service: String,
        stage: Option<String>,
        production_weight: Option<f64>,
        test_weight: Option<f64>,
        text: String,
    },
    /// A PAUSE lifecycle hook waits for someone to continue or roll back the deployment.
    HookWaiting {
        stack: String,
        service: String,
        hook_id: String,
        expires_at: Option<String>,
        timeout_action: Option<String>,
        continue_command: String,
        rollback_command: String,
    },
    /// Something worth saying.
    Message { stack: String, text: String },
    /// The stack's deploy ended.
    Finished {
        stack: String,
        outcome: String,
        seconds: f64,
        detail: Option<String>,
    },
}

impl Event {
    pub fn stack(&self) -> &str {
        match self {
            Event::Started { stack, .. }
            | Event::Waiting { stack, .. }
            | Event::ChangeSet { stack, .. }
            | Event::Resource { stack, .. }
            | Event::Rollout { stack, .. }
            | Event::Stage { stack, .. }
            | Event::HookWaiting { stack, .. }
            | Event::Message { stack, .. }
            | Event::Finished { stack, .. } => stack,
        }
    }
}

/// Receives events; implementations must be cheap and never block for long.
pub trait Reporter: Send + Sync {
    fn emit(&self, event: Event);
}

/// UTC time as RFC 3339 with milliseconds, without a date-time dependency.
pub fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn events_serialize_with_a_tag() {
        let e = Event::Message {
            stack: "s".into(),
            text: "hi".into(),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"message","stack":"s","text":"hi"}"#
        );
    }
}
