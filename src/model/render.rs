//! Drawings of the system model: Graphviz DOT and Mermaid. Contexts are clusters, synchronous
//! calls solid arrows, event flows dashed arrows labelled with the event, datastores
//! cylinders joined to their owner; the edges of a synchronous cycle are drawn in red.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::SystemModel;
use crate::submission::{Role, Submission};

/// (service index, call index) of every call on a synchronous cycle.
fn cycle_edges(model: &SystemModel) -> BTreeSet<(usize, usize)> {
    model.cycle_calls().iter().map(|e| (e.from, e.call)).collect()
}

fn id(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{clean}")
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Services grouped by context (declaration order), then the services without one.
fn groups(sub: &Submission) -> Vec<(Option<&str>, Vec<usize>)> {
    let mut out: Vec<(Option<&str>, Vec<usize>)> = sub
        .contexts
        .iter()
        .map(|c| {
            let members = sub
                .services
                .iter()
                .enumerate()
                .filter(|(_, s)| s.context.as_ref().is_some_and(|x| x.name == c.name.name))
                .map(|(i, _)| i)
                .collect();
            (Some(c.name.name.as_str()), members)
        })
        .collect();
    let known: BTreeSet<&str> = sub.contexts.iter().map(|c| c.name.name.as_str()).collect();
    let loose: Vec<usize> = sub
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.context.as_ref().is_none_or(|c| !known.contains(c.name.as_str())))
        .map(|(i, _)| i)
        .collect();
    if !loose.is_empty() {
        out.push((None, loose));
    }
    out
}

pub fn dot(sub: &Submission, model: &SystemModel) -> String {
    let red = cycle_edges(model);
    let mut s = String::from("digraph system {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
    let mut drawn: BTreeSet<&str> = BTreeSet::new();
    for (ctx, members) in groups(sub) {
        let indent = if let Some(c) = ctx {
            let _ = writeln!(
                s,
                "  subgraph \"cluster_{}\" {{\n    label=\"{}\";\n    style=rounded;",
                quote(c),
                quote(c)
            );
            "    "
        } else {
            "  "
        };
        for i in members {
            let svc = &sub.services[i];
            let shape = match svc.role {
                Role::Gateway | Role::Bff => "hexagon",
                Role::Service => "box",
            };
            let _ = writeln!(
                s,
                "{indent}\"{}\" [label=\"{}\", shape={shape}];",
                id("svc", &svc.name.name),
                quote(&svc.name.name)
            );
            for d in svc.owns.iter().filter(|d| drawn.insert(d.name.as_str())) {
                let _ = writeln!(
                    s,
                    "{indent}\"{}\" [label=\"{}\", shape=cylinder];",
                    id("db", &d.name),
                    quote(&d.name)
                );
            }
        }
        if ctx.is_some() {
            s.push_str("  }\n");
        }
    }
    for d in sub.datastores.iter().filter(|d| drawn.insert(d.name.name.as_str())) {
        let _ = writeln!(
            s,
            "  \"{}\" [label=\"{}\", shape=cylinder];",
            id("db", &d.name.name),
            quote(&d.name.name)
        );
    }
    for (i, svc) in sub.services.iter().enumerate() {
        for d in &svc.owns {
            let _ = writeln!(
                s,
                "  \"{}\" -> \"{}\" [arrowhead=none, style=dotted];",
                id("svc", &svc.name.name),
                id("db", &d.name)
            );
        }
        for (c, callee) in svc.calls.iter().enumerate() {
            let color = if red.contains(&(i, c)) {
                ", color=red, penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "  \"{}\" -> \"{}\" [label=\"sync\"{color}];",
                id("svc", &svc.name.name),
                id("svc", &callee.name)
            );
        }
    }
    for f in &model.flows {
        let _ = writeln!(
            s,
            "  \"{}\" -> \"{}\" [label=\"{}\", style=dashed];",
            id("svc", model.name(f.from)),
            id("svc", model.name(f.to)),
            quote(&f.event)
        );
    }
    s.push_str("}\n");
    s
}

pub fn mermaid(sub: &Submission, model: &SystemModel) -> String {
    let red = cycle_edges(model);
    let mut s = String::from("flowchart LR\n");
    let mut drawn: BTreeSet<&str> = BTreeSet::new();
    for (ctx, members) in groups(sub) {
        let indent = if let Some(c) = ctx {
            let _ = writeln!(s, "  subgraph {}[\"{}\"]", id("ctx", c), c.replace('"', "'"));
            "    "
        } else {
            "  "
        };
        for i in members {
            let svc = &sub.services[i];
            let label = svc.name.name.replace('"', "'");
            let node = match svc.role {
                Role::Gateway | Role::Bff => format!("{{{{\"{label}\"}}}}"),
                Role::Service => format!("[\"{label}\"]"),
            };
            let _ = writeln!(s, "{indent}{}{node}", id("svc", &svc.name.name));
            for d in svc.owns.iter().filter(|d| drawn.insert(d.name.as_str())) {
                let _ = writeln!(s, "{indent}{}[(\"{}\")]", id("db", &d.name), d.name.replace('"', "'"));
            }
        }
        if ctx.is_some() {
            s.push_str("  end\n");
        }
    }
    for d in sub.datastores.iter().filter(|d| drawn.insert(d.name.name.as_str())) {
        let _ = writeln!(
            s,
            "  {}[(\"{}\")]",
            id("db", &d.name.name),
            d.name.name.replace('"', "'")
        );
    }
    let mut link = 0usize;
    let mut red_links = Vec::new();
    for (i, svc) in sub.services.iter().enumerate() {
        for d in &svc.owns {
            let _ = writeln!(s, "  {} --- {}", id("svc", &svc.name.name), id("db", &d.name));
            link += 1;
        }
        for (c, callee) in svc.calls.iter().enumerate() {
            let _ = writeln!(
                s,
                "  {} -->|sync| {}",
                id("svc", &svc.name.name),
                id("svc", &callee.name)
            );
            if red.contains(&(i, c)) {
                red_links.push(link);
            }
            link += 1;
        }
    }
    for f in &model.flows {
        let _ = writeln!(
            s,
            "  {} -.->|{}| {}",
            id("svc", model.name(f.from)),
            f.event.replace('|', "/"),
            id("svc", model.name(f.to))
        );
    }
    for l in red_links {
        let _ = writeln!(s, "  linkStyle {l} stroke:red,stroke-width:3px");
    }
    s
}
