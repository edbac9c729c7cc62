//! `tug deploy`, `tug env deploy`, `tug svc deploy`, `tug job deploy`: validate, render, and
//! deploy through the engine, with progress on stderr (or NDJSON on stdout) and a summary.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::watch;

use crate::cli::DeployFlags;
use crate::commands::Context;
use crate::commands::progress::{JsonReporter, PlainReporter, TerminalReporter};
use crate::deploy::aws::Aws;
use crate::deploy::engine::{self, Confirm, DeployOptions, Plan, Session, SummaryRow};
use crate::deploy::events::Reporter;
use crate::deploy::images::ImageOptions;
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::duration::Duration;
use crate::manifest::model::WorkloadKind;
use crate::ui::{Style, Ui};

/// What to deploy, from the command line.
pub(crate) struct DeployRequest<'a> {
    pub env: Option<&'a str>,
    pub env_flag: &'a str,
    pub plan: Plan,
    /// For `svc deploy` / `job deploy`: the kinds the named workload must have.
    pub kinds: Option<&'a [WorkloadKind]>,
    pub flags: &'a DeployFlags,
    pub concurrency: usize,
}

pub(crate) fn run(ctx: &Context, req: &DeployRequest) -> Result<()> {
    let env_name = req
        .env
        .ok_or_else(|| Error::usage(format!("which environment? pass {} ENV", req.env_flag)))?;
    let timeout = timeout(&req.flags.timeout)?;
    let (ws, loaded) = ctx.load_valid(Some(env_name.to_string()))?;
    crate::commands::context::known_environment(&loaded, env_name)?;
    for name in req.plan.workloads.iter().flatten() {
        let wl = crate::commands::context::known_workload(&loaded, name)?;
        if let Some(kinds) = req.kinds
            && !kinds.contains(&wl.kind)
        {
            return Err(Error::usage(format!(
                "`{name}` is a {}; deploy it with `tug {} deploy`",
                wl.kind,
                if wl.kind == WorkloadKind::ScheduledJob {
                    "job"
                } else {
                    "svc"
                }
            )));
        }
    }
    let opts = DeployOptions {
        timeout,
        detach: req.flags.detach,
        diff: req.flags.diff,
        yes: ctx.global.yes,
        allow_replacements: req.flags.allow_replacements,
        interactive: ctx.ui.interactive,
        images: ImageOptions {
            no_build: req.flags.no_build,
            tag: req.flags.tag.clone(),
        },
        concurrency: req.concurrency,
    };
    let reporter = reporter(ctx);
    let confirm = confirm(ctx);
    let settings = crate::commands::remote::settings(ctx);
    let rows = ctx.block_on(async {
        let aws = Aws::connect(&settings).await?;
        let (tx, rx) = watch::channel(0u32);
        tokio::spawn(watch_interrupts(tx, ctx.ui.clone()));
        Ok::<_, Error>(
            engine::deploy_environment_and_workloads(
                &Session {
                    aws,
                    opts,
                    confirm,
                    reporter: reporter.clone(),
                    interrupts: rx,
                },
                &loaded,
                &ws,
                env_name,
                &req.plan,
            )
            .await,
        )
    })??;
    let code = engine::worst_exit_code(rows.iter().map(|r| &r.result));
    report(ctx, &rows, code);
    crate::commands::status(code)
}

/// Progress as the output mode wants it: bars on a terminal, lines in CI, NDJSON with
/// `--output json`.
pub(crate) fn reporter(ctx: &Context) -> Arc<dyn Reporter> {
    if ctx.ui.json {
        Arc::new(JsonReporter { ui: ctx.ui.clone() })
    } else if ctx.ui.terminal && std::env::var_os("CI").is_none() {
        Arc::new(TerminalReporter::new(&ctx.ui))
    } else {
        Arc::new(PlainReporter { ui: ctx.ui.clone() })
    }
}

/// Asks before applying changes shown with `--diff` (only on a terminal).
pub(crate) fn confirm(ctx: &Context) -> Confirm {
    let ui = ctx.ui.clone();
    Arc::new(move |text: &str| {
        ui.notice(text);
        if !ui.interactive {
            return None;
        }
        ui.confirm("Deploy these changes?", false).ok()
    })
}

/// The `--timeout` flag as a duration.
pub(crate) fn timeout(flag: &str) -> Result<std::time::Duration> {
    match Duration::parse(flag) {
        Ok(d) if d.millis > 0 => Ok(std::time::Duration::from_millis(d.millis)),
        _ => Err(Error::usage(format!(
            "--timeout `{flag}` is not a duration; write for example 30m or 1h"
        ))),
    }
}

/// Ctrl-C: the first one asks the deploys to cancel and roll back; the second leaves at once,
/// saying what goes on in AWS.
/// `ui` is a clone of the command's: this task prints through it, above any progress bars.
pub(crate) async fn watch_interrupts(tx: watch::Sender<u32>, ui: Ui) {
    let mut count = 0u32;
    while tokio::signal::ctrl_c().await.is_ok() {
        count += 1;
        if count >= 2 {
            ui.notice(&leaving_now(&engine::in_flight()));
            // The only way to leave every task at once; nothing local is left half-written.
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
        let _ = tx.send(count);
        ui.notice(
            "\ninterrupting: no further change set is created or executed; stack updates in progress are cancelled and followed to the end of their rollback (Ctrl-C again to stop watching)"
        );
    }
}

/// What a second Ctrl-C leaves going on in AWS, stack by stack, with the commands to follow
/// and undo each.
fn leaving_now(stacks: &[engine::InFlightStack]) -> String {
    if stacks.is_empty() {
        return "\ninterrupted again: tug stops now; no stack of this deploy is changing in AWS."
            .into();
    }
    let mut text =
        String::from("\ninterrupted again: tug stops now. These stacks are still changing in AWS:");
    for s in stacks {
        text.push_str(&format!(
            "\n  {} ({}): follow it with `aws cloudformation describe-stack-events --stack-name {}` or in the CloudFormation console; undo: {}",
            s.stack, s.action, s.stack, s.undo
        ));
    }
    text
}

pub(crate) fn report(ctx: &Context, rows: &[SummaryRow], code: u8) {
    if ctx.ui.json {
        ctx.ui.out(
            &json!({
                "event": "result",
                "time": crate::deploy::events::timestamp(),
                "exit_code": code,
                "outcome": if code == exit::SUCCESS { "success" } else { "failure" },
                "stacks": rows,
            })
            .to_string(),
        );
        return;
    }
    let mut table = vec![["STACK", "OUTCOME", "DURATION", "IMAGE"].map(String::from)];
    for r in rows {
        table.push([
            r.stack.clone(),
            r.outcome.clone(),
            format!("{:.1}s", r.seconds),
            r.image.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            table
                .iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    ctx.ui.out("");
    for row in &table {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        ctx.ui.out(line.join("  ").trim_end());
    }
    for r in rows {
        match (r.result.error(), &r.detail) {
            (Some(e), _) => ctx.ui.report_error_in(&r.stack, e),
            (None, Some(d)) => ctx.ui.error(&format!("{}: {d}", r.stack)),
            (None, None) => {}
        }
    }
    let summary = match code {
        exit::SUCCESS => ctx.ui.paint_err(Style::Success, "deploy finished"),
        exit::ROLLED_BACK => ctx
            .ui
            .paint_err(Style::Error, "deploy failed and was rolled back"),
        exit::INTERRUPTED => ctx.ui.paint_err(Style::Error, "deploy interrupted"),
        _ => ctx.ui.paint_err(Style::Error, "deploy failed"),
    };
    ctx.ui.info(&summary);
}
