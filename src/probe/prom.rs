//! Prometheus metrics: a bounded parser for the text exposition format 0.0.4 and OpenMetrics
//! 1.0 text, lint rules modeled on `promtool check metrics`, and a detector for the RED metrics
//! (rate, errors, duration) of an HTTP service. Everything here is pure: the check
//! (`PRB007 metrics-exposition`) fetches `/metrics` and turns the results into findings.
//!
//! The parser never panics: input size, line length, line count and series count are bounded,
//! and every error carries the 1-based line number and says what is wrong.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

/// Which text format the exposition is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text exposition format 0.0.4 (`text/plain; version=0.0.4`).
    Text,
    /// OpenMetrics 1.0 text (`application/openmetrics-text`), ends with `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The format named by the `Content-Type`, else guessed from the body: OpenMetrics when
    /// the last non-empty line is `# EOF`, else the Prometheus text format.
    pub fn detect(content_type: Option<&str>, body: &[u8]) -> Format {
        if let Some(ct) = content_type {
            let ct = ct.to_ascii_lowercase();
            if ct.starts_with("application/openmetrics-text") {
                return Format::OpenMetrics;
            }
            if ct.starts_with("text/plain") {
                return Format::Text;
            }
        }
        let trimmed = body.trim_ascii_end();
        let last = trimmed.rsplit(|b| *b == b'\n').next().unwrap_or_default();
        if last.trim_ascii() == b"# EOF" {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "Prometheus text format 0.0.4",
            Format::OpenMetrics => "OpenMetrics 1.0 text",
        }
    }
}

/// A metric family's type, from its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    Summary,
    /// 0.0.4 `untyped` (also the type of a family without `# TYPE`).
    Untyped,
    /// OpenMetrics `unknown` (also the type of a family without `# TYPE`).
    Unknown,
    GaugeHistogram,
    Info,
    StateSet,
}

impl MetricType {
    fn parse(s: &str, format: Format) -> Option<MetricType> {
        Some(match (s, format) {
            ("counter", _) => MetricType::Counter,
            ("gauge", _) => MetricType::Gauge,
            ("histogram", _) => MetricType::Histogram,
            ("summary", _) => MetricType::Summary,
            ("untyped", Format::Text) => MetricType::Untyped,
            ("unknown", Format::OpenMetrics) => MetricType::Unknown,
            ("gaugehistogram", Format::OpenMetrics) => MetricType::GaugeHistogram,
            ("info", Format::OpenMetrics) => MetricType::Info,
            ("stateset", Format::OpenMetrics) => MetricType::StateSet,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Untyped => "untyped",
            MetricType::Unknown => "unknown",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }

    /// The sample-name suffixes a family of this type owns ("" is the family name itself).
    fn suffixes(self, format: Format) -> &'static [&'static str] {
        match (self, format) {
            (MetricType::Counter, Format::Text) => &[""],
            (MetricType::Counter, Format::OpenMetrics) => &["_total", "_created"],
            (MetricType::Histogram, Format::Text) => &["_bucket", "_sum", "_count"],
            (MetricType::Histogram, Format::OpenMetrics) => &["_bucket", "_sum", "_count", "_created"],
            (MetricType::Summary, Format::Text) => &["", "_sum", "_count"],
            (MetricType::Summary, Format::OpenMetrics) => &["", "_sum", "_count", "_created"],
            (MetricType::GaugeHistogram, _) => &["_bucket", "_gsum", "_gcount"],
            (MetricType::Info, _) => &["_info"],
            _ => &[""],
        }
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    /// Labels in the order written.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Milliseconds (0.0.4) or seconds (OpenMetrics), as written.
    pub timestamp: Option<f64>,
    pub line: usize,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A metric family: its metadata and its samples (a histogram's `_bucket`, `_sum` and
/// `_count`, a summary's quantiles, `_sum` and `_count`, an OpenMetrics counter's `_total` and
/// `_created`).
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    pub ty: MetricType,
    /// True when a `# TYPE` line declared the type.
    pub typed: bool,
    pub help: Option<String>,
    pub unit: Option<String>,
    /// The first line that mentions the family.
    pub line: usize,
    pub samples: Vec<Sample>,
}

impl Family {
    /// Every label name used by the family's samples.
    pub fn label_names(&self) -> BTreeSet<&str> {
        self.samples
            .iter()
            .flat_map(|s| s.labels.iter().map(|(k, _)| k.as_str()))
            .collect()
    }
}

/// A parsed exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposition {
    pub format: Format,
    /// Families in order of first appearance.
    pub families: Vec<Family>,
}

impl Exposition {
    pub fn series_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }
}

/// Why the exposition could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line; 0 for the input as a whole.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// Bounds on what the parser accepts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_lines: usize,
    pub max_line_len: usize,
    pub max_series: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8 * 1024 * 1024,
            max_lines: 200_000,
            max_line_len: 64 * 1024,
            max_series: 100_000,
        }
    }
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Shortens user text quoted in a message.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn is_metric_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

fn is_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// A float as the formats write it: `NaN`, `+Inf`, `-Inf`, decimal and exponent notation.
fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => return Some(f64::NAN),
        "+Inf" | "Inf" | "+inf" | "inf" => return Some(f64::INFINITY),
        "-Inf" | "-inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Parses `body` in `format`.
