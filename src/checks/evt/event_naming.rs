use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{fold, is_version_word, words};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct EventNaming;

const DOCS: &str = r#"## What it checks
That events are named as facts and commands as requests:

- an **event** (a name in a service's `publishes`) is a past participle, possibly
  qualified: `OrderPlaced`, `PaymentAuthorized`, `PayoutSent`, `UserSignedUp`,
  `OrderPlacedOnHold`, `PaymentFailedDueToTimeout`. The name is split into words (camel
  case, `-`, `_`, `.`); a trailing version (`V2`, `v1`) and a trailing `Event` are ignored.
  The whole name is judged: it passes when a word is a past participle and what follows it
  is nothing, a phrasal particle (`SignedUp`, `CheckedOut`, `LoggedIn`), a qualifier that
  starts with a preposition (`On`, `By`, `For`, `After`, `Due`, ...: `OrderPlacedOnHold`,
  `OrderCancelledByCustomer`) or adverbs (`OrderShippedPartially`, `OrderDeliveredLate`). A
  word is a past participle when it ends in `-ed` (not `Feed`, `Need`, `Seed`, `Speed`) or
  is irregular (`Sent`, `Paid`, `Built`, `Sold`, `Held`, `Made`, `Taken`, `Written`, ...,
  plus the `participles` parameter). `OrderCreate` (no participle) and `ShippedOrderList`
  (a participle followed by nouns) fail.
- a **command** (a saga step's `action` or `compensation`) is imperative, verb first:
  `ReserveStock`, `RefundPayment`. It fails when its first word is a past participle
  (`ReservedStock`; not one spelled like the imperative: `SetPrice`, `ResetPassword`), a
  gerund (`ReservingStock`) or a noun in `-tion`, `-sion`, `-ment`, `-ance`, `-ence`,
  `-ness`, `-ity` (`PaymentRefund`), or when it reads as an event (its last word is past
  tense, `StockReserved`) without starting with a verb that takes a state (`Mark`, `Set`,
  `Flag`, `Record`, `Notify`, `Publish`, `Emit`, `Send`, `Handle`, `Process`, `Apply`,
  `Raise`: `MarkOrderShipped` is fine).

This is a heuristic: names it misjudges can be listed in `ignore`. Partial credit: well
named events and commands / events and commands.

## Why it matters
Week 5 (event-driven architecture) and Week 6 (choreography vs orchestration) rest on the
difference between an event, a fact that has happened and that anyone may react to, and a
command, a request addressed to one service that may refuse it. Names in the past tense
make a choreography readable and stop consumers from treating events as orders; imperative
commands make an orchestrator's requests (and their compensations) explicit.

## How to fix
Rename events after what happened to the aggregate (`<Aggregate><PastVerb>`:
`CreateOrder` -> `OrderCreated`) and commands after what they ask (`<Verb><Object>`:
`PaymentRefund` -> `RefundPayment`), in the manifest and in the event catalog.

## Example
```toml
[[service]]
name = "orders"
publishes = ["OrderPlaced", "OrderCancelled"]      # not "PlaceOrder", "OrderCancel"

[[saga]]
name = "place-order"
style = "orchestration"
steps = [{ service = "payments", action = "AuthorizePayment", compensation = "VoidPayment" }]
```
"#;

/// Irregular past participles (lower case) that name events.
const IRREGULAR: &[&str] = &[
    "arisen",
    "awoken",
    "become",
    "begun",
    "bent",
    "bound",
    "bought",
    "broken",
    "brought",
    "built",
    "burnt",
    "caught",
    "chosen",
    "come",
    "cut",
    "dealt",
    "done",
    "drawn",
    "driven",
    "dug",
    "eaten",
    "fallen",
    "fed",
    "felt",
    "fought",
    "found",
    "forbidden",
    "forgiven",
    "forgotten",
    "frozen",
    "given",
    "gone",
    "got",
    "gotten",
    "grown",
    "held",
    "hidden",
    "hit",
    "hung",
    "hurt",
    "kept",
    "known",
    "laid",
    "led",
    "left",
    "lent",
    "let",
    "lit",
    "lost",
    "made",
    "meant",
    "met",
    "overridden",
    "paid",
    "prepaid",
    "put",
    "quit",
    "read",
    "rebuilt",
    "redone",
    "repaid",
    "reset",
    "resent",
    "resold",
    "rewritten",
    "ridden",
    "risen",
    "run",
    "rung",
    "said",
    "seen",
    "sent",
    "set",
    "shaken",
    "shed",
    "shown",
    "shut",
    "slid",
    "sold",
    "sought",
    "spent",
    "split",
    "spoken",
    "spread",
    "spun",
    "stolen",
    "stood",
    "stuck",
    "struck",
    "sworn",
    "swept",
    "taken",
    "taught",
    "thought",
    "thrown",
    "told",
    "torn",
    "undone",
    "understood",
    "upheld",
    "withdrawn",
    "withheld",
    "woken",
    "won",
    "worn",
    "written",
    "wound",
    "outbid",
    "overpaid",
    "underpaid",
    "rerun",
    "upset",
];

/// Words ending in `-ed` that are not past tense.
const NOT_PAST: &[&str] = &[
    "feed", "need", "seed", "speed", "breed", "weed", "greed", "bleed", "embed", "bed", "red",
];

/// Particles of phrasal verbs (`SignedUp`, `CheckedOut`).
const PARTICLES: &[&str] = &[
    "in", "out", "up", "down", "off", "on", "over", "back", "away", "through",
];

/// Trailing words ignored in an event name.
const SUFFIXES: &[&str] = &["event", "evt", "message", "msg"];

/// Verbs that may take a state as their object in a command (`MarkOrderShipped`).
const STATE_VERBS: &[&str] = &[
    "mark", "set", "flag", "record", "notify", "publish", "emit", "send", "handle", "process", "apply", "raise",
];

/// Nominal suffixes: a command starting with such a word starts with a noun.
const NOUN_SUFFIXES: &[&str] = &["tion", "sion", "ment", "ance", "ence", "ness", "ity"];

/// Irregular participles spelled like the imperative (`SetPrice`, `ResetPassword`): a command
/// may start with them.
const BASE_FORM_PARTICIPLES: &[&str] = &[
    "become", "come", "cut", "hit", "hurt", "let", "put", "quit", "read", "rerun", "reset", "run", "set", "shed",
    "shut", "split", "spread", "upset", "outbid",
];

/// Prepositions that start a qualifier after the participle of an event (`OrderPlacedOnHold`).
const PREPOSITIONS: &[&str] = &[
    "on", "in", "at", "by", "for", "from", "to", "with", "without", "within", "after", "before", "during", "via",
    "into", "onto", "under", "per", "as", "due", "because", "against", "until", "upon", "since", "while",
];

/// Words that qualify a participle on their own (`OrderDeliveredLate`).
const QUALIFYING_WORDS: &[&str] = &["late", "early", "again", "twice", "manually", "automatically"];

/// Whether the words after an event's participle qualify it: nothing, a phrasal particle
/// (itself followed by a qualifier or nothing), a prepositional phrase, or adverbs.
fn is_qualifier(rest: &[String]) -> bool {
    let lower: Vec<String> = rest.iter().map(|x| x.to_ascii_lowercase()).collect();
    let mut rest = lower.as_slice();
    if let Some(first) = rest.first().filter(|x| PARTICLES.contains(&x.as_str())) {
        if rest.len() == 1 {
            return true;
        }
        if !PREPOSITIONS.contains(&first.as_str()) {
            rest = &rest[1..];
        }
    }
    match rest.first() {
        None => true,
        Some(first) if PREPOSITIONS.contains(&first.as_str()) => rest.len() > 1,
        Some(_) => rest
            .iter()
            .all(|x| QUALIFYING_WORDS.contains(&x.as_str()) || (x.len() > 4 && x.ends_with("ly"))),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// More words that count as past participles.
    pub participles: Vec<String>,
    /// Event or command names left unchecked.
    pub ignore: Vec<String>,
}

struct Naming<'a> {
    extra: &'a [String],
}

impl Naming<'_> {
    fn is_past(&self, w: &str) -> bool {
        let l = w.to_ascii_lowercase();
        if IRREGULAR.contains(&l.as_str()) || self.extra.iter().any(|e| e.eq_ignore_ascii_case(&l)) {
            return true;
        }
        l.len() >= 4 && l.ends_with("ed") && !NOT_PAST.contains(&l.as_str())
    }

    /// The words of a name without a trailing version or number.
    fn core_words(name: &str) -> Vec<String> {
        let mut w = words(name);
        while w
            .last()
            .is_some_and(|x| is_version_word(x) || x.chars().all(|c| c.is_ascii_digit()))
        {
            w.pop();
        }
        w
    }

    /// Why `name` is not an event name, or `None`. The whole name is judged: a past
    /// participle followed by nothing, by a phrasal particle (`SignedUp`), or by a qualifier
    /// (`OrderPlacedOnHold`, `PaymentFailedDueToTimeout`, `OrderShippedPartially`).
    fn event_problem(&self, name: &str) -> Option<String> {
        let mut w = Self::core_words(name);
        while w.len() > 1
            && w.last()
                .is_some_and(|x| SUFFIXES.contains(&x.to_ascii_lowercase().as_str()))
        {
            w.pop();
        }
        let Some(last) = w.last() else {
            return Some("it has no word besides a version".into());
        };
        let mut past_seen = None;
        for (i, word) in w.iter().enumerate() {
            if !self.is_past(word) {
                continue;
            }
            if is_qualifier(&w[i + 1..]) {
                return None;
            }
            past_seen = Some((word, &w[i + 1]));
        }
        Some(match past_seen {
            Some((past, next)) => format!(
                "`{past}` is followed by `{next}`, which does not start a qualifier (a preposition such as `On`, \
                 `By`, `For`, `After`, or an adverb)"
            ),
            None => format!("it ends in `{last}`, which is not a past participle"),
        })
    }

    /// Why `name` is not an imperative command, or `None`.
    fn command_problem(&self, name: &str) -> Option<String> {
        let w = Self::core_words(name);
        let Some(first) = w.first() else {
            return Some("it has no word besides a version".into());
        };
        let fl = first.to_ascii_lowercase();
        if self.is_past(first) && !BASE_FORM_PARTICIPLES.contains(&fl.as_str()) {
            return Some(format!("it starts with the past participle `{first}`"));
        }
        if fl.len() >= 6 && fl.ends_with("ing") {
            return Some(format!("it starts with the gerund `{first}`"));
        }
        if w.len() > 1 && NOUN_SUFFIXES.iter().any(|s| fl.len() > s.len() + 2 && fl.ends_with(s)) {
            return Some(format!("it starts with the noun `{first}`"));
        }
        let last = w.last()?;
        if w.len() > 1 && self.is_past(last) && !STATE_VERBS.contains(&fl.as_str()) {
            return Some(format!("it reads as an event (`{last}` is past tense)"));
        }
        None
    }
}

impl TypedCheck for EventNaming {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT008",
        name: "event-naming",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "An event is not named in the past tense, or a saga command is not imperative",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "participles",
                ty: "array of strings",
                description: "more words that count as past participles (irregular verbs of your domain)",
            },
            ParamDoc {
                name: "ignore",
                ty: "array of strings",
                description: "event or command names left unchecked",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let sub = ctx.submission;
        let naming = Naming { extra: &p.participles };
        // name -> first place it is written
        let mut events: BTreeMap<&str, Option<&Range<usize>>> = BTreeMap::new();
        for s in &sub.services {
            for e in &s.publishes {
                events.entry(e.name.as_str()).or_insert(e.span.as_ref());
            }
        }
        let mut commands: BTreeMap<&str, (Option<&Range<usize>>, &str)> = BTreeMap::new();
        for saga in &sub.sagas {
            for step in &saga.steps {
                commands
                    .entry(step.action.name.as_str())
                    .or_insert((step.action.span.as_ref(), saga.name.name.as_str()));
                if let Some(c) = &step.compensation {
                    commands
                        .entry(c.name.as_str())
                        .or_insert((c.span.as_ref(), saga.name.name.as_str()));
                }
            }
        }
        events.retain(|n, _| !n.is_empty() && !p.ignore.iter().any(|i| i == n));
        commands.retain(|n, _| !n.is_empty() && !p.ignore.iter().any(|i| i == n));
        let total = events.len() + commands.len();
        if total == 0 {
            return CheckResult::absent("the manifest names no published event and no saga command");
        }
        let mut bad_events = Vec::new();
        for (name, span) in &events {
            if let Some(why) = naming.event_problem(name) {
                let f = ctx
                    .manifest_finding(*span, format!("event `{name}` is not named in the past tense: {why}"))
                    .help(
                        "name an event after what happened, `<Aggregate><PastVerb>`: `OrderPlaced`, \
                         `PaymentAuthorized`, `PayoutSent` (and rename it in the catalog too)",
                    );
                bad_events.push((name.to_string(), f));
            }
        }
        let mut bad_commands = Vec::new();
        for (name, (span, saga)) in &commands {
            if let Some(why) = naming.command_problem(name) {
                let f = ctx
                    .manifest_finding(
                        *span,
                        format!("saga command `{name}` (saga `{saga}`) is not imperative: {why}"),
                    )
                    .help("name a command after what it asks, verb first: `ReserveStock`, `RefundPayment`");
                bad_commands.push((name.to_string(), f));
            }
        }
        let (ne, nc) = (bad_events.len(), bad_commands.len());
        let mut findings = fold(
            bad_events,
            "events not in the past tense",
            "name events in the past tense",
        );
        findings.extend(fold(
            bad_commands,
            "commands not imperative",
            "name commands verb first",
        ));
        CheckResult::ratio(total - ne - nc, total, findings).with_evidence(format!(
            "{} of {} events in the past tense; {} of {} saga commands imperative",
            events.len() - ne,
            events.len(),
            commands.len() - nc,
            commands.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heuristics() {
        let n = Naming { extra: &[] };
        for ok in [
            "OrderPlaced",
            "PaymentAuthorized",
            "PayoutSent",
            "InvoicePaid",
            "OrderShipped",
            "UserSignedUp",
            "CartCheckedOut",
            "OrderPlacedV2",
            "order.placed.v1",
            "order-placed",
            "OrderCreatedEvent",
            "KYCVerified",
            "LedgerEntriesPosted",
            "OrderPlacedOnHold",
            "OrderPutOnHold",
            "PaymentFailedDueToTimeout",
            "OrderCancelledByCustomer",
            "UserLoggedInWithSso",
            "UserLoggedIn",
            "UserSignedUpWithGoogle",
            "OrderShippedPartially",
            "OrderDeliveredLateV2",
        ] {
            assert_eq!(n.event_problem(ok), None, "{ok}");
        }
        for bad in [
            "PlaceOrder",
            "OrderCreate",
            "PaymentFeed",
            "Order",
            "OrderEvent",
            "order-placement",
            "SetUpPayment",
            "ReadModelRefresh",
            "ShippedOrderList",
            "OrderPlacedHold",
        ] {
            assert!(n.event_problem(bad).is_some(), "{bad}");
        }
        for ok in [
            "ReserveStock",
            "AuthorizePayment",
            "VoidPayment",
            "RejectOrder",
            "MarkOrderShipped",
            "Ship",
            "Refund",
            "SetDeliverySlot",
            "ResetPassword",
            "PutOrderOnHold",
        ] {
            assert_eq!(n.command_problem(ok), None, "{ok}");
        }
        for bad in [
            "StockReserved",
            "ReservedStock",
            "ReservingStock",
            "PaymentRefund",
            "Shipped",
        ] {
            assert!(n.command_problem(bad).is_some(), "{bad}");
        }
        assert!(n.event_problem("OrderUndone").is_none());
        let extra = ["Outrun".to_string()];
        let n = Naming { extra: &extra };
        assert!(n.event_problem("RaceOutrun").is_none());
        assert!(n.event_problem("RaceOutran").is_some());
    }
}
