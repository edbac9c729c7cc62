//! Deploy progress for people and programs: indicatif bars on a terminal (one line per stack,
//! per changing resource and per ECS rollout), plain timestamped lines otherwise, or NDJSON
//! events on stdout with `--output json`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::deploy::events::{Event, Reporter, timestamp};

/// Plain lines on stderr: `<time> <stack> <what>`.
pub struct PlainReporter {
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
            ..
        } => {
            let reason = reason
                .as_ref()
                .filter(|r| !r.is_empty())
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            format!("{logical_id} ({resource_type}) {status}{reason}")
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
pub struct JsonReporter;

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
pub struct TerminalReporter {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    color: bool,
}

impl TerminalReporter {
    pub fn new(color: bool) -> TerminalReporter {
        TerminalReporter {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
            color,
        }
    }

    fn bar(&self, key: &str, indent: usize) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.entry(key.to_string())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                let template =
                    format!("{}{{spinner}} {{msg}} {{elapsed:.dim}}", " ".repeat(indent));
                if let Ok(style) = ProgressStyle::with_template(&template) {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone()
    }

    fn paint(&self, status: &str, text: String) -> String {
        if !self.color {
            return text;
        }
        let code = if status.ends_with("FAILED") || status.contains("ROLLBACK") {
            "31"
        } else if status.ends_with("COMPLETE") || status == "COMPLETED" {
            "32"
        } else {
            "33"
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
                bar.set_message(format!(
                    "{logical_id} ({resource_type}) {}{reason}",
                    self.paint(status, status.clone())
                ));
                if status.ends_with("COMPLETE") || status.ends_with("FAILED") {
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
