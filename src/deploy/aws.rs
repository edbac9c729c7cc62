//! AWS access: one SDK configuration from aws-config's default chain (environment, profiles,
//! SSO, web identity, IMDS), with `--profile`, `--region` and `--endpoint-url` /
//! `AWS_ENDPOINT_URL` applied to every client. Retries are the SDK's standard policy, which
//! retries throttling and transient errors only. EC2 is called by tug's own small Query client
//! (`deploy::ec2_query`), made from the same configuration.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudformation::config::http::HttpResponse;

use crate::error::{Error, Result};

/// What the user chose on the command line.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The clients tug uses.
#[derive(Clone)]
pub struct Aws {
    pub cfn: aws_sdk_cloudformation::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    /// Parameter Store: where AWS Copilot recorded its applications (`tug adopt` reads it).
    pub ssm: aws_sdk_ssm::Client,
    /// The application domain's hosted zones (`tug app init --domain`).
    pub route53: aws_sdk_route53::Client,
    /// Subnets chosen by tags and the CloudFront prefix list, looked up at deploy.
    pub ec2: crate::deploy::ec2_query::Ec2Query,
    pub region: String,
    /// The account and partition of the credentials, read once (STS GetCallerIdentity) by the
    /// first deploy step that needs them and shared by every clone.
    identity: std::sync::Arc<tokio::sync::OnceCell<Identity>>,
}

/// Who the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    /// `aws`, `aws-cn` or `aws-us-gov`: the second field of the caller's ARN.
    pub partition: String,
}

impl Aws {
    pub async fn connect(settings: &AwsSettings) -> Result<Aws> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(5));
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            Error::failure("no AWS Region is configured")
                .help("pass --region, set AWS_REGION, or set a region in your AWS profile")
        })?;
        Ok(Aws {
            cfn: aws_sdk_cloudformation::Client::new(&config),
            ecs: aws_sdk_ecs::Client::new(&config),
            ecr: aws_sdk_ecr::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            sfn: aws_sdk_sfn::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    // An emulator on a custom endpoint (a loopback address) has no DNS name
                    // per bucket: address buckets in the path there.
                    .force_path_style(config.endpoint_url().is_some())
                    .build(),
            ),
            sts: aws_sdk_sts::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
            route53: aws_sdk_route53::Client::new(&config),
            ec2: crate::deploy::ec2_query::Ec2Query::new(&config, &region),
            region,
            identity: std::sync::Arc::default(),
        })
    }

    /// The account and partition of the credentials in use.
    pub async fn identity(&self) -> Result<Identity> {
        self.identity
            .get_or_try_init(|| async {
                let out = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| {
                        Error::failure(format!(
                            "cannot read which AWS account the credentials belong to (STS GetCallerIdentity): {}",
                            describe_error(&e)
                        ))
                    })?;
                let account = out.account().unwrap_or_default().to_string();
                let partition = out
                    .arn()
                    .and_then(|a| a.split(':').nth(1))
                    .filter(|p| !p.is_empty())
                    .unwrap_or("aws")
                    .to_string();
                if account.is_empty() {
                    return Err(Error::failure(
                        "STS GetCallerIdentity answered without an account",
                    ));
                }
                Ok(Identity { account, partition })
            })
            .await
            .cloned()
    }
}

/// A readable message from an SDK error: the service's code and message when there is one.
pub fn describe_error<E>(err: &aws_sdk_cloudformation::error::SdkError<E, HttpResponse>) -> String
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error,
{
    use aws_sdk_cloudformation::error::SdkError;
    match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            match (inner.code(), inner.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => code.to_string(),
                _ => format!(
                    "the service answered HTTP {} without an error code",
                    e.raw().status().as_u16()
                ),
            }
        }
        SdkError::DispatchFailure(e) => {
            format!(
                "cannot reach AWS ({e:?}); check your network, --endpoint-url or AWS_ENDPOINT_URL"
            )
        }
        SdkError::TimeoutError(_) => "the request to AWS timed out".to_string(),
        SdkError::ResponseError(e) => format!("unexpected response from AWS: {e:?}"),
        SdkError::ConstructionFailure(e) => format!("cannot build the request: {e:?}"),
        other => other.to_string(),
    }
}

/// The service error code of an SDK error, if it has one.
pub fn error_code<E, R>(err: &aws_sdk_cloudformation::error::SdkError<E, R>) -> Option<String>
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata,
{
    match err {
        aws_sdk_cloudformation::error::SdkError::ServiceError(e) => {
            e.err().code().map(str::to_string)
        }
        _ => None,
    }
}

/// A name unique to this request, usable as a change set name and as the client token of a
/// mutating call (`tug-<milliseconds>-<counter>-<process>`, within CloudFormation's pattern
/// `[a-zA-Z][-a-zA-Z0-9]*`). The SDK sends the same token on every retry of a request, so a
/// retry after a lost answer is recognised by AWS instead of acting twice.
pub fn request_token() -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "tug-{}-{n}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
        std::process::id()
    )
}
