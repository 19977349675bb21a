#!/usr/bin/env python3
"""Whole-process time of a static grade (release build): median and p90 over N runs.

Usage: python3 benches/grade-time.py [N]   (default N=50). Prints one line per submission.
Builds the release binary first. Not part of CI: figures go in the closing notes.
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 50

subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
exe = os.path.join(ROOT, "target", "release", "grade")

cases = [
    (cp, f"fixtures/submissions/{cp}-reference") for cp in ["phase1", "phase2", "phase3", "phase4", "capstone"]
]
print(f"{'submission':<40} {'median ms':>10} {'p90 ms':>8} {'min ms':>8}  (n={N}, --format json --static-only)")
for cp, sub in cases:
    times = []
    for _ in range(N):
        t = time.perf_counter()
        r = subprocess.run([exe, cp, sub, "--static-only", "--format", "json"], cwd=ROOT, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
        if r.returncode != 0:
            sys.exit(f"{sub}: exit {r.returncode}")
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(f"{sub:<40} {statistics.median(times):>10.2f} {p90:>8.2f} {times[0]:>8.2f}")
