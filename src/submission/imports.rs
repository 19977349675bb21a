//! Facts imported from a docker-compose file and Backstage catalog files, merged into the
//! submission. The manifest wins where it speaks; imported facts fill what it leaves out, and
//! each one is recorded in `Submission::assumptions` with the file and line it came from.
//!
//! Rules (also in docs/manifest.md):
//! - compose: what each container is comes from `crate::artifact::compose` (an image list that
//!   is data; `[imports] compose_roles` overrides it): services are services, databases are
//!   datastores, brokers, observability backends and tools are recorded as infrastructure. The
//!   addresses in a service's `environment` (`http://payments:8080`, `MONGO_HOST=mongo`,
//!   `jdbc:postgresql://orders-db:5432/orders`) that name another service are synchronous
//!   calls, and those that name a datastore are that service's connection to it; two or more
//!   databases named on one server are a datastore each (`mysql/orders`, `mysql/kitchen`).
//!   `depends_on` is start order, never a call.
//! - Kubernetes (`[imports] kubernetes`, or found by discovery in `kubernetes-manifests/`,
//!   `k8s/`, `kubernetes/` or `manifests/`): a workload (Deployment, StatefulSet, ...) is what
//!   its name and main container's image say, as for compose (a service, a datastore, a
//!   broker...); an env value that addresses a Service (`PAYMENT_SERVICE_ADDR=paymentservice:50051`)
//!   is a call to the workload behind it, or that workload's use of a datastore.
//! - Backstage: a `Component` is a service (its `spec.owner` fills a missing owner), a
//!   `Resource` of type database/cache/datastore is a datastore; `dependsOn: component:x` is a
//!   call and `dependsOn: resource:y` ownership of y.

use crate::artifact::backstage;
use crate::artifact::compose::{self, ComposeKind};
use crate::artifact::document::Limits;
use crate::artifact::kube::KubeModel;
use crate::artifact::ArtifactProblem;
use crate::artifact::{deploy, Loaded};
use crate::files::ArtifactRef;
use crate::submission::{Datastore, Infrastructure, Named, Role, Service, StoreRole, Submission};

/// A compose or catalog file that could not be used, reported by SUB003 import-invalid.
#[derive(Debug, Clone)]
pub struct ImportProblem {
    pub file: String,
    pub problem: ArtifactProblem,
}

fn read(r: &ArtifactRef, limits: &Limits) -> Result<String, ArtifactProblem> {
    match crate::artifact::read_bytes(r, limits) {
        crate::artifact::Loaded::Ok(bytes) => String::from_utf8(bytes).map_err(|e| ArtifactProblem {
            message: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            location: None,
            pointer: None,
            help: "save the file as UTF-8".into(),
        }),
        crate::artifact::Loaded::Missing => Err(ArtifactProblem {
            message: format!("`{}` does not exist", r.rel),
            location: None,
            pointer: None,
            help: "create the file or correct the path in `[imports]`".into(),
        }),
        crate::artifact::Loaded::Invalid(p) => Err(p),
    }
}

fn new_service(name: &str) -> Service {
    let words: Vec<&str> = name.split(['-', '_', '.']).collect();
    let role = if words.contains(&"bff") {
        Role::Bff
    } else if words.contains(&"gateway") {
        Role::Gateway
    } else {
        Role::Service
    };
    Service::named(name, role)
}

fn new_datastore(name: &str, kind: &str) -> Datastore {
    Datastore {
        name: Named::plain(name),
        kind: Some(Named::plain(kind)),
        role: StoreRole::Primary,
        ttl: None,
        invalidation: None,
        replicated: false,
        conflict_resolution: None,
    }
}

/// Adds the service if missing; returns its index.
fn ensure_service(sub: &mut Submission, name: &str, at: &str) -> usize {
    if let Some(i) = sub.services.iter().position(|s| s.name.name == name) {
        return i;
    }
    sub.assumptions.push(format!("service `{name}` from {at}"));
    sub.services.push(new_service(name));
    sub.services.len() - 1
}

