//! Environment rules: imported or managed VPC, subnets inside the VPC and spread over
//! Availability Zones, security group rules, load balancer settings, CDN, Container Insights
//! and tug's EC2 capacity providers.

use crate::manifest::codes;
use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::load::ResolvedEnvironment;
use crate::manifest::model::environment::{
    Ec2Capacity, EnvVpc, SecurityGroupRule, SubnetConfig, defaults,
};
use crate::manifest::source::Span;
use crate::manifest::union::{BoolOr, OneOrMany, ScalarOr};
use crate::validate::rules::names::name_problem;
use crate::validate::rules::network::Cidr;

pub(crate) fn check(env: &ResolvedEnvironment, out: &mut Vec<Diagnostic>) {
    let m = &env.manifest;
    let whole = m
        .name
        .as_ref()
        .map_or(Span::new(env.source, 1, 1), |n| n.span);
    if let Some(p) = name_problem(&env.name) {
        out.push(
            Diagnostic::error(codes::INVALID_NAME, whole, format!("environment name {p}"))
                .with_help("rename the environment folder and its `name`"),
        );
    }
    if let Some(vpc) = m.network.as_ref().and_then(|n| n.vpc.as_ref()) {
        check_vpc(vpc, out);
    }
    check_http(env, out);
    check_cdn(env, out);
    for insights in [
        m.observability
            .as_ref()
            .and_then(|o| o.container_insights.as_ref()),
        m.cluster
            .as_ref()
            .and_then(|c| c.container_insights.as_ref()),
    ]
    .into_iter()
    .flatten()
    {
        if let ScalarOr::Scalar(s) = &insights.value
            && !["true", "false", "enhanced"].contains(&s.to_ascii_lowercase().as_str())
        {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    insights.span,
                    format!("container insights `{s}` must be true, false or enhanced"),
                )
                .with_help("enhanced turns on Container Insights with enhanced observability"),
            );
        }
    }
    if let Some(ec2) = m.cluster.as_ref().and_then(|c| c.ec2.as_ref()) {
        let providers: Vec<&Located<Ec2Capacity>> = match &ec2.value {
            OneOrMany::One(p) => vec![p],
            OneOrMany::Many(ps) => ps.iter().collect(),
        };
        check_ec2(&providers, ec2.span, out);
    }
}

/// The network a VPC manifest describes: an imported VPC (by id) or one tug makes.
fn check_vpc(vpc: &Located<EnvVpc>, out: &mut Vec<Diagnostic>) {
    let subnets = vpc.subnets.as_ref();
    let public: Vec<&Located<SubnetConfig>> = subnets
        .and_then(|s| s.public.as_ref())
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    let private: Vec<&Located<SubnetConfig>> = subnets
        .and_then(|s| s.private.as_ref())
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    for s in public.iter().chain(&private) {
        if s.id.is_some() && (s.cidr.is_some() || s.az.is_some()) {
            out.push(Diagnostic::error(codes::MUTUALLY_EXCLUSIVE, s.span, "a subnet has either an `id` (imported) or a `cidr` and `az` (managed), not both").with_help("keep one form"));
        }
    }
    if let Some(id) = &vpc.id {
        check_imported_vpc(vpc, id, &public, &private, out);
        return;
    }
    // Managed VPC.
    if public.iter().chain(&private).any(|s| s.id.is_some()) {
        let s = public
            .iter()
            .chain(&private)
            .find(|s| s.id.is_some())
            .map_or(vpc.span, |s| s.span);
        out.push(
            Diagnostic::error(
                codes::SUBNETS,
                s,
                "subnet ids need an imported VPC (`network.vpc.id`)",
            )
            .with_help("set `id` on the VPC, or describe managed subnets with `cidr` and `az`"),
        );
        return;
    }
    check_managed_cidrs(vpc, &public, &private, out);
    check_managed_zones(vpc, &public, &private, out);
    if let Some(sg) = &vpc.security_group {
        for rule in sg
            .ingress
            .iter()
            .flat_map(|r| r.iter())
            .chain(sg.egress.iter().flat_map(|r| r.iter()))
        {
            check_sg_rule(rule, out);
        }
    }
    if let Some(fl) = &vpc.flow_logs
        && let BoolOr::Config(c) = &fl.value
        && let Some(r) = &c.retention
        && !crate::validate::rules::task::LOG_RETENTION_DAYS.contains(&r.value)
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                r.span,
                format!(
                    "flow log retention of {} days is not one CloudWatch Logs accepts",
                    r.value
                ),
            )
            .with_help("allowed: 1, 3, 5, 7, 14, 30, 60, 90, ... 3653"),
        );
    }
}

