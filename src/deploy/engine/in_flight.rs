//! The stacks whose change sets are executing because of this process: what a second Ctrl-C,
//! which leaves at once, names, with how to follow and undo each.

use crate::render::RenderedStack;

/// A stack whose change set is executing: what a second Ctrl-C, which leaves at once, must
/// name, with the commands to follow and undo what goes on in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlightStack {
    pub stack: String,
    /// `create` or `update`.
    pub action: &'static str,
    /// How to undo it once it ends (an update is being cancelled and rolled back already).
    pub undo: String,
}

static IN_FLIGHT: std::sync::Mutex<Vec<InFlightStack>> = std::sync::Mutex::new(Vec::new());

/// The stacks changing in AWS right now because of this process.
pub fn in_flight() -> Vec<InFlightStack> {
    IN_FLIGHT.lock().map(|v| v.clone()).unwrap_or_default()
}

/// How to undo a stack's create or update that goes on in AWS after tug stopped watching.
pub(super) fn undo_command(rendered: &RenderedStack, creating: bool) -> String {
    let stack = &rendered.stack_name;
    let env = rendered.tags.get("tug:env").map_or("ENV", String::as_str);
    match (&rendered.workload, creating) {
        (_, false) => format!(
            "the update is rolled back by `aws cloudformation cancel-update-stack --stack-name {stack}` if it is still in progress"
        ),
        (None, true) => format!("`tug env delete -n {env}` once the creation has ended"),
        (Some(w), true) => format!(
            "`tug {} delete -e {env} -n {w}` once the creation has ended",
            if rendered.template.contains("AWS::ECS::Service") {
                "svc"
            } else {
                "job"
            }
        ),
    }
}

/// Registers a stack as changing for as long as it lives.
pub(super) struct InFlight(String);

impl InFlight {
    pub(super) fn register(rendered: &RenderedStack, creating: bool) -> InFlight {
        let stack = rendered.stack_name.clone();
        let undo = undo_command(rendered, creating);
        if let Ok(mut v) = IN_FLIGHT.lock() {
            v.push(InFlightStack {
                stack: stack.clone(),
                action: if creating { "create" } else { "update" },
                undo,
            });
        }
        InFlight(stack)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut v) = IN_FLIGHT.lock() {
            v.retain(|s| s.stack != self.0);
        }
    }
}
