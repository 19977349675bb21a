//! The one scoring function. Emitters never recompute anything.
//!
//! The rule (also printed in every report as [`RULE`]):
//! score = 100 × Σ(weight × credit) / Σ(weight) over the items that count. Passed items earn
//! credit 1, failed items their partial credit (0 to under 1); absent items arrive here as
//! failed (or as skipped when their rubric item says `when_absent = "skip"`: the engine
//! decides). Skipped items (not applicable) are left out of both sums. Errored items (the
//! grader could not evaluate them) count with credit 0 and make the grade incomplete. The submission passes when the grade is complete,
//! the score (rounded to two decimals) reaches the threshold and no required item failed.
//! An incomplete grade is decided anyway when the errored items cannot change it: a fail when
//! it would fail even with full credit for them, a pass when it passes with zero for them
//! (and no required item errored); otherwise it is incomplete.

use serde::Serialize;

use crate::finding::Outcome;

pub const RULE: &str = "score = 100 × Σ(weight × credit) / Σ(weight) over counted items; \
absent items fail with 0 unless the rubric says when_absent = \"skip\"; \
not-applicable items are left out; errored items count as 0 and make the grade incomplete; \
a required item that fails fails the checkpoint whatever the score";

/// What the scorer needs of one item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemInput {
    pub weight: f64,
    pub required: bool,
    pub outcome: Outcome,
    pub credit: Option<f64>,
}

/// The verdict of a grading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Failed,
    /// Some items could not be evaluated and the result could still go either way.
    Incomplete,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemScore {
    /// Credit actually used (1 for passed, clamped for failed, 0 for errored, 0 for skipped).
    pub credit: f64,
    pub points: f64,
    /// Weight if the item counts, else 0.
    pub max_points: f64,
    pub counts: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub items: Vec<ItemScore>,
    pub points: f64,
    pub max_points: f64,
    /// Percent 0-100, rounded to two decimals.
    pub percent: f64,
    pub verdict: Verdict,
    pub complete: bool,
    /// Indices of required items that failed or errored.
    pub failed_gates: Vec<usize>,
}

/// Rounds to two decimals (the precision every report shows).
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn item_score(i: &ItemInput) -> ItemScore {
    let (credit, counts) = match i.outcome {
        Outcome::Passed => (1.0, true),
        // A credit that is not a number (only possible from a hand-built result) counts as 0.
        Outcome::Failed => (i.credit.filter(|c| c.is_finite()).unwrap_or(0.0).clamp(0.0, 1.0), true),
        Outcome::Errored => (0.0, true),
        Outcome::Skipped => (0.0, false),
    };
    // A failed item never earns full credit.
    let credit = if i.outcome == Outcome::Failed && credit >= 1.0 {
        0.0
    } else {
        credit
    };
    let max_points = if counts { i.weight } else { 0.0 };
    ItemScore {
        credit,
        points: i.weight * credit,
        max_points,
        counts,
    }
}

fn percent(points: f64, max: f64) -> f64 {
    if max > 0.0 {
        round2(100.0 * points / max)
    } else {
        0.0
    }
}

/// Scores a grading against `threshold` (percent).
pub fn score(items: &[ItemInput], threshold: f64) -> Score {
    let scored: Vec<ItemScore> = items.iter().map(item_score).collect();
    let points: f64 = scored.iter().map(|s| s.points).sum();
    let max_points: f64 = scored.iter().map(|s| s.max_points).sum();
    let pct = percent(points, max_points);
    let complete = items.iter().all(|i| i.outcome != Outcome::Errored);
    let failed_gates: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.required && matches!(i.outcome, Outcome::Failed | Outcome::Errored))
        .map(|(n, _)| n)
        .collect();
    let hard_gate_failed = items.iter().any(|i| i.required && i.outcome == Outcome::Failed);
    let verdict = if complete {
        if failed_gates.is_empty() && max_points > 0.0 && pct >= threshold {
            Verdict::Passed
        } else {
            Verdict::Failed
        }
    } else {
        let errored_weight: f64 = items
            .iter()
            .filter(|i| i.outcome == Outcome::Errored)
            .map(|i| i.weight)
            .sum();
        let best = percent(points + errored_weight, max_points);
        if hard_gate_failed || best < threshold {
            Verdict::Failed
        } else if failed_gates.is_empty() && pct >= threshold {
            // Passes even with every errored item at zero: the missing results cannot change it.
            Verdict::Passed
        } else {
            Verdict::Incomplete
        }
    };
    Score {
        items: scored,
        points: round2(points),
        max_points: round2(max_points),
        percent: pct,
        verdict,
        complete,
        failed_gates,
    }
}

