//! Reading code with tree-sitter: calls, string literals and names, each placed in the
//! function that contains it, matched against the rules of the file's language.
//!
//! Each language has its node kinds ([`Kinds`]): what is a function (for the enclosing function
//! of a fact), a call, a construction (read as a call), a string and a name. Python, Java, Go
//! and TypeScript/JavaScript share one list; C# (`invocation_expression`,
//! `object_creation_expression` with its initializer, an assignment read as a call to
//! `place=`, lambdas and local functions) and Rust (`call_expression`, a macro read as a call
//! to `name!`, a struct literal read as a construction, closures) have their own, checked
//! against their grammars' `node-types.json`. Rust unit tests (`#[cfg(test)]` modules,
//! `#[test]` functions) are not read: test code is not evidence.

use tree_sitter::{Language, Node, Parser};

use super::rules::{Proof, Rule, RuleLang};
use super::Fact;

/// The grammar for a file, by extension (`None`: not code a rule can read).
pub fn language_of(path: &str) -> Option<(RuleLang, Language)> {
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "py" => (RuleLang::Python, tree_sitter_python::LANGUAGE.into()),
        "java" => (RuleLang::Java, tree_sitter_java::LANGUAGE.into()),
        "go" => (RuleLang::Go, tree_sitter_go::LANGUAGE.into()),
        "ts" | "mts" | "cts" => (RuleLang::Typescript, tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into()),
        "tsx" | "js" | "jsx" | "mjs" | "cjs" => (RuleLang::Typescript, tree_sitter_typescript::LANGUAGE_TSX.into()),
        "cs" => (RuleLang::Csharp, tree_sitter_c_sharp::LANGUAGE.into()),
        "rs" => (RuleLang::Rust, tree_sitter_rust::LANGUAGE.into()),
        _ => return None,
    })
}

/// The node kinds of one language's grammar that the rules read.
struct Kinds {
    /// What encloses a fact (its function, for dual writes and messages).
    functions: &'static [&'static str],
    calls: &'static [&'static str],
    /// Read as calls by the rules (see [`callee_and_args`]).
    constructions: &'static [&'static str],
    strings: &'static [&'static str],
    names: &'static [&'static str],
    /// Types whose methods [`names`] qualifies with the type's name.
    classes: &'static [&'static str],
}

/// Python, Java, Go and TypeScript/JavaScript (one list: their kinds do not collide).
const SHARED: Kinds = Kinds {
    functions: &[
        "function_definition",
        "method_declaration",
        "constructor_declaration",
        "function_declaration",
        "func_literal",
        "method_definition",
        "arrow_function",
        "function_expression",
        "generator_function_declaration",
    ],
    calls: &["call", "method_invocation", "call_expression"],
    // Java's `new RestTemplate()` and TypeScript's `new CircuitBreaker(...)` (callee
    // `new RestTemplate`), Go's `http.Client{Timeout: t}` (callee `http.Client`, its fields as
    // the arguments).
    // Assignments (`client.Timeout = t` in Go, `api.defaults.timeout = 300` in TypeScript) are
    // read as calls to `client.Timeout=` with the value as the argument.
    constructions: &[
        "object_creation_expression",
        "new_expression",
        "composite_literal",
        "assignment_expression",
        "assignment_statement",
    ],
    strings: &[
        "string",
        "string_literal",
        "text_block",
        "interpreted_string_literal",
        "raw_string_literal",
        "template_string",
    ],
    names: &[
        "identifier",
        "type_identifier",
        "property_identifier",
        "field_identifier",
    ],
    classes: &["class_definition", "class_declaration", "interface_declaration"],
};

