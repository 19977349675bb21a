//! OpenSLO v1 documents (SLO, SLI, AlertPolicy, AlertCondition, AlertNotificationTarget,
//! DataSource, Service), loaded with positions.
//!
//! An OpenSLO file is usually a multi-document YAML stream (`---` between the objects).
//! [`Document`] reads only the first document of a stream, so [`YamlStream`] splits the text at
//! document markers that start a line (`---`, and `...` which ends a document) and parses each
//! part on its own; a part that does not parse is a problem with its position in the whole
//! file, and the other parts are still used. One document holding a top-level list of objects
//! is accepted as well. Every position reported is a byte offset / line / column of the whole
//! file.

use std::collections::BTreeMap;

use serde_json::Value;

use super::document::{escape_pointer_segment, Document, Limits, Location};
use super::{ArtifactProblem, Loaded};
use crate::files::ArtifactRef;

/// The `apiVersion` of every OpenSLO v1 object.
pub const API_VERSION: &str = "openslo/v1";

/// The kinds OpenSLO v1 defines.
pub const KINDS: [&str; 7] = [
    "SLO",
    "SLI",
    "AlertPolicy",
    "AlertCondition",
    "AlertNotificationTarget",
    "DataSource",
    "Service",
];

pub use super::stream::{StreamPart, YamlStream};

// ---------------------------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------------------------

/// An OpenSLO duration shorthand: a positive integer and a unit, e.g. `30d`, `4w`, `1h`, `5m`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    /// As written.
    pub text: String,
    pub seconds: u64,
    /// Calendar units (`M`, `Q`, `Y`) are counted as 30, 90 and 365 days.
    pub approximate: bool,
}

/// Parses an OpenSLO duration shorthand: a whole positive number and one unit, `s`, `m`, `h`,
/// `d`, `w`, and the calendar units `M` (30 days), `Q` (90 days), `Y` (365 days). The error
/// says what is wrong. (Scenario steps' `within` uses another grammar, decimals with `ms`:
/// `crate::submission::parse_decimal_duration`.)
pub fn parse_openslo_duration(v: &Value) -> Result<Duration, String> {
    let text = match v {
        Value::String(s) => s.trim(),
        Value::Number(n) => return Err(format!("`{n}` has no unit; write e.g. `{n}d`")),
        Value::Null => return Err("the duration is empty".into()),
        _ => return Err("a duration is a string such as `28d`".into()),
    };
    let Some(unit) = text.chars().last() else {
        return Err("the duration is empty".into());
    };
    let digits = &text[..text.len() - unit.len_utf8()];
    let (per_unit, approximate) = match unit {
        's' => (1, false),
        'm' => (60, false),
        'h' => (3_600, false),
        'd' => (86_400, false),
        'w' => (604_800, false),
        'M' => (30 * 86_400, true),
        'Q' => (90 * 86_400, true),
        'Y' => (365 * 86_400, true),
        _ if unit.is_ascii_digit() => return Err(format!("`{text}` has no unit; write e.g. `{text}d`")),
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit `{unit}`; use m, h, d, w (or M, Q, Y for calendar windows)"
            ))
        }
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not a whole number followed by a unit, e.g. `28d` or `90m`"
        ));
    }
    let n: u64 = digits.parse().map_err(|_| format!("`{text}` is too large"))?;
    if n == 0 {
        return Err(format!("`{text}` is zero"));
    }
    let seconds = n
        .checked_mul(per_unit)
        .ok_or_else(|| format!("`{text}` is too large"))?;
    Ok(Duration {
        text: text.to_string(),
        seconds,
        approximate,
    })
}

// ---------------------------------------------------------------------------------------------
// The loaded set
// ---------------------------------------------------------------------------------------------

/// A node of one document of the stream: the part's index and a JSON pointer inside it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct At {
    pub part: usize,
    pub pointer: String,
}

impl At {
    /// The node at `rel` below this one (`rel` starts with `/`, segments escaped).
    pub fn join(&self, rel: &str) -> At {
        At {
            part: self.part,
            pointer: format!("{}{rel}", self.pointer),
        }
    }

    /// The member `key` of this node.
    pub fn key(&self, key: &str) -> At {
        self.join(&format!("/{}", escape_pointer_segment(key)))
    }

    /// The element `i` of this node.
    pub fn index(&self, i: usize) -> At {
        self.join(&format!("/{i}"))
    }
}

/// One OpenSLO object: a document of the stream, or an element of a top-level list.
#[derive(Debug, Clone)]
pub struct SloObject {
    pub at: At,
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
}

