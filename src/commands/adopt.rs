//! `tug adopt`: take over, in place, the stacks AWS Copilot deployed for the workspace's
//! application. Shows the plan of each environment; with `--plan` stops there, otherwise asks
//! (or takes `--yes`) and carries it out (see `deploy::adopt`). An application Copilot made with
//! a domain is planned with that domain, which is written into `.workspace` when it has none.

use serde_json::json;
use tokio::sync::watch;

use crate::cli::AdoptArgs;
use crate::commands::Context;
use crate::commands::deploy::{reporter, timeout, watch_interrupts};
use crate::deploy::adopt::discover::{self, Discovery};
use crate::deploy::adopt::phases::{self, Outcome, StackResult};
use crate::deploy::adopt::plan::{self, Plan, State};
use crate::deploy::adopt::transform::Fate;
use crate::deploy::aws::Aws;
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::domain::AppDomain;
use crate::manifest::load::Loaded;
use crate::manifest::workspace::Workspace;
use crate::ui::Style;

pub(crate) fn run(ctx: &Context, args: &AdoptArgs) -> Result<()> {
    let limit = timeout(&args.timeout)?;
    let (ws, loaded) = ctx.load_valid(args.env.clone())?;
    if let Some(env) = &args.env
        && !loaded.environments.iter().any(|e| &e.name == env)
    {
        return Err(
            Error::usage(format!("environment `{env}` has no manifest")).help(format!(
                "write copilot/environments/{env}/manifest.yml (Copilot's own manifest of it works as it is)"
            )),
        );
    }
    let settings = crate::commands::remote::settings(ctx);
    let (aws, found) = ctx.block_on(async {
        let aws = Aws::connect(&settings).await?;
        let found = discover::discover(&aws, &loaded.app).await?;
        Ok::<_, Error>((aws, found))
    })??;
    // Rendered with Copilot's domain, so that the environment keeps its hosted zone.
    let (mut ws, mut loaded) = (ws, loaded);
    let write_domain = domain_to_write(&ws, &found)?;
    if let Some(d) = &write_domain {
        ws.domain = Some(d.clone());
        loaded.domain = Some(d.clone());
    }
    let plans = ctx.block_on(plan_all(&aws, &loaded, &ws, &found, args.env.as_deref()))??;
    let stopped = plans
        .iter()
        .flat_map(|p| &p.stacks)
        .any(|s| !s.stops.is_empty());
    show_plans(ctx, args, &found, &plans, write_domain.as_ref(), stopped);
    if args.plan {
        if stopped {
            return Err(Error::failure(
                "adoption would stop: a stack above would replace or remove a resource that holds state (marked STOP)",
            ));
        }
        ctx.ui
            .info("this was a plan; nothing was changed. Run `tug adopt` without --plan to adopt.");
        return Ok(());
    }
    if !plans
        .iter()
        .flat_map(|p| &p.stacks)
        .any(|s| s.state != State::Adopted)
    {
        // The stacks are tug's already: the workspace still needs the domain they render.
        record_domain(ctx, &ws, write_domain.as_ref())?;
        ctx.ui.info("every stack is adopted already; nothing to do");
        return Ok(());
    }
    if !confirmed(ctx)? {
        ctx.ui.info("nothing was changed");
        return Ok(());
    }
    record_domain(ctx, &ws, write_domain.as_ref())?;
    let reporter = reporter(ctx);
    let results: Vec<StackResult> = ctx.block_on(async {
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(watch_interrupts(tx, ctx.ui.clone()));
        let mut all = Vec::new();
        for p in &plans {
            all.extend(phases::run(&aws, p, limit, reporter.as_ref(), rx.clone()).await);
        }
        all
    })?;
    crate::commands::status(report(ctx, &results))
}

/// The plans of environment `env`, or of every environment Copilot deployed that the
/// workspace has a manifest for.
async fn plan_all(
    aws: &Aws,
    loaded: &Loaded,
    ws: &Workspace,
    found: &Discovery,
    env: Option<&str>,
) -> Result<Vec<Plan>> {
    let envs: Vec<String> = match env {
        Some(e) => vec![e.to_string()],
        None => loaded
            .environments
            .iter()
            .map(|e| e.name.clone())
            .filter(|e| found.environments.contains(e))
            .collect(),
    };
    if envs.is_empty() {
        return Err(Error::failure(format!(
            "Copilot recorded no environment of application {} that this workspace has a manifest for",
            loaded.app
        ))
        .help("pass -e ENV"));
    }
    let names: Vec<String> = found.workloads.iter().map(|(n, _)| n.clone()).collect();
    let mut plans = Vec::new();
    for env in envs {
        plans.push(plan::plan(aws, loaded, ws, &env, &names).await?);
    }
    Ok(plans)
}

