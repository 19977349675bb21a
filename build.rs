//! Finds the external tools some tests need (Chromium for the HTML render test, the SARIF
//! 2.1.0 JSON schema from npm, Prism from npm for the mock-server probe test in
//! tests/third_party.rs, Node's gRPC packages from npm for the gRPC system of
//! fixtures/services/grpc) and, when one is absent, sets a cfg that marks its tests
//! `#[ignore]`d with the install command, so `cargo test` counts them as ignored instead of a
//! silent pass. Nothing else depends on these cfgs.
//!
//! Reruns only when a watched path changes: the tool's file when it is found, else the
//! existing folders it would be installed into (the folders of PATH; the global node_modules).
//! A missing path would make cargo rerun this script, and rebuild the crate, on every build;
//! a watched folder changes only when something is installed into it (apt, npm, cargo
//! install), and then the next build recompiles the crate once (about 15 s incremental). With `GRADE_REQUIRE_TEST_TOOLS=1` (set by
//! `.ci/run`) nothing is ignored: a missing tool fails its test.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Programs the HTML render test runs, in the order it tries them.
const CHROMIUMS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];
/// Prism's command (npm's `@stoplight/prism-cli` puts it on PATH).
const PRISM: &str = "prism";
/// The npm packages the gRPC fixture loads (fixtures/services/grpc/grpc-deps.js), under the
/// global node_modules folder beside `node` (`<prefix>/lib/node_modules`, `<prefix>/bin/node`).
const GRPC_NODE: [&str; 2] = ["@grpc/grpc-js/package.json", "@grpc/proto-loader/package.json"];
/// The schema under a global node_modules folder.
const SARIF_SCHEMA: &str = "@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=GRADE_REQUIRE_TEST_TOOLS");
    println!("cargo::rerun-if-env-changed=GRADE_SARIF_SCHEMA");
    println!("cargo::rustc-check-cfg=cfg(grade_no_chromium)");
    println!("cargo::rustc-check-cfg=cfg(grade_no_sarif_schema)");
    println!("cargo::rustc-check-cfg=cfg(grade_no_prism)");
    println!("cargo::rustc-check-cfg=cfg(grade_no_grpc_node)");
    let required = std::env::var_os("GRADE_REQUIRE_TEST_TOOLS").is_some_and(|v| !v.is_empty() && v != "0");

    // The folders of PATH, each once (`/bin` is often `/usr/bin`).
    let mut path_dirs: Vec<PathBuf> = Vec::new();
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if let Ok(d) = d.canonicalize() {
            if !path_dirs.contains(&d) {
                path_dirs.push(d);
            }
        }
    }
    let chromium = path_dirs
        .iter()
        .flat_map(|d| CHROMIUMS.iter().map(move |c| d.join(c)))
        .find(|p| p.is_file());
    watch(chromium.as_deref(), &path_dirs);
    if chromium.is_none() && !required {
        println!("cargo::rustc-cfg=grade_no_chromium");
    }

    let prism = path_dirs.iter().map(|d| d.join(PRISM)).find(|p| p.is_file());
    watch(prism.as_deref(), &path_dirs);
    if prism.is_none() && !required {
        println!("cargo::rustc-cfg=grade_no_prism");
    }

    // Where the fixture looks (besides node_modules up its tree): beside the `node` it runs.
    let node_modules: Vec<PathBuf> = path_dirs
        .iter()
        .map(|d| d.join("node"))
        .find(|p| p.is_file())
        .and_then(|n| n.canonicalize().ok())
        .and_then(|n| Some(n.parent()?.parent()?.join("lib/node_modules")))
        .into_iter()
        .collect();
    let grpc_node = node_modules
        .first()
        .filter(|root| GRPC_NODE.iter().all(|p| root.join(p).is_file()));
    match grpc_node {
        Some(root) => {
            for p in GRPC_NODE {
                println!("cargo::rerun-if-changed={}", root.join(p).display());
            }
        }
        None => watch(
            None,
            &node_modules.iter().chain(&path_dirs).cloned().collect::<Vec<_>>(),
        ),
    }
    if grpc_node.is_none() && !required {
        println!("cargo::rustc-cfg=grade_no_grpc_node");
    }

    let (schema, roots) = sarif_schema();
    watch(schema.as_deref(), &roots);
    if schema.is_none() && !required {
        println!("cargo::rustc-cfg=grade_no_sarif_schema");
    }
}

/// Watches `found`, or else each existing folder of `dirs`.
fn watch(found: Option<&Path>, dirs: &[PathBuf]) {
    match found {
        Some(p) => println!("cargo::rerun-if-changed={}", p.display()),
        None => {
            for d in dirs.iter().filter(|d| d.is_dir()) {
                println!("cargo::rerun-if-changed={}", d.display());
            }
        }
    }
}

/// The schema file as the SARIF test looks for it (`GRADE_SARIF_SCHEMA`, else under the
/// global node_modules of npm), and the node_modules folders searched.
fn sarif_schema() -> (Option<PathBuf>, Vec<PathBuf>) {
    if let Some(p) = std::env::var_os("GRADE_SARIF_SCHEMA").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        let parent = p.parent().map(Path::to_path_buf).into_iter().collect();
        return (Some(p).filter(|p| p.is_file()), parent);
    }
    let mut roots = vec![
        PathBuf::from("/usr/lib/node_modules"),
        PathBuf::from("/usr/local/lib/node_modules"),
    ];
    if let Ok(o) = Command::new("npm").args(["root", "-g"]).output() {
        let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if o.status.success() && !s.is_empty() && !roots.contains(&PathBuf::from(&s)) {
            roots.insert(0, PathBuf::from(s));
        }
    }
    let found = roots.iter().map(|r| r.join(SARIF_SCHEMA)).find(|p| p.is_file());
    (found, roots)
}
