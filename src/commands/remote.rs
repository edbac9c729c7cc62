//! What the commands that read or change AWS share: the async runtime and AWS clients from
//! the global flags, confirmations (a terminal, or `--yes`), and plain text tables.

use std::future::Future;

use crate::commands::Context;
use crate::deploy::aws::{Aws, AwsSettings};
use crate::error::{Error, Result};
use crate::manifest::load::{LoadOptions, Loaded};
use crate::manifest::workspace::Workspace;

/// The workspace, read leniently: commands that look at or remove what is deployed need the
/// application's name and workloads, not manifests valid enough to deploy.
pub(crate) fn workspace(ctx: &Context) -> Result<(Workspace, Loaded)> {
    let ws = ctx.workspace()?;
    let opts = LoadOptions {
        lenient: true,
        environment: None,
        variables: ctx.variables(),
    };
    let loaded = ctx.load(&ws, &opts)?;
    Ok((ws, loaded))
}

/// The value of a required flag, or a usage error naming it.
pub(crate) fn required<'a>(value: Option<&'a str>, what: &str, flag: &str) -> Result<&'a str> {
    value.ok_or_else(|| Error::usage(format!("which {what}? pass {flag}")))
}

/// `-n NAME -e ENV` of a command about one workload (both required), with the workspace.
pub(crate) fn workload_and_env<'a>(
    ctx: &Context,
    name: Option<&'a str>,
    env: Option<&'a str>,
    what: &str,
) -> Result<(&'a str, &'a str, Loaded)> {
    let name = required(name, what, "-n NAME")?;
    let env = required(env, "environment", "-e ENV")?;
    let (_, loaded) = workspace(ctx)?;
    Ok((name, env, loaded))
}

/// The AWS settings of this run.
pub(crate) fn settings(ctx: &Context) -> AwsSettings {
    AwsSettings {
        profile: ctx.global.profile.clone(),
        region: ctx.global.region.clone(),
        endpoint_url: ctx.global.endpoint_url.clone(),
    }
}

/// Runs `work` with connected AWS clients on the process's runtime. Failing to connect is
/// an operation failure (exit code 1).
pub(crate) fn with_aws<T, F, Fut>(ctx: &Context, work: F) -> Result<T>
where
    F: FnOnce(Aws) -> Fut,
    Fut: Future<Output = T>,
{
    let settings = settings(ctx);
    let aws = ctx.block_on(async {
        let aws = Aws::connect(&settings).await?;
        Ok::<_, Error>(work(aws).await)
    })??;
    Ok(aws)
}

/// Asks `question` on a terminal; `--yes` answers yes. Without a terminal and without
/// `--yes` this is a usage error that names the flag.
pub(crate) fn confirm(ctx: &Context, question: &str) -> Result<bool> {
    if ctx.global.yes {
        return Ok(true);
    }
    if !ctx.ui.interactive {
        return Err(Error::usage(format!(
            "{question} needs an answer: there is no terminal to ask on"
        ))
        .help("pass --yes to go ahead"));
    }
    ctx.ui.confirm(question, false)
}

/// Lines of a table: every column as wide as its widest cell, trailing blanks trimmed.
pub(crate) fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

/// `-` for a missing value.
pub(crate) fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["NAME".to_string(), "IMAGE".to_string()],
            vec!["web".to_string(), "nginx".to_string()],
        ];
        assert_eq!(table(&rows), ["NAME  IMAGE", "web   nginx"]);
    }
}
