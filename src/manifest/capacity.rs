//! The EC2 capacity providers an environment manifest declares (`cluster.ec2`) and their
//! names: workloads name a provider as the manifest does (`general`); its ECS name is
//! `<app>-<env>-<name>`, because capacity provider names are unique per account and Region,
//! not per cluster. Rendering and the validation rules both read them here.

use crate::manifest::decode::Located;
use crate::manifest::load::ResolvedEnvironment;
use crate::manifest::model::environment::Ec2Capacity;
use crate::manifest::union::OneOrMany;

/// The name of a provider written without `name` (only allowed when it is the only one).
pub const DEFAULT_PROVIDER: &str = "ec2";

/// Defaults of the Auto Scaling group and ECS managed scaling.
/// The EC2 providers an environment manifest declares, in order.
pub fn providers(env: &ResolvedEnvironment) -> Vec<&Located<Ec2Capacity>> {
    match env
        .manifest
        .cluster
        .as_ref()
        .and_then(|c| c.ec2.as_ref())
        .map(|e| &e.value)
    {
        Some(OneOrMany::One(p)) => vec![p],
        Some(OneOrMany::Many(list)) => list.iter().collect(),
        None => Vec::new(),
    }
}

/// The manifest name of a provider.
pub fn manifest_name(p: &Ec2Capacity) -> &str {
    p.name
        .as_ref()
        .map_or(DEFAULT_PROVIDER, |n| n.value.as_str())
}

/// The ECS name of provider `name` of environment `env`.
pub fn provider_name(app: &str, env: &str, name: &str) -> String {
    format!("{app}-{env}-{name}")
}

/// The provider `launch_type: ec2` uses: the one marked `default`, else the first.
pub fn default_provider(env: &ResolvedEnvironment) -> Option<&Located<Ec2Capacity>> {
    let all = providers(env);
    all.iter()
        .find(|p| p.default.as_ref().is_some_and(|d| d.value))
        .or(all.first())
        .copied()
}
