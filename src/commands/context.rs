//! What every command gets: the global flags, the UI, and access to the workspace.

use std::collections::HashMap;
use std::future::Future;
use std::sync::OnceLock;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::load::{LoadOptions, Loaded, ResolvedWorkload, load};
use crate::manifest::workspace::{Workspace, WorkspaceError, discover};
use crate::ui::{Style, Ui};
use crate::validate::{has_errors, report, validate};

pub(crate) struct Context {
    pub global: GlobalArgs,
    pub ui: Ui,
    /// The process's one async runtime, started by the first command that talks to AWS.
    runtime: OnceLock<tokio::runtime::Runtime>,
}

impl Context {
    pub(crate) fn new(global: GlobalArgs, ui: Ui) -> Context {
        Context {
            global,
            ui,
            runtime: OnceLock::new(),
        }
    }

    /// Runs `work` to completion on the process's async runtime (started on first use;
    /// commands that never talk to AWS never start it). Failing to start it is exit code 1.
    pub(crate) fn block_on<F: Future>(&self, work: F) -> Result<F::Output> {
        if self.runtime.get().is_none() {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::failure(format!("cannot start the async runtime: {e}")))?;
            let _ = self.runtime.set(runtime);
        }
        match self.runtime.get() {
            Some(runtime) => Ok(runtime.block_on(work)),
            None => Err(Error::failure("cannot start the async runtime")),
        }
    }

    /// Finds and reads the workspace (from `-w` or the current directory).
    pub(crate) fn open_workspace(&self) -> Result<Workspace, WorkspaceError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let dir = discover(&cwd, self.global.workspace.as_deref())?;
        Ok(Workspace::open(&dir))
    }

    /// Whether manifests are read leniently: `--lenient`, or `lenient: true` in the
    /// workspace's `.workspace`. Every command that loads manifests asks this, so a key
    /// Copilot ignored is a warning (once per key) everywhere, not only in `tug validate`.
    pub(crate) fn lenient(&self, ws: &Workspace) -> bool {
        self.global.lenient || ws.lenient
    }

    /// The process environment, for `${VAR}` interpolation.
    pub(crate) fn variables(&self) -> HashMap<String, String> {
        std::env::vars().collect()
    }

    /// Opens the workspace (see [`Context::open_workspace`]); not finding one is a usage
    /// error.
    pub(crate) fn workspace(&self) -> Result<Workspace> {
        self.open_workspace().map_err(|e| Error::from(&e))
    }

    /// Loads the manifests of `ws` with `opts`; a file that cannot be read or parsed is a
    /// usage error.
    pub(crate) fn load(&self, ws: &Workspace, opts: &LoadOptions) -> Result<Loaded> {
        load(ws, opts).map_err(|e| Error::from(&e))
    }

    /// Opens the workspace and loads it for `env` (all when `None`), refusing invalid
    /// manifests: their diagnostics are printed, then the refusal is the error (exit 3).
    pub(crate) fn load_valid(&self, env: Option<String>) -> Result<(Workspace, Loaded)> {
        let ws = self.workspace()?;
        let opts = LoadOptions {
            lenient: self.lenient(&ws),
            environment: env,
            variables: self.variables(),
        };
        let loaded = self.load(&ws, &opts)?;
        let diags = validate(&loaded);
        for d in &diags {
            if self.ui.quiet && !d.is_error() {
                continue;
            }
            self.ui.diagnostic(&report::format_text(
                d,
                &ws.sources,
                &loaded.environment_names,
                &self.ui,
            ));
        }
        if has_errors(&diags) {
            return Err(Error::with_code(
                exit::INVALID_MANIFESTS,
                format!(
                    "the manifests are invalid ({}); run `tug validate` for details",
                    report::summary(&diags)
                ),
            ));
        }
        Ok((ws, loaded))
    }
}

/// Refuses an environment the workspace has no manifest for.
pub(crate) fn known_environment(loaded: &Loaded, env_name: &str) -> Result<()> {
    if loaded.environments.iter().any(|e| e.name == env_name) {
        return Ok(());
    }
    Err(
        Error::usage(format!("environment `{env_name}` has no manifest")).help(format!(
            "write copilot/environments/{env_name}/manifest.yml (type: Environment)"
        )),
    )
}

/// The workload named `name`, or a usage error listing the workspace's workloads.
pub(crate) fn known_workload<'a>(loaded: &'a Loaded, name: &str) -> Result<&'a ResolvedWorkload> {
    loaded
        .workloads
        .iter()
        .find(|w| w.name == name)
        .ok_or_else(|| {
            let known: Vec<&str> = loaded.workloads.iter().map(|w| w.name.as_str()).collect();
            Error::usage(format!("no workload named `{name}` in this workspace"))
                .help(format!("workloads: {}", known.join(", ")))
        })
}

/// Diagnostics go to stderr, so their parts take stderr's colours. The bridge lives here, on
/// top, because neither side may name the other (tests/layering.rs).
impl report::Paint for Ui {
    fn paint(&self, part: report::Part, text: &str) -> String {
        let style = match part {
            report::Part::Error => Style::Error,
            report::Part::Warning => Style::Warning,
            report::Part::Emphasis => Style::Emphasis,
            report::Part::Accent => Style::Accent,
        };
        self.paint_err(style, text)
    }
}
