//! `tug promote --from ENV --to ENV [-n NAME ...]`: deploy to `--to`, with `--to`'s manifest
//! configuration, exactly the images (digests) the workload stacks of `--from` run. Nothing is
//! built. The plan is printed first and confirmed (terminal or `--yes`); workloads that cannot
//! be promoted are refused with a reason; the rest deploy through the engine like `tug deploy`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;

use crate::cli::PromoteArgs;
use crate::commands::Context;
use crate::commands::context::{known_environment, known_workload};
use crate::commands::deploy::{report, reporter, watch_interrupts};
use crate::commands::remote::{self, or_dash};
use crate::deploy::aws::Aws;
use crate::deploy::engine::{self, Confirm, DeployOptions, Overrides, Plan, Session, SummaryRow};
use crate::deploy::images::ImageOptions;
use crate::deploy::inventory::Inventory;
use crate::deploy::promotion;
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::load::{Loaded, ResolvedWorkload};
use crate::manifest::workspace::Workspace;
use crate::render;

/// One workload of the plan.
#[derive(Debug, Clone, Serialize)]
struct Step {
    workload: String,
    /// The main image running in `--from`.
    image: String,
    /// What `--to` runs now, if it is deployed there.
    current: Option<String>,
    /// Every image parameter that is set (main and built sidecars).
    images: BTreeMap<String, String>,
    /// The image is pinned to a digest; otherwise `--to` pulls whatever its tag names then.
    pinned: bool,
}

#[derive(Debug, Clone, Serialize)]
struct Refusal {
    workload: String,
    reason: String,
}

pub(crate) fn run(ctx: &Context, args: &PromoteArgs) -> Result<()> {
    let (Some(from), Some(to)) = (args.from.as_deref(), args.to.as_deref()) else {
        return Err(Error::usage(
            "promote needs both environments: pass --from ENV --to ENV",
        ));
    };
    if from == to {
        return Err(Error::usage(format!(
            "--from and --to are both `{from}`; name two environments"
        )));
    }
    let (ws, loaded) = ctx.load_valid(Some(to.to_string()))?;
    known_environment(&loaded, to)?;
    for name in &args.names {
        known_workload(&loaded, name)?;
    }
    let names = &args.names;
    let result = remote::with_aws(ctx, |aws| async move {
        let inventory = Inventory::read(&aws, &loaded.app).await?;
        let (account, region) = target_account_and_region(&aws, &loaded, &inventory, to).await?;
        let mut steps = Vec::new();
        let mut refused = Vec::new();
        let selected = loaded
            .workloads
            .iter()
            .filter(|w| w.environment.as_deref() == Some(to))
            .filter(|w| names.is_empty() || names.contains(&w.name));
        let route = Route {
            from,
            to,
            account: &account,
            region: &region,
        };
        for wl in selected {
            match plan_step(&aws, &loaded, &ws, &inventory, &route, wl).await {
                Ok(step) => steps.push(step),
                Err(refusal) => refused.push(refusal),
            }
        }
        print_plan(ctx, from, to, &steps, &refused);
        let refusal_code = if refused.is_empty() {
            exit::SUCCESS
        } else {
            exit::FAILURE
        };
        if steps.is_empty() {
            return Err(Error::failure("nothing to promote"));
        }
        if !remote::confirm(
            ctx,
            &format!("Promote {} workload(s) to {to}?", steps.len()),
        )? {
            ctx.ui.info("promotion cancelled; nothing was deployed");
            return Ok(());
        }
        let code = deploy_steps(ctx, &aws, &loaded, &ws, to, &steps, args).await;
        // The summary reports each stack; refused workloads fail a successful deploy.
        crate::commands::status(if code == exit::SUCCESS {
            refusal_code
        } else {
            code
        })
    });
    result?
}

/// Where a promotion goes: the environments, and the account and Region of `--to`.
struct Route<'a> {
    from: &'a str,
    to: &'a str,
    account: &'a str,
    region: &'a str,
}

/// The account and Region of the target environment, which must be deployed and tug's.
async fn target_account_and_region(
    aws: &Aws,
    loaded: &Loaded,
    inventory: &Inventory,
    to: &str,
) -> Result<(String, String)> {
    // A stack of the target environment's name that tug does not own (Copilot's) is
    // refused for what it is rather than reported as "not deployed".
    let target_stack = crate::manifest::names::env_stack(&loaded.app, to);
    if inventory.environment(to).is_none()
        && let Ok(Some(info)) = crate::deploy::stack::describe(aws, &target_stack).await
        && let Some(why) = crate::deploy::ownership::check(
            &info,
            &target_stack,
            &loaded.app,
            "deploy workloads into the environment of",
        )
    {
        return Err(why.about(target_stack));
    }
    let Some(target) = inventory.environment(to) else {
        return Err(Error::failure(format!(
            "environment `{to}` is not deployed (no stack {target_stack})"
        ))
        .help(format!("run `tug env deploy -n {to}` first"))
        .about(target_stack));
    };
    target.account_and_region().ok_or_else(|| {
        Error::failure(format!(
            "cannot tell the account and Region of stack {} from its id `{}`",
            target.stack, target.id
        ))
    })
}

