//! Path confinement: every artifact a submission names must stay inside the submission folder.

use std::path::{Component, Path, PathBuf};

/// Why a path written in a submission cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    Empty,
    Url,
    Absolute,
    /// `..` climbs above the submission folder.
    Escapes,
    /// A symlink on the way leads outside the submission folder.
    SymlinkEscapes(PathBuf),
}

impl PathProblem {
    pub fn describe(&self, written: &str) -> (String, String) {
        match self {
            PathProblem::Empty => (
                "empty path".into(),
                "write a path relative to the submission folder, e.g. `services/orders/openapi.yaml`".into(),
            ),
            PathProblem::Url => (
                format!("`{written}` is a URL; the grader never fetches anything"),
                "commit the file into the submission and give its relative path".into(),
            ),
            PathProblem::Absolute => (
                format!("`{written}` is an absolute path"),
                "paths are relative to the folder that holds submission.toml".into(),
            ),
            PathProblem::Escapes => (
                format!("`{written}` leaves the submission folder"),
                "artifacts must live inside the submission folder: move the file in and drop the `..`".into(),
            ),
            PathProblem::SymlinkEscapes(target) => (
                format!(
                    "`{written}` is a symlink to `{}`, outside the submission folder",
                    target.display()
                ),
                "replace the symlink with a copy of the file inside the submission folder".into(),
            ),
        }
    }
}

/// Resolves `written` against the canonical `root`; returns the absolute path and the
/// normalised relative path (with `/` separators). The file need not exist.
pub fn confine(root: &Path, written: &str) -> Result<(PathBuf, String), PathProblem> {
    let trimmed = written.trim();
    if trimmed.is_empty() {
        return Err(PathProblem::Empty);
    }
    if trimmed.contains("://") {
        return Err(PathProblem::Url);
    }
    if trimmed.starts_with('/') || trimmed.starts_with('\\') || has_drive(trimmed) {
        return Err(PathProblem::Absolute);
    }
    let mut parts: Vec<String> = Vec::new();
    for comp in Path::new(trimmed).components() {
        match comp {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(PathProblem::Escapes);
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(PathProblem::Absolute),
        }
    }
    if parts.is_empty() {
        return Err(PathProblem::Empty);
    }
    let rel = parts.join("/");
    let abs = parts.iter().fold(root.to_path_buf(), |p, c| p.join(c));
    check_symlinks(root, &abs)?;
    Ok((abs, rel))
}

fn has_drive(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// The deepest existing ancestor of `abs` (or `abs` itself) must canonicalise inside `root`.
fn check_symlinks(root: &Path, abs: &Path) -> Result<(), PathProblem> {
    let mut probe = Some(abs);
    while let Some(p) = probe {
        if p.symlink_metadata().is_ok() {
            return match p.canonicalize() {
                Ok(real) if real.starts_with(root) => Ok(()),
                Ok(real) => Err(PathProblem::SymlinkEscapes(real)),
                // A dangling symlink: treat as missing, never follow it.
                Err(_) => Ok(()),
            };
        }
        if p == root {
            break;
        }
        probe = p.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_escapes_and_absolutes() {
        let root = std::env::temp_dir().canonicalize().unwrap();
        assert_eq!(confine(&root, "../x"), Err(PathProblem::Escapes));
        assert_eq!(confine(&root, "a/../../x"), Err(PathProblem::Escapes));
        assert_eq!(confine(&root, "/etc/passwd"), Err(PathProblem::Absolute));
        assert_eq!(confine(&root, "C:\\x"), Err(PathProblem::Absolute));
        assert_eq!(confine(&root, "https://x.test/a.yaml"), Err(PathProblem::Url));
        assert_eq!(confine(&root, " "), Err(PathProblem::Empty));
        assert_eq!(confine(&root, "."), Err(PathProblem::Empty));
        let (abs, rel) = confine(&root, "./a/b/../c.yaml").unwrap();
        assert_eq!(rel, "a/c.yaml");
        assert_eq!(abs, root.join("a").join("c.yaml"));
    }

    #[cfg(unix)]
    #[test]
    fn rejects_symlink_out() {
        let base = std::env::temp_dir().join(format!("grade-confine-{}", std::process::id()));
        let root = base.join("sub");
        std::fs::create_dir_all(&root).unwrap();
        let root = root.canonicalize().unwrap();
        let outside = base.join("outside.yaml");
        std::fs::write(&outside, "x").unwrap();
        let link = root.join("spec.yaml");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let r = confine(&root, "spec.yaml");
        assert!(matches!(r, Err(PathProblem::SymlinkEscapes(_))), "{r:?}");
        std::fs::create_dir_all(root.join("d")).unwrap();
        let dirlink = root.join("d").join("up");
        let _ = std::fs::remove_file(&dirlink);
        std::os::unix::fs::symlink(&base, &dirlink).unwrap();
        assert!(matches!(
            confine(&root, "d/up/outside.yaml"),
            Err(PathProblem::SymlinkEscapes(_))
        ));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
