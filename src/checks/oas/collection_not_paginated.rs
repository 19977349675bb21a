use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::walk::{self, check_apis, squash, Api, Node, Operation, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, ParamDoc, TypedCheck};

pub struct CollectionNotPaginated;

const DOCS: &str = r#"## What it checks
That list endpoints paginate. A `GET` operation returns a collection when its success
response (`200`, else the first `2xx`) has a JSON body whose schema (through `$ref`) is an
array, or an object whose main property (one named in `item_properties`, such as `items` or
`data`, also through `allOf`) is an array. Such an operation must take a pagination query
parameter (a name in `parameters`, compared ignoring case, `-` and `_`: `limit`, `pageSize`,
`page[size]`, `cursor`, ...) or return a pagination header (`headers`, by default `Link`).
Operational endpoints are exempt. Partial credit: paginated collections / collections; the
check is skipped when no operation returns a collection.

## Why it matters
An unbounded list grows with the data: response times, memory and payload sizes grow until
timeouts cascade through synchronous callers (Week 4: resilient synchronous communication).
Pagination is also part of the contract (Week 2): adding it later is a breaking change.

## How to fix
Accept `limit` plus a `cursor` (or `offset`/`page`) and return the cursor of the next page in
an envelope object (`{items: [...], next: ...}`) or a `Link` header.

## Example
```yaml
/v1/orders:
  get:
    parameters:
      - {name: limit, in: query, schema: {type: integer, maximum: 100, default: 20}}
      - {name: cursor, in: query, schema: {type: string}}
    responses:
      '200':
        content:
          application/json:
            schema:
              type: object
              properties:
                items: {type: array, items: {$ref: '#/components/schemas/Order'}}
                next: {type: string, nullable: true}
```
"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Query parameter names that paginate.
    pub parameters: Vec<String>,
    /// Response header names that paginate.
    pub headers: Vec<String>,
    /// Property names of an envelope object that hold the page's items.
    pub item_properties: Vec<String>,
    /// Path segments of operational endpoints, exempt.
    pub exempt_segments: Vec<String>,
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

impl Default for Params {
    fn default() -> Self {
        Params {
            parameters: strings(&[
                "limit",
                "offset",
                "page",
                "page_size",
                "page_number",
                "per_page",
                "size",
                "cursor",
                "after",
                "before",
                "page_token",
                "next_token",
                "continuation_token",
                "starting_after",
                "ending_before",
                "top",
                "skip",
                "first",
                "last",
                "max_results",
            ]),
            headers: strings(&["Link"]),
            item_properties: strings(&[
                "items", "data", "results", "records", "entries", "content", "elements", "values", "list", "edges",
                "nodes", "hits", "rows",
            ]),
            exempt_segments: walk::default_exempt(),
        }
    }
}

impl TypedCheck for CollectionNotPaginated {
    type Params = Params;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS012",
        name: "collection-not-paginated",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "A GET operation returns a collection but takes no pagination parameter",
        docs: DOCS,
        params: &[
            ParamDoc {
                name: "parameters",
                ty: "array of strings",
                description: "query parameter names that paginate (compared ignoring case, `-`, `_` and brackets)",
            },
            ParamDoc {
                name: "headers",
                ty: "array of strings",
                description: "response headers that paginate (e.g. `Link`)",
            },
            ParamDoc {
                name: "item_properties",
                ty: "array of strings",
                description: "envelope properties that hold a page's items (`items`, `data`, ...)",
            },
            ParamDoc {
                name: "exempt_segments",
                ty: "array of strings",
                description: "path segments of operational endpoints (health, metrics, ...), exempt",
            },
        ],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &Params) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish("collection endpoints paginate", "no GET operation returns a collection"),
            Err(r) => r,
        }
    }
}

fn is_array(s: &Node<'_>) -> bool {
    match s.value.get("type") {
        Some(Value::String(t)) => t == "array",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "array"),
        None => s.value.get("items").is_some(),
        _ => false,
    }
}

/// The array property named in `names` of an object schema, through `$ref` and `allOf`.
fn array_property<'s>(api: &'s Api<'_>, schema: &Node<'s>, names: &[String], depth: usize) -> Option<String> {
    if depth > 6 {
        return None;
    }
    let s = api.deref(schema.clone());
    if let Some(props) = s.get("properties") {
        for (k, p) in props.entries() {
            if names.iter().any(|n| n.eq_ignore_ascii_case(k)) && is_array(&api.deref(p)) {
                return Some(k.to_string());
            }
        }
    }
    s.get("allOf")?
        .items()
        .iter()
        .find_map(|part| array_property(api, part, names, depth + 1))
}

/// The success response of a GET and how it is a collection (`an array`, `` `items` array``).
pub fn collection<'s>(api: &'s Api<'_>, op: &Operation<'s>, item_properties: &[String]) -> Option<(Node<'s>, String)> {
    if op.method != "get" {
        return None;
    }
    let responses = api.responses(op);
    let ok = responses
        .iter()
        .find(|r| r.code == "200")
        .or_else(|| responses.iter().find(|r| r.class() == Some('2')))?;
    let content = api.content(&ok.node);
    let (_, media) = content
        .iter()
        .find(|(m, _)| {
            let m = m.to_ascii_lowercase();
            m.contains("json") || m == "*/*"
        })
        .or_else(|| content.first())?;
    let schema = api.deref(media.get("schema")?);
    if is_array(&schema) {
        return Some((ok.node.clone(), "an array".into()));
    }
    array_property(api, &schema, item_properties, 0).map(|p| (ok.node.clone(), format!("an array in `{p}`")))
}

pub fn evaluate(api: &Api<'_>, p: &Params, t: &mut Tally) {
    let wanted: Vec<String> = p.parameters.iter().map(|s| squash(s)).collect();
    for op in api.operations() {
        if op.is_exempt(&p.exempt_segments) {
            continue;
        }
        let Some((response, what)) = collection(api, &op, &p.item_properties) else {
            continue;
        };
        let by_param = api
            .parameters(&op)
            .iter()
            .any(|q| q.location == "query" && wanted.contains(&squash(q.name)));
        let by_header = response
            .get("headers")
            .map(|h| {
                h.entries()
                    .iter()
                    .any(|(k, _)| p.headers.iter().any(|w| w.eq_ignore_ascii_case(k)))
            })
            .unwrap_or(false);
        let ok = by_param || by_header;
        t.unit(ok);
        if !ok {
            t.issue(
                &op.op,
                Some(op.label()),
                format!("returns a collection ({what}) but takes no pagination parameter"),
                "accept `limit` and `cursor` (or `offset`/`page`) query parameters and return the next cursor, or a \
                 `Link` header",
            );
        }
    }
}
