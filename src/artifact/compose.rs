//! docker-compose files: the containers, what each is (one of the learner's services, a
//! datastore, a broker, an observability backend or another tool: the image list is data, in
//! `compose-images.toml`), and the links their `environment` gives (service URLs, datastore
//! URLs with their database). Anchors, `<<` merges and `x-` extension fields are handled by the
//! document loader; extension fields are ignored. `depends_on` is start order, not a call: it is
//! read but never taken as one.
//!
//! This is the one reader of compose files; the Kubernetes and Istio readers extend it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::document::{Document, Limits};

/// What a container is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeKind {
    /// One of the learner's services.
    Service,
    /// A datastore of the given kind (`postgres`, `mongodb`, ...).
    Datastore(String),
    /// A message broker (Kafka, RabbitMQ, NATS, ...).
    Broker,
    /// Tracing, metrics or logging backends.
    Observability,
    /// Admin UIs, migrations, load generators, proxies, platform servers.
    Tool,
}

impl ComposeKind {
    /// How a message names it: `a message broker`.
    pub fn describe(&self) -> String {
        match self {
            ComposeKind::Service => "a service".into(),
            ComposeKind::Datastore(kind) => format!("a datastore ({kind})"),
            ComposeKind::Broker => "a message broker".into(),
            ComposeKind::Observability => "an observability backend".into(),
            ComposeKind::Tool => "a tool (admin, migration, load, proxy or platform container)".into(),
        }
    }

    /// The kind a manifest override names (`[imports] compose_roles`): `service`,
    /// `datastore` (or `datastore:postgres`), `broker`, `observability`, `tool`.
    pub fn from_role(role: &str) -> Option<ComposeKind> {
        let (head, kind) = role.split_once(':').unwrap_or((role, ""));
        Some(match head.trim() {
            "service" => ComposeKind::Service,
            "datastore" => ComposeKind::Datastore(if kind.trim().is_empty() {
                "database".into()
            } else {
                kind.trim().to_string()
            }),
            "broker" => ComposeKind::Broker,
            "observability" => ComposeKind::Observability,
            "tool" => ComposeKind::Tool,
            _ => return None,
        })
    }
}

/// The roles `[imports] compose_roles` accepts.
pub const ROLES: [&str; 5] = ["service", "datastore", "broker", "observability", "tool"];

/// An address in a container's `environment` that names another container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The environment variable.
    pub var: String,
    /// The container it names.
    pub target: String,
    /// The database of a datastore URL (`jdbc:mysql://mysql/orders` -> `orders`), when the
    /// URL names one (not a number such as Redis's database index).
    pub database: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ComposeService {
    pub name: String,
    pub kind: ComposeKind,
    /// Why it is not a service: the word of its image, build or name that matched.
    pub matched: Option<String>,
    /// 1-based line of the service's key.
    pub line: usize,
    /// `image:`, as written.
    pub image: Option<String>,
    /// Start order only (never a call).
    pub depends_on: Vec<String>,
    /// Links from `environment`, sorted by variable.
    pub links: Vec<Link>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    /// Proxies and gateway products: tools, unless the container is named as the gateway.
    gateway: Group,
    tool: Group,
    datastore: BTreeMap<String, String>,
    broker: Group,
    observability: Group,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    products: Vec<String>,
    #[serde(default)]
    words: Vec<String>,
}

/// The image list (`compose-images.toml`, embedded).
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        toml::from_str(include_str!("compose-images.toml"))
            .unwrap_or_else(|e| panic!("src/artifact/compose-images.toml is invalid (a build defect): {e}"))
    })
}

