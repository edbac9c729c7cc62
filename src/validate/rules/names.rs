//! stub
use crate::manifest::load::ResolvedWorkload;
use crate::validate::diagnostic::Diagnostic;
pub fn check(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let _ = (wl, out);
}
use crate::manifest::load::Loaded;
pub fn check_workspace(l: &Loaded, out: &mut Vec<Diagnostic>) {
    let _ = (l, out);
}
