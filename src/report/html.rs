//! A self-contained HTML report: one file with inline CSS, no scripts and no network
//! resources. The verdict, the sections, every item with its points and evidence, the
//! submission's service graph drawn as inline SVG, and the findings, each linked to an excerpt
//! of the learner's file with the line marked.
//!
//! The drawing is a layered layout computed here (a drawing concern, not grading): services
//! are placed in rows, top to bottom, by the longest path of calls and event flows that reach them (cycles
//! broken at the back edge found by a depth-first walk), ordered within a row by the
//! barycentre of their neighbours, coloured by bounded context; synchronous calls are solid
//! arrows (red on a cycle), event flows dashed arrows labelled with the events.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::text::num;
use super::{Graph, ItemReport, Report};
use crate::finding::{Finding, Outcome};
use crate::score::Verdict;

/// Lines shown before and after a finding's line in an excerpt.
const CONTEXT_LINES: usize = 3;
/// Findings listed per item before "… and N more".
const MAX_FINDINGS_PER_ITEM: usize = 50;

const CSS: &str = r#"
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --dim: #656d76; --line: #d0d7de; --bg2: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
.meta { color: var(--dim); margin: 0; }
.banner { border-radius: 8px; padding: 14px 18px; margin: 16px 0; color: #fff; }
.banner.passed { background: var(--ok); } .banner.failed { background: var(--bad); } .banner.incomplete { background: var(--warn); }
.banner strong { font-size: 1.3em; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); }
td.num, th.num { text-align: right; white-space: nowrap; }
.o { font-weight: 600; white-space: nowrap; }
.o.passed { color: var(--ok); } .o.failed, .o.errored { color: var(--bad); } .o.partial { color: var(--warn); } .o.skipped { color: var(--dim); }
.req { font-size: .8em; border: 1px solid var(--warn); color: var(--warn); border-radius: 4px; padding: 0 4px; margin-left: 4px; }
.req.gate { border-color: var(--bad); color: var(--bad); }
.note { color: var(--dim); font-size: .92em; }
ul.findings { padding-left: 20px; }
ul.findings li { margin: 4px 0; }
.help { color: var(--dim); }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.src { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 8px 0; overflow-x: auto; }
pre.src span.l { display: block; padding: 0 10px; white-space: pre; }
pre.src span.l:target, pre.src span.hit { background: #fff8c5; }
pre.src span.ln { display: inline-block; width: 4em; color: var(--dim); user-select: none; }
pre.src span.gap { display: block; padding: 0 10px; color: var(--dim); }
.graph { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; padding: 4px; }
.graph svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
.graph g.flow { opacity: .75; }
.legend { color: var(--dim); font-size: .9em; }
.legend span { display: inline-block; margin-right: 14px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -1px; margin-right: 4px; border: 1px solid #0003; }
footer { color: var(--dim); font-size: .85em; margin-top: 32px; border-top: 1px solid var(--line); padding-top: 8px; }
"#;

/// Context colours (light fills with dark strokes), cycled.
const PALETTE: [(&str, &str); 10] = [
    ("#ddf4ff", "#0969da"),
    ("#dafbe1", "#1a7f37"),
    ("#fff8c5", "#9a6700"),
    ("#ffebe9", "#cf222e"),
    ("#fbefff", "#8250df"),
    ("#ffeff7", "#bf3989"),
    ("#fff1e5", "#bc4c00"),
    ("#e6fffb", "#0f766e"),
    ("#eaeef2", "#57606a"),
    ("#f0f5d5", "#5a6e12"),
];

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An id-safe token for anchors.
fn token(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn outcome_class(i: &ItemReport) -> (&'static str, &'static str) {
    match i.outcome {
        Outcome::Passed => ("passed", "✔ passed"),
        // A required item with partial credit still fails the checkpoint: shown as failed.
        Outcome::Failed if i.partial() && !i.required => ("partial", "◐ partial"),
        Outcome::Failed => ("failed", "✘ failed"),
        Outcome::Skipped => ("skipped", "– skipped"),
        Outcome::Errored => ("errored", "! errored"),
    }
}

/// Source excerpts: per file, the set of lines to mark.
struct Excerpts<'a> {
    files: BTreeMap<&'a str, BTreeSet<usize>>,
    /// File -> index for anchors.
    index: BTreeMap<&'a str, usize>,
}

impl<'a> Excerpts<'a> {
    fn new(report: &'a Report) -> Self {
        let mut files: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for f in report
            .items
            .iter()
            .flat_map(|i| i.findings.iter().take(MAX_FINDINGS_PER_ITEM))
        {
            if let (Some(file), Some(line)) = (&f.file, f.line) {
                if report.sources.contains_key(file) && line > 0 {
                    files.entry(file.as_str()).or_default().insert(line);
                }
            }
        }
        let index = files.keys().enumerate().map(|(i, f)| (*f, i)).collect();
        Excerpts { files, index }
    }

    fn anchor(&self, f: &Finding) -> Option<String> {
        let file = f.file.as_deref()?;
        let n = self.index.get(file)?;
        Some(format!("src-{n}-L{}", f.line?))
    }
}

pub fn render(report: &Report) -> String {
    let excerpts = Excerpts::new(report);
    let mut h = String::new();
    head(&mut h, report);
    banner(&mut h, report);
    lists(&mut h, report);
    sections_table(&mut h, report);
    if !report.graph.services.is_empty() {
        h.push_str("<h2 id=\"graph\">Service graph</h2>\n");
        h.push_str(&svg(&report.graph));
    }
    items_tables(&mut h, report);
    findings(&mut h, report, &excerpts);
    sources(&mut h, report, &excerpts);
    let _ = writeln!(
        h,
        "<footer>Scoring: {}<br>Generated by grade {} (self-contained: no scripts, no network).</footer>",
        esc(report.scoring_rule),
        esc(report.grader.version)
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// The CSS class and the word of the report's verdict.
fn verdict_class(report: &Report) -> (&'static str, &'static str) {
    match report.verdict {
        Verdict::Passed => ("passed", "Passed"),
        Verdict::Failed => ("failed", "Failed"),
        Verdict::Incomplete => ("incomplete", "Incomplete"),
    }
}

/// The document head, the title and the rubric and submission lines.
fn head(h: &mut String, report: &Report) {
    let r = &report.rubric;
    let (_, vword) = verdict_class(report);
    let title = format!(
        "{} — {} {}",
        report
            .submission
            .learner
            .clone()
            .unwrap_or_else(|| report.submission.path.to_string()),
        r.id,
        vword.to_lowercase()
    );
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<link rel=\"icon\" href=\"data:,\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(&title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(&r.title));
    let _ = writeln!(
        h,
        "<p class=\"meta\">Rubric <code>{}</code> v{} · sha256 <code>{}</code> · grade {}</p>",
        esc(&r.id),
        esc(&r.version),
        esc(&r.sha256[..r.sha256.len().min(12)]),
        esc(report.grader.version)
    );
    let learner = report
        .submission
        .learner
        .as_ref()
        .map(|l| format!(" · learner <strong>{}</strong>", esc(l)))
        .unwrap_or_default();
    let _ = writeln!(
        h,
        "<p class=\"meta\">Submission <code>{}</code>{learner}</p>",
        esc(&report.submission.path)
    );
}

/// The verdict banner: score, failed gates, provisional or incomplete.
fn banner(h: &mut String, report: &Report) {
    let (vclass, vword) = verdict_class(report);
    let gates: Vec<String> = report
        .failed_gates()
        .map(|i| format!("{} {}", i.check, i.name))
        .collect();
    let _ = write!(
        h,
        "<div class=\"banner {vclass}\"><strong>{vword}: {:.2}%</strong> (threshold {}%, {}/{} points)",
        report.score,
        num(report.threshold),
        num(report.points),
        num(report.max_points)
    );
    if !gates.is_empty() {
        let _ = write!(h, "<br>Required item failed: {}", esc(&gates.join(", ")));
    }
    if report.probe_items_not_run > 0 {
        let _ = write!(
            h,
            "<br>Static only: {} live-probe items were not run; the score is provisional.",
            report.probe_items_not_run
        );
    } else if !report.complete {
        h.push_str("<br>Some items could not be evaluated.");
    }
    h.push_str("</div>\n");
}

/// Warnings, missing artifacts and assumptions.
fn lists(h: &mut String, report: &Report) {
    for w in &report.warnings {
        let _ = writeln!(h, "<p><strong>Warning:</strong> {}</p>", esc(w));
    }
    if !report.missing.is_empty() {
        h.push_str("<p><strong>Missing</strong> (the checkpoint asks for it):</p>\n<ul>\n");
        for m in &report.missing {
            let _ = writeln!(h, "<li>{}</li>", esc(m));
        }
        h.push_str("</ul>\n");
    }

    if !report.submission.assumptions.is_empty() {
        h.push_str("<p><strong>Assumed</strong> (no manifest says otherwise):</p>\n<ul>\n");
        for a in &report.submission.assumptions {
            let _ = writeln!(h, "<li>{}</li>", esc(a));
        }
        h.push_str("</ul>\n");
    }
}

/// The table of sections with their points and scores.
fn sections_table(h: &mut String, report: &Report) {
    h.push_str("<h2 id=\"sections\">Sections</h2>\n<table>\n<tr><th>Section</th><th class=\"num\">Points</th><th class=\"num\">Score</th></tr>\n");
    for s in &report.sections {
        let pct = s.score.map(|p| format!("{p:.2}%")).unwrap_or_else(|| "n/a".into());
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#sec-{}\">{}</a></td><td class=\"num\">{}/{}</td><td class=\"num\">{pct}</td></tr>",
            token(&s.id),
            esc(&s.title),
            num(s.points),
            num(s.max_points)
        );
    }
    h.push_str("</table>\n");
}

/// A table of items per section.
fn items_tables(h: &mut String, report: &Report) {
    h.push_str("<h2 id=\"items\">Items</h2>\n");
    for s in &report.sections {
        let _ = writeln!(h, "<h3 id=\"sec-{}\">{}</h3>", token(&s.id), esc(&s.title));
        h.push_str("<table>\n<tr><th>Check</th><th>Outcome</th><th class=\"num\">Points</th><th>Notes</th></tr>\n");
        for i in report.items.iter().filter(|i| i.section == s.id) {
            item_row(h, report, i);
        }
        h.push_str("</table>\n");
    }
}

/// One item's row: check, outcome, points, reason, evidence and a link to its findings.
fn item_row(h: &mut String, report: &Report, i: &ItemReport) {
    let (class, word) = outcome_class(i);
    let pts = if i.outcome == Outcome::Skipped {
        "skipped".to_string()
    } else {
        format!("{}/{}", num(i.points), num(i.max_points))
    };
    let req = if i.fails_gate() {
        "<span class=\"req gate\">required</span>"
    } else if i.required {
        "<span class=\"req\">required</span>"
    } else {
        ""
    };
    let mut notes = String::new();
    if let Some(reason) = &i.reason {
        let _ = write!(notes, "<div>{}</div>", esc(reason));
    }
    for e in &i.evidence {
        let _ = write!(notes, "<div class=\"note\">{}</div>", esc(e));
    }
    if !i.findings.is_empty() {
        let _ = write!(
            notes,
            "<div><a href=\"#item-{}\">{} finding{}</a></div>",
            item_anchor(report, i),
            i.findings.len(),
            if i.findings.len() == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(
        h,
        "<tr><td><code>{}</code> {}{req}<div class=\"note\">{}</div></td><td class=\"o {class}\">{word}</td>\
<td class=\"num\">{pts}</td><td>{notes}</td></tr>",
        esc(i.check),
        esc(i.name),
        esc(i.summary)
    );
}

/// The findings of every item that has some, at most `MAX_FINDINGS_PER_ITEM` each.
fn findings(h: &mut String, report: &Report, excerpts: &Excerpts) {
    let with: Vec<&ItemReport> = report.items.iter().filter(|i| !i.findings.is_empty()).collect();
    if with.is_empty() {
        return;
    }
    h.push_str("<h2 id=\"findings\">Findings</h2>\n");
    for i in with {
        let _ = writeln!(
            h,
            "<h3 id=\"item-{}\"><code>{}</code> {}</h3>\n<p class=\"note\">{}</p>\n<ul class=\"findings\">",
            item_anchor(report, i),
            esc(i.check),
            esc(i.name),
            esc(i.summary)
        );
        for f in i.findings.iter().take(MAX_FINDINGS_PER_ITEM) {
            finding_item(h, f, excerpts);
        }
        if i.findings.len() > MAX_FINDINGS_PER_ITEM {
            let _ = writeln!(
                h,
                "<li>… and {} more (see the JSON report)</li>",
                i.findings.len() - MAX_FINDINGS_PER_ITEM
            );
        }
        h.push_str("</ul>\n");
    }
}

/// One finding: where (linked to its excerpt when there is one), message, pointer and help.
fn finding_item(h: &mut String, f: &Finding, excerpts: &Excerpts) {
    let at = match (&f.file, f.line, f.column) {
        (Some(file), Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(file), Some(l), None) => format!("{file}:{l}"),
        (Some(file), _, _) => file.clone(),
        _ => String::new(),
    };
    let at = match (excerpts.anchor(f), at.is_empty()) {
        (_, true) => String::new(),
        (Some(a), false) => format!("<a href=\"#{a}\"><code>{}</code></a> ", esc(&at)),
        (None, false) => format!("<code>{}</code> ", esc(&at)),
    };
    let pointer = f
        .pointer
        .as_ref()
        .map(|p| format!(" <span class=\"note\">at <code>{}</code></span>", esc(p)))
        .unwrap_or_default();
    let help = f
        .help
        .as_ref()
        .map(|x| format!("<br><span class=\"help\">Fix: {}</span>", esc(x)))
        .unwrap_or_default();
    let _ = writeln!(h, "<li>{at}{}{pointer}{help}</li>", esc(&f.message));
}

/// The source excerpts the findings point into.
fn sources(h: &mut String, report: &Report, excerpts: &Excerpts) {
    if excerpts.files.is_empty() {
        return;
    }
    h.push_str("<h2 id=\"sources\">Where</h2>\n");
    for (file, lines) in &excerpts.files {
        let Some(text) = report.sources.get(*file) else {
            continue;
        };
        let n = excerpts.index[file];
        let _ = writeln!(h, "<h3 id=\"src-{n}\"><code>{}</code></h3>", esc(file));
        h.push_str(&excerpt(text, lines, n));
    }
}

fn item_anchor(report: &Report, item: &ItemReport) -> String {
    let pos = report.items.iter().position(|i| std::ptr::eq(i, item)).unwrap_or(0);
    format!("{}-{pos}", token(item.check))
}

/// The marked lines of `text` with their context, gaps shown as `⋮`.
fn excerpt(text: &str, marked: &BTreeSet<usize>, file_index: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut show: BTreeSet<usize> = BTreeSet::new();
    for &l in marked {
        let lo = l.saturating_sub(CONTEXT_LINES).max(1);
        let hi = (l + CONTEXT_LINES).min(lines.len());
        show.extend(lo..=hi);
    }
    let mut out = String::from("<pre class=\"src\">");
    let mut prev = 0usize;
    for l in show {
        let Some(src) = lines.get(l - 1) else { continue };
        if prev != 0 && l != prev + 1 {
            out.push_str("<span class=\"gap\">⋮</span>");
        }
        let hit = if marked.contains(&l) { " hit" } else { "" };
        let _ = write!(
            out,
            "<span class=\"l{hit}\" id=\"src-{file_index}-L{l}\"><span class=\"ln\">{l}</span>{}</span>",
            esc(src)
        );
        prev = l;
    }
    out.push_str("</pre>\n");
    out
}

/// Layers by longest path over calls and flows (back edges of a DFS ignored), then
/// barycentre ordering within layers. Returns (layer, position) per service.
pub fn layout(graph: &Graph) -> Vec<(usize, usize)> {
    let n = graph.services.len();
    let mut succ: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (a, b) in graph
        .calls
        .iter()
        .map(|c| (c.from, c.to))
        .chain(graph.flows.iter().map(|f| (f.from, f.to)))
    {
        if a != b && a < n && b < n {
            succ[a].insert(b);
        }
    }
    // Remove back edges found by an iterative DFS in declaration order.
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut back: BTreeSet<(usize, usize)> = BTreeSet::new();
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(start, succ[start].iter().copied().collect())];
        state[start] = 1;
        while let Some((v, rest)) = stack.last_mut() {
            if let Some(w) = rest.pop() {
                let v = *v;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        let next: Vec<usize> = succ[w].iter().copied().collect();
                        stack.push((w, next));
                    }
                    1 => {
                        back.insert((v, w));
                    }
                    _ => {}
                }
            } else {
                state[*v] = 2;
                stack.pop();
            }
        }
    }
    let dag: Vec<Vec<usize>> = (0..n)
        .map(|a| succ[a].iter().copied().filter(|b| !back.contains(&(a, *b))).collect())
        .collect();
    // Longest path layering (Kahn order).
    let mut indeg = vec![0usize; n];
    for outs in &dag {
        for &b in outs {
            indeg[b] += 1;
        }
    }
    let mut layer = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|v| indeg[*v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &w in &dag[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    let layers = layer.iter().copied().max().map(|m| m + 1).unwrap_or(0);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for v in 0..n {
        rows[layer[v]].push(v);
    }
    // Neighbours (both directions) for barycentres.
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, outs) in dag.iter().enumerate() {
        for &b in outs {
            preds[b].push(a);
        }
    }
    let mut pos = vec![0f64; n];
    let reindex = |rows: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                pos[*v] = i as f64;
            }
        }
    };
    reindex(&rows, &mut pos);
    for sweep in 0..4 {
        let down = sweep % 2 == 0;
        let order: Vec<usize> = if down {
            (1..layers).collect()
        } else {
            (0..layers.saturating_sub(1)).rev().collect()
        };
        for l in order {
            let mut keyed: Vec<(f64, usize)> = rows[l]
                .iter()
                .map(|&v| {
                    let nb = if down { &preds[v] } else { &dag[v] };
                    let key = if nb.is_empty() {
                        pos[v]
                    } else {
                        nb.iter().map(|u| pos[*u]).sum::<f64>() / nb.len() as f64
                    };
                    (key, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[l] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, v) in rows[l].iter().enumerate() {
                pos[*v] = i as f64;
            }
        }
    }
    let mut out = vec![(0, 0); n];
    for (l, row) in rows.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            out[*v] = (l, i);
        }
    }
    out
}

