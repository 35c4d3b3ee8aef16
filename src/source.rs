//! Loaded input files and positions inside them.
//!
//! Every spec and defaults file is read once into a [`Sources`] table; values
//! parsed from it carry a [`Span`] (file, line, column, byte range) so that a
//! diagnostic can point at the exact place, even after defaults were merged
//! into a spec from another file.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A position in a source file: 1-based line and column, plus the byte range
/// of the value when the parser knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub column: u32,
    pub start: usize,
    pub len: usize,
}

impl Span {
    /// A span for a whole file's first line, used where nothing more precise exists.
    pub fn file_start(file: FileId) -> Self {
        Span {
            file,
            line: 1,
            column: 1,
            start: 0,
            len: 0,
        }
    }

    /// Builds a span from a serde-saphyr location in `file`, a text of
    /// `text_len` bytes. Where the parser knows no byte offset,
    /// `fallback_start(line, column)` supplies one.
    pub fn from_location(
        file: FileId,
        loc: &serde_saphyr::Location,
        text_len: usize,
        fallback_start: impl FnOnce(u32, u32) -> usize,
    ) -> Self {
        let span = loc.span();
        let line = u32::try_from(loc.line()).unwrap_or(u32::MAX).max(1);
        let column = u32::try_from(loc.column()).unwrap_or(u32::MAX).max(1);
        let (start, len) = match (span.byte_offset(), span.byte_len()) {
            (Some(o), Some(l)) => (
                usize::try_from(o).unwrap_or(0),
                usize::try_from(l).unwrap_or(0),
            ),
            _ => (fallback_start(line, column), 0),
        };
        let start = start.min(text_len);
        let len = len.min(text_len - start);
        Span {
            file,
            line,
            column,
            start,
            len,
        }
    }

    pub fn range(&self) -> Range<usize> {
        self.start..self.start + self.len
    }
}

/// The byte offset of a 1-based line and column in `text`.
pub fn line_col_to_offset(text: &str, line: u32, column: u32) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            return offset
                + l.char_indices()
                    .nth(column.saturating_sub(1) as usize)
                    .map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

/// One loaded file: its path as the user should see it, and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the working directory, as given on the command line.
    pub path: PathBuf,
    pub text: String,
}

/// Every file read during a run. Spans index into it.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: &Path, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 4 billion files"));
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            text,
        });
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.get(id).path
    }
}

/// `path` made absolute (against the working directory) with `.` and `..`
/// resolved lexically, symlinks not followed: the one spelling of a folder
/// however the user wrote it (`./specs/`, `a/../specs`, `/abs/specs`).
pub fn lexical_absolute(path: &Path) -> PathBuf {
    use std::path::Component;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
