//! The environment manifest (`type: Environment`): network, load balancers, CDN,
//! observability, and tug's cluster settings (Fargate Spot, Container Insights, EC2 capacity).

use crate::manifest::decode::Located;
use crate::manifest::union::{BoolOr, OneOrMany, ScalarOr};
use crate::manifest_struct;

manifest_struct! {
    /// A subnet: an imported id, or a managed CIDR in an Availability Zone.
    pub struct SubnetConfig {
        id: String = "id",
        cidr: String = "cidr",
        az: String = "az",
    }
}

manifest_struct! {
    /// `network.vpc.subnets`.
    pub struct Subnets {
        public: Vec<Located<SubnetConfig>> = "public",
        private: Vec<Located<SubnetConfig>> = "private",
    }
}

manifest_struct! {
    /// A security group rule.
    pub struct SecurityGroupRule {
        ip_protocol: String = "ip_protocol",
        ports: ScalarOr<String, PortRange> = "ports",
        cidr: String = "cidr",
    }
}

manifest_struct! {
    /// A port range in map form (`{from, to}`), accepted besides `80` and `"80-90"`.
    pub struct PortRange {
        from: u16 = "from",
        to: u16 = "to",
    }
}

manifest_struct! {
    /// `network.vpc.security_group`.
    pub struct EnvSecurityGroup {
        ingress: Vec<Located<SecurityGroupRule>> = "ingress",
        egress: Vec<Located<SecurityGroupRule>> = "egress",
    }
}

manifest_struct! {
    /// `network.vpc.flow_logs` in its map form.
    pub struct FlowLogs {
        retention: u32 = "retention",
    }
}

manifest_struct! {
    /// `network.vpc`.
    pub struct EnvVpc {
        id: String = "id",
        cidr: String = "cidr",
        subnets: Subnets = "subnets",
        security_group: EnvSecurityGroup = "security_group",
        flow_logs: BoolOr<FlowLogs> = "flow_logs",
    }
}

manifest_struct! {
    /// `network`.
    pub struct EnvNetwork {
        vpc: EnvVpc = "vpc",
    }
}

manifest_struct! {
    /// ELB access logs in map form.
    pub struct AccessLogs {
        bucket_name: String = "bucket_name",
        prefix: String = "prefix",
    }
}

manifest_struct! {
    /// `http.public.ingress`.
    pub struct PublicIngress {
        cdn: bool = "cdn",
        source_ips: Vec<Located<String>> = "source_ips",
    }
}

manifest_struct! {
    /// Deprecated `http.public.security_groups.ingress.restrict_to`.
    pub struct RestrictTo {
        cdn: bool = "cdn",
    }
}

manifest_struct! {
    /// Deprecated `security_groups.ingress`.
    pub struct DeprecatedIngress {
        restrict_to: RestrictTo = "restrict_to",
        from_vpc: bool = "from_vpc",
    }
}

manifest_struct! {
    /// Deprecated `security_groups`.
    pub struct DeprecatedSecurityGroups {
        ingress: DeprecatedIngress = "ingress",
    }
}

manifest_struct! {
    /// `http.public`: the internet-facing load balancer.
    pub struct PublicHttp {
        certificates: Vec<Located<String>> = "certificates",
        access_logs: BoolOr<AccessLogs> = "access_logs",
        ingress: PublicIngress = "ingress",
        security_groups: DeprecatedSecurityGroups = "security_groups",
        ssl_policy: String = "ssl_policy",
        drop_invalid_header_fields: bool = "drop_invalid_header_fields",
    }
}

manifest_struct! {
    /// `http.private.ingress`.
    pub struct PrivateIngress {
        vpc: bool = "vpc",
    }
}

manifest_struct! {
    /// `http.private`: the internal load balancer.
    pub struct PrivateHttp {
        subnets: Vec<Located<String>> = "subnets",
        certificates: Vec<Located<String>> = "certificates",
        ingress: PrivateIngress = "ingress",
        security_groups: DeprecatedSecurityGroups = "security_groups",
        ssl_policy: String = "ssl_policy",
        drop_invalid_header_fields: bool = "drop_invalid_header_fields",
    }
}

manifest_struct! {
    /// `http`.
    pub struct EnvHttp {
        public: PublicHttp = "public",
        private: PrivateHttp = "private",
    }
}

manifest_struct! {
    /// `cdn.static_assets`.
    pub struct StaticAssets {
        location: String = "location",
        alias: String = "alias",
        path: String = "path",
    }
}

manifest_struct! {
    /// `cdn` in its map form.
    pub struct CdnConfig {
        certificate: String = "certificate",
        terminate_tls: bool = "terminate_tls",
        static_assets: StaticAssets = "static_assets",
    }
}

manifest_struct! {
    /// `observability`.
    pub struct EnvObservability {
        container_insights: ScalarOr<String, ContainerInsightsConfig> = "container_insights",
    }
}

manifest_struct! {
    /// Reserved long form of `container_insights`.
    pub struct ContainerInsightsConfig {
        enhanced: bool = "enhanced",
    }
}

manifest_struct! {
    /// tug: one EC2 Auto Scaling group capacity provider.
    pub struct Ec2Capacity {
        name: String = "name",
        instance_types: OneOrMany<String> = "instance_types",
        architecture: String = "architecture",
        min: u32 = "min",
        max: u32 = "max",
        desired: u32 = "desired",
        target_capacity: u32 = "target_capacity",
        minimum_scaling_step_size: u32 = "minimum_scaling_step_size",
        maximum_scaling_step_size: u32 = "maximum_scaling_step_size",
        instance_warmup_period: u32 = "instance_warmup_period",
        managed_termination_protection: bool = "managed_termination_protection",
        managed_draining: bool = "managed_draining",
        default: bool = "default",
        base: u32 = "base",
        weight: u32 = "weight",
        /// tug: `public` (instances get a public IP) or `private` (behind NAT); without it,
        /// private when the environment has NAT, else public.
        placement: String = "placement",
    }
}

manifest_struct! {
    /// tug: `cluster`.
    pub struct Cluster {
        fargate_spot: bool = "fargate_spot",
        container_insights: ScalarOr<String, ContainerInsightsConfig> = "container_insights",
        ec2: OneOrMany<Located<Ec2Capacity>> = "ec2",
    }
}

manifest_struct! {
    /// An environment manifest.
    pub struct EnvironmentManifest {
        name: String = "name",
        kind: String = "type",
        network: EnvNetwork = "network",
        http: EnvHttp = "http",
        cdn: BoolOr<CdnConfig> = "cdn",
        observability: EnvObservability = "observability",
        cluster: Cluster = "cluster",
    }
}

/// The managed VPC's default layout (Copilot's).
pub mod defaults {
    pub const VPC_CIDR: &str = "10.0.0.0/16";
    pub const PUBLIC_CIDRS: [&str; 2] = ["10.0.0.0/24", "10.0.1.0/24"];
    pub const PRIVATE_CIDRS: [&str; 2] = ["10.0.2.0/24", "10.0.3.0/24"];
}
