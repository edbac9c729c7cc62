//! Workspace discovery and file loading: finds the `tug/` or `copilot/` folder, reads
//! `.workspace` for the application name, and reads every environment and workload manifest
//! into located YAML. Nothing here interprets manifests; see `load` for that.

use std::fs;
use std::path::{Path, PathBuf};

use crate::manifest::decode::{DecodeCx, decode_field};
use crate::manifest::source::{SourceId, SourceMap, Span};
use crate::manifest::yaml::{self, Node};
use crate::manifest_struct;
use crate::validate::codes;
use crate::validate::diagnostic::Diagnostic;
use crate::validate::rules::name_problem;

/// Folder names that hold a workspace, in order of preference.
pub const WORKSPACE_DIRS: [&str; 2] = ["tug", "copilot"];

/// Why no workspace could be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkspaceError {
    NotFound { searched_from: PathBuf },
    NotADirectory(PathBuf),
    NoWorkspaceFile(PathBuf),
}

impl std::fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkspaceError::NotFound { searched_from } => write!(
                f,
                "no tug workspace found in {} or any parent folder\n  help: a workspace is a \
                 `tug/` or `copilot/` folder holding a `.workspace` file; run `tug init` to \
                 create one, or pass `-w DIR`",
                searched_from.display()
            ),
            WorkspaceError::NotADirectory(p) => {
                write!(f, "workspace path {} is not a folder", p.display())
            }
            WorkspaceError::NoWorkspaceFile(p) => write!(
                f,
                "{} has no `.workspace` file\n  help: create it with one line, \
                 `application: <app name>`, or run `tug init`",
                p.display()
            ),
        }
    }
}

/// Finds the workspace folder: `explicit` (the folder itself or a project root holding one),
/// or the nearest `tug/` or `copilot/` with a `.workspace` walking up from `start`.
pub fn discover(start: &Path, explicit: Option<&Path>) -> Result<PathBuf, WorkspaceError> {
    if let Some(dir) = explicit {
        let dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            start.join(dir)
        };
        if !dir.is_dir() {
            return Err(WorkspaceError::NotADirectory(dir));
        }
        if dir.join(".workspace").is_file() {
            return Ok(dir);
        }
        for name in WORKSPACE_DIRS {
            if dir.join(name).join(".workspace").is_file() {
                return Ok(dir.join(name));
            }
        }
        return Err(WorkspaceError::NoWorkspaceFile(dir));
    }
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in WORKSPACE_DIRS {
            let candidate = d.join(name);
            if candidate.join(".workspace").is_file() {
                return Ok(candidate);
            }
        }
        // Inside the workspace folder itself.
        if d.join(".workspace").is_file()
            && d.file_name()
                .is_some_and(|n| WORKSPACE_DIRS.iter().any(|w| n == *w))
        {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Err(WorkspaceError::NotFound {
        searched_from: start.to_path_buf(),
    })
}

manifest_struct! {
    /// The `.workspace` file.
    pub struct WorkspaceFile {
        application: String = "application",
        /// tug: read this workspace's manifests as `--lenient` does (Copilot ignores the key).
        lenient: bool = "lenient",
    }
}

/// One manifest file as read from disk.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// The folder name: the workload or environment name.
    pub name: String,
    pub path: PathBuf,
    pub source: SourceId,
    /// The parsed document; `None` when it could not be read or parsed (a diagnostic says why).
    pub node: Option<Node>,
    /// `overrides/cfn.patches.yml` next to a workload manifest, parsed.
    pub patches: Option<Node>,
}

/// A workspace read from disk.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The `tug/` or `copilot/` folder.
    pub dir: PathBuf,
    /// The application name from `.workspace`, when it could be read.
    pub app: Option<String>,
    /// `lenient: true` in `.workspace`: every command reads the manifests as `--lenient`.
    pub lenient: bool,
    pub sources: SourceMap,
    pub environments: Vec<ManifestFile>,
    pub workloads: Vec<ManifestFile>,
    /// Problems found while reading files.
    pub diags: Vec<Diagnostic>,
}

