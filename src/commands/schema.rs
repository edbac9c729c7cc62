//! `tug schema [TYPE] [--output-dir DIR]`: the JSON Schema of the manifests, for editors.

use std::fs;
use std::path::Path;

use crate::cli::SchemaArgs;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::manifest::schema::{ManifestType, any_manifest_schema, schema_for};

/// The file that holds the schema of any manifest (it picks the type's by `type:`).
pub(crate) const ANY_MANIFEST_FILE: &str = "manifest.json";

pub(crate) fn run(ctx: &Context, args: &SchemaArgs) -> Result<()> {
    if let Some(dir) = &args.output_dir {
        let files = write_all(dir)?;
        if ctx.ui.json {
            ctx.ui.json(&serde_json::json!({ "written": files }));
        } else {
            for f in &files {
                ctx.ui.out(f);
            }
        }
        return Ok(());
    }
    let schema = match &args.kind {
        None => any_manifest_schema(),
        Some(text) => match ManifestType::parse(text) {
            Some(ty) => schema_for(ty),
            None => {
                let known: Vec<String> = ManifestType::ALL.iter().map(|t| t.slug()).collect();
                return Err(Error::usage(format!("`{text}` is not a manifest type"))
                    .help(format!("use one of {}", known.join(", "))));
            }
        },
    };
    ctx.ui.json(&schema);
    Ok(())
}

/// Writes `<slug>.json` for every type and [`ANY_MANIFEST_FILE`] into `dir`; returns the
/// paths written. Files whose content is unchanged are left alone.
pub(crate) fn write_all(dir: &Path) -> Result<Vec<String>> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut docs: Vec<(String, serde_json::Value)> = ManifestType::ALL
        .iter()
        .map(|t| (format!("{}.json", t.slug()), schema_for(*t)))
        .collect();
    docs.push((ANY_MANIFEST_FILE.to_string(), any_manifest_schema()));
    let mut written = Vec::new();
    for (name, doc) in docs {
        let path = dir.join(&name);
        let text = format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).map_err(|e| Error::failure(e.to_string()))?
        );
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        written.push(path.display().to_string());
    }
    Ok(written)
}
