//! Running a Scheduled Job now: start an execution of the job's state machine (the stack's
//! `StateMachineArn` output) and follow it to its end. Starting the state machine rather than
//! calling ECS RunTask directly runs the job exactly as its schedule does: the same task
//! definition, network configuration, retries and timeout, all in the template. The job's
//! exit code comes from the stopped task Step Functions reports (the execution's output, or
//! its failure cause).

use std::time::Duration;

use serde::Serialize;

use crate::deploy::aws::{Aws, describe_error};
use crate::error::{Error, Result};

/// How a run ended.
#[derive(Debug, Clone, Serialize)]
pub struct JobRun {
    pub execution: String,
    /// SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub status: String,
    /// The main container's exit code, when the task got to run.
    pub exit_code: Option<i32>,
    pub task: Option<String>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<ContainerExit>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ContainerExit {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

impl JobRun {
    /// tug's exit code for the run: the job's own exit code when it has one (like
    /// `docker run`), 0 for a success without one, 1 for any other failure.
    pub fn exit_code(&self) -> u8 {
        match (self.status.as_str(), self.exit_code) {
            (_, Some(code)) if (1..=255).contains(&code) => code as u8,
            (_, Some(code)) if code != 0 => 1,
            ("SUCCEEDED", _) => 0,
            _ => 1,
        }
    }
}

/// Starts an execution; returns its ARN.
pub async fn start(aws: &Aws, state_machine: &str) -> Result<String> {
    let out = aws
        .sfn
        .start_execution()
        .state_machine_arn(state_machine)
        .name(format!(
            "tug-run-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        ))
        .input("{}")
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot start {state_machine}: {}",
                describe_error(&e)
            ))
        })?;
    Ok(out.execution_arn().to_string())
}

/// Waits until the execution ends, telling `on_status` each status change.
pub async fn follow(
    aws: &Aws,
    execution: &str,
    main_container: &str,
    mut on_status: impl FnMut(&str),
) -> Result<JobRun> {
    let mut last = String::new();
    let mut delay = Duration::from_millis(500);
    loop {
        let out = aws
            .sfn
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot read execution {execution}: {}",
                    describe_error(&e)
                ))
            })?;
        let status = out.status().as_str().to_string();
        if status != last {
            on_status(&status);
            last = status.clone();
        }
        if status != "RUNNING" && status != "PENDING_REDRIVE" {
            let document = out.output().or(out.cause()).unwrap_or_default();
            return Ok(summarise(
                execution,
                &status,
                document,
                main_container,
                out.error(),
                out.cause(),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Reads the stopped task out of an execution's output or cause.
pub fn summarise(
    execution: &str,
    status: &str,
    document: &str,
    main_container: &str,
    error: Option<&str>,
    cause: Option<&str>,
) -> JobRun {
    let task = serde_json::from_str::<serde_json::Value>(document).ok();
    let task = task.as_ref().and_then(find_task);
    let containers: Vec<ContainerExit> = task
        .and_then(|t| t["Containers"].as_array())
        .into_iter()
        .flatten()
        .map(|c| ContainerExit {
            name: c["Name"].as_str().unwrap_or_default().to_string(),
            exit_code: c["ExitCode"].as_i64().map(|n| n as i32),
            reason: c["Reason"].as_str().map(str::to_string),
        })
        .collect();
    let exit_code = containers
        .iter()
        .find(|c| c.name == main_container)
        .and_then(|c| c.exit_code)
        .or_else(|| {
            containers
                .iter()
                .filter_map(|c| c.exit_code)
                .find(|&c| c != 0)
        })
        .or_else(|| containers.iter().find_map(|c| c.exit_code));
    JobRun {
        execution: execution.to_string(),
        status: status.to_string(),
        exit_code,
        task: task.and_then(|t| t["TaskArn"].as_str()).map(str::to_string),
        stopped_reason: task
            .and_then(|t| t["StoppedReason"].as_str())
            .map(str::to_string),
        containers,
        error: error.map(str::to_string),
        cause: cause.map(str::to_string),
    }
}

/// The object with a `Containers` array: the task itself, or nested in the document.
fn find_task(v: &serde_json::Value) -> Option<&serde_json::Value> {
    match v {
        serde_json::Value::Object(map) => {
            if map.get("Containers").is_some_and(|c| c.is_array()) {
                return Some(v);
            }
            map.values().find_map(find_task)
        }
        serde_json::Value::Array(items) => items.iter().find_map(find_task),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shapes Step Functions' ecs:runTask.sync reports: the stopped task (PascalCase).
    const SUCCEEDED: &str = r#"{"TaskArn":"arn:aws:ecs:us-east-1:1:task/c/abc","StoppedReason":"Essential container in task exited","Containers":[{"Name":"report","ExitCode":0},{"Name":"logrouter","ExitCode":0}]}"#;
    const FAILED_CAUSE: &str = r#"{"Attachments":[],"Containers":[{"Name":"logrouter","ExitCode":0},{"Name":"report","ExitCode":3,"Reason":"boom"}],"TaskArn":"arn:aws:ecs:us-east-1:1:task/c/def"}"#;

    #[test]
    fn a_successful_run_exits_0() {
        let run = summarise("x", "SUCCEEDED", SUCCEEDED, "report", None, None);
        assert_eq!(run.exit_code, Some(0));
        assert_eq!(run.exit_code(), 0);
        assert_eq!(
            run.task.as_deref(),
            Some("arn:aws:ecs:us-east-1:1:task/c/abc")
        );
    }

    #[test]
    fn a_failed_run_exits_with_the_main_containers_code() {
        let run = summarise(
            "x",
            "FAILED",
            FAILED_CAUSE,
            "report",
            Some("States.TaskFailed"),
            Some(FAILED_CAUSE),
        );
        assert_eq!(run.exit_code, Some(3));
        assert_eq!(run.exit_code(), 3);
        assert_eq!(run.containers[1].reason.as_deref(), Some("boom"));
    }

    #[test]
    fn failures_without_a_task_exit_1() {
        let run = summarise("x", "TIMED_OUT", "", "report", None, None);
        assert_eq!(run.exit_code, None);
        assert_eq!(run.exit_code(), 1);
        let run = summarise(
            "x",
            "FAILED",
            "not json",
            "report",
            Some("States.Timeout"),
            None,
        );
        assert_eq!(run.exit_code(), 1);
        // A success whose container exited non-zero still reports that code.
        let odd = r#"{"Containers":[{"Name":"report","ExitCode":300}]}"#;
        assert_eq!(
            summarise("x", "SUCCEEDED", odd, "report", None, None).exit_code(),
            1
        );
    }
}
