//! Images: what the `ContainerImage` parameter of a workload stack gets. A location is used as
//! given (an ECR image is pinned to its digest); a build runs `docker build` and `docker push`
//! into the workload's ECR repository, logging in with a token from the ECR API, and the
//! stack gets the pushed digest.

use std::path::Path;

use tokio::process::Command;

use crate::deploy::aws::{Aws, describe_error};
use crate::error::{Error, Result};
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::common::BuildConfig;
use crate::manifest::union::ScalarOr;

/// Days an image that has lost every tag stays in the repository before ECR expires it.
pub const UNTAGGED_DAYS: u32 = 14;

/// The lifecycle policy of every repository tug creates: expire only images that have no tag
/// left, [`UNTAGGED_DAYS`] after their push. Tagged images never expire. tug deploys by digest,
/// and an image may run in one environment long after newer ones went to another (the
/// repository is shared by every environment), so a count of recent images, as the earlier
/// policy kept, could expire what prod still runs: the next task start would fail to pull it.
/// Every image tug builds keeps a tag of its own ([`build_and_push`]), so it never becomes
/// untagged; docs/security.md says what this means for images pushed by other tools.
pub fn lifecycle_policy() -> serde_json::Value {
    serde_json::json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("expire images without any tag {UNTAGGED_DAYS} days after their push; tagged images are kept"),
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": UNTAGGED_DAYS,
            },
            "action": { "type": "expire" },
        }]
    })
}

/// Whether `text` is the lifecycle policy earlier versions of tug set (keep the last 30 images
/// of any tag), which tug replaces; any other policy is the user's and stays.
fn is_earlier_tug_policy(text: &str) -> bool {
    let Ok(policy) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    let rules = policy["rules"].as_array().map_or(&[][..], Vec::as_slice);
    matches!(rules, [rule]
        if rule["description"] == "keep the last 30 images"
            && rule["selection"]["tagStatus"] == "any"
            && rule["selection"]["countType"] == "imageCountMoreThan")
}

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

/// Creates the repository if it does not exist (scan on push, [`lifecycle_policy`]); on an
/// existing one, replaces the lifecycle policy earlier versions of tug set.
pub async fn ensure_repository(aws: &Aws, name: &str) -> Result<String> {
    match aws
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(out) => {
            if let Some(uri) = out.repositories().first().and_then(|r| r.repository_uri()) {
                replace_earlier_policy(aws, name).await?;
                return Ok(uri.to_string());
            }
        }
        Err(e) => {
            let text = describe_error(&e);
            if !text.contains("RepositoryNotFound") && !text.contains("does not exist") {
                return Err(Error::failure(format!(
                    "cannot read ECR repository {name}: {text}"
                )));
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
                return Err(Error::failure(format!(
                    "cannot create ECR repository {name}: {text}"
                )));
            }
            // Another deploy created it meanwhile.
            let out = aws
                .ecr
                .describe_repositories()
                .repository_names(name)
                .send()
                .await
                .map_err(|e| Error::failure(describe_error(&e)))?;
            out.repositories()
                .first()
                .and_then(|r| r.repository_uri())
                .unwrap_or_default()
                .to_string()
        }
    };
    put_policy(aws, name).await?;
    Ok(uri)
}

async fn put_policy(aws: &Aws, name: &str) -> Result<()> {
    aws.ecr
        .put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(lifecycle_policy().to_string())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            Error::failure(format!(
                "cannot set the lifecycle policy of {name}: {}",
                describe_error(&e)
            ))
        })
}

/// Replaces the count-based policy earlier versions of tug set on an existing repository (it
/// could expire images still deployed). A repository without a policy, or with another one,
/// is left as it is.
pub async fn replace_earlier_policy(aws: &Aws, name: &str) -> Result<()> {
    match aws
        .ecr
        .get_lifecycle_policy()
        .repository_name(name)
        .send()
        .await
    {
        Ok(out)
            if out
                .lifecycle_policy_text()
                .is_some_and(is_earlier_tug_policy) =>
        {
            put_policy(aws, name).await
        }
        Ok(_) => Ok(()),
        Err(e) => {
            let text = describe_error(&e);
            if text.contains("LifecyclePolicyNotFound") {
                Ok(())
            } else {
                Err(Error::failure(format!(
                    "cannot read the lifecycle policy of {name}: {text}"
                )))
            }
        }
    }
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
pub async fn resolve_location(aws: &Aws, location: &str) -> Result<String> {
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
            Error::failure(format!(
                "cannot find image {location} in ECR: {}",
                describe_error(&e)
            ))
        })?;
    let digest = out
        .image_details()
        .first()
        .and_then(|d| d.image_digest())
        .ok_or_else(|| Error::failure(format!("image {location} has no digest in ECR")))?;
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

