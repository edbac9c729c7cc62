//! `tug render` (and `tug env|svc|job package`): the CloudFormation templates and parameters
//! a deploy would use, offline. Without `--output-dir` the requested template (the
//! environment's, or the named workload's) goes to stdout; with it, every stack of the
//! environment is written as `<stack>.yml` and `<stack>.params.json`, and a stack with addons
//! also gets `<stack>.addons.json`, the merged template its `AddonsStack` deploys.

use std::fs;
use std::path::Path;

use crate::commands::Context;
use crate::commands::context::known_environment;
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::load::{Loaded, ResolvedEnvironment, ResolvedWorkload};
use crate::manifest::model::WorkloadKind;
use crate::manifest::workspace::Workspace;
use crate::render::{self, RenderError, RenderedStack};
use crate::validate::report;

/// What to render.
pub(crate) struct RenderRequest<'a> {
    pub env: Option<&'a str>,
    pub name: Option<&'a str>,
    pub output_dir: Option<&'a Path>,
    /// For `svc package` / `job package`: the kinds the name must have.
    pub kinds: Option<&'a [WorkloadKind]>,
    /// The flag that names the environment, for messages (`-e` or `-n`).
    pub env_flag: &'a str,
}

pub(crate) fn run(ctx: &Context, req: &RenderRequest) -> Result<()> {
    let env_name = req
        .env
        .ok_or_else(|| Error::usage(format!("which environment? pass {} ENV", req.env_flag)))?;
    let (ws, loaded) = ctx.load_valid(Some(env_name.to_string()))?;
    known_environment(&loaded, env_name)?;
    let Some(env) = loaded.environments.iter().find(|e| e.name == env_name) else {
        return Err(Error::usage(format!(
            "environment `{env_name}` has no manifest"
        )));
    };
    if let Some(name) = req.name {
        check_named(&loaded, name, req.kinds)?;
    }
    let (stacks, failed) = render_stacks(&loaded, &ws, env, req);
    if !failed.is_empty() {
        return Err(report_failures(ctx, &ws, &loaded, failed));
    }
    match req.output_dir {
        None => {
            for stack in &stacks {
                ctx.ui.out_raw(stack.template.as_bytes());
            }
            Ok(())
        }
        Some(dir) => write_dir(ctx, dir, &stacks, &ws),
    }
}

/// The workload `name` exists and, for `svc|job package`, is of one of `kinds`.
fn check_named(loaded: &Loaded, name: &str, kinds: Option<&[WorkloadKind]>) -> Result<()> {
    let Some(wl) = loaded.workloads.iter().find(|w| w.name == name) else {
        let names: Vec<&str> = loaded.workloads.iter().map(|w| w.name.as_str()).collect();
        let names = if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        };
        return Err(
            Error::usage(format!("no workload named `{name}` in this workspace"))
                .help(format!("workloads: {names}")),
        );
    };
    match kinds {
        Some(kinds) if !kinds.contains(&wl.kind) => {
            let wanted: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            Err(Error::usage(format!(
                "`{name}` is a {}, not a {}",
                wl.kind,
                wanted.join(" or ")
            )))
        }
        _ => Ok(()),
    }
}

/// The stacks the request asks for, in order (the environment's first, then the workloads'
/// in the workspace's order), and the errors of those that could not be rendered.
fn render_stacks(
    loaded: &Loaded,
    ws: &Workspace,
    env: &ResolvedEnvironment,
    req: &RenderRequest,
) -> (Vec<RenderedStack>, Vec<RenderError>) {
    let everything = req.output_dir.is_some();
    let mut results = Vec::new();
    if everything || req.name.is_none() {
        results.push(render::environment::render(loaded, env));
    }
    let chosen: Vec<&ResolvedWorkload> = loaded
        .workloads
        .iter()
        .filter(|w| w.environment.as_deref() == Some(env.name.as_str()))
        .filter(|w| everything || req.name == Some(w.name.as_str()))
        .collect();
    results.extend(render_workloads(loaded, ws, &chosen));
    let mut stacks = Vec::new();
    let mut failed = Vec::new();
    for result in results {
        match result {
            Ok(stack) => stacks.push(stack),
            Err(e) => failed.push(e),
        }
    }
    (stacks, failed)
}

