#!/usr/bin/env python3
"""Whole-process time of `grade diff` on two 4 MB specs (release build): median, p90, min.

Usage: python3 benches/diff-time.py [N]   (default N=20)

Diffs ../shared/corpus/openapi/large/stripe-spec3-e0123a38.json (4.2 MB, 417 operations)
against a modified copy written to a temporary folder (one path removed, one property removed
from the widely shared `charge` schema, a required query parameter added, an enum value added
to a response), and also against the other Stripe release in the corpus (3.1 MB YAML). Uses
the `diff` example (examples/diff.rs: the same loading, comparison and rendering as
`grade diff`), built with `cargo build --release --example diff`. The quality bar: under
300 ms. Not part of CI: figures go in the closing notes.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "openapi")
STRIPE = os.path.join(CORPUS, "large", "stripe-spec3-e0123a38.json")
STRIPE_OLDER = os.path.join(CORPUS, "oas30", "vacuum-stripe.yaml")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20

if not os.path.isfile(STRIPE):
    sys.exit(f"skipped: {STRIPE} is absent")

subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "diff"], cwd=ROOT, check=True)
exe = os.path.join(ROOT, "target", "release", "examples", "diff")

tmp = tempfile.mkdtemp(prefix="grade-diff-bench-")
modified = os.path.join(tmp, "stripe-modified.json")
with open(STRIPE) as f:
    spec = json.load(f)
paths = list(spec["paths"])
del spec["paths"][paths[len(paths) // 2]]
charge = spec["components"]["schemas"]["charge"]["properties"]
del charge[sorted(charge)[0]]
for item in spec["paths"].values():
    if "get" in item:
        item["get"].setdefault("parameters", []).append(
            {"name": "bench_required", "in": "query", "required": True, "schema": {"type": "string"}}
        )
        break
for schema in spec["components"]["schemas"].values():
    props = schema.get("properties", {})
    status = props.get("status")
    if isinstance(status, dict) and isinstance(status.get("enum"), list):
        status["enum"].append("bench_new_status")
        break
with open(modified, "w") as f:
    json.dump(spec, f, indent=2)


def measure(old, new):
    times = []
    code = None
    for _ in range(N):
        t = time.perf_counter()
        r = subprocess.run([exe, old, new, "json"], stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
        code = r.returncode
    if code not in (0, 1):
        sys.exit(f"{old} {new}: exit {code}")
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))], times[0], code


cases = [
    ("stripe 4.2 MB vs modified copy 4.2 MB", STRIPE, modified),
    ("stripe 4.2 MB vs itself", STRIPE, STRIPE),
]
if os.path.isfile(STRIPE_OLDER):
    cases.append(("stripe 3.1 MB YAML vs 4.2 MB JSON (two releases)", STRIPE_OLDER, STRIPE))

print(f"{'case':<52} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'exit':>5}  (n={N}, --format json)")
for name, old, new in cases:
    med, p90, low, code = measure(old, new)
    print(f"{name:<52} {med:>10.1f} {p90:>8.1f} {low:>8.1f} {code:>5}")

# Where the time goes, once.
r = subprocess.run([exe, STRIPE, modified, "json", "--timings"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
print("phases (stripe vs modified, one run, sequential loads):", r.stderr.strip())
if os.environ.get("SHOW"):
    # SHOW=1: also print the text report of the modified copy.
    print(subprocess.run([exe, STRIPE, modified], capture_output=True, text=True).stdout)
os.remove(modified)
os.rmdir(tmp)
