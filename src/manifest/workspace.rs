//! Workspace discovery and file loading: finds the `tug/` or `copilot/` folder, reads
//! `.workspace` for the application name, and reads every environment and workload manifest
//! into located YAML. Nothing here interprets manifests; see `load` for that.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::manifest::addon_assets;
use crate::manifest::addons::{
    self, AddonFile, Addons, ENVIRONMENT_RESERVED, PARAMETER_FILES, WORKLOAD_RESERVED,
};
use crate::manifest::codes;
use crate::manifest::decode::{DecodeCx, decode_field};
use crate::manifest::diagnostic::{Code, Diagnostic};
use crate::manifest::names::name_problem;
use crate::manifest::source::{SourceId, SourceMap, Span};
use crate::manifest::yaml::{self, Node};
use crate::manifest_struct;

/// The most bytes the files of one workspace may hold together: tens of times what the
/// largest real workspaces need, and a bound on what validation and rendering take.
pub const MAX_WORKSPACE_BYTES: u64 = 16 * 1024 * 1024;

const HELP_UNREADABLE: &str =
    "check that the path exists and that you may read it (permissions, symlinks)";

/// Folder names that hold a workspace, in order of preference.
pub const WORKSPACE_DIRS: [&str; 2] = ["tug", "copilot"];

/// Why no workspace could be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkspaceError {
    NotFound { searched_from: PathBuf },
    NotADirectory(PathBuf),
    NoWorkspaceFile(PathBuf),
}

/// Not finding a workspace is a usage error: the user runs tug from the wrong folder or names
/// the wrong one.
impl From<&WorkspaceError> for Error {
    fn from(e: &WorkspaceError) -> Error {
        match e {
            WorkspaceError::NotFound { searched_from } => Error::usage(format!(
                "no tug workspace found in {} or any parent folder",
                searched_from.display()
            ))
            .help(
                "a workspace is a `tug/` or `copilot/` folder holding a `.workspace` file; run \
                 `tug init` to create one, or pass `-w DIR`",
            )
            .about(searched_from.display().to_string()),
            WorkspaceError::NotADirectory(p) => {
                Error::usage(format!("workspace path {} is not a folder", p.display()))
                    .about(p.display().to_string())
            }
            WorkspaceError::NoWorkspaceFile(p) => {
                Error::usage(format!("{} has no `.workspace` file", p.display()))
                    .help("create it with one line, `application: <app name>`, or run `tug init`")
                    .about(p.display().to_string())
            }
        }
    }
}

