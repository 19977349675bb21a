//! Detection rules: data, one TOML file per rule in `src/evidence/rules/` (embedded here, the
//! only list), each with examples that a test runs. A rule names a language, what a match
//! proves, and what to match:
//!
//! - `calls`: regular expressions over the callee of a call as written (`producer.send`,
//!   `kafkaTemplate.send`, `db.ExecContext`);
//! - `[[rule_call]]`: a callee expression list plus `args`, a regular expression the call's
//!   arguments must match (an `execute` is a write only with `INSERT`/`UPDATE`/`DELETE`),
//!   and/or `args_not`, one they must not match (`requests.get(url)` has no timeout only
//!   when no `timeout=` is passed). Constructors count as calls (`new RestTemplate`, Go's
//!   composite literal `http.Client{...}` and Rust's struct literal `Client { .. }` with their
//!   fields as the arguments, C#'s `new HttpClient { Timeout = t }` with its initializer), so
//!   do assignments in C#, Go and TypeScript (`client.Timeout = t` is a call to
//!   `client.Timeout=` with argument `t`) and Rust macros (`sqlx::query!(...)` is a call to `sqlx::query!`). A Rust method call's
//!   callee is its whole receiver chain (`reqwest::Client::builder().timeout`), so patterns
//!   end with `$`. `code_only = true` judges the arguments with their string literals
//!   emptied (a `timeout=` passed, not one written inside a string);
//! - `line_not` (per rule): a call, string or name on a source line that matches is left out
//!   (`localhost`, a deadline whose context is thrown away: `_, cancel :=
//!   context.WithTimeout(...)`, a client setting the `Idempotency-Key` header it sends);
//! - `strings`: over string literals; `names`: over identifiers and type names where the code
//!   uses them (not in imports, not the name a declaration gives: an unused `import pybreaker`
//!   or an empty `class CircuitBreaker {}` shows no breaker);
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
    /// An outbound HTTP or gRPC call or client.
    OutboundCall,
    /// An outbound call that has no timeout by construction (`requests.get(url)`, Go's
    /// `http.Get`): positive evidence against a timeout claim.
    UnboundedCall,
    /// A timeout or deadline set on an outbound call or client.
    Timeout,
    /// Retries of a failed call (a retry library, policy or configuration).
    Retry,
    /// A circuit breaker (a library, annotation or configuration).
    CircuitBreaker,
    /// The service handles an idempotency key on the requests it receives: it reads the
    /// `Idempotency-Key` header, or stores and looks up results by key.
    IdempotencyKey,
    /// An expiry set on cache entries (`setex`, `set(..., ex=)`, `entryTtl`, `TTLCache`).
    CacheTtl,
    /// A consumer that remembers the events it has processed (an inbox or processed-events
    /// table, an insert that ignores a repeated event id).
    ConsumerDedup,
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
            Proof::OutboundCall => "outbound-call",
            Proof::UnboundedCall => "unbounded-call",
            Proof::Timeout => "timeout",
            Proof::Retry => "retry",
            Proof::CircuitBreaker => "circuit-breaker",
            Proof::IdempotencyKey => "idempotency-key",
            Proof::CacheTtl => "cache-ttl",
            Proof::ConsumerDedup => "consumer-dedup",
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
    /// C# (`.cs`; tree-sitter-c-sharp).
    Csharp,
    /// Rust (`.rs`; tree-sitter-rust), outside `#[cfg(test)]` modules and `#[test]` functions.
    Rust,
    /// JSON, YAML and `.properties` configuration, matched as text.
    Config,
    /// SQL migrations, matched as text.
    Sql,
}

impl RuleLang {
    /// As shown to people.
    pub fn name(self) -> &'static str {
        match self {
            RuleLang::Python => "Python",
            RuleLang::Java => "Java",
            RuleLang::Go => "Go",
            RuleLang::Typescript => "TypeScript/JavaScript",
            RuleLang::Csharp => "C#",
            RuleLang::Rust => "Rust",
            RuleLang::Config => "configuration",
            RuleLang::Sql => "SQL",
        }
    }
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
    /// A call or name on a source line matching this is not a match (`localhost` calls,
    /// a deadline whose context is thrown away).
    #[serde(default)]
    line_not: Option<String>,
    #[serde(default)]
    example: Vec<Example>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCallWithArgs {
    calls: Vec<String>,
    #[serde(default)]
    args: Option<String>,
    #[serde(default)]
    args_not: Option<String>,
    /// Match `args` and `args_not` on the code only, string literals emptied (`timeout=` in
    /// a call, not in a string it passes).
    #[serde(default)]
    code_only: bool,
}

