//! `tug svc status -e ENV -n NAME`: a deployed service's state, deployments, tasks, load
//! balancer targets and alarms, as text or one JSON document with the same facts.

use crate::cli::EnvAndName;
use crate::commands::Context;
use crate::commands::remote::{self, or_dash};
use crate::deploy::health::{self, ServiceHealth};
use crate::deploy::inventory;
use crate::error::{Error, Result};
use crate::manifest::names;
use crate::ui::Style;

pub(crate) fn run(ctx: &Context, args: &EnvAndName) -> Result<()> {
    let (name, env, loaded) =
        remote::workload_and_env(ctx, args.name.as_deref(), args.env.as_deref(), "service")?;
    let stack = names::workload_stack(&loaded.app, env, name);
    let result = remote::with_aws(ctx, |aws| async move {
        match inventory::stack(&aws, &stack).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Error::failure(format!(
                    "service {name} is not deployed in environment {env} (no stack {stack})"
                ))
                .help(format!(
                    "deploy it with `tug svc deploy -n {name} -e {env}`"
                )));
            }
            Err(e) => return Err(e),
        }
        health::read(&aws, &stack).await
    });
    let h = result??;
    if ctx.ui.json {
        ctx.ui.json(&serde_json::to_value(&h).unwrap_or_default());
    } else {
        print_text(ctx, &h);
    }
    Ok(())
}

fn print_text(ctx: &Context, h: &ServiceHealth) {
    let ui = &ctx.ui;
    let heading = |t: &str| ui.out(&format!("\n{}", ui.paint_out(Style::Emphasis, t)));
    ui.out(&format!(
        "{} {} ({}, cluster {})",
        ui.paint_out(Style::Emphasis, "Service:"),
        h.service,
        h.status,
        h.cluster
    ));
    ui.out(&format!(
        "Tasks: {} running, {} pending, {} desired; task definition {}",
        h.running, h.pending, h.desired, h.task_definition
    ));
    heading("Deployments");
    let mut rows = vec![
        [
            "ID",
            "STATUS",
            "ROLLOUT",
            "TASK DEFINITION",
            "DESIRED",
            "RUNNING",
            "PENDING",
            "FAILED",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for d in &h.deployments {
        rows.push(vec![
            d.id.clone(),
            d.status.clone(),
            or_dash(d.rollout_state.as_deref()),
            d.task_definition.clone(),
            d.desired.to_string(),
            d.running.to_string(),
            d.pending.to_string(),
            d.failed.to_string(),
        ]);
    }
    for line in remote::table(&rows) {
        ui.out(&format!("  {line}"));
    }
    heading("Tasks");
    if h.tasks.is_empty() {
        ui.out("  (none)");
    } else {
        let mut rows = vec![
            [
                "TASK",
                "STATUS",
                "HEALTH",
                "TASK DEFINITION",
                "STARTED",
                "STOPPED REASON",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for t in &h.tasks {
            rows.push(vec![
                t.id.clone(),
                t.last_status.clone(),
                t.health.clone(),
                t.task_definition.clone(),
                or_dash(t.started.as_deref()),
                or_dash(t.stopped_reason.as_deref()),
            ]);
        }
        for line in remote::table(&rows) {
            ui.out(&format!("  {line}"));
        }
    }
    heading("Load balancer targets");
    if h.targets.is_empty() {
        ui.out("  (none)");
    } else {
        let mut rows = vec![
            ["TARGET GROUP", "TARGET", "PORT", "STATE", "REASON"]
                .map(String::from)
                .to_vec(),
        ];
        for t in &h.targets {
            rows.push(vec![
                t.target_group.clone(),
                t.target.clone(),
                t.port.map_or("-".into(), |p| p.to_string()),
                t.state.clone(),
                or_dash(t.reason.as_deref()),
            ]);
        }
        for line in remote::table(&rows) {
            ui.out(&format!("  {line}"));
        }
    }
    heading("Alarms");
    if let Some(e) = &h.alarms_error {
        ui.out(&format!("  (not available: {e})"));
    } else if h.alarms.is_empty() {
        ui.out("  (none)");
    } else {
        let mut rows = vec![["ALARM", "STATE"].map(String::from).to_vec()];
        for a in &h.alarms {
            rows.push(vec![a.name.clone(), a.state.clone()]);
        }
        for line in remote::table(&rows) {
            ui.out(&format!("  {line}"));
        }
    }
    if !h.events.is_empty() {
        heading("Latest service events");
        for e in &h.events {
            ui.out(&format!("  {e}"));
        }
    }
}
