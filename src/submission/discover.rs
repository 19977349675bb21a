//! Discovery by convention, for a submission without `submission.toml`.
//!
//! Conventions (documented in `docs/manifest.md`): `services/<name>/openapi.{yaml,yml,json}`
//! declares a service per folder; a lone `openapi.*` at the root declares one service named
//! after the folder; `events/asyncapi.*`, `contracts/*.json` and `ops/slos.{yaml,yml}`.

use std::path::{Path, PathBuf};

use super::{ArtifactRef, Named, Origin, PactSource, Role, Service, Submission};
use crate::diag::UserError;
use crate::error::Error;

const SPEC_NAMES: [&str; 3] = ["openapi.yaml", "openapi.yml", "openapi.json"];

pub fn by_convention(root: PathBuf, shown_root: String) -> Result<Submission, Error> {
    let mut assumptions = vec![format!(
        "no {} found: the system was discovered by convention (see `grade init` for a manifest)",
        super::MANIFEST
    )];
    let mut services = Vec::new();

    let services_dir = root.join("services");
    let mut names: Vec<String> = std::fs::read_dir(&services_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for name in names {
        let spec = first_file(&root, &format!("services/{name}"), &SPEC_NAMES);
        let role = if matches!(name.as_str(), "gateway" | "api-gateway") {
            Role::Gateway
        } else {
            Role::Service
        };
        assumptions.push(match &spec {
            Some(s) => format!("service `{name}` from folder services/{name}/, API spec {}", s.rel),
            None => format!("service `{name}` from folder services/{name}/ (no openapi.yaml in it)"),
        });
        services.push(service(&name, spec, role));
    }
    if services.is_empty() {
        if let Some(spec) = first_file(&root, "", &SPEC_NAMES) {
            let name = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "service".into());
            assumptions.push(format!("one service `{name}` described by {}", spec.rel));
            services.push(service(&name, Some(spec), Role::Service));
        }
    }

    let asyncapi = first_file(&root, "events", &["asyncapi.yaml", "asyncapi.yml", "asyncapi.json"])
        .or_else(|| first_file(&root, "", &["asyncapi.yaml", "asyncapi.yml", "asyncapi.json"]));
    if let Some(a) = &asyncapi {
        assumptions.push(format!("event catalog {}", a.rel));
    }
    let slos = first_file(&root, "ops", &["slos.yaml", "slos.yml", "openslo.yaml", "openslo.yml"]);
    if let Some(s) = &slos {
        assumptions.push(format!("service level objectives {}", s.rel));
    }
    let mut pacts = Vec::new();
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(root.join("contracts")) {
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        for n in names {
            if let Ok((path, rel)) = super::paths::confine(&root, &format!("contracts/{n}")) {
                if path.is_file() {
                    files.push(ArtifactRef {
                        rel,
                        path,
                        span: None,
                        role: "contracts pact".into(),
                    });
                }
            }
        }
    }
    if !files.is_empty() {
        assumptions.push(format!("{} pact file(s) in contracts/", files.len()));
        pacts.push(PactSource {
            pattern: Named::plain("contracts/*.json"),
            files,
        });
    }

    let mut imports = Vec::new();
    if let Some(mut c) = first_file(
        &root,
        "",
        &[
            // Docker Compose's own order of preference.
            "compose.yaml",
            "compose.yml",
            "docker-compose.yaml",
            "docker-compose.yml",
        ],
    ) {
        assumptions.push(format!("services and calls imported from {}", c.rel));
        c.role = "imports compose".into();
        imports.push(c);
    }
    if let Some(mut k) = first_dir(&root, &["kubernetes-manifests", "k8s", "kubernetes", "manifests"]) {
        assumptions.push(format!("services and calls imported from {}", k.rel));
        k.role = "imports kubernetes".into();
        imports.push(k);
    }
    if let Some(mut b) = first_file(&root, "", &["catalog-info.yaml", "catalog-info.yml"]) {
        assumptions.push(format!("services and owners imported from {}", b.rel));
        b.role = "imports backstage".into();
        imports.push(b);
    }
    if services.is_empty() && asyncapi.is_none() && slos.is_none() && pacts.is_empty() && imports.is_empty() {
        return Err(Error::input(
            UserError::new(format!(
                "nothing to grade in `{shown_root}`: no {} and no artifacts in the conventional places",
                super::MANIFEST
            ))
            .with_help(format!(
                "create a manifest with `grade init phase1 {shown_root}`, or put specs at services/<name>/openapi.yaml"
            )),
        ));
    }

    Ok(Submission {
        scenarios: Vec::new(),
        root,
        shown_root,
        origin: Origin::Convention,
        manifest: None,
        checkpoint: None,
        learner: None,
        title: None,
        contexts: Vec::new(),
        datastores: Vec::new(),
        services,
        asyncapi,
        sagas: Vec::new(),
        read_models: Vec::new(),
        pacts,
        slos,
        deployment: None,
        assumptions,
        imports,
        import_problems: Vec::new(),
        compose_roles: Default::default(),
        infrastructure: Vec::new(),
        limits: Default::default(),
    })
}