/// The words of an image reference, build path or name: split at `/ - _ . : @`, lower case;
/// a word ending in digits also stands without them (`pgadmin4` is also `pgadmin`).
fn words(s: &str) -> Vec<String> {
    s.to_ascii_lowercase()
        .split(['/', '-', '_', '.', ':', '@', ' '])
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The product of `products` or word of `exact` that `ws` contain, as whole words (a word
/// ending in digits also counts without them: `pgadmin4` is `pgadmin`): `temporal` is not
/// `tempo`, `redistribution` is not `redis`.
fn matches(ws: &[String], products: &[String], exact: &[String]) -> Option<String> {
    let same = |w: &str, p: &str| w == p || w.trim_end_matches(|c: char| c.is_ascii_digit()) == p;
    for p in products {
        let parts: Vec<&str> = p.split('-').collect();
        if ws
            .windows(parts.len())
            .any(|win| win.iter().zip(&parts).all(|(w, p)| same(w, p)))
        {
            return Some(p.clone());
        }
    }
    exact.iter().find(|e| ws.iter().any(|w| same(w, e))).cloned()
}

/// What a container is, from its image or (when it is built) its build context and name. A
/// proxy or gateway product (`nginx`, `kong`, ...) named as the gateway (`api-gateway`, `bff`)
/// is the system's edge gateway, a service of the design.
pub fn classify(name: &str, image: Option<&str>, build: Option<&str>) -> (ComposeKind, Option<String>) {
    let found = classify_container(name, image, build);
    let named_edge = words(name).iter().any(|w| w == "gateway" || w == "bff");
    match &found.1 {
        Some(m) if named_edge && catalog().gateway.products.contains(m) => (ComposeKind::Service, None),
        _ => found,
    }
}

fn classify_container(name: &str, image: Option<&str>, build: Option<&str>) -> (ComposeKind, Option<String>) {
    let candidates: Vec<Vec<String>> = match (build, image) {
        // A built container's image is the tag its build gets, and its name is the learner's
        // (`kafka-consumer` is a service): it is infrastructure only when its build folder is
        // named after a product (`./docker/grafana`) or its name is a role word (`db-init`).
        (Some(b), _) => {
            let folder = b
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(b)
                .to_ascii_lowercase();
            let c = catalog();
            if let Some(m) = matches(&words(name), &[], &c.tool.words) {
                return (ComposeKind::Tool, Some(m));
            }
            vec![vec![folder]]
        }
        (None, Some(i)) => {
            // The image without its tag or digest: its repository name first (the registry
            // and organisation, such as `quay.io/debezium/`, say who publishes it, not what it
            // is), then the whole reference (`jaegertracing/all-in-one`).
            let i = i.split('@').next().unwrap_or(i);
            let last_colon = i.rfind(':').filter(|&k| !i[k..].contains('/'));
            let i = &i[..last_colon.unwrap_or(i.len())];
            vec![words(i.rsplit('/').next().unwrap_or(i)), words(i)]
        }
        (None, None) => vec![words(name)],
    };
    for ws in &candidates {
        let found = classify_words(ws);
        if found.0 != ComposeKind::Service {
            return found;
        }
    }
    (ComposeKind::Service, None)
}

/// What the words of one reference say a container is.
fn classify_words(ws: &[String]) -> (ComposeKind, Option<String>) {
    let c = catalog();
    // Exporters (`postgres-exporter`, `mysqld-exporter`) serve metrics about what they name.
    if let Some(w) = ws.iter().find(|w| w.ends_with("exporter") || w.ends_with("beat")) {
        return (ComposeKind::Observability, Some(w.clone()));
    }
    if let Some(m) = matches(ws, &c.tool.products, &c.tool.words) {
        return (ComposeKind::Tool, Some(m));
    }
    if let Some(m) = matches(ws, &c.gateway.products, &[]) {
        return (ComposeKind::Tool, Some(m));
    }
    let stores: Vec<String> = c.datastore.keys().cloned().collect();
    if let Some(m) = matches(ws, &stores, &[]) {
        return (ComposeKind::Datastore(c.datastore[&m].clone()), Some(m));
    }
    if let Some(m) = matches(ws, &c.broker.products, &c.broker.words) {
        return (ComposeKind::Broker, Some(m));
    }
    if let Some(m) = matches(ws, &c.observability.products, &c.observability.words) {
        return (ComposeKind::Observability, Some(m));
    }
    (ComposeKind::Service, None)
}

/// Variables whose plain value (no `:`) is a host name: `MONGO_HOST=mongo`.
const HOST_VARS: [&str; 9] = [
    "_HOST",
    "_HOSTNAME",
    "_SERVER",
    "_ADDR",
    "_ADDRESS",
    "_URL",
    "_URI",
    "_DSN",
    "_ENDPOINT",
];

/// `value` with Compose's interpolations that carry a default (`${HOST:-orders}`,
/// `${HOST-orders}`) replaced by the default, as Docker Compose does when the variable is unset
/// (the grader knows no `.env`); other interpolations stay as written.
fn interpolate_defaults(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let inner = &rest[i + 2..i + end];
        match inner
            .find(":-")
            .map(|k| (k, 2))
            .or_else(|| inner.find('-').map(|k| (k, 1)))
        {
            Some((k, n)) => out.push_str(&inner[k + n..]),
            None => out.push_str(&rest[i..i + end + 1]),
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

/// (host, database) pairs a value names: `http://payments:8080/x`, `payments:8080`,
/// `jdbc:mysql://mysql:3306/orders?x=y` (database `orders`), `postgres://u:p@db/orders`; a bare
/// host name when the variable's name says it is one (`MONGO_HOST=mongo`).
fn addresses(var: &str, value: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let upper = var.to_ascii_uppercase();
    // Where others may come from or be sent back to, not what this container calls.
    if ["ORIGIN", "CORS", "REDIRECT", "CALLBACK", "RETURN_URL", "ALLOWED_HOST"]
        .iter()
        .any(|w| upper.contains(w))
    {
        return out;
    }
    let value = interpolate_defaults(value);
    // Free text (`see http://api:3000 for ...`) is not an address list.
    let lists = [
        "HOSTS",
        "SERVERS",
        "BROKERS",
        "URLS",
        "URIS",
        "NODES",
        "ADDRESSES",
        "ENDPOINTS",
    ];
    if value.split_whitespace().count() > 1
        && !HOST_VARS.iter().any(|s| upper.ends_with(s))
        && !lists.iter().any(|s| upper.ends_with(s))
    {
        return out;
    }
    // SQL Server's JDBC form names its database as a property: `;databaseName=billing`.
    let sqlserver_db = value
        .split(';')
        .find_map(|p| {
            p.trim()
                .strip_prefix("databaseName=")
                .or_else(|| p.trim().strip_prefix("database="))
        })
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    for token in value.split([' ', ',', ';', '\n', '\t']) {
        let token = token.trim();
        if token.is_empty() {
            continue;
        }
        let (has_scheme, rest) = match token.split_once("://") {
            Some((_, r)) => (true, r),
            None => (false, token),
        };
        if !has_scheme && !token.contains(':') {
            let upper = var.to_ascii_uppercase();
            if HOST_VARS.iter().any(|s| upper.ends_with(s))
                && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                out.push((token.to_string(), None));
            }
            continue;
        }
        let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.split(':').next().unwrap_or("");
        if host.is_empty() {
            continue;
        }
        let database = has_scheme
            .then(|| path.split(['?', ';', '/', '#']).next().unwrap_or(""))
            .filter(|d| !d.is_empty() && !d.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_string)
            .or_else(|| sqlserver_db.clone());
        out.push((host.to_string(), database));
    }
    out
}

/// The services of a compose document (`services:` mapping), in file order.
pub fn services(doc: &Document) -> Vec<ComposeService> {
    let Some(map) = doc.value.get("services").and_then(Value::as_object) else {
        return Vec::new();
    };
    // The names other containers reach a container by: its key, `container_name`, `hostname`
    // and its network aliases.
    let mut alias: BTreeMap<String, String> = BTreeMap::new();
    for (name, svc) in map {
        alias.insert(name.clone(), name.clone());
        for key in ["container_name", "hostname"] {
            if let Some(a) = svc.get(key).and_then(Value::as_str) {
                alias.entry(a.to_string()).or_insert_with(|| name.clone());
            }
        }
        if let Some(Value::Object(nets)) = svc.get("networks") {
            for net in nets.values() {
                for a in net.get("aliases").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(a) = a.as_str() {
                        alias.entry(a.to_string()).or_insert_with(|| name.clone());
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (name, svc) in map {
        if svc.get("profiles").is_some() {
            // Started only with `--profile`: not part of the system `docker compose up` runs.
            continue;
        }
        let pointer = format!("/services/{}", super::document::escape_pointer_segment(name));
        let line = doc.locate_key(&pointer).unwrap_or_else(|| doc.locate(&pointer)).line;
        let image = svc.get("image").and_then(Value::as_str);
        let build = match svc.get("build") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(m)) => Some(m.get("context").map(scalar).unwrap_or_else(|| ".".into())),
            _ => None,
        };
        let depends_on = match svc.get("depends_on") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let mut env = environment(map, svc, 0);
        env.sort();
        let mut links: Vec<Link> = Vec::new();
        for (var, value) in &env {
            for (host, mut database) in addresses(var, value) {
                let Some(target) = alias.get(&host).cloned() else {
                    continue;
                };
                if database.is_none() {
                    // `DB_HOST=postgres` with `DB_NAME=orders` beside it.
                    database = sibling_database(var, &env);
                }
                let link = Link {
                    var: var.clone(),
                    target,
                    database,
                };
                if link.target != *name && !links.contains(&link) {
                    links.push(link);
                }
            }
        }
        let (kind, matched) = classify(name, image, build.as_deref());
        out.push(ComposeService {
            name: name.clone(),
            kind,
            matched,
            line,
            image: image.map(str::to_string),
            depends_on,
            links,
        });
    }
    out
}

/// A container's `environment` (a mapping or a list of `KEY=VALUE`), after the environment of
/// the service it `extends` in the same file (its own entries win).
fn environment(map: &serde_json::Map<String, Value>, svc: &Value, depth: usize) -> Vec<(String, String)> {
    let own: Vec<(String, String)> = match svc.get("environment") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), v.to_string()),
                None => (kv.trim().to_string(), String::new()),
            })
            .collect(),
        _ => Vec::new(),
    };
    let base = match svc.get("extends") {
        Some(Value::String(b)) => Some(b.as_str()),
        Some(Value::Object(e)) if e.get("file").is_none() => e.get("service").and_then(Value::as_str),
        _ => None,
    };
    let mut env = match base.and_then(|b| map.get(b)) {
        Some(b) if depth < 8 => environment(map, b, depth + 1),
        _ => Vec::new(),
    };
    env.retain(|(k, _)| !own.iter().any(|(o, _)| o == k));
    env.extend(own);
    env
}

