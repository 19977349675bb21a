//! Measures what the sandbox adds to the start of a live run (benches/sandbox-start.sh):
//! entering a new network namespace with loopback up, and going back at teardown, each in a
//! fresh thread as a grading does; and making the mount namespace that hides the other
//! submissions of a cohort of 200. Prints the median and the 95th percentile.

use std::time::Instant;

use grade::probe::sandbox::{hide_siblings, isolate_network};

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let mut enter = Vec::with_capacity(runs);
    let mut leave = Vec::with_capacity(runs);
    let mut files = Vec::with_capacity(runs);
    let cohort = std::env::temp_dir().join(format!("grade-sandbox-bench-{}", std::process::id()));
    for i in 0..200 {
        std::fs::create_dir_all(cohort.join(format!("learner-{i:03}"))).expect("cohort folder");
    }
    let submission = cohort.join("learner-000");
    for _ in 0..runs {
        let (e, l) = std::thread::spawn(|| {
            let t = Instant::now();
            let (net, home) = isolate_network();
            let e = t.elapsed();
            assert!(net.is_isolated(), "{}", net.statement());
            let t = Instant::now();
            if let Some(h) = home {
                h.go_back();
            }
            (e, t.elapsed())
        })
        .join()
        .expect("measuring thread");
        enter.push(e.as_secs_f64() * 1000.0);
        leave.push(l.as_secs_f64() * 1000.0);
        let t = Instant::now();
        let (hidden, ns) = hide_siblings(&submission, &[]).expect("mount namespace");
        files.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(hidden, 199);
        drop(ns);
    }
    let _ = std::fs::remove_dir_all(&cohort);
    for (what, v) in [
        ("enter (unshare + lo up)", &mut enter),
        ("go back (setns)", &mut leave),
        ("hide 199 of 200 folders", &mut files),
    ] {
        v.sort_by(f64::total_cmp);
        println!(
            "{what:<24} median {:.3} ms   p95 {:.3} ms   max {:.3} ms   ({runs} runs)",
            v[v.len() / 2],
            v[v.len() * 95 / 100],
            v[v.len() - 1]
        );
    }
}