pub fn parse(body: &[u8], format: Format, limits: &Limits) -> Result<Exposition, ParseError> {
    if body.len() > limits.max_bytes {
        return Err(err(
            0,
            format!(
                "the exposition is {} bytes, more than the {} accepted",
                body.len(),
                limits.max_bytes
            ),
        ));
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let line = body[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(err(line, "not UTF-8 text"));
        }
    };
    if text.trim().is_empty() {
        return Err(err(0, "the exposition is empty: no metric at all"));
    }
    let mut p = Parser {
        format,
        limits,
        families: Vec::new(),
        by_name: HashMap::new(),
        current: None,
        closed: HashSet::new(),
        help_line: HashMap::new(),
        series: 0,
    };
    let mut eof_at = None;
    let body_text = text.strip_suffix('\n').unwrap_or(text);
    for (i, raw) in body_text.split('\n').enumerate() {
        let n = i + 1;
        if n > limits.max_lines {
            return Err(err(n, format!("more than {} lines", limits.max_lines)));
        }
        if raw.len() > limits.max_line_len {
            return Err(err(
                n,
                format!(
                    "the line is {} bytes long, more than the {} accepted",
                    raw.len(),
                    limits.max_line_len
                ),
            ));
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(at) = eof_at {
            return Err(err(n, format!("content after `# EOF` (line {at})")));
        }
        if line.trim().is_empty() {
            if format == Format::OpenMetrics {
                return Err(err(n, "blank line: OpenMetrics does not allow empty lines"));
            }
            continue;
        }
        if line.starts_with('#') {
            if format == Format::OpenMetrics && line == "# EOF" {
                eof_at = Some(n);
                continue;
            }
            p.comment(n, line)?;
        } else {
            p.sample(n, line)?;
        }
    }
    if format == Format::OpenMetrics && eof_at.is_none() {
        return Err(err(
            body_text.split('\n').count(),
            "OpenMetrics text must end with `# EOF`",
        ));
    }
    Ok(Exposition {
        format,
        families: p.families,
    })
}

struct Parser<'l> {
    format: Format,
    limits: &'l Limits,
    families: Vec<Family>,
    by_name: HashMap<String, usize>,
    current: Option<usize>,
    closed: HashSet<usize>,
    help_line: HashMap<usize, usize>,
    series: usize,
}

