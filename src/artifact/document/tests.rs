use super::*;
use std::time::{Duration, Instant};

fn limits() -> Limits {
    Limits::default()
}

fn yaml(src: &str) -> Document {
    match Document::parse_as(Format::Yaml, "t.yaml", src, &limits()) {
        Ok(d) => d,
        Err(e) => panic!("YAML failed: {e:?}"),
    }
}

fn json(src: &str) -> Document {
    match Document::parse_as(Format::Json, "t.json", src, &limits()) {
        Ok(d) => d,
        Err(e) => panic!("JSON failed: {e:?}"),
    }
}

fn err(src: &str) -> LoadError {
    match Document::parse("t", src, &limits()) {
        Ok(d) => panic!("expected an error, got {:?}", d.value),
        Err(e) => e,
    }
}

/// The source text at a location.
fn at(d: &Document, l: Location) -> &str {
    &d.source[l.offset..l.offset + l.len]
}

#[test]
fn detects_format() {
    assert_eq!(Format::detect("  \n{\"a\":1}"), Format::Json);
    assert_eq!(Format::detect("\u{feff}[1]"), Format::Json);
    assert_eq!(Format::detect("a: 1"), Format::Yaml);
    assert_eq!(Format::detect(""), Format::Yaml);
    assert_eq!(json("[1]").format, Format::Json);
}

#[test]
fn json_locates_nested_objects_and_arrays() {
    let src = "{\n  \"info\": {\"title\": \"T\", \"version\": \"1.0\"},\n  \"tags\": [\n    {\"name\": \"a\"},\n    {\"name\": \"b\"}\n  ]\n}\n";
    let d = json(src);
    assert_eq!(d.value["tags"][1]["name"], "b");
    let l = d.locate("/info/version");
    assert_eq!((l.line, l.column), (2, 37));
    assert_eq!(at(&d, l), "\"1.0\"");
    let k = d.locate_key("/info/version").unwrap();
    assert_eq!(at(&d, k), "\"version\"");
    assert_eq!((k.line, k.column), (2, 26));
    let l = d.locate("/tags/1/name");
    assert_eq!((l.line, l.column), (5, 14));
    assert_eq!(at(&d, d.locate("/tags/1")), "{\"name\": \"b\"}");
    assert_eq!(
        at(&d, d.locate("/tags")),
        "[\n    {\"name\": \"a\"},\n    {\"name\": \"b\"}\n  ]"
    );
    let root = d.locate("");
    assert_eq!((root.line, root.column, root.offset), (1, 1, 0));
    assert_eq!(root.len, src.trim_end().len());
    assert_eq!(d.locate_key("/tags/1"), None);
    assert_eq!(d.locate_key(""), None);
    // Missing nodes fall back to the nearest ancestor.
    assert_eq!(d.locate("/info/contact/email"), d.locate("/info"));
    assert_eq!(d.locate("/tags/7"), d.locate("/tags"));
    assert_eq!(d.locate("/tags/x"), d.locate("/tags"));
    assert_eq!(d.locate_exact("/info/contact"), None);
    assert_eq!(d.locate_key("/info/contact"), None);
    assert_eq!(d.locate("#/info/version"), d.locate("/info/version"));
}

#[test]
fn wide_objects_and_arrays_locate_every_member() {
    // Wider than `WIDE`: lookups past the first children go through the lookup table.
    let n = 3 * WIDE + 5;
    let keys: Vec<String> = (0..n).map(|i| format!("k{}", (i * 7919) % 1000)).collect();
    let mut src = String::from("{\"o\": {\n");
    for (i, k) in keys.iter().enumerate() {
        src.push_str(&format!("\"{k}\": {i},\n"));
    }
    src.push_str("\"last\": 0},\n\"a\": [\n");
    for i in 0..n {
        src.push_str(&format!("{i},\n"));
    }
    src.push_str("-1]}\n");
    let d = json(&src);
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(d.locate(&format!("/o/{k}")).line, i + 2, "{k}");
        assert_eq!(d.locate_key(&format!("/o/{k}")).map(|l| l.line), Some(i + 2));
    }
    for i in 0..=n {
        let l = d.locate_exact(&format!("/a/{i}")).expect("element exists");
        assert_eq!(l.line, n + 4 + i, "element {i}");
    }
    // Missing members of wide nodes fall back to the node, as for narrow ones.
    assert_eq!(d.locate_exact("/o/k1000"), None);
    assert_eq!(d.locate("/o/zzz"), d.locate("/o"));
    assert_eq!(d.locate("/o/"), d.locate("/o"));
    assert_eq!(d.locate_exact(&format!("/a/{}", n + 1)), None);
    assert_eq!(d.locate("/a/99999999999999999999"), d.locate("/a"));
}

