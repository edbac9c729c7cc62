//! stub
use crate::manifest::load::ResolvedEnvironment;
use crate::validate::diagnostic::Diagnostic;
pub fn check(env: &ResolvedEnvironment, out: &mut Vec<Diagnostic>) {
    let _ = (env, out);
}
