//! `tug init`, `tug env init`, `tug svc init`, `tug job init`: write a workspace, an
//! environment and a workload from a wizard on a terminal or from flags, then (with
//! `--deploy`) deploy them. Manifests that exist are never overwritten without `--force`.

mod manifests;
mod prompt;

use std::fs;
use std::path::{Path, PathBuf};

use crate::cli::{EnvInitArgs, InitArgs, JobInitArgs, SvcInitArgs, WorkloadInitFlags};
use crate::commands::{Context, deploy, schema};
use crate::deploy::engine::Plan;
use crate::error::{Error, Result};
use crate::manifest::model::WorkloadKind;
use crate::manifest::names::{name_problem, suggest_name};
use crate::manifest::schedule::schedule_expression;
use crate::manifest::workspace::{WORKSPACE_DIRS, Workspace, discover};
use crate::ui::Stream;

pub(crate) use manifests::SCHEMA_DIR;
use manifests::{ImageSource, WorkloadAnswers};
use prompt::{AskError, Prompter};

/// The workspace folder `init` writes into, and whether it exists yet.
struct Target {
    /// The `tug/` or `copilot/` folder.
    dir: PathBuf,
    /// The application, when `.workspace` already names it.
    app: Option<String>,
}

impl Target {
    /// The folder paths in manifests are relative to.
    fn project_root(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }
}

/// A file to write, and whether it may replace an existing one.
struct Planned {
    path: PathBuf,
    text: String,
    /// Written only when absent (shared files such as an existing environment's manifest).
    keep_existing: bool,
}

/// A question without a usable answer is a usage error (its text names the flag to pass).
fn unanswered(e: AskError) -> Error {
    Error::usage(e.0)
}

fn prompter(ctx: &Context) -> Prompter {
    Prompter::new(ctx.ui.interactive, ctx.ui.color(Stream::Stderr))
}

/// Finds the workspace, or where a new one goes: `-w DIR` (the `tug/`/`copilot/` folder or the
/// folder to create `tug/` in), else the nearest existing one, else `./tug`.
fn locate(ctx: &Context) -> Target {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    if let Ok(dir) = discover(&cwd, ctx.global.workspace.as_deref()) {
        let ws = Workspace::open(&dir);
        return Target { dir, app: ws.app };
    }
    let dir = match &ctx.global.workspace {
        Some(w) => {
            let w = if w.is_absolute() {
                w.clone()
            } else {
                cwd.join(w)
            };
            if w.file_name()
                .is_some_and(|n| WORKSPACE_DIRS.iter().any(|d| n == *d))
            {
                w
            } else {
                w.join("tug")
            }
        }
        None => cwd.join("tug"),
    };
    Target { dir, app: None }
}

/// Like [`locate`], but the workspace must exist (for `env|svc|job init`).
fn existing(ctx: &Context) -> Result<Target> {
    let target = locate(ctx);
    if target.app.is_none() {
        return Err(Error::usage(format!(
            "no workspace with an application found (looked for {}/.workspace)",
            target.dir.display()
        ))
        .help("run `tug init` first"));
    }
    Ok(target)
}

fn check_name(kind: &str) -> impl Fn(&str) -> Result<(), String> + '_ {
    move |v: &str| match name_problem(v) {
        Some(problem) => Err(format!(
            "the {kind} name {problem}; for example `{}`",
            suggest_name(v)
        )),
        None => Ok(()),
    }
}

