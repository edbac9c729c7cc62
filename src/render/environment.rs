//! The environment stack's view model: network (managed or imported VPC), security groups,
//! the ECS cluster and its capacity providers, the load balancers the workloads need, the
//! Cloud Map namespace, optional flow logs and CDN, the application domain's hosted zone,
//! delegation and certificate, and the exports workload stacks import.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::manifest::decode::Located;
use crate::manifest::domain::Zone;
use crate::manifest::load::{Loaded, ResolvedEnvironment};
use crate::manifest::model::environment::{
    EnvVpc, PrivateHttp, PublicHttp, SecurityGroupRule, defaults,
};
use crate::manifest::union::{BoolOr, ScalarOr};
use crate::render::features::{EnvFeatures, env_features, uses_public_alb, workloads_in};
use crate::render::{RenderError, RenderedStack, VERSION, finish, names};

/// The managed policy that lets VPC flow logs write to CloudWatch Logs is not AWS-managed;
/// the role's inline policy lists exactly what delivery needs.
const FLOW_LOG_ACTIONS: &[&str] = &[
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
];

/// Renders the environment stack `<app>-<env>`.
pub fn render(loaded: &Loaded, env: &ResolvedEnvironment) -> Result<RenderedStack, RenderError> {
    let features = env_features(loaded, &env.name);
    let context = context(loaded, env, features);
    let cdn_ingress_only = context["cdn_ingress_only"].as_bool() == Some(true);
    let template = finish("environment", context, &[])?;
    let mut tags = BTreeMap::new();
    tags.insert("tug:app".to_string(), loaded.app.clone());
    tags.insert("tug:env".to_string(), env.name.clone());
    let mut parameters = BTreeMap::new();
    if loaded.environment_addons.is_some() {
        parameters.insert(
            crate::manifest::addons::TEMPLATE_URL_PARAMETER.to_string(),
            "<uploaded by tug deploy>".to_string(),
        );
    }
    if cdn_ingress_only {
        parameters.insert(
            "CloudFrontOriginFacingPrefixListId".to_string(),
            "<resolved at deploy time: the id of com.amazonaws.global.cloudfront.origin-facing>"
                .to_string(),
        );
    }
    Ok(RenderedStack {
        stack_name: names::env_stack(&loaded.app, &env.name),
        workload: None,
        template,
        parameters,
        tags,
    })
}

fn tags(app: &str, env: &str) -> Value {
    json!([{ "Key": "tug:app", "Value": app }, { "Key": "tug:env", "Value": env }])
}

/// The zone of the subnet at `index`: the Region's zones in order, or the zone the manifest
/// names. Named zones become typed stack parameters (defaulting to the name) so the template
/// stays portable and CloudFormation checks the names.
fn subnet_az(index: usize, az: Option<&str>, zones: &mut Vec<String>) -> Value {
    match az {
        Some(az) => {
            let n = match zones.iter().position(|z| z == az) {
                Some(i) => i + 1,
                None => {
                    zones.push(az.to_string());
                    zones.len()
                }
            };
            json!({ "Ref": format!("AvailabilityZone{n}") })
        }
        None => json!({ "Fn::Select": [index, { "Fn::GetAZs": "" }] }),
    }
}

