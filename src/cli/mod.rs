//! The command line, as clap types only. Commands receive resolved settings, never these
//! structs' parsing details; help texts are the doc comments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Deploy containers to Amazon ECS from declarative, Copilot-compatible manifests.
#[derive(Debug, Parser)]
#[command(name = "tug", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// The workspace folder (`tug/` or `copilot/`, or the folder holding it).
    /// Default: found by walking up from the current directory.
    #[arg(short = 'w', long = "workspace", global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// AWS profile to use.
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS Region to use.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS request to this endpoint (for example a local emulator).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Output format: text for people, json for programs.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Answer yes to every confirmation.
    #[arg(long, global = true)]
    pub yes: bool,
    /// Never prompt; a question that needs an answer is an error naming its flag.
    #[arg(long, global = true)]
    pub no_input: bool,
    /// When to use colours.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only errors and results.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Read manifests as Copilot did: unknown keys are warnings and are ignored (for
    /// migrations). A workspace can set `lenient: true` in `.workspace` instead.
    #[arg(long, global = true)]
    pub lenient: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a workspace, an environment and a first workload (wizard or flags).
    Init(InitArgs),
    /// The application: ECR repositories and shared resources.
    #[command(subcommand)]
    App(AppCommand),
    /// Environments: network, cluster and load balancers.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Services: load-balanced web, backend and worker services.
    #[command(subcommand)]
    Svc(SvcCommand),
    /// Scheduled jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// Check every manifest for every environment (offline).
    Validate(ValidateArgs),
    /// Print or write the CloudFormation a deploy would use (offline).
    Render(RenderArgs),
    /// Show what a deploy would change against what is deployed.
    Diff(EnvAndNames),
    /// Deploy the environment, then every (or the named) workload, in parallel.
    Deploy(DeployArgs),
    /// Deploy to one environment exactly the images running in another.
    Promote(PromoteArgs),
    /// Take over, in place, the stacks AWS Copilot deployed for this application.
    Adopt(AdoptArgs),
    /// Past deployments of a workload.
    History(HistoryArgs),
    /// Print the JSON Schema of a manifest type, for editors.
    Schema(SchemaArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print or write the manual pages (roff), generated from this command line.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Application name.
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    #[command(flatten)]
    pub workload: WorkloadInitFlags,
    /// Container port (Load Balanced Web Service and Backend Service).
    #[arg(long)]
    pub port: Option<u16>,
    /// Workload type: "Load Balanced Web Service", "Backend Service", "Worker Service" or
    /// "Scheduled Job".
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Schedule of a Scheduled Job: @daily, "rate(6 hours)", "cron(0 3 * * ? *)"...
    #[arg(long, value_name = "SCHEDULE")]
    pub schedule: Option<String>,
    /// Environment to create.
    #[arg(short, long, value_name = "ENV")]
    pub env: Option<String>,
    /// Deploy the environment and the workload after writing the manifests.
    #[arg(long)]
    pub deploy: bool,
    /// Overwrite manifests that already exist.
    #[arg(long)]
    pub force: bool,
}

/// The answers every workload wizard asks for.
#[derive(Debug, Args, Clone)]
pub(crate) struct WorkloadInitFlags {
    /// Workload name.
    #[arg(short, long, value_name = "NAME")]
    pub name: Option<String>,
    /// Image to run, instead of building a Dockerfile.
    #[arg(short, long, value_name = "IMAGE", conflicts_with = "dockerfile")]
    pub image: Option<String>,
    /// Dockerfile to build, relative to the repository root.
    #[arg(short, long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct EnvInitArgs {
    /// Environment name.
    #[arg(short, long, value_name = "ENV")]
    pub name: Option<String>,
    /// Overwrite the manifest if it already exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SvcInitArgs {
    #[command(flatten)]
    pub workload: WorkloadInitFlags,
    /// Service type: "Load Balanced Web Service", "Backend Service" or "Worker Service".
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Container port.
    #[arg(long)]
    pub port: Option<u16>,
    /// Overwrite the manifest if it already exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct JobInitArgs {
    #[command(flatten)]
    pub workload: WorkloadInitFlags,
    /// When the job runs: @daily, "rate(6 hours)", "cron(0 3 * * ? *)"...
    #[arg(long, value_name = "SCHEDULE")]
    pub schedule: Option<String>,
    /// Overwrite the manifest if it already exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AppCommand {
    /// Create the application's shared resources: an ECR repository per workload that builds
    /// an image, and the artifacts bucket (env files, addon and large templates); with
    /// `--domain`, the application's hosted zone `<app>.<domain>`, recorded in `.workspace`.
    Init(AppInitArgs),
    /// Show the application: its environments and workloads, and what is deployed where.
    Show(AppShowArgs),
    /// Delete the application and everything it deployed.
    Delete,
}

