//! `grade diff` on real API releases: three pairs of consecutive Stripe releases
//! (fixtures/diff/real/stripe), each compared with its hand-checked expected-changes file
//! (how they were made: fixtures/diff/real/README.md). Prints precision and recall per class
//! and kind; requires, per pair, precision >= 95 % and recall 100 % on breaking changes,
//! precision and recall >= 95 % on the other classes, and the right number of affected
//! operations for >= 95 % of the changes found.
//!
//! A reported change matches an expected one when both are of the same class at the same
//! place: the pair of JSON pointers (old side, new side) with trailing keywords (`/type`,
//! `/enum`, `/maxLength`, `/properties`, ...) dropped, and a variant counted as its
//! composition (`.../anyOf/3` is `...`). scripts/diff-precision.py prints the same table.

mod common;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

const KEYWORDS: &[&str] = &[
    "type",
    "enum",
    "required",
    "properties",
    "maxLength",
    "minLength",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "maxItems",
    "minItems",
    "format",
    "pattern",
    "nullable",
    "operationId",
    "default",
    "multipleOf",
    "additionalProperties",
    "parameters",
    "requestBody",
    "style",
    "explode",
];

fn strip(mut p: &str) -> String {
    loop {
        let Some((head, last)) = p.rsplit_once('/') else {
            return p.to_string();
        };
        if KEYWORDS.contains(&last) {
            p = head;
        } else if last.chars().all(|c| c.is_ascii_digit())
            && head
                .rsplit_once('/')
                .is_some_and(|(_, k)| matches!(k, "anyOf" | "oneOf" | "allOf"))
        {
            p = head.rsplit_once('/').map(|(h, _)| h).unwrap_or(head);
        } else {
            return p.to_string();
        }
    }
}

type Place = (String, String, String);

fn place(old: Option<&str>, new: Option<&str>, class: &str) -> Place {
    (strip(old.unwrap_or("")), strip(new.unwrap_or("")), class.to_string())
}

#[derive(Default)]
struct Tally {
    reported: usize,
    right: usize,
    expected: usize,
    found: usize,
}

impl Tally {
    fn precision(&self) -> f64 {
        if self.reported == 0 {
            1.0
        } else {
            self.right as f64 / self.reported as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.found as f64 / self.expected as f64
        }
    }
}

fn pointer(site: &Value) -> Option<&str> {
    site.get("pointer").and_then(Value::as_str)
}

