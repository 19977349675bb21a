#!/usr/bin/env python3
"""Scaffolds a new check, as docs/adding-a-check.md describes:

    python3 scripts/new-check.py AREA NAME [--params] [--root DIR]

AREA is an area prefix (SUB, OAS, EVO, CTR, ARCH, DATA, EVT, OPS, PRB; any case), NAME the
check's kebab-case name, after the problem it finds (`sync-call-cycle`). The script

- picks the next free id of the area (one above the highest id in the area's sources and in
  fixtures/checks/, so that a retired id is not reused);
- writes src/checks/<area>/<name_with_underscores>.rs: the DOCS headings to fill in, `NoParams`
  (or, with --params, a `Params` struct with one documented example parameter), and a
  `TypedCheck` whose `run` fails with "not implemented yet", so that a scaffolded check never
  passes (an OAS check also gets an empty `evaluate` over one description, its `OAS_RULE`);
- adds `pub mod <name>;` and the `CHECKS` line to src/checks/<area>/mod.rs;
- creates fixtures/checks/<ID>/pass/ and fixtures/checks/<ID>/fail/ with a skeleton
  submission.toml each.

It refuses an unknown area, a name that is not kebab-case or is taken, and existing files.
"""

import argparse
import re
import sys
from pathlib import Path

AREAS = ["SUB", "OAS", "EVO", "CTR", "ARCH", "DATA", "EVT", "OPS", "PRB"]
AREA_ENUM = {a: a.capitalize() for a in AREAS}
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ID_RE = re.compile(r'\bid: "([A-Z]+)(\d{3})"')

DOCS = '''const DOCS: &str = r#"## What it checks
TODO: what the check looks at, when it passes, and how partial credit is counted.

## Why it matters
TODO (Week N: the curriculum topic): why the problem matters, citing the curriculum week.

## How to fix
TODO: what the learner changes.

## Example
```toml
# TODO: a small example of the fix
```
"#;
'''

PARAMS = '''#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// TODO: rename or replace this example parameter (and its `ParamDoc`).
    pub max: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { max: 1 }
    }
}

'''

PARAM_DOCS = '''&[ParamDoc {
            name: "max",
            ty: "integer",
            description: "TODO: what the parameter sets",
        }]'''

TEMPLATE = '''{imports}
pub struct {camel};

{docs}
{params}impl TypedCheck for {camel} {{
    type Params = {ptype};
    const INFO: CheckInfo = CheckInfo {{
        id: "{id}",
        name: "{name}",
        area: Area::{area},
        kind: Kind::{kind},
        summary: "TODO: one line saying what is wrong when it fails",
        docs: DOCS,
        params: {param_docs},
    }};
{oas_rule}
    fn run(_ctx: &Ctx<'_>, _params: &{ptype}) -> CheckResult {{
        // TODO: judge the submission. Return `CheckResult::absent(..)` when what the check
        // judges is not in the submission, and `passed`, `failed(findings)` or
        // `ratio(good, total, findings)` otherwise (see docs/adding-a-check.md).{oas_hint}
        CheckResult::failed_because("{id} {name} is not implemented yet")
    }}
}}
{evaluate}'''

OAS_RULE = '''    const OAS_RULE: Option<OasRule<Self::Params>> = Some(evaluate);
'''

OAS_HINT = '''
        // With `evaluate` written, grade every document of the submission with it:
        // `match check_apis(_ctx, |api, t| evaluate(api, _params, t)) {
        //     Ok(t) => t.finish("<units> that comply", "<no unit to judge>"),
        //     Err(r) => r,
        // }`'''

EVALUATE = '''
/// The rule over one OpenAPI description: `t.unit(ok)` per unit judged, `t.issue(..)` per
/// problem (the corpus test runs it over real documents).
pub fn evaluate(_api: &Api<'_>, _params: &{ptype}, _t: &mut Tally) {{}}
'''

SUBMISSION = '''# {id} {name}: TODO: a small submission on which the check {verb}.
[submission]
checkpoint = "phase1"
'''


def fail(msg):
    print(f"new-check: {msg}", file=sys.stderr)
    sys.exit(2)


def next_id(root, area):
    numbers = [0]
    for f in (root / "src/checks" / area.lower()).glob("*.rs"):
        for prefix, digits in ID_RE.findall(f.read_text(encoding="utf-8")):
            if prefix == area:
                numbers.append(int(digits))
    fixtures = root / "fixtures/checks"
    if fixtures.is_dir():
        for d in fixtures.iterdir():
            m = re.fullmatch(rf"{area}(\d{{3}})", d.name)
            if m:
                numbers.append(int(m.group(1)))
    n = max(numbers) + 1
    if n > 999:
        fail(f"no free id left in {area}")
    return f"{area}{n:03d}"