impl std::fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Error::from(self).fmt(f)
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
        /// tug: the application's domain, written by `tug app init --domain`.
        domain: crate::manifest::domain::DomainFile = "domain",
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
    /// `domain:` in `.workspace`: the application's domain and its hosted zones.
    pub domain: Option<crate::manifest::domain::AppDomain>,
    pub sources: SourceMap,
    pub environments: Vec<ManifestFile>,
    pub workloads: Vec<ManifestFile>,
    /// The addons of each workload that has an `addons/` folder, merged and checked (a
    /// workload whose addons are invalid has none here, and a diagnostic says why).
    pub workload_addons: BTreeMap<String, Addons>,
    /// The addons of the environments (`environments/addons/`).
    pub environment_addons: Option<Addons>,
    /// Problems found while reading files.
    pub diags: Vec<Diagnostic>,
    /// Bytes of every file read so far, against [`MAX_WORKSPACE_BYTES`].
    total_bytes: u64,
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
            domain: None,
            sources: SourceMap::default(),
            environments: Vec::new(),
            workloads: Vec::new(),
            workload_addons: BTreeMap::new(),
            environment_addons: None,
            diags: Vec::new(),
            total_bytes: 0,
        };
        ws.app = ws.read_app_name();
        let envs = dir.join("environments");
        // No `environments/` at all is a Copilot workspace without local environments; one that
        // exists but cannot be listed is an error, never "no environments".
        let env_dirs = if fs::symlink_metadata(&envs).is_ok() {
            ws.subdirs(&envs, |_| false)
        } else {
            Vec::new()
        };
        for env_dir in env_dirs {
            if let Some(file) = ws.read_manifest_in(&env_dir) {
                ws.environments.push(file);
            }
        }
        // `environments/` was read above; pipelines and hidden folders hold no workloads.
        let not_workloads =
            |name: &str| name == "environments" || name == "pipelines" || name.starts_with('.');
        for wl_dir in ws.subdirs(dir, not_workloads) {
            if let Some(file) = ws.read_manifest_in(&wl_dir) {
                if let Some(addons) = ws.read_addons(&wl_dir.join("addons"), WORKLOAD_RESERVED) {
                    ws.workload_addons.insert(file.name.clone(), addons);
                }
                ws.workloads.push(file);
            }
        }
        ws.environment_addons = ws.read_addons(&envs.join("addons"), ENVIRONMENT_RESERVED);
        ws
    }

    /// The addons in `dir`, if the folder exists: its `.yml`/`.yaml` templates in name order
    /// (Copilot's order) and its parameters file, merged and checked.
    fn read_addons(&mut self, dir: &Path, reserved: &[&str]) -> Option<Addons> {
        fs::symlink_metadata(dir).ok()?;
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.path_error(
                    dir,
                    codes::FILE_UNREADABLE,
                    format!("cannot list the folder: {e}"),
                    HELP_UNREADABLE,
                );
                return None;
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
            .collect();
        names.sort();
        let before = self.diags.len();
        let mut templates = Vec::new();
        let mut parameters = Vec::new();
        for name in names {
            let (_, node) = self.read_yaml_with(&dir.join(&name), yaml::parse_cloudformation);
            let Some(node) = node else { continue };
            let file = AddonFile { name, node };
            if PARAMETER_FILES.contains(&file.name.as_str()) {
                parameters.push(file);
            } else {
                templates.push(file);
            }
        }
        if parameters.len() > 1 {
            let span = parameters[1].node.span;
            self.diags.push(
                Diagnostic::error(
                    codes::ADDONS,
                    span,
                    format!(
                        "{} has both {}",
                        display_path(dir).display(),
                        PARAMETER_FILES.join(" and ")
                    ),
                )
                .with_help("keep one parameters file"),
            );
        }
        if self.diags.len() > before || templates.is_empty() {
            return None;
        }
        let at = templates[0].node.span;
        match addons::assemble(&templates, parameters.first(), reserved, at) {
            Ok(mut a) => {
                // Assets are resolved against the workspace root, as Copilot resolved them.
                let root = self.project_root().to_path_buf();
                let mut bad = false;
                for asset in &mut a.assets {
                    if let Err((message, help)) = addon_assets::check(asset, &root) {
                        self.diags.push(
                            Diagnostic::error(codes::ADDONS, asset.span, message).with_help(help),
                        );
                        bad = true;
                    }
                }
                (!bad).then_some(a)
            }
            Err(mut d) => {
                self.diags.append(&mut d);
                None
            }
        }
    }

    /// The manifest of a workload or environment folder: `None` when the folder has no
    /// `manifest.yml` (any folder may sit in a workspace), an error when it has one that is
    /// not a readable file (a folder, a FIFO, a symlink loop).
    fn read_manifest_in(&mut self, dir: &Path) -> Option<ManifestFile> {
        let path = dir.join("manifest.yml");
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            _ => Some(self.read_manifest(dir, &path)),
        }
    }

    /// A located error about `path` (a folder or a file that could not be read as text): the
    /// path is registered as an empty source so that the error shows `path:1:1`.
    fn path_error(&mut self, path: &Path, code: Code, message: String, help: &str) {
        let id = self.sources.add(display_path(path), String::new());
        self.diags
            .push(Diagnostic::error(code, Span::new(id, 1, 1), message).with_help(help));
    }

    /// The sub-folders of `dir`, sorted, except those `skip` names. A folder that cannot be
    /// listed, and an entry whose type cannot be read (a symlink loop), are errors.
    fn subdirs(&mut self, dir: &Path, skip: impl Fn(&str) -> bool) -> Vec<PathBuf> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.path_error(
                    dir,
                    codes::FILE_UNREADABLE,
                    format!("cannot list the folder: {e}"),
                    HELP_UNREADABLE,
                );
                return Vec::new();
            }
        };
        let mut dirs = Vec::new();
        for entry in entries {
            let path = match entry {
                Ok(entry) if skip(&entry.file_name().to_string_lossy()) => continue,
                Ok(entry) => entry.path(),
                Err(e) => {
                    self.path_error(
                        dir,
                        codes::FILE_UNREADABLE,
                        format!("cannot list the folder: {e}"),
                        HELP_UNREADABLE,
                    );
                    continue;
                }
            };
            match fs::metadata(&path) {
                Ok(m) if m.is_dir() => dirs.push(path),
                Ok(_) => {}
                // A dangling symlink points nowhere: nothing to read, as for a stray file.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => self.path_error(
                    &path,
                    codes::FILE_UNREADABLE,
                    format!("cannot read this workspace entry: {e}"),
                    HELP_UNREADABLE,
                ),
            }
        }
        dirs.sort();
        dirs
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
        self.domain = file.as_ref().and_then(|f| f.domain.as_ref()).and_then(|d| {
            crate::manifest::domain::AppDomain::from_file(&d.value, d.span, &mut cx.diags)
        });
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
        self.read_yaml_with(path, yaml::parse)
    }

    /// [`Self::read_yaml`] with the given parser.
    fn read_yaml_with(
        &mut self,
        path: &Path,
        parse: fn(SourceId, &str) -> Result<Node, yaml::YamlError>,
    ) -> (SourceId, Option<Node>) {
        let shown = display_path(path);
        let bytes = match self.read_bounded(path) {
            Ok(b) => b,
            Err((code, message, help)) => {
                let id = self.sources.add(shown, String::new());
                self.diags
                    .push(Diagnostic::error(code, Span::new(id, 1, 1), message).with_help(help));
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
        let parsed = parse(self.sources.next_id(), &text);
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

    /// Reads a file after checking, from its metadata alone, that it is a regular file (a
    /// FIFO would block the read forever), within the size limit of one manifest and within
    /// what is left of the workspace's total. A file that grows between the check and the
    /// read is cut at the limit, which the parser then refuses.
    fn read_bounded(&mut self, path: &Path) -> Result<Vec<u8>, (Code, String, &'static str)> {
        let meta = fs::metadata(path).map_err(|e| {
            (
                codes::FILE_UNREADABLE,
                format!("cannot read the file: {e}"),
                HELP_UNREADABLE,
            )
        })?;
        if meta.is_dir() {
            return Err((
                codes::FILE_UNREADABLE,
                "this is a folder, not a file".into(),
                "a manifest is a YAML file; move the folder's content out and write the manifest in its place",
            ));
        }
        if !meta.is_file() {
            return Err((
                codes::FILE_UNREADABLE,
                "this is not a regular file (a FIFO, socket or device)".into(),
                "a manifest is a YAML file; replace this with one",
            ));
        }
        let size = meta.len();
        if size > yaml::MAX_FILE_BYTES as u64 {
            return Err((
                codes::YAML_SYNTAX,
                format!(
                    "file is {size} bytes, larger than the {} byte limit for a manifest",
                    yaml::MAX_FILE_BYTES
                ),
                yaml::HELP_LIMIT,
            ));
        }
        if self.total_bytes + size > MAX_WORKSPACE_BYTES {
            return Err((
                codes::WORKSPACE,
                format!(
                    "with this file the workspace's manifests hold more than {MAX_WORKSPACE_BYTES} bytes ({} before it, {size} in it)",
                    self.total_bytes
                ),
                "a workspace holds small YAML files; remove generated or copied content",
            ));
        }
        self.total_bytes += size;
        let mut bytes = Vec::with_capacity(size as usize);
        fs::File::open(path)
            .and_then(|f| {
                f.take(yaml::MAX_FILE_BYTES as u64 + 1)
                    .read_to_end(&mut bytes)
            })
            .map_err(|e| {
                (
                    codes::FILE_UNREADABLE,
                    format!("cannot read the file: {e}"),
                    HELP_UNREADABLE,
                )
            })?;
        Ok(bytes)
    }

    fn read_manifest(&mut self, dir: &Path, path: &Path) -> ManifestFile {
        let (source, node) = self.read_yaml(path);
        let patch_path = dir.join("overrides").join("cfn.patches.yml");
        let patches = if fs::symlink_metadata(&patch_path).is_ok() {
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

    fn workspace_with_env() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("copilot");
        fs::create_dir_all(ws.join("environments/test")).unwrap();
        fs::write(ws.join(".workspace"), "application: shop\n").unwrap();
        fs::write(
            ws.join("environments/test/manifest.yml"),
            "name: test\ntype: Environment\n",
        )
        .unwrap();
        (tmp, ws)
    }

    /// `(path, line, col, code, message)` of each error.
    fn errors(w: &Workspace) -> Vec<(String, u32, u32, &'static str, String)> {
        w.diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                (
                    w.sources
                        .path(d.span.source)
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    d.span.line,
                    d.span.col,
                    d.code.id,
                    d.message.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn a_manifest_that_is_a_folder_is_a_located_error() {
        let (_tmp, ws) = workspace_with_env();
        fs::create_dir_all(ws.join("web/manifest.yml")).unwrap();
        let w = Workspace::open(&ws);
        let errs = errors(&w);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].0.ends_with("web/manifest.yml"), "{errs:?}");
        assert_eq!((errs[0].1, errs[0].2, errs[0].3), (1, 1, "TUG101"));
        assert!(errs[0].4.contains("folder"), "{errs:?}");
        assert_eq!(w.workloads.len(), 1, "the workload is not silently skipped");
    }

    #[test]
    fn a_manifest_that_is_a_fifo_is_an_error_and_never_opened() {
        let (_tmp, ws) = workspace_with_env();
        fs::create_dir_all(ws.join("web")).unwrap();
        let fifo = ws.join("web/manifest.yml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a FIFO blocks until a writer comes: this test would hang if it were read.
        let w = Workspace::open(&ws);
        let errs = errors(&w);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].4.contains("not a regular file"), "{errs:?}");
    }

    #[test]
    fn a_manifest_in_a_symlink_loop_is_an_error() {
        let (_tmp, ws) = workspace_with_env();
        fs::create_dir_all(ws.join("web")).unwrap();
        std::os::unix::fs::symlink(ws.join("web/a.yml"), ws.join("web/manifest.yml")).unwrap();
        std::os::unix::fs::symlink(ws.join("web/manifest.yml"), ws.join("web/a.yml")).unwrap();
        let w = Workspace::open(&ws);
        let errs = errors(&w);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].0.ends_with("web/manifest.yml"));
        assert!(errs[0].4.starts_with("cannot read the file"), "{errs:?}");
    }

    #[test]
    fn an_unreadable_environments_folder_is_an_error() {
        let (_tmp, ws) = workspace_with_env();
        fs::remove_dir_all(ws.join("environments")).unwrap();
        // A symlink loop cannot be listed by anyone (a mode of 000 can, by root).
        std::os::unix::fs::symlink(ws.join("environments"), ws.join("environments")).unwrap();
        let w = Workspace::open(&ws);
        let errs = errors(&w);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].0.ends_with("environments"), "{errs:?}");
        assert!(errs[0].4.starts_with("cannot list the folder"), "{errs:?}");
    }

    #[test]
    fn folders_without_a_manifest_and_dangling_links_are_not_errors() {
        let (_tmp, ws) = workspace_with_env();
        fs::create_dir_all(ws.join("notes")).unwrap();
        std::os::unix::fs::symlink(ws.join("gone"), ws.join("old")).unwrap();
        let w = Workspace::open(&ws);
        assert!(errors(&w).is_empty(), "{:?}", errors(&w));
        assert!(w.workloads.is_empty());
    }

    #[test]
    fn a_manifest_over_the_limit_is_refused_by_its_size() {
        let (_tmp, ws) = workspace_with_env();
        fs::create_dir_all(ws.join("web")).unwrap();
        // A sparse file: its size says 2 MiB, and reading it would be the only way to see
        // that it is empty. The error quotes the size from the metadata.
        let f = fs::File::create(ws.join("web/manifest.yml")).unwrap();
        f.set_len(2 * 1024 * 1024).unwrap();
        let w = Workspace::open(&ws);
        let errs = errors(&w);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].3, "TUG100");
        assert!(errs[0].4.starts_with("file is 2097152 bytes"), "{errs:?}");
        assert_eq!(
            w.sources.get(w.workloads[0].source).unwrap().text,
            "",
            "not read"
        );
    }

    #[test]
    fn a_workspace_over_its_total_is_refused_at_the_file_that_crosses_it() {
        let (_tmp, ws) = workspace_with_env();
        let big = format!("name: x\n#{}\n", "x".repeat(1000 * 1024));
        let n = (MAX_WORKSPACE_BYTES / big.len() as u64) as usize + 1;
        for i in 0..n {
            fs::create_dir_all(ws.join(format!("w{i:02}"))).unwrap();
            fs::write(ws.join(format!("w{i:02}/manifest.yml")), &big).unwrap();
        }
        let w = Workspace::open(&ws);
        let errs = errors(&w);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].3, "TUG502");
        assert!(
            errs[0].0.ends_with(&format!("w{:02}/manifest.yml", n - 1)),
            "{errs:?}"
        );
        assert!(errs[0].4.contains("more than 16777216 bytes"), "{errs:?}");
    }
}
