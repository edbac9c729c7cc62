//! Addon assets: resource properties of an addon template that name a local file or folder
//! (a Lambda function's `Code: ./hello`), which Copilot packaged like `aws cloudformation
//! package` did. This module owns which properties those are and in which form each takes its
//! S3 location (Copilot's `internal/pkg/addon/package.go` is the fact source), the offline
//! checks of the path, and turning an asset into the bytes to upload under a content-addressed
//! key. Paths are relative to the workspace root, the folder holding `copilot/` (Copilot's
//! `WorkspacePath`), as `env_file` paths are.

use std::fs;
use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::manifest::source::Span;
use crate::manifest::yaml::{Node, NodeKind};
use crate::manifest::zip;

/// What a property does with a local path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Takes {
    /// A zip archive: a folder is zipped, and so is a single file (Lambda code).
    Zip,
    /// A folder is zipped, a file is uploaded as it is (an Elastic Beanstalk source bundle).
    FileOrFolder,
    /// One file, uploaded as it is (a template, a schema, a script): a folder is an error.
    File,
}

/// Where the S3 location goes: an object with the bucket and key under these names, or one
/// string (`s3://bucket/key`, or the object's HTTPS URL for a nested stack's `TemplateURL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Object(&'static str, &'static str),
    S3Uri,
    HttpsUrl,
}

pub(crate) struct Packaged {
    kind: &'static str,
    path: &'static [&'static str],
    form: Form,
    takes: Takes,
}

const fn p(
    kind: &'static str,
    path: &'static [&'static str],
    form: Form,
    takes: Takes,
) -> Packaged {
    Packaged {
        kind,
        path,
        form,
        takes,
    }
}

/// The properties Copilot packaged (the resource types and properties of its package.go).
const PACKAGED: &[Packaged] = &[
    p(
        "AWS::ApiGateway::RestApi",
        &["BodyS3Location"],
        Form::Object("Bucket", "Key"),
        Takes::File,
    ),
    p(
        "AWS::Lambda::Function",
        &["Code"],
        Form::Object("S3Bucket", "S3Key"),
        Takes::Zip,
    ),
    p(
        "AWS::Lambda::LayerVersion",
        &["Content"],
        Form::Object("S3Bucket", "S3Key"),
        Takes::Zip,
    ),
    p(
        "AWS::Serverless::Function",
        &["CodeUri"],
        Form::S3Uri,
        Takes::Zip,
    ),
    p(
        "AWS::Serverless::LayerVersion",
        &["ContentUri"],
        Form::S3Uri,
        Takes::Zip,
    ),
    p(
        "AWS::Serverless::Application",
        &["Location"],
        Form::S3Uri,
        Takes::File,
    ),
    p(
        "AWS::AppSync::GraphQLSchema",
        &["DefinitionS3Location"],
        Form::S3Uri,
        Takes::File,
    ),
    p(
        "AWS::AppSync::Resolver",
        &["RequestMappingTemplateS3Location"],
        Form::S3Uri,
        Takes::File,
    ),
    p(
        "AWS::AppSync::Resolver",
        &["ResponseMappingTemplateS3Location"],
        Form::S3Uri,
        Takes::File,
    ),
    p(
        "AWS::AppSync::FunctionConfiguration",
        &["RequestMappingTemplateS3Location"],
        Form::S3Uri,
        Takes::File,
    ),
    p(
        "AWS::AppSync::FunctionConfiguration",
        &["ResponseMappingTemplateS3Location"],
        Form::S3Uri,
        Takes::File,
    ),
    p(
        "AWS::Serverless::Api",
        &["DefinitionUri"],
        Form::S3Uri,
        Takes::File,
    ),
    p(
        "AWS::ElasticBeanstalk::ApplicationVersion",
        &["SourceBundle"],
        Form::Object("S3Bucket", "S3Key"),
        Takes::FileOrFolder,
    ),
    // CloudFormation takes only an HTTPS URL here (`aws cloudformation package` writes one).
    p(
        "AWS::CloudFormation::Stack",
        &["TemplateURL"],
        Form::HttpsUrl,
        Takes::File,
    ),
    p(
        "AWS::Glue::Job",
        &["Command", "ScriptLocation"],
        Form::S3Uri,
        Takes::File,
    ),
    p(
        "AWS::StepFunctions::StateMachine",
        &["DefinitionS3Location"],
        Form::Object("Bucket", "Key"),
        Takes::File,
    ),
    p(
        "AWS::Serverless::StateMachine",
        &["DefinitionUri"],
        Form::Object("Bucket", "Key"),
        Takes::File,
    ),
    p(
        "AWS::CodeCommit::Repository",
        &["Code", "S3"],
        Form::Object("Bucket", "Key"),
        Takes::Zip,
    ),
];