/// The OpenSLO objects of the `[operations] slos` file.
#[derive(Debug)]
pub struct SloSet {
    /// The whole file; its `value` is the first document only, its `source` the whole text
    /// (findings' byte spans index into it).
    pub doc: Document,
    /// Every document of the stream.
    pub stream: YamlStream,
    /// The objects, in file order.
    pub objects: Vec<SloObject>,
    /// Documents (or list elements) that are not objects at all.
    pub not_objects: Vec<ArtifactProblem>,
    /// (kind, name) -> indices into `objects`, in file order.
    by_name: BTreeMap<(String, String), Vec<usize>>,
}

pub fn load(r: &ArtifactRef, limits: &Limits) -> Loaded<SloSet> {
    // The whole file, for the snippets of findings. It fails only when the first document does
    // (or the file is empty, not UTF-8, binary): then nothing of the file can be trusted.
    let doc = match super::load_document(r, limits) {
        Loaded::Ok(doc) => doc,
        Loaded::Missing => return Loaded::Missing,
        Loaded::Invalid(p) => return Loaded::Invalid(p),
    };
    let stream = YamlStream::parse(&r.rel, &doc.source, limits);
    Loaded::Ok(SloSet::from_stream(doc, stream))
}

impl SloSet {
    fn from_stream(doc: Document, stream: YamlStream) -> SloSet {
        let mut objects = Vec::new();
        let mut not_objects = Vec::new();
        for (pi, part) in stream.parts.iter().enumerate() {
            let mut candidates = Vec::new();
            match &part.doc.value {
                Value::Array(items) => {
                    candidates.extend(items.iter().enumerate().map(|(i, v)| (format!("/{i}"), v)));
                }
                v => candidates.push((String::new(), v)),
            }
            for (pointer, v) in candidates {
                let at = At { part: pi, pointer };
                if !v.is_object() {
                    not_objects.push(ArtifactProblem {
                        message: format!(
                            "{} is not an OpenSLO object (a mapping with apiVersion, kind, metadata and spec)",
                            match at.pointer.strip_prefix('/') {
                                Some(i) => format!(
                                    "item {} of document {}",
                                    i.parse::<usize>().map_or(0, |i| i + 1),
                                    part.number
                                ),
                                None => format!("document {}", part.number),
                            }
                        ),
                        location: Some(stream.locate(pi, &at.pointer)),
                        pointer: (!at.pointer.is_empty()).then(|| at.pointer.clone()),
                        help: "write each object as a mapping, e.g. `apiVersion: openslo/v1`, `kind: SLO`, \
                               `metadata: {name: ...}`, `spec: {...}`"
                            .into(),
                    });
                    continue;
                }
                let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(|s| s.trim().to_string());
                objects.push(SloObject {
                    api_version: text("/apiVersion"),
                    kind: text("/kind"),
                    name: text("/metadata/name").filter(|n| !n.is_empty()),
                    at,
                });
            }
        }
        let mut by_name: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, o) in objects.iter().enumerate() {
            if let (Some(k), Some(n)) = (&o.kind, &o.name) {
                by_name.entry((k.clone(), n.clone())).or_default().push(i);
            }
        }
        SloSet {
            doc,
            stream,
            objects,
            not_objects,
            by_name,
        }
    }

    /// The value at `at`, if it exists.
    pub fn value(&self, at: &At) -> Option<&Value> {
        self.stream.parts.get(at.part)?.doc.value.pointer(&at.pointer)
    }

    /// Where `at` is in the whole file (nearest existing ancestor when it does not exist).
    pub fn locate(&self, at: &At) -> Location {
        self.stream.locate(at.part, &at.pointer)
    }

    /// The objects of `kind`, in file order.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a SloObject> + 'a {
        self.objects.iter().filter(move |o| o.kind.as_deref() == Some(kind))
    }

    /// The first object of `kind` named `name`.
    pub fn named(&self, kind: &str, name: &str) -> Option<&SloObject> {
        self.same_name(kind, name).first().and_then(|&i| self.objects.get(i))
    }

    /// Indices (into `objects`) of every object of `kind` named `name`, in file order.
    pub fn same_name(&self, kind: &str, name: &str) -> &[usize] {
        self.by_name
            .get(&(kind.to_string(), name.trim().to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// Every `kind: SLO` object, read into an [`Slo`].
    pub fn slos(&self) -> Vec<Slo> {
        self.of_kind("SLO").map(|o| self.slo(o)).collect()
    }

    fn slo(&self, o: &SloObject) -> Slo {
        let spec = o.at.key("spec");
        let number = self.stream.parts.get(o.at.part).map_or(0, |p| p.number);
        let name = o
            .name
            .clone()
            .unwrap_or_else(|| format!("(unnamed SLO, document {number})"));
        let service = self
            .value(&spec.key("service"))
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let objectives = self
            .list(&spec.key("objectives"))
            .into_iter()
            .map(|at| {
                let v = self.value(&at);
                let field = |k: &str| v.and_then(|v| v.get(k)).cloned();
                Objective {
                    label: field("displayName")
                        .and_then(|d| d.as_str().map(str::to_string))
                        .or_else(|| field("name").and_then(|d| d.as_str().map(str::to_string))),
                    target: field("target"),
                    target_percent: field("targetPercent"),
                    at,
                }
            })
            .collect();
        let windows = self
            .list(&spec.key("timeWindow"))
            .into_iter()
            .map(|at| {
                let v = self.value(&at);
                let duration = match v.and_then(|v| v.get("duration")) {
                    Some(d) => parse_openslo_duration(d),
                    None => Err("the time window has no `duration`".into()),
                };
                let calendar = v.and_then(|v| v.get("calendar")).is_some();
                let rolling = v
                    .and_then(|v| v.get("isRolling"))
                    .and_then(Value::as_bool)
                    .unwrap_or(!calendar);
                Window { at, duration, rolling }
            })
            .collect();
        let policies = self
            .list(&spec.key("alertPolicies"))
            .into_iter()
            .map(|at| self.link(at, "alertPolicyRef", "AlertPolicy"))
            .collect();
        Slo {
            object: o.clone(),
            name,
            service,
            objectives,
            windows,
            policies,
        }
    }

    /// The elements of the list at `at`; a single mapping counts as a list of one (lenient).
    fn list(&self, at: &At) -> Vec<At> {
        match self.value(at) {
            Some(Value::Array(items)) => (0..items.len()).map(|i| at.index(i)).collect(),
            Some(Value::Object(_)) => vec![at.clone()],
            _ => Vec::new(),
        }
    }

    /// Reads a reference-or-inline list element: `{<ref_key>: name}`, a plain string (taken as
    /// a name), or an inline object of `kind`.
    fn link(&self, at: At, ref_key: &str, kind: &str) -> Link {
        match self.value(&at) {
            Some(Value::String(s)) => Link::Ref {
                name: s.trim().to_string(),
                at,
            },
            Some(Value::Object(m)) => match m.get(ref_key) {
                Some(Value::String(s)) => Link::Ref {
                    name: s.trim().to_string(),
                    at: at.key(ref_key),
                },
                Some(_) => Link::Invalid { at: at.key(ref_key) },
                None if m.contains_key("spec") || m.get("kind").and_then(Value::as_str) == Some(kind) => {
                    Link::Inline { at }
                }
                None => Link::Invalid { at },
            },
            _ => Link::Invalid { at },
        }
    }

    /// Resolves a link to the object it names (`kind` objects by `metadata.name`) or to the
    /// inline object itself.
    pub fn resolve(&self, link: &Link, kind: &str) -> Option<At> {
        match link {
            Link::Ref { name, .. } => self.named(kind, name).map(|o| o.at.clone()),
            Link::Inline { at } => Some(at.clone()),
            Link::Invalid { .. } => None,
        }
    }

    /// The conditions of the AlertPolicy at `policy` (`spec.conditions`, references by
    /// `conditionRef` or inline AlertConditions).
    pub fn policy_conditions(&self, policy: &At) -> Vec<Link> {
        self.list(&policy.key("spec").key("conditions"))
            .into_iter()
            .map(|at| self.link(at, "conditionRef", "AlertCondition"))
            .collect()
    }

    /// The `spec.condition` of the AlertCondition at `condition`.
    pub fn condition(&self, condition: &At) -> Condition {
        let at = condition.key("spec").key("condition");
        let v = self.value(&at);
        let s = |k: &str| {
            v.and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .map(|s| s.trim().to_string())
        };
        Condition {
            kind: s("kind"),
            op: s("op"),
            threshold: v.and_then(|v| v.get("threshold")).and_then(Value::as_f64),
            lookback: v.and_then(|v| v.get("lookbackWindow")).map(parse_openslo_duration),
            alert_after: v.and_then(|v| v.get("alertAfter")).map(parse_openslo_duration),
            at,
        }
    }

    /// The name of the object at `at` (`metadata.name`), when it has one.
    pub fn name_at(&self, at: &At) -> Option<String> {
        self.value(&at.key("metadata").key("name"))
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
}

/// A reference to another object, or an object written inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// By name: `at` is the name's node.
    Ref { name: String, at: At },
    /// Written in place.
    Inline { at: At },
    /// Neither a name nor an object.
    Invalid { at: At },
}

impl Link {
    pub fn at(&self) -> &At {
        match self {
            Link::Ref { at, .. } | Link::Inline { at } | Link::Invalid { at } => at,
        }
    }
}

/// A `kind: SLO` object, read.
#[derive(Debug, Clone)]
pub struct Slo {
    pub object: SloObject,
    /// `metadata.name`, or a description of where it is when unnamed.
    pub name: String,
    /// `spec.service`.
    pub service: Option<String>,
    pub objectives: Vec<Objective>,
    pub windows: Vec<Window>,
    pub policies: Vec<Link>,
}

impl Slo {
    /// The node `spec/<key>` of this SLO.
    pub fn spec(&self, key: &str) -> At {
        self.object.at.key("spec").key(key)
    }

    /// The node of `metadata.name` (the SLO's own line).
    pub fn name_at(&self) -> At {
        self.object.at.key("metadata").key("name")
    }

    /// The first time window with a valid duration.
    pub fn window(&self) -> Option<(&Window, &Duration)> {
        self.windows
            .iter()
            .find_map(|w| w.duration.as_ref().ok().map(|d| (w, d)))
    }
}

/// One element of `spec.objectives`.
#[derive(Debug, Clone)]
pub struct Objective {
    pub at: At,
    /// `displayName` (or `name`).
    pub label: Option<String>,
    pub target: Option<Value>,
    pub target_percent: Option<Value>,
}

/// One element of `spec.timeWindow`.
#[derive(Debug, Clone)]
pub struct Window {
    pub at: At,
    pub duration: Result<Duration, String>,
    /// Rolling (`isRolling: true`) or calendar-aligned.
    pub rolling: bool,
}

/// The `spec.condition` of an AlertCondition.
#[derive(Debug, Clone)]
pub struct Condition {
    pub at: At,
    pub kind: Option<String>,
    pub op: Option<String>,
    pub threshold: Option<f64>,
    pub lookback: Option<Result<Duration, String>>,
    pub alert_after: Option<Result<Duration, String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(src: &str) -> YamlStream {
        YamlStream::parse("slos.yaml", src, &Limits::default())
    }

    #[test]
    fn splits_documents_and_keeps_positions() {
        let src = "# header\n---\na: 1\n---\nb:\n  c: 2\n...\n---\n";
        let s = stream(src);
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.documents, 2);
        let l = s.locate(1, "/b/c");
        assert_eq!((l.line, l.column), (6, 6));
        assert_eq!(&src[l.offset..l.offset + l.len], "2");
    }

    #[test]
    fn broken_part_is_a_problem_and_others_survive() {
        let src = "a: 1\n---\nb: [1,\n---\nc: 3\n";
        let s = stream(src);
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.documents, 3);
        assert_eq!(s.problems.len(), 1);
        let loc = s.problems[0].location.unwrap();
        assert!(loc.line >= 3, "{loc:?}");
        assert_eq!(s.parts[1].number, 3);
        assert_eq!(s.locate(1, "/c").line, 5);
    }

    #[test]
    fn markers_need_line_start_and_blank() {
        let src = "a: |\n  ---\n  x\nb: ---x\n";
        assert_eq!(stream(src).parts.len(), 1);
        let crlf = "a: 1\r\n---\r\nb: 2\r\n";
        let s = stream(crlf);
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.locate(1, "/b").line, 3);
    }

    #[test]
    fn durations() {
        let d = |s: &str| parse_openslo_duration(&Value::String(s.into()));
        assert_eq!(d("30d").unwrap().seconds, 30 * 86_400);
        assert_eq!(d("4w").unwrap().seconds, 28 * 86_400);
        assert!(d("1M").unwrap().approximate);
        assert!(d("1.5h").is_err());
        assert!(d("30").is_err());
        assert!(d("0d").is_err());
        assert!(d("99999999999999999999d").is_err());
        assert!(d("").is_err());
        assert!(d("5é").is_err());
        assert!(parse_openslo_duration(&serde_json::json!(30)).is_err());
    }
}
