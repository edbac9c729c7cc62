//! The validation rules, one module per area. Each takes a resolved manifest and pushes
//! diagnostics; none reads files or calls AWS.

mod ec2;
mod environment;
pub mod job;
mod load_balancer;
mod names;
mod network;
mod scaling;
mod strategy;
pub mod task;

use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::load::{Loaded, ResolvedEnvironment, ResolvedWorkload};

/// Checks one workload manifest merged for one environment.
pub fn check_workload(
    wl: &ResolvedWorkload,
    env: Option<&ResolvedEnvironment>,
    out: &mut Vec<Diagnostic>,
) {
    names::check(wl, out);
    task::check(wl, out);
    network::check(wl, env, out);
    scaling::check(wl, out);
    ec2::check(wl, env, out);
    load_balancer::check(wl, out);
    strategy::check(wl, out);
    job::check(wl, out);
}

/// Checks one environment manifest.
pub fn check_environment(env: &ResolvedEnvironment, out: &mut Vec<Diagnostic>) {
    environment::check(env, out);
}

/// Checks that look across manifests.
pub fn check_workspace(loaded: &Loaded, out: &mut Vec<Diagnostic>) {
    names::check_workspace(loaded, out);
    ec2::check_workspace(loaded, out);
    strategy::check_workspace(loaded, out);
}