impl Parser<'_> {
    fn family(&mut self, name: &str, line: usize) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let ty = match self.format {
            Format::Text => MetricType::Untyped,
            Format::OpenMetrics => MetricType::Unknown,
        };
        self.families.push(Family {
            name: name.to_string(),
            ty,
            typed: false,
            help: None,
            unit: None,
            line,
            samples: Vec::new(),
        });
        let i = self.families.len() - 1;
        self.by_name.insert(name.to_string(), i);
        i
    }

    /// OpenMetrics: a family's lines must be contiguous.
    fn enter(&mut self, i: usize, line: usize) -> Result<(), ParseError> {
        if self.current == Some(i) {
            return Ok(());
        }
        if self.format == Format::OpenMetrics && self.closed.contains(&i) {
            let f = &self.families[i];
            return Err(err(
                line,
                format!(
                    "metric family `{}` is split: OpenMetrics needs all its lines together (it first appears at line {})",
                    f.name, f.line
                ),
            ));
        }
        if let Some(c) = self.current {
            self.closed.insert(c);
        }
        self.current = Some(i);
        Ok(())
    }

    fn comment(&mut self, n: usize, line: &str) -> Result<(), ParseError> {
        let rest = line[1..].trim_start_matches([' ', '\t']);
        let (keyword, rest) = split_token(rest);
        let keyword_known =
            matches!(keyword, "HELP" | "TYPE") || (keyword == "UNIT" && self.format == Format::OpenMetrics);
        if !keyword_known {
            return Ok(()); // an ordinary comment
        }
        let (name, rest) = split_token(rest.trim_start_matches([' ', '\t']));
        if name.is_empty() {
            return Err(err(n, format!("`# {keyword}` without a metric name")));
        }
        if !is_metric_name(name) {
            return Err(err(n, format!("`{}` is not a valid metric name", excerpt(name))));
        }
        let i = self.family(name, n);
        self.enter(i, n)?;
        match keyword {
            "HELP" => {
                if let Some(first) = self.help_line.get(&i) {
                    return Err(err(
                        n,
                        format!("second HELP line for metric `{name}` (the first is at line {first})"),
                    ));
                }
                let text = unescape_help(rest).map_err(|m| err(n, m))?;
                self.help_line.insert(i, n);
                self.families[i].help = Some(text);
            }
            "TYPE" => {
                let f = &self.families[i];
                if f.typed {
                    return Err(err(n, format!("second TYPE line for metric `{name}`")));
                }
                if !f.samples.is_empty() {
                    return Err(err(
                        n,
                        format!("TYPE line for metric `{name}` after its samples: put HELP and TYPE first"),
                    ));
                }
                let word = rest.trim();
                let Some(ty) = MetricType::parse(word, self.format) else {
                    return Err(err(
                        n,
                        format!(
                            "unknown metric type `{}` for `{name}` in {}",
                            excerpt(word),
                            self.format.name()
                        ),
                    ));
                };
                let f = &mut self.families[i];
                f.ty = ty;
                f.typed = true;
            }
            _ => {
                self.families[i].unit = Some(rest.trim().to_string());
            }
        }
        Ok(())
    }

    /// The family a sample named `name` belongs to.
    fn resolve(&mut self, name: &str, n: usize) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            if self.families[i].ty.suffixes(self.format).contains(&"") {
                return i;
            }
        }
        for suffix in [
            "_bucket", "_count", "_sum", "_created", "_total", "_gsum", "_gcount", "_info",
        ] {
            if let Some(base) = name.strip_suffix(suffix) {
                if let Some(&i) = self.by_name.get(base) {
                    if self.families[i].ty.suffixes(self.format).contains(&suffix) {
                        return i;
                    }
                }
            }
        }
        self.family(name, n)
    }

    fn sample(&mut self, n: usize, line: &str) -> Result<(), ParseError> {
        let bytes = line.as_bytes();
        let mut pos = 0;
        while pos < bytes.len() && (bytes[pos].is_ascii_alphanumeric() || bytes[pos] == b'_' || bytes[pos] == b':') {
            pos += 1;
        }
        let name = &line[..pos];
        if name.is_empty() || !is_metric_name(name) {
            return Err(err(
                n,
                format!(
                    "expected a metric name at the start of the line, found `{}`",
                    excerpt(line)
                ),
            ));
        }
        let mut labels = Vec::new();
        if bytes.get(pos) == Some(&b'{') {
            pos = parse_labels(line, pos + 1, &mut labels).map_err(|m| err(n, format!("metric `{name}`: {m}")))?;
        }
        let rest = &line[pos..];
        if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
            return Err(err(
                n,
                format!("metric `{name}`: unexpected `{}` after the name", excerpt(rest)),
            ));
        }
        let (value_tok, rest) = split_token(rest.trim_start_matches([' ', '\t']));
        if value_tok.is_empty() {
            return Err(err(n, format!("metric `{name}` has no value")));
        }
        let Some(value) = parse_value(value_tok) else {
            return Err(err(
                n,
                format!(
                    "metric `{name}`: `{}` is not a number (use a float, NaN, +Inf or -Inf)",
                    excerpt(value_tok)
                ),
            ));
        };
        let mut rest = rest.trim_start_matches([' ', '\t']);
        let mut timestamp = None;
        if !rest.is_empty() && !rest.starts_with('#') {
            let (ts, after) = split_token(rest);
            let parsed = match self.format {
                Format::Text => ts.parse::<i64>().ok().map(|v| v as f64),
                Format::OpenMetrics => parse_value(ts).filter(|v| v.is_finite()),
            };
            let Some(t) = parsed else {
                return Err(err(
                    n,
                    format!(
                        "metric `{name}`: `{}` is not a timestamp ({})",
                        excerpt(ts),
                        match self.format {
                            Format::Text => "an integer number of milliseconds",
                            Format::OpenMetrics => "a number of seconds",
                        }
                    ),
                ));
            };
            timestamp = Some(t);
            rest = after.trim_start_matches([' ', '\t']);
        }
        if !rest.is_empty() {
            // OpenMetrics exemplar: `# {labels} value [timestamp]`.
            let exemplar = rest.strip_prefix('#').map(|e| e.trim_start_matches([' ', '\t']));
            match exemplar {
                Some(e) if self.format == Format::OpenMetrics && e.starts_with('{') => {
                    let mut ex_labels = Vec::new();
                    let end = parse_labels(e, 1, &mut ex_labels)
                        .map_err(|m| err(n, format!("metric `{name}`: exemplar: {m}")))?;
                    let (v, _) = split_token(e[end..].trim_start_matches([' ', '\t']));
                    if parse_value(v).is_none() {
                        return Err(err(n, format!("metric `{name}`: the exemplar has no valid value")));
                    }
                }
                _ => {
                    return Err(err(
                        n,
                        format!("metric `{name}`: unexpected `{}` after the value", excerpt(rest)),
                    ))
                }
            }
        }
        self.series += 1;
        if self.series > self.limits.max_series {
            return Err(err(n, format!("more than {} series", self.limits.max_series)));
        }
        let i = self.resolve(name, n);
        let f = &self.families[i];
        let suffix = name.strip_prefix(f.name.as_str()).unwrap_or(name);
        if !f.ty.suffixes(self.format).contains(&suffix) {
            let allowed: Vec<String> =
                f.ty.suffixes(self.format)
                    .iter()
                    .map(|s| format!("`{}{s}`", f.name))
                    .collect();
            return Err(err(
                n,
                format!(
                    "sample `{name}` does not fit {} `{}`: its samples are named {}",
                    f.ty.name(),
                    f.name,
                    allowed.join(", ")
                ),
            ));
        }
        self.enter(i, n)?;
        self.families[i].samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
            timestamp,
            line: n,
        });
        Ok(())
    }
}