impl Workspace {
    /// The folder that holds the workspace folder: manifest paths are relative to it.
    pub fn project_root(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    /// Reads the workspace at `dir` (as returned by [`discover`]).
    pub fn open(dir: &Path) -> Workspace {
        let mut ws = Workspace {
            dir: dir.to_path_buf(),
            app: None,
            lenient: false,
            sources: SourceMap::default(),
            environments: Vec::new(),
            workloads: Vec::new(),
            diags: Vec::new(),
        };
        ws.app = ws.read_app_name();
        for env_dir in sorted_subdirs(&dir.join("environments")) {
            let path = env_dir.join("manifest.yml");
            if path.is_file() {
                let file = ws.read_manifest(&env_dir, &path);
                ws.environments.push(file);
            }
        }
        for wl_dir in sorted_subdirs(dir) {
            let name = dir_name(&wl_dir);
            if name == "environments" || name == "pipelines" || name.starts_with('.') {
                continue;
            }
            let path = wl_dir.join("manifest.yml");
            if path.is_file() {
                let file = ws.read_manifest(&wl_dir, &path);
                ws.workloads.push(file);
            }
        }
        ws
    }

    fn read_app_name(&mut self) -> Option<String> {
        let path = self.dir.join(".workspace");
        let node = self.read_yaml(&path).1?;
        let mut cx = DecodeCx::new(false);
        let file = decode_field::<WorkspaceFile>(&node, &mut cx).map(|f| f.value);
        self.lenient = file
            .as_ref()
            .and_then(|f| f.lenient.as_ref())
            .is_some_and(|l| l.value);
        let app = file.and_then(|f| f.application);
        self.diags.append(&mut cx.diags);
        if let Some(problem) = app.as_ref().and_then(|a| name_problem(&a.value)) {
            self.diags.push(
                Diagnostic::error(codes::INVALID_NAME, app.as_ref().map_or(node.span, |a| a.span), format!("application name {problem}"))
                    .with_help("application names are used in stack and resource names; rename it in .workspace"),
            );
        }
        let app = app.map(|a| a.value);
        if app.is_none() && self.diags.iter().all(|d| !d.is_error()) {
            self.diags.push(
                Diagnostic::error(
                    codes::WORKSPACE,
                    node.span,
                    ".workspace does not name the application",
                )
                .with_help("add a line `application: <app name>`"),
            );
        }
        app
    }

    /// Reads and parses one YAML file. The file is always registered as a source, so that
    /// diagnostics about it can be shown; the node is `None` when it could not be parsed.
    fn read_yaml(&mut self, path: &Path) -> (SourceId, Option<Node>) {
        let shown = display_path(path);
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                let id = self.sources.add(shown, String::new());
                self.diags.push(Diagnostic::error(
                    codes::FILE_UNREADABLE,
                    Span::new(id, 1, 1),
                    format!("cannot read the file: {e}"),
                ));
                return (id, None);
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
                let line = text.matches('\n').count() + 1;
                let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                // Show the file up to the end of the line holding the bad byte.
                let rest = String::from_utf8_lossy(&bytes[valid..]);
                let text = format!("{text}{}", rest.split('\n').next().unwrap_or(""));
                let id = self.sources.add(shown, text);
                self.diags.push(
                    Diagnostic::error(
                        codes::YAML_SYNTAX,
                        Span::new(id, line as u32, col as u32),
                        "file is not UTF-8 text",
                    )
                    .with_help("manifests must be UTF-8 encoded YAML; re-save the file as UTF-8"),
                );
                return (id, None);
            }
        };
        let text = text
            .strip_prefix('\u{feff}')
            .map(str::to_string)
            .unwrap_or(text);
        let parsed = yaml::parse(self.sources.next_id(), &text);
        let id = self.sources.add(shown, text);
        match parsed {
            Ok(node) => (id, Some(node)),
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(codes::YAML_SYNTAX, e.span, e.message).with_help(e.help),
                );
                (id, None)
            }
        }
    }

    fn read_manifest(&mut self, dir: &Path, path: &Path) -> ManifestFile {
        let (source, node) = self.read_yaml(path);
        let patch_path = dir.join("overrides").join("cfn.patches.yml");
        let patches = if patch_path.is_file() {
            self.read_yaml(&patch_path).1
        } else {
            None
        };
        ManifestFile {
            name: dir_name(dir),
            path: path.to_path_buf(),
            source,
            node,
            patches,
        }
    }

    /// The names of the environments that have a manifest.
    pub fn environment_names(&self) -> Vec<String> {
        self.environments.iter().map(|e| e.name.clone()).collect()
    }
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn sorted_subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Paths are shown relative to the current directory when they are under it.
fn display_path(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => path
            .strip_prefix(&cwd)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf()),
        Err(_) => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_by_walking_up() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("copilot");
        fs::create_dir_all(ws.join("web")).unwrap();
        fs::write(ws.join(".workspace"), "application: shop\n").unwrap();
        let deep = tmp.path().join("src/a/b");
        fs::create_dir_all(&deep).unwrap();
        assert_eq!(discover(&deep, None).unwrap(), ws);
        assert_eq!(discover(&ws.join("web"), None).unwrap(), ws);
        assert_eq!(
            discover(tmp.path(), Some(Path::new("copilot"))).unwrap(),
            ws
        );
        assert_eq!(discover(&deep, Some(tmp.path())).unwrap(), ws);
    }

    #[test]
    fn tug_folder_wins_over_copilot() {
        let tmp = tempfile::tempdir().unwrap();
        for name in WORKSPACE_DIRS {
            fs::create_dir_all(tmp.path().join(name)).unwrap();
            fs::write(tmp.path().join(name).join(".workspace"), "application: a\n").unwrap();
        }
        assert_eq!(discover(tmp.path(), None).unwrap(), tmp.path().join("tug"));
    }

    #[test]
    fn missing_workspace_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let err = discover(tmp.path(), None).unwrap_err();
        assert!(err.to_string().contains("tug init"));
        fs::create_dir_all(tmp.path().join("copilot")).unwrap();
        let err = discover(tmp.path(), Some(Path::new("copilot"))).unwrap_err();
        assert!(matches!(err, WorkspaceError::NoWorkspaceFile(_)));
    }

    #[test]
    fn reads_app_name_and_manifests() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("tug");
        fs::create_dir_all(ws.join("environments/test")).unwrap();
        fs::create_dir_all(ws.join("web")).unwrap();
        fs::create_dir_all(ws.join("notes")).unwrap();
        fs::write(ws.join(".workspace"), "application: shop\n").unwrap();
        fs::write(
            ws.join("environments/test/manifest.yml"),
            "name: test\ntype: Environment\n",
        )
        .unwrap();
        fs::write(ws.join("web/manifest.yml"), "name: web\n").unwrap();
        let w = Workspace::open(&ws);
        assert_eq!(w.app.as_deref(), Some("shop"));
        assert_eq!(w.environment_names(), ["test"]);
        assert_eq!(w.workloads.len(), 1);
        assert!(w.diags.is_empty());
    }
}