#[test]
fn yaml_locates_nested_objects_and_arrays() {
    let src = "openapi: 3.1.0\ninfo:\n  title: Shop\n  version: '1.0'\ntags:\n  - name: a\n  - name: b\n    description: |\n      text\npaths: {}\n";
    let d = yaml(src);
    assert_eq!(d.value["info"]["version"], "1.0");
    let l = d.locate("/info/version");
    assert_eq!((l.line, l.column), (4, 12));
    assert_eq!(at(&d, l), "'1.0'");
    let k = d.locate_key("/info/version").unwrap();
    assert_eq!((k.line, k.column), (4, 3));
    assert_eq!(at(&d, k), "version");
    let l = d.locate("/tags/1/name");
    assert_eq!((l.line, l.column), (7, 11));
    assert_eq!(at(&d, l), "b");
    assert_eq!(d.locate("/tags/1").line, 7);
    assert_eq!(d.locate("/tags").line, 6);
    assert_eq!(d.locate_key("/tags").map(|k| k.line), Some(5));
    assert_eq!(d.locate("/tags/1/description").line, 9);
    assert_eq!(at(&d, d.locate("/paths")), "{}");
    assert_eq!(d.locate("/paths/~1orders/get"), d.locate("/paths"));
    assert_eq!(d.locate_key("/tags/0"), None);
    assert_eq!(d.line_count(), 11);
}

#[test]
fn pointer_escapes() {
    let src = "{\"paths\": {\"/orders/{id}\": {\"get\": {\"x\": 1}}}, \"a~b\": {\"c/d~1\": 2}}";
    for d in [json(src), yaml(src)] {
        let l = d.locate_exact("/paths/~1orders~1{id}/get/x").unwrap();
        assert_eq!(at(&d, l), "1");
        let k = d.locate_key("/paths/~1orders~1{id}").unwrap();
        assert!(at(&d, k).contains("/orders/{id}"));
        let l = d.locate_exact("/a~0b/c~1d~01").unwrap();
        assert_eq!(at(&d, l), "2");
        // `~01` is `~1` literally, not `/`.
        assert_eq!(d.locate_exact("/a~0b/c~1d/"), None);
        assert_eq!(d.locate_exact("/a~1b"), None);
    }
    let d = yaml("paths:\n  /orders/{id}:\n    get:\n      summary: s\n");
    assert_eq!(d.locate("/paths/~1orders~1{id}/get/summary").line, 4);
    assert_eq!(escape_pointer_segment("/orders/{id}"), "~1orders~1{id}");
    assert_eq!(escape_pointer_segment("a~/b"), "a~0~1b");
    assert_eq!(escape_pointer_segment("plain"), "plain");
    for key in ["~", "/", "~~//", "é/ü~😀", "/a/", "~1", "x~0y/z"] {
        assert_eq!(unescape_pointer_segment(&escape_pointer_segment(key)), key);
        assert_eq!(escape_pointer_segment(key), key.replace('~', "~0").replace('/', "~1"));
    }
    // One pass decodes as the RFC 6901 replacements in order (`~1`, then `~0`) do.
    for seg in [
        "", "a", "~", "~0", "~1", "~01", "~10", "~~1", "~~01", "~0~1", "~2", "a~", "é~1ü~0", "~~~",
    ] {
        assert_eq!(
            unescape_pointer_segment(seg),
            seg.replace("~1", "/").replace("~0", "~"),
            "{seg:?}"
        );
    }
}

#[test]
fn multibyte_offsets_yaml() {
    let src = "title: \"café 😀 ünïcödé\"\n# é😀 comment\ninfo:\n  é😀: [ \"ß\", target ]\n  next: ok\n";
    let d = yaml(src);
    let l = d.locate("/info/é😀/1");
    assert_eq!(at(&d, l), "target");
    assert_eq!(l.line, 4);
    // Columns count characters: `  é😀: [ "ß", ` is 13 characters.
    assert_eq!(l.column, 14);
    let k = d.locate_key("/info/é😀").unwrap();
    assert_eq!(at(&d, k), "é😀");
    assert_eq!((k.line, k.column), (4, 3));
    let l = d.locate("/info/next");
    assert_eq!(at(&d, l), "ok");
    assert_eq!((l.line, l.column), (5, 9));
    // Long non-ASCII prefix (crosses many checkpoint blocks).
    let mut big = String::new();
    for i in 0..3000 {
        big.push_str(&format!("k{i}: \"é😀ü — {i}\"\n"));
    }
    big.push_str("last: value\n");
    let d = yaml(&big);
    let l = d.locate("/last");
    assert_eq!(at(&d, l), "value");
    assert_eq!((l.line, l.column), (3001, 7));
    let l = d.locate("/k2999");
    assert!(at(&d, l).starts_with("\"é😀ü"));
}

#[test]
fn multibyte_offsets_json() {
    let src = "{\"é😀\": \"ü\", \"k\": [\"😀😀\", 5]}";
    let d = json(src);
    let l = d.locate("/k/1");
    assert_eq!(at(&d, l), "5");
    assert_eq!(l.column, src[..l.offset].chars().count() + 1);
    assert_eq!(at(&d, d.locate_key("/é😀").unwrap()), "\"é😀\"");
}

#[test]
fn location_at_and_crlf() {
    let d = yaml("a: 1\r\nb:\r\n  c: 2\r\n");
    let l = d.locate("/b/c");
    assert_eq!((l.line, l.column), (3, 6));
    assert_eq!(at(&d, l), "2");
    let l = d.location_at(0, 1);
    assert_eq!((l.line, l.column), (1, 1));
    let l = d.location_at(10_000, 5);
    assert_eq!((l.offset, l.len), (d.source.len(), 0));
    let d = json("{\"a\":\n\"é\"}");
    let l = d.location_at(d.source.len(), 0);
    assert_eq!((l.line, l.column), (2, 5));
}

