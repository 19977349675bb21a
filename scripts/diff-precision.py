#!/usr/bin/env python3
"""Compare `grade diff --format json` with a hand-checked expected-changes file and print
precision and recall per class and per kind.

    scripts/diff-precision.py EXPECTED.json GOT.json [--list]

A reported change and an expected one match when they are at the same place and of the same
class. The place is the pair of JSON pointers (old side, new side; an addition's old pointer
is where it was added, a removal's new pointer where it was removed from) with trailing
keywords (`/type`, `/enum`, `/maxLength`, `/properties`, ...) dropped, so `.../status` and
`.../status/enum` are one place. `--list` prints every unmatched change on either side.
"""
import collections
import json
import sys

KEYWORDS = {"type", "enum", "required", "properties", "maxLength", "minLength", "maximum",
            "minimum", "exclusiveMaximum", "exclusiveMinimum", "maxItems", "minItems",
            "format", "pattern", "nullable", "operationId", "default", "multipleOf",
            "additionalProperties", "parameters", "requestBody", "style", "explode"}


def strip(p):
    while p:
        head, _, last = p.rpartition("/")
        if last in KEYWORDS:
            p = head
        elif last.isdigit() and head.rpartition("/")[2] in ("anyOf", "oneOf", "allOf"):
            p = head.rpartition("/")[0]  # a variant counts as its composition's place
        else:
            break
    return p


def place(old, new):
    return (strip(old or ""), strip(new or ""))


def main():
    exp = json.load(open(sys.argv[1]))
    exp = exp["changes"] if isinstance(exp, dict) else exp
    got = json.load(open(sys.argv[2]))["changes"]
    listing = "--list" in sys.argv
    cls = lambda c: c.get("class") or ("breaking" if c["breaking"] else "compatible")
    ptr = lambda s: s and s.get("pointer") if isinstance(s, dict) else s
    E = collections.defaultdict(list)
    for e in exp:
        E[(place(e["old"], e["new"]), e["class"])].append(e)
    G = collections.defaultdict(list)
    for g in got:
        G[(place(ptr(g["old"]), ptr(g["new"])), cls(g))].append(g)
    ops_right = ops_total = 0
    for key, gs in G.items():
        if key in E:
            want = sorted(e["operations"] for e in E[key])
            for g in gs:
                ops_total += 1
                if len(g["operations"]) in want:
                    ops_right += 1
                elif listing:
                    print("OPERATIONS DIFFER", g["kind"], "|", g["message"][:100], "|",
                          len(g["operations"]), "reported,", want, "expected")
    tp_by = collections.Counter()
    n_by = collections.Counter()
    for key, gs in G.items():
        for g in gs:
            n_by[(cls(g), g["kind"])] += 1
            if key in E:
                tp_by[(cls(g), g["kind"])] += 1
            elif listing:
                print("REPORTED, NOT EXPECTED", cls(g), g["kind"], "|", g["message"][:140],
                      "|", key[0], "->", key[1])
    found = collections.Counter()
    total = collections.Counter()
    for key, es in E.items():
        for e in es:
            total[(e["class"], e["what"])] += 1
            if key in G:
                found[(e["class"], e["what"])] += 1
            elif listing:
                print("EXPECTED, NOT REPORTED", e["class"], e["what"], "|", e["reason"][:140],
                      "|", key[0], "->", key[1])
    print(f"{'class':18} {'reported':>8} {'right':>6} {'precision':>9} {'expected':>8} "
          f"{'found':>6} {'recall':>7}")
    for c in ("breaking", "possibly-breaking", "compatible"):
        n = sum(v for k, v in n_by.items() if k[0] == c)
        tp = sum(v for k, v in tp_by.items() if k[0] == c)
        t = sum(v for k, v in total.items() if k[0] == c)
        f = sum(v for k, v in found.items() if k[0] == c)
        pr = f"{100 * tp / n:.1f}%" if n else "-"
        rc = f"{100 * f / t:.1f}%" if t else "-"
        print(f"{c:18} {n:8} {tp:6} {pr:>9} {t:8} {f:6} {rc:>7}")
    if ops_total:
        print(f"operations right in {ops_right}/{ops_total} matched changes "
              f"({100 * ops_right / ops_total:.1f}%)")
    print("\nprecision per reported kind")
    for k in sorted(n_by):
        print(f"  {k[0]:18} {k[1]:40} {tp_by[k]:5}/{n_by[k]:<5}")
    print("recall per expected change")
    for k in sorted(total):
        print(f"  {k[0]:18} {k[1]:40} {found[k]:5}/{total[k]:<5}")


main()
