//! The limit options of a grading (`--max-file-size`, `--max-ref-hops`, ...) reach every loader
//! they govern: they are values handed down with the submission, not process-wide state, so
//! each is proved here through the command line on a submission that crosses it.

mod common;

use std::path::Path;

use common::{grade, item, stdout, tmp};

const RUBRIC: &str = r#"[rubric]
id = "limits"
title = "Limits"
version = "1.0.0"
threshold = 50

[[section]]
id = "all"
title = "All"

[[section.item]]
check = "OAS001"
weight = 1

[[section.item]]
check = "OAS002"
weight = 1

[[section.item]]
check = "SUB003"
weight = 1
"#;

/// An OpenAPI document whose schema `A` reaches a definition through three references.
const CHAIN: &str = r#"openapi: 3.0.3
info: {title: Orders, version: 1.0.0}
paths:
  /v1/orders:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/A'}
components:
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {$ref: '#/components/schemas/C'}
    C: {type: object}
"#;

fn submission(dir: &Path, padding: usize) {
    std::fs::write(dir.join("rubric.toml"), RUBRIC).unwrap();
    std::fs::write(
        dir.join("submission.toml"),
        "[imports]\ncompose = \"docker-compose.yml\"\n\n[[service]]\nname = \"orders\"\nopenapi = \"openapi.yaml\"\n",
    )
    .unwrap();
    // A comment pads the document to the size a test needs.
    let spec = format!("{CHAIN}# {}\n", "x".repeat(padding));
    std::fs::write(dir.join("openapi.yaml"), spec).unwrap();
    let compose = format!(
        "services:\n  orders:\n    image: orders:1\n  payments:\n    image: payments:1\n# {}\n",
        "x".repeat(padding)
    );
    std::fs::write(dir.join("docker-compose.yml"), compose).unwrap();
}

fn json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let out = dir.join("report.json");
    let rubric = dir.join("rubric.toml");
    let mut args = vec![
        "run",
        "--rubric",
        rubric.to_str().unwrap(),
        dir.to_str().unwrap(),
        "--quiet",
        "--json",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = grade(&args);
    assert!(out.exists(), "no report: {}", stdout(&o));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

fn messages(item: &serde_json::Value) -> String {
    item["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn max_ref_hops_reaches_the_openapi_view() {
    let dir = tmp("limits", "ref-hops");
    submission(&dir, 10);
    let default = json(&dir, &[]);
    assert_eq!(item(&default, "OAS002")["outcome"], "passed", "{default:#}");
    let low = json(&dir, &["--max-ref-hops", "2"]);
    let oas002 = item(&low, "OAS002");
    assert_eq!(oas002["outcome"], "failed", "{oas002:#}");
    assert!(
        messages(oas002).contains("more than 2 references"),
        "{}",
        messages(oas002)
    );
}

#[test]
fn max_file_size_reaches_the_artifacts_and_the_imported_compose_file() {
    let dir = tmp("limits", "file-size");
    // Both files are a little over 1 MiB.
    submission(&dir, 1024 * 1024 + 10);
    let default = json(&dir, &[]);
    assert_eq!(item(&default, "OAS001")["outcome"], "passed", "{default:#}");
    assert_eq!(item(&default, "SUB003")["outcome"], "passed", "{default:#}");
    let low = json(&dir, &["--max-file-size", "1"]);
    let oas001 = messages(item(&low, "OAS001"));
    assert!(oas001.contains("over the file-size limit of 1"), "{oas001}");
    let sub003 = messages(item(&low, "SUB003"));
    assert!(sub003.contains("docker-compose.yml"), "{sub003}");
}
