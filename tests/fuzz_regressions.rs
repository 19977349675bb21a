//! Replays the fuzzing inputs (issue #7) through the same harnesses as the fuzz targets
//! (`fuzz/src/harness.rs`): every crashing input found by fuzzing, kept under
//! `fuzz/regressions/<target>/`, and the seed corpora under `fuzz/corpus/<target>/`. Each
//! must be handled without a panic. An input that still crashes is listed in `KNOWN` and
//! replayed by its own `#[ignore]`d test until the fix lands.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../fuzz/src/harness.rs"]
mod harness;

/// Inputs that still crash (target, file name under `fuzz/regressions/<target>/`): skipped
/// by the replay tests, each run by its own ignored test below.
const KNOWN: &[(&str, &str)] = &[];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn run_one(target: &str, f: fn(&[u8]), path: &Path) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    catch_unwind(AssertUnwindSafe(|| f(&data))).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("{target}: {} panicked: {msg}", path.display())
    })
}

/// Replays every file of `fuzz/<kind>/<target>/` except the known crashes; returns how many
/// ran.
fn replay(kind: &str, target: &str, f: fn(&[u8])) -> usize {
    let dir = fuzz_dir().join(kind).join(target);
    let mut failures = Vec::new();
    let mut n = 0;
    for path in files(&dir) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if KNOWN.contains(&(target, name)) {
            continue;
        }
        n += 1;
        if let Err(e) = run_one(target, f, &path) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    n
}

macro_rules! target_tests {
    ($($target:ident),* $(,)?) => {
        mod regressions {
            $(
                #[test]
                fn $target() {
                    super::replay("regressions", stringify!($target), super::harness::$target);
                }
            )*
        }
        mod seeds {
            $(
                #[test]
                fn $target() {
                    let n = super::replay("corpus", stringify!($target), super::harness::$target);
                    assert!(n > 0, "no seed under fuzz/corpus/{}", stringify!($target));
                }
            )*
        }
    };
}

target_tests!(manifest, rubric, openapi, asyncapi, pact, prom, evo_diff, yaml_paths);

#[test]
fn split_keeps_the_last_part_whole() {
    let parts = harness::split(b"a\n#%%\nb\n#%%\nc\n#%%\nd", 3);
    assert_eq!(parts, vec![&b"a"[..], &b"b"[..], &b"c\n#%%\nd"[..]]);
    assert_eq!(harness::split(b"only", 3), vec![&b"only"[..]]);
}