/// The first whitespace-separated token and the rest (which starts with the separator).
fn split_token(s: &str) -> (&str, &str) {
    match s.find([' ', '\t']) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

fn unescape_help(s: &str) -> Result<String, String> {
    let s = s.strip_prefix([' ', '\t']).unwrap_or(s);
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('"') => out.push('"'),
                Some(o) => return Err(format!("invalid escape `\\{o}` in HELP text (only \\\\, \\\" and \\n)")),
                None => return Err("HELP text ends with a lone backslash".into()),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Parses `name="value",...}` starting after `{`; returns the position after `}`.
fn parse_labels(line: &str, start: usize, out: &mut Vec<(String, String)>) -> Result<usize, String> {
    let bytes = line.as_bytes();
    let mut pos = start;
    let skip_ws = |pos: &mut usize| {
        while *pos < bytes.len() && (bytes[*pos] == b' ' || bytes[*pos] == b'\t') {
            *pos += 1;
        }
    };
    loop {
        skip_ws(&mut pos);
        match bytes.get(pos) {
            None => return Err("the label set is not closed with `}`".into()),
            Some(b'}') => return Ok(pos + 1),
            _ => {}
        }
        let name_start = pos;
        while pos < bytes.len() && (bytes[pos].is_ascii_alphanumeric() || bytes[pos] == b'_') {
            pos += 1;
        }
        let lname = &line[name_start..pos];
        if !is_label_name(lname) {
            let found = line.get(name_start..).unwrap_or_default();
            return Err(format!("expected a label name, found `{}`", excerpt(found)));
        }
        skip_ws(&mut pos);
        if bytes.get(pos) != Some(&b'=') {
            return Err(format!("label `{lname}`: expected `=` after the label name"));
        }
        pos += 1;
        skip_ws(&mut pos);
        if bytes.get(pos) != Some(&b'"') {
            return Err(format!("label `{lname}`: the value must be in double quotes"));
        }
        pos += 1;
        let mut value = String::new();
        let mut closed = false;
        let mut chars = line[pos..].char_indices();
        while let Some((off, c)) = chars.next() {
            match c {
                '"' => {
                    pos += off + 1;
                    closed = true;
                    break;
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, o)) => {
                        return Err(format!(
                            "label `{lname}`: invalid escape `\\{o}` (only \\\\, \\\" and \\n)"
                        ))
                    }
                    None => break,
                },
                c => value.push(c),
            }
        }
        if !closed {
            return Err(format!("label `{lname}`: the value's quote is never closed"));
        }
        if out.iter().any(|(k, _)| k == lname) {
            return Err(format!("label `{lname}` appears twice"));
        }
        out.push((lname.to_string(), value));
        skip_ws(&mut pos);
        match bytes.get(pos) {
            Some(b',') => pos += 1,
            Some(b'}') => return Ok(pos + 1),
            None => return Err("the label set is not closed with `}`".into()),
            Some(_) => {
                let found = line.get(pos..).unwrap_or_default();
                return Err(format!(
                    "expected `,` or `}}` after label `{lname}`, found `{}`",
                    excerpt(found)
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lint rules (modeled on `promtool check metrics`)

/// A lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    CounterWithoutTotal,
    TotalOnNonCounter,
    NonBaseUnit,
    AbbreviatedUnit,
    NotSnakeCase,
    ColonInName,
    NoHelp,
    DuplicateSeries,
    HistogramBuckets,
}

impl Rule {
    pub fn id(self) -> &'static str {
        match self {
            Rule::CounterWithoutTotal => "counter-total",
            Rule::TotalOnNonCounter => "total-on-non-counter",
            Rule::NonBaseUnit => "base-units",
            Rule::AbbreviatedUnit => "abbreviated-units",
            Rule::NotSnakeCase => "snake-case",
            Rule::ColonInName => "colon-in-name",
            Rule::NoHelp => "help",
            Rule::DuplicateSeries => "duplicate-series",
            Rule::HistogramBuckets => "histogram-buckets",
        }
    }

    /// What is wrong, for a group of metrics.
    pub fn message(self) -> &'static str {
        match self {
            Rule::CounterWithoutTotal => "counter metrics should have the `_total` suffix",
            Rule::TotalOnNonCounter => "only counters should have the `_total` suffix",
            Rule::NonBaseUnit => "metric names should use base units (seconds, bytes, meters ...)",
            Rule::AbbreviatedUnit => "metric names should not contain abbreviated units",
            Rule::NotSnakeCase => "metric and label names should be snake_case",
            Rule::ColonInName => "metric names should not contain `:` (reserved for recording rules)",
            Rule::NoHelp => "metrics should have HELP text",
            Rule::DuplicateSeries => "series should be unique (the same name and label set appears twice)",
            Rule::HistogramBuckets => "histogram buckets need an `le` label and a `+Inf` bucket",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Rule::CounterWithoutTotal => {
                "name counters `<what>_total` (e.g. `http_requests_total`); client libraries add it when you declare a Counter"
            }
            Rule::TotalOnNonCounter => "drop `_total` from gauges, histograms and summaries, or make the metric a counter",
            Rule::NonBaseUnit => {
                "record durations in seconds and sizes in bytes (as floats: 0.025 seconds, not 25 milliseconds)"
            }
            Rule::AbbreviatedUnit => "spell units out: `_seconds` not `_s`/`_sec`/`_ms`, `_bytes` not `_b`/`_kb`",
            Rule::NotSnakeCase => "use lower case words joined by `_`: `http_requests_total`, label `status_code`",
            Rule::ColonInName => "replace `:` with `_`; colons are for metrics produced by recording rules",
            Rule::NoHelp => "give every metric a description (`# HELP name text`; the client libraries take it as `help`)",
            Rule::DuplicateSeries => "register each metric once and give each series a distinct label set",
            Rule::HistogramBuckets => {
                "expose histograms through a client library, which writes `_bucket{le=\"...\"}` lines ending with `le=\"+Inf\"`"
            }
        }
    }
}

/// One lint problem: a rule broken by a metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LintProblem {
    pub rule: Rule,
    pub metric: String,
    /// Specifics, e.g. `use "seconds" instead of "milliseconds"`.
    pub detail: String,
}

const BASE_UNITS: &[&str] = &[
    "amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres", "seconds", "volts",
];
const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega", "mebi", "giga", "gibi",
    "tera", "tebi", "peta", "pebi",
];
const TIME_UNITS: &[&str] = &["minutes", "hours", "days"];
const ABBREVIATIONS: &[&str] = &[
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
];

fn has_upper(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase())
}

