//! `tug app show`: what the workspace describes: the application, its environments and its
//! workloads with their image, size and count per environment; then what is deployed where
//! (every stack of the application: status, image, when, tug version), unless `--offline`.

use serde_json::json;

use crate::cli::AppShowArgs;
use crate::commands::Context;
use crate::commands::remote::{self, or_dash};
use crate::deploy::inventory::Inventory;
use crate::error::Result;
use crate::manifest::load::{LoadOptions, Loaded, ResolvedWorkload};
use crate::manifest::model::EnvironmentManifest;
use crate::manifest::model::environment::defaults as env_defaults;
use crate::manifest::model::service::Count;
use crate::manifest::union::ScalarOr;
use crate::ui::Style;
use crate::validate::{has_errors, validate};

pub(crate) fn run(ctx: &Context, args: &AppShowArgs) -> Result<()> {
    let ws = ctx.workspace()?;
    let opts = LoadOptions {
        lenient: true,
        environment: None,
        variables: ctx.variables(),
    };
    let loaded = ctx.load(&ws, &opts)?;
    let invalid = has_errors(&validate(&loaded));
    let deployed = if args.offline {
        None
    } else {
        let app = loaded.app.clone();
        let offline = "`tug app show --offline` shows what the workspace describes without AWS";
        let read = remote::with_aws(ctx, |aws| async move { Inventory::read(&aws, &app).await })
            .map_err(|e| e.help(offline))?;
        Some(read.map_err(|e| e.help(offline))?)
    };
    if ctx.ui.json {
        let mut doc = to_json(&loaded, invalid);
        if let Some(inventory) = &deployed {
            doc["deployed"] = inventory.stacks.iter().map(|s| s.to_json()).collect();
        }
        ctx.ui.json(&doc);
    } else {
        print_text(ctx, &loaded);
        if let Some(inventory) = &deployed {
            print_deployed(ctx, inventory);
        }
        if invalid {
            ctx.ui.info(&ctx.ui.paint_err(
                Style::Warning,
                "\nSome manifests have errors: run `tug validate` to see them.",
            ));
        }
    }
    Ok(())
}

pub(crate) fn image_of(wl: &ResolvedWorkload) -> String {
    let Some(image) = &wl.manifest.image else {
        return "-".into();
    };
    if let Some(loc) = &image.location {
        return loc.value.clone();
    }
    match image.build.as_ref().map(|b| &b.value) {
        Some(ScalarOr::Scalar(path)) => format!("build {path}"),
        Some(ScalarOr::Config(c)) => {
            let file = c
                .dockerfile
                .as_ref()
                .map_or("Dockerfile", |d| d.value.as_str());
            format!("build {file}")
        }
        None => "-".into(),
    }
}

pub(crate) fn count_of(wl: &ResolvedWorkload) -> String {
    // A daemon runs one task on every container instance; it has no count.
    if wl
        .manifest
        .scheduling
        .as_ref()
        .is_some_and(|s| s.value.eq_ignore_ascii_case("daemon"))
    {
        return "one per instance (daemon)".into();
    }
    match wl.manifest.count.as_ref().map(|c| &c.value) {
        None => "1".into(),
        Some(Count::Scalar(n)) => n.to_string(),
        Some(Count::Config(c)) => {
            if let Some(spot) = &c.spot {
                return format!("{} (spot)", spot.value);
            }
            match c.range.as_ref().map(|r| r.value.bounds()) {
                Some((Some(min), Some(max))) => format!("{min}-{max} (autoscaling)"),
                _ => "1".into(),
            }
        }
    }
}

fn vpc_of(env: &EnvironmentManifest) -> String {
    let vpc = env.network.as_ref().and_then(|n| n.vpc.as_ref());
    match vpc {
        Some(v) if v.id.is_some() => format!(
            "imported {}",
            v.id.as_ref().map_or("", |i| i.value.as_str())
        ),
        Some(v) => format!(
            "managed {}",
            v.cidr
                .as_ref()
                .map_or(env_defaults::VPC_CIDR, |c| c.value.as_str())
        ),
        None => format!("managed {}", env_defaults::VPC_CIDR),
    }
}

fn print_text(ctx: &Context, loaded: &Loaded) {
    let ui = &ctx.ui;
    ui.out(&format!(
        "{} {}",
        ui.paint_out(Style::Emphasis, "Application:"),
        loaded.app
    ));
    ui.out("");
    ui.out(&ui.paint_out(Style::Emphasis, "Environments"));
    if loaded.environments.is_empty() {
        ui.out("  (none with a manifest)");
    }
    for env in &loaded.environments {
        ui.out(&format!("  {:<16} {}", env.name, vpc_of(&env.manifest)));
    }
    ui.out("");
    ui.out(&ui.paint_out(Style::Emphasis, "Workloads"));
    let mut rows =
        vec![["NAME", "TYPE", "ENVIRONMENT", "IMAGE", "CPU/MEM", "COUNT"].map(String::from)];
    for wl in &loaded.workloads {
        rows.push([
            wl.name.clone(),
            wl.kind.to_string(),
            wl.environment.clone().unwrap_or_else(|| "-".into()),
            image_of(wl),
            format!("{}/{}", wl.manifest.task_cpu(), wl.manifest.task_memory()),
            count_of(wl),
        ]);
    }
    for (name, kind) in &loaded.unsupported {
        rows.push([
            name.clone(),
            format!("{kind} (unsupported)"),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        ui.out(format!("  {}", line.join("  ")).trim_end());
    }
}

fn to_json(loaded: &Loaded, invalid: bool) -> serde_json::Value {
    json!({
        "application": loaded.app,
        "valid": !invalid,
        "environments": loaded.environments.iter().map(|e| json!({
            "name": e.name,
            "vpc": vpc_of(&e.manifest),
        })).collect::<Vec<_>>(),
        "workloads": loaded.workloads.iter().map(|w| json!({
            "name": w.name,
            "type": w.kind.as_str(),
            "environment": w.environment,
            "image": image_of(w),
            "cpu": w.manifest.task_cpu(),
            "memory": w.manifest.task_memory(),
            "count": count_of(w),
        })).collect::<Vec<_>>(),
        "unsupported": loaded.unsupported.iter().map(|(n, k)| json!({"name": n, "type": k.as_str()})).collect::<Vec<_>>(),
    })
}

fn print_deployed(ctx: &Context, inventory: &Inventory) {
    let ui = &ctx.ui;
    ui.out("");
    ui.out(&ui.paint_out(Style::Emphasis, "Deployed"));
    if inventory.stacks.is_empty() {
        ui.out("  (nothing)");
        return;
    }
    let mut rows = vec![
        [
            "ENVIRONMENT",
            "WORKLOAD",
            "STACK",
            "STATUS",
            "IMAGE",
            "UPDATED",
            "TUG",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for s in &inventory.stacks {
        rows.push(vec![
            s.environment.clone(),
            or_dash(s.workload.as_deref()),
            s.stack.clone(),
            s.status.clone(),
            or_dash(s.image()),
            or_dash(s.updated.as_deref()),
            or_dash(s.tug_version.as_deref()),
        ]);
    }
    for line in remote::table(&rows) {
        ui.out(&format!("  {line}"));
    }
}