#[test]
fn yaml_scalars() {
    let d = yaml(
        "openapi: 3.0\nv: 3.10\ni: 42\nneg: -7\nhex: 0x1F\nt: true\nn: ~\nn2: null\nempty:\ns: hello\nq: \"3.0\"\ninf: .inf\nnan: .nan\nyes: yes\n",
    );
    let v = &d.value;
    assert!(v["openapi"].is_f64());
    assert_eq!(v["openapi"].as_f64(), Some(3.0));
    assert_eq!(v["v"].as_f64(), Some(3.1));
    assert_eq!(v["i"].as_u64(), Some(42));
    assert_eq!(v["neg"].as_i64(), Some(-7));
    assert_eq!(v["hex"].as_i64(), Some(31));
    assert_eq!(v["t"], Value::Bool(true));
    assert!(v["n"].is_null() && v["n2"].is_null() && v["empty"].is_null());
    assert!(v.as_object().unwrap().contains_key("empty"));
    assert_eq!(v["s"], "hello");
    assert_eq!(v["q"], "3.0");
    assert_eq!(v["inf"], ".inf");
    assert_eq!(v["nan"], ".nan");
    assert_eq!(v["yes"], "yes");
    assert_eq!(at(&d, d.locate("/openapi")), "3.0");
}

#[test]
fn big_integers() {
    let d = yaml("a: 18446744073709551615\nb: 18446744073709551616\nc: -9223372036854775809\nd: 123456789012345678901234567890\ne: 9223372036854775807\nf: &x 18446744073709551615\n");
    assert_eq!(d.value["a"].as_u64(), Some(u64::MAX));
    assert_eq!(d.value["b"].as_f64(), Some(18446744073709551616.0));
    assert_eq!(d.value["c"].as_f64(), Some(-9223372036854775809.0));
    assert!(d.value["d"].is_f64());
    assert_eq!(d.value["e"].as_i64(), Some(i64::MAX));
    assert_eq!(d.value["f"].as_u64(), Some(u64::MAX));
    let d = json("{\"a\": 18446744073709551615, \"b\": 18446744073709551616, \"c\": -9223372036854775809, \"d\": -5, \"e\": 1.5e3, \"f\": -0, \"g\": 1e400}".replace(", \"g\": 1e400", "").as_str());
    assert_eq!(d.value["a"].as_u64(), Some(u64::MAX));
    assert!(d.value["b"].is_f64());
    assert!(d.value["c"].is_f64());
    assert_eq!(d.value["d"].as_i64(), Some(-5));
    assert_eq!(d.value["e"].as_f64(), Some(1500.0));
    assert!(matches!(err("{\"g\": 1e400}"), LoadError::Syntax { .. }));
}

#[test]
fn yaml_keys() {
    let d = yaml("responses:\n  200: ok\n  404: missing\nflags:\n  true: 1\n  3.10: x\n");
    assert_eq!(d.value["responses"]["200"], "ok");
    assert_eq!(d.locate("/responses/404").line, 3);
    assert_eq!(d.value["flags"]["true"], 1);
    assert_eq!(d.value["flags"]["3.10"], "x");
    let e = err("? [a, b]\n: 1\n");
    match e {
        LoadError::UnsupportedYaml { location, .. } => assert_eq!(location.line, 1),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Document::parse_as(Format::Yaml, "t", "{? {a: 1} : 2}", &limits()),
        Err(LoadError::UnsupportedYaml { .. })
    ));
    assert!(matches!(
        err("a: !!binary aGVsbG8=\n"),
        LoadError::UnsupportedYaml { .. }
    ));
    // Custom tags are dropped.
    let d = yaml("a: !Ref [1, 2]\nb: !Sub x\n");
    assert_eq!(d.value["a"], serde_json::json!([1, 2]));
    assert_eq!(d.value["b"], "x");
}

/// The lean conversion of `src` (on saphyr's events), or `None` when it gives up; and what
/// the full loader gives.
type Converted = (Value, Index);

fn lean_and_full(src: &str) -> (Option<Converted>, Result<Converted, LoadError>) {
    let limits = limits();
    let text = TextMap::new(src);
    let scan = scan_yaml(src);
    let doc = src.get(..scan.doc_end).unwrap_or(src);
    let lean = LeanLoad::new(src, &text, &limits).run(Parser::new_from_str(doc));
    let full = load_yaml_document("t.yaml", src, doc, &text, &limits);
    (lean, full)
}

#[test]
fn counting_characters() {
    let src = "abcdefghé😀 üxyzñ0123456789012345678901234567😀ab€";
    for from in 0..src.len() {
        for to in from..=src.len() {
            let part = &src.as_bytes()[from..to];
            let want = part.iter().filter(|&&b| is_char_start(b)).count();
            assert_eq!(count_char_starts(part), want, "{from}..{to}");
        }
    }
}

