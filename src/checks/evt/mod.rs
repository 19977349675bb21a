//! EVT: events and sagas, over the AsyncAPI event catalog and the manifest (Weeks 5, 6).

pub mod asyncapi_invalid;
pub mod catalog_manifest_mismatch;
pub mod dedup_key_missing;
pub mod event_loop;
pub mod event_naming;
pub mod event_schema_unversioned;
pub mod message_without_payload;
pub mod ordering_key_missing;
pub mod orphan_event;
pub mod saga_compensation_missing;

use std::collections::BTreeMap;
use std::ops::Range;

use super::{Check, CheckResult, Ctx, Finding, Typed};
use crate::artifact::asyncapi::{AsyncApiDoc, Message};
use crate::artifact::Loaded;
use crate::diag::did_you_mean;

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<asyncapi_invalid::AsyncapiInvalid>::new(),
    &Typed::<message_without_payload::MessageWithoutPayload>::new(),
    &Typed::<catalog_manifest_mismatch::CatalogManifestMismatch>::new(),
    &Typed::<orphan_event::OrphanEvent>::new(),
    &Typed::<ordering_key_missing::OrderingKeyMissing>::new(),
    &Typed::<dedup_key_missing::DedupKeyMissing>::new(),
    &Typed::<event_schema_unversioned::EventSchemaUnversioned>::new(),
    &Typed::<event_naming::EventNaming>::new(),
    &Typed::<saga_compensation_missing::SagaCompensationMissing>::new(),
    &Typed::<event_loop::EventLoop>::new(),
];

/// Most findings of one kind listed one by one; the rest are summarised in one finding.
const MAX_LISTED: usize = 10;

/// The loaded event catalog, or the result a catalog check returns without one: absent when
/// no catalog is declared, failed (with the reason only: EVT001 reports the cause) when the
/// declared catalog is missing or does not load.
pub(crate) fn catalog<'a>(ctx: &Ctx<'a>, what: &str) -> Result<(&'a str, &'a AsyncApiDoc), CheckResult> {
    let Some((rel, loaded)) = &ctx.artifacts.asyncapi else {
        return Err(CheckResult::absent(
            "no event catalog is declared (`[events] asyncapi`)",
        ));
    };
    // EVT001 asyncapi-invalid (and SUB002 for a missing file) report the cause at its place;
    // the items that depend on the catalog fail with the reason only (one cause, one finding).
    match loaded {
        Loaded::Ok(doc) => Ok((rel.as_str(), doc)),
        Loaded::Missing => Err(CheckResult::failed_because(format!(
            "the event catalog `{rel}` does not exist, so {what} cannot be checked (see EVT001 asyncapi-invalid)"
        ))),
        Loaded::Invalid(p) => Err(CheckResult::failed_because(format!(
            "the event catalog `{rel}` does not load, so {what} cannot be checked: {} (see EVT001 asyncapi-invalid)",
            p.message
        ))),
    }
}

/// A finding at the definition of message `m`.
pub(crate) fn message_finding(ctx: &Ctx<'_>, rel: &str, api: &AsyncApiDoc, m: &Message, message: String) -> Finding {
    ctx.document_finding(rel, &api.doc, &m.pointer, message)
}

/// Keeps the first [`MAX_LISTED`] findings and folds the rest into one finding about the file
/// (no position) that names them.
pub(crate) fn fold(mut findings: Vec<(String, Finding)>, what: &str, help: &str) -> Vec<Finding> {
    if findings.len() <= MAX_LISTED + 1 {
        return findings.into_iter().map(|(_, f)| f).collect();
    }
    let rest: Vec<String> = findings.split_off(MAX_LISTED).into_iter().map(|(n, _)| n).collect();
    let mut summary = Finding::new(format!("{} more {what}: {}", rest.len(), rest.join(", "))).help(help);
    summary.file = findings.last().and_then(|(_, f)| f.file.clone());
    let mut out: Vec<Finding> = findings.into_iter().map(|(_, f)| f).collect();
    out.push(summary);
    out
}