/// Event-flow arrows labelled with their events at most; beyond, only tooltips.
const MAX_FLOW_LABELS: usize = 12;
const NODE_W: f64 = 150.0;
const NODE_H: f64 = 46.0;
const GAP_X: f64 = 26.0;
const GAP_Y: f64 = 70.0;
/// Room on the right for arrows that go back up.
const LOOP_ROOM: f64 = 60.0;
const MARGIN: f64 = 20.0;

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let t: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{t}…")
    }
}

/// The service graph as inline SVG with a legend.
fn svg(graph: &Graph) -> String {
    let canvas = Canvas::new(graph);
    let (width, height) = canvas.size();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<div class=\"graph\"><svg width=\"{width:.0}\" height=\"{height:.0}\" \
viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"Service graph\" font-family=\"system-ui, sans-serif\">"
    );
    s.push_str(
        "<defs>\
<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#57606a\"/></marker>\
<marker id=\"arrow-red\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#cf222e\"/></marker>\
<marker id=\"arrow-flow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#8c959f\"/></marker>\
</defs>\n",
    );
    canvas.flows(&mut s);
    canvas.calls(&mut s);
    canvas.nodes(&mut s);
    canvas.legend(&mut s);
    s
}

/// Width of a row of `n` nodes.
fn row_w(n: usize) -> f64 {
    n as f64 * NODE_W + n.saturating_sub(1) as f64 * GAP_X
}

