//! `grade diff OLD NEW` as a small program, for benchmarks (benches/diff-time.py) until the
//! subcommand is wired: the same loading, comparison and rendering, then the exit code.
//!
//! Usage: cargo run --release --example diff -- OLD NEW [text|json|markdown] [--timings]
//!
//! `--timings` prints the time of each phase (load old, load new, compare, render) to
//! standard error.

use std::io::Write;
use std::path::Path;

use grade::evo::render::{diff_files, DiffFormat};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let timings = args.iter().any(|a| a == "--timings");
    args.retain(|a| a != "--timings");
    let (Some(old), Some(new)) = (args.first(), args.get(1)) else {
        eprintln!("usage: diff OLD NEW [text|json|markdown]");
        std::process::exit(2);
    };
    let format = match args.get(2).map(String::as_str) {
        None | Some("text") => DiffFormat::Text,
        Some("json") => DiffFormat::Json,
        Some("markdown") => DiffFormat::Markdown,
        Some(other) => {
            eprintln!("unknown format {other}: text, json or markdown");
            std::process::exit(2);
        }
    };
    if timings {
        phases(Path::new(old), Path::new(new), format);
    }
    match diff_files(Path::new(old), Path::new(new), format, false) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.text.as_bytes());
            std::process::exit(if out.breaking > 0 { 1 } else { 0 });
        }
        Err(e) => {
            eprint!("{}", grade::diag::render(&e.to_diagnostic(), false));
            std::process::exit(2);
        }
    }
}

/// Runs the phases one by one and prints their times.
fn phases(old: &Path, new: &Path, format: DiffFormat) {
    use grade::evo::{load::load_file, render};
    let t = std::time::Instant::now();
    let (Ok(a), t_a) = (load_file(old, "old"), t.elapsed()) else {
        return;
    };
    let t = std::time::Instant::now();
    let (Ok(b), t_b) = (load_file(new, "new"), t.elapsed()) else {
        return;
    };
    let t = std::time::Instant::now();
    let d = grade::evo::diff(a.input(), b.input());
    let t_d = t.elapsed();
    let t = std::time::Instant::now();
    let text = render::render(&d, format, &render::Bases::default(), false);
    let t_r = t.elapsed();
    eprintln!(
        "load old {:.1} ms, load new {:.1} ms, compare {:.1} ms ({} changes), render {:.1} ms ({} bytes)",
        t_a.as_secs_f64() * 1e3,
        t_b.as_secs_f64() * 1e3,
        t_d.as_secs_f64() * 1e3,
        d.changes.len(),
        t_r.as_secs_f64() * 1e3,
        text.len()
    );
}