/// An imported VPC: ids for the VPC and its subnets, and enough subnets for a load balancer.
fn check_imported_vpc(
    vpc: &Located<EnvVpc>,
    id: &Located<String>,
    public: &[&Located<SubnetConfig>],
    private: &[&Located<SubnetConfig>],
    out: &mut Vec<Diagnostic>,
) {
    // Imported VPC.
    if let Some(c) = &vpc.cidr {
        out.push(
            Diagnostic::error(
                codes::MUTUALLY_EXCLUSIVE,
                c.span,
                "an imported VPC (`id`) cannot also set `cidr`",
            )
            .with_help("remove `cidr`; the existing VPC has its own"),
        );
    }
    if !id.value.starts_with("vpc-") {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                id.span,
                format!("`{}` is not a VPC id", id.value),
            )
            .with_help("VPC ids look like vpc-0123456789abcdef0"),
        );
    }
    for s in public.iter().chain(private) {
        match &s.id {
            None => out.push(
                Diagnostic::error(
                    codes::SUBNETS,
                    s.span,
                    "subnets of an imported VPC are given by `id`",
                )
                .with_help("write `- id: subnet-...`"),
            ),
            Some(i) if !i.value.starts_with("subnet-") => out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    i.span,
                    format!("`{}` is not a subnet id", i.value),
                )
                .with_help("subnet ids look like subnet-0123456789abcdef0"),
            ),
            _ => {}
        }
    }
    if public.is_empty() && private.is_empty() {
        out.push(
            Diagnostic::error(
                codes::SUBNETS,
                vpc.span,
                "an imported VPC needs its subnets listed",
            )
            .with_help("list `subnets.public` and/or `subnets.private` by id"),
        );
    }
    if public.len() == 1 {
        out.push(
            Diagnostic::error(
                codes::SUBNETS,
                public[0].span,
                "a load balancer needs public subnets in at least 2 Availability Zones",
            )
            .with_help("list a second public subnet"),
        );
    }
    if private.len() == 1 {
        out.push(
            Diagnostic::error(
                codes::SUBNETS,
                private[0].span,
                "private subnets must span at least 2 Availability Zones",
            )
            .with_help("list a second private subnet"),
        );
    }
}

/// The address blocks of a managed VPC and its subnets: valid, inside the VPC, apart.
fn check_managed_cidrs(
    vpc: &Located<EnvVpc>,
    public: &[&Located<SubnetConfig>],
    private: &[&Located<SubnetConfig>],
    out: &mut Vec<Diagnostic>,
) {
    let vpc_cidr = vpc_block(vpc, out);
    let mut parsed: Vec<(Cidr, Span)> = Vec::new();
    for s in public.iter().chain(private) {
        let Some(c) = &s.cidr else {
            out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    s.span,
                    "a managed subnet needs a `cidr`",
                )
                .with_help("for example `cidr: 10.0.0.0/24`"),
            );
            continue;
        };
        match Cidr::parse(&c.value) {
            Err(e) => out.push(
                Diagnostic::error(codes::CIDR, c.span, e).with_help("for example 10.0.0.0/24"),
            ),
            Ok(cidr) => {
                if let Some((v, _)) = vpc_cidr
                    && !v.contains(cidr)
                {
                    out.push(
                        Diagnostic::error(
                            codes::SUBNETS,
                            c.span,
                            format!(
                                "subnet {} is not inside the VPC block {}",
                                c.value,
                                vpc.cidr
                                    .as_ref()
                                    .map_or(defaults::VPC_CIDR, |v| v.value.as_str())
                            ),
                        )
                        .with_help("choose a subnet block inside the VPC's CIDR"),
                    );
                }
                if let Some((_, other)) = parsed.iter().find(|(p, _)| p.overlaps(cidr)) {
                    out.push(
                        Diagnostic::error(
                            codes::SUBNETS,
                            c.span,
                            format!(
                                "subnet {} overlaps the subnet on line {}",
                                c.value, other.line
                            ),
                        )
                        .with_help("subnets in one VPC cannot share addresses"),
                    );
                }
                parsed.push((cidr, c.span));
            }
        }
    }
    if vpc.subnets.is_none()
        && let Some((v, span)) = vpc_cidr
    {
        for d in defaults::PUBLIC_CIDRS
            .iter()
            .chain(defaults::PRIVATE_CIDRS.iter())
        {
            if let Ok(sub) = Cidr::parse(d)
                && !v.contains(sub)
            {
                out.push(
                    Diagnostic::error(
                        codes::SUBNETS,
                        span,
                        format!("the default subnet {d} is not inside the VPC block"),
                    )
                    .with_help(
                        "list `subnets.public` and `subnets.private` with blocks inside the VPC",
                    ),
                );
                break;
            }
        }
    }
}