/// The placed graph the SVG is drawn from: layers are rows from top to bottom (the page scrolls
/// vertically).
struct Canvas<'a> {
    graph: &'a Graph,
    /// Per service: (layer, index in the layer).
    place: Vec<(usize, usize)>,
    layers: usize,
    /// Most nodes in one layer.
    tallest: usize,
    /// Context -> palette index.
    ctx_index: BTreeMap<&'a str, usize>,
}

impl<'a> Canvas<'a> {
    fn new(graph: &'a Graph) -> Self {
        let place = layout(graph);
        let layers = place.iter().map(|p| p.0 + 1).max().unwrap_or(1);
        let tallest = (0..layers)
            .map(|l| place.iter().filter(|p| p.0 == l).count())
            .max()
            .unwrap_or(1);
        let ctx_index = graph
            .contexts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        Canvas {
            graph,
            place,
            layers,
            tallest,
            ctx_index,
        }
    }

    fn size(&self) -> (f64, f64) {
        let layers = self.layers;
        let width = MARGIN * 2.0 + row_w(self.tallest) + LOOP_ROOM;
        let height = MARGIN * 2.0 + layers as f64 * NODE_H + (layers.saturating_sub(1)) as f64 * GAP_Y + 20.0;
        (width, height)
    }

    /// Top left corner of service `v`'s node.
    fn xy(&self, v: usize) -> (f64, f64) {
        let (l, i) = self.place[v];
        let count = self.place.iter().filter(|p| p.0 == l).count();
        // Centre each row.
        let x0 = MARGIN + (row_w(self.tallest) - row_w(count)) / 2.0;
        (x0 + i as f64 * (NODE_W + GAP_X), MARGIN + l as f64 * (NODE_H + GAP_Y))
    }