/// `tug init`.
pub(crate) fn init(ctx: &Context, args: &InitArgs) -> Result<()> {
    let p = prompter(ctx);
    let target = locate(ctx);
    let answers = ask_init(ctx, &p, &target, args).map_err(unanswered)?;
    let (app, workload, env) = answers;
    let mut files = vec![Planned {
        path: target.dir.join(".workspace"),
        text: manifests::workspace_file(&app),
        keep_existing: true,
    }];
    files.push(Planned {
        path: env_path(&target, &env),
        text: manifests::environment(&env),
        keep_existing: true,
    });
    files.push(Planned {
        path: workload_path(&target, &workload.name),
        text: manifests::workload(&workload),
        keep_existing: false,
    });
    write(ctx, &target, files, args.force)?;
    ctx.ui.info(&format!(
        "\nNext: `tug validate`, `tug render -e {env} -n {}`, then `tug deploy -e {env}`.",
        workload.name
    ));
    let deploy_now = args.deploy
        || (p.interactive()
            && p.confirm(&format!("Deploy {} to {env} now?", workload.name), false)
                .unwrap_or(false));
    if !deploy_now {
        return Ok(());
    }
    let mut global = ctx.global.clone();
    global.workspace = Some(target.dir.clone());
    let deploy_ctx = Context::new(global, ctx.ui.clone());
    let flags = crate::cli::DeployFlags {
        timeout: "60m".into(),
        detach: false,
        diff: false,
        no_build: false,
        tag: None,
        // A first deploy creates; there is nothing to replace.
        allow_replacements: false,
    };
    deploy::run(
        &deploy_ctx,
        &deploy::DeployRequest {
            env: Some(&env),
            env_flag: "--env",
            plan: Plan {
                environment: true,
                workloads: Some(vec![workload.name.clone()]),
            },
            kinds: None,
            flags: &flags,
            concurrency: 1,
        },
    )
}

fn env_path(target: &Target, env: &str) -> PathBuf {
    target
        .dir
        .join("environments")
        .join(env)
        .join("manifest.yml")
}

fn workload_path(target: &Target, name: &str) -> PathBuf {
    target.dir.join(name).join("manifest.yml")
}

/// The wizard of `tug init`: application, workload type and name, image, port or schedule,
/// environment.
fn ask_init(
    ctx: &Context,
    p: &Prompter,
    target: &Target,
    args: &InitArgs,
) -> Result<(String, WorkloadAnswers, String), AskError> {
    let app = match &target.app {
        Some(existing) => {
            if let Some(given) = &args.app
                && given != existing
            {
                return Err(AskError(format!(
                    "--app `{given}`: this workspace belongs to the application `{existing}` ({})",
                    target.dir.join(".workspace").display()
                )));
            }
            ctx.ui
                .info(&format!("Adding to the application `{existing}`."));
            existing.clone()
        }
        None => {
            let default = target
                .project_root()
                .file_name()
                .map(|n| suggest_name(&n.to_string_lossy()))
                .filter(|n| name_problem(n).is_none());
            p.text(
                args.app.as_deref(),
                "--app NAME",
                "Application name",
                default.as_deref(),
                &check_name("application"),
            )?
        }
    };
    let workload = ask_workload(
        p,
        target,
        &WorkloadQuestions {
            flags: &args.workload,
            kind: args.kind.as_deref(),
            kinds: &ALL_KINDS,
            port: args.port,
            schedule: args.schedule.as_deref(),
            force: args.force,
        },
    )?;
    let env = p.text(
        args.env.as_deref(),
        "--env ENV",
        "Environment name",
        Some("test"),
        &check_name("environment"),
    )?;
    Ok((app, workload, env))
}

const ALL_KINDS: [WorkloadKind; 4] = [
    WorkloadKind::LoadBalancedWebService,
    WorkloadKind::BackendService,
    WorkloadKind::WorkerService,
    WorkloadKind::ScheduledJob,
];

/// The questions about one workload, and the answers given as flags.
struct WorkloadQuestions<'a> {
    flags: &'a WorkloadInitFlags,
    /// `--type`.
    kind: Option<&'a str>,
    /// The types on offer (`svc init`: services only).
    kinds: &'a [WorkloadKind],
    port: Option<u16>,
    schedule: Option<&'a str>,
    force: bool,
}