/// What promoting one workload deploys, or why it cannot be promoted.
async fn plan_step(
    aws: &Aws,
    loaded: &Loaded,
    ws: &Workspace,
    inventory: &Inventory,
    route: &Route<'_>,
    wl: &ResolvedWorkload,
) -> std::result::Result<Step, Refusal> {
    let refuse = |reason: String| Refusal {
        workload: wl.name.clone(),
        reason,
    };
    let Route {
        from,
        to,
        account,
        region,
    } = route;
    let Some(source) = inventory.workload(from, &wl.name) else {
        return Err(refuse(format!(
            "not deployed in `{from}`: there is no image to promote"
        )));
    };
    let rendered = render::workload::render(loaded, ws, wl)
        .map_err(|e| refuse(format!("cannot render it for `{to}`: {}", render_error(e))))?;
    // Only the images `--to`'s stack takes as parameters; the others come from `--to`'s
    // manifest.
    let images: BTreeMap<String, String> = source
        .images()
        .into_iter()
        .filter(|(k, _)| rendered.parameters.contains_key(k))
        .collect();
    let Some(image) = images.get("ContainerImage").cloned() else {
        return Err(refuse(format!(
            "stack {} records no ContainerImage parameter",
            source.stack
        )));
    };
    for value in images.values() {
        promotion::check_pull(aws, value, account, region)
            .await
            .map_err(|e| refuse(e.to_string()))?;
    }
    Ok(Step {
        workload: wl.name.clone(),
        pinned: image.contains("@sha256:"),
        image,
        current: inventory
            .workload(to, &wl.name)
            .and_then(|s| s.image())
            .map(str::to_string),
        images,
    })
}

/// Deploys the planned workloads to `to` with the promoted images, reports the summary, and
/// returns the worst exit code.
async fn deploy_steps(
    ctx: &Context,
    aws: &Aws,
    loaded: &Loaded,
    ws: &Workspace,
    to: &str,
    steps: &[Step],
    args: &PromoteArgs,
) -> u8 {
    let opts = DeployOptions {
        timeout: std::time::Duration::from_secs(3600),
        detach: false,
        diff: false,
        yes: true,
        allow_replacements: args.allow_replacements,
        interactive: false,
        images: ImageOptions {
            no_build: true,
            tag: None,
        },
        concurrency: 4,
    };
    let plan = Plan {
        environment: false,
        workloads: Some(steps.iter().map(|s| s.workload.clone()).collect()),
    };
    let confirm: Confirm = std::sync::Arc::new(|_| None);
    let (tx, rx) = watch::channel(0u32);
    tokio::spawn(watch_interrupts(tx, ctx.ui.clone()));
    let overrides: Overrides = steps
        .iter()
        .map(|s| (s.workload.clone(), s.images.clone()))
        .collect();
    let session = Session {
        aws: aws.clone(),
        opts,
        confirm,
        reporter: reporter(ctx),
        interrupts: rx,
    };
    let rows: Vec<SummaryRow> =
        engine::deploy_with_overrides(&session, loaded, ws, to, &plan, &overrides).await;
    let code = engine::worst_exit_code(rows.iter().map(|r| &r.result));
    report(ctx, &rows, code);
    code
}

fn print_plan(ctx: &Context, from: &str, to: &str, steps: &[Step], refused: &[Refusal]) {
    if ctx.ui.json {
        // One line, like the deploy events that follow it.
        ctx.ui.out(
            &json!({
                "event": "plan",
                "time": crate::deploy::events::timestamp(),
                "from": from,
                "to": to,
                "workloads": steps,
                "refused": refused,
            })
            .to_string(),
        );
    } else {
        let mut rows = vec![vec![
            "WORKLOAD".to_string(),
            format!("IMAGE (FROM {from})"),
            format!("NOW IN {to}"),
        ]];
        for s in steps {
            let now = match s.current.as_deref() {
                Some(c) if c == s.image => "(same)".to_string(),
                other => or_dash(other),
            };
            rows.push(vec![s.workload.clone(), s.image.clone(), now]);
        }
        ctx.ui.notice(&format!("Promotion plan, {from} → {to}:"));
        for line in remote::table(&rows) {
            ctx.ui.notice(&format!("  {line}"));
        }
        for s in steps.iter().filter(|s| !s.pinned) {
            ctx.ui.notice(&format!(
                "  note: {} runs a tag, not a digest: {to} gets what the tag names when its tasks start",
                s.workload
            ));
        }
    }
    for r in refused {
        ctx.ui
            .error(&format!("{} is not promoted: {}", r.workload, r.reason));
    }
}

fn render_error(e: render::RenderError) -> String {
    match e {
        render::RenderError::Input(d) => d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        render::RenderError::Internal(m) => format!("internal error (please report it): {m}"),
    }
}