    /// Fill and stroke of service `v`'s node: its context's colour.
    fn colour(&self, v: usize) -> (&'static str, &'static str) {
        match self.graph.services[v]
            .context
            .as_deref()
            .and_then(|c| self.ctx_index.get(c))
        {
            Some(i) => PALETTE[i % PALETTE.len()],
            None => ("#ffffff", "#57606a"),
        }
    }

    /// The path of an edge from `a` to `b` and the middle of it (for a label).
    fn edge_path(&self, a: usize, b: usize, bend: f64) -> (String, f64, f64) {
        let place = &self.place;
        let (ax, ay) = self.xy(a);
        let (bx, by) = self.xy(b);
        if place[b].0 > place[a].0 {
            let (sx, sy) = (ax + NODE_W / 2.0 + bend, ay + NODE_H);
            let (tx, ty) = (bx + NODE_W / 2.0 + bend, by);
            let dy = (ty - sy) / 2.0;
            (
                format!(
                    "M{sx:.1},{sy:.1} C{sx:.1},{:.1} {tx:.1},{:.1} {tx:.1},{ty:.1}",
                    sy + dy,
                    ty - dy
                ),
                (sx + tx) / 2.0,
                (sy + ty) / 2.0,
            )
        } else {
            // Same or an earlier row: loop out on the right of both nodes.
            let (sx, sy) = (ax + NODE_W, ay + NODE_H / 2.0 + bend);
            let (tx, ty) = (bx + NODE_W, by + NODE_H / 2.0 + bend);
            let out = 40.0 + 10.0 * (place[a].0 - place[b].0) as f64;
            (
                format!(
                    "M{sx:.1},{sy:.1} C{:.1},{sy:.1} {:.1},{ty:.1} {tx:.1},{ty:.1}",
                    sx.max(tx) + out,
                    sx.max(tx) + out
                ),
                sx.max(tx) + out * 0.75,
                (sy + ty) / 2.0,
            )
        }
    }