async fn run(cmd: &mut Command, what: &str, input: Option<&str>) -> Result<String> {
    use tokio::io::AsyncWriteExt;
    cmd.stdin(if input.is_some() {
        std::process::Stdio::piped()
    } else {
        std::process::Stdio::null()
    });
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        Error::failure(format!("cannot run docker for {what}: {e}"))
            .help("install Docker, or use `image.location` and `--no-build`")
    })?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| Error::failure(format!("{what}: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| Error::failure(format!("{what}: {e}")))?;
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
        return Err(Error::failure(format!(
            "{what} failed:\n    {}",
            last.join("\n    ")
        )));
    }
    Ok(stdout)
}

/// Logs docker in to the account's ECR registry.
pub async fn docker_login(aws: &Aws, registry: &str) -> Result<()> {
    let out = aws
        .ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| Error::failure(format!("cannot get an ECR token: {}", describe_error(&e))))?;
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
) -> Result<String> {
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
    // The image also gets a tag no other build has (`<tag>-<image id>`), pushed first: the
    // digest deployed is that push's, so a later build pushed under the same `<tag>` (a
    // rebuilt commit, a `-dirty` tree, `--tag` reused) never leaves a deployed image without
    // a tag, and the lifecycle policy expires only untagged images.
    let id = run(
        Command::new("docker").args(["image", "inspect", "--format", "{{.Id}}", image_uri]),
        &format!("docker image inspect of {image_uri}"),
        None,
    )
    .await?;
    let build_uri = build_tag_uri(image_uri, id.trim()).ok_or_else(|| {
        Error::failure(format!("docker did not report the image id of {image_uri}"))
    })?;
    run(
        Command::new("docker").args(["tag", image_uri, &build_uri]),
        &format!("docker tag of {build_uri}"),
        None,
    )
    .await?;
    let digest = push(&build_uri).await?;
    push(image_uri).await?;
    let repo = image_uri.rsplit_once(':').map_or(image_uri, |(r, _)| r);
    Ok(format!("{repo}@{digest}"))
}

/// Pushes one tag; returns the digest docker reports.
async fn push(uri: &str) -> Result<String> {
    let pushed = run(
        Command::new("docker").args(["push", uri]),
        &format!("docker push of {uri}"),
        None,
    )
    .await?;
    pushed
        .lines()
        .filter_map(|l| l.split("digest: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .next_back()
        .map(str::to_string)
        .ok_or_else(|| Error::failure(format!("docker push of {uri} did not report a digest")))
}

/// Tag length limit of ECR and Docker.
const MAX_TAG: usize = 128;

/// `repo:<tag>` → `repo:<tag>-<first 12 hex digits of the image id>`, the tag only this build
/// has; the `<tag>` part is shortened to keep it within 128 characters.
fn build_tag_uri(image_uri: &str, image_id: &str) -> Option<String> {
    let hex = image_id.strip_prefix("sha256:").unwrap_or(image_id);
    let short: String = hex.chars().take(12).collect();
    if short.len() < 12 || !short.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let (repo, tag) = image_uri.rsplit_once(':')?;
    let keep = MAX_TAG - short.len() - 1;
    let tag: String = tag.chars().take(keep).collect();
    Some(format!("{repo}:{tag}-{short}"))
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
    fn lifecycle_expires_only_untagged_images() {
        let policy = lifecycle_policy();
        let rules = policy["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["selection"]["tagStatus"], "untagged");
        assert_eq!(rules[0]["selection"]["countType"], "sinceImagePushed");
        assert_eq!(rules[0]["action"]["type"], "expire");
        assert!(!is_earlier_tug_policy(&policy.to_string()));
        let earlier = r#"{"rules":[{"rulePriority":1,"description":"keep the last 30 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":30},"action":{"type":"expire"}}]}"#;
        assert!(is_earlier_tug_policy(earlier));
        // A policy the user wrote stays.
        assert!(!is_earlier_tug_policy(
            &earlier.replace("keep the last 30 images", "mine")
        ));
        assert!(!is_earlier_tug_policy("not json"));
    }

    #[test]
    fn build_tags_are_unique_per_image() {
        let repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web";
        assert_eq!(
            build_tag_uri(&format!("{repo}:0a1b2c3d4e5f"), "sha256:9f86d081884c7d65"),
            Some(format!("{repo}:0a1b2c3d4e5f-9f86d081884c"))
        );
        let long = "t".repeat(128);
        let uri = build_tag_uri(&format!("{repo}:{long}"), "sha256:9f86d081884c7d65").unwrap();
        assert_eq!(uri.rsplit_once(':').unwrap().1.len(), 128);
        assert_eq!(build_tag_uri(&format!("{repo}:v1"), "sha256:xyz"), None);
        assert_eq!(build_tag_uri(repo, "sha256:9f86d081884c7d65"), None);
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("QVdTOnNlY3JldA==").unwrap(), b"AWS:secret");
        assert!(base64_decode("***").is_none());
    }
}
