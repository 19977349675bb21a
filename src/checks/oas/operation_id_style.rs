use std::collections::BTreeMap;

use super::walk::{check_apis, Api, Tally};
use crate::checks::{Area, CheckInfo, CheckResult, Ctx, Kind, NoParams, TypedCheck};

pub struct OperationIdStyle;

const DOCS: &str = r#"## What it checks
That the `operationId`s of each OpenAPI document (under `paths` and `webhooks`) follow one
naming style: `camelCase` (recommended), `PascalCase`, `snake_case` or `kebab-case`. The
style most ids use is the document's style (on a tie, camelCase if it is among the tied,
else the first of the order above); the ids written in another style are reported. A
one-word lower-case id (`health`) fits camelCase, snake_case and kebab-case alike; an id
that mixes styles (`get_Orders`, `Get Orders`) is always reported. Namespaced ids
(`orders/list-all`, `orders.listAll`) are judged by their parts, and a version suffix
(`ListItems-V2`, `listItems_v2`, `list-items-v2`) is left out of the style. Partial
credit: operations whose id follows the document's style / operations with an id.

## Why it matters
Code generators turn operationIds into method names (Week 2: contract-first development,
service interface patterns): mixed styles give a client `listOrders()` next to
`get_order()` and `CancelOrder()`, and every consumer's code inherits the inconsistency. A
consistent style is also what makes ids predictable to search for in logs, traces and
gateway configuration (Week 4).

## How to fix
Rename the ids written in the minority style (camelCase is the common convention:
`listOrders`, `getOrder`, `cancelOrder`). Renaming an operationId changes generated client
code, so do it before the API is published or in a new major version.

## Example
```yaml
paths:
  /v1/orders:
    get: {operationId: listOrders}     # not list_orders
    post: {operationId: placeOrder}    # not PlaceOrder
```
"#;

impl TypedCheck for OperationIdStyle {
    type Params = NoParams;
    const INFO: CheckInfo = CheckInfo {
        id: "OAS030",
        name: "operation-id-style",
        area: Area::Oas,
        kind: Kind::Static,
        summary: "The operationIds of a document mix naming styles (camelCase, snake_case, ...)",
        docs: DOCS,
        params: &[],
    };
    const OAS_RULE: Option<super::OasRule<Self::Params>> = Some(evaluate);

    fn run(ctx: &Ctx<'_>, p: &NoParams) -> CheckResult {
        match check_apis(ctx, |api, t| evaluate(api, p, t)) {
            Ok(t) => t.finish(
                "operationIds follow their document's naming style",
                "no operation has an operationId",
            ),
            Err(r) => r,
        }
    }
}

/// A naming style; the order is the tie-break order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Style {
    Camel,
    Pascal,
    Snake,
    Kebab,
}

impl Style {
    fn name(self) -> &'static str {
        match self {
            Style::Camel => "camelCase",
            Style::Pascal => "PascalCase",
            Style::Snake => "snake_case",
            Style::Kebab => "kebab-case",
        }
    }
}

/// What an id looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// One lower-case word: fits camel, snake and kebab.
    Word,
    Is(Style),
    Mixed,
}

/// The shape of an id: of its parts when it is namespaced with `/` or `.` (`apps/get-app`,
/// `orders.list`), which must then all share one style.
fn shape(id: &str) -> Shape {
    let mut found = Shape::Word;
    for part in id.trim().split(['/', '.']) {
        match (part_shape(part), found) {
            (Shape::Mixed, _) => return Shape::Mixed,
            (Shape::Word, _) => {}
            (s, Shape::Word) => found = s,
            (s, f) if s == f => {}
            _ => return Shape::Mixed,
        }
    }
    found
}

/// `id` without a version suffix written with a separator (`ListItems-V2`, `listItems_v2`,
/// `list-items-v3`), which any style may carry; `ListItemsV2` needs no stripping.
fn without_version(id: &str) -> &str {
    let Some(cut) = id.rfind(['-', '_']) else { return id };
    let (head, tail) = (&id[..cut], &id[cut + 1..]);
    let mut chars = tail.chars();
    let version = matches!(chars.next(), Some('v' | 'V')) && tail.len() > 1 && chars.all(|c| c.is_ascii_digit());
    if version && !head.is_empty() && !head.ends_with(['-', '_']) {
        head
    } else {
        id
    }
}

