//! Reading code with tree-sitter: calls, string literals and names, each placed in the
//! function that contains it, matched against the rules of the file's language.

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
        _ => return None,
    })
}

const FUNCTIONS: &[&str] = &[
    "function_definition",
    "method_declaration",
    "constructor_declaration",
    "function_declaration",
    "func_literal",
    "method_definition",
    "arrow_function",
    "function_expression",
    "generator_function_declaration",
];
const CALLS: &[&str] = &["call", "method_invocation", "call_expression"];
/// Constructions, read as calls by the rules: Java's `new RestTemplate()` and TypeScript's
/// `new CircuitBreaker(...)` (callee `new RestTemplate`), Go's `http.Client{Timeout: t}`
/// (callee `http.Client`, its fields as the arguments).
const CONSTRUCTIONS: &[&str] = &["object_creation_expression", "new_expression", "composite_literal"];
const STRINGS: &[&str] = &[
    "string",
    "string_literal",
    "text_block",
    "interpreted_string_literal",
    "raw_string_literal",
    "template_string",
];
const NAMES: &[&str] = &[
    "identifier",
    "type_identifier",
    "property_identifier",
    "field_identifier",
];

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
            return (format!("new {ty}"), text(call.child_by_field_name("arguments")));
        }
        "composite_literal" => {
            let callee: String = text(call.child_by_field_name("type")).split_whitespace().collect();
            return (callee, text(call.child_by_field_name("body")));
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

/// The name of a function node, for messages (`save`, `<anonymous>`).
fn function_name(f: Node<'_>, src: &str) -> String {
    f.child_by_field_name("name")
        .and_then(|n| src.get(n.byte_range()))
        .unwrap_or("<anonymous>")
        .to_string()
}

/// Parses `src` and calls `visit` on every node, depth first, without recursion (deeply
/// nested code cannot overflow the stack). `None` when the file does not parse at all.
fn each_node(src: &str, grammar: &Language, mut visit: impl FnMut(Node<'_>)) -> Option<()> {
    let mut parser = Parser::new();
    parser.set_language(grammar).ok()?;
    let tree = parser.parse(src, None)?;
    let mut cursor = tree.walk();
    loop {
        visit(cursor.node());
        if cursor.goto_first_child() {
            continue;
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
pub fn facts(rel: &str, src: &str, grammar: &Language, rules: &[&Rule]) -> Option<Vec<Fact>> {
    let mut out = Vec::new();
    // Enclosing functions: (end byte, start byte, name).
    let mut functions: Vec<(usize, usize, String)> = Vec::new();
    each_node(src, grammar, |node| {
        while functions.last().is_some_and(|f| f.0 <= node.start_byte()) {
            functions.pop();
        }
        let kind = node.kind();
        if FUNCTIONS.contains(&kind) {
            functions.push((node.end_byte(), node.start_byte(), function_name(node, src)));
        }
        let mut hit = |rule: &Rule, n: Node<'_>| {
            // A call at the end of a chain that spans lines (`client.post()...\n.timeout(d)`)
            // is placed at its own name, not where the chain starts.
            let at = match n.kind() {
                "method_invocation" => n
                    .child_by_field_name("name")
                    .filter(|m| m.start_position().row > n.start_position().row)
                    .unwrap_or(n),
                _ => n,
            };
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
        if CALLS.contains(&kind) || CONSTRUCTIONS.contains(&kind) {
            let (callee, args) = callee_and_args(node, src);
            for r in rules.iter().filter(|r| r.call_matches(&callee, args)) {
                hit(r, node);
            }
        } else if STRINGS.contains(&kind) {
            let s = src.get(node.byte_range()).unwrap_or("");
            for r in rules.iter().filter(|r| r.strings.iter().any(|re| re.is_match(s))) {
                hit(r, node);
            }
        } else if NAMES.contains(&kind) {
            let s = src.get(node.byte_range()).unwrap_or("");
            for r in rules.iter().filter(|r| r.names.iter().any(|re| re.is_match(s))) {
                hit(r, node);
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

const CLASSES: &[&str] = &["class_definition", "class_declaration", "interface_declaration"];

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
/// that is only `...`, `pass` or `raise NotImplementedError` after its docstring (a port).
fn is_abstract(f: Node<'_>, src: &str) -> bool {
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
            t == "..." || t == "pass" || t.starts_with("raise NotImplementedError")
        }
        _ => false,
    }
}

/// The names a file defines and calls: every implemented function or method (with the class
/// or receiver it belongs to; declarations without an implementation are left out) and every
/// call's callee, as words, with their line and whether it is a call.
pub fn names(src: &str, grammar: &Language) -> Option<Vec<(Vec<String>, usize, bool)>> {
    let text = |n: Option<Node<'_>>| n.and_then(|n| src.get(n.byte_range())).unwrap_or("");
    let mut out = Vec::new();
    // Enclosing classes: (end byte, name).
    let mut classes: Vec<(usize, String)> = Vec::new();
    each_node(src, grammar, |node| {
        while classes.last().is_some_and(|c| c.0 <= node.start_byte()) {
            classes.pop();
        }
        let kind = node.kind();
        let line = node.start_position().row + 1;
        if CLASSES.contains(&kind) {
            classes.push((node.end_byte(), text(node.child_by_field_name("name")).to_string()));
        } else if FUNCTIONS.contains(&kind) {
            let name = text(node.child_by_field_name("name"));
            if !name.is_empty() && !is_abstract(node, src) {
                let owner = match node.child_by_field_name("receiver") {
                    Some(r) => text(Some(r)).to_string(),
                    None => classes.last().map(|c| c.1.clone()).unwrap_or_default(),
                };
                out.push((words(&format!("{owner} {name}")), line, false));
            }
        } else if CALLS.contains(&kind) {
            let (callee, _) = callee_and_args(node, src);
            out.push((words(&callee), line, true));
        }
    })?;
    Some(out)
}