/// What a per-message rule says about its messages, for [`per_message`].
pub(crate) struct MessageRule<'a> {
    /// What cannot be checked without a catalog, e.g. `ordering keys`.
    pub topic: &'a str,
    /// Messages the rule leaves out, by name.
    pub ignore: &'a [String],
    /// The folded tail of the findings: what they are and how to fix them all.
    pub folded: (&'a str, &'a str),
    /// The evidence after `{good} of {total} messages `, e.g. `declare an ordering key`.
    pub compliant: &'a str,
}

/// Runs a rule over every message of the catalog that `rule.ignore` does not name: `check`
/// returns a finding for a message that fails. Partial credit: compliant / messages; skipped
/// when the catalog has no messages; the catalog's own absence is [`catalog`]'s result.
pub(crate) fn per_message(
    ctx: &Ctx<'_>,
    rule: MessageRule<'_>,
    mut check: impl FnMut(&str, &AsyncApiDoc, &Message) -> Option<Finding>,
) -> CheckResult {
    let (rel, api) = match catalog(ctx, rule.topic) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut total = 0;
    let mut findings = Vec::new();
    for m in api.messages.iter().filter(|m| !named_in(m, rule.ignore)) {
        total += 1;
        if let Some(f) = check(rel, api, m) {
            findings.push((m.label(), f));
        }
    }
    if total == 0 {
        return CheckResult::absent("the event catalog has no messages");
    }
    let bad = findings.len();
    let findings = fold(findings, rule.folded.0, rule.folded.1);
    CheckResult::ratio(total - bad, total, findings).with_evidence(format!(
        "{} of {total} messages {}",
        total - bad,
        rule.compliant
    ))
}

pub(crate) use crate::diag::plural;

/// The candidate `word` was probably meant to be: [`did_you_mean`] (Jaro-Winkler), confirmed
/// by edit distance, since event names share long prefixes (`OrderArchived` is not a typo of
/// `OrderPlaced`).
pub(crate) fn near_miss<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_ascii_lowercase();
    let close: Vec<&'a str> = candidates
        .into_iter()
        .filter(|c| *c != word && strsim::normalized_levenshtein(&lower, &c.to_ascii_lowercase()) >= 0.75)
        .collect();
    did_you_mean(word, close)
}

/// Whether a message is named in `names` (by any of its names).
pub(crate) fn named_in(m: &Message, names: &[String]) -> bool {
    m.names().iter().any(|n| names.iter().any(|x| x == n))
}

/// One event named in the manifest: who publishes it, who consumes it, and where.
#[derive(Debug, Default)]
pub(crate) struct EventUse {
    pub publishers: Vec<(String, Option<Range<usize>>)>,
    pub consumers: Vec<(String, Option<Range<usize>>)>,
}

impl EventUse {
    /// Where the event is first named: a publisher's entry, else a consumer's.
    pub fn span(&self) -> Option<&Range<usize>> {
        self.publishers
            .iter()
            .chain(self.consumers.iter())
            .find_map(|(_, s)| s.as_ref())
    }

    /// `published by a, b; consumed by c`.
    pub fn describe(&self) -> String {
        let names = |v: &[(String, Option<Range<usize>>)]| {
            let mut n: Vec<&str> = v.iter().map(|(s, _)| s.as_str()).collect();
            n.dedup();
            match n.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => n.join(""),
            }
        };
        match (self.publishers.is_empty(), self.consumers.is_empty()) {
            (false, false) => format!(
                "published by {}; consumed by {}",
                names(&self.publishers),
                names(&self.consumers)
            ),
            (false, true) => format!("published by {}", names(&self.publishers)),
            (true, false) => format!("consumed by {}", names(&self.consumers)),
            (true, true) => String::new(),
        }
    }
}

/// Every event the manifest's services publish or consume, by name.
pub(crate) fn manifest_events(ctx: &Ctx<'_>) -> BTreeMap<String, EventUse> {
    let mut out: BTreeMap<String, EventUse> = BTreeMap::new();
    for s in &ctx.submission.services {
        for e in &s.publishes {
            out.entry(e.name.clone())
                .or_default()
                .publishers
                .push((s.name.name.clone(), e.span.clone()));
        }
        for e in &s.consumes {
            out.entry(e.name.clone())
                .or_default()
                .consumers
                .push((s.name.name.clone(), e.span.clone()));
        }
    }
    out
}

