//! A small client of the EC2 Query API for the two lookups `tug deploy` makes
//! (DescribeSubnets, DescribeManagedPrefixLists; see `deploy::lookup`).
//!
//! Why not aws-sdk-ec2: that crate alone costs about 7 CPU-minutes of every build from scratch
//! (BENCHMARKS.md, "Build cost of aws-sdk-ec2"). This client is built only from crates the
//! other AWS SDK clients already compile: aws-sigv4 signs (service `ec2`, the Region and
//! credentials of the SDK configuration `deploy::aws` loads), aws-smithy-http-client's default
//! connector (rustls, as the SDK's clients) sends, and aws-smithy-xml reads the answers.
//!
//! It owns: the form-encoded POST (`Action`, `Version=2016-11-15`, `Filter.N.Name`,
//! `Filter.N.Value.M`, `NextToken`), the endpoint (the configured endpoint URL, e.g.
//! `--endpoint-url` / `AWS_ENDPOINT_URL`, else `https://ec2.<region>.amazonaws.com`), paging
//! by `nextToken`, AWS error answers (`<Response><Errors><Error><Code>`) as
//! `crate::error::Error` with code and message, and retries of throttling, 5xx answers and
//! failed connections with the SDK standard policy's shape (5 attempts, exponential backoff
//! from 1 s, capped at 20 s, with jitter).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_async::rt::sleep::SharedAsyncSleep;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};

use crate::error::{Error, Result};

/// The EC2 API version every Query request names.
const API_VERSION: &str = "2016-11-15";
/// Attempts per request, as tug configures the SDK clients (`deploy::aws`).
const MAX_ATTEMPTS: u32 = 5;
/// Error codes EC2 and the other Query services answer when throttling.
const THROTTLING_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
];

/// An EC2 filter: a name and the values any of which matches.
pub(crate) type Filter = (String, Vec<String>);

/// The EC2 client: cheap to clone; the HTTP connector is made on the first request only, so
/// commands that never call EC2 never load the TLS trust roots for it.
#[derive(Clone)]
pub struct Ec2Query {
    endpoint: String,
    region: String,
    credentials: Option<SharedCredentialsProvider>,
    sleep: Option<SharedAsyncSleep>,
    connector: Arc<OnceLock<SharedHttpConnector>>,
}

/// One HTTP answer.
struct Answer {
    status: u16,
    body: String,
}

impl Ec2Query {
    /// The client for the SDK configuration tug loaded.
    pub(crate) fn new(config: &aws_config::SdkConfig, region: &str) -> Ec2Query {
        Ec2Query {
            endpoint: config
                .endpoint_url()
                .map_or_else(|| default_endpoint(region), str::to_string),
            region: region.to_string(),
            credentials: config.credentials_provider(),
            sleep: config.sleep_impl(),
            connector: Arc::default(),
        }
    }

