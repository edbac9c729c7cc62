//! Deploy progress for people and programs: indicatif bars on a terminal (one line per stack,
//! per changing resource and per ECS rollout), plain timestamped lines otherwise, or NDJSON
//! events on stdout with `--output json`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::{Stream, Ui};
use crate::deploy::events::{Event, Reporter, timestamp};
use crate::deploy::stack_events::{ResourcePhase, resource_phase};

/// Plain lines on stderr: `<time> <stack> <what>`.
pub(crate) struct PlainReporter {
    pub quiet: bool,
}

fn describe(event: &Event) -> Option<String> {
    Some(match event {
        Event::Started { action, .. } => format!("{action} started"),
        Event::Waiting { reason, .. } => format!("waiting: {reason}"),
        Event::ChangeSet { changes, .. } => format!(
            "change set ready: {} resource change{}",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        ),
        Event::Resource {
            logical_id,
            resource_type,
            status,
            reason,
            detailed_status,
            ..
        } => {
            let reason = reason
                .as_ref()
                .filter(|r| !r.is_empty())
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            let detail = detailed_status
                .as_deref()
                .map(detail_text)
                .unwrap_or_default();
            format!("{logical_id} ({resource_type}) {status}{detail}{reason}")
        }
        Event::Rollout {
            service,
            state,
            desired,
            running,
            pending,
            failed,
            ..
        } => {
            format!(
                "ECS service {service}: {state}, {running}/{desired} running, {pending} pending, {failed} failed"
            )
        }
        Event::Stage { service, text, .. } => format!("ECS deployment of {service}: {text}"),
        Event::HookWaiting {
            service,
            expires_at,
            timeout_action,
            continue_command,
            rollback_command,
            ..
        } => {
            let deadline = match (expires_at, timeout_action) {
                (Some(at), Some(action)) => {
                    format!(" (at {at} ECS takes the timeout action: {action})")
                }
                _ => String::new(),
            };
            format!(
                "the deployment of {service} is paused and waits for you{deadline}: continue with `{continue_command}`, or roll back with `{rollback_command}`"
            )
        }
        Event::Message { text, .. } => text.clone(),
        Event::Finished {
            outcome,
            seconds,
            detail,
            ..
        } => {
            let detail = detail
                .as_ref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            format!("{outcome} after {seconds:.1}s{detail}")
        }
    })
}

/// How a detailed status reads after the status.
fn detail_text(detailed: &str) -> String {
    match detailed {
        "CONFIGURATION_COMPLETE" => " (configuration complete, checking stability)".into(),
        other => format!(" ({other})"),
    }
}

/// The colour a status is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Bad,
    Good,
    Busy,
}

fn tone(status: &str) -> Tone {
    if status.contains("ROLLBACK") {
        return Tone::Bad;
    }
    match resource_phase(status) {
        ResourcePhase::Failed => Tone::Bad,
        ResourcePhase::Complete | ResourcePhase::Skipped => Tone::Good,
        // ECS rollout states and tug's own outcomes are not CloudFormation statuses.
        ResourcePhase::Unknown if status == "COMPLETED" || status == "COMPLETE" => Tone::Good,
        ResourcePhase::Unknown if status == "FAILED" => Tone::Bad,
        _ => Tone::Busy,
    }
}

impl Reporter for PlainReporter {
    fn emit(&self, event: Event) {
        if self.quiet && !matches!(event, Event::Finished { .. }) {
            return;
        }
        if let Some(text) = describe(&event) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{} {} {}",
                timestamp(),
                event.stack(),
                text
            );
        }
    }
}

/// NDJSON on stdout: one object per event, with its time.
pub(crate) struct JsonReporter;

impl Reporter for JsonReporter {
    fn emit(&self, event: Event) {
        let mut value = serde_json::to_value(&event).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert("time".into(), serde_json::Value::String(timestamp()));
        }
        let _ = writeln!(std::io::stdout().lock(), "{value}");
    }
}

/// Progress bars on a terminal.
pub(crate) struct TerminalReporter {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    color: bool,
}

impl TerminalReporter {
    /// Bars drawn in the UI's one set, coloured as stderr takes colours.
    pub(crate) fn new(ui: &Ui) -> TerminalReporter {
        TerminalReporter {
            multi: ui.bars.clone(),
            bars: Mutex::new(HashMap::new()),
            color: ui.color(Stream::Stderr),
        }
    }