fn vpc_context(vpc: Option<&EnvVpc>, nat: bool, zones: &mut Vec<String>) -> Value {
    let subnets = vpc.and_then(|v| v.subnets.as_ref());
    let public: Vec<_> = subnets
        .and_then(|s| s.public.as_ref())
        .map(|p| p.value.clone())
        .unwrap_or_default();
    let private: Vec<_> = subnets
        .and_then(|s| s.private.as_ref())
        .map(|p| p.value.clone())
        .unwrap_or_default();
    if let Some(id) = vpc.and_then(|v| v.id.as_ref()) {
        let ids = |list: &Vec<
            crate::manifest::decode::Located<crate::manifest::model::environment::SubnetConfig>,
        >|
         -> Vec<String> {
            list.iter()
                .filter_map(|s| s.id.as_ref().map(|i| i.value.clone()))
                .collect()
        };
        return json!({
            "managed": false,
            "id": id.value,
            "public_ids": ids(&public),
            "private_ids": ids(&private),
        });
    }
    let cidr = vpc
        .and_then(|v| v.cidr.as_ref())
        .map_or(defaults::VPC_CIDR.to_string(), |c| c.value.clone());
    let mut layout = |list: &Vec<
        crate::manifest::decode::Located<crate::manifest::model::environment::SubnetConfig>,
    >,
                      defaults: &[&str],
                      prefix: &str|
     -> Vec<Value> {
        if list.is_empty() {
            return defaults
                .iter()
                .enumerate()
                .map(|(i, c)| json!({ "id": format!("{prefix}Subnet{}", i + 1), "n": i + 1, "cidr": c, "az": subnet_az(i, None, &mut Vec::new()) }))
                .collect();
        }
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                json!({
                    "id": format!("{prefix}Subnet{}", i + 1),
                    "n": i + 1,
                    "cidr": s.cidr.as_ref().map(|c| c.value.clone()).unwrap_or_default(),
                    "az": subnet_az(i, s.az.as_ref().map(|a| a.value.as_str()), zones),
                })
            })
            .collect()
    };
    let public = layout(&public, &defaults::PUBLIC_CIDRS, "Public");
    let mut private = layout(&private, &defaults::PRIVATE_CIDRS, "Private");
    // Each private subnet routes through the NAT gateway in the public subnet of the same
    // position (same zone when the zones are listed in the same order).
    let public_count = public.len().max(1);
    for (i, p) in private.iter_mut().enumerate() {
        p["nat_subnet"] = json!(format!("PublicSubnet{}", (i % public_count) + 1));
    }
    json!({ "managed": true, "cidr": cidr, "public": public, "private": private, "nat": nat })
}

fn sg_rule(rule: &SecurityGroupRule) -> Value {
    let protocol = rule.ip_protocol.as_ref().map_or("tcp".to_string(), |p| {
        if p.value.eq_ignore_ascii_case("all") {
            "-1".to_string()
        } else {
            p.value.to_ascii_lowercase()
        }
    });
    let (from, to) = match rule.ports.as_ref().map(|p| &p.value) {
        Some(ScalarOr::Scalar(s)) => match s.split_once('-') {
            Some((a, b)) => (
                a.trim().parse::<i64>().unwrap_or(0),
                b.trim().parse::<i64>().unwrap_or(0),
            ),
            None => {
                let p = s.trim().parse::<i64>().unwrap_or(-1);
                (p, p)
            }
        },
        Some(ScalarOr::Config(r)) => (
            r.from.as_ref().map_or(0, |v| i64::from(v.value)),
            r.to.as_ref().map_or(0, |v| i64::from(v.value)),
        ),
        None => (-1, -1),
    };
    let mut out = json!({
        "IpProtocol": protocol,
        "CidrIp": rule.cidr.as_ref().map(|c| c.value.clone()).unwrap_or_default(),
    });
    if protocol != "-1" {
        out["FromPort"] = json!(from);
        out["ToPort"] = json!(to);
    }
    out
}

/// The TLS policy of an HTTPS listener: the manifest's, else tug's TLS 1.2+ default.
fn ssl_policy(manifest: Option<&Located<String>>) -> String {
    manifest.map_or(crate::render::DEFAULT_SSL_POLICY.to_string(), |p| {
        p.value.clone()
    })
}

/// The ALB attribute that drops headers whose names are not valid HTTP tokens, before they reach
/// a task: on unless the manifest turns it off. Proxies and frameworks disagree on how to read
/// such names (`X-Forwarded-For` vs `X_Forwarded_For`), the root of request-smuggling and
/// header-spoofing tricks.
fn drop_invalid_headers(manifest: Option<&Located<bool>>) -> Value {
    let on = manifest.is_none_or(|d| d.value);
    json!({ "Key": "routing.http.drop_invalid_header_fields.enabled", "Value": on.to_string() })
}

