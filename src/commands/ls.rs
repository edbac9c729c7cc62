//! `tug env ls`, `tug svc ls`, `tug job ls`: what the workspace describes next to what is
//! deployed (read from the stacks): status, image, when, and which tug version deployed it.
//! Something deployed that the workspace no longer describes is listed too.

use std::collections::BTreeSet;

use serde_json::json;

use crate::commands::Context;
use crate::commands::remote::{self, or_dash};
use crate::deploy::inventory::Inventory;
use crate::error::Result;
use crate::manifest::load::Loaded;
use crate::manifest::model::WorkloadKind;

/// Reads the workspace and what is deployed of its application.
pub(crate) fn read(ctx: &Context) -> Result<(Loaded, Inventory)> {
    let (_, loaded) = remote::workspace(ctx)?;
    let app = loaded.app.clone();
    let inventory = remote::with_aws(ctx, |aws| async move { Inventory::read(&aws, &app).await })??;
    Ok((loaded, inventory))
}

/// Every environment name, local or deployed, sorted.
pub(crate) fn environment_names(loaded: &Loaded, inventory: &Inventory) -> Vec<String> {
    let mut names: BTreeSet<String> = loaded.environment_names.iter().cloned().collect();
    names.extend(
        inventory
            .environments()
            .iter()
            .map(|s| s.environment.clone()),
    );
    names.into_iter().collect()
}

pub(crate) fn environments(ctx: &Context) -> Result<()> {
    let (loaded, inventory) = read(ctx)?;
    let entries: Vec<serde_json::Value> = environment_names(&loaded, &inventory)
        .iter()
        .map(|name| {
            let stack = inventory.environment(name);
            json!({
                "name": name,
                "manifest": loaded.environments.iter().any(|e| &e.name == name),
                "deployed": stack.is_some(),
                "stack": stack.map(|s| s.stack.clone()),
                "status": stack.map(|s| s.status.clone()),
                "updated": stack.and_then(|s| s.updated.clone()),
                "tug_version": stack.and_then(|s| s.tug_version.clone()),
                "workloads": inventory.workloads_in(name).len(),
            })
        })
        .collect();
    if ctx.ui.json {
        ctx.ui
            .json(&json!({ "application": loaded.app, "environments": entries }));
        return Ok(());
    }
    let mut rows = vec![
        ["NAME", "MANIFEST", "STATUS", "UPDATED", "TUG", "WORKLOADS"]
            .map(String::from)
            .to_vec(),
    ];
    for e in &entries {
        rows.push(vec![
            e["name"].as_str().unwrap_or_default().to_string(),
            if e["manifest"] == true { "yes" } else { "no" }.to_string(),
            e["status"].as_str().unwrap_or("not deployed").to_string(),
            or_dash(e["updated"].as_str()),
            or_dash(e["tug_version"].as_str()),
            e["workloads"].to_string(),
        ]);
    }
    for line in remote::table(&rows) {
        ctx.ui.out(&line);
    }
    Ok(())
}

/// The type of a workload: from the workspace, else from its stacks.
pub(crate) fn kind_of(loaded: &Loaded, inventory: &Inventory, name: &str) -> Option<String> {
    loaded
        .workloads
        .iter()
        .find(|w| w.name == name)
        .map(|w| w.kind.as_str().to_string())
        .or_else(|| {
            inventory
                .environments_of(name)
                .iter()
                .find_map(|s| s.kind.clone())
        })
}

/// `svc ls` (`jobs` false) or `job ls` (`jobs` true).
pub(crate) fn workloads(ctx: &Context, jobs: bool) -> Result<()> {
    let (loaded, inventory) = read(ctx)?;
    let mut names: BTreeSet<String> = loaded.workloads.iter().map(|w| w.name.clone()).collect();
    names.extend(inventory.stacks.iter().filter_map(|s| s.workload.clone()));
    let job = WorkloadKind::ScheduledJob.as_str();
    let mut entries = Vec::new();
    for name in &names {
        let kind = kind_of(&loaded, &inventory, name);
        if (kind.as_deref() == Some(job)) != jobs {
            continue;
        }
        let deployments: Vec<serde_json::Value> = inventory
            .environments_of(name)
            .iter()
            .map(|s| s.to_json())
            .collect();
        entries.push(json!({
            "name": name,
            "type": kind,
            "local": loaded.workloads.iter().any(|w| &w.name == name),
            "deployments": deployments,
        }));
    }
    let key = if jobs { "jobs" } else { "services" };
    if ctx.ui.json {
        ctx.ui
            .json(&json!({ "application": loaded.app, key: entries }));
        return Ok(());
    }
    let mut rows = vec![
        [
            "NAME",
            "TYPE",
            "ENVIRONMENT",
            "STATUS",
            "IMAGE",
            "UPDATED",
            "TUG",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for e in &entries {
        let name = e["name"].as_str().unwrap_or_default().to_string();
        let kind = or_dash(e["type"].as_str());
        let deployments = e["deployments"].as_array().cloned().unwrap_or_default();
        if deployments.is_empty() {
            rows.push(vec![
                name,
                kind,
                "-".into(),
                "not deployed".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
            continue;
        }
        for d in deployments {
            rows.push(vec![
                name.clone(),
                kind.clone(),
                or_dash(d["environment"].as_str()),
                or_dash(d["status"].as_str()),
                or_dash(d["image"].as_str()),
                or_dash(d["updated"].as_str()),
                or_dash(d["tug_version"].as_str()),
            ]);
        }
    }
    if entries.is_empty() {
        ctx.ui
            .info(&format!("no {key} in application {}", loaded.app));
        return Ok(());
    }
    for line in remote::table(&rows) {
        ctx.ui.out(&line);
    }
    Ok(())
}