/// The lint problems of an exposition, sorted by rule and metric, one per (rule, metric).
pub fn lint(exp: &Exposition) -> Vec<LintProblem> {
    let mut out: BTreeSet<LintProblem> = BTreeSet::new();
    let mut add = |rule: Rule, metric: &str, detail: String| {
        out.insert(LintProblem {
            rule,
            metric: metric.to_string(),
            detail,
        });
    };
    for f in &exp.families {
        let name = f.name.as_str();
        // _total: counters must, others must not.
        if f.ty == MetricType::Counter {
            let bad = match exp.format {
                Format::Text => !name.ends_with("_total"),
                Format::OpenMetrics => f
                    .samples
                    .iter()
                    .any(|s| !s.name.ends_with("_total") && !s.name.ends_with("_created")),
            };
            if bad {
                add(Rule::CounterWithoutTotal, name, String::new());
            }
        } else if name.ends_with("_total") {
            add(Rule::TotalOnNonCounter, name, format!("it is a {}", f.ty.name()));
        }
        // Units.
        for part in name.split(['_', ':']) {
            let lower = part.to_ascii_lowercase();
            for unit in BASE_UNITS {
                if let Some(prefix) = lower.strip_suffix(unit) {
                    if UNIT_PREFIXES.contains(&prefix) {
                        add(
                            Rule::NonBaseUnit,
                            name,
                            format!("use \"{unit}\" instead of \"{lower}\""),
                        );
                    }
                }
            }
            if TIME_UNITS.contains(&lower.as_str()) {
                add(
                    Rule::NonBaseUnit,
                    name,
                    format!("use \"seconds\" instead of \"{lower}\""),
                );
            }
            if ABBREVIATIONS.contains(&lower.as_str()) {
                add(Rule::AbbreviatedUnit, name, format!("\"{part}\""));
            }
        }
        // Case and colons.
        if has_upper(name) {
            add(Rule::NotSnakeCase, name, "metric name".into());
        }
        for l in f.label_names() {
            if has_upper(l) {
                add(Rule::NotSnakeCase, name, format!("label `{l}`"));
            }
        }
        if name.contains(':') {
            add(Rule::ColonInName, name, String::new());
        }
        // HELP.
        if f.help.as_deref().is_none_or(|h| h.trim().is_empty()) {
            add(Rule::NoHelp, name, String::new());
        }
        // Duplicate series.
        let mut seen: HashSet<(String, Vec<(String, String)>)> = HashSet::new();
        for s in &f.samples {
            let mut labels = s.labels.clone();
            labels.sort();
            if !seen.insert((s.name.clone(), labels)) {
                add(Rule::DuplicateSeries, name, format!("`{}` at line {}", s.name, s.line));
            }
        }
        // Histogram buckets.
        if matches!(f.ty, MetricType::Histogram | MetricType::GaugeHistogram) {
            let mut series: BTreeMap<Vec<(String, String)>, bool> = BTreeMap::new();
            let bucket = format!("{name}_bucket");
            for s in f.samples.iter().filter(|s| s.name == bucket) {
                let Some(le) = s.label("le") else {
                    add(
                        Rule::HistogramBuckets,
                        name,
                        format!("a bucket without `le` at line {}", s.line),
                    );
                    continue;
                };
                let Some(bound) = parse_value(le) else {
                    add(
                        Rule::HistogramBuckets,
                        name,
                        format!("`le=\"{}\"` is not a number", excerpt(le)),
                    );
                    continue;
                };
                let mut key: Vec<(String, String)> = s.labels.iter().filter(|(k, _)| k != "le").cloned().collect();
                key.sort();
                let inf = series.entry(key).or_insert(false);
                *inf |= bound == f64::INFINITY;
            }
            if series.is_empty() && !f.samples.is_empty() {
                add(Rule::HistogramBuckets, name, "no `_bucket` samples".into());
            } else if series.values().any(|inf| !inf) {
                add(
                    Rule::HistogramBuckets,
                    name,
                    "a series without the `le=\"+Inf\"` bucket".into(),
                );
            }
        }
    }
    out.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// RED metrics for HTTP

const STATUS_LABELS: &[&str] = &[
    "status",
    "code",
    "status_code",
    "http_status",
    "http_status_code",
    "http_response_status_code",
    "response_code",
];
const ROUTE_LABELS: &[&str] = &[
    "method",
    "http_method",
    "http_request_method",
    "route",
    "http_route",
    "path",
    "handler",
    "endpoint",
    "uri",
    "url",
    "url_path",
    "operation",
];

fn is_status_label(l: &str) -> bool {
    STATUS_LABELS.contains(&l) || l.ends_with("_status_code")
}

fn is_route_label(l: &str) -> bool {
    ROUTE_LABELS.contains(&l) || l.ends_with("_method") || l.ends_with("_route")
}

/// What the RED detector found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Red {
    /// A request counter (or a request histogram's `_count`) with a status label and a
    /// method/route label: rate and errors.
    pub requests: Option<String>,
    /// A request-duration histogram or summary in seconds.
    pub duration: Option<String>,
    /// Near misses, to explain what is missing (e.g. a counter without a status label).
    pub near_misses: Vec<String>,
}

impl Red {
    pub fn complete(&self) -> bool {
        self.requests.is_some() && self.duration.is_some()
    }
}