/// The percent `score` would reach if `extra` more weight were counted with full credit (the
/// probe items a static-only run did not run).
pub fn best_case(score: &Score, extra: f64) -> f64 {
    percent(score.points + extra, score.max_points + extra)
}

/// Percent for a subset (a section), rounded; `None` when nothing in it counts.
pub fn section_percent(items: &[&ItemScore]) -> (f64, f64, Option<f64>) {
    let points: f64 = items.iter().map(|s| s.points).sum();
    let max: f64 = items.iter().map(|s| s.max_points).sum();
    let pct = if max > 0.0 { Some(percent(points, max)) } else { None };
    (round2(points), round2(max), pct)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it(weight: f64, outcome: Outcome, credit: Option<f64>, required: bool) -> ItemInput {
        ItemInput {
            weight,
            required,
            outcome,
            credit,
        }
    }

    #[test]
    fn weighted_partial_credit() {
        let s = score(
            &[
                it(10.0, Outcome::Passed, Some(1.0), false),
                it(10.0, Outcome::Failed, Some(0.5), false),
            ],
            70.0,
        );
        assert_eq!(s.percent, 75.0);
        assert_eq!(s.verdict, Verdict::Passed);
        assert_eq!(s.points, 15.0);
    }

    #[test]
    fn skipped_left_out() {
        let s = score(
            &[
                it(10.0, Outcome::Passed, Some(1.0), false),
                it(90.0, Outcome::Skipped, None, true),
            ],
            85.0,
        );
        assert_eq!(s.percent, 100.0);
        assert_eq!(s.max_points, 10.0);
        assert_eq!(s.verdict, Verdict::Passed);
    }

    #[test]
    fn required_gate() {
        let s = score(
            &[
                it(99.0, Outcome::Passed, Some(1.0), false),
                it(1.0, Outcome::Failed, Some(0.9), true),
            ],
            85.0,
        );
        assert!(s.percent > 99.0);
        assert_eq!(s.verdict, Verdict::Failed);
        assert_eq!(s.failed_gates, vec![1]);
    }

    #[test]
    fn errored_is_incomplete_unless_hopeless() {
        let s = score(
            &[
                it(90.0, Outcome::Passed, Some(1.0), false),
                it(10.0, Outcome::Errored, None, false),
            ],
            85.0,
        );
        assert_eq!(s.percent, 90.0);
        assert_eq!(s.verdict, Verdict::Passed);
        assert!(!s.complete);
        let s = score(
            &[
                it(80.0, Outcome::Passed, Some(1.0), false),
                it(20.0, Outcome::Errored, None, false),
            ],
            85.0,
        );
        assert_eq!(s.verdict, Verdict::Incomplete);
        let s = score(
            &[
                it(50.0, Outcome::Failed, Some(0.0), false),
                it(10.0, Outcome::Errored, None, false),
            ],
            85.0,
        );
        assert_eq!(s.verdict, Verdict::Failed);
    }

    #[test]
    fn failed_never_full_credit() {
        let s = score(&[it(10.0, Outcome::Failed, Some(1.0), false)], 50.0);
        assert_eq!(s.percent, 0.0);
    }

    #[test]
    fn nothing_counts_fails() {
        let s = score(&[it(10.0, Outcome::Skipped, None, false)], 0.0);
        assert_eq!(s.verdict, Verdict::Failed);
    }
}
