//! Diagnostics about user input (manifests, rubrics, artifacts), rendered with miette.
//!
//! A [`UserError`] names the file, carries the span it is about, says how to fix it and may
//! group several related problems so that one run reports them all.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

/// A problem with something the user gave us, pointing into the file when we know where.
#[derive(Debug, Clone)]
pub struct UserError {
    pub message: String,
    pub source: Option<Arc<NamedSource<Arc<str>>>>,
    pub span: Option<Range<usize>>,
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<UserError>,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            source: None,
            span: None,
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// Points the error at `span` of a source file.
    pub fn at(mut self, source: &SourceFile, span: Range<usize>, label: impl Into<String>) -> Self {
        self.source = Some(source.named.clone());
        self.span = Some(clamp(span, source.text.len()));
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Groups several errors under one headline (one report shows them all).
    pub fn group(headline: impl Into<String>, mut errors: Vec<UserError>) -> Self {
        if errors.len() == 1 {
            return errors.remove(0);
        }
        let mut e = UserError::new(headline);
        e.related = errors;
        e
    }

    /// `file:line:col` of the primary span, when known.
    pub fn position(&self) -> Option<String> {
        let src = self.source.as_ref()?;
        let span = self.span.as_ref()?;
        let (line, col) = line_col(src.inner(), span.start);
        Some(format!("{}:{line}:{col}", src.name()))
    }

    /// Renders the error as plain text (no colour), as used in tests and batch logs.
    pub fn render_plain(&self) -> String {
        render(self, false)
    }
}

fn clamp(span: Range<usize>, len: usize) -> Range<usize> {
    let start = span.start.min(len);
    let end = span.end.clamp(start, len);
    start..end
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

impl Diagnostic for UserError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_deref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        self.source.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_primary_with_span(
            self.label.clone(),
            (span.start, span.end - span.start),
        ))))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|e| e as &dyn Diagnostic)))
        }
    }
}

/// A file the user gave us, kept for diagnostics.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    pub named: Arc<NamedSource<Arc<str>>>,
    /// Byte offset of the start of every line, for O(log n) positions.
    line_starts: Arc<[usize]>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        let text: Arc<str> = text.into();
        let named = Arc::new(NamedSource::new(name.clone(), text.clone()).with_language("toml"));
        let line_starts: Arc<[usize]> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name,
            text,
            named,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        (line.max(1), self.text[start..offset].chars().count() + 1)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The closest candidate to `word` (Jaro-Winkler), when it is close enough to be a likely typo.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `; did you mean `x`?` or an empty string.
pub fn suggestion_suffix<'a, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match did_you_mean(word, candidates) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

/// Converts a TOML deserialization error into a diagnostic pointing into `file`, with a
/// suggestion for a misspelled field.
pub fn from_toml_error(file: &SourceFile, err: &toml::de::Error, what: &str) -> UserError {
    from_toml_error_at(file, err, what, 0)
}

/// Like [`from_toml_error`], for an error raised while parsing a slice starting at `base`.
pub fn from_toml_error_at(file: &SourceFile, err: &toml::de::Error, what: &str, base: usize) -> UserError {
    let message = err.message().trim().to_string();
    let (headline, help) = explain_serde_message(&message);
    let mut e = UserError::new(format!("invalid {what}: {headline}"));
    if let Some(span) = err.span() {
        e = e.at(file, base + span.start..base + span.end, headline.clone());
    } else {
        e.message = format!("invalid {what} {}: {headline}", file.name);
    }
    if let Some(help) = help {
        e = e.with_help(help);
    }
    e
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into a headline and a help text
/// with a suggestion.
pub fn explain_serde_message(message: &str) -> (String, Option<String>) {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let expected = backticked(tail);
            let help = match did_you_mean(field, expected.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if expected.is_empty() => "remove this field".to_string(),
                None => format!("remove it; the fields allowed here are {}", quote_list(&expected)),
            };
            return (format!("unknown field `{field}`"), Some(help));
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((variant, tail)) = rest.split_once('`') {
            let expected = backticked(tail);
            let help = match did_you_mean(variant, expected.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("use one of {}", quote_list(&expected)),
            };
            return (format!("unknown value `{variant}`"), Some(help));
        }
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return (
            format!("missing field `{field}`"),
            Some(format!("add `{field} = ...` here")),
        );
    }
    let first = message.lines().next().unwrap_or(message).to_string();
    (first, None)
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// `1 message`, `2 messages`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "`a`, `b` and `c`"
pub fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// Renders any diagnostic the way the CLI prints it; `color` selects the coloured theme.
pub fn render(diag: &dyn Diagnostic, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, diag).is_err() {
        out = diag.to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_field() {
        let (h, help) = explain_serde_message("unknown field `wieght`, expected one of `check`, `weight`, `params`");
        assert_eq!(h, "unknown field `wieght`");
        assert_eq!(help.as_deref(), Some("did you mean `weight`?"));
    }

    #[test]
    fn no_suggestion_for_far_field() {
        let (_, help) = explain_serde_message("unknown field `zzz`, expected `check` or `weight`");
        assert_eq!(
            help.as_deref(),
            Some("remove it; the fields allowed here are `check` or `weight`")
        );
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncé d", 6), (2, 3));
        assert_eq!(line_col("", 10), (1, 1));
        let f = SourceFile::new("x", "ab\ncé d\n");
        for offset in 0..12 {
            assert_eq!(f.line_col(offset), line_col(&f.text, offset), "offset {offset}");
        }
    }
}
