//! Evidence: what the submission's code and configuration show, as opposed to what its
//! manifest claims (DESIGN section 13: evidence beats declarations, a contradicted claim
//! fails).
//!
//! Code is parsed with tree-sitter (Python, Java, Go, TypeScript/JavaScript, C#, Rust; a
//! grammar is used only for files of its language) and matched against data rules
//! (`rules/*.toml`, see [`rules`]); configuration and SQL files are matched as text. Every match is a [`Fact`] with
//! its file, line and enclosing function. Facts of one function are then read together: a
//! database write followed by a broker publish with no outbox involved is a dual write, which
//! contradicts an outbox or CDC claim.
//!
//! Reading is bounded like the other loaders: at most [`MAX_FILES`] files of at most
//! [`MAX_FILE_BYTES`] each, never following symlinks or leaving the folder, never executing
//! anything; files that cannot be read are listed, not fatal.

mod code;
pub mod rules;

use std::path::Path;

use serde::Serialize;

pub use rules::{Proof, Rule, RuleLang};

use crate::artifact::source::walk;
pub use crate::artifact::source::{MAX_FILES, MAX_FILE_BYTES};

pub use crate::finding::{Source, Status};

/// How much evidence a claim needs for credit (a rubric item's `evidence` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Needs {
    /// The manifest's word, unless the files contradict it.
    #[default]
    Declared,
    /// Where the service has code, the code must show it (a service without code: its word).
    Found,
}

/// One match of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub proof: Proof,
    /// The rule that matched.
    pub rule: String,
    /// Relative to the submission root, `/`-separated.
    pub file: String,
    pub line: usize,
    pub column: usize,
    #[serde(skip)]
    pub offset: usize,
    /// The matched code or line, shortened.
    pub text: String,
    /// The enclosing function: (its start byte, its name); `None` at the top level.
    #[serde(skip)]
    pub function: Option<(usize, String)>,
}

impl Fact {
    /// `services/orders/src/repo.py:41`
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// `claim` with this place added as a source that backs it (`found`).
    pub fn backs(&self, claim: crate::finding::Claim) -> crate::finding::Claim {
        claim.from_source(Source::Found, self.file.clone(), Some(self.line), self.text.clone())
    }
}

/// A function that writes to the database and then publishes to the broker, with no outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DualWrite {
    pub function: String,
    pub write: Fact,
    pub publish: Fact,
}

/// What was found in one folder.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Evidence {
    pub facts: Vec<Fact>,
    pub dual_writes: Vec<DualWrite>,
    pub files_read: usize,
    /// Of which code (parsed), not configuration.
    pub code_files: usize,
    /// The file limit was reached.
    pub truncated: bool,
    /// Files that could not be read: (file, why).
    pub unreadable: Vec<(String, String)>,
}

impl Evidence {
    /// The facts that prove `proof`.
    pub fn proving(&self, proof: Proof) -> impl Iterator<Item = &Fact> {
        self.facts.iter().filter(move |f| f.proof == proof)
    }
}

fn text_kind(rel: &str) -> Option<RuleLang> {
    let ext = rel.rsplit_once('.').map(|(_, e)| e)?;
    match ext {
        "json" | "yaml" | "yml" | "properties" | "env" | "conf" => Some(RuleLang::Config),
        "sql" => Some(RuleLang::Sql),
        _ => None,
    }
}

/// Whether a rule matches a snippet of its language (how its examples are checked).
pub fn example_matches(rule: &Rule, code: &str) -> bool {
    match rule.language {
        RuleLang::Config | RuleLang::Sql => code
            .lines()
            .any(|l| rule.patterns().text.iter().any(|re| re.is_match(l))),
        lang => {
            let file = match lang {
                RuleLang::Python => "example.py",
                RuleLang::Java => "Example.java",
                RuleLang::Go => "example.go",
                RuleLang::Csharp => "Example.cs",
                RuleLang::Rust => "example.rs",
                _ => "example.ts",
            };
            let Some((lang, grammar)) = code::language_of(file) else {
                return false;
            };
            code::facts(file, code, lang, &grammar, &[rule]).is_some_and(|f| !f.is_empty())
        }
    }
}

/// Most rule files read from an `--evidence-rules` folder, and their largest size.
pub const MAX_RULE_FILES: usize = 200;
pub const MAX_RULE_BYTES: u64 = 64 * 1024;