/// Looks for the RED metrics of an HTTP service by shape: a counter whose name mentions
/// request(s) and whose labels include a status code and a method or route, and a histogram or
/// summary whose name mentions request and duration/seconds/latency, in seconds. A request
/// histogram with status and method/route labels (Micrometer's `http_server_requests_seconds`,
/// OpenTelemetry's `http_server_request_duration_seconds`) provides both, through its `_count`.
pub fn red(exp: &Exposition) -> Red {
    let mut r = Red::default();
    for f in &exp.families {
        let lower = f.name.to_ascii_lowercase();
        if !lower.contains("request") {
            continue;
        }
        if f.samples.is_empty() {
            r.near_misses
                .push(format!("`{}` ({}) has no samples yet", f.name, f.ty.name()));
            continue;
        }
        let labels = f.label_names();
        let status = labels.iter().any(|l| is_status_label(l));
        let route = labels.iter().any(|l| is_route_label(l));
        let is_counter = f.ty == MetricType::Counter || (f.ty == MetricType::Untyped && lower.ends_with("_total"));
        let is_timing = matches!(f.ty, MetricType::Histogram | MetricType::Summary);
        if is_counter || is_timing {
            if status && route {
                if r.requests.is_none() {
                    r.requests = Some(f.name.clone());
                }
            } else {
                let missing = match (status, route) {
                    (false, false) => "a status-code label and a method or route label",
                    (false, true) => "a status-code label (`status`, `code` or `status_code`)",
                    _ => "a method or route label",
                };
                r.near_misses
                    .push(format!("`{}` ({}) has no {missing}", f.name, f.ty.name()));
            }
        }
        if is_timing
            && ["duration", "seconds", "latency", "time"]
                .iter()
                .any(|w| lower.contains(w))
        {
            if lower.ends_with("_seconds") || lower.contains("_seconds_") {
                if r.duration.is_none() {
                    r.duration = Some(f.name.clone());
                }
            } else {
                r.near_misses
                    .push(format!("`{}` ({}) is not in seconds", f.name, f.ty.name()));
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Result<Exposition, ParseError> {
        parse(s.as_bytes(), Format::Text, &Limits::default())
    }

    const GOOD: &str = r#"# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/orders",status="200"} 1027 1395066363000
http_requests_total{method="POST",route="/orders",status="500"} 3
# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{route="/orders",le="0.05"} 24054
http_request_duration_seconds_bucket{route="/orders",le="+Inf"} 144320
http_request_duration_seconds_sum{route="/orders"} 53423
http_request_duration_seconds_count{route="/orders"} 144320
# HELP rpc_duration_seconds RPC latency.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.99"} NaN
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# HELP msdos_file_access_time_seconds A label with escapes.
# TYPE msdos_file_access_time_seconds gauge
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
"#;

    #[test]
    fn parses_families_labels_values_and_timestamps() {
        let e = text(GOOD).unwrap();
        assert_eq!(e.format, Format::Text);
        let names: Vec<_> = e.families.iter().map(|f| (f.name.as_str(), f.ty)).collect();
        assert_eq!(
            names,
            vec![
                ("http_requests_total", MetricType::Counter),
                ("http_request_duration_seconds", MetricType::Histogram),
                ("rpc_duration_seconds", MetricType::Summary),
                ("msdos_file_access_time_seconds", MetricType::Gauge),
            ]
        );
        assert_eq!(e.families[1].samples.len(), 4);
        assert_eq!(e.families[0].samples[0].timestamp, Some(1395066363000.0));
        assert!(e.families[2].samples[1].value.is_nan());
        let s = &e.families[3].samples[0];
        assert_eq!(s.label("path"), Some("C:\\DIR\\FILE.TXT"));
        assert_eq!(s.label("error"), Some("Cannot find file:\n\"FILE.TXT\""));
        assert_eq!(e.series_count(), 11);
        assert!(lint(&e).is_empty(), "{:?}", lint(&e));
        let r = red(&e);
        assert_eq!(r.requests.as_deref(), Some("http_requests_total"));
        assert_eq!(r.duration.as_deref(), Some("http_request_duration_seconds"));
    }

    #[test]
    fn openmetrics_counters_and_eof() {
        let body = "# TYPE http_server_request_duration_seconds histogram\n\
# HELP http_server_request_duration_seconds Duration.\n\
http_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",le=\"+Inf\"} 3\n\
http_server_request_duration_seconds_sum{http_request_method=\"GET\",http_response_status_code=\"200\"} 0.3\n\
http_server_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\"} 3\n\
# TYPE jobs counter\n# HELP jobs Jobs.\njobs_total 4 # {trace_id=\"abc\"} 1.0 1.5\njobs_created 1.6e9\n# EOF\n";
        assert_eq!(Format::detect(None, body.as_bytes()), Format::OpenMetrics);
        assert_eq!(
            Format::detect(Some("text/plain; version=0.0.4"), body.as_bytes()),
            Format::Text
        );
        let e = parse(body.as_bytes(), Format::OpenMetrics, &Limits::default()).unwrap();
        assert_eq!(e.families.len(), 2);
        assert_eq!(e.families[1].samples.len(), 2);
        assert!(lint(&e).is_empty(), "{:?}", lint(&e));
        let r = red(&e);
        assert!(r.complete(), "{r:?}");
        // Missing EOF, content after it, split families.
        let no_eof = body.replace("# EOF\n", "");
        assert!(parse(no_eof.as_bytes(), Format::OpenMetrics, &Limits::default())
            .unwrap_err()
            .message
            .contains("# EOF"));
        let after = format!("{body}x 1\n");
        assert_eq!(
            parse(after.as_bytes(), Format::OpenMetrics, &Limits::default())
                .unwrap_err()
                .line,
            11
        );
        let split = "a 1\nb 1\na 2\n# EOF\n";
        let e = parse(split.as_bytes(), Format::OpenMetrics, &Limits::default()).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("split"), "{e}");
        // A counter declared under its sample's name: the sample that does not fit is named.
        let misnamed = "# TYPE c_created counter\nc_total 1\nc_created 1\n# EOF\n";
        let e = parse(misnamed.as_bytes(), Format::OpenMetrics, &Limits::default()).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("does not fit counter `c_created`"), "{e}");
    }

    #[test]
    fn errors_carry_the_line_and_say_what_is_wrong() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty"),
            ("   \n\n", 0, "empty"),
            ("<html><body>hello</body></html>\n", 1, "metric name"),
            ("ok 1\n{\"status\": \"up\"}\n", 2, "metric name"),
            ("a{b=\"c} 1\n", 1, "never closed"),
            ("a{b=\"c\" 1\n", 1, "expected `,` or `}`"),
            ("a{b=c} 1\n", 1, "double quotes"),
            ("a{b=\"x\\q\"} 1\n", 1, "invalid escape"),
            ("a{b=\"1\",b=\"2\"} 1\n", 1, "twice"),
            ("a one\n", 1, "not a number"),
            ("a\n", 1, "no value"),
            ("a 1 2.5\n", 1, "timestamp"),
            ("a 1 2 3\n", 1, "after the value"),
            ("# HELP a x\n# HELP a y\na 1\n", 2, "second HELP"),
            ("# TYPE a gauge\n# TYPE a gauge\n", 2, "second TYPE"),
            ("a 1\n# TYPE a gauge\n", 2, "after its samples"),
            ("# TYPE a widget\n", 1, "unknown metric type"),
            ("# TYPE h histogram\nh 1\n", 2, "does not fit histogram"),
            ("ok 1\n\u{0}\u{1}garbage\n", 2, "metric name"),
        ];
        for (input, line, needle) in cases {
            let e = text(input).unwrap_err();
            assert_eq!(e.line, *line, "{input:?}: {e}");
            assert!(e.message.contains(needle), "{input:?}: {e}");
        }
        let bad_utf8 = b"a 1\nb{x=\"\xff\"} 1\n";
        assert_eq!(parse(bad_utf8, Format::Text, &Limits::default()).unwrap_err().line, 2);
    }

    #[test]
    fn bounded_and_never_panics_on_adversarial_input() {
        // A huge label value under the line limit parses; over it, a clean error.
        let big = "v".repeat(60_000);
        let e = text(&format!("a{{l=\"{big}\"}} 1\n")).unwrap();
        assert_eq!(e.families[0].samples[0].label("l").map(str::len), Some(60_000));
        let huge = "v".repeat(70_000);
        assert!(text(&format!("a{{l=\"{huge}\"}} 1\n"))
            .unwrap_err()
            .message
            .contains("long"));
        // Limits on size, lines and series.
        let small = Limits {
            max_bytes: 100,
            max_lines: 3,
            max_line_len: 50,
            max_series: 2,
        };
        assert!(parse(&[b'a'; 200], Format::Text, &small).is_err());
        assert_eq!(
            parse(b"# a\n# b\n# c\n# d\n", Format::Text, &small).unwrap_err().line,
            4
        );
        assert!(parse(b"a 1\nb 1\nc 1\n", Format::Text, &small)
            .unwrap_err()
            .message
            .contains("series"));
        // Assorted garbage: every prefix of a valid exposition and some noise, no panic.
        for end in 0..=GOOD.len() {
            let prefix = &GOOD.as_bytes()[..end];
            let _ = parse(prefix, Format::Text, &Limits::default());
            let _ = parse(prefix, Format::OpenMetrics, &Limits::default());
        }
        for junk in [
            "{",
            "}",
            "a{",
            "a{}",
            "a{,} 1",
            "a{=\"\"} 1",
            "#",
            "# HELP",
            "# TYPE a",
            "a{b=\"\\",
            "é 1",
            "a é",
        ] {
            let _ = text(junk);
        }
        assert!(text("a{} 1\n").is_ok());
    }

    #[test]
    fn lint_rules() {
        let body = r#"# TYPE requests counter
requests 1
# HELP queue_total Items.
# TYPE queue_total gauge
queue_total 3
# HELP latency_milliseconds L.
# TYPE latency_milliseconds gauge
latency_milliseconds 3
# HELP resp_time_ms L.
# TYPE resp_time_ms gauge
resp_time_ms 3
# HELP cacheHits C.
# TYPE cacheHits gauge
cacheHits{cacheName="x"} 1
cacheHits{cacheName="x"} 2
# HELP job:rate5m R.
# TYPE job:rate5m gauge
job:rate5m 1
# HELP h_seconds H.
# TYPE h_seconds histogram
h_seconds_bucket{le="1"} 1
h_seconds_bucket 1
h_seconds_count 1
h_seconds_sum 1
"#;
        let problems = lint(&text(body).unwrap());
        let got: Vec<(Rule, &str)> = problems.iter().map(|p| (p.rule, p.metric.as_str())).collect();
        for want in [
            (Rule::CounterWithoutTotal, "requests"),
            (Rule::NoHelp, "requests"),
            (Rule::TotalOnNonCounter, "queue_total"),
            (Rule::NonBaseUnit, "latency_milliseconds"),
            (Rule::AbbreviatedUnit, "resp_time_ms"),
            (Rule::NotSnakeCase, "cacheHits"),
            (Rule::DuplicateSeries, "cacheHits"),
            (Rule::ColonInName, "job:rate5m"),
            (Rule::HistogramBuckets, "h_seconds"),
        ] {
            assert!(got.contains(&want), "missing {want:?} in {got:?}");
        }
        let r = red(&text(body).unwrap());
        assert_eq!(r.requests, None);
        assert_eq!(r.duration, None);
        assert!(r.near_misses.iter().any(|m| m.contains("`requests`")), "{r:?}");
    }

    #[test]
    fn red_by_shape() {
        // Micrometer: a summary/histogram with status and uri gives both parts.
        let micrometer = r#"# HELP http_server_requests_seconds Requests.
# TYPE http_server_requests_seconds summary
http_server_requests_seconds_count{method="GET",status="200",uri="/a",outcome="SUCCESS"} 4
http_server_requests_seconds_sum{method="GET",status="200",uri="/a",outcome="SUCCESS"} 0.1
"#;
        let r = red(&text(micrometer).unwrap());
        assert!(r.complete(), "{r:?}");
        // A counter without a status label, and a histogram in milliseconds: both missing.
        let weak = r#"# HELP api_requests_total R.
# TYPE api_requests_total counter
api_requests_total{method="GET"} 4
# HELP api_request_latency_milliseconds L.
# TYPE api_request_latency_milliseconds histogram
api_request_latency_milliseconds_bucket{le="+Inf"} 4
api_request_latency_milliseconds_sum 1
api_request_latency_milliseconds_count 4
"#;
        let r = red(&text(weak).unwrap());
        assert_eq!((r.requests.as_deref(), r.duration.as_deref()), (None, None));
        assert!(r.near_misses.iter().any(|m| m.contains("status-code")), "{r:?}");
        assert!(r.near_misses.iter().any(|m| m.contains("not in seconds")), "{r:?}");
    }

    /// Output of the Python `prometheus_client` 0.x (buckets below +Inf trimmed), both formats.
    const PYTHON_CLIENT_TEXT: &str = r#"# HELP http_requests_total Requests
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/a",status="200"} 1.0
# HELP http_requests_created Requests
# TYPE http_requests_created gauge
http_requests_created{method="GET",route="/a",status="200"} 1.796521941625633e+09
# HELP http_request_duration_seconds Dur
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/a"} 1.0
http_request_duration_seconds_count{method="GET",route="/a"} 1.0
http_request_duration_seconds_sum{method="GET",route="/a"} 0.2
# HELP http_request_duration_seconds_created Dur
# TYPE http_request_duration_seconds_created gauge
http_request_duration_seconds_created{method="GET",route="/a"} 1.7965219416256695e+09
# HELP rpc_seconds rpc
# TYPE rpc_seconds summary
rpc_seconds_count 1.0
rpc_seconds_sum 1.0
# HELP rpc_seconds_created rpc
# TYPE rpc_seconds_created gauge
rpc_seconds_created 1.7965219416257186e+09
# HELP temp_celsius t
# TYPE temp_celsius gauge
temp_celsius{loc="a\"b\\c\nd"} 3.0
# HELP build_info b
# TYPE build_info gauge
build_info{version="1"} 1.0
# HELP state s
# TYPE state gauge
state{state="a"} 1.0
state{state="b"} 0.0
"#;
    const PYTHON_CLIENT_OM: &str = r#"# HELP http_requests Requests
