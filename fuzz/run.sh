#!/usr/bin/env bash
# Builds the fuzz targets on the STABLE toolchain (libFuzzer from libfuzzer-sys, coverage
# instrumentation from rustc's sancov pass, no sanitizer) and runs each for SECONDS.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 600 seconds, every target
#   JOBS=2 fuzz/run.sh 600                run two targets at a time (default 1)
#   BUILD_ONLY=1 fuzz/run.sh              only build
#
# Per target it prints executions, exec/s, libFuzzer's final coverage (`cov:` edges and
# `ft:` features) and the crashes found (saved under fuzz/artifacts/<target>/).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
secs="${1:-600}"
shift || true
all=(manifest rubric openapi asyncapi pact prom evo_diff yaml_paths)
targets=("${@:-${all[@]}}")
[ "${#targets[@]}" -eq 0 ] && targets=("${all[@]}")
jobs="${JOBS:-1}"

# The flags `cargo fuzz build -s none` passes (sanitizer "none"), which stable rustc accepts.
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cllvm-args=-sanitizer-coverage-stack-depth \
 -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
 --cfg fuzzing -Cdebug-assertions -Coverflow-checks -Cforce-frame-pointers"
export CARGO_TARGET_DIR="$here/target"
triple="$(rustc -vV | sed -n 's/^host: //p')"
# --target keeps RUSTFLAGS off build scripts and proc macros (as cargo-fuzz does).
nice -n 10 cargo build --release --target "$triple" --bins
bin="$here/target/$triple/release"
[ -n "${BUILD_ONLY:-}" ] && exit 0

max_len() {
    case "$1" in
        prom | pact | rubric | manifest) echo 16384 ;;
        *) echo 32768 ;;
    esac
}

run_one() {
    local t="$1"
    mkdir -p "corpus/$t" "grown/$t" "artifacts/$t" logs
    local log="logs/$t.log"
    # New inputs go to grown/<t> (git-ignored); corpus/<t> holds the committed seeds.
    # Fork mode with one job: one core, and a crash, timeout or OOM is saved under
    # artifacts/<t>/ without ending the run.
    nice -n 10 "$bin/$t" "grown/$t" "corpus/$t" \
        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$secs" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || true
}

summary() {
    local t="$1" log="logs/$1.log"
    local last execs time rate cov ft total crashes
    # The last fork-mode status line:
    # `#N: cov: C ft: F corp: K exec/s: R oom/timeout/crash: o/t/c time: Ts job: J ...`
    # (its exec/s is the last job's; the average is N / T).
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 || true)
    execs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$last")
    time=$(sed -n 's/.* time: \([0-9]*\)s.*/\1/p' <<<"$last")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    rate=$([ -n "$execs" ] && [ "${time:-0}" -gt 0 ] && echo $((execs / time)) || echo '?')
    # Edges instrumented in the binary (`Loaded 1 modules (N inline 8-bit counters)`).
    total=$(sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -1)
    crashes=$(find "artifacts/$t" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    printf '%-10s %6ss %12s %8s %7s %8s %7s %8s\n' "$t" "${time:-?}" "${execs:-?}" "$rate" "${cov:-?}" "${total:-?}" "${ft:-?}" "$crashes"
}

running=0
for t in "${targets[@]}"; do
    echo "fuzzing $t for ${secs}s" >&2
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait
# The scratch folders of the harnesses (one per fuzzing process).
rm -rf /dev/shm/grade-fuzz-* 2>/dev/null || true
printf '%-10s %7s %12s %8s %7s %8s %7s %8s\n' target time executions exec/s cov edges ft crashes
for t in "${targets[@]}"; do summary "$t"; done
exit 0
