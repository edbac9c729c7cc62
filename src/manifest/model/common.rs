//! Manifest sections shared by the ECS workload types: image, containers, sidecars, logging,
//! storage, network, variables and secrets, publish, taskdef overrides, observability, and
//! tug's placement and capacity extensions.

use crate::manifest::decode::{Located, Map};
use crate::manifest::duration::Duration;
use crate::manifest::merge::Merge;
use crate::manifest::union::{BoolOr, Command, ListOr, OneOrMany, ScalarOr};
use crate::manifest_struct;

manifest_struct! {
    /// `image.build` in its long form.
    pub struct BuildConfig {
        context: String = "context",
        dockerfile: String = "dockerfile",
        args: Map<String> = "args",
        target: String = "target",
        cache_from: Vec<String> = "cache_from",
    }
}

/// `image.build`: a Dockerfile path or the long form.
pub type Build = ScalarOr<String, BuildConfig>;

manifest_struct! {
    /// A container health check (`image.healthcheck`, `sidecars.<name>.healthcheck`).
    pub struct ContainerHealthCheck {
        command: Command = "command",
        interval: Duration = "interval",
        retries: u32 = "retries",
        timeout: Duration = "timeout",
        start_period: Duration = "start_period",
    }
}

manifest_struct! {
    /// `image`: where the main container's image comes from and how it runs.
    pub struct Image [custom_merge] {
        build: Build = "build",
        location: String = "location",
        credentials: String = "credentials",
        labels: Map<String> = "labels",
        depends_on: Map<String> = "depends_on",
        port: u16 = "port",
        healthcheck: ContainerHealthCheck = "healthcheck",
        /// tug: the container's own cpu units (needed on EC2, optional on Fargate).
        cpu: u32 = "cpu",
        /// tug: the container's hard memory limit in MiB.
        memory: u32 = "memory",
        /// tug: the container's soft memory limit in MiB.
        memory_reservation: u32 = "memory_reservation",
    }
}

impl Merge for Image {
    /// `build` and `location` exclude each other: an override that sets one clears the
    /// other, so `image.build` in the base and `image.location` in an environment deploys
    /// the given image (Copilot's image transformer). An override setting both is reported
    /// by validation on the merged result.
    fn merge(mut base: Self, over: Self) -> Self {
        if over
            .build
            .as_ref()
            .is_some_and(|b| !build_is_empty(&b.value))
        {
            base.location = None;
        }
        if over.location.is_some() {
            base.build = None;
        }
        Image::merge_fields(base, over)
    }
}

/// Whether `build` sets nothing (`build: {}`), which Copilot treats as absent.
fn build_is_empty(build: &Build) -> bool {
    matches!(build, ScalarOr::Config(c) if *c == BuildConfig::default())
}

manifest_struct! {
    /// A sidecar's image in the long form.
    pub struct SidecarImageConfig {
        build: Build = "build",
        location: String = "location",
    }
}

/// `sidecars.<name>.image`: a URI or `{build | location}`.
pub type SidecarImage = ScalarOr<String, SidecarImageConfig>;

manifest_struct! {
    /// A mount point on a sidecar.
    pub struct MountPoint {
        source_volume: String = "source_volume",
        path: String = "path",
        read_only: bool = "read_only",
    }
}

manifest_struct! {
    /// `sidecars.<name>`: an extra container in the task.
    pub struct Sidecar {
        image: SidecarImage = "image",
        port: String = "port",
        essential: bool = "essential",
        credentials_parameter: String = "credentialsParameter",
        variables: Map<Variable> = "variables",
        secrets: Map<Secret> = "secrets",
        env_file: String = "env_file",
        mount_points: Vec<Located<MountPoint>> = "mount_points",
        labels: Map<String> = "labels",
        depends_on: Map<String> = "depends_on",
        healthcheck: ContainerHealthCheck = "healthcheck",
        entrypoint: Command = "entrypoint",
        command: Command = "command",
        /// tug: cpu units for this container.
        cpu: u32 = "cpu",
        /// tug: hard memory limit in MiB.
        memory: u32 = "memory",
        /// tug: soft memory limit in MiB.
        memory_reservation: u32 = "memory_reservation",
    }
}

manifest_struct! {
    /// `{from_cfn: ExportName}`: a value imported from another stack's export.
    pub struct FromCfn {
        from_cfn: String = "from_cfn",
    }
}

/// `variables.<K>`: a plain value or an imported one.
pub type Variable = ScalarOr<String, FromCfn>;

manifest_struct! {
    /// The map forms of a secret.
    pub struct SecretConfig [custom_merge] {
        secretsmanager: String = "secretsmanager",
        from_cfn: String = "from_cfn",
    }
}

