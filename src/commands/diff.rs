//! `tug diff -e ENV [-n NAME ...]`: what a deploy would change, against what is deployed. For
//! each stack that exists, a change set is created, read and deleted (never executed): the
//! resources that would be added, modified (and whether replaced) or removed, and a line diff of
//! the template. Stacks that do not exist yet are listed as new. Values only a deploy knows (an
//! image to build) keep the deployed stack's value; image locations in ECR are resolved to the
//! digest a deploy would use.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use crate::cli::EnvAndNames;
use crate::commands::Context;
use crate::deploy::aws::Aws;
use crate::deploy::changeset::{self, Prepared, ResourceChange};
use crate::deploy::replacement::{self, Harm, Hazard};
use crate::deploy::{diff, images, ownership, stack};
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::load::Loaded;
use crate::render::{self, RenderedStack};
use crate::validate::report;

/// How long creating one change set may take.
const CHANGE_SET_TIMEOUT: Duration = Duration::from_secs(300);

/// What a deploy would do to one stack.
#[derive(Debug, Serialize)]
struct StackDiff {
    stack: String,
    /// `create`, `update`, `no changes`, `foreign` (a stack tug does not own: read, never
    /// changed) or `error`.
    state: &'static str,
    /// Replacements and removals of resources that hold state, listed first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    destructive: Vec<Hazard>,
    changes: Vec<ResourceChange>,
    /// Unified diff lines of the template (deployed → rendered).
    template: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

pub(crate) fn run(ctx: &Context, args: &EnvAndNames) -> Result<()> {
    let Some(env_name) = args.env.as_deref() else {
        return Err(Error::usage("which environment? pass -e ENV"));
    };
    let (_, loaded) = ctx.load_valid(Some(env_name.to_string()))?;
    let stacks = render_all(ctx, &loaded, env_name, &args.names)?;
    let settings = crate::commands::remote::settings(ctx);
    let diffs = ctx.block_on(async {
        let aws = Aws::connect(&settings).await?;
        let mut out = Vec::new();
        for rendered in &stacks {
            out.push(diff_stack(&aws, &loaded, rendered).await);
        }
        Ok::<_, Error>(out)
    })??;
    // A foreign stack is shown, but a deploy would refuse it: the diff does not pass.
    let failed = diffs
        .iter()
        .any(|d| d.state == "error" || d.state == "foreign");
    if ctx.ui.json {
        ctx.ui
            .out(&json!({ "environment": env_name, "stacks": diffs }).to_string());
    } else {
        print_text(ctx, &diffs);
    }
    // Each stack's state is printed above; an error or a foreign stack fails the command.
    crate::commands::status(if failed { exit::FAILURE } else { exit::SUCCESS })
}

/// The environment stack (when no names are given) and the workloads' stacks.
fn render_all(
    ctx: &Context,
    loaded: &Loaded,
    env_name: &str,
    names: &[String],
) -> Result<Vec<RenderedStack>> {
    for name in names {
        if !loaded.workloads.iter().any(|w| &w.name == name) {
            return Err(Error::usage(format!(
                "no workload named `{name}` in this workspace"
            )));
        }
    }
    let Some(env) = loaded.environments.iter().find(|e| e.name == env_name) else {
        return Err(Error::usage(format!(
            "environment `{env_name}` has no manifest"
        )));
    };
    let ws = ctx.workspace()?;
    let mut out = Vec::new();
    let failed = |e: render::RenderError| match e {
        render::RenderError::Input(diags) => {
            for d in diags {
                ctx.ui.diagnostic(&report::format_text(
                    &d,
                    &ws.sources,
                    &loaded.environment_names,
                    &ctx.ui,
                ));
            }
            Error::reported(exit::INVALID_MANIFESTS)
        }
        render::RenderError::Internal(msg) => Error::failure(format!(
            "internal error while rendering (please report it): {msg}"
        )),
    };
    if names.is_empty() {
        out.push(render::environment::render(loaded, env).map_err(failed)?);
    }
    for wl in loaded
        .workloads
        .iter()
        .filter(|w| names.is_empty() || names.contains(&w.name))
    {
        out.push(render::workload::render(loaded, &ws, wl).map_err(failed)?);
    }
    Ok(out)
}

async fn diff_stack(aws: &Aws, loaded: &Loaded, rendered: &RenderedStack) -> StackDiff {
    let name = rendered.stack_name.clone();
    let error = |detail: String| StackDiff {
        stack: name.clone(),
        state: "error",
        destructive: Vec::new(),
        changes: Vec::new(),
        template: Vec::new(),
        detail: Some(detail),
    };
    let existing = match stack::describe(aws, &name).await {
        Ok(info) => info.filter(|i| {
            !matches!(
                stack::phase(&i.status),
                stack::Phase::Missing | stack::Phase::FailedCreate | stack::Phase::Review
            )
        }),
        Err(e) => return error(e.to_string()),
    };
    let Some(existing) = existing else {
        return StackDiff {
            stack: name.clone(),
            state: "create",
            destructive: Vec::new(),
            changes: Vec::new(),
            template: Vec::new(),
            detail: Some("not deployed yet: a deploy creates it".into()),
        };
    };
    let parameters = parameters(aws, loaded, rendered).await;
    let deadline = Instant::now() + CHANGE_SET_TIMEOUT;
    let before = match aws.cfn.get_template().stack_name(&name).send().await {
        Ok(t) => t.template_body().unwrap_or_default().to_string(),
        Err(e) => return error(crate::deploy::aws::describe_error(&e)),
    };
    // A stack taken over from Copilot: what a deploy would send keeps what adoption kept.
    let adopted = crate::deploy::adopt::keep_adopted(aws, rendered, &existing, Some(&before)).await;
    let rendered = adopted.as_ref().unwrap_or(rendered);
    let template = diff::unified(&before, &rendered.template, 3);
    // A stack tug does not own may be read, but not even a change set is created on it.
    if let Some(why) = ownership::check(&existing, &name, &loaded.app, "deploy to") {
        return StackDiff {
            stack: name.clone(),
            state: "foreign",
            destructive: Vec::new(),
            changes: Vec::new(),
            template,
            detail: Some(why.to_string()),
        };
    }
    match changeset::prepare(aws, rendered, &parameters, false, deadline).await {
        Ok(Prepared::Empty) => StackDiff {
            stack: name.clone(),
            state: "no changes",
            destructive: Vec::new(),
            changes: Vec::new(),
            template,
            detail: None,
        },
        Ok(Prepared::Ready { id, changes, .. }) => {
            changeset::discard(aws, &name, &id).await;
            let destructive = replacement::assess_update(
                &changes,
                Some(&before),
                &rendered.template,
                &existing.parameters,
                &parameters,
            );
            StackDiff {
                stack: name.clone(),
                state: "update",
                destructive,
                changes,
                template,
                detail: None,
            }
        }
        Err(e) => error(e.to_string()),
    }
}

/// The rendered parameters, with the main image resolved as a deploy resolves it.
async fn parameters(aws: &Aws, loaded: &Loaded, rendered: &RenderedStack) -> Vec<(String, String)> {
    let location = rendered.workload.as_ref().and_then(|w| {
        loaded
            .workloads
            .iter()
            .find(|wl| &wl.name == w)
            .and_then(|wl| wl.manifest.image.as_ref())
            .and_then(|i| i.location.as_ref())
            .map(|l| l.value.clone())
    });
    let mut out = Vec::new();
    for (k, v) in &rendered.parameters {
        let value = match (&location, k.as_str()) {
            (Some(loc), "ContainerImage") => images::resolve_location(aws, loc)
                .await
                // Not resolvable now (no access, not pushed yet): keep what is deployed.
                .unwrap_or_else(|_| "<deployed value>".into()),
            _ => v.clone(),
        };
        out.push((k.clone(), value));
    }
    out
}

fn print_text(ctx: &Context, diffs: &[StackDiff]) {
    for d in diffs {
        match d.state {
            "foreign" => {
                ctx.ui.out(&format!(
                    "{}: foreign, not tug's: a deploy refuses to change it",
                    d.stack
                ));
                if let Some(why) = &d.detail {
                    for line in why.lines() {
                        ctx.ui.out(&format!("  {line}"));
                    }
                }
                ctx.ui
                    .out("  what tug would deploy instead, against its template:");
                for line in &d.template {
                    ctx.ui.out(&format!("    {line}"));
                }
            }
            "create" | "no changes" | "error" => ctx.ui.out(&format!(
                "{}: {}{}",
                d.stack,
                d.state,
                d.detail
                    .as_ref()
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default()
            )),
            _ => {
                ctx.ui.out(&format!(
                    "{}: {} resource change{}",
                    d.stack,
                    d.changes.len(),
                    if d.changes.len() == 1 { "" } else { "s" }
                ));
                if !d.destructive.is_empty() {
                    ctx.ui.out(&format!(
                        "  DESTRUCTIVE ({}): a deploy needs consent (a terminal, or --allow-replacements)",
                        d.destructive.len()
                    ));
                    for h in &d.destructive {
                        ctx.ui.out(&format!("    {}", h.line()));
                    }
                }
                for c in &d.changes {
                    let hazard = d.destructive.iter().find(|h| h.logical_id == c.logical_id);
                    let replace = match (hazard.map(|h| h.harm), c.replacement.as_deref()) {
                        (Some(Harm::Replace), _) | (_, Some("True")) => " (replacement)",
                        (Some(Harm::MayReplace), _) | (_, Some("Conditional")) => {
                            " (may be replaced)"
                        }
                        _ => "",
                    };
                    ctx.ui.out(&format!(
                        "  {:<8} {} ({}){replace}",
                        c.action, c.logical_id, c.resource_type
                    ));
                }
                for line in &d.template {
                    ctx.ui.out(&format!("    {line}"));
                }
            }
        }
    }
}
