//! Source files and positions: which file a value came from and where in it.
//!
//! Spans are small `Copy` values (a file id, a line and a column) so that every decoded value
//! can carry one. The [`SourceMap`] turns a span back into a path and the text of its line
//! when a diagnostic is printed.

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SourceId(pub u32);

/// A position in a source file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub source: SourceId,
    pub line: u32,
    pub col: u32,
}

impl Span {
    pub fn new(source: SourceId, line: u32, col: u32) -> Span {
        Span { source, line, col }
    }
}

/// One loaded file: where it is (as shown to the user) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// All files read in one run.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: PathBuf, text: String) -> SourceId {
        self.files.push(SourceFile { path, text });
        SourceId((self.files.len() - 1) as u32)
    }

    /// The id the next added file will get.
    pub fn next_id(&self) -> SourceId {
        SourceId(self.files.len() as u32)
    }

    pub fn get(&self, id: SourceId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn path(&self, id: SourceId) -> Option<&Path> {
        self.get(id).map(|f| f.path.as_path())
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, span: Span) -> Option<&str> {
        let file = self.get(span.source)?;
        file.text.lines().nth(span.line.checked_sub(1)? as usize)
    }
}
