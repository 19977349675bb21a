use serde::{Deserialize, Serialize};

use crate::artifact::source::{scan, segments, SourceFile};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Finding, Kind, ParamDoc, TypedCheck};

pub struct HexagonalViolation;

const DOCS: &str = r#"## What it checks
That at least `min_services` services (1 by default) are built as a hexagon (ports and
adapters), verified from the source tree the manifest names (`source = "services/orders/src"`):
- the tree has a domain layer folder (`domain_dirs`), a ports or application layer
  (`port_dirs`) and an adapters layer (`adapter_dirs`);
- no file of the domain layer imports an adapter module (an import path with a segment in
  `adapter_dirs`) or a framework or driver (`frameworks`: module prefixes such as `flask`,
  `express`, `org.springframework`, `net/http`, `axum`).

Imports are read from Rust, Python, TypeScript/JavaScript, Java/Kotlin and Go files (at most
5,000 files of 1 MiB). Partial credit: hexagonal services / max(services with a source tree,
`min_services`).

## Why it matters
Week 3 (Hexagonal Architecture & Clean Code; "Implement hexagonal architecture in services")
and the Phase 1 checkpoint ("Implement one service with hexagonal architecture"): a domain
that imports its web framework or database driver cannot be tested without them, and every
infrastructure change ripples into business rules. Dependencies must point inwards.

## How to fix
Move framework and driver code into adapters; let the domain define ports (interfaces) that
adapters implement; import the domain from adapters, never the other way round.

