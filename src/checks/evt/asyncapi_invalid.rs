use super::plural;
use crate::artifact::asyncapi::AsyncApiLine;
use crate::artifact::Loaded;
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct AsyncapiInvalid;

const DOCS: &str = r#"## What it checks
That the event catalog named by `[events] asyncapi` parses (YAML or JSON) and is a
structurally valid AsyncAPI 2.6 or 3.0 document:

- `asyncapi` is a version string: 2.6.x or 3.0.x (older 2.x, 2.7+, 3.1+ are reported; 1.x,
  unknown versions and an OpenAPI or Swagger document in the catalog slot are not read at all);
- `info` has a `title` and a `version` (strings);
- `channels` is present (required in 2.x) and a mapping; channels, operations and messages
  are mappings;
- every `$ref` resolves inside the document (a reference to another file or a URL is
  reported: the catalog is graded as one file), and no chain of references is circular;
- in 3.0, every operation has `action: send` or `action: receive`, a `channel` that is a
  `$ref` to a channel under `channels`, and `messages` that are `$ref`s to messages of that
  channel.

Identical problems (the same dangling `$ref` used in many places) are reported once. The
check is skipped when no catalog is declared (SUB002 artifact-missing requires one where the
checkpoint does); a declared catalog that does not exist fails it.

## Why it matters
The event catalog is the contract of asynchronous communication (Week 5: "Design event
catalog for e-commerce domain"), as the OpenAPI document is for synchronous calls. A catalog
that does not parse, or whose references dangle, cannot generate code or documentation,
cannot be validated by producers and consumers, and every other EVT check depends on it.

## How to fix
Open the file at the reported line. Quote the version (`asyncapi: 3.0.0`), fill in `info`,
define what each `$ref` points at under `components`, and in 3.0 make each operation's
`channel` and `messages` point at `#/channels/<name>` and `#/channels/<name>/messages/<msg>`.
`npx @asyncapi/cli validate events/asyncapi.yaml` reports the same kind of problems.

## Example
```yaml
asyncapi: 3.0.0
info:
  title: ShopFlow events
  version: 1.0.0
channels:
  orderPlaced:
    address: shopflow.ordering.order-placed.v1
    messages:
      OrderPlaced: {$ref: '#/components/messages/OrderPlaced'}
operations:
  publishOrderPlaced:
    action: send
    channel: {$ref: '#/channels/orderPlaced'}
    messages: [{$ref: '#/channels/orderPlaced/messages/OrderPlaced'}]
components:
  messages:
    OrderPlaced:
      payload: {type: object, properties: {orderId: {type: string}}}
```
"#;

impl TypedCheck for AsyncapiInvalid {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "EVT001",
        name: "asyncapi-invalid",
        area: Area::Evt,
        kind: Kind::Static,
        summary: "The event catalog does not parse or is not valid AsyncAPI 2.6/3.0",
        docs: DOCS,
        params: &[],
    };

    fn run(ctx: &Ctx<'_>, _: &NoParams) -> CheckResult {
        let Some((rel, loaded)) = &ctx.artifacts.asyncapi else {
            return CheckResult::absent("no event catalog is declared (`[events] asyncapi`)");
        };
        match loaded {
            // SUB002 artifact-missing reports the missing file at `[events] asyncapi` (one cause,
            // one finding).
            Loaded::Missing => CheckResult::failed_because(format!(
                "the event catalog `{rel}` does not exist (SUB002 artifact-missing points at it)"
            )),
            Loaded::Invalid(p) => CheckResult::failed(vec![ctx.problem_finding(rel, p)]),
            Loaded::Ok(api) => {
                let findings: Vec<_> = api.problems.iter().map(|p| ctx.problem_finding(rel, p)).collect();
                let line = match api.line {
                    AsyncApiLine::V2 => "2.x",
                    AsyncApiLine::V3 => "3.x",
                };
                let evidence = format!(
                    "AsyncAPI {} (read as {line}): {}, {}, {}; {}",
                    api.version,
                    plural(api.channels.len(), "channel", "channels"),
                    plural(api.operations.len(), "operation", "operations"),
                    plural(api.messages.len(), "message", "messages"),
                    plural(findings.len(), "problem", "problems"),
                );
                CheckResult::from_findings(findings).with_evidence(evidence)
            }
        }
    }
}