fn ensure_datastore(sub: &mut Submission, name: &str, kind: &str, at: &str) {
    if sub.datastores.iter().any(|d| d.name.name == name) {
        return;
    }
    sub.assumptions.push(format!("datastore `{name}` ({kind}) from {at}"));
    sub.datastores.push(new_datastore(name, kind));
}

fn add_call(sub: &mut Submission, from: usize, to: &str, at: String) {
    let s = &mut sub.services[from];
    if s.name.name == to || s.calls.iter().any(|c| c.name == to) {
        return;
    }
    let line = format!("call `{}` -> `{to}` from {at}", s.name.name);
    s.calls.push(Named::plain(to));
    sub.assumptions.push(line);
}

fn add_owns(sub: &mut Submission, from: usize, store: &str, at: String) {
    let s = &mut sub.services[from];
    if s.owns.iter().any(|o| o.name == store) {
        return;
    }
    let line = format!("`{}` uses datastore `{store}`, from {at}", s.name.name);
    s.owns.push(Named::plain(store));
    sub.assumptions.push(line);
}

/// A container or workload that is not a service (a broker, an observability backend, a tool),
/// said in the assumptions with why.
fn add_infrastructure(sub: &mut Submission, name: &str, kind: &ComposeKind, why: &str, at: String) {
    sub.assumptions.push(format!(
        "`{name}` is {}, not a service ({why}), from {at}",
        kind.describe()
    ));
    sub.infrastructure.push(Infrastructure {
        name: name.to_string(),
        kind: kind.clone(),
        at,
    });
}

/// The report must not say a file was imported when it was not.
fn not_imported(sub: &mut Submission, rel: &str) {
    let claimed = format!(" imported from {rel}");
    if let Some(a) = sub.assumptions.iter_mut().find(|a| a.ends_with(&claimed)) {
        *a = format!("{rel} could not be imported (see SUB003 import-invalid): nothing was taken from it");
    }
}

pub fn apply_compose(sub: &mut Submission, r: &ArtifactRef) {
    let text = match read(r, &sub.limits) {
        Ok(t) => t,
        Err(problem) => {
            not_imported(sub, &r.rel);
            return sub.import_problems.push(ImportProblem {
                file: r.rel.clone(),
                problem,
            });
        }
    };
    let doc = match compose::parse(&r.rel, &text, &sub.limits) {
        Ok(d) => d,
        Err(e) => {
            not_imported(sub, &r.rel);
            return sub.import_problems.push(ImportProblem {
                file: r.rel.clone(),
                problem: ArtifactProblem::from(&e),
            });
        }
    };
    if doc.value.get("services").and_then(|s| s.as_object()).is_none() {
        not_imported(sub, &r.rel);
        sub.import_problems.push(ImportProblem {
            file: r.rel.clone(),
            problem: ArtifactProblem {
                message: "no `services:` mapping: this is not a compose file".into(),
                location: Some(doc.locate("")),
                pointer: Some(String::new()),
                help: "name a docker-compose file with a top-level `services:` mapping".into(),
            },
        });
        return;
    }
    let mut services = compose::services(&doc);
    for note in compose::unread(&doc) {
        sub.assumptions.push(format!("{}: {note}", r.rel));
    }
    // A role for a container the file does not have is a typo, never silently ignored.
    let names: Vec<&str> = doc
        .value
        .get("services")
        .and_then(|s| s.as_object())
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for key in sub.compose_roles.keys() {
        if !names.contains(&key.as_str()) {
            let help = match crate::diag::did_you_mean(key, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? (container names are case-sensitive)"),
                None => format!("name one of its containers: {}", crate::diag::quote_list(&names)),
            };
            sub.import_problems.push(ImportProblem {
                file: r.rel.clone(),
                problem: ArtifactProblem {
                    message: format!(
                        "`[imports] compose_roles` names `{key}`, which is not a container of {}",
                        r.rel
                    ),
                    location: None,
                    pointer: None,
                    help,
                },
            });
        }
    }
    for s in &mut services {
        if let Some(kind) = sub.compose_roles.get(&s.name) {
            s.kind = kind.clone();
            s.matched = Some("[imports] compose_roles".into());
        }
    }
    for s in &services {
        let at = format!("{}:{}", r.rel, s.line);
        match &s.kind {
            ComposeKind::Datastore(kind) => {
                let dbs = compose::split_databases(&services, &s.name);
                if !dbs.is_empty() {
                    // One server, a database per service: each is a datastore of its own.
                    for db in &dbs {
                        ensure_datastore(sub, &format!("{}/{db}", s.name), kind, &at);
                    }
                    sub.assumptions.push(format!(
                        "`{}` is one server holding {} databases ({}), each a datastore, from {at}",
                        s.name,
                        dbs.len(),
                        dbs.join(", ")
                    ));
                    if services
                        .iter()
                        .flat_map(|x| x.links.iter())
                        .any(|l| l.target == s.name && l.database.is_none())
                    {
                        ensure_datastore(sub, &s.name, kind, &at);
                    }
                } else {
                    ensure_datastore(sub, &s.name, kind, &at);
                }
            }
            ComposeKind::Service => {
                ensure_service(sub, &s.name, &at);
            }
            other => {
                let why = match (&s.matched, &s.image) {
                    (Some(m), _) if m.starts_with('[') => format!("as {m} says"),
                    (Some(m), Some(image)) => format!("image `{image}` is {m}"),
                    (Some(m), None) => format!("its build or name says {m}"),
                    (None, _) => "by its image".into(),
                };
                add_infrastructure(sub, &s.name, other, &why, at);
            }
        }
    }
    // Calls and datastore connections come from addresses in `environment`; `depends_on` is
    // start order only.
    for s in services.iter().filter(|s| s.kind == ComposeKind::Service) {
        let from = ensure_service(sub, &s.name, &r.rel);
        for link in &s.links {
            let at = format!("{}:{} ({})", r.rel, s.line, link.var);
            match services.iter().find(|x| x.name == link.target).map(|x| &x.kind) {
                Some(ComposeKind::Service) => add_call(sub, from, &link.target, at),
                Some(ComposeKind::Datastore(_)) => {
                    let store = compose::datastore_name(&services, &link.target, link.database.as_deref());
                    add_owns(sub, from, &store, at)
                }
                _ => {}
            }
        }
    }
}

