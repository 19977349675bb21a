//! Grading: load artifacts, build the model, run each rubric item, score, build the report.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use crate::artifact::{Artifacts, Loaded};
use crate::checks::{CheckResult, Ctx, Kind};
use crate::finding::Outcome;
use crate::model::SystemModel;
use crate::report::{
    GraderInfo, Graph, GraphCall, GraphFlow, GraphService, ItemReport, ItemTiming, Report, RubricInfo, SectionReport,
    SubmissionInfo, Timing, SCHEMA_VERSION,
};
use crate::rubric::{Rubric, WhenAbsent};
use crate::score::{self, ItemInput, Verdict};
use crate::submission::{Role, Submission, MANIFEST};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Skip live probes (probe items are reported as skipped).
    pub static_only: bool,
    /// Record timings in the report.
    pub timings: bool,
    /// Live-probe targets and allowed hosts (`--target`, `--allow-host`).
    pub probe: crate::probe::ProbeOptions,
    /// Evidence rules added to the built-in ones (`--evidence-rules DIR`).
    pub evidence_rules: Vec<crate::evidence::Rule>,
}

fn ms(since: Instant) -> f64 {
    score::round2(since.elapsed().as_secs_f64() * 1000.0)
}

/// Grades `sub` against `rubric`. Never fails: a check that cannot run is an errored item.
pub fn grade(sub: &Submission, rubric: &Rubric, opts: Options) -> Report {
    let start = Instant::now();
    let artifacts = sub.load_artifacts();
    let model = SystemModel::build(sub);
    let load_ms = ms(start);
    let oas = crate::api::OasMemo::default();
    // Live probes start the services once, on first use, for all probe items, as the rubric's
    // `[system]` table says; the session tears them down (also when a check panics).
    let probes = crate::probe::Session::new(opts.probe.clone(), rubric.system.clone());
    let mut rules = crate::evidence::rules::built_in();
    rules.extend(opts.evidence_rules.iter().cloned());
    let ctx = Ctx::new(sub, &artifacts, &model, &oas, &probes, &rules);

    let mut results = Vec::new();
    let mut timings = Vec::new();
    let progress = &opts.probe.progress;
    for (_, item) in rubric.items() {
        let t = Instant::now();
        let info = item.check.info();
        let live = info.kind == Kind::Probe && !opts.static_only;
        if live {
            progress.begins(&format!("{} {}", info.id, info.name));
        }
        results.push(run_item(&ctx, item, opts.static_only));
        if live {
            if let Some(r) = results.last() {
                progress.ended(&format!(
                    "{} {}: {} ({:.1} s)",
                    info.id,
                    info.name,
                    match r.outcome {
                        Outcome::Passed => "passed",
                        Outcome::Failed => "failed",
                        Outcome::Skipped => "skipped",
                        Outcome::Errored => "errored",
                    },
                    t.elapsed().as_secs_f64()
                ));
            }
        }
        timings.push(ItemTiming {
            check: item.check.info().id,
            ms: ms(t),
        });
    }
    let teardown = probes.finish();
    for (service, pids) in &teardown.leftover {
        eprintln!("grade: warning: processes of service `{service}` survived teardown: {pids:?}");
    }

    let probe_items_not_run = if opts.static_only {
        rubric
            .items()
            .filter(|(_, i)| i.check.info().kind == Kind::Probe)
            .count()
    } else {
        0
    };
    let score = score_items(rubric, &results, probe_items_not_run);
    let items = item_reports(rubric, results, &score);
    let sections = section_reports(rubric, &score);

    let missing = missing(&items);
    let mut warnings = warnings(sub, rubric);
    // Limits hit during the live run (also after PRB001 looked).
    for (service, hit) in &teardown.limits {
        warnings.push(format!(
            "service `{service}` hit its resource limits during the live probes: {hit}"
        ));
    }
    let sources = collect_sources(sub, &artifacts, &items);
    Report {
        schema_version: SCHEMA_VERSION,
        grader: GraderInfo {
            name: "grade",
            version: crate::VERSION,
        },
        rubric: RubricInfo {
            id: rubric.id.clone(),
            title: rubric.title.clone(),
            version: rubric.version.clone(),
            sha256: rubric.sha256.clone(),
            origin: rubric.origin.clone(),
        },
        checkpoint: rubric.checkpoint.clone(),
        submission: SubmissionInfo {
            path: sub.shown_root.clone(),
            ci_path: None,
            learner: sub.learner.clone(),
            manifest: sub.manifest.is_some(),
            assumptions: sub.assumptions.clone(),
        },
        score: score.percent,
        threshold: rubric.threshold,
        passed: score.verdict == Verdict::Passed,
        verdict: score.verdict,
        complete: score.complete,
        points: score.points,
        max_points: score.max_points,
        scoring_rule: score::RULE,
        static_only: opts.static_only,
        probe_items_not_run,
        missing,
        warnings,
        sections,
        items,
        timing: opts.timings.then(|| Timing {
            total_ms: ms(start),
            load_ms,
            items: timings,
        }),
        sources,
        graph: graph(sub, &model),
    }
}