fn service(name: &str, openapi: Option<ArtifactRef>, role: Role) -> Service {
    Service {
        openapi,
        ..Service::named(name, role)
    }
}

/// The first of `names` that is a folder directly under the root.
fn first_dir(root: &Path, names: &[&str]) -> Option<ArtifactRef> {
    names.iter().find_map(|n| {
        let (path, rel) = super::paths::confine(root, n).ok()?;
        path.is_dir().then(|| ArtifactRef {
            rel,
            path,
            span: None,
            role: "discovered".into(),
        })
    })
}

fn first_file(root: &Path, dir: &str, names: &[&str]) -> Option<ArtifactRef> {
    names.iter().find_map(|n| {
        let written = if dir.is_empty() {
            n.to_string()
        } else {
            format!("{dir}/{n}")
        };
        let (path, rel) = super::paths::confine(root, &written).ok()?;
        path.is_file().then(|| ArtifactRef {
            rel,
            path,
            span: None,
            role: "discovered".into(),
        })
    })
}

/// A discovered service's code, by its name: `services/<name>/`, `src/<name>/`, `<name>/` or a
/// folder at the root whose name ends with `-<name>` (`spring-petclinic-customers-service`),
/// the first that holds code. Each choice is an assumption of the report.
pub fn attach_sources(sub: &mut Submission) {
    let mut dirs: Vec<String> = std::fs::read_dir(&sub.root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    let root = sub.root.clone();
    let mut notes = Vec::new();
    for s in sub.services.iter_mut().filter(|s| s.source.is_none()) {
        let name = &s.name.name;
        let suffix = format!("-{name}");
        let candidates = [format!("services/{name}"), format!("src/{name}"), name.clone()]
            .into_iter()
            .chain(dirs.iter().filter(|d| d.ends_with(&suffix)).cloned());
        for rel in candidates {
            let Ok((path, rel)) = super::paths::confine(&root, &rel) else {
                continue;
            };
            if !path.is_dir() || !has_code(&path, &rel) {
                continue;
            }
            notes.push(format!("`{name}`'s code is {rel}/ (by its name)"));
            s.source = Some(ArtifactRef {
                rel,
                path,
                span: None,
                role: format!("service `{name}` source"),
            });
            break;
        }
    }
    sub.assumptions.extend(notes);
}

/// Whether a folder holds source code (a bounded look).
fn has_code(dir: &Path, rel: &str) -> bool {
    let code =
        |p: &Path| crate::artifact::source::Lang::from_path(p).is_some() || p.extension().is_some_and(|x| x == "cs");
    let (files, _) = crate::artifact::source::walk(dir, rel, code);
    !files.is_empty()
}
