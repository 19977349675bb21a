//! docker-compose files: services, the datastores among them (by image), `depends_on`, and
//! service URLs in `environment`. Anchors, `<<` merges and `x-` extension fields are handled by
//! the document loader; extension fields are ignored.

use serde_json::Value;

use super::document::{Document, Limits};

/// Images recognised as datastores, with the kind they imply.
const DATASTORE_IMAGES: [(&str, &str); 14] = [
    ("postgres", "postgres"),
    ("postgis", "postgres"),
    ("mysql", "mysql"),
    ("mariadb", "mariadb"),
    ("mongo", "mongodb"),
    ("redis", "redis"),
    ("valkey", "redis"),
    ("memcached", "memcached"),
    ("elasticsearch", "elasticsearch"),
    ("opensearch", "opensearch"),
    ("cassandra", "cassandra"),
    ("scylla", "cassandra"),
    ("cockroach", "cockroachdb"),
    ("dynamodb", "dynamodb"),
];

/// Message brokers and infrastructure: neither services nor datastores of the design.
const INFRA_IMAGES: [&str; 12] = [
    "kafka",
    "zookeeper",
    "rabbitmq",
    "nats",
    "pulsar",
    "redpanda",
    "jaeger",
    "prometheus",
    "grafana",
    "otel",
    "traefik",
    "nginx",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeKind {
    Service,
    Datastore(String),
    Infrastructure,
}

#[derive(Debug, Clone)]
pub struct ComposeService {
    pub name: String,
    pub kind: ComposeKind,
    /// 1-based line of the service's key.
    pub line: usize,
    pub depends_on: Vec<String>,
    /// (environment variable, compose service its URL points at)
    pub env_urls: Vec<(String, String)>,
}

fn image_name(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split([':', '@']).next().unwrap_or(last).to_ascii_lowercase()
}

fn classify(image: Option<&str>) -> ComposeKind {
    let Some(image) = image else {
        return ComposeKind::Service;
    };
    let name = image_name(image);
    if let Some((_, kind)) = DATASTORE_IMAGES.iter().find(|(p, _)| name.starts_with(p)) {
        return ComposeKind::Datastore(kind.to_string());
    }
    let full = image.to_ascii_lowercase();
    if INFRA_IMAGES.iter().any(|p| full.contains(p)) {
        return ComposeKind::Infrastructure;
    }
    ComposeKind::Service
}

/// Host names in a value: `http://payments:8080/x`, `payments:8080`, `grpc://payments`.
fn hosts(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in value.split([' ', ',', ';']) {
        let rest = token.split_once("://").map(|(_, r)| r).unwrap_or(token);
        let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = host.split(':').next().unwrap_or("");
        if !host.is_empty() && token.contains(':') {
            out.push(host.to_string());
        }
    }
    out
}

/// The services of a compose document (`services:` mapping), in file order.
pub fn services(doc: &Document) -> Vec<ComposeService> {
    let Some(map) = doc.value.get("services").and_then(Value::as_object) else {
        return Vec::new();
    };
    let names: Vec<&String> = map.keys().collect();
    let mut out = Vec::new();
    for (name, svc) in map {
        let pointer = format!("/services/{}", super::document::escape_pointer_segment(name));
        let line = doc.locate_key(&pointer).unwrap_or_else(|| doc.locate(&pointer)).line;
        let image = svc.get("image").and_then(Value::as_str);
        let depends_on = match svc.get("depends_on") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let mut env: Vec<(String, String)> = match svc.get("environment") {
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (kv.to_string(), String::new()),
                })
                .collect(),
            _ => Vec::new(),
        };
        env.sort();
        let mut env_urls = Vec::new();
        for (var, value) in env {
            for host in hosts(&value) {
                if host != *name && names.iter().any(|n| **n == host) {
                    env_urls.push((var.clone(), host));
                }
            }
        }
        out.push(ComposeService {
            name: name.clone(),
            kind: classify(image),
            line,
            depends_on,
            env_urls,
        });
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Parses compose source.
pub fn parse(name: &str, source: &str, limits: &Limits) -> Result<Document, super::document::LoadError> {
    Document::parse(name, source, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_services_datastores_and_urls() {
        let src = r#"
x-common: &common
  restart: unless-stopped
  environment:
    LOG_LEVEL: info
services:
  orders:
    <<: *common
    build: ./orders
    depends_on: [orders-db, kafka]
    environment:
      PAYMENTS_URL: http://payments:8080
      DATABASE_URL: postgres://u:p@orders-db:5432/orders
  payments:
    image: ghcr.io/shop/payments:1.2
    depends_on:
      payments-db:
        condition: service_healthy
  orders-db:
    image: postgres:16
  payments-db:
    image: docker.io/library/mongo:7
  kafka:
    image: bitnami/kafka:3.7
"#;
        let doc = parse("docker-compose.yml", src, &Limits::default()).unwrap();
        let s = services(&doc);
        let names: Vec<&str> = s.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["orders", "payments", "orders-db", "payments-db", "kafka"]);
        assert_eq!(s[0].kind, ComposeKind::Service);
        assert_eq!(s[0].line, 7);
        assert_eq!(s[0].depends_on, ["orders-db", "kafka"]);
        assert_eq!(
            s[0].env_urls,
            [
                ("DATABASE_URL".to_string(), "orders-db".to_string()),
                ("PAYMENTS_URL".to_string(), "payments".to_string())
            ]
        );
        assert_eq!(s[1].depends_on, ["payments-db"]);
        assert_eq!(s[2].kind, ComposeKind::Datastore("postgres".into()));
        assert_eq!(s[3].kind, ComposeKind::Datastore("mongodb".into()));
        assert_eq!(s[4].kind, ComposeKind::Infrastructure);
    }
}