/// The VPC's own block (the default one when not given), checked: valid and between /16 and
/// /28. `None` when it does not parse.
fn vpc_block(vpc: &Located<EnvVpc>, out: &mut Vec<Diagnostic>) -> Option<(Cidr, Span)> {
    match &vpc.cidr {
        Some(c) => match Cidr::parse(&c.value) {
            Ok(cidr) => {
                if !(16..=28).contains(&cidr.prefix) {
                    out.push(
                        Diagnostic::error(
                            codes::CIDR,
                            c.span,
                            format!(
                                "a VPC block must be between /16 and /28, not /{}",
                                cidr.prefix
                            ),
                        )
                        .with_help("for example 10.0.0.0/16"),
                    );
                }
                Some((cidr, c.span))
            }
            Err(e) => {
                out.push(
                    Diagnostic::error(codes::CIDR, c.span, e).with_help("for example 10.0.0.0/16"),
                );
                None
            }
        },
        None => Cidr::parse(defaults::VPC_CIDR).ok().map(|c| (c, vpc.span)),
    }
}

/// The Availability Zones of a managed VPC's subnets: named for all or none, the same for
/// public and private, one subnet of a kind per zone, at least two zones.
fn check_managed_zones(
    vpc: &Located<EnvVpc>,
    public: &[&Located<SubnetConfig>],
    private: &[&Located<SubnetConfig>],
    out: &mut Vec<Diagnostic>,
) {
    let azs = |list: &[&Located<SubnetConfig>]| -> Vec<String> {
        let mut v: Vec<String> = list
            .iter()
            .filter_map(|s| s.az.as_ref().map(|a| a.value.clone()))
            .collect();
        v.sort();
        v
    };
    let (pub_az, priv_az) = (azs(public), azs(private));
    let with_az = public
        .iter()
        .chain(private)
        .filter(|s| s.az.is_some())
        .count();
    if with_az > 0 {
        if with_az != public.len() + private.len() {
            out.push(
                Diagnostic::error(
                    codes::SUBNETS,
                    vpc.span,
                    "either every managed subnet names its `az`, or none does",
                )
                .with_help("add `az` to the remaining subnets"),
            );
        } else if !public.is_empty() && !private.is_empty() && pub_az != priv_az {
            out.push(
                Diagnostic::error(
                    codes::SUBNETS,
                    vpc.span,
                    "public and private subnets must use the same Availability Zones",
                )
                .with_help(format!(
                    "public: {}; private: {}",
                    pub_az.join(", "),
                    priv_az.join(", ")
                )),
            );
        }
        for list in [&pub_az, &priv_az] {
            let mut dedup = list.clone();
            dedup.dedup();
            if dedup.len() != list.len() {
                out.push(
                    Diagnostic::error(
                        codes::SUBNETS,
                        vpc.span,
                        "two subnets of the same kind are in one Availability Zone",
                    )
                    .with_help("use one public and one private subnet per zone"),
                );
            }
        }
    }
    for list in [&public, &private] {
        if list.len() == 1 {
            out.push(
                Diagnostic::error(
                    codes::SUBNETS,
                    list[0].span,
                    "subnets must span at least 2 Availability Zones",
                )
                .with_help("add a second subnet in another zone"),
            );
        }
    }
}