## Example
```text
services/orders/src/
  domain/order.py            # pure business rules: imports only the standard library
  ports/outbound.py          # OrderRepository(Protocol)
  adapters/outbound/postgres_order_repository.py   # implements the port with psycopg
  adapters/inbound/http_api.py                     # FastAPI routes calling the application
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    pub min_services: usize,
    pub domain_dirs: Vec<String>,
    pub port_dirs: Vec<String>,
    pub adapter_dirs: Vec<String>,
    pub frameworks: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        Params {
            min_services: 1,
            domain_dirs: s(&["domain", "core", "model"]),
            port_dirs: s(&["ports", "port", "application", "usecases", "use_cases"]),
            adapter_dirs: s(&["adapters", "adapter", "infrastructure", "infra"]),
            frameworks: s(&[
                // Python
                "flask",
                "fastapi",
                "django",
                "starlette",
                "sqlalchemy",
                "psycopg",
                "psycopg2",
                "pymongo",
                "redis",
                "requests",
                "httpx",
                "boto3",
                "kafka",
                "confluent_kafka",
                "pika",
                "aiohttp",
                // JavaScript / TypeScript
                "express",
                "koa",
                "fastify",
                "@nestjs",
                "axios",
                "pg",
                "mongoose",
                "mongodb",
                "kafkajs",
                "ioredis",
                "typeorm",
                "prisma",
                "@prisma",
                "sequelize",
                "amqplib",
                // Java / Kotlin
                "org.springframework",
                "javax.persistence",
                "jakarta.persistence",
                "javax.ws",
                "jakarta.ws",
                "org.hibernate",
                "io.micronaut",
                "io.quarkus",
                "org.apache.kafka",
                "com.fasterxml.jackson",
                // Go
                "net/http",
                "database/sql",
                "github.com/gin-gonic",
                "github.com/labstack/echo",
                "gorm.io",
                "github.com/jackc/pgx",
                "go.mongodb.org",
                "github.com/segmentio/kafka-go",
                // Rust
                "axum",
                "actix_web",
                "rocket",
                "warp",
                "hyper",
                "sqlx",
                "diesel",
                "reqwest",
                "rdkafka",
                "tonic",
            ]),
        }
    }
}

fn in_layer(file: &SourceFile, root: &str, dirs: &[String]) -> bool {
    file.rel
        .strip_prefix(root)
        .is_some_and(|rest| rest.split('/').any(|seg| dirs.iter().any(|d| d == seg)))
}

fn framework_of<'a>(module: &str, frameworks: &'a [String]) -> Option<&'a str> {
    frameworks
        .iter()
        .find(|f| {
            module == f.as_str()
                || module
                    .strip_prefix(f.as_str())
                    .is_some_and(|rest| rest.starts_with(['.', '/', ':']))
        })
        .map(String::as_str)
}

impl TypedCheck for HexagonalViolation {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "ARCH009",
        name: "hexagonal-violation",
        area: Area::Arch,
        kind: Kind::Static,
        summary: "No service is built as ports and adapters, or its domain imports adapters or frameworks",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "min_services",
                ty: "integer",
                description: "how many services must be hexagonal",
            },
            ParamDoc {
                name: "domain_dirs",
                ty: "array of strings",
                description: "folder names of the domain layer",
            },
            ParamDoc {
                name: "port_dirs",
                ty: "array of strings",
                description: "folder names of the ports or application layer",
            },
            ParamDoc {
                name: "adapter_dirs",
                ty: "array of strings",
                description: "folder names of the adapters layer",
            },
            ParamDoc {
                name: "frameworks",
                ty: "array of strings",
                description: "module prefixes the domain must not import",
            },
        ],
    };

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        let with_source: Vec<_> = ctx.submission.services.iter().filter(|s| s.source.is_some()).collect();
        let mut findings: Vec<Finding> = Vec::new();
        let mut good = 0;
        let mut evidence = Vec::new();
        for s in &with_source {
            let Some(src) = &s.source else { continue };
            let before = findings.len();
            if !src.path.is_dir() {
                findings.push(
                    ctx.manifest_finding(
                        src.span.as_ref(),
                        format!("service `{}`: source tree `{}` is not a folder", s.name.name, src.rel),
                    )
                    .help("point `source` at the folder that holds the service's code"),
                );
                continue;
            }
            let (files, truncated) = scan(&src.path, &src.rel);
            let root = format!("{}/", src.rel);
            let domain: Vec<&SourceFile> = files.iter().filter(|f| in_layer(f, &root, &p.domain_dirs)).collect();
            let has_ports = files.iter().any(|f| in_layer(f, &root, &p.port_dirs));
            let has_adapters = files.iter().any(|f| in_layer(f, &root, &p.adapter_dirs));
            for (present, layer, dirs) in [
                (!domain.is_empty(), "domain", &p.domain_dirs),
                (has_ports, "ports or application", &p.port_dirs),
                (has_adapters, "adapters", &p.adapter_dirs),
            ] {
                if !present {
                    findings.push(
                        ctx.manifest_finding(
                            src.span.as_ref(),
                            format!("service `{}`: no {layer} layer under `{}`", s.name.name, src.rel),
                        )
                        .help(format!(
                            "put the {layer} code in a folder named {}",
                            crate::diag::quote_list(dirs)
                        )),
                    );
                }
            }
            let mut imports = 0;
            for f in &domain {
                for i in &f.imports {
                    imports += 1;
                    let adapter = segments(&i.module).find(|seg| p.adapter_dirs.iter().any(|d| d == seg));
                    let framework = framework_of(&i.module, &p.frameworks);
                    let what = match (adapter, framework) {
                        (Some(_), _) => format!("the adapter module `{}`", i.module),
                        (None, Some(fw)) => format!("the framework/driver `{fw}`"),
                        (None, None) => continue,
                    };
                    let mut finding = Finding::new(format!("domain code of `{}` imports {what}", s.name.name))
                        .in_file(f.rel.clone())
                        .help("depend on a port (an interface in the domain or application layer) and implement it in an adapter");
                    finding.line = Some(i.line);
                    finding.column = Some(1);
                    finding.span = Some((i.offset, i.len));
                    findings.push(finding);
                }
            }
            if truncated {
                evidence.push(format!(
                    "{}: only the first {} files were read",
                    s.name.name,
                    crate::artifact::source::MAX_FILES
                ));
            }
            evidence.push(format!(
                "{}: {} source files, {} in the domain layer with {imports} imports",
                s.name.name,
                files.len(),
                domain.len()
            ));
            if findings.len() == before {
                good += 1;
            }
        }
        let total = with_source.len().max(p.min_services);
        if with_source.len() < p.min_services {
            findings.push(
                ctx.manifest_finding(
                    None,
                    format!(
                        "{} service(s) name a source tree; at least {} expected",
                        with_source.len(),
                        p.min_services
                    ),
                )
                .help("add `source = \"services/<name>/src\"` to the service you built with ports and adapters"),
            );
        }
        if total == 0 {
            return CheckResult::not_applicable(
                "no service names a source tree and none is required (min_services = 0)",
            );
        }
        let mut r = CheckResult::ratio(good, total, findings);
        r.evidence = evidence;
        r
    }
}
