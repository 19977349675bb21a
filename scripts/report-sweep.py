#!/usr/bin/env python3
"""Writes the JSON reports of a fixed set of gradings into OUTDIR, to prove that a refactoring
changes no report: run it before and after, then `diff -r BEFORE AFTER`.

The set: every reference and flawed submission under its built-in rubric (static only, so
no service starts), every check fixture under a rubric of its own check (static checks only),
and a sample of the shared corpus's OpenAPI documents (every 10th file of each folder, when
`../shared/corpus/openapi` exists) each graded as a one-service submission under a rubric of
every OAS check.

    python3 scripts/report-sweep.py OUTDIR [--grade target/debug/grade]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def grade(binary, args, out):
    proc = subprocess.run([binary, *args, "--quiet", "--json", str(out)], capture_output=True, text=True)
    if not out.exists():
        out.write_text(json.dumps({"exit": proc.returncode, "stderr": proc.stderr}, indent=1))


def rubric(checks, title):
    items = "\n".join(f'[[section.item]]\ncheck = "{c}"\nweight = 1\n' for c in checks)
    return (
        f'[rubric]\nid = "sweep"\ntitle = "{title}"\nversion = "1.0.0"\nthreshold = 50\n\n'
        f'[[section]]\nid = "all"\ntitle = "All"\n\n{items}'
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--grade", default=str(ROOT / "target/debug/grade"))
    a = ap.parse_args()
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    listing = json.loads(subprocess.run([a.grade, "checks", "--format", "json"], capture_output=True, text=True,
                                        check=True).stdout)
    checks = [(c["id"], c["area"], c["kind"]) for c in listing]
    n = 0
    for sub in sorted((ROOT / "fixtures/submissions").iterdir()):
        if sub.is_dir():
            phase = sub.name.split("-")[0]
            grade(a.grade, [phase, str(sub), "--static-only"], out / f"sub-{sub.name}.json")
            n += 1
    # A fixed work folder, so that the paths reports record are the same in every run.
    tmp = Path(tempfile.gettempdir()) / "grade-report-sweep"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for cid, area, kind in checks:
        if kind != "static":
            continue
        folder = ROOT / "fixtures/checks" / cid
        if not folder.is_dir():
            continue
        r = tmp / f"{cid}.toml"
        r.write_text(rubric([cid], cid))
        for case in sorted(folder.iterdir()):
            if case.is_dir():
                grade(a.grade, ["run", "--rubric", str(r), str(case)], out / f"fix-{cid}-{case.name}.json")
                n += 1
    corpus = ROOT.parent / "shared/corpus/openapi"
    if corpus.is_dir():
        oas = tmp / "oas.toml"
        oas.write_text(rubric([c for c, area, _ in checks if area == "OAS"], "OAS"))
        files = sorted(p for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
        for i, p in enumerate(files):
            if i % 10:
                continue
            s = tmp / "sub"
            shutil.rmtree(s, ignore_errors=True)
            s.mkdir()
            shutil.copy(p, s / ("openapi" + p.suffix))
            (s / "submission.toml").write_text(f'[[service]]\nname = "api"\nopenapi = "openapi{p.suffix}"\n')
            name = str(p.relative_to(corpus)).replace(os.sep, "__")
            grade(a.grade, ["run", "--rubric", str(oas), str(s)], out / f"oas-{name}.json")
            n += 1
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{n} reports in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
