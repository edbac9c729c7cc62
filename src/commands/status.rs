//! `tug svc status -e ENV -n NAME`: a deployed service's state, deployments, tasks, load
//! balancer targets and alarms, as text or one JSON document with the same facts.

use crate::cli::EnvAndName;
use crate::commands::Context;
use crate::commands::remote::{self, or_dash};
use crate::deploy::health::{self, ServiceHealth};
use crate::deploy::inventory;
use crate::error::{Error, Result};
use crate::manifest::names;
use crate::ui::{Style, Ui};

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
    print_table(ui, &DEPLOYMENT_COLUMNS, deployment_rows(h));
    heading("Tasks");
    print_table_or_none(ui, &TASK_COLUMNS, task_rows(h));
    heading("Load balancer targets");
    print_table_or_none(ui, &TARGET_COLUMNS, target_rows(h));
    heading("Alarms");
    if let Some(e) = &h.alarms_error {
        ui.out(&format!("  (not available: {e})"));
    } else {
        let rows = h
            .alarms
            .iter()
            .map(|a| vec![a.name.clone(), a.state.clone()])
            .collect();
        print_table_or_none(ui, &["ALARM", "STATE"], rows);
    }
    if !h.events.is_empty() {
        heading("Latest service events");
        for e in &h.events {
            ui.out(&format!("  {e}"));
        }
    }
}

const DEPLOYMENT_COLUMNS: [&str; 8] = [
    "ID",
    "STATUS",
    "ROLLOUT",
    "TASK DEFINITION",
    "DESIRED",
    "RUNNING",
    "PENDING",
    "FAILED",
];

const TASK_COLUMNS: [&str; 6] = [
    "TASK",
    "STATUS",
    "HEALTH",
    "TASK DEFINITION",
    "STARTED",
    "STOPPED REASON",
];

const TARGET_COLUMNS: [&str; 5] = ["TARGET GROUP", "TARGET", "PORT", "STATE", "REASON"];

fn deployment_rows(h: &ServiceHealth) -> Vec<Vec<String>> {
    h.deployments
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                d.status.clone(),
                or_dash(d.rollout_state.as_deref()),
                d.task_definition.clone(),
                d.desired.to_string(),
                d.running.to_string(),
                d.pending.to_string(),
                d.failed.to_string(),
            ]
        })
        .collect()
}

fn task_rows(h: &ServiceHealth) -> Vec<Vec<String>> {
    h.tasks
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.last_status.clone(),
                t.health.clone(),
                t.task_definition.clone(),
                or_dash(t.started.as_deref()),
                or_dash(t.stopped_reason.as_deref()),
            ]
        })
        .collect()
}

fn target_rows(h: &ServiceHealth) -> Vec<Vec<String>> {
    h.targets
        .iter()
        .map(|t| {
            vec![
                t.target_group.clone(),
                t.target.clone(),
                t.port.map_or("-".into(), |p| p.to_string()),
                t.state.clone(),
                or_dash(t.reason.as_deref()),
            ]
        })
        .collect()
}

/// `rows` under their column names, indented under the section's heading.
fn print_table(ui: &Ui, columns: &[&str], rows: Vec<Vec<String>>) {
    let mut table = vec![columns.iter().map(|c| c.to_string()).collect()];
    table.extend(rows);
    for line in remote::table(&table) {
        ui.out(&format!("  {line}"));
    }
}

/// [`print_table`], or `(none)` without rows.
fn print_table_or_none(ui: &Ui, columns: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        ui.out("  (none)");
    } else {
        print_table(ui, columns, rows);
    }
}