/// A local path named by a property of an addon resource (or by the `Location` of an
/// `AWS::Include` transform), as written.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetRef {
    /// What names the path, for messages: "`Code` of resource `Handler`".
    pub subject: String,
    /// Where the path is in the merged template: keys from its root, array indices as numbers.
    pub pointer: Vec<String>,
    /// The path as written in the template.
    pub local: String,
    pub span: Span,
    pub(crate) form: Form,
    pub(crate) takes: Takes,
    /// The file or folder, once the workspace reader has resolved and checked it.
    pub file: Option<PathBuf>,
}

/// A path Copilot packaged: anything but an `s3://` or `http(s)://` location.
fn is_local(text: &str) -> bool {
    !(text.is_empty()
        || ["s3://", "https://", "http://"]
            .iter()
            .any(|r| text.starts_with(r)))
}

/// The properties of `resource` (logical id `id`) that name a local path.
pub(crate) fn local_paths(id: &str, resource: &Node) -> Vec<AssetRef> {
    let Some(kind) = resource.get("Type").and_then(Node::as_str) else {
        return Vec::new();
    };
    let Some(properties) = resource.get("Properties") else {
        return Vec::new();
    };
    PACKAGED
        .iter()
        .filter(|p| p.kind == kind)
        .filter_map(|p| {
            let value = p
                .path
                .iter()
                .try_fold(properties, |node, key| node.get(key))?;
            let text = value.as_str()?;
            is_local(text).then(|| AssetRef {
                subject: format!("`{}` of resource `{id}`", p.path.join(".")),
                pointer: ["Resources", id, "Properties"]
                    .iter()
                    .chain(p.path)
                    .map(|s| s.to_string())
                    .collect(),
                local: text.to_string(),
                span: value.span,
                form: p.form,
                takes: p.takes,
                file: None,
            })
        })
        .collect()
}

/// The local `Location` of `transform` when it is an `AWS::Include` (Copilot packaged those
/// too, uploading the file as it is); `pointer` is where `transform` is.
pub(crate) fn include(transform: &Node, pointer: &[String], at: &str) -> Option<AssetRef> {
    if transform.get("Name")?.as_str()? != "AWS::Include" {
        return None;
    }
    let location = transform.get("Parameters")?.get("Location")?;
    let text = location.as_str()?;
    is_local(text).then(|| AssetRef {
        subject: format!("the `AWS::Include` location in {at}"),
        pointer: pointer
            .iter()
            .cloned()
            .chain(["Parameters".to_string(), "Location".to_string()])
            .collect(),
        local: text.to_string(),
        span: location.span,
        form: Form::S3Uri,
        takes: Takes::File,
        file: None,
    })
}

/// Every `Fn::Transform` of `AWS::Include` with a local location under `node`, which is at
/// `pointer` (`at` names it in messages).
pub(crate) fn includes(node: &Node, pointer: &mut Vec<String>, at: &str, out: &mut Vec<AssetRef>) {
    match &node.kind {
        NodeKind::Map(items) => {
            for (key, value) in items {
                let key = key.as_str().unwrap_or("").to_string();
                pointer.push(key.clone());
                if key == "Fn::Transform"
                    && let Some(asset) = include(value, pointer, at)
                {
                    out.push(asset);
                }
                includes(value, pointer, at, out);
                pointer.pop();
            }
        }
        NodeKind::Seq(items) => {
            for (i, value) in items.iter().enumerate() {
                pointer.push(i.to_string());
                includes(value, pointer, at, out);
                pointer.pop();
            }
        }
        _ => {}
    }
}

