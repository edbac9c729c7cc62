//! The rows of the `tug deploy` summary (JSON and text), and the progress event that ends
//! each stack's deploy.

use std::time::Instant;

use serde::Serialize;
use tokio::sync::watch;

use super::{Outcome, interrupted};
use crate::deploy::events::{Event, Reporter};
use crate::error::Error;
use crate::render;

/// One line of the `tug deploy` summary.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub stack: String,
    pub workload: Option<String>,
    pub outcome: String,
    pub seconds: f64,
    pub image: Option<String>,
    pub detail: Option<String>,
    #[serde(skip)]
    pub result: Outcome,
}

impl SummaryRow {
    /// The row of a stack whose deploy started at `started` and ended with `outcome`.
    pub(super) fn new(
        stack: String,
        workload: Option<String>,
        outcome: Outcome,
        started: Instant,
        image: Option<String>,
    ) -> SummaryRow {
        SummaryRow {
            seconds: started.elapsed().as_secs_f64(),
            workload,
            image,
            ..SummaryRow::not_started(stack, outcome)
        }
    }

    /// The row of a stack whose deploy did not start.
    fn not_started(stack: String, outcome: Outcome) -> SummaryRow {
        SummaryRow {
            stack,
            workload: None,
            outcome: outcome.label().into(),
            seconds: 0.0,
            image: None,
            detail: outcome.detail(),
            result: outcome,
        }
    }
}

/// A workload not deployed because a publisher it subscribes to did not succeed.
pub(super) fn blocked_row(
    stack: String,
    workload: &str,
    blocked: &[String],
    interrupts: &watch::Receiver<u32>,
) -> SummaryRow {
    let mut row = if interrupted(interrupts) {
        interrupted_row(stack)
    } else {
        failed_row(
            stack,
            Error::failure(format!(
                "not deployed: it subscribes to topics of {}, whose deploy did not succeed",
                blocked.join(", ")
            )),
        )
    };
    row.workload = Some(workload.to_string());
    row
}

/// A stack not started because of Ctrl-C.
pub(super) fn interrupted_row(stack: String) -> SummaryRow {
    let outcome = Outcome::Interrupted(format!(
        "not started: interrupted before {stack} was touched"
    ));
    SummaryRow::not_started(stack, outcome)
}

/// A stack not deployed because of `e`.
pub(super) fn failed_row(stack: String, e: Error) -> SummaryRow {
    SummaryRow::not_started(stack, Outcome::Failed(e))
}

/// A stack that could not be rendered.
pub(super) fn internal_row(
    stack: String,
    workload: Option<String>,
    e: render::RenderError,
) -> SummaryRow {
    let detail = match e {
        render::RenderError::Input(d) => d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        render::RenderError::Internal(m) => {
            format!("internal error while rendering (please report it): {m}")
        }
    };
    SummaryRow {
        workload,
        ..failed_row(stack, Error::failure(detail))
    }
}

/// Reports the end of a stack's deploy.
pub fn finished(reporter: &dyn Reporter, stack: &str, outcome: &Outcome, started: Instant) {
    reporter.emit(Event::Finished {
        stack: stack.to_string(),
        outcome: outcome.label().to_string(),
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        detail: outcome.detail(),
    });
}