/// The rules of an instructor's folder (`--evidence-rules DIR`): every `*.toml` in it, in
/// name order, each parsed like a built-in rule and refused unless its examples match as
/// they say and its id is new. The error names the file and what to fix.
pub fn load_rules(dir: &Path) -> Result<Vec<Rule>, String> {
    let shown = dir.display();
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{shown}: cannot read the rules folder: {e}"))?;
    let mut files: Vec<std::path::PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{shown}: no rule files (`*.toml`) in the folder"));
    }
    if files.len() > MAX_RULE_FILES {
        return Err(format!(
            "{shown}: {} rule files, more than {MAX_RULE_FILES}",
            files.len()
        ));
    }
    let mut ids: std::collections::BTreeSet<String> = rules::built_in().into_iter().map(|r| r.id).collect();
    let mut out = Vec::new();
    for path in files {
        let file = path.display().to_string();
        if std::fs::metadata(&path).map_or(0, |m| m.len()) > MAX_RULE_BYTES {
            return Err(format!("{file}: larger than {} KiB", MAX_RULE_BYTES / 1024));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
        let rule = rules::parse(&file, &text)?;
        if !ids.insert(rule.id.clone()) {
            return Err(format!(
                "{file}: the id `{}` is already taken (ids are unique, built-in ones included)",
                rule.id
            ));
        }
        if !rule.examples.iter().any(|e| e.matches) {
            return Err(format!(
                "{file}: give at least one `[[example]]` with `matches = true`, so the rule is tested"
            ));
        }
        for (i, e) in rule.examples.iter().enumerate() {
            if example_matches(&rule, &e.code) != e.matches {
                return Err(format!(
                    "{file}: example {} {} but says `matches = {}`: fix the pattern or the example",
                    i + 1,
                    if e.matches { "does not match" } else { "matches" },
                    e.matches
                ));
            }
        }
        out.push(rule);
    }
    Ok(out)
}

/// Whether a file (`rel`, below `rel_dir`) is test code: a test stands in for the system and
/// proves nothing about it (a circuit breaker registry built in a test configuration, a fake
/// client). Test folders (`test`, `tests`, `__tests__`, `testdata`, `e2e`; for C# also
/// `*.Tests`, `*.UnitTests`, `*.IntegrationTests` projects) and test file names (`*_test.go`,
/// `test_*.py`, `*_test.py`, `conftest.py`, `*.test.ts`, `*.spec.js`, `*Test.java`,
/// `*Tests.java`, `*IT.java`, `*Test.cs`, `*Tests.cs`, `*_test.rs`, `*_tests.rs`). Rust's
/// unit tests inside a file (`#[cfg(test)]`) are left out by the parser.
fn is_test_code(rel_dir: &str, rel: &str) -> bool {
    let rel = rel.trim_start_matches('/');
    let below = rel
        .strip_prefix(rel_dir.trim_matches('/'))
        .unwrap_or(rel)
        .trim_start_matches('/');
    let mut parts: Vec<&str> = below.split('/').collect();
    let file = parts.pop().unwrap_or("");
    if parts
        .iter()
        .any(|d| matches!(*d, "test" | "tests" | "__tests__" | "testdata" | "e2e"))
    {
        return true;
    }
    let stem = file.split('.').next().unwrap_or(file);
    file.ends_with("_test.go")
        || (file.ends_with(".py") && (stem.starts_with("test_") || stem.ends_with("_test") || stem == "conftest"))
        || [".test.", ".spec."].iter().any(|m| file.contains(m))
        || (file.ends_with(".java") && (stem.ends_with("Test") || stem.ends_with("Tests") || stem.ends_with("IT")))
        || (file.ends_with(".cs")
            && (stem.ends_with("Test")
                || stem.ends_with("Tests")
                || parts.iter().any(|d| {
                    [".Tests", ".UnitTests", ".IntegrationTests"]
                        .iter()
                        .any(|t| d.ends_with(t))
                })))
        || (file.ends_with(".rs") && (stem.ends_with("_test") || stem.ends_with("_tests")))
}

/// Reads the code and configuration under `dir` (`rel_dir` relative to the submission root)
/// with `rules`.
pub fn scan<'r>(dir: &Path, rel_dir: &str, rules: impl IntoIterator<Item = &'r Rule>) -> Evidence {
    scan_where(dir, rel_dir, rules, false).unwrap_or_default()
}

/// [`scan`] of a service's folder: `None`, before any file is read, when the folder holds no
/// code (a folder with only its OpenAPI document is not read line by line for configuration).
pub fn scan_service<'r>(dir: &Path, rel_dir: &str, rules: impl IntoIterator<Item = &'r Rule>) -> Option<Evidence> {
    scan_where(dir, rel_dir, rules, true)
}

