//! Properties of the one scoring function (`grade::score`), against the rule it documents:
//!
//! score = 100 × Σ(weight × credit) / Σ(weight) over the items that count. Passed items earn
//! credit 1, failed items their partial credit (0 to under 1). Skipped items are left out of
//! both sums. Errored items count with credit 0 and make the grade incomplete. The submission
//! passes when the grade is complete, the score (rounded to two decimals) reaches the threshold
//! and no required item failed. An incomplete grade is decided anyway when the errored items
//! cannot change it: a fail when it would fail even with full credit for them, a pass when it
//! passes with zero for them (and no required item errored); otherwise it is incomplete.
//!
//! Inputs stay in the domain the rubric loader allows: weights positive and finite (here
//! 0.001 to 10^6), thresholds 0 to 100; credits are what checks produce (`good / total`) plus
//! arbitrary values, which the scorer clamps.

use grade::finding::Outcome;
use grade::score::{round2, score, ItemInput, Score, Verdict};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Generators

fn weight() -> impl Strategy<Value = f64> {
    prop_oneof![(1u32..=20).prop_map(f64::from), 0.001f64..1_000_000.0,]
}

/// A partial credit of a failed item, as checks produce it: 0 to under 1.
fn partial_credit() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        (1usize..=20).prop_flat_map(|total| (0..total).prop_map(move |good| good as f64 / total as f64)),
        0.0f64..1.0,
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => Just(Outcome::Passed),
        3 => Just(Outcome::Failed),
        1 => Just(Outcome::Skipped),
        1 => Just(Outcome::Errored),
    ]
}

/// One item with the credit its outcome implies (passed 1, failed partial, skipped none,
/// errored 0) — the shapes `CheckResult` produces.
fn item() -> impl Strategy<Value = ItemInput> {
    (weight(), prop::bool::weighted(0.25), outcome(), partial_credit()).prop_map(|(weight, required, outcome, c)| {
        ItemInput {
            weight,
            required,
            outcome,
            credit: match outcome {
                Outcome::Passed => Some(1.0),
                Outcome::Failed => Some(c),
                Outcome::Skipped => None,
                Outcome::Errored => Some(0.0),
            },
        }
    })
}

/// Items with every field free (any credit, required anywhere), still with valid weights.
fn wild_item() -> impl Strategy<Value = ItemInput> {
    let credit = prop_oneof![
        Just(None),
        (-2.0f64..3.0).prop_map(Some),
        Just(Some(1.0)),
        Just(Some(f64::INFINITY)),
        Just(Some(f64::NEG_INFINITY)),
    ];
    (weight(), any::<bool>(), outcome(), credit).prop_map(|(weight, required, outcome, credit)| ItemInput {
        weight,
        required,
        outcome,
        credit,
    })
}

fn items() -> impl Strategy<Value = Vec<ItemInput>> {
    prop::collection::vec(item(), 0..12)
}

fn threshold() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(85.0),
        Just(90.0),
        Just(95.0),
        Just(0.0),
        Just(100.0),
        (0u32..=100).prop_map(f64::from),
        0.0f64..=100.0,
    ]
}

// ---------------------------------------------------------------------------------------------
// An independent reading of the documented rule

/// The credit an item earns under the rule; `None` when it does not count.
fn rule_credit(i: &ItemInput) -> Option<f64> {
    match i.outcome {
        Outcome::Passed => Some(1.0),
        Outcome::Failed => Some(i.credit.unwrap_or(0.0).clamp(0.0, 1.0)).map(|c| if c >= 1.0 { 0.0 } else { c }),
        Outcome::Errored => Some(0.0),
        Outcome::Skipped => None,
    }
}

/// (points, max points, percent rounded to two decimals).
fn rule_percent(items: &[ItemInput]) -> (f64, f64, f64) {
    let mut points = 0.0;
    let mut max = 0.0;
    for i in items {
        if let Some(c) = rule_credit(i) {
            points += i.weight * c;
            max += i.weight;
        }
    }
    let pct = if max > 0.0 { round2(100.0 * points / max) } else { 0.0 };
    (points, max, pct)
}