fn check_sg_rule(rule: &Located<SecurityGroupRule>, out: &mut Vec<Diagnostic>) {
    for (missing, key) in [
        (rule.ip_protocol.is_none(), "ip_protocol"),
        (rule.ports.is_none(), "ports"),
        (rule.cidr.is_none(), "cidr"),
    ] {
        if missing {
            out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    rule.span,
                    format!("a security group rule needs `{key}`"),
                )
                .with_help("rules have ip_protocol, ports and cidr"),
            );
        }
    }
    if let Some(c) = &rule.cidr
        && let Err(e) = Cidr::parse(&c.value)
    {
        out.push(Diagnostic::error(codes::CIDR, c.span, e).with_help("for example 0.0.0.0/0"));
    }
    if let Some(p) = &rule.ip_protocol
        && !["tcp", "udp", "icmp", "-1", "all"].contains(&p.value.to_ascii_lowercase().as_str())
        && p.value.parse::<u8>().is_err()
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                p.span,
                format!("protocol `{}` is not valid", p.value),
            )
            .with_help("tcp, udp, icmp, -1 (all) or a protocol number"),
        );
    }
    if let Some(ports) = &rule.ports {
        let ok = match &ports.value {
            ScalarOr::Scalar(s) => match s.split_once('-') {
                Some((a, b)) => {
                    matches!((a.trim().parse::<u16>(), b.trim().parse::<u16>()), (Ok(a), Ok(b)) if a <= b)
                }
                None => s.trim().parse::<u16>().is_ok() || s.trim() == "-1",
            },
            ScalarOr::Config(r) => {
                matches!((&r.from, &r.to), (Some(a), Some(b)) if a.value <= b.value)
            }
        };
        if !ok {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    ports.span,
                    "ports must be a port (80) or a range (8000-8080)",
                )
                .with_help("the lower port comes first"),
            );
        }
    }
}

fn is_acm_arn(s: &str) -> bool {
    s.starts_with("arn:") && s.contains(":acm:") && s.contains(":certificate/")
}

fn check_http(env: &ResolvedEnvironment, out: &mut Vec<Diagnostic>) {
    let Some(http) = &env.manifest.http else {
        return;
    };
    let imported = env
        .manifest
        .network
        .as_ref()
        .and_then(|n| n.vpc.as_ref())
        .is_some_and(|v| v.id.is_some());
    let mut certs: Vec<&Located<String>> = Vec::new();
    if let Some(p) = &http.public {
        certs.extend(p.certificates.iter().flat_map(|c| c.iter()));
        for ip in p
            .ingress
            .iter()
            .flat_map(|i| i.source_ips.iter())
            .flat_map(|s| s.iter())
        {
            if let Err(e) = Cidr::parse(&ip.value) {
                out.push(
                    Diagnostic::error(codes::CIDR, ip.span, e)
                        .with_help("source_ips takes CIDR blocks"),
                );
            }
        }
        if let Some(ing) = &p.ingress {
            if ing.cdn.as_ref().is_some_and(|c| c.value)
                && env.manifest.cdn.as_ref().is_none_or(|c| !c.value.enabled())
            {
                let span = ing.cdn.as_ref().map_or(ing.span, |c| c.span);
                out.push(
                    Diagnostic::error(
                        codes::ENVIRONMENT,
                        span,
                        "`ingress.cdn` restricts traffic to a CDN, but `cdn` is not enabled",
                    )
                    .with_help("enable `cdn`, or remove `ingress.cdn`"),
                );
            }
            if p.security_groups.is_some() {
                out.push(
                    Diagnostic::error(
                        codes::MUTUALLY_EXCLUSIVE,
                        ing.span,
                        "`ingress` and the deprecated `security_groups.ingress` are both set",
                    )
                    .with_help("keep `ingress`"),
                );
            }
        }
        if let Some(sg) = &p.security_groups {
            out.push(
                Diagnostic::warning(
                    codes::DEPRECATED_KEY,
                    sg.span,
                    "`http.public.security_groups` is deprecated",
                )
                .with_help("use `http.public.ingress`"),
            );
        }
    }
    if let Some(p) = &http.private {
        certs.extend(p.certificates.iter().flat_map(|c| c.iter()));
        if let Some(subnets) = &p.subnets
            && !imported
        {
            out.push(
                Diagnostic::error(
                    codes::SUBNETS,
                    subnets.span,
                    "internal load balancer subnets can be chosen only in an imported VPC",
                )
                .with_help("remove `http.private.subnets`, or import the VPC"),
            );
        }
        if let Some(sg) = &p.security_groups {
            out.push(
                Diagnostic::warning(
                    codes::DEPRECATED_KEY,
                    sg.span,
                    "`http.private.security_groups` is deprecated",
                )
                .with_help("use `http.private.ingress.vpc`"),
            );
        }
    }
    for c in certs {
        if !is_acm_arn(&c.value) {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    c.span,
                    format!("`{}` is not an ACM certificate ARN", c.value),
                )
                .with_help("arn:aws:acm:<region>:<account>:certificate/<id>"),
            );
        }
    }
}

