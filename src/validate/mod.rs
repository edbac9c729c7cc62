//! Validation: pure checks over resolved manifests that return every diagnostic at once.
//! Each rule module owns one area (task definition, ports, scaling, ...).

pub mod report;
pub mod rules;

// Diagnostics and their codes belong to the model (the loader reports them too); they are
// also named from here, where code written before the move (and on other branches) looks.
pub use crate::manifest::{codes, diagnostic};

use crate::manifest::load::Loaded;
use diagnostic::Diagnostic;

/// Runs every rule over everything `loaded` holds and returns the loader's diagnostics with
/// the rules' findings, sorted and de-duplicated.
pub fn validate(loaded: &Loaded) -> Vec<Diagnostic> {
    let mut diags = loaded.diags.clone();
    for env in &loaded.environments {
        let mut found = Vec::new();
        rules::check_environment(env, &mut found);
        diags.extend(found);
    }
    for wl in &loaded.workloads {
        let env = wl
            .environment
            .as_ref()
            .and_then(|name| loaded.environments.iter().find(|e| &e.name == name));
        let mut found = Vec::new();
        rules::check_workload(wl, env, &mut found);
        if let Some(name) = &wl.environment {
            for d in &mut found {
                d.environments.push(name.clone());
            }
        }
        diags.extend(found);
    }
    rules::check_workspace(loaded, &mut diags);
    // A value whose interpolation failed is judged by its interpolation diagnostic alone.
    diags.retain(|d| d.code == codes::UNDEFINED_VARIABLE || !loaded.unresolved.contains(&d.span));
    diagnostic::normalize(diags)
}

/// Whether any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}