def taken_names(root):
    names = set()
    for f in (root / "src/checks").glob("*/*.rs"):
        names.update(re.findall(r'^\s*name: "([a-z0-9-]+)",\s*$', f.read_text(encoding="utf-8"), re.M))
    return names


def add_to_mod(mod_rs, module, camel):
    text = mod_rs.read_text(encoding="utf-8")
    lines = text.split("\n")
    mods = [i for i, l in enumerate(lines) if re.fullmatch(r"pub mod [a-z0-9_]+;", l)]
    if not mods:
        fail(f"{mod_rs}: no `pub mod` lines")
    at = next((i for i in mods if lines[i] > f"pub mod {module};"), mods[-1] + 1)
    lines.insert(at, f"pub mod {module};")
    text = "\n".join(lines)
    start = text.find("pub static CHECKS: &[&dyn Check] = &[")
    end = text.find("\n];", start)
    if start < 0 or end < 0:
        fail(f"{mod_rs}: no `pub static CHECKS: &[&dyn Check] = &[ ... ];` list")
    entry = f"\n    &Typed::<{module}::{camel}>::new(),"
    return text[:end] + entry + text[end:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("area", help="area prefix: " + ", ".join(AREAS))
    ap.add_argument("name", help="kebab-case name of the problem the check finds")
    ap.add_argument("--params", action="store_true", help="a Params struct instead of NoParams")
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="crate folder")
    a = ap.parse_args()
    root = Path(a.root)
    area = a.area.upper()
    if area not in AREAS:
        fail(f"unknown area `{a.area}`; one of {', '.join(AREAS)}")
    if not NAME_RE.match(a.name):
        fail(f"`{a.name}` is not kebab-case (e.g. `sync-call-cycle`)")
    if a.name in taken_names(root):
        fail(f"a check is already named `{a.name}`")
    module = a.name.replace("-", "_")
    camel = "".join(w.capitalize() for w in a.name.split("-"))
    area_dir = root / "src/checks" / area.lower()
    source = area_dir / f"{module}.rs"
    mod_rs = area_dir / "mod.rs"
    if source.exists():
        fail(f"{source} exists")
    check_id = next_id(root, area)
    fixture = root / "fixtures/checks" / check_id

    oas = area == "OAS"
    ptype = "Params" if a.params else "NoParams"
    names = ["Area", "CheckInfo", "CheckResult", "Ctx", "Kind"]
    names += ["ParamDoc"] if a.params else ["NoParams"]
    imports = []
    if a.params:
        imports += ["use serde::{Deserialize, Serialize};", ""]
    if oas:
        imports.append("use super::walk::{Api, Tally};")
    if oas:
        imports.append("use crate::checks::oas::OasRule;")
    imports.append(f"use crate::checks::{{{', '.join(names + ['TypedCheck'])}}};")
    code = TEMPLATE.format(
        imports="\n".join(imports) + "\n",
        camel=camel,
        docs=DOCS,
        params=PARAMS if a.params else "",
        ptype=ptype,
        id=check_id,
        name=a.name,
        area=AREA_ENUM[area],
        kind="Probe" if area == "PRB" else "Static",
        param_docs=PARAM_DOCS if a.params else "&[]",
        oas_rule=OAS_RULE if oas else "",
        oas_hint=OAS_HINT if oas else "",
        evaluate=EVALUATE.format(ptype=ptype) if oas else "",
    )
    new_mod = add_to_mod(mod_rs, module, camel)

    source.write_text(code, encoding="utf-8")
    mod_rs.write_text(new_mod, encoding="utf-8")
    for case, verb in [("pass", "passes"), ("fail", "fails")]:
        d = fixture / case
        d.mkdir(parents=True, exist_ok=True)
        (d / "submission.toml").write_text(SUBMISSION.format(id=check_id, name=a.name, verb=verb), encoding="utf-8")
    rel = lambda p: p.relative_to(root)
    print(f"{check_id} {a.name}:")
    print(f"  wrote {rel(source)}, added it to {rel(mod_rs)}")
    print(f"  wrote {rel(fixture / 'pass')}/ and {rel(fixture / 'fail')}/ (skeleton submissions)")
    print("next: fill in the TODOs, the fixtures, then the snapshots, rubrics and README (docs/adding-a-check.md)")


if __name__ == "__main__":
    main()
