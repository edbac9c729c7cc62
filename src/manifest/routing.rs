//! Which of the environment's own load balancers a workload's traffic comes through: a fact
//! of the manifests that rendering (the listeners and rules to make) and the validation rules
//! (which subnets must be public) both read.

use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::WorkloadKind;

/// Whether a load-balanced web service uses the environment's own public ALB (and not an
/// imported one).
pub fn uses_public_alb(wl: &ResolvedWorkload) -> bool {
    wl.kind == WorkloadKind::LoadBalancedWebService
        && wl.manifest.http.as_ref().is_none_or(|h| h.value.enabled())
        && wl.manifest.http_rule().is_none_or(|r| r.alb.is_none())
}

/// Whether a backend service uses the environment's internal ALB.
pub fn uses_internal_alb(wl: &ResolvedWorkload) -> bool {
    wl.kind == WorkloadKind::BackendService
        && wl.manifest.http_rule().is_some_and(|r| r.alb.is_none())
}
