//! Diagnostics that point at a file, a line and a column.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A pack's text and the name it was loaded under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Where the text came from: a path, or a name such as `<builtin>/netflix-2025.toml`.
    pub name: Arc<str>,
    /// The text itself.
    pub text: Arc<str>,
}

impl Source {
    /// A source from a name and its text.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let text: &str = &self.text;
        let before = text.get(..offset.min(text.len())).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, column)
    }
}

/// One problem found in a pack: what, where, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    /// The pack the problem is in.
    pub pack: Source,
    /// Byte offsets of the problem in the pack's text.
    pub span: Range<usize>,
    /// What is wrong, lowercase and without a final period.
    pub message: String,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(source: &Source, span: Range<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            pack: source.clone(),
            span,
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// 1-based line of the problem.
    pub fn line(&self) -> usize {
        self.pack.line_column(self.span.start).0
    }

    /// 1-based column of the problem.
    pub fn column(&self) -> usize {
        self.pack.line_column(self.span.start).1
    }

    /// `file:line:column: message (help)`, one line, for logs and plain output.
    pub fn one_line(&self) -> String {
        let mut out = format!(
            "{}:{}:{}: {}",
            self.pack.name,
            self.line(),
            self.column(),
            self.message
        );
        if let Some(help) = &self.help {
            out.push_str(&format!(" (help: {help})"));
        }
        out
    }
}

impl miette::Diagnostic for Diagnostic {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.pack)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let len = self.span.end.saturating_sub(self.span.start);
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some("here".to_owned()),
            self.span.start,
            len,
        ))))
    }
}

impl miette::SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// Every problem found in a pack and the packs it extends, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} problem{} in policy pack", .diagnostics.len(), if .diagnostics.len() == 1 { "" } else { "s" })]
pub struct PackErrors {
    /// The problems, each with its position.
    pub diagnostics: Vec<Diagnostic>,
}

impl miette::Diagnostic for PackErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics
                .iter()
                .map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// The candidate closest to `name`, if any is close enough to be a typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
