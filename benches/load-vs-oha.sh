#!/usr/bin/env bash
# The PRB004 load generator (src/probe/load.rs, driven by examples/load.rs) against oha, on the
# shopflow fixture service (fixtures/services/shopflow). Not run in CI; prints figures.
#
#   benches/load-vs-oha.sh
#
# 1. Maximum rate on GET /health: oha -z 5s -c 16 (closed loop, as fast as it can) vs ours at an
#    offered rate far above capacity (open model, no drain): answers per second of each.
# 2. Fixed rate on GET /health: oha -q 2000 --latency-correction -z 10s -c 16 vs ours at
#    2000 req/s for 10 s over 16 connections: p50/p95/p99 side by side, relative difference.
# 3. The same fixed rate on GET /v1/catalog of a second shopflow started with --slow-ms 5, an
#    endpoint whose own time (5 ms) dominates, as a learner's service would.
#
# Each case runs RUNS times, oha and ours alternating; the table shows the medians (the machine
# is shared, single runs are noisy).
# Target: ours reaches at least oha's maximum rate, and its percentiles are within 10% of oha's.
# Environment: PORT (default 18931; PORT+1 for the slow server), CONC (16), MAX_SECS (5),
# RATE (2000), FIXED_SECS (10), RUNS (3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PORT=${PORT:-18931}
SLOW_PORT=$((PORT + 1))
CONC=${CONC:-16}
MAX_SECS=${MAX_SECS:-5}
RATE=${RATE:-2000}
FIXED_SECS=${FIXED_SECS:-10}
RUNS=${RUNS:-3}
URL="http://127.0.0.1:$PORT/health"
SLOW_URL="http://127.0.0.1:$SLOW_PORT/v1/catalog"
OUT=$(mktemp -d)

echo "== building grade, examples/load.rs and shopflow (release)" >&2
cargo build --release --bin grade --example load >&2
cargo build --release -p shopflow >&2

OHA="$ROOT/target/oha/bin/oha"
if [ ! -x "$OHA" ]; then
    echo "== installing oha into target/oha (takes a while)" >&2
    nice -n 19 cargo install oha --locked --root "$ROOT/target/oha" >&2
fi
"$OHA" --version >&2

wait_port() {
    for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

echo "== starting shopflow on 127.0.0.1:$PORT and (--slow-ms 5) on 127.0.0.1:$SLOW_PORT" >&2
target/release/shopflow catalog --port "$PORT" >"$OUT/shopflow.log" 2>&1 &
SERVER=$!
target/release/shopflow catalog --port "$SLOW_PORT" --slow-ms 5 >"$OUT/shopflow-slow.log" 2>&1 &
SLOW_SERVER=$!
trap 'kill "$SERVER" "$SLOW_SERVER" 2>/dev/null; wait "$SERVER" "$SLOW_SERVER" 2>/dev/null; rm -rf "$OUT"' EXIT
wait_port "$PORT"
wait_port "$SLOW_PORT"

LOAD=target/release/examples/load

for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS: 1. maximum rate, $MAX_SECS s, $CONC connections" >&2
    "$OHA" -z "${MAX_SECS}s" -c "$CONC" --no-tui --output-format json -o "$OUT/oha-max-$run.json" "$URL"
    sleep 1
    "$LOAD" "$URL" 10000000 "$MAX_SECS" "$CONC" 0 >"$OUT/ours-max-$run.json"
    sleep 1
    for case in fixed slow; do
        url=$URL
        [ "$case" = slow ] && url=$SLOW_URL
        echo "== run $run/$RUNS: $case, $RATE req/s for $FIXED_SECS s, $CONC connections, $url" >&2
        "$OHA" -z "${FIXED_SECS}s" -c "$CONC" -q "$RATE" --latency-correction --no-tui --output-format json \
            -o "$OUT/oha-$case-$run.json" "$url"
        sleep 1
        "$LOAD" "$url" "$RATE" "$FIXED_SECS" "$CONC" >"$OUT/ours-$case-$run.json"
        sleep 1
    done
done

python3 - "$OUT" "$RATE" "$FIXED_SECS" "$CONC" "$RUNS" <<'EOF'
import json, statistics, sys
out, rate, secs, conc, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
load = lambda name: json.load(open(f"{out}/{name}.json"))
med = statistics.median

def oha_ok(o):
    return sum(v for k, v in o.get("statusCodeDistribution", {}).items() if 200 <= int(k) < 400)

print()
print(f"1. maximum rate, GET /health, {conc} connections (answers/s; median of {runs} runs)")
a = [load(f"oha-max-{r}")["summary"]["requestsPerSec"] for r in range(1, runs + 1)]
b = [load(f"ours-max-{r}")["throughput"] for r in range(1, runs + 1)]
print(f"   {'':6} {'oha':>9} {'ours':>9} {'ours/oha':>9}")
print(f"   {'median':6} {med(a):9.0f} {med(b):9.0f} {med(b) / med(a):9.2f}")
print(f"   runs:  oha {', '.join(f'{x:.0f}' for x in a)}; ours {', '.join(f'{x:.0f}' for x in b)}")

for case, what in (("fixed", "GET /health"), ("slow", "GET /v1/catalog with --slow-ms 5")):
    print()
    print(f"{2 if case == 'fixed' else 3}. fixed rate {rate} req/s for {secs} s, {conc} connections, {what}")
    print(f"   (latency from the scheduled send time, ms; median of {runs} runs)")
    print(f"   {'':6} {'oha':>9} {'ours':>9} {'diff':>8}")
    ohas = [load(f"oha-{case}-{r}") for r in range(1, runs + 1)]
    ours = [load(f"ours-{case}-{r}") for r in range(1, runs + 1)]
    for p in ("p50", "p95", "p99"):
        o = med([x["latencyPercentiles"][p] * 1000.0 for x in ohas])
        u = med([x[f"{p}_ms"] for x in ours])
        print(f"   {p:6} {o:9.3f} {u:9.3f} {100.0 * (u - o) / o:+7.1f}%")
    o_rate = med([x["summary"]["requestsPerSec"] for x in ohas])
    u_rate = med([x["throughput"] for x in ours])
    print(f"   {'rate':6} {o_rate:9.1f} {u_rate:9.1f}  (answers/s)")
    print(f"   answers 2xx-3xx per run: oha {[oha_ok(x) for x in ohas]}, ours {[x['completed'] for x in ours]}; "
          f"ours' transport errors {[x['transport_errors'] for x in ours]}")
EOF