pub fn apply_backstage(sub: &mut Submission, r: &ArtifactRef) {
    let text = match read(r, &sub.limits) {
        Ok(t) => t,
        Err(problem) => {
            return sub.import_problems.push(ImportProblem {
                file: r.rel.clone(),
                problem,
            })
        }
    };
    let (entities, errors) = backstage::entities(&r.rel, &text, &sub.limits);
    for problem in errors {
        sub.import_problems.push(ImportProblem {
            file: r.rel.clone(),
            problem,
        });
    }
    let is_store = |e: &backstage::Entity| {
        e.kind.eq_ignore_ascii_case("Resource")
            && e.spec_type
                .as_deref()
                .is_some_and(|t| matches!(t, "database" | "cache" | "datastore" | "storage"))
    };
    for e in &entities {
        let at = format!("{}:{}", r.rel, e.line);
        if e.kind.eq_ignore_ascii_case("Component") {
            let i = ensure_service(sub, &e.name, &at);
            if let (None, Some(owner)) = (&sub.services[i].owner, &e.owner) {
                let owner = owner
                    .rsplit('/')
                    .next()
                    .unwrap_or(owner)
                    .trim_start_matches("group:")
                    .to_string();
                sub.assumptions
                    .push(format!("owner of `{}` is `{owner}`, from {at}", e.name));
                sub.services[i].owner = Some(Named::plain(owner));
            }
        } else if is_store(e) {
            ensure_datastore(sub, &e.name, e.spec_type.as_deref().unwrap_or("database"), &at);
        }
    }
    for e in entities.iter().filter(|e| e.kind.eq_ignore_ascii_case("Component")) {
        let Some(from) = sub.services.iter().position(|s| s.name.name == e.name) else {
            continue;
        };
        for d in &e.depends_on {
            let (kind, name) = backstage::parse_ref(d, "component");
            let at = format!("{}:{} (dependsOn {d})", r.rel, e.line);
            if kind.eq_ignore_ascii_case("component") && entities.iter().any(|x| x.name == name) {
                add_call(sub, from, name, at);
            } else if kind.eq_ignore_ascii_case("resource") && sub.datastores.iter().any(|s| s.name.name == name) {
                add_owns(sub, from, name, at);
            }
        }
    }
}

