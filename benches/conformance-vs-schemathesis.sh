#!/usr/bin/env bash
# grade's conformance probes (PRB002 response-nonconformant, PRB003 invalid-input-mishandled)
# against Schemathesis on a third-party server: fixtures/third-party/bookshelf (Python standard
# library, its flaws listed in its README.md), in its flawed and its well-behaved mode.
# Not run in CI; regenerates the figures of tests/third_party.rs.
#
#   benches/conformance-vs-schemathesis.sh            # rerun both, print the table
#   benches/conformance-vs-schemathesis.sh --update   # ... and replace the golden reports
#
# 1. Installs Schemathesis $ST_VERSION into a venv ($ST_VENV, default
#    /tmp/grade-schemathesis-venv) unless it is there already.
# 2. For each mode, starts server.py on a free 127.0.0.1 port and runs Schemathesis once with
#    the fixed command below (seed, bounded examples, one worker, no example database), writing
#    its JSON run report (every failing check code with the operations it failed on, plus the
#    version and command line) and its JUnit XML into $OUT/<mode>.
# 3. Runs tests/third_party.rs against those reports (GRADE_SCHEMATHESIS_REPORTS=$OUT): it runs
#    grade on the same fixture, maps both sides to failure classes and prints the table per
#    operation and class. The test's verdict is printed too: a failure there means grade and
#    this Schemathesis run disagree outside the test's NOT_YET list.
#
# With --update the reports are copied over fixtures/third-party/bookshelf/schemathesis/ (the
# golden files the test reads when GRADE_SCHEMATHESIS_REPORTS is unset); review the diff: the
# failure lists should not move unless the server, its document or Schemathesis did.
# Environment: ST_VENV, OUT (default a fresh folder under /tmp), CARGO_TARGET_DIR as usual.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ST_VERSION=4.32.5
ST_VENV=${ST_VENV:-/tmp/grade-schemathesis-venv}
FIXTURE="$ROOT/fixtures/third-party/bookshelf"
GOLDEN="$FIXTURE/schemathesis"
OUT=${OUT:-$(mktemp -d /tmp/conformance-vs-schemathesis.XXXXXX)}
UPDATE=0
[ "${1:-}" = "--update" ] && UPDATE=1

if [ "$("$ST_VENV/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $ST_VERSION" ]; then
    echo "== installing schemathesis $ST_VERSION into $ST_VENV" >&2
    python3 -m venv "$ST_VENV"
    "$ST_VENV/bin/pip" install --quiet "schemathesis==$ST_VERSION" >&2
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

for mode in flawed well-behaved; do
    dir="$OUT/$mode"
    rm -rf "$dir"
    mkdir -p "$dir"
    # Schemathesis reads the document from its own folder, so the recorded command line names
    # no path of this machine; its .hypothesis and .schemathesis folders stay there too.
    cp "$FIXTURE/openapi.yaml" "$dir/openapi.yaml"
    port=$(free_port)
    (cd "$FIXTURE" && PORT=$port BOOKSHELF_MODE=$mode exec python3 server.py >"$dir/server.log" 2>&1) &
    SERVER_PID=$!
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.1
    done
    echo "== schemathesis $ST_VERSION on bookshelf ($mode), port $port" >&2
    # The command recorded in the golden reports (the port aside).
    (cd "$dir" && "$ST_VENV/bin/schemathesis" run openapi.yaml --url "http://127.0.0.1:$port" \
        --checks all --continue-on-failure --seed 42 --max-examples 50 --workers 1 \
        --generation-database none --report json,junit --report-json-path report.json \
        --report-junit-path junit.xml --no-color >schemathesis.txt 2>&1) || true
    stop_server
    grep -E '^(Failures|  ❌|Test cases|  [0-9]+ generated)' "$dir/schemathesis.txt" >&2 || true
    cp "$dir/report.json" "$OUT/$mode.json"
    cp "$dir/junit.xml" "$OUT/$mode.junit.xml"
    if [ "$UPDATE" = 1 ]; then
        cp "$dir/report.json" "$GOLDEN/$mode.json"
        cp "$dir/junit.xml" "$GOLDEN/$mode.junit.xml"
    fi
done

echo "== grade on the same fixture, compared with these reports (tests/third_party.rs)" >&2
status=0
GRADE_SCHEMATHESIS_REPORTS="$OUT" cargo test --test third_party -- --nocapture --test-threads 1 schemathesis \
    || status=$?
echo "reports in $OUT" >&2
exit "$status"
