//! Deployment manifests (`[operations] deployment`): one YAML file, or a folder whose `*.yaml`
//! and `*.yml` files are read recursively (hidden entries skipped, at most [`MAX_FILES`] files,
//! [`MAX_DEPTH`] folder levels). Every file is confined to the submission folder (a symlink that
//! leads outside is a problem, never followed) and read as a multi-document YAML stream; the
//! Kubernetes-style objects (`apiVersion` + `kind`, also inside a top-level list or a
//! `kind: List`) are collected as [`Resource`]s.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::document::{Limits, Location};
use super::openslo::YamlStream;
use super::{read_bytes, ArtifactProblem, Loaded};
use crate::files::paths::confine;
use crate::files::ArtifactRef;

/// Most files read from a deployment folder.
pub const MAX_FILES: usize = 500;
/// Deepest folder level read below the deployment folder.
pub const MAX_DEPTH: usize = 8;

/// One file of the deployment manifests.
#[derive(Debug)]
pub struct DeployFile {
    /// Path relative to the submission root, `/`-separated.
    pub rel: String,
    pub stream: YamlStream,
}

/// One Kubernetes-style object.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Index into [`DeploySet::files`].
    pub file: usize,
    /// Index into that file's stream parts.
    pub part: usize,
    /// JSON pointer of the object inside its document (`""`, `/0`, `/items/3`, ...).
    pub pointer: String,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
}

/// Everything found under `[operations] deployment`.
#[derive(Debug, Default)]
pub struct DeploySet {
    /// The files read, sorted by path.
    pub files: Vec<DeployFile>,
    /// Files or documents that could not be used: (relative path, problem).
    pub problems: Vec<(String, ArtifactProblem)>,
    pub resources: Vec<Resource>,
    /// More than [`MAX_FILES`] files were found; the rest were not read.
    pub truncated: bool,
    /// (kind, name) -> indices into `resources`.
    by_name: BTreeMap<(String, String), Vec<usize>>,
}

impl DeploySet {
    /// The value of `res` at `rel` (a pointer below the object, `""` for the object).
    pub fn value(&self, res: &Resource, rel: &str) -> Option<&Value> {
        let part = self.files.get(res.file)?.stream.parts.get(res.part)?;
        part.doc.value.pointer(&format!("{}{rel}", res.pointer))
    }

    /// Where `rel` below `res` is (nearest existing ancestor), in the resource's file.
    pub fn locate(&self, res: &Resource, rel: &str) -> Location {
        match self.files.get(res.file) {
            Some(f) => f.stream.locate(res.part, &format!("{}{rel}", res.pointer)),
            None => Location::default(),
        }
    }

    /// The resources of `kind` named `name`, in file order.
    pub fn named<'a>(&'a self, kind: &str, name: &str) -> impl Iterator<Item = &'a Resource> + 'a {
        let ids = self
            .by_name
            .get(&(kind.to_string(), name.trim().to_string()))
            .map_or(&[][..], Vec::as_slice);
        ids.iter().filter_map(|&i| self.resources.get(i))
    }

    /// The relative path of the file holding `res`.
    pub fn rel(&self, res: &Resource) -> &str {
        self.files.get(res.file).map_or("", |f| f.rel.as_str())
    }
}

/// Loads the deployment manifests `r` names; `root` is the canonical submission root.
pub fn load(root: &Path, r: &ArtifactRef, limits: &Limits) -> Loaded<DeploySet> {
    let meta = match std::fs::metadata(&r.path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => {
            return Loaded::Invalid(ArtifactProblem {
                message: format!("cannot read {}: {e}", r.rel),
                location: None,
                pointer: None,
                help: "check the permissions of the file or folder".into(),
            })
        }
    };
    let mut set = DeploySet::default();
    let mut rels = Vec::new();
    if meta.is_dir() {
        walk(root, &r.path, &r.rel, 0, &mut rels, &mut set);
    } else {
        rels.push(r.rel.clone());
    }
    let limits = Limits {
        max_bytes: 8 * 1024 * 1024,
        ..*limits
    };
    for rel in rels {
        let path = match confine(root, &rel) {
            Ok((path, _)) => path,
            Err(p) => {
                let (message, help) = p.describe(&rel);
                set.problems.push((rel, problem(message, help)));
                continue;
            }
        };
        let file_ref = ArtifactRef {
            rel: rel.clone(),
            path,
            span: None,
            role: r.role.clone(),
        };
        let bytes = match read_bytes(&file_ref, &limits) {
            Loaded::Ok(b) => b,
            Loaded::Missing => continue,
            Loaded::Invalid(p) => {
                set.problems.push((rel, p));
                continue;
            }
        };
        if bytes.contains(&0) {
            set.problems.push((
                rel.clone(),
                problem(
                    format!("{rel} is binary, not text"),
                    "deployment manifests are YAML text; remove the file or name the right one".into(),
                ),
            ));
            continue;
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                set.problems.push((
                    rel.clone(),
                    problem(
                        format!(
                            "{rel} is not UTF-8 text (invalid byte at offset {})",
                            e.utf8_error().valid_up_to()
                        ),
                        "save the file as UTF-8".into(),
                    ),
                ));
                continue;
            }
        };
        let stream = YamlStream::parse(&rel, &text, &limits);
        let fi = set.files.len();
        for p in &stream.problems {
            set.problems.push((rel.clone(), p.clone()));
        }
        for (pi, part) in stream.parts.iter().enumerate() {
            collect(&part.doc.value, String::new(), fi, pi, &mut set.resources, 0);
        }
        set.files.push(DeployFile { rel, stream });
    }
    for (i, res) in set.resources.iter().enumerate() {
        if let Some(n) = &res.name {
            set.by_name.entry((res.kind.clone(), n.clone())).or_default().push(i);
        }
    }
    Loaded::Ok(set)
}

