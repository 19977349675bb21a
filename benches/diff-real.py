#!/usr/bin/env python3
"""`grade diff` on the three real pairs of Stripe releases (fixtures/diff/real/stripe, 1.2 to
1.7 MB each), side by side with `redocly diff` (Redocly CLI's experimental diff, the anchor
tool): whole-process wall time, CPU time (user + system) and peak memory (max RSS).

Usage: python3 benches/diff-real.py [N]   (default N=10 runs of grade, 3 of redocly)

Builds the release binary (`cargo build --release`). Redocly CLI comes from npm: the script
installs `@redocly/cli` into ~/.cache/grade-bench/redocly unless REDOCLY names an executable;
without npm (or with REDOCLY=none) only grade is measured. Targets (issue #16): under 300 ms
and 120 MiB per pair, and at least 20x less CPU than redocly diff. Not part of CI: the figures
go in the closing notes.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAIRS = os.path.join(ROOT, "fixtures", "diff", "real", "stripe")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10
REDOCLY_RUNS = 3


def redocly():
    exe = os.environ.get("REDOCLY")
    if exe == "none":
        return None
    if exe:
        return exe
    prefix = os.path.join(os.path.expanduser("~"), ".cache", "grade-bench", "redocly")
    exe = os.path.join(prefix, "node_modules", ".bin", "redocly")
    if not os.path.exists(exe):
        if not shutil.which("npm"):
            return None
        os.makedirs(prefix, exist_ok=True)
        r = subprocess.run(
            ["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund", "--silent", "@redocly/cli@2"],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            print(f"redocly not installed ({r.stderr.strip()[:200]}): measuring grade only")
            return None
    return exe


def run(argv, cwd):
    """Wall ms, CPU ms (user + sys) and max RSS (MiB) of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t) * 1000
    cpu = (usage.ru_utime + usage.ru_stime) * 1000
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(argv)}: exit {code}")
    return wall, cpu, usage.ru_maxrss / 1024


def measure(argv, n):
    runs = [run(argv, PAIRS) for _ in range(n)]
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        max(r[2] for r in runs),
    )


subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
grade = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "grade")
red = redocly()
pairs = [("2018-02-28", "2018-05-21"), ("2018-05-21", "2018-07-27"), ("2018-07-27", "2018-09-06")]
print(f"grade: median of {N} runs; redocly diff: median of {REDOCLY_RUNS} (text output, whole process)")
print(
    f"{'pair':<26} {'grade ms':>9} {'CPU ms':>7} {'MiB':>6} | {'redocly ms':>10} {'CPU ms':>7} {'MiB':>6} | {'CPU ratio':>9}"
)
for old, new in pairs:
    files = [f"{old}.json", f"{new}.json"]
    g = measure([grade, "diff", *files], N)
    line = f"{old + ' -> ' + new:<26} {g[0]:>9.1f} {g[1]:>7.1f} {g[2]:>6.1f} |"
    if red:
        r = measure([red, "diff", *files], REDOCLY_RUNS)
        line += f" {r[0]:>10.1f} {r[1]:>7.1f} {r[2]:>6.1f} | {r[1] / max(g[1], 0.1):>8.1f}x"
    else:
        line += f" {'-':>10} {'-':>7} {'-':>6} | {'-':>9}"
    print(line)