/// A snippet a rule must (or must not) match: run by the tests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub code: String,
    pub matches: bool,
}

/// A rule: what it is, and its patterns, compiled on first use (a submission with no Go code
/// never compiles the Go rules: compiling all of them cost about 30 ms a grading).
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub language: RuleLang,
    pub proves: Proof,
    pub summary: String,
    pub examples: Vec<Example>,
    file: String,
    raw: RawPatterns,
    compiled: std::sync::OnceLock<Patterns>,
}

/// The patterns of a rule as written.
#[derive(Debug, Clone)]
struct RawPatterns {
    calls: Vec<String>,
    rule_call: Vec<RawCallWithArgs>,
    strings: Vec<String>,
    names: Vec<String>,
    text: Vec<String>,
    line_not: Option<String>,
}

/// The patterns of a rule, compiled.
#[derive(Debug, Clone)]
pub struct Patterns {
    /// Callee patterns, each with what its arguments must (and must not) match.
    pub calls: Vec<CallPattern>,
    pub strings: Vec<Regex>,
    pub names: Vec<Regex>,
    pub text: Vec<Regex>,
    pub line_not: Option<Regex>,
}

/// A callee pattern and the argument patterns it needs.
#[derive(Debug, Clone)]
pub struct CallPattern {
    pub callee: Regex,
    pub args: Option<Regex>,
    pub args_not: Option<Regex>,
    /// `args` and `args_not` judge the arguments with their strings emptied.
    pub code_only: bool,
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
    ("csharp-db-write.toml", include_str!("rules/csharp-db-write.toml")),
    (
        "csharp-broker-publish.toml",
        include_str!("rules/csharp-broker-publish.toml"),
    ),
    (
        "csharp-outbox-write.toml",
        include_str!("rules/csharp-outbox-write.toml"),
    ),
    ("rust-db-write.toml", include_str!("rules/rust-db-write.toml")),
    (
        "rust-broker-publish.toml",
        include_str!("rules/rust-broker-publish.toml"),
    ),
    ("rust-outbox-write.toml", include_str!("rules/rust-outbox-write.toml")),
    ("config-outbox-cdc.toml", include_str!("rules/config-outbox-cdc.toml")),
    (
        "config-cdc-connector.toml",
        include_str!("rules/config-cdc-connector.toml"),
    ),
    ("sql-outbox-table.toml", include_str!("rules/sql-outbox-table.toml")),
    // Resilience of outbound calls.
    ("py-outbound-call.toml", include_str!("rules/py-outbound-call.toml")),
    ("py-unbounded-call.toml", include_str!("rules/py-unbounded-call.toml")),
    ("py-timeout.toml", include_str!("rules/py-timeout.toml")),
    ("py-retry.toml", include_str!("rules/py-retry.toml")),
    ("py-circuit-breaker.toml", include_str!("rules/py-circuit-breaker.toml")),
    ("java-outbound-call.toml", include_str!("rules/java-outbound-call.toml")),
    ("java-timeout.toml", include_str!("rules/java-timeout.toml")),
    ("java-retry.toml", include_str!("rules/java-retry.toml")),
    (
        "java-circuit-breaker.toml",
        include_str!("rules/java-circuit-breaker.toml"),
    ),
    ("go-outbound-call.toml", include_str!("rules/go-outbound-call.toml")),
    ("go-unbounded-call.toml", include_str!("rules/go-unbounded-call.toml")),
    ("go-timeout.toml", include_str!("rules/go-timeout.toml")),
    ("go-retry.toml", include_str!("rules/go-retry.toml")),
    ("go-circuit-breaker.toml", include_str!("rules/go-circuit-breaker.toml")),
    ("ts-outbound-call.toml", include_str!("rules/ts-outbound-call.toml")),
    ("ts-unbounded-call.toml", include_str!("rules/ts-unbounded-call.toml")),
    ("ts-timeout.toml", include_str!("rules/ts-timeout.toml")),
    ("ts-retry.toml", include_str!("rules/ts-retry.toml")),
    ("ts-circuit-breaker.toml", include_str!("rules/ts-circuit-breaker.toml")),
    // C#: no unbounded-call rule. HttpClient times out after 100 s by default, and even
    // `Timeout = Timeout.InfiniteTimeSpan` is the documented set-up for per-call cancellation
    // tokens: no C# call is unbounded by construction.
    (
        "csharp-outbound-call.toml",
        include_str!("rules/csharp-outbound-call.toml"),
    ),
    ("csharp-timeout.toml", include_str!("rules/csharp-timeout.toml")),
    ("csharp-retry.toml", include_str!("rules/csharp-retry.toml")),
    (
        "csharp-circuit-breaker.toml",
        include_str!("rules/csharp-circuit-breaker.toml"),
    ),
    // Rust: no unbounded-call rule. `reqwest::get` has no timeout of its own, but any future is
    // bounded by dropping it (`tokio::time::timeout(d, reqwest::get(url))`, the usual idiom),
    // which a rule that sees only the call cannot tell; reqwest's blocking client defaults to
    // 30 s, and a TcpStream can be given read and write timeouts after it connects.
    ("rust-outbound-call.toml", include_str!("rules/rust-outbound-call.toml")),
    ("rust-timeout.toml", include_str!("rules/rust-timeout.toml")),
    ("rust-retry.toml", include_str!("rules/rust-retry.toml")),
    (
        "rust-circuit-breaker.toml",
        include_str!("rules/rust-circuit-breaker.toml"),
    ),
    // Idempotent endpoints, cache expiry and idempotent consumers.
    ("py-idempotency-key.toml", include_str!("rules/py-idempotency-key.toml")),
    ("py-cache-ttl.toml", include_str!("rules/py-cache-ttl.toml")),
    ("py-consumer-dedup.toml", include_str!("rules/py-consumer-dedup.toml")),
    (
        "java-idempotency-key.toml",
        include_str!("rules/java-idempotency-key.toml"),
    ),
    ("java-cache-ttl.toml", include_str!("rules/java-cache-ttl.toml")),
    (
        "java-consumer-dedup.toml",
        include_str!("rules/java-consumer-dedup.toml"),
    ),
    ("go-idempotency-key.toml", include_str!("rules/go-idempotency-key.toml")),
    ("go-cache-ttl.toml", include_str!("rules/go-cache-ttl.toml")),
    ("go-consumer-dedup.toml", include_str!("rules/go-consumer-dedup.toml")),
    ("ts-idempotency-key.toml", include_str!("rules/ts-idempotency-key.toml")),
    ("ts-cache-ttl.toml", include_str!("rules/ts-cache-ttl.toml")),
    ("ts-consumer-dedup.toml", include_str!("rules/ts-consumer-dedup.toml")),
    (
        "csharp-idempotency-key.toml",
        include_str!("rules/csharp-idempotency-key.toml"),
    ),
    ("csharp-cache-ttl.toml", include_str!("rules/csharp-cache-ttl.toml")),
    (
        "csharp-consumer-dedup.toml",
        include_str!("rules/csharp-consumer-dedup.toml"),
    ),
    (
        "rust-idempotency-key.toml",
        include_str!("rules/rust-idempotency-key.toml"),
    ),
    ("rust-cache-ttl.toml", include_str!("rules/rust-cache-ttl.toml")),
    (
        "rust-consumer-dedup.toml",
        include_str!("rules/rust-consumer-dedup.toml"),
    ),
    ("config-cache-ttl.toml", include_str!("rules/config-cache-ttl.toml")),
    ("sql-inbox-table.toml", include_str!("rules/sql-inbox-table.toml")),
    ("config-timeout.toml", include_str!("rules/config-timeout.toml")),
    ("config-retry.toml", include_str!("rules/config-retry.toml")),
    (
        "config-circuit-breaker.toml",
        include_str!("rules/config-circuit-breaker.toml"),
    ),
];

