//! `grade init CHECKPOINT DIR`: scaffold a submission the learner fills in.

use std::path::Path;

use super::Io;
use crate::diag::UserError;
use crate::error::{Error, Result};
use crate::submission::MANIFEST;

const OPENAPI: &str = r##"openapi: "3.1.0"
info:
  title: Orders API
  version: "1.0.0"
  description: Replace with your service's contract (contract-first, Week 2).
  contact:
    name: Team ordering
    email: ordering@example.com
servers:
  - url: http://localhost:8080
security:
  - bearerAuth: []
paths:
  /v1/orders:
    get:
      operationId: listOrders
      summary: List orders
      description: One page of orders, newest first.
      parameters:
        - name: limit
          in: query
          description: Orders per page.
          schema: { type: integer, minimum: 1, maximum: 100, default: 20 }
        - name: cursor
          in: query
          description: Where the page starts (the `next` of the previous page).
          schema: { type: string, maxLength: 200 }
      responses:
        "200":
          description: A page of orders
          content:
            application/json:
              schema:
                type: object
                properties:
                  items:
                    type: array
                    items:
                      type: object
                      properties:
                        id:
                          type: string
                  next:
                    type: string
              example:
                items: [{ id: ord_1 }]
                next: ord_1
        "400":
          $ref: "#/components/responses/Problem"
        "401":
          $ref: "#/components/responses/Problem"
        "500":
          $ref: "#/components/responses/Problem"
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
  responses:
    Problem:
      description: The request failed (RFC 9457 problem details)
      content:
        application/problem+json:
          schema:
            type: object
            properties:
              type: { type: string }
              title: { type: string }
              status: { type: integer }
              detail: { type: string }
          example:
            type: about:blank
            title: Bad Request
            status: 400
            detail: limit must be between 1 and 100
"##;

const ASYNCAPI: &str = r#"asyncapi: "2.6.0"
info:
  title: Event catalog
  version: "1.0.0"
channels:
  orders.placed.v1:
    publish:
      message:
        name: OrderPlaced
        bindings:
          kafka:
            key: { type: string, description: the order id (orders of one order stay in order) }
        payload:
          type: object
          required: [eventId, version, orderId]
          properties:
            eventId:
              type: string
              description: unique per event, for de-duplication
            version:
              type: integer
              const: 1
            orderId:
              type: string
"#;

const PACT: &str = r#"{
  "consumer": { "name": "web" },
  "provider": { "name": "orders" },
  "interactions": [
    {
      "description": "a request for the first page of orders",
      "request": { "method": "GET", "path": "/v1/orders" },
      "response": {
        "status": 200,
        "headers": { "Content-Type": "application/json" },
        "body": { "items": [] }
      }
    }
  ],
  "metadata": { "pactSpecification": { "version": "3.0.0" } }
}
"#;

const ROLLOUT: &str = r#"# Progressive delivery with automatic rollback (Argo Rollouts): a canary that an analysis
# aborts when the success rate drops.
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  metrics:
    - name: success-rate
      interval: 1m
      failureLimit: 2
      successCondition: result[0] >= 0.999
      provider:
        prometheus:
          address: http://prometheus.monitoring:9090
          query: sum(rate(http_server_requests_total{service="orders",status!~"5.."}[2m])) / sum(rate(http_server_requests_total{service="orders"}[2m]))
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: orders
spec:
  replicas: 3
  selector:
    matchLabels:
      app: orders
  template:
    metadata:
      labels:
        app: orders
    spec:
      containers:
        - name: orders
          image: ghcr.io/example/orders:1.0.0
  strategy:
    canary:
      analysis:
        templates:
          - templateName: success-rate
      steps:
        - setWeight: 10
        - pause: { duration: 5m }
        - setWeight: 50
        - pause: { duration: 10m }
"#;

const SLOS: &str = r#"# Service level objectives (OpenSLO v1): one SLO per externally facing service, with
# multi-window burn-rate alerting on its error budget.
apiVersion: openslo/v1
kind: AlertCondition
metadata:
  name: fast-burn
spec:
  severity: page
  condition: { kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 2m }
---
apiVersion: openslo/v1
kind: AlertCondition
metadata:
  name: slow-burn
spec:
  severity: ticket
  condition: { kind: burnrate, op: gte, threshold: 1, lookbackWindow: 3d, alertAfter: 1h }
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: burn-rate
spec:
  alertWhenBreaching: true
  conditions: [{ conditionRef: fast-burn }, { conditionRef: slow-burn }]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: orders-availability
spec:
  service: orders
  indicator:
    metadata:
      name: orders-good-requests-ratio
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_server_requests_total{service="orders",status!~"5.."}[5m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_server_requests_total{service="orders"}[5m]))
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
  timeWindow:
    - duration: 30d
      isRolling: true
  alertPolicies:
    - alertPolicyRef: burn-rate
"#;

