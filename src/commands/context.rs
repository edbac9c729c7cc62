//! What every command gets: the global flags, the UI, and access to the workspace.

use std::collections::HashMap;

use crate::cli::GlobalArgs;
use crate::manifest::workspace::{Workspace, WorkspaceError, discover};
use crate::ui::Ui;

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

    /// The process environment, for `${VAR}` interpolation.
    pub fn variables(&self) -> HashMap<String, String> {
        std::env::vars().collect()
    }
}
