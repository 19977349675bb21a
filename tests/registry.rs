//! The registry's invariants: unique ids and names, id prefixes match areas, docs with the
//! four headings citing the curriculum, documented parameters that match the defaults, and a
//! pass and a fail fixture for every check.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use grade::checks::{registry, DOC_HEADINGS};

#[test]
fn ids_and_names_are_unique_and_well_formed() {
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for c in registry() {
        let i = c.info();
        assert!(ids.insert(i.id), "duplicate id {}", i.id);
        assert!(names.insert(i.name), "duplicate name {}", i.name);
        let prefix = i.area.prefix();
        let digits =
            i.id.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{} must start with {prefix}", i.id));
        assert!(
            digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit()),
            "{}: area prefix + 3 digits",
            i.id
        );
        assert!(
            i.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !i.name.starts_with('-'),
            "{}: name `{}` must be kebab-case",
            i.id,
            i.name
        );
        assert!(
            !i.summary.is_empty() && !i.summary.ends_with('.'),
            "{}: a one-line summary without a full stop",
            i.id
        );
    }
}

#[test]
fn docs_have_the_four_headings_in_order_and_cite_the_curriculum() {
    for c in registry() {
        let i = c.info();
        let mut at = 0;
        for h in DOC_HEADINGS {
            let pos = i.docs[at..]
                .find(h)
                .unwrap_or_else(|| panic!("{}: docs lack `{h}` (in order)", i.id));
            at += pos + h.len();
        }
        let why = i
            .docs
            .split("## Why it matters")
            .nth(1)
            .and_then(|s| s.split("## How to fix").next())
            .unwrap_or("");
        assert!(
            why.contains("Week") || why.contains("Phase") || why.contains("capstone"),
            "{}: `Why it matters` must cite the curriculum week",
            i.id
        );
        let example = i.docs.split("## Example").nth(1).unwrap_or("");
        assert!(example.contains("```"), "{}: the example needs a code block", i.id);
    }
}

#[test]
fn parameters_are_documented_and_match_defaults() {
    for c in registry() {
        let i = c.info();
        let defaults = c.default_params();
        let documented: BTreeSet<&str> = i.params.iter().map(|p| p.name).collect();
        let actual: BTreeSet<&str> = defaults.keys().map(String::as_str).collect();
        assert_eq!(
            documented, actual,
            "{}: documented parameters must match the parameter struct",
            i.id
        );
        // Defaults round-trip, and unknown parameters are rejected.
        assert_eq!(c.resolve_params(defaults.clone()).unwrap(), defaults, "{}", i.id);
        let mut bad = defaults.clone();
        bad.insert("no_such_param".into(), toml::Value::Integer(1));
        assert!(c.resolve_params(bad).is_err(), "{}: unknown parameter accepted", i.id);
    }
}

#[test]
fn every_check_has_pass_and_fail_fixtures() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/checks");
    for c in registry() {
        let id = c.info().id;
        for case in ["pass", "fail"] {
            let dir = base.join(id).join(case);
            assert!(dir.is_dir(), "{id}: missing fixture {}", dir.display());
        }
    }
}

#[test]
fn lookup_by_id_and_name() {
    for c in registry() {
        let i = c.info();
        assert_eq!(grade::checks::find(i.id).map(|c| c.info().id), Some(i.id));
        assert_eq!(
            grade::checks::find(&i.id.to_lowercase()).map(|c| c.info().id),
            Some(i.id)
        );
        assert_eq!(grade::checks::find(i.name).map(|c| c.info().id), Some(i.id));
    }
    // A typo one edit from exactly one id; an area and a number written with fewer zeros
    // mean that number (`ARCH02` is one edit from ARCH002 and from ARCH012 alike).
    assert_eq!(grade::checks::suggest("ARCH0002"), Some("ARCH002"));
    assert_eq!(
        grade::checks::suggest("ARCH02"),
        Some("ARCH002"),
        "the number, not a neighbour"
    );
    assert_eq!(grade::checks::suggest("oas7"), Some("OAS007"));
    assert_eq!(grade::checks::suggest("sync-call-cycles"), Some("sync-call-cycle"));
}

/// Absence never earns credit (DESIGN section 13): every check run over a submission that
/// declares nothing (a manifest with only its checkpoint) is absent, not applicable or failed,
/// never passed; "0 of 0" passes nothing. The one exception is the check that judges the
/// manifest's existence itself.
#[test]
fn no_check_passes_on_an_empty_submission() {
    use grade::checks::Outcome;

    const MAY_PASS: [&str; 1] = ["SUB001"]; // manifest-missing: the manifest is there
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("registry-empty-submission");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("submission.toml"), "[submission]\ncheckpoint = \"phase2\"\n").unwrap();
    let mut passed = Vec::new();
    for c in registry() {
        let id = c.info().id;
        let r = common::run_check(*c, &dir);
        match r.outcome {
            Outcome::Passed if !MAY_PASS.contains(&id) => passed.push(id),
            Outcome::Failed => assert!(
                r.absent || r.reason.is_some() || !r.findings.is_empty(),
                "{id}: a failure says why"
            ),
            Outcome::Errored => panic!("{id} errored on an empty submission: {:?}", r.reason),
            _ => {}
        }
    }
    assert!(
        passed.is_empty(),
        "these checks pass on an empty submission: {passed:?}"
    );
}
