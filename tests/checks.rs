//! Every check runs over its fixtures in `fixtures/checks/<ID>/<case>/` with default
//! parameters; the outcome and findings are snapshotted. The registry test makes sure each
//! check has a `pass` and a `fail` case, and here we assert they pass and fail.

use std::fmt::Write;
use std::path::Path;

use grade::artifact::Artifacts;
use grade::checks::{registry, Ctx, Outcome};
use grade::model::SystemModel;
use grade::submission::Submission;

fn render(result: &grade::checks::CheckResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "outcome: {:?}", result.outcome);
    if let Some(c) = result.credit {
        let _ = writeln!(s, "credit: {c:.3}");
    }
    if let Some(r) = &result.reason {
        let _ = writeln!(s, "reason: {r}");
    }
    for e in &result.evidence {
        let _ = writeln!(s, "evidence: {e}");
    }
    let mut findings = result.findings.clone();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    for f in &findings {
        let at = match (&f.file, f.line, f.column) {
            (Some(file), Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (Some(file), _, _) => file.clone(),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "- {at}{} {}",
            f.pointer.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default(),
            f.message
        );
        if let Some(h) = &f.help {
            let _ = writeln!(s, "  help: {h}");
        }
    }
    s
}

#[test]
fn every_check_over_its_fixtures() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/checks");
    for check in registry() {
        let id = check.info().id;
        let dir = base.join(id);
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{id}: no fixture folder {}: {e}", dir.display()))
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        cases.sort();
        for case in cases {
            let sub = Submission::load(&dir.join(&case))
                .unwrap_or_else(|e| panic!("{id}/{case}: {}", e.to_diagnostic().render_plain()));
            let artifacts = Artifacts::load(&sub);
            let model = SystemModel::build(&sub);
            let ctx = Ctx {
                submission: &sub,
                artifacts: &artifacts,
                model: &model,
            };
            let result = check.run(&ctx, &check.default_params());
            if case == "pass" {
                assert_eq!(
                    result.outcome,
                    Outcome::Passed,
                    "{id}/pass should pass:\n{}",
                    render(&result)
                );
            }
            if case.starts_with("fail") {
                assert_eq!(
                    result.outcome,
                    Outcome::Failed,
                    "{id}/{case} should fail:\n{}",
                    render(&result)
                );
                assert!(!result.findings.is_empty(), "{id}/{case}: a failure must say why");
            }
            insta::assert_snapshot!(format!("{id}-{case}"), render(&result));
        }
    }
}