/// C# (tree-sitter-c-sharp 0.23): `new HttpClient { Timeout = t }` is read as a call to
/// `new HttpClient` with its arguments and initializer; `client.Timeout = t` (also inside an
/// initializer) as a call to `client.Timeout=` with `t` as its argument. Lambdas enclose facts
/// (a minimal API's handler is one).
const CSHARP: Kinds = Kinds {
    functions: &[
        "method_declaration",
        "constructor_declaration",
        "local_function_statement",
        "lambda_expression",
        "anonymous_method_expression",
    ],
    calls: &["invocation_expression"],
    constructions: &["object_creation_expression", "assignment_expression"],
    strings: &[
        "string_literal",
        "verbatim_string_literal",
        "raw_string_literal",
        "interpolated_string_expression",
    ],
    names: &["identifier"],
    classes: &[
        "class_declaration",
        "interface_declaration",
        "record_declaration",
        "struct_declaration",
    ],
};

/// Rust (tree-sitter-rust 0.24): a method call's callee is its receiver chain and name
/// (`reqwest::Client::builder().timeout`); `sqlx::query!(...)` is a call to `sqlx::query!`
/// with its tokens as the arguments; `Client { timeout: t }` a construction of `Client`.
const RUST: Kinds = Kinds {
    functions: &["function_item", "closure_expression"],
    calls: &["call_expression", "macro_invocation"],
    constructions: &["struct_expression"],
    strings: &["string_literal", "raw_string_literal"],
    names: &["identifier", "type_identifier", "field_identifier"],
    classes: &["impl_item", "struct_item", "trait_item"],
};

fn kinds(lang: RuleLang) -> &'static Kinds {
    match lang {
        RuleLang::Csharp => &CSHARP,
        RuleLang::Rust => &RUST,
        _ => &SHARED,
    }
}

/// The callee of a call as written, without whitespace (`self.producer.send`), and its
/// argument list's text.
fn callee_and_args<'t>(call: Node<'_>, src: &'t str) -> (String, &'t str) {
    let text = |n: Option<Node<'_>>| n.and_then(|n| src.get(n.byte_range())).unwrap_or("");
    let callee = match call.kind() {
        "object_creation_expression" | "new_expression" => {
            let ty = call
                .child_by_field_name("type")
                .or_else(|| call.child_by_field_name("constructor"));
            let ty: String = text(ty).split_whitespace().collect();
            let arguments = call.child_by_field_name("arguments");
            // C#'s object initializer (`new HttpClient { Timeout = t }`) counts with the
            // arguments (Java and TypeScript have none).
            let args = match call.child_by_field_name("initializer") {
                Some(init) => src
                    .get(arguments.unwrap_or(init).start_byte()..init.end_byte())
                    .unwrap_or(""),
                None => text(arguments),
            };
            return (format!("new {ty}"), args);
        }
        "composite_literal" => {
            let callee: String = text(call.child_by_field_name("type")).split_whitespace().collect();
            return (callee, text(call.child_by_field_name("body")));
        }
        // Rust's `Client { timeout: t }`: like Go's composite literal.
        "struct_expression" => {
            let callee: String = text(call.child_by_field_name("name")).split_whitespace().collect();
            return (callee, text(call.child_by_field_name("body")));
        }
        // C#'s `client.Timeout = t` (and `Timeout = t` in an initializer): a call to
        // `client.Timeout=` with `t` as its argument; a compound assignment (`+=`) is not one.
        "assignment_expression" | "assignment_statement" => {
            // TypeScript's plain assignment has no operator field.
            let op = text(call.child_by_field_name("operator"));
            if !op.is_empty() && op != "=" {
                return (String::new(), "");
            }
            let place: String = text(call.child_by_field_name("left")).split_whitespace().collect();
            return (format!("{place}="), text(call.child_by_field_name("right")));
        }
        // Rust's `sqlx::query!("INSERT ...", id)`: a call to `sqlx::query!`, its tokens the
        // arguments.
        "macro_invocation" => {
            let name: String = text(call.child_by_field_name("macro")).split_whitespace().collect();
            let mut c = call.walk();
            let tokens = call.named_children(&mut c).find(|n| n.kind() == "token_tree");
            return (format!("{name}!"), text(tokens));
        }
        "method_invocation" => {
            let object = text(call.child_by_field_name("object"));
            let name = text(call.child_by_field_name("name"));
            if object.is_empty() {
                name.to_string()
            } else {
                format!("{object}.{name}")
            }
        }
        _ => text(call.child_by_field_name("function")).to_string(),
    };
    let callee: String = callee.chars().filter(|c| !c.is_whitespace()).collect();
    (callee, text(call.child_by_field_name("arguments")))
}