/// What the access-log bucket and its policy need: the bucket (an existing one, or null for the
/// bucket tug creates), the key prefix, and the key pattern ELB writes under, which the bucket
/// policy grants (`[<prefix>/]AWSLogs/<account>/*`, never the whole bucket).
fn access_log_context(bucket: Option<&str>, prefix: &str) -> Value {
    let prefix = prefix.trim_matches('/');
    // The policy's resource is an `Fn::Sub` string: `${!` keeps a `${` of the prefix literal.
    let folder = if prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", prefix.replace("${", "${!"))
    };
    let keys = format!(
        "arn:${{AWS::Partition}}:s3:::${{ELBAccessLogsBucket}}/{folder}AWSLogs/${{AWS::AccountId}}/*"
    );
    json!({ "bucket": bucket, "prefix": prefix, "keys": keys })
}

/// The cluster's Container Insights setting: `enabled`, `enhanced` or `disabled`.
pub(crate) fn container_insights(env: &ResolvedEnvironment) -> &'static str {
    let m = &env.manifest;
    let setting = m
        .cluster
        .as_ref()
        .and_then(|c| c.container_insights.as_ref())
        .or(m
            .observability
            .as_ref()
            .and_then(|o| o.container_insights.as_ref()));
    match setting.map(|s| &s.value) {
        Some(ScalarOr::Scalar(s)) if s.eq_ignore_ascii_case("enhanced") => "enhanced",
        Some(ScalarOr::Scalar(s)) if s.eq_ignore_ascii_case("true") => "enabled",
        Some(ScalarOr::Config(c)) if c.enhanced.as_ref().is_some_and(|e| e.value) => "enhanced",
        _ => "disabled",
    }
}

/// The view model of the environment template.
pub fn context(loaded: &Loaded, env: &ResolvedEnvironment, features: EnvFeatures) -> Value {
    let app = &loaded.app;
    let m = &env.manifest;
    let mut zones = Vec::new();
    let net = Network::of(env, features, &mut zones);
    let vpc_manifest = net.manifest;
    let (ingress, egress) = security_group_rules(vpc_manifest);
    let public = m.http.as_ref().and_then(|h| h.public.as_ref());
    let private = m.http.as_ref().and_then(|h| h.private.as_ref());
    let public_certs = certificate_arns(public.and_then(|p| p.certificates.as_ref()));
    let cdn_ingress_only = cdn_ingress_only(public);
    let domain = domain_context(loaded, env, features.public_alb);
    // With the application's domain and no imported certificate, the HTTPS listener uses the
    // environment's certificate, as Copilot's did (its `HTTPSCert`).
    let public_https = !public_certs.is_empty() || !domain.is_null();
    let public_alb = features
        .public_alb
        .then(|| public_alb_context(public, &public_certs, public_https, cdn_ingress_only));
    let internal_alb = features
        .internal_alb
        .then(|| internal_alb_context(private, &net));
    let cdn = (features.public_alb && m.cdn.as_ref().is_some_and(|c| c.value.enabled()))
        .then(|| cdn_context(loaded, env, public_https));
    let fargate_spot = m
        .cluster
        .as_ref()
        .and_then(|c| c.fargate_spot.as_ref())
        .is_none_or(|f| f.value);
    let capacity = crate::render::capacity::context(
        app,
        env,
        &net.public_subnets,
        &net.private_subnets,
        fargate_spot,
        net.nat,
    );
    let has_ec2 = !capacity["ec2"].is_null();
    let manifest_hash = names::sha256(&env.interpolated.to_string());
    let prefix = names::env_stack(app, &env.name);
    let outputs = outputs(
        &prefix,
        &OutputFacts {
            vpc_id: &net.vpc_id,
            public_subnets: &net.public_subnets,
            private_subnets: &net.private_subnets,
            public_alb: public_alb.as_ref(),
            internal_alb: internal_alb.as_ref(),
            managed_efs: features.managed_efs,
            cdn: cdn.is_some(),
            subdomain: domain["subdomain"].as_str(),
        },
    );
    let cdn_ingress_only = cdn_ingress_only && features.public_alb;
    json!({
        "app": app,
        "env": env.name,
        "version": VERSION,
        "description": format!("tug environment {} of application {}", env.name, app),
        "manifest_hash": manifest_hash,
        "features": {
            "public_alb": features.public_alb,
            "internal_alb": features.internal_alb,
            "nat": features.nat,
            "managed_efs": features.managed_efs,
        },
        "tags": tags(app, &env.name),
        "vpc": net.vpc,
        "vpc_id": net.vpc_id,
        "public_subnets": net.public_subnets,
        "private_subnets": net.private_subnets,
        "workload_subnets": net.private_or_public,
        "sg_description": format!("{app}-{} environment security group", env.name),
        "sg_ingress": ingress,
        "sg_egress": egress,
        "flow_logs": flow_logs(vpc_manifest),
        "container_insights": container_insights(env),
        "ec2": capacity["ec2"],
        "capacity": capacity,
        "namespace": format!("{}.{}.local", env.name, app),
        "public_alb": public_alb,
        "internal_alb": internal_alb,
        "cdn": cdn,
        "domain": domain,
        "cdn_ingress_only": cdn_ingress_only,
        "managed_efs": features.managed_efs,
        "outputs": outputs,
        "has_parameters": !zones.is_empty() || cdn_ingress_only || has_ec2 || loaded.environment_addons.is_some(),
        "addons": loaded.environment_addons.as_ref().map(|a| json!({
            "parameters": a.stack_parameters(&[("App", json!(app)), ("Env", json!(env.name))]),
            "tags": tags(app, &env.name),
        })),
        "zones": zones.iter().enumerate().map(|(i, z)| json!({ "id": format!("AvailabilityZone{}", i + 1), "default": z })).collect::<Vec<_>>(),
    })
}