#[test]
fn walking_to_a_character() {
    let src = "abcdefghijklmnopé😀 ü xyzxyzxyzxyzxyz ñ0123456789012345678901234567890😀";
    let b = src.as_bytes();
    let starts: Vec<usize> = src.char_indices().map(|(i, _)| i).chain([b.len()]).collect();
    for (from_ci, &from) in starts.iter().enumerate() {
        for ci in from_ci..starts.len() + 3 {
            let want = starts.get(ci).copied().unwrap_or(b.len());
            assert_eq!(walk_to_char(b, from, from_ci, ci), want, "from {from_ci} to {ci}");
        }
    }
}

#[test]
fn lean_scalars_resolve_like_saphyr() {
    let words = [
        "abc",
        "a1",
        "x0x1",
        "Yes",
        "no",
        "on",
        "off",
        "y",
        "Z9",
        "b.5",
        "d1e5",
        "g-1",
        "h+1",
        "E5",
        "e5",
        "inf",
        "Infinity",
        "nan",
        "NaN",
        "null",
        "Null",
        "NULL",
        "true",
        "True",
        "false",
        "FALSE",
        "~",
        "",
        "0x1F",
        "0o17",
        "+12",
        "-3",
        "1.5",
        "1e3",
        ".inf",
        "-.Inf",
        ".NaN",
        "12345678901234567890",
        "_x",
        "é",
    ];
    for w in words {
        for style in [ScalarStyle::Plain, ScalarStyle::SingleQuoted, ScalarStyle::DoubleQuoted] {
            assert_eq!(
                lean_scalar(Cow::Borrowed(w), style),
                resolve_scalar(Cow::Borrowed(w), style, None),
                "{w:?} {style:?}"
            );
        }
    }
}

/// Wherever the lean conversion does not give up, it gives what the full loader gives.
#[test]
fn lean_conversion_matches_the_full_loader() {
    let lean_cases = [
        "a: 1\nb: [x, 'y', \"z\"]\nc: {d: null, e: ~}\n",
        "200:\n  d: ok\n'201': x\ntrue: 1\nnull: 2\n",
        "- a\n- - b\n  - c\n- k: v\n  k2:\n    - 1.5\n    - .inf\n    - 0x1F\n",
        "text: |\n  line 1\n\n  line 2\nfolded: >-\n  a\n  b\nempty:\nlast: é😀\n",
        "# comment\n---\nkey: value # trailing\n...\n",
        "a:\r\n  b: 1\r\n  c: 'two'\r\n",
        "[1, 2, {a: b}]",
        "plain",
        "k: \"multi\n  line\"\nn: 12345678901234567890\n",
        // Text that starts like an alias (the full loader counts it as one).
        "d: |\n  **bold** text\ne: '*x'\n",
        // The first document only (the loader's `doc`).
        "a: 1\n--- \nb: 2\n",
    ];
    let full_cases = [
        "a: &x 1\nb: *x\n",
        "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",
        "a: 1\na: 2\n",
        "200: a\n'200': b\n",
        "1.0: a\n1.00: b\n",
        "? [a]\n: b\n",
        "!!str a: 1\n",
        "a: !custom x\n",
        "",
        "# only a comment\n",
    ];
    for src in lean_cases {
        let (lean, full) = lean_and_full(src);
        let (Some((lv, li)), Ok((fv, fi))) = (lean, full) else {
            panic!("expected the lean conversion to take {src:?}");
        };
        assert_eq!(lv, fv, "{src:?}");
        assert!(li.same_as(&fi), "{src:?}");
    }
    for src in full_cases {
        let (lean, _) = lean_and_full(src);
        assert!(lean.is_none(), "expected the lean conversion to give up on {src:?}");
    }
    let mut files = crate::testing::files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &["yaml", "yml"],
        5_000_000,
    );
    for name in ["openapi", "asyncapi"] {
        match crate::testing::corpus(name) {
            Some(root) => files.extend(crate::testing::files(&root, &["yaml", "yml"], 5_000_000)),
            None => eprintln!("skipping the {name} corpus: ../shared/corpus/{name} is absent"),
        }
    }
    let (mut lean_n, mut full_n) = (0, 0);
    for path in &files {
        let Ok(src) = std::fs::read_to_string(path) else {
            continue;
        };
        if src.contains('\0') {
            continue;
        }
        match lean_and_full(&src) {
            (Some((lv, li)), Ok((fv, fi))) => {
                assert_eq!(lv, fv, "{}", path.display());
                assert!(li.same_as(&fi), "{}", path.display());
                lean_n += 1;
            }
            (Some(_), Err(e)) => panic!("{}: lean conversion succeeded, full loader: {e}", path.display()),
            (None, _) => {
                let large = ["vacuum-api.github.com.yaml", "openai-f85dbe22.yaml"];
                assert!(
                    !large.iter().any(|l| path.ends_with(l)),
                    "{}: expected the lean conversion",
                    path.display()
                );
                full_n += 1
            }
        }
    }
    eprintln!("lean conversion: {lean_n} files, full loader only: {full_n}");
    assert!(lean_n >= full_n, "the lean conversion should take most files");
}

