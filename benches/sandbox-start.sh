#!/usr/bin/env bash
# What the network sandbox (src/probe/sandbox.rs) adds to the start of each live run: entering
# a network namespace of its own with loopback up, and going back at teardown. Target (#25):
# under 50 ms per grading. Needs root or unprivileged user namespaces; prints figures.
#
#   benches/sandbox-start.sh [RUNS]      (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example sandbox -- "${1:-200}"
