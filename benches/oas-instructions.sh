#!/usr/bin/env bash
# Instructions executed (callgrind's Ir, in millions) to load and run every OAS check on the
# three large specs of benches/oas-large.py: a figure that, unlike CPU time, does not move with
# other work on a shared machine, for comparing two builds of the same code.
#
#   benches/oas-instructions.sh [GRADE_BINARY]    (default: target/release/grade, built here)
#
# Needs valgrind and ../shared/corpus/openapi. Not part of CI. Kernel time (page faults) is not
# counted: CPU time in benches/oas-large.py is the target's figure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="$root/../shared/corpus/openapi"
[ -d "$corpus" ] || { echo "skipped: $corpus not found"; exit 0; }
command -v valgrind >/dev/null || { echo "skipped: valgrind not found"; exit 0; }
bin="${1:-}"
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet)
    bin="$root/target/release/grade"
fi
work="$(mktemp -d /tmp/grade-oas-ir-XXXXXX)"
trap 'rm -rf "$work"' EXIT
{
    printf '[rubric]\nid = "oas"\ntitle = "oas"\nversion = "1"\nthreshold = 0\n[[section]]\nid = "oas"\ntitle = "oas"\n'
    "$bin" checks --format json | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if c["area"] == "OAS":
        print("[[section.item]]\ncheck = \"%s\"\nweight = 1" % c["id"])
'
} >"$work/oas.toml"
printf '%-40s %10s\n' spec 'M instr'
for spec in large/stripe-spec3-e0123a38.json large/openai-f85dbe22.yaml oas30/vacuum-api.github.com.yaml; do
    name="$(basename "$spec")"
    sub="$work/${name%.*}"
    mkdir -p "$sub"
    cp "$corpus/$spec" "$sub/openapi.${spec##*.}"
    printf '[[service]]\nname = "api"\nopenapi = "openapi.%s"\n' "${spec##*.}" >"$sub/submission.toml"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run --rubric "$work/oas.toml" "$sub" --format json >/dev/null 2>"$work/vg.err"
    printf '%-40s %10.1f\n' "$spec" "$(awk '/^summary:/ {print $2 / 1e6; exit}' "$work/cg.out")"
done