#[test]
fn duplicate_keys_yaml() {
    let src = "info:\n  title: a\n  version: '1'\n  title: b\n";
    match err(src) {
        LoadError::DuplicateKey { key, location, first } => {
            assert_eq!(key, "title");
            assert_eq!((location.line, location.column), (4, 3));
            assert_eq!((first.line, first.column), (2, 3));
            assert_eq!(&src[first.offset..first.offset + first.len], "title");
            assert_eq!(&src[location.offset..location.offset + location.len], "title");
        }
        other => panic!("{other:?}"),
    }
    // Quoted, in a flow mapping, after multi-byte text.
    let src = "x: \"é😀\"\ny: {\"k\": 1, b: 2, 'k': 3}\n";
    match err(src) {
        LoadError::DuplicateKey { key, location, first } => {
            assert_eq!(key, "k");
            assert_eq!(&src[first.offset..first.offset + first.len], "\"k\"");
            assert_eq!(&src[location.offset..location.offset + location.len], "'k'");
        }
        other => panic!("{other:?}"),
    }
    // Three times in one mapping and another duplicate elsewhere.
    let src = "a:\n  k: 1\n  k: 2\n  k: 3\nb:\n  z: 1\n  z: 2\n";
    match err(src) {
        LoadError::DuplicateKey { location, first, .. } => {
            assert_eq!((location.line, first.line), (3, 2));
        }
        other => panic!("{other:?}"),
    }
    // Equal only after conversion to strings.
    let src = "r:\n  200: a\n  \"200\": b\n";
    match err(src) {
        LoadError::DuplicateKey { key, location, first } => {
            assert_eq!(key, "200");
            assert_eq!((location.line, first.line), (3, 2));
        }
        other => panic!("{other:?}"),
    }
    // The help mentions the first position.
    let e = err("a: 1\na: 2\n");
    assert!(e.help().contains("line 1"), "{}", e.help());
    assert_eq!(e.location().map(|l| l.line), Some(2));
}

#[test]
fn duplicate_keys_json() {
    let src = "{\n  \"a\": 1,\n  \"b\": {\"x\": 1, \"x\": 2}\n}";
    match err(src) {
        LoadError::DuplicateKey { key, location, first } => {
            assert_eq!(key, "x");
            assert_eq!((location.line, location.column), (3, 17));
            assert_eq!((first.line, first.column), (3, 9));
            assert_eq!(&src[first.offset..first.offset + first.len], "\"x\"");
        }
        other => panic!("{other:?}"),
    }
    // Equal after unescaping.
    assert!(matches!(
        err("{\"a\": 1, \"\\u0061\": 2}"),
        LoadError::DuplicateKey { .. }
    ));
}

