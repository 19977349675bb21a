use serde::{Deserialize, Serialize};

use crate::artifact::Loaded;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};

pub struct ArtifactMissing;

const DOCS: &str = r#"## What it checks
That every file the manifest names exists inside the submission, that every pact pattern
matches at least one file, and that the artifacts the checkpoint requires are there: an
OpenAPI document per service, an AsyncAPI event catalog, OpenSLO objectives, pact contracts
(each requirement is a parameter: also `deployment`, Week 10). Partial credit: present / expected.

## Why it matters
Contract-first design (Week 2) means the contract exists before the code: an API without a
spec cannot be reviewed, versioned or contract-tested. Phase 2 adds the event catalog
(Week 5), phase 4 the SLOs (Week 9). A manifest that points at missing files is a design
document that does not match the system.

## How to fix
Create the missing file at the path the manifest names, or correct the path. Paths are
relative to the folder holding `submission.toml`.

## Example
```toml
[[service]]
name = "orders"
openapi = "services/orders/openapi.yaml"   # this file must exist

[events]
asyncapi = "events/asyncapi.yaml"          # required from phase 2
```
"#;

/// Most files listed when looking for a similarly named one.
const MAX_LISTED: usize = 5000;

/// The files of the submission (relative, `/`-separated), for suggestions: hidden folders,
/// `node_modules` and `target` left out, at most [`MAX_LISTED`], at most 8 folders deep.
fn submission_files(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, rel, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let here = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if depth < 8 && !name.starts_with('.') && name != "node_modules" && name != "target" {
                    stack.push((e.path(), here, depth + 1));
                }
            } else if kind.is_file() {
                out.push(here);
                if out.len() >= MAX_LISTED {
                    return out;
                }
            }
        }
    }
    out
}

/// A file of `files` whose name is close to that of `rel` (`openapi.yml` for `openapi.yaml`,
/// `orders.yaml` for `order.yaml`), preferring the one whose whole path is closest.
fn similar_path<'a>(rel: &str, files: &'a [String]) -> Option<&'a str> {
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let wanted = base(rel);
    let close: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|f| *f != rel && crate::diag::did_you_mean(&wanted, [base(f).as_str()]).is_some())
        .collect();
    crate::diag::did_you_mean(rel, close.iter().copied()).or_else(|| close.first().copied())
}

/// Which artifacts the checkpoint requires.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Require an OpenAPI document for every service.
    pub openapi_per_service: bool,
    /// Require `[events] asyncapi`.
    pub asyncapi: bool,
    /// Require `[operations] slos`.
    pub slos: bool,
    /// Require at least one pact file.
    pub contracts: bool,
    /// Require `[operations] deployment`.
    pub deployment: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            openapi_per_service: true,
            asyncapi: false,
            slos: false,
            contracts: false,
            deployment: false,
        }
    }
}

impl TypedCheck for ArtifactMissing {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "SUB002",
        name: "artifact-missing",
        area: Area::Sub,
        kind: Kind::Static,
        summary: "A file the manifest names, or one the checkpoint requires, is missing",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "openapi_per_service",
                ty: "boolean",
                description: "require an OpenAPI document for every service",
            },
            ParamDoc {
                name: "asyncapi",
                ty: "boolean",
                description: "require an AsyncAPI event catalog (`[events] asyncapi`)",
            },
            ParamDoc {
                name: "slos",
                ty: "boolean",
                description: "require OpenSLO objectives (`[operations] slos`)",
            },
            ParamDoc {
                name: "contracts",
                ty: "boolean",
                description: "require at least one pact file (`[contracts] pacts`)",
            },
            ParamDoc {
                name: "deployment",
                ty: "boolean",
                description: "require deployment manifests (`[operations] deployment`)",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        let mut total = 0;
        let mut findings = Vec::new();
        let missing = |r: &crate::files::ArtifactRef, findings: &mut Vec<Finding>| {
            let exists = match ctx.artifacts.openapi(r) {
                Some(Loaded::Missing) => false,
                Some(_) => true,
                None => r.exists(),
            };
            if !exists {
                let files = submission_files(&ctx.submission.root);
                let help = match similar_path(&r.rel, &files) {
                    Some(s) => format!("did you mean `{s}`? Correct the path (relative to the submission folder)"),
                    None => "create the file or correct the path (relative to the submission folder)".to_string(),
                };
                findings.push(
                    ctx.manifest_finding(r.span.as_ref(), format!("{}: `{}` does not exist", r.role, r.rel))
                        .help(help),
                );
            }
        };
        for r in sub.artifacts() {
            total += 1;
            missing(r, &mut findings);
        }
        for pact in &sub.pacts {
            if pact.files.is_empty() {
                total += 1;
                findings.push(
                    ctx.manifest_finding(
                        pact.pattern.span.as_ref(),
                        format!("pact pattern `{}` matches no file", pact.pattern.name),
                    )
                    .help("put the pact JSON files there, or correct the pattern"),
                );
            }
        }
        if p.openapi_per_service {
            for s in &sub.services {
                if s.openapi.is_none() {
                    total += 1;
                    findings.push(
                        ctx.manifest_finding(
                            s.name.span.as_ref(),
                            format!("service `{}` has no OpenAPI document", s.name.name),
                        )
                        .help(format!(
                            "write its contract and add `openapi = \"services/{}/openapi.yaml\"`",
                            s.name.name
                        )),
                    );
                }
            }
        }
        let mut require = |wanted: bool, present: bool, message: &str, help: &str| {
            if wanted && !present {
                total += 1;
                findings.push(ctx.manifest_finding(None, message).help(help));
            }
        };
        require(
            p.asyncapi,
            sub.asyncapi.is_some(),
            "no event catalog",
            "add an AsyncAPI document and `[events] asyncapi = \"events/asyncapi.yaml\"`",
        );
        require(
            p.slos,
            sub.slos.is_some(),
            "no service level objectives",
            "add OpenSLO documents and `[operations] slos = \"ops/slos.yaml\"`",
        );
        require(
            p.deployment,
            sub.deployment.is_some(),
            "no deployment manifests",
            "commit Argo Rollouts or Flagger Canaries and add `[operations] deployment = \"deploy\"`",
        );
        // Patterns that match nothing are reported above; only a missing `[contracts]` counts here.
        require(
            p.contracts,
            !sub.pacts.is_empty(),
            "no consumer contracts",
            "add pact files and `[contracts] pacts = [\"contracts/*.json\"]`",
        );
        if total == 0 {
            // Nothing named and nothing required: a submission without artifacts.
            return CheckResult::absent("the submission names no artifact (no service with an OpenAPI document)");
        }
        let bad = findings.len();
        CheckResult::ratio(total - bad, total, findings)
            .with_evidence(format!("{} of {total} expected artifacts present", total - bad))
    }
}