/// Compares one pair; returns the failures (empty when the targets are met).
fn measure(old: &str, new: &str) -> Vec<String> {
    let dir = common::root().join("fixtures/diff/real/stripe");
    let expected_path = dir.join(format!("{old}--{new}.expected.json"));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    let out = common::grade(&[
        "diff",
        dir.join(format!("{old}.json")).to_str().unwrap(),
        dir.join(format!("{new}.json")).to_str().unwrap(),
        "--format",
        "json",
    ]);
    let got: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("grade diff {old} {new}: {e}\n{}", common::stderr(&out)));
    let got = got["changes"].as_array().unwrap();
    let exp = expected["changes"].as_array().unwrap();

    let mut want: HashMap<Place, Vec<u64>> = HashMap::new();
    for e in exp {
        let key = place(e["old"].as_str(), e["new"].as_str(), e["class"].as_str().unwrap());
        want.entry(key).or_default().push(e["operations"].as_u64().unwrap());
    }
    let mut have: HashMap<Place, usize> = HashMap::new();
    let mut by_class: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_kind: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let (mut ops_right, mut ops_total) = (0usize, 0usize);
    let mut wrong = Vec::new();
    for g in got {
        let class = g["class"].as_str().unwrap().to_string();
        let key = place(pointer(&g["old"]), pointer(&g["new"]), &class);
        *have.entry(key.clone()).or_default() += 1;
        let t = by_class.entry(class.clone()).or_default();
        t.reported += 1;
        let k = by_kind
            .entry((class, g["kind"].as_str().unwrap().to_string()))
            .or_default();
        k.1 += 1;
        if let Some(counts) = want.get(&key) {
            t.right += 1;
            k.0 += 1;
            ops_total += 1;
            if counts.contains(&(g["operations"].as_array().unwrap().len() as u64)) {
                ops_right += 1;
            }
        } else if wrong.len() < 20 {
            wrong.push(format!("  reported, not expected: {} {}", g["kind"], g["message"]));
        }
    }
    for e in exp {
        let class = e["class"].as_str().unwrap().to_string();
        let key = place(e["old"].as_str(), e["new"].as_str(), &class);
        let t = by_class.entry(class).or_default();
        t.expected += 1;
        if have.contains_key(&key) {
            t.found += 1;
        } else if wrong.len() < 40 {
            wrong.push(format!("  expected, not reported: {} {}", e["what"], e["reason"]));
        }
    }

    println!("{old} -> {new}");
    println!(
        "  {:18} {:>8} {:>6} {:>9} {:>8} {:>6} {:>7}",
        "class", "reported", "right", "precision", "expected", "found", "recall"
    );
    for (class, t) in &by_class {
        println!(
            "  {class:18} {:>8} {:>6} {:>8.1}% {:>8} {:>6} {:>6.1}%",
            t.reported,
            t.right,
            100.0 * t.precision(),
            t.expected,
            t.found,
            100.0 * t.recall()
        );
    }
    for ((class, kind), (right, n)) in &by_kind {
        println!("    {class:18} {kind:40} {right:>5}/{n}");
    }
    let ops = if ops_total == 0 {
        1.0
    } else {
        ops_right as f64 / ops_total as f64
    };
    println!("  operations right: {ops_right}/{ops_total}");

    let mut failures = Vec::new();
    for (class, t) in &by_class {
        let (p, r) = if class == "breaking" { (0.95, 1.0) } else { (0.95, 0.95) };
        if t.precision() < p || t.recall() < r {
            failures.push(format!(
                "{old} -> {new}: {class}: precision {:.1}% (want >= {:.0}%), recall {:.1}% (want >= {:.0}%)",
                100.0 * t.precision(),
                100.0 * p,
                100.0 * t.recall(),
                100.0 * r
            ));
        }
    }
    if ops < 0.95 {
        failures.push(format!(
            "{old} -> {new}: operations right in {:.1}% of the changes",
            100.0 * ops
        ));
    }
    if !failures.is_empty() {
        failures.extend(wrong);
    }
    failures
}

#[test]
fn stripe_2018_02_28_to_2018_05_21() {
    let f = measure("2018-02-28", "2018-05-21");
    assert!(f.is_empty(), "{}", f.join("\n"));
}

#[test]
fn stripe_2018_05_21_to_2018_07_27() {
    let f = measure("2018-05-21", "2018-07-27");
    assert!(f.is_empty(), "{}", f.join("\n"));
}

#[test]
fn stripe_2018_07_27_to_2018_09_06() {
    let f = measure("2018-07-27", "2018-09-06");
    assert!(f.is_empty(), "{}", f.join("\n"));
}

/// The matching itself: keywords and variants are dropped, the rest is kept.
#[test]
fn places_drop_keywords_and_variants() {
    assert_eq!(
        strip("/components/schemas/a/properties/b/enum"),
        "/components/schemas/a/properties/b"
    );
    assert_eq!(
        strip("/components/schemas/a/properties/b/anyOf/3"),
        "/components/schemas/a/properties/b"
    );
    assert_eq!(strip("/components/schemas/a/properties"), "/components/schemas/a");
    assert_eq!(
        strip("/paths/~1v1~1x/get/parameters/2"),
        "/paths/~1v1~1x/get/parameters/2"
    );
    assert_ne!(
        place(Some("/a"), Some("/b"), "breaking"),
        place(Some("/a"), Some("/b"), "compatible")
    );
}
