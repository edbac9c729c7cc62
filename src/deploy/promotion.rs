//! Promotion: which images run in one environment, and whether another environment can pull
//! them. An image in ECR can be pulled by tasks of the same account and Region; from another
//! account only when the repository policy lets that account pull; from another Region not at
//! all (it must be replicated there first). Images outside ECR are pulled as they are.

use crate::deploy::aws::{Aws, describe_error};
use crate::error::{Error, Result};

/// The account and Region of an ECR image (`<account>.dkr.ecr.<region>.amazonaws.com/...`);
/// `None` for other registries.
pub fn ecr_location(image: &str) -> Option<(String, String, String)> {
    let (host, rest) = image.split_once('/')?;
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() < 5 || parts[1] != "dkr" || !parts[2].starts_with("ecr") {
        return None;
    }
    let repo = rest
        .split_once('@')
        .map_or(rest, |(r, _)| r)
        .rsplit_once(':')
        .map_or_else(|| rest.split('@').next().unwrap_or(rest), |(r, _)| r);
    Some((parts[0].to_string(), parts[3].to_string(), repo.to_string()))
}

/// Why tasks in `account`/`region` cannot pull `image`, or `None` when they can (as far as
/// tug can tell without the repository policy, which [`check_pull`] reads).
pub fn region_or_account_problem(image: &str, account: &str, region: &str) -> Option<PullProblem> {
    let (image_account, image_region, repo) = ecr_location(image)?;
    if image_region != region {
        return Some(PullProblem::OtherRegion { image_region, repo });
    }
    if image_account != account {
        return Some(PullProblem::OtherAccount {
            image_account,
            repo,
        });
    }
    None
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullProblem {
    OtherRegion { image_region: String, repo: String },
    OtherAccount { image_account: String, repo: String },
}

/// Whether a repository policy lets `account` pull.
pub fn policy_allows_pull(policy: &str, account: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(policy) else {
        return false;
    };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => return false,
    };
    statements.iter().any(|s| {
        let allow = s["Effect"] == "Allow";
        let actions: Vec<String> = match &s["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let pulls = actions
            .iter()
            .any(|a| a == "ecr:*" || a == "*" || a == "ecr:BatchGetImage");
        let principal = s["Principal"].to_string();
        let grants = principal == "\"*\""
            || principal.contains("\"AWS\":\"*\"")
            || principal.contains(&format!(":{account}:"))
            || principal.contains(&format!("\"{account}\""));
        allow && pulls && grants
    })
}

/// Checks that tasks in `account`/`region` can pull `image`; the error says what to do.
pub async fn check_pull(aws: &Aws, image: &str, account: &str, region: &str) -> Result<()> {
    match region_or_account_problem(image, account, region) {
        None => Ok(()),
        Some(PullProblem::OtherRegion { image_region, repo }) => Err(Error::failure(format!(
            "its image is in ECR in {image_region}, and tasks in {region} cannot pull it"
        ))
        .help(format!(
            "replicate repository {repo} to {region} (ECR replication), or build and deploy the image in the target environment"
        ))),
        Some(PullProblem::OtherAccount {
            image_account,
            repo,
        }) => {
            let policy = aws
                .ecr
                .get_repository_policy()
                .registry_id(&image_account)
                .repository_name(&repo)
                .send()
                .await;
            match policy {
                Ok(p) if policy_allows_pull(p.policy_text().unwrap_or_default(), account) => Ok(()),
                Ok(_) => Err(Error::failure(format!(
                    "its image is in ECR in account {image_account}, whose repository policy does not let account {account} pull it"
                ))
                .help(format!(
                    "add a repository policy to {repo} allowing ecr:BatchGetImage and ecr:GetDownloadUrlForLayer to account {account}"
                ))),
                Err(e) => Err(Error::failure(format!(
                    "its image is in ECR in account {image_account} and tug cannot read that repository's policy ({})",
                    describe_error(&e)
                ))
                .help(format!(
                    "allow account {account} to pull from {repo} (a repository policy with ecr:BatchGetImage and ecr:GetDownloadUrlForLayer), or replicate the image into account {account}"
                ))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web@sha256:abc";

    #[test]
    fn ecr_images_are_recognised() {
        assert_eq!(
            ecr_location(IMAGE),
            Some(("111122223333".into(), "eu-west-1".into(), "shop/web".into()))
        );
        assert_eq!(
            ecr_location("111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:v1").map(|l| l.2),
            Some("shop/web".into())
        );
        assert_eq!(ecr_location("public.ecr.aws/nginx/nginx:1.27"), None);
        assert_eq!(ecr_location("nginx"), None);
    }

    #[test]
    fn other_regions_and_accounts_are_problems() {
        assert_eq!(
            region_or_account_problem(IMAGE, "111122223333", "eu-west-1"),
            None
        );
        assert!(matches!(
            region_or_account_problem(IMAGE, "111122223333", "us-east-1"),
            Some(PullProblem::OtherRegion { .. })
        ));
        assert!(matches!(
            region_or_account_problem(IMAGE, "999988887777", "eu-west-1"),
            Some(PullProblem::OtherAccount { .. })
        ));
        assert_eq!(
            region_or_account_problem("public.ecr.aws/nginx/nginx:1.27", "1", "us-east-1"),
            None
        );
    }

    #[test]
    fn repository_policies_that_grant_pulls() {
        let grant = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;
        assert!(policy_allows_pull(grant, "999988887777"));
        assert!(!policy_allows_pull(grant, "444455556666"));
        let push_only = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"ecr:PutImage"}}"#;
        assert!(!policy_allows_pull(push_only, "999988887777"));
        assert!(!policy_allows_pull("not json", "999988887777"));
    }
}
