//! `tug validate`: load every manifest for every (or one) environment, run the rules, print
//! every diagnostic. Exit 3 when any is an error.

use serde_json::json;

use crate::cli::ValidateArgs;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::load::LoadOptions;
use crate::ui::Style;
use crate::validate::{has_errors, report, validate};

pub(crate) fn run(ctx: &Context, args: &ValidateArgs) -> Result<()> {
    let ws = ctx.workspace()?;
    let opts = LoadOptions {
        lenient: ctx.lenient(&ws),
        environment: args.env.clone(),
        variables: ctx.variables(),
    };
    let loaded = ctx.load(&ws, &opts)?;
    let diags = validate(&loaded);
    let failed = has_errors(&diags);
    let manifests = ws.workloads.len() + ws.environments.len();

    if ctx.ui.json {
        ctx.ui.json(&json!({
            "valid": !failed,
            "application": loaded.app,
            "environments": loaded.environment_names,
            "manifests": manifests,
            "errors": diags.iter().filter(|d| d.is_error()).count(),
            "warnings": diags.iter().filter(|d| !d.is_error()).count(),
            "diagnostics": diags.iter().map(|d| report::to_json(d, &ws.sources)).collect::<Vec<_>>(),
        }));
    } else {
        for d in &diags {
            if ctx.ui.quiet && !d.is_error() {
                continue;
            }
            ctx.ui.diagnostic(&report::format_text(
                d,
                &ws.sources,
                &loaded.environment_names,
                &ctx.ui,
            ));
        }
        let envs = if loaded.environment_names.is_empty() {
            "no environments".to_string()
        } else {
            loaded.environment_names.join(", ")
        };
        let summary = format!(
            "{manifests} manifest{} checked for {envs}: {}",
            if manifests == 1 { "" } else { "s" },
            report::summary(&diags)
        );
        if failed {
            ctx.ui.info(&ctx.ui.paint_err(Style::Error, &summary));
        } else {
            ctx.ui.info(&ctx.ui.paint_err(Style::Success, &summary));
        }
    }
    // The report above is the whole answer: the exit code is all that is left to give.
    if failed {
        Err(Error::reported(exit::INVALID_MANIFESTS))
    } else {
        Ok(())
    }
}
