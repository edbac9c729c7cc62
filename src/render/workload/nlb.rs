//! Network Load Balancer of a load-balanced web service (`nlb`).

use serde_json::Value;

use crate::render::workload::Scope;
use crate::render::{RenderError, input_error};

/// The view model of the service's NLB, or null without `nlb`.
pub(crate) fn context(scope: &Scope) -> Result<Value, RenderError> {
    let Some(nlb) = &scope.wl.manifest.nlb else {
        return Ok(Value::Null);
    };
    Err(RenderError::Input(vec![input_error(
        nlb.span,
        "rendering `nlb` is not available yet",
        "this comes with a later change",
    )]))
}