# TYPE http_requests counter
http_requests_total{method="GET",route="/a",status="200"} 1.0
http_requests_created{method="GET",route="/a",status="200"} 1.796521941625633e+09
# HELP http_request_duration_seconds Dur
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/a"} 1.0
http_request_duration_seconds_count{method="GET",route="/a"} 1.0
http_request_duration_seconds_sum{method="GET",route="/a"} 0.2
http_request_duration_seconds_created{method="GET",route="/a"} 1.7965219416256695e+09
# HELP rpc_seconds rpc
# TYPE rpc_seconds summary
rpc_seconds_count 1.0
rpc_seconds_sum 1.0
rpc_seconds_created 1.7965219416257186e+09
# HELP temp_celsius t
# TYPE temp_celsius gauge
temp_celsius{loc="a\"b\\c\nd"} 3.0
# HELP build b
# TYPE build info
build_info{version="1"} 1.0
# HELP state s
# TYPE state stateset
state{state="a"} 1.0
state{state="b"} 0.0
# EOF
"#;

    #[test]
    fn real_client_library_output_is_clean() {
        let cases = [
            (PYTHON_CLIENT_TEXT, Format::Text, 9),
            (PYTHON_CLIENT_OM, Format::OpenMetrics, 6),
        ];
        for (body, format, families) in cases {
            assert_eq!(
                Format::detect(Some("application/octet-stream"), body.as_bytes()),
                format
            );
            let e = parse(body.as_bytes(), format, &Limits::default()).unwrap();
            assert_eq!(e.families.len(), families, "{format:?}");
            assert!(lint(&e).is_empty(), "{format:?}: {:?}", lint(&e));
            let r = red(&e);
            assert!(r.complete(), "{format:?}: {r:?}");
            let g = e.families.iter().find(|f| f.name == "temp_celsius").unwrap();
            assert_eq!(g.samples[0].label("loc"), Some("a\"b\\c\nd"));
        }
    }
}