/// What the grader does not read of a compose file, to say so in the report: `include`,
/// `extends` from another file, `env_file`, services behind `profiles`.
pub fn unread(doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    if doc.value.get("include").is_some() {
        out.push("its `include:` files are not read".to_string());
    }
    let Some(map) = doc.value.get("services").and_then(Value::as_object) else {
        return out;
    };
    let mut listed = |what: &str, names: Vec<&String>| {
        if !names.is_empty() {
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            out.push(format!("{what}: {}", names.join(", ")));
        }
    };
    listed(
        "`extends` from another file is not read for",
        map.iter()
            .filter(|(_, s)| s.get("extends").and_then(|e| e.get("file")).is_some())
            .map(|(n, _)| n)
            .collect(),
    );
    listed(
        "`env_file` is not read (only `environment`) for",
        map.iter()
            .filter(|(_, s)| s.get("env_file").is_some())
            .map(|(n, _)| n)
            .collect(),
    );
    listed(
        "left out, as `docker compose up` does, the services behind `profiles`",
        map.iter()
            .filter(|(_, s)| s.get("profiles").is_some())
            .map(|(n, _)| n)
            .collect(),
    );
    out
}

/// The database that a variable beside a host variable names: `DB_HOST` -> `DB_NAME`,
/// `DB_DATABASE` or `DB_DB` (interpolation defaults applied).
fn sibling_database(var: &str, env: &[(String, String)]) -> Option<String> {
    let upper = var.to_ascii_uppercase();
    let prefix = HOST_VARS.iter().find_map(|s| upper.strip_suffix(s))?;
    ["_NAME", "_DATABASE", "_DB", "_SCHEMA"].iter().find_map(|s| {
        let want = format!("{prefix}{s}");
        env.iter()
            .find(|(k, _)| k.to_ascii_uppercase() == want)
            .map(|(_, v)| interpolate_defaults(v).trim().to_string())
            .filter(|v| !v.is_empty() && !v.contains("${") && !v.chars().all(|c| c.is_ascii_digit()))
    })
}

