//! What every command gets: the global flags, the UI, and access to the workspace.

use std::collections::HashMap;

use crate::cli::GlobalArgs;
use crate::exit;
use crate::manifest::load::{LoadOptions, Loaded, load};
use crate::manifest::workspace::{Workspace, WorkspaceError, discover};
use crate::ui::Ui;
use crate::validate::{has_errors, report, validate};

pub struct Context {
    pub global: GlobalArgs,
    pub ui: Ui,
}

impl Context {
    pub fn new(global: GlobalArgs, ui: Ui) -> Context {
        Context { global, ui }
    }

    /// Finds and reads the workspace (from `-w` or the current directory).
    pub fn open_workspace(&self) -> Result<Workspace, WorkspaceError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let dir = discover(&cwd, self.global.workspace.as_deref())?;
        Ok(Workspace::open(&dir))
    }

    /// Whether manifests are read leniently: `--lenient`, or `lenient: true` in the
    /// workspace's `.workspace`. Every command that loads manifests asks this, so a key
    /// Copilot ignored is a warning (once per key) everywhere, not only in `tug validate`.
    pub fn lenient(&self, ws: &Workspace) -> bool {
        self.global.lenient || ws.lenient
    }

    /// The process environment, for `${VAR}` interpolation.
    pub fn variables(&self) -> HashMap<String, String> {
        std::env::vars().collect()
    }

    /// Opens the workspace and loads it for `env` (all when `None`), refusing invalid
    /// manifests: their diagnostics are printed and the exit code returned as the error.
    pub fn load_valid(&self, env: Option<String>) -> Result<(Workspace, Loaded), u8> {
        let ws = self.open_workspace().map_err(|e| {
            self.ui.error(&e.to_string());
            exit::USAGE
        })?;
        let opts = LoadOptions {
            lenient: self.lenient(&ws),
            environment: env,
            variables: self.variables(),
        };
        let loaded = load(&ws, &opts).map_err(|e| {
            self.ui.error(&e.to_string());
            exit::USAGE
        })?;
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
            self.ui.error(&format!(
                "the manifests are invalid ({}); run `tug validate` for details",
                report::summary(&diags)
            ));
            return Err(exit::INVALID_MANIFESTS);
        }
        Ok((ws, loaded))
    }
}
