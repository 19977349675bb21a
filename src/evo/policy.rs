//! The versioning policy, shared by EVO001, EVO002 and `grade diff`. `info.version` is read
//! as one of two schemes:
//!
//! - a **semantic version** (`1.4.0`): a breaking change needs a new major version (the major
//!   number goes up; in `0.y.z`, where semantic versioning allows anything, the minor number
//!   going up counts); compatible changes need a higher version (any part; additions
//!   conventionally bump the minor number), so that consumers can tell the releases apart;
//! - a **date version** (`2022-11-28` as GitHub names its versions, `2024-06-20.basil` as
//!   Stripe does): a breaking change needs a later date, the old date version staying
//!   available to the clients that ask for it (a document cannot show that, so the verdict
//!   says it); compatible changes may ship under the same date (date-versioned APIs add them
//!   to the current version) or a later one;
//! - a switch from one scheme to the other starts a new version line: accepted, for breaking
//!   changes too (the old version staying available), since no client can take one for the
//!   other; whether it went backwards cannot be said.
//!
//! Under either scheme `info.version` never goes backwards (an earlier date counts). A breaking
//! change is also released correctly when the API moves to a higher version prefix in its
//! paths or server URLs (`/v1` to `/v2`), unless it changes operations still published under
//! an older prefix in the new document (their clients break). Any other `info.version`
//! (`latest`, none) cannot mark a breaking release.
//!
//! Changes to `info.version` and `openapi` themselves are not API changes.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Change, ChangeKind, Diff};
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
        if s.get(..10).is_some_and(is_date) {
            // A date version (see [`DateVersion`]); `2024-06-20.basil` is not 2024.0.0.
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

/// A date version: `2022-11-28` (GitHub), `2024-06-20.basil` (Stripe), `2023-01-01-preview`.
/// Only the date orders versions (a release name or suffix after it does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateVersion {
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

impl DateVersion {
    pub fn parse(s: &str) -> Option<DateVersion> {
        let s = s.trim();
        let (date, rest) = (s.get(..10)?, s.get(10..)?);
        if !is_date(date) {
            return None;
        }
        if let Some(label) = rest.strip_prefix(['.', '-', '_']) {
            let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
            if label.is_empty() || !label.chars().all(word) {
                return None;
            }
        } else if !rest.is_empty() {
            return None;
        }
        let num = |from: usize, to: usize| date[from..to].parse::<u32>().ok();
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&day).then_some(DateVersion { year, month, day })
    }
}

/// How an `info.version` names its release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Semantic(Version),
    Date(DateVersion),
    /// `latest`, `1.x`, no version...: cannot mark a breaking release.
    Other,
}

impl Scheme {
    pub fn of(version: Option<&str>) -> Scheme {
        let Some(v) = version else { return Scheme::Other };
        if let Some(d) = DateVersion::parse(v) {
            Scheme::Date(d)
        } else if let Some(s) = Version::parse(v) {
            Scheme::Semantic(s)
        } else {
            Scheme::Other
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scheme::Semantic(_) => "a semantic version",
            Scheme::Date(_) => "a date version",
            Scheme::Other => "another scheme",
        }
    }
}

