#!/usr/bin/env bash
# The PRB004 load generator (src/probe/load.rs, driven by examples/load.rs) against wrk (Debian's
# `wrk` package), maximum rate on the shopflow fixture service's GET /health. Not run in CI;
# prints figures.
#
#   benches/load-vs-wrk.sh            (installs wrk with apt-get when it is missing)
#
# Both are closed-loop at saturation: wrk -t THREADS -c CONC -d SECS, ours at an offered rate
# far above capacity with no drain over CONC connections. Runs alternate (wrk, ours, wrk,
# ours, ...) RUNS times on this shared machine; the table shows each side's median and the
# ratio of the medians. Target (#18): ours/wrk >= 1.0, never below 0.95.
# Environment: PORT (default 18941), CONC (16), SECS (5), THREADS (2), RUNS (5).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PORT=${PORT:-18941}
CONC=${CONC:-16}
SECS=${SECS:-5}
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
URL="http://127.0.0.1:$PORT/health"
OUT=$(mktemp -d)

if ! command -v wrk >/dev/null; then
    echo "== installing wrk (apt-get)" >&2
    apt-get install -y wrk >&2
fi
echo "== building examples/load.rs and shopflow (release)" >&2
cargo build --release --example load >&2
cargo build --release -p shopflow >&2

target/release/shopflow catalog --port "$PORT" >"$OUT/shopflow.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.1
done

for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS" >&2
    wrk -t "$THREADS" -c "$CONC" -d "${SECS}s" "$URL" >"$OUT/wrk-$run.txt"
    sleep 1
    target/release/examples/load "$URL" 10000000 "$SECS" "$CONC" 0 >"$OUT/ours-$run.json"
    sleep 1
done

python3 - "$OUT" "$RUNS" "$CONC" "$SECS" "$THREADS" <<'PY'
import json, re, statistics, sys
out, runs, conc, secs, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
wrk = [float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{out}/wrk-{r}.txt").read()).group(1)) for r in range(1, runs + 1)]
ours = [json.load(open(f"{out}/ours-{r}.json"))["throughput"] for r in range(1, runs + 1)]
m = statistics.median
print(f"maximum rate, GET /health, {conc} connections, {secs} s (answers/s; median of {runs} alternating runs)")
print(f"   {'wrk -t' + threads:>9} {'ours':>9} {'ours/wrk':>9}")
print(f"   {m(wrk):9.0f} {m(ours):9.0f} {m(ours) / m(wrk):9.2f}")
print(f"   runs: wrk {', '.join(f'{x:.0f}' for x in wrk)}; ours {', '.join(f'{x:.0f}' for x in ours)}")
PY