/// Resolves `asset` against the workspace root `root`: the path must exist, stay inside the
/// workspace, and be a file when the property takes one file. Returns (message, help).
pub(crate) fn check(asset: &mut AssetRef, root: &Path) -> Result<(), (String, String)> {
    let joined = root.join(&asset.local);
    let what = format!("{} names {}", asset.subject, asset.local);
    // An absolute path (Copilot took those too) is checked by where it leads, below.
    let lexically_inside = Path::new(&asset.local).is_absolute()
        || Path::new(&asset.local)
            .components()
            .try_fold(0i32, |depth, c| match c {
                Component::ParentDir if depth == 0 => None,
                Component::ParentDir => Some(depth - 1),
                Component::Normal(_) => Some(depth + 1),
                Component::CurDir => Some(depth),
                Component::RootDir | Component::Prefix(_) => Some(depth),
            })
            .is_some();
    let help_inside = "addon assets are packaged from the workspace: give a path relative to the folder that holds `copilot/`, inside it";
    if !lexically_inside {
        return Err((
            format!("{what}, which is outside the workspace"),
            help_inside.to_string(),
        ));
    }
    let real = match fs::canonicalize(&joined) {
        Ok(p) => p,
        Err(e) => {
            return Err((
                format!("{what}, which cannot be read ({}): {e}", joined.display()),
                "paths of addon assets are relative to the workspace root, the folder that holds `copilot/` (as Copilot read them)".to_string(),
            ));
        }
    };
    // A symbolic link may lead out of the workspace even when the path does not.
    let root_real = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if !real.starts_with(&root_real) {
        return Err((
            format!(
                "{what}, which leads outside the workspace (to {})",
                real.display()
            ),
            help_inside.to_string(),
        ));
    }
    if asset.takes == Takes::File && real.is_dir() {
        return Err((
            format!("{what}, a folder, where one file is needed"),
            "name the file itself (a template, schema or script); only code properties such as Lambda's `Code` take a folder, which is zipped".to_string(),
        ));
    }
    asset.file = Some(real);
    Ok(())
}

/// The bytes of one packaged asset and its content-addressed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: &'static str,
}

/// Reads and (where the property takes a zip, or the path is a folder) zips the asset.
pub(crate) fn build(asset: &AssetRef) -> Result<Built> {
    let file = asset
        .file
        .as_deref()
        .ok_or_else(|| Error::failure(format!("{} was not checked", asset.local)))?;
    let zipped = asset.takes == Takes::Zip || file.is_dir();
    let body = if file.is_dir() {
        let mut entries = Vec::new();
        collect(file, "", &mut entries)?;
        zip::write(entries)
            .map_err(|e| Error::failure(format!("cannot zip {}: {e}", file.display())))?
    } else if zipped {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        zip::write(vec![read_entry(file, name)?])
            .map_err(|e| Error::failure(format!("cannot zip {}: {e}", file.display())))?
    } else {
        fs::read(file).map_err(|e| cannot("read", file, &e))?
    };
    let hash: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Built {
        key: format!("addons/assets/{hash}{}", if zipped { ".zip" } else { "" }),
        body,
        content_type: if zipped {
            "application/zip"
        } else {
            "application/octet-stream"
        },
    })
}

/// `cannot <doing> <path>: <error>`.
fn cannot(doing: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::failure(format!("cannot {doing} {}: {e}", path.display()))
}

fn read_entry(file: &Path, name: String) -> Result<zip::Entry> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(file).map_err(|e| cannot("read", file, &e))?;
    let data = fs::read(file).map_err(|e| cannot("read", file, &e))?;
    Ok(zip::Entry {
        name,
        mode: meta.permissions().mode() & 0o7777,
        data,
    })
}

/// Every file under `dir`, named by its path below the zipped folder. A link to a folder is
/// refused (it may loop); a link to a file is zipped as the file.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<zip::Entry>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| cannot("list", dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| cannot("list", dir, &e))?;
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let link = fs::symlink_metadata(&path)
            .map_err(|e| cannot("read", &path, &e))?
            .file_type()
            .is_symlink();
        if path.is_dir() {
            if link {
                return Err(Error::failure(format!(
                    "{} is a link to a folder, which tug does not zip",
                    path.display()
                )));
            }
            collect(&path, &format!("{name}/"), out)?;
        } else {
            out.push(read_entry(&path, name)?);
        }
    }
    Ok(())
}