    /// Every `id` of the `<set><item>` elements of `action`'s answers, all pages read.
    pub(crate) async fn ids(
        &self,
        action: &str,
        filters: &[Filter],
        set: &str,
        id: &str,
    ) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = query(action, filters);
            if let Some(t) = &token {
                params.push(("NextToken".to_string(), t.clone()));
            }
            let body = self.call(&form(&params)).await?;
            let page = read_page(&body, set, id).map_err(|e| {
                Error::failure(format!("EC2 {action} answered unreadable XML: {e}"))
            })?;
            ids.extend(page.ids);
            match page.next_token {
                Some(t) if token.as_ref() != Some(&t) => token = Some(t),
                _ => return Ok(ids),
            }
        }
    }

    /// Sends one request (retrying what the SDK retries) and returns the answer's body.
    async fn call(&self, body: &str) -> Result<String> {
        let mut attempt = 1;
        loop {
            let failure = match self.send(body).await {
                Ok(answer) if (200..300).contains(&answer.status) => return Ok(answer.body),
                Ok(answer) => {
                    let (code, message) = read_error(&answer.body).unwrap_or_default();
                    let retry = answer.status >= 500 || THROTTLING_CODES.contains(&code.as_str());
                    (retry, answer_error(answer.status, &code, &message))
                }
                Err(e) => (true, e),
            };
            let (retry, error) = failure;
            if !retry || attempt >= MAX_ATTEMPTS {
                return Err(error);
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        }
    }

    /// One signed POST.
    async fn send(&self, body: &str) -> Result<Answer> {
        let request = self.signed_request(body).await?;
        let response = self.connector().call(request).await.map_err(|e| {
            Error::failure(format!("cannot reach EC2 at {} ({e})", self.endpoint))
                .help("check your network, --endpoint-url or AWS_ENDPOINT_URL")
        })?;
        let status = response.status().as_u16();
        let bytes = ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|e| Error::failure(format!("the answer of EC2 was cut off: {e}")))?
            .into_bytes();
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// The POST of `body`, signed with SigV4 for `ec2` in the Region.
    async fn signed_request(&self, body: &str) -> Result<HttpRequest> {
        let credentials = self
            .credentials
            .as_ref()
            .ok_or_else(|| {
                Error::failure("no AWS credentials are configured")
                    .help("set AWS_PROFILE or pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            })?
            .provide_credentials()
            .await
            .map_err(|e| Error::failure(format!("cannot load AWS credentials: {e}")))?;
        let identity = Identity::from(credentials);
        let mut request = http::Request::builder()
            .method("POST")
            .uri(&self.endpoint)
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(body.to_string())
            .map_err(|e| Error::failure(format!("cannot build the EC2 request: {e}")))?;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("ec2")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::failure(format!("cannot sign the EC2 request: {e}")))?
            .into();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let signable = SignableRequest::new(
            "POST",
            self.endpoint.as_str(),
            headers,
            SignableBody::Bytes(body.as_bytes()),
        )
        .and_then(|s| sign(s, &params))
        .map_err(|e| Error::failure(format!("cannot sign the EC2 request: {e}")))?;
        signable
            .into_parts()
            .0
            .apply_to_request_http1x(&mut request);
        let request = request.map(SdkBody::from);
        HttpRequest::try_from(request)
            .map_err(|e| Error::failure(format!("cannot build the EC2 request: {e}")))
    }

    fn connector(&self) -> SharedHttpConnector {
        self.connector
            .get_or_init(|| {
                // The SDK's defaults: 3.1 s to connect; a read timeout bounds a stalled answer.
                let settings = HttpConnectorSettings::builder()
                    .connect_timeout(Duration::from_millis(3100))
                    .read_timeout(Duration::from_secs(60))
                    .build();
                aws_smithy_http_client::default_connector(&settings, self.sleep.clone())
                    .expect("the rustls connector is compiled in")
            })
            .clone()
    }
}

/// EC2's public endpoint in the Region (China's Regions have their own domain).
fn default_endpoint(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://ec2.{region}.{domain}")
}

/// The Query parameters of `action` with its filters.
fn query(action: &str, filters: &[Filter]) -> Vec<(String, String)> {
    let mut params = vec![
        ("Action".to_string(), action.to_string()),
        ("Version".to_string(), API_VERSION.to_string()),
    ];
    for (n, (name, values)) in filters.iter().enumerate() {
        params.push((format!("Filter.{}.Name", n + 1), name.clone()));
        for (m, value) in values.iter().enumerate() {
            params.push((format!("Filter.{}.Value.{}", n + 1, m + 1), value.clone()));
        }
    }
    params
}

/// `application/x-www-form-urlencoded`: everything but RFC 3986's unreserved characters is
/// percent-encoded (so the body signs the same way everywhere).
fn form(params: &[(String, String)]) -> String {
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Jittered exponential backoff before attempt `attempt + 1`: a random part of
/// min(20 s, 1 s × 2^(attempt-1)), at least a tenth of it.
fn backoff(attempt: u32) -> Duration {
    let ceiling = Duration::from_secs(1u64 << (attempt - 1).min(5)).min(Duration::from_secs(20));
    // No random number crate: the clock's nanoseconds are random enough to spread retries.
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let share = 0.1 + 0.9 * f64::from(nanos % 1000) / 1000.0;
    ceiling.mul_f64(share)
}

/// The error of an AWS error answer.
fn answer_error(status: u16, code: &str, message: &str) -> Error {
    match (code.is_empty(), message.is_empty()) {
        (true, _) => Error::failure(format!("EC2 answered HTTP {status} without an error code")),
        (false, true) => Error::failure(code.to_string()),
        (false, false) => Error::failure(format!("{code}: {message}")),
    }
}

/// One page of an answer: the ids and the token of the next page.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    ids: Vec<String>,
    next_token: Option<String>,
}

/// Reads `<X-Response><set><item><id>` (only an item's own `id`, not those of nested
/// items such as tags) and `<nextToken>`.
fn read_page(xml: &str, set: &str, id: &str) -> std::result::Result<Page, String> {
    let mut doc = Document::new(xml);
    let mut root = doc.root_element().map_err(|e| e.to_string())?;
    let mut page = Page {
        ids: Vec::new(),
        next_token: None,
    };
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().matches(set) {
            while let Some(mut item) = tag.next_tag() {
                if let Some(value) = child_text(&mut item, id)? {
                    page.ids.push(value);
                }
            }
        } else if tag.start_el().matches("nextToken") {
            let token = try_data(&mut tag).map_err(|e| e.to_string())?;
            if !token.is_empty() {
                page.next_token = Some(token.into_owned());
            }
        }
    }
    Ok(page)
}

/// The text of the child `name` of `parent`, if it has one.
fn child_text(
    parent: &mut ScopedDecoder<'_, '_>,
    name: &str,
) -> std::result::Result<Option<String>, String> {
    let mut found = None;
    while let Some(mut child) = parent.next_tag() {
        if child.start_el().matches(name) {
            found = Some(
                try_data(&mut child)
                    .map_err(|e| e.to_string())?
                    .into_owned(),
            );
        }
    }
    Ok(found)
}

/// The code and message of an error answer: EC2's `<Response><Errors><Error>` or the other
/// Query services' `<ErrorResponse><Error>`.
fn read_error(xml: &str) -> Option<(String, String)> {
    let mut doc = Document::new(xml);
    let mut root = doc.root_element().ok()?;
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().matches("Errors") {
            while let Some(mut error) = tag.next_tag() {
                if error.start_el().matches("Error") {
                    return error_fields(&mut error);
                }
            }
        } else if tag.start_el().matches("Error") {
            return error_fields(&mut tag);
        }
    }
    None
}