/// Parses and compiles one rule file; the error names the file and what is wrong.
pub fn parse(file: &str, text: &str) -> Result<Rule, String> {
    let rule = parse_lazily(file, text)?;
    let patterns = compile(&rule.file, &rule.raw)?;
    let _ = rule.compiled.set(patterns);
    Ok(rule)
}

/// Parses one rule file and checks its shape; its patterns are compiled on first use.
fn parse_lazily(file: &str, text: &str) -> Result<Rule, String> {
    let raw: RawRule = toml::from_str(text).map_err(|e| format!("{file}: {}", e.message()))?;
    if raw.rule_call.iter().any(|c| c.args.is_none() && c.args_not.is_none()) {
        return Err(format!("{file}: a `[[rule_call]]` needs `args` or `args_not`"));
    }
    let textual = matches!(raw.language, RuleLang::Config | RuleLang::Sql);
    let calls = !raw.calls.is_empty() || raw.rule_call.iter().any(|c| !c.calls.is_empty());
    if textual == raw.text.is_empty() || (!textual && !calls && raw.strings.is_empty() && raw.names.is_empty()) {
        return Err(format!(
            "{file}: a `config` or `sql` rule matches `text`; a code rule matches `calls`, `rule_call`, `strings` or `names`"
        ));
    }
    Ok(Rule {
        id: raw.id,
        language: raw.language,
        proves: raw.proves,
        summary: raw.summary,
        examples: raw.example,
        file: file.to_string(),
        raw: RawPatterns {
            calls: raw.calls,
            rule_call: raw.rule_call,
            strings: raw.strings,
            names: raw.names,
            text: raw.text,
            line_not: raw.line_not,
        },
        compiled: std::sync::OnceLock::new(),
    })
}