/// VPC flow logs (`network.vpc.flow_logs`): their retention and the actions of their role, or
/// null when off.
fn flow_logs(vpc: Option<&EnvVpc>) -> Option<Value> {
    let retention = vpc
        .and_then(|v| v.flow_logs.as_ref())
        .and_then(|f| match &f.value {
            BoolOr::Bool(false) => None,
            BoolOr::Bool(true) => Some(14),
            BoolOr::Config(c) => Some(c.retention.as_ref().map_or(14, |r| r.value)),
        })?;
    Some(json!({ "retention": retention, "actions": FLOW_LOG_ACTIONS }))
}

/// The environment's network: the VPC (managed or imported) and the subnets workloads and
/// load balancers go in.
struct Network<'a> {
    manifest: Option<&'a EnvVpc>,
    vpc: Value,
    /// Whether tug creates the VPC.
    managed: bool,
    vpc_id: Value,
    public_subnets: Value,
    private_subnets: Value,
    /// The private subnets, or the public ones in a VPC without private subnets.
    private_or_public: Value,
    /// Whether private subnets reach out through NAT gateways.
    nat: bool,
}

impl<'a> Network<'a> {
    fn of(
        env: &'a ResolvedEnvironment,
        features: EnvFeatures,
        zones: &mut Vec<String>,
    ) -> Network<'a> {
        let manifest = env
            .manifest
            .network
            .as_ref()
            .and_then(|n| n.vpc.as_ref())
            .map(|v| &v.value);
        // EC2 instances placed in private subnets reach ECS through NAT.
        let ec2_private = crate::render::capacity::providers(env)
            .iter()
            .any(|p| crate::render::capacity::private(p));
        let nat = features.nat || ec2_private;
        let vpc = vpc_context(manifest, nat, zones);
        let managed = vpc["managed"].as_bool() == Some(true);
        let vpc_id = if managed {
            json!({ "Ref": "VPC" })
        } else {
            vpc["id"].clone()
        };
        let subnet_refs = |key: &str, ids: &str| -> Value {
            if managed {
                Value::Array(
                    vpc[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| json!({ "Ref": s["id"] }))
                        .collect(),
                )
            } else {
                vpc[ids].clone()
            }
        };
        let public_subnets = subnet_refs("public", "public_ids");
        let private_subnets = subnet_refs("private", "private_ids");
        let private_or_public = if private_subnets.as_array().is_some_and(|a| !a.is_empty()) {
            private_subnets.clone()
        } else {
            public_subnets.clone()
        };
        Network {
            manifest,
            vpc,
            managed,
            vpc_id,
            public_subnets,
            private_subnets,
            private_or_public,
            nat,
        }
    }
}

/// The environment security group's own ingress and egress rules.
fn security_group_rules(vpc: Option<&EnvVpc>) -> (Vec<Value>, Vec<Value>) {
    let sg = vpc.and_then(|v| v.security_group.as_ref());
    let rules = |list: Option<&Located<Vec<Located<SecurityGroupRule>>>>| -> Vec<Value> {
        list.into_iter()
            .flat_map(|r| r.iter())
            .map(|r| sg_rule(r))
            .collect()
    };
    (
        rules(sg.and_then(|s| s.ingress.as_ref())),
        rules(sg.and_then(|s| s.egress.as_ref())),
    )
}

/// The ARNs of a load balancer's certificates.
fn certificate_arns(certs: Option<&Located<Vec<Located<String>>>>) -> Vec<String> {
    certs
        .map(|c| c.iter().map(|c| c.value.clone()).collect())
        .unwrap_or_default()
}