/// Asks about one workload: type, name, image, then port or schedule as the type needs.
fn ask_workload(
    p: &Prompter,
    target: &Target,
    q: &WorkloadQuestions,
) -> Result<WorkloadAnswers, AskError> {
    let kind = ask_kind(p, q.kind, q.kinds)?;
    let name = ask_name(p, target, q.flags.name.as_deref(), kind, q.force)?;
    let image = ask_image(p, target, q.flags)?;
    let port = match kind {
        WorkloadKind::LoadBalancedWebService | WorkloadKind::BackendService => {
            Some(ask_port(p, target, &image, q.port)?)
        }
        _ => None,
    };
    let schedule = match kind {
        WorkloadKind::ScheduledJob => Some(p.text(
            q.schedule,
            "--schedule SCHEDULE",
            "Schedule",
            Some("@daily"),
            &|v: &str| schedule_expression(v).map(|_| ()),
        )?),
        _ => None,
    };
    Ok(WorkloadAnswers {
        name,
        kind,
        image,
        port,
        schedule,
    })
}

/// The workload type: `--type` (one of `kinds`), the only one on offer, or a choice.
fn ask_kind(
    p: &Prompter,
    given: Option<&str>,
    kinds: &[WorkloadKind],
) -> Result<WorkloadKind, AskError> {
    let given_kind = match given {
        Some(text) => Some(
            WorkloadKind::parse(text)
                .and_then(|k| kinds.iter().position(|x| *x == k))
                .ok_or_else(|| {
                    let names: Vec<String> = kinds
                        .iter()
                        .map(|k| format!("\"{}\"", k.as_str()))
                        .collect();
                    AskError(format!(
                        "--type `{text}` is not a type this command writes; use {}",
                        names.join(", ")
                    ))
                })?,
        ),
        None if kinds.len() == 1 => Some(0),
        None => None,
    };
    let items: Vec<String> = kinds.iter().map(|k| k.as_str().to_string()).collect();
    Ok(kinds[p.select(given_kind, "--type TYPE", "Workload type", &items, 0)?])
}

/// The workload name: a valid name, not a folder tug reserves, and (without `--force`) not
/// a workload that exists.
fn ask_name(
    p: &Prompter,
    target: &Target,
    given: Option<&str>,
    kind: WorkloadKind,
    force: bool,
) -> Result<String, AskError> {
    let default_name = match kind {
        WorkloadKind::LoadBalancedWebService => "web",
        WorkloadKind::BackendService => "api",
        WorkloadKind::WorkerService => "worker",
        _ => "job",
    };
    let name_ok = |v: &str| -> Result<(), String> {
        check_name("workload")(v)?;
        if matches!(v, "environments" | "pipelines") {
            return Err(format!(
                "`{v}` is a folder tug reserves; choose another name"
            ));
        }
        let path = workload_path(target, v);
        if !force && path.exists() {
            return Err(format!(
                "{} already exists; choose another name, or pass --force to overwrite it",
                path.display()
            ));
        }
        Ok(())
    };
    p.text(
        given,
        "--name NAME",
        "Workload name",
        Some(default_name),
        &name_ok,
    )
}

/// The container port of a service, by default the one its Dockerfile exposes (else 80).
fn ask_port(
    p: &Prompter,
    target: &Target,
    image: &ImageSource,
    given: Option<u16>,
) -> Result<u16, AskError> {
    let exposed = match image {
        ImageSource::Dockerfile(path) => exposed_port(&target.project_root().join(path)),
        ImageSource::Location(_) => None,
    };
    let default = exposed.unwrap_or(80).to_string();
    let text = p.text(
        given.map(|p| p.to_string()).as_deref(),
        "--port PORT",
        "Container port",
        Some(&default),
        &|v: &str| match v.parse::<u16>() {
            Ok(n) if n > 0 => Ok(()),
            _ => Err("must be a port number between 1 and 65535".into()),
        },
    )?;
    Ok(text.parse().unwrap_or(80))
}