/// The plans, as text or (with `--plan`) one JSON document.
fn show_plans(
    ctx: &Context,
    args: &AdoptArgs,
    found: &Discovery,
    plans: &[Plan],
    write_domain: Option<&AppDomain>,
    stopped: bool,
) {
    if ctx.ui.json {
        if args.plan {
            ctx.ui.out(
                &json!({
                    "event": "plan",
                    "copilot": found,
                    "environments": plans,
                    "stops": stopped,
                    "writes_workspace_domain": write_domain.is_some(),
                })
                .to_string(),
            );
        }
        return;
    }
    show_discovery(ctx, found);
    if let Some(d) = write_domain {
        ctx.ui.out(&format!(
            "  .workspace: {} `domain:` (name {}, hosted_zone {}, app_hosted_zone {}), Copilot's domain, so that tug renders the environments' hosted zones",
            if args.plan { "would get" } else { "gets" },
            d.name,
            d.hosted_zone,
            d.app_hosted_zone
        ));
    }
    for p in plans {
        show_plan(ctx, p);
    }
}

/// Whether to go on: `--yes`, or the answer at a terminal.
fn confirmed(ctx: &Context) -> Result<bool> {
    if ctx.global.yes {
        return Ok(true);
    }
    if !ctx.ui.interactive {
        return Err(Error::usage(
            "adopting changes Copilot's stacks; run `tug adopt --plan` to review, then `tug adopt --yes`",
        ));
    }
    Ok(matches!(
        ctx.ui.confirm("Adopt these stacks?", false),
        Ok(true)
    ))
}

/// Writes Copilot's domain into `.workspace`, when adoption found one to write.
fn record_domain(ctx: &Context, ws: &Workspace, domain: Option<&AppDomain>) -> Result<()> {
    if let Some(d) = domain {
        crate::commands::app_init::record_domain(&ws.dir, d)?;
        ctx.ui
            .info(&format!("wrote the domain {} into .workspace", d.name));
    }
    Ok(())
}

/// The domain adoption writes into `.workspace`: Copilot's, when the workspace has none. A
/// workspace domain other than Copilot's is refused: the environments' hosted zones,
/// certificates and service names hang on it. A workspace domain where Copilot had none is
/// kept (tug adds the environments' zones).
fn domain_to_write(ws: &Workspace, found: &Discovery) -> Result<Option<AppDomain>> {
    match (&ws.domain, &found.domain) {
        (None, Some(copilot)) => Ok(Some(copilot.clone())),
        (Some(have), Some(copilot)) if have != copilot => Err(Error::usage(format!(
            ".workspace has the domain {} (hosted_zone {}, app_hosted_zone {}), but Copilot's application {} has the domain {} (hosted_zone {}, app_hosted_zone {})",
            have.name,
            have.hosted_zone,
            have.app_hosted_zone,
            found.app,
            copilot.name,
            copilot.hosted_zone,
            copilot.app_hosted_zone
        ))
        .help("remove `domain:` from .workspace (adoption writes Copilot's), or correct it to Copilot's values")),
        _ => Ok(None),
    }
}

fn show_discovery(ctx: &Context, d: &Discovery) {
    let ui = &ctx.ui;
    ui.out(&format!(
        "Copilot application {}{}",
        d.app,
        if d.registered {
            format!(
                " ({})",
                crate::deploy::adopt::copilot::application_parameter(&d.app)
            )
        } else {
            " (not in Parameter Store; found by its stacks)".into()
        }
    ));
    ui.out(&format!(
        "  environments: {}",
        list_or_none(d.environments.iter().cloned())
    ));
    ui.out(&format!(
        "  workloads: {}",
        list_or_none(d.workloads.iter().map(|(n, t)| format!("{n} ({t})")))
    ));
    for s in &d.left_alone {
        ui.out(&format!("  left alone: {s}"));
    }
}

