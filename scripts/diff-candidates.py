#!/usr/bin/env python3
"""List candidate API changes between two OpenAPI 3.0 JSON documents, independently of
`grade diff`, as a starting point for a hand-checked expected-changes file.

    scripts/diff-candidates.py OLD.json NEW.json > candidates.json

This is deliberately a separate, simple implementation (it shares no code with src/evo): it
walks both trees, follows `$ref`s to components (each pair of schemas and direction once),
matches paths by template, operations by method, parameters by location and name, responses
by status, media types exactly, properties by name and anyOf/oneOf variants by the component
they refer to (inline ones by type), and proposes, for every difference, a class under the
rules of docs/diff.md ("Expected changes" in fixtures/diff/real/README.md): breaking,
possibly-breaking or compatible, with a one-line reason. Reading the two documents decides;
the output is reviewed and corrected by hand before it becomes `expected.json`.

Output: a JSON array of {what, class, dir, old, new, reason}, where old/new are JSON pointers
(an addition's old pointer is the place it was added to; a removal's new pointer the place it
was removed from).
"""

import json
import re
import sys

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NUMERIC = ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "maxLength",
           "minLength", "maxItems", "minItems", "maxProperties", "minProperties", "multipleOf")
UPPER = {"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"}


def esc(k):
    return str(k).replace("~", "~0").replace("/", "~1")