/// `--image`, `--dockerfile`, or a choice among the repository's Dockerfiles.
fn ask_image(
    p: &Prompter,
    target: &Target,
    flags: &WorkloadInitFlags,
) -> Result<ImageSource, AskError> {
    let root = target.project_root();
    if let Some(path) = &flags.dockerfile {
        let shown = path.to_string_lossy().replace('\\', "/");
        if !root.join(path).is_file() {
            return Err(AskError(format!(
                "--dockerfile `{shown}`: no such file under {} (the path is relative to the folder holding the workspace)",
                root.display()
            )));
        }
        return Ok(ImageSource::Dockerfile(shown));
    }
    let check_image = |v: &str| -> Result<(), String> {
        if v.is_empty() || v.contains(char::is_whitespace) {
            Err(
                "must be an image reference such as nginx:1.27 or public.ecr.aws/nginx/nginx:1.27"
                    .into(),
            )
        } else {
            Ok(())
        }
    };
    if let Some(image) = &flags.image {
        return p
            .text(Some(image), "--image IMAGE", "Image", None, &check_image)
            .map(ImageSource::Location);
    }
    if !p.interactive() {
        return Err(AskError(
            "no terminal to ask for the image: pass --image IMAGE or --dockerfile PATH".into(),
        ));
    }
    let found = find_dockerfiles(root, &target.dir);
    let mut items: Vec<String> = found.iter().map(|f| format!("Build {f}")).collect();
    items.push("Use an existing image".into());
    // With no Dockerfile in the repository there is nothing to choose: ask for the image.
    let choice = if found.is_empty() {
        0
    } else {
        p.select(None, "--image IMAGE", "Image", &items, 0)?
    };
    match found.get(choice) {
        Some(path) => Ok(ImageSource::Dockerfile(path.clone())),
        None => p
            .text(
                None,
                "--image IMAGE",
                "Image to run",
                Some("public.ecr.aws/nginx/nginx:1.27"),
                &check_image,
            )
            .map(ImageSource::Location),
    }
}

/// Dockerfiles under `root` (at most four folders deep, skipping hidden, build and
/// dependency folders), as paths relative to `root`, sorted.
fn find_dockerfiles(root: &Path, workspace: &Path) -> Vec<String> {
    const SKIP: [&str; 4] = ["target", "node_modules", "vendor", "dist"];
    let mut out = Vec::new();
    let mut todo = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = todo.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if depth < 4
                    && !name.starts_with('.')
                    && !SKIP.contains(&name.as_str())
                    && path != workspace
                {
                    todo.push((path, depth + 1));
                }
            } else if (name == "Dockerfile"
                || name.starts_with("Dockerfile.")
                || name.ends_with(".Dockerfile"))
                && let Ok(rel) = path.strip_prefix(root)
            {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// The first port a Dockerfile `EXPOSE`s.
fn exposed_port(dockerfile: &Path) -> Option<u16> {
    let text = fs::read_to_string(dockerfile).ok()?;
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if !words.next()?.eq_ignore_ascii_case("EXPOSE") {
            return None;
        }
        words.next()?.split('/').next()?.parse().ok()
    })
}

