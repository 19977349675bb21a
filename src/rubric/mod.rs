//! Rubrics: which checks a checkpoint grades, with weights, parameters and gates.
//! Parameters are validated against each check's parameter struct when the rubric loads.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::checks::{self, Check};
use crate::diag::{from_toml_error, from_toml_error_at, quote_list, SourceFile, UserError};
use crate::error::Error;
use crate::probe::StartConfig;

/// The built-in rubrics, embedded at compile time: (id, source).
pub const BUILTIN: [(&str, &str); 5] = [
    ("phase1", include_str!("../../rubrics/phase1.toml")),
    ("phase2", include_str!("../../rubrics/phase2.toml")),
    ("phase3", include_str!("../../rubrics/phase3.toml")),
    ("phase4", include_str!("../../rubrics/phase4.toml")),
    ("capstone", include_str!("../../rubrics/capstone.toml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    rubric: RawHeader,
    #[serde(default)]
    section: Vec<RawSection>,
    system: Option<RawSystem>,
}

/// `[system]`: how live probes start the submission's services, once per grading for every
/// probe item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    ready_timeout_ms: Option<Spanned<u64>>,
    stop_grace_ms: Option<Spanned<u64>>,
}

/// Largest `[system]` duration accepted, in milliseconds (10 minutes).
pub const MAX_SYSTEM_MS: u64 = 600_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: Spanned<String>,
    title: String,
    version: String,
    checkpoint: Option<String>,
    threshold: Spanned<f64>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    item: Vec<RawItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    check: Spanned<String>,
    weight: Spanned<f64>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    when_absent: WhenAbsent,
    params: Option<Spanned<toml::Table>>,
}

/// What an item does when what it judges is not in the submission (DESIGN section 13).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenAbsent {
    /// The checkpoint asks for it: the item fails with no credit (the default).
    #[default]
    Fail,
    /// The checkpoint does not ask for it: the item is left out of the score.
    Skip,
}

/// A loaded, validated rubric.
#[derive(Clone)]
pub struct Rubric {
    pub id: String,
    pub title: String,
    pub version: String,
    pub checkpoint: Option<String>,
    pub description: Option<String>,
    /// Pass threshold, percent 0-100.
    pub threshold: f64,
    pub sections: Vec<Section>,
    /// Hex SHA-256 of the rubric source.
    pub sha256: String,
    /// Where it came from: `builtin:phase1` or a path.
    pub origin: String,
    /// How live probes start the system (`[system]`; defaults where not given).
    pub system: StartConfig,
}

#[derive(Clone)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub items: Vec<Item>,
}

#[derive(Clone)]
pub struct Item {
    pub check: &'static dyn Check,
    pub weight: f64,
    pub required: bool,
    /// Absent input fails the item (default) or leaves it out.
    pub when_absent: WhenAbsent,
    /// Complete parameters (defaults filled in).
    pub params: toml::Table,
}

/// Largest item weight: weights are relative, and sums of huge ones would overflow.
pub const MAX_WEIGHT: f64 = 1e6;

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Item")
            .field("check", &self.check.info().id)
            .field("weight", &self.weight)
            .field("required", &self.required)
            .field("when_absent", &self.when_absent)
            .field("params", &self.params)
            .finish()
    }
}

impl Rubric {
    /// A built-in rubric by id (`phase1` .. `capstone`).
    pub fn builtin(id: &str) -> Option<Rubric> {
        let (_, src) = BUILTIN.iter().find(|(k, _)| *k == id)?;
        let file = SourceFile::new(format!("rubrics/{id}.toml"), *src);
        match Rubric::parse(&file, &format!("builtin:{id}")) {
            Ok(r) => Some(r),
            // Built-in rubrics are tested; a failure here is a build defect.
            Err(e) => panic!("built-in rubric {id} is invalid: {}", e.render_plain()),
        }
    }

    /// Loads an instructor's rubric file.
    pub fn from_path(path: &std::path::Path) -> Result<Rubric, Error> {
        let shown = path.display().to_string();
        let text = crate::submission::read_text(path, &shown)?;
        let file = SourceFile::new(shown.clone(), text);
        Rubric::parse(&file, &shown).map_err(Error::Input)
    }

    /// Parses and validates rubric source.
    pub fn parse(file: &SourceFile, origin: &str) -> Result<Rubric, Box<UserError>> {
        let raw: RawRubric = toml::from_str(&file.text).map_err(|e| Box::new(from_toml_error(file, &e, "rubric")))?;
        let mut errors = Vec::new();
        let threshold = *raw.rubric.threshold.get_ref();
        if !(0.0..=100.0).contains(&threshold) {
            errors.push(
                UserError::new(format!("threshold {threshold} is not a percentage"))
                    .at(file, raw.rubric.threshold.span(), "must be between 0 and 100")
                    .with_help("write the pass mark in percent, e.g. `threshold = 85`"),
            );
        }
        if raw.rubric.id.get_ref().trim().is_empty() {
            errors.push(
                UserError::new("empty rubric id")
                    .at(file, raw.rubric.id.span(), "empty")
                    .with_help("give the rubric an id, e.g. `id = \"phase2-2026\"`"),
            );
        }
        let system = system_config(file, raw.system.as_ref(), &mut errors);
        let mut sections = Vec::new();
        let mut section_ids: Vec<String> = Vec::new();
        for s in raw.section {
            let sid = s.id.get_ref().clone();
            if section_ids.contains(&sid) {
                errors.push(
                    UserError::new(format!("section `{sid}` is declared twice"))
                        .at(file, s.id.span(), "declared again here")
                        .with_help("give each section its own id"),
                );
            }
            section_ids.push(sid.clone());
            let mut items = Vec::new();
            for it in s.item {
                match resolve_item(file, it) {
                    Ok(item) => items.push(item),
                    Err(mut e) => errors.append(&mut e),
                }
            }
            sections.push(Section {
                id: sid,
                title: s.title,
                items,
            });
        }
        if errors.is_empty() && sections.iter().all(|s| s.items.is_empty()) {
            errors.push(UserError::new(format!("rubric {} has no items", file.name)).with_help(
                "add `[[section]]` tables with `[[section.item]]` entries naming checks (see `grade checks`)",
            ));
        }
        if !errors.is_empty() {
            let n = errors.len();
            return Err(Box::new(UserError::group(
                format!("{} has {n} problems", file.name),
                errors,
            )));
        }
        let sha256 = hex(&Sha256::digest(file.text.as_bytes()));
        Ok(Rubric {
            id: raw.rubric.id.into_inner(),
            title: raw.rubric.title,
            version: raw.rubric.version,
            checkpoint: raw.rubric.checkpoint,
            description: raw.rubric.description,
            threshold,
            sections,
            sha256,
            origin: origin.to_string(),
            system,
        })
    }