/// The S3 location of `key` in the form `asset`'s property takes.
pub(crate) fn location(
    asset: &AssetRef,
    bucket: &str,
    url: &dyn Fn(&str) -> String,
    key: &str,
) -> Value {
    match asset.form {
        Form::Object(b, k) => json!({ b: bucket, k: key }),
        Form::S3Uri => json!(format!("s3://{bucket}/{key}")),
        Form::HttpsUrl => json!(url(key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(local: &str, takes: Takes) -> AssetRef {
        AssetRef {
            subject: "`Code` of resource `Fn`".into(),
            pointer: vec![
                "Resources".into(),
                "Fn".into(),
                "Properties".into(),
                "Code".into(),
            ],
            local: local.into(),
            span: Span::new(crate::manifest::source::SourceId::default(), 1, 1),
            form: Form::Object("S3Bucket", "S3Key"),
            takes,
            file: None,
        }
    }

    /// Source: the brief's rule (nothing outside the workspace is uploaded), on a real file system.
    #[test]
    fn paths_outside_the_workspace_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("ws")).unwrap();
        fs::write(dir.path().join("secret.txt"), "x").unwrap();
        let root = dir.path().join("ws");
        for local in ["../secret.txt", "/etc/passwd", "a/../../secret.txt"] {
            let err = check(&mut asset(local, Takes::Zip), &root).unwrap_err();
            assert!(
                err.0.contains("outside the workspace"),
                "{local}: {}",
                err.0
            );
        }
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link")).unwrap();
        let err = check(&mut asset("link", Takes::Zip), &root).unwrap_err();
        assert!(err.0.contains("leads outside the workspace"), "{}", err.0);
    }

    /// Source: CloudFormation's property types (a template, schema or script is one file).
    #[test]
    fn missing_paths_and_folders_for_one_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("code")).unwrap();
        let err = check(&mut asset("./nope", Takes::Zip), dir.path()).unwrap_err();
        assert!(err.0.contains("cannot be read"), "{}", err.0);
        let err = check(&mut asset("./code", Takes::File), dir.path()).unwrap_err();
        assert!(err.0.contains("where one file is needed"), "{}", err.0);
        assert!(check(&mut asset("./code", Takes::Zip), dir.path()).is_ok());
        // An absolute path inside the workspace is taken, as Copilot took it.
        let absolute = dir.path().join("code").display().to_string();
        assert!(check(&mut asset(&absolute, Takes::Zip), dir.path()).is_ok());
    }

    /// Source: Copilot's package.go (which properties force a zip), on a real file system.
    #[test]
    fn keys_follow_the_zipped_content_only() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("hello")).unwrap();
        fs::write(dir.path().join("hello/index.py"), "print(1)\n").unwrap();
        let mut a = asset("./hello", Takes::Zip);
        check(&mut a, dir.path()).unwrap();
        let first = build(&a).unwrap();
        assert!(first.key.starts_with("addons/assets/") && first.key.ends_with(".zip"));
        // Touching the file (a new mtime) keeps the key: the zip's dates are fixed.
        fs::write(dir.path().join("hello/index.py"), "print(1)\n").unwrap();
        assert_eq!(build(&a).unwrap(), first);
        fs::write(dir.path().join("hello/index.py"), "print(2)\n").unwrap();
        assert_ne!(build(&a).unwrap().key, first.key);
        // A single file for a property that takes a zip is zipped; for one that takes a file, not.
        let mut file = asset("./hello/index.py", Takes::File);
        check(&mut file, dir.path()).unwrap();
        let raw = build(&file).unwrap();
        assert_eq!(raw.body, b"print(2)\n");
        assert!(!raw.key.ends_with(".zip"));
        let mut zipped = asset("./hello/index.py", Takes::Zip);
        check(&mut zipped, dir.path()).unwrap();
        assert_eq!(&build(&zipped).unwrap().body[..4], b"PK\x03\x04");
    }

    /// Source: Copilot's package.go (bucket/key names and string forms), CloudFormation's
    /// `TemplateURL` (HTTPS only).
    #[test]
    fn locations_take_the_form_of_the_property() {
        let url = |k: &str| format!("https://b.s3.us-east-1.amazonaws.com/{k}");
        let mut a = asset("x", Takes::Zip);
        assert_eq!(
            location(&a, "b", &url, "k"),
            json!({"S3Bucket": "b", "S3Key": "k"})
        );
        a.form = Form::S3Uri;
        assert_eq!(location(&a, "b", &url, "k"), json!("s3://b/k"));
        a.form = Form::HttpsUrl;
        assert_eq!(
            location(&a, "b", &url, "k"),
            json!("https://b.s3.us-east-1.amazonaws.com/k")
        );
    }
}
