#!/usr/bin/env python3
"""OpenAPI analysis of the largest real specs in ../shared/corpus: each spec is copied into a
temporary one-service submission and graded with every OAS check (release build, --timings).
Prints, per spec, the median whole-process wall time, the median in-process time (load +
checks, from --timings) split into loading and rules, the least user+system CPU time over the
runs and the largest peak RSS (/usr/bin/time -v when available; the least CPU is the figure least
disturbed by other work on a shared machine). Targets (issue 3): under 150 ms CPU and 100 MiB
per spec.

Usage: python3 benches/oas-large.py [RUNS]   (default 5). Not part of CI.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus", "openapi")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
SPECS = ["large/stripe-spec3-e0123a38.json", "large/openai-f85dbe22.yaml", "oas30/vacuum-api.github.com.yaml"]

if not os.path.isdir(CORPUS):
    sys.exit(f"skipped: {CORPUS} not found")
subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
exe = os.path.join(ROOT, "target", "release", "grade")
checks = json.loads(subprocess.run([exe, "checks", "--format", "json"], capture_output=True, text=True, check=True).stdout)
oas = [c["id"] for c in checks if c["area"] == "OAS"]
work = tempfile.mkdtemp(prefix="grade-oas-large-")
rubric = os.path.join(work, "oas.toml")
with open(rubric, "w") as f:
    f.write('[rubric]\nid = "oas"\ntitle = "oas"\nversion = "1"\nthreshold = 0\n[[section]]\nid = "oas"\ntitle = "oas"\n')
    for c in oas:
        f.write(f'[[section.item]]\ncheck = "{c}"\nweight = 1\n')
has_time = os.path.exists("/usr/bin/time")
print(f"{len(oas)} OAS checks, {RUNS} runs each")
print(f"{'spec':<40} {'MB':>5} {'wall ms':>8} {'in-proc ms':>10} {'load ms':>8} {'rules ms':>8} {'cpu ms':>7} {'peak MiB':>8}")

def bench(spec):
    src = os.path.join(CORPUS, spec)
    sub = os.path.join(work, os.path.basename(spec).split(".")[0])
    os.makedirs(sub, exist_ok=True)
    name = "openapi" + os.path.splitext(spec)[1]
    shutil.copy(src, os.path.join(sub, name))
    with open(os.path.join(sub, "submission.toml"), "w") as f:
        f.write(f'[[service]]\nname = "api"\nopenapi = "{name}"\n')
    walls, inproc, loads = [], [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        r = subprocess.run([exe, "run", "--rubric", rubric, sub, "--format", "json", "--timings"], capture_output=True, text=True)
        walls.append((time.perf_counter() - t) * 1000)
        timing = json.loads(r.stdout)["timing"]
        inproc.append(timing["total_ms"])
        loads.append(timing["load_ms"])
    cpu = rss = float("nan")
    if has_time:
        cpus, rsss = [], []
        for _ in range(RUNS):
            r = subprocess.run(["/usr/bin/time", "-v", exe, "run", "--rubric", rubric, sub, "--format", "json"], capture_output=True, text=True)
            user = float(re.search(r"User time \(seconds\): ([\d.]+)", r.stderr).group(1))
            system = float(re.search(r"System time \(seconds\): ([\d.]+)", r.stderr).group(1))
            cpus.append((user + system) * 1000)
            rsss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024)
        cpu, rss = min(cpus), max(rsss)
    mb = os.path.getsize(src) / 1e6
    total, load = statistics.median(inproc), statistics.median(loads)
    print(f"{spec:<40} {mb:>5.1f} {statistics.median(walls):>8.1f} {total:>10.1f} {load:>8.1f} {total - load:>8.1f} {cpu:>7.0f} {rss:>8.1f}")


try:
    for spec in SPECS:
        bench(spec)
finally:
    shutil.rmtree(work, ignore_errors=True)
