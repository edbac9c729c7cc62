//! The text of the manifests `tug init` writes: commented, minimal, valid, and pointing the
//! YAML language server at the schema tug writes next to them.

use crate::manifest::model::WorkloadKind;
use crate::manifest::schema::ManifestType;

/// The folder, inside the workspace folder, that holds the JSON Schemas.
pub(crate) const SCHEMA_DIR: &str = ".schema";

/// Where the main container's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImageSource {
    /// An image to pull, as given.
    Location(String),
    /// A Dockerfile to build, relative to the folder holding the workspace.
    Dockerfile(String),
}

/// Everything a workload manifest is made from.
#[derive(Debug, Clone)]
pub(crate) struct WorkloadAnswers {
    pub name: String,
    pub kind: WorkloadKind,
    pub image: ImageSource,
    pub port: Option<u16>,
    pub schedule: Option<String>,
}

/// `value` as a YAML scalar: plain when that reads back as the same text, else quoted.
pub(crate) fn yaml_str(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/:@-+".contains(c))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/')
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null"
        )
        && value.parse::<f64>().is_err();
    if plain {
        value.to_string()
    } else {
        serde_json::Value::String(value.to_string()).to_string()
    }
}

/// The `yaml-language-server` modeline of a manifest `depth` folders below the workspace.
fn modeline(ty: ManifestType, depth: usize) -> String {
    format!(
        "# yaml-language-server: $schema={}{SCHEMA_DIR}/{}.json\n",
        "../".repeat(depth),
        ty.slug()
    )
}

/// `copilot/.workspace`.
pub(crate) fn workspace_file(app: &str) -> String {
    format!(
        "# The application every manifest in this folder belongs to. Stack names start with it.\n\
         application: {}\n",
        yaml_str(app)
    )
}

/// `environments/<name>/manifest.yml`.
pub(crate) fn environment(name: &str) -> String {
    format!(
        "{}\
# The {name} environment: a VPC that tug creates (10.0.0.0/16, two public and two private
# subnets over two Availability Zones), an ECS cluster, and the load balancers the services
# need. Every key is described in tug's docs/manifest-reference.md.
name: {}
type: Environment

# CloudWatch Container Insights: per-task and per-service metrics (billed by CloudWatch).
observability:
  container_insights: false

# To use an existing VPC instead of creating one:
# network:
#   vpc:
#     id: vpc-0123456789abcdef0
#     subnets:
#       public:
#         - id: subnet-11111111
#         - id: subnet-22222222
#       private:
#         - id: subnet-33333333
#         - id: subnet-44444444
",
        modeline(ManifestType::Environment, 2),
        yaml_str(name)
    )
}

fn image_block(a: &WorkloadAnswers) -> String {
    let mut out = String::from("image:\n");
    match &a.image {
        ImageSource::Location(uri) => {
            out.push_str("  # The image to run, pulled as is.\n");
            out.push_str(&format!("  location: {}\n", yaml_str(uri)));
        }
        ImageSource::Dockerfile(path) => {
            out.push_str(
                "  # Built by `tug deploy` and pushed to the workload's ECR repository.\n",
            );
            out.push_str(&format!("  build: {}\n", yaml_str(path)));
        }
    }
    if let Some(port) = a.port {
        out.push_str("  # The port the container listens on.\n");
        out.push_str(&format!("  port: {port}\n"));
    }
    out
}

const TASK_SIZE: &str = "\
# Task size: 0.25 vCPU and 512 MiB (a valid Fargate combination).
cpu: 256
memory: 512
";

const VARIABLES_EXAMPLE: &str = "
# Environment variables of the main container:
# variables:
#   LOG_LEVEL: info

# Settings for one environment only, over the ones above:
# environments:
#   prod:
#     memory: 1024
";

/// `<name>/manifest.yml`.
pub(crate) fn workload(a: &WorkloadAnswers) -> String {
    let kind = a.kind;
    let mut out = modeline(ManifestType::Workload(kind), 1);
    let what = match kind {
        WorkloadKind::LoadBalancedWebService => {
            "a service reached from the internet through the environment's Application Load Balancer"
        }
        WorkloadKind::BackendService => {
            "a service reached by the other services of the environment, not from the internet"
        }
        WorkloadKind::WorkerService => "a service that processes messages from an SQS queue",
        WorkloadKind::ScheduledJob => "a task that runs on a schedule and stops when it is done",
        _ => "a workload",
    };
    out.push_str(&format!(
        "# {}, a {}:\n# {what}.\n# Every key is described in tug's docs/manifest-reference.md.\n",
        a.name,
        kind.as_str()
    ));
    out.push_str(&format!(
        "name: {}\ntype: {}\n\n",
        yaml_str(&a.name),
        kind.as_str()
    ));
    out.push_str(&image_block(a));
    out.push('\n');
    match kind {
        WorkloadKind::LoadBalancedWebService => out.push_str(
            "http:\n  # Requests whose path starts with this go to the service.\n  path: '/'\n  \
             # The load balancer's health check: a 2xx answer on this path means healthy.\n  \
             healthcheck: '/'\n\n",
        ),
        WorkloadKind::BackendService => out.push_str(
            "# Other services reach this one at http://<name>.<env>.<app>.local:<port>.\n\
             network:\n  connect: true\n\n",
        ),
        WorkloadKind::WorkerService => out.push_str(
            "# Messages arrive in the queue tug creates for this worker. To receive what other\n\
             # services publish, subscribe to their topics:\n\
             # subscribe:\n#   topics:\n#     - name: events\n#       service: api\n\n",
        ),
        WorkloadKind::ScheduledJob => {
            let schedule = a.schedule.as_deref().unwrap_or("@daily");
            out.push_str(&format!(
                "on:\n  # @hourly, @daily, @weekly, \"@every 2h\", \"rate(30 minutes)\" or a cron expression.\n  \
                 schedule: {}\n\n# A run that takes longer is stopped.\ntimeout: 1h\n\n",
                yaml_str(schedule)
            ));
        }
        _ => {}
    }
    out.push_str(TASK_SIZE);
    if kind.is_service() {
        out.push_str("# How many tasks run.\ncount: 1\n");
        out.push_str("# Lets you open a shell in a running container (`aws ecs execute-command`).\nexec: true\n");
    }
    out.push_str(VARIABLES_EXAMPLE);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_when_needed() {
        assert_eq!(yaml_str("nginx:1.27"), "nginx:1.27");
        assert_eq!(
            yaml_str("public.ecr.aws/nginx/nginx:1.27"),
            "public.ecr.aws/nginx/nginx:1.27"
        );
        assert_eq!(yaml_str("@daily"), "\"@daily\"");
        assert_eq!(yaml_str("yes"), "\"yes\"");
        assert_eq!(yaml_str("1.5"), "\"1.5\"");
        assert_eq!(yaml_str("cron(0 3 * * ? *)"), "\"cron(0 3 * * ? *)\"");
    }
}