/// What a Kubernetes workload is, from its name and its first (non-init) container's image.
fn workload_kind(w: &crate::artifact::kube::Workload) -> (ComposeKind, Option<String>) {
    let image = w.containers.iter().find(|c| !c.init).and_then(|c| c.image.as_deref());
    compose::classify(&w.name, image, None)
}

/// Records that `r` could not be imported, and why.
fn refuse(sub: &mut Submission, r: &ArtifactRef, message: String, help: &str) {
    not_imported(sub, &r.rel);
    sub.import_problems.push(ImportProblem {
        file: r.rel.clone(),
        problem: ArtifactProblem {
            message,
            location: None,
            pointer: None,
            help: help.into(),
        },
    });
}

pub fn apply_kubernetes(sub: &mut Submission, r: &ArtifactRef) {
    let set = match deploy::load(&sub.root, r, &sub.limits) {
        Loaded::Ok(set) => set,
        Loaded::Missing => {
            return refuse(
                sub,
                r,
                format!("`{}` does not exist", r.rel),
                "commit the Kubernetes manifests at this path, or correct `[imports] kubernetes`",
            )
        }
        Loaded::Invalid(problem) => {
            not_imported(sub, &r.rel);
            return sub.import_problems.push(ImportProblem {
                file: r.rel.clone(),
                problem,
            });
        }
    };
    let model = KubeModel::read(&set);
    if model.workloads.is_empty() && r.span.is_none() {
        // Discovery guessed the folder from its name: nothing in it, nothing said.
        let claimed = format!(" imported from {}", r.rel);
        sub.assumptions.retain(|a| !a.ends_with(&claimed));
        return;
    }
    if model.workloads.is_empty() {
        return refuse(
            sub,
            r,
            format!("no Kubernetes workload (Deployment, StatefulSet, ...) in `{}`", r.rel),
            "name the folder that holds the Deployments (Helm templates are not rendered: commit rendered manifests)",
        );
    }
    // A file that does not parse hides part of the system: SUB003 reports it.
    for (file, problem) in set.problems.iter().filter(|(f, _)| !model.templates.contains(f)) {
        sub.import_problems.push(ImportProblem {
            file: file.clone(),
            problem: problem.clone(),
        });
    }
    for (file, problem) in &model.problems {
        let message = &problem.message;
        sub.assumptions.push(match message.starts_with(file.as_str()) {
            true => message.clone(),
            false => format!("{file}: {message}"),
        });
    }
    let kinds: Vec<(ComposeKind, Option<String>)> = model.workloads.iter().map(workload_kind).collect();
    for (w, (kind, matched)) in model.workloads.iter().zip(&kinds) {
        let at = w.at.to_string();
        match kind {
            ComposeKind::Service => {
                ensure_service(sub, &w.name, &at);
            }
            ComposeKind::Datastore(k) => ensure_datastore(sub, &w.name, k, &at),
            other => {
                let why = match matched {
                    Some(m) => format!("its image or name says {m}"),
                    None => "by its image".into(),
                };
                add_infrastructure(sub, &w.name, other, &why, at);
            }
        }
    }
    for call in &model.calls {
        if kinds[call.from].0 != ComposeKind::Service {
            continue;
        }
        let from = ensure_service(sub, &call.workload, &call.at.to_string());
        let Some(target) = model.service(&call.service) else {
            continue;
        };
        let at = format!("{} ({}={})", call.at, call.env, call.value);
        for (i, w) in model.workloads.iter().enumerate() {
            if w.name == call.workload || !model.workloads_behind(target).any(|b| std::ptr::eq(b, w)) {
                continue;
            }
            match &kinds[i].0 {
                ComposeKind::Service => add_call(sub, from, &w.name, at.clone()),
                ComposeKind::Datastore(_) => add_owns(sub, from, &w.name, at.clone()),
                _ => {}
            }
        }
    }
}