fn problem(message: String, help: String) -> ArtifactProblem {
    ArtifactProblem {
        message,
        location: None,
        pointer: None,
        help,
    }
}

/// Collects `*.yaml` / `*.yml` files below `dir` (sorted, hidden entries skipped).
fn walk(root: &Path, dir: &Path, dir_rel: &str, depth: usize, out: &mut Vec<String>, set: &mut DeploySet) {
    let mut entries: Vec<(String, std::fs::FileType)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?)))
            .filter(|(n, _)| !n.starts_with('.'))
            .collect(),
        Err(e) => {
            set.problems.push((
                dir_rel.to_string(),
                problem(
                    format!("cannot read the folder {dir_rel}: {e}"),
                    "check the folder's permissions".into(),
                ),
            ));
            return;
        }
    };
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, ty) in entries {
        let rel = format!("{dir_rel}/{name}");
        if ty.is_dir() {
            if depth < MAX_DEPTH {
                walk(root, &dir.join(&name), &rel, depth + 1, out, set);
            }
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if !(lower.ends_with(".yaml") || lower.ends_with(".yml")) {
            continue;
        }
        if ty.is_symlink() {
            // Only symlinks to files inside the submission are read; folders are not followed.
            match confine(root, &rel) {
                Ok((abs, _)) if abs.is_file() => {}
                Ok(_) => continue,
                Err(p) => {
                    let (message, help) = p.describe(&rel);
                    set.problems.push((rel, problem(message, help)));
                    continue;
                }
            }
        } else if !ty.is_file() {
            continue;
        }
        if out.len() >= MAX_FILES {
            set.truncated = true;
            return;
        }
        out.push(rel);
    }
}

/// Kubernetes-style objects in `v`: an object with `apiVersion` and `kind`, the elements of a
/// top-level list, the `items` of a `kind: List`.
fn collect(v: &Value, pointer: String, file: usize, part: usize, out: &mut Vec<Resource>, depth: usize) {
    match v {
        Value::Array(items) if depth == 0 => {
            for (i, item) in items.iter().enumerate() {
                collect(item, format!("{pointer}/{i}"), file, part, out, depth + 1);
            }
        }
        Value::Object(m) => {
            let text = |k: &str| m.get(k).and_then(Value::as_str).map(|s| s.trim().to_string());
            let (Some(api_version), Some(kind)) = (text("apiVersion"), text("kind")) else {
                return;
            };
            if kind == "List" && depth < 2 {
                if let Some(Value::Array(items)) = m.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        collect(item, format!("{pointer}/items/{i}"), file, part, out, 2);
                    }
                }
                return;
            }
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            out.push(Resource {
                file,
                part,
                pointer,
                api_version,
                kind,
                name,
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_folder_recursively_and_confines_symlinks() {
        let base = std::env::temp_dir().join(format!("grade-deploy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("sub");
        std::fs::create_dir_all(root.join("deploy/orders")).unwrap();
        std::fs::create_dir_all(root.join("deploy/.git")).unwrap();
        let root = root.canonicalize().unwrap();
        std::fs::write(
            root.join("deploy/a.yaml"),
            "# header\n---\napiVersion: v1\nkind: List\nitems:\n  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: x}}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: y}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("deploy/orders/b.YML"),
            "- {apiVersion: v1, kind: Service, metadata: {name: z}}\n",
        )
        .unwrap();
        std::fs::write(root.join("deploy/notes.txt"), "not yaml").unwrap();
        std::fs::write(root.join("deploy/.git/c.yaml"), "apiVersion: v1\nkind: Secret\n").unwrap();
        std::fs::write(base.join("outside.yaml"), "apiVersion: v1\nkind: Secret\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(base.join("outside.yaml"), root.join("deploy/out.yaml")).unwrap();
        let (path, rel) = confine(&root, "deploy").unwrap();
        let r = ArtifactRef {
            rel,
            path,
            span: None,
            role: "operations deployment".into(),
        };
        let Loaded::Ok(set) = load(&root, &r, &Limits::default()) else {
            panic!("the folder loads")
        };
        let names: Vec<_> = set
            .resources
            .iter()
            .map(|r| (r.kind.as_str(), r.name.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Deployment", Some("x".to_string())),
                ("Rollout", Some("y".to_string())),
                ("Service", Some("z".to_string())),
            ]
        );
        let y = set.named("Rollout", "y").next().unwrap();
        assert_eq!(set.locate(y, "/kind").line, 9);
        assert_eq!(set.rel(y), "deploy/a.yaml");
        #[cfg(unix)]
        assert!(set
            .problems
            .iter()
            .any(|(rel, p)| rel == "deploy/out.yaml" && p.message.contains("outside")));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