    /// Event flows, one path per pair with the events listed.
    fn flows(&self, s: &mut String) {
        let graph = self.graph;
        let mut flows: BTreeMap<(usize, usize), Vec<&str>> = BTreeMap::new();
        for f in &graph.flows {
            if f.from != f.to {
                flows.entry((f.from, f.to)).or_default().push(f.event.as_str());
            }
        }
        // Labels only while they stay legible; the events are always in each arrow's tooltip.
        let labelled = flows.len() <= MAX_FLOW_LABELS;
        for ((a, b), events) in &flows {
            let (d, mx, my) = self.edge_path(*a, *b, 10.0);
            let label = if labelled {
                truncate(&events.join(", "), 28)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "<g class=\"flow\"><title>{} → {}: {}</title><path d=\"{d}\" fill=\"none\" stroke=\"#8c959f\" stroke-width=\"1.3\" \
stroke-dasharray=\"5 4\" marker-end=\"url(#arrow-flow)\"/><text x=\"{mx:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#656d76\" \
text-anchor=\"middle\">{}</text></g>",
                esc(&graph.services[*a].name),
                esc(&graph.services[*b].name),
                esc(&events.join(", ")),
                my - 3.0,
                esc(&label)
            );
        }
    }

    /// Synchronous calls.
    fn calls(&self, s: &mut String) {
        let graph = self.graph;
        for c in &graph.calls {
            if c.from == c.to {
                let (x, y) = self.xy(c.from);
                let _ = writeln!(
                    s,
                    "<path d=\"M{:.1},{:.1} c30,-30 60,0 0,20\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                    x + NODE_W - 20.0,
                    y,
                    if c.in_cycle { "#cf222e" } else { "#57606a" }
                );
                continue;
            }
            let (d, _, _) = self.edge_path(c.from, c.to, -8.0);
            let (stroke, marker, w) = if c.in_cycle {
                ("#cf222e", "arrow-red", 2.4)
            } else {
                ("#57606a", "arrow", 1.5)
            };
            let _ = writeln!(
                s,
                "<g class=\"call\"><title>{} calls {} (synchronous{})</title><path d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" \
stroke-width=\"{w}\" marker-end=\"url(#{marker})\"/></g>",
                esc(&graph.services[c.from].name),
                esc(&graph.services[c.to].name),
                if c.in_cycle { ", on a cycle" } else { "" }
            );
        }
    }

