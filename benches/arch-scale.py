#!/usr/bin/env python3
"""Architecture and event analysis at scale: a generated system of 200 services (20 bounded
contexts, a layered synchronous call DAG, one datastore each) with a 500-message AsyncAPI 2.6
catalog, graded with every ARCH, DATA, EVT and OPS check (release build, --timings).

Usage: python3 benches/arch-scale.py [SERVICES] [MESSAGES] [RUNS]   (defaults 200 500 20)
Prints the median load time (manifest + artifacts + model), the median time of the checks,
and the slowest checks. Target: the whole analysis under 50 ms. Not part of CI.
"""
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = int(sys.argv[1]) if len(sys.argv) > 1 else 200
MESSAGES = int(sys.argv[2]) if len(sys.argv) > 2 else 500
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
rng = random.Random(42)

out = tempfile.mkdtemp(prefix="grade-arch-scale-")
os.makedirs(os.path.join(out, "events"))
contexts = [f"context-{i:02}" for i in range(20)]
names = [f"svc-{i:03}" for i in range(SERVICES)]
events = [f"Thing{i:03}Happened" for i in range(MESSAGES)]
producer = {e: names[i % SERVICES] for i, e in enumerate(events)}

m = ['[submission]\ncheckpoint = "capstone"\n']
for i, c in enumerate(contexts):
    rel = contexts[(i + 1) % len(contexts)]
    m.append(f'[[context]]\nname = "{c}"\nrelations = [{{ with = "{rel}", kind = "customer-supplier" }}]\n')
for n in names:
    m.append(f'[[datastore]]\nname = "{n}-db"\nkind = "{rng.choice(["postgres", "mongodb", "redis", "cassandra"])}"\n')
for i, n in enumerate(names):
    layer = i * 4 // SERVICES  # four layers: calls go to the next layer only (depth <= 3)
    next_layer = [x for j, x in enumerate(names) if j * 4 // SERVICES == layer + 1]
    calls = sorted(set(rng.sample(next_layer, min(3, len(next_layer))))) if next_layer else []
    pubs = [e for e in events if producer[e] == n]
    cons = sorted(set(rng.sample(events, 3)) - set(pubs))
    role = '\nrole = "gateway"' if i == 0 else ""
    m.append(
        f'[[service]]\nname = "{n}"\ncontext = "{contexts[i % len(contexts)]}"{role}\nowner = "team-{i % 30}"\n'
        f'owns = ["{n}-db"]\ncalls = {json.dumps(calls)}\npublishes = {json.dumps(pubs)}\nconsumes = {json.dumps(cons)}\n'
        f'event_delivery = "outbox"\n'
    )
m.append('[events]\nasyncapi = "events/asyncapi.yaml"\n')
open(os.path.join(out, "submission.toml"), "w").write("\n".join(m))

a = ['asyncapi: "2.6.0"', "info:", "  title: Generated catalog", '  version: "1.0.0"', "channels:"]
for e in events:
    a += [
        f"  {e.lower()}:",
        "    publish:",
        "      message:",
        f"        name: {e}",
        "        headers:",
        "          type: object",
        "          properties:",
        "            eventId: {type: string}",
        "            schemaVersion: {type: string}",
        "        payload:",
        "          type: object",
        "          properties:",
        "            aggregateId: {type: string}",
        "            at: {type: string, format: date-time}",
        "        bindings:",
        "          kafka:",
        "            key: {type: string}",
    ]
open(os.path.join(out, "events", "asyncapi.yaml"), "w").write("\n".join(a) + "\n")

subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
exe = os.path.join(ROOT, "target", "release", "grade")
checks = json.loads(subprocess.run([exe, "checks", "--format", "json"], capture_output=True, text=True, check=True).stdout)
ids = [c["id"] for c in checks if c["area"] in ("ARCH", "DATA", "EVT", "OPS", "SUB")]
rubric = ['[rubric]\nid = "scale"\ntitle = "scale"\nversion = "1"\nthreshold = 0\n[[section]]\nid = "all"\ntitle = "all"\n']
rubric += [f'[[section.item]]\ncheck = "{i}"\nweight = 1\n' for i in ids]
rubric_path = os.path.join(out, "rubric.toml")
open(rubric_path, "w").write("\n".join(rubric))

loads, totals, per = [], [], {}
for _ in range(RUNS):
    r = subprocess.run([exe, "run", "--rubric", rubric_path, out, "--format", "json", "--timings"], capture_output=True, text=True)
    t = json.loads(r.stdout)["timing"]
    loads.append(t["load_ms"])
    totals.append(t["total_ms"])
    for it in t["items"]:
        per.setdefault(it["check"], []).append(it["ms"])
print(f"system: {SERVICES} services, {MESSAGES} messages, {len(ids)} checks, {RUNS} runs ({out})")
print(f"load (manifest, artifacts, model): median {statistics.median(loads):.2f} ms")
print(f"whole analysis (load + checks):    median {statistics.median(totals):.2f} ms, max {max(totals):.2f} ms")
slow = sorted(((statistics.median(v), k) for k, v in per.items()), reverse=True)[:5]
print("slowest checks (median ms): " + ", ".join(f"{k} {v:.2f}" for v, k in slow))