/// `text` with the contents of its string literals removed (`"timeout=3"` becomes `""`), for
/// rules that judge code, not what strings say.
pub fn blank_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    out.push(c);
                }
            }
            None => {
                if matches!(c, '"' | '\'' | '`') {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// The source line that contains byte `at`.
fn line_of(src: &str, at: usize) -> &str {
    let at = at.min(src.len());
    let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = src[at..].find('\n').map_or(src.len(), |i| at + i);
    src.get(start..end).unwrap_or("")
}

/// Whether an identifier is in an import (`import pybreaker`, `using Polly;`) or is the name a
/// declaration gives (`class CircuitBreaker {}`, `enum BreakerState`, `object Retry = null`):
/// a name shows a guard only where the code uses it.
fn declared_or_imported(node: Node<'_>) -> bool {
    const IMPORTS: &[&str] = &[
        "import_statement",
        "import_from_statement",
        "import_declaration",
        "import_spec",
        "using_directive",
        "use_declaration",
    ];
    let mut up = node.parent();
    for _ in 0..8 {
        let Some(p) = up else { break };
        if IMPORTS.contains(&p.kind()) {
            return true;
        }
        up = p.parent();
    }
    node.parent().is_some_and(|p| {
        let kind = p.kind();
        let declares = ["declaration", "declarator", "_item", "_spec", "_definition"]
            .iter()
            .any(|s| kind.ends_with(s));
        declares && p.child_by_field_name("name").is_some_and(|n| n.id() == node.id())
    })
}

/// The name of a function node, for messages (`save`, `<anonymous>`).
fn function_name(f: Node<'_>, src: &str) -> String {
    f.child_by_field_name("name")
        .and_then(|n| src.get(n.byte_range()))
        .unwrap_or("<anonymous>")
        .to_string()
}

/// Whether a node is Rust test code: a module or function under `#[cfg(test)]`, or a
/// function marked `#[test]` (`#[tokio::test]`, ...).
fn is_rust_test(node: Node<'_>, src: &str) -> bool {
    if !matches!(node.kind(), "mod_item" | "function_item") {
        return false;
    }
    let mut prev = node.prev_sibling();
    while let Some(p) = prev {
        match p.kind() {
            "attribute_item" => {
                let a: String = src
                    .get(p.byte_range())
                    .unwrap_or("")
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                let inner = a.trim_start_matches("#[").trim_end_matches(']');
                let path = inner.split('(').next().unwrap_or("");
                if inner.starts_with("cfg(test") || path == "test" || path.ends_with("::test") {
                    return true;
                }
            }
            "line_comment" | "block_comment" => {}
            _ => break,
        }
        prev = p.prev_sibling();
    }
    false
}

/// Parses `src` and calls `visit` on every node, depth first, without recursion (deeply
/// nested code cannot overflow the stack), leaving out Rust test code (`lang` Rust). `None`
/// when the file does not parse at all.
fn each_node(src: &str, lang: RuleLang, grammar: &Language, mut visit: impl FnMut(Node<'_>)) -> Option<()> {
    let mut parser = Parser::new();
    parser.set_language(grammar).ok()?;
    let tree = parser.parse(src, None)?;
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        let skip = lang == RuleLang::Rust && is_rust_test(node, src);
        if !skip {
            visit(node);
            if cursor.goto_first_child() {
                continue;
            }
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Some(());
            }
        }
    }
}

/// The facts of one code file under the rules of its language. `None` when the file does not
/// parse at all (tree-sitter recovers from local errors, so this is rare).
pub fn facts(rel: &str, src: &str, lang: RuleLang, grammar: &Language, rules: &[&Rule]) -> Option<Vec<Fact>> {
    let k = kinds(lang);
    let mut out = Vec::new();
    // Enclosing functions: (end byte, start byte, name).
    let mut functions: Vec<(usize, usize, String)> = Vec::new();
    each_node(src, lang, grammar, |node| {
        while functions.last().is_some_and(|f| f.0 <= node.start_byte()) {
            functions.pop();
        }
        let kind = node.kind();
        if k.functions.contains(&kind) {
            functions.push((node.end_byte(), node.start_byte(), function_name(node, src)));
        }
        let mut hit = |rule: &Rule, n: Node<'_>| {
            // A call at the end of a chain that spans lines (`client.post()...\n.timeout(d)`)
            // is placed at its own name, not where the chain starts.
            let name = match (lang, n.kind()) {
                (_, "method_invocation") => n.child_by_field_name("name"),
                (RuleLang::Csharp, "invocation_expression") => n
                    .child_by_field_name("function")
                    .filter(|f| f.kind() == "member_access_expression")
                    .and_then(|f| f.child_by_field_name("name")),
                (RuleLang::Rust, "call_expression") => n
                    .child_by_field_name("function")
                    .filter(|f| f.kind() == "field_expression")
                    .and_then(|f| f.child_by_field_name("field")),
                _ => None,
            };
            let at = name
                .filter(|m| m.start_position().row > n.start_position().row)
                .unwrap_or(n);
            let p = at.start_position();
            let snippet: String = src
                .get(at.start_byte()..n.end_byte())
                .unwrap_or("")
                .chars()
                .take(120)
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            out.push(Fact {
                proof: rule.proves,
                rule: rule.id.clone(),
                file: rel.to_string(),
                line: p.row + 1,
                column: p.column + 1,
                offset: at.start_byte(),
                text: snippet,
                function: functions.last().map(|f| (f.1, f.2.clone())),
            });
        };
        if k.calls.contains(&kind) || k.constructions.contains(&kind) {
            let (callee, args) = callee_and_args(node, src);
            // Worked out only for a rule that needs them (most calls match no rule).
            let code = std::cell::OnceCell::new();
            let code = || code.get_or_init(|| blank_strings(args)).as_str();
            let line = || line_of(src, node.start_byte());
            for r in rules
                .iter()
                .filter(|r| r.call_matches(&callee, args, &code) && !r.line_excluded(&line))
            {
                hit(r, node);
            }
        } else if k.strings.contains(&kind) {
            let s = src.get(node.byte_range()).unwrap_or("");
            let line = || line_of(src, node.start_byte());
            for r in rules
                .iter()
                .filter(|r| r.patterns().strings.iter().any(|re| re.is_match(s)) && !r.line_excluded(&line))
            {
                hit(r, node);
            }
        } else if k.names.contains(&kind) {
            let s = src.get(node.byte_range()).unwrap_or("");
            // Walking up the tree costs: only for a name some rule wants.
            let wanted: Vec<&&Rule> = rules
                .iter()
                .filter(|r| r.patterns().names.iter().any(|re| re.is_match(s)))
                .collect();
            if !wanted.is_empty() && !declared_or_imported(node) {
                let line = || line_of(src, node.start_byte());
                for r in wanted.into_iter().filter(|r| !r.line_excluded(&line)) {
                    hit(r, node);
                }
            }
        }
    })?;
    Some(dedup(out))
}