/// The major version of a `/vN` path segment (`v2`, `v2.1`, `v2beta1`); not a date segment.
fn segment_major(seg: &str) -> Option<u64> {
    let rest = seg.strip_prefix(['v', 'V'])?;
    if !is_version_segment(seg) {
        return None;
    }
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The highest major version named by a version segment (`v2`, `v2.1`, `v2beta1`) of a path
/// or a server URL.
pub fn path_major(api: &Api<'_>) -> Option<u64> {
    let root = api.root();
    let mut best: Option<u64> = None;
    let mut consider = |path: &str| {
        for n in segments(path).filter_map(segment_major) {
            best = Some(best.map_or(n, |b| b.max(n)));
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
    /// Compatible changes: a higher version (a date version may stay the same).
    Minor,
    /// Breaking changes: a new major version, version prefix or later date version.
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Breaking changes to operations still published under a version prefix older than the
/// newest one (`GET /v1/orders` next to a new `/v2`): the operations (in order) and the older
/// prefixes. Removed paths and operations are not counted: an old prefix retired from this
/// document may live on in a document of its own.
struct ChangedUnderOlderPrefix {
    changes: usize,
    operations: Vec<String>,
    prefixes: BTreeSet<u64>,
}

fn changed_under_older_prefix(diff: &Diff, newest: u64) -> ChangedUnderOlderPrefix {
    let mut out = ChangedUnderOlderPrefix {
        changes: 0,
        operations: Vec::new(),
        prefixes: BTreeSet::new(),
    };
    let removal = |c: &Change| matches!(c.kind, ChangeKind::PathRemoved | ChangeKind::OperationRemoved);
    for c in diff.breaking().filter(|c| !removal(c)) {
        let mut hit = false;
        for op in &c.operations {
            // `GET /v1/orders`; webhooks (`webhook `name` POST`) have no path.
            let Some(path) = op.split_once(' ').map(|(_, p)| p).filter(|p| p.starts_with('/')) else {
                continue;
            };
            let older: Vec<u64> = segments(path)
                .filter_map(segment_major)
                .filter(|&m| m < newest)
                .collect();
            if !older.is_empty() {
                hit = true;
                out.prefixes.extend(older);
                if !out.operations.contains(op) {
                    out.operations.push(op.clone());
                }
            }
        }
        out.changes += usize::from(hit);
    }
    out
}

fn prefixes_text(prefixes: &BTreeSet<u64>) -> String {
    let names: Vec<String> = prefixes.iter().map(|p| format!("/v{p}")).collect();
    crate::api::list(&names, names.len())
}

/// Operations named in a verdict before "and N more".
const MAX_OPS: usize = 3;

pub fn versioning(diff: &Diff) -> Verdict {
    let v = Versions {
        ov_s: diff.old.version.clone().unwrap_or_else(|| "(none)".into()),
        nv_s: diff.new.version.clone().unwrap_or_else(|| "(none)".into()),
        ov: Scheme::of(diff.old.version.as_deref()),
        nv: Scheme::of(diff.new.version.as_deref()),
    };
    let breaking = diff.breaking_count();
    if breaking > 0 {
        breaking_verdict(diff, breaking, &v)
    } else {
        compatible_verdict(diff, &v)
    }
}

/// The two releases' `info.version`: as written (`(none)` when absent) and its scheme.
struct Versions {
    ov_s: String,
    nv_s: String,
    ov: Scheme,
    nv: Scheme,
}

fn ok(required: Bump, message: String) -> Verdict {
    Verdict {
        ok: true,
        required,
        message,
        help: None,
    }
}

fn bad(required: Bump, message: String, help: String) -> Verdict {
    Verdict {
        ok: false,
        required,
        message,
        help: Some(help),
    }
}

/// The verdict on `breaking` breaking changes: a new /vN prefix, a new major or date
/// version, or a new version scheme, are a correct release.
fn breaking_verdict(diff: &Diff, breaking: usize, v: &Versions) -> Verdict {
    let Versions { ov_s, nv_s, ov, nv } = v;
    let (ov_s, nv_s, ov, nv) = (ov_s.as_str(), nv_s.as_str(), *ov, *nv);
    let s = plural(breaking);
    let (op, np) = (diff.old.path_major, diff.new.path_major);
    // A new /vN prefix whose older prefixes, where still published here, are unchanged.
    let mut in_place = None;
    if let Some(n) = np.filter(|&n| n > op.unwrap_or(0)) {
        let older = changed_under_older_prefix(diff, n);
        if older.changes == 0 {
            let keep = op.map_or(String::new(), |p| {
                format!("; keep /v{p} available to its clients until they move")
            });
            return ok(
                Bump::Major,
                format!("{breaking} breaking change{s}, published under a new version prefix (/v{n}){keep}"),
            );
        }
        in_place = Some((n, older));
    }
    let kept = |old: &str| format!("clients still on {old} must keep getting it (the document cannot show that)");
    match (ov, nv) {
        (Scheme::Semantic(a), Scheme::Semantic(b)) if a.is_major_bump(b) => {
            return ok(
                Bump::Major,
                format!("{breaking} breaking change{s}, released as a new major version ({ov_s} -> {nv_s})"),
            )
        }
        (Scheme::Date(a), Scheme::Date(b)) if b > a => {
            return ok(
                Bump::Major,
                format!(
                    "{breaking} breaking change{s}, released as a new date version ({ov_s} -> {nv_s}); {}",
                    kept(ov_s)
                ),
            )
        }
        (Scheme::Semantic(_), Scheme::Date(_)) | (Scheme::Date(_), Scheme::Semantic(_)) => {
            return ok(
                Bump::Major,
                format!(
                    "{breaking} breaking change{s}, released under a new version scheme ({ov_s} -> {nv_s}: {} \
                     after {}); {}",
                    nv.name(),
                    ov.name(),
                    kept(ov_s)
                ),
            )
        }
        _ => {}
    }
    if let Some((n, older)) = in_place {
        let prefixes = prefixes_text(&older.prefixes);
        let release = match ov {
            Scheme::Semantic(a) => format!("; or release the whole document as {}", a.next_major()),
            Scheme::Date(_) => "; or release the whole document under a later date version".into(),
            Scheme::Other => String::new(),
        };
        let which = if older.changes == breaking {
            String::new()
        } else {
            format!(", {} of them", older.changes)
        };
        return bad(
            Bump::Major,
            format!(
                "{breaking} breaking change{s}{which} to operations still published under {prefixes} next to the \
                 new /v{n} ({}): their clients break",
                crate::api::list(&older.operations, MAX_OPS)
            ),
            format!(
                "leave the operations under {prefixes} as they were and give /v{n} its own copy of what changed \
                 (e.g. its own schemas){release}; better, make the changes compatible (see each change's fix)"
            ),
        );
    }
    let prefix = op.map_or(String::new(), |p| {
        format!(
            ", or keep /v{p} working and publish the breaking contract under /v{}",
            p + 1
        )
    });
    match (ov, nv) {
        (Scheme::Semantic(a), Scheme::Semantic(_)) => bad(
            Bump::Major,
            format!("{breaking} breaking change{s} but info.version {ov_s} -> {nv_s} is not a new major version"),
            format!(
                "release the new contract as {}{prefix}; better, make the changes compatible (see each change's fix)",
                a.next_major()
            ),
        ),
        (Scheme::Date(_), Scheme::Date(_)) => bad(
            Bump::Major,
            format!("{breaking} breaking change{s} but info.version {ov_s} -> {nv_s} is not a later date version"),
            format!(
                "release the new contract under a later date version (e.g. the release date) and keep serving \
                     {ov_s} to the clients that use it{prefix}; better, make the changes compatible (see each \
                     change's fix)"
            ),
        ),
        _ => bad(
            Bump::Major,
            format!(
                "{breaking} breaking change{s} but info.version ({ov_s} -> {nv_s}) cannot mark a breaking release: \
                 both releases need a semantic version (MAJOR.MINOR.PATCH) or a date version (YYYY-MM-DD)"
            ),
            "use MAJOR.MINOR.PATCH in info.version and raise MAJOR for a breaking change (or date versions, \
             YYYY-MM-DD, with a later date for a breaking change)"
                .into(),
        ),
    }
}

/// The verdict without breaking changes: the version must not go backwards, and must move
/// with any change (a date version may stay the same).
fn compatible_verdict(diff: &Diff, v: &Versions) -> Verdict {
    let Versions { ov_s, nv_s, ov, nv } = v;
    let (ov_s, nv_s, ov, nv) = (ov_s.as_str(), nv_s.as_str(), *ov, *nv);
    let changes = diff.api_changes().count();
    let backwards = match (ov, nv) {
        (Scheme::Semantic(a), Scheme::Semantic(b)) => b < a,
        (Scheme::Date(a), Scheme::Date(b)) => b < a,
        _ => false,
    };
    if backwards {
        let help = if matches!(ov, Scheme::Date(_)) {
            "a new release needs the same or a later date version than the previous one"
        } else {
            "a new release needs a higher version than the previous one"
        };
        return bad(
            Bump::Minor,
            format!("info.version went backwards ({ov_s} -> {nv_s})"),
            help.into(),
        );
    }
    if changes == 0 {
        return ok(Bump::None, "no API changes".into());
    }
    let s = plural(changes);
    if let (Scheme::Date(a), Scheme::Date(b)) = (ov, nv) {
        if a == b {
            let versions = if ov_s == nv_s {
                format!("date version {nv_s}")
            } else {
                format!("the same date version ({ov_s} -> {nv_s})")
            };
            return ok(
                Bump::Minor,
                format!(
                    "{changes} compatible change{s} in {versions}: compatible changes may ship in the current date \
                     version"
                ),
            );
        }
    }
    if diff.old.version == diff.new.version {
        let next = match ov {
            Scheme::Semantic(v) => v.next_minor(),
            _ => "a higher version".to_string(),
        };
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
    use crate::evo::DocInfo;

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
        for bad in [
            "",
            "latest",
            "1.x",
            "1..2",
            "1.2.3.4",
            "2024-01-15",
            "2024-06-20.basil",
            "2023-01-01-preview",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(v("1.4.0").is_major_bump(v("2.0.0")));
        assert!(!v("1.4.0").is_major_bump(v("1.5.0")));
        assert!(v("0.3.1").is_major_bump(v("0.4.0")));
        assert_eq!(v("1.4.2").next_major(), "2.0.0");
        assert_eq!(v("1.4.2").next_minor(), "1.5.0");
        assert_eq!(v("0.4.2").next_major(), "0.5.0");
    }

    #[test]
    fn date_versions() {
        let d = |s| DateVersion::parse(s).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(
            d("2022-11-28"),
            DateVersion {
                year: 2022,
                month: 11,
                day: 28
            }
        );
        assert_eq!(d("2024-06-20.basil"), d("2024-06-20"));
        assert_eq!(d(" 2023-01-01-preview "), d("2023-01-01"));
        assert!(d("2024-06-20.basil") < d("2024-09-30.acacia"));
        assert!(d("2024-02-29") > d("2023-12-31"));
        for bad in [
            "",
            "2024-13-01",
            "2024-00-10",
            "2023-02-29",
            "2024-04-31",
            "2024-06-20T10:00:00Z",
            "2024-06-20.",
            "2024-06-20 basil",
            "2024-6-20",
            "20240620",
            "1.2.3",
            "v2024-06-20",
        ] {
            assert_eq!(DateVersion::parse(bad), None, "{bad:?}");
        }
        assert!(matches!(Scheme::of(Some("2024-06-20.basil")), Scheme::Date(_)));
        assert!(matches!(Scheme::of(Some("1.4.0")), Scheme::Semantic(_)));
        assert_eq!(Scheme::of(Some("latest")), Scheme::Other);
        assert_eq!(Scheme::of(None), Scheme::Other);
    }

    #[test]
    fn version_segments() {
        assert_eq!(segment_major("v2"), Some(2));
        assert_eq!(segment_major("V3.1"), Some(3));
        assert_eq!(segment_major("v1beta2"), Some(1));
        // A date segment is not `/v24`.
        assert_eq!(segment_major("2024-01-15"), None);
        assert_eq!(segment_major("vendors"), None);
        assert_eq!(segment_major("orders"), None);
    }

    fn doc(version: Option<&str>, path_major: Option<u64>) -> DocInfo {
        DocInfo {
            file: "openapi.yaml".into(),
            title: None,
            version: version.map(str::to_string),
            openapi: "3.1.0".into(),
            path_major,
        }
    }

    fn change(kind: ChangeKind, ops: &[&str]) -> Change {
        Change {
            kind,
            message: kind.summary().into(),
            old: None,
            new: None,
            operations: ops.iter().map(|o| o.to_string()).collect(),
        }
    }

    fn removal() -> Change {
        change(ChangeKind::PathRemoved, &["GET /orders"])
    }

    fn addition() -> Change {
        change(ChangeKind::PathAdded, &["GET /orders/{id}"])
    }

    /// The verdict on `old -> new` with `changes` (no version prefixes).
    fn judge(old: Option<&str>, new: Option<&str>, changes: Vec<Change>) -> Verdict {
        versioning(&Diff {
            old: doc(old, None),
            new: doc(new, None),
            changes,
        })
    }

    /// The policy table, one release a row: `OLD => NEW, CHANGES: VERDICT REQUIRED; WORDS`, with
    /// `info.version` before and after (`-`: none), the changes (`breaking`, `compatible` or
    /// `none`), the verdict, what it requires, and words of its message.
    #[test]
    fn policy_table() {
        let rows = [
            // Semantic versions.
            "1.4.0 => 2.0.0, breaking: ok major; new major version",
            "0.3.1 => 0.4.0, breaking: ok major; new major version",
            "1.4.0 => 1.5.0, breaking: violated major; not a new major version",
            "1.4.0 => 1.5.0, compatible: ok minor; 1.4.0 -> 1.5.0",
            "1.4.0 => 1.4.0, compatible: violated minor; still 1.4.0",
            "1.4.0 => 1.3.0, compatible: violated minor; backwards",
            "1.4.0 => 1.3.0, none: violated minor; backwards",
            "1.4.0 => 1.4.0, none: ok none; no API changes",
            // Date versions: a breaking change needs a later date; compatible ones may keep the date.
            "2024-06-20 => 2024-09-30, breaking: ok major; clients still on 2024-06-20 must keep getting it",
            "2024-06-20.basil => 2024-09-30.acacia, breaking: ok major; new date version",
            "2024-06-20 => 2024-06-20, breaking: violated major; not a later date version",
            "2024-06-20.acacia => 2024-06-20.basil, breaking: violated major; not a later date version",
            "2024-06-20 => 2023-01-01, breaking: violated major; not a later date version",
            "2022-11-28 => 2022-11-28, compatible: ok minor; in date version 2022-11-28",
            "2022-11-28 => 2023-05-01, compatible: ok minor; 2022-11-28 -> 2023-05-01",
            "2022-11-28 => 2021-01-01, compatible: violated minor; backwards",
            "2022-11-28 => 2021-01-01, none: violated minor; backwards",
            "2022-11-28 => 2022-11-28, none: ok none; no API changes",
            // A switch of scheme: a new version line, either way.
            "1.4.0 => 2024-06-20, breaking: ok major; new version scheme",
            "2024-06-20 => 3.0.0, breaking: ok major; clients still on 2024-06-20",
            "1.4.0 => 2024-06-20, compatible: ok minor; 1.4.0 -> 2024-06-20",
            // Neither scheme (`-`: no info.version).
            "latest => latest, breaking: violated major; cannot mark a breaking release",
            "- => 2.0.0, breaking: violated major; cannot mark a breaking release",
            "1.4.0 => next, breaking: violated major; cannot mark a breaking release",
            "latest => latest, compatible: violated minor; still latest",
            "latest => next, compatible: ok minor; latest -> next",
        ];
        let version = |v: &'static str| (v != "-").then_some(v);
        for row in rows {
            let parsed = row.split_once(" => ").and_then(|(old, rest)| {
                let (new, rest) = rest.split_once(", ")?;
                let (changes, rest) = rest.split_once(": ")?;
                let (verdict, words) = rest.split_once("; ")?;
                Some((old, new, changes, verdict, words))
            });
            let Some((old, new, changes, verdict, words)) = parsed else {
                panic!("malformed row {row:?}");
            };
            let changes = match changes {
                "breaking" => vec![removal(), addition()],
                "compatible" => vec![addition()],
                "none" => Vec::new(),
                _ => panic!("{row}: unknown changes {changes:?}"),
            };
            let v = judge(version(old), version(new), changes);
            let required = match v.required {
                Bump::None => "none",
                Bump::Minor => "minor",
                Bump::Major => "major",
            };
            let got = format!("{} {required}", if v.ok { "ok" } else { "violated" });
            assert_eq!(got, verdict, "{row}: {v:?}");
            assert!(v.message.contains(words), "{row}: {v:?}");
            assert_eq!(v.help.is_some(), !v.ok, "{row}: {v:?}");
        }
    }

    #[test]
    fn version_changes_alone_need_nothing() {
        let v = judge(
            Some("1.0.0"),
            Some("1.0.0"),
            vec![change(ChangeKind::OpenapiVersionChanged, &[])],
        );
        assert_eq!((v.ok, v.required), (true, Bump::None));
    }

    #[test]
    fn version_prefixes() {
        let judge = |old: Option<u64>, new: Option<u64>, changes: Vec<Change>| {
            versioning(&Diff {
                old: doc(Some("1.4.0"), old),
                new: doc(Some("1.5.0"), new),
                changes,
            })
        };
        // /v1 retired from this document, the new contract under /v2.
        let v = judge(
            Some(1),
            Some(2),
            vec![
                change(ChangeKind::PathRemoved, &["GET /v1/orders"]),
                change(ChangeKind::PathAdded, &["GET /v2/orders"]),
            ],
        );
        assert!(v.ok && v.required == Bump::Major, "{v:?}");
        assert!(
            v.message.contains("new version prefix (/v2); keep /v1 available"),
            "{v:?}"
        );
        // Versioned by server URL: paths without a prefix change under the new /v2 server.
        let v = judge(
            Some(1),
            Some(2),
            vec![
                change(ChangeKind::ServerUrlChanged, &[]),
                change(ChangeKind::ResponsePropertyRemoved, &["GET /orders"]),
            ],
        );
        assert!(v.ok, "{v:?}");
        // /v1 kept next to /v2, but a shared schema changed under it: /v1 clients break (the
        // removal of a /v1 path is a retirement, not counted).
        let v = judge(
            Some(1),
            Some(2),
            vec![
                change(
                    ChangeKind::ResponsePropertyRemoved,
                    &["GET /v1/orders", "GET /v2/orders"],
                ),
                change(ChangeKind::PathRemoved, &["GET /v1/customers"]),
                change(ChangeKind::PathAdded, &["GET /v2/orders"]),
            ],
        );
        assert!(!v.ok && v.required == Bump::Major, "{v:?}");
        let expected = "2 breaking changes, 1 of them to operations still published under /v1 next to the new /v2 \
                        (GET /v1/orders): their clients break";
        assert_eq!(v.message, expected);
        let help = v.help.unwrap_or_default();
        assert!(help.contains("release the whole document as 2.0.0"), "{help}");
        // ... which a new major version still releases correctly.
        let v = versioning(&Diff {
            old: doc(Some("1.4.0"), Some(1)),
            new: doc(Some("2.0.0"), Some(2)),
            changes: vec![change(ChangeKind::ResponsePropertyRemoved, &["GET /v1/orders"])],
        });
        assert!(v.ok && v.message.contains("new major version"), "{v:?}");
        // No new prefix: the version decides, and the help offers /v2.
        let v = judge(
            Some(1),
            Some(1),
            vec![change(ChangeKind::PathRemoved, &["GET /v1/orders"])],
        );
        assert!(!v.ok, "{v:?}");
        assert!(v
            .help
            .unwrap_or_default()
            .contains("publish the breaking contract under /v2"));
    }
}