/// `secrets.<K>`: an SSM parameter name or ARN, a Secrets Manager ARN, or a map form.
pub type Secret = ScalarOr<String, SecretConfig>;

impl Merge for SecretConfig {
    /// A secret is replaced whole, per key: Copilot's `secrets` maps hold struct values,
    /// which its merge replaces rather than merges, and its secret transformer clears
    /// `secretsmanager` when the override uses `from_cfn` (and the reverse). So
    /// `{secretsmanager: a}` overridden by `{from_cfn: b}` is `{from_cfn: b}`.
    fn merge(base: Self, over: Self) -> Self {
        let _ = base;
        over
    }
}

manifest_struct! {
    /// `logging`: FireLens log routing and the log group retention.
    pub struct Logging {
        retention: u32 = "retention",
        image: String = "image",
        destination: Map<String> = "destination",
        enable_metadata: bool = "enableMetadata",
        secret_options: Map<Secret> = "secretOptions",
        config_file_path: String = "configFilePath",
        variables: Map<Variable> = "variables",
        secrets: Map<Secret> = "secrets",
        env_file: String = "env_file",
    }
}

impl Logging {
    /// Any key other than `retention` turns on the FireLens log router sidecar.
    pub fn uses_firelens(&self) -> bool {
        self.image.is_some()
            || self.destination.is_some()
            || self.enable_metadata.is_some()
            || self.secret_options.is_some()
            || self.config_file_path.is_some()
            || self.variables.is_some()
            || self.secrets.is_some()
            || self.env_file.is_some()
    }
}

manifest_struct! {
    /// EFS authorization settings.
    pub struct EfsAuth {
        iam: bool = "iam",
        access_point_id: String = "access_point_id",
    }
}

manifest_struct! {
    /// `storage.volumes.<name>.efs` in its long form.
    pub struct EfsConfig [custom_merge] {
        id: ScalarOr<String, FromCfn> = "id",
        root_dir: String = "root_dir",
        auth: EfsAuth = "auth",
        uid: u32 = "uid",
        gid: u32 = "gid",
    }
}

impl Merge for EfsConfig {
    /// `uid`/`gid` (a managed file system) and `id`/`root_dir`/`auth` (an existing one)
    /// exclude each other: setting one group in an override clears the other.
    fn merge(mut base: Self, over: Self) -> Self {
        if over.uid.is_some() || over.gid.is_some() {
            base.id = None;
            base.root_dir = None;
            base.auth = None;
        }
        // Copilot tests `auth` with `IsEmpty()`: `auth: {}` sets nothing and clears nothing.
        let auth_set = over
            .auth
            .as_ref()
            .is_some_and(|a| a.value != EfsAuth::default());
        if over.id.is_some() || over.root_dir.is_some() || auth_set {
            base.uid = None;
            base.gid = None;
        }
        EfsConfig::merge_fields(base, over)
    }
}

manifest_struct! {
    /// `storage.volumes.<name>`.
    pub struct Volume {
        path: String = "path",
        read_only: bool = "read_only",
        efs: BoolOr<EfsConfig> = "efs",
    }
}

manifest_struct! {
    /// `storage`.
    pub struct Storage {
        ephemeral: u32 = "ephemeral",
        readonly_fs: bool = "readonly_fs",
        volumes: Map<Volume> = "volumes",
    }
}

manifest_struct! {
    /// `{from_tags: {...}}` subnet selection.
    pub struct SubnetsFromTags {
        from_tags: Map<OneOrMany<String>> = "from_tags",
    }
}

manifest_struct! {
    /// `network.vpc.placement` in its map form.
    pub struct PlacementConfig {
        subnets: ListOr<String, SubnetsFromTags> = "subnets",
    }
}

/// `network.vpc.placement`: `public`, `private`, or explicit subnets.
pub type SubnetPlacement = ScalarOr<String, PlacementConfig>;

/// A security group: an id or an imported export.
pub type SecurityGroupRef = ScalarOr<String, FromCfn>;

manifest_struct! {
    /// `network.vpc.security_groups` in its map form.
    pub struct SecurityGroupsConfig {
        groups: Vec<Located<SecurityGroupRef>> = "groups",
        deny_default: bool = "deny_default",
    }
}

manifest_struct! {
    /// `network.vpc`.
    pub struct WorkloadVpc {
        placement: SubnetPlacement = "placement",
        security_groups: ListOr<Located<SecurityGroupRef>, SecurityGroupsConfig> = "security_groups",
    }
}

manifest_struct! {
    /// `network.connect` in its map form.
    pub struct ConnectConfig {
        alias: String = "alias",
    }
}

manifest_struct! {
    /// `network`.
    pub struct Network {
        vpc: WorkloadVpc = "vpc",
        connect: BoolOr<ConnectConfig> = "connect",
    }
}