/// The verdict of a complete grading.
fn complete_verdict(items: &[ItemInput], threshold: f64) -> Verdict {
    let (_, max, pct) = rule_percent(items);
    let gate = items.iter().any(|i| i.required && i.outcome == Outcome::Failed);
    if !gate && max > 0.0 && pct >= threshold {
        Verdict::Passed
    } else {
        Verdict::Failed
    }
}

fn replace_errored(items: &[ItemInput], outcome: Outcome, credit: f64) -> Vec<ItemInput> {
    items
        .iter()
        .map(|i| {
            if i.outcome == Outcome::Errored {
                ItemInput {
                    outcome,
                    credit: Some(credit),
                    ..*i
                }
            } else {
                *i
            }
        })
        .collect()
}

/// The documented verdict, incomplete gradings included.
fn rule_verdict(items: &[ItemInput], threshold: f64) -> Verdict {
    if items.iter().all(|i| i.outcome != Outcome::Errored) {
        return complete_verdict(items, threshold);
    }
    // Full credit for the errored items (their gates then hold).
    let best = complete_verdict(&replace_errored(items, Outcome::Passed, 1.0), threshold);
    // Zero for them; a required errored item then fails its gate, so a pass here means no
    // required item errored.
    let worst = complete_verdict(&replace_errored(items, Outcome::Failed, 0.0), threshold);
    if best == Verdict::Failed {
        Verdict::Failed
    } else if worst == Verdict::Passed {
        Verdict::Passed
    } else {
        Verdict::Incomplete
    }
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Failed => 0,
        Verdict::Incomplete => 1,
        Verdict::Passed => 2,
    }
}