fn lol_bomb() -> String {
    let mut s = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (i, c) in ('b'..='i').enumerate() {
        let prev = (b'a' + i as u8) as char;
        s.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    s
}

#[test]
fn alias_bomb_fails_fast() {
    let t = Instant::now();
    let e = err(&lol_bomb());
    assert!(t.elapsed() < Duration::from_secs(1), "took {:?}", t.elapsed());
    assert!(
        matches!(e, LoadError::AliasLimit { .. } | LoadError::TooManyNodes { .. }),
        "{e:?}"
    );
    assert!(e.location().is_some() || matches!(e, LoadError::TooManyNodes { .. }));
    // A lower limit is enforced by the conversion.
    let small = Limits {
        max_alias_expansions: 10,
        ..Limits::default()
    };
    let src = "base: &b {x: 1, y: 2, z: 3}\nl: [*b, *b, *b, *b]\n";
    match Document::parse("t", src, &small) {
        Err(LoadError::AliasLimit { location, limit }) => {
            assert_eq!(limit, 10);
            assert_eq!(&src[location.offset..location.offset + location.len], "*b");
        }
        other => panic!("{other:?}"),
    }
    assert!(Document::parse("t", src, &Limits::default()).is_ok());
    let few = Limits {
        max_nodes: 5,
        ..Limits::default()
    };
    assert!(matches!(
        Document::parse("t", src, &few),
        Err(LoadError::TooManyNodes { limit: 5 })
    ));
    assert!(matches!(
        Document::parse("t", "[1,2,3,4,5,6]", &few),
        Err(LoadError::TooManyNodes { limit: 5 })
    ));
}

#[test]
fn alias_byte_amplification_fails_fast() {
    // Few nodes, but every alias would copy a 1 MiB string.
    let mut src = format!("a: &a \"{}\"\nb: [", "x".repeat(1 << 20));
    for _ in 0..20_000 {
        src.push_str("*a, ");
    }
    src.push_str("1]\n");
    let t = Instant::now();
    match Document::parse("t", &src, &limits()) {
        Err(LoadError::AliasLimit { location, .. }) => {
            assert_eq!(location.line, 2);
            assert_eq!(&src[location.offset..location.offset + location.len], "*a");
        }
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
    // Nested: a block mapping holding the big string, aliased through another anchor.
    let mut src = format!("big: &big\n  text: \"{}\"\nmid: &mid\n", "y".repeat(1 << 20));
    for i in 0..20 {
        src.push_str(&format!("  k{i}: *big\n"));
    }
    src.push_str("list:\n");
    for _ in 0..20 {
        src.push_str("  - *mid\n");
    }
    assert!(matches!(
        Document::parse("t", &src, &limits()),
        Err(LoadError::AliasLimit { .. })
    ));
    // Ordinary use of anchors is unaffected, and `*`/`&` in text are not mistaken for them.
    let d = yaml("x: &x {a: 1}\ny: [*x, *x]\nd: \"Tom & Jerry *bold* &amp;\"\ne: a*b&c\n");
    assert_eq!(d.value["y"][1]["a"], 1);
    assert_eq!(d.value["d"], "Tom & Jerry *bold* &amp;");
}

#[test]
fn aliases_expand_and_locate() {
    let d = yaml("defs:\n  s: &s {type: string}\nuse:\n  a: *s\n  b: *s\n");
    assert_eq!(d.value["use"]["b"]["type"], "string");
    assert_eq!(at(&d, d.locate("/use/a")), "*s");
    // Inside an alias, positions are those of the anchored text.
    assert_eq!(d.locate("/use/a/type").line, 2);
}

#[test]
fn merge_keys() {
    let src = "base: &base\n  a: 1\n  b: 2\nother: &o {c: 3, a: 9}\nx:\n  <<: *base\n  b: 20\ny:\n  <<: [*o, *base]\n  d: 4\nz:\n  \"<<\": 5\n";
    let d = yaml(src);
    assert_eq!(d.value["x"], serde_json::json!({"b": 20, "a": 1}));
    assert_eq!(d.value["y"], serde_json::json!({"d": 4, "c": 3, "a": 9, "b": 2}));
    assert_eq!(d.value["z"], serde_json::json!({"<<": 5}));
    assert_eq!(d.locate("/x/b").line, 7);
    assert_eq!(d.locate("/x/a").line, 2);
    assert_eq!(d.locate_key("/y/c").map(|l| l.line), Some(4));
    // A `<<` whose value cannot be merged stays a key.
    let d = yaml("a:\n  <<: 5\n");
    assert_eq!(d.value["a"]["<<"], 5);
}

#[test]
fn deep_nesting_json() {
    let t = Instant::now();
    let deep = "[".repeat(100_000);
    match err(&deep) {
        LoadError::TooDeep { location, limit } => {
            assert_eq!(limit, 256);
            assert_eq!(location.column, 257);
        }
        other => panic!("{other:?}"),
    }
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(err(&deep), LoadError::TooDeep { .. }));
    let deep = "{\"a\":".repeat(100_000);
    assert!(matches!(err(&deep), LoadError::TooDeep { .. }));
    assert!(t.elapsed() < Duration::from_secs(5));
    // Exactly at the limit is fine.
    let ok = format!("{}{}", "[".repeat(256), "]".repeat(256));
    assert!(Document::parse("t", &ok, &limits()).is_ok());
    let over = format!("{}{}", "[".repeat(257), "]".repeat(257));
    assert!(matches!(err(&over), LoadError::TooDeep { .. }));
    // A larger limit runs on a helper thread.
    let l = Limits {
        max_depth: 5000,
        ..Limits::default()
    };
    let ok = format!("{}{}", "[".repeat(4000), "]".repeat(4000));
    assert!(Document::parse("t", &ok, &l).is_ok());
    // An unbounded limit is clamped to what the stack can hold.
    let l = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    assert!(Document::parse("t", "{\"a\": [1]}", &l).is_ok());
    assert!(Document::parse("t", "a: [1]", &l).is_ok());
    assert!(matches!(
        Document::parse("t", &"[".repeat(100_000), &l),
        Err(LoadError::TooDeep {
            limit: MAX_DEPTH_CAP,
            ..
        })
    ));
}

#[test]
fn deep_nesting_yaml() {
    let t = Instant::now();
    // Flow: saphyr stops at 255 levels.
    for deep in ["[".repeat(100_000), format!("a: {}", "{a: ".repeat(100_000))] {
        let e = Document::parse_as(Format::Yaml, "t", &deep, &limits()).unwrap_err();
        assert!(
            matches!(e, LoadError::TooDeep { .. } | LoadError::Syntax { .. }),
            "{e:?}"
        );
    }
    // Block sequences on one line.
    let deep = format!("{}x\n", "- ".repeat(100_000));
    assert!(matches!(err(&deep), LoadError::TooDeep { .. }));
    // Block mappings, one level per line.
    let mut deep = String::new();
    for i in 0..3000 {
        deep.push_str(&" ".repeat(i));
        deep.push_str("k:\n");
    }
    match err(&deep) {
        LoadError::TooDeep { location, limit } => {
            assert_eq!(limit, 256);
            assert_eq!(location.line, 257);
        }
        other => panic!("{other:?}"),
    }
    // Leading block indicators after a BOM are counted too.
    let deep = format!("\u{feff}{}x\n", "- ".repeat(100_000));
    assert!(matches!(err(&deep), LoadError::TooDeep { .. }));
    // Lines separated by lone CRs.
    let deep = format!("a:\r{}- x\r", " ".repeat(200_000));
    assert!(Document::parse("t", &deep, &limits()).is_err());
    assert!(t.elapsed() < Duration::from_secs(10));
    // Within the limit.
    let mut ok = String::new();
    for i in 0..200 {
        ok.push_str(&" ".repeat(i));
        ok.push_str("k:\n");
    }
    assert!(Document::parse("t", &ok, &limits()).is_ok());
    let ok = format!("{}x\n", "- ".repeat(250));
    let d = yaml(&ok);
    assert_eq!(d.locate(&"/0".repeat(250)).column, 501);
}

#[test]
fn binary_utf8_size_empty() {
    assert!(matches!(
        Document::from_bytes("x", b"a: 1\0", &limits()),
        Err(LoadError::Binary)
    ));
    assert!(matches!(
        Document::parse("x", "{\"a\": \"\0\"}", &limits()),
        Err(LoadError::Binary)
    ));
    match Document::from_bytes("x", b"a: caf\xe9\n", &limits()) {
        Err(LoadError::NotUtf8 { offset }) => assert_eq!(offset, 6),
        other => panic!("{other:?}"),
    }
    let small = Limits {
        max_bytes: 4,
        ..Limits::default()
    };
    assert!(matches!(
        Document::from_bytes("x", b"a: 12", &small),
        Err(LoadError::TooLarge { bytes: 5, limit: 4 })
    ));
    for src in ["", "  \n\t\n", "# only a comment\n", "---\n", "---\n...\n", "\u{feff}"] {
        assert!(matches!(err(src), LoadError::Empty), "{src:?}");
    }
    assert!(matches!(
        Document::parse_as(Format::Json, "x", " \n", &limits()),
        Err(LoadError::Empty)
    ));
    assert!(Document::from_bytes("x", "\u{feff}{\"a\": 1}".as_bytes(), &limits()).is_ok());
    assert_eq!(yaml("\u{feff}a: 1\n").value["a"], 1);
    assert!(LoadError::Binary.location().is_none());
    assert!(!LoadError::Empty.help().is_empty());
}

#[test]
fn multi_document_stream_takes_the_first() {
    let d = yaml("a: 1\n---\nb: 2\n");
    assert_eq!(d.value, serde_json::json!({"a": 1}));
    let d = yaml("%YAML 1.2\n---\na: 1\n...\n---\nb: [\n");
    assert_eq!(d.value, serde_json::json!({"a": 1}));
    // Later documents are not even parsed.
    let d = yaml("---\na: 1\n--- \nbroken: [\nx: {\n");
    assert_eq!(d.value["a"], 1);
    let d = yaml("--- {a: 1}\n--- {b: 2}\n");
    assert_eq!(d.value, serde_json::json!({"a": 1}));
}

#[test]
fn json_syntax_errors() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("{\n  \"a\": 1,\n  \"b\": }", 3, 8, "expected a value"),
        ("{\"a\": 1,}", 1, 8, "trailing comma"),
        ("[1, 2,]", 1, 6, "trailing comma"),
        ("{\"a\": 1\n \"b\": 2}", 2, 2, "expected `,` or `}`"),
        ("{'a': 1}", 1, 2, "double quotes"),
        ("{a: 1}", 1, 2, "double quotes"),
        ("{\"a\": 1 // c\n}", 1, 9, "expected `,` or `}`"),
        ("[1, /* c */ 2]", 1, 5, "comments"),
        ("{\"a\": NaN}", 1, 7, "unexpected `NaN`"),
        ("{\"a\": True}", 1, 7, "unexpected `True`"),
        ("{\"a\": 01}", 1, 7, "leading zeros"),
        ("{\"a\": \"x\ny\"}", 1, 9, "control character"),
        ("{\"a\": \"\\x\"}", 1, 8, "escape"),
        ("{\"a\": \"\\ud800\"}", 1, 8, "surrogate"),
        ("{\"a\": [1, 2}", 1, 12, "expected `,` or `]`"),
        ("{\"a\": 1}}", 1, 9, "after the end"),
        ("{\"a\": 1} x", 1, 10, "after the end"),
        ("{\"é\": 1 \"b\"}", 1, 9, "expected `,` or `}`"),
    ];
    for &(src, line, column, needle) in cases {
        match Document::parse_as(Format::Json, "t.json", src, &limits()) {
            Err(LoadError::Syntax {
                message,
                location,
                help,
            }) => {
                assert!(message.contains(needle), "{src:?}: {message}");
                assert_eq!((location.line, location.column), (line, column), "{src:?}: {message}");
                assert!(!help.is_empty());
            }
            other => panic!("{src:?}: {other:?}"),
        }
    }
    match err("{\n  \"a\": [1,\n") {
        LoadError::Syntax { location, help, .. } => {
            assert_eq!((location.line, location.column), (3, 1));
            assert!(help.contains("line 2, column 8"), "{help}");
        }
        other => panic!("{other:?}"),
    }
    match err("{\"a\": \"abc") {
        LoadError::Syntax { help, .. } => assert!(help.contains("line 1, column 7"), "{help}"),
        other => panic!("{other:?}"),
    }
    let d = json("{\"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"e\": \"\"}");
    assert_eq!(d.value["s"], "a\"b\\c/\né😀");
    assert_eq!(d.value["e"], "");
}

