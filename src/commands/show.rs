//! `tug env show -n ENV` and `tug svc show -n NAME [-e ENV]`: one environment or one service,
//! as configured in the workspace and as deployed (stack status, image, when, tug version,
//! stack outputs such as the load balancer's DNS name).

use serde_json::json;

use crate::cli::{EnvAndName, EnvName};
use crate::commands::Context;
use crate::commands::app_show::{count_of, image_of};
use crate::commands::ls::{environment_names, kind_of, read};
use crate::commands::remote::{self, or_dash};
use crate::deploy::inventory::{DeployedStack, Inventory};
use crate::error::{Error, Result};
use crate::manifest::load::Loaded;
use crate::manifest::model::WorkloadKind;
use crate::ui::Style;

fn outputs_json(s: &DeployedStack) -> serde_json::Value {
    json!(s.outputs)
}

fn print_outputs(ctx: &Context, s: &DeployedStack) {
    for (k, v) in &s.outputs {
        ctx.ui.out(&format!("    {k}: {v}"));
    }
}

pub(crate) fn environment(ctx: &Context, args: &EnvName) -> Result<()> {
    let name = remote::required(args.name.as_deref(), "environment", "-n ENV")?;
    let (loaded, inventory) = read(ctx)?;
    let manifest = loaded.environments.iter().any(|e| e.name == name);
    let stack = inventory.environment(name);
    if !manifest
        && stack.is_none()
        && !environment_names(&loaded, &inventory)
            .iter()
            .any(|e| e == name)
    {
        return Err(Error::usage(format!(
            "environment `{name}` has no manifest and is not deployed"
        ))
        .help(format!(
            "environments: {}",
            environment_names(&loaded, &inventory).join(", ")
        )));
    }
    let workloads: Vec<serde_json::Value> = inventory
        .workloads_in(name)
        .iter()
        .map(|s| {
            let mut v = s.to_json();
            if let Some(w) = s.workload.as_deref() {
                v["type"] = kind_of(&loaded, &inventory, w).into();
            }
            v
        })
        .collect();
    if ctx.ui.json {
        ctx.ui.json(&json!({
            "application": loaded.app,
            "name": name,
            "manifest": manifest,
            "deployed": stack.is_some(),
            "stack": stack.map(|s| s.to_json()),
            "outputs": stack.map(outputs_json),
            "workloads": workloads,
        }));
        return Ok(());
    }
    let ui = &ctx.ui;
    ui.out(&format!(
        "{} {name}",
        ui.paint_out(Style::Emphasis, "Environment:")
    ));
    ui.out(&format!(
        "Manifest: {}",
        if manifest { "yes" } else { "no" }
    ));
    match stack {
        None => ui.out("Deployed: no"),
        Some(s) => {
            ui.out(&format!(
                "Stack: {} ({}), updated {}, by tug {}",
                s.stack,
                s.status,
                or_dash(s.updated.as_deref()),
                or_dash(s.tug_version.as_deref())
            ));
            if !s.outputs.is_empty() {
                ui.out("  Outputs:");
                print_outputs(ctx, s);
            }
        }
    }
    ui.out("");
    ui.out(&ui.paint_out(Style::Emphasis, "Workloads deployed"));
    if workloads.is_empty() {
        ui.out("  (none)");
        return Ok(());
    }
    let mut rows = vec![
        ["NAME", "TYPE", "STATUS", "IMAGE", "UPDATED", "TUG"]
            .map(String::from)
            .to_vec(),
    ];
    for w in &workloads {
        rows.push(vec![
            or_dash(w["workload"].as_str()),
            or_dash(w["type"].as_str()),
            or_dash(w["status"].as_str()),
            or_dash(w["image"].as_str()),
            or_dash(w["updated"].as_str()),
            or_dash(w["tug_version"].as_str()),
        ]);
    }
    for line in remote::table(&rows) {
        ui.out(&format!("  {line}"));
    }
    Ok(())
}

