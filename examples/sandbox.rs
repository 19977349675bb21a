//! Measures what the network sandbox adds to the start of a live run (benches/sandbox-start.sh):
//! entering a new network namespace with loopback up, and going back at teardown, each in a
//! fresh thread as a grading does. Prints the median and the 95th percentile.

use std::time::Instant;

use grade::probe::sandbox::isolate_network;

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let mut enter = Vec::with_capacity(runs);
    let mut leave = Vec::with_capacity(runs);
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
    }
    for (what, v) in [("enter (unshare + lo up)", &mut enter), ("go back (setns)", &mut leave)] {
        v.sort_by(f64::total_cmp);
        println!(
            "{what:<24} median {:.3} ms   p95 {:.3} ms   max {:.3} ms   ({runs} runs)",
            v[v.len() / 2],
            v[v.len() * 95 / 100],
            v[v.len() - 1]
        );
    }
}