class Differ:
    def __init__(self, old, new):
        self.docs = {"old": old, "new": new}
        self.out = []
        self.seen = set()
        # Attribution: the walk is a graph of comparisons (a pair of schemas and a direction)
        # whose roots are operations; a change belongs to every operation from which the walk
        # reaches the comparison it was found in, along aligned places on both sides.
        self.stack = []  # comparisons (or the operation) being walked
        self.edges = {}  # comparison -> the comparisons and operations that reach it
        self.op = None

    def emit(self, what, cls, d, old, new, reason):
        self.out.append({"what": what, "class": cls, "dir": d, "old": old, "new": new,
                         "reason": reason,
                         "_at": self.stack[-1] if self.stack else ("op", self.op)})

    def deref(self, side, node, ptr):
        hops = 0
        while isinstance(node, dict) and "$ref" in node and hops < 50:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            ptr = ref[1:]
            node = self.docs[side]
            for part in ptr.split("/")[1:]:
                node = node[part.replace("~1", "/").replace("~0", "~")]
            hops += 1
        return node, ptr

    # ------------------------------------------------------------------ schemas

    @staticmethod
    def types(s):
        if not isinstance(s, dict):
            return None
        t = s.get("type")
        if t is None:
            if "properties" in s or "additionalProperties" in s:
                t = ["object"]
            elif "items" in s:
                t = ["array"]
            else:
                return None  # anything
        ts = set(t if isinstance(t, list) else [t])
        if s.get("nullable"):
            ts.add("null")
        return ts

    @staticmethod
    def accepts(ts_outer, ts_inner):
        """Does a type set accept every value of another?"""
        if ts_outer is None:
            return True
        if ts_inner is None:
            return False
        inner = set(ts_inner)
        if "number" in ts_outer:
            inner.discard("integer")
        return inner <= ts_outer

    @staticmethod
    def bare(v):
        """A schema's keys that say what it accepts (not descriptions or extensions)."""
        return {k for k in v if k not in ("description", "title") and not k.startswith("x-")}

    def variants(self, s):
        for k in ("anyOf", "oneOf"):
            if isinstance(s, dict) and isinstance(s.get(k), list):
                out = []
                for v in s[k]:  # an anyOf nested directly in an anyOf is the same union
                    if k == "anyOf" and isinstance(v, dict) and self.bare(v) == {"anyOf"}:
                        out.extend(v["anyOf"])
                    else:
                        out.append(v)
                return k, out
        return None, None

    def fold(self, s):
        """A union of plain strings that differ only in length bounds accepts what one string
        with the widest bounds accepts (`anyOf: [{maxLength: 500}, {maxLength: 5000}]`)."""
        k, vs = self.variants(s)
        if vs is None or not vs or any(not isinstance(v, dict) or "$ref" in v for v in vs):
            return s
        if any(v.get("type") != "string" or self.bare(v) - {"type", "maxLength", "minLength"}
               for v in vs):
            return s
        out = {"type": "string"}
        maxes = [v.get("maxLength") for v in vs]
        if None not in maxes:
            out["maxLength"] = max(maxes)
        mins = [v.get("minLength", 0) for v in vs]
        if min(mins) > 0:
            out["minLength"] = min(mins)
        return out

    def variant_key(self, v):
        if isinstance(v, dict) and "$ref" in v:
            return "ref:" + v["$ref"].rsplit("/", 1)[-1]
        return None

    def schema(self, a, pa, b, pb, d, name):
        self.orig = (a, b)  # the nodes as written, `$ref`s and all, for matching variants
        a, pa = self.deref("old", a, pa)
        b, pb = self.deref("new", b, pb)
        if pb.startswith("/components/schemas/") and pb.count("/") == 3:
            name = pb.rsplit("/", 1)[-1]  # changes inside a component are named from it
        key = (pa, pb, d)
        self.edges.setdefault(key, set()).add(self.stack[-1] if self.stack else ("op", self.op))
        if key in self.seen:
            return
        self.seen.add(key)
        if not isinstance(a, dict) or not isinstance(b, dict):
            return
        self.stack.append(key)
        try:
            self.schema_inner(a, pa, b, pb, d, name)
        finally:
            self.stack.pop()

    def schema_inner(self, a, pa, b, pb, d, name):
        a, b = self.fold(a), self.fold(b)
        ka, va = self.variants(a)
        kb, vb = self.variants(b)
        if va is not None or vb is not None:
            return self.composition(a, pa, ka, va, b, pb, kb, vb, d, name)
        self.plain(a, pa, b, pb, d, name)

    def match_variants(self, va, vb):
        pairs, used = [], set()
        for i, x in enumerate(va):
            k = self.variant_key(x)
            j = next((j for j, y in enumerate(vb) if j not in used and k is not None
                      and self.variant_key(y) == k), None)
            if j is None and k is None:
                tx = self.types(x)
                j = next((j for j, y in enumerate(vb) if j not in used
                          and self.variant_key(y) is None and self.types(y) == tx), None)
            if j is not None:
                used.add(j)
            pairs.append((i, j))
        # what is left: a variant whose schema was replaced by a renamed, similar one
        # (`deleted_object` -> `deleted_customer`) is the same variant if they share at least
        # half of the smaller one's properties
        def props(side, v):
            t = self.deref(side, v, "")[0]
            return set((t.get("properties") or {}) if isinstance(t, dict) else {})
        left = [(i, props("old", va[i])) for i, j in pairs if j is None]
        cands = []
        for i, pi in left:
            for j in range(len(vb)):
                if j in used:
                    continue
                pj = props("new", vb[j])
                if pi and pj:
                    overlap = len(pi & pj) / min(len(pi), len(pj))
                    if overlap >= 0.5:
                        cands.append((-overlap, i, j))
        taken = set()
        for _, i, j in sorted(cands):
            if i not in taken and j not in used:
                taken.add(i)
                used.add(j)
                pairs[i] = (i, j)
        added = [j for j in range(len(vb)) if j not in used]
        return pairs, added

    def composition(self, a, pa, ka, va, b, pb, kb, vb, d, name):
        reading = d == "response"
        if bool(a.get("nullable")) != bool(b.get("nullable")):  # null on one side only
            wider = bool(b.get("nullable"))
            self.emit("type-" + ("widened" if wider else "narrowed"),
                      ("breaking" if reading else "compatible") if wider else
                      ("compatible" if reading else "breaking"), d, pa, pb,
                      f"{name}: " + ("now nullable" if wider else "no longer nullable"))
        if va is not None and vb is not None:
            # a variant that accepts every object (or string...) makes the other variants of
            # that type irrelevant to what the union accepts
            def open_types(vs, side, ptr):
                return {t for v in vs for t in [self.deref(side, v, ptr)[0]]
                        if isinstance(t, dict) and self.bare(t) == {"type"}
                        and isinstance(t["type"], str) for t in [t["type"]]}
            oa, ob = open_types(va, "old", pa), open_types(vb, "new", pb)
            pairs, added = self.match_variants(va, vb)
            for i, j in pairs:
                if j is None:
                    continue
                ta = self.types(self.deref("old", va[i], pa)[0]) or set()
                tb = self.types(self.deref("new", vb[j], pb)[0]) or set()
                if self.bare(self.deref("old", va[i], pa)[0]) != {"type"} and ta & oa and tb & ob:
                    self.seen.add(("skip", i, j, pa, pb))
            pairs = [(i, j) for i, j in pairs
                     if j is None or ("skip", i, j, pa, pb) not in self.seen]
            for i, j in pairs:
                if j is None:
                    self.emit("variant-removed", "compatible" if reading else "breaking", d,
                              f"{pa}/{ka}/{i}", f"{pb}/{kb}",
                              f"{name}: a variant is no longer "
                              + ("returned" if reading else "accepted"))
                else:
                    self.schema(va[i], f"{pa}/{ka}/{i}", vb[j], f"{pb}/{kb}/{j}", d, name)
            for j in added:
                self.emit("variant-added", "breaking" if reading else "compatible", d,
                          f"{pa}/{ka}", f"{pb}/{kb}/{j}",
                          f"{name}: a new variant may be " + ("returned" if reading else "sent"))
            return
        a0, b0 = self.orig
        if vb is not None:  # plain -> composition: the old schema moved into a variant
            pairs, added = self.match_variants([a0], vb)
            j = pairs[0][1]
            if j is None:
                j = next((j for j, y in enumerate(vb)
                          if self.accepts(self.types(self.deref("new", y, pb)[0]),
                                          self.types(a))), None)
            if j is None:
                self.emit("type-changed", "breaking", d, pa, pb,
                          f"{name}: schema replaced by a {kb} none of whose variants matches")
                return
            self.schema(a, pa, vb[j], f"{pb}/{kb}/{j}", d, name)
            for k in range(len(vb)):
                if k != j:
                    self.emit("variant-added", "breaking" if reading else "compatible", d, pa,
                              f"{pb}/{kb}/{k}", f"{name}: now also a {kb} variant: wider")
            return
        # composition -> plain
        pairs, _ = self.match_variants(va, [b0])
        i = next((i for i, j in pairs if j is not None), None)
        if i is None:
            i = next((i for i, x in enumerate(va)
                      if self.accepts(self.types(b),
                                      self.types(self.deref("old", x, pa)[0]))), None)
        if i is None:
            self.emit("type-changed", "breaking", d, pa, pb,
                      f"{name}: {ka} replaced by a schema matching none of its variants")
            return
        self.schema(va[i], f"{pa}/{ka}/{i}", b, pb, d, name)
        for k in range(len(va)):
            if k != i:
                self.emit("variant-removed", "compatible" if reading else "breaking", d,
                          f"{pa}/{ka}/{k}", pb, f"{name}: {ka} variant no longer "
                          + ("returned" if reading else "accepted"))

    def plain(self, a, pa, b, pb, d, name):
        reading = d == "response"
        ta, tb = self.types(a), self.types(b)
        if ta != tb:
            wider = self.accepts(tb, ta)
            narrower = self.accepts(ta, tb)
            if wider and not narrower:
                cls, how = ("breaking" if reading else "compatible"), "widened"
            elif narrower and not wider:
                cls, how = ("compatible" if reading else "breaking"), "narrowed"
            else:
                cls, how = "breaking", "changed"
            self.emit("type-" + how, cls, d, pa, pb,
                      f"{name}: type {sorted(ta or ['any'])} -> {sorted(tb or ['any'])}")
        self.constraints(a, pa, b, pb, d, name)
        # enum values (both sides have an enum)
        ea, eb = a.get("enum"), b.get("enum")
        if isinstance(ea, list) and isinstance(eb, list):
            sa, sb = {json.dumps(x) for x in ea}, {json.dumps(x) for x in eb}
            if sb - sa:
                self.emit("enum-value-added", "breaking" if reading else "compatible", d,
                          pa + "/enum", pb + "/enum",
                          f"{name}: enum values {sorted(sb - sa)} added")
            if sa - sb:
                self.emit("enum-value-removed", "compatible" if reading else "breaking", d,
                          pa + "/enum", pb + "/enum",
                          f"{name}: enum values {sorted(sa - sb)} removed")
        # properties
        pa_props, pb_props = a.get("properties") or {}, b.get("properties") or {}
        ra, rb = set(a.get("required") or []), set(b.get("required") or [])
        for p in sorted(set(pa_props) | set(pb_props)):
            sub = f"{name}.{p}" if name else p
            if p not in pb_props:
                if reading:
                    cls = "breaking" if p in ra else "possibly-breaking"
                    why = ("was required: clients rely on it" if p in ra else
                           "was optional: correct clients survive, real ones often rely on it")
                else:
                    cls, why = "breaking", "clients still send it"
                self.emit("property-removed", cls, d, f"{pa}/properties/{esc(p)}",
                          f"{pb}/properties", f"{sub} removed: {why}")
            elif p not in pa_props:
                if reading:
                    cls, why = "compatible", "tolerant readers ignore it"
                elif p in rb:
                    cls, why = "breaking", "required: existing requests lack it"
                else:
                    cls, why = "compatible", "optional"
                self.emit("property-added", cls, d, f"{pa}/properties",
                          f"{pb}/properties/{esc(p)}", f"{sub} added: {why}")
            else:
                if p in ra and p not in rb:
                    self.emit("property-became-optional",
                              "breaking" if reading else "compatible", d,
                              f"{pa}/required", f"{pb}/properties/{esc(p)}",
                              f"{sub} no longer required")
                elif p in rb and p not in ra:
                    self.emit("property-became-required",
                              "compatible" if reading else "breaking", d,
                              f"{pa}/properties/{esc(p)}", f"{pb}/required",
                              f"{sub} now required")
                self.schema(pa_props[p], f"{pa}/properties/{esc(p)}", pb_props[p],
                            f"{pb}/properties/{esc(p)}", d, sub)
        if isinstance(a.get("items"), dict) and isinstance(b.get("items"), dict):
            self.schema(a["items"], pa + "/items", b["items"], pb + "/items", d, name + "[]")
        aa, ab = a.get("additionalProperties"), b.get("additionalProperties")
        if isinstance(aa, dict) and isinstance(ab, dict):
            self.schema(aa, pa + "/additionalProperties", ab, pb + "/additionalProperties", d,
                        name + "{}")

    def constraints(self, a, pa, b, pb, d, name):
        """Bounds, enum presence, format and pattern judged together: does the accepted set
        shrink, grow, both, or is it unknowable?"""
        reading = d == "response"
        narrower = wider = unknown = False
        notes = []
        for k in NUMERIC:
            x, y = a.get(k), b.get(k)
            if x == y:
                continue
            notes.append(f"{k} {x} -> {y}")
            if x is None:
                narrower = True
            elif y is None:
                wider = True
            elif (y < x) == (k in UPPER):
                narrower = True
            else:
                wider = True
        ea, eb = a.get("enum"), b.get("enum")
        if (ea is None) != (eb is None):
            notes.append("enum " + ("added" if eb is not None else "removed"))
            if eb is not None:
                # an enum whose values all met the old bounds: the set is now those values
                narrower, wider = True, False
            else:
                wider = True
        for k in ("format", "pattern"):
            x, y = a.get(k), b.get(k)
            if x == y:
                continue
            notes.append(f"{k} {x} -> {y}")
            if x is None:
                narrower = True if k == "pattern" else narrower
                unknown = unknown or k == "format"
            elif y is None:
                wider = True if k == "pattern" else wider
                unknown = unknown or k == "format"
            else:
                unknown = True
        if not notes:
            return
        if unknown and not (narrower or wider):
            cls = "possibly-breaking"
            if reading and a.get("format") is None:
                cls = "compatible"  # a format added to a response documents a subset
            if not reading and b.get("format") is None:
                cls = "compatible"
            how = "format"
        elif narrower and wider:
            cls, how = "breaking", "changed"
        elif narrower:
            cls, how = ("compatible" if reading else "breaking"), "tightened"
        else:
            cls, how = ("breaking" if reading else "compatible"), "relaxed"
        self.emit("constraint-" + how, cls, d, pa, pb, f"{name}: " + ", ".join(notes))

    # ------------------------------------------------------------------ operations

    def security(self, doc, op):
        s = op.get("security", doc.get("security"))
        return None if s is None else [sorted(r) for r in s]

    def run(self):
        old, new = self.docs["old"], self.docs["new"]
        if old.get("info", {}).get("version") != new.get("info", {}).get("version"):
            self.emit("info-version-changed", "compatible", "doc", "/info/version",
                      "/info/version", "not an API change")
        norm = lambda p: re.sub(r"\{[^}]*\}", "{}", p)
        po = {norm(p): p for p in old.get("paths", {})}
        pn = {norm(p): p for p in new.get("paths", {})}
        for k in sorted(set(po) | set(pn)):
            if k not in pn:
                self.emit("path-removed", "breaking", "doc", "/paths/" + esc(po[k]), "/paths",
                          po[k])
                continue
            if k not in po:
                self.emit("path-added", "compatible", "doc", "/paths", "/paths/" + esc(pn[k]),
                          pn[k])
                continue
            a, b = old["paths"][po[k]], new["paths"][pn[k]]
            pa, pb = "/paths/" + esc(po[k]), "/paths/" + esc(pn[k])
            if po[k] != pn[k]:
                self.emit("path-parameter-renamed", "compatible", "doc", pa, pb,
                          f"{po[k]} -> {pn[k]}: same URL")
            for m in METHODS:
                self.op = f"{m.upper()} {po[k]}" if m in a else f"{m.upper()} {pn[k]}"
                if m in a and m not in b:
                    self.emit("operation-removed", "breaking", "doc", f"{pa}/{m}", pb, m)
                elif m in b and m not in a:
                    self.emit("operation-added", "compatible", "doc", pa, f"{pb}/{m}", m)
                elif m in a:
                    self.operation(a, a[m], f"{pa}/{m}", b, b[m], f"{pb}/{m}")
        self.op = None
        for name in sorted(old.get("components", {}).get("schemas", {})):
            if name not in new.get("components", {}).get("schemas", {}):
                self.emit("component-schema-removed", "compatible", "doc",
                          "/components/schemas/" + esc(name), "/components/schemas",
                          f"{name}: schema names are not on the wire; what referred to it is "
                          "compared where it is used")
        return self.out

    def params(self, item, op, ptr_item, ptr_op):
        out = {}
        for src, ptr in ((item.get("parameters") or [], ptr_item + "/parameters"),
                         (op.get("parameters") or [], ptr_op + "/parameters")):
            for i, p in enumerate(src):
                out[(p.get("in"), p.get("name"))] = (p, f"{ptr}/{i}")
        # path parameters are positional: `/files/{id}` and `/files/{file}` are one URL
        path_names = re.findall(r"\{([^}]*)\}", ptr_item.rsplit("/", 1)[-1].replace("~1", "/"))
        for pos, name in enumerate(path_names):
            if ("path", name) in out:
                out[("path", pos)] = out.pop(("path", name))
        return out

    def operation(self, ia, a, pa, ib, b, pb):
        if a.get("operationId") != b.get("operationId"):
            self.emit("operation-id-changed", "breaking" if a.get("operationId") else "compatible",
                      "doc", pa + "/operationId", pb + "/operationId",
                      f"{a.get('operationId')} -> {b.get('operationId')}")
        sa, sb = self.security(self.docs["old"], a), self.security(self.docs["new"], b)
        if sa != sb:
            where = pb + "/security" if "security" in b else "/security"
            if not sa and sb:
                self.emit("security-added", "breaking", "doc", pa, where,
                          "authentication now required where none was declared")
            elif sa and not sb:
                self.emit("security-removed", "compatible", "doc", pa, pb, "")
            else:
                self.emit("security-changed", "breaking", "doc", pa, pb, f"{sa} -> {sb}")
        qa = self.params(ia, a, pa.rsplit("/", 1)[0], pa)
        qb = self.params(ib, b, pb.rsplit("/", 1)[0], pb)
        for k in sorted(set(qa) | set(qb), key=str):
            if k not in qb:
                self.emit("parameter-removed", "breaking", "parameter", qa[k][1],
                          pb + "/parameters", f"{k}: clients still send it")
            elif k not in qa:
                req = qb[k][0].get("required")
                self.emit("parameter-added", "breaking" if req else "compatible", "parameter",
                          pa + "/parameters", qb[k][1], f"{k}: " + ("required" if req else
                                                                     "optional"))
            else:
                (x, px), (y, py) = qa[k], qb[k]
                if bool(x.get("required")) != bool(y.get("required")):
                    self.emit("parameter-required-changed",
                              "breaking" if y.get("required") else "compatible", "parameter",
                              px, py, f"{k}: required {x.get('required')} -> {y.get('required')}")
                sx = (x.get("style"), x.get("explode"))
                sy = (y.get("style"), y.get("explode"))
                if sx != sy:
                    self.emit("parameter-style-changed", "breaking", "parameter", px, py,
                              f"{k}: {sx} -> {sy}")
                if "schema" in x and "schema" in y:
                    self.schema(x["schema"], px + "/schema", y["schema"], py + "/schema",
                                "parameter", f"{k[0]} parameter {k[1]}")
        ra, rb = a.get("requestBody"), b.get("requestBody")
        if ra and not rb:
            self.emit("request-body-removed", "breaking", "request", pa + "/requestBody", pb,
                      "clients still send it")
        elif rb and not ra:
            self.emit("request-body-added", "breaking" if rb.get("required") else "compatible",
                      "request", pa, pb + "/requestBody",
                      "required" if rb.get("required") else "optional")
        elif ra and rb:
            if bool(ra.get("required")) != bool(rb.get("required")):
                self.emit("request-body-required-changed",
                          "breaking" if rb.get("required") else "compatible", "request",
                          pa + "/requestBody", pb + "/requestBody", "")
            self.content(ra.get("content") or {}, pa + "/requestBody/content",
                         rb.get("content") or {}, pb + "/requestBody/content", "request")
        xa, xb = a.get("responses") or {}, b.get("responses") or {}
        for s in sorted(set(xa) | set(xb)):
            if s not in xb:
                ok = s[0] in "23"
                self.emit("response-removed", "breaking" if ok else "compatible", "response",
                          f"{pa}/responses/{s}", pb + "/responses", s)
            elif s not in xa:
                self.emit("response-added", "compatible", "response", pa + "/responses",
                          f"{pb}/responses/{s}", s)
            else:
                x, px = self.deref("old", xa[s], f"{pa}/responses/{s}")
                y, py = self.deref("new", xb[s], f"{pb}/responses/{s}")
                self.content(x.get("content") or {}, px + "/content", y.get("content") or {},
                             py + "/content", "response")

    def content(self, ca, pa, cb, pb, d):
        for m in sorted(set(ca) | set(cb)):
            if m not in cb:
                self.emit("media-type-removed", "breaking", d, f"{pa}/{esc(m)}", pb, m)
            elif m not in ca:
                self.emit("media-type-added", "compatible", d, pa, f"{pb}/{esc(m)}", m)
            elif "schema" in ca[m] and "schema" in cb[m]:
                self.schema(ca[m]["schema"], f"{pa}/{esc(m)}/schema", cb[m]["schema"],
                            f"{pb}/{esc(m)}/schema", d, "")