fn error_fields(error: &mut ScopedDecoder<'_, '_>) -> Option<(String, String)> {
    let (mut code, mut message) = (String::new(), String::new());
    while let Some(mut field) = error.next_tag() {
        if field.start_el().matches("Code") {
            code = try_data(&mut field).ok()?.into_owned();
        } else if field.start_el().matches("Message") {
            message = try_data(&mut field).ok()?.into_owned();
        }
    }
    Some((code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fidelity: answers written from the EC2 API reference's documented response shapes
    // (DescribeSubnets, DescribeManagedPrefixLists, "Error codes": `<Response><Errors>`),
    // not recorded from AWS.
    const SUBNETS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>0d3a4c5e-1111-2222-3333-444455556666</requestId>
    <subnetSet>
        <item>
            <subnetId>subnet-0aaa1111bbbb2222c</subnetId>
            <state>available</state>
            <vpcId>vpc-0123456789abcdef0</vpcId>
            <cidrBlock>10.0.1.0/24</cidrBlock>
            <availableIpAddressCount>251</availableIpAddressCount>
            <availabilityZone>us-east-1a</availabilityZone>
            <tagSet>
                <item><key>tier</key><value>app</value></item>
                <item><key>subnetId</key><value>not-an-id</value></item>
            </tagSet>
        </item>
        <item>
            <subnetId>subnet-0ddd3333eeee4444f</subnetId>
            <state>available</state>
            <vpcId>vpc-0123456789abcdef0</vpcId>
            <tagSet/>
        </item>
    </subnetSet>
    <nextToken>eyJ2IjoiMiIsImMiOiJwYWdlMiJ9</nextToken>
</DescribeSubnetsResponse>"#;

    #[test]
    fn subnet_ids_and_the_next_token_are_read_and_tags_are_not_taken_for_ids() {
        let page = read_page(SUBNETS, "subnetSet", "subnetId").expect("readable");
        assert_eq!(
            page,
            Page {
                ids: vec![
                    "subnet-0aaa1111bbbb2222c".to_string(),
                    "subnet-0ddd3333eeee4444f".to_string()
                ],
                next_token: Some("eyJ2IjoiMiIsImMiOiJwYWdlMiJ9".to_string()),
            }
        );
    }

    #[test]
    fn a_last_page_of_prefix_lists_has_no_token() {
        let xml = r#"<DescribeManagedPrefixListsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>7e8f9a0b-aaaa-bbbb-cccc-ddddeeeeffff</requestId>
    <prefixListSet>
        <item>
            <addressFamily>IPv4</addressFamily>
            <maxEntries>55</maxEntries>
            <ownerId>AWS</ownerId>
            <prefixListArn>arn:aws:ec2:us-east-1:aws:prefix-list/pl-3b927c52</prefixListArn>
            <prefixListId>pl-3b927c52</prefixListId>
            <prefixListName>com.amazonaws.global.cloudfront.origin-facing</prefixListName>
            <state>create-complete</state>
            <tagSet/>
            <version>12</version>
        </item>
    </prefixListSet>
</DescribeManagedPrefixListsResponse>"#;
        let page = read_page(xml, "prefixListSet", "prefixListId").expect("readable");
        assert_eq!(page.ids, ["pl-3b927c52"]);
        assert_eq!(page.next_token, None);
    }

    #[test]
    fn error_answers_give_their_code_and_message() {
        let ec2 = "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>The filter 'tag:a&amp;b' is invalid</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>";
        assert_eq!(
            read_error(ec2),
            Some((
                "InvalidParameterValue".to_string(),
                "The filter 'tag:a&b' is invalid".to_string()
            ))
        );
        let query = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
        assert_eq!(
            read_error(query).map(|e| e.0),
            Some("Throttling".to_string())
        );
        assert_eq!(read_error(""), None);
        assert_eq!(
            answer_error(400, "InvalidParameterValue", "bad").message(),
            "InvalidParameterValue: bad"
        );
    }

    #[test]
    fn filters_are_numbered_from_one_and_the_body_is_percent_encoded() {
        let params = query(
            "DescribeSubnets",
            &[
                (
                    "tag:team name".to_string(),
                    vec!["a&b".to_string(), "c".to_string()],
                ),
                ("vpc-id".to_string(), vec!["vpc-1".to_string()]),
            ],
        );
        assert_eq!(
            form(&params),
            "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=tag%3Ateam%20name&Filter.1.Value.1=a%26b&Filter.1.Value.2=c&Filter.2.Name=vpc-id&Filter.2.Value.1=vpc-1"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_secs(1));
        assert!(backoff(1) >= Duration::from_millis(100));
        assert!(backoff(10) <= Duration::from_secs(20));
        assert_eq!(
            default_endpoint("eu-west-1"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            default_endpoint("cn-north-1"),
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
    }
}