/// One fact per rule and place (a call inside a string inside a call is still one place).
fn dedup(mut facts: Vec<Fact>) -> Vec<Fact> {
    facts.sort_by(|a, b| (a.offset, &a.rule).cmp(&(b.offset, &b.rule)));
    facts.dedup_by(|a, b| a.rule == b.rule && a.line == b.line);
    facts
}

/// Whether a list of facts of one function shows a write to the database followed by a
/// publish to the broker with no outbox involved: the first such (write, publish).
pub fn dual_write(facts: &[&Fact]) -> Option<(usize, usize)> {
    if facts.iter().any(|f| f.proof == Proof::OutboxWrite) {
        return None;
    }
    let w = facts.iter().position(|f| f.proof == Proof::DbWrite)?;
    let p = facts
        .iter()
        .position(|f| f.proof == Proof::BrokerPublish && f.offset > facts[w].offset)?;
    Some((w, p))
}

/// The words of an identifier or a dotted call, lower case, a plural `s` dropped
/// (`self.stock.release` -> `self stock release`; `PaymentsClient` -> `payment client`).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            prev_lower = false;
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    for w in &mut out {
        if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
            w.pop();
        }
    }
    out
}

/// A function declared without an implementation: no body (an interface method), or a body
/// that is only `...`, `pass` or `raise NotImplementedError` after its docstring (a port), C#'s
/// `throw new NotImplementedException()`, Rust's `todo!()` or `unimplemented!()`.
fn is_abstract(f: Node<'_>, lang: RuleLang, src: &str) -> bool {
    let Some(body) = f.child_by_field_name("body") else {
        return true;
    };
    let mut stmts = Vec::new();
    let mut c = body.walk();
    for child in body.named_children(&mut c) {
        if child.kind() != "comment" {
            stmts.push(child);
        }
    }
    // A Python docstring first.
    if stmts.len() > 1
        && stmts[0].kind() == "expression_statement"
        && stmts[0].named_child(0).is_some_and(|n| n.kind() == "string")
    {
        stmts.remove(0);
    }
    match stmts.as_slice() {
        [] => body.kind() == "block" && src.get(body.byte_range()).is_some_and(|t| t.trim().is_empty()),
        [only] => {
            let t = src.get(only.byte_range()).unwrap_or("").trim();
            t == "..."
                || t == "pass"
                || t.starts_with("raise NotImplementedError")
                || (lang == RuleLang::Csharp && t.starts_with("throw new NotImplementedException"))
                || (lang == RuleLang::Rust && (t.starts_with("todo!") || t.starts_with("unimplemented!")))
        }
        _ => false,
    }
}

