//! Documentation generated from the code: docs/diagnostics.md lists every diagnostic code.
//! Run with `UPDATE_EXPECTED=1` to regenerate after adding a code.

use std::fs;
use std::path::Path;

use tug::validate::codes;

#[test]
fn diagnostics_reference_is_up_to_date() {
    let mut doc = String::from(
        "# Diagnostic codes\n\nEvery diagnostic tug prints has a stable code. A released code never changes meaning.\n\
         This file is generated from `src/validate/codes.rs` by `tests/docs.rs`.\n\n| code | name | meaning |\n| --- | --- | --- |\n",
    );
    for (code, meaning) in codes::ALL {
        doc.push_str(&format!(
            "| {} | {} | {} |\n",
            code.id,
            code.name,
            meaning.trim()
        ));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        fs::write(&path, &doc).expect("write docs/diagnostics.md");
        return;
    }
    let current = fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        current, doc,
        "docs/diagnostics.md is stale; run the tests with UPDATE_EXPECTED=1"
    );
    let mut ids: Vec<&str> = codes::ALL.iter().map(|(c, _)| c.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), codes::ALL.len(), "diagnostic ids are unique");
}