/// Whether the public load balancer admits CloudFront's origin-facing servers only.
fn cdn_ingress_only(public: Option<&Located<PublicHttp>>) -> bool {
    public
        .and_then(|p| p.ingress.as_ref())
        .and_then(|i| i.cdn.as_ref())
        .is_some_and(|c| c.value)
        || public
            .and_then(|p| p.security_groups.as_ref())
            .and_then(|s| s.ingress.as_ref())
            .and_then(|i| i.restrict_to.as_ref())
            .and_then(|r| r.cdn.as_ref())
            .is_some_and(|c| c.value)
}

/// The public load balancer: its listeners' certificates and TLS policy, the ingress of its
/// security group, access logs and attributes.
fn public_alb_context(
    public: Option<&Located<PublicHttp>>,
    certs: &[String],
    https: bool,
    cdn_ingress_only: bool,
) -> Value {
    let ports: Vec<u16> = if https { vec![80, 443] } else { vec![80] };
    let source_ips: Vec<String> = public
        .and_then(|p| p.ingress.as_ref())
        .and_then(|i| i.source_ips.as_ref())
        .map(|ips| ips.iter().map(|i| i.value.clone()).collect())
        .unwrap_or_default();
    let mut rules = Vec::new();
    for port in &ports {
        if cdn_ingress_only {
            rules.push(json!({ "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "SourcePrefixListId": { "Ref": "CloudFrontOriginFacingPrefixListId" }, "Description": "CloudFront origin-facing servers" }));
        } else if source_ips.is_empty() {
            rules.push(json!({ "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": "0.0.0.0/0", "Description": "The internet" }));
        } else {
            for ip in &source_ips {
                rules.push(json!({ "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": ip, "Description": "Allowed source" }));
            }
        }
    }
    let access_logs = public
        .and_then(|p| p.access_logs.as_ref())
        .and_then(|a| match &a.value {
            BoolOr::Bool(false) => None,
            BoolOr::Bool(true) => Some(access_log_context(None, "")),
            BoolOr::Config(c) => Some(access_log_context(
                c.bucket_name.as_ref().map(|b| b.value.as_str()),
                c.prefix.as_ref().map_or("", |p| p.value.as_str()),
            )),
        });
    let mut attributes = vec![drop_invalid_headers(
        public.and_then(|p| p.drop_invalid_header_fields.as_ref()),
    )];
    if let Some(logs) = &access_logs {
        attributes.push(json!({ "Key": "access_logs.s3.enabled", "Value": "true" }));
        let bucket = if logs["bucket"].is_null() {
            json!({ "Ref": "ELBAccessLogsBucket" })
        } else {
            logs["bucket"].clone()
        };
        attributes.push(json!({ "Key": "access_logs.s3.bucket", "Value": bucket }));
        attributes.push(json!({ "Key": "access_logs.s3.prefix", "Value": logs["prefix"] }));
    }
    let certificate = match certs.first() {
        Some(arn) => json!(arn),
        None => json!({ "Ref": ENVIRONMENT_CERTIFICATE }),
    };
    json!({
        "https": https,
        "certificate": certificate,
        "extra_certificates": certs.iter().skip(1).map(|c| json!({ "CertificateArn": c })).collect::<Vec<_>>(),
        "ssl_policy": ssl_policy(public.and_then(|p| p.ssl_policy.as_ref())),
        "ingress": rules,
        "access_logs": access_logs,
        "attributes": attributes,
    })
}

/// The internal load balancer: its certificates, TLS policy, subnets and who may reach it.
fn internal_alb_context(private: Option<&Located<PrivateHttp>>, net: &Network) -> Value {
    let certs = certificate_arns(private.and_then(|p| p.certificates.as_ref()));
    let subnets = match private.and_then(|p| p.subnets.as_ref()) {
        Some(ids) if !net.managed => {
            json!(ids.iter().map(|i| i.value.clone()).collect::<Vec<_>>())
        }
        _ => net.private_or_public.clone(),
    };
    let from_vpc = private
        .and_then(|p| p.ingress.as_ref())
        .and_then(|i| i.vpc.as_ref())
        .is_some_and(|v| v.value);
    json!({
        "https": !certs.is_empty(),
        "certificate": certs.first(),
        "extra_certificates": certs.iter().skip(1).map(|c| json!({ "CertificateArn": c })).collect::<Vec<_>>(),
        "ssl_policy": ssl_policy(private.and_then(|p| p.ssl_policy.as_ref())),
        "attributes": [drop_invalid_headers(private.and_then(|p| p.drop_invalid_header_fields.as_ref()))],
        "from_vpc": from_vpc && net.managed,
        "vpc_cidr": net.vpc["cidr"],
        "subnets": subnets,
        "ports": if certs.is_empty() { vec![80] } else { vec![80, 443] },
    })
}

/// The CloudFront distribution in front of the public load balancer.
fn cdn_context(loaded: &Loaded, env: &ResolvedEnvironment, public_https: bool) -> Value {
    let config = env.manifest.cdn.as_ref().and_then(|c| c.value.config());
    let certificate = config
        .and_then(|c| c.certificate.as_ref())
        .map(|c| c.value.clone());
    let aliases: Vec<String> = if certificate.is_some() {
        public_aliases(loaded, &env.name)
    } else {
        Vec::new()
    };
    json!({
        "origin_protocol": if public_https { "https-only" } else { "http-only" },
        "certificate": certificate,
        "aliases": aliases,
    })
}

/// What the environment stack's outputs depend on.
struct OutputFacts<'a> {
    vpc_id: &'a Value,
    public_subnets: &'a Value,
    private_subnets: &'a Value,
    public_alb: Option<&'a Value>,
    internal_alb: Option<&'a Value>,
    managed_efs: bool,
    cdn: bool,
    /// `<env>.<app>.<domain>` when the environment has its hosted zone.
    subdomain: Option<&'a str>,
}

/// The environment stack's outputs, each exported as `<prefix>-<id>` for workload stacks to
/// import.
fn outputs(prefix: &str, facts: &OutputFacts) -> Vec<Value> {
    let mut out = Exports {
        prefix,
        list: Vec::new(),
    };
    network_outputs(&mut out, facts);
    if let Some(alb) = facts.public_alb {
        public_alb_outputs(&mut out, alb);
    }
    if let Some(alb) = facts.internal_alb {
        internal_alb_outputs(&mut out, alb);
    }
    if facts.managed_efs {
        out.add(
            "FilesystemID",
            "The managed EFS file system",
            json!({ "Ref": "FileSystem" }),
        );
    }
    if let Some(subdomain) = facts.subdomain {
        // Copilot's export names (`<app>-<env>-HostedZone`, `-SubDomain`), which its workload
        // stacks imported.
        out.add(
            "HostedZone",
            "The hosted zone of the environment's subdomain",
            json!({ "Ref": "EnvironmentHostedZone" }),
        );
        out.add("SubDomain", "The environment's subdomain", json!(subdomain));
    }
    if facts.cdn {
        out.add(
            "CloudFrontDomainName",
            "The CloudFront distribution's domain",
            json!({ "Fn::GetAtt": ["CloudFrontDistribution", "DomainName"] }),
        );
    }
    out.list
}

/// The outputs of a stack, exported as `<prefix>-<id>`.
struct Exports<'a> {
    prefix: &'a str,
    list: Vec<Value>,
}

impl Exports<'_> {
    fn add(&mut self, id: &str, description: &str, value: Value) {
        let export = format!("{}-{id}", self.prefix);
        self.list.push(
            json!({ "id": id, "description": description, "value": value, "export": export }),
        );
    }
}