fn list_or_none(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn show_plan(ctx: &Context, p: &Plan) {
    let ui = &ctx.ui;
    ui.out("");
    ui.out(&format!("Environment {}:", p.environment));
    for name in &p.not_deployed {
        ui.out(&format!(
            "  {name}: in the workspace, never deployed by Copilot here; deploy it with `tug deploy` after adopting"
        ));
    }
    for stack in &p.not_in_workspace {
        ui.out(&format!(
            "  {stack}: deployed by Copilot, no manifest in this workspace; left alone"
        ));
    }
    for s in &p.stacks {
        ui.out("");
        let what = match &s.workload {
            Some(w) => format!("workload {w}"),
            None => "environment".into(),
        };
        let state = match s.state {
            State::Adopted => "adopted already; skipped",
            State::Retained => {
                "half adopted (custom resources retained); continues with the switch"
            }
            State::Copilot => "Copilot's; to adopt",
        };
        ui.out(&format!("{} ({what}): {state}", s.stack));
        let width = s
            .resources
            .iter()
            .map(|r| r.fate.label().len())
            .max()
            .unwrap_or(0);
        for r in &s.resources {
            let label = format!("{:<width$}", r.fate.label());
            let label = match r.fate {
                Fate::Replaced => ui.paint_out(Style::Error, &label),
                _ => label,
            };
            let note = if r.note.is_empty() {
                String::new()
            } else {
                format!(": {}", r.note)
            };
            ui.out(&format!(
                "  {label}  {} ({}){note}",
                r.logical_id, r.resource_type
            ));
        }
        if !s.pinned.is_empty() && s.state == State::Copilot {
            ui.out(&format!(
                "  pinned  condition{} {}: the feature parameters' values are written in first, so that no Copilot workload can switch them off",
                if s.pinned.len() == 1 { "" } else { "s" },
                s.pinned.join(", ")
            ));
        }
        for h in &s.stops {
            ui.out(&format!(
                "  {}  {}",
                ui.paint_out(Style::Error, "STOP"),
                h.line()
            ));
        }
    }
}

fn report(ctx: &Context, results: &[StackResult]) -> u8 {
    let code = results
        .iter()
        .map(|r| match r.outcome {
            Outcome::Adopted | Outcome::AlreadyAdopted => exit::SUCCESS,
            Outcome::Interrupted(_) => exit::INTERRUPTED,
            _ => exit::FAILURE,
        })
        .max_by_key(|c| match *c {
            exit::INTERRUPTED => 2,
            exit::SUCCESS => 0,
            _ => 1,
        })
        .unwrap_or(exit::SUCCESS);
    let adopted: Vec<&str> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Adopted | Outcome::AlreadyAdopted))
        .map(|r| r.stack.as_str())
        .collect();
    // Said after every adoption, in text and in JSON: Copilot's next deploy of one of these
    // stacks would put its own template (and its custom resources) back.
    let hand_over = (!adopted.is_empty()).then(|| format!(
        "tug now owns {}: deploy, status, logs, rollback and delete them with tug. Do not use Copilot on them any more (a `copilot deploy` would put its own template back).",
        adopted.join(", ")
    ));
    if ctx.ui.json {
        let mut result = json!({
            "event": "result",
            "exit_code": code,
            "stacks": results,
        });
        if let Some(text) = &hand_over {
            result["copilot"] = json!(text);
        }
        ctx.ui.out(&result.to_string());
        return code;
    }
    ctx.ui.out("");
    for r in results {
        ctx.ui
            .out(&format!("{}  {}", r.stack, phases::label(&r.outcome)));
    }
    for r in results {
        match (phases::error(&r.outcome), phases::detail(&r.outcome)) {
            (Some(e), _) => ctx.ui.report_error_in(&r.stack, e),
            (None, Some(d)) => ctx.ui.error(&format!("{}: {d}", r.stack)),
            (None, None) => {}
        }
    }
    let left: Vec<&(String, String)> = results.iter().flat_map(|r| &r.left_behind).collect();
    if !left.is_empty() {
        ctx.ui.out("");
        ctx.ui.out(
            "Copilot's custom resources are gone from the stacks; what ran them was retained and is no longer used. Delete it when you are ready:",
        );
        for (what, id) in left {
            let command = match what.as_str() {
                "Lambda function" => format!("aws lambda delete-function --function-name {id}"),
                "log group" => format!("aws logs delete-log-group --log-group-name {id}"),
                _ => format!(
                    "aws iam list-attached-role-policies --role-name {id} (detach each), aws iam list-role-policies --role-name {id} (delete each), then aws iam delete-role --role-name {id}"
                ),
            };
            ctx.ui.out(&format!("  {what} {id}: {command}"));
        }
    }
    if let Some(text) = &hand_over {
        ctx.ui.out("");
        ctx.ui.out(text);
    }
    let summary = match code {
        exit::SUCCESS => ctx.ui.paint_err(Style::Success, "adoption finished"),
        exit::INTERRUPTED => ctx.ui.paint_err(
            Style::Error,
            "adoption interrupted; every stack is consistent: run `tug adopt` again to go on",
        ),
        _ => ctx.ui.paint_err(Style::Error, "adoption did not finish"),
    };
    ctx.ui.info(&summary);
    code
}