/// A field name reduced for comparison: lower case, letters and digits only
/// (`partition_key`, `partition-key` and `partitionKey` compare equal).
pub(crate) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The fields of the message's headers and payload, as `(name, pointer)`.
pub(crate) fn message_fields(api: &AsyncApiDoc, m: &Message) -> Vec<(String, String, &'static str)> {
    let mut out = Vec::new();
    for h in api.headers(m) {
        out.extend(api.schema_fields(&h).into_iter().map(|f| (f.name, f.pointer, "header")));
    }
    if let Some((p, _)) = api.payload(m) {
        out.extend(
            api.schema_fields(&p)
                .into_iter()
                .map(|f| (f.name, f.pointer, "payload field")),
        );
    }
    out
}

/// The first field of the message whose name is in `wanted` (compared with [`norm`]).
pub(crate) fn find_field(api: &AsyncApiDoc, m: &Message, wanted: &[String]) -> Option<(String, &'static str)> {
    let wanted: Vec<String> = wanted.iter().map(|w| norm(w)).collect();
    message_fields(api, m)
        .into_iter()
        .find(|(n, _, _)| wanted.contains(&norm(n)))
        .map(|(n, _, w)| (n, w))
}

/// Splits an identifier into words: on anything that is not a letter or digit, and at
/// camel-case boundaries (`KYCVerified` -> `KYC`, `Verified`; `OrderPlacedV2` -> `Order`,
/// `Placed`, `V2`).
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in name.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = token.chars().collect();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None => false,
                Some(p) => {
                    (c.is_uppercase() && (p.is_lowercase() || p.is_ascii_digit()))
                        || (c.is_uppercase() && p.is_uppercase() && next.is_some_and(char::is_lowercase))
                        || (c.is_ascii_digit() && p.is_alphabetic() && !matches!(p, 'v' | 'V'))
                }
            };
            if boundary && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Whether a word is a version marker: `v1`, `V2`, `v10`.
pub(crate) fn is_version_word(w: &str) -> bool {
    let mut c = w.chars();
    matches!(c.next(), Some('v' | 'V')) && w.len() > 1 && c.all(|d| d.is_ascii_digit())
}

/// Whether a name carries a version: a `v<digits>` word (`order-placed-v1`, `OrderPlacedV2`,
/// `orders.v1`).
pub(crate) fn has_version_word(s: &str) -> bool {
    words(s).iter().any(|w| is_version_word(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words() {
        assert_eq!(words("OrderPlaced"), ["Order", "Placed"]);
        assert_eq!(words("KYCVerified"), ["KYC", "Verified"]);
        assert_eq!(words("order-placed.v1"), ["order", "placed", "v1"]);
        assert_eq!(words("OrderPlacedV2"), ["Order", "Placed", "V2"]);
        assert_eq!(words("order_placed"), ["order", "placed"]);
        assert_eq!(words("userSignedUp"), ["user", "Signed", "Up"]);
        assert!(words("").is_empty());
        assert!(has_version_word("product-created-v1"));
        assert!(has_version_word("shopflow.ordering.order-placed.v1"));
        assert!(has_version_word("OrderPlacedV2"));
        assert!(!has_version_word("dev1"));
        assert!(!has_version_word("OrderPlaced"));
        assert!(!has_version_word("Rev2"));
        assert_eq!(norm("partition_key"), norm("partitionKey"));
        assert_eq!(
            near_miss("OrderPlace", ["OrderPlaced", "OrderArchived"]),
            Some("OrderPlaced")
        );
        assert_eq!(near_miss("OrderArchived", ["orderPlaced"]), None);
        assert_eq!(near_miss("orderPlaced", ["OrderPlaced"]), Some("OrderPlaced"));
        assert_eq!(
            near_miss("PaymentAuthorised", ["PaymentAuthorized"]),
            Some("PaymentAuthorized")
        );
    }
}