fn check_cdn(env: &ResolvedEnvironment, out: &mut Vec<Diagnostic>) {
    let Some(cdn) = &env.manifest.cdn else { return };
    let BoolOr::Config(c) = &cdn.value else {
        return;
    };
    if let Some(cert) = &c.certificate {
        if !is_acm_arn(&cert.value) {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    cert.span,
                    format!("`{}` is not an ACM certificate ARN", cert.value),
                )
                .with_help("arn:aws:acm:us-east-1:<account>:certificate/<id>"),
            );
        } else if !cert.value.contains(":us-east-1:") {
            out.push(
                Diagnostic::error(
                    codes::ENVIRONMENT,
                    cert.span,
                    "a CloudFront certificate must be in us-east-1",
                )
                .with_help("request or import the certificate in us-east-1"),
            );
        }
        let public_certs = env
            .manifest
            .http
            .as_ref()
            .and_then(|h| h.public.as_ref())
            .and_then(|p| p.certificates.as_ref())
            .is_some_and(|c| !c.is_empty());
        if !public_certs && c.terminate_tls.is_none() {
            out.push(Diagnostic::error(codes::ENVIRONMENT, cert.span, "a CDN certificate without load balancer certificates needs `terminate_tls: true`").with_help("let CloudFront terminate TLS, or add `http.public.certificates`"));
        }
    }
}

fn check_ec2(providers: &[&Located<Ec2Capacity>], span: Span, out: &mut Vec<Diagnostic>) {
    let mut names: Vec<&str> = Vec::new();
    let defaults_set = providers
        .iter()
        .filter(|p| p.default.as_ref().is_some_and(|d| d.value))
        .count();
    if defaults_set > 1 {
        out.push(
            Diagnostic::error(
                codes::CAPACITY,
                span,
                "only one EC2 capacity provider can be the default",
            )
            .with_help("set `default: true` on one"),
        );
    }
    for p in providers {
        check_provider_name(p, providers.len(), &mut names, out);
        check_instances(p, out);
        check_group_size(p, out);
        check_managed_scaling(p, out);
    }
}

/// A provider's name: required when there are several, unique, and in the characters and
/// prefixes ECS allows for capacity provider names.
fn check_provider_name<'a>(
    p: &'a Located<Ec2Capacity>,
    providers: usize,
    names: &mut Vec<&'a str>,
    out: &mut Vec<Diagnostic>,
) {
    let name = p.name.as_ref();
    match name {
        None if providers > 1 => out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                p.span,
                "with several EC2 capacity providers each needs a `name`",
            )
            .with_help("name them, e.g. `general` and `gpu`"),
        ),
        Some(n) => {
            let lower = n.value.to_ascii_lowercase();
            if lower.starts_with("aws") || lower.starts_with("ecs") || lower.starts_with("fargate")
            {
                out.push(
                    Diagnostic::error(
                        codes::INVALID_NAME,
                        n.span,
                        format!(
                            "capacity provider name `{}` may not start with aws, ecs or fargate",
                            n.value
                        ),
                    )
                    .with_help("choose another name"),
                );
            }
            if !n
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                || n.value.is_empty()
                || n.value.len() > 255
            {
                out.push(Diagnostic::error(codes::INVALID_NAME, n.span, format!("capacity provider name `{}` may contain only letters, digits, `-` and `_`", n.value)).with_help("rename it"));
            }
            if names.contains(&n.value.as_str()) {
                out.push(
                    Diagnostic::error(
                        codes::INVALID_NAME,
                        n.span,
                        format!("two EC2 capacity providers are named `{}`", n.value),
                    )
                    .with_help("names must be unique"),
                );
            }
            names.push(n.value.as_str());
        }
        None => {}
    }
}

