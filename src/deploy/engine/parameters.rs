//! The parameter values only a deploy knows: image digests (and the images it builds), the
//! uploaded env files and addons templates, the imported load balancer, and what is looked up
//! in the environment's VPC. Placeholders tug cannot fill are an error.

use std::collections::BTreeMap;

use super::Session;
use crate::deploy::artifacts;
use crate::deploy::aws::Aws;
use crate::deploy::events::Event;
use crate::deploy::images;
use crate::deploy::imported_alb;
use crate::deploy::lookup;
use crate::error::{Error, Result};
use crate::manifest::load::{Loaded, ResolvedWorkload};
use crate::manifest::model::common::BuildConfig;
use crate::manifest::union::ScalarOr;
use crate::manifest::workspace::Workspace;
use crate::render::{self, RenderedStack};

/// Values for the environment stack's parameters: the rendered ones, with the addons
/// template's URL and the CloudFront prefix list of `http.public.ingress.cdn` filled in.
pub(super) async fn environment_parameters(
    aws: &Aws,
    loaded: &Loaded,
    rendered: &RenderedStack,
) -> Result<Vec<(String, String)>> {
    let mut params: Vec<(String, String)> = rendered
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(addons) = &loaded.environment_addons
        && let Some((_, value)) = params
            .iter_mut()
            .find(|(k, _)| k == crate::manifest::addons::TEMPLATE_URL_PARAMETER)
    {
        *value = upload_addons(aws, &loaded.app, &rendered.stack_name, addons).await?;
    }
    lookup::fill_environment(aws, &mut params).await?;
    // Every placeholder of the environment is filled above; this guards a new one from
    // reaching CloudFormation as `<...>`.
    if let Some((k, v)) = params.iter().find(|(_, v)| v.starts_with('<')) {
        return Err(Error::failure(format!(
            "{} needs {k}, which tug deploy does not look up ({v})",
            rendered.stack_name
        )));
    }
    Ok(params)
}

/// Values for the stack's parameters: the rendered ones, with what only a deploy knows filled
/// in (the image digest, built images). `fixed` values are used as given, and nothing is
/// built or looked up for them. Placeholders tug cannot fill yet are an error.
pub(super) async fn workload_parameters(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    wl: &ResolvedWorkload,
    rendered: &RenderedStack,
    fixed: Option<&BTreeMap<String, String>>,
) -> Result<(Vec<(String, String)>, String)> {
    let aws = &session.aws;
    let empty = BTreeMap::new();
    let fixed = fixed.unwrap_or(&empty);
    if let Some(unknown) = fixed.keys().find(|k| !rendered.parameters.contains_key(*k)) {
        return Err(Error::failure(format!(
            "{} has no parameter {unknown} to set",
            rendered.stack_name
        )));
    }
    let mut params: Vec<(String, String)> = rendered
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let image = fill_images(
        session,
        loaded,
        ws,
        wl,
        &rendered.stack_name,
        &mut params,
        fixed,
    )
    .await?;
    fill_imported_alb(aws, wl, &mut params).await?;
    fill_env_files(aws, loaded, ws, wl, &rendered.stack_name, &mut params).await?;
    // The addons: the merged template uploaded, its URL the nested stack's TemplateURL.
    if let Some((_, value)) = params
        .iter_mut()
        .find(|(k, _)| k == crate::manifest::addons::TEMPLATE_URL_PARAMETER)
        && value.starts_with('<')
        && let Some(addons) = ws.workload_addons.get(&wl.name)
    {
        *value = upload_addons(aws, &loaded.app, &rendered.stack_name, addons).await?;
    }
    // Subnets chosen by tags, looked up in the environment's VPC.
    lookup::fill_workload(aws, &loaded.app, wl, &mut params).await?;
    let unresolved: Vec<String> = params
        .iter()
        .filter(|(_, v)| v.starts_with('<'))
        .map(|(k, v)| format!("{k} ({v})"))
        .collect();
    if !unresolved.is_empty() {
        return Err(Error::failure(format!(
            "{} needs values that tug deploy does not look up: {}",
            rendered.stack_name,
            unresolved.join(", ")
        ))
        .help(UNRESOLVED_HELP));
    }
    Ok((params, image))
}

