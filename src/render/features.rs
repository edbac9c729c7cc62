//! Which shared resources an environment stack must hold, computed from the workloads that
//! target it. This replaces Copilot's environment-controller Lambda: the answer comes from the
//! local manifests, so the environment stack never changes behind the user's back.

use crate::manifest::load::{Loaded, ResolvedWorkload};
use crate::manifest::union::{BoolOr, ScalarOr};

// Which load balancer a workload routes through is read by the validation rules too, so it is
// a fact of the model.
pub use crate::manifest::routing::{uses_internal_alb, uses_public_alb};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnvFeatures {
    /// A load-balanced web service routes through the environment's public ALB.
    pub public_alb: bool,
    /// A backend service with `http` routes through the internal ALB.
    pub internal_alb: bool,
    /// A workload runs in private subnets and needs NAT for egress.
    pub nat: bool,
    /// A workload mounts the environment's managed EFS file system.
    pub managed_efs: bool,
}

/// The workloads of `loaded` merged for `env`.
pub fn workloads_in<'a>(
    loaded: &'a Loaded,
    env: &'a str,
) -> impl Iterator<Item = &'a ResolvedWorkload> {
    loaded
        .workloads
        .iter()
        .filter(move |w| w.environment.as_deref() == Some(env))
}

/// Whether a workload's tasks run in private subnets.
pub fn runs_private(wl: &ResolvedWorkload) -> bool {
    let placement = wl
        .manifest
        .network
        .as_ref()
        .and_then(|n| n.vpc.as_ref())
        .and_then(|v| v.placement.as_ref());
    matches!(placement.map(|p| &p.value), Some(ScalarOr::Scalar(s)) if s.eq_ignore_ascii_case("private"))
}

/// Whether a workload mounts the managed EFS file system.
pub fn uses_managed_efs(wl: &ResolvedWorkload) -> bool {
    let volumes = wl
        .manifest
        .storage
        .as_ref()
        .and_then(|s| s.volumes.as_ref());
    volumes.is_some_and(|vols| {
        vols.values()
            .any(|v| match v.efs.as_ref().map(|e| &e.value) {
                Some(BoolOr::Bool(true)) => true,
                Some(BoolOr::Config(c)) => c.uid.is_some() || c.gid.is_some(),
                _ => false,
            })
    })
}

pub fn env_features(loaded: &Loaded, env: &str) -> EnvFeatures {
    let mut f = EnvFeatures::default();
    for wl in workloads_in(loaded, env) {
        f.public_alb |= uses_public_alb(wl);
        f.internal_alb |= uses_internal_alb(wl);
        f.nat |= runs_private(wl);
        f.managed_efs |= uses_managed_efs(wl);
    }
    f
}
