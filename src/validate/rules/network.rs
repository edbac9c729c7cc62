//! stub
use crate::manifest::load::{ResolvedEnvironment, ResolvedWorkload};
use crate::validate::diagnostic::Diagnostic;
pub fn check(wl: &ResolvedWorkload, env: Option<&ResolvedEnvironment>, out: &mut Vec<Diagnostic>) {
    let _ = (wl, env, out);
}
