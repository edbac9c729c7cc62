//! stub
use crate::manifest::load::ResolvedWorkload;
use crate::validate::diagnostic::Diagnostic;
pub fn check(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let _ = (wl, out);
}
