//! The application's artifacts bucket: an S3 bucket per application, account and Region that
//! holds what a deploy must hand to AWS by reference rather than inline: the containers' env
//! files (ECS reads `environmentFiles` only from S3) and templates larger than CloudFormation
//! accepts in a request (`TemplateURL`).
//!
//! Like the ECR repositories, the bucket is made by tug's own calls (by `tug app init`, or by
//! the first deploy that needs it), not by a stack: it is shared by every environment and
//! outlives them, and `tug app delete` leaves it (it is listed as kept). It is private (all
//! public access blocked, ACLs disabled), encrypted at rest (SSE-S3), and its policy refuses
//! every request not made over TLS.
//!
//! Objects are content-addressed (`env-files/<env>/<workload>/<sha256>.env`,
//! `templates/<stack>/<sha256>.yml`): a changed file is a new object, and therefore a new
//! parameter value and a new task definition, while an unchanged file gives the same value, so
//! an unchanged workload stays "no changes". Objects are never overwritten nor expired: a task
//! definition revision that a rollback may return to keeps reading its own env file.

use sha2::{Digest, Sha256};

use crate::deploy::aws::{Aws, Identity, describe_error};
use crate::error::{Error, Result};

/// The longest bucket name S3 accepts.
const MAX_BUCKET_NAME: usize = 63;

/// The artifacts bucket of an application in one account and Region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    pub region: String,
    pub partition: String,
}

impl Bucket {
    /// The bucket of `app` for the credentials and Region in use.
    pub async fn of(aws: &Aws, app: &str) -> Result<Bucket> {
        let Identity { account, partition } = aws.identity().await?;
        Ok(Bucket {
            name: bucket_name(app, &account, &aws.region),
            region: aws.region.clone(),
            partition,
        })
    }

    /// `arn:<partition>:s3:::<bucket>/<key>`: how ECS names an env file.
    pub fn object_arn(&self, key: &str) -> String {
        format!("arn:{}:s3:::{}/{key}", self.partition, self.name)
    }

    /// The virtual-hosted URL of an object, the form CloudFormation's `TemplateURL` takes.
    pub fn object_url(&self, key: &str) -> String {
        let domain = if self.partition == "aws-cn" {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("https://{}.s3.{}.{domain}/{key}", self.name, self.region)
    }
}

/// `tug-<app>-<account>-<region>`: bucket names are global, so the account and Region make it
/// unique, and the app makes it recognisable. A name over S3's 63 characters keeps the start
/// of the application name and a hash of all of it.
pub fn bucket_name(app: &str, account: &str, region: &str) -> String {
    let app = app.to_ascii_lowercase();
    let full = format!("tug-{app}-{account}-{region}");
    if full.len() <= MAX_BUCKET_NAME {
        return full;
    }
    let hash = hex(&Sha256::digest(app.as_bytes()))[..8].to_string();
    // `tug-` + `-<hash>` + `-<account>-<region>` around the kept part of the name.
    let room = MAX_BUCKET_NAME - (4 + 9 + 2 + account.len() + region.len());
    let kept = app[..room.min(app.len())].trim_end_matches('-');
    format!("tug-{kept}-{hash}-{account}-{region}")
}

/// Where an env file of a workload goes: keyed by its content.
pub fn env_file_key(env: &str, workload: &str, content: &[u8]) -> String {
    format!(
        "env-files/{env}/{workload}/{}.env",
        hex(&Sha256::digest(content))
    )
}

/// Where a stack's template goes when it is too large to send inline.
pub fn template_key(stack: &str, template: &str) -> String {
    format!(
        "templates/{stack}/{}.yml",
        hex(&Sha256::digest(template.as_bytes()))
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What [`ensure`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    Created,
    Exists,
}

/// Makes the bucket if it does not exist, then (re)applies its settings, which are idempotent:
/// a bucket left half-configured by an interrupted run is completed by the next.
pub async fn ensure(aws: &Aws, bucket: &Bucket, app: &str) -> Result<Ensured> {
    let name = bucket.name.as_str();
    let found = match aws.s3.head_bucket().bucket(name).send().await {
        Ok(_) => Ensured::Exists,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
            create(aws, bucket).await?
        }
        Err(e) => {
            let text = describe_error(&e);
            return Err(
                if e.raw_response().map(|r| r.status().as_u16()) == Some(403) {
                    Error::failure(format!(
                        "cannot use S3 bucket {name}: it belongs to another account, or these credentials may not read it ({text})"
                    ))
                    .help("tug keeps env files and large templates in this bucket; allow s3:ListBucket on it, or delete a foreign bucket of that name")
                } else {
                    Error::failure(format!("cannot read S3 bucket {name}: {text}"))
                },
            );
        }
    };
    configure(aws, bucket, app).await?;
    Ok(found)
}

async fn create(aws: &Aws, bucket: &Bucket) -> Result<Ensured> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let mut req = aws.s3.create_bucket().bucket(&bucket.name);
    // us-east-1 is the one Region that takes no location constraint (and refuses its name).
    if bucket.region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(bucket.region.as_str()))
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => Ok(Ensured::Created),
        Err(e) => {
            // Another deploy of this application created it meanwhile.
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you())
            {
                return Ok(Ensured::Exists);
            }
            Err(Error::failure(format!(
                "cannot create S3 bucket {}: {}",
                bucket.name,
                describe_error(&e)
            ))
            .help("tug keeps env files and large templates in it; the credentials need s3:CreateBucket, s3:PutBucketPolicy, s3:PutEncryptionConfiguration, s3:PutBucketPublicAccessBlock, s3:PutBucketOwnershipControls and s3:PutBucketTagging on it"))
        }
    }
}