/// Where each service's datastore links go. A datastore container is one datastore, unless
/// the services that use it name two or more databases on it (`jdbc:mysql://mysql/orders`,
/// `jdbc:mysql://mysql/kitchen`, see [`split_databases`]): then each database is a datastore of
/// its own, named `server/database` (one server, a schema per service, is not a shared
/// datastore).
pub fn datastore_name(services: &[ComposeService], server: &str, database: Option<&str>) -> String {
    match database {
        Some(db) if !split_databases(services, server).is_empty() => format!("{server}/{db}"),
        _ => server.to_string(),
    }
}

/// The databases the services' links name on the datastore container `server`, sorted, when
/// there are two or more (each is then a datastore of its own); empty otherwise.
pub fn split_databases<'s>(services: &'s [ComposeService], server: &str) -> Vec<&'s str> {
    let mut dbs: Vec<&str> = services
        .iter()
        .filter(|s| s.kind == ComposeKind::Service)
        .flat_map(|s| s.links.iter())
        .filter(|l| l.target == server)
        .filter_map(|l| l.database.as_deref())
        .collect();
    dbs.sort();
    dbs.dedup();
    if dbs.len() < 2 {
        dbs.clear();
    }
    dbs
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Parses compose source. Docker Compose (Go's YAML reader) accepts a multi-line flow
/// collection whose closing bracket sits at its key's indentation (`command: [` ... `]`),
/// which YAML 1.2 does not: when the strict parse fails, such lines are joined to the line
/// before and the source is parsed again (the positions of findings stay those of the file).
pub fn parse(name: &str, source: &str, limits: &Limits) -> Result<Document, super::document::LoadError> {
    match Document::parse(name, source, limits) {
        Ok(doc) => Ok(doc),
        Err(e) => match super::document::relax_flow_indentation(source) {
            // Still failing: the relaxed parse's error points at the problem left.
            Some(relaxed) => Document::parse_relaxed(name, source, &relaxed, limits),
            None => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_services_datastores_and_links() {
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
      KAFKA_BOOTSTRAP_SERVERS: kafka:9092
  payments:
    image: ghcr.io/shop/payments:1.2
    depends_on:
      payments-db:
        condition: service_healthy
    environment:
      - MONGO_HOST=payments-db
      - REDIS_URL=redis://cache:6379/0
  orders-db:
    image: postgres:16
  payments-db:
    image: docker.io/library/mongo:7
  cache:
    image: redis:7
  kafka:
    image: quay.io/debezium/kafka:2.7
"#;
        let doc = parse("docker-compose.yml", src, &Limits::default()).unwrap();
        let s = services(&doc);
        let names: Vec<&str> = s.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(
            names,
            ["orders", "payments", "orders-db", "payments-db", "cache", "kafka"]
        );
        assert_eq!(s[0].kind, ComposeKind::Service);
        assert_eq!(s[0].line, 7);
        assert_eq!(s[0].depends_on, ["orders-db", "kafka"]);
        let links = |i: usize| -> Vec<(String, String, Option<String>)> {
            s[i].links
                .iter()
                .map(|l| (l.var.clone(), l.target.clone(), l.database.clone()))
                .collect()
        };
        assert_eq!(
            links(0),
            [
                ("DATABASE_URL".into(), "orders-db".into(), Some("orders".into())),
                ("KAFKA_BOOTSTRAP_SERVERS".into(), "kafka".into(), None),
                ("PAYMENTS_URL".into(), "payments".into(), None),
            ]
        );
        // A bare host in a `_HOST` variable; Redis's database index is not a database name.
        assert_eq!(
            links(1),
            [
                ("MONGO_HOST".into(), "payments-db".into(), None),
                ("REDIS_URL".into(), "cache".into(), None),
            ]
        );
        assert_eq!(s[2].kind, ComposeKind::Datastore("postgres".into()));
        assert_eq!(s[3].kind, ComposeKind::Datastore("mongodb".into()));
        assert_eq!(s[4].kind, ComposeKind::Datastore("redis".into()));
        // The organisation `debezium` does not make Kafka a tool: the repository name decides.
        assert_eq!(s[5].kind, ComposeKind::Broker);
    }

    #[test]
    fn infrastructure_is_told_from_services_by_image_build_and_name() {
        let kind = |name: &str, image: Option<&str>, build: Option<&str>| classify(name, image, build).0;
        assert_eq!(kind("pgadmin", Some("dpage/pgadmin4"), None), ComposeKind::Tool);
        assert_eq!(kind("ui", Some("mongo-express:1"), None), ComposeKind::Tool);
        assert_eq!(
            kind("db", Some("quay.io/debezium/example-postgres:2.7"), None),
            ComposeKind::Datastore("postgres".into())
        );
        assert_eq!(
            kind("trace", Some("jaegertracing/all-in-one:1.47"), None),
            ComposeKind::Observability
        );
        assert_eq!(
            kind("zipkin", Some("openzipkin/zipkin"), None),
            ComposeKind::Observability
        );
        assert_eq!(kind("k6", Some("grafana/k6:latest"), None), ComposeKind::Tool);
        assert_eq!(kind("migrate", Some("flyway/flyway:10"), None), ComposeKind::Tool);
        assert_eq!(kind("mq", Some("rabbitmq:3-management"), None), ComposeKind::Broker);
        assert_eq!(
            kind(
                "config-server",
                Some("springcommunity/spring-petclinic-config-server"),
                None
            ),
            ComposeKind::Tool
        );
        // Built containers: the build context and the name decide, not the image tag.
        assert_eq!(
            kind("grafana-server", None, Some("./docker/grafana")),
            ComposeKind::Observability
        );
        assert_eq!(kind("db-init", None, Some("./tools/seed")), ComposeKind::Tool);
        assert_eq!(
            kind(
                "order-service",
                Some("debezium-examples/saga-order-service:2.7"),
                Some("order-service")
            ),
            ComposeKind::Service
        );
        assert_eq!(kind("orders", Some("shop/orders:1"), None), ComposeKind::Service);
        assert_eq!(kind("initiative", Some("shop/initiative"), None), ComposeKind::Service);
        assert_eq!(
            ComposeKind::from_role("datastore:postgres"),
            Some(ComposeKind::Datastore("postgres".into()))
        );
        assert_eq!(ComposeKind::from_role("gateway"), None);
    }

    /// What a new user's compose files showed: interpolation defaults, the other names a
    /// container answers to, origin lists and free text, split database variables, exporters,
    /// learner-named built containers, gateways behind a proxy image, profiles and `extends`.
    #[test]
    fn addresses_as_docker_compose_resolves_them() {
        let src = r#"
services:
  orders:
    build: ./orders
    environment:
      PAYMENTS_URL: http://${PAYMENTS_HOST:-pay}:8080
      SHIP_HOST: ${SHIP_HOST-shipping-svc}
      DB_HOST: pg-main
      DB_NAME: ${DB_NAME:-orders}
      CORS_ALLOWED_ORIGINS: http://front:3000
      NOTES: see http://front:3000 for the UI
  payments:
    build: ./payments
    hostname: pay
  shipping:
    build: ./shipping
    container_name: shipping-svc
  front:
    build: ./front
  postgres:
    image: postgres:16
    hostname: pg-main
  kafka-consumer:
    build: ./kafka-consumer
  pg-exporter:
    image: prometheuscommunity/postgres-exporter
  api-gateway:
    image: nginx:1.25-alpine
  debug:
    image: busybox
    profiles: [debug]
  accounts:
    extends: orders
    environment:
      EXTRA: "1"
"#;
        let doc = parse("c.yml", src, &Limits::default()).unwrap();
        let s = services(&doc);
        let find = |n: &str| s.iter().find(|x| x.name == n).unwrap();
        let targets = |n: &str| -> Vec<(String, Option<String>)> {
            find(n)
                .links
                .iter()
                .map(|l| (l.target.clone(), l.database.clone()))
                .collect()
        };
        assert_eq!(
            targets("orders"),
            [
                ("postgres".into(), Some("orders".into())),
                ("payments".into(), None),
                ("shipping".into(), None)
            ]
        );
        assert_eq!(
            targets("accounts"),
            targets("orders"),
            "extends brings the base's environment"
        );
        assert_eq!(find("kafka-consumer").kind, ComposeKind::Service);
        assert_eq!(find("pg-exporter").kind, ComposeKind::Observability);
        assert_eq!(find("api-gateway").kind, ComposeKind::Service);
        assert!(s.iter().all(|x| x.name != "debug"), "profiles are left out");
        assert_eq!(
            unread(&doc),
            ["left out, as `docker compose up` does, the services behind `profiles`: `debug`"]
        );
        assert_eq!(interpolate_defaults("a${X:-b}c${Y}d${Z-e}"), "abc${Y}de");
        assert_eq!(
            addresses(
                "SPRING_DATASOURCE_URL",
                "jdbc:sqlserver://mssql:1433;databaseName=billing"
            ),
            [("mssql".to_string(), Some("billing".to_string()))]
        );
    }

    #[test]
    fn one_server_with_a_database_per_service_is_a_datastore_each() {
        let src = "services:\n  orders:\n    build: ./orders\n    environment:\n      DB: jdbc:mysql://mysql:3306/orders?useSSL=false\n  kitchen:\n    build: ./kitchen\n    environment:\n      - DB=jdbc:mysql://mysql/kitchen\n  mysql:\n    image: mysql:8\n";
        let s = services(&parse("c.yml", src, &Limits::default()).unwrap());
        assert_eq!(split_databases(&s, "mysql"), ["kitchen", "orders"]);
        assert_eq!(datastore_name(&s, "mysql", Some("orders")), "mysql/orders");
        let shared = src.replace("mysql/kitchen", "mysql:3306/orders");
        let s = services(&parse("c.yml", &shared, &Limits::default()).unwrap());
        assert_eq!(datastore_name(&s, "mysql", Some("orders")), "mysql");
    }

    /// Docker Compose accepts a flow collection closed at its key's indentation; the import
    /// reads it with the positions of the file (both YAML loaders agree on the relaxed text).
    #[test]
    fn flow_collections_closed_at_the_key_indentation_import() {
        let src = "services:\n  orders:\n    command: [\n      \"serve\",\n      \"--port\", \"8080\"\n    ]\n    environment: {\n      A: \"http://payments:80\"\n    }\n  payments:\n    image: shop/payments\n";
        assert!(
            Document::parse("c.yml", src, &Limits::default()).is_err(),
            "strict YAML rejects it"
        );
        let relaxed = super::super::document::relax_flow_indentation(src).unwrap();
        assert_eq!(relaxed.len(), src.len());
        assert_eq!(super::super::document::yaml_paths_disagree(&relaxed), None);
        let doc = parse("c.yml", src, &Limits::default()).unwrap();
        assert_eq!(
            doc.value["services"]["orders"]["command"],
            serde_json::json!(["serve", "--port", "8080"])
        );
        assert_eq!(doc.locate("/services/payments/image").line, 11);
        assert_eq!(&*doc.source, src);
        let s = services(&doc);
        assert_eq!(s[0].links[0].target, "payments");
        // Nothing to relax in a valid file, and a bracket inside quotes or a comment is text.
        assert_eq!(
            super::super::document::relax_flow_indentation("a: [1,\n  2]\nb: \"[\"\n# [\n"),
            None
        );
    }

    /// Every compose file of the real systems in the shared corpus imports, with services.
    #[test]
    fn the_corpus_compose_files_import() {
        let Some(root) = crate::testing::corpus("systems") else {
            return;
        };
        let mut n = 0;
        for path in crate::testing::files(&root, &["yml", "yaml"], 1_000_000) {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !(name.starts_with("docker-compose") || name.starts_with("compose")) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let doc = parse(name, &text, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let s = services(&doc);
            assert!(
                s.iter().any(|x| x.kind == ComposeKind::Service),
                "{}: no service",
                path.display()
            );
            n += 1;
        }
        println!("{n} compose files imported");
        assert!(n >= 3);
    }
}
