#!/usr/bin/env bash
# What the sandbox (src/probe/sandbox.rs) adds to the start of each live run: entering a
# network namespace of its own with loopback up, going back at teardown, and the mount
# namespace that hides the other 199 submissions of a cohort of 200. Target (#25): under 50 ms
# per grading. Needs root; prints figures.
#
#   benches/sandbox-start.sh [RUNS]      (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example sandbox -- "${1:-200}"