/// What must not change when only the order or the skipped items change.
fn essence(s: &Score) -> (f64, f64, f64, Verdict, bool) {
    (s.percent, s.points, s.max_points, s.verdict, s.complete)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The score is a percentage whatever the items (credits out of range included).
    #[test]
    fn score_is_within_0_and_100(items in prop::collection::vec(wild_item(), 0..12), t in threshold()) {
        let s = score(&items, t);
        prop_assert!((0.0..=100.0).contains(&s.percent), "percent {}", s.percent);
        prop_assert!(s.points >= 0.0 && s.points <= s.max_points + 1e-9, "{} of {}", s.points, s.max_points);
        for (i, it) in s.items.iter().enumerate() {
            prop_assert!((0.0..=1.0).contains(&it.credit), "item {i}: credit {}", it.credit);
        }
        prop_assert_eq!(s.items.len(), items.len());
    }

    /// The score and verdict are exactly the documented rule.
    #[test]
    fn score_follows_the_documented_rule(items in prop::collection::vec(wild_item(), 0..12), t in threshold()) {
        let s = score(&items, t);
        let (points, max, pct) = rule_percent(&items);
        prop_assert_eq!(s.percent, pct);
        prop_assert!(close(s.points, round2(points)) && close(s.max_points, round2(max)));
        prop_assert_eq!(s.verdict, rule_verdict(&items, t), "percent {} threshold {}", s.percent, t);
        prop_assert_eq!(s.complete, items.iter().all(|i| i.outcome != Outcome::Errored));
        for (it, sc) in items.iter().zip(&s.items) {
            prop_assert_eq!(sc.counts, it.outcome != Outcome::Skipped);
            prop_assert_eq!(sc.max_points, if sc.counts { it.weight } else { 0.0 });
        }
    }

    /// Raising one failed item's partial credit never lowers the score nor the verdict.
    #[test]
    fn monotone_in_partial_credit(
        items in items(),
        pick in any::<prop::sample::Index>(),
        a in partial_credit(),
        b in partial_credit(),
        t in threshold(),
    ) {
        prop_assume!(!items.is_empty());
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let k = pick.index(items.len());
        let mut low = items.clone();
        low[k].outcome = Outcome::Failed;
        low[k].credit = Some(lo);
        let mut high = low.clone();
        high[k].credit = Some(hi);
        let (sl, sh) = (score(&low, t), score(&high, t));
        prop_assert!(sh.percent >= sl.percent, "{} -> {}: {} -> {}", lo, hi, sl.percent, sh.percent);
        prop_assert!(rank(sh.verdict) >= rank(sl.verdict), "{:?} -> {:?}", sl.verdict, sh.verdict);
    }

    /// Passing an item (from failed or errored) never lowers the score nor the verdict.
    #[test]
    fn passing_an_item_never_hurts(items in items(), pick in any::<prop::sample::Index>(), t in threshold()) {
        prop_assume!(!items.is_empty());
        let k = pick.index(items.len());
        prop_assume!(matches!(items[k].outcome, Outcome::Failed | Outcome::Errored));
        let mut passed = items.clone();
        passed[k].outcome = Outcome::Passed;
        passed[k].credit = Some(1.0);
        let (before, after) = (score(&items, t), score(&passed, t));
        prop_assert!(after.percent >= before.percent);
        prop_assert!(rank(after.verdict) >= rank(before.verdict), "{:?} -> {:?}", before.verdict, after.verdict);
    }

    /// The order of the items changes nothing but the gate indices, which follow the items.
    #[test]
    fn invariant_under_item_order(
        (items, order) in items().prop_flat_map(|v| {
            let n = v.len();
            (Just(v), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        }),
        t in threshold(),
    ) {
        let shuffled: Vec<ItemInput> = order.iter().map(|&i| items[i]).collect();
        let (a, b) = (score(&items, t), score(&shuffled, t));
        let (ea, eb) = (essence(&a), essence(&b));
        prop_assert_eq!(ea.3, eb.3);
        prop_assert_eq!(ea.4, eb.4);
        // Float sums may differ in the last bit with the order; the rounded figures must not
        // (barring a tie at a half hundredth, which these inputs do not hit).
        prop_assert!(close(ea.0, eb.0) && close(ea.1, eb.1) && close(ea.2, eb.2), "{:?} vs {:?}", ea, eb);
        let mut gates_a: Vec<usize> = a.failed_gates.clone();
        let mut gates_b: Vec<usize> = b.failed_gates.iter().map(|&i| order[i]).collect();
        gates_a.sort_unstable();
        gates_b.sort_unstable();
        prop_assert_eq!(gates_a, gates_b);
    }

    /// A required item that failed fails the checkpoint whatever the score; one that errored
    /// never lets it pass; the gates reported are exactly those items.
    #[test]
    fn gates_are_respected(items in prop::collection::vec(wild_item(), 1..12), t in threshold()) {
        let s = score(&items, t);
        let expected: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.required && matches!(i.outcome, Outcome::Failed | Outcome::Errored))
            .map(|(n, _)| n)
            .collect();
        prop_assert_eq!(&s.failed_gates, &expected);
        if items.iter().any(|i| i.required && i.outcome == Outcome::Failed) {
            prop_assert_eq!(s.verdict, Verdict::Failed);
        }
        if items.iter().any(|i| i.required && i.outcome == Outcome::Errored) {
            prop_assert_ne!(s.verdict, Verdict::Passed);
        }
    }

    /// A failed gate fails even a perfect score: all else passed, one required item failed
    /// with the highest partial credit.
    #[test]
    fn a_failed_gate_beats_any_score(items in items(), w in weight(), c in partial_credit(), t in threshold()) {
        let mut all: Vec<ItemInput> = items
            .into_iter()
            .map(|i| ItemInput { outcome: Outcome::Passed, credit: Some(1.0), required: false, ..i })
            .collect();
        all.push(ItemInput { weight: w, required: true, outcome: Outcome::Failed, credit: Some(c) });
        prop_assert_eq!(score(&all, t).verdict, Verdict::Failed);
        // The same item not required: then only the score decides.
        let last = all.len() - 1;
        all[last].required = false;
        let s = score(&all, t);
        prop_assert_eq!(s.verdict, if s.percent >= t { Verdict::Passed } else { Verdict::Failed });
    }

    /// Skipped items are left out of both sums: adding any number of them, anywhere, with any
    /// weight, credit or `required`, changes nothing.
    #[test]
    fn skipped_items_leave_the_denominator(
        items in items(),
        extra in prop::collection::vec((weight(), any::<bool>(), prop::option::of(-1.0f64..2.0), any::<prop::sample::Index>()), 1..5),
        t in threshold(),
    ) {
        let mut with = items.clone();
        for (weight, required, credit, at) in extra {
            let k = at.index(with.len() + 1);
            with.insert(k, ItemInput { weight, required, outcome: Outcome::Skipped, credit });
        }
        let (a, b) = (score(&items, t), score(&with, t));
        let (ea, eb) = (essence(&a), essence(&b));
        prop_assert!(close(ea.0, eb.0) && close(ea.1, eb.1) && close(ea.2, eb.2), "{:?} vs {:?}", ea, eb);
        prop_assert_eq!(ea.3, eb.3);
        prop_assert_eq!(ea.4, eb.4);
        prop_assert_eq!(a.failed_gates.len(), b.failed_gates.len());
    }

    /// Errored items count as credit 0 (the same percent as failing them with nothing) and
    /// make the grade incomplete; the verdict is still decided when they cannot change it.
    #[test]
    fn errored_items_count_zero_and_make_the_grade_incomplete(items in items(), t in threshold()) {
        prop_assume!(items.iter().any(|i| i.outcome == Outcome::Errored));
        let s = score(&items, t);
        prop_assert!(!s.complete);
        let zeroed = score(&replace_errored(&items, Outcome::Failed, 0.0), t);
        prop_assert_eq!(s.percent, zeroed.percent);
        prop_assert_eq!(s.max_points, zeroed.max_points);
        prop_assert!(zeroed.complete);
        let full = score(&replace_errored(&items, Outcome::Passed, 1.0), t);
        match s.verdict {
            // Decided: every way the errored items could have gone agrees.
            Verdict::Passed => {
                prop_assert_eq!(zeroed.verdict, Verdict::Passed);
                prop_assert_eq!(full.verdict, Verdict::Passed);
            }
            Verdict::Failed => {
                prop_assert_eq!(full.verdict, Verdict::Failed);
                prop_assert_eq!(zeroed.verdict, Verdict::Failed);
            }
            // Undecided: the two extremes disagree.
            Verdict::Incomplete => prop_assert_ne!(zeroed.verdict, full.verdict),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Edges worth naming

#[test]
fn a_failed_item_never_earns_full_credit() {
    let s = score(
        &[ItemInput {
            weight: 3.0,
            required: false,
            outcome: Outcome::Failed,
            credit: Some(1.0),
        }],
        0.0,
    );
    assert_eq!((s.items[0].credit, s.percent), (0.0, 0.0));
}

#[test]
fn nothing_that_counts_is_a_fail_even_at_threshold_zero() {
    let skipped = ItemInput {
        weight: 1.0,
        required: true,
        outcome: Outcome::Skipped,
        credit: None,
    };
    assert_eq!(score(&[], 0.0).verdict, Verdict::Failed);
    assert_eq!(score(&[skipped], 0.0).verdict, Verdict::Failed);
}

/// Found by `score_is_within_0_and_100` over all f64 credits: a NaN credit on a failed item
/// survives `clamp` and makes the percent NaN. Unreachable through `CheckResult`'s
/// constructors (their credits are finite), but `CheckResult::credit` is a public field.
#[test]
fn a_nan_credit_does_not_poison_the_score() {
    let items = [
        ItemInput {
            weight: 1.0,
            required: false,
            outcome: Outcome::Passed,
            credit: Some(1.0),
        },
        ItemInput {
            weight: 1.0,
            required: false,
            outcome: Outcome::Failed,
            credit: Some(f64::NAN),
        },
    ];
    let s = score(&items, 50.0);
    assert!((0.0..=100.0).contains(&s.percent), "percent {}", s.percent);
}