/// Runs one rubric item: a panic becomes an errored result, an absent artifact the rubric
/// does not ask for a skipped one; findings sorted.
fn run_item(ctx: &Ctx<'_>, item: &crate::rubric::Item, static_only: bool) -> CheckResult {
    let info = item.check.info();
    let mut result = if info.kind == Kind::Probe && static_only {
        CheckResult::not_applicable("not run: static-only run (--static-only), live probes not started")
    } else {
        match catch_unwind(AssertUnwindSafe(|| item.check.run(ctx, &item.params))) {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                CheckResult::errored(format!("internal error in {} (please report it): {msg}", info.id))
            }
        }
    };
    if result.absent && item.when_absent == WhenAbsent::Skip {
        // The rubric says this checkpoint does not ask for it: left out of the score.
        result.outcome = Outcome::Skipped;
        result.credit = None;
    }
    result.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    result
}

/// Scores the results; with probe items not run (static only) the verdict is provisional.
fn score_items(rubric: &Rubric, results: &[CheckResult], probe_items_not_run: usize) -> score::Score {
    let inputs: Vec<ItemInput> = rubric
        .items()
        .zip(results)
        .map(|((_, item), r)| ItemInput {
            weight: item.weight,
            required: item.required,
            outcome: r.outcome,
            credit: r.credit,
        })
        .collect();
    let mut score = score::score(&inputs, rubric.threshold);
    if probe_items_not_run > 0 {
        // A static-only run of a rubric with probe items is never a pass (DESIGN section 13):
        // the static score is provisional. It is a fail only when full credit for every probe
        // item not run could not save it.
        let probe_weight: f64 = rubric
            .items()
            .filter(|(_, i)| i.check.info().kind == Kind::Probe)
            .map(|(_, i)| i.weight)
            .sum();
        let best = score::best_case(&score, probe_weight);
        score.complete = false;
        if score.verdict != Verdict::Failed || best >= rubric.threshold {
            score.verdict = Verdict::Incomplete;
        }
        if score.failed_gates.iter().any(|&n| inputs[n].outcome == Outcome::Failed) {
            score.verdict = Verdict::Failed;
        }
    }
    score
}

/// The report of every item, in rubric order.
fn item_reports(rubric: &Rubric, results: Vec<CheckResult>, score: &score::Score) -> Vec<ItemReport> {
    let mut items = Vec::new();
    for (((section, item), r), s) in rubric.items().zip(results).zip(&score.items) {
        let info = item.check.info();
        items.push(ItemReport {
            check: info.id,
            name: info.name,
            section: section.id.clone(),
            summary: info.summary,
            weight: item.weight,
            required: item.required,
            outcome: r.outcome,
            credit: if r.outcome == Outcome::Skipped {
                None
            } else {
                Some(score::round2(s.credit))
            },
            points: score::round2(s.points),
            max_points: score::round2(s.max_points),
            reason: r.reason,
            absent: r.absent,
            evidence: r.evidence,
            findings: r.findings,
            claims: r.claims,
        });
    }
    items
}

/// The points and score of every section.
fn section_reports(rubric: &Rubric, score: &score::Score) -> Vec<SectionReport> {
    rubric
        .sections
        .iter()
        .map(|sec| {
            let scores: Vec<_> = rubric
                .items()
                .zip(&score.items)
                .filter(|((s, _), _)| s.id == sec.id)
                .map(|(_, sc)| sc)
                .collect();
            let (points, max_points, pct) = score::section_percent(&scores);
            SectionReport {
                id: sec.id.clone(),
                title: sec.title.clone(),
                points,
                max_points,
                score: pct,
            }
        })
        .collect()
}

