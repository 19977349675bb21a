//! Detection rules: data, one TOML file per rule in `src/evidence/rules/` (embedded here, the
//! only list), each with examples that a test runs. A rule names a language, what a match
//! proves, and what to match:
//!
//! - `calls`: regular expressions over the callee of a call as written (`producer.send`,
//!   `kafkaTemplate.send`, `db.ExecContext`);
//! - `[[rule_call]]`: a callee expression list plus `args`, a regular expression the call's
//!   arguments must match (an `execute` is a write only with `INSERT`/`UPDATE`/`DELETE`);
//! - `strings`: over string literals; `names`: over identifiers and type names;
//! - `text`: over the whole text of a configuration or SQL file (`language = "config"` or
//!   `"sql"`), line by line.

use regex::Regex;
use serde::Deserialize;

/// What a match shows about the service whose code it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Proof {
    /// A write to the service's database.
    DbWrite,
    /// A message sent to a broker.
    BrokerPublish,
    /// An event saved to an outbox table in code.
    OutboxWrite,
    /// An outbox table created by a migration.
    OutboxTable,
    /// A CDC connector relaying an outbox table (Debezium's event router).
    OutboxRelay,
    /// A CDC connector reading the database log.
    CdcConnector,
}

impl Proof {
    pub fn id(self) -> &'static str {
        match self {
            Proof::DbWrite => "db-write",
            Proof::BrokerPublish => "broker-publish",
            Proof::OutboxWrite => "outbox-write",
            Proof::OutboxTable => "outbox-table",
            Proof::OutboxRelay => "outbox-relay",
            Proof::CdcConnector => "cdc-connector",
        }
    }
}

/// The languages rules are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleLang {
    Python,
    Java,
    Go,
    /// TypeScript and JavaScript (parsed with the TSX grammar).
    Typescript,
    /// JSON, YAML and `.properties` configuration, matched as text.
    Config,
    /// SQL migrations, matched as text.
    Sql,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    language: RuleLang,
    proves: Proof,
    summary: String,
    #[serde(default)]
    calls: Vec<String>,
    #[serde(default)]
    rule_call: Vec<RawCallWithArgs>,
    #[serde(default)]
    strings: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    text: Vec<String>,
    #[serde(default)]
    example: Vec<Example>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCallWithArgs {
    calls: Vec<String>,
    args: String,
}

/// A snippet a rule must (or must not) match: run by the tests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub code: String,
    pub matches: bool,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub language: RuleLang,
    pub proves: Proof,
    pub summary: String,
    /// Callee patterns, each with the argument pattern it needs (if any).
    pub calls: Vec<(Regex, Option<Regex>)>,
    pub strings: Vec<Regex>,
    pub names: Vec<Regex>,
    pub text: Vec<Regex>,
    pub examples: Vec<Example>,
}

/// The built-in rules: the only list.
const BUILT_IN: &[(&str, &str)] = &[
    ("py-broker-publish.toml", include_str!("rules/py-broker-publish.toml")),
    ("py-db-write.toml", include_str!("rules/py-db-write.toml")),
    ("py-outbox-write.toml", include_str!("rules/py-outbox-write.toml")),
    (
        "java-broker-publish.toml",
        include_str!("rules/java-broker-publish.toml"),
    ),
    ("java-db-write.toml", include_str!("rules/java-db-write.toml")),
    ("java-outbox-write.toml", include_str!("rules/java-outbox-write.toml")),
    ("go-broker-publish.toml", include_str!("rules/go-broker-publish.toml")),
    ("go-db-write.toml", include_str!("rules/go-db-write.toml")),
    ("go-outbox-write.toml", include_str!("rules/go-outbox-write.toml")),
    ("ts-broker-publish.toml", include_str!("rules/ts-broker-publish.toml")),
    ("ts-db-write.toml", include_str!("rules/ts-db-write.toml")),
    ("ts-outbox-write.toml", include_str!("rules/ts-outbox-write.toml")),
    ("config-outbox-cdc.toml", include_str!("rules/config-outbox-cdc.toml")),
    (
        "config-cdc-connector.toml",
        include_str!("rules/config-cdc-connector.toml"),
    ),
    ("sql-outbox-table.toml", include_str!("rules/sql-outbox-table.toml")),
];

/// Parses and compiles one rule file; the error names the file and what is wrong.
pub fn parse(file: &str, text: &str) -> Result<Rule, String> {
    let raw: RawRule = toml::from_str(text).map_err(|e| format!("{file}: {}", e.message()))?;
    let re = |p: &String| Regex::new(p).map_err(|e| format!("{file}: pattern `{p}`: {e}"));
    let mut calls = Vec::new();
    for p in &raw.calls {
        calls.push((re(p)?, None));
    }
    for c in &raw.rule_call {
        let args = re(&c.args)?;
        for p in &c.calls {
            calls.push((re(p)?, Some(args.clone())));
        }
    }
    let textual = matches!(raw.language, RuleLang::Config | RuleLang::Sql);
    if textual == raw.text.is_empty()
        || (!textual && calls.is_empty() && raw.strings.is_empty() && raw.names.is_empty())
    {
        return Err(format!(
            "{file}: a `config` or `sql` rule matches `text`; a code rule matches `calls`, `rule_call`, `strings` or `names`"
        ));
    }
    Ok(Rule {
        id: raw.id,
        language: raw.language,
        proves: raw.proves,
        summary: raw.summary,
        calls,
        strings: raw.strings.iter().map(re).collect::<Result<_, _>>()?,
        names: raw.names.iter().map(re).collect::<Result<_, _>>()?,
        text: raw.text.iter().map(re).collect::<Result<_, _>>()?,
        examples: raw.example,
    })
}

/// The built-in rules, compiled (they are tested, so a failure here is a bug).
pub fn built_in() -> Vec<Rule> {
    BUILT_IN
        .iter()
        .map(|(file, text)| parse(file, text).unwrap_or_else(|e| panic!("built-in evidence rule {e}")))
        .collect()
}

impl Rule {
    /// Does a call with this callee and argument text match?
    pub fn call_matches(&self, callee: &str, args: &str) -> bool {
        self.calls
            .iter()
            .any(|(c, a)| c.is_match(callee) && a.as_ref().is_none_or(|a| a.is_match(args)))
    }
}
