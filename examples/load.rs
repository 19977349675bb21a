//! The PRB004 load generator as a small program, for benches/load-vs-oha.sh: offers RATE
//! requests per second to URL for SECONDS over CONCURRENCY keep-alive connections (open model,
//! latency from the scheduled send time) and prints the report as one JSON object.
//!
//! Usage: cargo run --release --example load -- URL RATE SECONDS CONCURRENCY [DRAIN_MS]
//!
//! A rate far above what the server sustains measures its maximum throughput; with DRAIN_MS 0
//! the run ends at SECONDS (requests still in flight then count as timeouts).

use std::time::Duration;

use grade::probe::load::{run, LoadConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!("usage: load URL RATE SECONDS CONCURRENCY [DRAIN_MS]");
        std::process::exit(2);
    };
    if args.len() < 4 {
        usage();
    }
    let (Ok(rate), Ok(secs), Ok(conc)) = (args[1].parse::<f64>(), args[2].parse::<f64>(), args[3].parse::<usize>())
    else {
        usage()
    };
    let drain = match args.get(4).map(|d| d.parse::<u64>()) {
        None => 2000,
        Some(Ok(d)) => d,
        Some(Err(_)) => usage(),
    };
    if !(secs.is_finite() && secs > 0.0) {
        usage();
    }
    let mut cfg = LoadConfig::new(args[0].clone(), rate, Duration::from_secs_f64(secs), conc);
    cfg.drain_timeout = Duration::from_millis(drain);
    match run(&cfg) {
        Ok(r) => {
            let statuses: serde_json::Map<String, serde_json::Value> =
                r.statuses.iter().map(|(s, n)| (s.to_string(), (*n).into())).collect();
            let out = serde_json::json!({
                "rate": r.rate,
                "duration_s": r.duration.as_secs_f64(),
                "concurrency": r.concurrency,
                "scheduled": r.scheduled,
                "completed": r.completed,
                "statuses": statuses,
                "transport_errors": r.transport_errors,
                "timeouts": r.timeouts,
                "availability": r.availability(),
                "p50_ms": r.p50_ms,
                "p95_ms": r.p95_ms,
                "p99_ms": r.p99_ms,
                "max_ms": r.max_ms,
                "elapsed_s": r.elapsed.as_secs_f64(),
                "throughput": r.throughput,
                "first_error": r.first_error,
            });
            println!("{out}");
        }
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(1);
        }
    }
}