fn scan_where<'r>(
    dir: &Path,
    rel_dir: &str,
    rules: impl IntoIterator<Item = &'r Rule>,
    needs_code: bool,
) -> Option<Evidence> {
    let rules: Vec<&Rule> = rules.into_iter().collect();
    let rules = rules.as_slice();
    // Only files some rule can apply to are read (a grammar is loaded only for them).
    let langs: std::collections::BTreeSet<RuleLang> = rules.iter().map(|r| r.language).collect();
    let wanted = |p: &Path| {
        let s = p.to_string_lossy();
        code::language_of(&s)
            .map(|(l, _)| l)
            .or_else(|| text_kind(&s))
            .is_some_and(|l| langs.contains(&l))
    };
    let (mut files, truncated) = walk(dir, rel_dir, wanted);
    files.retain(|(_, rel)| !is_test_code(rel_dir, rel));
    if needs_code
        && !files
            .iter()
            .any(|(_, rel)| code::language_of(rel).is_some_and(|(l, _)| langs.contains(&l)))
    {
        return None;
    }
    // Files are read and parsed in parallel, in contiguous chunks merged in order (the result
    // does not depend on the number of threads).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = files.len().div_ceil(threads).max(1);
    let parts: Vec<Evidence> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| s.spawn(move || scan_files(part, rules)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut ev = Evidence {
        truncated,
        ..Evidence::default()
    };
    for p in parts {
        ev.facts.extend(p.facts);
        ev.dual_writes.extend(p.dual_writes);
        ev.files_read += p.files_read;
        ev.code_files += p.code_files;
        ev.unreadable.extend(p.unreadable);
    }
    Some(ev)
}

fn scan_files(files: &[(std::path::PathBuf, String)], rules: &[&Rule]) -> Evidence {
    let mut ev = Evidence::default();
    for (path, rel) in files {
        let rel = rel.trim_start_matches('/').to_string();
        match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                ev.unreadable
                    .push((rel, format!("larger than {} KiB: not read", MAX_FILE_BYTES / 1024)));
                continue;
            }
            Err(e) => {
                ev.unreadable.push((rel, e.to_string()));
                continue;
            }
            Ok(_) => {}
        }
        let text = match std::fs::read(path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                ev.unreadable.push((rel, e.to_string()));
                continue;
            }
        };
        ev.files_read += 1;
        if let Some((lang, grammar)) = code::language_of(&rel) {
            let applicable: Vec<&Rule> = rules.iter().copied().filter(|r| r.language == lang).collect();
            if applicable.is_empty() {
                continue;
            }
            ev.code_files += 1;
            match code::facts(&rel, &text, lang, &grammar, &applicable) {
                Some(facts) => {
                    dual_writes(&facts, &mut ev.dual_writes);
                    ev.facts.extend(facts);
                }
                None => ev.unreadable.push((rel, "the parser gave up on it".into())),
            }
        } else if let Some(kind) = text_kind(&rel) {
            for r in rules.iter().filter(|r| r.language == kind) {
                for (i, line) in text.lines().enumerate() {
                    if let Some(m) = r.patterns().text.iter().find_map(|re| re.find(line)) {
                        ev.facts.push(Fact {
                            proof: r.proves,
                            rule: r.id.clone(),
                            file: rel.clone(),
                            line: i + 1,
                            column: m.start() + 1,
                            offset: 0,
                            text: line.trim().chars().take(120).collect(),
                            function: None,
                        });
                    }
                }
            }
        }
    }
    ev
}

/// The functions a folder's code defines and the calls it makes, as words (see
/// [`Names::find`]).
#[derive(Debug, Default, Clone)]
pub struct Names {
    /// (words, file, line, a call rather than a definition).
    pub names: Vec<(Vec<String>, String, usize, bool)>,
    pub code_files: usize,
}

impl Names {
    /// The first name that contains every word of `action` (`ReleaseStock` is found in
    /// `self.stock.release(...)`, `release_stock()` or `StockService.release`): `file:line`.
    pub fn find(&self, action: &str) -> Option<String> {
        let want = code::words(action);
        if want.is_empty() {
            return None;
        }
        self.names
            .iter()
            .find(|(w, _, _, _)| want.iter().all(|x| w.contains(x)))
            .map(|(_, f, l, _)| format!("{f}:{l}"))
    }
}

/// The names defined and called in the code under `dir`.
pub fn names(dir: &Path, rel_dir: &str) -> Names {
    let (mut files, _) = walk(dir, rel_dir, |p| code::language_of(&p.to_string_lossy()).is_some());
    files.retain(|(_, rel)| !is_test_code(rel_dir, rel));
    let mut out = Names::default();
    for (path, rel) in files {
        let rel = rel.trim_start_matches('/').to_string();
        let Some((lang, grammar)) = code::language_of(&rel) else {
            continue;
        };
        if std::fs::metadata(&path).map_or(true, |m| m.len() > MAX_FILE_BYTES) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let src = String::from_utf8_lossy(&bytes);
        out.code_files += 1;
        for (w, line, call) in code::names(&src, lang, &grammar).unwrap_or_default() {
            out.names.push((w, rel.clone(), line, call));
        }
    }
    out
}

/// The dual writes among the facts of one file, function by function.
fn dual_writes(facts: &[Fact], out: &mut Vec<DualWrite>) {
    let mut by_fn: std::collections::BTreeMap<usize, Vec<&Fact>> = std::collections::BTreeMap::new();
    for f in facts {
        if let Some((start, _)) = &f.function {
            by_fn.entry(*start).or_default().push(f);
        }
    }
    for list in by_fn.values() {
        if let Some((w, p)) = code::dual_write(list) {
            out.push(DualWrite {
                function: list[w].function.as_ref().map(|f| f.1.clone()).unwrap_or_default(),
                write: list[w].clone(),
                publish: list[p].clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests;
