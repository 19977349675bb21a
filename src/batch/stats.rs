//! Cohort statistics: pure functions of the records (so a merge of shards gives the same
//! figures as one run).

use std::fmt::Write;

use serde::Serialize;

use super::record::{BatchMeta, Record, Status};

/// Histogram buckets: [0,10), [10,20), … [90,100].
pub const BUCKETS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub rubric: String,
    pub rubric_version: String,
    pub rubric_sha256: String,
    pub threshold: f64,
    pub submissions: usize,
    pub graded: usize,
    pub errored: usize,
    pub passed: usize,
    pub failed: usize,
    pub incomplete: usize,
    /// Over graded submissions; null when none was graded.
    pub score: Option<ScoreStats>,
    pub histogram: Vec<Bucket>,
    /// Per rubric item, in rubric order.
    pub checks: Vec<CheckStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreStats {
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// Inclusive lower bound, percent.
    pub from: f64,
    /// Exclusive upper bound (inclusive for the last bucket), percent.
    pub to: f64,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckStats {
    pub check: String,
    pub name: String,
    pub section: String,
    pub weight: f64,
    pub required: bool,
    pub passed: usize,
    /// Failed with no credit.
    pub failed: usize,
    /// Failed with partial credit.
    pub partial: usize,
    pub skipped: usize,
    pub errored: usize,
    /// (failed + partial) / (passed + failed + partial); null when never evaluated.
    pub failure_rate: Option<f64>,
    /// Mean credit over the submissions where the item counted; null when never.
    pub mean_credit: Option<f64>,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

pub fn compute(meta: &BatchMeta, records: &[Record]) -> Stats {
    let graded: Vec<&Record> = records.iter().filter(|r| r.status == Status::Graded).collect();
    let mut scores: Vec<f64> = graded.iter().filter_map(|r| r.score).collect();
    scores.sort_by(f64::total_cmp);
    let score = (!scores.is_empty()).then(|| {
        let n = scores.len();
        let median = if n % 2 == 1 {
            scores[n / 2]
        } else {
            (scores[n / 2 - 1] + scores[n / 2]) / 2.0
        };
        ScoreStats {
            mean: round(scores.iter().sum::<f64>() / n as f64, 2),
            median: round(median, 2),
            min: scores[0],
            max: scores[n - 1],
        }
    });
    let mut histogram: Vec<Bucket> = (0..BUCKETS)
        .map(|i| Bucket {
            from: (i * 10) as f64,
            to: ((i + 1) * 10) as f64,
            count: 0,
        })
        .collect();
    for s in &scores {
        let i = ((s / 10.0).floor().max(0.0) as usize).min(BUCKETS - 1);
        histogram[i].count += 1;
    }
    let verdict = |v: &str| graded.iter().filter(|r| r.verdict.as_deref() == Some(v)).count();
    let checks = meta
        .items
        .iter()
        .enumerate()
        .map(|(idx, item)| {
            let mut c = CheckStats {
                check: item.check.clone(),
                name: item.name.clone(),
                section: item.section.clone(),
                weight: item.weight,
                required: item.required,
                passed: 0,
                failed: 0,
                partial: 0,
                skipped: 0,
                errored: 0,
                failure_rate: None,
                mean_credit: None,
            };
            let mut credit_sum = 0.0;
            let mut counted = 0usize;
            for r in &graded {
                // Items are in rubric order; match by position, checked by id.
                let Some(o) = r.items.get(idx).filter(|o| o.check == item.check) else {
                    continue;
                };
                match o.outcome.as_str() {
                    "passed" => c.passed += 1,
                    "failed" if o.credit.unwrap_or(0.0) > 0.0 => c.partial += 1,
                    "failed" => c.failed += 1,
                    "skipped" => c.skipped += 1,
                    _ => c.errored += 1,
                }
                if o.outcome != "skipped" {
                    credit_sum += o.credit.unwrap_or(0.0);
                    counted += 1;
                }
            }
            let evaluated = c.passed + c.failed + c.partial;
            c.failure_rate = (evaluated > 0).then(|| round((c.failed + c.partial) as f64 / evaluated as f64, 4));
            c.mean_credit = (counted > 0).then(|| round(credit_sum / counted as f64, 4));
            c
        })
        .collect();
    Stats {
        rubric: meta.rubric.id.clone(),
        rubric_version: meta.rubric.version.clone(),
        rubric_sha256: meta.rubric.sha256.clone(),
        threshold: meta.rubric.threshold,
        submissions: records.len(),
        graded: graded.len(),
        errored: records.len() - graded.len(),
        passed: verdict("passed"),
        failed: verdict("failed"),
        incomplete: verdict("incomplete"),
        score,
        histogram,
        checks,
    }
}

pub fn json(stats: &Stats) -> String {
    let mut s = serde_json::to_string_pretty(stats).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "n/a".into())
}

pub fn markdown(stats: &Stats) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Cohort: {} v{} (pass {}%)\n",
        stats.rubric,
        stats.rubric_version,
        crate::report::text::num(stats.threshold)
    );
    let _ = writeln!(
        s,
        "{} submissions: {} graded ({} passed, {} failed, {} incomplete), {} could not be graded.\n",
        stats.submissions, stats.graded, stats.passed, stats.failed, stats.incomplete, stats.errored
    );
    if let Some(sc) = &stats.score {
        let _ = writeln!(
            s,
            "Score: mean {:.2}%, median {:.2}%, min {:.2}%, max {:.2}%.\n",
            sc.mean, sc.median, sc.min, sc.max
        );
    }
    s.push_str("### Score histogram\n\n```\n");
    let top = stats.histogram.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    for (i, b) in stats.histogram.iter().enumerate() {
        let bar = "█".repeat((b.count * 40).div_ceil(top));
        let close = if i + 1 == stats.histogram.len() { ']' } else { ')' };
        let line = format!("[{:>3}, {:>3}{close} {:>5} {bar}", b.from, b.to, b.count);
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s.push_str("```\n\n### Checks (most failed first)\n\n");
    s.push_str(
        "| Check | Section | Weight | Failed | Partial | Passed | Skipped | Errored | Failure rate | Mean credit |\n",
    );
    s.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut order: Vec<&CheckStats> = stats.checks.iter().collect();
    order.sort_by(|a, b| {
        b.failure_rate
            .unwrap_or(-1.0)
            .total_cmp(&a.failure_rate.unwrap_or(-1.0))
            .then(b.weight.total_cmp(&a.weight))
            .then(a.check.cmp(&b.check))
    });
    for c in order {
        let req = if c.required { " (required)" } else { "" };
        let _ = writeln!(
            s,
            "| `{}` {}{req} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.check,
            c.name,
            c.section,
            crate::report::text::num(c.weight),
            c.failed,
            c.partial,
            c.passed,
            c.skipped,
            c.errored,
            pct(c.failure_rate),
            pct(c.mean_credit)
        );
    }
    s
}
