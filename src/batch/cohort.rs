//! The cohort folder: which subfolders are submissions, their learner ids, content hashes and
//! shards.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::diag::UserError;
use crate::error::{Error, Result};
use crate::submission::MANIFEST;

/// Where learner ids come from (`grade batch --learner-id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LearnerId {
    // The submission folder's name.
    Folder,
    // `[submission] learner` in the manifest, falling back to the folder name.
    Manifest,
}

/// One submission folder of the cohort.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The folder's name in the cohort.
    pub folder: String,
    pub path: PathBuf,
    pub learner: String,
    /// The learner's folder name under `OUT/learners/` (the id, made safe when needed).
    pub dir_name: String,
    pub has_manifest: bool,
}

/// The result of reading the cohort folder.
#[derive(Debug, Default)]
pub struct Scan {
    /// Submissions, sorted by learner id.
    pub entries: Vec<Entry>,
    /// Entries that are not submissions: (name, why).
    pub ignored: Vec<(String, String)>,
}

/// Characters allowed as they are in a learner folder name.
fn safe_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+')
}

/// The folder name for a learner id: the id itself when it is made of safe characters (and
/// does not start with `.`), else a cleaned form with a short hash of the id, so two ids never
/// share a folder.
pub fn dir_name(id: &str) -> String {
    if !id.is_empty() && !id.starts_with('.') && id.len() <= 100 && id.chars().all(safe_char) {
        return id.to_string();
    }
    let clean: String = id
        .chars()
        .take(60)
        .map(|c| if safe_char(c) { c } else { '_' })
        .collect();
    let clean = clean.trim_start_matches('.');
    let h = crate::rubric::hex(&Sha256::digest(id.as_bytes())[..4]);
    format!("{clean}-{h}")
}

/// `[submission] learner` of a manifest, if it reads.
fn manifest_learner(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path.join(MANIFEST)).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let l = table.get("submission")?.get("learner")?.as_str()?.trim().to_string();
    (!l.is_empty()).then_some(l)
}

/// Lists the submissions of `cohort`. Files, symbolic links (never followed) and hidden
/// entries are not submissions; `out` is skipped when it lies in the cohort.
pub fn scan(cohort: &Path, out: Option<&Path>, learner_id: LearnerId) -> Result<Scan> {
    let shown = cohort.display().to_string();
    let meta = std::fs::metadata(cohort).map_err(|e| {
        Error::input(
            UserError::new(format!("cannot read cohort folder `{shown}`: {e}"))
                .with_help("pass the folder that holds one subfolder per submission"),
        )
    })?;
    if !meta.is_dir() {
        return Err(Error::input(
            UserError::new(format!("`{shown}` is not a folder"))
                .with_help("pass the folder that holds one subfolder per submission"),
        ));
    }
    let out_canon = out.and_then(|o| o.canonicalize().ok());
    let mut scan = Scan::default();
    let read = std::fs::read_dir(cohort).map_err(|e| Error::io(cohort, e))?;
    for entry in read {
        let entry = entry.map_err(|e| Error::io(cohort, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ft = match entry.file_type() {
            Ok(t) => t,
            Err(e) => {
                scan.ignored.push((name, format!("cannot read: {e}")));
                continue;
            }
        };
        if ft.is_symlink() {
            scan.ignored.push((
                name,
                "a symbolic link: not followed (copy the submission into the cohort folder)".into(),
            ));
            continue;
        }
        if !ft.is_dir() {
            scan.ignored.push((name, "not a folder".into()));
            continue;
        }
        if out_canon.is_some() && path.canonicalize().ok() == out_canon {
            scan.ignored.push((name, "the output folder".into()));
            continue;
        }
        if entry.file_name().to_str().is_none() {
            scan.ignored
                .push((name, "its name is not valid UTF-8: rename the folder".into()));
            continue;
        }
        let has_manifest = path.join(MANIFEST).is_file();
        let learner = match learner_id {
            LearnerId::Folder => name.clone(),
            LearnerId::Manifest => manifest_learner(&path).unwrap_or_else(|| name.clone()),
        };
        scan.entries.push(Entry {
            dir_name: dir_name(&learner),
            folder: name,
            path,
            learner,
            has_manifest,
        });
    }
    scan.entries
        .sort_by(|a, b| a.learner.cmp(&b.learner).then(a.folder.cmp(&b.folder)));
    scan.ignored.sort();
    // Duplicate learner ids (or ids that map to the same folder) are an error: which result
    // would the gradebook keep?
    let mut dups: Vec<String> = Vec::new();
    for w in scan.entries.windows(2) {
        if w[0].learner == w[1].learner {
            dups.push(format!("`{}` in {} and {}", w[0].learner, w[0].folder, w[1].folder));
        }
    }
    let mut by_dir: Vec<&Entry> = scan.entries.iter().collect();
    by_dir.sort_by_key(|e| e.dir_name.to_lowercase());
    for w in by_dir.windows(2) {
        if w[0].learner != w[1].learner && w[0].dir_name.eq_ignore_ascii_case(&w[1].dir_name) {
            dups.push(format!(
                "`{}` and `{}` (the same folder name on a case-insensitive file system) in {} and {}",
                w[0].learner, w[1].learner, w[0].folder, w[1].folder
            ));
        }
    }
    if !dups.is_empty() {
        return Err(Error::input(
            UserError::new(format!("duplicate learner ids in `{shown}`: {}", dups.join("; "))).with_help(
                "each learner must have one submission: remove or rename the extra folders (or fix `[submission] learner`)",
            ),
        ));
    }
    Ok(scan)
}

/// SHA-256 over the submission's files: for each file, in sorted path order, its
/// `/`-separated relative path and its bytes (a symbolic link: its target, never followed).
pub fn content_hash(dir: &Path) -> std::io::Result<String> {
    let mut files: Vec<(String, PathBuf, bool)> = Vec::new();
    let mut stack = vec![(String::new(), dir.to_path_buf())];
    while let Some((rel, path)) = stack.pop() {
        for entry in std::fs::read_dir(&path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let ft = entry.file_type()?;
            if ft.is_symlink() {
                files.push((r, entry.path(), true));
            } else if ft.is_dir() {
                stack.push((r, entry.path()));
            } else {
                files.push((r, entry.path(), false));
            }
        }
    }
    files.sort();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    for (rel, path, link) in files {
        h.update(rel.as_bytes());
        h.update([0]);
        if link {
            h.update(b"symlink:");
            h.update(std::fs::read_link(&path)?.to_string_lossy().as_bytes());
        } else {
            let mut f = std::fs::File::open(&path)?;
            let len = f.metadata()?.len();
            h.update(len.to_le_bytes());
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        }
        h.update([0]);
    }
    Ok(crate::rubric::hex(&h.finalize()))
}

/// Parses `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(s: &str) -> Result<(u32, u32)> {
    let bad = || {
        Error::input(
            UserError::new(format!("invalid --shard `{s}`"))
                .with_help("write K/N with 1 ≤ K ≤ N, e.g. --shard 2/4 for the second of four shards"),
        )
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: u32 = k.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The shard (1-based, of `n`) a learner belongs to: the first 8 bytes of SHA-256 of the id.
pub fn shard_of(learner: &str, n: u32) -> u32 {
    let d = Sha256::digest(learner.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(b) % u64::from(n.max(1))) as u32 + 1
}