/// Where a workload's images go and how they are tagged, when it builds any.
struct Images<'a> {
    session: &'a Session,
    ws: &'a Workspace,
    stack: &'a str,
    /// The workload's ECR repository, when it builds an image.
    repo_uri: Option<String>,
    tag: Option<String>,
}

impl Images<'_> {
    /// Builds and pushes the image of `build` as `uri` (with `--no-build`, looks up the one
    /// pushed before); its digest.
    async fn build(
        &self,
        build: &ScalarOr<String, BuildConfig>,
        uri: &str,
        platform: Option<&str>,
    ) -> Result<String> {
        let aws = &self.session.aws;
        if self.session.opts.images.no_build {
            return images::resolve_location(aws, uri).await;
        }
        self.session.reporter.emit(Event::Message {
            stack: self.stack.to_string(),
            text: format!("building {uri}"),
        });
        images::build_and_push(self.ws.project_root(), build, uri, platform).await
    }

    /// `<repository>:<suffix><tag>`.
    fn uri(&self, suffix: &str) -> String {
        format!(
            "{}:{suffix}{}",
            self.repo_uri.clone().unwrap_or_default(),
            self.tag.clone().unwrap_or_default()
        )
    }
}

/// Fills in the main container's image (`ContainerImage`) and the sidecars' built images:
/// looked up by digest, or built and pushed. Returns the main container's image.
async fn fill_images(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    wl: &ResolvedWorkload,
    stack: &str,
    params: &mut [(String, String)],
    fixed: &BTreeMap<String, String>,
) -> Result<String> {
    let (aws, opts) = (&session.aws, &session.opts.images);
    let m = &wl.manifest;
    // Only images not given in `fixed` are built (or looked up).
    let builds = images::builds(wl)
        && params
            .iter()
            .any(|(k, _)| k.ends_with("Image") && !fixed.contains_key(k));
    let repo_uri = if builds {
        Some(images::ensure_repository(aws, &images::repository_name(&loaded.app, &wl.name)).await?)
    } else {
        None
    };
    let tag = match &opts.tag {
        Some(t) => Some(t.clone()),
        None if builds => images::git_tag(ws.project_root())
            .await
            .or(Some("latest".into())),
        None => None,
    };
    if builds
        && !opts.no_build
        && let Some(uri) = &repo_uri
    {
        let registry = uri.split('/').next().unwrap_or_default();
        images::docker_login(aws, registry).await?;
    }
    let images = Images {
        session,
        ws,
        stack,
        repo_uri,
        tag,
    };
    let mut image = String::new();
    for (key, value) in params.iter_mut() {
        if let Some(given) = fixed.get(key) {
            *value = given.clone();
            if key == "ContainerImage" {
                image = given.clone();
            }
        } else if key == "ContainerImage" {
            let location = m
                .image
                .as_ref()
                .and_then(|i| i.location.as_ref())
                .map(|l| l.value.clone());
            *value = match (location, m.image.as_ref().and_then(|i| i.build.as_ref())) {
                (Some(loc), _) => images::resolve_location(aws, &loc).await?,
                (None, Some(build)) => {
                    let platform = m.platform.as_ref().and_then(|p| p.value.scalar().cloned());
                    images
                        .build(&build.value, &images.uri(""), platform.as_deref())
                        .await?
                }
                (None, None) => {
                    return Err(Error::failure(format!("{} has no image", wl.name)));
                }
            };
            image = value.clone();
        } else if let Some(sidecar) = key.strip_suffix("Image") {
            let found = m
                .sidecars
                .iter()
                .flat_map(|s| s.iter())
                .find(|(n, _)| render::names::logical_id(&n.value) == sidecar);
            if let Some((n, s)) = found
                && let Some(ScalarOr::Config(c)) = s.image.as_ref().map(|i| &i.value)
                && let Some(build) = &c.build
            {
                let uri = images.uri(&format!("{}-", n.value));
                *value = images.build(&build.value, &uri, None).await?;
            }
        }
    }
    Ok(image)
}