manifest_struct! {
    /// A FIFO topic or queue's settings.
    pub struct FifoTopicConfig {
        content_based_deduplication: bool = "content_based_deduplication",
    }
}

manifest_struct! {
    /// `publish.topics[]`.
    pub struct Topic {
        name: String = "name",
        fifo: BoolOr<FifoTopicConfig> = "fifo",
    }
}

manifest_struct! {
    /// `publish`.
    pub struct Publish {
        topics: Vec<Located<Topic>> = "topics",
    }
}

manifest_struct! {
    /// `taskdef_overrides[]`.
    pub struct TaskDefOverride {
        path: String = "path",
        new_value: serde_json::Value = "value",
    }
}

manifest_struct! {
    /// `observability`.
    pub struct Observability {
        tracing: String = "tracing",
    }
}

manifest_struct! {
    /// `exec` in its map form.
    pub struct ExecConfig {
        enable: bool = "enable",
    }
}

/// `exec`: ECS Exec on or off.
pub type Exec = BoolOr<ExecConfig>;

manifest_struct! {
    /// `platform` in its map form.
    pub struct PlatformConfig {
        osfamily: String = "osfamily",
        architecture: String = "architecture",
    }
}

/// `platform`: `linux/x86_64` or `{osfamily, architecture}`.
pub type Platform = ScalarOr<String, PlatformConfig>;

/// The operating system and CPU architecture a task runs on, resolved from `platform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedPlatform {
    pub windows: bool,
    pub arm: bool,
    /// The ECS `OperatingSystemFamily` value.
    pub os_family: &'static str,
}

/// Resolves `platform`; `Err` explains what is wrong.
pub fn resolve_platform(platform: Option<&Platform>) -> Result<ResolvedPlatform, String> {
    let linux = ResolvedPlatform {
        windows: false,
        arm: false,
        os_family: "LINUX",
    };
    let Some(p) = platform else { return Ok(linux) };
    let (os, arch) = match p {
        ScalarOr::Scalar(s) => match s.split_once('/') {
            Some((os, arch)) => (os.to_ascii_lowercase(), arch.to_ascii_lowercase()),
            None => {
                return Err(format!(
                    "platform `{s}` must be written as os/arch, for example linux/x86_64"
                ));
            }
        },
        ScalarOr::Config(c) => match (&c.osfamily, &c.architecture) {
            (Some(os), Some(arch)) => (os.to_ascii_lowercase(), arch.to_ascii_lowercase()),
            (None, None) => return Ok(linux),
            _ => {
                return Err("platform needs both `osfamily` and `architecture`, or neither".into());
            }
        },
    };
    let arm = match arch.as_str() {
        "x86_64" | "amd64" => false,
        "arm" | "arm64" => true,
        other => {
            return Err(format!(
                "architecture `{other}` is not supported; use x86_64, amd64, arm or arm64"
            ));
        }
    };
    let os_family = match os.as_str() {
        "linux" => "LINUX",
        "windows" | "windows_server_2019_core" => "WINDOWS_SERVER_2019_CORE",
        "windows_server_2019_full" => "WINDOWS_SERVER_2019_FULL",
        "windows_server_2022_core" => "WINDOWS_SERVER_2022_CORE",
        "windows_server_2022_full" => "WINDOWS_SERVER_2022_FULL",
        other => {
            return Err(format!(
                "operating system `{other}` is not supported; use linux, windows, \
                 windows_server_2019_core/full or windows_server_2022_core/full"
            ));
        }
    };
    let windows = os_family != "LINUX";
    if windows && arm {
        return Err("Windows tasks run on x86_64 only".into());
    }
    Ok(ResolvedPlatform {
        windows,
        arm,
        os_family,
    })
}

manifest_struct! {
    /// tug: one item of an explicit capacity provider strategy.
    pub struct CapacityProviderItem {
        name: String = "name",
        base: u32 = "base",
        weight: u32 = "weight",
    }
}

manifest_struct! {
    /// tug: `placement.strategies[]`.
    pub struct PlacementStrategy {
        kind: String = "type",
        field: String = "field",
    }
}

manifest_struct! {
    /// tug: `placement.constraints[]`.
    pub struct PlacementConstraint {
        kind: String = "type",
        expression: String = "expression",
    }
}

manifest_struct! {
    /// tug: `placement` (EC2 only).
    pub struct TaskPlacement {
        strategies: Vec<Located<PlacementStrategy>> = "strategies",
        constraints: Vec<Located<PlacementConstraint>> = "constraints",
    }
}

/// `depends_on` conditions ECS accepts (Copilot writes them in lower case).
pub const DEPENDS_ON_CONDITIONS: &[&str] = &["start", "healthy", "complete", "success"];