/// Renders `chosen` in their order. Workloads render independently: two threads halve the
/// time of a large `--output-dir` (templates are built once, shared by both).
fn render_workloads(
    loaded: &Loaded,
    ws: &Workspace,
    chosen: &[&ResolvedWorkload],
) -> Vec<std::result::Result<RenderedStack, RenderError>> {
    let render_all = |part: &[&ResolvedWorkload]| -> Vec<_> {
        part.iter()
            .map(|wl| render::workload::render(loaded, ws, wl))
            .collect()
    };
    let (first, second) = chosen.split_at(chosen.len().div_ceil(2));
    std::thread::scope(|scope| {
        let other = (second.len() > 1).then(|| scope.spawn(|| render_all(second)));
        let mut results = render_all(first);
        results.extend(match other {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => render_all(second),
        });
        results
    })
}

/// Prints the diagnostics of stacks that could not be rendered, and returns the error to exit
/// with (an internal error stops at the first one: it is a bug in tug, not in the input).
fn report_failures(
    ctx: &Context,
    ws: &Workspace,
    loaded: &Loaded,
    failed: Vec<RenderError>,
) -> Error {
    for e in failed {
        match e {
            RenderError::Input(diags) => {
                for d in diags {
                    ctx.ui.diagnostic(&report::format_text(
                        &d,
                        &ws.sources,
                        &loaded.environment_names,
                        &ctx.ui,
                    ));
                }
            }
            RenderError::Internal(msg) => {
                return Error::failure(format!(
                    "internal error while rendering (please report it): {msg}"
                ));
            }
        }
    }
    // The diagnostics above say what is wrong.
    Error::reported(exit::INVALID_MANIFESTS)
}

/// `--output-dir`: writes every stack's files and says which templates were written.
fn write_dir(ctx: &Context, dir: &Path, stacks: &[RenderedStack], ws: &Workspace) -> Result<()> {
    write_all(dir, stacks, ws).map_err(|e| {
        Error::failure(format!("cannot write to {}: {e}", dir.display()))
            .about(dir.display().to_string())
    })?;
    for stack in stacks {
        ctx.ui.info(&format!(
            "wrote {}",
            dir.join(format!("{}.yml", stack.stack_name)).display()
        ));
    }
    Ok(())
}

/// The bucket `tug render` writes into the S3 locations of packaged addon assets: the
/// artifacts bucket's name needs the account, which rendering does not look up. The keys are
/// the ones `tug deploy` uploads to (docs/addons.md).
const RENDERED_ASSET_BUCKET: &str = "placeholder-artifacts-bucket";

fn write_all(dir: &Path, stacks: &[RenderedStack], ws: &Workspace) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    for stack in stacks {
        fs::write(
            dir.join(format!("{}.yml", stack.stack_name)),
            &stack.template,
        )?;
        fs::write(
            dir.join(format!("{}.params.json", stack.stack_name)),
            stack.parameters_file(),
        )?;
        let addons = match &stack.workload {
            Some(name) => ws.workload_addons.get(name),
            None => ws.environment_addons.as_ref(),
        };
        if let Some(addons) = addons {
            // Rendering stays offline: the assets are zipped to give their real keys, and the
            // bucket, which needs the account, is written as a placeholder.
            let (template, _) = addons
                .packaged(RENDERED_ASSET_BUCKET, &|key| {
                    format!("https://{RENDERED_ASSET_BUCKET}.s3.amazonaws.com/{key}")
                })
                .map_err(std::io::Error::other)?;
            fs::write(
                dir.join(format!("{}.addons.json", stack.stack_name)),
                template,
            )?;
        }
    }
    Ok(())
}
