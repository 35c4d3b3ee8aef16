//! Diagnostics: what went wrong, where, and how to fix it.
//!
//! A [`Diagnostic`] is plain data produced by the loader and the validator; it
//! is rendered like a compiler error: `file:line:col: error: message`, then the
//! source line with a caret (drawn by `annotate-snippets`), then an optional
//! `help:` line. Rendering is separate so tests can assert the exact text.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::source::{Sources, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; `None` for problems with no place in a file.
    pub span: Option<Span>,
    /// A suggestion, printed as `help: ...`.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span: span.into(),
            help: None,
        }
    }

    pub fn warning(span: impl Into<Option<Span>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic; `color` selects ANSI styling.
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let mut out = String::new();
        match self.span {
            Some(span) => {
                let file = sources.get(span.file);
                out.push_str(&format!(
                    "{}:{}:{}: {}: {}\n",
                    file.path.display(),
                    span.line,
                    span.column,
                    self.severity,
                    self.message
                ));
                let level = match self.severity {
                    Severity::Error => Level::ERROR,
                    Severity::Warning => Level::WARNING,
                };
                let mut range = span.range();
                if range.is_empty() {
                    // Point at one character so the caret is drawn.
                    let end = file.text[range.start..]
                        .chars()
                        .next()
                        .filter(|c| *c != '\n')
                        .map_or(range.start, |c| range.start + c.len_utf8());
                    range = range.start..end;
                }
                let annotation = AnnotationKind::Primary.span(range);
                let report = &[Group::with_level(level)
                    .element(Snippet::source(file.text.as_str()).annotation(annotation))];
                let renderer = if color {
                    Renderer::styled()
                } else {
                    Renderer::plain()
                };
                out.push_str(&renderer.render(report));
                out.push('\n');
            }
            None => out.push_str(&format!("{}: {}\n", self.severity, self.message)),
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        out
    }
}

/// Sorts diagnostics by file, line and column so output is stable whatever
/// order the checks ran in.
pub fn sort(diags: &mut [Diagnostic], sources: &Sources) {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.span
                .map(|s| (sources.path(s.file).to_path_buf(), s.line, s.column))
        };
        key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
    });
}

/// Suggests the candidate closest to `word`, if one is close enough to be a
/// likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_norm = normalise(word);
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word_norm, &normalise(c)), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl Diagnostic {
    /// As a JSON object: severity, file, line, column (1-based; absent for a
    /// problem with no place), message, help.
    pub fn to_json(&self, sources: &Sources) -> serde_json::Value {
        let mut v = serde_json::json!({
            "severity": self.severity.to_string(),
            "message": self.message,
        });
        if let Some(span) = self.span {
            v["file"] = sources.path(span.file).display().to_string().into();
            v["line"] = span.line.into();
            v["column"] = span.column.into();
        }
        if let Some(help) = &self.help {
            v["help"] = help.clone().into();
        }
        v
    }

    /// As a GitHub Actions workflow command: an annotation on its file and line.
    pub fn to_github(&self, sources: &Sources) -> String {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let place = self.span.map_or_else(String::new, |s| {
            format!(
                " file={},line={},col={}",
                github_property(&sources.path(s.file).display().to_string()),
                s.line,
                s.column
            )
        });
        let mut message = self.message.clone();
        if let Some(help) = &self.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        format!("::{level}{place}::{}", github_data(&message))
    }
}

/// Escapes a workflow command's message (GitHub's rules: %, CR, LF).
pub fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
pub fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}