    pub fn items(&self) -> impl Iterator<Item = (&Section, &Item)> {
        self.sections.iter().flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }
}

/// The start configuration `[system]` asks for; out-of-range values are errors.
fn system_config(file: &SourceFile, raw: Option<&RawSystem>, errors: &mut Vec<UserError>) -> StartConfig {
    let mut config = StartConfig::default();
    let Some(raw) = raw else { return config };
    let mut ms = |field: &Option<Spanned<u64>>, name: &str, target: &mut std::time::Duration| {
        let example = target.as_millis();
        let Some(v) = field else { return };
        let n = *v.get_ref();
        if (1..=MAX_SYSTEM_MS).contains(&n) {
            *target = std::time::Duration::from_millis(n);
        } else {
            errors.push(
                UserError::new(format!("`[system] {name} = {n}` is out of range"))
                    .at(file, v.span(), format!("must be 1 to {MAX_SYSTEM_MS} (milliseconds)"))
                    .with_help(format!(
                        "give a duration in milliseconds, e.g. `{name} = {example}` (the default)"
                    )),
            );
        }
    };
    ms(&raw.ready_timeout_ms, "ready_timeout_ms", &mut config.ready_timeout);
    ms(&raw.stop_grace_ms, "stop_grace_ms", &mut config.grace);
    config
}

fn resolve_item(file: &SourceFile, it: RawItem) -> Result<Item, Vec<UserError>> {
    let mut errors = Vec::new();
    let key = it.check.get_ref();
    let check = checks::find(key);
    if check.is_none() {
        let help = match checks::suggest(key) {
            Some(s) => format!("did you mean `{s}`? (`grade checks` lists every check)"),
            None => "name a check by id or name; `grade checks` lists them".to_string(),
        };
        errors.push(
            UserError::new(format!("unknown check `{key}`"))
                .at(file, it.check.span(), "no such check")
                .with_help(help),
        );
    }
    let weight = *it.weight.get_ref();
    if !(weight.is_finite() && weight > 0.0 && weight <= MAX_WEIGHT) {
        errors.push(
            UserError::new(format!("weight {weight} must be a positive number up to {MAX_WEIGHT}"))
                .at(file, it.weight.span(), "not a usable weight")
                .with_help(
                    "use a positive number (weights are relative: 1, 2, 5...); drop the item to give it no weight",
                ),
        );
    }
    let Some(check) = check else { return Err(errors) };
    let params = match it.params {
        None => check.default_params(),
        Some(p) => {
            let span = p.span();
            let table = p.into_inner();
            match check.resolve_params(table) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(param_error(file, check, span, &e));
                    toml::Table::new()
                }
            }
        }
    };
    if errors.is_empty() {
        Ok(Item {
            check,
            weight,
            required: it.required,
            when_absent: it.when_absent,
            params,
        })
    } else {
        Err(errors)
    }
}

/// A parameter error with a span inside the `params` value when it is an inline table.
fn param_error(
    file: &SourceFile,
    check: &dyn Check,
    span: std::ops::Range<usize>,
    fallback: &toml::de::Error,
) -> UserError {
    let info = check.info();
    let slice = file.text.get(span.clone()).unwrap_or("");
    let mut e = match check.validate_params_source(slice) {
        Err(inner) if inner.span().is_some() => {
            from_toml_error_at(file, &inner, &format!("parameters for {}", info.id), span.start)
        }
        _ => {
            let (headline, help) = crate::diag::explain_serde_message(fallback.message());
            let mut e = UserError::new(format!("invalid parameters for {}: {headline}", info.id)).at(
                file,
                span,
                headline.clone(),
            );
            if let Some(h) = help {
                e = e.with_help(h);
            }
            e
        }
    };
    let names: Vec<&str> = info.params.iter().map(|p| p.name).collect();
    if slice.contains("ready_timeout_ms") && !names.contains(&"ready_timeout_ms") {
        // It was a parameter of the probe checks; the system starts once per grading.
        e.help = Some(
            "the system starts once for every probe item: set `ready_timeout_ms` in the rubric's `[system]` table"
                .into(),
        );
    } else if names.is_empty() {
        e.help = Some(format!("{} takes no parameters: remove `params`", info.id));
    } else if e.help.is_none() {
        e.help = Some(if names.is_empty() {
            format!("{} takes no parameters", info.id)
        } else {
            format!("{} takes {}", info.id, quote_list(&names))
        });
    }
    e
}

/// Lowercase hex encoding.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
