#!/usr/bin/env python3
"""Batch grading at cohort scale: wall time and peak memory of `grade batch`.

Usage: python3 benches/batch-cohort.py [--sizes 50,200] [--jobs N] [--debug] [--keep]

Generates cohorts under /tmp (copies of fixtures/submissions/* with varied flaws: a missing
OpenAPI document, a spec that does not parse, a context removed from the manifest, a
synchronous cycle added, or none), grades each statically with `grade batch phase2` into a
fresh output folder, then once more to time a resume (nothing regraded). Prints wall time,
submissions per second and peak RSS (from /usr/bin/time -v: the batch process itself, and the
largest grading child) for each size. Builds the release binary first (or uses the debug one
with --debug). Not part of CI: figures go in the closing notes.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures", "submissions")


def flaw(dest, i):
    """Applies flaw number i % 5 to the submission copied at dest."""
    manifest = os.path.join(dest, "submission.toml")
    kind = i % 5
    specs = []
    for d, _, files in os.walk(os.path.join(dest, "services")):
        specs += [os.path.join(d, f) for f in files if f == "openapi.yaml"]
    specs.sort()
    if kind == 1 and specs:
        os.remove(specs[i % len(specs)])
    elif kind == 2 and specs:
        with open(specs[i % len(specs)], "a") as f:
            f.write("\n  broken: [unclosed\n")
    elif kind == 3 and os.path.exists(manifest):
        text = open(manifest).read()
        # Drop the first [[context]] block: fewer contexts, a service without one.
        text = re.sub(r"\[\[context\]\]\n(?:(?!\n\[).*\n)*", "", text, count=1)
        open(manifest, "w").write(text)
    elif kind == 4 and os.path.exists(manifest):
        with open(manifest, "a") as f:
            f.write(f"\n# variant {i}\n")


def make_cohort(path, n):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    bases = sorted(d for d in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, d)))
    for i in range(n):
        dest = os.path.join(path, f"learner-{i:04d}")
        shutil.copytree(os.path.join(FIXTURES, bases[i % len(bases)]), dest)
        flaw(dest, i)


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak RSS of the batch process in KiB)."""
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t
    if r.returncode not in (0, 3):
        sys.exit(f"exit {r.returncode}:\n{r.stderr[-3000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return took, int(m.group(1)) if m else -1, r.stdout


def child_peak(exe, sub):
    r = subprocess.run(["/usr/bin/time", "-v", exe, "phase2", sub, "--static-only", "--quiet", "--report-dir",
                        "/tmp/grade-bench-one"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return int(m.group(1)) if m else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50,200")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not os.path.exists("/usr/bin/time"):
        sys.exit("needs /usr/bin/time (apt-get install -y time)")
    profile = "debug" if a.debug else "release"
    if not a.debug:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", profile, "grade")
    print(f"grade batch phase2 --static-only --jobs {a.jobs} ({profile} build, {os.cpu_count()} CPUs)")
    print(f"{'submissions':>11} {'first run s':>12} {'per s':>7} {'resume s':>9} {'batch RSS MiB':>14}")
    for n in [int(x) for x in a.sizes.split(",")]:
        cohort = f"/tmp/grade-bench-cohort-{n}"
        out = f"/tmp/grade-bench-out-{n}"
        make_cohort(cohort, n)
        shutil.rmtree(out, ignore_errors=True)
        cmd = [exe, "batch", "phase2", cohort, "--out", out, "--static-only", "--jobs", str(a.jobs)]
        took, rss, _ = timed(cmd)
        again, _, stdout = timed(cmd)
        if f"0 graded, {n} unchanged" not in stdout and "0 graded" not in stdout:
            print(f"  warning: resume regraded something: {stdout.strip()}")
        print(f"{n:>11} {took:>12.2f} {n / took:>7.1f} {again:>9.2f} {rss / 1024:>14.1f}")
        if not a.keep:
            shutil.rmtree(cohort, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
    biggest = os.path.join(FIXTURES, "capstone-flawed")
    print(f"peak RSS of one grading child (capstone-flawed, all formats): {child_peak(exe, biggest) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