def attribute(differ):
    """Each change's operations: those from which the walk reached it (see Differ.edges). A
    path added lists its new operations; document-wide changes list none."""
    reach = {}

    def ops_of(node, seen):
        if node[0] == "op":
            return {node[1]} if node[1] else set()
        if node in reach:
            return reach[node]
        if node in seen:
            return set()
        seen.add(node)
        out = set()
        for parent in differ.edges.get(node, ()):
            out |= ops_of(parent, seen)
        return out

    # cycles: iterate to a fixpoint
    changed = True
    while changed:
        changed = False
        for node in list(differ.edges):
            ops = ops_of(node, set())
            if reach.get(node) != ops:
                reach[node] = ops
                changed = True
    for c in differ.out:
        at = c.pop("_at")
        if c["what"] in ("info-version-changed", "component-schema-removed"):
            c["operations"] = []
        elif c["what"] == "path-added":
            c["operations"] = sorted(f"{m.upper()} {c['reason']}" for m in METHODS
                                     if m in differ.docs["new"]["paths"][c["reason"]])
        elif c["what"] == "path-removed":
            c["operations"] = sorted(f"{m.upper()} {c['reason']}" for m in METHODS
                                     if m in differ.docs["old"]["paths"][c["reason"]])
        else:
            c["operations"] = sorted(ops_of(at, set()))


def main():
    old = json.load(open(sys.argv[1]))
    new = json.load(open(sys.argv[2]))
    differ = Differ(old, new)
    out = differ.run()
    attribute(differ)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
