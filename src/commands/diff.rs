//! `grade diff OLD NEW [--format text|json|markdown]`: compare two versions of an OpenAPI
//! description and classify every change as breaking or compatible (docs/diff.md).
//!
//! The files may be anywhere on disk; each one's relative `$ref`s are resolved against its
//! own folder and may not leave it. Exit codes: 0 no breaking change, 1 breaking changes
//! (with `--fail-on possibly-breaking`: or possibly breaking ones), 2 (an error, rendered by
//! `main`) a file cannot be loaded.

use std::path::Path;

use crate::evo::render::{DiffFormat, FailOn};

use crate::commands::Io;
use crate::error::Result;
use crate::evo::render::diff_files;
use crate::exit;

pub fn run(old: &Path, new: &Path, format: DiffFormat, fail_on: FailOn, io: &mut Io<'_>) -> Result<i32> {
    let out = diff_files(old, new, format, io.color)?;
    io.write(&out.text)?;
    let failing = match fail_on {
        FailOn::Breaking => out.breaking,
        FailOn::PossiblyBreaking => out.breaking + out.possibly_breaking,
    };
    Ok(if failing > 0 { exit::FAILED } else { exit::PASSED })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(case: &str, file: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/diff")
            .join(case)
            .join(file)
    }

    fn run_to_string(old: &Path, new: &Path, format: DiffFormat) -> (Result<i32>, String) {
        run_failing_on(old, new, format, FailOn::Breaking)
    }

    fn run_failing_on(old: &Path, new: &Path, format: DiffFormat, fail_on: FailOn) -> (Result<i32>, String) {
        let mut buf: Vec<u8> = Vec::new();
        let code = {
            let mut io = Io::new(&mut buf, false);
            run(old, new, format, fail_on, &mut io)
        };
        (code, String::from_utf8_lossy(&buf).into_owned())
    }

    #[test]
    fn possibly_breaking_changes_fail_only_when_asked() {
        // A `oneOf` gaining an overlapping variant: possibly breaking, nothing breaking.
        let (old, new) = (
            fixture("composition-oneof-overlap", "old.yaml"),
            fixture("composition-oneof-overlap", "new.yaml"),
        );
        let (code, out) = run_to_string(&old, &new, DiffFormat::Text);
        assert_eq!(code.unwrap(), 0, "{out}");
        assert!(out.contains("Possibly breaking changes (1)"), "{out}");
        assert!(out.contains(": possibly breaking\n"), "{out}");
        let (code, _) = run_failing_on(&old, &new, DiffFormat::Text, FailOn::PossiblyBreaking);
        assert_eq!(code.unwrap(), 1);
        let (_, json) = run_to_string(&old, &new, DiffFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["summary"]["breaking"], 0);
        assert_eq!(v["summary"]["possibly_breaking"], 1);
        let classes: Vec<&str> = v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["class"].as_str().unwrap())
            .collect();
        assert_eq!(classes[0], "possibly-breaking", "{classes:?}");
        assert_eq!(v["changes"][0]["breaking"], false);
        // Nothing at all: 0 either way.
        let (code, _) = run_failing_on(&old, &old, DiffFormat::Text, FailOn::PossiblyBreaking);
        assert_eq!(code.unwrap(), 0);
    }

    #[test]
    fn exit_codes_and_formats() {
        // Breaking changes: 1, in every format.
        let (old, new) = (fixture("responses", "old.json"), fixture("responses", "new.json"));
        for format in [DiffFormat::Text, DiffFormat::Json, DiffFormat::Markdown] {
            let (code, out) = run_to_string(&old, &new, format);
            assert_eq!(code.unwrap(), 1, "{format:?}");
            assert!(out.contains("response-property-removed"), "{format:?}: {out}");
        }
        let (_, json) = run_to_string(&old, &new, DiffFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["summary"]["breaking"], 11);
        assert_eq!(v["summary"]["possibly_breaking"], 2);
        // A document against itself: nothing breaks, 0.
        let (code, out) = run_to_string(&old, &old, DiffFormat::Text);
        assert_eq!(code.unwrap(), 0);
        assert!(
            out.contains("0 breaking changes, 0 possibly breaking changes, 0 compatible changes"),
            "{out}"
        );
    }

    #[test]
    fn unloadable_files_are_errors() {
        let good = fixture("paths", "old.yaml");
        let missing = fixture("paths", "no-such-file.yaml");
        let (code, out) = run_to_string(&good, &missing, DiffFormat::Text);
        let e = code.expect_err("a missing file is an error (exit code 2)");
        assert!(
            e.to_diagnostic().message.contains("new document"),
            "{}",
            e.to_diagnostic().message
        );
        assert!(out.is_empty());
        let dir = std::env::temp_dir().join(format!("grade-diff-cmd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let swagger = dir.join("swagger.yaml");
        std::fs::write(&swagger, "swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths: {}\n").unwrap();
        let broken = dir.join("broken.yaml");
        std::fs::write(&broken, "openapi: 3.1.0\ninfo: {title: T\n").unwrap();
        for bad in [&swagger, &broken, &dir] {
            let (code, _) = run_to_string(bad, &good, DiffFormat::Json);
            let d = code.expect_err("not comparable").to_diagnostic();
            assert!(d.message.contains("old document"), "{}", d.message);
        }
        let (code, _) = run_to_string(&swagger, &good, DiffFormat::Text);
        let rendered = code.unwrap_err().to_diagnostic().render_plain();
        assert!(rendered.contains("Swagger"), "{rendered}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
