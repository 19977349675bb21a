//! The versioning policy, shared by EVO002 and `grade diff`:
//!
//! - a **breaking** change needs a new major version: `info.version`'s major number goes up
//!   (in `0.y.z`, where semantic versioning allows anything, the minor number going up counts),
//!   or the API moves to a higher version prefix in its paths or server URLs (`/v1` to `/v2`);
//! - **compatible** changes need a higher `info.version` (any part; additions conventionally
//!   bump the minor number), so that consumers can tell the releases apart;
//! - `info.version` never goes backwards.
//!
//! Changes to `info.version` and `openapi` themselves are not API changes.

use serde::Serialize;

use super::Diff;
use crate::api::{is_date, is_version_segment, segments, Api};

/// A semantic version, read tolerantly: `1`, `1.2`, `v1.2.3`, `1.2.3-beta.1+build`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// A pre-release (`-beta.1`) sorts before the release.
    pub release: bool,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        if is_date(s) {
            // A date says when, not whether it breaks.
            return None;
        }
        let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        let s = s.split('+').next().unwrap_or(s);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let mut parts = core.split('.');
        let num = |p: Option<&str>| -> Option<u64> {
            match p {
                None => Some(0),
                Some(x) if !x.is_empty() && x.chars().all(|c| c.is_ascii_digit()) => x.parse().ok(),
                Some(_) => None,
            }
        };
        let major = parts.next().filter(|p| !p.is_empty())?;
        let major = num(Some(major))?;
        let minor = num(parts.next())?;
        let patch = num(parts.next())?;
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
            release: pre.is_none(),
        })
    }

    /// The version that marks a breaking change after this one.
    pub fn next_major(self) -> String {
        if self.major == 0 {
            format!("0.{}.0", self.minor + 1)
        } else {
            format!("{}.0.0", self.major + 1)
        }
    }

    /// The version that marks compatible additions after this one.
    pub fn next_minor(self) -> String {
        if self.major == 0 {
            format!("0.{}.{}", self.minor, self.patch + 1)
        } else {
            format!("{}.{}.0", self.major, self.minor + 1)
        }
    }

    /// True when `new` marks a breaking change after `self`.
    pub fn is_major_bump(self, new: Version) -> bool {
        if self.major == 0 && new.major == 0 {
            new.minor > self.minor
        } else {
            new.major > self.major
        }
    }
}

/// The highest major version named by a version segment (`v2`, `v2.1`, `v2beta1`) of a path
/// or a server URL.
pub fn path_major(api: &Api<'_>) -> Option<u64> {
    let root = api.root();
    let mut best: Option<u64> = None;
    let mut consider = |path: &str| {
        for seg in segments(path) {
            if is_version_segment(seg) {
                let digits: String = seg.chars().skip(1).take_while(|c| c.is_ascii_digit()).collect();
                if let Ok(n) = digits.parse::<u64>() {
                    best = Some(best.map_or(n, |b| b.max(n)));
                }
            }
        }
    };
    if let Some(paths) = root.get("paths") {
        for (p, _) in paths.entries() {
            consider(p);
        }
    }
    if let Some(servers) = root.get("servers") {
        for s in servers.items() {
            if let Some(url) = s.str("url") {
                let path = match url.split_once("://") {
                    Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
                    None => url,
                };
                consider(path);
            }
        }
    }
    best
}

/// What the policy asks of the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// No API change.
    None,
    /// Compatible changes: a higher version.
    Minor,
    /// Breaking changes: a new major version or version prefix.
    Major,
}

/// The policy's verdict on a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub ok: bool,
    pub required: Bump,
    pub message: String,
    pub help: Option<String>,
}

pub fn versioning(diff: &Diff) -> Verdict {
    let changes = diff.api_changes().count();
    let breaking = diff.breaking_count();
    let (ov_s, nv_s) = (
        diff.old.version.clone().unwrap_or_else(|| "(none)".into()),
        diff.new.version.clone().unwrap_or_else(|| "(none)".into()),
    );
    let ov = diff.old.version.as_deref().and_then(Version::parse);
    let nv = diff.new.version.as_deref().and_then(Version::parse);
    let ok = |required, message: String| Verdict {
        ok: true,
        required,
        message,
        help: None,
    };
    let bad = |required, message: String, help: String| Verdict {
        ok: false,
        required,
        message,
        help: Some(help),
    };
    let backwards = matches!((ov, nv), (Some(a), Some(b)) if b < a);
    if breaking > 0 {
        let s = if breaking == 1 { "" } else { "s" };
        let (op, np) = (diff.old.path_major, diff.new.path_major);
        if let Some(n) = np {
            if n > op.unwrap_or(0) {
                return ok(
                    Bump::Major,
                    format!("{breaking} breaking change{s}, published under a new version prefix (/v{n})"),
                );
            }
        }
        return match (ov, nv) {
            (Some(a), Some(b)) if a.is_major_bump(b) => ok(
                Bump::Major,
                format!("{breaking} breaking change{s}, released as a new major version ({ov_s} -> {nv_s})"),
            ),
            (Some(a), Some(_)) => {
                let prefix = op.map_or(String::new(), |p| {
                    format!(", or keep /v{p} working and publish the breaking contract under /v{}", p + 1)
                });
                bad(
                    Bump::Major,
                    format!(
                        "{breaking} breaking change{s} but info.version {ov_s} -> {nv_s} is not a new major version"
                    ),
                    format!(
                        "release the new contract as {}{prefix}; better, make the changes compatible (see each change's fix)",
                        a.next_major()
                    ),
                )
            }
            _ => bad(
                Bump::Major,
                format!(
                    "{breaking} breaking change{s} but info.version ({ov_s} -> {nv_s}) is not a semantic version, so it \
                     cannot say so"
                ),
                "use MAJOR.MINOR.PATCH in info.version and raise MAJOR for a breaking change".into(),
            ),
        };
    }
    if backwards {
        return bad(
            Bump::Minor,
            format!("info.version went backwards ({ov_s} -> {nv_s})"),
            "a new release needs a higher version than the previous one".into(),
        );
    }
    if changes == 0 {
        return ok(Bump::None, "no API changes".into());
    }
    let s = if changes == 1 { "" } else { "s" };
    if diff.old.version == diff.new.version {
        let next = ov.map_or_else(|| "a higher version".to_string(), |v| v.next_minor());
        return bad(
            Bump::Minor,
            format!("the API changed ({changes} compatible change{s}) but info.version is still {ov_s}"),
            format!("raise info.version to {next}: consumers tell releases apart by their version"),
        );
    }
    ok(
        Bump::Minor,
        format!("{changes} compatible change{s}, version {ov_s} -> {nv_s}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(
            v("1.2.3"),
            Version {
                major: 1,
                minor: 2,
                patch: 3,
                release: true
            }
        );
        assert_eq!(
            v("v2"),
            Version {
                major: 2,
                minor: 0,
                patch: 0,
                release: true
            }
        );
        assert!(v("1.0.0-beta.1") < v("1.0.0"));
        assert!(v("1.0.0+build.5") == v("1.0.0"));
        for bad in ["", "latest", "1.x", "1..2", "1.2.3.4", "2024-01-15"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(v("1.4.0").is_major_bump(v("2.0.0")));
        assert!(!v("1.4.0").is_major_bump(v("1.5.0")));
        assert!(v("0.3.1").is_major_bump(v("0.4.0")));
        assert_eq!(v("1.4.2").next_major(), "2.0.0");
        assert_eq!(v("1.4.2").next_minor(), "1.5.0");
        assert_eq!(v("0.4.2").next_major(), "0.5.0");
    }
}
