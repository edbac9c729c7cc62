//! Command dispatch: parse the command line, run the chosen command, print the error that
//! ended it (the one place errors are printed) and map the outcome to an exit code. One file
//! per command.

mod adopt;
mod app_init;
mod app_show;
mod completions;
mod context;
mod delete;
mod deploy;
mod diff;
mod history;
mod init;
mod job_run;
mod logs;
mod ls;
mod progress;
mod promote;
mod remote;
mod render;
mod rollback;
mod schema;
mod show;
mod status;
mod validate;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{
    AppCommand, Cli, Command, EnvCommand, JobCommand, PackageArgs, SvcCommand, WorkloadDeployArgs,
};
use crate::deploy::engine::Plan;
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::model::WorkloadKind;
use crate::ui::Ui;

pub(crate) use context::Context;

/// Runs tug with `args` (including the program name) and returns the exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let ui = Ui::from_args(&cli.global);
    let ctx = Context::new(cli.global.clone(), ui);
    match dispatch(&ctx, cli.command) {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(e) => {
            ctx.ui.report_error(&e);
            ExitCode::from(e.code())
        }
    }
}

/// A command's exit code as a result: 0 is success, any other code an outcome the command
/// has already reported.
pub(crate) fn status(code: u8) -> Result<()> {
    if code == exit::SUCCESS {
        Ok(())
    } else {
        Err(Error::reported(code))
    }
}

fn dispatch(ctx: &Context, command: Command) -> Result<()> {
    match command {
        Command::Validate(args) => validate::run(ctx, &args),
        Command::App(AppCommand::Show(args)) => app_show::run(ctx, &args),
        Command::Init(args) => init::init(ctx, &args),
        Command::App(AppCommand::Init(args)) => app_init::run(ctx, &args),
        Command::App(AppCommand::Delete) => delete::application(ctx),
        Command::Env(cmd) => match cmd {
            EnvCommand::Init(args) => init::env_init(ctx, &args),
            EnvCommand::Ls => ls::environments(ctx),
            EnvCommand::Show(args) => show::environment(ctx, &args),
            EnvCommand::Deploy(args) => deploy::run(
                ctx,
                &deploy::DeployRequest {
                    env: args.name.as_deref(),
                    env_flag: "-n",
                    plan: Plan {
                        environment: true,
                        workloads: None,
                    },
                    kinds: None,
                    flags: &args.flags,
                    concurrency: 1,
                },
            ),
            EnvCommand::Package(args) => render::run(
                ctx,
                &render::RenderRequest {
                    env: args.name.as_deref(),
                    name: None,
                    output_dir: args.output_dir.as_deref(),
                    kinds: None,
                    env_flag: "-n",
                },
            ),
            EnvCommand::Delete(args) => delete::environment(ctx, &args),
        },
        Command::Svc(cmd) => match cmd {
            SvcCommand::Init(args) => init::svc_init(ctx, &args),
            SvcCommand::Ls => ls::workloads(ctx, false),
            SvcCommand::Show(args) => show::service(ctx, &args),
            SvcCommand::Status(args) => status::run(ctx, &args),
            SvcCommand::Logs(args) => logs::run(ctx, &args, "service"),
            SvcCommand::Deploy(args) if args.continue_paused || args.rollback => {
                rollback::answer_pause(ctx, &args)
            }
            SvcCommand::Deploy(args) => deploy_workload(ctx, &args.deploy, &SERVICE_KINDS),
            SvcCommand::Package(args) => package(ctx, &args, &SERVICE_KINDS),
            SvcCommand::Rollback(args) => rollback::run(ctx, &args),
            SvcCommand::Delete(args) => delete::workload(ctx, &args, false),
        },
        Command::Job(cmd) => match cmd {
            JobCommand::Init(args) => init::job_init(ctx, &args),
            JobCommand::Ls => ls::workloads(ctx, true),
            JobCommand::Deploy(args) => deploy_workload(ctx, &args, &[WorkloadKind::ScheduledJob]),
            JobCommand::Package(args) => package(ctx, &args, &[WorkloadKind::ScheduledJob]),
            JobCommand::Run(args) => job_run::run(ctx, &args),
            JobCommand::Logs(args) => logs::run(ctx, &args, "job"),
            JobCommand::Delete(args) => delete::workload(ctx, &args, true),
        },
        Command::Render(args) => render::run(
            ctx,
            &render::RenderRequest {
                env: args.env.as_deref(),
                name: args.name.as_deref(),
                output_dir: args.output_dir.as_deref(),
                kinds: None,
                env_flag: "-e",
            },
        ),
        Command::Diff(args) => diff::run(ctx, &args),
        Command::Deploy(args) => deploy::run(
            ctx,
            &deploy::DeployRequest {
                env: args.env.as_deref(),
                env_flag: "-e",
                plan: Plan {
                    environment: true,
                    workloads: Some(args.names.clone()),
                },
                kinds: None,
                flags: &args.flags,
                concurrency: args.concurrency,
            },
        ),
        Command::Promote(args) => promote::run(ctx, &args),
        Command::Adopt(args) => adopt::run(ctx, &args),
        Command::History(args) => history::run(ctx, &args),
        Command::Schema(args) => schema::run(ctx, &args),
        Command::Completions(args) => completions::completions(ctx, &args),
        Command::Man(args) => completions::man(ctx, &args),
    }
}

const SERVICE_KINDS: [WorkloadKind; 3] = [
    WorkloadKind::LoadBalancedWebService,
    WorkloadKind::BackendService,
    WorkloadKind::WorkerService,
];

/// `svc package` / `job package`: one workload's stack (all the environment's with
/// `--output-dir`).
fn package(ctx: &Context, args: &PackageArgs, kinds: &[WorkloadKind]) -> Result<()> {
    if args.name.is_none() {
        return Err(Error::usage("which workload? pass -n NAME"));
    }
    render::run(
        ctx,
        &render::RenderRequest {
            env: args.env.as_deref(),
            name: args.name.as_deref(),
            output_dir: args.output_dir.as_deref(),
            kinds: Some(kinds),
            env_flag: "-e",
        },
    )
}

/// `svc deploy` / `job deploy`: one workload's stack, in an environment already deployed.
fn deploy_workload(ctx: &Context, args: &WorkloadDeployArgs, kinds: &[WorkloadKind]) -> Result<()> {
    let Some(name) = &args.name else {
        return Err(Error::usage("which workload? pass -n NAME"));
    };
    deploy::run(
        ctx,
        &deploy::DeployRequest {
            env: args.env.as_deref(),
            env_flag: "-e",
            plan: Plan {
                environment: false,
                workloads: Some(vec![name.clone()]),
            },
            kinds: Some(kinds),
            flags: &args.flags,
            concurrency: 1,
        },
    )
}