/// What the submission lacks, for the head of the report: the findings of the
/// minimum-system check (SUB004), then each item that failed because what it judges is
/// absent, once per distinct reason.
fn missing(items: &[ItemReport]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items
        .iter()
        .filter(|i| i.check == crate::checks::sub::MINIMUM_SYSTEM_ID)
    {
        out.extend(
            i.findings
                .iter()
                .map(|f| f.message.strip_prefix("missing: ").unwrap_or(&f.message).to_string()),
        );
    }
    // The same cause met by several items gives one line naming them all.
    let mut causes: Vec<(&str, Vec<String>)> = Vec::new();
    for i in items.iter().filter(|i| i.absent && i.outcome == Outcome::Failed) {
        let what = i.reason.as_deref().unwrap_or("its input is missing");
        let who = format!("{} {}", i.check, i.name);
        match causes.iter_mut().find(|(w, _)| *w == what) {
            Some((_, checks)) => checks.push(who),
            None => causes.push((what, vec![who])),
        }
    }
    out.extend(
        causes
            .into_iter()
            .map(|(what, checks)| format!("{what} (fails {})", checks.join(", "))),
    );
    out
}

/// Warnings about the grading itself, shown at the head of the report.
fn warnings(sub: &Submission, rubric: &Rubric) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(declared), Some(graded)) = (&sub.checkpoint, &rubric.checkpoint) {
        if declared.name != *graded {
            out.push(format!(
                "submission.toml says `checkpoint = \"{}\"` but this run grades `{graded}`: \
                 check that you ran the right command (`grade {} DIR`)",
                declared.name, declared.name
            ));
        }
    }
    out
}

/// The submission's services, calls and event flows, for the HTML report's drawing.
fn graph(sub: &Submission, model: &SystemModel) -> Graph {
    let cycle: std::collections::BTreeSet<(usize, usize)> =
        model.sync_cycles().iter().flatten().map(|e| (e.from, e.call)).collect();
    let index: BTreeMap<&str, usize> = sub
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.name.as_str(), i))
        .collect();
    let mut calls = Vec::new();
    for (from, svc) in sub.services.iter().enumerate() {
        for (c, callee) in svc.calls.iter().enumerate() {
            if let Some(&to) = index.get(callee.name.as_str()) {
                calls.push(GraphCall {
                    from,
                    to,
                    in_cycle: cycle.contains(&(from, c)),
                });
            }
        }
    }
    Graph {
        contexts: sub.contexts.iter().map(|c| c.name.name.clone()).collect(),
        services: sub
            .services
            .iter()
            .map(|s| GraphService {
                name: s.name.name.clone(),
                context: s.context.as_ref().map(|c| c.name.clone()),
                role: match s.role {
                    Role::Service => "service",
                    Role::Gateway => "gateway",
                    Role::Bff => "bff",
                },
                owns: s.owns.iter().map(|d| d.name.clone()).collect(),
            })
            .collect(),
        calls,
        flows: model
            .flows
            .iter()
            .map(|f| GraphFlow {
                from: f.from,
                to: f.to,
                event: f.event.clone(),
            })
            .collect(),
    }
}

/// The text of every file a finding points into, so emitters can show snippets.
fn collect_sources(sub: &Submission, artifacts: &Artifacts, items: &[ItemReport]) -> BTreeMap<String, Arc<str>> {
    let mut out = BTreeMap::new();
    for f in items.iter().flat_map(|i| &i.findings) {
        let Some(file) = &f.file else { continue };
        if f.span.is_none() || out.contains_key(file) {
            continue;
        }
        let text: Option<Arc<str>> = if file == MANIFEST {
            sub.manifest.as_ref().map(|m| m.text.clone())
        } else if let Some(Loaded::Ok(doc)) = artifacts.openapi.get(file) {
            Some(doc.doc.source.clone())
        } else if let Some((_, Loaded::Ok(a))) = artifacts.asyncapi.as_ref().filter(|(rel, _)| rel == file) {
            Some(a.doc.source.clone())
        } else if let Some((_, Loaded::Ok(s))) = artifacts.slos.as_ref().filter(|(rel, _)| rel == file) {
            Some(s.doc.source.clone())
        } else {
            read_inside(sub, file)
        };
        if let Some(t) = text {
            out.insert(file.clone(), t);
        }
    }
    out
}

/// Reads a file of the submission (confined, capped, UTF-8 only) for a snippet.
fn read_inside(sub: &Submission, rel: &str) -> Option<Arc<str>> {
    let (path, _) = crate::files::paths::confine(&sub.root, rel).ok()?;
    let meta = std::fs::metadata(&path).ok()?;
    if meta.len() > 16 * 1024 * 1024 {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    Some(text.into())
}