#[test]
fn json_matches_serde_json() {
    let src = r#"{"a": [1, -2, 3.5, -0.0, 1e-7, 12345678901234567890, true, false, null, {}],
        "b": {"c": "d", "nested": [[], [{}], {"x": [1e2]}]}, "u": "\u00e9\t"}"#;
    let d = json(src);
    let expected: Value = serde_json::from_str(src).unwrap();
    assert_eq!(d.value, expected);
    assert_eq!(
        serde_json::to_string(&d.value).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
}

#[test]
fn yaml_syntax_errors() {
    match err("info:\n  title: a\n   bad: b\n") {
        LoadError::Syntax {
            message,
            location,
            help,
        } => {
            assert!(message.starts_with("invalid YAML"), "{message}");
            assert_eq!(location.line, 3);
            assert!(!help.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match err("a: b: c\n") {
        LoadError::Syntax { location, help, .. } => {
            assert_eq!((location.line, location.column), (1, 5));
            assert!(help.contains("quote"), "{help}");
        }
        other => panic!("{other:?}"),
    }
    match err("a:\n\tb: 1\n") {
        LoadError::Syntax { location, help, .. } => {
            assert_eq!(location.line, 2);
            assert!(help.contains("tab"), "{help}");
        }
        other => panic!("{other:?}"),
    }
    match err("é😀: x\nb: *nope\n") {
        LoadError::Syntax { location, .. } => {
            assert_eq!((location.line, location.column), (2, 4));
            assert_eq!(location.offset, "é😀: x\nb: ".len());
        }
        other => panic!("{other:?}"),
    }
    match Document::parse("api.json", "openapi: [\n", &limits()) {
        Err(LoadError::Syntax { help, .. }) => assert!(help.contains("api.json"), "{help}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn scan_bounds_depth() {
    let s = scan_yaml("a:\n  - - - x\n");
    assert_eq!(s.max_col, 8);
    assert!(s.has_content);
    let s = scan_yaml("# c\n%YAML 1.2\n---\n");
    assert!(!s.has_content);
    let s = scan_yaml("a: 1\n---\nb: 2\n");
    assert_eq!(s.doc_end, 5);
}

/// Loads every document of the shared OpenAPI corpus: none may panic, and JSON documents
/// that serde_json reads must give the same value.
#[test]
fn corpus_loads_without_panic() {
    let Some(root) = crate::testing::corpus("openapi") else {
        return;
    };
    let (mut ok, mut failed) = (0, 0);
    for path in crate::testing::files(&root, crate::testing::DOCUMENTS, u64::MAX) {
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let name = path.display().to_string();
        match Document::from_bytes(&name, &bytes, &limits()) {
            Ok(d) => {
                ok += 1;
                if d.format == Format::Json {
                    if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                        assert!(v == d.value, "{name}: value differs from serde_json");
                    }
                }
                if let Some(obj) = d.value.as_object() {
                    for k in obj.keys().take(5) {
                        let p = format!("/{}", escape_pointer_segment(k));
                        assert!(d.locate_exact(&p).is_some(), "{name}: {p}");
                        let kl = d.locate_key(&p);
                        assert!(kl.is_some_and(|l| l.line >= 1), "{name}: key {p}");
                    }
                }
            }
            Err(e) => {
                failed += 1;
                let _ = (e.help(), e.location(), e.to_string());
            }
        }
    }
    println!("corpus: {ok} loaded, {failed} rejected");
    assert!(ok > 0);
}

#[test]
fn yaml_loader_matches_saphyr() {
    // Merges through aliases, lists of mappings and nested `<<`; explicit keys win.
    let d = yaml("a: &a {p: 1, <<: {q: 2}}\nb: &b {q: 3, r: 4}\nm:\n  <<: [*a, *b]\n  r: 5\n");
    assert_eq!(d.value["m"], serde_json::json!({"r": 5, "p": 1, "q": 2}));
    assert_eq!(d.locate("/m/p").line, 1);
    assert_eq!(d.locate_key("/m/r").map(|l| l.line), Some(5));
    // A custom tag is dropped; the value is located with its tag.
    let d = yaml("x: !foo bar\ny: !foo [1]\n");
    assert_eq!(d.value, serde_json::json!({"x": "bar", "y": [1]}));
    assert_eq!(at(&d, d.locate("/x")), "!foo bar");
    // Keys saphyr finds equal: floats by value, aliases by their anchor.
    assert!(matches!(err("1.0: a\n1.00: b\n"), LoadError::DuplicateKey { .. }));
    match err("&a a: 1\n*a : 2\n") {
        LoadError::DuplicateKey { location, first, .. } => assert_eq!((location.line, first.line), (2, 1)),
        other => panic!("{other:?}"),
    }
    // saphyr's checks cover the whole document, before the conversion's errors; syntax errors
    // come first of all.
    assert!(matches!(
        err("b: !!int x\na: 1\na: 2\n"),
        LoadError::DuplicateKey { .. }
    ));
    assert!(matches!(err("a: 1\na: 2\nb: [1\n"), LoadError::Syntax { .. }));
    assert!(matches!(err("b: !!int x\n"), LoadError::UnsupportedYaml { .. }));
    // An alias to an anchor that is not complete yet is not a value.
    assert!(matches!(err("a: &a [*a]\n"), LoadError::UnsupportedYaml { .. }));
}