/// The names a file defines and calls: every implemented function or method (with the class
/// or receiver it belongs to; declarations without an implementation are left out) and every
/// call's callee, as words, with their line and whether it is a call.
pub fn names(src: &str, lang: RuleLang, grammar: &Language) -> Option<Vec<(Vec<String>, usize, bool)>> {
    let k = kinds(lang);
    let text = |n: Option<Node<'_>>| n.and_then(|n| src.get(n.byte_range())).unwrap_or("");
    let mut out = Vec::new();
    // Enclosing classes: (end byte, name).
    let mut classes: Vec<(usize, String)> = Vec::new();
    each_node(src, lang, grammar, |node| {
        while classes.last().is_some_and(|c| c.0 <= node.start_byte()) {
            classes.pop();
        }
        let kind = node.kind();
        let line = node.start_position().row + 1;
        if k.classes.contains(&kind) {
            // A Rust `impl` names its type, not itself.
            let name = node
                .child_by_field_name("name")
                .or_else(|| node.child_by_field_name("type"));
            classes.push((node.end_byte(), text(name).to_string()));
        } else if k.functions.contains(&kind) {
            let name = text(node.child_by_field_name("name"));
            if !name.is_empty() && !is_abstract(node, lang, src) {
                let owner = match node.child_by_field_name("receiver") {
                    Some(r) => text(Some(r)).to_string(),
                    None => classes.last().map(|c| c.1.clone()).unwrap_or_default(),
                };
                out.push((words(&format!("{owner} {name}")), line, false));
            }
        } else if k.calls.contains(&kind) {
            let (callee, _) = callee_and_args(node, src);
            out.push((words(&callee), line, true));
        }
    })?;
    Some(out)
}
