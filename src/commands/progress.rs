//! Deploy progress for people and programs: the deploy's events as lines on the UI's
//! progress board on a terminal (one line per stack, per changing resource and per ECS
//! rollout), plain timestamped lines otherwise, or NDJSON events on stdout with
//! `--output json`. It sits here, on top, because it reads deploy's events and writes through
//! the UI, and neither of those may name the other (tests/layering.rs).

use crate::deploy::events::{Event, Reporter, timestamp};
use crate::deploy::stack_events::{ResourcePhase, resource_phase};
use crate::ui::Ui;
use crate::ui::progress::{Board, Tone};

/// Plain lines on stderr: `<time> <stack> <what>`; `--quiet` keeps only the outcomes.
pub(crate) struct PlainReporter {
    pub(crate) ui: Ui,
}

/// NDJSON on stdout: one object per event, with its time.
pub(crate) struct JsonReporter {
    pub(crate) ui: Ui,
}

/// Lines on the terminal's progress board.
pub(crate) struct TerminalReporter {
    board: Board,
}

impl TerminalReporter {
    pub(crate) fn new(ui: &Ui) -> TerminalReporter {
        TerminalReporter {
            board: Board::new(ui),
        }
    }

    /// `status` in the colour of its tone.
    fn paint(&self, status: &str) -> String {
        self.board.paint(tone(status), status)
    }
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
        let Some(text) = describe(&event) else {
            return;
        };
        let line = format!("{} {} {}", timestamp(), event.stack(), text);
        if matches!(event, Event::Finished { .. }) {
            // The outcome is shown even with `--quiet`.
            self.ui.notice(&line);
        } else {
            self.ui.info(&line);
        }
    }
}

impl Reporter for JsonReporter {
    fn emit(&self, event: Event) {
        let mut value = serde_json::to_value(&event).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert("time".into(), serde_json::Value::String(timestamp()));
        }
        self.ui.out(&value.to_string());
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
                    let message = format!("{stack}: {}", self.paint(status));
                    self.board.show(&stack, 0, message, false);
                    return;
                }
                let reason = reason
                    .as_ref()
                    .filter(|r| status.ends_with("FAILED") && !r.is_empty())
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default();
                let detail = detailed_status
                    .as_deref()
                    .map(detail_text)
                    .unwrap_or_default();
                let message = format!(
                    "{logical_id} ({resource_type}) {}{detail}{reason}",
                    self.paint(status)
                );
                // Only a final status ends the line: CONFIGURATION_COMPLETE and the
                // consistency check's UPDATE_IN_PROGRESS come before the real completion.
                let done = resource_phase(status).is_final();
                self.board
                    .show(&format!("{stack}/{logical_id}"), 2, message, done);
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
                let message = format!(
                    "ECS deployment of {service}: {} desired {desired}, running {running}, pending {pending}, failed {failed}",
                    self.paint(state)
                );
                self.board
                    .show(&format!("{stack}/rollout"), 2, message, false);
            }
            Event::Finished {
                outcome,
                seconds,
                detail,
                ..
            } => {
                let tone = if outcome == "deployed" || outcome == "no changes" {
                    Tone::Good
                } else {
                    Tone::Bad
                };
                let message = format!(
                    "{stack}: {} in {seconds:.1}s",
                    self.board.paint(tone, outcome)
                );
                self.board.conclude(&stack, message, detail.as_deref());
            }
            other => {
                if let Some(text) = describe(other) {
                    self.board
                        .show(&stack, 0, format!("{stack}: {text}"), false);
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