/// The VPC, subnets, security group, cluster and namespace.
fn network_outputs(out: &mut Exports, facts: &OutputFacts) {
    out.add("VpcId", "The VPC", facts.vpc_id.clone());
    if facts
        .public_subnets
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        out.add(
            "PublicSubnets",
            "Public subnets, comma-separated",
            json!({ "Fn::Join": [",", facts.public_subnets] }),
        );
    }
    if facts
        .private_subnets
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        out.add(
            "PrivateSubnets",
            "Private subnets, comma-separated",
            json!({ "Fn::Join": [",", facts.private_subnets] }),
        );
    }
    out.add(
        "EnvironmentSecurityGroup",
        "The security group every task joins",
        json!({ "Ref": "EnvironmentSecurityGroup" }),
    );
    out.add("ClusterId", "The ECS cluster", json!({ "Ref": "Cluster" }));
    out.add(
        "ClusterArn",
        "The ECS cluster's ARN",
        json!({ "Fn::GetAtt": ["Cluster", "Arn"] }),
    );
    out.add(
        "ServiceDiscoveryNamespaceID",
        "The Cloud Map namespace",
        json!({ "Fn::GetAtt": ["ServiceDiscoveryNamespace", "Id"] }),
    );
    out.add(
        "ServiceDiscoveryNamespaceArn",
        "The Cloud Map namespace's ARN, for Service Connect",
        json!({ "Fn::GetAtt": ["ServiceDiscoveryNamespace", "Arn"] }),
    );
}