    fn bar(&self, key: &str, indent: usize) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        // A finished line stays as it is (a resource that completed and then rolls back gets
        // a new line): a finished bar no longer redraws, so its message could not change.
        if let Some(bar) = bars.get(key).filter(|b| !b.is_finished()) {
            return bar.clone();
        }
        let bar = self.multi.add(ProgressBar::new_spinner());
        let template = format!("{}{{spinner}} {{msg}} {{elapsed:.dim}}", " ".repeat(indent));
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bars.insert(key.to_string(), bar.clone());
        bar
    }

    fn paint(&self, status: &str, text: String) -> String {
        if !self.color {
            return text;
        }
        let code = match tone(status) {
            Tone::Bad => "31",
            Tone::Good => "32",
            Tone::Busy => "33",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

impl Reporter for TerminalReporter {
    fn emit(&self, event: Event) {
        let stack = event.stack().to_string();
        match &event {
            Event::Resource {
                logical_id,
                resource_type,
                status,
                reason,
                detailed_status,
                ..
            } => {
                if logical_id == &stack {
                    self.bar(&stack, 0)
                        .set_message(format!("{stack}: {}", self.paint(status, status.clone())));
                    return;
                }
                let bar = self.bar(&format!("{stack}/{logical_id}"), 2);
                let reason = reason
                    .as_ref()
                    .filter(|r| status.ends_with("FAILED") && !r.is_empty())
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default();
                let detail = detailed_status
                    .as_deref()
                    .map(detail_text)
                    .unwrap_or_default();
                bar.set_message(format!(
                    "{logical_id} ({resource_type}) {}{detail}{reason}",
                    self.paint(status, status.clone())
                ));
                // Only a final status ends the line: CONFIGURATION_COMPLETE and the
                // consistency check's UPDATE_IN_PROGRESS come before the real completion.
                if resource_phase(status).is_final() {
                    bar.finish();
                }
            }
            Event::Rollout {
                service,
                state,
                desired,
                running,
                pending,
                failed,
                ..
            } => {
                let bar = self.bar(&format!("{stack}/rollout"), 2);
                bar.set_message(format!(
                    "ECS deployment of {service}: {} desired {desired}, running {running}, pending {pending}, failed {failed}",
                    self.paint(state, state.clone())
                ));
            }
            Event::Finished {
                outcome,
                seconds,
                detail,
                ..
            } => {
                let bar = self.bar(&stack, 0);
                // The final line states the duration itself; the spinner's running clock
                // would repeat it ("deployed in 2.7s 1s").
                if let Ok(style) = ProgressStyle::with_template("{msg}") {
                    bar.set_style(style);
                }
                let status = if outcome == "deployed" || outcome == "no changes" {
                    "COMPLETE"
                } else {
                    "FAILED"
                };
                bar.finish_with_message(format!(
                    "{stack}: {} in {seconds:.1}s",
                    self.paint(status, outcome.clone())
                ));
                let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
                for (key, b) in bars.iter() {
                    if key.starts_with(&format!("{stack}/")) {
                        b.finish();
                    }
                }
                bars.retain(|k, _| !k.starts_with(&format!("{stack}/")));
                if let Some(d) = detail {
                    let _ = self.multi.println(format!("  {d}"));
                }
            }
            other => {
                if let Some(text) = describe(other) {
                    self.bar(&stack, 0).set_message(format!("{stack}: {text}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(status: &str, detailed: Option<&str>, reason: Option<&str>) -> Event {
        Event::Resource {
            stack: "shop-test-web".into(),
            logical_id: "Service".into(),
            resource_type: "AWS::ECS::Service".into(),
            status: status.into(),
            reason: reason.map(str::to_string),
            detailed_status: detailed.map(str::to_string),
        }
    }

    #[test]
    fn configuration_complete_reads_as_still_in_progress() {
        assert_eq!(
            describe(&resource(
                "CREATE_IN_PROGRESS",
                Some("CONFIGURATION_COMPLETE"),
                None
            ))
            .unwrap(),
            "Service (AWS::ECS::Service) CREATE_IN_PROGRESS (configuration complete, checking stability)"
        );
        assert_eq!(tone("CONFIGURATION_COMPLETE"), Tone::Busy);
        assert_eq!(
            describe(&resource(
                "UPDATE_IN_PROGRESS",
                None,
                Some("Eventual consistency check initiated")
            ))
            .unwrap(),
            "Service (AWS::ECS::Service) UPDATE_IN_PROGRESS: Eventual consistency check initiated"
        );
    }

    #[test]
    fn tones() {
        assert_eq!(tone("UPDATE_COMPLETE"), Tone::Good);
        assert_eq!(tone("DELETE_SKIPPED"), Tone::Good);
        assert_eq!(tone("UPDATE_ROLLBACK_COMPLETE"), Tone::Bad);
        assert_eq!(tone("CREATE_FAILED"), Tone::Bad);
        assert_eq!(tone("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"), Tone::Busy);
        assert_eq!(tone("COMPLETED"), Tone::Good);
        assert_eq!(tone("IN_PROGRESS"), Tone::Busy);
    }
}
