//! Network rules: subnet placement, security groups, Service Connect, and CIDR parsing shared
//! with the environment rules.

use crate::manifest::codes;
use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::load::{ResolvedEnvironment, ResolvedWorkload};
use crate::manifest::model::common::{
    ConnectConfig, SecurityGroupRef, SecurityGroupsConfig, SubnetPlacement, resolve_platform,
};
use crate::manifest::routing::uses_public_alb;
use crate::manifest::union::{BoolOr, ListOr, ScalarOr};

/// Most security groups one awsvpc task may have.
const MAX_SECURITY_GROUPS: usize = 5;

/// An IPv4 CIDR block: network address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    pub addr: u32,
    pub prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Result<Cidr, String> {
        let (ip, prefix) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not a CIDR block like 10.0.0.0/16"))?;
        let octets: Vec<&str> = ip.split('.').collect();
        if octets.len() != 4 {
            return Err(format!("`{text}` is not a CIDR block like 10.0.0.0/16"));
        }
        let mut addr = 0u32;
        for o in octets {
            let v: u8 = o
                .parse()
                .map_err(|_| format!("`{text}` has an invalid address part `{o}`"))?;
            addr = (addr << 8) | u32::from(v);
        }
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| format!("`{text}` has an invalid prefix length"))?;
        if prefix > 32 {
            return Err(format!("`{text}` has a prefix longer than 32"));
        }
        let cidr = Cidr { addr, prefix };
        if addr & !cidr.mask() != 0 {
            return Err(format!(
                "`{text}` has host bits set; the network address is {}",
                cidr.network_text()
            ));
        }
        Ok(cidr)
    }

    pub(crate) fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    fn network_text(self) -> String {
        let a = self.addr & self.mask();
        format!(
            "{}.{}.{}.{}/{}",
            a >> 24,
            (a >> 16) & 255,
            (a >> 8) & 255,
            a & 255,
            self.prefix
        )
    }

    /// Whether `other` lies entirely inside this block.
    pub(crate) fn contains(self, other: Cidr) -> bool {
        other.prefix >= self.prefix && (other.addr & self.mask()) == (self.addr & self.mask())
    }

    pub(crate) fn overlaps(self, other: Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }
}

pub(crate) fn check(
    wl: &ResolvedWorkload,
    env: Option<&ResolvedEnvironment>,
    out: &mut Vec<Diagnostic>,
) {
    check_public_subnets_exist(wl, env, out);
    let Some(network) = &wl.manifest.network else {
        return;
    };
    if let Some(vpc) = &network.vpc {
        if let Some(p) = &vpc.placement {
            check_placement(p, env, out);
        }
        if let Some(sgs) = &vpc.security_groups {
            check_security_groups(sgs, out);
        }
    }
    if let Some(connect) = &network.connect
        && connect.value.enabled()
    {
        check_service_connect(wl, connect, out);
    }
}

/// `network.vpc.placement`: `public`, `private` (which needs private subnets), or subnets by
/// id or by tags.
fn check_placement(
    p: &Located<SubnetPlacement>,
    env: Option<&ResolvedEnvironment>,
    out: &mut Vec<Diagnostic>,
) {
    match &p.value {
        ScalarOr::Scalar(s) => {
            let s = s.to_ascii_lowercase();
            if s != "public" && s != "private" {
                out.push(
                    Diagnostic::error(
                        codes::NETWORK,
                        p.span,
                        format!("placement `{s}` must be `public` or `private`"),
                    )
                    .with_help("or give subnets: {subnets: [subnet-...]}"),
                );
            }
            if s == "private" {
                check_private_subnets_exist(env, p.span, out);
            }
        }
        ScalarOr::Config(c) => match c.subnets.as_ref().map(|s| &s.value) {
            None => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    p.span,
                    "placement in map form needs `subnets`",
                )
                .with_help("list subnet ids, or select them with {from_tags: {key: value}}"),
            ),
            Some(ListOr::List(ids)) if ids.is_empty() => out.push(
                Diagnostic::error(codes::NETWORK, p.span, "placement lists no subnets")
                    .with_help("list at least one subnet id"),
            ),
            Some(ListOr::Config(t)) if t.from_tags.as_ref().is_none_or(|m| m.is_empty()) => out
                .push(
                    Diagnostic::error(codes::NETWORK, p.span, "`from_tags` names no tags")
                        .with_help("give at least one tag key and value"),
                ),
            _ => {}
        },
    }
}