/// A service on an imported load balancer: its listeners, DNS name and zone.
async fn fill_imported_alb(
    aws: &Aws,
    wl: &ResolvedWorkload,
    params: &mut [(String, String)],
) -> Result<()> {
    if let Some(alb) = wl.manifest.http_rule().and_then(|r| r.alb.as_ref())
        && params
            .iter()
            .any(|(k, v)| k.starts_with("ImportedALB") && v.starts_with('<'))
    {
        let found = imported_alb::parameters(aws, &alb.value).await?;
        for (key, value) in params.iter_mut() {
            if let Some(v) = found.get(key.as_str())
                && value.starts_with('<')
            {
                *value = v.clone();
            }
        }
    }
    Ok(())
}

/// The env files: uploaded to the application's artifacts bucket, named by their content.
/// A value given in `fixed` (a promotion or rollback) is the object deployed before, kept.
async fn fill_env_files(
    aws: &Aws,
    loaded: &Loaded,
    ws: &Workspace,
    wl: &ResolvedWorkload,
    stack: &str,
    params: &mut [(String, String)],
) -> Result<()> {
    let env_files = env_file_parameters(wl);
    if !params
        .iter()
        .any(|(k, v)| env_files.iter().any(|(p, _)| p == k) && v.starts_with('<'))
    {
        return Ok(());
    }
    let env = wl.environment.as_deref().unwrap_or_default();
    let bucket = artifacts::Bucket::of(aws, &loaded.app).await?;
    for (key, value) in params.iter_mut() {
        let Some((_, path)) = env_files.iter().find(|(p, _)| p == key) else {
            continue;
        };
        if !value.starts_with('<') {
            continue;
        }
        let file = ws.project_root().join(path);
        let content = std::fs::read(&file).map_err(|e| {
            Error::failure(format!(
                "{stack} cannot read env file {}: {e}",
                file.display(),
            ))
            .help(format!(
                "`env_file` is a path relative to the workspace root ({})",
                ws.project_root().display()
            ))
            .about(file.display().to_string())
        })?;
        let object = artifacts::env_file_key(env, &wl.name, &content);
        artifacts::put_once(aws, &bucket, &loaded.app, &object, content, "text/plain").await?;
        *value = bucket.object_arn(&object);
    }
    Ok(())
}

/// What to do about a parameter value tug deploy does not look up.
const UNRESOLVED_HELP: &str = "name them in the manifest instead, or deploy the template and parameters file `tug render -e ENV -n NAME --output-dir DIR` writes, with those values filled in";

/// Uploads a stack's merged addons template, and the assets it names, to the artifacts bucket
/// (keyed by their content, so an unchanged template is an unchanged parameter) and returns
/// its URL, the nested stack's `TemplateURL`.
async fn upload_addons(
    aws: &Aws,
    app: &str,
    stack_name: &str,
    addons: &crate::manifest::addons::Addons,
) -> Result<String> {
    let bucket = artifacts::Bucket::of(aws, app).await?;
    // Local files and folders the template names are uploaded first (content-addressed, so an
    // unchanged folder gives the same key and the same template).
    let (template, assets) = addons.packaged(&bucket.name, &|key| bucket.object_url(key))?;
    for asset in assets {
        artifacts::put_once(
            aws,
            &bucket,
            app,
            &asset.key,
            asset.body,
            asset.content_type,
        )
        .await?;
    }
    let key = artifacts::template_key(&format!("{stack_name}-addons"), &template);
    artifacts::put_once(
        aws,
        &bucket,
        app,
        &key,
        template.into_bytes(),
        "application/json",
    )
    .await?;
    Ok(bucket.object_url(&key))
}

/// The env-file parameters of a workload's template and the file each one names (relative to
/// the workspace root).
fn env_file_parameters(wl: &ResolvedWorkload) -> Vec<(String, String)> {
    render::workload::env_files(wl)
        .into_iter()
        .map(|f| (f.parameter, f.path))
        .collect()
}
