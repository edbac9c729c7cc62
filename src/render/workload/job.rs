//! Scheduled Job resources: the schedule and what runs the task.

use serde_json::Value;

use crate::manifest::model::WorkloadKind;
use crate::render::workload::Scope;
use crate::render::{RenderError, input_error};

/// The view model of a Scheduled Job's schedule, or null for other types.
pub(crate) fn context(scope: &Scope) -> Result<Value, RenderError> {
    if scope.wl.kind != WorkloadKind::ScheduledJob {
        return Ok(Value::Null);
    }
    let span = scope
        .wl
        .manifest
        .name
        .as_ref()
        .map(|n| n.span)
        .unwrap_or_default();
    Err(RenderError::Input(vec![input_error(
        span,
        "rendering Scheduled Jobs is not available yet",
        "this comes with a later change",
    )]))
}