/// `tug app init` options.
#[derive(Debug, Args, Default)]
pub(crate) struct AppInitArgs {
    /// The domain whose public Route 53 hosted zone this account holds (as Copilot's `app init
    /// --domain`): services get `<svc>.<env>.<app>.<domain>` and HTTPS, and aliases in the
    /// domain get their records.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
}

/// `-n NAME` for an environment.
#[derive(Debug, Args)]
pub(crate) struct EnvName {
    /// Environment name.
    #[arg(short, long)]
    pub name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EnvCommand {
    /// Write a new environment manifest (wizard or flags).
    Init(EnvInitArgs),
    /// List environments.
    Ls,
    /// Show an environment.
    Show(EnvName),
    /// Deploy an environment stack.
    Deploy(EnvDeployArgs),
    /// Print or write an environment's CloudFormation (offline).
    Package(PackageEnvArgs),
    /// Delete an environment.
    Delete(EnvDeleteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PackageEnvArgs {
    /// Environment name.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Write files here instead of printing.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// `-n NAME -e ENV` for a workload.
#[derive(Debug, Args)]
pub(crate) struct EnvAndName {
    /// Workload name.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Environment name.
    #[arg(short, long)]
    pub env: Option<String>,
}

/// `tug svc deploy`: a deploy, or an answer to a deployment paused by a PAUSE hook.
#[derive(Debug, Args)]
pub(crate) struct ServiceDeployArgs {
    #[command(flatten)]
    pub deploy: WorkloadDeployArgs,
    /// Let a deployment paused by a PAUSE lifecycle hook go on, and follow it.
    #[arg(long = "continue", conflicts_with = "rollback")]
    pub continue_paused: bool,
    /// Roll back a deployment paused by a PAUSE lifecycle hook, and follow the rollback.
    #[arg(long)]
    pub rollback: bool,
}

/// `tug svc rollback`.
#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    /// Service name.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Environment name.
    #[arg(short, long)]
    pub env: Option<String>,
    /// The task definition revision to run again (a number or an ARN; see `tug history`).
    /// Default: the newest earlier revision that deployed successfully.
    #[arg(long, value_name = "REVISION")]
    pub to: Option<String>,
    /// How long to follow the rollback.
    #[arg(long, default_value = "60m")]
    pub timeout: String,
}

/// `tug history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Service name.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Environment name.
    #[arg(short, long)]
    pub env: Option<String>,
    /// How many revisions to show, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// `-e ENV [-n NAME ...]`.
#[derive(Debug, Args)]
pub(crate) struct EnvAndNames {
    /// Environment name.
    #[arg(short, long)]
    pub env: Option<String>,
    /// Workload names (all when omitted).
    #[arg(short, long = "name")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PackageArgs {
    /// Workload name.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Environment name.
    #[arg(short, long)]
    pub env: Option<String>,
    /// Write files here instead of printing.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SvcCommand {
    /// Write a new service manifest (wizard or flags).
    Init(SvcInitArgs),
    /// List services.
    Ls,
    /// Show a service's configuration per environment.
    Show(EnvAndName),
    /// Show a deployed service's health.
    Status(EnvAndName),
    /// Show a service's logs.
    Logs(LogsArgs),
    /// Deploy a service.
    Deploy(ServiceDeployArgs),
    /// Print or write a service's CloudFormation (offline).
    Package(PackageArgs),
    /// Roll a service back: stop a deployment in progress with a rollback, or run the
    /// previous successful revision again.
    Rollback(RollbackArgs),
    /// Delete a service.
    Delete(EnvAndName),
}

#[derive(Debug, Subcommand)]
pub(crate) enum JobCommand {
    /// Write a new job manifest (wizard or flags).
    Init(JobInitArgs),
    /// List jobs.
    Ls,
    /// Deploy a job.
    Deploy(WorkloadDeployArgs),
    /// Print or write a job's CloudFormation (offline).
    Package(PackageArgs),
    /// Run a job now.
    Run(EnvAndName),
    /// Show a job's logs.
    Logs(LogsArgs),
    /// Delete a job.
    Delete(EnvAndName),
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Check only this environment.
    #[arg(short, long)]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// Environment to render for.
    #[arg(short, long)]
    pub env: Option<String>,
    /// Workload to render (the environment stack when omitted).
    #[arg(short, long)]
    pub name: Option<String>,
    /// Write every template and parameters file here.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct PromoteArgs {
    /// Environment to take the images from.
    #[arg(long)]
    pub from: Option<String>,
    /// Environment to deploy them to.
    #[arg(long)]
    pub to: Option<String>,
    /// Workloads to promote (all when omitted).
    #[arg(short, long = "name")]
    pub names: Vec<String>,
    /// Consent to replacing or removing resources that hold data or that others point at;
    /// --yes alone never consents to that.
    #[arg(long)]
    pub allow_replacements: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// Manifest type, as in `type:` or as a slug: load-balanced-web-service, backend-service,
    /// worker-service, scheduled-job, environment, workspace. Default: one schema for any
    /// manifest, choosing by `type`.
    #[arg(value_name = "TYPE")]
    pub kind: Option<String>,
    /// Write every schema into this folder (`<type>.json` and `manifest.json`) instead of
    /// printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "kind")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write `tug.1` and one page per subcommand (`tug-svc-deploy.1`...) into this folder
    /// instead of printing `tug.1`.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// How a deploy runs.
#[derive(Debug, Args, Clone)]
pub(crate) struct DeployFlags {
    /// Give up waiting after this long (e.g. 30m, 1h); the deploy goes on in AWS.
    #[arg(long, default_value = "60m", value_name = "DURATION")]
    pub timeout: String,
    /// Return as soon as the change set starts executing.
    #[arg(long)]
    pub detach: bool,
    /// Show what would change and ask before deploying (needs a terminal or --yes).
    #[arg(long)]
    pub diff: bool,
    /// Do not build images: deploy the images already pushed with --tag (or the git commit).
    #[arg(long)]
    pub no_build: bool,
    /// The tag of built images (default: the git commit, with -dirty for uncommitted changes).
    #[arg(long)]
    pub tag: Option<String>,
    /// Consent to replacing or removing resources that hold data or that others point at
    /// (VPC, load balancers, queues, log groups...); --yes alone never consents to that.
    #[arg(long)]
    pub allow_replacements: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// Environment name.
    #[arg(short, long)]
    pub env: Option<String>,
    /// Workload names (all when omitted).
    #[arg(short, long = "name")]
    pub names: Vec<String>,
    /// How many workloads deploy at the same time.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    #[command(flatten)]
    pub flags: DeployFlags,
}

#[derive(Debug, Args)]
pub(crate) struct AdoptArgs {
    /// Environment to adopt, with its workloads (every environment Copilot deployed and the
    /// workspace has a manifest for, when omitted).
    #[arg(short, long)]
    pub env: Option<String>,
    /// Show what adoption would do to each stack and change nothing.
    #[arg(long)]
    pub plan: bool,
    /// How long to wait for each stack update, e.g. 30m or 1h.
    #[arg(long, default_value = "30m", value_name = "DURATION")]
    pub timeout: String,
}

#[derive(Debug, Args)]
pub(crate) struct EnvDeployArgs {
    /// Environment name.
    #[arg(short, long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub flags: DeployFlags,
}

#[derive(Debug, Args)]
pub(crate) struct WorkloadDeployArgs {
    /// Workload name.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Environment name.
    #[arg(short, long)]
    pub env: Option<String>,
    #[command(flatten)]
    pub flags: DeployFlags,
}

/// `svc logs` / `job logs`.
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Workload name.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Environment name.
    #[arg(short, long)]
    pub env: Option<String>,
    /// Only events newer than this (e.g. 10m, 2h, 1d).
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub since: String,
    /// Keep printing new events until Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,
    /// Only this container (repeatable); the main container has the workload's name.
    #[arg(long = "container", value_name = "NAME")]
    pub containers: Vec<String>,
    /// Only these tasks (ids or ARNs, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub tasks: Vec<String>,
    /// Print at most this many events: the most recent ones.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// `app show`.
#[derive(Debug, Args)]
pub(crate) struct AppShowArgs {
    /// Only what the workspace describes: do not read what is deployed from AWS.
    #[arg(long)]
    pub offline: bool,
}

/// `env delete`.
#[derive(Debug, Args)]
pub(crate) struct EnvDeleteArgs {
    /// Environment name.
    #[arg(short, long)]
    pub name: Option<String>,
    /// Delete the workloads deployed in the environment too (otherwise they must be deleted
    /// first).
    #[arg(long)]
    pub with_workloads: bool,
}