/// The public load balancer and its listeners.
fn public_alb_outputs(out: &mut Exports, alb: &Value) {
    out.add(
        "PublicLoadBalancerDNS",
        "The public load balancer's DNS name",
        json!({ "Fn::GetAtt": ["PublicLoadBalancer", "DNSName"] }),
    );
    out.add(
        "PublicLoadBalancerFullName",
        "The public load balancer's full name, for metrics",
        json!({ "Fn::GetAtt": ["PublicLoadBalancer", "LoadBalancerFullName"] }),
    );
    out.add(
        "PublicLoadBalancerCanonicalHostedZoneID",
        "The public load balancer's hosted zone",
        json!({ "Fn::GetAtt": ["PublicLoadBalancer", "CanonicalHostedZoneID"] }),
    );
    out.add(
        "PublicLoadBalancerArn",
        "The public load balancer, for test listeners of blue/green services",
        json!({ "Ref": "PublicLoadBalancer" }),
    );
    out.add(
        "PublicLoadBalancerSecurityGroup",
        "The public load balancer's security group",
        json!({ "Ref": "PublicLoadBalancerSecurityGroup" }),
    );
    out.add(
        "HTTPListenerArn",
        "The public HTTP listener",
        json!({ "Ref": "HTTPListener" }),
    );
    if alb["https"].as_bool() == Some(true) {
        out.add(
            "HTTPSListenerArn",
            "The public HTTPS listener",
            json!({ "Ref": "HTTPSListener" }),
        );
    }
}

/// The internal load balancer and its listeners.
fn internal_alb_outputs(out: &mut Exports, alb: &Value) {
    out.add(
        "InternalLoadBalancerDNS",
        "The internal load balancer's DNS name",
        json!({ "Fn::GetAtt": ["InternalLoadBalancer", "DNSName"] }),
    );
    out.add(
        "InternalLoadBalancerCanonicalHostedZoneID",
        "The internal load balancer's hosted zone, for alias records",
        json!({ "Fn::GetAtt": ["InternalLoadBalancer", "CanonicalHostedZoneID"] }),
    );
    out.add(
        "InternalLoadBalancerArn",
        "The internal load balancer, for test listeners of blue/green services",
        json!({ "Ref": "InternalLoadBalancer" }),
    );
    out.add(
        "InternalLoadBalancerSecurityGroup",
        "The internal load balancer's security group",
        json!({ "Ref": "InternalLoadBalancerSecurityGroup" }),
    );
    out.add(
        "InternalLoadBalancerFullName",
        "The internal load balancer's full name, for metrics",
        json!({ "Fn::GetAtt": ["InternalLoadBalancer", "LoadBalancerFullName"] }),
    );
    out.add(
        "InternalHTTPListenerArn",
        "The internal HTTP listener",
        json!({ "Ref": "InternalHTTPListener" }),
    );
    if alb["https"].as_bool() == Some(true) {
        out.add(
            "InternalHTTPSListenerArn",
            "The internal HTTPS listener",
            json!({ "Ref": "InternalHTTPSListener" }),
        );
    }
}

/// The logical id of the environment's certificate for its subdomain and aliases.
pub const ENVIRONMENT_CERTIFICATE: &str = "EnvironmentCertificate";

/// Whether environment `env` has the hosted zone and certificate of the application's domain:
/// the application has a domain and the environment imports no public certificate (Copilot
/// made neither when certificates were imported).
pub(crate) fn has_domain(loaded: &Loaded, env: &str) -> bool {
    loaded.domain.is_some()
        && loaded
            .environments
            .iter()
            .find(|e| e.name == env)
            .and_then(|e| e.manifest.http.as_ref())
            .and_then(|h| h.public.as_ref())
            .and_then(|p| p.certificates.as_ref())
            .is_none_or(|c| c.is_empty())
}