/// The policy: no request without TLS, on the bucket and every object.
pub fn bucket_policy(bucket: &Bucket) -> serde_json::Value {
    let arn = format!("arn:{}:s3:::{}", bucket.partition, bucket.name);
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TLSOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn.clone(), format!("{arn}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
        }],
    })
}

async fn configure(aws: &Aws, bucket: &Bucket, app: &str) -> Result<()> {
    use aws_sdk_s3::types::{
        ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule, Tag, Tagging,
    };
    let name = bucket.name.as_str();
    let failed = |what: &str, text: String| {
        Error::failure(format!("cannot {what} of S3 bucket {name}: {text}"))
    };
    aws.s3
        .put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| failed("block public access", describe_error(&e)))?;
    let ownership = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()
        .map_err(|e| failed("set the object ownership", e.to_string()))?;
    aws.s3
        .put_bucket_ownership_controls()
        .bucket(name)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(ownership)
                .build()
                .map_err(|e| failed("set the object ownership", e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| failed("set the object ownership", describe_error(&e)))?;
    let sse = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(|e| failed("set the encryption", e.to_string()))?;
    aws.s3
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(sse)
                        .build(),
                )
                .build()
                .map_err(|e| failed("set the encryption", e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| failed("set the encryption", describe_error(&e)))?;
    aws.s3
        .put_bucket_policy()
        .bucket(name)
        .policy(bucket_policy(bucket).to_string())
        .send()
        .await
        .map_err(|e| failed("set the policy", describe_error(&e)))?;
    let tag = |k: &str, v: &str| {
        Tag::builder()
            .key(k)
            .value(v)
            .build()
            .map_err(|e| failed("tag", e.to_string()))
    };
    aws.s3
        .put_bucket_tagging()
        .bucket(name)
        .tagging(
            Tagging::builder()
                .tag_set(tag(crate::deploy::ownership::APP_TAG, app)?)
                .tag_set(tag("tug:purpose", "artifacts")?)
                .build()
                .map_err(|e| failed("tag", e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| failed("tag", describe_error(&e)))?;
    Ok(())
}

/// Whether the bucket exists (for `tug app delete`, which lists it as kept).
pub async fn exists(aws: &Aws, bucket: &Bucket) -> Result<bool> {
    match aws.s3.head_bucket().bucket(&bucket.name).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
        Err(e) => Err(Error::failure(format!(
            "cannot read S3 bucket {}: {}",
            bucket.name,
            describe_error(&e)
        ))),
    }
}

/// Stores `body` at `key` unless an object is there already (keys are content-addressed, so an
/// object present is this very content). The bucket is made on the first upload that needs it.
pub async fn put_once(
    aws: &Aws,
    bucket: &Bucket,
    app: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<()> {
    match aws
        .s3
        .head_object()
        .bucket(&bucket.name)
        .key(key)
        .send()
        .await
    {
        Ok(_) => return Ok(()),
        // Not found: no such object, or no bucket yet.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
        Err(e) => {
            return Err(Error::failure(format!(
                "cannot read s3://{}/{key}: {}",
                bucket.name,
                describe_error(&e)
            )));
        }
    }
    ensure(aws, bucket, app).await?;
    aws.s3
        .put_object()
        .bucket(&bucket.name)
        .key(key)
        .content_type(content_type)
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
        .body(body.into())
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot upload s3://{}/{key}: {}",
                bucket.name,
                describe_error(&e)
            ))
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_are_unique_per_account_and_region_and_fit_s3() {
        assert_eq!(
            bucket_name("shop", "123456789012", "eu-west-1"),
            "tug-shop-123456789012-eu-west-1"
        );
        let long = "a-very-long-application-name-that-goes-on-and-on";
        let name = bucket_name(long, "123456789012", "ap-southeast-2");
        assert_eq!(name.len(), MAX_BUCKET_NAME, "{name}");
        assert!(name.starts_with("tug-a-very-long-app"), "{name}");
        assert!(name.ends_with("-123456789012-ap-southeast-2"), "{name}");
        assert_ne!(
            name,
            bucket_name(
                "a-very-long-application-name-that-goes-on-and-other",
                "123456789012",
                "ap-southeast-2"
            )
        );
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn keys_follow_the_content() {
        let a = env_file_key("test", "web", b"A=1\n");
        assert!(a.starts_with("env-files/test/web/") && a.ends_with(".env"));
        assert_eq!(a, env_file_key("test", "web", b"A=1\n"));
        assert_ne!(a, env_file_key("test", "web", b"A=2\n"));
        assert_ne!(template_key("s", "x"), template_key("s", "y"));
    }

    #[test]
    fn arns_and_urls_follow_the_partition() {
        let b = Bucket {
            name: "tug-a-1-cn-north-1".into(),
            region: "cn-north-1".into(),
            partition: "aws-cn".into(),
        };
        assert_eq!(
            b.object_arn("k/x.env"),
            "arn:aws-cn:s3:::tug-a-1-cn-north-1/k/x.env"
        );
        assert_eq!(
            b.object_url("t/x.yml"),
            "https://tug-a-1-cn-north-1.s3.cn-north-1.amazonaws.com.cn/t/x.yml"
        );
        let policy = bucket_policy(&b).to_string();
        assert!(policy.contains("aws:SecureTransport") && policy.contains("\"Deny\""));
    }
}