fn part_shape(id: &str) -> Shape {
    let id = without_version(id);
    let Some(first) = id.chars().next() else {
        return Shape::Mixed;
    };
    let alnum = id.chars().all(|c| c.is_ascii_alphanumeric());
    let lower_parts = |sep: char| {
        id.split(sep)
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    };
    if alnum && first.is_ascii_lowercase() {
        if id.chars().any(|c| c.is_ascii_uppercase()) {
            Shape::Is(Style::Camel)
        } else {
            Shape::Word
        }
    } else if alnum && first.is_ascii_uppercase() {
        Shape::Is(Style::Pascal)
    } else if first.is_ascii_lowercase() && id.contains('_') && !id.contains('-') && lower_parts('_') {
        Shape::Is(Style::Snake)
    } else if first.is_ascii_lowercase() && id.contains('-') && !id.contains('_') && lower_parts('-') {
        Shape::Is(Style::Kebab)
    } else {
        Shape::Mixed
    }
}

pub fn evaluate(api: &Api<'_>, _: &NoParams, t: &mut Tally) {
    let mut ops = api.operations();
    ops.extend(api.webhook_operations());
    let ids: Vec<_> = ops
        .iter()
        .filter_map(|op| {
            let node = op.op.get("operationId")?;
            let id = node.value.as_str()?;
            Some((op.label(), node, id, shape(id)))
        })
        .collect();
    let mut counts: BTreeMap<Style, usize> = BTreeMap::new();
    for (_, _, _, s) in &ids {
        if let Shape::Is(style) = s {
            *counts.entry(*style).or_default() += 1;
        }
    }
    let most = counts.values().copied().max().unwrap_or(0);
    // BTreeMap order is the tie-break order, camelCase first.
    let style = counts
        .iter()
        .find(|(_, n)| **n == most)
        .map_or(Style::Camel, |(s, _)| *s);
    let total_styled: usize = counts.values().sum();
    for (label, node, id, s) in ids {
        let ok = match s {
            Shape::Word => style != Style::Pascal,
            Shape::Is(x) => x == style,
            Shape::Mixed => false,
        };
        t.unit(ok);
        if ok {
            continue;
        }
        let message = match s {
            Shape::Mixed => format!("operationId `{id}` mixes naming styles"),
            Shape::Word => format!(
                "operationId `{id}` is not {} like {most} of the {total_styled} styled ids of this document",
                style.name()
            ),
            Shape::Is(x) => format!(
                "operationId `{id}` is {}, but {most} of the {total_styled} styled ids of this document are {}",
                x.name(),
                style.name()
            ),
        };
        t.issue(
            &node,
            Some(label),
            message,
            format!(
                "rename it in {} (camelCase is the common convention: `listOrders`, `getOrder`)",
                style.name()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(shape("listOrders"), Shape::Is(Style::Camel));
        assert_eq!(shape("ListOrders"), Shape::Is(Style::Pascal));
        assert_eq!(shape("list_orders"), Shape::Is(Style::Snake));
        assert_eq!(shape("list-orders"), Shape::Is(Style::Kebab));
        assert_eq!(shape("health"), Shape::Word);
        assert_eq!(shape("get_Orders"), Shape::Mixed);
        assert_eq!(shape("orders.list"), Shape::Word);
        assert_eq!(shape("apps/get-authenticated"), Shape::Is(Style::Kebab));
        assert_eq!(shape("apps/get_App"), Shape::Mixed);
        assert_eq!(shape("my_apps/get-app"), Shape::Mixed);
        assert_eq!(shape("orders/"), Shape::Mixed);
        assert_eq!(shape(""), Shape::Mixed);
        assert_eq!(shape("list__orders"), Shape::Mixed);
        assert_eq!(shape("ListItems-V2"), Shape::Is(Style::Pascal));
        assert_eq!(shape("listItems_v2"), Shape::Is(Style::Camel));
        assert_eq!(shape("list_items_V10"), Shape::Is(Style::Snake));
        assert_eq!(shape("list-items-v2"), Shape::Is(Style::Kebab));
        assert_eq!(shape("health-v1"), Shape::Word);
        assert_eq!(shape("orders/List-V2"), Shape::Is(Style::Pascal));
        assert_eq!(shape("ListItems-Vx"), Shape::Mixed);
        assert_eq!(shape("ListItems-v2-"), Shape::Mixed);
        assert_eq!(shape("-v2"), Shape::Mixed);
        assert_eq!(shape("list_Items-v2"), Shape::Mixed);
    }
}