/// What the instances are: their types, architecture and subnets.
fn check_instances(p: &Located<Ec2Capacity>, out: &mut Vec<Diagnostic>) {
    match &p.instance_types {
        None => out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                p.span,
                "an EC2 capacity provider needs `instance_types`",
            )
            .with_help("for example `instance_types: [t3.medium]`"),
        ),
        Some(t) if t.value.items().is_empty() => out.push(
            Diagnostic::error(codes::CAPACITY, t.span, "`instance_types` is empty")
                .with_help("list at least one type"),
        ),
        _ => {}
    }
    if let Some(a) = &p.architecture
        && !["x86_64", "arm64"].contains(&a.value.as_str())
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                a.span,
                format!("architecture `{}` must be x86_64 or arm64", a.value),
            )
            .with_help("the ECS-optimized AMI comes in these two"),
        );
    }
    if let Some(pl) = &p.placement
        && !["public", "private"].contains(&pl.value.to_ascii_lowercase().as_str())
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                pl.span,
                format!("placement `{}` must be `public` or `private`", pl.value),
            )
            .with_help(
                "public subnets with public IPs, or private subnets behind NAT (the default when the environment has NAT)",
            ),
        );
    }
}

/// The Auto Scaling group's sizes: `max` given, `min` ≤ `desired` ≤ `max`.
fn check_group_size(p: &Located<Ec2Capacity>, out: &mut Vec<Diagnostic>) {
    if let (Some(min), Some(max)) = (&p.min, &p.max)
        && min.value > max.value
    {
        out.push(
            Diagnostic::error(
                codes::CAPACITY,
                min.span,
                format!("`min` {} is above `max` {}", min.value, max.value),
            )
            .with_help("swap them"),
        );
    }
    if p.max.is_none() {
        out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                p.span,
                "an EC2 capacity provider needs `max` instances",
            )
            .with_help("the Auto Scaling group's maximum size"),
        );
    }
    if let Some(d) = &p.desired
        && (p.min.as_ref().is_some_and(|min| d.value < min.value)
            || p.max.as_ref().is_some_and(|max| d.value > max.value))
    {
        out.push(
            Diagnostic::error(
                codes::CAPACITY,
                d.span,
                format!("`desired` {} is outside `min`-`max`", d.value),
            )
            .with_help(
                "the Auto Scaling group's desired size lies between its minimum and maximum",
            ),
        );
    }
}

/// ECS managed scaling's settings: within its limits, the step sizes in order.
fn check_managed_scaling(p: &Located<Ec2Capacity>, out: &mut Vec<Diagnostic>) {
    let ranged = [
        (&p.target_capacity, "target_capacity", 1, 100),
        (
            &p.minimum_scaling_step_size,
            "minimum_scaling_step_size",
            1,
            10_000,
        ),
        (
            &p.maximum_scaling_step_size,
            "maximum_scaling_step_size",
            1,
            10_000,
        ),
        (
            &p.instance_warmup_period,
            "instance_warmup_period",
            0,
            10_000,
        ),
    ];
    for (v, what, lo, hi) in ranged {
        if let Some(v) = v
            && !(lo..=hi).contains(&v.value)
        {
            out.push(
                Diagnostic::error(
                    codes::CAPACITY,
                    v.span,
                    format!("`{what}` {} is outside {lo}-{hi}", v.value),
                )
                .with_help("ECS managed scaling limits"),
            );
        }
    }
    if let (Some(a), Some(b)) = (&p.minimum_scaling_step_size, &p.maximum_scaling_step_size)
        && a.value > b.value
    {
        out.push(
            Diagnostic::error(
                codes::CAPACITY,
                a.span,
                "`minimum_scaling_step_size` is above `maximum_scaling_step_size`",
            )
            .with_help("swap them"),
        );
    }
}
