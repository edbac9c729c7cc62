//! `tug job run -e ENV -n NAME`: run a deployed Scheduled Job now, through its state machine
//! (the path its schedule takes), and follow the run to its end. tug's exit code is the job's:
//! the main container's exit code, 0 on success, 1 for a run that ended without one.
//! Ctrl-C stops following (exit 130); the run goes on in AWS, and tug says how to stop it.

use serde_json::json;

use crate::cli::EnvAndName;
use crate::commands::Context;
use crate::commands::remote;
use crate::deploy::inventory;
use crate::deploy::jobrun::{self, JobRun};
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::names;
use crate::ui::Style;

enum Ending {
    Done(JobRun),
    Interrupted(String),
}

pub(crate) fn run(ctx: &Context, args: &EnvAndName) -> Result<()> {
    let (name, env, loaded) =
        remote::workload_and_env(ctx, args.name.as_deref(), args.env.as_deref(), "job")?;
    let stack = names::workload_stack(&loaded.app, env, name);
    let result = remote::with_aws(ctx, |aws| async move {
        let deployed = match inventory::stack(&aws, &stack).await? {
            Some(s) => s,
            None => {
                return Err(Error::failure(format!(
                    "job {name} is not deployed in environment {env} (no stack {stack})"
                ))
                .help(format!(
                    "deploy it with `tug job deploy -n {name} -e {env}`"
                )));
            }
        };
        let Some(machine) = deployed.output("StateMachineArn").map(str::to_string) else {
            return Err(Error::failure(format!(
                "stack {stack} has no state machine: `{name}` is not a Scheduled Job"
            )));
        };
        let execution = jobrun::start(&aws, &machine).await?;
        ctx.ui
            .info(&format!("started {name} in {env}: execution {execution}"));
        let follow = jobrun::follow(&aws, &execution, name, |status| {
            ctx.ui.info(&format!(
                "{} {name}: {status}",
                crate::deploy::events::timestamp()
            ))
        });
        tokio::select! {
            run = follow => run.map(Ending::Done),
            _ = tokio::signal::ctrl_c() => Ok(Ending::Interrupted(execution)),
        }
    });
    match result?? {
        Ending::Interrupted(execution) => Err(Error::with_code(
            exit::INTERRUPTED,
            format!(
                "interrupted: tug stopped following; the job goes on in AWS\n  stop it with `aws stepfunctions stop-execution --execution-arn {execution}`"
            ),
        )),
        Ending::Done(run) => {
            let code = run.exit_code();
            if ctx.ui.json {
                let mut v = serde_json::to_value(&run).unwrap_or_default();
                v["job"] = json!(name);
                v["environment"] = json!(env);
                v["tug_exit_code"] = json!(code);
                ctx.ui.json(&v);
            } else {
                print_text(ctx, name, env, &run, code);
            }
            // The run's outcome is printed above; a failed run fails the command.
            crate::commands::status(code)
        }
    }
}

fn print_text(ctx: &Context, name: &str, env: &str, run: &JobRun, code: u8) {
    let ui = &ctx.ui;
    let exit_text = run
        .exit_code
        .map_or("no exit code".to_string(), |c| format!("exit code {c}"));
    let line = format!("job {name} {}: {exit_text}", run.status.to_lowercase());
    ui.out(&if code == exit::SUCCESS {
        ui.paint_out(Style::Success, &line)
    } else {
        ui.paint_out(Style::Error, &line)
    });
    if let Some(task) = &run.task {
        ui.out(&format!("  task: {task}"));
    }
    if let Some(reason) = &run.stopped_reason {
        ui.out(&format!("  stopped: {reason}"));
    }
    for c in &run.containers {
        ui.out(&format!(
            "  container {}: {}{}",
            c.name,
            c.exit_code.map_or("-".to_string(), |e| format!("exit {e}")),
            c.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
    }
    if run.task.is_none() {
        if let Some(e) = &run.error {
            ui.out(&format!("  error: {e}"));
        }
        if let Some(c) = &run.cause {
            ui.out(&format!("  cause: {c}"));
        }
    }
    ui.out(&format!("  logs: tug job logs -n {name} -e {env}"));
}