/// The application domain's resources of the environment stack, as Copilot made them without
/// its Lambdas: the hosted zone `<env>.<app>.<domain>` (`EnvironmentHostedZone`, Copilot's id),
/// the NS record delegating it from the application's zone `<app>.<domain>` (Copilot's
/// `DelegateDNSAction` Lambda upserted it; tug's `EnvironmentHostedZoneDelegation` assumes the
/// application's zone is in the same account), and, when there is a public load balancer, a
/// certificate DNS-validated by CloudFormation for the subdomain, its wildcard and every public
/// alias of the environment's services (Copilot's `HTTPSCert` Lambda requested the same
/// names). Null without a domain.
fn domain_context(loaded: &Loaded, env: &ResolvedEnvironment, public_alb: bool) -> Value {
    let Some(domain) = loaded
        .domain
        .as_ref()
        .filter(|_| has_domain(loaded, &env.name))
    else {
        return Value::Null;
    };
    let subdomain = domain.environment(&loaded.app, &env.name);
    let certificate = public_alb.then(|| {
        let mut names = vec![subdomain.clone(), format!("*.{subdomain}")];
        let mut validation = Vec::new();
        let env_zone = json!({ "Ref": "EnvironmentHostedZone" });
        for name in &names {
            validation.push(json!({ "DomainName": name, "HostedZoneId": env_zone }));
        }
        for (alias, zone) in public_alias_zones(loaded, &env.name) {
            let zone = match (zone, domain.zone_of(&loaded.app, &env.name, &alias)) {
                (Some(z), _) => json!(z),
                (None, Some(Zone::Environment)) => env_zone.clone(),
                (None, Some(Zone::Application(z) | Zone::Domain(z))) => json!(z),
                // Refused when the workload renders: the alias has no zone to go in.
                (None, None) => continue,
            };
            if names.contains(&alias) {
                continue;
            }
            validation.push(json!({ "DomainName": alias, "HostedZoneId": zone }));
            names.push(alias);
        }
        json!({
            "domain": subdomain,
            "alternative_names": names[1..],
            "validation": validation,
        })
    });
    json!({
        "subdomain": subdomain,
        "comment": format!("The subdomain of environment {} of application {}: {subdomain}", env.name, loaded.app),
        "delegation_name": format!("{subdomain}."),
        "app_zone": domain.app_hosted_zone,
        "certificate": certificate,
    })
}

/// Every alias of the environment's public load-balanced web services with the hosted zone it
/// names, if any, in order of the workloads and first come.
fn public_alias_zones(loaded: &Loaded, env: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for rule in workloads_in(loaded, env)
        .filter(|w| uses_public_alb(w))
        .filter_map(|w| w.manifest.http_rule())
    {
        let mut rules = vec![rule.clone()];
        rules.extend(
            rule.additional_rules
                .iter()
                .flat_map(|r| r.iter())
                .map(|r| r.value.clone()),
        );
        for r in &rules {
            let zone = r.hosted_zone.as_ref().map(|z| z.value.clone());
            for item in r.alias.iter().flat_map(|a| a.value.items()) {
                let (name, zone) = match item {
                    ScalarOr::Scalar(s) => (s.clone(), zone.clone()),
                    ScalarOr::Config(c) => (
                        c.name.as_ref().map(|n| n.value.clone()).unwrap_or_default(),
                        c.hosted_zone
                            .as_ref()
                            .map(|z| z.value.clone())
                            .or(zone.clone()),
                    ),
                };
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if !name.is_empty() && !out.iter().any(|(n, _)| *n == name) {
                    out.push((name, zone));
                }
            }
        }
    }
    out
}

/// Every host name the environment's load-balanced web services answer to, sorted.
fn public_aliases(loaded: &Loaded, env: &str) -> Vec<String> {
    let mut out: Vec<String> = workloads_in(loaded, env)
        .filter(|w| uses_public_alb(w))
        .filter_map(|w| w.manifest.http_rule())
        .filter_map(|r| r.alias.as_ref())
        .flat_map(|a| {
            a.value
                .items()
                .into_iter()
                .map(|i| match i {
                    ScalarOr::Scalar(s) => s.clone(),
                    ScalarOr::Config(c) => {
                        c.name.as_ref().map(|n| n.value.clone()).unwrap_or_default()
                    }
                })
                .collect::<Vec<_>>()
        })
        .filter(|a| !a.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}
