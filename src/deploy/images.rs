//! Images: what the `ContainerImage` parameter of a workload stack gets. A location is used as
//! given (an ECR image is pinned to its digest); a build runs `docker build` and `docker push`
//! into the workload's ECR repository, logging in with a token from the ECR API, and the
//! stack gets the pushed digest.

use std::path::Path;

use tokio::process::Command;

use crate::deploy::aws::{Aws, describe_error};
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::common::BuildConfig;
use crate::manifest::union::ScalarOr;

/// How many images each repository keeps; older ones expire.
pub const KEEP_IMAGES: u32 = 30;

/// Options from the command line.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    /// Do not build: use the image already pushed with `tag` (or the git tag).
    pub no_build: bool,
    pub tag: Option<String>,
}

/// The ECR repository of a workload: `<app>/<workload>`.
pub fn repository_name(app: &str, workload: &str) -> String {
    format!("{app}/{workload}")
}

/// Whether the workload builds any image (main or sidecars).
pub fn builds(wl: &ResolvedWorkload) -> bool {
    let m = &wl.manifest;
    m.image
        .as_ref()
        .is_some_and(|i| i.build.is_some() && i.location.is_none())
        || m.sidecars.iter().flat_map(|s| s.iter()).any(|(_, s)| {
            s.image
                .as_ref()
                .and_then(|i| i.value.config())
                .is_some_and(|c| c.build.is_some() && c.location.is_none())
        })
}

/// Creates the repository if it does not exist (scan on push, keep the last images).
pub async fn ensure_repository(aws: &Aws, name: &str) -> Result<String, String> {
    match aws
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(out) => {
            if let Some(uri) = out.repositories().first().and_then(|r| r.repository_uri()) {
                return Ok(uri.to_string());
            }
        }
        Err(e) => {
            let text = describe_error(&e);
            if !text.contains("RepositoryNotFound") && !text.contains("does not exist") {
                return Err(format!("cannot read ECR repository {name}: {text}"));
            }
        }
    }
    let created = aws
        .ecr
        .create_repository()
        .repository_name(name)
        .image_scanning_configuration(
            aws_sdk_ecr::types::ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .send()
        .await;
    let uri = match created {
        Ok(out) => out
            .repository()
            .and_then(|r| r.repository_uri())
            .unwrap_or_default()
            .to_string(),
        Err(e) => {
            let text = describe_error(&e);
            if !text.contains("AlreadyExists") {
                return Err(format!("cannot create ECR repository {name}: {text}"));
            }
            // Another deploy created it meanwhile.
            let out = aws
                .ecr
                .describe_repositories()
                .repository_names(name)
                .send()
                .await
                .map_err(|e| describe_error(&e))?;
            out.repositories()
                .first()
                .and_then(|r| r.repository_uri())
                .unwrap_or_default()
                .to_string()
        }
    };
    let policy = serde_json::json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("keep the last {KEEP_IMAGES} images"),
            "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": KEEP_IMAGES },
            "action": { "type": "expire" },
        }]
    });
    aws.ecr
        .put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(policy.to_string())
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot set the lifecycle policy of {name}: {}",
                describe_error(&e)
            )
        })?;
    Ok(uri)
}

/// `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` → (registry, repo, tag).
pub fn parse_ecr_uri(uri: &str) -> Option<(String, String, Option<String>)> {
    let (registry, rest) = uri.split_once('/')?;
    if !registry.contains(".dkr.ecr.") || rest.contains('@') {
        return None;
    }
    match rest.rsplit_once(':') {
        Some((repo, tag)) => Some((
            registry.to_string(),
            repo.to_string(),
            Some(tag.to_string()),
        )),
        None => Some((registry.to_string(), rest.to_string(), None)),
    }
}

/// Pins an image location to its digest when it lives in ECR; other registries as given.
pub async fn resolve_location(aws: &Aws, location: &str) -> Result<String, String> {
    let Some((registry, repo, tag)) = parse_ecr_uri(location) else {
        return Ok(location.to_string());
    };
    let tag = tag.unwrap_or_else(|| "latest".into());
    let out = aws
        .ecr
        .describe_images()
        .repository_name(&repo)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(&tag)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot find image {location} in ECR: {}",
                describe_error(&e)
            )
        })?;
    let digest = out
        .image_details()
        .first()
        .and_then(|d| d.image_digest())
        .ok_or_else(|| format!("image {location} has no digest in ECR"))?;
    Ok(format!("{registry}/{repo}@{digest}"))
}