    /// The services: a rectangle per service, a hexagon per gateway or BFF.
    fn nodes(&self, s: &mut String) {
        for (v, svc) in self.graph.services.iter().enumerate() {
            let (x, y) = self.xy(v);
            let (fill, stroke) = self.colour(v);
            let shape = if svc.role == "service" {
                format!(
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>"
                )
            } else {
                let k = 12.0;
                format!(
                    "<polygon points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/>",
                    x + k, y, x + NODE_W - k, y, x + NODE_W, y + NODE_H / 2.0, x + NODE_W - k, y + NODE_H, x + k, y + NODE_H, x, y + NODE_H / 2.0
                )
            };
            let sub = match (&svc.context, svc.role) {
                (Some(c), "service") => truncate(c, 22),
                (Some(c), role) => truncate(&format!("{role} · {c}"), 22),
                (None, "service") => "no context".into(),
                (None, role) => role.to_string(),
            };
            let owns = if svc.owns.is_empty() {
                String::new()
            } else {
                format!("\nowns: {}", svc.owns.join(", "))
            };
            let _ = writeln!(
                s,
                "<g class=\"service\" id=\"svc-{}\"><title>{}{}{}</title>{shape}\
<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"600\" text-anchor=\"middle\" fill=\"#1f2328\">{}</text>\
<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#656d76\">{}</text></g>",
                token(&svc.name),
                esc(&svc.name),
                svc.context
                    .as_ref()
                    .map(|c| format!(" (context {})", esc(c)))
                    .unwrap_or_default(),
                esc(&owns),
                x + NODE_W / 2.0,
                y + 19.0,
                esc(&truncate(&svc.name, 20)),
                x + NODE_W / 2.0,
                y + 35.0,
                esc(&sub)
            );
        }
    }

    /// The legend: edge kinds and the colour of every context in use.
    fn legend(&self, s: &mut String) {
        let graph = self.graph;
        s.push_str("</svg></div>\n<p class=\"legend\">");
        s.push_str("<span>━ synchronous call</span><span style=\"color:#cf222e\">━ call on a cycle</span><span>╌ event flow (hover for its events)</span><span>⬡ gateway / BFF</span>");
        let used: BTreeSet<usize> = graph
            .services
            .iter()
            .filter_map(|svc| svc.context.as_deref().and_then(|c| self.ctx_index.get(c).copied()))
            .collect();
        for i in used {
            let (fill, stroke) = PALETTE[i % PALETTE.len()];
            let _ = write!(
                s,
                "<span><i class=\"swatch\" style=\"background:{fill};border-color:{stroke}\"></i>{}</span>",
                esc(&graph.contexts[i])
            );
        }
        s.push_str("</p>\n");
    }
}