/// Writes `files`, refusing (before writing anything) when a file that must not be replaced
/// exists and `force` is off; then refreshes the JSON Schemas the manifests point to.
fn write(ctx: &Context, target: &Target, files: Vec<Planned>, force: bool) -> Result<()> {
    // Each command plans one file that may not be replaced, so the first clash is the one.
    if let Some(f) = files
        .iter()
        .find(|f| !f.keep_existing && !force && f.path.exists())
    {
        return Err(Error::failure(format!(
            "{} already exists; tug does not overwrite it",
            f.path.display()
        ))
        .help("choose another name, or pass --force to replace it")
        .about(f.path.display().to_string()));
    }
    let mut written = Vec::new();
    for f in files {
        if f.path.exists() && f.keep_existing {
            ctx.ui
                .info(&format!("kept     {} (exists)", shown(target, &f.path)));
            continue;
        }
        let replaced = f.path.exists();
        if let Some(parent) = f.path.parent()
            && let Err(e) = fs::create_dir_all(parent)
        {
            return Err(Error::failure(format!(
                "cannot create {}: {e}",
                parent.display()
            )));
        }
        fs::write(&f.path, &f.text)
            .map_err(|e| Error::failure(format!("cannot write {}: {e}", f.path.display())))?;
        let verb = if replaced { "replaced" } else { "wrote   " };
        ctx.ui.info(&format!("{verb} {}", shown(target, &f.path)));
        written.push(f.path.display().to_string());
    }
    let schema_dir = target.dir.join(SCHEMA_DIR);
    schema::write_all(&schema_dir)?;
    ctx.ui.info(&format!(
        "wrote    {}/ (JSON Schemas for editors)",
        shown(target, &schema_dir)
    ));
    if ctx.ui.json {
        // One line, so that `init --deploy --output json` stays one JSON document per line.
        ctx.ui.out(
            &serde_json::json!({
                "workspace": target.dir.display().to_string(),
                "written": written,
            })
            .to_string(),
        );
    }
    Ok(())
}

/// `path` relative to the folder holding the workspace, for messages.
fn shown(target: &Target, path: &Path) -> String {
    path.strip_prefix(target.project_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `tug env init`.
pub(crate) fn env_init(ctx: &Context, args: &EnvInitArgs) -> Result<()> {
    let p = prompter(ctx);
    let target = existing(ctx)?;
    let force = args.force;
    let name_ok = |v: &str| -> Result<(), String> {
        check_name("environment")(v)?;
        let path = env_path(&target, v);
        if !force && path.exists() {
            return Err(format!(
                "{} already exists; choose another name, or pass --force to overwrite it",
                path.display()
            ));
        }
        Ok(())
    };
    let name = p
        .text(
            args.name.as_deref(),
            "--name ENV",
            "Environment name",
            Some("test"),
            &name_ok,
        )
        .map_err(unanswered)?;
    let files = vec![Planned {
        path: env_path(&target, &name),
        text: manifests::environment(&name),
        keep_existing: false,
    }];
    write(ctx, &target, files, force)?;
    ctx.ui.info(&format!("\nNext: `tug env deploy -n {name}`."));
    Ok(())
}

/// `tug svc init`.
pub(crate) fn svc_init(ctx: &Context, args: &SvcInitArgs) -> Result<()> {
    let q = WorkloadQuestions {
        flags: &args.workload,
        kind: args.kind.as_deref(),
        kinds: &ALL_KINDS[..3],
        port: args.port,
        schedule: None,
        force: args.force,
    };
    workload_init(ctx, &q, "svc")
}

/// `tug job init`.
pub(crate) fn job_init(ctx: &Context, args: &JobInitArgs) -> Result<()> {
    let q = WorkloadQuestions {
        flags: &args.workload,
        kind: None,
        kinds: &[WorkloadKind::ScheduledJob],
        port: None,
        schedule: args.schedule.as_deref(),
        force: args.force,
    };
    workload_init(ctx, &q, "job")
}

fn workload_init(ctx: &Context, q: &WorkloadQuestions, command: &str) -> Result<()> {
    let p = prompter(ctx);
    let target = existing(ctx)?;
    let answers = ask_workload(&p, &target, q).map_err(unanswered)?;
    let files = vec![Planned {
        path: workload_path(&target, &answers.name),
        text: manifests::workload(&answers),
        keep_existing: false,
    }];
    write(ctx, &target, files, q.force)?;
    ctx.ui.info(&format!(
        "\nNext: `tug {command} deploy -n {} -e ENV`.",
        answers.name
    ));
    Ok(())
}