pub(crate) fn service(ctx: &Context, args: &EnvAndName) -> Result<()> {
    let name = remote::required(args.name.as_deref(), "service", "-n NAME")?;
    let (loaded, inventory) = read(ctx)?;
    let kind = kind_of(&loaded, &inventory, name);
    if kind.is_none() {
        return Err(Error::usage(format!(
            "no service named `{name}` in the workspace or deployed"
        ))
        .help("`tug svc ls` lists them"));
    }
    let envs = service_environments(&loaded, &inventory, name, args.env.as_deref());
    let entries: Vec<serde_json::Value> = envs
        .iter()
        .map(|env| service_entry(&loaded, &inventory, env, name))
        .collect();
    if ctx.ui.json {
        ctx.ui.json(&json!({
            "application": loaded.app,
            "name": name,
            "type": kind,
            "environments": entries,
        }));
        return Ok(());
    }
    let ui = &ctx.ui;
    // There is no `job show`: a job shown here is labelled as one.
    let label = if kind.as_deref() == Some(WorkloadKind::ScheduledJob.as_str()) {
        "Job:"
    } else {
        "Service:"
    };
    ui.out(&format!(
        "{} {name} ({})",
        ui.paint_out(Style::Emphasis, label),
        kind.unwrap_or_default()
    ));
    for (env, e) in envs.iter().zip(&entries) {
        print_service_environment(ctx, env, e, inventory.workload(env, name));
    }
    Ok(())
}

/// The environments the workspace configures service `name` for or that it is deployed to,
/// sorted; only `only` when given.
fn service_environments(
    loaded: &Loaded,
    inventory: &Inventory,
    name: &str,
    only: Option<&str>,
) -> Vec<String> {
    let mut envs: Vec<String> = loaded
        .workloads
        .iter()
        .filter(|w| w.name == name)
        .filter_map(|w| w.environment.clone())
        .collect();
    envs.extend(
        inventory
            .environments_of(name)
            .iter()
            .map(|s| s.environment.clone()),
    );
    envs.sort();
    envs.dedup();
    if let Some(only) = only {
        envs.retain(|e| e == only);
    }
    envs
}

/// Service `name` in `env`: as configured and as deployed, each when it is.
fn service_entry(
    loaded: &Loaded,
    inventory: &Inventory,
    env: &str,
    name: &str,
) -> serde_json::Value {
    let local = loaded
        .workloads
        .iter()
        .find(|w| w.name == name && w.environment.as_deref() == Some(env));
    let deployed = inventory.workload(env, name);
    json!({
        "environment": env,
        "configured": local.map(|w| json!({
            "image": image_of(w),
            "cpu": w.manifest.task_cpu(),
            "memory": w.manifest.task_memory(),
            "count": count_of(w),
        })),
        "deployed": deployed.map(|s| {
            let mut v = s.to_json();
            v["outputs"] = outputs_json(s);
            v
        }),
    })
}

/// The text of one environment's [`service_entry`].
fn print_service_environment(
    ctx: &Context,
    env: &str,
    entry: &serde_json::Value,
    deployed: Option<&DeployedStack>,
) {
    let ui = &ctx.ui;
    ui.out("");
    ui.out(&ui.paint_out(Style::Emphasis, &format!("Environment {env}")));
    match entry["configured"].as_object() {
        Some(c) => ui.out(&format!(
            "  configured: image {}, {} CPU units, {} MiB, count {}",
            c["image"].as_str().unwrap_or("-"),
            c["cpu"],
            c["memory"],
            c["count"].as_str().unwrap_or("-"),
        )),
        None => ui.out("  configured: no (not in the workspace for this environment)"),
    }
    match deployed {
        None => ui.out("  deployed: no"),
        Some(s) => {
            ui.out(&format!(
                "  deployed: {} ({}), updated {}, by tug {}",
                s.stack,
                s.status,
                or_dash(s.updated.as_deref()),
                or_dash(s.tug_version.as_deref())
            ));
            ui.out(&format!("  image: {}", or_dash(s.image())));
            if !s.outputs.is_empty() {
                ui.out("  outputs:");
                print_outputs(ctx, s);
            }
        }
    }
}