/// The BFF's contract: the orders starter under its own title, path and operation.
fn web_openapi() -> String {
    OPENAPI
        .replace("title: Orders API", "title: Web BFF API")
        .replace("/v1/orders:", "/v1/home/orders:")
        .replace("operationId: listOrders", "operationId: listHomeOrders")
        .replace("summary: List orders", "summary: The orders shown on the home page")
        .replace("name: Team ordering", "name: Team web")
}

/// `docs` with the document that starts at `kind` copied for the `web` BFF.
fn with_web_copy(docs: &str, kind: &str) -> String {
    let doc = docs.split("---\n").find(|d| d.contains(kind)).unwrap_or_default();
    format!("{docs}---\n{}", doc.replace("orders", "web"))
}

fn manifest(checkpoint: &str) -> String {
    let later = |p: &str| checkpoint_rank(checkpoint) >= checkpoint_rank(p);
    let publishes = if later("phase2") { r#"["OrderPlaced"]"# } else { "[]" };
    let delivery = if later("phase2") {
        "\nevent_delivery = \"outbox\"    # how events leave with the state: \"outbox\" or \"cdc\" (Week 8)"
    } else {
        ""
    };
    let mut s = format!(
        r#"# Submission manifest for `grade` (see docs/manifest.md for every field).
# Paths are relative to this folder and must stay inside it.

[submission]
checkpoint = "{checkpoint}"
# learner = "your-id"
title = "My e-commerce platform"

# One [[context]] per bounded context (the course expects 8-12).
[[context]]
name = "ordering"
description = "Order lifecycle"
# relations = [{{ with = "payments", kind = "customer-supplier" }}]
# kinds: partnership, shared-kernel, customer-supplier, conformist,
#        anticorruption-layer, open-host-service, published-language, separate-ways

[[datastore]]
name = "orders-db"
kind = "postgres"

# One [[service]] per deployable service.
[[service]]
name = "orders"
context = "ordering"
# role = "gateway"          # "service" (default), "gateway" or "bff"
owner = "team-ordering"
openapi = "services/orders/openapi.yaml"
# previous_openapi = "services/orders/openapi.v1.yaml"
owns = ["orders-db"]
calls = []                  # synchronous dependencies (service names)
publishes = {publishes}      # event names
consumes = []{delivery}
"#
    );
    if later("phase2") {
        s.push_str(
            r#"
# The web front end's backend: the consumer of the pact in contracts/.
[[service]]
name = "web"
context = "ordering"
role = "bff"
owner = "team-web"
openapi = "services/web/openapi.yaml"
calls = ["orders"]
uses = { orders = ["listOrders"] }
resilience = ["timeout", "retry", "circuit-breaker"]  # guards on its calls (Week 4); its code must show them
consumes = ["OrderPlaced"]

[events]
asyncapi = "events/asyncapi.yaml"

# [[saga]]
# name = "place-order"
# style = "orchestration"   # or "choreography"
# steps = [{ service = "payments", action = "AuthorizePayment", compensation = "VoidPayment" }]

[contracts]
pacts = ["contracts/*.json"]
"#,
        );
    }
    if later("phase4") {
        s.push_str(
            r#"
[operations]
slos = "ops/slos.yaml"
deployment = "deploy"
"#,
        );
    }
    s
}

fn checkpoint_rank(c: &str) -> usize {
    crate::submission::CHECKPOINTS.iter().position(|k| *k == c).unwrap_or(0)
}

pub fn run(checkpoint: &str, dir: &Path, io: &mut Io<'_>) -> Result<i32> {
    let manifest_path = dir.join(MANIFEST);
    if manifest_path.exists() {
        return Err(Error::input(
            UserError::new(format!("{} already exists", manifest_path.display()))
                .with_help("init never overwrites a submission; choose an empty folder"),
        ));
    }
    let mut files: Vec<(String, String)> = vec![
        (MANIFEST.to_string(), manifest(checkpoint)),
        ("services/orders/openapi.yaml".into(), OPENAPI.into()),
    ];
    if checkpoint_rank(checkpoint) >= checkpoint_rank("phase2") {
        files.push(("events/asyncapi.yaml".into(), ASYNCAPI.into()));
        files.push(("services/web/openapi.yaml".into(), web_openapi()));
        files.push(("contracts/web-orders.json".into(), PACT.into()));
    }
    if checkpoint_rank(checkpoint) >= checkpoint_rank("phase4") {
        files.push(("ops/slos.yaml".into(), with_web_copy(SLOS, "kind: SLO")));
        files.push(("deploy/rollout.yaml".into(), with_web_copy(ROLLOUT, "kind: Rollout")));
    }
    let mut created = Vec::new();
    for (rel, content) in &files {
        let path = dir.join(rel);
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, content).map_err(|e| Error::io(&path, e))?;
        created.push(rel.clone());
    }
    let mut msg = format!("Created a {checkpoint} submission in {}:\n", dir.display());
    for c in created {
        msg.push_str(&format!("  {c}\n"));
    }
    msg.push_str(&format!(
        "\nDescribe your system in {MANIFEST}, then run `grade {checkpoint} {}`.\n",
        dir.display()
    ));
    io.write(&msg)?;
    Ok(0)
}