fn compile(file: &str, raw: &RawPatterns) -> Result<Patterns, String> {
    let re = |p: &String| Regex::new(p).map_err(|e| format!("{file}: pattern `{p}`: {e}"));
    let mut calls = Vec::new();
    for p in &raw.calls {
        calls.push(CallPattern {
            callee: re(p)?,
            args: None,
            args_not: None,
            code_only: false,
        });
    }
    for c in &raw.rule_call {
        let args = c.args.as_ref().map(re).transpose()?;
        let args_not = c.args_not.as_ref().map(re).transpose()?;
        for p in &c.calls {
            calls.push(CallPattern {
                callee: re(p)?,
                args: args.clone(),
                args_not: args_not.clone(),
                code_only: c.code_only,
            });
        }
    }
    Ok(Patterns {
        calls,
        strings: raw.strings.iter().map(re).collect::<Result<_, _>>()?,
        names: raw.names.iter().map(re).collect::<Result<_, _>>()?,
        text: raw.text.iter().map(re).collect::<Result<_, _>>()?,
        line_not: raw.line_not.as_ref().map(re).transpose()?,
    })
}

/// The built-in rules, their patterns compiled on first use (every pattern is compiled and
/// tried on the rule's examples by the tests, so a failure here is a bug).
pub fn built_in() -> Vec<Rule> {
    BUILT_IN
        .iter()
        .map(|(file, text)| parse_lazily(file, text).unwrap_or_else(|e| panic!("built-in evidence rule {e}")))
        .collect()
}

impl Rule {
    /// The rule's patterns, compiled on first use.
    pub fn patterns(&self) -> &Patterns {
        self.compiled.get_or_init(|| {
            compile(&self.file, &self.raw).unwrap_or_else(|e| panic!("evidence rule {e} (it compiled when loaded)"))
        })
    }

    /// Whether the source line of a match is one the rule leaves out (`line_not`).
    pub fn line_excluded<'s>(&self, line: &dyn Fn() -> &'s str) -> bool {
        self.patterns().line_not.as_ref().is_some_and(|re| re.is_match(line()))
    }

    /// Does a call with this callee and argument text (`code`: the same with its strings
    /// emptied) match?
    pub fn call_matches<'a>(&self, callee: &str, args: &'a str, code: &dyn Fn() -> &'a str) -> bool {
        self.patterns().calls.iter().any(|c| {
            if !c.callee.is_match(callee) {
                return false;
            }
            let args = if c.code_only { code() } else { args };
            c.args.as_ref().is_none_or(|a| a.is_match(args)) && c.args_not.as_ref().is_none_or(|a| !a.is_match(args))
        })
    }
}