/// `network.vpc.security_groups`: ids or exports, and no more than a task may have.
fn check_security_groups(
    sgs: &Located<ListOr<Located<SecurityGroupRef>, SecurityGroupsConfig>>,
    out: &mut Vec<Diagnostic>,
) {
    let (groups, deny_default) = match &sgs.value {
        ListOr::List(l) => (l.clone(), false),
        ListOr::Config(c) => (
            c.groups
                .as_ref()
                .map(|g| g.value.clone())
                .unwrap_or_default(),
            c.deny_default.as_ref().is_some_and(|d| d.value),
        ),
    };
    for g in &groups {
        match &g.value {
            ScalarOr::Scalar(id) if !id.starts_with("sg-") => out.push(
                Diagnostic::error(codes::NETWORK, g.span, format!("`{id}` is not a security group id"))
                    .with_help("security group ids look like sg-0123456789abcdef0; use {from_cfn: export} for an imported one"),
            ),
            ScalarOr::Config(c) if c.from_cfn.as_ref().is_none_or(|f| f.value.trim().is_empty()) => out.push(
                Diagnostic::error(codes::MISSING_KEY, g.span, "`from_cfn` needs an export name").with_help("name the CloudFormation export"),
            ),
            _ => {}
        }
    }
    let total = groups.len() + usize::from(!deny_default);
    if total > MAX_SECURITY_GROUPS {
        out.push(
            Diagnostic::error(codes::NETWORK, sgs.span, format!("the task would have {total} security groups; awsvpc allows at most {MAX_SECURITY_GROUPS}"))
                .with_help("the environment's security group counts too unless `deny_default: true`"),
        );
    }
}

/// `network.connect` turned on: Linux only, and an `alias` needs a port.
fn check_service_connect(
    wl: &ResolvedWorkload,
    connect: &Located<BoolOr<ConnectConfig>>,
    out: &mut Vec<Diagnostic>,
) {
    let windows =
        resolve_platform(wl.manifest.platform.as_ref().map(|p| &p.value)).is_ok_and(|p| p.windows);
    if windows {
        out.push(
            Diagnostic::error(
                codes::PLATFORM,
                connect.span,
                "Service Connect is not supported on Windows",
            )
            .with_help("remove `network.connect` or run on Linux"),
        );
    }
    let has_port = wl
        .manifest
        .image
        .as_ref()
        .and_then(|i| i.port.as_ref())
        .is_some();
    if let BoolOr::Config(c) = &connect.value
        && let Some(alias) = &c.alias
        && !has_port
    {
        out.push(
            Diagnostic::error(
                codes::NETWORK,
                alias.span,
                "a Service Connect `alias` needs the service to expose a port",
            )
            .with_help("set `image.port`"),
        );
    }
}

/// Tasks placed in public subnets (the default), and the public load balancer of a web service,
/// need public subnets; an imported VPC may have none.
fn check_public_subnets_exist(
    wl: &ResolvedWorkload,
    env: Option<&ResolvedEnvironment>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(env) = env else { return };
    let Some(vpc) = env.manifest.network.as_ref().and_then(|n| n.vpc.as_ref()) else {
        return;
    };
    if vpc.id.is_none() {
        return;
    }
    let has_public = vpc
        .subnets
        .as_ref()
        .and_then(|s| s.public.as_ref())
        .is_some_and(|p| !p.is_empty());
    if has_public {
        return;
    }
    let placement = wl
        .manifest
        .network
        .as_ref()
        .and_then(|n| n.vpc.as_ref())
        .and_then(|v| v.placement.as_ref());
    let public_placement = match placement.map(|p| &p.value) {
        None => true,
        Some(ScalarOr::Scalar(s)) => s.eq_ignore_ascii_case("public"),
        Some(ScalarOr::Config(_)) => false,
    };
    let public_alb = uses_public_alb(wl) || wl.manifest.nlb.is_some();
    if !public_placement && !public_alb {
        return;
    }
    let span = placement
        .map(|p| p.span)
        .or(wl.manifest.name.as_ref().map(|n| n.span))
        .unwrap_or_default();
    let what = if public_placement {
        "its tasks are placed in public subnets"
    } else {
        "it needs the public load balancer"
    };
    out.push(
        Diagnostic::error(codes::NETWORK, span, format!("environment `{}` imports a VPC without public subnets, but {what}", env.name))
            .with_help("add `network.vpc.placement: private` (and, for a web service, public subnets to the environment), or list public subnets in the environment"),
    );
}

fn check_private_subnets_exist(
    env: Option<&ResolvedEnvironment>,
    span: crate::manifest::source::Span,
    out: &mut Vec<Diagnostic>,
) {
    let Some(env) = env else { return };
    let vpc = env.manifest.network.as_ref().and_then(|n| n.vpc.as_ref());
    let Some(vpc) = vpc else { return };
    if vpc.id.is_none() {
        return; // a managed VPC always has private subnets
    }
    let private = vpc
        .subnets
        .as_ref()
        .and_then(|s| s.private.as_ref())
        .is_some_and(|p| !p.is_empty());
    if !private {
        out.push(
            Diagnostic::error(codes::NETWORK, span, format!("placement is `private` but environment `{}` imports a VPC without private subnets", env.name))
                .with_help("add private subnets to the environment, or use `placement: public`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let vpc = Cidr::parse("10.0.0.0/16").unwrap();
        assert!(vpc.contains(Cidr::parse("10.0.3.0/24").unwrap()));
        assert!(!vpc.contains(Cidr::parse("10.1.0.0/24").unwrap()));
        assert!(
            Cidr::parse("10.0.0.1/16")
                .unwrap_err()
                .contains("host bits")
        );
        assert!(Cidr::parse("10.0.0/16").is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(
            Cidr::parse("10.0.0.0/24")
                .unwrap()
                .overlaps(Cidr::parse("10.0.0.0/25").unwrap())
        );
    }
}
