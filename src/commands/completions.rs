//! `tug completions SHELL` and `tug man`: shell completion scripts and manual pages, both
//! generated from the clap definitions of `src/cli`, so they always match the command line.

use std::fs;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::commands::Context;
use crate::error::{Error, Result};

pub(crate) fn completions(ctx: &Context, args: &CompletionsArgs) -> Result<()> {
    let mut cmd = Cli::command();
    // Generated into memory first: clap_complete panics on a write error, and a closed pipe
    // (`tug completions bash | head`) is not worth a panic.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tug", &mut script);
    ctx.ui.out_raw(&script);
    Ok(())
}

pub(crate) fn man(ctx: &Context, args: &ManArgs) -> Result<()> {
    let cmd = Cli::command();
    match &args.output_dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .map_err(|e| Error::failure(format!("cannot render the manual page: {e}")))?;
            ctx.ui.out_raw(&page);
        }
        Some(dir) => {
            for f in write_pages(cmd, dir)? {
                ctx.ui.out(&f);
            }
        }
    }
    Ok(())
}

fn write_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<String>> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut todo = vec![("tug".to_string(), cmd)];
    while let Some((name, cmd)) = todo.pop() {
        for sub in cmd.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" {
                continue;
            }
            let sub_name = format!("{name}-{}", sub.get_name());
            let sub = sub.clone().name(sub_name.clone());
            todo.push((sub_name, sub));
        }
        let path = dir.join(format!("{name}.1"));
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone().name(name.clone()))
            .render(&mut page)
            .map_err(|e| format!("cannot render {name}.1: {e}"))?;
        fs::write(&path, page).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path.display().to_string());
    }
    written.sort();
    Ok(written)
}
