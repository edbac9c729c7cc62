//! The catalogue of diagnostic codes. Ids are stable: a released id never changes meaning,
//! retired ids are not reused. docs/diagnostics.md is generated from [`ALL`] by a test.

use crate::manifest::diagnostic::Code;

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $konst:ident = $id:literal, $name:literal; )*) => {
        $( $(#[doc = $doc])* pub const $konst: Code = Code { id: $id, name: $name }; )*
        /// Every code with its one-line description.
        pub const ALL: &[(Code, &str)] = &[ $( ($konst, concat!($($doc),*)) ),* ];
    };
}

codes! {
    // Reading files and YAML structure.
    /// The file is not valid YAML, is binary, too large or too deeply nested.
    YAML_SYNTAX = "TUG100", "yaml-syntax";
    /// The file could not be read.
    FILE_UNREADABLE = "TUG101", "file-unreadable";
    /// A value has the wrong type (a list where a mapping belongs, text where a number belongs).
    WRONG_TYPE = "TUG102", "wrong-type";
    /// A key that the manifest schema does not know (often a typo or wrong indentation).
    UNKNOWN_KEY = "TUG103", "unknown-key";
    /// A required key is missing.
    MISSING_KEY = "TUG104", "missing-key";
    /// A value is not one of the allowed values or not in the expected format.
    INVALID_VALUE = "TUG105", "invalid-value";
    /// A `${VAR}` reference names a variable that is not defined.
    UNDEFINED_VARIABLE = "TUG106", "undefined-variable";
    /// The same key appears twice in one mapping.
    DUPLICATE_KEY = "TUG107", "duplicate-key";
    /// The manifest file is empty.
    EMPTY_MANIFEST = "TUG108", "empty-manifest";
    /// The manifest type is valid for Copilot but not supported by tug (App Runner, Static Site).
    UNSUPPORTED_TYPE = "TUG109", "unsupported-type";
    /// The manifest `type` is not a known type.
    UNKNOWN_TYPE = "TUG110", "unknown-type";
    /// The manifest `name` differs from its folder name.
    NAME_MISMATCH = "TUG111", "name-mismatch";
    /// An `environments:` override names an environment the workspace does not have.
    UNKNOWN_ENVIRONMENT = "TUG112", "unknown-environment";
    /// Two keys that exclude each other are both set.
    MUTUALLY_EXCLUSIVE = "TUG113", "mutually-exclusive";
    /// A key that still works but is deprecated.
    DEPRECATED_KEY = "TUG114", "deprecated-key";
    /// A value written as YAML inside YAML (a quoted string inside quotes), which Copilot's
    /// templates inserted unquoted so the inner quotes disappeared; tug reads it the same way.
    COPILOT_YAML_VALUE = "TUG115", "copilot-yaml-value";
    /// An environment override that Copilot merged otherwise than it reads (for example
    /// `fifo: false` over FIFO settings kept the FIFO queue); tug merges it the same way.
    COPILOT_OVERRIDE = "TUG116", "copilot-override";

    // Task definitions.
    /// More than 10 containers in one task (main, sidecars and the FireLens log router).
    TOO_MANY_CONTAINERS = "TUG200", "too-many-containers";
    /// Fargate tasks must use the awsvpc network mode.
    FARGATE_NETWORK_MODE = "TUG201", "fargate-network-mode";
    /// Task cpu and memory are not a valid Fargate combination.
    FARGATE_TASK_SIZE = "TUG202", "fargate-task-size";
    /// Container cpu or memory adds up to more than the task has.
    CONTAINER_RESOURCES = "TUG203", "container-resources";
    /// Two containers expose the same port, or a port is used with two protocols.
    PORT_CONFLICT = "TUG204", "port-conflict";
    /// A health-check setting is outside the range ECS or Elastic Load Balancing accepts.
    HEALTHCHECK_RANGE = "TUG205", "healthcheck-range";
    /// A name breaks the naming rules (characters, length).
    INVALID_NAME = "TUG206", "invalid-name";
    /// A secret reference is not an SSM parameter name, an SSM or Secrets Manager ARN, or a
    /// supported map form.
    SECRET_REFERENCE = "TUG207", "secret-reference";
    /// Ephemeral storage is outside 21-200 GiB.
    EPHEMERAL_STORAGE = "TUG208", "ephemeral-storage";
    /// A mount point names a volume that is not defined.
    UNKNOWN_VOLUME = "TUG209", "unknown-volume";
    /// `depends_on` names a container that does not exist or uses an invalid condition.
    DEPENDS_ON_UNKNOWN = "TUG210", "depends-on";
    /// Container dependencies form a cycle.
    DEPENDS_ON_CYCLE = "TUG211", "depends-on-cycle";
    /// A feature that needs EC2 capacity is used on Fargate.
    EC2_ONLY = "TUG212", "ec2-only";
    /// The platform is not supported, or a feature is not available on it.
    PLATFORM = "TUG213", "platform";
    /// The image needs exactly one of `build` and `location`.
    IMAGE_SOURCE = "TUG214", "image-source";
    /// An env file does not end in `.env`.
    ENV_FILE = "TUG215", "env-file";
    /// A `taskdef_overrides` path is malformed or targets a field that cannot be overridden.
    TASKDEF_OVERRIDE = "TUG216", "taskdef-override";
    /// A storage volume or EFS setting is invalid.
    VOLUME = "TUG217", "volume";

    // Services: count, scaling, load balancing, deployment.
    /// A count, range or scaling value is outside its allowed range.
    SCALING_RANGE = "TUG300", "scaling-range";
    /// Autoscaling settings that do not fit together (spot with autoscaling, metric without range).
    SCALING_CONFLICT = "TUG301", "scaling-conflict";
    /// A deployment strategy needs a load balancer the service does not have.
    STRATEGY_NEEDS_LOAD_BALANCER = "TUG302", "strategy-needs-load-balancer";
    /// Deployment settings that are invalid or do not fit the chosen strategy.
    DEPLOYMENT = "TUG303", "deployment";
    /// A load balancer (http or nlb) setting is invalid.
    LOAD_BALANCER = "TUG304", "load-balancer";
    /// A CIDR block is malformed.
    CIDR = "TUG305", "cidr";
    /// A listener rule has more condition values than Elastic Load Balancing allows.
    TOO_MANY_CONDITIONS = "TUG306", "too-many-conditions";
    /// Placement, capacity provider or scheduling settings are invalid.
    CAPACITY = "TUG307", "capacity";
    /// A network or Service Connect setting is invalid.
    NETWORK = "TUG308", "network";
    /// A publish/subscribe setting is invalid.
    PUBSUB = "TUG309", "pubsub";

    // Jobs.
    /// A job schedule is not a valid expression.
    SCHEDULE = "TUG400", "schedule";
    /// A job timeout or retry count is invalid.
    JOB_LIMITS = "TUG401", "job-limits";

    // Environments.
    /// Subnets do not fit the VPC, overlap, or are spread over too few Availability Zones.
    SUBNETS = "TUG500", "subnets";
    /// An environment setting is invalid.
    ENVIRONMENT = "TUG501", "environment";
    /// A workspace-level problem: no workload, missing environments, files too large together.
    WORKSPACE = "TUG502", "workspace";
    /// An addon template (`addons/*.yml`) or its `addons.parameters.yml` is invalid.
    ADDONS = "TUG503", "addons";

    // Rendering.
    /// A value cannot be rendered into CloudFormation (for example a patch path that does not
    /// exist in the template).
    RENDER = "TUG600", "render";
}
