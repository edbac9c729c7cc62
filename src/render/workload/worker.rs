//! Worker Service resources: the events queue, its dead-letter queue, topic subscriptions.

use serde_json::Value;

use crate::manifest::model::WorkloadKind;
use crate::render::workload::Scope;
use crate::render::{RenderError, input_error};

/// The view model of a Worker Service's queues, or null for other types.
pub(crate) fn context(scope: &Scope) -> Result<Value, RenderError> {
    if scope.wl.kind != WorkloadKind::WorkerService {
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
        "rendering Worker Services is not available yet",
        "this comes with a later change",
    )]))
}