/// The tag for built images: the git commit, suffixed with `-dirty` when the tree has changes.
pub async fn git_tag(dir: &Path) -> Option<String> {
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(dir)
        .output()
        .await
        .ok()?;
    if !head.status.success() {
        return None;
    }
    let commit = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let status = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(dir)
        .output()
        .await
        .ok()?;
    let dirty = !String::from_utf8_lossy(&status.stdout).trim().is_empty();
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

/// Decodes standard base64 (for the ECR authorization token).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

async fn run(cmd: &mut Command, what: &str, input: Option<&str>) -> Result<String, String> {
    use tokio::io::AsyncWriteExt;
    cmd.stdin(if input.is_some() {
        std::process::Stdio::piped()
    } else {
        std::process::Stdio::null()
    });
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run docker for {what}: {e}\n  help: install Docker, or use `image.location` and `--no-build`"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| format!("{what}: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = stderr
            .lines()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!("{what} failed:\n    {}", last.join("\n    ")));
    }
    Ok(stdout)
}

/// Logs docker in to the account's ECR registry.
pub async fn docker_login(aws: &Aws, registry: &str) -> Result<(), String> {
    let out = aws
        .ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| format!("cannot get an ECR token: {}", describe_error(&e)))?;
    let token = out
        .authorization_data()
        .first()
        .and_then(|d| d.authorization_token())
        .and_then(base64_decode)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("ECR returned no usable authorization token")?;
    let password = token
        .split_once(':')
        .map(|(_, p)| p.to_string())
        .ok_or("ECR returned a malformed token")?;
    run(
        Command::new("docker").args(["login", "--username", "AWS", "--password-stdin", registry]),
        "docker login",
        Some(&password),
    )
    .await
    .map(|_| ())
}

/// Builds and pushes one image; returns `repo@digest`.
pub async fn build_and_push(
    project_root: &Path,
    build: &ScalarOr<String, BuildConfig>,
    image_uri: &str,
    platform: Option<&str>,
) -> Result<String, String> {
    let (context, dockerfile, args, target, cache_from) = match build {
        ScalarOr::Scalar(dockerfile) => {
            let df = project_root.join(dockerfile);
            let ctx = df
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| project_root.to_path_buf());
            (ctx, df, Vec::new(), None, Vec::new())
        }
        ScalarOr::Config(c) => {
            let ctx = c.context.as_ref().map_or_else(
                || {
                    c.dockerfile
                        .as_ref()
                        .and_then(|d| project_root.join(&d.value).parent().map(Path::to_path_buf))
                        .unwrap_or_else(|| project_root.to_path_buf())
                },
                |cx| project_root.join(&cx.value),
            );
            let df = c
                .dockerfile
                .as_ref()
                .map_or_else(|| ctx.join("Dockerfile"), |d| project_root.join(&d.value));
            let args: Vec<(String, String)> = c
                .args
                .iter()
                .flat_map(|a| a.iter())
                .map(|(k, v)| (k.value.clone(), v.value.clone()))
                .collect();
            let cache: Vec<String> = c
                .cache_from
                .as_ref()
                .map(|l| l.value.clone())
                .unwrap_or_default();
            (
                ctx,
                df,
                args,
                c.target.as_ref().map(|t| t.value.clone()),
                cache,
            )
        }
    };
    let mut cmd = Command::new("docker");
    cmd.arg("build")
        .arg("--file")
        .arg(&dockerfile)
        .arg("--tag")
        .arg(image_uri);
    if let Some(p) = platform {
        cmd.args(["--platform", p]);
    }
    for (k, v) in &args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    if let Some(t) = &target {
        cmd.args(["--target", t]);
    }
    for c in &cache_from {
        cmd.args(["--cache-from", c]);
    }
    cmd.arg(&context);
    run(&mut cmd, &format!("docker build of {image_uri}"), None).await?;
    let pushed = run(
        Command::new("docker").args(["push", image_uri]),
        &format!("docker push of {image_uri}"),
        None,
    )
    .await?;
    let digest = pushed
        .lines()
        .filter_map(|l| l.split("digest: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .next_back()
        .ok_or_else(|| format!("docker push of {image_uri} did not report a digest"))?;
    let repo = image_uri.rsplit_once(':').map_or(image_uri, |(r, _)| r);
    Ok(format!("{repo}@{digest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_uris() {
        assert_eq!(
            parse_ecr_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1"),
            Some((
                "123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
                "shop/web".into(),
                Some("v1".into())
            ))
        );
        assert_eq!(parse_ecr_uri("public.ecr.aws/nginx/nginx:1.27"), None);
        assert_eq!(parse_ecr_uri("nginx"), None);
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("QVdTOnNlY3JldA==").unwrap(), b"AWS:secret");
        assert!(base64_decode("***").is_none());
    }
}
